"""A unit reached by infrared through a Broadlink blaster: open loop, full state every time.

IR has no readback, so the state is what we last sent (``assumed``), persisted and restored
after a restart without sending anything. An optional feedback sensor (a smart plug's power or
a contact sensor) judges power changes after they settle: a unit that did not follow gets one
full resend, then a ``state_mismatch`` event.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol

from klima.control.feedback import read_feedback
from klima.errors import CommandError, DriverError
from klima.ir import default_state
from klima.state import StateSource, UnitState
from klima.unit import Unit, jsonable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from klima.config import UnitConfig
    from klima.driver import DriverInfo
    from klima.ir import IrEncoder
    from klima.unit import UnitListener

log = logging.getLogger(__name__)

SENSOR_INTERVAL = 60.0  # seconds between reads of the blaster's own thermometer
IDLE_WAKE = 3600.0  # an IR unit with nothing scheduled still wakes up hourly


class BlasterPort(Protocol):
    """What an IR unit needs from the blasters (the Broadlink transport implements it)."""

    def is_online(self, blaster_id: str) -> bool: ...
    async def send_all(self, blaster_id: str, payloads: Sequence[bytes]) -> None:
        """Send in order, holding the blaster so no other unit's code slips in between."""
        ...

    async def check_sensors(self, blaster_id: str) -> dict[str, float] | None: ...


class IrUnit(Unit):
    def __init__(
        self,
        config: UnitConfig,
        info: DriverInfo,
        listener: UnitListener,
        *,
        encoder: IrEncoder,
        blasters: BlasterPort,
        initial_state: UnitState | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        traits = encoder.traits.narrowed(min_temp=config.min_temp, max_temp=config.max_temp)
        start = initial_state or default_state(traits)
        super().__init__(
            config, info, listener, initial_state=start, clock=clock, traits=encoder.traits
        )
        if config.blaster is None:
            raise ValueError(f"IR unit {config.id} needs a blaster")
        self.blaster = config.blaster
        self._encoder = encoder
        self._blasters = blasters
        # What the unit was last told: the base for toggles. A restored state was sent before
        # the restart, so nothing is re-sent until something changes; a new unit is assumed
        # to be as its remote starts (off, first fan and swing setting).
        self._last_sent: UnitState | None = start
        self._observed_power: bool | None = None
        self._judge_at: float | None = None
        self._resent = False
        self._keepalive_at: float | None = None
        self._sensor_at: float | None = 0.0 if config.blaster_sensor else None

    # ------------------------------------------------------------------ inputs

    def blaster_availability(self, *, online: bool) -> None:
        """The transport says the blaster came or went."""
        self._set_available(online=online)

    def feedback_message(self, payload: bytes) -> None:
        """A message on the unit's feedback topic (routed here by the MQTT bridge)."""
        feedback = self.config.feedback
        if feedback is None:
            return
        observed = read_feedback(payload, feedback)
        if observed is not None:
            self._observed_power = observed
            self._wake.set()

    # ------------------------------------------------------------------ the actor

    async def run(self) -> None:
        self._set_available(online=self._blasters.is_online(self.blaster))
        self._schedule_keepalive()
        while True:
            self._wake.clear()
            now = self._clock()
            await self._release_deferred(now)
            if self._queued is not None:
                command, self._queued = self._queued, None
                desired = self.state.apply(command, StateSource.ASSUMED)
                if desired.settings() != self.state.settings() or self._last_sent is None:
                    await self._send(desired, previous=self._last_sent, reason="command")
            if self._resync or self._due(self._keepalive_at, now):
                # The full state with no toggles: what the unit should be, said again.
                self._resync = False
                await self._send(self.state, previous=self.state, reason="resync")
            self._refresh = False
            if self._due(self._judge_at, now):
                await self._judge_feedback()
            if self._due(self._sensor_at, now):
                await self._read_blaster_sensor()
            await self._sleep_until(self._clock() + IDLE_WAKE)

    def _extra_deadlines(self) -> list[float]:
        return [t for t in (self._judge_at, self._keepalive_at, self._sensor_at) if t is not None]

    def _due(self, moment: float | None, now: float) -> bool:
        return moment is not None and now >= moment

    async def _send(self, desired: UnitState, *, previous: UnitState | None, reason: str) -> bool:
        try:
            packets = self._encoder.packets(desired, previous)
            for packet in packets:
                self._listener.frame(self, "tx", packet)
            await self._blasters.send_all(self.blaster, packets)
        except (CommandError, DriverError) as exc:
            log.warning("unit %s: %s not sent: %s", self.id, reason, exc)
            command = jsonable(self.state.diff(desired).fields()) or {"resend": reason}
            self._listener.event("command_failed", self, {"command": command, "error": str(exc)})
            return False
        now = self._clock()
        before = self.state
        self._last_sent = desired
        self._guard.record_power(before.power, desired.power, now)
        self._set_state(desired.replace(state_source=StateSource.ASSUMED))
        self._schedule_keepalive()
        if self.config.feedback is not None and (
            reason != "command" or before.power != desired.power
        ):
            self._judge_at = now + self.config.feedback.settle_s
            self._resent = reason == "feedback"
        log.debug("unit %s: sent %d packet(s) (%s)", self.id, len(packets), reason)
        return True

    async def _judge_feedback(self) -> None:
        self._judge_at = None
        observed = self._observed_power
        wanted = self.state.power
        if observed is None:
            return  # no reading yet: nothing to judge
        if observed == wanted:
            self._set_state(self.state.replace(state_source=StateSource.REPORTED))
            return
        if not self._resent:
            log.info("unit %s: feedback says power=%s; sending the state again", self.id, observed)
            self._listener.event("command_retry", self, {"field": "power", "wanted": wanted})
            await self._send(
                self.state, previous=self.state.replace(power=observed), reason="feedback"
            )
            return
        self._listener.event(
            "state_mismatch", self, {"field": "power", "wanted": wanted, "reported": observed}
        )

    def _schedule_keepalive(self) -> None:
        every = self.config.keepalive_resend
        self._keepalive_at = self._clock() + every if every else None

    async def _read_blaster_sensor(self) -> None:
        self._sensor_at = self._clock() + SENSOR_INTERVAL
        try:
            readings = await self._blasters.check_sensors(self.blaster)
        except DriverError as exc:
            log.debug("unit %s: blaster sensor not read: %s", self.id, exc)
            return
        temperature = (readings or {}).get("temperature")
        if temperature is not None:
            self._set_state(self.state.replace(current_temperature=round(temperature, 1)))
