"""The safety gate's cycle guard (min run/off, starts per hour), rate limit and preset limits.

The units here are the real :class:`Unit` gate with a stand-in link: each ``turn`` does what
the serial and IR actors do on theirs (release a due deferral, apply the queued command, record
the power transition, publish), on a manual clock, so minutes pass without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from klima.config import UnitConfig
from klima.control.safety import CycleGuard, RateLimiter
from klima.driver import FrameDirection, default_registry
from klima.errors import CommandError
from klima.state import Mode, StateSource, UnitCommand, UnitState
from klima.unit import Unit
from klima_sim.clock import ManualClock

ON = UnitCommand(power=True)
OFF = UnitCommand(power=False)
RUNNING = UnitState(power=True, mode=Mode.HEAT, target_temperature=21.0)
STOPPED = RUNNING.replace(power=False)


class Recorder:
    """A unit listener that keeps what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def state_changed(self, unit: Unit, state: UnitState) -> None:
        pass

    def state_refreshed(self, unit: Unit) -> None:
        pass

    def availability_changed(self, unit: Unit, online: bool) -> None:
        pass

    def event(self, kind: str, unit: Unit, data: dict[str, Any]) -> None:
        self.events.append((kind, data))

    def frame(self, unit: Unit, direction: FrameDirection, raw: bytes) -> None:
        pass

    def safety(self) -> list[dict[str, Any]]:
        return [data for kind, data in self.events if kind == "safety_refused"]


class BenchUnit(Unit):
    async def turn(self) -> None:
        now = self._clock()
        await self._release_deferred(now)
        if self._queued is not None:
            command, self._queued = self._queued, None
            wanted = self.state.apply(command, StateSource.ASSUMED)
            self._guard.record_power(self.state.power, wanted.power, now)
            self._set_state(wanted)

    def observe_power(self, power: bool) -> None:
        """The unit switched by itself (its own remote), as a poll would show it."""
        self._guard.record_power(self.state.power, power, self._clock())
        self._set_state(self.state.replace(power=power))


def make_unit(clock: ManualClock, **settings: Any) -> tuple[BenchUnit, Recorder]:
    config = UnitConfig(id="living_room", driver="mitsubishi_cn105", port="/dev/null", **settings)
    listener = Recorder()
    unit = BenchUnit(
        config,
        default_registry().get("mitsubishi_cn105"),
        listener,
        initial_state=STOPPED,
        clock=clock.now,
    )
    unit.available = True
    return unit, listener


async def at(clock: ManualClock, t: float, unit: BenchUnit) -> UnitState:
    """Move the clock to ``t`` and let the actor take a turn."""
    clock.advance(t - clock.now())
    await unit.turn()
    return unit.state


def seconds_ahead(iso: str | datetime | None) -> float:
    """How far in the future a published wall time lies (the unit maps monotonic to UTC)."""
    assert iso is not None
    moment = iso if isinstance(iso, datetime) else datetime.fromisoformat(iso)
    return (moment - datetime.now(UTC)).total_seconds()


async def test_stop_by_schedule_after_two_minutes_is_deferred_to_ten() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock)  # min_run_time 600 by default
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(120)
    outcome = unit.submit(OFF, origin="schedule", transaction="t1")
    assert outcome.status == "deferred"
    # 600 s minimum run - 120 s already run = 480 s to go.
    assert seconds_ahead(outcome.lockout_until) == pytest.approx(480, abs=2)
    assert seconds_ahead(unit.state.lockout_until) == pytest.approx(480, abs=2)
    [event] = listener.safety()
    assert event["reason"] == "min_run" and event["action"] == "deferred"
    assert event["command"] == {"power": False}
    assert event["origin"] == "schedule" and event["transaction"] == "t1"
    assert seconds_ahead(event["lockout_until"]) == pytest.approx(480, abs=2)
    assert (await at(clock, 599, unit)).power
    state = await at(clock, 600, unit)
    assert not state.power and state.lockout_until is None


async def test_start_by_schedule_one_minute_after_a_stop_is_deferred_to_five() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, restart_delay=180)  # min_off_time 300 by default
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(600)
    unit.submit(OFF, origin="schedule")
    await at(clock, 600, unit)  # off at t = 600
    clock.advance(60)
    outcome = unit.submit(UnitCommand(mode=Mode.HEAT, target_temperature=22.0), "schedule")
    # The restart delay (600 + 180 = 780) ends before the minimum off time (600 + 300 = 900).
    assert outcome.status == "deferred"
    assert seconds_ahead(outcome.lockout_until) == pytest.approx(900 - 660, abs=2)
    assert listener.safety()[-1]["reason"] == "min_off"
    assert not (await at(clock, 780, unit)).power
    assert not (await at(clock, 899, unit)).power
    state = await at(clock, 900, unit)
    assert state.power and state.target_temperature == 22.0


