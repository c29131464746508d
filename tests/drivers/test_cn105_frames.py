"""CN105 framing: checksum, exact parsing and the resynchronising stream parser."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from klima.errors import ChecksumError, ProtocolError, TruncatedFrameError
from klima_drivers.mitsubishi_cn105.frames import (
    FrameParser,
    build_frame,
    checksum,
    parse_frame,
)

if TYPE_CHECKING:
    from conftest import Vector

# Vectors come from tests/fixtures/cn105_vectors.json; every entry names its public source
# (serial.md §3.8 for C*, the muart-group protocol docs for M*).


def test_every_vector_satisfies_the_appendix_a_rules(cn105_vector: Vector) -> None:
    raw = cn105_vector.frame
    assert cn105_vector.source  # every vector says where it comes from
    assert raw[0] == 0xFC
    assert raw[2:4] == b"\x01\x30"
    assert len(raw) == 6 + raw[4]
    assert raw[-1] == checksum(raw[:-1])


def test_every_vector_parses_and_rebuilds_byte_exact(cn105_vector: Vector) -> None:
    frame = parse_frame(cn105_vector.frame)
    assert frame.raw == cn105_vector.frame
    assert build_frame(frame.type, frame.payload) == cn105_vector.frame


def test_checksum_is_fc_minus_the_byte_sum() -> None:
    # source: serial.md §3.2 / vector C1 (echavet tests/unit/test_real_frames.cpp)
    assert checksum(bytes.fromhex("FC 5A 01 30 02 CA 01")) == 0xA8
    assert checksum(b"") == 0xFC
    assert checksum(b"\xfc") == 0x00
    assert checksum(b"\xff\xff") == (0xFC - 0x1FE) & 0xFF  # wraps modulo 256


def test_frame_exposes_type_payload_and_code(vectors: dict[str, Vector]) -> None:
    frame = parse_frame(vectors["C5"].frame)
    assert frame.type == 0x62
    assert len(frame.payload) == 16
    assert frame.code == 0x02
    assert frame.type_name == "get_reply"
    assert parse_frame(build_frame(0x62, b"")).code is None


def test_bad_checksum_is_a_checksum_error(vectors: dict[str, Vector]) -> None:
    raw = bytearray(vectors["C6"].frame)
    raw[-1] ^= 0x01
    with pytest.raises(ChecksumError, match="checksum is 90, expected 91"):
        parse_frame(bytes(raw))


def test_damaged_payload_is_a_checksum_error(vectors: dict[str, Vector]) -> None:
    raw = bytearray(vectors["C6"].frame)
    raw[8] = 0x00  # power byte flipped: the frame no longer sums up
    with pytest.raises(ChecksumError):
        parse_frame(bytes(raw))


@pytest.mark.parametrize("cut", [1, 4, 5, 10, 21])
def test_truncated_frames_say_how_much_is_missing(vectors: dict[str, Vector], cut: int) -> None:
    with pytest.raises(TruncatedFrameError):
        parse_frame(vectors["C5"].frame[:cut])


def test_truncated_message_names_the_declared_length(vectors: dict[str, Vector]) -> None:
    with pytest.raises(TruncatedFrameError, match=r"declares 16 payload bytes \(22 in all\)"):
        parse_frame(vectors["C5"].frame[:15])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (bytes.fromhex("FB 7A 01 30 01 00 54"), "expected FC"),
        (bytes.fromhex("FC 7A 02 7A 01 00 54"), "expected 01 30"),  # Ecodan header
        (bytes.fromhex("FC 7A 01 30 01 00 54 00"), "trailing"),
        (bytes.fromhex("FC 7A 01 30 FF 00"), "exceeds"),
    ],
)
def test_structural_errors_are_protocol_errors(raw: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_frame(raw)


def test_empty_input_is_truncated() -> None:
    with pytest.raises(TruncatedFrameError):
        parse_frame(b"")


def test_build_frame_rejects_oversized_payloads() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        build_frame(0x41, bytes(33))


# --- the stream parser --------------------------------------------------------------------


def test_parser_returns_back_to_back_frames_in_order(vectors: dict[str, Vector]) -> None:
    parser = FrameParser()
    stream = vectors["C2"].frame + vectors["C5"].frame + vectors["C11"].frame
    frames = parser.feed(stream)
    assert [f.raw for f in frames] == [vectors[i].frame for i in ("C2", "C5", "C11")]
    assert parser.garbage_bytes == 0
    assert parser.bad_frames == 0
    assert parser.pending == 0


def test_parser_reassembles_a_frame_fed_one_byte_at_a_time(vectors: dict[str, Vector]) -> None:
    parser = FrameParser()
    raw = vectors["C12"].frame
    out = []
    for byte in raw[:-1]:
        out += parser.feed(bytes((byte,)))
    assert out == []
    assert parser.pending == len(raw) - 1
    frames = parser.feed(raw[-1:])
    assert [f.raw for f in frames] == [raw]


@pytest.mark.parametrize("split", [1, 3, 5, 9, 21, 25])
def test_parser_handles_any_split_between_two_frames(
    vectors: dict[str, Vector], split: int
) -> None:
    parser = FrameParser()
    stream = vectors["C6"].frame + vectors["C15"].frame
    frames = parser.feed(stream[:split]) + parser.feed(stream[split:])
    assert [f.raw for f in frames] == [vectors["C6"].frame, vectors["C15"].frame]


def test_parser_skips_garbage_between_frames_and_counts_it(vectors: dict[str, Vector]) -> None:
    parser = FrameParser()
    stream = b"\x00\x13\x37" + vectors["C2"].frame + b"\xaa\x55" + vectors["C17"].frame + b"\x01"
    frames = parser.feed(stream)
    assert [f.raw for f in frames] == [vectors["C2"].frame, vectors["C17"].frame]
    assert parser.garbage_bytes == 6
    assert parser.bad_frames == 0


def test_parser_survives_a_stray_fc_inside_garbage(vectors: dict[str, Vector]) -> None:
    # A lone FC followed by something other than 01 30 is rejected without waiting for more.
    parser = FrameParser()
    frames = parser.feed(b"\xfc\x00\xfc\x01\x31" + vectors["C11"].frame)
    assert [f.raw for f in frames] == [vectors["C11"].frame]
    assert parser.bad_frames == 2


def test_parser_finds_a_frame_hidden_behind_a_truncated_one(vectors: dict[str, Vector]) -> None:
    # The first frame lost its last 6 bytes; its declared length swallows the start of the next.
    parser = FrameParser()
    stream = vectors["C5"].frame[:16] + vectors["C6"].frame
    frames = parser.feed(stream)
    assert [f.raw for f in frames] == [vectors["C6"].frame]
    assert parser.bad_frames >= 1


def test_parser_drops_a_frame_with_a_bad_checksum_and_keeps_the_next(
    vectors: dict[str, Vector],
) -> None:
    damaged = bytearray(vectors["C12"].frame)
    damaged[8] ^= 0x40
    parser = FrameParser()
    frames = parser.feed(bytes(damaged) + vectors["C15"].frame)
    assert [f.raw for f in frames] == [vectors["C15"].frame]
    assert parser.bad_frames == 1
    assert parser.garbage_bytes == len(damaged)


def test_parser_rejects_absurd_lengths_immediately(vectors: dict[str, Vector]) -> None:
    parser = FrameParser()
    frames = parser.feed(bytes.fromhex("FC 62 01 30 F0") + vectors["C2"].frame)
    assert [f.raw for f in frames] == [vectors["C2"].frame]


def test_parser_buffer_is_bounded(vectors: dict[str, Vector]) -> None:
    parser = FrameParser(max_buffer=8)
    # A plausible partial frame longer than the bound: the oldest bytes go, counted as garbage.
    assert parser.feed(vectors["C5"].frame[:15]) == []
    assert parser.pending == 8
    assert parser.garbage_bytes == 7
    # The hunt restarts cleanly afterwards.
    assert parser.feed(vectors["C2"].frame)[-1].raw == vectors["C2"].frame


def test_parser_discards_noise_without_a_frame_start() -> None:
    parser = FrameParser()
    assert parser.feed(bytes(range(0xFC))) == []
    assert parser.pending == 0
    assert parser.garbage_bytes == 0xFC


def test_parser_clear_forgets_a_partial_frame(vectors: dict[str, Vector]) -> None:
    parser = FrameParser()
    parser.feed(vectors["C5"].frame[:10])
    parser.clear()
    assert parser.pending == 0
    assert parser.feed(vectors["C2"].frame)[0].raw == vectors["C2"].frame


def test_parser_tells_how_many_bytes_a_partial_frame_still_needs() -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md §3.8 C6)
    c6 = bytes.fromhex("FC 62 01 30 10 02 00 00 01 01 1A 00 00 00 00 03 AB 00 00 00 00 91")
    parser = FrameParser()
    assert parser.missing == 0
    parser.feed(c6[:1])
    assert parser.missing == 5  # header not complete yet: at least header + checksum
    parser.feed(c6[1:10])
    assert parser.missing == len(c6) - 10
    assert parser.feed(c6[10:])
    assert parser.missing == 0
