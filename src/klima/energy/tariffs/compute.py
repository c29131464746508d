"""The bill: energy (TOU x tiers, chronological, or dynamic prices), fixed, demand, minimum, tax.

Tiers use the bill's cumulative kWh across all periods (chronological allocation, research
§2.5): an interval that crosses a tier boundary is split. ``daily`` tier maxima scale by the days
of the *whole* billing period, also for a bill ``as_of`` part-way (tiers reset per period). Fixed
and minimum charges: per day x days, per month x 1, per year / 12, pro-rated by elapsed local days
when ``as_of`` is set. Demand: rate x the highest interval kW in the charge's months and period.
Monthly adjustments ($/kWh by month) are energy lines.
Tax: percent of energy + fixed + demand + minimum top-up. Money stays at full precision and is
rounded ROUND_HALF_UP once at the total, or per line when the tariff says ``line``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from klima.energy.tariffs.model import Charge, PriceSeries, Tariff, TariffError, Tier

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from klima.energy.tariffs.periods import BillingPeriod
    from klima.energy.tariffs.usage import UsageInterval

_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "KWD": 3, "BHD": 3}


def money_quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency.upper(), 2))


@dataclass(frozen=True)
class BillLine:
    """``kind`` is energy, fixed, demand, minimum or tax; ``quantity`` is in ``unit``."""

    kind: str
    label: str
    quantity: Decimal
    unit: str
    rate: Decimal | None
    amount: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "rate": None if self.rate is None else str(self.rate),
            "amount": str(self.amount),
        }


@dataclass(frozen=True)
class Bill:
    currency: str
    kwh: Decimal
    total: Decimal
    lines: tuple[BillLine, ...]
    days: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "kwh": str(self.kwh),
            "total": str(self.total),
            "days": str(self.days),
            "lines": [line.to_json() for line in self.lines],
        }


def charge_factor(charge: Charge, days: Decimal, period_days: int) -> tuple[Decimal, str]:
    """How many ``charge.per`` units a bill of ``days`` out of ``period_days`` covers."""
    if charge.per == "day":
        return days, "day"
    share = days / period_days
    return (share, "month") if charge.per == "month" else (share / 12, "year")


def _tier_bound(tiers: Sequence[Tier], number: int, period_days: int) -> Decimal | None:
    """The cumulative kWh where tier ``number`` ends, ``None`` when it is open-ended."""
    tier = tiers[number]
    if tier.max_kwh is None or number == len(tiers) - 1:
        return None  # a max on the last tier would leave kWh unpriced: ignore it
    return tier.max_kwh * period_days if tier.daily else tier.max_kwh


def split_tiers(
    tiers: Sequence[Tier], kwh: Decimal, before: Decimal, period_days: int
) -> list[tuple[int, Decimal]]:
    """(0-based tier, kWh) pieces of ``kwh`` used once the bill holds ``before`` kWh."""
    pieces = []
    cumulative, remaining = before, kwh
    for number in range(len(tiers)):
        if remaining <= 0:
            break
        bound = _tier_bound(tiers, number, period_days)
        room = remaining if bound is None else max(Decimal(0), min(remaining, bound - cumulative))
        if room == 0:
            continue
        pieces.append((number, room))
        cumulative += room
        remaining -= room
    return pieces


def tier_at(tiers: Sequence[Tier], cumulative: Decimal, period_days: int) -> int:
    """The 0-based tier the next kWh falls in once the bill holds ``cumulative`` kWh."""
    for number in range(len(tiers)):
        bound = _tier_bound(tiers, number, period_days)
        if bound is None or cumulative < bound:
            return number
    return len(tiers) - 1


class SlotPrices:
    """Dynamic price lookup: the price of the slot holding a moment, ``None`` outside the series."""

    def __init__(self, series: PriceSeries) -> None:
        self._starts = [start.astimezone(UTC) for start in series.starts]
        self._prices = series.prices
        starts = self._starts
        self._end = starts[-1] + (starts[-1] - starts[-2]) if len(starts) > 1 else starts[-1]

    def at(self, moment: datetime) -> Decimal | None:
        utc = moment.astimezone(UTC)
        slot = bisect.bisect_right(self._starts, utc) - 1
        return None if slot < 0 or utc >= self._end else self._prices[slot]


def _energy_lines(
    tariff: Tariff, usage: Sequence[UsageInterval], period: BillingPeriod
) -> list[BillLine]:
    totals: dict[tuple[str, int, Decimal], Decimal] = {}
    cumulative = Decimal(0)
    for interval in usage:
        local = interval.start.astimezone(period.tz)
        energy_period = tariff.periods[tariff.schedule.period_at(local, tariff.holidays)]
        for tier_number, kwh in split_tiers(
            energy_period.tiers, interval.kwh, cumulative, period.days
        ):
            key = (energy_period.name, tier_number, energy_period.tiers[tier_number].rate)
            totals[key] = totals.get(key, Decimal(0)) + kwh
            cumulative += kwh
    lines = []
    for (name, tier_number, rate), kwh in totals.items():
        tier_count = next(len(p.tiers) for p in tariff.periods if p.name == name)
        label = f"{name} tier {tier_number + 1}" if tier_count > 1 else name
        lines.append(BillLine("energy", label, kwh, "kWh", rate, kwh * rate))
    return lines


def _dynamic_lines(tariff: Tariff, usage: Sequence[UsageInterval]) -> list[BillLine]:
    assert tariff.prices is not None
    prices = SlotPrices(tariff.prices)
    kwh = amount = Decimal(0)
    for interval in usage:
        price = prices.at(interval.start)
        if price is None:
            raise TariffError(f"no price for the interval starting {interval.start.isoformat()}")
        kwh += interval.kwh
        amount += interval.kwh * price
    rate = amount / kwh if kwh else None
    return [BillLine("energy", "dynamic", kwh, "kWh", rate, amount)]


def _demand_lines(
    tariff: Tariff, usage: Sequence[UsageInterval], period: BillingPeriod
) -> list[BillLine]:
    lines = []
    for charge in tariff.demand_charges:
        peak = Decimal(0)
        window_hours = Decimal(charge.window_minutes or 0) / 60
        windows: dict[int, Decimal] = {}
        for interval in usage:
            local = interval.start.astimezone(period.tz)
            if local.month not in charge.months:
                continue
            if charge.period is not None:
                schedule = charge.schedule or tariff.schedule
                if schedule.period_at(local, tariff.holidays) != charge.period:
                    continue
            if interval.hours >= window_hours:
                peak = max(peak, interval.kwh / interval.hours)
            else:
                assert charge.window_minutes is not None
                key = int(interval.start.timestamp()) // (charge.window_minutes * 60)
                windows[key] = windows.get(key, Decimal(0)) + interval.kwh
        peak = max([peak, *(kwh / window_hours for kwh in windows.values())])
        if peak:
            lines.append(
                BillLine("demand", charge.name, peak, "kW", charge.rate, peak * charge.rate)
            )
    return lines


def _adjustment_lines(
    tariff: Tariff, usage: Sequence[UsageInterval], period: BillingPeriod
) -> list[BillLine]:
    by_month: dict[int, Decimal] = {}
    for interval in usage:
        month = interval.start.astimezone(period.tz).month
        by_month[month] = by_month.get(month, Decimal(0)) + interval.kwh
    return [
        BillLine("energy", f"adjustment month {month}", kwh, "kWh", rate, kwh * rate)
        for month, kwh in sorted(by_month.items())
        if (rate := tariff.monthly_adjustments[month - 1])
    ]


def compute_bill(
    tariff: Tariff,
    usage: Sequence[UsageInterval],
    period: BillingPeriod,
    as_of: datetime | None = None,
) -> Bill:
    """The bill for ``period`` (up to ``as_of`` when given) from ``usage`` in any order."""
    # Compare in UTC: aware datetimes sharing a tzinfo compare wall clocks.
    end = period.end.astimezone(UTC)
    cutoff = end if as_of is None else min(as_of.astimezone(UTC), end)
    begin = period.start.astimezone(UTC)
    billed = sorted(
        (u for u in usage if begin <= u.start.astimezone(UTC) < cutoff),
        key=lambda u: u.start.astimezone(UTC),
    )
    days = period.elapsed_days(cutoff)
    if tariff.prices is not None:
        lines = _dynamic_lines(tariff, billed)
    else:
        lines = _energy_lines(tariff, billed, period)
    if tariff.monthly_adjustments:
        lines += _adjustment_lines(tariff, billed, period)
    for charge in tariff.fixed_charges:
        factor, unit = charge_factor(charge, days, period.days)
        lines.append(
            BillLine(
                "fixed",
                f"fixed per {charge.per}",
                factor,
                unit,
                charge.amount,
                factor * charge.amount,
            )
        )
    lines += _demand_lines(tariff, billed, period)
    quantum = money_quantum(tariff.currency)
    if tariff.rounding == "line":
        lines = [_rounded(line, quantum) for line in lines]
    subtotal = sum((line.amount for line in lines), Decimal(0))
    if tariff.minimum_charge is not None:
        factor, _ = charge_factor(tariff.minimum_charge, days, period.days)
        minimum = factor * tariff.minimum_charge.amount
        if tariff.rounding == "line":
            minimum = minimum.quantize(quantum, ROUND_HALF_UP)
        if subtotal < minimum:
            top_up = minimum - subtotal
            lines.append(
                BillLine("minimum", "minimum charge top-up", Decimal(1), "bill", None, top_up)
            )
            subtotal = minimum
    if tariff.tax_percent:
        tax = BillLine(
            "tax",
            f"tax {tariff.tax_percent}%",
            subtotal,
            tariff.currency,
            tariff.tax_percent / 100,
            subtotal * tariff.tax_percent / 100,
        )
        lines.append(_rounded(tax, quantum) if tariff.rounding == "line" else tax)
    total = sum((line.amount for line in lines), Decimal(0)).quantize(quantum, ROUND_HALF_UP)
    kwh = sum((u.kwh for u in billed), Decimal(0))
    return Bill(tariff.currency, kwh, total, tuple(lines), days)


def _rounded(line: BillLine, quantum: Decimal) -> BillLine:
    return BillLine(
        line.kind,
        line.label,
        line.quantity,
        line.unit,
        line.rate,
        line.amount.quantize(quantum, ROUND_HALF_UP),
    )
