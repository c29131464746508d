"""The one thread that writes to the database.

Callers on the event loop hand rows to a :class:`WriteBuffer` and return at once. The writer
thread waits until ``commit_interval`` has passed since the first row of a batch arrived (or a
flush asks for it now), then commits everything in one transaction: SD cards wear per write,
not per row.

The buffer is a condition-guarded dict plus deque rather than a ``queue.Queue`` because it has to
do two things a FIFO cannot: replace a unit's pending upsert with the newer one (coalescing) and,
when full, drop the oldest *log* row while never dropping a unit's last state.

Energy rows are *lazy*: they do not start the ``commit_interval`` timer. They ride along with the
next state or event commit, or are committed on their own ``energy_commit_interval`` after the
first of them arrived, so a quiet house writes its per-minute samples once a minute or less
instead of every few seconds. Energy samples count as log rows (the oldest may be dropped when
the queue is full); rollups and lifetime counters are coalesced upserts and never dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete

from klima.persistence.energy import SampleWrite
from klima.persistence.energy_write import prune_energy, write_energy
from klima.persistence.engine import describe_error
from klima.persistence.schema import LOG_TABLES, event_log, setting, state_log, unit_state
from klima.persistence.upsert import upsert

if TYPE_CHECKING:
    from collections.abc import Iterable
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection, Engine

    from klima.persistence.energy import LifetimeWrite, RollupKind, RollupWrite

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StateRow:
    unit_id: str
    state: str  # JSON text
    ts: datetime


@dataclass(frozen=True, slots=True)
class EventRow:
    ts: datetime
    event_type: str
    unit_id: str | None
    data: str  # JSON text


@dataclass(frozen=True, slots=True)
class SettingRow:
    key: str
    value: str | None  # JSON text; None deletes the key
    ts: datetime


@dataclass(slots=True)
class Batch:
    """Rows taken from the buffer for one transaction, kept whole until it commits."""

    states: dict[str, StateRow] = field(default_factory=dict)  # the newest upsert per unit
    # state_log, event_log and energy_sample rows, oldest first (the ones dropped when full)
    logs: deque[StateRow | EventRow | SampleWrite] = field(default_factory=deque)
    # the newest energy rollup per (kind, key, unit) and lifetime per unit
    rollups: dict[tuple[RollupKind, int, str | None], RollupWrite] = field(default_factory=dict)
    lifetimes: dict[str | None, LifetimeWrite] = field(default_factory=dict)
    # the newest value per setting key; None deletes the key
    settings: dict[str, SettingRow] = field(default_factory=dict)
    seq: int = 0  # every row enqueued up to this number is in here (or was dropped)

    def row_count(self) -> int:
        return (
            len(self.states)
            + len(self.logs)
            + len(self.rollups)
            + len(self.lifetimes)
            + len(self.settings)
        )

    def merge(self, newer: Batch) -> None:
        """Add ``newer``'s rows after this batch's (its upserts win)."""
        self.states.update(newer.states)
        self.logs.extend(newer.logs)
        self.rollups.update(newer.rollups)
        self.lifetimes.update(newer.lifetimes)
        self.settings.update(newer.settings)


@dataclass(slots=True)
class PruneRequest:
    older_than: datetime
    done: threading.Event = field(default_factory=threading.Event)
    deleted: int | None = None  # None when the delete failed


@dataclass(frozen=True, slots=True)
class WriterSettings:
    commit_interval: float = 2.0
    max_queued_rows: int = 10_000
    retention: timedelta | None = timedelta(days=90)
    prune_interval: float = 86_400.0
    retry_initial: float = 0.5
    retry_max: float = 60.0
    energy_commit_interval: float = 60.0
    sample_retention: timedelta | None = timedelta(days=90)
    hourly_retention: timedelta | None = None

    @property
    def prunes(self) -> bool:
        return any(
            r is not None for r in (self.retention, self.sample_retention, self.hourly_retention)
        )


class WriteBuffer:
    """Rows waiting for the writer, and the counters both sides read. Every field is guarded
    by ``cond``."""

    def __init__(self, settings: WriterSettings) -> None:
        self.settings = settings
        self.cond = threading.Condition()
        self.pending = Batch()
        self.first_pending_at: float | None = None  # the first row that starts the timer
        self.first_lazy_at: float | None = None  # the first energy row (its own, longer timer)
        self.flush_requested = False
        self.stopping = False
        self.abandoned = False  # close() gave up waiting; the thread exits at its next wake-up
        self.prune_requests: list[PruneRequest] = []
        self.enqueued_seq = 0
        self.committed_seq = 0
        self.commits = 0
        self.rows_written = 0
        self.failed_commits = 0
        self.dropped_rows = 0
        self._dropping = False  # inside an overflow episode (one warning per episode)

    def add_state(self, row: StateRow) -> None:
        with self.cond:
            self.pending.states[row.unit_id] = row
            self._add_log(row)

    def add_event(self, row: EventRow) -> None:
        with self.cond:
            self._add_log(row)

    def add_setting(self, row: SettingRow) -> None:
        """A user's change: committed on the normal (short) timer, never dropped."""
        with self.cond:
            self.pending.settings[row.key] = row
            self.enqueued_seq += 1
            if self.first_pending_at is None:
                self.first_pending_at = time.monotonic()
                self.cond.notify_all()

    def add_energy(
        self,
        samples: Iterable[SampleWrite],
        rollups: Iterable[RollupWrite],
        lifetimes: Iterable[LifetimeWrite],
    ) -> None:
        with self.cond:
            given = len(self.pending.logs)
            self.pending.logs.extend(samples)
            given = len(self.pending.logs) - given
            for rollup in rollups:
                self.pending.rollups[(rollup.kind, rollup.key, rollup.unit_id)] = rollup
                given += 1
            for lifetime in lifetimes:
                self.pending.lifetimes[lifetime.unit_id] = lifetime
                given += 1
            if not given:
                return
            self.enqueued_seq += 1
            self.trim(self.pending)
            if self.first_lazy_at is None:
                self.first_lazy_at = time.monotonic()
                self.cond.notify_all()  # the writer's wait may now have to end sooner

    def _add_log(self, row: StateRow | EventRow) -> None:
        self.enqueued_seq += 1
        self.pending.logs.append(row)
        self.trim(self.pending)
        if self.first_pending_at is None:
            self.first_pending_at = time.monotonic()
            self.cond.notify_all()

    def commit_due(self) -> float | None:
        """When the pending rows must be committed (monotonic time), or None if nothing is."""
        dues = []
        if self.first_pending_at is not None:
            dues.append(self.first_pending_at + self.settings.commit_interval)
        if self.first_lazy_at is not None:
            dues.append(self.first_lazy_at + self.settings.energy_commit_interval)
        return min(dues) if dues else None

    def trim(self, batch: Batch) -> None:
        """Drop the oldest log rows beyond the bound; upserts (unit_state, energy rollups and
        lifetimes) are never dropped."""
        excess = len(batch.logs) - self.settings.max_queued_rows
        if excess <= 0:
            return
        for _ in range(excess):
            batch.logs.popleft()
        self.dropped_rows += excess
        if not self._dropping:
            self._dropping = True
            log.warning(
                "database write queue full (%d rows); dropping the oldest log rows",
                self.settings.max_queued_rows,
            )

    def wait_committed(self, timeout: float, writer_alive: bool) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            target = self.enqueued_seq
            if self.committed_seq >= target:
                return True
            if not writer_alive:
                return False
            self.flush_requested = True
            self.cond.notify_all()
            while self.committed_seq < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.abandoned:
                    return False
                self.cond.wait(remaining)
            return True

    def mark_caught_up(self, seq: int) -> None:
        with self.cond:
            if seq > self.committed_seq:
                self.committed_seq = seq
                self.cond.notify_all()

    def mark_committed(self, batch: Batch) -> None:
        with self.cond:
            self.committed_seq = max(self.committed_seq, batch.seq)
            self.commits += 1
            self.rows_written += batch.row_count()
            self._dropping = False
            self.cond.notify_all()


