"""CN105 reply records in both roles: ``encode_*`` (the unit's side) and ``decode_*`` (ours).

Each record is a frozen dataclass holding decoded values; ``encode_X_reply(record)`` gives the
exact frame a unit would send and ``decode_X(payload)`` reads it back (serial.md §3.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from klima.errors import ProtocolError
from klima.state import Mode
from klima_drivers.mitsubishi_cn105 import scales
from klima_drivers.mitsubishi_cn105.frames import (
    CONNECT_REPLY,
    GET_REPLY,
    IDENTIFY_REPLY,
    SET_REPLY,
    build_frame,
)

PAYLOAD_SIZE = 16

SETTINGS = 0x02
TEMPERATURES = 0x03
ERRORS = 0x04
OPERATING_STATE = 0x06
RUN_STATE = 0x09
CAPABILITIES = 0xC9  # identify record


def fixed_payload(code: int, values: dict[int, int]) -> bytes:
    """A 16-byte payload: ``code`` first, the given offsets set, everything else zero."""
    body = bytearray(PAYLOAD_SIZE)
    body[0] = code
    for index, value in values.items():
        body[index] = value
    return bytes(body)


def checked_payload(payload: bytes, code: int) -> bytes:
    """``payload`` padded to 16 bytes, after checking it answers ``code``."""
    if not payload or payload[0] != code:
        got = f"{payload[0]:02X}" if payload else "nothing"
        raise ProtocolError(f"expected a payload for code {code:02X}, got {got}")
    return payload.ljust(PAYLOAD_SIZE, b"\x00")


# --- handshake and acknowledgements -------------------------------------------------------


def encode_connect_reply() -> bytes:
    """``FC 7A 01 30 01 00 54`` (captured, vector C2)."""
    return build_frame(CONNECT_REPLY, b"\x00")


def encode_set_ack(accepted: bool = True) -> bytes:
    """``FC 61 01 30 10 00…00 5E``; muart notes ``FF`` in the first byte means an error."""
    return build_frame(SET_REPLY, bytes((0x00 if accepted else 0xFF,)) + bytes(PAYLOAD_SIZE - 1))


def decode_set_ack(payload: bytes) -> bool:
    """Whether the unit accepted the set request (it does not say which one it answers)."""
    return not payload or payload[0] != 0xFF


# --- 0x02 settings ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    power: bool
    mode: Mode | None  # None: a mode byte this codec does not know
    target_temperature: float | None
    fan_mode: str | None
    swing_mode: str | None
    swing_horizontal_mode: str | None
    isee: bool = False  # the unit's 3D sensor currently steers the airflow
    enhanced_setpoint: bool = True  # the unit reports (and so accepts) the half-degree byte


def encode_settings_reply(settings: Settings) -> bytes:
    """A unit reports both setpoint bytes (C5/C6); an old unit leaves the enhanced one 0."""
    values = {3: int(settings.power)}
    if settings.mode is not None:
        values[4] = scales.MODE_CODES[settings.mode] + (scales.ISEE_OFFSET if settings.isee else 0)
    if settings.target_temperature is not None:
        target = settings.target_temperature
        # The legacy byte can only say 16..31 °C; clamp it, the enhanced byte carries the truth.
        clamped = min(max(target, scales.LEGACY_SETPOINT_MIN), scales.LEGACY_SETPOINT_MAX)
        values[5] = scales.to_legacy_setpoint(clamped)
        if settings.enhanced_setpoint:
            values[11] = scales.to_enhanced(target)
    values[6] = scales.FAN_CODES.get(settings.fan_mode or "", 0)
    values[7] = scales.SWING_CODES.get(settings.swing_mode or "", 0)
    values[10] = scales.SWING_HORIZONTAL_CODES.get(settings.swing_horizontal_mode or "", 0)
    return build_frame(GET_REPLY, fixed_payload(SETTINGS, values))


def decode_settings(payload: bytes) -> Settings:
    data = checked_payload(payload, SETTINGS)
    mode_code, isee = data[4], False
    if mode_code not in scales.MODE_BY_CODE and mode_code - scales.ISEE_OFFSET in (
        scales.MODE_BY_CODE
    ):
        mode_code, isee = mode_code - scales.ISEE_OFFSET, True
    enhanced = data[11]
    return Settings(
        power=bool(data[3]),
        mode=scales.MODE_BY_CODE.get(mode_code),
        isee=isee,
        target_temperature=(
            scales.from_enhanced(enhanced) if enhanced else scales.from_legacy_setpoint(data[5])
        ),
        fan_mode=scales.FAN_BY_CODE.get(data[6]),
        swing_mode=scales.SWING_BY_CODE.get(data[7]),
        # Low nibble only: bit 7 flags i-See airflow control on some units.
        swing_horizontal_mode=scales.SWING_HORIZONTAL_BY_CODE.get(data[10] & 0x0F),
        enhanced_setpoint=bool(enhanced),
    )


# --- 0x03 temperatures --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Temperatures:
    room_temperature: float
    outdoor_temperature: float | None = None  # None: the unit does not report it
    operating_minutes: int | None = None  # None: not reported (units without it send zeros)


def encode_temperatures_reply(temps: Temperatures, enhanced: bool = True) -> bytes:
    values = {3: scales.to_legacy_room(temps.room_temperature)}
    if temps.outdoor_temperature is not None:
        values[5] = max(scales.to_enhanced(temps.outdoor_temperature), 2)  # 00/01 = absent
    if enhanced:
        values[6] = scales.to_enhanced(temps.room_temperature)
    minutes = min(max(temps.operating_minutes or 0, 0), 0xFFFFFF)
    values.update({11: minutes >> 16, 12: (minutes >> 8) & 0xFF, 13: minutes & 0xFF})
    return build_frame(GET_REPLY, fixed_payload(TEMPERATURES, values))


def decode_temperatures(payload: bytes) -> Temperatures:
    data = checked_payload(payload, TEMPERATURES)
    room = scales.from_enhanced(data[6]) if data[6] else scales.from_legacy_room(data[3])
    # 00 = not supported; 01 (-63.5 °C) is what several outdoor units send while idle.
    outdoor = scales.from_enhanced(data[5]) if data[5] > 1 else None
    minutes = int.from_bytes(data[11:14], "big")
    return Temperatures(
        room_temperature=room, outdoor_temperature=outdoor, operating_minutes=minutes or None
    )


# --- 0x04 errors --------------------------------------------------------------------------

_NO_ERROR_WORD = 0x8000
_ERROR_WORD_REPORTING = 0x8000  # echavet masks this bit as "error reporting available"


def encode_errors_reply(fault_code: str | None) -> bytes:
    """``80 00`` + code byte; a real unit's error word for a fault is undocumented (muart: TBD)."""
    code = scales.fault_code_byte(fault_code) if fault_code else 0
    values = {4: _NO_ERROR_WORD >> 8, 5: _NO_ERROR_WORD & 0xFF, 6: code}
    return build_frame(GET_REPLY, fixed_payload(ERRORS, values))


