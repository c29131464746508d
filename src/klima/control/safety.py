"""Compressor protection and command rate limiting in the unit's safety gate.

Every command passes through :class:`SafetyGate` inside the unit actor, whatever sent it
(MQTT, the CLI, schedules, the thermostat), so nothing can short-cycle a compressor.

- :class:`RestartGuard` holds every start (any origin) until the restart delay has passed.
- :class:`CycleGuard` holds automatic decisions to a minimum run time, a minimum off time and a
  number of starts per hour: a thermostat or schedule must not flap a unit, but a person who
  switches it by hand is obeyed (the restart delay still protects the compressor).
- :class:`RateLimiter` refuses a runaway stream of commands from any source.

A held command is deferred until it is allowed, never dropped silently.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from klima.config import UnitConfig
    from klima.state import UnitCommand, UnitState

# Origins that decide by themselves; everything else ("mqtt", "cli", ...) is a person.
AUTOMATIC_ORIGINS = frozenset(
    {"schedule", "thermostat", "window", "presence", "vacation", "timer", "frost"}
)
# Frost protection must be able to heat at once: it is held by the restart delay only.
FROST_ORIGIN = "frost"
HOUR = 3600.0
MINUTE = 60.0


@dataclass(frozen=True, slots=True)
class Hold:
    """A command may not run before ``until`` (monotonic seconds) because of ``reason``."""

    until: float
    reason: str  # "restart_delay" | "min_run" | "min_off" | "max_starts" | "rate_limit"


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


@dataclass(slots=True)
class CycleGuard:
    """Minimum run and off times and starts per hour, for automatic origins only."""

    min_run: float = 600.0  # seconds on before an automatic "off"
    min_off: float = 300.0  # seconds off before an automatic start
    max_starts_per_hour: int = 4  # 0 = no limit
    on_since: float | None = None
    off_since: float | None = None
    starts: deque[float] = field(default_factory=deque)  # monotonic times of recent starts

    def record_power(self, was_on: bool, is_on: bool, now: float) -> None:
        """Track both transitions, whoever caused them: a start by hand counts too."""
        if not was_on and is_on:
            self.on_since, self.off_since = now, None
            self.starts.append(now)
            self._forget(now)
        elif was_on and not is_on:
            self.on_since, self.off_since = None, now

    def decide(
        self, command: UnitCommand, current: UnitState, now: float, origin: str
    ) -> Hold | None:
        """``None`` when ``command`` may run now, else when it may and why not yet."""
        if origin not in AUTOMATIC_ORIGINS or origin == FROST_ORIGIN:
            return None
        command = command.normalized()
        if command.power is False and current.power:
            if self.on_since is not None and now < self.on_since + self.min_run:
                return Hold(self.on_since + self.min_run, "min_run")
            return None
        if not command.turns_on(current):
            return None
        holds = []
        if self.off_since is not None and now < self.off_since + self.min_off:
            holds.append(Hold(self.off_since + self.min_off, "min_off"))
        self._forget(now)
        if 0 < self.max_starts_per_hour <= len(self.starts):
            # A slot frees when the oldest start that keeps the window full leaves it.
            oldest = self.starts[len(self.starts) - self.max_starts_per_hour]
            holds.append(Hold(oldest + HOUR, "max_starts"))
        return latest(holds)

    def _forget(self, now: float) -> None:
        while self.starts and self.starts[0] <= now - HOUR:
            self.starts.popleft()


@dataclass(slots=True)
class RateLimiter:
    """At most ``per_minute`` accepted commands in any 60 s, from all origins together."""

    per_minute: int = 10  # 0 = no limit
    accepted: deque[float] = field(default_factory=deque)

    def check(self, now: float) -> float | None:
        """``None`` when a command may be accepted now, else the time the next one may."""
        while self.accepted and self.accepted[0] <= now - MINUTE:
            self.accepted.popleft()
        if self.per_minute <= 0 or len(self.accepted) < self.per_minute:
            return None
        return self.accepted[len(self.accepted) - self.per_minute] + MINUTE

    def record(self, now: float) -> None:
        self.accepted.append(now)


@dataclass(slots=True)
class SafetyGate:
    """The guards of one unit, fed with every power transition the unit actor sees."""

    restart: RestartGuard
    cycle: CycleGuard
    rate: RateLimiter

    @classmethod
    def from_config(cls, config: UnitConfig) -> SafetyGate:
        return cls(
            RestartGuard(config.restart_delay),
            CycleGuard(config.min_run_time, config.min_off_time, config.max_starts_per_hour),
            RateLimiter(config.max_commands_per_minute),
        )

    def record_power(self, was_on: bool, is_on: bool, now: float) -> None:
        self.restart.record_power(was_on, is_on, now)
        self.cycle.record_power(was_on, is_on, now)

    def lockout_until(self, now: float) -> float | None:
        """The restart delay's lockout (what holds a start from any origin)."""
        return self.restart.lockout_until(now)

    def hold(
        self, command: UnitCommand, current: UnitState, now: float, origin: str
    ) -> Hold | None:
        """When ``command`` from ``origin`` may run, if not now; the later guard wins."""
        restart = self.restart.deferral(command, current, now)
        holds = [Hold(restart, "restart_delay")] if restart is not None else []
        cycle = self.cycle.decide(command, current, now, origin)
        if cycle is not None:
            holds.append(cycle)
        return latest(holds)


def latest(holds: list[Hold]) -> Hold | None:
    """The hold that ends last (the first of equals), or ``None``."""
    best: Hold | None = None
    for hold in holds:
        if best is None or hold.until > best.until:
            best = hold
    return best
