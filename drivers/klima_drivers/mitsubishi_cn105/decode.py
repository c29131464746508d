"""Human-readable decoding of single CN105 frames, for field debugging (``klima decode``).

Field names match the MQTT state payload (``power`` as ``"ON"``/``"OFF"``, ``mode``,
``target_temperature``, …) so a captured frame can be compared with what Klima published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klima_drivers.mitsubishi_cn105 import codec
from klima_drivers.mitsubishi_cn105.frames import (
    CONNECT_REPLY,
    CONNECT_REQUEST,
    FRAME_TYPE_NAMES,
    GET_REPLY,
    GET_REQUEST,
    IDENTIFY_REPLY,
    IDENTIFY_REQUEST,
    SET_REPLY,
    SET_REQUEST,
    Frame,
    parse_frame,
)

if TYPE_CHECKING:
    from klima.state import UnitCommand

_TO_UNIT = {SET_REQUEST, GET_REQUEST, CONNECT_REQUEST, IDENTIFY_REQUEST}
_SET_COMMAND_NAMES = {
    codec.SET_SETTINGS: "settings",
    codec.SET_REMOTE_TEMPERATURE: "remote_temperature",
    0x08: "run_state_options",
}
_IDENTIFY_NAMES = {codec.CAPABILITIES: "capabilities"}


def decode_frame(raw: bytes) -> dict[str, Any]:
    """Decode one complete frame; raises ChecksumError / TruncatedFrameError / ProtocolError."""
    frame = parse_frame(raw)
    return {
        "direction": "to_unit" if frame.type in _TO_UNIT else "from_unit",
        "frame_type": FRAME_TYPE_NAMES.get(frame.type, f"unknown_{frame.type:02x}"),
        "command": _command_name(frame),
        "fields": _fields(frame),
        "raw": frame.hex(),
    }


def _command_name(frame: Frame) -> str | None:
    code = frame.code
    if frame.type in (CONNECT_REQUEST, CONNECT_REPLY) or code is None:
        return "connect" if frame.type in (CONNECT_REQUEST, CONNECT_REPLY) else None
    if frame.type == SET_REQUEST:
        return _SET_COMMAND_NAMES.get(code, f"code_{code:02x}")
    if frame.type == SET_REPLY:
        return "ack"
    if frame.type in (GET_REQUEST, GET_REPLY):
        return codec.QUERY_NAMES.get(code, f"code_{code:02x}")
    if frame.type in (IDENTIFY_REQUEST, IDENTIFY_REPLY):
        return _IDENTIFY_NAMES.get(code, f"record_{code:02x}")
    return f"code_{code:02x}"


def _fields(frame: Frame) -> dict[str, Any]:
    code, payload = frame.code, frame.payload
    if frame.type == SET_REQUEST and code == codec.SET_SETTINGS:
        return _command_fields(codec.decode_set_request(payload))
    if frame.type == SET_REQUEST and code == codec.SET_REMOTE_TEMPERATURE:
        value = codec.decode_remote_temperature(payload)
        return {"remote_temperature": value, "use_internal_sensor": value is None}
    if frame.type == SET_REPLY:
        return {"accepted": codec.decode_set_ack(payload)}
    if frame.type == CONNECT_REPLY:
        return {"accepted": True}
    if frame.type == GET_REPLY and code is not None:
        return _reply_fields(code, payload)
    if frame.type == IDENTIFY_REPLY and code == codec.CAPABILITIES:
        return _capability_fields(codec.decode_capabilities(payload))
    if frame.type == IDENTIFY_REQUEST and code is not None:
        return {"record": f"{code:02X}"}
    if frame.type in (GET_REQUEST, CONNECT_REQUEST):
        return {}
    return {"payload": payload.hex(" ").upper()}


def _command_fields(command: UnitCommand) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in command.fields().items():
        if name == "power":
            out[name] = "ON" if value else "OFF"
        elif name == "mode":
            out[name] = value.value
        else:
            out[name] = value
    return out


def _reply_fields(code: int, payload: bytes) -> dict[str, Any]:
    if code == codec.SETTINGS:
        s = codec.decode_settings(payload)
        return {
            "power": "ON" if s.power else "OFF",
            "mode": s.mode.value if s.mode else None,
            "target_temperature": s.target_temperature,
            "fan_mode": s.fan_mode,
            "swing_mode": s.swing_mode,
            "swing_horizontal_mode": s.swing_horizontal_mode,
            "isee": s.isee,
            "setpoint_scale": "enhanced" if s.enhanced_setpoint else "legacy",
        }
    if code == codec.TEMPERATURES:
        t = codec.decode_temperatures(payload)
        return {
            "current_temperature": t.room_temperature,
            "outdoor_temperature": t.outdoor_temperature,
            "operating_minutes": t.operating_minutes,
        }
    if code == codec.ERRORS:
        return {"fault_code": codec.decode_errors(payload)}
    if code == codec.OPERATING_STATE:
        o = codec.decode_operating(payload)
        return {
            "compressor_frequency": o.compressor_frequency,
            "operating": o.operating,
            "power_w": o.power_w,
            "energy_kwh": o.energy_kwh,
        }
    if code == codec.RUN_STATE:
        r = codec.decode_run_state(payload)
        return {
            "defrost": r.defrost,
            "preheat": r.preheat,
            "standby": r.standby,
            "fan_stage": r.fan_stage,
            "auto_substate": r.auto_substate,
        }
    return {"payload": payload.hex(" ").upper()}


def _capability_fields(caps: codec.Capabilities) -> dict[str, Any]:
    modes = ["cool", "heat_cool"]
    modes += ["heat"] if caps.heat else []
    modes += ["dry"] if caps.dry else []
    modes += ["fan_only"] if caps.fan_only else []
    return {
        "modes": modes,
        "vertical_vane": caps.vertical_vane,
        "vane_swing": caps.vane_swing,
        "auto_fan": caps.auto_fan,
        "fan_speeds": caps.fan_speeds,
        "outdoor_temperature": caps.outdoor_temperature,
        "mode_limits": {mode.value: list(lim) for mode, lim in caps.mode_limits().items()},
    }
