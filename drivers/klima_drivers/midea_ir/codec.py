"""Midea AC remote frames (MIDEA, 48-bit; ir.md §B6).

Midea, Pioneer System, Lennox, Comfee, Danby, Keystone, MrCool, Trotec, Kaysun … A command
frame carries power, mode, fan and setpoint; swing, econo, turbo, light and clean are one-shot
toggles and quiet is switched by its own on/off frames (ir.md §B12). Each 6-byte message goes on
the air followed by its bitwise inverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from klima.errors import ChecksumError, ProtocolError, TruncatedFrameError
from klima.ir import IrSignal
from klima.state import Mode
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, decode_section, encode_section
from klima_drivers.ir_common.sequence import parse_frames
from klima_drivers.ir_common.statemap import choose, setpoint
from klima_drivers.ir_common.vocabulary import NameMap, toggle_due

if TYPE_CHECKING:
    from klima.state import UnitState

PROTOCOL = "MIDEA"
MESSAGE_LENGTH = 6
TemperatureUnit = Literal["C", "F"]
TIMING = Timing(4480, 4480, 560, 1680, 560, 560, 5600, lsb_first=False, tolerance=0.30)
END_OF_MESSAGE_US = 100_000  # the extra pause after the inverted copy (ir.md §B1 "+100 ms")

# T0: the header 0b10100 and a 3-bit message type.
TYPE_COMMAND, TYPE_SPECIAL, TYPE_FOLLOW_ME = 0xA1, 0xA2, 0xA4
# Special messages, complete (ir.md §B6; each carries a valid checksum).
SPECIALS: dict[str, int] = {
    "swing": 0xA201FFFFFF7C,
    "econo": 0xA202FFFFFF7E,
    "light": 0xA208FFFFFF75,
    "turbo": 0xA209FFFFFF74,
    "clean": 0xA20DFFFFFF70,
    "heat_8c": 0xA20FFFFFFF73,
    "quiet_on": 0xA212FFFFFF6E,
    "quiet_off": 0xA213FFFFFF6F,
}
_SPECIAL_MEANINGS: dict[int, dict[str, Any]] = {
    SPECIALS["swing"]: {"toggle": "swing_mode"},
    SPECIALS["econo"]: {"toggle": "econo"},
    SPECIALS["light"]: {"toggle": "light"},
    SPECIALS["turbo"]: {"toggle": "turbo"},
    SPECIALS["clean"]: {"toggle": "clean"},
    SPECIALS["heat_8c"]: {"command": "heat_8c"},
    SPECIALS["quiet_on"]: {"quiet": True},
    SPECIALS["quiet_off"]: {"quiet": False},
}

MODE_COOL, MODE_DRY, MODE_AUTO, MODE_HEAT, MODE_FAN = 0, 1, 2, 3, 4
_MODES = {
    Mode.COOL: MODE_COOL,
    Mode.DRY: MODE_DRY,
    Mode.HEAT_COOL: MODE_AUTO,
    Mode.HEAT: MODE_HEAT,
    Mode.FAN_ONLY: MODE_FAN,
}
_MODE_NAMES = {native: mode for mode, native in _MODES.items()}
MIN_TEMP, MAX_TEMP = 17, 30
MIN_TEMP_F, MAX_TEMP_F = 62, 86

FAN = NameMap("fan_mode", {"auto": 0, "low": 1, "medium": 2, "high": 3})
SWING = NameMap("swing_mode", {"off": 0, "auto": 1})  # a toggle: no native code on the frame

TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.HEAT, Mode.COOL, Mode.DRY, Mode.FAN_ONLY),
    fan_modes=FAN.names,
    swing_modes=SWING.names,
    min_temp=float(MIN_TEMP),
    max_temp=float(MAX_TEMP),
    temp_step=1.0,
)


def reverse_bits(byte: int) -> int:
    return int(f"{byte:08b}"[::-1], 2)


def checksum(body: bytes) -> int:
    """T5 from T0…T4: bit-reverse each byte, sum, negate modulo 256, bit-reverse the result."""
    return reverse_bits(-sum(reverse_bits(b) for b in body[:5]) & 0xFF)


@dataclass(frozen=True, slots=True, kw_only=True)
class MideaFrame:
    """A command (or follow-me) frame in native values (ir.md §B6 byte table)."""

    kind: int = TYPE_COMMAND
    power: bool = True
    sleep: bool = False
    mode: int = MODE_AUTO
    fan: int = 0
    fahrenheit: bool = False  # T2 bit 5: the setpoint is °F - 62 instead of °C - 17
    temperature: int = 25  # in the unit ``fahrenheit`` says
    t1_bit5: bool = False  # unknown; set on some Pioneer units
    t2_top: int = 0b01  # T2 bits 6-7: bit 6 is set in every frame observed
    off_timer: int = 0xFF  # T3 as it is (0xFF: no timer, beep bit set)
    sensor: int = 0xFF  # T4 as it is (follow-me temperature or on-timer; 0xFF: unused)

    def to_bytes(self) -> bytes:
        offset = self.temperature - (MIN_TEMP_F if self.fahrenheit else MIN_TEMP)
        body = bytes(
            (
                self.kind,
                (0x80 if self.power else 0)
                | (0x40 if self.sleep else 0)
                | (0x20 if self.t1_bit5 else 0)
                | (self.fan & 0x03) << 3
                | (self.mode & 0x07),
                (self.t2_top & 0x03) << 6 | (0x20 if self.fahrenheit else 0) | offset & 0x1F,
                self.off_timer,
                self.sensor,
            )
        )
        return body + bytes((checksum(body),))

    @property
    def celsius(self) -> float:
        """The setpoint in °C (a °F setpoint rounded to the nearest degree, as remotes show it)."""
        if not self.fahrenheit:
            return float(self.temperature)
        return float(round((self.temperature - 32) * 5 / 9))

    @classmethod
    def from_bytes(cls, message: bytes) -> MideaFrame:
        validate(message)
        if message[0] not in (TYPE_COMMAND, TYPE_FOLLOW_ME):
            raise ProtocolError(f"{message.hex()} is not a Midea command frame")
        fahrenheit = bool(message[2] & 0x20)
        return cls(
            kind=message[0],
            power=bool(message[1] & 0x80),
            sleep=bool(message[1] & 0x40),
            t1_bit5=bool(message[1] & 0x20),
            fan=message[1] >> 3 & 0x03,
            mode=message[1] & 0x07,
            fahrenheit=fahrenheit,
            temperature=(message[2] & 0x1F) + (MIN_TEMP_F if fahrenheit else MIN_TEMP),
            t2_top=message[2] >> 6,
            off_timer=message[3],
            sensor=message[4],
        )


def validate(message: bytes) -> None:
    """Length, header and checksum of any Midea message; :class:`ProtocolError` if wrong."""
    if len(message) != MESSAGE_LENGTH:
        raise TruncatedFrameError(f"a Midea message is 6 bytes, got {len(message)}")
    if message[0] >> 3 != 0b10100:
        raise ProtocolError(f"{message.hex()} does not start with the Midea header 0b10100")
    if message[5] != checksum(message):
        raise ChecksumError(f"checksum is {message[5]:#04x}, expected {checksum(message):#04x}")


def frame_for(desired: UnitState, unit: TemperatureUnit = "C") -> MideaFrame:
    """The command frame for ``desired``; ``unit`` "F" sends the setpoint in °F (for remotes
    that only speak °F), otherwise °C frames (preferred by ir.md §B6)."""
    celsius = int(
        setpoint(desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, step=1.0, default=25.0)
    )
    fahrenheit = unit == "F"
    temperature = round(celsius * 9 / 5 + 32) if fahrenheit else celsius
    return MideaFrame(
        power=desired.power,
        mode=choose("mode", desired.mode, _MODES, default=Mode.HEAT_COOL),
        fan=FAN.code(desired.fan_mode or "auto"),
        fahrenheit=fahrenheit,
        temperature=min(max(temperature, MIN_TEMP_F), MAX_TEMP_F) if fahrenheit else temperature,
    )


def describe(frame: MideaFrame) -> dict[str, Any]:
    fields: dict[str, Any] = {"power": frame.power}
    mode = _MODE_NAMES.get(frame.mode)
    if mode is None:
        fields["mode_raw"] = frame.mode
    else:
        fields["mode"] = mode.value
    fields["target_temperature"] = frame.celsius
    fields["temperature_unit"] = "F" if frame.fahrenheit else "C"
    if frame.fahrenheit:
        fields["target_temperature_f"] = frame.temperature
    fields["fan_mode"] = FAN.name(frame.fan)
    fields["sleep"] = frame.sleep
    if frame.kind == TYPE_FOLLOW_ME:
        fields["follow_me"] = True
        fields["sensor_raw"] = frame.sensor
    return fields


class MideaCodec:
    """:class:`klima.ir.IrCodec` for MIDEA: command frames with explicit power, toggles."""

    def __init__(self, temperature_unit: TemperatureUnit = "C") -> None:
        self.temperature_unit: TemperatureUnit = temperature_unit

    @property
    def protocol(self) -> str:
        return PROTOCOL

    @property
    def traits(self) -> Traits:
        return TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        """The command frame, then a swing toggle when the swing setting differs from the
        (known) previous one and the unit ends up on."""
        messages = [frame_for(desired, self.temperature_unit).to_bytes()]
        if toggle_due(desired, previous, "swing_mode"):
            messages.append(self.special("swing"))
        return messages

    def special(self, name: str) -> bytes:
        """A one-shot message by name (one of :data:`SPECIALS`)."""
        try:
            return SPECIALS[name].to_bytes(MESSAGE_LENGTH, "big")
        except KeyError:
            raise ValueError(f"unknown Midea special {name!r} ({', '.join(SPECIALS)})") from None

    def modulate(self, message: bytes) -> IrSignal:
        if len(message) != MESSAGE_LENGTH:
            raise ValueError(f"a Midea message is 6 bytes, got {len(message)}")
        inverse = bytes(b ^ 0xFF for b in message)
        pulses = encode_section(message, TIMING) + encode_section(inverse, TIMING)
        pulses[-1] += END_OF_MESSAGE_US
        return IrSignal(tuple(pulses))

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        return parse_frames(signal.pulses, _parse_message)

    def decode(self, message: bytes) -> dict[str, Any]:
        validate(message)
        value = int.from_bytes(message, "big")
        if value in _SPECIAL_MEANINGS:
            return dict(_SPECIAL_MEANINGS[value])
        if message[0] == TYPE_SPECIAL:
            raise ProtocolError(f"unknown Midea special message {message.hex()}")
        return describe(MideaFrame.from_bytes(message))


def _parse_message(pulses: tuple[int, ...], index: int) -> tuple[bytes, int]:
    message, index = decode_section(pulses, index, TIMING, nbytes=MESSAGE_LENGTH)
    inverse, index = decode_section(pulses, index, TIMING, nbytes=MESSAGE_LENGTH)
    if any(a ^ b != 0xFF for a, b in zip(message, inverse, strict=True)):
        raise ProtocolError("the second Midea frame is not the inverse of the first")
    validate(message)
    return message, index


CODEC = MideaCodec()

__all__ = ["CODEC", "SPECIALS", "TRAITS", "MideaCodec", "MideaFrame"]
