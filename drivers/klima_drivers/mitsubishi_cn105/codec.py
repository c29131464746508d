"""CN105 field codec in both roles, without I/O (serial.md §3.3-3.5).

Host role (the driver): ``encode_*`` requests here and ``decode_*`` of the replies. Device role
(the simulator): ``decode_set_request`` / ``decode_remote_temperature`` here and
``encode_*_reply``. The reply records live in :mod:`.replies` and are re-exported, so this module
is the one import for both roles. Every record encodes with one function and decodes with its
mirror, and the two roles are tested against each other as well as against captured frames.

Payload-level decoders take the frame payload (``data[0]`` = the code). Bytes a short payload
lacks read as zero, which every field treats as "not reported".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from klima.errors import CommandError, ProtocolError
from klima.state import Mode, UnitCommand
from klima_drivers.mitsubishi_cn105 import scales
from klima_drivers.mitsubishi_cn105.frames import (
    CONNECT_REQUEST,
    GET_REQUEST,
    IDENTIFY_REQUEST,
    SET_REQUEST,
    build_frame,
)
from klima_drivers.mitsubishi_cn105.replies import (
    CAPABILITIES,
    ERRORS,
    OPERATING_STATE,
    RUN_STATE,
    SETTINGS,
    TEMPERATURES,
    Capabilities,
    OperatingState,
    RunState,
    Settings,
    Temperatures,
    checked_payload,
    decode_capabilities,
    decode_errors,
    decode_operating,
    decode_run_state,
    decode_set_ack,
    decode_settings,
    decode_temperatures,
    encode_capabilities_reply,
    encode_connect_reply,
    encode_errors_reply,
    encode_operating_reply,
    encode_run_state_reply,
    encode_set_ack,
    encode_settings_reply,
    encode_temperatures_reply,
    fixed_payload,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CAPABILITIES",
    "ERRORS",
    "OPERATING_STATE",
    "QUERY_NAMES",
    "RUN_STATE",
    "SETTINGS",
    "SET_REMOTE_TEMPERATURE",
    "SET_SETTINGS",
    "TEMPERATURES",
    "TIMERS",
    "Capabilities",
    "OperatingState",
    "RunState",
    "Settings",
    "Temperatures",
    "checked_payload",
    "decode_capabilities",
    "decode_errors",
    "decode_operating",
    "decode_remote_temperature",
    "decode_run_state",
    "decode_set_ack",
    "decode_set_request",
    "decode_settings",
    "decode_temperatures",
    "encode_capabilities_reply",
    "encode_connect",
    "encode_connect_reply",
    "encode_errors_reply",
    "encode_get",
    "encode_identify",
    "encode_operating_reply",
    "encode_remote_temperature",
    "encode_run_state_reply",
    "encode_set",
    "encode_set_ack",
    "encode_settings_reply",
    "encode_temperatures_reply",
    "fixed_payload",
]

_T = TypeVar("_T")

# Set commands (type 0x41, payload[0]).
SET_SETTINGS = 0x01
SET_REMOTE_TEMPERATURE = 0x07
TIMERS = 0x05  # get query Klima never sends (it runs its own schedules)

QUERY_NAMES: Mapping[int, str] = {
    SETTINGS: "settings",
    TEMPERATURES: "temperatures",
    ERRORS: "errors",
    TIMERS: "timers",
    OPERATING_STATE: "operating_state",
    RUN_STATE: "run_state",
}

CONNECT_PAYLOAD = b"\xca\x01"

# Set-settings flag bits: payload[1] (packet[6]) and payload[2] (packet[7]).
FLAG_POWER = 0x01
FLAG_MODE = 0x02
FLAG_SETPOINT = 0x04
FLAG_FAN = 0x08
FLAG_VANE = 0x10
FLAG2_WIDE_VANE = 0x01

# Payload offsets of the set-settings request (packet index - 5).
_SET_POWER, _SET_MODE, _SET_LEGACY_TEMP, _SET_FAN, _SET_VANE = 3, 4, 5, 6, 7
_SET_WIDE_VANE, _SET_ENHANCED_TEMP = 13, 14


# --- requests (host role) -----------------------------------------------------------------


def encode_connect() -> bytes:
    """``FC 5A 01 30 02 CA 01 A8`` — the unit ignores everything else until it has seen this."""
    return build_frame(CONNECT_REQUEST, CONNECT_PAYLOAD)


def encode_identify(record: int = CAPABILITIES) -> bytes:
    return build_frame(IDENTIFY_REQUEST, bytes((record,)))


def encode_get(code: int, short: bool = False) -> bytes:
    """A status query; ``short`` sends the 1-byte payload form some projects use."""
    payload = bytes((code,)) if short else fixed_payload(code, {})
    return build_frame(GET_REQUEST, payload)


def encode_set(command: UnitCommand, enhanced: bool) -> bytes:
    """One set-settings frame flagging exactly the fields ``command`` carries.

    ``enhanced`` selects the setpoint byte: the half-degree byte 19 for units that reported it,
    otherwise the legacy byte 10 in whole degrees 16..31 (serial.md §3.4.1: old units only act
    on integers, and a legacy byte of 0 would mean 31 °C).
    """
    cmd = command.normalized()
    flags = flags2 = 0
    values: dict[int, int] = {}
    if cmd.power is not None:
        flags |= FLAG_POWER
        values[_SET_POWER] = int(cmd.power)
    if cmd.mode is not None:
        flags |= FLAG_MODE
        values[_SET_MODE] = scales.MODE_CODES[cmd.mode]
    if cmd.target_temperature is not None:
        flags |= FLAG_SETPOINT
        values.update(_setpoint_bytes(cmd.target_temperature, enhanced))
    if cmd.fan_mode is not None:
        flags |= FLAG_FAN
        values[_SET_FAN] = _lookup("fan_mode", cmd.fan_mode, scales.FAN_CODES)
    if cmd.swing_mode is not None:
        flags |= FLAG_VANE
        values[_SET_VANE] = _lookup("swing_mode", cmd.swing_mode, scales.SWING_CODES)
    if cmd.swing_horizontal_mode is not None:
        flags2 |= FLAG2_WIDE_VANE
        values[_SET_WIDE_VANE] = _lookup(
            "swing_horizontal_mode", cmd.swing_horizontal_mode, scales.SWING_HORIZONTAL_CODES
        )
    if not flags and not flags2:
        raise CommandError(None, "the command sets nothing")
    values[1], values[2] = flags, flags2
    return build_frame(SET_REQUEST, fixed_payload(SET_SETTINGS, values))


def _setpoint_bytes(celsius: float, enhanced: bool) -> dict[int, int]:
    try:
        if enhanced:
            return {_SET_ENHANCED_TEMP: scales.to_enhanced(celsius)}
        return {_SET_LEGACY_TEMP: scales.to_legacy_setpoint(celsius, allow_half=False)}
    except ValueError as exc:
        raise CommandError("target_temperature", str(exc)) from None


def _lookup(field: str, value: str, table: Mapping[str, int]) -> int:
    code = table.get(value)
    if code is None:
        raise CommandError(field, f"{field} {value!r} is not a CN105 value", list(table))
    return code


def encode_remote_temperature(celsius: float | None) -> bytes:
    """Command 0x07: feed a room temperature, or ``None`` to revert to the unit's own sensor."""
    if celsius is None:
        return build_frame(SET_REQUEST, fixed_payload(SET_REMOTE_TEMPERATURE, {3: 0x80}))
    try:
        enhanced = scales.to_enhanced(celsius)
    except ValueError as exc:
        raise CommandError("remote_temperature", str(exc)) from None
    # Legacy byte: 8 °C + 0.5 °C per step; units read the enhanced byte when it is present.
    legacy = min(max(scales.half_degrees(celsius) - 16, 0), 0xFF)
    return build_frame(
        SET_REQUEST, fixed_payload(SET_REMOTE_TEMPERATURE, {1: 1, 2: legacy, 3: enhanced})
    )


