"""INSERT … ON CONFLICT DO UPDATE with the same statement shape on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import sqlite

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.dml import Insert


def upsert(
    conn: Connection,
    table: Table,
    keys: list[str],
    updated: list[str],
    added: Sequence[str] = (),
) -> Insert:
    """Insert rows; a row whose ``keys`` exist replaces the ``updated`` columns and adds its
    ``added`` columns to the stored ones.

    PostgreSQL refuses a multi-row statement that touches one key twice, so callers pass each
    key once (the newest row).
    """
    if conn.dialect.name == "postgresql":
        # Imported here: the PostgreSQL dialect costs ~2 MiB that a SQLite hub never needs.
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415

        stmt: postgresql.Insert | sqlite.Insert = postgresql.insert(table)
    else:
        stmt = sqlite.insert(table)
    changes: dict[str, Any] = {name: stmt.excluded[name] for name in updated}
    changes |= {name: table.c[name] + stmt.excluded[name] for name in added}
    return stmt.on_conflict_do_update(index_elements=keys, set_=changes)
