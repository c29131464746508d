"""Samsung AC IR codec (ir.md §B10, timings §B1, stateful rules §B12).

Vectors are the states published in ir.md §B10, from IRremoteESP8266 v2.9.0
test/ir_Samsung_test.cpp; each test names its test case.
"""

from __future__ import annotations

import random

import pytest

from klima.driver import NoOptions
from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.ir_common.samples import random_state
from klima_drivers.ir_common.sections import jittered
from klima_drivers.samsung_ir import DRIVER
from klima_drivers.samsung_ir.codec import (
    CODEC,
    EXTENDED_MIDDLE,
    SPECIAL_POWERFUL,
    SamsungState,
    section_checksum,
)

# ir.md §B10, ir_Samsung_test.cpp powerful test (issue #734 "off" state):
# Power On, Cool, 16C, Fan Auto, Swing Off, Light On.
COOL_16_AUTO = bytes.fromhex("02 92 0F 00 00 00 F0  01 F2 FE 71 00 11 F0")
# ir.md §B10, same test: Power On, Cool, 16C, Fan Turbo, Powerful On.
COOL_16_POWERFUL = bytes.fromhex("02 92 0F 00 00 00 F0  01 A2 FE 77 00 1F F0")
# ir.md §B10, TestIRSamsungAcClass.Issue1648 (extended): Power On, Cool, 25C, Fan Low, Swing Off.
EXTENDED_COOL_25_LOW = bytes.fromhex(
    "02 92 0F 00 00 00 F0  01 D2 0F 00 00 00 00  01 C2 FE 71 90 15 F0"
)

COOL_16 = UnitState(
    power=True,
    mode=Mode.COOL,
    target_temperature=16.0,
    fan_mode="auto",
    swing_mode="off",
    swing_horizontal_mode="off",
)


def test_cool_16_vector_from_fields_and_back() -> None:
    # source: ir.md §B10, ir_Samsung_test.cpp powerful test (issue #734)
    fields = SamsungState(power=True, mode=1, temperature=16, fan=0)
    assert fields.to_bytes() == COOL_16_AUTO
    assert SamsungState.from_bytes(COOL_16_AUTO) == fields
    assert CODEC.encode(COOL_16, previous=COOL_16) == [COOL_16_AUTO]
    decoded = CODEC.decode(COOL_16_AUTO)
    assert {k: decoded[k] for k in ("power", "mode", "target_temperature", "fan_mode")} == {
        "power": True,
        "mode": "cool",
        "target_temperature": 16.0,
        "fan_mode": "auto",
    }
    assert (decoded["swing_mode"], decoded["swing_horizontal_mode"]) == ("off", "off")
    assert decoded["light"] is True


def test_powerful_vector_from_fields_and_back() -> None:
    # source: ir.md §B10, ir_Samsung_test.cpp powerful test (issue #734)
    fields = SamsungState(power=True, mode=1, temperature=16, fan=7, fan_special=SPECIAL_POWERFUL)
    assert fields.to_bytes() == COOL_16_POWERFUL
    assert SamsungState.from_bytes(COOL_16_POWERFUL) == fields
    decoded = CODEC.decode(COOL_16_POWERFUL)
    assert (decoded["fan_mode"], decoded["turbo"]) == ("max", True)


def test_extended_vector_from_fields_and_from_a_power_change() -> None:
    # source: ir.md §B10, TestIRSamsungAcClass.Issue1648
    fields = SamsungState(power=True, mode=1, temperature=25, fan=2, extended=True)
    assert fields.to_bytes() == EXTENDED_COOL_25_LOW
    assert SamsungState.from_bytes(EXTENDED_COOL_25_LOW) == fields
    desired = COOL_16.replace(target_temperature=25.0, fan_mode="low")
    assert CODEC.encode(desired, previous=desired.replace(power=False)) == [EXTENDED_COOL_25_LOW]
    decoded = CODEC.decode(EXTENDED_COOL_25_LOW)
    assert (decoded["power"], decoded["target_temperature"], decoded["fan_mode"]) == (
        True,
        25.0,
        "low",
    )


