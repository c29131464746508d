"""CN105 codec round trips: device-encode -> host-decode and host-encode -> device-decode.

Every value of the vocabulary and a spread of temperatures must survive both directions, so the
simulator and the driver can never silently disagree about a field.
"""

from __future__ import annotations

import itertools

import pytest

from klima.state import Mode, UnitCommand
from klima_drivers.mitsubishi_cn105 import codec, scales
from klima_drivers.mitsubishi_cn105.frames import parse_frame


def payload(raw: bytes) -> bytes:
    return parse_frame(raw).payload


# --- round trips --------------------------------------------------------------------------

SETPOINTS = [16.0, 16.5, 20.0, 21.5, 23.0, 30.5, 31.0]


@pytest.mark.parametrize(
    ("mode", "fan", "vane", "wide"),
    list(
        itertools.zip_longest(
            list(scales.MODE_CODES),
            scales.FAN_MODES,
            scales.SWING_MODES,
            scales.SWING_HORIZONTAL_MODES,
            fillvalue=None,
        )
    ),
)
@pytest.mark.parametrize("power", [True, False])
def test_host_set_then_device_decode_gives_the_command_back(
    mode: Mode, fan: str | None, vane: str | None, wide: str | None, power: bool
) -> None:
    for target in (*SETPOINTS, None):
        command = UnitCommand(
            power=power,
            mode=mode,
            target_temperature=target,
            fan_mode=fan,
            swing_mode=vane,
            swing_horizontal_mode=wide,
        )
        raw = codec.encode_set(command, enhanced=True)
        assert codec.decode_set_request(payload(raw)) == command.normalized()


@pytest.mark.parametrize("target", [float(t) for t in range(16, 32)])
def test_legacy_set_round_trips_whole_degrees(target: float) -> None:
    raw = codec.encode_set(UnitCommand(target_temperature=target), enhanced=False)
    decoded = codec.decode_set_request(payload(raw), reads_enhanced=False)
    assert decoded.target_temperature == target


# i-See variants are documented for heat, dry and cool only (serial.md §3.5.1).
MODE_VARIANTS = [(m, False) for m in scales.MODE_CODES] + [
    (m, True) for m in (Mode.HEAT, Mode.DRY, Mode.COOL)
]


@pytest.mark.parametrize(("mode", "isee"), MODE_VARIANTS)
def test_device_settings_then_host_decode_gives_them_back(mode: Mode, isee: bool) -> None:
    for fan, vane, wide in itertools.product(
        scales.FAN_MODES, scales.SWING_MODES, scales.SWING_HORIZONTAL_MODES
    ):
        for target, enhanced in ((21.5, True), (10.0, True), (31.0, True), (24.0, False)):
            settings = codec.Settings(
                power=True,
                mode=mode,
                target_temperature=target,
                fan_mode=fan,
                swing_mode=vane,
                swing_horizontal_mode=wide,
                isee=isee,
                enhanced_setpoint=enhanced,
            )
            reply = codec.encode_settings_reply(settings)
            assert codec.decode_settings(payload(reply)) == settings


@pytest.mark.parametrize("room", [-10.0, 0.0, 10.5, 19.0, 23.5, 40.0])
@pytest.mark.parametrize("outdoor", [None, -20.0, -5.5, 9.0, 35.0])
@pytest.mark.parametrize("minutes", [None, 1, 0xFFFFFF])
def test_temperatures_round_trip(room: float, outdoor: float | None, minutes: int | None) -> None:
    temps = codec.Temperatures(
        room_temperature=room, outdoor_temperature=outdoor, operating_minutes=minutes
    )
    assert codec.decode_temperatures(payload(codec.encode_temperatures_reply(temps))) == temps


def test_legacy_room_temperature_round_trips_in_whole_degrees() -> None:
    temps = codec.Temperatures(room_temperature=22.0)
    reply = codec.encode_temperatures_reply(temps, enhanced=False)
    assert reply[11] == 0  # no enhanced byte
    assert codec.decode_temperatures(payload(reply)).room_temperature == 22.0


@pytest.mark.parametrize(
    "state",
    [
        codec.OperatingState(compressor_frequency=0, operating=False, power_w=0, energy_kwh=0.0),
        codec.OperatingState(compressor_frequency=58, operating=True, power_w=740, energy_kwh=12.3),
        codec.OperatingState(
            compressor_frequency=255, operating=True, power_w=65535, energy_kwh=6553.5
        ),
    ],
)
def test_operating_state_round_trips(state: codec.OperatingState) -> None:
    assert codec.decode_operating(payload(codec.encode_operating_reply(state))) == state


@pytest.mark.parametrize(
    "state",
    [
        codec.RunState(),
        codec.RunState(defrost=True, fan_stage=0, auto_substate=0x43),
        codec.RunState(preheat=True, standby=True, fan_stage=6, auto_substate=0x41),
    ],
)
def test_run_state_round_trips(state: codec.RunState) -> None:
    assert codec.decode_run_state(payload(codec.encode_run_state_reply(state))) == state


def test_every_fault_code_round_trips() -> None:
    for value in (v for v in range(256) if v & 0x1F < 22):  # the digit table has 22 entries
        name = scales.fault_code_name(value)
        assert scales.fault_code_byte(name) == value
        expected = None if value == 0 else name
        reply = codec.encode_errors_reply(name)
        assert codec.decode_errors(payload(reply)) == expected


@pytest.mark.parametrize(
    "caps",
    [
        codec.Capabilities(
            cool_dry_limits=(16.0, 31.0), heat_limits=(10.0, 31.0), auto_limits=(16.0, 31.0)
        ),
        codec.Capabilities(
            heat=False,
            dry=False,
            fan_only=False,
            vertical_vane=False,
            vane_swing=False,
            auto_fan=False,
            extended_range=False,
            outdoor_temperature=True,
            fan_speeds=3,
        ),
        codec.Capabilities(fan_speeds=4, cool_dry_limits=(18.0, 30.0)),
        codec.Capabilities(fan_speeds=1),
        codec.Capabilities(fan_speeds=2),
    ],
)
def test_capabilities_round_trip(caps: codec.Capabilities) -> None:
    reply = codec.encode_capabilities_reply(caps)
    assert codec.decode_capabilities(payload(reply)) == caps