class WriterThread(threading.Thread):
    def __init__(
        self, engine: Engine, buffer: WriteBuffer, engine_lock: AbstractContextManager[object]
    ) -> None:
        # Daemon, so a database that never comes back cannot keep the process alive after
        # close() gave up on it.
        super().__init__(name="klima-db-writer", daemon=True)
        self._engine = engine
        self._engine_lock = engine_lock
        self._buffer = buffer
        self._settings = buffer.settings
        self._held: Batch | None = None  # a batch whose commit failed, retried until it commits
        self._retry_at = 0.0
        self._backoff = self._settings.retry_initial
        self._next_prune_at = time.monotonic()  # prune once at start-up, then daily
        self._unit_keys: dict[str, int] = {}  # energy_unit, as far as this writer has seen it

    def unwritten_rows(self) -> int:
        held = self._held
        with self._buffer.cond:
            return self._buffer.pending.row_count() + (held.row_count() if held else 0)

    def run(self) -> None:
        buffer = self._buffer
        while True:
            with buffer.cond:
                self._wait_for_work()
                if buffer.abandoned:
                    return
                batch = self._take()
                prunes, buffer.prune_requests = buffer.prune_requests, []
                stopping = buffer.stopping
            if batch.row_count():
                self._commit(batch)
            else:
                buffer.mark_caught_up(batch.seq)  # nothing, or only dropped rows, was pending
            for request in prunes:
                request.deleted = self._prune(request.older_than)
                request.done.set()
            self._auto_prune()
            if stopping and self._held is None:
                with buffer.cond:
                    if not buffer.pending.row_count() and not buffer.prune_requests:
                        return

    def _wait_for_work(self) -> None:
        buffer = self._buffer
        while not buffer.abandoned:
            now = time.monotonic()
            if self._held is not None:
                if now >= self._retry_at:
                    return
                timeout: float | None = self._retry_at - now
            elif buffer.stopping or buffer.prune_requests:
                return
            elif (due := buffer.commit_due()) is not None:
                if buffer.flush_requested or now >= due:
                    return
                timeout = due - now
            else:
                timeout = None
            if self._settings.prunes and self._held is None:
                # No pruning while commits fail: the retry comes first.
                until_prune = self._next_prune_at - now
                if until_prune <= 0:
                    return
                timeout = until_prune if timeout is None else min(timeout, until_prune)
            buffer.cond.wait(None if timeout is None else max(timeout, 0.001))

    def _take(self) -> Batch:
        """Pending rows merged into the batch being retried, if any (newer upserts win)."""
        buffer = self._buffer
        batch = self._held if self._held is not None else Batch()
        batch.merge(buffer.pending)
        buffer.trim(batch)
        batch.seq = buffer.enqueued_seq
        buffer.pending = Batch()
        buffer.first_pending_at = None
        buffer.first_lazy_at = None
        buffer.flush_requested = False
        return batch

    def _commit(self, batch: Batch) -> None:
        try:
            with self._engine_lock, self._engine.begin() as conn:
                new_keys = _write_batch(conn, batch, self._unit_keys)
        except Exception as exc:  # noqa: BLE001 - the writer must survive any failure and keep the rows
            self._hold(batch, exc)
            return
        self._unit_keys.update(new_keys)  # only now: a rolled-back allocation never happened
        if self._held is not None:
            log.info("database writes recovered; committed %d held rows", batch.row_count())
        self._held = None
        self._backoff = self._settings.retry_initial
        self._buffer.mark_committed(batch)

    def _hold(self, batch: Batch, exc: Exception) -> None:
        with self._buffer.cond:
            self._buffer.failed_commits += 1
        if self._held is None:
            # One line for the transition to failing; the retries stay quiet at DEBUG.
            log.error(
                "database commit failed, keeping %d rows and retrying: %s",
                batch.row_count(),
                describe_error(exc),
            )
        else:
            log.debug("database commit retry failed: %s", describe_error(exc))
        self._held = batch
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self._settings.retry_max)

    def _auto_prune(self) -> None:
        settings = self._settings
        if not settings.prunes or self._held is not None or time.monotonic() < self._next_prune_at:
            return
        self._next_prune_at = time.monotonic() + settings.prune_interval
        now = datetime.now(UTC)
        if settings.retention is not None:
            deleted = self._prune(now - settings.retention)
            if deleted:
                log.info("pruned %d log rows older than %d days", deleted, settings.retention.days)
        if settings.sample_retention is not None or settings.hourly_retention is not None:
            self._prune_energy(now)

    def _prune_energy(self, now: datetime) -> None:
        settings = self._settings
        try:
            with self._engine_lock, self._engine.begin() as conn:
                deleted = prune_energy(
                    conn, now, settings.sample_retention, settings.hourly_retention
                )
        except Exception as exc:  # noqa: BLE001 - a failed prune is retried at the next interval
            log.warning("pruning old energy rows failed: %s", describe_error(exc))
            return
        if deleted:
            log.info("pruned %d energy samples and hourly rows past their retention", deleted)

    def _prune(self, older_than: datetime) -> int | None:
        try:
            with self._engine_lock, self._engine.begin() as conn:
                return sum(
                    conn.execute(delete(table).where(table.c.ts < older_than)).rowcount
                    for table in LOG_TABLES
                )
        except Exception as exc:  # noqa: BLE001 - a failed prune is retried at the next interval
            log.warning("pruning old log rows failed: %s", describe_error(exc))
            return None


