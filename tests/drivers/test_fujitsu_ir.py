"""Fujitsu AC IR codec (ir.md §B7, timings §B1, stateful rules §B12).

Vectors are the ARRAH2E states published in ir.md §B7, from IRremoteESP8266 v2.9.0
test/ir_Fujitsu_test.cpp; each test names its test case.
"""

from __future__ import annotations

import random

import pytest

from klima.driver import NoOptions
from klima.errors import CommandError, ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.fujitsu_ir import DRIVER
from klima_drivers.fujitsu_ir.codec import (
    CMD_OFF,
    CMD_TOGGLE_SWING_VERTICAL,
    CODEC,
    FujitsuState,
    command_frame,
)
from klima_drivers.ir_common.samples import random_state
from klima_drivers.ir_common.sections import jittered

ON = UnitState(power=True, mode=Mode.COOL, target_temperature=24.0, fan_mode="high")
OFF = UnitState(power=False, mode=Mode.COOL, target_temperature=24.0, fan_mode="high")


# --- published vectors -------------------------------------------------------------------

# ir.md §B7, ir_Fujitsu_test.cpp "GetRaw with turn-on command" (first test) and
# TestIRFujitsuACClass.SetRaw default: Power On, Cool, 24C, Fan High, Swing V+H.
TURN_ON_COOL_24 = bytes.fromhex("14 63 00 10 10 FE 09 30 81 01 31 00 00 00 20 FD")
# ir.md §B7, TestIRFujitsuACClass.GetRawWithSwingHoriz: Cool, 25C, Fan Quiet, Swing H, stay on.
COOL_25_QUIET_SWING_H = bytes.fromhex("14 63 00 10 10 FE 09 30 90 01 24 00 00 00 20 FB")
# ir.md §B7, TestIRFujitsuACClass.GetRawWithFan: Fan mode, 20C, Fan Medium, Swing H.
FAN_20_MEDIUM_SWING_H = bytes.fromhex("14 63 00 10 10 FE 09 30 40 03 22 00 00 00 20 4B")


def test_turn_on_vector_from_fields_and_back() -> None:
    # source: ir.md §B7, ir_Fujitsu_test.cpp GetRaw with turn-on command / SetRaw default
    fields = FujitsuState(turn_on=True, temperature=24.0, mode=1, fan=1, swing=3)
    assert fields.to_bytes() == TURN_ON_COOL_24
    assert FujitsuState.from_bytes(TURN_ON_COOL_24) == fields
    assert CODEC.decode(TURN_ON_COOL_24) == {
        "power": True,
        "mode": "cool",
        "target_temperature": 24.0,
        "fan_mode": "high",
        "swing_mode": "auto",
        "swing_horizontal_mode": "auto",
        "turn_on": True,
        "clean": False,
        "filter": False,
        "outside_quiet": False,
    }


def test_turn_on_vector_from_a_unit_state() -> None:
    # source: ir.md §B7, ir_Fujitsu_test.cpp GetRaw with turn-on command (off -> on)
    desired = ON.replace(swing_mode="auto", swing_horizontal_mode="auto")
    assert CODEC.encode(desired, previous=OFF) == [TURN_ON_COOL_24]


def test_swing_horizontal_vector() -> None:
    # source: ir.md §B7, TestIRFujitsuACClass.GetRawWithSwingHoriz
    fields = FujitsuState(turn_on=False, temperature=25.0, mode=1, fan=4, swing=2)
    assert fields.to_bytes() == COOL_25_QUIET_SWING_H
    assert FujitsuState.from_bytes(COOL_25_QUIET_SWING_H) == fields
    desired = UnitState(
        power=True,
        mode=Mode.COOL,
        target_temperature=25.0,
        fan_mode="quiet",
        swing_mode="off",
        swing_horizontal_mode="auto",
    )
    assert CODEC.encode(desired, previous=desired) == [COOL_25_QUIET_SWING_H]
    decoded = CODEC.decode(COOL_25_QUIET_SWING_H)
    assert decoded["fan_mode"] == "quiet"
    assert (decoded["swing_mode"], decoded["swing_horizontal_mode"]) == ("off", "auto")
    assert decoded["turn_on"] is False


