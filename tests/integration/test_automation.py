"""Climate automation end to end on simulated time: the engine, the real unit gate, the
simulator's heat pump and room. A week runs in about a second."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.automation_harness import BERLIN, make_rig

from klima.errors import CommandError
from klima.persistence import Store
from klima.schedule.holds import Timer
from klima.schedule.model import Program, Settings
from klima.state import Mode, UnitCommand

if TYPE_CHECKING:
    from pathlib import Path

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _program(**extra: Any) -> dict[str, Any]:
    return {
        "site": {"timezone": "Europe/Berlin", "latitude": 52.52, "longitude": 13.40,
                 "country": "DE", "subdivision": "BE"},
        "units": [{"id": "living_room"}],
        "schedules": [
            {"id": "weekdays", "units": ["living_room"], "days": WEEKDAYS,
             "blocks": [{"at": "06:30", "mode": "heat", "target_temperature": 21.0},
                        {"at": "22:00", "preset": "eco"}]},
            {"id": "weekend", "units": ["living_room"], "days": ["sat", "sun"],
             "blocks": [{"at": "08:00", "preset": "comfort"},
                        {"at": "02:30", "target_temperature": 17.0},
                        {"at": "23:00", "preset": "sleep"}]},
        ],
        **extra,
    }  # fmt: skip


def test_a_week_with_the_autumn_clock_change_runs_every_block_once() -> None:
    # Monday 2026-10-19 to Monday 2026-10-26; Sunday the 25th has 25 hours (02:00-03:00 twice).
    rig = make_rig(_program(), datetime(2026, 10, 19, 0, 0, tzinfo=BERLIN))
    living = rig.unit("living_room")
    rig.settle()
    targets: list[tuple[datetime, float | None]] = []
    end = datetime(2026, 10, 26, 0, 0, tzinfo=BERLIN)
    while rig.now < end:
        rig.step(60)
        targets.append((rig.now.astimezone(BERLIN), living.state.target_temperature))
    applied = [
        datetime.fromisoformat(e["since"]).astimezone(BERLIN)
        for e in rig.recorder.of("schedule_applied")
    ]
    # At start-up Monday 00:00 the block in force was Sunday's 23:00 sleep; then 5 weekdays x
    # 2 blocks and 2 weekend days x 3 blocks, each exactly once, in order.
    assert len(applied) == 1 + 10 + 6
    assert applied == sorted(applied)
    sunday_0230 = [t for t in applied if t.date() == date(2026, 10, 25) and t.hour == 2]
    assert len(sunday_0230) == 1 and sunday_0230[0].utcoffset() == timedelta(hours=2)  # first
    # The unit followed: 21 °C during weekday days, eco 18 at night, comfort 21 at weekends.
    by_time = dict(targets)
    assert by_time[datetime(2026, 10, 21, 12, 0, tzinfo=BERLIN)] == 21.0
    assert by_time[datetime(2026, 10, 21, 23, 0, tzinfo=BERLIN)] == 18.0
    assert by_time[datetime(2026, 10, 24, 9, 0, tzinfo=BERLIN)] == 21.0
    assert by_time[datetime(2026, 10, 24, 23, 30, tzinfo=BERLIN)] == 19.0  # sleep preset
    assert living.state.power
    # And the heat pump really held the room: Sunday 23:00 sleep (19 °C) an hour later.
    assert living.sim.room.temperature == pytest.approx(19.0, abs=1.0)


def test_a_restart_mid_block_applies_the_block_in_force_once() -> None:
    rig = make_rig(_program(), datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))  # a Wednesday
    rig.settle()
    living = rig.unit("living_room")
    assert (living.state.power, living.state.target_temperature) == (True, 21.0)
    (applied,) = rig.recorder.of("schedule_applied")
    assert (applied["schedule"], applied["block"]) == ("weekdays", "06:30")
    rig.step(300)  # nothing new happens later in the same block
    assert len(rig.recorder.of("schedule_applied")) == 1
    status = rig.engine.status("living_room", rig.now)  # type: ignore[union-attr]
    assert status["next_change"] == "2026-11-25T22:00:00+01:00"
    assert status["next"] == {"preset": "eco"}


def test_a_manual_change_holds_until_the_next_block_and_resume_returns_to_the_program() -> None:
    rig = make_rig(_program(), datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    living = rig.unit("living_room")
    engine = rig.engine
    assert engine is not None
    command = UnitCommand(target_temperature=23.0)
    living.submit(command, origin="mqtt")
    engine.manual_change("living_room", command, rig.now)
    rig.step(60)
    assert living.state.target_temperature == 23.0
    (started,) = rig.recorder.of("hold_started")
    assert started["kind"] == "next_block"
    assert datetime.fromisoformat(started["until"]) == datetime(2026, 11, 25, 22, 0, tzinfo=BERLIN)
    rig.run_until(datetime(2026, 11, 25, 21, 55, tzinfo=BERLIN))
    assert living.state.target_temperature == 23.0  # the program does not fight the user
    rig.run_until(datetime(2026, 11, 25, 22, 5, tzinfo=BERLIN))
    assert living.state.target_temperature == 18.0
    assert rig.recorder.of("hold_ended") == [{"reason": "expired"}]
    # A permanent hold on a preset ends only when resumed.
    engine.hold("living_room", Settings(preset="boost"), "permanent", rig.now)
    rig.step(60)
    assert living.state.target_temperature == 24.0
    rig.run_until(datetime(2026, 11, 26, 7, 0, tzinfo=BERLIN))
    assert living.state.target_temperature == 24.0
    assert engine.resume("living_room", rig.now)
    rig.step(60)
    assert living.state.target_temperature == 21.0


def test_sunset_blocks_and_public_holidays() -> None:
    raw = _program()
    raw["schedules"].append(
        {"id": "holidays", "units": ["living_room"], "days": [], "holidays": True,
         "blocks": [{"at": "09:00", "target_temperature": 22.0},
                    {"at": "sunset-00:30", "target_temperature": 20.0}]}
    )  # fmt: skip
    # Christmas Day 2026 is a Friday and a public holiday in Berlin.
    rig = make_rig(raw, datetime(2026, 12, 25, 7, 0, tzinfo=BERLIN))
    rig.settle()
    living = rig.unit("living_room")
    assert living.state.target_temperature == 18.0  # 24 Dec 22:00 eco (no 06:30 block today)
    rig.run_until(datetime(2026, 12, 25, 9, 5, tzinfo=BERLIN))
    assert living.state.target_temperature == 22.0
    engine = rig.engine
    assert engine is not None
    # (The calendar's sun times are checked against published tables in test_schedule_calendar.)
    sunset = engine.calendar.sun(date(2026, 12, 25))[1]
    assert sunset is not None
    assert (
        datetime(2026, 12, 25, 15, 30, tzinfo=BERLIN)
        < sunset
        < datetime(2026, 12, 25, 16, 30, tzinfo=BERLIN)
    )
    rig.run_until(sunset - timedelta(minutes=31))
    assert living.state.target_temperature == 22.0
    rig.run_until(sunset - timedelta(minutes=25))
    assert living.state.target_temperature == 20.0


def test_a_window_pauses_heating_after_its_delay_and_restores_it() -> None:
    raw = _program(windows=[{"id": "living", "units": ["living_room"],
                             "topic": "z2m/window", "json_path": "contact", "invert": True,
                             "delay": 120}])  # fmt: skip
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    route = engine.routes(clock=lambda: rig.now)["z2m/window"][0]
    rig.step(900)  # the unit has run long enough for its minimum run time
    route(b'{"contact": false}')  # Zigbee2MQTT: contact false = open
    rig.step(60)
    assert living.state.power  # not yet: a door opened for a moment does not stop anything
    rig.step(90)
    assert not living.state.power
    assert len(rig.recorder.of("window_open")) == 1
    assert engine.status("living_room", rig.now)["window_open"]
    route(b'{"contact": true}')
    rig.step(600)  # closed; the restart waits for the minimum off time (5 min)
    assert living.state.power and living.state.target_temperature == 21.0
    assert len(rig.recorder.of("window_closed")) == 1


def test_a_quickly_reopened_window_cannot_short_cycle_the_compressor() -> None:
    raw = _program(windows=[{"id": "living", "units": ["living_room"], "topic": "w",
                             "delay": 0}])  # fmt: skip
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    route = engine.routes(clock=lambda: rig.now)["w"][0]
    rig.step(900)
    route(b"ON")
    rig.step(30)
    assert not living.state.power
    route(b"OFF")
    rig.step(30)  # closed again 30 s later: the start waits for the minimum off time
    assert not living.state.power
    refused = rig.recorder.of("safety_refused")
    assert refused and refused[-1]["reason"] == "min_off"
    rig.step(300)
    assert living.state.power


def test_a_stale_room_sensor_falls_back_to_the_units_own(caplog: pytest.LogCaptureFixture) -> None:
    raw = _program()
    raw["units"][0]["thermostat"] = {
        "strategy": "remote_sensor",
        "sensor": {"topic": "z2m/living", "json_path": "temperature", "timeout": 600},
    }
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    route = engine.routes(clock=lambda: rig.now)["z2m/living"][0]
    route(b'{"temperature": 19.5}')
    rig.settle()
    assert living.remote == 19.5  # CN105 takes the room temperature natively
    route(b"garbage")
    route(b'{"temperature": "warm"}')  # a flood of garbage logs one warning, not one each
    assert caplog.text.count("not a temperature") == 1
    rig.step(300)
    assert living.remote == 19.5
    rig.step(400)  # 700 s without a reading
    (stale,) = rig.recorder.of("sensor_stale")
    assert stale == {"topic": "z2m/living", "fallback": "unit_sensor"}
    assert living.remote is None  # the unit regulates on its own sensor again
    assert engine.status("living_room", rig.now)["room_sensor"]["stale"]
    route(b'{"temperature": 20.0}')
    rig.step(60)
    assert living.remote == 20.0


def test_frost_protection_heats_an_empty_cold_house_whatever_the_program() -> None:
    raw = {"units": [{"id": "cellar", "frost": {"floor": 7.0, "after": 900}}]}
    rig = make_rig(raw, datetime(2026, 1, 10, 3, 0, tzinfo=BERLIN), outdoor=-12.0, room=7.5)
    cellar = rig.unit("cellar")
    rig.settle()
    assert not cellar.state.power
    rig.run_until(rig.now + timedelta(hours=6), step=60)
    (event,) = rig.recorder.of("frost_protection")
    assert event["floor"] == 7.0
    assert cellar.state.power and cellar.state.mode.value == "heat"
    # The frost preset's 8 °C is below this unit's heat range: raised to its lowest setpoint.
    lowest_heat = cellar.traits.limits_for(Mode.HEAT)[0]
    assert lowest_heat > 8.0
    assert cellar.state.target_temperature == lowest_heat


def test_presence_switches_to_the_away_preset() -> None:
    raw = _program(presence=[{"id": "family", "topic": "home/occupied", "away_after": 600}])
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    route = engine.routes(clock=lambda: rig.now)["home/occupied"][0]
    route(b"not_home")
    rig.step(300)
    assert living.state.target_temperature == 21.0  # debounce: not away yet
    rig.step(400)
    assert living.state.target_temperature == 16.0
    route(b"home")
    rig.step(60)
    assert living.state.target_temperature == 21.0


def test_timers_and_holds_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'klima.db'}"
    start = datetime(2026, 11, 25, 20, 0, tzinfo=BERLIN)
    with Store.open(url) as store:
        rig = make_rig(_program(), start, store=store)
        rig.settle()
        engine = rig.engine
        assert engine is not None
        engine.add_timer(Timer("sleep", "living_room", rig.now + timedelta(minutes=90),
                               Settings(power=False)))  # fmt: skip
        engine.hold("living_room", Settings(target_temperature=22.5), "2h", rig.now)
        rig.step(60)
        assert rig.unit("living_room").state.target_temperature == 22.5
    # The hub restarts; the hold and the timer come back from the database.
    with Store.open(url) as store:
        rig = make_rig(_program(), start + timedelta(minutes=5), store=store)
        rig.settle()
        living = rig.unit("living_room")
        assert living.state.target_temperature == 22.5
        rig.run_until(start + timedelta(minutes=95), step=60)
        assert not living.state.power  # "off in 90 minutes"
        assert rig.recorder.of("timer_fired")[0]["id"] == "sleep"
        rig.run_until(datetime(2026, 11, 26, 6, 35, tzinfo=BERLIN), step=300)
        assert living.state.power and living.state.target_temperature == 21.0


def test_a_change_at_the_units_own_remote_is_held_not_undone() -> None:
    rig = make_rig(_program(), datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    living, engine = rig.unit("living_room"), rig.engine
    assert engine is not None
    living.sim.press_remote(target_temperature=19.0)  # behind Klima's back
    engine.external_change("living_room", {"target_temperature": 19.0}, rig.now)
    rig.run_until(datetime(2026, 11, 25, 21, 0, tzinfo=BERLIN))
    assert living.state.target_temperature == 19.0
    assert rig.recorder.of("hold_started")[0]["origin"] == "unit"
    rig.run_until(datetime(2026, 11, 25, 22, 5, tzinfo=BERLIN))
    assert living.state.target_temperature == 18.0  # the next block takes over again


def test_an_untrusted_clock_holds_programs_back_but_not_frost_protection() -> None:
    raw = _program()
    raw["units"][0]["frost"] = {"floor": 7.0, "after": 600}
    rig = make_rig(raw, datetime(2026, 1, 14, 12, 0, tzinfo=BERLIN), outdoor=-10.0, room=7.2)
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    engine.clock_trusted = False  # e.g. a Pi booted without network
    rig.settle()
    assert not living.state.power  # the 06:30 block waits for a trustworthy clock
    assert rig.recorder.of("schedule_applied") == []
    rig.run_until(rig.now + timedelta(hours=3), step=60)
    assert rig.recorder.of("frost_protection")  # frost protection does not wait
    assert living.state.power
    engine.clock_trusted = True
    rig.step(60)
    assert living.state.target_temperature == 21.0
    assert len(rig.recorder.of("schedule_applied")) == 1


def test_a_run_time_program_may_name_a_group() -> None:
    raw = _program(groups=[{"id": "downstairs", "units": ["living_room"]}])
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine = rig.engine
    assert engine is not None
    program = Program.from_json(
        {"id": "cosy", "units": ["downstairs"], "blocks": [{"at": "00:00", "preset": "boost"}]}
    )
    engine.set_program(program, rig.now)
    assert engine.programs["cosy"].units == ("living_room",)


def test_a_setpoint_only_preset_does_not_start_a_unit_someone_switched_off() -> None:
    raw = _program(presence=[{"id": "family", "topic": "home/occupied", "away_after": 0}])
    # 22:30: the eco block (a setpoint, no mode) is in force and the unit is off.
    rig = make_rig(raw, datetime(2026, 11, 25, 22, 30, tzinfo=BERLIN))
    rig.settle()
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    assert not living.state.power and living.state.target_temperature == 18.0
    engine.routes(clock=lambda: rig.now)["home/occupied"][0](b"OFF")
    rig.step(60)
    # Away (16 °C, no mode) changes the setpoint it would run at, but does not start it.
    assert not living.state.power
    assert living.state.target_temperature == 16.0
    # The 06:30 block names a mode: that does start it.
    engine.routes(clock=lambda: rig.now)["home/occupied"][0](b"ON")
    rig.run_until(datetime(2026, 11, 26, 6, 35, tzinfo=BERLIN))
    assert living.state.power and living.state.target_temperature == 21.0


def test_a_window_restores_only_a_unit_that_was_running() -> None:
    raw = _program(windows=[{"id": "w", "units": ["living_room"], "topic": "w", "delay": 0}])
    rig = make_rig(raw, datetime(2026, 11, 25, 22, 30, tzinfo=BERLIN))  # eco: setpoint only
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    rig.settle()
    assert not living.state.power and living.state.target_temperature == 18.0
    route = engine.routes(clock=lambda: rig.now)["w"][0]
    route(b"ON")
    rig.step(60)
    route(b"OFF")
    rig.step(600)
    assert not living.state.power  # it was off before the window opened
    living.submit(UnitCommand(power=True), origin="mqtt")
    rig.step(1)  # the actor's next turn starts it
    rig.step(900)  # and it runs past its minimum run time
    assert living.state.power
    route(b"ON")
    rig.step(60)
    assert not living.state.power
    route(b"OFF")
    rig.step(600)
    assert living.state.power  # it was running: back on after the minimum off time


def test_with_one_presence_rule_per_person_away_needs_everyone_gone() -> None:
    raw = _program(presence=[
        {"id": "anna", "topic": "anna", "away_after": 0},
        {"id": "ben", "topic": "ben", "away_after": 0},
    ])  # fmt: skip
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    routes = engine.routes(clock=lambda: rig.now)
    routes["anna"][0](b"not_home")
    routes["ben"][0](b"home")
    rig.step(60)
    assert living.state.target_temperature == 21.0
    routes["ben"][0](b"not_home")
    rig.step(60)
    assert living.state.target_temperature == 16.0


def test_a_steady_room_sensor_keeps_feeding_the_unit() -> None:
    raw = _program()
    raw["units"][0]["thermostat"] = {
        "strategy": "remote_sensor", "fallback": "off",
        "sensor": {"topic": "z2m/living", "json_path": "temperature", "timeout": 600},
    }  # fmt: skip
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    rig.settle()
    # No reading yet at start-up: the sensor gets its timeout before the fallback (off) acts.
    assert living.state.power
    fed: list[float | None] = []
    original = living.set_remote_temperature

    def record(celsius: float | None) -> None:
        fed.append(celsius)
        original(celsius)

    living.set_remote_temperature = record  # type: ignore[method-assign]
    route = engine.routes(clock=lambda: rig.now)["z2m/living"][0]
    for _ in range(10):  # the same value every minute for ten minutes
        route(b'{"temperature": 20.5}')
        rig.step(60)
    # Fed again at least every minute, so the unit's own timeout never expires.
    assert len(fed) >= 9 and set(fed) == {20.5}


def test_a_manual_change_on_a_unit_nobody_automates_needs_no_hold() -> None:
    raw = _program(units=[{"id": "living_room"}, {"id": "attic"}])
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine = rig.engine
    assert engine is not None
    command = UnitCommand(power=True, target_temperature=22.0)
    rig.unit("attic").submit(command, origin="mqtt")
    engine.manual_change("attic", command, rig.now)
    assert rig.recorder.of("hold_started") == []  # no program: nothing to hold against
    # A schedule added later for the attic applies at once, not blocked by a forgotten hold.
    engine.set_program(
        Program.from_json({"id": "attic", "units": ["attic"],
                           "blocks": [{"at": "00:00", "target_temperature": 17.0}]}),
        rig.now,
    )  # fmt: skip
    rig.step(60)
    assert rig.unit("attic").state.target_temperature == 17.0


def test_a_window_reopened_while_a_start_waits_cancels_that_start() -> None:
    # Found in review: the waiting start ran with the window open again.
    raw = _program(windows=[{"id": "w", "units": ["living_room"], "topic": "w", "delay": 0}])
    rig = make_rig(raw, datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    route = engine.routes(clock=lambda: rig.now)["w"][0]
    rig.step(900)
    route(b"ON")
    rig.step(30)
    route(b"OFF")  # closed: the start waits for the minimum off time
    rig.step(30)
    assert living.state.lockout_until is not None
    route(b"ON")  # open again while it waits
    rig.run_until(rig.now + timedelta(minutes=10), step=30)
    assert not living.state.power


def test_two_timers_due_together_fire_once_each_and_unknown_presets_are_refused() -> None:
    rig = make_rig(_program(), datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine = rig.engine
    assert engine is not None
    at = rig.now + timedelta(minutes=5)
    engine.add_timer(Timer("a", "living_room", at, Settings(target_temperature=22.0)))
    engine.add_timer(Timer("b", "living_room", at + timedelta(seconds=1),
                           Settings(target_temperature=23.0)))  # fmt: skip
    rig.step(600)
    assert [e["id"] for e in rig.recorder.of("timer_fired")] == ["a", "b"]
    assert rig.unit("living_room").state.target_temperature == 23.0
    with pytest.raises(CommandError, match="unknown preset"):
        engine.add_timer(Timer("c", "living_room", at, Settings(preset="bogus")))


def test_a_preset_with_its_own_setpoint_is_one_hold() -> None:
    # Found in review: {"preset": "eco", "target_temperature": 23} ended at eco's 18.
    rig = make_rig(_program(), datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    engine, living = rig.engine, rig.unit("living_room")
    assert engine is not None
    command = UnitCommand(target_temperature=23.0)
    living.submit(command, origin="mqtt")
    engine.set_preset("living_room", "eco", rig.now, command=command)
    rig.step(60)
    assert living.state.target_temperature == 23.0
    assert engine.status("living_room", rig.now)["preset"] == "eco"
    assert len(rig.recorder.of("hold_started")) == 1


def test_a_saved_hold_of_a_preset_removed_since_is_dropped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'klima.db'}"
    start = datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN)
    raw = _program(presets={"cosy": {"target_temperature": 23.0}})
    with Store.open(url) as store:
        rig = make_rig(raw, start, store=store)
        rig.settle()
        assert rig.engine is not None
        rig.engine.hold("living_room", Settings(preset="cosy"), "permanent", rig.now)
        rig.step(60)
        assert rig.unit("living_room").state.target_temperature == 23.0
    with Store.open(url) as store:  # restarted with "cosy" gone from the config
        rig = make_rig(_program(), start + timedelta(minutes=5), store=store)
        rig.settle()
        assert rig.engine is not None
        assert rig.engine.status("living_room", rig.now)["hold"] is None
        assert rig.unit("living_room").state.target_temperature == 21.0  # the program again
        assert store.flush(5)
        assert store.load_settings("hold:") == {}
