"""COOLIX (24-bit) codec: ir.md §B5 vectors, §B1 framing, off frame and toggles (§B12)."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from klima.errors import CommandError, ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.coolix_ir import DRIVER
from klima_drivers.coolix_ir.codec import (
    CODEC,
    FAN_AUTO0,
    MODE_AUTO,
    MODE_COOL,
    MODE_DRY,
    MODE_HEAT,
    OFF,
    SPECIALS,
    TEMP_CODES,
    TRAITS,
    CoolixFrame,
)
from klima_drivers.ir_common.sections import jittered
from klima_drivers.ir_common.transcript import from_transcript
from klima_drivers.mitsubishi_ir.codec import CODEC as MITSUBISHI


def value(number: int) -> bytes:
    return number.to_bytes(3, "big")


# (id, value, native fields, Klima state that encodes to it, decoded fields)
VECTORS: list[tuple[str, int, CoolixFrame, UnitState, dict[str, Any]]] = [
    (
        # ir.md §B5, IRremoteESP8266 test/ir_Coolix_test.cpp
        # TestCoolixACClass.Issue624HandleSpecialStatesBetter (library default)
        "library-default-auto-25",
        0xB21FC8,
        CoolixFrame(mode=MODE_AUTO, temperature=25, fan=FAN_AUTO0),
        UnitState(power=True, mode=Mode.HEAT_COOL, target_temperature=25.0, fan_mode="auto"),
        {"power": True, "mode": "heat_cool", "target_temperature": 25.0, "fan_mode": "auto",
         "zone_follow": False},
    ),
    (
        # ir.md §B5, same test
        "cool-24-fan-auto",
        0xB2BF40,
        CoolixFrame(mode=MODE_COOL, temperature=24, fan=0b101),
        UnitState(power=True, mode=Mode.COOL, target_temperature=24.0, fan_mode="auto"),
        {"power": True, "mode": "cool", "target_temperature": 24.0, "fan_mode": "auto"},
    ),
    (
        # ir.md §B5, test/ir_Coolix_test.cpp TestCoolixACClass.PowerStateWithSetRaw
        "heat-25-fan-auto",
        0xB2BFCC,
        CoolixFrame(mode=MODE_HEAT, temperature=25, fan=0b101),
        UnitState(power=True, mode=Mode.HEAT, target_temperature=25.0, fan_mode="auto"),
        {"power": True, "mode": "heat", "target_temperature": 25.0, "fan_mode": "auto"},
    ),
    (
        # ir.md §B5 mode bits: "Fan mode is dry with temp code 1110, e.g. 0xB2BFE4"
        # (IRremoteESP8266 src/ir_Coolix.h kCoolixCmdFan)
        "fan-only",
        0xB2BFE4,
        CoolixFrame(mode=MODE_DRY, fan_only=True, fan=0b101),
        UnitState(power=True, mode=Mode.FAN_ONLY, target_temperature=22.0, fan_mode="auto"),
        {"power": True, "mode": "fan_only", "fan_mode": "auto"},
    ),
]  # fmt: skip
IDS = [v[0] for v in VECTORS]

# ir.md §B5 fixed frames (IRremoteESP8266 src/ir_Coolix.h) and what each decodes to.
FIXED_FRAMES = [
    (0xB27BE0, "off", {"power": False}),
    (0xB26BE0, "swing", {"toggle": "swing_mode"}),
    (0xB20FE0, "swing_step", {"command": "swing_step"}),
    (0xB2E003, "sleep", {"toggle": "sleep"}),
    (0xB5F5A2, "turbo", {"toggle": "turbo"}),
    (0xB5F5A5, "light", {"toggle": "light"}),
    (0xB5F5AA, "clean", {"toggle": "clean"}),
]

# IRremoteESP8266 test/ir_Coolix_test.cpp TestSendCoolix.SendDataOnly, sendCOOLIX(0xAA55AA).
AA55AA_COPY = """
    m4692s4416
    m552s1656m552s552m552s1656m552s552m552s1656m552s552m552s1656m552s552
    m552s552m552s1656m552s552m552s1656m552s552m552s1656m552s552m552s1656
    m552s552m552s1656m552s552m552s1656m552s552m552s1656m552s552m552s1656
    m552s1656m552s552m552s1656m552s552m552s1656m552s552m552s1656m552s552
    m552s1656m552s552m552s1656m552s552m552s1656m552s552m552s1656m552s552
    m552s552m552s1656m552s552m552s1656m552s552m552s1656m552s552m552s1656
