"""Usage and price series: intervals from consecutive starts, read from ``start,value`` CSV files.

An interval runs from its start to the next row's start; the last one lasts as long as the one
before it (a single-row file cannot tell its length and is rejected). Timestamps are ISO-8601;
those without an offset are read in the given zone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import TYPE_CHECKING

from klima.energy.tariffs.model import PriceSeries, TariffError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class UsageInterval:
    start: datetime
    end: datetime
    kwh: Decimal

    @property
    def hours(self) -> Decimal:
        # In UTC: aware datetimes sharing a tzinfo subtract wall clocks, wrong across DST.
        seconds = (self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds()
        return Decimal(int(seconds)) / Decimal(3600)


def parse_timestamp(text: str, tz: ZoneInfo) -> datetime:
    """An ISO-8601 timestamp, made aware in ``tz`` when it carries no offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TariffError(f"not an ISO-8601 timestamp: {text!r}") from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def parse_decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise TariffError(f"{what} is not a number: {text!r}") from None
    if not value.is_finite():
        raise TariffError(f"{what} is not a finite number: {text!r}")
    return value


def intervals_from_starts(rows: Sequence[tuple[datetime, Decimal]]) -> list[UsageInterval]:
    """Intervals (in UTC) from (start, kWh) rows sorted by start; energy must not be negative."""
    if len(rows) < 2:
        raise TariffError("usage needs at least two rows to know the interval length")
    starts = [start.astimezone(UTC) for start, _ in rows]
    if any(b <= a for a, b in pairwise(starts)):
        raise TariffError(
            "usage starts must be strictly increasing"
            " (around a DST change, write timestamps with their UTC offset)"
        )
    if any(kwh < 0 for _, kwh in rows):
        raise TariffError("usage kWh must not be negative")
    last_length: timedelta = starts[-1] - starts[-2]
    ends = [*starts[1:], starts[-1] + last_length]
    return [UsageInterval(s, e, kwh) for s, e, (_, kwh) in zip(starts, ends, rows, strict=True)]


def _read_rows(path: Path, value_column: str, tz: ZoneInfo) -> list[tuple[datetime, Decimal]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"start", value_column} <= set(reader.fieldnames):
                raise TariffError(f"{path}: the header must name 'start' and '{value_column}'")
            rows = [
                (
                    parse_timestamp(row["start"] or "", tz),
                    parse_decimal(row[value_column] or "", f"{path} line {number}"),
                )
                for number, row in enumerate(reader, start=2)
            ]
    except OSError as exc:
        raise TariffError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise TariffError(f"{path}: not a readable CSV file ({exc})") from exc
    return rows


def read_usage_csv(path: Path, tz: ZoneInfo) -> list[UsageInterval]:
    """``start,kwh`` rows."""
    return intervals_from_starts(_read_rows(path, "kwh", tz))


def read_prices_csv(path: Path, tz: ZoneInfo) -> PriceSeries:
    """``start,price`` rows, the price per kWh (negative prices allowed)."""
    rows = _read_rows(path, "price", tz)
    return PriceSeries(tuple(s.astimezone(UTC) for s, _ in rows), tuple(p for _, p in rows))
