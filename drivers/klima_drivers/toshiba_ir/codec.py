"""Toshiba AC IR protocol, 72-bit (TOSHIBA_AC; ir.md §B9, §B1, §B12).

Frames are MSB-first and every frame is sent twice. The 9-byte state frame carries setpoint,
mode and fan; *off is mode 7* in that same frame. Swing travels in its own 7-byte frame after
the state, and turbo/econo in a 10-byte variant of the state frame. Every frame ends with the
XOR of the bytes before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import xor
from typing import Any

from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.state import Mode, UnitState
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, encode_section
from klima_drivers.ir_common.sections import decode_section_of_lengths, fold_repeats
from klima_drivers.ir_common.statemap import choose, invert, must_resend, setpoint

PROTOCOL = "TOSHIBA_AC"
CARRIER_HZ = 38_000
TIMING = Timing(
    header_mark=4400,
    header_space=4300,
    bit_mark=580,
    one_space=1600,
    zero_space=490,
    footer_mark=580,
    gap=7400,
    lsb_first=False,
)
COPIES = 2  # every frame is sent twice (repeat = 1)

PREFIX = bytes([0xF2, 0x0D])
STATE_LENGTH, SWING_LENGTH, LONG_LENGTH = 9, 7, 10
# Byte 2's low nibble is a length code, byte 4 the frame kind.
LENGTH_CODES = {STATE_LENGTH: 3, SWING_LENGTH: 1, LONG_LENGTH: 4}
KIND_BYTES = {STATE_LENGTH: 0x01, SWING_LENGTH: 0x21, LONG_LENGTH: 0x09}

MIN_TEMP, MAX_TEMP = 17.0, 30.0
MODE_OFF = 7
MODES: dict[Mode, int] = {
    Mode.HEAT_COOL: 0,
    Mode.COOL: 1,
    Mode.DRY: 2,
    Mode.HEAT: 3,
    Mode.FAN_ONLY: 4,
}
# Raw fan: 0 auto, otherwise speed 1…5 sent as 2…6 (stdAc Min→1 … Max→5).
FANS: dict[str, int] = {"auto": 0, "min": 2, "low": 3, "medium": 4, "high": 5, "max": 6}
SWING_STEP, SWING_ON, SWING_OFF, SWING_TOGGLE = 0, 1, 2, 4
SWINGS: dict[str, int] = {"off": SWING_OFF, "auto": SWING_ON}
SWING_MEANING: dict[int, dict[str, Any]] = {
    SWING_STEP: {"step": "swing_mode"},
    SWING_ON: {"swing_mode": "auto"},
    SWING_OFF: {"swing_mode": "off"},
    SWING_TOGGLE: {"toggle": "swing_mode"},
}
TURBO, ECONO = 1, 3  # byte 8 of the 10-byte frame
MODELS = {0: "A", 1: "B"}  # byte 2's high nibble: the remote model

TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.COOL, Mode.DRY, Mode.HEAT, Mode.FAN_ONLY),
    fan_modes=("auto", "min", "low", "medium", "high", "max"),
    swing_modes=("off", "auto"),
    min_temp=MIN_TEMP,
    max_temp=MAX_TEMP,
    temp_step=1.0,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ToshibaState:
    """The fields of a 9-byte state frame (10 bytes when ``special`` is set)."""

    temperature: int  # °C, 17-30 (byte 5 high nibble = °C - 17)
    mode: int  # byte 6 bits 0-2; 7 = off
    fan: int  # byte 6 bits 5-7, raw (0 auto, 2…6)
    filter: bool = False  # byte 7 bit 4
    special: int | None = None  # byte 8 of the 10-byte frame: TURBO or ECONO
    model: int = 0  # byte 2 high nibble (0 = remote A, 1 = remote B)

    def to_bytes(self) -> bytes:
        if not MIN_TEMP <= self.temperature <= MAX_TEMP:
            raise ValueError(f"temperature {self.temperature} is outside 17..30")
        length = STATE_LENGTH if self.special is None else LONG_LENGTH
        body = [
            (self.temperature - int(MIN_TEMP)) << 4,
            (self.mode & 0x07) | (self.fan & 0x07) << 5,
            int(self.filter) << 4,
        ]
        if self.special is not None:
            body.append(self.special & 0xFF)
        return _with_xor(_head(length, self.model) + bytes(body))

    @classmethod
    def from_bytes(cls, message: bytes) -> ToshibaState:
        check_message(message)
        if len(message) == SWING_LENGTH:
            raise ProtocolError("a Toshiba swing frame carries no state")
        return cls(
            temperature=int(MIN_TEMP) + (message[5] >> 4),
            mode=message[6] & 0x07,
            fan=message[6] >> 5,
            filter=bool(message[7] & 0x10),
            special=message[8] if len(message) == LONG_LENGTH else None,
            model=message[2] >> 4,
        )


def swing_frame(swing: int, model: int = 0) -> bytes:
    """The 7-byte swing frame (``SWING_ON``, ``SWING_OFF``, ``SWING_TOGGLE``, ``SWING_STEP``)."""
    return _with_xor(_head(SWING_LENGTH, model) + bytes([swing & 0x07]))


def _head(length: int, model: int) -> bytes:
    byte2 = (model & 0x0F) << 4 | LENGTH_CODES[length]
    return PREFIX + bytes([byte2, ~byte2 & 0xFF, KIND_BYTES[length]])


def _with_xor(data: bytes) -> bytes:
    return data + bytes([reduce(xor, data, 0)])


def check_message(message: bytes) -> None:
    """Raise ProtocolError unless ``message`` is a valid Toshiba state, long or swing frame."""
    if len(message) not in LENGTH_CODES:
        raise ProtocolError(f"a Toshiba frame is 7, 9 or 10 bytes, not {len(message)}")
    if message[:2] != PREFIX or message[3] != ~message[2] & 0xFF:
        raise ProtocolError(f"not a Toshiba AC frame: {message[:4].hex(' ')}")
    if message[2] & 0x0F != LENGTH_CODES[len(message)] or message[4] != KIND_BYTES[len(message)]:
        raise ProtocolError(f"Toshiba frame header {message[2:5].hex(' ')} does not fit its length")
    if reduce(xor, message[:-1], 0) != message[-1]:
        raise ProtocolError(f"bad Toshiba checksum {message[-1]:#04x}")


class ToshibaCodec:
    """Toshiba (WH-TA/TG/UB remotes, RAS-… units) and Carrier 42NQV."""

    protocol = PROTOCOL
    traits = TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        state = ToshibaState(
            temperature=int(
                setpoint(desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, default=24.0)
            ),
            # Off is a mode; turning on again is the state frame with the operating mode.
            mode=choose("mode", desired.mode, MODES, default=Mode.HEAT_COOL)
            if desired.power
            else MODE_OFF,
            fan=choose("fan_mode", desired.fan_mode, FANS, default="auto"),
        )
        messages = [state.to_bytes()]
        if (
            desired.power
            and desired.swing_mode is not None
            and must_resend("swing_mode", desired, previous)
        ):
            messages.append(
                swing_frame(choose("swing_mode", desired.swing_mode, SWINGS, default="off"))
            )
        return messages

    def modulate(self, message: bytes) -> IrSignal:
        check_message(message)
        return IrSignal(tuple(encode_section(message, TIMING) * COPIES), CARRIER_HZ)

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        pulses, index, frames = signal.pulses, 0, []
        while index < len(pulses):
            frame, index = decode_section_of_lengths(pulses, index, TIMING, tuple(LENGTH_CODES))
            check_message(frame)
            frames.append(frame)
        if not frames:
            raise ProtocolError("no Toshiba AC frame in an empty signal")
        return fold_repeats(frames, COPIES)

    def decode(self, message: bytes) -> dict[str, Any]:
        check_message(message)
        if len(message) == SWING_LENGTH:
            swing = message[5] & 0x07
            if swing not in SWING_MEANING or message[5] & 0xF8:
                raise ProtocolError(f"unknown Toshiba swing value {message[5]:#04x}")
            return dict(SWING_MEANING[swing])
        state = ToshibaState.from_bytes(message)
        fan = invert(FANS).get(state.fan)
        if fan is None:
            raise ProtocolError(f"unknown Toshiba fan value {state.fan}")
        fields: dict[str, Any] = {"power": state.mode != MODE_OFF}
        if state.mode != MODE_OFF:
            mode = invert(MODES).get(state.mode)
            if mode is None:
                raise ProtocolError(f"unknown Toshiba mode {state.mode}")
            fields["mode"] = mode.value
        fields |= {
            "target_temperature": float(state.temperature),
            "fan_mode": fan,
            "filter": state.filter,
            "model": MODELS.get(state.model, str(state.model)),
        }
        if state.special is not None:
            fields["turbo"] = state.special == TURBO
            fields["econo"] = state.special == ECONO
        return fields


CODEC = ToshibaCodec()
