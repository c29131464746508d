"""Validation of untrusted commands: every rejection names the field and what is allowed."""

from __future__ import annotations

import pytest

from klima.commands import (
    MAX_PAYLOAD_BYTES,
    decode_json_object,
    parse_assignments,
    parse_attribute,
    parse_command,
)
from klima.errors import CommandError
from klima.state import Mode, UnitCommand
from klima.traits import Traits

TRAITS = Traits(
    modes=(Mode.HEAT, Mode.COOL, Mode.DRY, Mode.FAN_ONLY, Mode.HEAT_COOL),
    fan_modes=("auto", "low", "high"),
    swing_modes=("auto", "swing"),
    min_temp=16.0,
    max_temp=31.0,
    temp_step=0.5,
    mode_limits={Mode.HEAT: (10.0, 31.0)},
)


def test_valid_command_parses() -> None:
    cmd = parse_command({"mode": "cool", "target_temperature": 24, "fan_mode": "high"}, TRAITS)
    assert cmd == UnitCommand(mode=Mode.COOL, target_temperature=24.0, fan_mode="high")


@pytest.mark.parametrize(
    ("payload", "field", "allowed"),
    [
        ({"mode": "turbo"}, "mode", ["off", "heat", "cool", "heat_cool", "dry", "fan_only"]),
        ({"fan_mode": "max"}, "fan_mode", ["auto", "low", "high"]),
        ({"target_temperature": 40}, "target_temperature", [16.0, 31.0]),
        ({"target_temperature": 21.3}, "target_temperature", [0.5]),
        ({"target_temperature": "warm"}, "target_temperature", None),
        ({"power": "maybe"}, "power", ["ON", "OFF"]),
        ({"colour": "blue"}, "colour", None),
        ({"swing_horizontal_mode": "left"}, "swing_horizontal_mode", []),
    ],
)
def test_bad_fields_are_named(payload: dict[str, object], field: str, allowed: object) -> None:
    with pytest.raises(CommandError) as err:
        parse_command(payload, TRAITS)
    assert err.value.field == field
    if allowed is not None:
        assert err.value.allowed == allowed


def test_unsupported_mode_for_unit() -> None:
    fan_only = Traits(modes=(Mode.COOL,), min_temp=16, max_temp=30)
    with pytest.raises(CommandError) as err:
        parse_command({"mode": "heat"}, fan_only)
    assert err.value.allowed == ["off", "cool"]


def test_heat_mode_allows_lower_setpoint_than_cool() -> None:
    assert (
        parse_command({"mode": "heat", "target_temperature": 10}, TRAITS).target_temperature == 10
    )
    with pytest.raises(CommandError):
        parse_command({"mode": "cool", "target_temperature": 10}, TRAITS)


def test_empty_command_is_an_error() -> None:
    with pytest.raises(CommandError, match="sets nothing"):
        parse_command({}, TRAITS)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", "limit"),
    ],
)
def test_bad_payloads(payload: bytes, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        decode_json_object(payload)


def test_plain_attribute_values() -> None:
    assert parse_attribute("target_temperature", b"23.5", TRAITS).target_temperature == 23.5
    assert parse_attribute("power", b"OFF", TRAITS).power is False
    assert parse_attribute("mode", b"off", TRAITS).normalized().power is False
    with pytest.raises(CommandError) as err:
        parse_attribute("volume", b"11", TRAITS)
    assert err.value.field == "volume"


def test_cli_assignments() -> None:
    cmd = parse_assignments(["mode=cool", "target_temperature=24"], TRAITS)
    assert cmd == UnitCommand(mode=Mode.COOL, target_temperature=24.0)
    with pytest.raises(CommandError, match="key=value"):
        parse_assignments(["cool"], TRAITS)


def test_config_limits_only_narrow() -> None:
    narrowed = TRAITS.narrowed(min_temp=18, max_temp=40)
    assert (narrowed.min_temp, narrowed.max_temp) == (18, 31)
    with pytest.raises(ValueError, match="leave nothing"):
        TRAITS.narrowed(min_temp=35)


def test_setpoint_grid_does_not_shift_with_an_odd_configured_limit() -> None:
    narrowed = TRAITS.narrowed(min_temp=17.3)
    assert parse_command({"target_temperature": 18.0}, narrowed).target_temperature == 18.0
    with pytest.raises(CommandError, match="step"):
        parse_command({"target_temperature": 17.8}, narrowed)
    with pytest.raises(CommandError, match="outside"):
        parse_command({"target_temperature": 17.0}, narrowed)
