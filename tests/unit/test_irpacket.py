"""Pulses (µs) ↔ Broadlink IR packets (src/klima/irpacket.py).

Byte-exact vectors are broadlink.md §A10.4 "Worked examples (computed and round-tripped)":
example 1 is the by-hand NEC-like list, example 2 the LG AC "Cool 22C, fan Medium" frame
(28-bit value 0x8808721, ir.md §B11), example 3 the Gree state ``19 0A 60 50 02 23 00 F0``
(ir.md §B4, IRremoteESP8266 test/ir_Gree_test.cpp TestDecodeGree.NormalRealExample).
"""

from __future__ import annotations

import base64
import random

import pytest

from klima.errors import ProtocolError, TruncatedFrameError
from klima.ir import IrSignal
from klima.irpacket import (
    LEARNED_TRAILER_TICKS,
    broadlink_to_signal,
    normalize_packet,
    parse_broadlink,
    parse_code,
    signal_to_broadlink,
    ticks_to_us,
    to_base64,
    to_hex,
    us_to_ticks,
)

TICK_US = 8192 / 269

# broadlink.md §A10.4 example 1.
EXAMPLE1_PULSES = (9000, 4500, 560, 560, 560, 1690, 560, 40000)
EXAMPLE1_PACKET = bytes.fromhex("26000c00 00012894 12121237 12000521")
# broadlink.md §A10.4 example 2 (LG AC, 0x8808721).
EXAMPLE2_HEX = (
    "260040000001178c12351212121212121235121212121212121212121212121212351212121212121212"
    "1235123512351212121212351212121212121212123512000743000000000000000000000000"
)
EXAMPLE2_B64 = (
    "JgBAAAABF4wSNRISEhISEhI1EhISEhISEhISEhISEhISNRISEhISEhISEjUSNRI1EhISEhI1EhISEhISEhISNRIA"
    "B0MAAAAAAAAAAAAAAAA="
)
# broadlink.md §A10.4 example 3 (Gree).
EXAMPLE3_B64 = (
    "JgCSAAABKJQUNRQSFBIUNRQ1FBIUEhQSFBIUNRQSFDUUEhQSFBIUEhQSFBIUEhQSFBIUNRQ1FBIUEhQSFBIUEhQ1"
    "FBIUNRQSFBIUNRQSFAACkBQSFDUUEhQSFBIUEhQSFBIUNRQ1FBIUEhQSFDUUEhQSFBIUEhQSFBIUEhQSFBIUEhQS"
    "FBIUEhQSFDUUNRQ1FDUUAAKQAAAAAAAAAAAAAA=="
)
GREE_STATE = bytes.fromhex("19 0A 60 50 02 23 00 F0")


def lg_pulses(value: int) -> tuple[int, ...]:
    """LG 28-bit frame per ir.md §B1/B11 with the 56600 µs gap of §A10.4 example 2."""
    pulses = [8500, 4250]
    for bit in range(27, -1, -1):
        pulses += [550, 1600 if value >> bit & 1 else 550]
    return (*pulses, 550, 56600)


def gree_pulses(state: bytes) -> tuple[int, ...]:
    """Gree per ir.md §B1: header, 4 bytes LSB first, footer bits 0,1,0, gap, 4 bytes, gap."""

    def bits(values: list[int]) -> list[int]:
        return [p for bit in values for p in (620, 1600 if bit else 540)]

    def byte_bits(data: bytes) -> list[int]:
        return [byte >> i & 1 for byte in data for i in range(8)]

    return (
        9000,
        4500,
        *bits(byte_bits(state[:4])),
        *bits([0, 1, 0]),
        620,
        19980,
        *bits(byte_bits(state[4:])),
        620,
        19980,
    )


# --- ticks ------------------------------------------------------------------------------


def test_tick_conversion_rounds_with_8192_over_269() -> None:
    # broadlink.md §A10.4 example 1, the per-duration arithmetic.
    assert [us_to_ticks(us) for us in (9000, 4500, 560, 1690, 40000)] == [296, 148, 18, 55, 1313]
    assert us_to_ticks(1) == 1  # clamped: a 0 byte would be read as an escape
    assert ticks_to_us(0x0D05) == 101_502  # the learned-code trailer, "about 102 ms" (§A10.1)


