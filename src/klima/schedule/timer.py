"""Waking the engine up: the only module that imports APScheduler (research §4.3, 3.11.x).

The engine's own tables are the truth; APScheduler only holds two in-memory jobs, rebuilt at
every start: ``next-transition`` (a date trigger at the next block, hold end or timer, re-armed
after each run) and ``watch`` (an interval that lets window delays, presence debounce, stale
sensors and frost timers act without waiting for a block). Missed runs are never replayed:
each run asks the engine for what is in force now.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

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
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Start inside the running event loop and run once now."""
        scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"coalesce": True})
        scheduler.add_job(
            self.wake,
            IntervalTrigger(seconds=self._watch_interval, timezone=UTC),
            id="watch",
            replace_existing=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler
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
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self.wake,
            DateTrigger(run_date=at, timezone=UTC),
            id="next-transition",
            replace_existing=True,
            misfire_grace_time=None,  # late is fine: the run applies what is in force then
        )

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