async def test_fifth_automatic_start_in_an_hour_waits_for_the_first_to_age_out() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, restart_delay=0, min_run_time=0, min_off_time=0)
    for start in (0, 600, 1200, 1800):  # four starts, each stopped five minutes later
        unit.submit(ON, origin="thermostat")
        assert (await at(clock, start, unit)).power
        unit.submit(OFF, origin="thermostat")
        assert not (await at(clock, start + 300, unit)).power
    clock.advance(2400 - clock.now())
    outcome = unit.submit(ON, origin="thermostat")
    assert outcome.status == "deferred"
    # The window holds starts at 0, 600, 1200, 1800; the one at 0 leaves it at 0 + 3600.
    assert seconds_ahead(outcome.lockout_until) == pytest.approx(3600 - 2400, abs=2)
    assert listener.safety()[-1]["reason"] == "max_starts"
    assert not (await at(clock, 3599, unit)).power
    assert (await at(clock, 3600, unit)).power


async def test_manual_commands_are_not_held_to_min_run_or_min_off() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, restart_delay=30)
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(60)
    assert unit.submit(OFF, origin="mqtt").status == "queued"  # 60 s < min_run, by hand
    assert not (await at(clock, 60, unit)).power
    clock.advance(40)
    assert unit.submit(ON, origin="cli").status == "queued"  # 40 s < min_off, by hand
    assert (await at(clock, 100, unit)).power
    assert listener.safety() == []


async def test_manual_start_is_still_held_by_the_restart_delay() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, restart_delay=180)
    unit.submit(ON, origin="mqtt")
    await at(clock, 0, unit)
    unit.submit(OFF, origin="mqtt")
    await at(clock, 10, unit)  # off at t = 10
    clock.advance(50)
    outcome = unit.submit(ON, origin="mqtt")
    assert outcome.status == "deferred"
    assert listener.safety()[-1]["reason"] == "restart_delay"
    assert seconds_ahead(outcome.lockout_until) == pytest.approx(10 + 180 - 60, abs=2)
    assert not (await at(clock, 189, unit)).power
    assert (await at(clock, 190, unit)).power


async def test_frost_bypasses_the_cycle_guard_but_not_the_restart_delay() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, restart_delay=30, max_starts_per_hour=1)
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(10)
    assert unit.submit(OFF, origin="frost").status == "queued"  # min_run does not apply
    await at(clock, 10, unit)
    clock.advance(10)
    # 10 s after the stop: min_off (300) and max_starts (1, used) would hold a schedule.
    outcome = unit.submit(ON, origin="frost")
    assert outcome.status == "deferred"
    assert listener.safety()[-1]["reason"] == "restart_delay"
    assert seconds_ahead(outcome.lockout_until) == pytest.approx(10 + 30 - 20, abs=2)
    assert (await at(clock, 40, unit)).power


async def test_stop_waiting_for_min_run_lets_setpoints_through_and_a_start_cancels_it() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock)
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(120)
    assert unit.submit(OFF, origin="window").status == "deferred"
    # A running unit's setpoint must not wait behind the stop.
    assert unit.submit(UnitCommand(target_temperature=23.0), "thermostat").status == "queued"
    assert (await at(clock, 121, unit)).target_temperature == 23.0
    # The window closed again: "on" for a running unit replaces the waiting stop.
    assert unit.submit(ON, origin="window").status == "queued"
    state = await at(clock, 122, unit)
    assert state.power and state.lockout_until is None
    assert (await at(clock, 600, unit)).power  # nothing left to release
    assert [e["reason"] for e in listener.safety()] == ["min_run"]


async def test_person_turning_off_cancels_a_stop_waiting_for_min_run() -> None:
    clock = ManualClock()
    unit, _ = make_unit(clock)
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(60)
    unit.submit(OFF, origin="schedule")
    assert unit.submit(OFF, origin="mqtt").status == "queued"
    state = await at(clock, 61, unit)
    assert not state.power and state.lockout_until is None


