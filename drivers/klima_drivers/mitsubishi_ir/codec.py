"""Mitsubishi Electric 144-bit AC remote frames (MITSUBISHI_AC, ir.md §B2).

Remotes RH151, SG15D, SG153, KM14A (MSZ-GV/SF/ZW/FH …). Every frame carries the whole state
with an explicit power bit, so sending a frame twice is harmless (ir.md §B12). The remote sends
each frame twice; :meth:`MitsubishiCodec.modulate` does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klima.errors import ChecksumError, ProtocolError, TruncatedFrameError
from klima.ir import IrSignal
from klima.state import Mode
from klima.traits import Traits
from klima_drivers.ir_common.messages import require_length
from klima_drivers.ir_common.pulse_distance import Timing, decode_section, encode_section
from klima_drivers.ir_common.sections import fold_repeats
from klima_drivers.ir_common.sequence import parse_frames, repeated
from klima_drivers.ir_common.statemap import choose, setpoint
from klima_drivers.ir_common.vocabulary import NameMap

if TYPE_CHECKING:
    from klima.state import UnitState

PROTOCOL = "MITSUBISHI_AC"
STATE_LENGTH = 18
PREFIX = bytes.fromhex("23CB260100")  # bytes 0-4, fixed
COPIES = 2  # the remote sends every frame twice (ir.md §B0 "Repeats")
# ir.md §B1. The gap after each copy is 15500 µs in IRremoteESP8266 v2.9.0 (older releases
# used 17100; a receiver only checks that the gap is long enough, so both decode).
TIMING = Timing(3400, 1750, 450, 1300, 420, 440, 15500, tolerance=0.30)

# Native modes (byte 6 bits 3-5) and the low nibble byte 8 carries with each.
MODE_HEAT, MODE_DRY, MODE_COOL, MODE_AUTO, MODE_FAN = 1, 2, 3, 4, 7
_MODE_NIBBLE = {MODE_HEAT: 0x0, MODE_DRY: 0x2, MODE_COOL: 0x6, MODE_AUTO: 0x0, MODE_FAN: 0x7}
_MODES = {
    Mode.HEAT: MODE_HEAT,
    Mode.DRY: MODE_DRY,
    Mode.COOL: MODE_COOL,
    Mode.HEAT_COOL: MODE_AUTO,
    Mode.FAN_ONLY: MODE_FAN,
}
_MODE_NAMES = {native: mode for mode, native in _MODES.items()}

MIN_TEMP, MAX_TEMP, TEMP_STEP = 16.0, 31.0, 0.5

# Fan: 0 auto, 1-4 speeds, 5 silent (IRac: Min→silent, Low→1, Medium→2, High→3, Max→4).
FAN = NameMap("fan_mode", {"auto": 0, "quiet": 5, "low": 1, "medium": 2, "high": 3, "max": 4})
# Vertical vane: native 0 lets the unit aim it ("off" in Klima: not swinging), 7 swings.
SWING = NameMap(
    "swing_mode",
    {"off": 0, "auto": 7, "highest": 1, "high": 2, "middle": 3, "low": 4, "lowest": 5},
)
# Wide vane: there is no "off"; IRac sends the middle position for it.
SWING_HORIZONTAL = NameMap(
    "swing_horizontal_mode",
    {"auto": 8, "left_max": 1, "left": 2, "middle": 3, "right": 4, "right_max": 5, "wide": 6},
    aliases={"off": 3},
)

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
class MitsubishiFrame:
    """The 18-byte state in native values (ir.md §B2 byte table).

    Bytes 11-16 (timers, econo-cool, i-See options, natural flow, left vane) are kept as raw
    bytes: Klima never sets them, but a decoded capture re-encodes to the same bytes.
    """

    power: bool = True
    mode: int = MODE_HEAT
    isee: bool = False  # byte 6 bit 6
    temperature: float = 22.0  # 16-31 °C in 0.5 steps
    wide_vane: int = 3
    fan: int = 0  # 0 auto, 1-4, 5 silent
    vane: int = 0  # 0 auto, 1-5 positions, 7 swing
    vane_flag: bool = True  # byte 9 bit 6: set in every frame the library generates
    fan_auto_flag: bool = True  # byte 9 bit 7: the library sets it with fan auto
    clock: int = 0  # minutes since midnight, 10-minute resolution
    rest: bytes = bytes(6)  # bytes 11-16 as they are

    def __post_init__(self) -> None:
        if len(self.rest) != 6:
            raise ValueError("rest holds bytes 11-16 (6 bytes)")
        if not MIN_TEMP <= self.temperature <= MAX_TEMP + 0.5:
            raise ValueError(f"temperature {self.temperature} is outside 16..31.5")

    @property
    def econo(self) -> bool:
        return bool(self.rest[3] & 0x20)  # byte 14 bit 5 (econo-cool)

    def to_bytes(self) -> bytes:
        whole = int(self.temperature)
        state = bytearray(PREFIX) + bytearray(STATE_LENGTH - len(PREFIX))
        state[5] = 0x20 if self.power else 0x00
        state[6] = (self.mode & 0x07) << 3 | (0x40 if self.isee else 0)
        state[7] = (whole - 16) & 0x0F | (0x10 if self.temperature != whole else 0)
        state[8] = (self.wide_vane & 0x0F) << 4 | _MODE_NIBBLE.get(self.mode, 0)
        state[9] = (
            (self.fan & 0x07)
            | (self.vane & 0x07) << 3
            | (0x40 if self.vane_flag else 0)
            | (0x80 if self.fan_auto_flag else 0)
        )
        state[10] = self.clock // 10 & 0xFF
        state[11:17] = self.rest
        state[17] = checksum(state)
        return bytes(state)

    @classmethod
    def from_bytes(cls, message: bytes) -> MitsubishiFrame:
        """Parse and validate one state; :class:`ProtocolError` if it is not one."""
        if len(message) != STATE_LENGTH:
            raise TruncatedFrameError(f"a Mitsubishi state is 18 bytes, got {len(message)}")
        if message[:5] != PREFIX:
            raise ProtocolError(f"not a Mitsubishi 144-bit state (starts {message[:5].hex()})")
        if message[17] != checksum(message):
            raise ChecksumError(
                f"checksum is {message[17]:#04x}, the bytes sum to {checksum(message):#04x}"
            )
        return cls(
            power=bool(message[5] & 0x20),
            mode=message[6] >> 3 & 0x07,
            isee=bool(message[6] & 0x40),
            temperature=16 + (message[7] & 0x0F) + (0.5 if message[7] & 0x10 else 0.0),
            wide_vane=message[8] >> 4,
            fan=message[9] & 0x07,
            vane=message[9] >> 3 & 0x07,
            vane_flag=bool(message[9] & 0x40),
            fan_auto_flag=bool(message[9] & 0x80),
            clock=message[10] * 10,
            rest=bytes(message[11:17]),
        )


def checksum(state: bytes | bytearray) -> int:
    """Byte 17: the sum of bytes 0-16, modulo 256."""
    return sum(state[:17]) & 0xFF


def frame_for(desired: UnitState) -> MitsubishiFrame:
    """The frame a remote would send for ``desired`` (IRac's mapping, ir.md §B2)."""
    fan = FAN.code(desired.fan_mode or "auto")
    return MitsubishiFrame(
        power=desired.power,
        mode=choose("mode", desired.mode, _MODES, default=Mode.HEAT_COOL),
        temperature=setpoint(
            desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, step=TEMP_STEP, default=22.0
        ),
        fan=fan,
        fan_auto_flag=fan == 0,
        vane=SWING.code(desired.swing_mode or "off"),
        wide_vane=SWING_HORIZONTAL.code(desired.swing_horizontal_mode or "middle"),
    )


def describe(frame: MitsubishiFrame) -> dict[str, Any]:
    """A frame's fields in Klima's names; native codes outside the vocabulary as ``*_raw``."""
    fields: dict[str, Any] = {"power": frame.power}
    mode = _MODE_NAMES.get(frame.mode)
    if mode is None:
        fields["mode_raw"] = frame.mode
    else:
        fields["mode"] = mode.value
    fields["target_temperature"] = frame.temperature
    for name, table, code in (
        ("fan_mode", FAN, frame.fan),
        ("swing_mode", SWING, frame.vane),
        ("swing_horizontal_mode", SWING_HORIZONTAL, frame.wide_vane),
    ):
        label = table.name(code)
        if label is None:
            fields[f"{name}_raw"] = code
        else:
            fields[name] = label
    fields["econo"] = frame.econo
    fields["isee"] = frame.isee
    fields["clock"] = f"{frame.clock // 60:02d}:{frame.clock % 60:02d}"
    return fields


class MitsubishiCodec:
    """:class:`klima.ir.IrCodec` for MITSUBISHI_AC (full state, no toggles)."""

    @property
    def protocol(self) -> str:
        return PROTOCOL

    @property
    def traits(self) -> Traits:
        return TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        del previous  # every frame is the whole state: nothing depends on what was sent
        return [frame_for(desired).to_bytes()]

    def modulate(self, message: bytes) -> IrSignal:
        _check_length(message)
        return IrSignal(tuple(repeated(encode_section(message, TIMING), COPIES)))

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        frames = parse_frames(signal.pulses, _parse_frame)
        return fold_repeats(frames, COPIES)

    def decode(self, message: bytes) -> dict[str, Any]:
        return describe(MitsubishiFrame.from_bytes(message))


def _parse_frame(pulses: tuple[int, ...], index: int) -> tuple[bytes, int]:
    message, after = decode_section(pulses, index, TIMING, nbytes=STATE_LENGTH)
    MitsubishiFrame.from_bytes(message)
    return message, after


def _check_length(message: bytes) -> None:
    require_length(message, STATE_LENGTH, PROTOCOL)


CODEC = MitsubishiCodec()

__all__ = ["CODEC", "TRAITS", "MitsubishiCodec", "MitsubishiFrame"]
