"""Home Assistant discovery payloads: topics, keys and templates checked against the state JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from klima.commands import COMMAND_FIELDS
from klima.errors import ConfigError
from klima.mqtt.discovery import SENSORS, build_device_discovery, build_discovery_removal
from klima.state import Action, Mode, StateSource, UnitState
from klima.traits import Traits

BASE = "klima"
FULL_TRAITS = Traits(
    modes=(Mode.HEAT, Mode.DRY, Mode.COOL, Mode.FAN_ONLY, Mode.HEAT_COOL),
    fan_modes=("auto", "quiet", "1", "2", "3", "4"),
    swing_modes=("auto", "1", "2", "3", "4", "5", "swing"),
    swing_horizontal_modes=("<<", "<", "|", ">", ">>", "<>", "swing"),
    min_temp=16.0,
    max_temp=31.0,
    temp_step=0.5,
)
BARE_TRAITS = Traits(modes=(Mode.COOL,), min_temp=18.0, max_temp=30.0, temp_step=1.0)

# Keys of HA's MQTT climate/sensor schema that Klima may emit (research §1.2). A typo in the
# builder, or a key HA removed, fails here instead of being silently ignored by HA.
ALLOWED_CLIMATE_KEYS = {
    "p", "uniq_id", "name", "modes", "mode_cmd_t", "mode_stat_t", "mode_stat_tpl",
    "temp_cmd_t", "temp_stat_t", "temp_stat_tpl", "curr_temp_t", "curr_temp_tpl",
    "act_t", "act_tpl", "pow_cmd_t", "pl_on", "pl_off", "min_temp", "max_temp", "temp_step",
    "precision", "temp_unit", "json_attr_t", "json_attr_tpl",
    "fan_mode_cmd_t", "fan_mode_stat_t", "fan_mode_stat_tpl", "fan_modes",
    "swing_mode_cmd_t", "swing_mode_stat_t", "swing_mode_stat_tpl", "swing_modes",
    "swing_h_mode_cmd_t", "swing_h_mode_stat_t", "swing_h_mode_stat_tpl", "swing_h_modes",
    "pr_modes", "pr_mode_cmd_t", "pr_mode_stat_t", "pr_mode_val_tpl",
}  # fmt: skip
ALLOWED_SENSOR_KEYS = {
    "p", "uniq_id", "name", "stat_t", "val_tpl", "unit_of_meas", "stat_cla", "dev_cla", "ent_cat",
}  # fmt: skip
REMOVED_KEY = re.compile(
    r"^(aux_|away_mode|hold_|pow_stat|power_state|obj_id$|object_id$|send_if_off$)"
)
HA_HVAC_ACTIONS = {"off", "preheating", "heating", "cooling", "drying", "idle", "fan", "defrosting"}
VALUE_JSON_FIELD = re.compile(r"value_json\.([A-Za-z_][A-Za-z0-9_]*)")


def build(
    traits: Traits = FULL_TRAITS, unit_id: str = "livingroom", sensors: set[str] | None = None
) -> tuple[str, dict[str, Any]]:
    return build_device_discovery(
        base_topic=BASE,
        discovery_prefix="homeassistant",
        hub_id="hub1",
        unit_id=unit_id,
        unit_name="Living room",
        manufacturer="Mitsubishi Electric",
        model="MSZ-AP35VG",
        driver_name="mitsubishi_cn105",
        traits=traits,
        sw_version="0.1.0",
        sensors=set(SENSORS) if sensors is None else sensors,
    )


def all_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for key, item in value.items() for k in (key, *all_keys(item))]
    if isinstance(value, list):
        return [k for item in value for k in all_keys(item)]
    return []


def all_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in all_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in all_strings(item)]
    return [value] if isinstance(value, str) else []


def test_topic_is_device_based_with_stable_id() -> None:
    topic, _ = build()
    assert topic == "homeassistant/device/klima_hub1_livingroom/config"


def test_root_has_device_origin_availability_and_qos() -> None:
    _, payload = build()
    assert payload["dev"] == {
        "ids": ["klima_hub1_livingroom"],
        "name": "Living room",
        "mf": "Mitsubishi Electric",
        "mdl": "MSZ-AP35VG",
        "sw": "0.1.0",
    }
    assert payload["o"]["name"] == "klima"
    assert payload["o"]["sw"] == "0.1.0"
    assert payload["avty"] == [{"t": "klima/bridge/state"}, {"t": "klima/livingroom/availability"}]
    assert payload["avty_mode"] == "all"
    assert payload["qos"] == 1
    json.dumps(payload)  # must be plain JSON


def test_origin_url_is_included_when_given() -> None:
    _, payload = build_device_discovery(
        base_topic=BASE,
        discovery_prefix="homeassistant",
        hub_id="hub1",
        unit_id="u",
        unit_name="U",
        manufacturer="M",
        model="X",
        driver_name="d",
        traits=BARE_TRAITS,
        sw_version="1",
        sensors=set(),
        origin_url="https://example.invalid/klima",
    )
    assert payload["o"]["url"] == "https://example.invalid/klima"


def test_climate_modes_and_choice_lists_follow_traits() -> None:
    climate = build()[1]["cmps"]["climate"]
    assert climate["p"] == "climate"
    assert climate["modes"] == ["off", "heat", "dry", "cool", "fan_only", "heat_cool"]
    assert climate["fan_modes"] == list(FULL_TRAITS.fan_modes)
    assert climate["swing_modes"] == list(FULL_TRAITS.swing_modes)
    assert climate["swing_h_modes"] == list(FULL_TRAITS.swing_horizontal_modes)
    assert (climate["min_temp"], climate["max_temp"], climate["temp_step"]) == (16.0, 31.0, 0.5)
    assert climate["temp_unit"] == "C"
    assert climate["precision"] in (0.1, 0.5, 1.0)
    assert (climate["pow_cmd_t"], climate["pl_on"], climate["pl_off"]) == (
        "klima/livingroom/set/power",
        "ON",
        "OFF",
    )


def test_a_unit_without_fan_or_swing_gets_no_such_keys() -> None:
    climate = build(BARE_TRAITS)[1]["cmps"]["climate"]
    assert climate["modes"] == ["off", "cool"]
    assert not [k for k in climate if k.startswith(("fan_mode", "swing"))]


@pytest.mark.parametrize("traits", [FULL_TRAITS, BARE_TRAITS], ids=["full", "bare"])
def test_only_known_keys_and_never_removed_ones(traits: Traits) -> None:
    _, payload = build(traits)
    for component_id, component in payload["cmps"].items():
        allowed = ALLOWED_CLIMATE_KEYS if component["p"] == "climate" else ALLOWED_SENSOR_KEYS
        assert set(component) <= allowed, (component_id, set(component) - allowed)
    removed = [k for k in all_keys(payload) if REMOVED_KEY.match(k)]
    assert removed == []


def test_every_command_topic_is_a_set_attribute_the_bridge_parses() -> None:
    climate = build()[1]["cmps"]["climate"]
    command_topics = {k: v for k, v in climate.items() if k.endswith("_cmd_t")}
    assert len(command_topics) == 6  # mode, temperature, power, fan, swing, horizontal swing
    for key, topic in command_topics.items():
        assert topic.startswith("klima/livingroom/set/"), key
        attribute = topic.removeprefix("klima/livingroom/set/")
        assert attribute in COMMAND_FIELDS, (key, attribute)


def test_every_state_topic_is_the_units_retained_state() -> None:
    _, payload = build()
    for component in payload["cmps"].values():
        for key, value in component.items():
            if key.endswith(("_stat_t", "_t")) and not key.endswith("_cmd_t"):
                assert value == "klima/livingroom", key


def test_every_template_reads_a_field_the_state_json_really_has() -> None:
    _, payload = build()
    state_fields = set(UnitState().to_json())
    templates = [s for s in all_strings(payload) if "{{" in s]
    assert len(templates) >= 10
    for template in templates:
        referenced = VALUE_JSON_FIELD.findall(template)
        assert referenced, template
        assert set(referenced) <= state_fields, (template, set(referenced) - state_fields)


def render_simple(template: str, state: dict[str, Any]) -> str:
    """Render ``{{ value_json.x }}`` the way HA does for a plain value (None becomes 'None')."""
    match = re.fullmatch(r"\{\{ value_json\.(\w+) \}\}", template)
    assert match, template
    return str(state[match.group(1)])


@pytest.mark.parametrize("mode", [*FULL_TRAITS.modes, None])
def test_rendered_mode_is_always_in_the_mode_list(mode: Mode | None) -> None:
    climate = build()[1]["cmps"]["climate"]
    state = UnitState(power=mode is not None, mode=mode or Mode.COOL).to_json()
    assert render_simple(climate["mode_stat_tpl"], state) in climate["modes"]


def test_rendered_action_and_choices_are_values_ha_accepts() -> None:
    climate = build()[1]["cmps"]["climate"]
    assert {a.value for a in Action} <= HA_HVAC_ACTIONS
    state = UnitState(
        power=True,
        mode=Mode.COOL,
        action=Action.COOLING,
        target_temperature=24.5,
        current_temperature=26.0,
        fan_mode="quiet",
        swing_mode="swing",
        swing_horizontal_mode="<>",
        state_source=StateSource.REPORTED,
    ).to_json()
    assert render_simple(climate["act_tpl"], state) == "cooling"
    assert render_simple(climate["temp_stat_tpl"], state) == "24.5"
    assert render_simple(climate["curr_temp_tpl"], state) == "26.0"
    assert render_simple(climate["fan_mode_stat_tpl"], state) in climate["fan_modes"]
    assert render_simple(climate["swing_mode_stat_tpl"], state) in climate["swing_modes"]
    assert render_simple(climate["swing_h_mode_stat_tpl"], state) in climate["swing_h_modes"]
    # An unknown temperature renders "None", which HA treats as "unknown" rather than an error.
    assert render_simple(climate["curr_temp_tpl"], UnitState().to_json()) == "None"


def test_sensors_are_exactly_the_requested_ones() -> None:
    cmps = build(sensors={"current_temperature", "power_w"})[1]["cmps"]
    assert set(cmps) == {"climate", "room_temperature", "power"}
    power = cmps["power"]
    assert (power["dev_cla"], power["stat_cla"], power["unit_of_meas"]) == (
        "power",
        "measurement",
        "W",
    )
    assert power["val_tpl"] == "{{ value_json.power_w }}"
    assert cmps["room_temperature"]["dev_cla"] == "temperature"


def test_compressor_frequency_is_a_diagnostic_measurement_in_hertz() -> None:
    sensor = build(sensors={"compressor_frequency"})[1]["cmps"]["compressor_frequency"]
    assert (sensor["unit_of_meas"], sensor["stat_cla"], sensor["ent_cat"]) == (
        "Hz",
        "measurement",
        "diagnostic",
    )


def test_unknown_sensor_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="humidity"):
        build(sensors={"humidity"})


def test_unique_ids_are_unique_stable_and_distinct_between_units() -> None:
    first = [c["uniq_id"] for c in build()[1]["cmps"].values()]
    again = [c["uniq_id"] for c in build()[1]["cmps"].values()]
    other = [c["uniq_id"] for c in build(unit_id="bedroom")[1]["cmps"].values()]
    assert first == again
    assert len(set(first)) == len(first)
    assert not set(first) & set(other)
    for component_id, component in build()[1]["cmps"].items():
        assert component["uniq_id"] == f"klima_hub1_livingroom_{component_id}"


def test_climate_attributes_carry_the_state_source_and_driver() -> None:
    template = build()[1]["cmps"]["climate"]["json_attr_tpl"]
    assert "value_json.state_source" in template
    assert "'driver': 'mitsubishi_cn105'" in template


@pytest.mark.parametrize("unit_id", ["living room", "a/b", "x+", ""])
def test_ids_that_break_discovery_topics_are_refused(unit_id: str) -> None:
    with pytest.raises(ConfigError, match="unit id"):
        build(unit_id=unit_id)


def test_removal_is_an_empty_payload_on_the_same_topic() -> None:
    topic, payload = build_discovery_removal(
        discovery_prefix="homeassistant", hub_id="hub1", unit_id="livingroom"
    )
    assert topic == build()[0]
    assert payload == b""


def test_energy_sensors_read_the_energy_topic_and_use_known_keys() -> None:
    _, payload = build_device_discovery(
        base_topic=BASE, discovery_prefix="homeassistant", hub_id="hub1", unit_id="bed",
        unit_name="Bed", manufacturer="Fujitsu", model="ASU9RLS3", driver_name="fujitsu_ir",
        traits=FULL_TRAITS, sw_version="0.1.0", sensors=set(), energy=True, currency="EUR",
    )  # fmt: skip
    cmps = payload["cmps"]
    energy_keys = {"energy", "power", "energy_source", "cost", "cost_period", "projected_cost"}
    assert set(cmps) == {"climate"} | energy_keys
    for name in energy_keys:
        sensor = cmps[name]
        assert sensor["stat_t"] == f"{BASE}/bed/energy"
        # HA's abbreviation for last_reset_value_template is lrst_val_tpl; an unknown key would
        # make HA refuse the sensor.
        assert set(sensor) <= ALLOWED_SENSOR_KEYS | {"lrst_val_tpl"}, name
    assert (cmps["energy"]["dev_cla"], cmps["energy"]["stat_cla"]) == ("energy", "total_increasing")
    assert (cmps["cost"]["unit_of_meas"], cmps["cost"]["stat_cla"]) == ("EUR", "total")
    assert cmps["cost_period"]["lrst_val_tpl"] == "{{ value_json.period_start }}"
    assert "stat_cla" not in cmps["projected_cost"]  # a forecast, not an accumulating total
    # Without a tariff there is nothing to price: no monetary sensors.
    _, unpriced = build_device_discovery(
        base_topic=BASE, discovery_prefix="homeassistant", hub_id="hub1", unit_id="bed",
        unit_name="Bed", manufacturer="Fujitsu", model="ASU9RLS3", driver_name="fujitsu_ir",
        traits=FULL_TRAITS, sw_version="0.1.0", sensors=set(), energy=True,
    )  # fmt: skip
    assert set(unpriced["cmps"]) == {"climate", "energy", "power", "energy_source"}


def test_presets_and_the_active_schedule_are_exposed() -> None:
    _, payload = build_device_discovery(
        base_topic=BASE, discovery_prefix="homeassistant", hub_id="hub1", unit_id="bed",
        unit_name="Bed", manufacturer="Mitsubishi Electric", model="MSZ", driver_name="x",
        traits=FULL_TRAITS, sw_version="0.1.0", sensors=set(), presets=["away", "eco", "none"],
    )  # fmt: skip
    climate = payload["cmps"]["climate"]
    assert set(climate) <= ALLOWED_CLIMATE_KEYS
    # HA adds "none" itself; listing it would be an error.
    assert climate["pr_modes"] == ["away", "eco"]
    assert climate["pr_mode_cmd_t"] == f"{BASE}/bed/set/preset"
    # The published state's "program" object holds "preset" (null without one): HA shows
    # "none" for null, which is in its own list.
    assert climate["pr_mode_val_tpl"] == "{{ value_json.program.preset or 'none' }}"
    schedule = payload["cmps"]["schedule"]
    assert (schedule["stat_t"], schedule["val_tpl"]) == (
        f"{BASE}/bed",
        "{{ value_json.program.schedule or 'none' }}",
    )
