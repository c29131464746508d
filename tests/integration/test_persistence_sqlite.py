"""SQLite specifics, URLs and opening errors: connection settings, schema versions, bad paths."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from klima.errors import StorageError
from klima.persistence import SCHEMA_VERSION, Store, normalize_url, redact
from klima.persistence import schema as schema_module
from klima.persistence.engine import make_engine

if TYPE_CHECKING:
    from pathlib import Path

    import sqlalchemy as sa

T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_connections_use_wal_normal_sync_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(normalize_url(_url(tmp_path / "k.db")))
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 5000,
        "foreign_keys": 1,
    }


def test_creates_the_database_directory_and_a_wal_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "klima" / "klima.db"
    with Store.open(_url(path), retention_days=None) as store:
        store.save_state("u", {"n": 1}, T0)
        assert store.flush(5)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # persists in the file
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_log_tables_are_keyed_by_time(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store.open(_url(path)).close()
    with sqlite3.connect(path) as db:
        state_log_key = [row[1] for row in db.execute("PRAGMA table_info(state_log)") if row[5]]
        event_indexes = [row[1] for row in db.execute("PRAGMA index_list(event_log)")]
        (state_log_sql,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'state_log'"
        ).fetchone()
    assert state_log_key == ["ts", "unit_id"]
    assert "WITHOUT ROWID" in state_log_sql
    assert event_indexes == ["ix_event_log_ts"]


def test_in_memory_database_is_shared_with_the_writer_thread() -> None:
    with Store.open("sqlite://", retention_days=None) as store:
        store.save_state("u", {"n": 1}, T0)
        assert store.flush(5)
        result: list[dict[str, dict[str, Any]]] = []
        reader = threading.Thread(target=lambda: result.append(store.load_states()))
        reader.start()
        reader.join(5)
        assert result == [{"u": {"n": 1}}]


def test_in_memory_database_survives_reads_during_writes() -> None:
    failures: list[BaseException] = []
    with Store.open("sqlite://", commit_interval=0.001, retention_days=None) as store:
        done = threading.Event()

        def read_repeatedly() -> None:
            try:
                while not done.is_set():
                    store.load_states()
            except BaseException as exc:
                failures.append(exc)

        reader = threading.Thread(target=read_repeatedly)
        reader.start()
        for n in range(300):
            store.save_state(f"u{n % 5}", {"n": n}, T0)
        assert store.flush(5)
        done.set()
        reader.join(5)
        assert failures == []
        assert store.load_states()["u4"] == {"n": 299}


def test_path_under_a_file_is_refused_naming_the_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("")
    with pytest.raises(StorageError, match=r"cannot create the database directory .*not_a_dir"):
        Store.open(_url(blocker / "klima.db"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_directory_is_refused_with_a_hint(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(StorageError, match=f"the directory {locked} is not writable"):
            Store.open(_url(locked / "klima.db"))
    finally:
        locked.chmod(0o700)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "klima.db"
    path.write_bytes(b"this is not an SQLite database, it is a text file " * 100)
    with pytest.raises(
        StorageError, match=r"cannot open database sqlite:///.*klima\.db: file is not a database"
    ):
        Store.open(_url(path))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    Store.open(_url(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError, match=rf"schema version {SCHEMA_VERSION + 1}, newer"):
        Store.open(_url(path))


def test_older_schema_runs_the_migration_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "k.db"
    Store.open(_url(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION - 1,))

    monkeypatch.delitem(schema_module.MIGRATIONS, SCHEMA_VERSION - 1)
    with pytest.raises(
        StorageError, match=f"no migration from database schema version {SCHEMA_VERSION - 1}"
    ):
        Store.open(_url(path))

    def add_marker_table(conn: sa.Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE migrated_marker (x INTEGER)")

    monkeypatch.setitem(schema_module.MIGRATIONS, SCHEMA_VERSION - 1, add_marker_table)
    Store.open(_url(path)).close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert db.execute("SELECT count(*) FROM migrated_marker").fetchone() == (0,)


def test_a_database_from_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER)")
    with pytest.raises(StorageError, match="0 rows instead of one"):
        Store.open(_url(path))


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://klima:pw@db.example/klima", "postgresql+psycopg"),
        ("postgres://klima@db.example/klima", "postgresql+psycopg"),
        ("postgresql+psycopg://klima@db.example/klima", "postgresql+psycopg"),
        ("sqlite:////var/lib/klima/klima.db", "sqlite"),
    ],
)
def test_urls_get_the_supported_driver(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://klima@localhost/klima", "unsupported database URL"),
        ("postgresql+psycopg2://klima@localhost/klima", "unsupported database URL"),
        ("not a url at all", "cannot parse database URL"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        Store.open(url)


def test_passwords_never_appear_in_errors() -> None:
    assert redact("postgresql://klima:hunter2@db/klima") == "postgresql://klima:***@db/klima"
    assert "hunter2" not in redact(normalize_url("postgresql://klima:hunter2@db/klima"))
    with pytest.raises(StorageError) as caught:
        Store.open("mysql://klima:hunter2@localhost/klima")
    assert "hunter2" not in str(caught.value)


def test_unreachable_postgres_names_the_server_but_not_the_password() -> None:
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    with pytest.raises(StorageError) as caught:
        Store.open("postgresql://klima:hunter2@127.0.0.1:1/klima")
    message = str(caught.value)
    assert message.startswith(
        "cannot open database postgresql+psycopg://klima:***@127.0.0.1:1/klima: "
    )
    assert "hunter2" not in message
