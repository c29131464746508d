"""Shared IR building blocks: pulse-distance sections, frame sequences, vocabulary, transcripts.

The brand codecs rely on these; the behaviours tested here are the ones they depend on (e.g.
Gree's 35-bit block with its 3-bit footer, Daikin's 5-bit preamble without a header).
"""

from __future__ import annotations

import pytest

from klima.errors import CommandError, ProtocolError
from klima.ir import IrSignal
from klima.state import UnitState
from klima_drivers.ir_common.pulse_distance import (
    Timing,
    decode_section,
    encode_bits,
    encode_section,
)
from klima_drivers.ir_common.sequence import parse_frames, repeated
from klima_drivers.ir_common.transcript import from_transcript, to_transcript
from klima_drivers.ir_common.vocabulary import NameMap, toggle_due

LSB = Timing(9000, 4500, 620, 1600, 540, 620, 19980)
HEADERLESS = Timing(0, 0, 428, 1280, 428, 428, 29428, tolerance=0.35)
MSB = Timing(4480, 4480, 560, 1680, 560, 560, 5600, lsb_first=False)


# --- pulse_distance: the behaviours the brand codecs rely on ---


def test_an_lsb_first_section_of_odd_bit_count_packs_the_rest_into_a_last_byte() -> None:
    # Gree block 1: four bytes then the 3-bit footer 0,1,0 before the footer mark.
    pulses = [LSB.header_mark, LSB.header_space]
    for byte in b"\x19\x0a\x60\x50":
        pulses += encode_bits(byte, 8, LSB)
    pulses += [*encode_bits(0b010, 3, LSB), LSB.footer_mark, LSB.gap]
    data, after = decode_section(pulses, 0, LSB, nbits=35)
    assert data == b"\x19\x0a\x60\x50\x02"
    assert after == len(pulses)


def test_a_headerless_section_of_a_few_bits() -> None:
    # Daikin's preamble: five zero bits, no header, then footer and gap.
    pulses = [*encode_bits(0, 5, HEADERLESS), HEADERLESS.footer_mark, HEADERLESS.gap]
    assert pulses == [428] * 11 + [29428]
    assert decode_section(pulses, 0, HEADERLESS, nbits=5) == (b"\x00", 12)


def test_msb_first_sections_send_the_integer_from_its_top_bit() -> None:
    pulses = encode_section(b"\xa1\x88", MSB)
    spaces = pulses[3:-2:2]
    assert "".join("1" if s == 1680 else "0" for s in spaces) == f"{0xA188:016b}"
    assert decode_section(pulses, 0, MSB, nbytes=2) == (b"\xa1\x88", len(pulses))


# --- sequence: repeats and captures of several frames ---


def test_repeated_sends_copies_and_stretches_only_the_last_gap() -> None:
    frame = [100, 200, 300, 400]
    assert repeated(frame, 1) == frame
    assert repeated(frame, 2, final_gap_extra=1000) == [100, 200, 300, 400, 100, 200, 300, 1400]
    with pytest.raises(ValueError, match="at least once"):
        repeated(frame, 0)
    with pytest.raises(ValueError, match="gap"):
        repeated(frame[:3], 2)


def test_parse_frames_walks_back_to_back_frames_and_refuses_leftovers() -> None:
    first, second = encode_section(b"\x01\x02", MSB), encode_section(b"\xfe\xff", MSB)

    def parse(pulses: tuple[int, ...], index: int) -> tuple[bytes, int]:
        return decode_section(pulses, index, MSB, nbytes=2)

    assert parse_frames(tuple(first + second), parse) == [b"\x01\x02", b"\xfe\xff"]
    with pytest.raises(ProtocolError, match="empty"):
        parse_frames((), parse)
    with pytest.raises(ProtocolError):
        parse_frames((*first, 560, 560), parse)  # a stray mark/space after a frame


def test_parse_frames_refuses_a_parser_that_does_not_advance() -> None:
    with pytest.raises(ProtocolError, match="no progress"):
        parse_frames((1, 2), lambda pulses, index: (b"", index))


# --- vocabulary ---


def test_name_map_goes_both_ways_with_aliases_only_for_encoding() -> None:
    wide = NameMap("swing_horizontal_mode", {"middle": 3, "wide": 6}, aliases={"off": 3})
    assert wide.names == ("middle", "wide")
    assert (wide.code("wide"), wide.code("off")) == (6, 3)
    assert (wide.name(3), wide.name(9)) == ("middle", None)
    with pytest.raises(CommandError) as excinfo:
        wide.code("left")
    assert excinfo.value.field == "swing_horizontal_mode"
    assert excinfo.value.allowed == ["middle", "wide"]


def test_name_map_refuses_names_outside_the_vocabulary_and_shared_codes() -> None:
    with pytest.raises(ValueError, match="vocabulary"):
        NameMap("fan_mode", {"turbo": 7})
    with pytest.raises(ValueError, match="share a code"):
        NameMap("fan_mode", {"low": 1, "min": 1})


@pytest.mark.parametrize(
    ("previous", "desired", "due"),
    [
        (None, UnitState(power=True, swing_mode="auto"), False),
        (UnitState(power=True, swing_mode="off"), UnitState(power=True, swing_mode="auto"), True),
        (UnitState(power=True, swing_mode="auto"), UnitState(power=True, swing_mode="auto"), False),
        (UnitState(power=False, swing_mode="off"), UnitState(power=True, swing_mode="auto"), True),
        (UnitState(power=True, swing_mode="off"), UnitState(power=False, swing_mode="auto"), False),
        (UnitState(power=True, swing_mode=None), UnitState(power=True, swing_mode="auto"), False),
        (UnitState(power=True, swing_mode="off"), UnitState(power=True, swing_mode=None), False),
    ],
    ids=["unknown-previous", "changed", "same", "switching-on", "switching-off",
         "previous-value-unknown", "desired-value-unknown"],
)  # fmt: skip
def test_toggle_due(previous: UnitState | None, desired: UnitState, due: bool) -> None:
    assert toggle_due(desired, previous, "swing_mode") is due


# --- transcripts (IRremoteESP8266's m/s notation) ---


def test_transcript_round_trip_and_carrier() -> None:
    signal = IrSignal((3400, 1750, 450, 1300, 440, 15500), 36_700)
    text = to_transcript(signal)
    assert text == "f36700d50m3400s1750m450s1300m440s15500"
    assert from_transcript(text) == signal
    assert from_transcript('"m10s20"\n  "m30s40"').carrier_hz == 38_000


def test_transcript_adds_up_consecutive_marks_or_spaces() -> None:
    # The library writes a message's final gap and the extra pause as one number; a
    # transcript written in two parts means the same pulse.
    assert from_transcript("m552s5244s100000").pulses == (552, 105244)
    assert from_transcript("m100m50s10").pulses == (150, 10)


@pytest.mark.parametrize("text", ["s10m20", "m10x5", "hello"])
def test_transcript_refuses_what_is_not_one(text: str) -> None:
    with pytest.raises(ValueError, match="transcript"):
        from_transcript(text)
