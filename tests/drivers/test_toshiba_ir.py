"""Toshiba AC IR codec (ir.md §B9, timings §B1, stateful rules §B12).

Vectors are the states published in ir.md §B9, from IRremoteESP8266 v2.9.0
test/ir_Toshiba_test.cpp, and the swing frames ir.md §B9 lists; each test names its source.
"""

from __future__ import annotations

import random
from functools import reduce
from operator import xor

import pytest

from klima.driver import NoOptions
from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.ir_common.samples import random_state
from klima_drivers.ir_common.sections import jittered
from klima_drivers.toshiba_ir import DRIVER
from klima_drivers.toshiba_ir.codec import (
    CODEC,
    ECONO,
    SWING_OFF,
    SWING_ON,
    SWING_TOGGLE,
    ToshibaState,
    swing_frame,
)

ON = UnitState(power=True, mode=Mode.COOL, target_temperature=22.0, fan_mode="auto")
OFF = ON.replace(power=False)

# ir.md §B9, ir_Toshiba_test.cpp TestToshibaACClass.HumanReadableOutput / decode test
# (line ~374): Remote A, 17C, Power On, Mode Auto, Fan Auto.
AUTO_17 = bytes.fromhex("F2 0D 03 FC 01 00 00 00 01")
# ir.md §B9, TestToshibaACClass.HumanReadableOutput: 17C, Power On, Cool, Fan 5 ("High").
COOL_17_FAN5 = bytes.fromhex("F2 0D 03 FC 01 00 C1 00 C0")
# ir.md §B9 swing frames: on, off, toggle.
SWING_ON_FRAME = bytes.fromhex("F2 0D 01 FE 21 01 20")
SWING_OFF_FRAME = bytes.fromhex("F2 0D 01 FE 21 02 23")
SWING_TOGGLE_FRAME = bytes.fromhex("F2 0D 01 FE 21 04 25")


def test_auto_vector_from_fields_and_back() -> None:
    # source: ir.md §B9, ir_Toshiba_test.cpp TestToshibaACClass.HumanReadableOutput
    fields = ToshibaState(temperature=17, mode=0, fan=0)
    assert fields.to_bytes() == AUTO_17
    assert ToshibaState.from_bytes(AUTO_17) == fields
    assert CODEC.decode(AUTO_17) == {
        "power": True,
        "mode": "heat_cool",
        "target_temperature": 17.0,
        "fan_mode": "auto",
        "filter": False,
        "model": "A",
    }
    desired = UnitState(power=True, mode=Mode.HEAT_COOL, target_temperature=17.0, fan_mode="auto")
    assert CODEC.encode(desired, desired) == [AUTO_17]


def test_cool_fan5_vector_from_fields_and_back() -> None:
    # source: ir.md §B9, ir_Toshiba_test.cpp TestToshibaACClass.HumanReadableOutput
    fields = ToshibaState(temperature=17, mode=1, fan=6)  # speed 5 is sent as 6
    assert fields.to_bytes() == COOL_17_FAN5
    decoded = CODEC.decode(COOL_17_FAN5)
    # The library prints speed 5 as "High"; in Klima's (stdAc) vocabulary it is "max".
    assert (decoded["mode"], decoded["fan_mode"]) == ("cool", "max")
    desired = UnitState(power=True, mode=Mode.COOL, target_temperature=17.0, fan_mode="max")
    assert CODEC.encode(desired, desired) == [COOL_17_FAN5]


@pytest.mark.parametrize(
    ("swing", "frame", "meaning"),
    [
        (SWING_ON, SWING_ON_FRAME, {"swing_mode": "auto"}),
        (SWING_OFF, SWING_OFF_FRAME, {"swing_mode": "off"}),
        (SWING_TOGGLE, SWING_TOGGLE_FRAME, {"toggle": "swing_mode"}),
    ],
)
def test_swing_frames(swing: int, frame: bytes, meaning: dict[str, str]) -> None:
    # source: ir.md §B9 "swing on = …21 01 20, off = …21 02 23, toggle = …21 04 25"
    assert swing_frame(swing) == frame
    assert CODEC.decode(frame) == meaning


