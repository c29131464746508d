"""One actor per indoor unit: the command queue, the safety gate, and publishing.

:class:`Unit` holds what every kind of unit shares; :class:`klima.unit_serial.SerialUnit`
(readback over a wire) and :class:`klima.unit_ir.IrUnit` (open loop through a blaster) add how
commands reach the unit. Ordering is simple because one task owns the link: commands never
overlap on the wire, and commands arriving while a write is in flight coalesce into one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from klima.control.safety import AUTOMATIC_ORIGINS, Hold, SafetyGate
from klima.errors import CommandError
from klima.state import UnitCommand, UnitState

if TYPE_CHECKING:
    from collections.abc import Callable

    from klima.config import UnitConfig
    from klima.driver import DriverInfo, FrameDirection
    from klima.traits import Traits

log = logging.getLogger(__name__)

STATE_HEARTBEAT = 60.0  # seconds: republish an unchanged state so `last_seen` stays fresh


class UnitListener(Protocol):
    """Where a unit reports what happens to it (the daemon fans this out to MQTT and the DB)."""

    def state_changed(self, unit: Unit, state: UnitState) -> None: ...
    def state_refreshed(self, unit: Unit) -> None: ...
    def availability_changed(self, unit: Unit, online: bool) -> None: ...
    def event(self, kind: str, unit: Unit, data: dict[str, Any]) -> None: ...
    def frame(self, unit: Unit, direction: FrameDirection, raw: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    status: str  # "applied" | "queued" | "deferred" | "refused"
    lockout_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.lockout_until:
            out["lockout_until"] = self.lockout_until.isoformat(timespec="seconds")
        return out


class Unit:
    """Base of the unit actors: run :meth:`run` as a task, feed it with :meth:`submit`."""

    def __init__(
        self,
        config: UnitConfig,
        info: DriverInfo,
        listener: UnitListener,
        *,
        initial_state: UnitState | None = None,
        clock: Callable[[], float] = time.monotonic,
        traits: Traits | None = None,
    ) -> None:
        self.config = config
        self.info = info
        self._listener = listener
        self._clock = clock
        # The unit's own traits (e.g. from a SmartIR file) where known, else the driver's;
        # always within the limits of the user's config.
        self.traits: Traits = (traits or info.traits).narrowed(
            min_temp=config.min_temp, max_temp=config.max_temp
        )
        self.state = initial_state or UnitState()
        self.available = False
        self._guard = SafetyGate.from_config(config)
        self._queued: UnitCommand | None = None
        # At most one command waits in the gate: a start, or an automatic stop (min_run).
        self._deferred: UnitCommand | None = None
        self._deferred_until: float | None = None
        self._deferred_reason = "restart_delay"
        self._deferred_origin = ""
        self._wake = asyncio.Event()
        self._refresh = False
        self._resync = False
        self._options = info.options_model.model_validate(config.options)
        self.link_errors = 0
        self._last_published = 0.0

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def name(self) -> str:
        return self.config.display_name

    # ------------------------------------------------------------------ commands

    def submit(
        self,
        command: UnitCommand,
        origin: str,
        transaction: object = None,
        *,
        limits: tuple[float, float] | None = None,
    ) -> CommandOutcome:
        """Pass ``command`` through the safety gate; the actor applies it on its next turn.

        Raises :class:`CommandError` when the command can never be carried out, or when a
        person sends too many commands (automatic origins get ``"refused"`` instead); the
        unit is then untouched. ``limits`` are the active preset's setpoint range, enforced
        on manual setpoints.
        """
        command = command.normalized()
        self.traits.validate(command, current_mode=self.state.mode)
        automatic = origin in AUTOMATIC_ORIGINS
        if limits is not None and not automatic:
            _check_limits(command, limits)
        if not self.available:
            raise CommandError(None, f"unit {self.id!r} is offline; the command was not sent")
        log.info("unit %s: command from %s: %s", self.id, origin, command.fields())
        now = self._clock()
        next_allowed = self._guard.rate.check(now)
        # A person's "off" is never refused: it is harmless and must always work.
        if next_allowed is not None and (automatic or command.power is not False):
            return self._refuse(command, next_allowed, origin, transaction, automatic=automatic)
        self._guard.rate.record(now)
        hold = self._guard.hold(command, self._effective_state(), now, origin)
        if hold is not None:
            return self._defer(command, hold, origin, transaction)
        waiting = self._deferred
        if waiting is not None:
            if command.power is None and waiting.power:
                # While a start waits, later changes wait with it so they cannot overtake it.
                return self._defer(command, None, origin, transaction)
            if command.power and waiting.power:
                command = waiting.merged(command)  # the waiting start may go now, with this
            if command.power is not None:
                # "Off" acts at once and cancels a waiting start; "on" cancels a waiting stop.
                self._cancel_deferred()
        self._queue(command)
        return CommandOutcome("queued")

    def _defer(
        self, command: UnitCommand, hold: Hold | None, origin: str, transaction: object
    ) -> CommandOutcome:
        waiting = self._deferred
        if waiting is None or (command.power is not None and command.power != waiting.power):
            self._deferred = command
        else:
            self._deferred = waiting.merged(command)  # a newer command of the same kind
        if hold is not None:
            self._deferred_until = hold.until
            self._deferred_reason = hold.reason
        if command.power is not None:
            self._deferred_origin = origin  # whose start or stop it is decides its guards
        wall = self._wall(self._deferred_until or self._clock())
        self._set_state(self.state.replace(lockout_until=wall))
        self._safety_event(
            "deferred", self._deferred_reason, wall, command, origin=origin, transaction=transaction
        )
        self._wake.set()
        return CommandOutcome("deferred", wall)

    def _refuse(
        self,
        command: UnitCommand,
        next_allowed: float,
        origin: str,
        transaction: object,
        *,
        automatic: bool,
    ) -> CommandOutcome:
        wall = self._wall(next_allowed)
        log.warning("unit %s: rate limit; command from %s refused", self.id, origin)
        self._safety_event(
            "refused", "rate_limit", wall, command, origin=origin, transaction=transaction
        )
        if not automatic:
            raise CommandError(
                None,
                f"too many commands for unit {self.id!r}; next allowed at "
                f"{wall.isoformat(timespec='seconds')}",
            )
        return CommandOutcome("refused", wall)

    def _safety_event(
        self,
        action: str,
        reason: str,
        wall: datetime,
        command: UnitCommand,
        *,
        origin: str,
        transaction: object,
    ) -> None:
        data: dict[str, Any] = {
            "reason": reason,
            "action": action,
            "lockout_until": wall.isoformat(timespec="seconds"),
            "command": jsonable(command.fields()),
            "origin": origin,
        }
        if transaction is not None:
            data["transaction"] = transaction
        self._listener.event("safety_refused", self, data)

    def request_refresh(self, *, resync: bool = False) -> None:
        """``<base>/<unit>/get``: read the unit now; ``resync`` also re-sends what it should be."""
        self._refresh = True
        self._resync = self._resync or resync
        self._wake.set()

    def check_remote_temperature(self) -> None:
        """Raise :class:`CommandError` unless this unit can take an external room temperature."""
        if not self.traits.remote_temperature:
            raise CommandError(
                "remote_temperature", f"driver {self.info.name} cannot take a room temperature"
            )

    def set_remote_temperature(self, celsius: float | None) -> None:
        """Feed a room temperature from an external sensor (``None`` reverts to the unit's)."""
        self.check_remote_temperature()
        raise CommandError(  # pragma: no cover - units with the trait override this
            "remote_temperature", f"unit {self.id!r} has no way to feed {celsius} °C"
        )

    def _queue(self, command: UnitCommand) -> None:
        self._queued = command if self._queued is None else self._queued.merged(command)
        self._wake.set()

    def _cancel_deferred(self) -> None:
        if self._deferred is not None:
            log.info("unit %s: deferred command cancelled", self.id)
        self._deferred = None
        self._deferred_until = None
        if self.state.lockout_until is not None:
            self._set_state(self.state.replace(lockout_until=None))

    def _effective_state(self) -> UnitState:
        """The state once everything already accepted has been applied."""
        state = self.state
        if self._queued is not None:
            state = state.apply(self._queued, state.state_source)
        return state

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Own the unit's link until cancelled."""
        raise NotImplementedError

    def _extra_deadlines(self) -> list[float]:
        """Moments a subclass must wake up for (keep-alives, feedback checks)."""
        return []

    async def _sleep_until(self, deadline: float) -> None:
        wait = deadline - self._clock()
        if self._deferred_until is not None:
            wait = min(wait, self._deferred_until - self._clock())
        for moment in self._extra_deadlines():
            wait = min(wait, moment - self._clock())
        if wait <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._wake.wait()

    async def _release_deferred(self, now: float) -> None:
        if self._deferred is None or self._deferred_until is None or now < self._deferred_until:
            return
        command = self._deferred
        # Ask again: the unit may have switched meanwhile (its own remote, a fault).
        hold = self._guard.hold(command, self._effective_state(), now, self._deferred_origin)
        if hold is not None:
            self._deferred_until, self._deferred_reason = hold.until, hold.reason
            self._set_state(self.state.replace(lockout_until=self._wall(hold.until)))
            log.info("unit %s: deferred command held again (%s)", self.id, hold.reason)
            return
        self._deferred = None
        self._deferred_until = None
        self._set_state(self.state.replace(lockout_until=None))
        log.info("unit %s: %s over, applying deferred command", self.id, self._deferred_reason)
        self._queue(command)

    # ------------------------------------------------------------------ publishing

    def _set_state(self, state: UnitState) -> None:
        before = self.state
        self.state = state
        now = self._clock()
        if _changed(before, state):
            self._last_published = now
            self._listener.state_changed(self, state)
        elif now - self._last_published >= STATE_HEARTBEAT:
            # Unchanged polls are not stored, but `last_seen` must not look frozen on MQTT.
            self._last_published = now
            self._listener.state_refreshed(self)

    def _set_available(self, *, online: bool) -> None:
        if online == self.available:
            return
        self.available = online
        log.info("unit %s: %s", self.id, "online" if online else "offline")
        self._listener.availability_changed(self, online)

    def _wall(self, monotonic_deadline: float) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=monotonic_deadline - self._clock())


def _changed(before: UnitState, after: UnitState) -> bool:
    return before.replace(last_seen=None) != after.replace(last_seen=None)


def _check_limits(command: UnitCommand, limits: tuple[float, float]) -> None:
    target = command.target_temperature
    low, high = limits
    if target is not None and not low <= target <= high:
        raise CommandError(
            "target_temperature",
            f"target_temperature {target:g} is outside {low:g}..{high:g} °C for the active preset",
            [low, high],
        )


def jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in fields.items()}
