"""CN105 ("IT protocol") framing: checksum, exact-frame parsing and a resynchronising stream parser.

Frame layout (serial.md §3.2)::

    FC  type  01 30  N  payload[N]  checksum

The checksum is ``(0xFC - sum(all bytes from FC through the last payload byte)) & 0xFF``. There is
no escaping, so a receiver finds frames by hunting for ``FC`` and validating the fixed ``01 30``,
the length and the checksum. Pure code: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from klima.errors import ChecksumError, ProtocolError, TruncatedFrameError

START = 0xFC
HEADER = b"\x01\x30"  # the air-to-air variant's fixed identifier (Ecodan uses 02 7A)
HEADER_LENGTH = 5  # FC, type, 01, 30, N
REPLY_OFFSET = 0x20  # a reply's type is its request's type + 0x20

SET_REQUEST = 0x41
SET_REPLY = 0x61
GET_REQUEST = 0x42
GET_REPLY = 0x62
CONNECT_REQUEST = 0x5A
CONNECT_REPLY = 0x7A
IDENTIFY_REQUEST = 0x5B
IDENTIFY_REPLY = 0x7B

FRAME_TYPE_NAMES: dict[int, str] = {
    SET_REQUEST: "set",
    SET_REPLY: "set_reply",
    GET_REQUEST: "get",
    GET_REPLY: "get_reply",
    CONNECT_REQUEST: "connect",
    CONNECT_REPLY: "connect_reply",
    IDENTIFY_REQUEST: "identify",
    IDENTIFY_REPLY: "identify_reply",
}

# No known CN105 frame carries more than 16 payload bytes. A larger length byte is far more likely
# a stray FC in line noise than a real frame, and waiting for 255 bytes would stall the stream.
MAX_PAYLOAD = 32
# The stream parser never holds more than this; older bytes are dropped (and counted) first.
MAX_BUFFER = 512


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The CN105 checksum of ``data`` (every frame byte before the checksum itself)."""
    return (0xFC - sum(data)) & 0xFF


@dataclass(frozen=True, slots=True)
class Frame:
    """One valid frame: its type byte, its payload and the raw bytes it was read from."""

    type: int
    payload: bytes
    raw: bytes

    @property
    def code(self) -> int | None:
        """The command/group code (first payload byte) of set/get frames; ``None`` if empty."""
        return self.payload[0] if self.payload else None

    @property
    def type_name(self) -> str:
        return FRAME_TYPE_NAMES.get(self.type, f"type_{self.type:02x}")

    def hex(self) -> str:
        return self.raw.hex(" ").upper()


def build_frame(frame_type: int, payload: bytes) -> bytes:
    """The complete frame for ``payload`` (length byte and checksum added)."""
    if not 0 <= frame_type <= 0xFF:
        raise ValueError(f"frame type {frame_type} is not a byte")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((START, frame_type, *HEADER, len(payload))) + payload
    return body + bytes((checksum(body),))


def parse_frame(raw: bytes) -> Frame:
    """Parse exactly one frame; raise a :class:`ProtocolError` subclass saying what is wrong."""
    data = bytes(raw)
    if not data:
        raise TruncatedFrameError("empty frame")
    if data[0] != START:
        raise ProtocolError(f"frame starts with {data[0]:02X}, expected FC")
    if len(data) < HEADER_LENGTH + 1:
        raise TruncatedFrameError(
            f"frame of {len(data)} bytes is shorter than the 6-byte minimum: {data.hex(' ')}"
        )
    if data[2:4] != HEADER:
        raise ProtocolError(f"header bytes are {data[2:4].hex(' ')}, expected 01 30")
    length = data[4]
    if length > MAX_PAYLOAD:
        raise ProtocolError(f"declared payload length {length} exceeds {MAX_PAYLOAD}")
    expected_size = HEADER_LENGTH + length + 1
    if len(data) < expected_size:
        raise TruncatedFrameError(
            f"frame declares {length} payload bytes ({expected_size} in all) "
            f"but has only {len(data)} bytes"
        )
    if len(data) > expected_size:
        raise ProtocolError(
            f"{len(data) - expected_size} trailing bytes after a {expected_size}-byte frame"
        )
    expected = checksum(data[:-1])
    if data[-1] != expected:
        raise ChecksumError(f"checksum is {data[-1]:02X}, expected {expected:02X}")
    return Frame(type=data[1], payload=data[HEADER_LENGTH:-1], raw=data)


class FrameParser:
    """Cut a byte stream into valid frames, skipping garbage and damaged frames.

    Length-driven: once ``FC 01 30 N`` is seen it waits for the whole frame, then checks the
    checksum. A bad header, length or checksum drops only the leading ``FC`` and the hunt
    restarts at the next byte, so a valid frame hidden behind a damaged one is still found.
    """

    def __init__(self, max_buffer: int = MAX_BUFFER) -> None:
        self._buffer = bytearray()
        self._max_buffer = max_buffer
        self.garbage_bytes = 0  # bytes skipped while hunting for a frame start
        self.bad_frames = 0  # frame candidates rejected for header, length or checksum

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)

    @property
    def missing(self) -> int:
        """Bytes still to come for the partial frame held now (a lower bound; 0 if none)."""
        buf = self._buffer
        if not buf or buf[0] != START:
            return 0
        if len(buf) < HEADER_LENGTH:
            return HEADER_LENGTH + 1 - len(buf)  # at least the header and a checksum
        return max(0, HEADER_LENGTH + buf[4] + 1 - len(buf))

    def clear(self) -> None:
        """Forget a partial frame (e.g. stale bytes before a new request)."""
        self._buffer.clear()

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every complete valid frame, in order."""
        self._buffer.extend(data)
        frames: list[Frame] = []
        while True:
            frame, waiting = self._next_frame()
            if frame is not None:
                frames.append(frame)
            elif waiting:
                break
        if len(self._buffer) > self._max_buffer:
            overflow = len(self._buffer) - self._max_buffer
            del self._buffer[:overflow]
            self.garbage_bytes += overflow
        return frames

    def _next_frame(self) -> tuple[Frame | None, bool]:
        """One step of the hunt: (a frame, False), (None, True) to wait, or (None, False) again."""
        buf = self._buffer
        start = buf.find(START)
        if start < 0:
            self.garbage_bytes += len(buf)
            buf.clear()
            return None, True
        if start:
            self.garbage_bytes += start
            del buf[:start]
        if len(buf) < HEADER_LENGTH:
            return None, not self._header_prefix_invalid()
        if buf[2:4] != HEADER or buf[4] > MAX_PAYLOAD:
            self._reject_candidate()
            return None, False
        size = HEADER_LENGTH + buf[4] + 1
        if len(buf) < size:
            return None, True
        candidate = bytes(buf[:size])
        if candidate[-1] != checksum(candidate[:-1]):
            self._reject_candidate()
            return None, False
        del buf[:size]
        return Frame(type=candidate[1], payload=candidate[HEADER_LENGTH:-1], raw=candidate), False

    def _header_prefix_invalid(self) -> bool:
        """Whether the bytes after FC already contradict ``01 30`` (no need to wait for more)."""
        prefix = bytes(self._buffer[2:4])
        if prefix and prefix != HEADER[: len(prefix)]:
            self._reject_candidate()
            return True
        return False

    def _reject_candidate(self) -> None:
        self.bad_frames += 1
        self.garbage_bytes += 1
        del self._buffer[:1]