def test_library_off_message() -> None:
    # source: IRremoteESP8266 src/ir_Samsung.cpp IRSamsungAc::sendOff, the fixed extended "off"
    # message of issue #604 (pre-2.9 versions; not listed in ir.md): cool, 24C, fan auto.
    off = bytes.fromhex("02 B2 0F 00 00 00 C0  01 D2 0F 00 00 00 00  01 02 FF 71 80 11 C0")
    fields = SamsungState(power=False, mode=1, temperature=24, fan=0, extended=True)
    assert fields.to_bytes() == off
    desired = COOL_16.replace(power=False, target_temperature=24.0)
    assert CODEC.encode(desired, previous=COOL_16) == [off]
    assert CODEC.decode(off)["power"] is False


@pytest.mark.parametrize("vector", [COOL_16_AUTO, COOL_16_POWERFUL, EXTENDED_COOL_25_LOW])
def test_every_section_checksum_follows_the_rule(vector: bytes) -> None:
    # ir.md §B10: NOT of the 1-bit count of byte 0, byte 1 low nibble, byte 2 high nibble and
    # bytes 3-6; low nibble -> byte 1 high nibble, high nibble -> byte 2 low nibble.
    for offset in range(0, len(vector), 7):
        section = vector[offset : offset + 7]
        ones = sum(
            (b).bit_count()
            for b in (section[0], section[1] & 0x0F, section[2] & 0xF0, *section[3:])
        )
        expected = ~ones & 0xFF
        assert section[1] >> 4 == expected & 0x0F
        assert section[2] & 0x0F == expected >> 4
        assert section_checksum(section) == expected
    broken = bytearray(vector)
    broken[-3] ^= 0x20  # a data bit of the last section
    with pytest.raises(ProtocolError, match="checksum"):
        CODEC.decode(bytes(broken))


def test_extended_middle_section_is_fixed() -> None:
    assert EXTENDED_COOL_25_LOW[7:14] == EXTENDED_MIDDLE
    altered = bytearray(EXTENDED_COOL_25_LOW)
    altered[10] = 0x01  # still a checksum problem, but above all not the known middle section
    with pytest.raises(ProtocolError):
        CODEC.decode(bytes(altered))


# --- pulses ------------------------------------------------------------------------------


def test_timings() -> None:
    # ir.md §B1: 690/17844 once, then per section 3086/8864, 586 mark, 1432/436, 586/2886,
    # the message padded to a 100 ms gap; sent once
    signal = CODEC.modulate(COOL_16_AUTO)
    pulses = signal.pulses
    section = 2 + 7 * 16 + 2
    assert signal.carrier_hz == 38_000
    assert len(pulses) == 2 + 2 * section
    assert pulses[:4] == (690, 17844, 3086, 8864)
    first = pulses[2 : 2 + section]
    assert set(first[2:-2:2]) == {586}
    assert set(first[3:-2:2]) == {1432, 436}
    assert first[-2:] == (586, 2886)
    assert pulses[2 + section : 4 + section] == (3086, 8864)
    assert pulses[-2:] == (586, 100_000)
    # LSB first: 0x02 -> bits 0,1,0,0,0,0,0,0
    assert first[3:18:2] == (436, 1432, 436, 436, 436, 436, 436, 436)


def test_extended_message_has_three_sections_on_air() -> None:
    pulses = CODEC.modulate(EXTENDED_COOL_25_LOW).pulses
    assert len(pulses) == 2 + 3 * (2 + 7 * 16 + 2)
    assert CODEC.demodulate(IrSignal(pulses)) == [EXTENDED_COOL_25_LOW]


def expected_fields(state: UnitState) -> dict[str, object]:
    return {
        "power": state.power,
        "mode": state.mode.value,
        "target_temperature": state.target_temperature,
        # The remote allows only its own auto fan in auto mode.
        "fan_mode": "auto" if state.mode is Mode.HEAT_COOL else state.fan_mode,
        "swing_mode": state.swing_mode,
        "swing_horizontal_mode": state.swing_horizontal_mode,
    }


def test_random_states_round_trip_through_pulses() -> None:
    rng = random.Random(12)
    for _ in range(200):
        desired = random_state(CODEC.traits, rng)
        previous = rng.choice([None, random_state(CODEC.traits, rng)])
        [message] = CODEC.encode(desired, previous)
        assert CODEC.demodulate(CODEC.modulate(message)) == [message]
        decoded = CODEC.decode(message)
        assert {k: decoded[k] for k in expected_fields(desired)} == expected_fields(desired)


