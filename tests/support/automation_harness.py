"""Automation on simulated time: the real unit gate, the simulator's heat pump and room.

:class:`SimActor` is a :class:`klima.unit.Unit` (so every command passes the real safety gate:
restart delay, minimum run/off times, rate limit) whose "link" is a :class:`SimulatedUnit` on a
manual clock: each :meth:`SimActor.turn` does what the serial actor does on a poll (release a
due deferral, apply the queued command, read the unit back). :class:`Rig` steps the clock, the
physics, the actors and the engine together, so a week takes a second.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from klima.config import KlimaConfig, validate_config
from klima.driver import FrameDirection, default_registry
from klima.schedule.engine import AutomationEngine
from klima.state import Action, Mode, StateSource, UnitState
from klima.unit import Unit
from klima_sim.clock import ManualClock
from klima_sim.room import OutdoorClimate, Room
from klima_sim.unit import SimulatedUnit

BERLIN = ZoneInfo("Europe/Berlin")


class Recorder:
    """Unit listener and engine ``emit`` in one: keeps every event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str | None, dict[str, Any]]] = []

    def state_changed(self, unit: Unit, state: UnitState) -> None:
        pass

    def state_refreshed(self, unit: Unit) -> None:
        pass

    def availability_changed(self, unit: Unit, online: bool) -> None:
        pass

    def event(self, kind: str, unit: Unit, data: dict[str, Any]) -> None:
        self.events.append((kind, unit.id, data))

    def frame(self, unit: Unit, direction: FrameDirection, raw: bytes) -> None:
        pass

    def emit(self, kind: str, unit_id: str | None, data: dict[str, Any]) -> None:
        self.events.append((kind, unit_id, data))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for k, _unit, data in self.events if k == kind]


class SimActor(Unit):
    """The real gate in front of a simulated heat pump."""

    sim: SimulatedUnit
    remote: float | None = None

    def set_remote_temperature(self, celsius: float | None) -> None:
        self.check_remote_temperature()
        self.remote = celsius
        self.sim.remote_temperature = celsius

    async def turn(self) -> None:
        now = self._clock()
        await self._release_deferred(now)
        self.sim.advance()
        if self._queued is not None:
            command, self._queued = self._queued, None
            before = self.state
            fields = command.normalized().fields()
            if "power" in fields:
                self.sim.power = fields["power"]
            if fields.get("mode") is not None:
                self.sim.mode = fields["mode"]
            if fields.get("target_temperature") is not None:
                self.sim.target_temperature = fields["target_temperature"]
            if fields.get("fan_mode") is not None:
                self.sim.fan_mode = fields["fan_mode"]
            self._guard.record_power(before.power, self.sim.power, now)
        self._set_state(self.read_back())

    def read_back(self) -> UnitState:
        sim = self.sim
        running = sim.power and sim.operating
        action = Action.OFF
        if sim.power:
            action = (
                (Action.HEATING if sim.mode is Mode.HEAT else Action.COOLING)
                if running
                else (Action.IDLE)
            )
        return UnitState(
            power=sim.power,
            mode=sim.mode,
            target_temperature=sim.target_temperature,
            current_temperature=round(sim.room.temperature, 1),
            outdoor_temperature=sim.outdoor_temperature,
            action=action,
            fan_mode=sim.fan_mode,
            state_source=StateSource.REPORTED,
            # Not the unit's but the gate's: a poll keeps it, as the serial actor's does.
            lockout_until=self.state.lockout_until,
        )


@dataclass
class Rig:
    config: KlimaConfig
    start: datetime  # aware; the wall time at clock 0
    clock: ManualClock = field(default_factory=ManualClock)
    recorder: Recorder = field(default_factory=Recorder)
    actors: dict[str, SimActor] = field(default_factory=dict)
    engine: AutomationEngine | None = None

    @property
    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.clock.now())

    def step(self, seconds: float) -> None:
        """Advance time by ``seconds`` and let the actors and the engine take their turns."""
        self.clock.advance(seconds)
        self.settle()

    def settle(self) -> None:
        assert self.engine is not None
        for actor in self.actors.values():
            asyncio.run(actor.turn())
        self.engine.tick(self.now)
        for actor in self.actors.values():  # apply what the engine just asked for
            asyncio.run(actor.turn())

    def run_until(self, moment: datetime, step: float = 300.0) -> None:
        while self.now < moment:
            self.step(min(step, (moment - self.now).total_seconds()))

    def unit(self, unit_id: str) -> SimActor:
        return self.actors[unit_id]


def make_rig(
    raw: dict[str, Any],
    start: datetime,
    *,
    outdoor: float = 3.0,
    room: float = 19.0,
    store: Any = None,
) -> Rig:
    """A rig for the config ``raw`` (CN105 units on simulated heat pumps)."""
    raw = {"automation": {"wait_for_clock": False}, **raw}
    for unit in raw.get("units", []):
        unit.setdefault("driver", "mitsubishi_cn105")
        unit.setdefault("port", "/dev/null")
        unit.setdefault("restart_delay", 0)
    config = validate_config(raw, registry=default_registry())
    rig = Rig(config, start.astimezone(UTC))
    info = default_registry().get("mitsubishi_cn105")
    for unit_config in config.units:
        actor = SimActor(
            unit_config,
            info,
            rig.recorder,
            initial_state=UnitState(power=False, mode=Mode.HEAT, target_temperature=20.0),
            clock=rig.clock.now,
        )
        actor.sim = SimulatedUnit(
            clock=rig.clock,
            room=Room(outdoor=OutdoorClimate.constant(outdoor), temperature=room),
            power=False,
            mode=Mode.HEAT,
        )
        actor.available = True
        actor._set_state(actor.read_back())
        rig.actors[unit_config.id] = actor
    rig.engine = AutomationEngine(
        config, rig.actors, zone=BERLIN, store=store, emit=rig.recorder.emit
    )
    rig.engine.load()
    return rig
