"""Queries of the energy recorder: one bucket of every unit, lifetimes and time series.

Each query is one statement that reads a contiguous range of a time-first primary key: a
billing period's totals are the ~one row per unit under one key, and a year of daily rows is
one range of ``energy_day`` however long the history is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select

from klima.persistence.energy import (
    EnergyBucket,
    EnergyTotals,
    lifetime_from_stored,
)
from klima.persistence.energy_schema import (
    HOUSE_KEY,
    SOURCE_CODES,
    energy_day,
    energy_lifetime,
    energy_sample,
    energy_unit,
)
from klima.persistence.energy_write import ROLLUP_TABLES, TOTAL_COLUMNS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy import ColumnElement, Select, Table
    from sqlalchemy.engine import Connection

    from klima.persistence.energy import EnergyBucketKind, LifetimeRow, RollupKind

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def read_rollups(conn: Connection, kind: RollupKind, key: int) -> dict[str | None, EnergyTotals]:
    """Every unit's (and the house's) totals of one bucket."""
    table, time_key = ROLLUP_TABLES[kind]
    query = (
        select(energy_unit.c.unit_id, *(table.c[name] for name in TOTAL_COLUMNS))
        .select_from(table.outerjoin(energy_unit, energy_unit.c.unit_key == table.c.unit_key))
        .where(table.c[time_key] == key)
    )
    return {row[0]: EnergyTotals.from_stored(*row[1:]) for row in conn.execute(query)}


def read_lifetimes(conn: Connection) -> dict[str | None, LifetimeRow]:
    table = energy_lifetime
    query = select(
        energy_unit.c.unit_id, table.c.mwh, table.c.cost_micros, table.c.state
    ).select_from(table.outerjoin(energy_unit, energy_unit.c.unit_key == table.c.unit_key))
    return {row[0]: lifetime_from_stored(*row) for row in conn.execute(query)}


def read_units(conn: Connection) -> list[str]:
    return list(
        conn.execute(select(energy_unit.c.unit_id).order_by(energy_unit.c.unit_id)).scalars()
    )


def read_series(
    conn: Connection,
    unit_id: str | None,
    span: tuple[datetime, datetime],
    bucket: EnergyBucketKind,
    tz: ZoneInfo,
) -> list[EnergyBucket]:
    """The buckets that overlap ``span`` (``[start, end)``) and hold data, oldest first."""
    start, end = span
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    found = HOUSE_KEY
    if unit_id is not None:
        unit_key = conn.execute(
            select(energy_unit.c.unit_key).where(energy_unit.c.unit_id == unit_id)
        ).scalar_one_or_none()
        if unit_key is None:
            return []
        found = int(unit_key)
    if bucket == "minute":
        return _minutes(conn, found, start, end)
    if bucket == "hour":
        return _hours(conn, found, start, end)
    if bucket == "day":
        return _days(conn, found, start, end, tz)
    if bucket == "month":
        return _months(conn, found, start, end, tz)
    raise ValueError(f"unknown bucket {bucket!r}; expected minute, hour, day or month")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _minutes(conn: Connection, unit_key: int, start: datetime, end: datetime) -> list[EnergyBucket]:
    # The house has no samples of its own: it is the sum over the units, minute by minute.
    table = energy_sample

    def by_source(source: str) -> ColumnElement[Any]:
        return func.sum(case((table.c.source == SOURCE_CODES[source], table.c.mwh), else_=0))

    query = (
        select(table.c.ts, by_source("metered"), by_source("reported"), by_source("estimated"))
        .where(table.c.ts > _epoch(start - MINUTE), table.c.ts < _epoch(end))
        .group_by(table.c.ts)
        .order_by(table.c.ts)
    )
    if unit_key != HOUSE_KEY:
        query = query.where(table.c.unit_key == unit_key)
    return [
        EnergyBucket(
            _utc(ts), _utc(ts) + MINUTE, EnergyTotals.from_stored(m, r, e, 0), has_cost=False
        )
        for ts, m, r, e in conn.execute(query)
    ]


def _hours(conn: Connection, unit_key: int, start: datetime, end: datetime) -> list[EnergyBucket]:
    table, _ = ROLLUP_TABLES["hour"]
    query = _totals_query(table, unit_key, table.c.ts).where(
        table.c.ts > _epoch(start - HOUR), table.c.ts < _epoch(end)
    )
    return [
        EnergyBucket(_utc(ts), _utc(ts) + HOUR, EnergyTotals.from_stored(*rest), has_cost=True)
        for ts, *rest in conn.execute(query.order_by(table.c.ts))
    ]


def _days(
    conn: Connection, unit_key: int, start: datetime, end: datetime, tz: ZoneInfo
) -> list[EnergyBucket]:
    first, last = _local_days(start, end, tz)
    table = energy_day
    query = _totals_query(table, unit_key, table.c.day).where(
        table.c.day >= _day_key(first), table.c.day <= _day_key(last)
    )
    buckets = []
    for day, *rest in conn.execute(query.order_by(table.c.day)):
        local = _from_day_key(day)
        buckets.append(
            EnergyBucket(
                _midnight(local, tz),
                _midnight(local + timedelta(days=1), tz),
                EnergyTotals.from_stored(*rest),
                has_cost=True,
            )
        )
    return buckets


def _months(
    conn: Connection, unit_key: int, start: datetime, end: datetime, tz: ZoneInfo
) -> list[EnergyBucket]:
    first, last = _local_days(start, end, tz)
    table = energy_day
    # Integer division on both backends: YYYYMMDD // 100 = YYYYMM.
    month = (table.c.day // 100).label("month")
    query = (
        select(month, *(func.sum(table.c[name]) for name in TOTAL_COLUMNS))
        .where(
            table.c.unit_key == unit_key,
            table.c.day >= _day_key(first.replace(day=1)),
            table.c.day <= _day_key(_month_end(last)),
        )
        .group_by(month)
        .order_by(month)
    )
    buckets = []
    for yyyymm, *rest in conn.execute(query):
        first_day = date(int(yyyymm) // 100, int(yyyymm) % 100, 1)
        next_month = (first_day + timedelta(days=32)).replace(day=1)
        buckets.append(
            EnergyBucket(
                _midnight(first_day, tz),
                _midnight(next_month, tz),
                EnergyTotals.from_stored(*rest),
                has_cost=True,
            )
        )
    return buckets


def _totals_query(table: Table, unit_key: int, time_column: Any) -> Select[Any]:
    return select(time_column, *(table.c[name] for name in TOTAL_COLUMNS)).where(
        table.c.unit_key == unit_key
    )


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The first and last local dates whose day overlaps ``[start, end)``."""
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return first, last


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _day_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _from_day_key(key: int) -> date:
    return date(key // 10_000, key // 100 % 100, key % 100)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``tz`` (normalised: where midnight does not exist
    because the clocks jump at 00:00, the first wall time that does)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC).astimezone(tz)
