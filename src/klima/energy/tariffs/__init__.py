"""Tariffs and bills: a pure engine over ``Decimal`` money and time-zone aware intervals.

:func:`load_tariff` reads a URDB JSON (``.json``) or a native TOML tariff (anything else);
:func:`compute_bill` prices a usage series for a :class:`BillingPeriod`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klima.energy.tariffs.compute import Bill, BillLine, compute_bill
from klima.energy.tariffs.model import (
    Charge,
    DemandCharge,
    EnergyPeriod,
    PriceSeries,
    Schedule,
    Tariff,
    TariffError,
    Tier,
)
from klima.energy.tariffs.native import load_native, tariff_from_document
from klima.energy.tariffs.periods import (
    BillingPeriod,
    calendar_month,
    meter_read_period,
    parse_month,
)
from klima.energy.tariffs.urdb import load_urdb, tariff_from_urdb
from klima.energy.tariffs.usage import (
    UsageInterval,
    intervals_from_starts,
    read_prices_csv,
    read_usage_csv,
)

if TYPE_CHECKING:
    from pathlib import Path


def load_tariff(path: Path) -> Tariff:
    """URDB JSON when the name ends in ``.json``, the native TOML format otherwise."""
    return load_urdb(path) if path.suffix.lower() == ".json" else load_native(path)


__all__ = [
    "Bill",
    "BillLine",
    "BillingPeriod",
    "Charge",
    "DemandCharge",
    "EnergyPeriod",
    "PriceSeries",
    "Schedule",
    "Tariff",
    "TariffError",
    "Tier",
    "UsageInterval",
    "calendar_month",
    "compute_bill",
    "intervals_from_starts",
    "load_native",
    "load_tariff",
    "load_urdb",
    "meter_read_period",
    "parse_month",
    "read_prices_csv",
    "read_usage_csv",
    "tariff_from_document",
    "tariff_from_urdb",
]
