"""Is the clock right? A Raspberry Pi has no RTC and boots with a stale time (research §4.5)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

# systemd-timesyncd creates this once the clock has been synchronised since boot.
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


def clock_trusted(now: datetime, last_write: datetime | None, flag: Path = TIMESYNC_FLAG) -> bool:
    """Synchronised by NTP, or later than anything the database already holds.

    An empty database on an unsynchronised machine has nothing to compare with: trusted.
    """
    if flag.exists():
        return True
    return last_write is None or now > last_write
