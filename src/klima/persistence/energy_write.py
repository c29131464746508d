"""The writer thread's half of the energy recorder: unit keys, upserts and pruning.

Runs inside the writer's transaction, so a batch that fails to commit leaves nothing behind:
not even the unit keys it allocated, which is why new keys are only handed back to the caller
(to cache) and never cached here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from klima.persistence.energy_schema import (
    HOUSE_KEY,
    energy_day,
    energy_hour,
    energy_lifetime,
    energy_period,
    energy_sample,
    energy_unit,
)
from klima.persistence.upsert import upsert

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping
    from datetime import datetime, timedelta

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from klima.persistence.energy import LifetimeWrite, RollupKind, RollupWrite, SampleWrite

# Each rollup kind's table and the name of its time key.
ROLLUP_TABLES: dict[RollupKind, tuple[Table, str]] = {
    "hour": (energy_hour, "ts"),
    "day": (energy_day, "day"),
    "period": (energy_period, "start"),
}
TOTAL_COLUMNS = ["metered_mwh", "reported_mwh", "estimated_mwh", "cost_micros"]


def write_energy(
    conn: Connection,
    samples: Iterable[SampleWrite],
    rollups: Collection[RollupWrite],
    lifetimes: Collection[LifetimeWrite],
    known_keys: Mapping[str, int],
) -> dict[str, int]:
    """Upsert the rows; return the unit keys this transaction read or allocated (cache them
    once it has committed)."""
    sample_list = list(samples)
    unit_ids = {row.unit_id for row in sample_list}
    unit_ids.update(row.unit_id for row in rollups if row.unit_id is not None)
    unit_ids.update(row.unit_id for row in lifetimes if row.unit_id is not None)
    new_keys = _resolve_unit_keys(conn, unit_ids - known_keys.keys())

    def key_of(unit_id: str | None) -> int:
        if unit_id is None:
            return HOUSE_KEY
        return new_keys[unit_id] if unit_id in new_keys else known_keys[unit_id]

    # Two samples of one minute (e.g. the part before a restart and the part after it) add
    # up; the minute keeps the later one's source. Each sample is recorded exactly once, and a
    # failed commit is retried whole, so adding never counts a sample twice.
    sample_rows: dict[tuple[int, int], dict[str, Any]] = {}
    for row in sample_list:
        unit_key = key_of(row.unit_id)
        earlier = sample_rows.get((row.ts, unit_key))
        sample_rows[(row.ts, unit_key)] = {
            "ts": row.ts,
            "unit_key": unit_key,
            "mwh": row.mwh + (earlier["mwh"] if earlier else 0),
            "source": row.source,
        }
    if sample_rows:
        conn.execute(
            upsert(conn, energy_sample, ["ts", "unit_key"], ["source"], added=["mwh"]),
            list(sample_rows.values()),
        )
    for kind, (table, time_key) in ROLLUP_TABLES.items():
        rows = [
            _rollup_row(row, time_key, key_of(row.unit_id)) for row in rollups if row.kind == kind
        ]
        if rows:
            updated = [*TOTAL_COLUMNS, "end"] if kind == "period" else TOTAL_COLUMNS
            conn.execute(upsert(conn, table, [time_key, "unit_key"], updated), rows)
    if lifetimes:
        conn.execute(
            upsert(conn, energy_lifetime, ["unit_key"], ["mwh", "cost_micros", "state"]),
            [
                {
                    "unit_key": key_of(row.unit_id),
                    "mwh": row.mwh,
                    "cost_micros": row.cost_micros,
                    "state": row.state,
                }
                for row in lifetimes
            ],
        )
    return new_keys


def _rollup_row(row: RollupWrite, time_key: str, unit_key: int) -> dict[str, Any]:
    values: dict[str, Any] = dict(zip(TOTAL_COLUMNS, row.values, strict=True))
    values[time_key] = row.key
    values["unit_key"] = unit_key
    if row.kind == "period":
        values["end"] = row.end_key
    return values


def _resolve_unit_keys(conn: Connection, unit_ids: set[str]) -> dict[str, int]:
    """Keys of ``unit_ids``: those already in the table (another run wrote them), then new
    ones after the largest key so far. Two processes allocating at once on one PostgreSQL
    database collide on the primary key; the loser's commit fails and its retry reads the
    winner's keys."""
    if not unit_ids:
        return {}
    found: dict[str, int] = {
        unit_id: unit_key
        for unit_key, unit_id in conn.execute(
            select(energy_unit.c.unit_key, energy_unit.c.unit_id).where(
                energy_unit.c.unit_id.in_(sorted(unit_ids))
            )
        )
    }
    missing = sorted(unit_ids - found.keys())
    if missing:
        largest = conn.execute(
            select(func.coalesce(func.max(energy_unit.c.unit_key), HOUSE_KEY))
        ).scalar_one()
        allocated = {unit_id: int(largest) + 1 + n for n, unit_id in enumerate(missing)}
        conn.execute(
            energy_unit.insert(),
            [{"unit_key": key, "unit_id": unit_id} for unit_id, key in allocated.items()],
        )
        found.update(allocated)
    return found


def prune_energy(
    conn: Connection,
    now: datetime,
    sample_retention: timedelta | None,
    hourly_retention: timedelta | None,
) -> int:
    """Delete samples and hourly rollups past their retention; days, periods and lifetimes
    are kept forever (they are small and the bills need them)."""
    deleted = 0
    for table, retention in ((energy_sample, sample_retention), (energy_hour, hourly_retention)):
        if retention is not None:
            cutoff = int((now - retention).timestamp())
            deleted += conn.execute(delete(table).where(table.c.ts < cutoff)).rowcount
    return deleted
