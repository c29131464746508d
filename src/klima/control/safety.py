"""Compressor protection in the unit's safety gate.

Every command passes through :class:`RestartGuard` inside the unit actor, whatever sent it
(MQTT, the CLI, later schedules and the thermostat), so nothing can short-cycle a compressor.
A user's "off" always acts at once; a start inside the restart delay is deferred until the
delay has passed, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from klima.state import UnitCommand, UnitState


@dataclass(slots=True)
class RestartGuard:
    restart_delay: float  # seconds a unit must stay off before it may start again
    off_since: float | None = None  # monotonic time the unit was last seen switching off

    def record_power(self, was_on: bool, is_on: bool, now: float) -> None:
        """Track on→off transitions, whoever caused them (us, the unit's own remote, a fault)."""
        if was_on and not is_on:
            self.off_since = now
        elif is_on:
            self.off_since = None

    def lockout_until(self, now: float) -> float | None:
        """Monotonic time until which a start is refused, or ``None`` when a start is allowed."""
        if self.off_since is None or self.restart_delay <= 0:
            return None
        until = self.off_since + self.restart_delay
        return until if now < until else None

    def deferral(self, command: UnitCommand, current: UnitState, now: float) -> float | None:
        """When ``command`` would start the unit too soon, the time it may run; else ``None``."""
        if not command.turns_on(current):
            return None
        return self.lockout_until(now)
