"""Fujitsu AC IR protocol, AR-RAH2E family (FUJITSU_AC; ir.md §B7, §B1, §B12).

Two message kinds, both LSB-first and sent once:

* the 16-byte *state* frame ``14 63 00 10 10 FE 09 30 …`` carrying mode, setpoint, fan and
  swing, with a "turn on" flag that is set only in the frame that switches the unit on;
* the 7-byte *command* frame ``14 63 00 10 10 CMD ~CMD``: power off (the only way to switch
  off), and the one-shot vane/econo/powerful commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.state import Mode, UnitState
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, encode_section
from klima_drivers.ir_common.sections import decode_section_of_lengths
from klima_drivers.ir_common.statemap import choose, invert, setpoint

PROTOCOL = "FUJITSU_AC"
CARRIER_HZ = 38_000
# ir.md §B1; the library's receiver adds 5 % to its default 25 % tolerance for Fujitsu.
TIMING = Timing(
    header_mark=3324,
    header_space=1574,
    bit_mark=448,
    one_space=1182,
    zero_space=390,
    footer_mark=448,
    gap=8100,
    tolerance=0.30,
)

STATE_LENGTH = 16
COMMAND_LENGTH = 7
PREFIX = bytes([0x14, 0x63])
STATE_MARKER = 0xFE  # byte 5 of a state frame (ARRAH2E)
REST_LENGTH = 0x09  # byte 6: bytes that follow byte 6
PROTOCOL_BYTE = 0x30  # byte 7 (0x31 only on ARREW4E)
BYTE14_CONSTANT = 0x20  # bit 5 is always set on ARRAH2E/ARREB1E/ARRY4

MIN_TEMP, MAX_TEMP = 16.0, 30.0

# One-shot command codes (byte 5 of the 7-byte frame).
CMD_OFF = 0x02
CMD_ECONO = 0x09
CMD_POWERFUL = 0x39
CMD_STEP_VERTICAL = 0x6C
CMD_TOGGLE_SWING_VERTICAL = 0x6D
CMD_STEP_HORIZONTAL = 0x79
CMD_TOGGLE_SWING_HORIZONTAL = 0x7A
COMMAND_MEANING: dict[int, dict[str, Any]] = {
    CMD_OFF: {"power": False},
    CMD_ECONO: {"toggle": "econo"},
    CMD_POWERFUL: {"toggle": "turbo"},
    CMD_STEP_VERTICAL: {"step": "swing_mode"},
    CMD_TOGGLE_SWING_VERTICAL: {"toggle": "swing_mode"},
    CMD_STEP_HORIZONTAL: {"step": "swing_horizontal_mode"},
    CMD_TOGGLE_SWING_HORIZONTAL: {"toggle": "swing_horizontal_mode"},
}

MODES: dict[Mode, int] = {
    Mode.HEAT_COOL: 0,
    Mode.COOL: 1,
    Mode.DRY: 2,
    Mode.FAN_ONLY: 3,
    Mode.HEAT: 4,
}
# stdAc: Min→quiet, High/Max→high. Raw 4 is a dedicated quiet fan level.
FANS: dict[str, int] = {"auto": 0, "high": 1, "medium": 2, "low": 3, "quiet": 4}
SWING_VERTICAL = 0b01
SWING_HORIZONTAL = 0b10
SWINGS_V: dict[str, int] = {"off": 0, "auto": SWING_VERTICAL}
SWINGS_H: dict[str, int] = {"off": 0, "auto": SWING_HORIZONTAL}
TIMER_TYPES = {0: "none", 1: "sleep", 2: "off", 3: "on"}

TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.COOL, Mode.DRY, Mode.FAN_ONLY, Mode.HEAT),
    fan_modes=("auto", "quiet", "low", "medium", "high"),
    swing_modes=("off", "auto"),
    swing_horizontal_modes=("off", "auto"),
    min_temp=MIN_TEMP,
    max_temp=MAX_TEMP,
    temp_step=1.0,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FujitsuState:
    """The fields of a 16-byte state frame, raw values as the protocol numbers them."""

    turn_on: bool  # byte 8 bit 0: only in the frame that switches the unit on
    temperature: float  # °C, in 0.5 steps (byte 8 bits 2-7 = (°C - 16) x 4)
    mode: int  # byte 9 bits 0-2
    fan: int  # byte 10 bits 0-2
    swing: int  # byte 10 bits 4-5: bit 0 vertical, bit 1 horizontal
    clean: bool = False  # byte 9 bit 3
    timer_type: int = 0  # byte 9 bits 4-5
    timers: bytes = bytes(3)  # bytes 11-13: off/sleep and on timers, carried verbatim
    filter: bool = False  # byte 14 bit 3
    outside_quiet: bool = False  # byte 14 bit 7
    device_id: int = 0  # byte 2 bits 4-5

    def to_bytes(self) -> bytes:
        quarter_degrees = round((self.temperature - MIN_TEMP) * 4)
        if not 0 <= quarter_degrees < 64 or self.temperature * 2 != round(self.temperature * 2):
            raise ValueError(f"temperature {self.temperature} cannot be sent")
        if len(self.timers) != 3:
            raise ValueError("timers must be 3 bytes")
        body = bytes(
            [
                PROTOCOL_BYTE,
                int(self.turn_on) | quarter_degrees << 2,
                (self.mode & 0x07) | int(self.clean) << 3 | (self.timer_type & 0x03) << 4,
                (self.fan & 0x07) | (self.swing & 0x03) << 4,
                *self.timers,
                BYTE14_CONSTANT | int(self.filter) << 3 | int(self.outside_quiet) << 7,
            ]
        )
        return _header(self.device_id, STATE_MARKER) + bytes([REST_LENGTH]) + body + _sum(body)

    @classmethod
    def from_bytes(cls, message: bytes) -> FujitsuState:
        check_state(message)
        return cls(
            turn_on=bool(message[8] & 0x01),
            temperature=MIN_TEMP + (message[8] >> 2) / 4,
            mode=message[9] & 0x07,
            clean=bool(message[9] & 0x08),
            timer_type=message[9] >> 4 & 0x03,
            fan=message[10] & 0x07,
            swing=message[10] >> 4 & 0x03,
            timers=bytes(message[11:14]),
            filter=bool(message[14] & 0x08),
            outside_quiet=bool(message[14] & 0x80),
            device_id=message[2] >> 4 & 0x03,
        )


def command_frame(command: int, device_id: int = 0) -> bytes:
    """The 7-byte one-shot command frame (``CMD_OFF`` …)."""
    return _header(device_id, command) + bytes([~command & 0xFF])


def _header(device_id: int, byte5: int) -> bytes:
    return PREFIX + bytes([(device_id & 0x03) << 4, 0x10, 0x10, byte5])


def _sum(body: bytes) -> bytes:
    """Checksum of a state frame: (0 - Σ bytes 7…14) mod 256."""
    return bytes([-sum(body) & 0xFF])


def check_state(message: bytes) -> None:
    if len(message) != STATE_LENGTH:
        raise ProtocolError(f"a Fujitsu state frame is {STATE_LENGTH} bytes, not {len(message)}")
    _check_header(message)
    if message[5] != STATE_MARKER or message[6] != REST_LENGTH:
        raise ProtocolError(f"not an ARRAH2E state frame: {message[5:7].hex(' ')}")
    if _sum(message[7:15])[0] != message[15]:
        raise ProtocolError(f"bad Fujitsu checksum {message[15]:#04x}")


def _check_header(message: bytes) -> None:
    if message[:2] != PREFIX or message[2] & 0xCF or message[3:5] != b"\x10\x10":
        raise ProtocolError(f"not a Fujitsu AC frame: {message[:5].hex(' ')}")


def check_message(message: bytes) -> None:
    """Raise ProtocolError unless ``message`` is a valid state or command frame."""
    if len(message) == COMMAND_LENGTH:
        _check_header(message)
        if message[6] != ~message[5] & 0xFF:
            raise ProtocolError("Fujitsu command byte and its complement disagree")
        if message[5] not in COMMAND_MEANING:
            raise ProtocolError(f"unknown Fujitsu command {message[5]:#04x}")
        return
    check_state(message)


class FujitsuCodec:
    """Fujitsu AR-RAH2E remotes (AR-RAH2E, AR-RCE1E, AR-RAE1E, AR-REG1U …)."""

    protocol = PROTOCOL
    traits = TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        if not desired.power:
            return [command_frame(CMD_OFF)]
        # The remote sets the flag only in the frame that switches the unit on (ir.md §B7). An
        # unknown previous state counts as off, so the desired "on" is reached either way.
        turn_on = previous is None or not previous.power
        swing = choose("swing_mode", desired.swing_mode, SWINGS_V, default="off") | choose(
            "swing_horizontal_mode", desired.swing_horizontal_mode, SWINGS_H, default="off"
        )
        state = FujitsuState(
            turn_on=turn_on,
            temperature=setpoint(
                desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, default=24.0
            ),
            mode=choose("mode", desired.mode, MODES, default=Mode.HEAT_COOL),
            fan=choose("fan_mode", desired.fan_mode, FANS, default="auto"),
            swing=swing,
        )
        return [state.to_bytes()]

    def modulate(self, message: bytes) -> IrSignal:
        check_message(message)
        return IrSignal(tuple(encode_section(message, TIMING)), CARRIER_HZ)

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        pulses, index, messages = signal.pulses, 0, []
        while index < len(pulses):
            message, index = decode_section_of_lengths(
                pulses, index, TIMING, (STATE_LENGTH, COMMAND_LENGTH)
            )
            check_message(message)
            messages.append(message)
        if not messages:
            raise ProtocolError("no Fujitsu AC frame in an empty signal")
        return messages

    def decode(self, message: bytes) -> dict[str, Any]:
        check_message(message)
        if len(message) == COMMAND_LENGTH:
            return dict(COMMAND_MEANING[message[5]])
        state = FujitsuState.from_bytes(message)
        mode = invert(MODES).get(state.mode)
        fan = invert(FANS).get(state.fan)
        if mode is None or fan is None:
            raise ProtocolError(f"unknown Fujitsu mode {state.mode} or fan {state.fan}")
        fields: dict[str, Any] = {
            "power": True,
            "mode": mode.value,
            "target_temperature": state.temperature,
            "fan_mode": fan,
            "swing_mode": "auto" if state.swing & SWING_VERTICAL else "off",
            "swing_horizontal_mode": "auto" if state.swing & SWING_HORIZONTAL else "off",
            "turn_on": state.turn_on,
            "clean": state.clean,
            "filter": state.filter,
            "outside_quiet": state.outside_quiet,
        }
        if state.timer_type:
            fields["timer"] = TIMER_TYPES[state.timer_type]
        return fields


CODEC = FujitsuCodec()