def test_off_is_mode_7_of_the_state_frame() -> None:
    # ir.md §B9: power off is mode 7; the frame keeps setpoint and fan
    message = CODEC.encode(OFF, ON)[0]
    assert message[6] & 0x07 == 7
    assert CODEC.decode(message) == {
        "power": False,
        "target_temperature": 22.0,
        "fan_mode": "auto",
        "filter": False,
        "model": "A",
    }


def test_long_frame_carries_econo() -> None:
    message = ToshibaState(temperature=24, mode=1, fan=0, special=ECONO).to_bytes()
    assert len(message) == 10
    assert message[2] & 0x0F == 4
    assert message[4] == 0x09
    assert CODEC.decode(message)["econo"] is True


@pytest.mark.parametrize(
    "vector", [AUTO_17, COOL_17_FAN5, SWING_ON_FRAME, SWING_OFF_FRAME, SWING_TOGGLE_FRAME]
)
def test_checksum_is_xor_of_the_bytes_before(vector: bytes) -> None:
    # ir.md §B9: checksum = XOR of bytes 0..n-2
    assert reduce(xor, vector[:-1], 0) == vector[-1]
    with pytest.raises(ProtocolError, match="checksum"):
        CODEC.decode(vector[:-1] + bytes([vector[-1] ^ 0x80]))


# --- pulses ------------------------------------------------------------------------------


def test_timings_msb_first_and_sent_twice() -> None:
    # ir.md §B1: 4400/4300 header, 580 mark, 1600/490 spaces, 580/7400 footer/gap, twice
    signal = CODEC.modulate(AUTO_17)
    frame_length = 2 + 9 * 8 * 2 + 2
    pulses = signal.pulses
    assert signal.carrier_hz == 38_000
    assert len(pulses) == 2 * frame_length
    assert pulses[:frame_length] == pulses[frame_length:]
    assert pulses[:2] == (4400, 4300)
    assert set(pulses[2 : frame_length - 2 : 2]) == {580}
    assert set(pulses[3 : frame_length - 2 : 2]) == {1600, 490}
    assert pulses[frame_length - 2 : frame_length] == (580, 7400)
    # MSB first: 0xF2 = 0b11110010
    assert pulses[3:18:2] == (1600, 1600, 1600, 1600, 490, 490, 1600, 490)


def test_the_repeat_folds_into_one_message() -> None:
    assert CODEC.demodulate(CODEC.modulate(AUTO_17)) == [AUTO_17]
    state_then_swing = CODEC.modulate(AUTO_17) + CODEC.modulate(SWING_ON_FRAME)
    assert CODEC.demodulate(state_then_swing) == [AUTO_17, SWING_ON_FRAME]
    # A capture that lost the repeat still decodes.
    half = IrSignal(CODEC.modulate(AUTO_17).pulses[: 2 + 9 * 16 + 2])
    assert CODEC.demodulate(half) == [AUTO_17]


def test_random_states_round_trip_through_pulses() -> None:
    rng = random.Random(11)
    for _ in range(200):
        desired = random_state(CODEC.traits, rng)
        previous = rng.choice([None, random_state(CODEC.traits, rng)])
        messages = CODEC.encode(desired, previous)
        for message in messages:
            assert CODEC.demodulate(CODEC.modulate(message)) == [message]
        decoded = CODEC.decode(messages[0])
        assert decoded["power"] is desired.power
        assert decoded["target_temperature"] == desired.target_temperature
        assert decoded["fan_mode"] == desired.fan_mode
        if desired.power:
            assert decoded["mode"] == desired.mode.value
        for message in messages[1:]:
            assert CODEC.decode(message) == {"swing_mode": desired.swing_mode}


