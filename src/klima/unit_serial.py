"""A unit reached over a serial line: connect, poll, apply, reconnect on silence.

Polls are reconciled with what we asked for (:mod:`klima.reconcile`), so a stale reading never
undoes a command and a change made at the unit itself is adopted as ``external``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from klima.control.remote_sensor import RemoteTemperatureFeed
from klima.driver import DriverContext, SerialClient
from klima.errors import (
    CommandRefusedError,
    DriverError,
    KlimaTimeoutError,
    LinkLostError,
)
from klima.reconcile import Reconciler
from klima.state import StateSource, UnitCommand
from klima.unit import Unit, jsonable

if TYPE_CHECKING:
    from klima.driver import FrameDirection
    from klima.traits import Traits

log = logging.getLogger(__name__)

REMOTE_TEMPERATURE_KEEPALIVE = 30.0  # CN105 units fall back to their own sensor after minutes
RECONNECT_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)


class SerialUnit(Unit):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reconciler = Reconciler(grace=max(3.0, self.config.poll_interval + 0.75))
        self._remote = RemoteTemperatureFeed(
            keepalive=REMOTE_TEMPERATURE_KEEPALIVE,
            timeout=self.config.remote_temperature_timeout,
        )

    def set_remote_temperature(self, celsius: float | None) -> None:
        self.check_remote_temperature()
        self._remote.update(celsius, self._clock())
        self._wake.set()

    def _extra_deadlines(self) -> list[float]:
        deadline = self._remote.next_deadline()
        return [deadline] if deadline is not None else []

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
                "command_failed", self, {"command": jsonable(change.fields()), "error": str(exc)}
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
            self._listener.event("external_change", self, {"changes": jsonable(external)})
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

    def _within_config(self, reported: Traits) -> Traits:
        """The traits the unit reported about itself, within the user's configured limits."""
        return reported.narrowed(min_temp=self.config.min_temp, max_temp=self.config.max_temp)
