"""Daikin 280-bit AC remote frames (DAIKIN, ir.md §B3).

Remotes ARC433**, ARC466A12/A33, ARC443A5 (FTXM-M, M series). A message is a 5-bit preamble and
three sections (8 + 8 + 19 bytes), each with its own checksum; the third section holds the state
with an explicit power bit, so repeating a message is harmless (ir.md §B12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klima.errors import ChecksumError, ProtocolError, TruncatedFrameError
from klima.ir import IrSignal
from klima.state import Mode
from klima.traits import Traits
from klima_drivers.ir_common.messages import require_length
from klima_drivers.ir_common.pulse_distance import (
    Timing,
    decode_section,
    encode_bits,
    encode_section,
    matches,
)
from klima_drivers.ir_common.sequence import parse_frames
from klima_drivers.ir_common.statemap import choose, setpoint
from klima_drivers.ir_common.vocabulary import NameMap

if TYPE_CHECKING:
    from klima.state import UnitState

PROTOCOL = "DAIKIN"
STATE_LENGTH = 35
SECTIONS = ((0, 8), (8, 16), (16, 35))  # byte ranges of the three sections
SECTION1_HEADER = bytes.fromhex("11DA2700C500")  # bytes 0-5; byte 6 carries comfort
SECTION2_HEADER = bytes.fromhex("11DA270042")
SECTION3_HEADER = bytes.fromhex("11DA270000")
# ir.md §B1: five zero bits without a header, then each section with its own header.
PREAMBLE_BITS = 5
PREAMBLE = Timing(0, 0, 428, 1280, 428, 428, 29428, tolerance=0.35)
SECTION = Timing(3650, 1623, 428, 1280, 428, 428, 29428, tolerance=0.35)

MODE_AUTO, MODE_DRY, MODE_COOL, MODE_HEAT, MODE_FAN = 0, 2, 3, 4, 6
_MODES = {
    Mode.HEAT_COOL: MODE_AUTO,
    Mode.DRY: MODE_DRY,
    Mode.COOL: MODE_COOL,
    Mode.HEAT: MODE_HEAT,
    Mode.FAN_ONLY: MODE_FAN,
}
_MODE_NAMES = {native: mode for mode, native in _MODES.items()}

MIN_TEMP, MAX_TEMP, TEMP_STEP = 10.0, 32.0, 0.5
NO_SETPOINT = 0xC0  # byte 22 of a real remote in dry mode: "no setpoint"
FAN_MODE_SETPOINT = 25.0  # what a real remote sends in fan mode

# Byte 24 high nibble: 3…7 = speeds 1…5, 0xA auto, 0xB quiet. The library names speed 1 "min",
# 3 "medium" and 5 "max"; Klima names all five so none is lost.
FAN = NameMap(
    "fan_mode",
    {"auto": 0xA, "quiet": 0xB, "min": 3, "low": 4, "medium": 5, "high": 6, "max": 7},
)
SWING = NameMap("swing_mode", {"off": 0x0, "auto": 0xF})
SWING_HORIZONTAL = NameMap("swing_horizontal_mode", {"off": 0x0, "auto": 0xF})
TIMER_UNUSED = 0x600  # the 12-bit timer value meaning "not set"

TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.HEAT, Mode.COOL, Mode.DRY, Mode.FAN_ONLY),
    fan_modes=FAN.names,
    swing_modes=SWING.names,
    swing_horizontal_modes=SWING_HORIZONTAL.names,
    min_temp=MIN_TEMP,
    max_temp=MAX_TEMP,
    temp_step=TEMP_STEP,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DaikinFrame:
    """The 35-byte message in native values (ir.md §B3 byte table)."""

    power: bool = True
    mode: int = MODE_HEAT
    temperature: float | None = 15.0  # None = 0xC0, "no setpoint" (dry mode)
    fan: int = 0xB
    swing_vertical: bool = False
    swing_horizontal: bool = False
    powerful: bool = False
    quiet: bool = False  # byte 29 bit 5 (separate from the quiet fan level)
    econo: bool = False
    sensor: bool = False
    mould: bool = False
    comfort: bool = False
    weekly_timer: bool = True  # byte 32 bit 7 *clear* means enabled
    clock: int = 0  # minutes since midnight
    day_of_week: int = 0  # 1 Sunday … 7 Saturday, 0 unset
    on_timer: int | None = None  # minutes since midnight
    off_timer: int | None = None

    def to_bytes(self) -> bytes:
        state = bytearray(STATE_LENGTH)
        state[0:6] = SECTION1_HEADER
        state[6] = 0x10 if self.comfort else 0x00
        state[8:13] = SECTION2_HEADER
        clock = (self.clock & 0x7FF) | (self.day_of_week & 0x07) << 11
        state[13:15] = clock.to_bytes(2, "little")
        state[16:21] = SECTION3_HEADER
        state[21] = (
            (0x01 if self.power else 0)
            | (0x02 if self.on_timer is not None else 0)
            | (0x04 if self.off_timer is not None else 0)
            | 0x08
            | (self.mode & 0x07) << 4
        )
        state[22] = NO_SETPOINT if self.temperature is None else int(self.temperature * 2)
        state[24] = (self.fan & 0x0F) << 4 | (0x0F if self.swing_vertical else 0)
        state[25] = 0x0F if self.swing_horizontal else 0
        on = TIMER_UNUSED if self.on_timer is None else self.on_timer
        off = TIMER_UNUSED if self.off_timer is None else self.off_timer
        state[26:29] = ((on & 0xFFF) | (off & 0xFFF) << 12).to_bytes(3, "little")
        state[29] = (0x01 if self.powerful else 0) | (0x20 if self.quiet else 0)
        state[31] = 0xC0
        state[32] = (
            (0x02 if self.sensor else 0)
            | (0x04 if self.econo else 0)
            | (0 if self.weekly_timer else 0x80)
        )
        state[33] = 0x02 if self.mould else 0
        for start, end in SECTIONS:
            state[end - 1] = sum(state[start : end - 1]) & 0xFF
        return bytes(state)

    @classmethod
    def from_bytes(cls, message: bytes) -> DaikinFrame:
        """Parse and validate a whole message; :class:`ProtocolError` if it is not one."""
        if len(message) != STATE_LENGTH:
            raise TruncatedFrameError(f"a Daikin 280-bit message is 35 bytes, got {len(message)}")
        for header, start in ((SECTION1_HEADER, 0), (SECTION2_HEADER, 8), (SECTION3_HEADER, 16)):
            if message[start : start + len(header)] != header:
                raise ProtocolError(f"byte {start} does not start a Daikin 280-bit section")
        for number, (start, end) in enumerate(SECTIONS, start=1):
            expected = sum(message[start : end - 1]) & 0xFF
            if message[end - 1] != expected:
                found = message[end - 1]
                raise ChecksumError(
                    f"section {number} checksum is {found:#04x}, expected {expected:#04x}"
                )
        clock = int.from_bytes(message[13:15], "little")
        timers = int.from_bytes(message[26:29], "little")
        return cls(
            power=bool(message[21] & 0x01),
            mode=message[21] >> 4 & 0x07,
            temperature=None if message[22] == NO_SETPOINT else message[22] / 2,
            fan=message[24] >> 4,
            swing_vertical=message[24] & 0x0F == 0x0F,
            swing_horizontal=message[25] & 0x0F == 0x0F,
            powerful=bool(message[29] & 0x01),
            quiet=bool(message[29] & 0x20),
            econo=bool(message[32] & 0x04),
            sensor=bool(message[32] & 0x02),
            mould=bool(message[33] & 0x02),
            comfort=bool(message[6] & 0x10),
            weekly_timer=not message[32] & 0x80,
            clock=clock & 0x7FF,
            day_of_week=clock >> 11 & 0x07,
            on_timer=timers & 0xFFF if message[21] & 0x02 else None,
            off_timer=timers >> 12 if message[21] & 0x04 else None,
        )


def frame_for(desired: UnitState) -> DaikinFrame:
    """The message a remote would send for ``desired``.

    A real remote sends no setpoint (0xC0) in dry mode and 25 °C in fan mode (ir.md §B3); so
    does this, whatever ``target_temperature`` says.
    """
    temperature: float | None
    if desired.mode is Mode.DRY:
        temperature = None
    elif desired.mode is Mode.FAN_ONLY:
        temperature = FAN_MODE_SETPOINT
    else:
        temperature = setpoint(
            desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, step=TEMP_STEP, default=25.0
        )
    return DaikinFrame(
        power=desired.power,
        mode=choose("mode", desired.mode, _MODES, default=Mode.HEAT_COOL),
        temperature=temperature,
        fan=FAN.code(desired.fan_mode or "auto"),
        swing_vertical=SWING.code(desired.swing_mode or "off") == 0xF,
        swing_horizontal=SWING_HORIZONTAL.code(desired.swing_horizontal_mode or "off") == 0xF,
    )


def describe(frame: DaikinFrame) -> dict[str, Any]:
    """A message's fields in Klima's names (native codes outside the vocabulary as ``*_raw``)."""
    fields: dict[str, Any] = {"power": frame.power}
    mode = _MODE_NAMES.get(frame.mode)
    if mode is None:
        fields["mode_raw"] = frame.mode
    else:
        fields["mode"] = mode.value
    if frame.temperature is not None:
        fields["target_temperature"] = frame.temperature
    fan = FAN.name(frame.fan)
    if fan is None:
        fields["fan_mode_raw"] = frame.fan
    else:
        fields["fan_mode"] = fan
    fields["swing_mode"] = "auto" if frame.swing_vertical else "off"
    fields["swing_horizontal_mode"] = "auto" if frame.swing_horizontal else "off"
    fields.update(
        powerful=frame.powerful,
        quiet=frame.quiet,
        econo=frame.econo,
        comfort=frame.comfort,
        sensor=frame.sensor,
        mould=frame.mould,
        clock=_hhmm(frame.clock),
        on_timer=None if frame.on_timer is None else _hhmm(frame.on_timer),
        off_timer=None if frame.off_timer is None else _hhmm(frame.off_timer),
        weekly_timer=frame.weekly_timer,
    )
    return fields


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class DaikinCodec:
    """:class:`klima.ir.IrCodec` for DAIKIN 280-bit (full state, no toggles)."""

    @property
    def protocol(self) -> str:
        return PROTOCOL

    @property
    def traits(self) -> Traits:
        return TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        del previous  # every message is the whole state
        return [frame_for(desired).to_bytes()]

    def modulate(self, message: bytes) -> IrSignal:
        _check_length(message)
        pulses = [*encode_bits(0, PREAMBLE_BITS, PREAMBLE), PREAMBLE.footer_mark, PREAMBLE.gap]
        for start, end in SECTIONS:
            pulses += encode_section(message[start:end], SECTION)
        return IrSignal(tuple(pulses))

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        return parse_frames(signal.pulses, _parse_message)

    def decode(self, message: bytes) -> dict[str, Any]:
        return describe(DaikinFrame.from_bytes(message))


def _parse_message(pulses: tuple[int, ...], index: int) -> tuple[bytes, int]:
    # The preamble is skipped when a capture starts at the first header (a learner that woke
    # up late); the three sections and their checksums are what identify the message.
    if not matches(pulses[index], SECTION.header_mark, SECTION):
        preamble, index = decode_section(pulses, index, PREAMBLE, nbits=PREAMBLE_BITS)
        if preamble != b"\x00":
            raise ProtocolError("the Daikin preamble is five zero bits")
    message = b""
    for start, end in SECTIONS:
        section, index = decode_section(pulses, index, SECTION, nbytes=end - start)
        message += section
    DaikinFrame.from_bytes(message)
    return message, index


def _check_length(message: bytes) -> None:
    require_length(message, STATE_LENGTH, PROTOCOL)


CODEC = DaikinCodec()

__all__ = ["CODEC", "TRAITS", "DaikinCodec", "DaikinFrame"]