def decode_errors(payload: bytes) -> str | None:
    """``None`` when the unit reports no fault, else the remote's two-character code ("E6").

    A fault word without a code byte is shown as the word in hex, so it is never hidden.
    """
    data = checked_payload(payload, ERRORS)
    if data[6]:
        return scales.fault_code_name(data[6])
    word = int.from_bytes(data[4:6], "big") & ~_ERROR_WORD_REPORTING
    return f"{word:04X}" if word else None


# --- 0x06 operating state -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatingState:
    compressor_frequency: int  # Hz; 0 whenever the unit is not operating
    operating: bool  # the heat pump is actively conditioning
    power_w: int  # raw input power (W on most models, BTU/h on some — see the driver option)
    energy_kwh: float  # raw 16-bit counter in 0.1 kWh steps (wraps)


def encode_operating_reply(state: OperatingState) -> bytes:
    power = min(max(round(state.power_w), 0), 0xFFFF)
    energy = round(state.energy_kwh * 10) & 0xFFFF  # a real 16-bit counter wraps
    values = {
        3: min(max(state.compressor_frequency, 0), 0xFF),
        4: int(state.operating),
        5: power >> 8,
        6: power & 0xFF,
        7: energy >> 8,
        8: energy & 0xFF,
    }
    return build_frame(GET_REPLY, fixed_payload(OPERATING_STATE, values))


def decode_operating(payload: bytes) -> OperatingState:
    data = checked_payload(payload, OPERATING_STATE)
    operating = bool(data[4])
    return OperatingState(
        # Some models report noise in the frequency byte while idle (echavet): force 0.
        compressor_frequency=data[3] if operating else 0,
        operating=operating,
        power_w=int.from_bytes(data[5:7], "big"),
        energy_kwh=int.from_bytes(data[7:9], "big") / 10,
    )


# --- 0x09 run state -----------------------------------------------------------------------

RUN_DEFROST = 0x02
RUN_PREHEAT = 0x04
RUN_STANDBY = 0x08


@dataclass(frozen=True, slots=True, kw_only=True)
class RunState:
    defrost: bool = False
    preheat: bool = False
    standby: bool = False  # multi-split: another head holds a conflicting mode
    fan_stage: int = 0  # the fan's actual stage 0..6 (0 = stopped)
    # Raw auto-mode sub-state; the sources disagree on its values (serial.md §3.5.6), so Klima
    # passes it through without interpreting it.
    auto_substate: int = 0


def encode_run_state_reply(state: RunState) -> bytes:
    flags = (
        (RUN_DEFROST if state.defrost else 0)
        | (RUN_PREHEAT if state.preheat else 0)
        | (RUN_STANDBY if state.standby else 0)
    )
    values = {3: flags, 4: min(max(state.fan_stage, 0), 0xFF), 5: state.auto_substate & 0xFF}
    return build_frame(GET_REPLY, fixed_payload(RUN_STATE, values))