async def test_newer_automatic_start_merges_into_the_waiting_one() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, restart_delay=0)
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(600)
    unit.submit(OFF, origin="schedule")
    await at(clock, 600, unit)
    clock.advance(30)
    unit.submit(UnitCommand(power=True, target_temperature=20.0), "schedule")
    unit.submit(UnitCommand(target_temperature=21.5, fan_mode="low"), "thermostat")
    unit.submit(UnitCommand(power=True, target_temperature=22.0), "presence")
    reasons = [(e["reason"], e["origin"]) for e in listener.safety()]
    # The setpoint change waits with the start and is reported under the start's reason.
    assert reasons == [("min_off", "schedule"), ("min_off", "thermostat"), ("min_off", "presence")]
    assert not (await at(clock, 899, unit)).power
    state = await at(clock, 900, unit)  # off at 600 + min_off 300
    assert state.power and state.target_temperature == 22.0 and state.fan_mode == "low"


async def test_person_starting_goes_at_once_and_takes_the_waiting_start_along() -> None:
    clock = ManualClock()
    unit, _ = make_unit(clock, restart_delay=0)
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(600)
    unit.submit(OFF, origin="schedule")
    await at(clock, 600, unit)
    clock.advance(30)
    assert unit.submit(UnitCommand(power=True, fan_mode="low"), "schedule").status == "deferred"
    assert unit.submit(UnitCommand(power=True, target_temperature=23.0), "mqtt").status == (
        "queued"
    )
    state = await at(clock, 631, unit)
    assert state.power and state.fan_mode == "low" and state.target_temperature == 23.0
    assert state.lockout_until is None


async def test_deferred_start_is_asked_again_when_the_unit_switched_meanwhile() -> None:
    clock = ManualClock()
    unit, _ = make_unit(clock, restart_delay=180)
    unit.submit(ON, origin="schedule")
    await at(clock, 0, unit)
    clock.advance(600)
    unit.submit(OFF, origin="schedule")
    await at(clock, 600, unit)
    clock.advance(60)
    assert unit.submit(ON, origin="thermostat").status == "deferred"  # until 600 + 300
    clock.advance(800 - clock.now())
    unit.observe_power(True)  # someone used the unit's own remote...
    clock.advance(50)
    unit.observe_power(False)  # ...and switched it off again at t = 850
    # At 900 the minimum off time counts from 850 again: the start now waits until 1150.
    state = await at(clock, 900, unit)
    assert not state.power
    assert seconds_ahead(state.lockout_until) == pytest.approx(1150 - 900, abs=2)
    assert not (await at(clock, 1149, unit)).power
    assert (await at(clock, 1150, unit)).power


async def test_rate_limit_refuses_a_person_with_an_error_and_an_event() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, max_commands_per_minute=3)
    for t in (0, 10, 20):
        clock.advance(t - clock.now())
        assert unit.submit(UnitCommand(target_temperature=20.0 + t / 10), "mqtt").status == (
            "queued"
        )
    clock.advance(10)  # t = 30: three accepted in the last 60 s
    with pytest.raises(CommandError, match="too many commands for unit 'living_room'") as info:
        unit.submit(UnitCommand(target_temperature=25.0), "mqtt", transaction="x")
    assert "next allowed at" in info.value.message
    [event] = listener.safety()
    assert event["reason"] == "rate_limit" and event["action"] == "refused"
    assert event["command"] == {"target_temperature": 25.0} and event["transaction"] == "x"
    # The oldest accepted command (t = 0) leaves the window at 0 + 60.
    assert seconds_ahead(event["lockout_until"]) == pytest.approx(60 - 30, abs=2)
    assert unit.state.lockout_until is None
    assert (await at(clock, 30, unit)).target_temperature == 22.0  # the refused one never went
    clock.advance(30)
    assert unit.submit(UnitCommand(target_temperature=24.0), "mqtt").status == "queued"
    # Refusals do not count: accepted at 10, 20, 60, so at 65 the next slot opens at 10 + 60.
    clock.advance(5)
    with pytest.raises(CommandError):
        unit.submit(UnitCommand(target_temperature=25.0), "mqtt")
    assert seconds_ahead(listener.safety()[-1]["lockout_until"]) == pytest.approx(70 - 65, abs=2)


