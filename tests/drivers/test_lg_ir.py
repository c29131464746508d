"""LG AC IR codec, LG and LG2 timings (ir.md §B11, timings §B1, stateful rules §B12).

Vectors are the words published in ir.md §B11, from IRremoteESP8266 v2.9.0
test/ir_LG_test.cpp TestIRLgAcClass.KnownExamples (issue #1008, GE6711AR2853M), and the
special codes ir.md §B11 lists (src/ir_LG.h constants).
"""

from __future__ import annotations

import random

import pytest

from klima.errors import CommandError, ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.ir_common.samples import random_state
from klima_drivers.ir_common.sections import jittered
from klima_drivers.lg_ir import DRIVER, LgOptions, codes
from klima_drivers.lg_ir.codec import CODEC, MODEL_PROTOCOL, LgCodec, Model
from klima_drivers.lg_ir.codes import LgState

GE = LgCodec("GE6711AR2853M")
AKB_SWING = LgCodec("AKB74955603")
AKB_VANES = LgCodec("AKB73757604")

# (word, the fields of the word, the state that produces it while the unit stays on)
KNOWN_EXAMPLES = [
    # ir.md §B11, ir_LG_test.cpp TestIRLgAcClass.KnownExamples: Heat, 16C, Fan Auto
    (0x880C152, LgState(power=True, turn_on=False, mode=4, temperature=16, fan=5), Mode.HEAT),
    # ir.md §B11, KnownExamples: Heat, 30C, Fan Auto
    (0x880CF50, LgState(power=True, turn_on=False, mode=4, temperature=30, fan=5), Mode.HEAT),
    # ir.md §B11, KnownExamples: Cool, 22C, Fan Medium
    (0x8808721, LgState(power=True, turn_on=False, mode=0, temperature=22, fan=2), Mode.COOL),
    # ir.md §B11, KnownExamples: Dry, 21C, Fan 0 (Quiet)
    (0x880960F, LgState(power=True, turn_on=False, mode=1, temperature=21, fan=0), Mode.DRY),
]
FAN_NAME = {5: "auto", 2: "medium", 0: "min"}


@pytest.mark.parametrize(("word", "fields", "mode"), KNOWN_EXAMPLES)
def test_known_examples_from_fields_state_and_back(word: int, fields: LgState, mode: Mode) -> None:
    # source: ir.md §B11, ir_LG_test.cpp TestIRLgAcClass.KnownExamples (issue #1008)
    assert fields.to_word() == word
    assert LgState.from_word(word) == fields
    desired = UnitState(
        power=True,
        mode=mode,
        target_temperature=float(fields.temperature),
        fan_mode=FAN_NAME[fields.fan],
    )
    # The remote's words were sent while the unit ran: bit 15 set, no switch-on.
    assert GE.encode(desired, previous=desired) == [codes.to_message(word)]
    assert GE.decode(codes.to_message(word)) == {
        "power": True,
        "mode": mode.value,
        "target_temperature": float(fields.temperature),
        "fan_mode": FAN_NAME[fields.fan],
        "turn_on": False,
    }


@pytest.mark.parametrize(("word", "fields", "mode"), KNOWN_EXAMPLES)
def test_checksum_is_the_nibble_sum(word: int, fields: LgState, mode: Mode) -> None:
    # ir.md §B11: checksum = sum of the six nibbles in bits 4-27, mod 16
    assert sum(word >> shift & 0xF for shift in range(4, 28, 4)) % 16 == word & 0xF
    with pytest.raises(ProtocolError, match="checksum"):
        GE.decode(codes.to_message(word ^ 0x1))


@pytest.mark.parametrize(
    ("word", "meaning"),
    [
        # source: ir.md §B11 special codes (src/ir_LG.h)
        (0x88C0051, {"power": False}),
        (0x88C00A6, {"toggle": "light"}),
        (0x8810001, {"toggle": "swing_mode"}),
        (0x8813048, {"swing_mode": "lowest"}),
        (0x881309D, {"swing_mode": "highest"}),
        (0x8813149, {"swing_mode": "auto"}),
        (0x881315A, {"swing_mode": "off"}),
        (0x881316B, {"swing_horizontal_mode": "auto"}),
        (0x881317C, {"swing_horizontal_mode": "off"}),
    ],
)
def test_special_codes(word: int, meaning: dict[str, object]) -> None:
    assert codes.checksum(word) == word & 0xF
    assert GE.decode(codes.to_message(word)) == meaning


def test_vane_codes_are_based_on_0x8813200() -> None:
    # ir.md §B11: per-vane codes (AKB73757604) based on 0x8813200
    word = codes.vane_code(0, "highest")
    assert word >> 4 == 0x881321
    assert codes.checksum(word) == word & 0xF
    assert GE.decode(codes.to_message(word)) == {"swing_mode": "highest", "vane": 0}
    assert GE.decode(codes.to_message(codes.vane_code(3, "lowest"))) == {
        "swing_mode": "lowest",
        "vane": 3,
    }


