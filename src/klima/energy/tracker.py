"""One unit's energy minute by minute, from the most trusted source that is alive.

Order of trust (research §1.7): an external meter, then what the unit reports, then the model.
Within a source a cumulative counter beats integrating power, because a counter also covers the
minutes the hub did not see. Power readings are held (step-wise) until the next one, but never
longer than :data:`MAX_HOLD`: after a gap nothing is assumed about the time the hub was away.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from klima.control.feedback import extract, number
from klima.energy.model import (
    CN105_COUNTER_WRAP_KWH,
    CounterState,
    EnergySource,
    FrequencyRangeLearner,
    LifetimeAccumulator,
    MissingPerformanceDataError,
    estimate_power,
)
from klima.state import Action, Mode

if TYPE_CHECKING:
    from collections.abc import Callable

    from klima.config_energy import UnitEnergyConfig
    from klima.energy.model import PerformanceProfile
    from klima.state import UnitState

log = logging.getLogger(__name__)

MAX_HOLD = timedelta(minutes=5)
REPORTED_STALE_AFTER = timedelta(minutes=5)
# The rating conditions (47 °F heating, 95 °F cooling): the model's best guess with no sensor.
RATED_HEATING_OUTDOOR_C = 8.33
RATED_COOLING_OUTDOOR_C = 35.0
# heat_cool with no reported action: above this outdoor temperature the unit is assumed to cool.
_AUTO_COOLS_ABOVE_C = 18.0
_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class MinuteEnergy:
    """What one unit used between two boundaries."""

    kwh: float
    source: EnergySource | None  # None: nothing is known about this unit's energy
    estimated_kwh: float | None  # the model's figure for the same time (multi-split weights)
    power_w: float | None  # the power now, from the best live source
    running: bool = False  # the unit is switched on, as far as its state says


@dataclass(slots=True)
class _Reading:
    value: float
    at: datetime


class _Held:
    """A power reading held until the next one, for at most ``hold`` (``None``: until replaced)."""

    def __init__(self, source: EnergySource, hold: timedelta | None) -> None:
        self.source = source
        self.hold = hold
        self.reading: _Reading | None = None

    def span(self, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """The part of ``[start, end)`` this reading covers."""
        if self.reading is None:
            return None
        begin = max(start, self.reading.at)
        until = end if self.hold is None else min(end, self.reading.at + self.hold)
        return (begin, until) if until > begin else None

    def fresh(self, now: datetime) -> bool:
        return self.span(now - timedelta(microseconds=1), now) is not None


class _Counter:
    """A device's cumulative kWh counter, turned into deltas that never go backwards."""

    def __init__(self, accumulator: LifetimeAccumulator) -> None:
        self.accumulator = accumulator
        self.pending_kwh = 0.0
        self.read_at: datetime | None = None
        # kWh booked from other sources while this counter was silent: its next delta covers
        # that time too, so that much of it is already counted.
        self.booked_elsewhere = 0.0

    @property
    def seeded(self) -> bool:
        return self.accumulator.state.last_raw_kwh is not None

    def take(self) -> float:
        """The delta since the last close, less what other sources booked meanwhile."""
        kwh = max(self.pending_kwh - self.booked_elsewhere, 0.0)
        self.booked_elsewhere = 0.0
        return kwh

    def update(self, raw_kwh: float, at: datetime) -> None:
        self.pending_kwh += self.accumulator.update(raw_kwh, at)
        self.read_at = at

    def fresh(self, now: datetime, stale_after: timedelta) -> bool:
        return self.read_at is not None and timedelta(0) <= now - self.read_at <= stale_after

    def read_since(self, moment: datetime) -> bool:
        return self.read_at is not None and self.read_at >= moment


