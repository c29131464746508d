"""The tariff data model: plain frozen records, all money and energy in ``Decimal``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from klima.errors import KlimaError

if TYPE_CHECKING:
    from datetime import date, datetime

ChargeUnit = Literal["day", "month", "year"]
Rounding = Literal["total", "line"]
HOURS = 24
MONTHS = 12


class TariffError(KlimaError):
    """A tariff, usage or price file is invalid, or a bill cannot be computed."""


@dataclass(frozen=True)
class Tier:
    """One block of an energy period: ``rate`` applies until the bill's cumulative kWh reaches
    ``max_kwh`` (``None`` = unbounded). ``daily`` means ``max_kwh`` is per day of the period."""

    rate: Decimal
    max_kwh: Decimal | None = None
    daily: bool = False


@dataclass(frozen=True)
class EnergyPeriod:
    """A time-of-use period (one row of URDB ``energyratestructure``)."""

    name: str
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class Schedule:
    """12 x 24 matrices (month 1..12 as rows 0..11, local hour 0..23) of 0-based period indices."""

    weekday: tuple[tuple[int, ...], ...]
    weekend: tuple[tuple[int, ...], ...]

    def period_at(self, local: datetime, holidays: frozenset[date]) -> int:
        """Saturdays, Sundays and listed holidays use the weekend matrix."""
        weekend = local.weekday() >= 5 or local.date() in holidays
        matrix = self.weekend if weekend else self.weekday
        return matrix[local.month - 1][local.hour]

    @staticmethod
    def constant(index: int = 0) -> Schedule:
        rows = tuple(tuple(index for _ in range(HOURS)) for _ in range(MONTHS))
        return Schedule(rows, rows)


@dataclass(frozen=True)
class Charge:
    """An amount per day, month or year (fixed and minimum charges)."""

    amount: Decimal
    per: ChargeUnit


@dataclass(frozen=True)
class DemandCharge:
    """``rate`` per kW of the highest average power over the intervals it covers.

    It covers the months in ``months`` and, when ``period`` is set, only the intervals whose
    ``schedule`` period index equals it (TOU demand). Power is the kWh in each clock-aligned
    ``window_minutes`` window (UTC-aligned) over its hours; an interval as long as the window or
    longer, or no window, counts on its own as kWh over its hours.
    """

    name: str
    rate: Decimal
    months: frozenset[int] = frozenset(range(1, 13))
    period: int | None = None
    schedule: Schedule | None = None
    window_minutes: int | None = None


@dataclass(frozen=True)
class Tariff:
    """Everything the bill engine needs. ``prices`` (dynamic tariff) replaces the energy periods."""

    name: str = "tariff"
    currency: str = "USD"
    periods: tuple[EnergyPeriod, ...] = (EnergyPeriod("flat", (Tier(Decimal(0)),)),)
    schedule: Schedule = field(default_factory=Schedule.constant)
    holidays: frozenset[date] = frozenset()
    fixed_charges: tuple[Charge, ...] = ()
    minimum_charge: Charge | None = None
    demand_charges: tuple[DemandCharge, ...] = ()
    tax_percent: Decimal = Decimal(0)
    rounding: Rounding = "total"
    prices: PriceSeries | None = None
    # $/kWh added to every kWh by local month (URDB ``fueladjustmentsmonthly``): 12 or none.
    monthly_adjustments: tuple[Decimal, ...] = ()

    def __post_init__(self) -> None:
        if self.monthly_adjustments and len(self.monthly_adjustments) != MONTHS:
            raise TariffError("monthly adjustments must list 12 values")
        if not self.periods or any(not p.tiers for p in self.periods):
            raise TariffError("a tariff needs at least one energy period with a tier")
        for matrix in (self.schedule.weekday, self.schedule.weekend):
            if len(matrix) != MONTHS or any(len(row) != HOURS for row in matrix):
                raise TariffError("an energy schedule must be 12 rows of 24 hours")
            if any(not 0 <= i < len(self.periods) for row in matrix for i in row):
                raise TariffError("an energy schedule names a period the tariff does not have")


@dataclass(frozen=True)
class PriceSeries:
    """Dynamic prices: ``starts`` (aware, ascending) and the price per kWh from each start on.

    The last price holds for as long as the slot before it lasted.
    """

    starts: tuple[datetime, ...]
    prices: tuple[Decimal, ...]

    def __post_init__(self) -> None:
        if not self.starts or len(self.starts) != len(self.prices):
            raise TariffError("a price series needs at least one (start, price) row")
        if any(b <= a for a, b in pairwise(self.starts)):
            raise TariffError("price starts must be strictly increasing")