# --- pulses ------------------------------------------------------------------------------


def test_lg_timings_and_minimum_message_length() -> None:
    # ir.md §B1 LG: 8500/4250 header, 550 mark, 1600/550 spaces, 550 footer, gap >= 39750,
    # whole message >= 108050; sent once
    word = 0x880C152
    signal = GE.modulate(codes.to_message(word))
    pulses = signal.pulses
    assert signal.carrier_hz == 38_000
    assert len(pulses) == 2 + 28 * 2 + 2
    assert pulses[:2] == (8500, 4250)
    assert set(pulses[2:-2:2]) == {550}
    assert set(pulses[3:-2:2]) == {1600, 550}
    assert pulses[-2] == 550
    assert pulses[-1] >= 39_750
    assert sum(pulses) == 108_050  # a short word: the gap grows to the message length
    # MSB first over 28 bits: 0x880C152 starts 1000 1000 …
    bits = [1 if space == 1600 else 0 for space in pulses[3:-2:2]]
    assert int("".join(map(str, bits)), 2) == word


def test_every_word_lasts_the_minimum_message_length() -> None:
    # A 28-bit word never takes more than ~68 ms, so the 108050 µs length always rules and the
    # gap stays above its 39750 µs minimum, for both timings.
    rng = random.Random(20)
    for codec in (GE, CODEC):
        for _ in range(50):
            word = codes.with_checksum(0x8800000 | rng.getrandbits(16) << 4)
            pulses = codec.modulate(codes.to_message(word)).pulses
            assert sum(pulses) == 108_050
            assert pulses[-1] >= 39_750


def test_lg2_timings() -> None:
    # ir.md §B1 LG2: 3200/9900 header, 480 mark, 1600/550 spaces, 480 footer, gap >= 39750
    codec = LgCodec("AKB75215403")
    assert codec.protocol == "LG2"
    pulses = codec.modulate(codes.to_message(0x8808721)).pulses
    assert pulses[:2] == (3200, 9900)
    assert set(pulses[2:-1:2]) == {480}
    assert set(pulses[3:-2:2]) == {1600, 550}
    assert pulses[-1] >= 39_750
    assert sum(pulses) >= 108_050


@pytest.mark.parametrize("model", list(MODEL_PROTOCOL))
def test_each_codec_demodulates_both_timings(model: Model) -> None:
    codec = LgCodec(model)
    message = codes.to_message(0x8808721)
    for sender in (GE, CODEC):
        assert codec.demodulate(sender.modulate(message)) == [message]


@pytest.mark.parametrize("model", list(MODEL_PROTOCOL))
def test_random_states_round_trip_through_pulses(model: Model) -> None:
    codec = LgCodec(model)
    rng = random.Random(14)
    for _ in range(100):
        desired = random_state(codec.traits, rng)
        previous = rng.choice([None, random_state(codec.traits, rng)])
        messages = codec.encode(desired, previous)
        for message in messages:
            assert codec.demodulate(codec.modulate(message)) == [message]
        decoded = codec.decode(messages[0])
        if not desired.power:
            assert messages == [codes.to_message(codes.OFF)]
            continue
        assert (decoded["mode"], decoded["target_temperature"], decoded["fan_mode"]) == (
            desired.mode.value,
            desired.target_temperature,
            desired.fan_mode,
        )
        for message in messages[1:]:
            extra = codec.decode(message)
            assert extra.get("swing_mode", desired.swing_mode) == desired.swing_mode
            assert extra.get("swing_horizontal_mode", desired.swing_horizontal_mode) == (
                desired.swing_horizontal_mode
            )


def test_demodulate_tolerates_15_percent_jitter() -> None:
    rng = random.Random(19)
    for codec in (GE, AKB_SWING):
        for _ in range(100):
            for message in codec.encode(random_state(codec.traits, rng), None):
                noisy = IrSignal(jittered(codec.modulate(message).pulses, rng, 0.15))
                assert codec.demodulate(noisy) == [message]


def test_through_a_broadlink_packet() -> None:
    assert DRIVER.create_ir is not None
    encoder = DRIVER.create_ir(LgOptions(model="AKB74955603", display_light=False))
    desired = UnitState(power=True, mode=Mode.COOL, target_temperature=23.0, swing_mode="high")
    packets = encoder.packets(desired, None)
    received = [m for p in packets for m in CODEC.demodulate(broadlink_to_signal(p))]
    assert received == [*AKB_SWING.encode(desired, None), codes.to_message(codes.LIGHT_TOGGLE)]


# --- stateful behaviour (ir.md §B12) ------------------------------------------------------

COOL_22 = UnitState(
    power=True, mode=Mode.COOL, target_temperature=22.0, fan_mode="auto", swing_mode="off"
)


def test_off_is_the_dedicated_word() -> None:
    # ir.md §B11: off is kLgAcOffCommand
    for previous in (None, COOL_22, COOL_22.replace(power=False)):
        assert GE.encode(COOL_22.replace(power=False), previous) == [bytes.fromhex("088C0051")]


