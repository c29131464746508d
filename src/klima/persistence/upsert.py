"""INSERT … ON CONFLICT DO UPDATE with the same statement shape on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.dml import Insert


def upsert(conn: Connection, table: Table, keys: list[str], updated: list[str]) -> Insert:
    """Insert rows; a row whose ``keys`` exist replaces the ``updated`` columns.

    PostgreSQL refuses a multi-row statement that touches one key twice, so callers pass each
    key once (the newest row).
    """
    if conn.dialect.name == "postgresql":
        pg_stmt = postgresql.insert(table)
        return pg_stmt.on_conflict_do_update(
            index_elements=keys, set_={name: pg_stmt.excluded[name] for name in updated}
        )
    lite_stmt = sqlite.insert(table)
    return lite_stmt.on_conflict_do_update(
        index_elements=keys, set_={name: lite_stmt.excluded[name] for name in updated}
    )
