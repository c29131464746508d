"""Is anybody home? Presence is believed at once, absence only after ``away_after`` seconds,
so a motion sensor's quiet minutes do not flip the preset back and forth.

Pure and time-injected (monotonic seconds). Before the first report nobody is assumed away:
comfort is the safe default.
"""

from __future__ import annotations


class PresenceTracker:
    def __init__(self, *, away_after: float = 600.0) -> None:
        if away_after < 0:
            raise ValueError("away_after must not be negative")
        self.away_after = away_after
        self._absent_since: float | None = None

    def update(self, now: float, present: bool) -> None:
        if present:
            self._absent_since = None
        elif self._absent_since is None:
            self._absent_since = now  # repeated "absent" reports keep the first one's time

    def away(self, now: float) -> bool:
        since = self._absent_since
        return since is not None and now - since >= self.away_after
