"""Turning power samples and raw device counters into kWh.

Two rules from research §1.7 and serial.md §3.6/§8: integrate instantaneous power by trapezoid
between polls, and feed a device's cumulative counter through a monotonic accumulator that seeds
from its first reading, adds only plausible positive deltas, follows a counter wrap and ignores
dips and resets — the lifetime total never goes backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, timedelta

_SECONDS_PER_HOUR = 3600.0
# A cumulative counter may read one step ahead of what power x time allows (rounding).
_COUNTER_SLACK_STEPS = 1


class EnergySource(StrEnum):
    """Where a number came from, most trusted first."""

    METERED = "metered"
    REPORTED = "reported"
    ESTIMATED = "estimated"


_TRUST_ORDER = (EnergySource.METERED, EnergySource.REPORTED, EnergySource.ESTIMATED)


@dataclass(frozen=True, slots=True)
class PowerSample:
    at: datetime
    watts: float
    source: EnergySource


def _least_trusted(a: EnergySource, b: EnergySource) -> EnergySource:
    return max(a, b, key=_TRUST_ORDER.index)


def interval_kwh(earlier: PowerSample, later: PowerSample) -> float:
    """Trapezoid between two samples; 0 when time does not move forward."""
    hours = (later.at - earlier.at).total_seconds() / _SECONDS_PER_HOUR
    if hours <= 0:
        return 0.0
    return (earlier.watts + later.watts) / 2.0 * hours / 1000.0


def integrate_kwh(
    samples: Iterable[PowerSample], *, max_gap: timedelta | None = None
) -> dict[EnergySource, float]:
    """kWh by trapezoid over successive samples, by source.

    An interval counts as the less trusted of its two ends' sources. Intervals longer than
    ``max_gap`` are skipped: nothing is known about power while the hub was not looking.
    Samples that do not move time forward are ignored.
    """
    totals = dict.fromkeys(EnergySource, 0.0)
    previous: PowerSample | None = None
    for sample in samples:
        if previous is not None:
            if sample.at <= previous.at:
                continue
            if max_gap is None or sample.at - previous.at <= max_gap:
                source = _least_trusted(previous.source, sample.source)
                totals[source] += interval_kwh(previous, sample)
        previous = sample
    return totals


@dataclass(frozen=True, slots=True)
class CounterState:
    """What a :class:`LifetimeAccumulator` persists between runs."""

    total_kwh: float = 0.0
    last_raw_kwh: float | None = None
    last_at: datetime | None = None


class LifetimeAccumulator:
    """A lifetime kWh total fed by a device's raw cumulative counter.

    ``wrap_kwh`` is the value at which the counter rolls over to 0 (CN105: 16 bits of 0.1 kWh,
    so 6553.6; ``None`` if it never wraps). ``max_power_kw`` bounds a plausible delta:
    at most max_power x elapsed time, plus ``step_kwh`` (one counter step) of rounding. A delta
    beyond that, or a drop that no wrap explains, re-seeds the accumulator and adds nothing.
    """

    def __init__(
        self,
        *,
        max_power_kw: float,
        wrap_kwh: float | None = None,
        step_kwh: float = 0.1,
        state: CounterState | None = None,
    ) -> None:
        if max_power_kw <= 0:
            raise ValueError("max_power_kw must be positive")
        if wrap_kwh is not None and wrap_kwh <= 0:
            raise ValueError("wrap_kwh must be positive")
        self._max_power_kw = max_power_kw
        self._wrap_kwh = wrap_kwh
        self._step_kwh = step_kwh
        self._state = state or CounterState()

    @property
    def total_kwh(self) -> float:
        return self._state.total_kwh

    @property
    def state(self) -> CounterState:
        return self._state

    def _plausible_limit(self, elapsed: timedelta) -> float:
        hours = max(elapsed.total_seconds(), 0.0) / _SECONDS_PER_HOUR
        return self._max_power_kw * hours + _COUNTER_SLACK_STEPS * self._step_kwh

    def update(self, raw_kwh: float, at: datetime) -> float:
        """Take one counter reading; return the kWh added to the lifetime total (never < 0)."""
        last_raw, last_at = self._state.last_raw_kwh, self._state.last_at
        if last_at is not None and at <= last_at:
            return 0.0  # a stale or replayed reading carries no new information
        delta = 0.0
        if last_raw is not None and last_at is not None:
            limit = self._plausible_limit(at - last_at)
            if raw_kwh >= last_raw:
                candidate = raw_kwh - last_raw
            elif self._wrap_kwh is not None:
                candidate = self._wrap_kwh - last_raw + raw_kwh
            else:
                candidate = -1.0
            if 0.0 <= candidate <= limit:
                delta = candidate
        self._state = CounterState(self._state.total_kwh + delta, raw_kwh, at)
        return delta
