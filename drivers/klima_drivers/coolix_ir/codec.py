"""Coolix AC remote frames (COOLIX, 24-bit; ir.md §B5).

Beko, Midea (RG52D/RG57 remotes), Comfee, Tokio, Airwell, Kastron, Kaysun, Toshiba (RAS-M…YKV),
Bosch, Fisher … A state frame carries mode, setpoint and fan and always means "on"; off is a
fixed frame of its own, and swing, turbo, LED, clean and sleep are one-shot toggles (ir.md
§B12). A message is 3 bytes; on the air each byte is followed by its complement and the frame
is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klima.errors import ProtocolError, TruncatedFrameError
from klima.ir import IrSignal
from klima.state import Mode
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, decode_section, encode_section
from klima_drivers.ir_common.sections import fold_repeats
from klima_drivers.ir_common.sequence import parse_frames, repeated
from klima_drivers.ir_common.statemap import choose, setpoint
from klima_drivers.ir_common.vocabulary import NameMap, toggle_due

if TYPE_CHECKING:
    from klima.state import UnitState

PROTOCOL = "COOLIX"
MESSAGE_LENGTH = 3
COPIES = 2
TIMING = Timing(4692, 4416, 552, 1656, 552, 552, 5244, lsb_first=False, tolerance=0.30)
END_OF_MESSAGE_US = 100_000  # the extra pause after the last copy (ir.md §B1 "+100 ms")

# Fixed frames (IRremoteESP8266 src/ir_Coolix.h, quoted in ir.md §B5).
OFF = 0xB27BE0
SPECIALS: dict[str, int] = {
    "swing": 0xB26BE0,  # toggles vertical swing
    "swing_step": 0xB20FE0,  # moves the vane one position
    "sleep": 0xB2E003,
    "turbo": 0xB5F5A2,  # the library also names this value "swing H"
    "light": 0xB5F5A5,  # the LED display
    "clean": 0xB5F5AA,
}
_SPECIAL_MEANINGS: dict[int, dict[str, Any]] = {
    SPECIALS["swing"]: {"toggle": "swing_mode"},
    SPECIALS["swing_step"]: {"command": "swing_step"},
    SPECIALS["sleep"]: {"toggle": "sleep"},
    SPECIALS["turbo"]: {"toggle": "turbo"},
    SPECIALS["light"]: {"toggle": "light"},
    SPECIALS["clean"]: {"toggle": "clean"},
}

MODE_COOL, MODE_DRY, MODE_AUTO, MODE_HEAT = 0, 1, 2, 3
FAN_MODE_TEMP_CODE = 0b1110  # with the dry mode bits: fan only, no setpoint
SENSOR_UNUSED = 0b11111
# The setpoint is a Gray-like code, 17 °C first.
TEMP_CODES = (
    0b0000, 0b0001, 0b0011, 0b0010, 0b0110, 0b0111, 0b0101,
    0b0100, 0b1100, 0b1101, 0b1001, 0b1000, 0b1010, 0b1011,
)  # fmt: skip
MIN_TEMP, MAX_TEMP = 17, 30
_TEMPERATURES = {code: MIN_TEMP + i for i, code in enumerate(TEMP_CODES)}

FAN_AUTO0 = 0b000  # "auto" as auto and dry mode frames carry it
FAN = NameMap("fan_mode", {"auto": 0b101, "low": 0b100, "medium": 0b010, "high": 0b001})
SWING = NameMap("swing_mode", {"off": 0, "auto": 1})  # a toggle: no native code on the frame

TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.HEAT, Mode.COOL, Mode.DRY, Mode.FAN_ONLY),
    fan_modes=FAN.names,
    swing_modes=SWING.names,
    min_temp=float(MIN_TEMP),
    max_temp=float(MAX_TEMP),
    temp_step=1.0,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CoolixFrame:
    """A state frame in native values (ir.md §B5 bit table)."""

    mode: int = MODE_AUTO  # 0 cool, 1 dry, 2 auto, 3 heat
    fan_only: bool = False  # dry mode bits with the fan-only temperature code
    temperature: int = 25  # °C, 17-30 (ignored when fan_only)
    fan: int = FAN_AUTO0
    sensor_temperature: int | None = None  # °C the remote reports for iFeel / zone follow
    zone_follow: bool = False

    def to_value(self) -> int:
        temp_code = FAN_MODE_TEMP_CODE if self.fan_only else TEMP_CODES[self.temperature - 17]
        mode = MODE_DRY if self.fan_only else self.mode
        sensor = SENSOR_UNUSED if self.sensor_temperature is None else self.sensor_temperature
        return (
            0xB2 << 16
            | (1 << 19 if self.zone_follow else 0)
            | (self.fan & 0x07) << 13
            | (sensor & 0x1F) << 8
            | temp_code << 4
            | (mode & 0x03) << 2
            | (1 << 1 if self.zone_follow else 0)
        )

    def to_bytes(self) -> bytes:
        return self.to_value().to_bytes(MESSAGE_LENGTH, "big")

    @classmethod
    def from_value(cls, value: int) -> CoolixFrame:
        """Parse a state frame; :class:`ProtocolError` for anything else (specials included)."""
        if value >> 20 != 0xB or value >> 16 & 0x07 != 0b010 or value & 0x01:
            raise ProtocolError(f"{value:#08x} is not a Coolix state frame")
        temp_code = value >> 4 & 0x0F
        mode = value >> 2 & 0x03
        fan_only = mode == MODE_DRY and temp_code == FAN_MODE_TEMP_CODE
        if not fan_only and temp_code not in _TEMPERATURES:
            raise ProtocolError(f"{temp_code:04b} is not a Coolix temperature code")
        sensor = value >> 8 & 0x1F
        return cls(
            mode=mode,
            fan_only=fan_only,
            temperature=_TEMPERATURES.get(temp_code, 25),
            fan=value >> 13 & 0x07,
            sensor_temperature=None if sensor == SENSOR_UNUSED else sensor,
            zone_follow=bool(value & 1 << 19),
        )


# Fan only travels as dry mode bits with a special temperature code (see CoolixFrame).
_MODES = {
    Mode.COOL: MODE_COOL,
    Mode.DRY: MODE_DRY,
    Mode.HEAT_COOL: MODE_AUTO,
    Mode.HEAT: MODE_HEAT,
    Mode.FAN_ONLY: MODE_DRY,
}
_MODE_NAMES = {
    MODE_COOL: Mode.COOL,
    MODE_DRY: Mode.DRY,
    MODE_AUTO: Mode.HEAT_COOL,
    MODE_HEAT: Mode.HEAT,
}


def frame_for(desired: UnitState) -> CoolixFrame:
    """The state frame for ``desired`` (IRac's mapping): auto and dry mode frames carry
    "auto" fan as the special code 0b000, the others as 0b101."""
    fan_only = desired.mode is Mode.FAN_ONLY
    mode = choose("mode", desired.mode, _MODES, default=Mode.HEAT_COOL)
    fan = FAN.code(desired.fan_mode or "auto")
    if fan == FAN.code("auto") and mode in (MODE_AUTO, MODE_DRY) and not fan_only:
        fan = FAN_AUTO0
    temperature = int(
        setpoint(desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, step=1.0, default=25.0)
    )
    return CoolixFrame(mode=mode, fan_only=fan_only, temperature=temperature, fan=fan)


def describe(frame: CoolixFrame) -> dict[str, Any]:
    fields: dict[str, Any] = {"power": True}  # every state frame switches the unit on
    if frame.fan_only:
        fields["mode"] = Mode.FAN_ONLY.value
    else:
        fields["mode"] = _MODE_NAMES[frame.mode].value
        fields["target_temperature"] = float(frame.temperature)
    fan = "auto" if frame.fan == FAN_AUTO0 else FAN.name(frame.fan)
    if fan is None:
        fields["fan_mode_raw"] = frame.fan  # 0b110 zone follow, 0b111 fixed
    else:
        fields["fan_mode"] = fan
    fields["zone_follow"] = frame.zone_follow
    if frame.sensor_temperature is not None:
        fields["sensor_temperature"] = float(frame.sensor_temperature)
    return fields


class CoolixCodec:
    """:class:`klima.ir.IrCodec` for COOLIX: state frames, a separate off frame, toggles."""

    @property
    def protocol(self) -> str:
        return PROTOCOL

    @property
    def traits(self) -> Traits:
        return TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        """Off: the off frame alone. On: the state frame, then a swing toggle when the swing
        setting differs from the (known) previous one."""
        if not desired.power:
            return [OFF.to_bytes(MESSAGE_LENGTH, "big")]
        messages = [frame_for(desired).to_bytes()]
        if toggle_due(desired, previous, "swing_mode"):
            messages.append(self.special("swing"))
        return messages

    def special(self, name: str) -> bytes:
        """A one-shot frame by name: ``off`` or one of :data:`SPECIALS`."""
        if name == "off":
            return OFF.to_bytes(MESSAGE_LENGTH, "big")
        try:
            return SPECIALS[name].to_bytes(MESSAGE_LENGTH, "big")
        except KeyError:
            raise ValueError(f"unknown Coolix special {name!r} ({', '.join(SPECIALS)})") from None

    def modulate(self, message: bytes) -> IrSignal:
        if len(message) != MESSAGE_LENGTH:
            raise ValueError(f"a Coolix message is 3 bytes, got {len(message)}")
        on_air = bytes(b for byte in message for b in (byte, byte ^ 0xFF))
        frame = encode_section(on_air, TIMING)
        return IrSignal(tuple(repeated(frame, COPIES, final_gap_extra=END_OF_MESSAGE_US)))

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        return fold_repeats(parse_frames(signal.pulses, _parse_frame), COPIES)

    def decode(self, message: bytes) -> dict[str, Any]:
        if len(message) != MESSAGE_LENGTH:
            raise TruncatedFrameError(f"a Coolix message is 3 bytes, got {len(message)}")
        value = int.from_bytes(message, "big")
        if value == OFF:
            return {"power": False}
        if value in _SPECIAL_MEANINGS:
            return dict(_SPECIAL_MEANINGS[value])
        return describe(CoolixFrame.from_value(value))


def _parse_frame(pulses: tuple[int, ...], index: int) -> tuple[bytes, int]:
    on_air, after = decode_section(pulses, index, TIMING, nbytes=2 * MESSAGE_LENGTH)
    message = on_air[0::2]
    if any(byte ^ inverse != 0xFF for byte, inverse in zip(message, on_air[1::2], strict=True)):
        raise ProtocolError(f"Coolix bytes and complements disagree: {on_air.hex()}")
    return message, after


CODEC = CoolixCodec()

__all__ = ["CODEC", "OFF", "SPECIALS", "TRAITS", "CoolixCodec", "CoolixFrame"]
