"""One actor per indoor unit: the link's lifecycle, the command queue, the safety gate, and
reconciling what we asked for with what the unit reports.

Ordering is simple because one task owns the driver client: commands and polls never overlap
on the wire. Commands arriving while a write is in flight coalesce into one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from klima.control.remote_sensor import RemoteTemperatureFeed
from klima.control.safety import RestartGuard
from klima.driver import DriverContext, DriverInfo, FrameDirection, SerialClient
from klima.errors import (
    CommandError,
    CommandRefusedError,
    DriverError,
    KlimaTimeoutError,
    LinkLostError,
)
from klima.reconcile import Reconciler
from klima.state import StateSource, UnitCommand, UnitState

if TYPE_CHECKING:
    from collections.abc import Callable

    from klima.config import UnitConfig
    from klima.traits import Traits

log = logging.getLogger(__name__)

REMOTE_TEMPERATURE_KEEPALIVE = 30.0  # CN105 units fall back to their own sensor after minutes
RECONNECT_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)
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
    status: str  # "applied" | "queued" | "deferred"
    lockout_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.lockout_until:
            out["lockout_until"] = self.lockout_until.isoformat(timespec="seconds")
        return out


class Unit:
    def __init__(
        self,
        config: UnitConfig,
        info: DriverInfo,
        listener: UnitListener,
        *,
        initial_state: UnitState | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.info = info
        self._listener = listener
        self._clock = clock
        self._base_traits = info.traits.narrowed(min_temp=config.min_temp, max_temp=config.max_temp)
        self.traits: Traits = self._base_traits
        self.state = initial_state or UnitState()
        self.available = False
        self._guard = RestartGuard(config.restart_delay)
        self._reconciler = Reconciler(grace=max(3.0, config.poll_interval + 0.75))
        self._queued: UnitCommand | None = None
        self._deferred: UnitCommand | None = None
        self._deferred_until: float | None = None
        self._wake = asyncio.Event()
        self._refresh = False
        self._remote = RemoteTemperatureFeed(
            keepalive=REMOTE_TEMPERATURE_KEEPALIVE, timeout=config.remote_temperature_timeout
        )
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
        self, command: UnitCommand, origin: str, transaction: object = None
    ) -> CommandOutcome:
        """Pass ``command`` through the safety gate; the actor applies it on its next turn.

        Raises :class:`CommandError` when the command can never be carried out; the unit is
        then untouched.
        """
        command = command.normalized()
        self.traits.validate(command, current_mode=self.state.mode)
        if not self.available:
            raise CommandError(None, f"unit {self.id!r} is offline; the command was not sent")
        log.info("unit %s: command from %s: %s", self.id, origin, command.fields())
        if command.power is False:
            # "Off" acts at once and cancels a start that was waiting for the restart delay.
            self._cancel_deferred()
        now = self._clock()
        until = self._guard.deferral(command, self._effective_state(), now)
        # While a start waits, later changes wait with it so they cannot overtake it.
        if until is not None or (self._deferred is not None and command.power is None):
            return self._defer(command, until, origin, transaction)
        self._queue(command)
        return CommandOutcome("queued")

    def _defer(
        self, command: UnitCommand, until: float | None, origin: str, transaction: object
    ) -> CommandOutcome:
        self._deferred = command if self._deferred is None else self._deferred.merged(command)
        self._deferred_until = until if until is not None else self._deferred_until
        wall = self._wall(self._deferred_until or self._clock())
        self._set_state(self.state.replace(lockout_until=wall))
        data: dict[str, Any] = {
            "reason": "restart_delay",
            "action": "deferred",
            "lockout_until": wall.isoformat(timespec="seconds"),
            "command": _jsonable(command.fields()),
            "origin": origin,
        }
        if transaction is not None:
            data["transaction"] = transaction
        self._listener.event("safety_refused", self, data)
        self._wake.set()
        return CommandOutcome("deferred", wall)

    def request_refresh(self) -> None:
        """Poll now (``<base>/<unit>/get``) instead of waiting for the next cycle."""
        self._refresh = True
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
        self._remote.update(celsius, self._clock())
        self._wake.set()

    def _queue(self, command: UnitCommand) -> None:
        self._queued = command if self._queued is None else self._queued.merged(command)
        self._wake.set()

    def _cancel_deferred(self) -> None:
        if self._deferred is not None:
            log.info("unit %s: deferred start cancelled", self.id)
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
        """Own the link until cancelled: connect, poll, apply, reconnect on silence."""
        attempt = 0
        while True:
            client = self._create_client()
            try:
                await client.connect()
                attempt = 0
                self.traits = self._within_config(client.traits)
                self._remote.relink()
                await self._session(client)
            except (DriverError, KlimaTimeoutError) as exc:
                self.link_errors += 1
                if self.available:
                    log.warning("unit %s: link lost: %s", self.id, exc)
                    self._listener.event("fault", self, {"reason": "link_lost", "error": str(exc)})
                else:
                    log.debug("unit %s: connect failed: %s", self.id, exc)
                self._set_available(online=False)
            finally:
                with contextlib.suppress(Exception):
                    await client.close()
            delay = RECONNECT_BACKOFF[min(attempt, len(RECONNECT_BACKOFF) - 1)]
            attempt += 1
            await asyncio.sleep(min(delay, self.config.reconnect_after))

    def _create_client(self) -> SerialClient:
        if self.info.create_client is None or self.config.port is None:
            raise DriverError(f"unit {self.id}: driver {self.info.name} cannot open a port")
        ctx = DriverContext(
            unit_id=self.id,
            port=self.config.port,
            options=self._options,
            frame_tap=self._tap,
            request_timeout=max(0.3, min(1.0, self.config.poll_interval)),
        )
        return self.info.create_client(ctx)

    def _tap(self, direction: FrameDirection, raw: bytes) -> None:
        self._listener.frame(self, direction, raw)

    async def _session(self, client: SerialClient) -> None:
        last_valid = self._clock()
        next_poll = 0.0
        first = True
        while True:
            self._wake.clear()  # from here on, a submit() must cut the next sleep short
            now = self._clock()
            await self._release_deferred(now)
            if self._queued is not None:
                command, self._queued = self._queued, None
                await self._apply(client, command)
                # Read back soon, but give the unit a moment (echavet defers 750 ms).
                next_poll = min(next_poll, self._clock() + 0.75)
            await self._feed_remote_temperature(client, now)
            if self._refresh or self._clock() >= next_poll:
                self._refresh = False
                try:
                    observation = await client.poll(interrupted=self._command_waiting)
                except KlimaTimeoutError:
                    if self._clock() - last_valid > self.config.reconnect_after:
                        raise LinkLostError(
                            f"no valid reply for {self.config.reconnect_after:g} s"
                        ) from None
                else:
                    last_valid = self._clock()
                    self._absorb(observation, first=first)
                    if first:
                        first = False
                        self._set_available(online=True)
                next_poll = self._clock() + self.config.poll_interval
            await self._sleep_until(next_poll)

    def _command_waiting(self) -> bool:
        return self._queued is not None

    async def _sleep_until(self, deadline: float) -> None:
        wait = deadline - self._clock()
        if self._deferred_until is not None:
            wait = min(wait, self._deferred_until - self._clock())
        remote_deadline = self._remote.next_deadline()
        if remote_deadline is not None:
            wait = min(wait, remote_deadline - self._clock())
        if wait <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._wake.wait()

    async def _release_deferred(self, now: float) -> None:
        if self._deferred is None or self._deferred_until is None or now < self._deferred_until:
            return
        command = self._deferred
        self._deferred = None
        self._deferred_until = None
        self._set_state(self.state.replace(lockout_until=None))
        log.info("unit %s: restart delay over, applying deferred command", self.id)
        self._queue(command)

    async def _apply(self, client: SerialClient, command: UnitCommand) -> None:
        current = self.state
        # Sent, not yet read back: "assumed" until a poll confirms it.
        wanted = current.apply(command, StateSource.ASSUMED)
        change = current.diff(wanted)
        if change.is_empty():
            return
        try:
            await client.apply(change, current)
        except KlimaTimeoutError:
            # The write may or may not have landed; the next poll tells. Keep it pending.
            log.warning("unit %s: no acknowledgement for %s", self.id, change.fields())
        except DriverError as exc:
            # Say so instead of dropping the command silently. A refusal leaves the link up
            # (the next poll shows what the unit kept); a broken link is reopened by run().
            self._listener.event(
                "command_failed", self, {"command": _jsonable(change.fields()), "error": str(exc)}
            )
            if isinstance(exc, CommandRefusedError):
                return
            raise
        now = self._clock()
        self._reconciler.expect(change, now)
        self._guard.record_power(current.power, wanted.power, now)
        self._set_state(wanted)

    async def _feed_remote_temperature(self, client: SerialClient, now: float) -> None:
        if self._remote.stale(now):
            log.warning("unit %s: room sensor went quiet; back to the unit's own sensor", self.id)
            self._remote.expire()
            self._listener.event(
                "sensor_stale",
                self,
                {"sensor": "remote_temperature", "timeout_s": self._remote.timeout},
            )
        if not self._remote.due(now):
            return
        try:
            await client.set_remote_temperature(self._remote.value)
        except (CommandRefusedError, KlimaTimeoutError) as exc:
            # Not a broken link: report it and try again at the next keep-alive.
            self._remote.sent(now)
            self._listener.event(
                "command_failed",
                self,
                {"command": {"remote_temperature": self._remote.value}, "error": str(exc)},
            )
            return
        self._remote.sent(now)
        source = "remote" if self._remote.value is not None else "unit"
        if self.state.temperature_source != source:
            self._set_state(self.state.replace(temperature_source=source))

    def _absorb(self, observation: Any, *, first: bool) -> None:
        now = self._clock()
        previous = self.state
        accepted, external, mismatched = self._reconciler.reconcile(
            previous, observation, now, first=first
        )
        for name, (wanted, got) in mismatched.items():
            self._listener.event(
                "state_mismatch", self, {"field": name, "wanted": wanted, "reported": got}
            )
        if external:
            source = StateSource.EXTERNAL
            log.info("unit %s: changed at the unit itself: %s", self.id, external)
            self._listener.event("external_change", self, {"changes": _jsonable(external)})
        elif previous.state_source is StateSource.EXTERNAL and not self._reconciler.pending:
            source = StateSource.EXTERNAL  # stays external until we command it again
        else:
            source = StateSource.REPORTED
        state = previous.observe(accepted, source, datetime.now(UTC))
        if state.fault_code != previous.fault_code:
            kind = "fault" if state.fault_code else "fault_cleared"
            log.warning("unit %s: %s %s", self.id, kind, state.fault_code or previous.fault_code)
            self._listener.event(
                kind, self, {"fault_code": state.fault_code or previous.fault_code}
            )
        self._guard.record_power(previous.power, state.power, now)
        lockout = self._guard.lockout_until(now)
        if lockout is None and self._deferred_until is None and state.lockout_until is not None:
            state = state.replace(lockout_until=None)
        self._set_state(state)

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

    def _within_config(self, reported: Traits) -> Traits:
        """The traits the unit reported about itself, within the user's configured limits."""
        return reported.narrowed(min_temp=self.config.min_temp, max_temp=self.config.max_temp)

    def _wall(self, monotonic_deadline: float) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=monotonic_deadline - self._clock())


def _changed(before: UnitState, after: UnitState) -> bool:
    return before.replace(last_seen=None) != after.replace(last_seen=None)


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in fields.items()}
