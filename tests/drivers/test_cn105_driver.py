"""The mitsubishi_cn105 declaration: DriverInfo, options, traits refinement and action rules."""

from __future__ import annotations

from importlib.metadata import entry_points

import pydantic
import pytest

from klima.driver import ENTRY_POINT_GROUP, DriverContext, DriverRegistry, SerialSettings
from klima.state import Action, Mode
from klima_drivers.mitsubishi_cn105 import DRIVER, codec
from klima_drivers.mitsubishi_cn105.client import Cn105Client, Cn105Options, derive_action
from klima_drivers.mitsubishi_cn105.unit_traits import CN105_TRAITS, unit_traits


def test_driver_declaration_is_valid_and_registers() -> None:
    assert DRIVER.check() == []
    registry = DriverRegistry({DRIVER.name: DRIVER})
    assert registry.get("mitsubishi_cn105") is DRIVER
    assert DRIVER.kind == "serial"
    assert DRIVER.serial == SerialSettings(baudrate=2400, bytesize=8, parity="E", stopbits=1)


def test_entry_point_resolves_to_this_driver() -> None:
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == DRIVER.name]
    if not found:
        pytest.skip("the klima distribution is not installed (PYTHONPATH run)")
    assert found[0].load() is DRIVER
    assert DriverRegistry.from_entry_points().get(DRIVER.name) is DRIVER


def test_driver_traits_cover_the_whole_vocabulary() -> None:
    traits = DRIVER.traits
    assert set(traits.modes) == {Mode.HEAT, Mode.COOL, Mode.DRY, Mode.FAN_ONLY, Mode.HEAT_COOL}
    assert traits.fan_modes == ("auto", "quiet", "low", "medium", "middle", "high")
    assert traits.swing_modes == ("auto", "highest", "high", "middle", "low", "lowest", "swing")
    assert "split" in traits.swing_horizontal_modes
    assert (traits.min_temp, traits.max_temp, traits.temp_step) == (16.0, 31.0, 0.5)
    assert traits.remote_temperature is True


def test_create_client_builds_a_client_from_plain_options() -> None:
    ctx = DriverContext(unit_id="u", port="/dev/null", options=Cn105Options(power_scale=0.3))
    assert DRIVER.create_client is not None
    assert isinstance(DRIVER.create_client(ctx), Cn105Client)


def test_options_are_strict_and_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        Cn105Options.model_validate({"connect_settle": 0})  # typo
    with pytest.raises(pydantic.ValidationError):
        Cn105Options(power_scale=0)
    options = Cn105Options()
    assert options.connect_settle_s == 1.0
    with pytest.raises(pydantic.ValidationError):
        options.power_scale = 2.0  # type: ignore[misc]


def test_capability_record_narrows_modes_vanes_and_auto_fan() -> None:
    caps = codec.Capabilities(
        heat=False, dry=False, vane_swing=False, auto_fan=False, extended_range=False
    )
    traits = unit_traits(CN105_TRAITS, caps, enhanced_setpoint=True)
    assert Mode.HEAT not in traits.modes
    assert Mode.DRY not in traits.modes
    assert "swing" not in traits.swing_modes
    assert "swing" not in traits.swing_horizontal_modes
    assert "auto" not in traits.fan_modes
    assert traits.limits_for(Mode.COOL) == (16.0, 31.0)


def test_capability_limits_become_per_mode_limits() -> None:
    caps = codec.Capabilities(
        cool_dry_limits=(16.0, 31.0), heat_limits=(10.0, 31.0), auto_limits=(17.0, 30.0)
    )
    traits = unit_traits(CN105_TRAITS, caps, enhanced_setpoint=True)
    assert traits.min_temp == 10.0
    assert traits.limits_for(Mode.HEAT) == (10.0, 31.0)
    assert traits.limits_for(Mode.HEAT_COOL) == (17.0, 30.0)
    assert traits.limits_for(Mode.DRY) == (16.0, 31.0)


def test_legacy_scale_means_whole_degrees_16_to_31() -> None:
    caps = codec.Capabilities(heat_limits=(10.0, 31.0))
    traits = unit_traits(CN105_TRAITS, caps, enhanced_setpoint=False)
    assert (traits.min_temp, traits.max_temp, traits.temp_step) == (16.0, 31.0, 1.0)
    assert traits.limits_for(Mode.HEAT) == (16.0, 31.0)


def settings(power: bool = True, mode: Mode = Mode.HEAT, target: float = 21.0) -> codec.Settings:
    return codec.Settings(
        power=power,
        mode=mode,
        target_temperature=target,
        fan_mode="auto",
        swing_mode="auto",
        swing_horizontal_mode="auto",
    )


RUNNING = codec.OperatingState(compressor_frequency=40, operating=True, power_w=800, energy_kwh=1)
IDLE = codec.OperatingState(compressor_frequency=0, operating=False, power_w=5, energy_kwh=1)


@pytest.mark.parametrize(
    ("unit_settings", "operating", "run", "room", "action"),
    [
        (settings(power=False), RUNNING, None, 20.0, Action.OFF),
        (settings(), RUNNING, codec.RunState(defrost=True), 20.0, Action.DEFROSTING),
        (settings(), RUNNING, codec.RunState(preheat=True), 20.0, Action.PREHEATING),
        (settings(), RUNNING, None, 20.0, Action.HEATING),
        (settings(mode=Mode.COOL), RUNNING, None, 25.0, Action.COOLING),
        (settings(mode=Mode.DRY), RUNNING, None, 25.0, Action.DRYING),
        (settings(mode=Mode.FAN_ONLY), IDLE, None, 25.0, Action.FAN),
        (settings(mode=Mode.FAN_ONLY), None, None, 25.0, Action.FAN),
        (settings(), IDLE, None, 20.0, Action.IDLE),
        (settings(mode=Mode.HEAT_COOL), RUNNING, None, 19.0, Action.HEATING),
        (settings(mode=Mode.HEAT_COOL), RUNNING, None, 23.0, Action.COOLING),
        (settings(mode=Mode.HEAT_COOL), IDLE, None, 23.0, Action.IDLE),
        (settings(), None, None, 20.0, None),  # no 0x06 reply: cannot tell
    ],
)
def test_action_is_derived_from_settings_operating_and_run_state(
    unit_settings: codec.Settings,
    operating: codec.OperatingState | None,
    run: codec.RunState | None,
    room: float,
    action: Action | None,
) -> None:
    assert derive_action(unit_settings, operating, run, room) is action