def test_demodulate_tolerates_15_percent_jitter() -> None:
    rng = random.Random(16)
    for _ in range(100):
        for message in CODEC.encode(random_state(CODEC.traits, rng, power=True), None):
            noisy = IrSignal(jittered(CODEC.modulate(message).pulses, rng, 0.15))
            assert CODEC.demodulate(noisy) == [message]


def test_through_a_broadlink_packet() -> None:
    assert DRIVER.create_ir is not None
    encoder = DRIVER.create_ir(NoOptions())
    desired = ON.replace(swing_mode="auto")
    packets = encoder.packets(desired, None)
    received = [m for p in packets for m in CODEC.demodulate(broadlink_to_signal(p))]
    assert received == CODEC.encode(desired, None)


# --- stateful behaviour (ir.md §B12) ------------------------------------------------------


def test_turning_on_resends_the_operating_mode() -> None:
    heat = UnitState(power=True, mode=Mode.HEAT, target_temperature=21.0, fan_mode="low")
    message = CODEC.encode(heat, heat.replace(power=False))[0]
    assert CODEC.decode(message)["mode"] == "heat"


def test_swing_frame_follows_the_state_only_when_needed() -> None:
    swinging = ON.replace(swing_mode="auto")
    assert CODEC.encode(swinging, None) == [CODEC.encode(swinging, swinging)[0], SWING_ON_FRAME]
    assert CODEC.encode(swinging, swinging) == CODEC.encode(swinging, swinging)
    assert len(CODEC.encode(swinging, swinging)) == 1  # same desired twice: no swing frame
    assert CODEC.encode(ON.replace(swing_mode="off"), swinging)[1:] == [SWING_OFF_FRAME]
    # Switched on after a change made while off: the swing frame goes out with the state.
    assert CODEC.encode(swinging, swinging.replace(power=False))[1:] == [SWING_ON_FRAME]


def test_no_swing_frame_while_off() -> None:
    assert CODEC.encode(OFF.replace(swing_mode="auto"), ON.replace(swing_mode="off")) == [
        CODEC.encode(OFF, ON)[0]
    ]


def test_swing_frames_are_absolute_never_toggles() -> None:
    rng = random.Random(5)
    for _ in range(100):
        desired = random_state(CODEC.traits, rng)
        previous = random_state(CODEC.traits, rng)
        for message in CODEC.encode(desired, previous)[1:]:
            assert message in (SWING_ON_FRAME, SWING_OFF_FRAME)


# --- rejection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        (4400, 4300, 580, 490),
        tuple(random.Random(4).randint(100, 5000) for _ in range(296)),
    ],
)
def test_garbage_pulses_are_protocol_errors(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(pulses))


def test_other_brands_frames_are_rejected() -> None:
    from klima_drivers.fujitsu_ir.codec import CODEC as FUJITSU
    from klima_drivers.lg_ir.codec import CODEC as LG
    from klima_drivers.samsung_ir.codec import CODEC as SAMSUNG

    for other in (FUJITSU, LG, SAMSUNG):
        with pytest.raises(ProtocolError):
            CODEC.demodulate(other.modulate(other.encode(ON, None)[0]))


@pytest.mark.parametrize(
    "message",
    [
        b"",
        bytes(9),
        bytes.fromhex("F2 0D 03 FC 09 00 00 00 09"),  # long-frame kind byte in a 9-byte frame
        bytes.fromhex("F2 0D 01 FE 21 03 22"),  # swing value 3 is not defined
    ],
)
def test_garbage_bytes_are_protocol_errors(message: bytes) -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(message)


def test_driver_declaration() -> None:
    assert DRIVER.check() == []
    assert DRIVER.name == "toshiba_ir"
    assert DRIVER.ir_codec is CODEC
    assert (DRIVER.traits.min_temp, DRIVER.traits.max_temp) == (17.0, 30.0)