def test_switch_on_word_clears_bit_15() -> None:
    off = COOL_22.replace(power=False)
    on_word = codes.to_word(GE.encode(COOL_22, off)[0])
    stay_word = codes.to_word(GE.encode(COOL_22, COOL_22)[0])
    assert on_word >> 15 & 1 == 0
    assert stay_word >> 15 & 1 == 1
    assert GE.decode(codes.to_message(on_word))["turn_on"] is True
    assert codes.to_word(GE.encode(COOL_22, None)[0]) == on_word


def test_swing_words_follow_the_state_when_the_setting_changes() -> None:
    changed = COOL_22.replace(swing_mode="high")
    messages = AKB_SWING.encode(changed, COOL_22)
    assert [codes.to_word(m) for m in messages[1:]] == [codes.SWING_V["high"]]
    assert len(AKB_SWING.encode(changed, changed)) == 1  # same desired twice: state word only
    assert AKB_SWING.encode(changed, changed) == AKB_SWING.encode(changed, changed)
    # Unknown previous, or switching on: the (absolute) position goes out again.
    assert len(AKB_SWING.encode(changed, None)) == 2
    assert len(AKB_SWING.encode(changed, changed.replace(power=False))) == 2
    # Never while off.
    assert AKB_SWING.encode(changed.replace(power=False), COOL_22) == [codes.to_message(codes.OFF)]


def test_vane_model_sends_every_vane_and_horizontal_swing() -> None:
    desired = COOL_22.replace(swing_mode="middle", swing_horizontal_mode="auto")
    previous = COOL_22.replace(swing_mode="high", swing_horizontal_mode="off")
    words = [codes.to_word(m) for m in AKB_VANES.encode(desired, previous)]
    assert words[1:] == [
        *(codes.vane_code(vane, "middle") for vane in range(4)),
        codes.SWING_H["auto"],
    ]


def test_light_toggle_comes_last_and_only_when_the_light_is_wanted_off() -> None:
    dark = LgCodec("AKB74955603", display_light=False)
    changed = COOL_22.replace(swing_mode="auto")
    words = [codes.to_word(m) for m in dark.encode(changed, COOL_22)]
    assert words[-1] == codes.LIGHT_TOGGLE
    assert words[1] == codes.SWING_V["auto"]
    # Every state word relights the display, so the toggle goes with every state word.
    assert [codes.to_word(m) for m in dark.encode(changed, changed)][-1] == codes.LIGHT_TOGGLE
    assert codes.LIGHT_TOGGLE not in [codes.to_word(m) for m in AKB_SWING.encode(changed, None)]
    assert dark.encode(changed.replace(power=False), changed) == [codes.to_message(codes.OFF)]


def test_fan_levels_per_model() -> None:
    # ir.md §B11: High -> 10 on AKB74955603 only (low is sent as 9 there); 4 is max
    high = COOL_22.replace(fan_mode="high")
    assert LgState.from_word(codes.to_word(AKB_SWING.encode(high, None)[0])).fan == 10
    low = COOL_22.replace(fan_mode="low")
    assert LgState.from_word(codes.to_word(AKB_SWING.encode(low, None)[0])).fan == 9
    assert LgState.from_word(codes.to_word(GE.encode(low, None)[0])).fan == 1
    with pytest.raises(CommandError):
        GE.encode(high, None)
    assert "high" not in GE.traits.fan_modes


# --- rejection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        (9000, 4500, 560, 560),  # NEC header
        (8500, 4250, 550, 550),
        tuple(random.Random(7).randint(100, 5000) for _ in range(60)),
    ],
)
def test_garbage_pulses_are_protocol_errors(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        GE.demodulate(IrSignal(pulses))


def test_other_brands_frames_are_rejected() -> None:
    from klima_drivers.fujitsu_ir.codec import CODEC as FUJITSU
    from klima_drivers.samsung_ir.codec import CODEC as SAMSUNG
    from klima_drivers.toshiba_ir.codec import CODEC as TOSHIBA

    for other in (FUJITSU, SAMSUNG, TOSHIBA):
        signal = other.modulate(other.encode(COOL_22, None)[0])
        with pytest.raises(ProtocolError):
            GE.demodulate(signal)


@pytest.mark.parametrize(
    "message",
    [
        b"",
        bytes(4),
        bytes.fromhex("0770C152"),  # wrong signature
        bytes.fromhex("18 80 C1 52"),  # more than 28 bits
        codes.to_message(codes.with_checksum(0x8811230)),  # an unknown special code
        codes.to_message(codes.with_checksum(0x8848720)),  # power field 0b01
    ],
)
def test_garbage_bytes_are_protocol_errors(message: bytes) -> None:
    with pytest.raises(ProtocolError):
        GE.decode(message)


def test_driver_declaration() -> None:
    assert DRIVER.check() == []
    assert DRIVER.name == "lg_ir"
    assert DRIVER.ir_codec is CODEC
    assert CODEC.protocol == "LG2"
    assert LgOptions().model == "AKB75215403"
