"""The storage facade: the last state of each unit, a state log, an event log and the energy
recorder (per-minute samples, hour/day/billing-period rollups, lifetime counters).

Writes never touch the database on the caller's thread: they go to one writer thread (see
:mod:`klima.persistence.writer`) and return at once, so calling them from the event loop is
fine. Reads (:meth:`Store.load_states` at start-up, the history queries for the CLI) run on the
caller's thread through the engine's connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from klima.errors import KlimaError, StorageError
from klima.persistence.energy import (
    EnergyBucket,
    EnergyBucketKind,
    EnergySampleRow,
    EnergyTotals,
    LifetimeRow,
    RollupKind,
    RollupRow,
    prepare_lifetime,
    prepare_rollup,
    prepare_sample,
)
from klima.persistence.energy_read import read_lifetimes, read_rollups, read_series, read_units
from klima.persistence.engine import (
    describe_error,
    is_sqlite_memory,
    make_engine,
    normalize_url,
    redact,
    sqlite_hint,
)
from klima.persistence.schema import ensure_schema, event_log, setting, state_log, unit_state
from klima.persistence.writer import (
    EventRow,
    PruneRequest,
    SettingRow,
    StateRow,
    WriteBuffer,
    WriterSettings,
    WriterThread,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from contextlib import AbstractContextManager
    from types import TracebackType
    from zoneinfo import ZoneInfo

    from sqlalchemy import URL
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

_T = TypeVar("_T")

MAX_ID_LENGTH = 64  # unit ids and event types; matches the String(64) columns
MAX_SETTING_KEY = 160  # matches setting.key


@dataclass(frozen=True, slots=True)
class EventRecord:
    ts: datetime
    type: str
    unit_id: str | None
    data: dict[str, Any]


class Store:
    """Thread-safe persistence for the daemon. Build it with :meth:`open`."""

    def __init__(self, engine: Engine, url: URL, settings: WriterSettings) -> None:
        self._engine = engine
        self.url = redact(url)
        # An in-memory SQLite database is one connection shared by every thread, and a
        # connection is not safe for two threads at once; files and servers need no lock.
        self._engine_lock: AbstractContextManager[object] = (
            threading.Lock() if is_sqlite_memory(url) else contextlib.nullcontext()
        )
        self._buffer = WriteBuffer(settings)
        self._writer = WriterThread(engine, self._buffer, self._engine_lock)
        self._closed = False
        self._writer.start()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        commit_interval: float = 2.0,
        retention_days: int | None = 90,
        max_queued_rows: int = 10_000,
        prune_interval: float = 86_400.0,
        retry_initial: float = 0.5,
        retry_max: float = 60.0,
        energy_commit_interval: float = 60.0,
        sample_retention_days: int | None = 90,
        hourly_retention_days: int | None = None,
    ) -> Store:
        """Connect, create or check the schema, and start the writer thread.

        ``retention_days=None`` keeps the logs forever; ``sample_retention_days`` and
        ``hourly_retention_days`` do the same for energy samples and hourly rollups (daily,
        period and lifetime rows are always kept). Raises :class:`StorageError` naming the URL
        (without its password) when the database cannot be used.
        """
        parsed = normalize_url(url)
        engine = make_engine(parsed)
        try:
            with engine.begin() as conn:
                ensure_schema(conn)
        except KlimaError:
            engine.dispose()
            raise
        except (SQLAlchemyError, OSError) as exc:
            engine.dispose()
            raise StorageError(
                f"cannot open database {redact(parsed)}: {describe_error(exc)}{sqlite_hint(parsed)}"
            ) from None
        if is_sqlite_memory(parsed):
            log.warning("using an in-memory database: nothing survives a restart")
        settings = WriterSettings(
            commit_interval=commit_interval,
            max_queued_rows=max_queued_rows,
            retention=_days(retention_days),
            prune_interval=prune_interval,
            retry_initial=retry_initial,
            retry_max=retry_max,
            energy_commit_interval=energy_commit_interval,
            sample_retention=_days(sample_retention_days),
            hourly_retention=_days(hourly_retention_days),
        )
        log.info("opened database %s", redact(parsed))
        return cls(engine, parsed, settings)

    # --- writes (queued; return at once) ---------------------------------------------------

    def save_state(
        self, unit_id: str, state: Mapping[str, Any], ts: datetime | None = None
    ) -> None:
        """Remember ``state`` as the unit's last state and append it to the state log."""
        self._check_writable()
        _check_id("unit id", unit_id)
        self._buffer.add_state(StateRow(unit_id, _to_json(state), _timestamp(ts)))

    def log_event(
        self,
        event_type: str,
        unit_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        ts: datetime | None = None,
    ) -> None:
        self._check_writable()
        _check_id("event type", event_type)
        if unit_id is not None:
            _check_id("unit id", unit_id)
        self._buffer.add_event(EventRow(_timestamp(ts), event_type, unit_id, _to_json(data or {})))

    def record_energy(
        self,
        samples: Iterable[EnergySampleRow] = (),
        rollups: Iterable[RollupRow] = (),
        lifetimes: Iterable[LifetimeRow] = (),
    ) -> None:
        """Queue energy rows. Samples are appended (a second one for the same unit and minute
        replaces the first); rollups and lifetimes replace the pending row with the same key.

        Lazy: these rows never start the ``commit_interval`` timer. They are committed with the
        next state or event, or ``energy_commit_interval`` after the first of them was queued,
        whichever comes first; :meth:`flush` and :meth:`close` commit them at once.
        """
        self._check_writable()
        sample_rows = [prepare_sample(row) for row in samples]
        rollup_rows = [prepare_rollup(row) for row in rollups]
        lifetime_rows = [prepare_lifetime(row) for row in lifetimes]
        unit_ids: set[str | None] = {row.unit_id for row in sample_rows}
        unit_ids.update(row.unit_id for row in rollup_rows)
        unit_ids.update(row.unit_id for row in lifetime_rows)
        for unit_id in unit_ids:
            if unit_id is not None:
                _check_id("unit id", unit_id)
        self._buffer.add_energy(sample_rows, rollup_rows, lifetime_rows)

    def save_setting(self, key: str, value: Any, ts: datetime | None = None) -> None:
        """Remember a run-time setting (JSON-able); ``None`` forgets the key. Queued."""
        self._check_writable()
        if not key or len(key) > MAX_SETTING_KEY:
            raise ValueError(f"setting key {key!r} must be 1 to {MAX_SETTING_KEY} characters")
        text = None if value is None else json.dumps(value, separators=(",", ":"))
        self._buffer.add_setting(SettingRow(key, text, _timestamp(ts)))

    def load_settings(self, prefix: str = "") -> dict[str, Any]:
        """Committed settings whose key starts with ``prefix``, decoded."""
        query = select(setting.c.key, setting.c.value).where(setting.c.key.startswith(prefix))
        return {key: json.loads(value) for key, value in self._read(query)}

    def last_write(self) -> datetime | None:
        """The newest timestamp the database holds (a lower bound for a trustworthy clock)."""
        rows = self._read(select(func.max(unit_state.c.updated_at)))
        latest = rows[0][0] if rows else None
        if isinstance(latest, str):  # SQLite's max() bypasses the column type
            latest = datetime.fromisoformat(latest).replace(tzinfo=UTC)
        return latest if isinstance(latest, datetime) else None

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything queued so far is committed; ``False`` if ``timeout`` passed
        first. Log rows dropped because the queue overflowed count as done."""
        return self._buffer.wait_committed(timeout, self._writer.is_alive())

    # The timeout bounds the worker thread's wait; asyncio.timeout could not stop that thread.
    async def aflush(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
        """:meth:`flush` for the event loop (waits in a worker thread)."""
        return await asyncio.to_thread(self.flush, timeout)

    def prune(self, older_than: datetime, timeout: float = 60.0) -> int:
        """Delete state_log and event_log rows older than ``older_than``; return how many.

        Runs on the writer thread, which is the only one that writes.
        """
        self._check_writable()
        request = PruneRequest(older_than=_timestamp(older_than))
        with self._buffer.cond:
            self._buffer.prune_requests.append(request)
            self._buffer.cond.notify_all()
        if not request.done.wait(timeout) or request.deleted is None:
            raise StorageError(f"pruning {self.url} failed or timed out; see the log")
        return request.deleted

    def close(self, timeout: float = 10.0) -> bool:
        """Commit what is queued, stop the writer and release the database.

        Returns ``False`` (and logs how many rows were lost) if the writes could not be
        committed within ``timeout``.
        """
        if self._closed:
            return True
        self._closed = True
        with self._buffer.cond:
            self._buffer.stopping = True
            self._buffer.cond.notify_all()
        self._writer.join(timeout)
        clean = not self._writer.is_alive()
        if not clean:
            with self._buffer.cond:
                self._buffer.abandoned = True
                self._buffer.cond.notify_all()
            log.error(
                "closing %s: gave up after %.0f s with %d rows not written",
                self.url,
                timeout,
                self._writer.unwritten_rows(),
            )
        self._engine.dispose()
        return clean

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- reads ------------------------------------------------------------------------------

    def load_states(self) -> dict[str, dict[str, Any]]:
        """The last saved state of every unit, by unit id (committed rows only)."""
        rows = self._read(select(unit_state.c.unit_id, unit_state.c.state))
        return {unit_id: json.loads(text) for unit_id, text in rows}

    def state_history(
        self, unit_id: str, since: datetime | None = None, limit: int | None = None
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """Logged states of one unit, oldest first."""
        query = select(state_log.c.ts, state_log.c.state).where(state_log.c.unit_id == unit_id)
        if since is not None:
            query = query.where(state_log.c.ts >= _timestamp(since))
        query = query.order_by(state_log.c.ts).limit(limit)
        return [(ts, json.loads(text)) for ts, text in self._read(query)]

    def events(self, since: datetime | None = None, limit: int | None = None) -> list[EventRecord]:
        """Logged events, oldest first."""
        query = select(event_log.c.ts, event_log.c.type, event_log.c.unit_id, event_log.c.data)
        if since is not None:
            query = query.where(event_log.c.ts >= _timestamp(since))
        query = query.order_by(event_log.c.ts, event_log.c.id).limit(limit)
        return [
            EventRecord(ts, event_type, unit_id, json.loads(data))
            for ts, event_type, unit_id, data in self._read(query)
        ]

    def energy_rollups(self, kind: RollupKind, key: int) -> dict[str | None, EnergyTotals]:
        """One bucket's totals for every unit and the house (``None``)."""
        return self._query(lambda conn: read_rollups(conn, kind, key))

    def energy_period_totals(self, start_key: int) -> dict[str | None, EnergyTotals]:
        """The running totals of the billing period starting on ``start_key`` (YYYYMMDD):
        "the bill so far", one primary-key range of ~one row per unit."""
        return self.energy_rollups("period", start_key)

    def energy_lifetimes(self) -> dict[str | None, LifetimeRow]:
        return self._query(read_lifetimes)

    def energy_units(self) -> list[str]:
        """Unit ids that have any energy data, sorted."""
        return self._query(read_units)

    def energy_series(
        self,
        unit_id: str | None,
        start: datetime,
        end: datetime,
        bucket: EnergyBucketKind,
        tz: ZoneInfo,
    ) -> list[EnergyBucket]:
        """Buckets overlapping ``[start, end)`` that hold data, oldest first; ``unit_id=None``
        is the house. minute: from the samples (the house is their sum); hour: the hourly
        rollups; day: the daily rollups of the local dates in ``tz``; month: those summed per
        local month."""
        return self._query(lambda conn: read_series(conn, unit_id, (start, end), bucket, tz))

    def _query(self, reader: Callable[[Connection], _T]) -> _T:
        try:
            with self._engine_lock, self._engine.connect() as conn:
                return reader(conn)
        except SQLAlchemyError as exc:
            raise StorageError(f"reading {self.url} failed: {describe_error(exc)}") from None

    def _read(self, query: Any) -> list[Any]:
        return self._query(lambda conn: list(conn.execute(query)))

    # --- counters ---------------------------------------------------------------------------

    @property
    def commits(self) -> int:
        return self._buffer.commits

    @property
    def rows_written(self) -> int:
        return self._buffer.rows_written

    @property
    def queue_depth(self) -> int:
        """Rows not committed yet: queued, or held by a failing commit."""
        return self._writer.unwritten_rows()

    @property
    def dropped_rows(self) -> int:
        return self._buffer.dropped_rows

    @property
    def failed_commits(self) -> int:
        return self._buffer.failed_commits

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def _check_writable(self) -> None:
        if self._closed:
            raise StorageError(f"{self.url} is closed")


def _days(days: int | None) -> timedelta | None:
    return timedelta(days=days) if days is not None else None


def _timestamp(ts: datetime | None) -> datetime:
    if ts is None:
        return datetime.now(UTC)
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts!r}: pass an aware datetime (UTC)")
    return ts.astimezone(UTC)


def _check_id(what: str, value: str) -> None:
    if not value or len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{what} {value!r} must be 1 to {MAX_ID_LENGTH} characters")


def _to_json(data: Mapping[str, Any]) -> str:
    # Compact separators: this text is written twice per state change.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