def test_fan_mode_vector() -> None:
    # source: ir.md §B7, TestIRFujitsuACClass.GetRawWithFan
    fields = FujitsuState(turn_on=False, temperature=20.0, mode=3, fan=2, swing=2)
    assert fields.to_bytes() == FAN_20_MEDIUM_SWING_H
    assert FujitsuState.from_bytes(FAN_20_MEDIUM_SWING_H) == fields
    decoded = CODEC.decode(FAN_20_MEDIUM_SWING_H)
    assert decoded["mode"] == "fan_only"
    assert decoded["target_temperature"] == 20.0
    assert decoded["fan_mode"] == "medium"


def test_short_off_frame() -> None:
    # source: ir.md §B7 "short command 14 63 00 10 10 CMD ~CMD, 0x02 = power off"
    assert command_frame(CMD_OFF) == bytes.fromhex("14 63 00 10 10 02 FD")
    assert CODEC.decode(command_frame(CMD_OFF)) == {"power": False}
    assert CODEC.decode(command_frame(CMD_TOGGLE_SWING_VERTICAL)) == {"toggle": "swing_mode"}


# --- checksum ----------------------------------------------------------------------------


@pytest.mark.parametrize("vector", [TURN_ON_COOL_24, COOL_25_QUIET_SWING_H, FAN_20_MEDIUM_SWING_H])
def test_checksum_is_zero_minus_bytes_7_to_14(vector: bytes) -> None:
    # ir.md §B7: checksum = (0 - sum of bytes 7..14) mod 256
    assert (-sum(vector[7:15])) & 0xFF == vector[15]
    broken = vector[:15] + bytes([vector[15] ^ 0x01])
    with pytest.raises(ProtocolError, match="checksum"):
        CODEC.decode(broken)


def test_command_frame_complement_is_checked() -> None:
    with pytest.raises(ProtocolError, match="complement"):
        CODEC.decode(bytes.fromhex("14 63 00 10 10 02 FC"))


# --- pulses ------------------------------------------------------------------------------


def test_state_frame_timings() -> None:
    # ir.md §B1: 3324/1574 header, 448 bit mark, 1182/390 spaces, 448 footer, 8100 gap, once
    signal = CODEC.modulate(TURN_ON_COOL_24)
    pulses = signal.pulses
    assert signal.carrier_hz == 38_000
    assert len(pulses) == 2 + 16 * 8 * 2 + 2  # one frame, no repeat
    assert pulses[:2] == (3324, 1574)
    assert set(pulses[2:-2:2]) == {448}
    assert set(pulses[3:-2:2]) == {1182, 390}
    assert pulses[-2:] == (448, 8100)
    # LSB first: 0x14 = 0b00010100 -> bits 0,0,1,0,1,0,0,0
    assert pulses[3:18:2] == (390, 390, 1182, 390, 1182, 390, 390, 390)


def test_off_frame_is_seven_bytes_on_air() -> None:
    signal = CODEC.modulate(command_frame(CMD_OFF))
    assert len(signal.pulses) == 2 + 7 * 16 + 2
    assert CODEC.demodulate(signal) == [command_frame(CMD_OFF)]


def test_random_states_round_trip_through_pulses() -> None:
    rng = random.Random(7)
    for _ in range(200):
        desired = random_state(CODEC.traits, rng)
        previous = rng.choice([None, random_state(CODEC.traits, rng)])
        messages = CODEC.encode(desired, previous)
        for message in messages:
            assert CODEC.demodulate(CODEC.modulate(message)) == [message]
        decoded = CODEC.decode(messages[-1])
        if not desired.power:
            assert decoded == {"power": False}
            continue
        assert decoded["mode"] == desired.mode.value
        assert decoded["target_temperature"] == desired.target_temperature
        assert decoded["fan_mode"] == desired.fan_mode
        assert decoded["swing_mode"] == desired.swing_mode
        assert decoded["swing_horizontal_mode"] == desired.swing_horizontal_mode


