"""Database URLs and engines: SQLite tuned for an SD card, PostgreSQL through psycopg 3.

SQLite runs with ``journal_mode=WAL`` and ``synchronous=NORMAL``. In WAL mode a commit appends
to the write-ahead log; with NORMAL the log is fsynced at checkpoints rather than on every
commit. A crash of the process (kill -9, an exception) loses nothing that was committed, because
the log is already in the operating system's cache. A power cut can lose the last few commits
since the previous checkpoint, but the database is never corrupted: SQLite replays only
complete, checksummed log frames. That trade halves the fsyncs that wear out an SD card, and the
state lost is a few seconds of log rows that the next poll rewrites anyway.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from klima.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 10

_SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def redact(url: str | URL) -> str:
    """The URL as it may appear in a log or an error: never with its password."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


def normalize_url(url: str | URL) -> URL:
    """Parse ``url``; ``postgresql://`` and ``postgres://`` get the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"cannot parse database URL {redact(url)!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in _SUPPORTED_DRIVERS:
        raise StorageError(
            f"unsupported database URL {redact(parsed)!r}: use sqlite:///PATH "
            "or postgresql+psycopg://USER@HOST/DB"
        )
    return parsed


def describe_error(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's SQL echo, parameters and doc link
    (parameters are state payloads and may be long; the message is what helps)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: URL) -> Engine:
    """An engine for ``url``; creates the SQLite file's directory. Does not connect yet."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        # psycopg waits forever for an unreachable host by default; start-up must not hang.
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    # pre_ping replaces connections a server restart has killed instead of failing a commit.
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    if is_sqlite_memory(url):
        # One shared connection, or every thread would see its own empty database. Meant for
        # tests and `klima check-config`, not for a daemon that must remember anything.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        assert url.database is not None
        _create_parent_dir(Path(url.database))
        engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _create_parent_dir(path: Path) -> None:
    parent = path.expanduser().absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the database directory {parent}: {exc.strerror or exc}"
        ) from None
    if not parent.is_dir():
        raise StorageError(f"the database directory {parent} is not a directory")


def sqlite_hint(url: URL) -> str:
    """Why SQLite may have failed to open ``url``, in words an administrator can act on."""
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url) or url.database is None:
        return ""
    path = Path(url.database).expanduser().absolute()
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f" ({path} is not readable and writable by this user)"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f" (the directory {path.parent} is not writable by this user)"
    return ""


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        mode = cursor.fetchone()[0]
        if mode not in ("wal", "memory"):
            # Network file systems cannot share WAL's memory map; SQLite keeps its old mode.
            log.warning("SQLite refused WAL mode (kept %s); commits will be slower", mode)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()