def test_demodulate_tolerates_15_percent_jitter() -> None:
    rng = random.Random(17)
    for _ in range(100):
        message = CODEC.encode(random_state(CODEC.traits, rng), rng.choice([None, COOL_16]))[0]
        noisy = IrSignal(jittered(CODEC.modulate(message).pulses, rng, 0.15))
        assert CODEC.demodulate(noisy) == [message]


def test_a_capture_without_the_lead_in_still_decodes() -> None:
    pulses = CODEC.modulate(COOL_16_AUTO).pulses
    assert CODEC.demodulate(IrSignal(pulses[2:])) == [COOL_16_AUTO]


def test_several_messages_in_one_signal() -> None:
    signal = CODEC.modulate(COOL_16_AUTO) + CODEC.modulate(EXTENDED_COOL_25_LOW)
    assert CODEC.demodulate(signal) == [COOL_16_AUTO, EXTENDED_COOL_25_LOW]


def test_through_a_broadlink_packet() -> None:
    assert DRIVER.create_ir is not None
    packets = DRIVER.create_ir(NoOptions()).packets(COOL_16, None)
    received = [m for p in packets for m in CODEC.demodulate(broadlink_to_signal(p))]
    assert received == CODEC.encode(COOL_16, None)


# --- stateful behaviour (ir.md §B12) ------------------------------------------------------


def test_power_change_takes_the_extended_message() -> None:
    off = COOL_16.replace(power=False)
    assert len(CODEC.encode(COOL_16, off)[0]) == 21  # off -> on
    assert len(CODEC.encode(COOL_16, None)[0]) == 21  # unknown -> on
    assert len(CODEC.encode(COOL_16, COOL_16)[0]) == 14  # stays on
    assert len(CODEC.encode(COOL_16.replace(target_temperature=20.0), COOL_16)[0]) == 14


def test_off_is_the_extended_message_with_both_power_fields_clear() -> None:
    for previous in (None, COOL_16, COOL_16.replace(power=False)):
        [message] = CODEC.encode(COOL_16.replace(power=False), previous)
        assert len(message) == 21
        assert message[6] & 0x30 == 0
        assert message[20] & 0x30 == 0
        assert CODEC.decode(message)["power"] is False


def test_same_desired_twice_is_identical_and_sends_no_toggles() -> None:
    first = CODEC.encode(COOL_16, COOL_16)
    assert CODEC.encode(COOL_16, COOL_16) == first
    decoded = CODEC.decode(first[0])
    assert (decoded["clean"], decoded["beep"]) == (False, False)  # the toggle bits stay clear


def test_swing_is_part_of_the_state() -> None:
    both = COOL_16.replace(swing_mode="auto", swing_horizontal_mode="auto")
    [message] = CODEC.encode(both, COOL_16)
    assert message[9] >> 4 & 0x07 == 4
    vertical = COOL_16.replace(swing_mode="auto")
    assert CODEC.encode(vertical, COOL_16)[0][9] >> 4 & 0x07 == 2


# --- rejection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        (690, 17844),  # a lead-in and nothing else
        (690, 17844, 3086, 8864, 586, 436),
        tuple(random.Random(5).randint(100, 5000) for _ in range(230)),
    ],
)
def test_garbage_pulses_are_protocol_errors(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(pulses))


def test_other_brands_frames_are_rejected() -> None:
    from klima_drivers.fujitsu_ir.codec import CODEC as FUJITSU
    from klima_drivers.lg_ir.codec import CODEC as LG
    from klima_drivers.panasonic_ir.codec import CODEC as PANASONIC

    rng = random.Random(1)
    for other in (FUJITSU, LG, PANASONIC):
        message = other.encode(random_state(other.traits, rng, power=True), None)[0]
        with pytest.raises(ProtocolError):
            CODEC.demodulate(other.modulate(message))


@pytest.mark.parametrize("message", [b"", bytes(14), bytes(21), COOL_16_AUTO[:7]])
def test_garbage_bytes_are_protocol_errors(message: bytes) -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(message)


def test_driver_declaration() -> None:
    assert DRIVER.check() == []
    assert DRIVER.name == "samsung_ir"
    assert DRIVER.ir_codec is CODEC