def decode_run_state(payload: bytes) -> RunState:
    data = checked_payload(payload, RUN_STATE)
    return RunState(
        defrost=bool(data[3] & RUN_DEFROST),
        preheat=bool(data[3] & RUN_PREHEAT),
        standby=bool(data[3] & RUN_STANDBY),
        fan_stage=data[4],
        auto_substate=data[5],
    )


# --- 0x7B / C9 capabilities ---------------------------------------------------------------

# Fan bits A/B/C (muart): ((b7 & 10) >> 2) + ((b8 & 08) >> 2) + ((b9 & 02) >> 1) → speed count.
_FAN_SPEEDS_BY_BITS = {1: 1, 2: 2, 0: 3, 4: 4, 6: 5}
_FAN_BITS_BY_SPEEDS = {speeds: bits for bits, speeds in _FAN_SPEEDS_BY_BITS.items()}
_C9_FILLER = (0x03, 0x00, 0x20, 0x00, 0x14, 0x07)  # bytes 1..6 as in muart's samples; unused

Limits = tuple[float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """The modest part of the ``C9`` record Klima uses (muart: base capabilities)."""

    heat: bool = True
    dry: bool = True
    fan_only: bool = True
    vertical_vane: bool = True
    vane_swing: bool = True
    auto_fan: bool = True
    extended_range: bool = True  # setpoint limits below are present
    outdoor_temperature: bool = False
    fan_speeds: int | None = 5  # None: fan bits outside the known table
    cool_dry_limits: Limits | None = None
    heat_limits: Limits | None = None
    auto_limits: Limits | None = None

    def mode_limits(self) -> dict[Mode, Limits]:
        limits: dict[Mode, Limits] = {}
        if self.cool_dry_limits:
            limits[Mode.COOL] = limits[Mode.DRY] = self.cool_dry_limits
        if self.heat_limits:
            limits[Mode.HEAT] = self.heat_limits
        if self.auto_limits:
            limits[Mode.HEAT_COOL] = self.auto_limits
        return limits


def encode_capabilities_reply(caps: Capabilities) -> bytes:
    fan_bits = _FAN_BITS_BY_SPEEDS.get(caps.fan_speeds or 3, 0)
    b7 = 0x01 | 0x04  # "observed true" on every sample
    b7 |= (0 if caps.heat else 0x02) | (0x10 if fan_bits & 4 else 0)
    b7 |= (0x20 if caps.vertical_vane else 0) | (0x40 if caps.vane_swing else 0)
    b8 = (0 if caps.dry else 0x01) | (0 if caps.fan_only else 0x02)
    b8 |= (0x04 if caps.extended_range else 0) | (0x08 if fan_bits & 2 else 0)
    b8 |= 0 if caps.auto_fan else 0x10
    b9 = (0x02 if fan_bits & 1 else 0) | (0x20 if caps.outdoor_temperature else 0)
    values = dict(enumerate(_C9_FILLER, start=1)) | {7: b7, 8: b8, 9: b9}
    if caps.extended_range:
        for offset, limits in (
            (10, caps.cool_dry_limits),
            (12, caps.heat_limits),
            (14, caps.auto_limits),
        ):
            if limits:
                values[offset] = scales.to_enhanced(limits[0])
                values[offset + 1] = scales.to_enhanced(limits[1])
    return build_frame(IDENTIFY_REPLY, fixed_payload(CAPABILITIES, values))


def decode_capabilities(payload: bytes) -> Capabilities:
    data = checked_payload(payload, CAPABILITIES)
    b7, b8, b9 = data[7], data[8], data[9]
    fan_bits = ((b7 & 0x10) >> 2) + ((b8 & 0x08) >> 2) + ((b9 & 0x02) >> 1)
    extended = bool(b8 & 0x04)
    return Capabilities(
        heat=not b7 & 0x02,
        vertical_vane=bool(b7 & 0x20),
        vane_swing=bool(b7 & 0x40),
        dry=not b8 & 0x01,
        fan_only=not b8 & 0x02,
        extended_range=extended,
        auto_fan=not b8 & 0x10,
        outdoor_temperature=bool(b9 & 0x20),
        fan_speeds=_FAN_SPEEDS_BY_BITS.get(fan_bits),
        cool_dry_limits=_limits(data[10], data[11]) if extended else None,
        heat_limits=_limits(data[12], data[13]) if extended else None,
        auto_limits=_limits(data[14], data[15]) if extended else None,
    )


def _limits(low: int, high: int) -> Limits | None:
    """A setpoint range in the enhanced scale; ``None`` when absent or nonsensical."""
    if not low or not high or low > high:
        return None
    return scales.from_enhanced(low), scales.from_enhanced(high)