"""
AA55AA_TRANSCRIPT = "f38000d50" + AA55AA_COPY + "m552s5244" + AA55AA_COPY + "m552s105244"

ON = UnitState(
    power=True, mode=Mode.COOL, target_temperature=24.0, fan_mode="auto", swing_mode="off"
)


@pytest.mark.parametrize(("name", "number", "frame", "state", "fields"), VECTORS, ids=IDS)
def test_vector_decodes_to_its_printed_fields(
    name: str, number: int, frame: CoolixFrame, state: UnitState, fields: dict[str, Any]
) -> None:
    decoded = CODEC.decode(value(number))
    assert {k: decoded.get(k) for k in fields} == fields
    if state.mode is Mode.FAN_ONLY:
        assert "target_temperature" not in decoded


@pytest.mark.parametrize(("name", "number", "frame", "state", "fields"), VECTORS, ids=IDS)
def test_vector_encodes_byte_exact_from_native_fields_and_from_the_unit_state(
    name: str, number: int, frame: CoolixFrame, state: UnitState, fields: dict[str, Any]
) -> None:
    assert frame.to_value() == number
    assert CoolixFrame.from_value(number) == frame
    assert CODEC.encode(state, None) == [value(number)]


@pytest.mark.parametrize(
    ("number", "name", "fields"), FIXED_FRAMES, ids=[f[1] for f in FIXED_FRAMES]
)
def test_fixed_frames_by_name_and_their_meaning(
    number: int, name: str, fields: dict[str, Any]
) -> None:
    assert CODEC.special(name) == value(number)
    assert CODEC.decode(value(number)) == fields
    assert CODEC.demodulate(CODEC.modulate(value(number))) == [value(number)]


def test_every_setpoint_has_its_gray_code() -> None:
    # ir.md §B5 temp code column, 17 °C … 30 °C.
    assert [f"{c:04b}" for c in TEMP_CODES] == [
        "0000", "0001", "0011", "0010", "0110", "0111", "0101",
        "0100", "1100", "1101", "1001", "1000", "1010", "1011",
    ]  # fmt: skip
    for celsius in range(17, 31):
        state = dataclasses.replace(ON, target_temperature=float(celsius))
        [message] = CODEC.encode(state, None)
        assert message[2] >> 4 == TEMP_CODES[celsius - 17]
        assert CODEC.decode(message)["target_temperature"] == celsius


def test_each_byte_goes_out_followed_by_its_complement() -> None:
    # ir.md §B5: "0xB2BF40 goes out as B2 4D BF 40 40 BF".
    pulses = CODEC.modulate(value(0xB2BF40)).pulses
    bits = "".join("1" if space == 1656 else "0" for space in pulses[3 : 3 + 96 : 2])
    assert bytes(int(bits[i : i + 8], 2) for i in range(0, 48, 8)) == bytes.fromhex("B24DBF4040BF")


def test_modulation_matches_the_library_transcript() -> None:
    assert CODEC.modulate(value(0xAA55AA)) == from_transcript(AA55AA_TRANSCRIPT)


def test_timings_two_copies_and_the_long_final_pause() -> None:
    signal = CODEC.modulate(value(0xB21FC8))
    pulses = signal.pulses
    assert signal.carrier_hz == 38_000
    copy = 2 + 2 * 48 + 2
    assert len(pulses) == 2 * copy
    assert pulses[:2] == pulses[copy : copy + 2] == (4692, 4416)
    assert pulses[copy - 2 : copy] == (552, 5244)
    assert pulses[-2:] == (552, 5244 + 100_000)
    assert set(pulses[2 : copy - 2 : 2]) == {552}
    assert set(pulses[3 : copy - 2 : 2]) == {552, 1656}


def test_complements_that_disagree_are_refused() -> None:
    pulses = list(CODEC.modulate(value(0xB2BF40)).pulses)
    pulses[3 + 2 * 8] = 552 if pulses[3 + 2 * 8] == 1656 else 1656  # first bit of ~B2
    with pytest.raises(ProtocolError, match="complement"):
        CODEC.demodulate(IrSignal(tuple(pulses)))


# --- stateful behaviour (ir.md §B12: off, swing, turbo, LED, clean, sleep are one-shot) ---


def test_off_is_the_fixed_off_frame_alone_whatever_else_changes() -> None:
    off = dataclasses.replace(ON, power=False, swing_mode="auto", target_temperature=19.0)
    assert CODEC.encode(off, ON) == [value(OFF)]
    assert CODEC.encode(off, off) == [value(OFF)]  # staying off: no toggle, same frame
    assert CODEC.encode(off, None) == [value(OFF)]


def test_unknown_previous_sends_the_state_and_no_toggle() -> None:
    assert CODEC.encode(dataclasses.replace(ON, swing_mode="auto"), None) == CODEC.encode(ON, None)
    assert len(CODEC.encode(ON, None)) == 1


def test_sending_the_same_desired_state_twice_never_toggles() -> None:
    swinging = dataclasses.replace(ON, swing_mode="auto")
    first = CODEC.encode(swinging, ON)
    assert first == [CODEC.encode(swinging, None)[0], value(SPECIALS["swing"])]
    assert CODEC.encode(swinging, swinging) == first[:1]
    assert CODEC.encode(swinging, swinging) == CODEC.encode(swinging, swinging)


def test_a_swing_change_follows_the_state_frame_in_both_directions() -> None:
    swinging = dataclasses.replace(ON, swing_mode="auto")
    [_, toggle] = CODEC.encode(ON, swinging)
    assert CODEC.decode(toggle) == {"toggle": "swing_mode"}


def test_switching_on_with_a_changed_swing_sends_state_then_toggle() -> None:
    was_off = dataclasses.replace(ON, power=False)
    assert CODEC.encode(ON, was_off) == CODEC.encode(ON, None)  # off -> on: the state frame
    [state, toggle] = CODEC.encode(dataclasses.replace(ON, swing_mode="auto"), was_off)
    assert CODEC.decode(state)["power"] is True
    assert toggle == value(SPECIALS["swing"])


def test_an_unknown_previous_swing_is_not_toggled() -> None:
    unknown = dataclasses.replace(ON, swing_mode=None)
    assert CODEC.encode(dataclasses.replace(ON, swing_mode="auto"), unknown) == CODEC.encode(
        ON, None
    )


def test_a_state_and_its_toggle_demodulate_as_two_messages() -> None:
    messages = CODEC.encode(dataclasses.replace(ON, swing_mode="auto"), ON)
    signal = CODEC.modulate(messages[0]) + CODEC.modulate(messages[1])
    assert CODEC.demodulate(signal) == messages
    # Two toggles in a row (four frames on the air) stay two toggles.
    toggle = CODEC.modulate(value(SPECIALS["swing"]))
    assert CODEC.demodulate(toggle + toggle) == [value(SPECIALS["swing"])] * 2


def random_state(rng: random.Random) -> UnitState:
    return UnitState(
        power=rng.random() < 0.8,
        mode=rng.choice(TRAITS.modes),
        target_temperature=float(rng.randrange(17, 31)),
        fan_mode=rng.choice(TRAITS.fan_modes),
        swing_mode=rng.choice(TRAITS.swing_modes),
    )


def expected_fields(state: UnitState) -> dict[str, Any]:
    if not state.power:
        return {"power": False}
    fields: dict[str, Any] = {"power": True, "mode": state.mode.value, "fan_mode": state.fan_mode}
    if state.mode is not Mode.FAN_ONLY:
        fields["target_temperature"] = state.target_temperature
    return fields


def test_random_states_survive_encode_modulate_demodulate_decode() -> None:
    rng = random.Random(24)
    previous: UnitState | None = None
    for _ in range(300):
        desired = random_state(rng)
        messages = CODEC.encode(desired, previous)
        signal = IrSignal(sum((CODEC.modulate(m).pulses for m in messages), ()))
        assert CODEC.demodulate(signal) == messages
        decoded = [CODEC.decode(m) for m in messages]
        assert decoded[0] == decoded[0] | expected_fields(desired)
        toggles = decoded[1:]
        swing_changed = (
            previous is not None and desired.power and previous.swing_mode != desired.swing_mode
        )
        assert toggles == ([{"toggle": "swing_mode"}] if swing_changed else [])
        previous = desired


def test_demodulate_tolerates_15_percent_jitter() -> None:
    rng = random.Random(4692)
    for _ in range(100):
        first, second = (CODEC.encode(random_state(rng), None)[0] for _ in range(2))
        signal = CODEC.modulate(first) + CODEC.modulate(second)
        assert CODEC.demodulate(IrSignal(jittered(signal.pulses, rng, 0.15))) == [first, second]


def test_unsupported_settings_are_refused() -> None:
    with pytest.raises(CommandError) as excinfo:
        CODEC.encode(dataclasses.replace(ON, fan_mode="max"), None)
    assert excinfo.value.field == "fan_mode"
    with pytest.raises(ValueError, match="unknown Coolix special"):
        CODEC.special("defrost")
    with pytest.raises(CommandError) as excinfo:  # "off" is never an operating mode
        CODEC.encode(dataclasses.replace(ON, mode=Mode.OFF), None)
    assert excinfo.value.field == "mode"
    assert excinfo.value.allowed is not None and "fan_only" in excinfo.value.allowed


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        CODEC.modulate(value(0xB2BF40)).pulses[:50],
        tuple(random.Random(10).randrange(300, 5000) for _ in range(200)),
        MITSUBISHI.modulate(MITSUBISHI.encode(ON, None)[0]).pulses,
    ],
    ids=["empty", "truncated", "noise", "mitsubishi-frame"],
)
def test_garbage_and_other_protocols_are_refused(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(pulses))


@pytest.mark.parametrize("number", [0xA2BF40, 0xB3BF40, 0xB2BFF0, 0xB2BF41, 0xB5F5A7])
def test_values_that_are_neither_state_nor_known_command_are_refused(number: int) -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(value(number))


def test_traits_and_driver_declaration() -> None:
    assert TRAITS.fan_modes == ("auto", "low", "medium", "high")
    assert TRAITS.swing_modes == ("off", "auto")
    assert TRAITS.swing_horizontal_modes == ()
    assert (TRAITS.min_temp, TRAITS.max_temp, TRAITS.temp_step) == (17.0, 30.0, 1.0)
    assert DRIVER.check() == []
    assert DRIVER.ir_codec is CODEC
    assert CODEC.protocol == "COOLIX"


def test_driver_encoder_makes_broadlink_packets_that_decode_back() -> None:
    assert DRIVER.create_ir is not None
    encoder = DRIVER.create_ir(DRIVER.options_model())
    packets = encoder.packets(dataclasses.replace(ON, swing_mode="auto"), ON)
    assert len(packets) == 2
    decoded = [CODEC.decode(m) for p in packets for m in CODEC.demodulate(broadlink_to_signal(p))]
    assert decoded[0]["target_temperature"] == 24.0
    assert decoded[1] == {"toggle": "swing_mode"}
