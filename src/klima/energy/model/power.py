"""Estimated input power of one unit from its profile and operating state (research §1.6).

Pure: no I/O, no clock. The caller decides what it knows about the compressor's work and passes
exactly one of ``load_btuh`` (delivered load), ``load_fraction`` (load as a share of the maximum
capacity at this temperature) or ``compressor_frequency_hz`` (mapped to speed between the min and
max capacity, step 2 case 2). With none of them, a running compressor is assumed at rated output
(or midway between min and max where no rated point is listed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klima.energy.model.envelope import Envelope, envelope_at, power_at_capacity
from klima.errors import KlimaError
from klima.state import Action, Mode

if TYPE_CHECKING:
    from klima.energy.model.profile import PerformanceProfile

_COMPRESSOR_OFF = frozenset({Action.OFF, Action.IDLE, Action.FAN})
_HEATING = frozenset({Action.HEATING, Action.DEFROSTING, Action.PREHEATING})
_COOLING = frozenset({Action.COOLING, Action.DRYING})


class MissingPerformanceDataError(KlimaError):
    """The profile has no table for the mode the unit is running in."""


def celsius_to_fahrenheit(celsius: float) -> float:
    return celsius * 1.8 + 32.0


def _heating_or_cooling(mode: Mode, action: Action | None) -> str | None:
    """``"heating"``, ``"cooling"`` or ``None`` when the compressor is not running."""
    if mode in (Mode.OFF, Mode.FAN_ONLY):
        return None
    if action is not None:
        if action in _COMPRESSOR_OFF:
            return None
        return "heating" if action in _HEATING else "cooling"
    if mode is Mode.HEAT:
        return "heating"
    if mode in (Mode.COOL, Mode.DRY):
        return "cooling"
    raise ValueError("heat_cool needs the action (heating or cooling) to pick a table")


def _speed_from_frequency(
    profile: PerformanceProfile, hz: float, hz_range: tuple[float, float] | None
) -> float:
    low, high = hz_range or (profile.compressor_min_hz, profile.compressor_max_hz)
    if low is None or high is None or high <= low:
        raise ValueError("compressor frequency given but no valid min/max frequency is known")
    return min(max((hz - low) / (high - low), 0.0), 1.0)


def _compressor_power(
    profile: PerformanceProfile,
    envelope: Envelope,
    load_btuh: float,
    idle_w: float,
) -> float:
    """Step 3: cycling below min capacity, modulating inside the envelope, flat out above it."""
    q_min = envelope.min.capacity_btuh
    if load_btuh >= q_min:
        return power_at_capacity(envelope, load_btuh)
    part_load_ratio = max(load_btuh, 0.0) / q_min
    part_load_factor = 1.0 - profile.cycling_cd * (1.0 - part_load_ratio)
    runtime_fraction = part_load_ratio / part_load_factor
    # While cycled off the unit still draws its idle power for the rest of the time.
    return envelope.min.input_w * runtime_fraction + idle_w * (1.0 - runtime_fraction)


def estimate_power(
    profile: PerformanceProfile,
    *,
    mode: Mode,
    outdoor_c: float,
    action: Action | None = None,
    load_btuh: float | None = None,
    load_fraction: float | None = None,
    compressor_frequency_hz: float | None = None,
    frequency_range_hz: tuple[float, float] | None = None,
    fan_runs_while_cycled_off: bool = False,
) -> float:
    """Estimated total input power in watts.

    ``mode`` is the operating mode (``Mode.OFF`` when the unit is powered off) and ``action``
    what the unit is doing, when known: ``idle``/``fan`` mean the compressor rests (thermo-off),
    ``defrosting`` runs the heating table at maximum speed and ``preheating`` at minimum (both
    assumptions: reverse-cycle defrost drives the compressor hard, warm-up runs it gently).
    A reported compressor frequency of 0 also means the compressor rests.
    """
    given = [v for v in (load_btuh, load_fraction, compressor_frequency_hz) if v is not None]
    if len(given) > 1:
        raise ValueError("give at most one of load_btuh, load_fraction, compressor_frequency_hz")
    outdoor_f = celsius_to_fahrenheit(outdoor_c)
    pan_heater_w = (
        profile.pan_heater_w
        if mode is not Mode.OFF and outdoor_f <= profile.pan_heater_on_at_or_below_f
        else 0.0
    )
    if mode is Mode.OFF or action is Action.OFF:
        return profile.standby_w
    idle_w = profile.standby_w + profile.fan_w
    kind = _heating_or_cooling(mode, action)
    if kind is None or compressor_frequency_hz == 0:
        return idle_w + pan_heater_w
    table = profile.heating_table() if kind == "heating" else profile.cooling_table()
    if not table:
        raise MissingPerformanceDataError(f"profile {profile.name!r} has no {kind} data")
    envelope = envelope_at(table, outdoor_f)
    q_min, q_max = envelope.min.capacity_btuh, envelope.max.capacity_btuh
    if action is Action.DEFROSTING:
        return envelope.max.input_w + pan_heater_w
    if action is Action.PREHEATING:
        return envelope.min.input_w + pan_heater_w
    if compressor_frequency_hz is not None:
        speed = _speed_from_frequency(profile, compressor_frequency_hz, frequency_range_hz)
        load = q_min + speed * (q_max - q_min)
    elif load_fraction is not None:
        if load_fraction < 0:
            raise ValueError("load_fraction must not be negative")
        load = load_fraction * q_max
    elif load_btuh is not None:
        if load_btuh < 0:
            raise ValueError("load_btuh must not be negative")
        load = load_btuh
    else:
        load = envelope.rated.capacity_btuh if envelope.rated else (q_min + q_max) / 2
    off_cycle_w = idle_w if fan_runs_while_cycled_off else profile.standby_w
    return _compressor_power(profile, envelope, load, off_cycle_w) + pan_heater_w