async def test_rate_limit_refuses_automatic_origins_without_raising() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, max_commands_per_minute=2)
    unit.submit(UnitCommand(target_temperature=20.0), "thermostat")
    unit.submit(UnitCommand(target_temperature=20.5), "thermostat")
    outcome = unit.submit(UnitCommand(target_temperature=21.0), "thermostat")
    assert outcome.status == "refused"
    assert seconds_ahead(outcome.lockout_until) == pytest.approx(60, abs=2)
    assert outcome.to_json()["status"] == "refused"
    assert listener.safety()[-1]["origin"] == "thermostat"
    assert (await at(clock, 1, unit)).target_temperature == 20.5


async def test_rate_limit_never_refuses_a_person_turning_off() -> None:
    clock = ManualClock()
    unit, listener = make_unit(clock, max_commands_per_minute=1)
    unit.submit(ON, origin="mqtt")
    assert (await at(clock, 1, unit)).power
    assert unit.submit(OFF, origin="mqtt").status == "queued"
    assert not (await at(clock, 2, unit)).power
    assert listener.safety() == []


async def test_manual_setpoint_outside_the_preset_limits_is_refused() -> None:
    clock = ManualClock()
    unit, _ = make_unit(clock)
    with pytest.raises(CommandError) as info:
        unit.submit(UnitCommand(target_temperature=26.0), "mqtt", limits=(18.0, 24.0))
    assert info.value.field == "target_temperature"
    assert info.value.allowed == [18.0, 24.0]
    assert "outside 18..24" in info.value.message
    assert unit.submit(UnitCommand(target_temperature=24.0), "mqtt", limits=(18.0, 24.0)).status
    # Limits bind people; the engine's own setpoints (e.g. frost's floor) are not held by them.
    outcome = unit.submit(UnitCommand(target_temperature=16.0), "frost", limits=(18.0, 24.0))
    assert outcome.status == "queued"
    assert (await at(clock, 0, unit)).target_temperature == 16.0


def test_cycle_guard_holds_only_automatic_origins() -> None:
    guard = CycleGuard(min_run=600, min_off=300, max_starts_per_hour=4)
    guard.record_power(was_on=False, is_on=True, now=0.0)
    for origin in ("mqtt", "cli", "frost"):
        assert guard.decide(OFF, RUNNING, 60.0, origin) is None
    hold = guard.decide(OFF, RUNNING, 60.0, "timer")
    assert hold is not None and (hold.until, hold.reason) == (600.0, "min_run")
    # Setpoint and mode changes on a running unit are never held.
    assert guard.decide(UnitCommand(target_temperature=22.0), RUNNING, 60.0, "schedule") is None
    assert guard.decide(UnitCommand(mode=Mode.COOL), RUNNING, 60.0, "schedule") is None
    guard.record_power(was_on=True, is_on=False, now=700.0)
    # Choosing a mode on a stopped unit starts it, so it counts as a start.
    hold = guard.decide(UnitCommand(mode=Mode.COOL), STOPPED, 710.0, "presence")
    assert hold is not None and (hold.until, hold.reason) == (1000.0, "min_off")
    assert guard.decide(UnitCommand(mode=Mode.COOL), STOPPED, 1000.0, "presence") is None


def test_cycle_guard_reports_the_later_of_min_off_and_max_starts() -> None:
    guard = CycleGuard(min_run=0, min_off=300, max_starts_per_hour=2)
    for start, stop in ((0.0, 100.0), (1000.0, 1100.0)):
        guard.record_power(was_on=False, is_on=True, now=start)
        guard.record_power(was_on=True, is_on=False, now=stop)
    # At 1200: min_off ends at 1100 + 300 = 1400, the window frees at 0 + 3600 = 3600.
    hold = guard.decide(ON, STOPPED, 1200.0, "schedule")
    assert hold is not None and (hold.until, hold.reason) == (3600.0, "max_starts")
    assert guard.decide(ON, STOPPED, 3600.0, "schedule") is None
    unlimited = CycleGuard(min_run=0, min_off=0, max_starts_per_hour=0)
    for t in range(10):
        unlimited.record_power(was_on=False, is_on=True, now=float(t))
        unlimited.record_power(was_on=True, is_on=False, now=t + 0.5)
    assert unlimited.decide(ON, STOPPED, 10.0, "schedule") is None


def test_rate_limiter_counts_a_sliding_minute() -> None:
    limiter = RateLimiter(per_minute=2)
    for t in (0.0, 30.0):
        assert limiter.check(t) is None
        limiter.record(t)
    assert limiter.check(59.9) == 60.0
    assert limiter.check(60.0) is None
    assert RateLimiter(per_minute=0).check(0.0) is None