# --- published vectors ------------------------------------------------------------------


def test_example1_by_hand_is_byte_exact() -> None:
    # broadlink.md §A10.4 example 1 (no padding).
    packet = signal_to_broadlink(IrSignal(EXAMPLE1_PULSES), pad=False)
    assert packet == EXAMPLE1_PACKET
    padded = signal_to_broadlink(IrSignal(EXAMPLE1_PULSES))
    assert padded == EXAMPLE1_PACKET  # already 16 bytes


def test_example2_lg_cool_22_fan_medium_is_byte_exact() -> None:
    # broadlink.md §A10.4 example 2: LG 0x8808721 (ir.md §B11), 60 durations, padded to 80.
    pulses = lg_pulses(0x8808721)
    assert len(pulses) == 60
    packet = signal_to_broadlink(IrSignal(pulses))
    assert packet == bytes.fromhex(EXAMPLE2_HEX)
    assert to_base64(packet) == EXAMPLE2_B64
    assert len(packet) == 80


def test_example3_gree_is_byte_exact_and_decodes_to_its_state() -> None:
    # broadlink.md §A10.4 example 3: Gree "Cool 26C fan Low" (ir.md §B4), 140 durations.
    pulses = gree_pulses(GREE_STATE)
    assert len(pulses) == 140
    packet = signal_to_broadlink(IrSignal(pulses))
    assert to_base64(packet) == EXAMPLE3_B64
    assert len(packet) == 160
    # Decoding it and slicing the spaces at 1070 µs gives back the state and the 010 footer.
    decoded = broadlink_to_signal(base64.b64decode(EXAMPLE3_B64)).pulses
    spaces = decoded[3:67:2] + decoded[75:139:2]
    bits = [1 if space > 1070 else 0 for space in spaces]
    state = bytes(sum(bits[b * 8 + i] << i for i in range(8)) for b in range(8))
    assert state == GREE_STATE
    assert [1 if s > 1070 else 0 for s in decoded[67:73:2]] == [0, 1, 0]


# --- round trips, escapes, repeats --------------------------------------------------------


def test_round_trip_is_within_half_a_tick() -> None:
    rng = random.Random(20240417)
    for _ in range(200):
        count = rng.randrange(2, 300, 2)
        pulses = tuple(
            rng.randint(100, 3000) if rng.random() < 0.9 else rng.randint(3000, 1_990_000)
            for _ in range(count)
        )
        back = broadlink_to_signal(signal_to_broadlink(IrSignal(pulses))).pulses
        assert len(back) == len(pulses)
        for sent, received in zip(pulses, back, strict=True):
            assert abs(received - sent) <= TICK_US / 2 + 0.5


def test_values_of_256_ticks_and_more_are_escaped_big_endian() -> None:
    pulses = (ticks_to_us(255), ticks_to_us(256), ticks_to_us(0x1234), ticks_to_us(65535))
    packet = signal_to_broadlink(IrSignal(pulses), pad=False)
    assert packet[4:] == bytes.fromhex("ff 000100 001234 00ffff")
    assert int.from_bytes(packet[2:4], "little") == 10
    assert parse_broadlink(packet).ticks == (255, 256, 0x1234, 65535)


def test_overlong_space_is_clamped_and_overlong_mark_refused() -> None:
    packet = signal_to_broadlink(IrSignal((500, 3_000_000)), pad=False)
    assert packet[4:] == bytes.fromhex("10 00ffff")
    with pytest.raises(ValueError, match="too long"):
        signal_to_broadlink(IrSignal((3_000_000, 500)))


def test_signal_ending_on_a_mark_gets_the_learned_trailer() -> None:
    packet = signal_to_broadlink(IrSignal((9000, 4500, 560)), pad=False)
    assert packet[-3:] == bytes.fromhex("000d05")
    assert parse_broadlink(packet).ticks[-1] == LEARNED_TRAILER_TICKS


