"""Injectable clocks, so simulated hours can pass in real seconds (or not at all).

Every simulator reads time through a :class:`Clock`. Values are seconds on an arbitrary
monotonic scale; the room model reads ``now() % 86400`` as the time of day, so a clock that
starts at 0 starts at midnight.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Simulated seconds; never decreases."""
        ...


class RealClock:
    """Wall-clock pace (``time.monotonic``)."""

    def now(self) -> float:
        return time.monotonic()


class ScaledClock:
    """Simulated time running ``speed`` times faster than real time.

    ``ScaledClock(3600)`` passes one simulated hour per real second. ``start`` is the simulated
    time at construction (e.g. ``6 * 3600`` to begin at 06:00).
    """

    def __init__(self, speed: float, start: float = 0.0) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, not {speed}")
        self.speed = speed
        self._start = start
        self._real_origin = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._real_origin) * self.speed

    def real_seconds(self, simulated: float) -> float:
        """How long ``simulated`` seconds take in real time."""
        return simulated / self.speed


class ManualClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
