"""OpenEI URDB rate JSON, loaded as is: a bare rate object or an API response with ``items``.

Read (research §2.2): ``energyratestructure`` ``[period][tier] {rate, adj?, max?, unit?}`` with
the price ``rate + adj`` and ``max`` the tier's cumulative bound (``unit: "kWh daily"`` scales it
by the days of the period); ``energyweekdayschedule``/``energyweekendschedule`` (12 x 24, 0-based);
``fixedchargefirstmeter`` + ``fixedchargeunits`` ($/day, $/month, $/year); ``mincharge`` +
``minchargeunits``; ``flatdemandstructure`` + ``flatdemandmonths``; ``demandratestructure`` +
``demandweekdayschedule``/``demandweekendschedule``, with ``demandwindow`` (minutes);
``fueladjustmentsmonthly`` ($/kWh by month).
URDB has no holiday matrix and no taxes: pass ``holidays`` and ``tax_percent``. Money is USD.
Tiered demand (several demand tiers) and ``kWh/kW`` energy tiers are rejected, not guessed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from klima.energy.tariffs.model import (
    HOURS,
    MONTHS,
    Charge,
    ChargeUnit,
    DemandCharge,
    EnergyPeriod,
    Schedule,
    Tariff,
    TariffError,
    Tier,
)

if TYPE_CHECKING:
    from pathlib import Path

_UNITS: dict[str, ChargeUnit] = {"$/day": "day", "$/month": "month", "$/year": "year"}


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TariffError(f"URDB {what} is not a number: {value!r}")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise TariffError(f"URDB {what} is not a number: {value!r}") from None


def _matrix(value: Any, what: str) -> tuple[tuple[int, ...], ...]:
    if (
        not isinstance(value, list)
        or len(value) != MONTHS
        or any(not isinstance(row, list) or len(row) != HOURS for row in value)
        or any(isinstance(i, bool) or not isinstance(i, int) for row in value for i in row)
    ):
        raise TariffError(f"URDB {what} must be 12 rows of 24 integers")
    return tuple(tuple(row) for row in value)


def _rate(entry: Any, what: str) -> Decimal:
    if not isinstance(entry, dict) or "rate" not in entry:
        raise TariffError(f"URDB {what} has no rate")
    return _decimal(entry["rate"], what) + _decimal(entry.get("adj", 0), f"{what} adj")


def _energy_periods(structure: Any, labels: Any) -> tuple[EnergyPeriod, ...]:
    if not isinstance(structure, list) or not structure:
        raise TariffError("URDB rate has no energyratestructure")
    periods = []
    for index, tiers in enumerate(structure):
        if not isinstance(tiers, list) or not tiers:
            raise TariffError(f"URDB energy period {index} has no tiers")
        parsed = []
        for number, entry in enumerate(tiers):
            what = f"energy period {index} tier {number}"
            unit = entry.get("unit", "kWh") if isinstance(entry, dict) else "kWh"
            if unit not in ("kWh", "kWh daily"):
                raise TariffError(f"URDB {what}: unit {unit!r} is not supported")
            bound = entry.get("max") if isinstance(entry, dict) else None
            maximum = None if bound is None else _decimal(bound, f"{what} max")
            parsed.append(Tier(_rate(entry, what), maximum, daily=unit == "kWh daily"))
        has_label = isinstance(labels, list) and index < len(labels)
        name = str(labels[index]) if has_label else f"period {index}"
        periods.append(EnergyPeriod(name, tuple(parsed)))
    return tuple(periods)


def _single_tier_rate(tiers: Any, what: str) -> Decimal:
    if not isinstance(tiers, list) or len(tiers) != 1:
        raise TariffError(f"URDB {what}: tiered demand is not supported")
    return _rate(tiers[0], what)


def _demand_charges(rate: dict[str, Any]) -> tuple[DemandCharge, ...]:
    charges = []
    window = rate.get("demandwindow")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or window <= 0
    ):
        raise TariffError(f"URDB demandwindow must be whole minutes, not {window!r}")
    flat = rate.get("flatdemandstructure")
    if flat:
        months = rate.get("flatdemandmonths")
        if not isinstance(months, list) or len(months) != MONTHS:
            raise TariffError("URDB flatdemandmonths must list 12 period indices")
        for index, tiers in enumerate(flat):
            covered = frozenset(m + 1 for m, p in enumerate(months) if p == index)
            amount = _single_tier_rate(tiers, f"flat demand period {index}")
            if covered and amount:
                charges.append(
                    DemandCharge(f"demand flat {index}", amount, covered, window_minutes=window)
                )
    tou = rate.get("demandratestructure")
    if tou:
        schedule = Schedule(
            _matrix(rate.get("demandweekdayschedule"), "demandweekdayschedule"),
            _matrix(rate.get("demandweekendschedule"), "demandweekendschedule"),
        )
        for index, tiers in enumerate(tou):
            amount = _single_tier_rate(tiers, f"demand period {index}")
            if amount:
                charges.append(
                    DemandCharge(
                        f"demand period {index}",
                        amount,
                        period=index,
                        schedule=schedule,
                        window_minutes=window,
                    )
                )
    return tuple(charges)


def _charge(rate: dict[str, Any], amount_key: str, unit_key: str) -> Charge | None:
    if rate.get(amount_key) in (None, 0):
        return None
    unit = rate.get(unit_key, "$/month")
    if unit not in _UNITS:
        raise TariffError(f"URDB {unit_key} {unit!r} is not one of {sorted(_UNITS)}")
    return Charge(_decimal(rate[amount_key], amount_key), _UNITS[unit])


def tariff_from_urdb(
    document: Any, label: str | None = None, tax_percent: Decimal = Decimal(0)
) -> Tariff:
    """A tariff from a parsed URDB document; ``label`` picks one of several ``items``."""
    rate = document
    if isinstance(document, dict) and "items" in document:
        items = document["items"]
        if not isinstance(items, list) or not items:
            raise TariffError("URDB response has no items")
        matching = [
            i for i in items if label is None or (isinstance(i, dict) and i.get("label") == label)
        ]
        if not matching:
            raise TariffError(f"URDB response has no item labelled {label!r}")
        rate = matching[0]
    if not isinstance(rate, dict):
        raise TariffError("URDB rate must be a JSON object")
    periods = _energy_periods(rate.get("energyratestructure"), rate.get("energytoulabels"))
    schedule = Schedule(
        _matrix(rate.get("energyweekdayschedule"), "energyweekdayschedule"),
        _matrix(rate.get("energyweekendschedule"), "energyweekendschedule"),
    )
    fixed = _charge(rate, "fixedchargefirstmeter", "fixedchargeunits")
    adjustments = rate.get("fueladjustmentsmonthly") or []
    if not isinstance(adjustments, list) or len(adjustments) not in (0, MONTHS):
        raise TariffError("URDB fueladjustmentsmonthly must list 12 values")
    return Tariff(
        name=str(rate.get("name", rate.get("label", "URDB rate"))),
        currency="USD",
        periods=periods,
        schedule=schedule,
        fixed_charges=() if fixed is None else (fixed,),
        minimum_charge=_charge(rate, "mincharge", "minchargeunits"),
        demand_charges=_demand_charges(rate),
        tax_percent=tax_percent,
        monthly_adjustments=tuple(
            _decimal(value, "fueladjustmentsmonthly") for value in adjustments
        ),
    )


def load_urdb(path: Path, label: str | None = None) -> Tariff:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TariffError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise TariffError(f"{path}: not valid JSON ({exc})") from exc
    return tariff_from_urdb(document, label)
