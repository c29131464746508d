"""Gree AC remote frames (GREE, 64-bit; ir.md §B4).

Remotes YAW1F (default), YBOFB, YX1FSF; also used by Ultimate, EKOKAI, Soleus, Amana and other
clones. Every frame carries the whole state with an explicit power bit, so repeating a frame is
harmless (ir.md §B12). On the air the 8 bytes go as 4 bytes, a 3-bit block footer ``0,1,0``, a
pause, then the other 4 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

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
)
from klima_drivers.ir_common.sequence import parse_frames
from klima_drivers.ir_common.statemap import choose, setpoint
from klima_drivers.ir_common.vocabulary import NameMap

if TYPE_CHECKING:
    from klima.state import UnitState

PROTOCOL = "GREE"
STATE_LENGTH = 8
GreeModel = Literal["YAW1F", "YBOFB"]
# ir.md §B1: block 1 has the header and ends with the 3-bit footer; block 2 has no header.
BLOCK1 = Timing(9000, 4500, 620, 1600, 540, 620, 19980)
BLOCK2 = Timing(0, 0, 620, 1600, 540, 620, 19980)
BLOCK_FOOTER, BLOCK_FOOTER_BITS = 0b010, 3

MODE_AUTO, MODE_COOL, MODE_DRY, MODE_FAN, MODE_HEAT = 0, 1, 2, 3, 4
_MODES = {
    Mode.HEAT_COOL: MODE_AUTO,
    Mode.COOL: MODE_COOL,
    Mode.DRY: MODE_DRY,
    Mode.FAN_ONLY: MODE_FAN,
    Mode.HEAT: MODE_HEAT,
}
_MODE_NAMES = {native: mode for mode, native in _MODES.items()}
AUTO_MODE_SETPOINT = 25  # the remote locks the setpoint to 25 °C in auto mode
DRY_MODE_FAN = 1  # … and the fan to speed 1 in dry mode

MIN_TEMP, MAX_TEMP = 16, 30

FAN = NameMap("fan_mode", {"auto": 0, "low": 1, "medium": 2, "high": 3})
# Byte 4 low nibble with the "auto" flag clear: 0 keeps the last position, 2-6 aim the vane.
SWING = NameMap(
    "swing_mode",
    {"off": 0, "auto": 1, "highest": 2, "high": 3, "middle": 4, "low": 5, "lowest": 6},
)
SWING_AUTO_POSITIONS = {1: None, 7: "low", 9: "middle", 11: "high"}  # swinging in part of the arc
SWING_HORIZONTAL = NameMap(
    "swing_horizontal_mode",
    {"off": 0, "auto": 1, "left_max": 2, "left": 3, "middle": 4, "right": 5, "right_max": 6},
)

TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.HEAT, Mode.COOL, Mode.DRY, Mode.FAN_ONLY),
    fan_modes=FAN.names,
    swing_modes=SWING.names,
    swing_horizontal_modes=SWING_HORIZONTAL.names,
    min_temp=float(MIN_TEMP),
    max_temp=float(MAX_TEMP),
    temp_step=1.0,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GreeFrame:
    """The 8-byte state in native values (ir.md §B4 byte table)."""

    power: bool = True
    mode: int = MODE_AUTO
    fan: int = 0
    swing_auto: bool = False  # byte 0 bit 6
    sleep: bool = False
    temperature: int = 25  # °C, 16-30
    timer: int = 0  # byte 1 high nibble | byte 2 low nibble << 4, as they are
    turbo: bool = False
    light: bool = True
    power_echo: bool = True  # byte 2 bit 6: YAW1F repeats the power bit here
    xfan: bool = False
    fahrenheit: bool = False  # byte 3 bit 3; the unit still works in °C …
    extra_degree_f: bool = False  # … with this half-step for odd °F settings
    swing_vertical: int = 0  # byte 4 low nibble
    swing_horizontal: int = 0
    display_temperature: int = 0  # 0 off, 1 setpoint, 2 inside, 3 outside
    ifeel: bool = False
    byte5_middle: int = 0b100  # byte 5 bits 3-5: 0b100 from most remotes, 0 from some
    wifi: bool = False
    econo: bool = False

    def to_bytes(self) -> bytes:
        state = bytearray(STATE_LENGTH)
        state[0] = (
            (self.mode & 0x07)
            | (0x08 if self.power else 0)
            | (self.fan & 0x03) << 4
            | (0x40 if self.swing_auto else 0)
            | (0x80 if self.sleep else 0)
        )
        state[1] = (self.temperature - MIN_TEMP) & 0x0F | (self.timer & 0x0F) << 4
        state[2] = (
            (self.timer >> 4 & 0x0F)
            | (0x10 if self.turbo else 0)
            | (0x20 if self.light else 0)
            | (0x40 if self.power_echo else 0)
            | (0x80 if self.xfan else 0)
        )
        state[3] = 0x50 | (0x04 if self.extra_degree_f else 0) | (0x08 if self.fahrenheit else 0)
        state[4] = (self.swing_vertical & 0x0F) | (self.swing_horizontal & 0x07) << 4
        state[5] = (
            (self.display_temperature & 0x03)
            | (0x04 if self.ifeel else 0)
            | (self.byte5_middle & 0x07) << 3
            | (0x40 if self.wifi else 0)
        )
        state[7] = 0x04 if self.econo else 0
        state[7] |= checksum(state) << 4
        return bytes(state)

    @classmethod
    def from_bytes(cls, message: bytes) -> GreeFrame:
        """Parse and validate one state; :class:`ProtocolError` if it is not one."""
        if len(message) != STATE_LENGTH:
            raise TruncatedFrameError(f"a Gree state is 8 bytes, got {len(message)}")
        if message[3] >> 4 != 0x5:
            raise ProtocolError(f"byte 3 of a Gree state has 0x5 on top, got {message[3]:#04x}")
        if message[7] >> 4 != checksum(message):
            raise ChecksumError(
                f"checksum nibble is {message[7] >> 4:#x}, expected {checksum(message):#x}"
            )
        return cls(
            power=bool(message[0] & 0x08),
            mode=message[0] & 0x07,
            fan=message[0] >> 4 & 0x03,
            swing_auto=bool(message[0] & 0x40),
            sleep=bool(message[0] & 0x80),
            temperature=MIN_TEMP + (message[1] & 0x0F),
            timer=message[1] >> 4 | (message[2] & 0x0F) << 4,
            turbo=bool(message[2] & 0x10),
            light=bool(message[2] & 0x20),
            power_echo=bool(message[2] & 0x40),
            xfan=bool(message[2] & 0x80),
            fahrenheit=bool(message[3] & 0x08),
            extra_degree_f=bool(message[3] & 0x04),
            swing_vertical=message[4] & 0x0F,
            swing_horizontal=message[4] >> 4 & 0x07,
            display_temperature=message[5] & 0x03,
            ifeel=bool(message[5] & 0x04),
            byte5_middle=message[5] >> 3 & 0x07,
            wifi=bool(message[5] & 0x40),
            econo=bool(message[7] & 0x04),
        )


def checksum(state: bytes | bytearray) -> int:
    """The high nibble of byte 7: 10 + the low nibbles of bytes 0-3 + the high nibbles of bytes
    4-6, modulo 16 (the Kelvinator block checksum)."""
    low = sum(b & 0x0F for b in state[0:4])
    high = sum(b >> 4 for b in state[4:7])
    return (10 + low + high) & 0x0F


def frame_for(desired: UnitState, model: GreeModel = "YAW1F") -> GreeFrame:
    """The frame a ``model`` remote sends for ``desired`` (IRac's mapping, ir.md §B4).

    Like the remote, auto mode sends 25 °C and dry mode fan speed 1, whatever ``desired`` says.
    """
    mode = choose("mode", desired.mode, _MODES, default=Mode.HEAT_COOL)
    swing = SWING.code(desired.swing_mode or "off")
    temperature = int(
        setpoint(desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, step=1.0, default=25.0)
    )
    return GreeFrame(
        power=desired.power,
        mode=mode,
        fan=DRY_MODE_FAN if mode == MODE_DRY else FAN.code(desired.fan_mode or "auto"),
        swing_auto=swing == 1,
        temperature=AUTO_MODE_SETPOINT if mode == MODE_AUTO else temperature,
        power_echo=desired.power and model == "YAW1F",
        swing_vertical=swing,
        swing_horizontal=SWING_HORIZONTAL.code(desired.swing_horizontal_mode or "off"),
    )


def describe(frame: GreeFrame) -> dict[str, Any]:
    """A frame's fields in Klima's names (native codes outside the vocabulary as ``*_raw``)."""
    fields: dict[str, Any] = {"power": frame.power}
    if frame.power:  # an off frame looks the same from either remote
        fields["model"] = "YAW1F" if frame.power_echo else "YBOFB"
    mode = _MODE_NAMES.get(frame.mode)
    if mode is None:
        fields["mode_raw"] = frame.mode
    else:
        fields["mode"] = mode.value
    fields["target_temperature"] = frame.temperature + (0.5 if frame.extra_degree_f else 0.0)
    if frame.fahrenheit:
        fields["temperature_unit"] = "F"
    fields["fan_mode"] = FAN.name(frame.fan)
    if frame.swing_auto and frame.swing_vertical in SWING_AUTO_POSITIONS:
        fields["swing_mode"] = "auto"
        if SWING_AUTO_POSITIONS[frame.swing_vertical]:
            fields["swing_range"] = SWING_AUTO_POSITIONS[frame.swing_vertical]
    elif not frame.swing_auto and (swing := SWING.name(frame.swing_vertical)) not in (None, "auto"):
        fields["swing_mode"] = swing
    else:
        fields["swing_mode_raw"] = frame.swing_vertical
    horizontal = SWING_HORIZONTAL.name(frame.swing_horizontal)
    if horizontal is None:
        fields["swing_horizontal_mode_raw"] = frame.swing_horizontal
    else:
        fields["swing_horizontal_mode"] = horizontal
    fields.update(
        turbo=frame.turbo,
        light=frame.light,
        xfan=frame.xfan,
        sleep=frame.sleep,
        econo=frame.econo,
        ifeel=frame.ifeel,
        wifi=frame.wifi,
        display_temperature=("off", "setpoint", "inside", "outside")[frame.display_temperature],
    )
    return fields


class GreeCodec:
    """:class:`klima.ir.IrCodec` for GREE (full state, no toggles)."""

    def __init__(self, model: GreeModel = "YAW1F") -> None:
        self.model: GreeModel = model

    @property
    def protocol(self) -> str:
        return PROTOCOL

    @property
    def traits(self) -> Traits:
        return TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        del previous  # every frame is the whole state
        return [frame_for(desired, self.model).to_bytes()]

    def modulate(self, message: bytes) -> IrSignal:
        _check_length(message)
        pulses = [BLOCK1.header_mark, BLOCK1.header_space]
        for byte in message[:4]:
            pulses += encode_bits(byte, 8, BLOCK1)
        pulses += encode_bits(BLOCK_FOOTER, BLOCK_FOOTER_BITS, BLOCK1)
        pulses += [BLOCK1.footer_mark, BLOCK1.gap]
        pulses += encode_section(message[4:], BLOCK2)
        return IrSignal(tuple(pulses))

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        return parse_frames(signal.pulses, _parse_frame)

    def decode(self, message: bytes) -> dict[str, Any]:
        return describe(GreeFrame.from_bytes(message))


def _parse_frame(pulses: tuple[int, ...], index: int) -> tuple[bytes, int]:
    # Block 1 is read as 35 bits: its 4 bytes and the 3-bit footer in a fifth byte.
    block1, index = decode_section(pulses, index, BLOCK1, nbits=32 + BLOCK_FOOTER_BITS)
    if block1[4] != BLOCK_FOOTER:
        raise ProtocolError(f"Gree block footer is {block1[4]:03b}, expected 010")
    block2, index = decode_section(pulses, index, BLOCK2, nbytes=4)
    message = block1[:4] + block2
    GreeFrame.from_bytes(message)
    return message, index


def _check_length(message: bytes) -> None:
    require_length(message, STATE_LENGTH, PROTOCOL)


CODEC = GreeCodec()

__all__ = ["CODEC", "TRAITS", "GreeCodec", "GreeFrame", "GreeModel"]