def test_demodulate_tolerates_15_percent_jitter() -> None:
    rng = random.Random(15)
    for _ in range(100):
        message = CODEC.encode(random_state(CODEC.traits, rng, power=True), None)[0]
        noisy = IrSignal(jittered(CODEC.modulate(message).pulses, rng, 0.15))
        assert CODEC.demodulate(noisy) == [message]


def test_through_a_broadlink_packet() -> None:
    encoder = DRIVER.create_ir(NoOptions()) if DRIVER.create_ir else None
    assert encoder is not None
    packets = encoder.packets(ON, OFF)
    assert [m for p in packets for m in CODEC.demodulate(broadlink_to_signal(p))] == [
        CODEC.encode(ON, OFF)[0]
    ]


# --- stateful behaviour (ir.md §B12) ------------------------------------------------------


def test_turn_on_flag_only_on_the_off_to_on_transition() -> None:
    assert CODEC.decode(CODEC.encode(ON, OFF)[0])["turn_on"] is True
    assert CODEC.decode(CODEC.encode(ON, ON)[0])["turn_on"] is False
    changed = ON.replace(target_temperature=21.0)
    assert CODEC.decode(CODEC.encode(changed, ON)[0])["turn_on"] is False
    # Unknown previous state: the flag, so the unit ends up on whatever it was.
    assert CODEC.decode(CODEC.encode(ON, None)[0])["turn_on"] is True


def test_off_is_the_short_frame_whatever_came_before() -> None:
    for previous in (None, ON, OFF):
        assert CODEC.encode(OFF, previous) == [command_frame(CMD_OFF)]


def test_same_desired_twice_sends_identical_state_frames() -> None:
    desired = ON.replace(swing_mode="auto")
    first = CODEC.encode(desired, ON)
    assert CODEC.encode(desired, desired) == first
    assert CODEC.encode(desired, desired) == CODEC.encode(desired, desired)
    assert all(len(m) == 16 for m in first)  # never a one-shot toggle


def test_swing_change_is_part_of_the_state_frame() -> None:
    swinging = ON.replace(swing_mode="auto", swing_horizontal_mode="off")
    messages = CODEC.encode(swinging, ON.replace(swing_mode="off", swing_horizontal_mode="off"))
    assert len(messages) == 1
    assert messages[0][10] >> 4 == 0b01


# --- rejection ---------------------------------------------------------------------------


def test_unsupported_values_are_command_errors() -> None:
    with pytest.raises(CommandError) as info:
        CODEC.encode(ON.replace(fan_mode="max"), None)
    assert info.value.field == "fan_mode"
    assert "quiet" in (info.value.allowed or [])


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        (9000, 4500, 560, 560, 560, 1690, 560, 40000),  # an NEC-like burst
        (3324, 1574, 448, 390, 448),  # cut short
        tuple(random.Random(3).randint(100, 5000) for _ in range(260)),
    ],
)
def test_garbage_pulses_are_protocol_errors(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(pulses))


def test_other_brands_frames_are_rejected() -> None:
    from klima_drivers.panasonic_ir.codec import CODEC as PANASONIC
    from klima_drivers.samsung_ir.codec import CODEC as SAMSUNG
    from klima_drivers.toshiba_ir.codec import CODEC as TOSHIBA

    for other in (PANASONIC, SAMSUNG, TOSHIBA):
        signal = other.modulate(other.encode(ON, None)[0])
        with pytest.raises(ProtocolError):
            CODEC.demodulate(signal)


@pytest.mark.parametrize(
    "message",
    [b"", bytes(16), bytes(7), bytes.fromhex("14 63 00 10 10 FC 08 30 81 01 01 00 00 00 4D")],
)
def test_garbage_bytes_are_protocol_errors(message: bytes) -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(message)


def test_driver_declaration() -> None:
    assert DRIVER.check() == []
    assert DRIVER.name == "fujitsu_ir"
    assert DRIVER.ir_codec is CODEC
    assert DRIVER.traits.fan_modes == ("auto", "quiet", "low", "medium", "high")
