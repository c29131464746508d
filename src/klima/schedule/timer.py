"""Waking the engine up: the only module that imports APScheduler (research §4.3, 3.11.x).

The engine's own tables are the truth; APScheduler holds one in-memory job, rebuilt at every
start: ``next-transition``, a date trigger at the next block, hold end, timer or vacation
edge, re-armed after each run. APScheduler is imported with the first such job, so a hub with
nothing on a clock does not pay its ~1 MiB. A plain asyncio ``watch`` loop ticks every 30 s so
window delays, presence debounce, stale sensors and frost timers act between transitions.
Missed runs are never replayed: each run asks the engine for what is in force now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

WATCH_INTERVAL = 30.0  # seconds


class WakeTimer:
    """Calls ``run(now)``, which returns the next instant it wants to be woken at."""

    def __init__(
        self,
        run: Callable[[datetime], datetime | None],
        *,
        watch_interval: float = WATCH_INTERVAL,
    ) -> None:
        self._run = run
        self._watch_interval = watch_interval
        self._scheduler: Any = None  # AsyncIOScheduler, once something is due at a time
        self._watch: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start inside the running event loop and run once now."""
        self._watch = asyncio.get_running_loop().create_task(self._watching(), name="watch")
        self.wake()

    async def _watching(self) -> None:
        while True:
            await asyncio.sleep(self._watch_interval)
            self.wake()

    async def _wake_job(self) -> None:
        # A coroutine, so APScheduler's asyncio executor runs it as a task on the event loop;
        # a plain function would run in a worker thread, beside the units it changes.
        self.wake()

    def wake(self) -> None:
        try:
            upcoming = self._run(datetime.now(UTC))
        except Exception:  # the timer must keep running whatever one run does
            log.exception("automation run failed")
            upcoming = None
        if upcoming is not None:
            self.arm(upcoming)

    def arm(self, at: datetime) -> None:
        """Wake at ``at`` (replacing the previous wake-up)."""
        if self._watch is None:
            return  # not started (or shut down)
        from apscheduler.triggers.date import DateTrigger  # noqa: PLC0415 - see the docstring

        if self._scheduler is None:
            from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: PLC0415

            self._scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"coalesce": True})
            self._scheduler.start()
        self._scheduler.add_job(
            self._wake_job,
            DateTrigger(run_date=at, timezone=UTC),
            id="next-transition",
            replace_existing=True,
            misfire_grace_time=None,  # late is fine: the run applies what is in force then
        )

    def shutdown(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._scheduler is not None:
            with contextlib.suppress(Exception):  # a scheduler that never started is fine
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
