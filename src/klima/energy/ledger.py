"""Running energy and cost totals: this hour, today, this billing period and lifetime.

One :class:`Ledger` holds every unit and the house (``None``). Totals are absolute, so the
rollup rows written to the database are upserts that the newest value wins, and reading "so
far this month" is one row, not a scan of history. Buckets roll over when a minute that starts
in a new hour, local day or billing period is added.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from klima.energy.tariffs import calendar_month, meter_read_period
from klima.persistence.energy import EnergyTotals, LifetimeRow, RollupRow

if TYPE_CHECKING:
    from collections.abc import Iterable
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from klima.energy.model import EnergySource
    from klima.energy.tariffs import BillingPeriod
    from klima.persistence import Store

RECENT_DAYS = 7  # whole days that feed the projection to the end of the period
_EMPTY = EnergyTotals()


def day_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def hour_key(at: datetime) -> int:
    epoch = int(at.astimezone(UTC).timestamp())
    return epoch - epoch % 3600


@dataclass(frozen=True, slots=True)
class BucketKeys:
    hour: int
    day: int
    period: BillingPeriod

    @property
    def period_key(self) -> int:
        return day_key(self.period.start.astimezone(self.period.tz).date())

    @property
    def period_end_key(self) -> int:
        return day_key(self.period.end.astimezone(self.period.tz).date())


class Ledger:
    def __init__(self, zone: ZoneInfo, billing_day: int = 1) -> None:
        self.zone = zone
        self.billing_day = billing_day
        self.keys: BucketKeys | None = None
        self.hour: dict[str | None, EnergyTotals] = {}
        self.day: dict[str | None, EnergyTotals] = {}
        self.period: dict[str | None, EnergyTotals] = {}
        self.lifetime: dict[str | None, EnergyTotals] = {}
        self.saved: dict[str | None, dict[str, object]] = {}  # trackers' counter states
        # Costs of the last whole days per unit, newest last (for the projection).
        self.recent: dict[str | None, deque[Decimal]] = {}

    def keys_at(self, at: datetime) -> BucketKeys:
        local = at.astimezone(self.zone)
        if self.billing_day == 1:
            period = calendar_month(local.year, local.month, self.zone)
        else:
            period = meter_read_period(local.date(), self.billing_day, self.zone)
        return BucketKeys(hour_key(at), day_key(local.date()), period)

    # ------------------------------------------------------------------ start-up

    def load(self, store: Store, at: datetime, unit_ids: Iterable[str]) -> None:
        """Continue the buckets holding ``at`` from what the database has."""
        keys = self.keys_at(at)
        self.keys = keys
        self.hour = dict(store.energy_rollups("hour", keys.hour))
        self.day = dict(store.energy_rollups("day", keys.day))
        self.period = dict(store.energy_rollups("period", keys.period_key))
        for unit_id, row in store.energy_lifetimes().items():
            # Lifetimes are stored as kWh and cost only; which source each kWh came from is
            # in the samples and rollups, so the split here is not meaningful.
            self.lifetime[unit_id] = EnergyTotals(reported_kwh=row.kwh, cost=row.cost)
            self.saved[unit_id] = row.state
        today = at.astimezone(self.zone).date()
        since = datetime.combine(
            today - timedelta(days=RECENT_DAYS), datetime.min.time(), self.zone
        )
        until = datetime.combine(today, datetime.min.time(), self.zone)
        for unit_id in (None, *unit_ids):
            days = store.energy_series(unit_id, since, until, "day", self.zone)
            self.recent[unit_id] = deque((b.totals.cost for b in days), maxlen=RECENT_DAYS)

    # ------------------------------------------------------------------ minutes

    def roll(self, keys: BucketKeys) -> None:
        """Start new buckets where ``keys`` left the current ones."""
        current = self.keys
        if current is not None and current.day != keys.day:
            for unit_id, totals in self.day.items():
                self.recent.setdefault(unit_id, deque(maxlen=RECENT_DAYS)).append(totals.cost)
        if current is None or current.hour != keys.hour:
            self.hour = {}
        if current is None or current.day != keys.day:
            self.day = {}
        if current is None or current.period_key != keys.period_key:
            self.period = {}
        self.keys = keys

    def add(self, unit_id: str, kwh: float, source: EnergySource, cost: Decimal) -> None:
        for owner in (unit_id, None):
            for bucket in (self.hour, self.day, self.period):
                bucket[owner] = bucket.get(owner, _EMPTY).add(kwh, source, cost)
            self.lifetime[owner] = self.lifetime.get(owner, _EMPTY).add(kwh, source, cost)

    def rows(self, unit_ids: Iterable[str]) -> tuple[list[RollupRow], list[LifetimeRow]]:
        """Rollup and lifetime rows of these units and the house, as they stand now."""
        keys = self.keys
        assert keys is not None
        rollups: list[RollupRow] = []
        lifetimes: list[LifetimeRow] = []
        for owner in (*unit_ids, None):
            rollups += [
                RollupRow("hour", keys.hour, owner, self.hour.get(owner, _EMPTY)),
                RollupRow("day", keys.day, owner, self.day.get(owner, _EMPTY)),
                RollupRow(
                    "period",
                    keys.period_key,
                    owner,
                    self.period.get(owner, _EMPTY),
                    end_key=keys.period_end_key,
                ),
            ]
            life = self.lifetime.get(owner, _EMPTY)
            lifetimes.append(
                LifetimeRow(owner, life.kwh, life.cost, dict(self.saved.get(owner, {})))
            )
        return rollups, lifetimes

    def totals(self, owner: str | None) -> tuple[EnergyTotals, EnergyTotals, EnergyTotals]:
        """(today, this period, lifetime) of a unit or the house."""
        return (
            self.day.get(owner, _EMPTY),
            self.period.get(owner, _EMPTY),
            self.lifetime.get(owner, _EMPTY),
        )
