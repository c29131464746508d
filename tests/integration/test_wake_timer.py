"""The APScheduler adapter wakes the engine on the event loop's own thread, when asked."""

from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import datetime, timedelta

from klima.schedule.timer import WakeTimer


async def test_wakes_run_on_the_loop_thread_and_rearm_themselves() -> None:
    loop_thread = threading.get_ident()
    runs: list[tuple[datetime, bool]] = []
    done = asyncio.Event()

    def run(now: datetime) -> datetime | None:
        # The engine is not thread-safe: every run must happen on the loop's thread.
        runs.append((now, threading.get_ident() == loop_thread))
        if len(runs) == 3:
            done.set()
            return None
        return now + timedelta(milliseconds=50)  # the next transition, re-armed each time

    timer = WakeTimer(run, watch_interval=3600)
    timer.start()  # runs once at once
    try:
        async with asyncio.timeout(5):
            await done.wait()
    finally:
        timer.shutdown()
    assert [on_loop for _, on_loop in runs] == [True, True, True]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(runs)]
    assert all(gap >= timedelta(milliseconds=40) for gap in gaps)


async def test_the_watch_ticks_without_anything_scheduled() -> None:
    runs: list[datetime] = []
    timer = WakeTimer(lambda now: runs.append(now) or None, watch_interval=0.02)
    timer.start()
    try:
        await asyncio.sleep(0.15)
    finally:
        timer.shutdown()
    assert len(runs) >= 4  # once at start, then every 20 ms
    count = len(runs)
    await asyncio.sleep(0.05)
    assert len(runs) == count  # shut down: nothing more
