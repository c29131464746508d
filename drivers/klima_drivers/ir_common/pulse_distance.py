"""Pulse-distance coding, the line code of almost every AC remote (ir.md §B0).

Every bit is a fixed mark followed by a short space (0) or a long space (1). A section is an
optional header mark/space, the data bits, a footer mark and a gap space. Brand codecs describe
their sections with :class:`Timing` and use these functions to go between bytes and pulses.
"""

from __future__ import annotations

from dataclasses import dataclass

from klima.errors import ProtocolError


@dataclass(frozen=True, slots=True)
class Timing:
    """Microseconds of one protocol's pulse-distance section (header 0/0 = no header)."""

    header_mark: int
    header_space: int
    bit_mark: int
    one_space: int
    zero_space: int
    footer_mark: int
    gap: int
    lsb_first: bool = True
    tolerance: float = 0.25  # relative, plus ``slack_us`` (IRremoteESP8266's default is 25 %)
    slack_us: int = 50


def encode_bits(value: int, nbits: int, timing: Timing) -> list[int]:
    """Pulses for the ``nbits`` low bits of ``value`` in the timing's bit order (no framing)."""
    order = range(nbits) if timing.lsb_first else range(nbits - 1, -1, -1)
    out: list[int] = []
    for bit in order:
        out += [timing.bit_mark, timing.one_space if value >> bit & 1 else timing.zero_space]
    return out


def encode_section(data: bytes, timing: Timing, *, nbits: int | None = None) -> list[int]:
    """Header, the bytes (LSB-first per byte, or MSB-first over the whole integer), footer, gap.

    ``nbits`` sends only that many bits of an MSB-first integer (e.g. LG's 28 bits).
    """
    out: list[int] = []
    if timing.header_mark:
        out += [timing.header_mark, timing.header_space]
    if timing.lsb_first:
        for byte in data:
            out += encode_bits(byte, 8, timing)
    else:
        out += encode_bits(int.from_bytes(data, "big"), nbits or 8 * len(data), timing)
    out += [timing.footer_mark, timing.gap]
    return out


def matches(measured: int, expected: int, timing: Timing) -> bool:
    return abs(measured - expected) <= expected * timing.tolerance + timing.slack_us


def decode_section(
    pulses: tuple[int, ...] | list[int],
    start: int,
    timing: Timing,
    *,
    nbytes: int | None = None,
    nbits: int | None = None,
    gap_optional: bool = True,
) -> tuple[bytes, int]:
    """Read one section at ``pulses[start]``; return its bytes and the index after its gap.

    Give ``nbytes`` (LSB-first byte arrays) or ``nbits`` (MSB-first integers; the result is the
    integer as big-endian bytes, ``ceil(nbits / 8)`` long). Raises :class:`ProtocolError` when
    the pulses do not fit the timing.
    """
    count = nbits if nbits is not None else 8 * (nbytes or 0)
    if count <= 0:
        raise ValueError("give nbytes or nbits")
    i = start
    if timing.header_mark:
        _expect(pulses, i, timing.header_mark, timing, "header mark")
        _expect(pulses, i + 1, timing.header_space, timing, "header space")
        i += 2
    bits: list[int] = []
    for n in range(count):
        _expect(pulses, i, timing.bit_mark, timing, f"mark of bit {n}")
        space = _at(pulses, i + 1, f"space of bit {n}")
        if matches(space, timing.one_space, timing):
            bits.append(1)
        elif matches(space, timing.zero_space, timing):
            bits.append(0)
        else:
            raise ProtocolError(f"space of bit {n} is {space} µs: neither 0 nor 1")
        i += 2
    _expect(pulses, i, timing.footer_mark, timing, "footer mark")
    i += 1
    if i < len(pulses):
        if pulses[i] < timing.gap * (1 - timing.tolerance) - timing.slack_us:
            raise ProtocolError(f"gap after the section is {pulses[i]} µs, too short")
        i += 1
    elif not gap_optional:
        raise ProtocolError("the section ends without its gap")
    return _pack(bits, timing, nbits), i


def _pack(bits: list[int], timing: Timing, nbits: int | None) -> bytes:
    if timing.lsb_first:
        return bytes(
            sum(bit << k for k, bit in enumerate(bits[j : j + 8])) for j in range(0, len(bits), 8)
        )
    value = 0
    for bit in bits:
        value = value << 1 | bit
    return (
        value.to_bytes((len(bits) + 7) // 8, "big")
        if nbits is not None
        else value.to_bytes(len(bits) // 8, "big")
    )


def _at(pulses: tuple[int, ...] | list[int], index: int, what: str) -> int:
    if index >= len(pulses):
        raise ProtocolError(f"the signal ends before the {what}")
    return pulses[index]


def _expect(
    pulses: tuple[int, ...] | list[int], index: int, expected: int, timing: Timing, what: str
) -> None:
    measured = _at(pulses, index, what)
    if not matches(measured, expected, timing):
        raise ProtocolError(f"{what} is {measured} µs, expected about {expected} µs")