def test_repeat_byte_and_its_expansion() -> None:
    signal = IrSignal(EXAMPLE1_PULSES)
    packet = signal_to_broadlink(signal, repeat=2)
    assert packet[1] == 2
    assert parse_broadlink(packet).repeat == 2
    once = broadlink_to_signal(packet, expand_repeats=False).pulses
    assert len(once) == len(EXAMPLE1_PULSES)
    assert broadlink_to_signal(packet).pulses == once * 3
    with pytest.raises(ValueError, match="repeat"):
        signal_to_broadlink(signal, repeat=256)


def test_decoded_signal_has_the_38khz_carrier() -> None:
    assert broadlink_to_signal(EXAMPLE1_PACKET).carrier_hz == 38_000


# --- tolerant decoding ------------------------------------------------------------------


def test_trailing_padding_past_the_length_is_ignored() -> None:
    # check_data on the legacy framing returns the code plus AES zero padding (§A5).
    padded = EXAMPLE1_PACKET + bytes(28)
    assert broadlink_to_signal(padded) == broadlink_to_signal(EXAMPLE1_PACKET)
    assert normalize_packet(padded) == EXAMPLE1_PACKET


def test_zero_padding_counted_inside_the_length_is_ignored() -> None:
    body = EXAMPLE1_PACKET[4:] + bytes(4)
    packet = b"\x26\x00" + len(body).to_bytes(2, "little") + body
    assert broadlink_to_signal(packet).pulses == broadlink_to_signal(EXAMPLE1_PACKET).pulses


def test_learned_style_code_round_trips_with_its_trailer() -> None:
    learned = bytes.fromhex("26000c00000128941212123712000d05") + bytes(12)
    pulses = broadlink_to_signal(learned).pulses
    assert pulses[-1] == ticks_to_us(0x0D05)
    assert signal_to_broadlink(IrSignal(pulses), pad=False) == learned[:16]


# --- malformed packets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "error", "match"),
    [
        (b"\x26\x00\x02", TruncatedFrameError, "4-byte header"),
        (b"\x27\x00\x01\x00\x10", ProtocolError, "type byte 0x27"),
        (b"\xb2\x00\x01\x00\x10", ProtocolError, "RF packet"),
        (b"\x26\x00\x10\x00\x10\x20", TruncatedFrameError, "declares 16 bytes"),
        (b"\x26\x00\x03\x00\x10\x00\x01", TruncatedFrameError, "cut off"),
        (b"\x26\x00\x00\x00", ProtocolError, "no durations"),
        (b"\x26\x00\x05\x00\x00\x00\x00\x10\x20", ProtocolError, "zero-length"),
    ],
)
def test_malformed_packets_raise_protocol_errors(
    payload: bytes, error: type[ProtocolError], match: str
) -> None:
    with pytest.raises(error, match=match):
        broadlink_to_signal(payload)


# --- code text --------------------------------------------------------------------------


def test_parse_code_reads_hex_and_base64() -> None:
    packet = bytes.fromhex(EXAMPLE2_HEX)
    assert parse_code(EXAMPLE2_B64) == packet
    assert parse_code(EXAMPLE2_B64.rstrip("=")) == packet  # unpadded base64
    assert parse_code(EXAMPLE2_HEX) == packet
    assert parse_code(" ".join(f"{b:02X}" for b in packet)) == packet
    assert parse_code("0x" + to_hex(packet)) == packet
    assert parse_code("26:00:0c", fmt="hex") == b"\x26\x00\x0c"
    assert parse_code("JgAMAA", fmt="base64") == b"\x26\x00\x0c\x00"


@pytest.mark.parametrize(
    ("text", "fmt"), [("", "auto"), ("26 0", "hex"), ("not a code!", "auto"), ("zz", "hex")]
)
def test_parse_code_rejects_garbage(text: str, fmt: str) -> None:
    with pytest.raises(ProtocolError):
        parse_code(text, fmt)  # type: ignore[arg-type]
