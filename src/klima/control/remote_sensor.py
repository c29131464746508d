"""Feeding a unit the temperature of a room sensor, with keep-alive and a fail-safe.

CN105 units fall back to their own sensor a few minutes after the last remote reading
(serial.md §3.4.2), so the value is re-sent regularly. When the sensor itself goes quiet, the
unit must not regulate on a frozen value: after ``timeout`` the feed expires and the unit is
told explicitly to use its own sensor again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RemoteTemperatureFeed:
    keepalive: float = 30.0  # seconds between re-sends of an unchanged value
    timeout: float = 300.0  # seconds without a new reading before the feed expires
    value: float | None = None
    received_at: float | None = None
    sent_at: float | None = None
    dirty: bool = False  # the unit has not been told the current value yet

    def update(self, value: float | None, now: float) -> None:
        self.value = value
        self.received_at = now if value is not None else None
        self.dirty = True

    def stale(self, now: float) -> bool:
        return self.received_at is not None and now - self.received_at > self.timeout

    def expire(self) -> None:
        """Stop using the sensor; the unit is sent the revert on the next turn."""
        self.update(None, 0.0)

    def due(self, now: float) -> bool:
        if self.dirty:
            return True
        return self.value is not None and (
            self.sent_at is None or now - self.sent_at >= self.keepalive
        )

    def sent(self, now: float) -> None:
        self.dirty = False
        self.sent_at = now if self.value is not None else None

    def relink(self) -> None:
        """A new connection knows nothing: tell it again (or revert it) at once."""
        self.dirty = self.value is not None or self.sent_at is not None

    def next_deadline(self) -> float | None:
        """The next moment the actor must wake up for this feed."""
        times = []
        if self.value is not None and self.sent_at is not None:
            times.append(self.sent_at + self.keepalive)
        if self.received_at is not None:
            times.append(self.received_at + self.timeout)
        return min(times) if times else None
