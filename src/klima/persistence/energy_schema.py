"""Energy tables: per-minute samples, hour/day/billing-period rollups and lifetime counters.

Every value is an integer (mWh, micro-units of money, epoch seconds, YYYYMMDD): integers are
the smallest SQLite records and sum exactly. Keys lead with time, like the log tables, so a
minute's rows append at the right-hand end of the B-tree and pruning is a range delete. Units
are referred to by a small integer ``unit_key`` (1 or 2 bytes in an SQLite record instead of the
unit id's text in every row); key 0 is the house, the sum of all units.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from klima.persistence.schema import metadata

HOUSE_KEY = 0

# Stored in energy_sample.source; the order is EnergySource's, most trusted first.
SOURCE_CODES = {"metered": 0, "reported": 1, "estimated": 2}

# SQLite's INTEGER is already 64-bit and variable-length; BIGINT only matters on PostgreSQL.
_Big = BigInteger().with_variant(Integer, "sqlite")


def _key(name: str) -> Column[int]:
    return Column(name, _Big, primary_key=True, autoincrement=False)


def _unit_key() -> Column[int]:
    return Column("unit_key", Integer, primary_key=True, autoincrement=False)


def _totals() -> list[Column[int]]:
    """The value columns shared by every rollup: energy by source and its cost."""
    return [
        Column("metered_mwh", _Big, nullable=False),
        Column("reported_mwh", _Big, nullable=False),
        Column("estimated_mwh", _Big, nullable=False),
        Column("cost_micros", _Big, nullable=False),
    ]


energy_unit = Table(
    "energy_unit",
    metadata,
    Column("unit_key", Integer, primary_key=True, autoincrement=False),
    Column("unit_id", String(64), nullable=False, unique=True),
)

# One row per unit and minute (ts = UTC epoch seconds of the minute start).
energy_sample = Table(
    "energy_sample",
    metadata,
    _key("ts"),
    _unit_key(),
    Column("mwh", _Big, nullable=False),
    Column("source", SmallInteger, nullable=False),
    sqlite_with_rowid=False,
)

# ts = UTC epoch seconds of the hour start.
energy_hour = Table(
    "energy_hour", metadata, _key("ts"), _unit_key(), *_totals(), sqlite_with_rowid=False
)

# day = the local date as YYYYMMDD.
energy_day = Table(
    "energy_day", metadata, _key("day"), _unit_key(), *_totals(), sqlite_with_rowid=False
)

# start/end = the billing period's local first day and (exclusive) end day, YYYYMMDD. The
# running totals of the current period are one short range read: "bill so far" costs the same
# after five years as after one day.
energy_period = Table(
    "energy_period",
    metadata,
    _key("start"),
    _unit_key(),
    Column("end", Integer, nullable=False),
    *_totals(),
    sqlite_with_rowid=False,
)

energy_lifetime = Table(
    "energy_lifetime",
    metadata,
    Column("unit_key", Integer, primary_key=True, autoincrement=False),
    Column("mwh", _Big, nullable=False),
    Column("cost_micros", _Big, nullable=False),
    Column("state", Text, nullable=False),  # JSON: the lifetime counter's own state
)

ENERGY_TABLES: tuple[Table, ...] = (
    energy_unit,
    energy_sample,
    energy_hour,
    energy_day,
    energy_period,
    energy_lifetime,
)
