"""Klima's own tariff file (TOML), for what URDB does not hold: any currency, taxes, holidays.

Numbers may be TOML numbers or strings (strings keep exact decimals, e.g. ``"0.0896"``)::

    name = "Example TOU"
    currency = "EUR"              # ISO 4217, default USD
    rounding = "total"            # or "line": round every line before adding
    tax_percent = "19"            # percent of energy + fixed + demand (+ minimum top-up)
    holidays = ["2026-12-25"]     # priced with the weekend rules
    fixed = [{amount = "0.40", per = "day"}]        # per day, month or year
    minimum = {amount = "10", per = "month"}        # a floor on the bill before tax

    [[periods]]                   # the first period is the default for every hour
    name = "off-peak"
    tiers = [{rate = "0.25", max = "10", daily = true}, {rate = "0.30"}]

    [[periods]]
    name = "peak"
    tiers = [{rate = "0.45"}]

    [[rules]]                     # later rules override earlier ones
    period = "peak"
    months = [6, 7, 8, 9]         # default all
    days = "weekday"              # weekday, weekend or all (default)
    hours = [16, 21]              # local start hour (incl.), end hour (excl.); default whole day

    [[demand]]
    name = "peak demand"
    rate = "12.5"                 # per kW of the highest interval average power
    period = "peak"               # optional: only intervals in this period
    months = [6, 7, 8, 9]         # optional
    window_minutes = 15           # optional: average power over clock-aligned windows

A tier ``max`` is the bill's cumulative kWh bound (``daily = true``: per day of the period).
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from klima.energy.tariffs.model import (
    HOURS,
    MONTHS,
    Charge,
    DemandCharge,
    EnergyPeriod,
    Schedule,
    Tariff,
    TariffError,
    Tier,
)

if TYPE_CHECKING:
    from pathlib import Path

_DAY_SETS = {"weekday": (True, False), "weekend": (False, True), "all": (True, True)}


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TariffError(f"{what} must be a number, not {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise TariffError(f"{what} must be a number, not {value!r}") from None
    if not result.is_finite():
        raise TariffError(f"{what} must be finite")
    return result


def _table(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TariffError(f"{what} must be a table")
    return value


def _charge(value: Any, what: str) -> Charge:
    table = _table(value, what)
    per = table.get("per", "month")
    if per not in ("day", "month", "year"):
        raise TariffError(f"{what}: per must be day, month or year")
    return Charge(_decimal(table.get("amount"), f"{what} amount"), per)


def _months(value: Any, what: str) -> list[int]:
    if value is None:
        return list(range(1, 13))
    if not isinstance(value, list) or any(
        not isinstance(m, int) or not 1 <= m <= 12 for m in value
    ):
        raise TariffError(f"{what}: months must be a list of 1..12")
    return value


def _periods(document: dict[str, Any]) -> tuple[EnergyPeriod, ...]:
    raw = document.get("periods")
    if not isinstance(raw, list) or not raw:
        raise TariffError("a tariff file needs at least one [[periods]] table")
    periods = []
    for index, entry in enumerate(raw):
        table = _table(entry, f"periods[{index}]")
        name = str(table.get("name", f"period {index}"))
        tiers = table.get("tiers")
        if not isinstance(tiers, list) or not tiers:
            raise TariffError(f"period {name!r} needs tiers")
        parsed = []
        for number, tier in enumerate(tiers):
            what = f"period {name!r} tier {number + 1}"
            tier_table = _table(tier, what)
            bound = tier_table.get("max")
            parsed.append(
                Tier(
                    _decimal(tier_table.get("rate"), f"{what} rate"),
                    None if bound is None else _decimal(bound, f"{what} max"),
                    daily=bool(tier_table.get("daily", False)),
                )
            )
        periods.append(EnergyPeriod(name, tuple(parsed)))
    return tuple(periods)


def _schedule(document: dict[str, Any], names: list[str]) -> Schedule:
    weekday = [[0] * HOURS for _ in range(MONTHS)]
    weekend = [[0] * HOURS for _ in range(MONTHS)]
    for index, entry in enumerate(document.get("rules", [])):
        what = f"rules[{index}]"
        table = _table(entry, what)
        if table.get("period") not in names:
            raise TariffError(f"{what}: period must be one of {names}")
        days = table.get("days", "all")
        if days not in _DAY_SETS:
            raise TariffError(f"{what}: days must be weekday, weekend or all")
        hours = table.get("hours", [0, HOURS])
        if (
            not isinstance(hours, list)
            or len(hours) != 2
            or not all(isinstance(h, int) for h in hours)
            or not 0 <= hours[0] < hours[1] <= HOURS
        ):
            raise TariffError(f"{what}: hours must be [start, end) within 0..24")
        on_weekdays, on_weekends = _DAY_SETS[days]
        period = names.index(table["period"])
        for month in _months(table.get("months"), what):
            for hour in range(hours[0], hours[1]):
                if on_weekdays:
                    weekday[month - 1][hour] = period
                if on_weekends:
                    weekend[month - 1][hour] = period
    return Schedule(tuple(map(tuple, weekday)), tuple(map(tuple, weekend)))


def _demand(document: dict[str, Any], names: list[str]) -> tuple[DemandCharge, ...]:
    charges = []
    for index, entry in enumerate(document.get("demand", [])):
        what = f"demand[{index}]"
        table = _table(entry, what)
        period = table.get("period")
        if period is not None and period not in names:
            raise TariffError(f"{what}: period must be one of {names}")
        window = table.get("window_minutes")
        if window is not None and (
            isinstance(window, bool) or not isinstance(window, int) or window <= 0
        ):
            raise TariffError(f"{what}: window_minutes must be a positive whole number")
        charges.append(
            DemandCharge(
                str(table.get("name", f"demand {index + 1}")),
                _decimal(table.get("rate"), f"{what} rate"),
                frozenset(_months(table.get("months"), what)),
                None if period is None else names.index(period),
                window_minutes=window,
            )
        )
    return tuple(charges)


def tariff_from_document(document: dict[str, Any]) -> Tariff:
    periods = _periods(document)
    names = [p.name for p in periods]
    if len(set(names)) != len(names):
        raise TariffError("period names must be unique")
    rounding = document.get("rounding", "total")
    if rounding not in ("total", "line"):
        raise TariffError("rounding must be total or line")
    try:
        holidays = frozenset(date.fromisoformat(str(d)) for d in document.get("holidays", []))
    except ValueError as exc:
        raise TariffError(f"holidays: {exc}") from None
    fixed = document.get("fixed", [])
    if not isinstance(fixed, list):
        raise TariffError("fixed must be a list of {amount, per} tables")
    minimum = document.get("minimum")
    return Tariff(
        name=str(document.get("name", "tariff")),
        currency=str(document.get("currency", "USD")).upper(),
        periods=periods,
        schedule=_schedule(document, names),
        holidays=holidays,
        fixed_charges=tuple(_charge(c, f"fixed[{i}]") for i, c in enumerate(fixed)),
        minimum_charge=None if minimum is None else _charge(minimum, "minimum"),
        demand_charges=_demand(document, names),
        tax_percent=_decimal(document.get("tax_percent", 0), "tax_percent"),
        rounding=rounding,
    )


def load_native(path: Path) -> Tariff:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TariffError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TariffError(f"{path}: not valid TOML ({exc})") from exc
    return tariff_from_document(document)