# --- requests (device role) ---------------------------------------------------------------


def decode_set_request(payload: bytes, reads_enhanced: bool = True) -> UnitCommand:
    """The fields a set-settings request flags, as a command.

    ``reads_enhanced=False`` behaves like an old unit that only knows the legacy setpoint byte.
    """
    data = checked_payload(payload, SET_SETTINGS)
    flags, flags2 = data[1], data[2]
    power: bool | None = None
    mode: Mode | None = None
    target: float | None = None
    fan: str | None = None
    vane: str | None = None
    wide_vane: str | None = None
    if flags & FLAG_POWER:
        if data[_SET_POWER] not in (0, 1):
            raise ProtocolError(f"power byte {data[_SET_POWER]:02X} is not 00/01")
        power = bool(data[_SET_POWER])
    if flags & FLAG_MODE:
        mode = _require(scales.MODE_BY_CODE, data[_SET_MODE], "mode")
    if flags & FLAG_SETPOINT:
        enhanced = data[_SET_ENHANCED_TEMP]
        target = (
            scales.from_enhanced(enhanced)
            if reads_enhanced and enhanced
            else scales.from_legacy_setpoint(data[_SET_LEGACY_TEMP])
        )
    if flags & FLAG_FAN:
        fan = _require(scales.FAN_BY_CODE, data[_SET_FAN], "fan")
    if flags & FLAG_VANE:
        vane = _require(scales.SWING_BY_CODE, data[_SET_VANE], "vane")
    if flags2 & FLAG2_WIDE_VANE:
        wide_vane = _require(
            scales.SWING_HORIZONTAL_BY_CODE, data[_SET_WIDE_VANE] & 0x0F, "wide vane"
        )
    return UnitCommand(
        power=power,
        mode=mode,
        target_temperature=target,
        fan_mode=fan,
        swing_mode=vane,
        swing_horizontal_mode=wide_vane,
    )


def decode_remote_temperature(payload: bytes) -> float | None:
    """Command 0x07 as the unit reads it: a temperature, or ``None`` for "use your own sensor"."""
    data = checked_payload(payload, SET_REMOTE_TEMPERATURE)
    if not data[1]:
        return None
    if data[3]:  # the enhanced byte wins when present
        return scales.from_enhanced(data[3])
    return (data[2] + 16) / 2


def _require(table: Mapping[int, _T], code: int, what: str) -> _T:
    value = table.get(code)
    if value is None:
        raise ProtocolError(f"{what} byte {code:02X} is not a known CN105 value")
    return value
