"""Tables, the schema version and the migration hook.

Keys lead with time so that appends go to the right-hand end of the B-tree and pruning by age
is a range delete; only the indexes we query by exist, because every index is another write on
an SD card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from klima.errors import StorageError

log = logging.getLogger(__name__)

# Bump this when the tables change, and add the step that upgrades from the previous version
# to MIGRATIONS.
SCHEMA_VERSION = 3


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time-zone type, so values are stored as UTC
    text (which sorts chronologically) and given their UTC zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Klima stores aware UTC timestamps only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002 - the signature is TypeDecorator's
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

# The last known state of each unit, restored at start-up.
unit_state = Table(
    "unit_state",
    metadata,
    Column("unit_id", String(64), primary_key=True),
    Column("state", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row per state change. (ts, unit_id) is the whole key: on SQLite the table is clustered on
# it (WITHOUT ROWID), so there is no second B-tree to update.
state_log = Table(
    "state_log",
    metadata,
    Column("ts", UtcDateTime, primary_key=True),
    Column("unit_id", String(64), primary_key=True),
    Column("state", Text, nullable=False),
    sqlite_with_rowid=False,
)

# Events have no natural unique key (two events of one type can share a timestamp), so they get
# a surrogate id (SQLite's rowid, no extra B-tree) and one index on ts for pruning and queries.
event_log = Table(
    "event_log",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("ts", UtcDateTime, nullable=False),
    Column("type", String(64), nullable=False),
    Column("unit_id", String(64), nullable=True),
    Column("data", Text, nullable=False),
    Index("ix_event_log_ts", "ts"),
)

LOG_TABLES: tuple[Table, ...] = (state_log, event_log)

# What users change at run time and must survive a restart: schedules set or deleted through
# MQTT, holds, timers. One JSON value per key ("program:<id>", "hold:<unit>", "timer:<id>").
setting = Table(
    "setting",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# MIGRATIONS[n] upgrades a database at version n to version n + 1, inside the opening
# transaction.
Migration = Callable[[Connection], None]


def _add_energy_tables(conn: Connection) -> None:
    """Version 2: the energy recorder's tables (nothing existing changes)."""
    metadata.create_all(conn, tables=list(energy_schema.ENERGY_TABLES))


def _add_settings_table(conn: Connection) -> None:
    """Version 3: run-time settings (schedules, holds, timers)."""
    metadata.create_all(conn, tables=[setting])


MIGRATIONS: dict[int, Migration] = {1: _add_energy_tables, 2: _add_settings_table}


def ensure_schema(conn: Connection, migrations: dict[int, Migration] | None = None) -> int:
    """Create missing tables, refuse a newer schema, run migrations; return the version found.

    Runs inside the caller's transaction so a failed migration leaves the database untouched
    (SQLite and PostgreSQL both have transactional DDL).
    """
    steps = MIGRATIONS if migrations is None else migrations
    if not inspect(conn).has_table(schema_version.name):
        metadata.create_all(conn)
        conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
        log.info("created database schema version %d", SCHEMA_VERSION)
        return SCHEMA_VERSION

    found = _read_version(conn)
    if found > SCHEMA_VERSION:
        raise StorageError(
            f"the database has schema version {found}, newer than the {SCHEMA_VERSION} this "
            "version of Klima understands; upgrade Klima or point it at another database"
        )
    for version in range(found, SCHEMA_VERSION):
        step = steps.get(version)
        if step is None:
            raise StorageError(f"no migration from database schema version {version}")
        log.info("migrating database schema from version %d to %d", version, version + 1)
        step(conn)
    if found < SCHEMA_VERSION:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    # Tables added by a later version but missing here (a half-created database) are created.
    metadata.create_all(conn, checkfirst=True)
    return found


def _read_version(conn: Connection) -> int:
    rows: list[Any] = list(conn.execute(select(schema_version.c.version)).scalars())
    if len(rows) != 1:
        raise StorageError(
            f"the schema_version table holds {len(rows)} rows instead of one; "
            "this database was not written by Klima"
        )
    return int(rows[0])


# Last, because energy_schema defines its tables on this module's `metadata`; importing it here
# guarantees they exist before anything creates or migrates a schema.
from klima.persistence import energy_schema  # noqa: E402
