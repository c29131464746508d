"""The Store against real databases: SQLite files and, when a server is reachable, PostgreSQL.

Every PostgreSQL test gets a fresh schema (selected through ``search_path`` in the URL) that is
dropped afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from klima.errors import StorageError
from klima.persistence import Store

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

OpenStore = Callable[..., Store]


def _postgres_unreachable_reason() -> str | None:
    engine = sa.create_engine(POSTGRES_SERVER, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as exc:
        return f"no PostgreSQL server reachable at 127.0.0.1:5432 ({str(exc.orig).strip()})"
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    reason = _postgres_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)
    engine = sa.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/klima.db"
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin")
    schema = f"klima_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    # `postgresql://` on purpose: the Store must rewrite it to the psycopg 3 driver.
    yield f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def open_store(database_url: str) -> Iterator[OpenStore]:
    stores: list[Store] = []

    def opener(**options: object) -> Store:
        options.setdefault("commit_interval", 0.02)
        # T0 lies in the past: keep the default retention from pruning the test's own rows.
        options.setdefault("retention_days", None)
        store = Store.open(database_url, **options)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield opener
    for store in stores:
        store.close()


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def test_round_trip(open_store: OpenStore) -> None:
    store = open_store()
    store.save_state("living_room", {"mode": "heat", "target_temperature": 21.5}, T0)
    store.save_state("bedroom", {"mode": "cool", "fan_mode": "low"}, T0)
    store.log_event("schedule_applied", "living_room", {"block": "morning"}, T0)
    store.log_event("bridge_started", None, {"version": "0.1.0", "note": "Wärme"}, T0)
    assert store.flush(5)

    assert store.load_states() == {
        "living_room": {"mode": "heat", "target_temperature": 21.5},
        "bedroom": {"mode": "cool", "fan_mode": "low"},
    }
    assert store.state_history("living_room") == [
        (T0, {"mode": "heat", "target_temperature": 21.5})
    ]
    events = store.events()
    assert [(e.ts, e.type, e.unit_id, e.data) for e in events] == [
        (T0, "schedule_applied", "living_room", {"block": "morning"}),
        (T0, "bridge_started", None, {"version": "0.1.0", "note": "Wärme"}),
    ]


def test_timestamps_come_back_as_aware_utc(open_store: OpenStore) -> None:
    store = open_store()
    berlin_summer_noon = datetime(2025, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    store.save_state("u", {"n": 1}, berlin_summer_noon)
    assert store.flush(5)
    ((ts, _),) = store.state_history("u")
    assert ts == datetime(2025, 7, 1, 10, 0, tzinfo=UTC)
    assert ts.utcoffset() == timedelta(0)


def test_many_saves_become_one_commit_with_coalesced_upserts(open_store: OpenStore) -> None:
    store = open_store(commit_interval=60)  # nothing commits until the flush
    for n in range(50):
        store.save_state("living_room", {"n": n}, T0 + timedelta(seconds=n))
    assert store.queue_depth == 51  # one coalesced upsert + 50 log rows
    assert store.commits == 0

    assert store.flush(5)
    assert store.commits == 1
    assert store.rows_written == 51
    assert store.queue_depth == 0
    assert store.load_states() == {"living_room": {"n": 49}}
    assert [state["n"] for _, state in store.state_history("living_room")] == list(range(50))


def test_rows_commit_after_the_interval_without_a_flush(open_store: OpenStore) -> None:
    store = open_store(commit_interval=0.1)
    for n in range(20):
        store.save_state("u", {"n": n}, T0 + timedelta(seconds=n))
    assert _wait_until(lambda: store.commits >= 1)
    assert store.commits <= 2  # 20 saves arriving within one interval are one or two batches
    assert store.load_states() == {"u": {"n": 19}}


def test_two_changes_at_the_same_instant_keep_the_later_one(open_store: OpenStore) -> None:
    store = open_store()
    store.save_state("u", {"n": 1}, T0)
    store.save_state("u", {"n": 2}, T0)
    assert store.flush(5)
    store.save_state("u", {"n": 3}, T0)  # the same key again, in a later transaction
    assert store.flush(5)
    assert store.state_history("u") == [(T0, {"n": 3})]


def test_restart_restores_the_last_state(open_store: OpenStore) -> None:
    first = open_store()
    first.save_state("living_room", {"n": 1}, T0)
    first.save_state("living_room", {"n": 2}, T0 + timedelta(seconds=1))
    first.save_state("bedroom", {"n": 7}, T0)
    assert first.close()

    second = open_store()
    assert second.load_states() == {"living_room": {"n": 2}, "bedroom": {"n": 7}}


def test_close_commits_what_is_queued(open_store: OpenStore) -> None:
    store = open_store(commit_interval=3600)
    store.save_state("u", {"n": 1}, T0)
    store.log_event("fault", "u", {"code": "E6"}, T0)
    assert store.commits == 0
    assert store.close()

    reopened = open_store()
    assert reopened.load_states() == {"u": {"n": 1}}
    assert [e.data for e in reopened.events()] == [{"code": "E6"}]


def test_prune_deletes_old_log_rows_only(open_store: OpenStore) -> None:
    store = open_store(retention_days=None)
    store.save_state("u", {"n": 1}, T0 - timedelta(days=100))
    store.log_event("old", "u", {}, T0 - timedelta(days=100))
    store.save_state("u", {"n": 2}, T0)
    store.log_event("new", "u", {}, T0)
    assert store.flush(5)

    assert store.prune(T0 - timedelta(days=30)) == 2
    assert [state for _, state in store.state_history("u")] == [{"n": 2}]
    assert [e.type for e in store.events()] == ["new"]
    assert store.load_states() == {"u": {"n": 2}}  # the last state is never pruned


def test_writer_prunes_on_its_own_schedule(open_store: OpenStore) -> None:
    store = open_store(retention_days=30, prune_interval=0.05)
    now = datetime.now(UTC)
    store.log_event("ancient", None, {}, now - timedelta(days=31))
    store.log_event("recent", None, {}, now - timedelta(days=29))
    assert store.flush(5)
    assert _wait_until(lambda: [e.type for e in store.events()] == ["recent"])


def test_full_queue_drops_oldest_log_rows_but_never_a_state(
    open_store: OpenStore, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(commit_interval=3600, max_queued_rows=10)
    store.save_state("u", {"n": 1}, T0)
    for n in range(30):
        store.log_event("tick", None, {"n": n}, T0 + timedelta(seconds=n))
    assert store.dropped_rows == 21  # 31 log rows, room for 10
    assert store.queue_depth == 11  # the unit_state upsert is kept on top
    assert [r.levelname for r in caplog.records if "queue full" in r.message] == ["WARNING"]

    assert store.flush(5)
    assert store.load_states() == {"u": {"n": 1}}
    assert [e.data["n"] for e in store.events()] == list(range(20, 30))
    assert store.state_history("u") == []  # its log row was the oldest, so it went first


def test_failed_commit_is_retried_and_keeps_the_data(
    open_store: OpenStore, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="klima.persistence")
    store = open_store(retry_initial=0.01, retry_max=0.05)
    store.log_event("before", None, {}, T0)
    assert store.flush(5)

    # Take the table away from under the writer: every commit now fails on the server.
    other = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with other.begin() as conn:
        conn.execute(sa.text("ALTER TABLE event_log RENAME TO event_log_away"))
    try:
        store.log_event("during", "u", {"n": 1}, T0 + timedelta(seconds=1))
        store.save_state("u", {"n": 1}, T0 + timedelta(seconds=1))
        assert not store.flush(0.3)
        assert _wait_until(lambda: store.failed_commits >= 3)  # retried, not given up
        assert store.queue_depth == 3  # held: the event, the upsert and its state_log row
        store.save_state("u", {"n": 2}, T0 + timedelta(seconds=2))  # joins the held batch
    finally:
        with other.begin() as conn:
            conn.execute(sa.text("ALTER TABLE event_log_away RENAME TO event_log"))
        other.dispose()

    assert store.flush(5)
    assert [e.type for e in store.events()] == ["before", "during"]
    assert store.load_states() == {"u": {"n": 2}}
    assert [s["n"] for _, s in store.state_history("u")] == [1, 2]
    writer_errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(writer_errors) == 1  # one line for the outage, not one per retry
    assert any("recovered" in r.message for r in caplog.records)


async def test_aflush_from_the_event_loop(open_store: OpenStore) -> None:
    store = open_store(commit_interval=3600)
    store.save_state("u", {"n": 1}, T0)
    assert await store.aflush(5)
    assert store.load_states() == {"u": {"n": 1}}


def test_writes_after_close_are_refused(open_store: OpenStore) -> None:
    store = open_store()
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.save_state("u", {}, T0)
    assert store.flush(1)  # nothing pending: trivially flushed


def test_naive_timestamps_and_oversized_ids_are_refused(open_store: OpenStore) -> None:
    store = open_store()
    with pytest.raises(ValueError, match="naive"):
        store.save_state("u", {}, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="64"):
        store.log_event("x" * 65)
    assert store.queue_depth == 0
