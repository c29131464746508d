"""Home Assistant MQTT discovery: one device-based config per unit, built from its traits.

Pure functions, no I/O. The payload uses HA's abbreviated keys (``dev``, ``o``, ``cmps``,
``mode_cmd_t`` …) and only keys the current MQTT climate schema accepts: nothing removed
(``aux_*``, ``away_mode_*``, ``hold_*``, ``power_state_*``) and no deprecated ``object_id``.

Every state template reads a field of the retained unit state (``UnitState.to_json()``) from
``<base>/<unit>``; every command topic is ``<base>/<unit>/set/<field>``, which the bridge parses
with :func:`klima.commands.parse_attribute`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klima.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from klima.traits import Traits

ORIGIN_NAME = "klima"
_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_DRIVER = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """An optional sensor entity reading one numeric field of the unit state."""

    component: str  # stable component id, also the unique-id suffix
    name: str
    field: str
    unit: str
    device_class: str | None
    state_class: str
    diagnostic: bool = False


# Keyed by the state field each sensor reads; callers pass these keys in ``sensors``.
SENSORS: dict[str, SensorSpec] = {
    spec.field: spec
    for spec in (
        SensorSpec("room_temperature", "Room temperature", "current_temperature", "°C",
                   "temperature", "measurement"),
        SensorSpec("outdoor_temperature", "Outdoor temperature", "outdoor_temperature", "°C",
                   "temperature", "measurement"),
        SensorSpec("compressor_frequency", "Compressor frequency", "compressor_frequency", "Hz",
                   "frequency", "measurement", diagnostic=True),
        SensorSpec("power", "Power", "power_w", "W", "power", "measurement"),
    )
}  # fmt: skip


def _energy_components(unique_prefix: str, topic: str, currency: str | None) -> dict[str, Any]:
    """Sensors on ``<base>/<unit>/energy`` that put the unit in HA's Energy dashboard.

    Energy is the lifetime total, which never goes backwards (``total_increasing``); the cost
    sensors are ``total`` because negative prices can lower them, and the period's cost names
    the period start as its ``last_reset``.
    """

    def sensor(component: str, name: str, field: str, **extra: Any) -> dict[str, Any]:
        return {
            "p": "sensor",
            "uniq_id": f"{unique_prefix}_{component}",
            "name": name,
            "stat_t": topic,
            "val_tpl": _template(field),
            **extra,
        }

    out = {
        "energy": sensor("energy", "Energy", "energy_lifetime_kwh", unit_of_meas="kWh",
                         dev_cla="energy", stat_cla="total_increasing"),
        "power": sensor("power", "Power", "power_w", unit_of_meas="W", dev_cla="power",
                        stat_cla="measurement"),
        "energy_source": sensor("energy_source", "Energy source", "source",
                                ent_cat="diagnostic"),
    }  # fmt: skip
    if currency is not None:
        out |= {
            "cost": sensor("cost", "Energy cost", "cost_lifetime", unit_of_meas=currency,
                           dev_cla="monetary", stat_cla="total"),
            "cost_period": sensor("cost_period", "Cost this period", "cost_period",
                                  unit_of_meas=currency, dev_cla="monetary", stat_cla="total",
                                  lrst_val_tpl=_template("period_start")),
            "projected_cost": sensor("projected_cost", "Projected cost this period",
                                     "projected_cost_period", unit_of_meas=currency,
                                     dev_cla="monetary"),
        }  # fmt: skip
    return out


def device_id(hub_id: str, unit_id: str) -> str:
    for what, value in (("hub id", hub_id), ("unit id", unit_id)):
        if not _ID.match(value):
            raise ConfigError(
                f"{what} {value!r} may only use letters, digits, '_' and '-' "
                "(Home Assistant discovery ids)"
            )
    return f"klima_{hub_id}_{unit_id}"


def discovery_topic(discovery_prefix: str, hub_id: str, unit_id: str) -> str:
    return f"{discovery_prefix}/device/{device_id(hub_id, unit_id)}/config"


def _template(field: str) -> str:
    return "{{ value_json." + field + " }}"


def _attributes_template(driver_name: str) -> str:
    """Extra climate attributes: where the state came from, and which driver talks to the unit."""
    if not _DRIVER.match(driver_name):
        raise ConfigError(f"driver name {driver_name!r} is not a plain identifier")
    fields = ("state_source", "temperature_source", "lockout_until", "fault_code")
    pairs = [f"'{name}': value_json.{name}" for name in fields]
    pairs.append(f"'driver': '{driver_name}'")
    return "{{ {" + ", ".join(pairs) + "} | tojson }}"


def _climate(
    unique_prefix: str, traits: Traits, state_topic: str, driver_name: str
) -> dict[str, Any]:
    set_topic = f"{state_topic}/set"
    climate: dict[str, Any] = {
        "p": "climate",
        "uniq_id": f"{unique_prefix}_climate",
        "name": None,  # the main entity takes the device's name
        "modes": list(traits.hvac_modes),
        "mode_cmd_t": f"{set_topic}/mode",
        "mode_stat_t": state_topic,
        "mode_stat_tpl": _template("mode"),
        "temp_cmd_t": f"{set_topic}/target_temperature",
        "temp_stat_t": state_topic,
        "temp_stat_tpl": _template("target_temperature"),
        "curr_temp_t": state_topic,
        "curr_temp_tpl": _template("current_temperature"),
        "act_t": state_topic,
        "act_tpl": _template("action"),
        "pow_cmd_t": f"{set_topic}/power",
        "pl_on": "ON",
        "pl_off": "OFF",
        # One range per entity in Home Assistant: the widest over all modes (heat often goes
        # lower than cool); the daemon still checks each command against its mode's range.
        "min_temp": traits.widest_limits[0],
        "max_temp": traits.widest_limits[1],
        "temp_step": traits.temp_step,
        "precision": 0.1,  # room temperatures arrive in tenths from serial units
        "temp_unit": "C",
        "json_attr_t": state_topic,
        "json_attr_tpl": _attributes_template(driver_name),
    }
    choices = (
        ("fan_mode", "fan_mode", "fan_modes", traits.fan_modes),
        ("swing_mode", "swing_mode", "swing_modes", traits.swing_modes),
        ("swing_h_mode", "swing_horizontal_mode", "swing_h_modes", traits.swing_horizontal_modes),
    )
    for key, field, list_key, values in choices:
        if values:
            climate[f"{key}_cmd_t"] = f"{set_topic}/{field}"
            climate[f"{key}_stat_t"] = state_topic
            climate[f"{key}_stat_tpl"] = _template(field)
            climate[list_key] = list(values)
    return climate


def _with_presets(climate: dict[str, Any], presets: Iterable[str], state_topic: str) -> None:
    """Presets as HA shows them: the active one from the program, "none" when none is."""
    names = [name for name in presets if name != "none"]
    if not names:
        return
    climate["pr_modes"] = names
    climate["pr_mode_cmd_t"] = f"{state_topic}/set/preset"
    climate["pr_mode_stat_t"] = state_topic
    climate["pr_mode_val_tpl"] = "{{ value_json.program.preset or 'none' }}"


def _sensor(unique_prefix: str, spec: SensorSpec, state_topic: str) -> dict[str, Any]:
    sensor: dict[str, Any] = {
        "p": "sensor",
        "uniq_id": f"{unique_prefix}_{spec.component}",
        "name": spec.name,
        "stat_t": state_topic,
        "val_tpl": _template(spec.field),
        "unit_of_meas": spec.unit,
        "stat_cla": spec.state_class,
    }
    if spec.device_class:
        sensor["dev_cla"] = spec.device_class
    if spec.diagnostic:
        sensor["ent_cat"] = "diagnostic"
    return sensor


def build_device_discovery(
    *,
    base_topic: str,
    discovery_prefix: str,
    hub_id: str,
    unit_id: str,
    unit_name: str,
    manufacturer: str,
    model: str,
    driver_name: str,
    traits: Traits,
    sw_version: str,
    sensors: Iterable[str],
    presets: Iterable[str] = (),
    energy: bool = False,
    currency: str | None = None,
    origin_url: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The retained discovery topic and payload for one unit.

    Topics are spelled out in full: HA expands ``~`` only at a payload's root, not in ``cmps``.

    ``sensors`` names state fields from :data:`SENSORS` (e.g. ``current_temperature``,
    ``power_w``); an unknown name is a :class:`ConfigError`. ``energy`` adds the sensors of
    ``<base>/<unit>/energy`` (cost sensors too when ``currency`` is known).
    """
    wanted = set(sensors)
    unknown = sorted(wanted - SENSORS.keys())
    if unknown:
        raise ConfigError(f"unknown discovery sensors {unknown}; known: {sorted(SENSORS)}")
    identifier = device_id(hub_id, unit_id)
    state_topic = f"{base_topic}/{unit_id}"
    origin: dict[str, Any] = {"name": ORIGIN_NAME, "sw": sw_version}
    if origin_url:
        origin["url"] = origin_url
    components: dict[str, dict[str, Any]] = {
        "climate": _climate(identifier, traits, state_topic, driver_name)
    }
    _with_presets(components["climate"], presets, state_topic)
    if presets:
        components["schedule"] = {
            "p": "sensor",
            "uniq_id": f"{identifier}_schedule",
            "name": "Schedule",
            "stat_t": state_topic,
            "val_tpl": "{{ value_json.program.schedule or 'none' }}",
            "json_attr_t": state_topic,
            "json_attr_tpl": "{{ value_json.program | tojson }}",
        }
    for field, spec in SENSORS.items():  # table order keeps the payload stable
        if field in wanted:
            components[spec.component] = _sensor(identifier, spec, state_topic)
    if energy:
        components |= _energy_components(identifier, f"{state_topic}/energy", currency)
    payload: dict[str, Any] = {
        "dev": {
            "ids": [identifier],
            "name": unit_name,
            "mf": manufacturer,
            "mdl": model,
            "sw": sw_version,
        },
        "o": origin,
        "avty": [
            {"t": f"{base_topic}/bridge/state"},
            {"t": f"{state_topic}/availability"},
        ],
        "avty_mode": "all",
        "qos": 1,
        "cmps": components,
    }
    return discovery_topic(discovery_prefix, hub_id, unit_id), payload


def build_discovery_removal(
    *, discovery_prefix: str, hub_id: str, unit_id: str
) -> tuple[str, bytes]:
    """The retained empty payload that makes Home Assistant delete a unit's device."""
    return discovery_topic(discovery_prefix, hub_id, unit_id), b""