def _write_batch(conn: Connection, batch: Batch, unit_keys: dict[str, int]) -> dict[str, int]:
    """Write every row of ``batch``; return the energy unit keys to cache after the commit."""
    if batch.states:
        conn.execute(
            upsert(conn, unit_state, ["unit_id"], ["state", "updated_at"]),
            [
                {"unit_id": row.unit_id, "state": row.state, "updated_at": row.ts}
                for row in batch.states.values()
            ],
        )
    # Two changes of one unit at the same instant share a key: the later one is the state.
    state_rows: dict[tuple[datetime, str], dict[str, Any]] = {}
    event_rows: list[dict[str, Any]] = []
    samples: list[SampleWrite] = []
    for row in batch.logs:
        if isinstance(row, SampleWrite):
            samples.append(row)
        elif isinstance(row, StateRow):
            state_rows[(row.ts, row.unit_id)] = {
                "ts": row.ts,
                "unit_id": row.unit_id,
                "state": row.state,
            }
        else:
            event_rows.append(
                {"ts": row.ts, "type": row.event_type, "unit_id": row.unit_id, "data": row.data}
            )
    if state_rows:
        conn.execute(
            upsert(conn, state_log, ["ts", "unit_id"], ["state"]), list(state_rows.values())
        )
    if event_rows:
        conn.execute(event_log.insert(), event_rows)
    _write_settings(conn, batch.settings.values())
    if samples or batch.rollups or batch.lifetimes:
        return write_energy(
            conn, samples, list(batch.rollups.values()), list(batch.lifetimes.values()), unit_keys
        )
    return {}


def _write_settings(conn: Connection, given: Iterable[SettingRow]) -> None:
    rows = list(given)
    gone = [row.key for row in rows if row.value is None]
    kept = [
        {"key": row.key, "value": row.value, "updated_at": row.ts}
        for row in rows
        if row.value is not None
    ]
    if gone:
        conn.execute(delete(setting).where(setting.c.key.in_(gone)))
    if kept:
        conn.execute(upsert(conn, setting, ["key"], ["value", "updated_at"]), kept)
