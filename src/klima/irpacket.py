"""Microsecond pulse trains ↔ Broadlink IR packets (broadlink.md §A10). Pure, no I/O.

The packet is what ``send_data`` takes and ``check_data`` returns::

    26 | repeat | len (LE16) | durations … | zero padding

Each duration is in Broadlink ticks of 8192/269 µs (≈ 30.45 µs, §A10.2), alternating mark and
space from a mark. A tick count below 256 is one byte; anything larger is ``00`` + 16-bit
big-endian. We round to the nearest tick and never emit 0 ticks (a lone ``00`` byte is always an
escape). python-broadlink's own ``pulses_to_data`` truncates with a 32.84 µs tick, which makes
every edge ~7 % short on real hardware, so it is deliberately not used.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal

from klima.errors import ProtocolError, TruncatedFrameError
from klima.ir import DEFAULT_CARRIER_HZ, IrSignal

IR_PACKET_TYPE = 0x26
RF433_PACKET_TYPE = 0xB2
RF315_PACKET_TYPE = 0xD7
HEADER_SIZE = 4
MAX_TICKS = 0xFFFF
# ticks = µs * 269 / 8192; kept as integers so rounding is exact and platform independent.
_TICKS_NUM = 269
_TICKS_DEN = 8192
# The final space of every code an RM learns (the capture timeout, ≈ 101.5 ms). We append it
# when a signal ends on a mark, so what we send looks like a learned code (§A10.1).
LEARNED_TRAILER_TICKS = 0x0D05

CodeFormat = Literal["auto", "base64", "hex"]


def us_to_ticks(us: int | float) -> int:
    """Nearest whole tick (half rounds up), at least 1."""
    scaled = us * _TICKS_NUM
    ticks = int((scaled * 2 + _TICKS_DEN) // (2 * _TICKS_DEN))
    return max(1, ticks)


def ticks_to_us(ticks: int) -> int:
    """Microseconds for ``ticks``, rounded to the nearest µs."""
    return (ticks * _TICKS_DEN * 2 + _TICKS_NUM) // (2 * _TICKS_NUM)


@dataclass(frozen=True, slots=True)
class BroadlinkIrPacket:
    """A parsed packet: how often the device replays it and the durations in ticks."""

    repeat: int
    ticks: tuple[int, ...]


def signal_to_broadlink(signal: IrSignal, repeat: int = 0, *, pad: bool = True) -> bytes:
    """The Broadlink IR packet for ``signal``.

    ``repeat`` extra replays of the whole signal are done by the device (0 = send once).
    ``pad`` zero-fills the packet to a multiple of 16 bytes like learned codes; the device
    ignores anything past the length field. The carrier is not encoded: RM blasters always
    transmit at about 38 kHz.
    """
    if not 0 <= repeat <= 0xFF:
        raise ValueError(f"repeat must be within 0..255, not {repeat}")
    if not signal.pulses:
        raise ValueError("an IR signal needs at least one pulse")
    ticks = [us_to_ticks(us) for us in signal.pulses]
    for index, count in enumerate(ticks):
        if count <= MAX_TICKS:
            continue
        if index % 2 == 0:
            raise ValueError(f"mark {index} of {signal.pulses[index]} µs is too long to encode")
        # A space over ~2 s is idle time; the receiver cannot tell it from a shorter one.
        ticks[index] = MAX_TICKS
    if len(ticks) % 2:
        ticks.append(LEARNED_TRAILER_TICKS)
    body = bytearray()
    for count in ticks:
        if count < 0x100:
            body.append(count)
        else:
            body += b"\x00" + count.to_bytes(2, "big")
    if len(body) > 0xFFFF:
        raise ValueError(f"the signal needs {len(body)} bytes; a packet holds at most 65535")
    packet = bytearray((IR_PACKET_TYPE, repeat)) + len(body).to_bytes(2, "little") + body
    if pad:
        packet += bytes(-len(packet) % 16)
    return bytes(packet)


def parse_broadlink(payload: bytes) -> BroadlinkIrPacket:
    """Parse an IR packet; trailing padding (also AES padding from ``check_data``) is ignored.

    Raises :class:`ProtocolError` for RF packets, a wrong type byte, a length field that runs
    past the data, or an escape cut short.
    """
    if len(payload) < HEADER_SIZE:
        raise TruncatedFrameError(f"a Broadlink packet has a 4-byte header; got {len(payload)}")
    kind = payload[0]
    if kind in (RF433_PACKET_TYPE, RF315_PACKET_TYPE):
        raise ProtocolError(f"this is an RF packet (type 0x{kind:02X}), not infrared")
    if kind != IR_PACKET_TYPE:
        raise ProtocolError(f"not a Broadlink IR packet: type byte 0x{kind:02X}, expected 0x26")
    length = int.from_bytes(payload[2:4], "little")
    end = HEADER_SIZE + length
    if end > len(payload):
        raise TruncatedFrameError(
            f"the packet declares {length} bytes of durations but carries {len(payload) - 4}"
        )
    ticks: list[int] = []
    index = HEADER_SIZE
    while index < end:
        value = payload[index]
        if value:
            ticks.append(value)
            index += 1
            continue
        if not any(payload[index:end]):
            break  # zero padding counted inside the length (seen in some converted codes)
        if index + 3 > end:
            raise TruncatedFrameError(f"escape at byte {index} is cut off by the length field")
        value = int.from_bytes(payload[index + 1 : index + 3], "big")
        if value == 0:
            raise ProtocolError(f"zero-length duration at byte {index}")
        ticks.append(value)
        index += 3
    if not ticks:
        raise ProtocolError("the packet holds no durations")
    return BroadlinkIrPacket(repeat=payload[1], ticks=tuple(ticks))


def broadlink_to_signal(payload: bytes, *, expand_repeats: bool = True) -> IrSignal:
    """The pulses (µs) a Broadlink IR packet emits, at 38 kHz (the packet has no carrier field).

    With ``expand_repeats`` the device's replays are included, as the receiver sees them. A
    packet that ends on a mark gets the learned-code trailing gap, so the signal always ends
    with a space.
    """
    packet = parse_broadlink(payload)
    ticks = list(packet.ticks)
    if len(ticks) % 2:
        ticks.append(LEARNED_TRAILER_TICKS)
    pulses = tuple(ticks_to_us(t) for t in ticks)
    if expand_repeats:
        pulses *= packet.repeat + 1
    return IrSignal(pulses, DEFAULT_CARRIER_HZ)


def normalize_packet(payload: bytes) -> bytes:
    """A packet cut at its length field and zero-padded to 16 (drops extra AES padding)."""
    parse_broadlink(payload)  # validates
    end = HEADER_SIZE + int.from_bytes(payload[2:4], "little")
    packet = payload[:end]
    return packet + bytes(-len(packet) % 16)


_HEX_TEXT = re.compile(r"^(?:0x)?[0-9a-fA-F]+$")


def parse_code(text: str, fmt: CodeFormat = "auto") -> bytes:
    """Bytes of a code written as base64 (SmartIR, Home Assistant) or hex.

    Hex may contain spaces, colons or dashes between bytes. ``auto`` takes hex when the text is
    only hex digits (an IR packet in hex starts ``26``, in base64 ``Jg``), else base64. Raises
    :class:`ProtocolError` for text that is neither.
    """
    compact = re.sub(r"[\s:,-]", "", text)
    if not compact:
        raise ProtocolError("the code is empty")
    if fmt == "hex" or (fmt == "auto" and _HEX_TEXT.match(compact)):
        return _parse_hex(compact)
    if fmt in ("base64", "auto"):
        return _parse_base64("".join(text.split()))
    raise ValueError(f"unknown code format {fmt!r}")


def _parse_hex(compact: str) -> bytes:
    digits = compact[2:] if compact[:2].lower() == "0x" else compact
    if len(digits) % 2:
        raise ProtocolError(f"hex code has an odd number of digits ({len(digits)})")
    try:
        return bytes.fromhex(digits)
    except ValueError as exc:
        raise ProtocolError(f"not a hex code: {exc}") from None


def _parse_base64(text: str) -> bytes:
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("the code is neither hex nor base64") from None
    if not data:
        raise ProtocolError("the code is empty")
    return data


def to_base64(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


def to_hex(payload: bytes) -> str:
    return payload.hex()