class UnitEnergyTracker:
    """Feed it the unit's states and meter messages; :meth:`close` each minute."""

    def __init__(
        self,
        unit_id: str,
        settings: UnitEnergyConfig,
        profile: PerformanceProfile | None,
        *,
        start: datetime,
        outdoor_c: Callable[[], float | None] = lambda: None,
        saved: dict[str, Any] | None = None,
    ) -> None:
        self.unit_id = unit_id
        self.settings = settings
        self.profile = profile
        self._outdoor_c = outdoor_c
        self._last = start
        self._state: UnitState | None = None
        self._state_at: datetime | None = None
        meter_hold = (
            min(MAX_HOLD, timedelta(seconds=settings.meter.stale_after))
            if (settings.meter)
            else MAX_HOLD
        )
        # Most trusted first; the model's figure holds for as long as the state it came from.
        self._meter_power = _Held(EnergySource.METERED, meter_hold)
        self._reported_power = _Held(EnergySource.REPORTED, MAX_HOLD)
        self._estimate = _Held(EnergySource.ESTIMATED, None)
        self._minute_start = start
        self._kwh: dict[EnergySource, float] = dict.fromkeys(EnergySource, 0.0)
        self._seconds: dict[EnergySource, float] = dict.fromkeys(EnergySource, 0.0)
        self._estimate_kwh = 0.0
        saved = saved or {}
        max_kw = settings.max_power_w / 1000
        self._unit_counter = _Counter(
            LifetimeAccumulator(
                max_power_kw=max_kw,
                wrap_kwh=CN105_COUNTER_WRAP_KWH,
                state=_counter_state(saved.get("unit")),
            )
        )
        self._meter_counter = _Counter(
            LifetimeAccumulator(
                max_power_kw=max_kw, step_kwh=0.001, state=_counter_state(saved.get("meter"))
            )
        )
        self._frequencies = FrequencyRangeLearner()
        self._last_minute_w: float | None = None
        self._warned: set[str] = set()

    # ------------------------------------------------------------------ inputs

    def observe_state(self, state: UnitState, at: datetime) -> None:
        self._advance(at)
        self._state, self._state_at = state, at
        if self.settings.use_reported:
            if state.power_w is not None and math.isfinite(state.power_w) and state.power_w >= 0:
                self._reported_power.reading = _Reading(state.power_w, at)
            if state.energy_kwh is not None and math.isfinite(state.energy_kwh):
                self._unit_counter.update(state.energy_kwh, at)
        if state.compressor_frequency and state.outdoor_temperature is not None:
            self._frequencies.observe(state.compressor_frequency, state.outdoor_temperature)
        watts = self._estimate_w()
        self._estimate.reading = None if watts is None else _Reading(watts, at)

    def observe_meter(self, payload: bytes, at: datetime) -> None:
        meter = self.settings.meter
        if meter is None:
            return
        self._advance(at)
        power = number(extract(payload, meter.power_path)) if meter.power_path else None
        if meter.power_path is None and meter.energy_path is None:
            power = number(extract(payload, None))
        energy = number(extract(payload, meter.energy_path)) if meter.energy_path else None
        if power is None and energy is None:
            self._warn_once(f"meter {meter.topic}: no number in {payload[:80]!r}")
            return
        if power is not None and power >= 0:
            self._meter_power.reading = _Reading(power, at)
        if energy is not None:
            self._meter_counter.update(energy / 1000 if meter.energy_unit == "Wh" else energy, at)

    def forget_state(self, at: datetime) -> None:
        """The unit went offline: its last state no longer says what it draws."""
        self._advance(at)
        self._state = None
        self._estimate.reading = None

    def refresh_estimate(self, at: datetime) -> None:
        """Re-run the model (e.g. the outdoor temperature changed) from ``at`` on."""
        self._advance(at)
        watts = self._estimate_w()
        self._estimate.reading = None if watts is None else _Reading(watts, at)

    # ------------------------------------------------------------------ output

    def close(self, end: datetime) -> MinuteEnergy:
        """Energy since the previous close, from the best live source; starts the next minute."""
        self._advance(end)
        span_h = max((end - self._minute_start).total_seconds(), 0.0) / _SECONDS_PER_HOUR
        kwh, source, used = self._pick()
        for counter in (self._meter_counter, self._unit_counter):
            if counter is used:
                continue
            if counter.read_since(self._minute_start):
                counter.booked_elsewhere = 0.0  # its delta (gap included) is dropped below
            elif counter.seeded:
                counter.booked_elsewhere += kwh
        estimated = self._estimate_kwh if self.profile is not None else None
        if source is not None and span_h > 0:
            self._last_minute_w = kwh * 1000 / span_h
        power = self.power_w(end)
        self._kwh = dict.fromkeys(EnergySource, 0.0)
        self._seconds = dict.fromkeys(EnergySource, 0.0)
        self._estimate_kwh = 0.0
        self._unit_counter.pending_kwh = self._meter_counter.pending_kwh = 0.0
        self._minute_start = max(end, self._minute_start)
        running = self._state is not None and self._state.power
        return MinuteEnergy(kwh, source, estimated, power, running)

    def power_w(self, now: datetime) -> float | None:
        """The power right now by the most trusted live source."""
        if self._meter_power.fresh(now):
            return _value(self._meter_power)
        meter = self.settings.meter
        if meter is not None and self._meter_counter.fresh(
            now, timedelta(seconds=meter.stale_after)
        ):
            return self._last_minute_w
        if self._reported_power.fresh(now):
            return _value(self._reported_power)
        return _value(self._estimate)

    def saved_state(self) -> dict[str, Any]:
        """Counter states to persist, so a restart neither loses nor double-counts energy."""
        return {
            "unit": _counter_json(self._unit_counter.accumulator.state),
            "meter": _counter_json(self._meter_counter.accumulator.state),
        }

    # ------------------------------------------------------------------ internals

    def _advance(self, now: datetime) -> None:
        """Give each stretch of time since the last call to the best reading covering it."""
        start = self._last
        if now <= start:
            return
        # Normally time advances a minute at a time. A longer step means the hub was not
        # looking (suspended, or the clock was stepped forward): the model's figure is not
        # assumed for that time; held readings stop at their own age; counters catch up.
        gap = now - start > MAX_HOLD
        estimate = None if gap else self._estimate.span(start, now)
        if estimate is not None and self._estimate.reading is not None:
            hours = (estimate[1] - estimate[0]).total_seconds() / _SECONDS_PER_HOUR
            self._estimate_kwh += self._estimate.reading.value * hours / 1000
        uncovered = [(start, now)]
        for held in (self._meter_power, self._reported_power, self._estimate):
            if held.reading is None or (gap and held is self._estimate):
                continue
            watts, rest = held.reading.value, []
            for begin, end in uncovered:
                span = held.span(begin, end)
                if span is None:
                    rest.append((begin, end))
                    continue
                seconds = (span[1] - span[0]).total_seconds()
                self._kwh[held.source] += watts * seconds / 3.6e6
                self._seconds[held.source] += seconds
                rest += [
                    piece for piece in ((begin, span[0]), (span[1], end)) if piece[1] > piece[0]
                ]
            uncovered = rest
        self._last = now

    def _pick(self) -> tuple[float, EnergySource | None, _Counter | None]:
        """A live counter's delta beats integrated power of the same or a lower source."""
        meter = self.settings.meter
        start = self._minute_start
        if meter is not None and meter.energy_path is not None:
            stale = timedelta(seconds=meter.stale_after)
            if self._meter_counter.fresh(start, stale) or self._meter_counter.read_since(start):
                return self._meter_counter.take(), EnergySource.METERED, self._meter_counter
        if (
            not self._seconds[EnergySource.METERED]
            and self.settings.use_reported
            and (
                self._unit_counter.fresh(start, REPORTED_STALE_AFTER)
                or self._unit_counter.read_since(start)
            )
        ):
            return self._unit_counter.take(), EnergySource.REPORTED, self._unit_counter
        used = [source for source in EnergySource if self._seconds[source] > 0]
        if not used:
            return 0.0, None, None
        # A minute that mixed sources is labelled by the one that covered most of it.
        source = max(used, key=lambda s: self._seconds[s])
        return sum(self._kwh.values()), source, None

    def _estimate_w(self) -> float | None:
        state, profile = self._state, self.profile
        if profile is None or state is None:
            return None
        mode = state.mode if state.power else Mode.OFF
        action = state.action
        if mode is Mode.HEAT_COOL and action is None:
            action = self._auto_action(state)
        heating = mode is Mode.HEAT or action in (Action.HEATING, Action.DEFROSTING)
        outdoor = state.outdoor_temperature
        if outdoor is None:
            outdoor = self._outdoor_c()
        if outdoor is None:
            outdoor = RATED_HEATING_OUTDOOR_C if heating else RATED_COOLING_OUTDOOR_C
        hz = state.compressor_frequency
        hz_range = self._frequencies.range_at(outdoor)
        knows_range = hz_range is not None or profile.compressor_min_hz is not None
        try:
            return estimate_power(
                profile,
                mode=mode,
                outdoor_c=outdoor,
                action=action,
                compressor_frequency_hz=float(hz) if hz is not None and knows_range else None,
                frequency_range_hz=hz_range,
            )
        except (MissingPerformanceDataError, ValueError) as exc:
            self._warn_once(f"unit {self.unit_id}: no energy estimate: {exc}")
            return None

    def _auto_action(self, state: UnitState) -> Action:
        """heat_cool without a reported action: compare the room with the setpoint."""
        room, target = state.current_temperature, state.target_temperature
        if room is not None and target is not None:
            return Action.HEATING if room < target else Action.COOLING
        outdoor = state.outdoor_temperature
        if outdoor is None:
            outdoor = self._outdoor_c()
        return (
            Action.COOLING
            if outdoor is not None and outdoor > _AUTO_COOLS_ABOVE_C
            else (Action.HEATING)
        )

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("%s", message)


def _value(integral: _Held) -> float | None:
    return None if integral.reading is None else integral.reading.value


def _counter_state(data: Any) -> CounterState | None:
    if not isinstance(data, dict):
        return None
    try:
        at = data.get("last_at")
        raw = data.get("last_raw_kwh")
        return CounterState(
            total_kwh=float(data.get("total_kwh", 0.0)),
            last_raw_kwh=None if raw is None else float(raw),
            last_at=None if at is None else datetime.fromisoformat(at),
        )
    except (TypeError, ValueError):
        return None


def _counter_json(state: CounterState) -> dict[str, Any]:
    return {
        "total_kwh": state.total_kwh,
        "last_raw_kwh": state.last_raw_kwh,
        "last_at": None if state.last_at is None else state.last_at.isoformat(),
    }
