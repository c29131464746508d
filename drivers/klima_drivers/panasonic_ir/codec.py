"""Panasonic AC IR protocol, 216-bit (PANASONIC_AC; ir.md §B8, §B1, §B12).

One message of 27 bytes, LSB-first, on a 36.7 kHz carrier: a constant 8-byte section, a 10 ms
gap, then 19 bytes of state ending in a sum checksum. Remote models differ in a few marker
bytes (which also decide where quiet/powerful live and whether horizontal swing exists); CKP
remotes send power as a *toggle*.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.state import Mode, UnitState
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, decode_section, encode_section
from klima_drivers.ir_common.statemap import choose, invert, setpoint

PROTOCOL = "PANASONIC_AC"
CARRIER_HZ = 36_700
# The library's receiver allows 40 % for Panasonic.
FIRST = Timing(
    header_mark=3456,
    header_space=1728,
    bit_mark=432,
    one_space=1296,
    zero_space=432,
    footer_mark=432,
    gap=10_000,
    tolerance=0.40,
)
SECOND = dataclasses.replace(FIRST, gap=100_000)

LENGTH, FIRST_LENGTH = 27, 8
FIRST_SECTION = bytes([0x02, 0x20, 0xE0, 0x04, 0x00, 0x00, 0x00, 0x06])
SECOND_PREFIX = bytes([0x02, 0x20, 0xE0, 0x04, 0x00])
BYTE15 = 0x80
CHECKSUM_INIT = 0xF4

Model = Literal["JKE", "LKE", "NKE", "DKE", "CKP", "RKR", "UNKNOWN"]
MODELS: tuple[Model, ...] = ("JKE", "LKE", "NKE", "DKE", "CKP", "RKR")
SWING_H_MODELS = ("DKE", "RKR", "UNKNOWN")  # the others use byte 17 as a marker only
SWAPPED_QUIET_MODELS = ("CKP", "RKR")  # quiet and powerful bits trade places
TOGGLE_POWER_MODELS = ("CKP",)

MIN_TEMP, MAX_TEMP = 16.0, 30.0
FAN_MODE_TEMP = 27  # the remote sends 27 °C in fan-only mode
MODES: dict[Mode, int] = {
    Mode.HEAT_COOL: 0,
    Mode.DRY: 2,
    Mode.COOL: 3,
    Mode.HEAT: 4,
    Mode.FAN_ONLY: 6,
}
FAN_AUTO = 7
# Native speeds; the frame holds speed + 3 (0xA for auto).
FANS: dict[str, int] = {"auto": FAN_AUTO, "min": 0, "low": 1, "medium": 2, "high": 3, "max": 4}
SWING_V_AUTO = 0xF
SWINGS_V: dict[str, int] = {
    "auto": SWING_V_AUTO,
    "highest": 1,
    "high": 2,
    "middle": 3,
    "low": 4,
    "lowest": 5,
}
SWINGS_H: dict[str, int] = {
    "auto": 0xD,
    "left_max": 0x9,
    "left": 0xA,
    "middle": 0x6,
    "right": 0xB,
    "right_max": 0xC,
}
QUIET_BIT, POWERFUL_BIT = 0x01, 0x20  # byte 21, swapped on CKP and RKR
CKP_MARKER = 0x10  # byte 21 bit 4
DEFAULT_TIMERS = bytes([0x00, 0x0E, 0xE0])  # bytes 18-20: no on/off timer
# What each remote model changes in the known-good message (the library's setModel).
MARKERS: dict[str, dict[str, Any]] = {
    "LKE": {"flags": 0x02, "swing_h": 0x06},
    "NKE": {"swing_h": 0x06},
    "DKE": {"model_byte": 0x01, "clock": bytes([0x00, 0x06]), "swing_h": 0x0D},
    "CKP": {"ckp_marker": True, "model_byte": 0x01},
    "RKR": {"flags": 0x08, "model_byte": 0x89, "swing_h": 0x0D},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PanasonicState:
    """The fields of the 27-byte message. Bytes the codec never changes are kept verbatim."""

    power: bool  # byte 13 bit 0 (on CKP: "toggle power")
    mode: int  # byte 13 bits 4-6
    temperature: int  # byte 14 bits 1-5
    fan: int  # native speed (byte 16 high nibble - 3)
    swing_v: int = SWING_V_AUTO  # byte 16 low nibble
    swing_h: int = 0x00  # byte 17: swing H position, or a model marker (0x06 NKE/LKE)
    flags: int = 0x00  # byte 13 bits 1-3: timer enables; model bits (0x02 LKE, 0x08 RKR)
    timers: bytes = DEFAULT_TIMERS  # bytes 18-20
    quiet: bool = False
    powerful: bool = False
    ckp_marker: bool = False  # byte 21 bit 4
    ion: bool = False  # byte 22 bit 0
    model_byte: int = 0x81  # byte 23
    clock: bytes = bytes(2)  # bytes 24-25

    @property
    def model(self) -> Model:
        """The remote model the marker bytes identify (the library's detection order)."""
        if self.model_byte == 0x89:
            return "RKR"
        if self.swing_h == 0x00:
            if self.ckp_marker and self.model_byte & 0x01:
                return "CKP"
            if self.model_byte & 0x80:
                return "JKE"
        if self.swing_h == 0x06 and self.flags == 0x02:
            return "LKE"
        if self.model_byte == 0x01:
            return "DKE"
        if self.swing_h == 0x06:
            return "NKE"
        return "UNKNOWN"

    def to_bytes(self) -> bytes:
        if not MIN_TEMP <= self.temperature <= MAX_TEMP:
            raise ValueError(f"temperature {self.temperature} is outside 16..30")
        if len(self.timers) != 3 or len(self.clock) != 2:
            raise ValueError("timers are 3 bytes and the clock 2")
        quiet_bit, powerful_bit = _quiet_bits(self.model)
        fan_nibble = 0xA if self.fan == FAN_AUTO else self.fan + 3
        body = bytes(
            [
                *SECOND_PREFIX,
                (self.mode & 0x07) << 4 | (self.flags & 0x0E) | int(self.power),
                (self.temperature & 0x1F) << 1,
                BYTE15,
                (fan_nibble & 0x0F) << 4 | (self.swing_v & 0x0F),
                self.swing_h & 0xFF,
                *self.timers,
                (quiet_bit if self.quiet else 0)
                | (powerful_bit if self.powerful else 0)
                | (CKP_MARKER if self.ckp_marker else 0),
                int(self.ion),
                self.model_byte & 0xFF,
                *self.clock,
            ]
        )
        message = FIRST_SECTION + body
        return message + bytes([checksum(message)])

    @classmethod
    def from_bytes(cls, message: bytes) -> PanasonicState:
        check_message(message)
        fan_nibble = message[16] >> 4
        ckp_marker = bool(message[21] & CKP_MARKER)
        raw = cls(
            power=bool(message[13] & 0x01),
            mode=message[13] >> 4 & 0x07,
            temperature=message[14] >> 1 & 0x1F,
            fan=FAN_AUTO if fan_nibble == 0xA else fan_nibble - 3,
            swing_v=message[16] & 0x0F,
            swing_h=message[17],
            flags=message[13] & 0x0E,
            timers=bytes(message[18:21]),
            ckp_marker=ckp_marker,
            ion=bool(message[22] & 0x01),
            model_byte=message[23],
            clock=bytes(message[24:26]),
        )
        quiet_bit, powerful_bit = _quiet_bits(raw.model)
        return dataclasses.replace(
            raw, quiet=bool(message[21] & quiet_bit), powerful=bool(message[21] & powerful_bit)
        )


def template(model: Model) -> PanasonicState:
    """A message of ``model`` with the library's known-good defaults (cool, 25 °C, auto fan)."""
    if model not in MODELS:
        raise ValueError(f"unknown Panasonic remote model {model!r}")
    return PanasonicState(
        power=False, mode=MODES[Mode.COOL], temperature=25, fan=FAN_AUTO, **MARKERS.get(model, {})
    )


def _quiet_bits(model: Model) -> tuple[int, int]:
    if model in SWAPPED_QUIET_MODELS:
        return POWERFUL_BIT, QUIET_BIT
    return QUIET_BIT, POWERFUL_BIT


def checksum(message: bytes) -> int:
    """(0xF4 + Σ bytes 0…25) mod 256."""
    return (CHECKSUM_INIT + sum(message[: LENGTH - 1])) & 0xFF


def check_message(message: bytes) -> None:
    """Raise ProtocolError unless ``message`` is a valid 27-byte Panasonic AC message."""
    if len(message) != LENGTH:
        raise ProtocolError(f"a Panasonic AC message is {LENGTH} bytes, not {len(message)}")
    if message[:FIRST_LENGTH] != FIRST_SECTION or message[8:13] != SECOND_PREFIX:
        raise ProtocolError(f"not a Panasonic AC message: {message[:13].hex(' ')}")
    if checksum(message) != message[-1]:
        raise ProtocolError(f"bad Panasonic checksum {message[-1]:#04x}")


class PanasonicCodec:
    """One Panasonic remote model (the model decides marker bytes and features)."""

    protocol = PROTOCOL

    def __init__(self, model: Model = "DKE") -> None:
        self.template = template(model)
        self.model = model
        self.traits = Traits(
            modes=(Mode.HEAT_COOL, Mode.COOL, Mode.DRY, Mode.HEAT, Mode.FAN_ONLY),
            fan_modes=tuple(FANS),
            swing_modes=tuple(SWINGS_V),
            swing_horizontal_modes=tuple(SWINGS_H) if model in SWING_H_MODELS else (),
            min_temp=MIN_TEMP,
            max_temp=MAX_TEMP,
            temp_step=1.0,
        )

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        mode = choose("mode", desired.mode, MODES, default=Mode.HEAT_COOL)
        temperature = int(
            setpoint(desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, default=25.0)
        )
        changes: dict[str, Any] = {
            "power": self._power_bit(desired, previous),
            "mode": mode,
            "temperature": FAN_MODE_TEMP if mode == MODES[Mode.FAN_ONLY] else temperature,
            "fan": choose("fan_mode", desired.fan_mode, FANS, default="auto"),
            "swing_v": choose("swing_mode", desired.swing_mode, SWINGS_V, default="auto"),
        }
        if self.model in SWING_H_MODELS:
            changes["swing_h"] = choose(
                "swing_horizontal_mode", desired.swing_horizontal_mode, SWINGS_H, default="auto"
            )
        return [dataclasses.replace(self.template, **changes).to_bytes()]

    def _power_bit(self, desired: UnitState, previous: UnitState | None) -> bool:
        if self.model not in TOGGLE_POWER_MODELS:
            return desired.power
        # CKP: the bit flips the unit's power. Unknown previous power: no flip (no toggles
        # without a known previous state); unchanged power: no flip (idempotent).
        return previous is not None and previous.power != desired.power

    def modulate(self, message: bytes) -> IrSignal:
        check_message(message)
        pulses = encode_section(message[:FIRST_LENGTH], FIRST)
        pulses += encode_section(message[FIRST_LENGTH:], SECOND)
        return IrSignal(tuple(pulses), CARRIER_HZ)

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        pulses, index, messages = list(signal.pulses), 0, []
        while index < len(pulses):
            first, index = decode_section(pulses, index, FIRST, nbytes=FIRST_LENGTH)
            second, index = decode_section(pulses, index, SECOND, nbytes=LENGTH - FIRST_LENGTH)
            check_message(first + second)
            messages.append(first + second)
        if not messages:
            raise ProtocolError("no Panasonic AC message in an empty signal")
        return messages

    def decode(self, message: bytes) -> dict[str, Any]:
        state = PanasonicState.from_bytes(message)
        mode = invert(MODES).get(state.mode)
        fan = invert(FANS).get(state.fan)
        swing_v = invert(SWINGS_V).get(state.swing_v)
        if mode is None or fan is None or swing_v is None:
            raise ProtocolError(
                f"unknown Panasonic mode {state.mode}, fan {state.fan} or swing {state.swing_v}"
            )
        model = state.model
        fields: dict[str, Any] = {}
        if model not in TOGGLE_POWER_MODELS:
            fields["power"] = state.power
        elif state.power:
            fields["toggle"] = "power"
        fields |= {
            "mode": mode.value,
            "target_temperature": float(state.temperature),
            "fan_mode": fan,
            "swing_mode": swing_v,
        }
        swing_h = invert(SWINGS_H).get(state.swing_h)
        if model in SWING_H_MODELS and swing_h is not None:
            fields["swing_horizontal_mode"] = swing_h
        fields |= {
            "quiet": state.quiet,
            "turbo": state.powerful,
            "ion": state.ion,
            "model": model,
        }
        return fields


CODEC = PanasonicCodec()
