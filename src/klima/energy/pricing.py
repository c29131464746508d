"""Real-time pricing: one interval at a time, the same rules as :func:`compute_bill`.

The daemon prices each slice of energy as it is measured and keeps the billing period's running
kWh itself, so nothing here scans history. Prices cover energy (TOU x tiers or dynamic prices),
monthly adjustments and tax; fixed charges accrue separately (:meth:`RealtimePricer.fixed_so_far`).
Demand and minimum charges are left to the bill at the end of the period: neither has a marginal
price while the period runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from klima.energy.tariffs.compute import SlotPrices, charge_factor, split_tiers, tier_at
from klima.energy.tariffs.model import TariffError
from klima.energy.tariffs.periods import BillingPeriod, calendar_month, meter_read_period

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from klima.energy.tariffs.model import Tariff

DYNAMIC = "dynamic"


@dataclass(frozen=True)
class PricedEnergy:
    cost: Decimal  # energy + monthly adjustments + tax on them; full precision, may be < 0
    rate: Decimal | None  # effective price per kWh incl. tax, None when kwh == 0
    tariff_period: str  # TOU period name, or "dynamic"


@dataclass(frozen=True)
class PriceNow:
    rate: Decimal | None  # price of the next kWh incl. adjustments and tax, None if unknown
    tariff_period: str | None
    tier: int | None  # 1-based, None for dynamic prices


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TariffError(f"{what} must be time-zone aware, not {moment.isoformat()}")


class RealtimePricer:
    """Prices intervals of one tariff in the local zone ``tz``.

    ``billing_day`` 1 bills calendar months; 2..28 bills meter-read periods starting that day.
    """

    def __init__(self, tariff: Tariff, tz: ZoneInfo, *, billing_day: int = 1) -> None:
        if not 1 <= billing_day <= 28:
            raise TariffError("the billing day must be 1..28 so that every month has it")
        self._tariff = tariff
        self._tz = tz
        self._billing_day = billing_day
        self._slots = None if tariff.prices is None else SlotPrices(tariff.prices)
        self._tax_factor = 1 + tariff.tax_percent / 100
        self._period: BillingPeriod | None = None  # the last one asked for: most calls reuse it

    @property
    def currency(self) -> str:
        return self._tariff.currency

    @property
    def tariff(self) -> Tariff:
        return self._tariff

    def period_at(self, at: datetime) -> BillingPeriod:
        """The billing period holding ``at``."""
        _require_aware(at, "a moment")
        utc = at.astimezone(UTC)
        cached = self._period
        if cached is not None and cached.start <= utc < cached.end:
            return cached
        local = at.astimezone(self._tz)
        if self._billing_day == 1:
            period = calendar_month(local.year, local.month, self._tz)
        else:
            period = meter_read_period(local.date(), self._billing_day, self._tz)
        self._period = period
        return period

    def price(
        self,
        start: datetime,
        end: datetime,
        kwh: Decimal,
        period_kwh_before: Decimal,
        *,
        live_price: Decimal | None = None,
    ) -> PricedEnergy:
        """The cost of ``kwh`` used in ``[start, end)`` after ``period_kwh_before`` kWh this period.

        Like the bill: the TOU period of the local start time, tiers by the period's cumulative
        kWh (split where the interval crosses a bound; daily bounds x days of the whole period),
        or the dynamic price of the slot holding ``start``. ``live_price`` replaces the tariff's
        energy price for this interval.
        """
        _require_aware(start, "an interval start")
        _require_aware(end, "an interval end")
        if end.astimezone(UTC) <= start.astimezone(UTC):
            raise TariffError(f"the interval starting {start.isoformat()} must end after it")
        if kwh < 0 or period_kwh_before < 0:
            raise TariffError("energy to price must not be negative")
        tariff = self._tariff
        local = start.astimezone(self._tz)
        if live_price is not None or self._slots is not None:
            energy = kwh * self._dynamic_price(start, live_price)
            name = DYNAMIC
        else:
            energy_period = tariff.periods[tariff.schedule.period_at(local, tariff.holidays)]
            days = self.period_at(start).days
            energy = sum(
                (
                    piece * energy_period.tiers[number].rate
                    for number, piece in split_tiers(
                        energy_period.tiers, kwh, period_kwh_before, days
                    )
                ),
                Decimal(0),
            )
            name = energy_period.name
        cost = (energy + kwh * self._adjustment(local.month)) * self._tax_factor
        return PricedEnergy(cost, cost / kwh if kwh else None, name)

    def price_now(
        self, at: datetime, period_kwh: Decimal, *, live_price: Decimal | None = None
    ) -> PriceNow:
        """The price of the next kWh at ``at`` with ``period_kwh`` already used this period."""
        _require_aware(at, "a moment")
        tariff = self._tariff
        local = at.astimezone(self._tz)
        adjustment = self._adjustment(local.month)
        if live_price is not None or self._slots is not None:
            price = live_price if live_price is not None else self._slots_at(at)
            rate = None if price is None else (price + adjustment) * self._tax_factor
            return PriceNow(rate, DYNAMIC, None)
        energy_period = tariff.periods[tariff.schedule.period_at(local, tariff.holidays)]
        number = tier_at(energy_period.tiers, period_kwh, self.period_at(at).days)
        rate = (energy_period.tiers[number].rate + adjustment) * self._tax_factor
        return PriceNow(rate, energy_period.name, number + 1)

    def fixed_so_far(self, period: BillingPeriod, at: datetime) -> Decimal:
        """Fixed charges of ``period`` accrued by ``at``, pro-rated by elapsed local days, + tax."""
        _require_aware(at, "a moment")
        days = period.elapsed_days(at)
        fixed = sum(
            (
                charge_factor(charge, days, period.days)[0] * charge.amount
                for charge in self._tariff.fixed_charges
            ),
            Decimal(0),
        )
        return fixed * self._tax_factor

    def project(
        self,
        period: BillingPeriod,
        at: datetime,
        cost_so_far: Decimal,
        recent_daily_costs: Sequence[Decimal],
    ) -> Decimal:
        """The energy cost of ``period`` by its end, extrapolated linearly from ``at``.

        ``cost_so_far`` plus a daily cost x the remaining (fractional) local days. The daily cost
        is the mean of ``recent_daily_costs`` (recent whole days follow the weather and the
        current tier and TOU mix better than the period's average), else ``cost_so_far`` over the
        elapsed days; with neither, the projection is ``cost_so_far``. Tier and season changes
        still ahead are deliberately not simulated: the recent days already carry the tier in
        force, and a finer model would need a usage forecast Klima does not have.
        Fixed charges are not included: add ``fixed_so_far(period, period.end)``.
        """
        _require_aware(at, "a moment")
        elapsed = period.elapsed_days(at)
        remaining = period.days - elapsed
        if recent_daily_costs:
            daily = sum(recent_daily_costs, Decimal(0)) / len(recent_daily_costs)
        elif elapsed > 0:
            daily = cost_so_far / elapsed
        else:
            return cost_so_far
        return cost_so_far + daily * remaining

    def _dynamic_price(self, start: datetime, live_price: Decimal | None) -> Decimal:
        price = live_price if live_price is not None else self._slots_at(start)
        if price is None:
            raise TariffError(
                f"no price for the interval starting {start.isoformat()}:"
                " the price series does not cover it and no live price was given"
            )
        return price

    def _slots_at(self, moment: datetime) -> Decimal | None:
        return None if self._slots is None else self._slots.at(moment)

    def _adjustment(self, month: int) -> Decimal:
        adjustments = self._tariff.monthly_adjustments
        return adjustments[month - 1] if adjustments else Decimal(0)
