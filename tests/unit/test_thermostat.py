"""The thermostat loop: passthrough, remote feed, setpoint offset PI, hysteresis, stale sensors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from klima.control.thermostat import (
    SensorFreshness,
    Strategy,
    ThermostatLoop,
    ThermostatOutput,
    ThermostatSettings,
)
from klima.state import Mode
from klima_sim.clock import ManualClock
from klima_sim.room import OutdoorClimate, Room
from klima_sim.unit import SimulatedUnit

NOTHING = ThermostatOutput()


def make_loop(
    strategy: Strategy = "passthrough",
    *,
    native_remote: bool = False,
    step: float = 0.5,
    min_temp: float = 16.0,
    max_temp: float = 31.0,
    **settings: float,
) -> ThermostatLoop:
    return ThermostatLoop(
        ThermostatSettings(strategy, **settings),
        native_remote=native_remote,
        step=step,
        min_temp=min_temp,
        max_temp=max_temp,
    )


# --- passthrough ------------------------------------------------------------------------


def test_passthrough_sends_the_target_only_when_it_changes() -> None:
    loop = make_loop()
    assert loop.update(0, 21.0, "heat", 19.0, 20.5, True) == ThermostatOutput(
        target_temperature=21.0
    )
    assert loop.update(60, 21.0, "heat", 18.0, 20.0, True) == NOTHING  # room moves: no write
    assert loop.update(120, 18.0, "heat", 18.0, 20.0, True) == ThermostatOutput(
        target_temperature=18.0
    )
    assert loop.update(180, 18.0, "heat", None, 20.0, False) == NOTHING
    assert loop.update(240, None, "heat", 18.0, 20.0, True) == NOTHING  # nothing to regulate


def test_reset_makes_the_next_update_write_again() -> None:
    loop = make_loop()
    loop.update(0, 21.0, "heat", None, None, True)
    loop.reset()
    assert loop.update(1, 21.0, "heat", None, None, True).target_temperature == 21.0


# --- remote_sensor, native --------------------------------------------------------------


def test_native_remote_feeds_every_reading_and_passes_the_target() -> None:
    loop = make_loop("remote_sensor", native_remote=True)
    first = loop.update(0, 21.0, "heat", 19.4, 21.0, True)
    assert first == ThermostatOutput(target_temperature=21.0, remote_temperature=19.4)
    # same room reading again: still fed (the unit's keep-alive handles repeats), target not
    assert loop.update(20, 21.0, "heat", 19.4, 21.0, True) == ThermostatOutput(
        remote_temperature=19.4
    )
    assert loop.update(40, 21.0, "heat", 19.6, 21.0, True) == ThermostatOutput(
        remote_temperature=19.6
    )


def test_native_remote_without_a_room_reading_is_passthrough() -> None:
    loop = make_loop("remote_sensor", native_remote=True)
    loop.update(0, 21.0, "heat", 19.4, 21.0, True)
    stale = loop.update(20, 21.0, "heat", None, 21.0, True)
    assert stale == NOTHING  # nothing fed (the feed expires to the unit's own sensor)
    assert loop.update(40, 22.0, "heat", None, 21.0, True) == ThermostatOutput(
        target_temperature=22.0
    )


# --- remote_sensor, setpoint offset -------------------------------------------------------


def test_offset_pi_arithmetic_quantised_to_the_step() -> None:
    loop = make_loop("remote_sensor")  # kp 0.3, ki 0.05/60 per s, step 0.5
    # t=0: error 1 K, P = 0.3, I = 0 -> 21.3 -> 21.5 on the 0.5 grid; first write goes at once
    assert loop.update(0, 21.0, "heat", 20.0, 21.5, True) == ThermostatOutput(
        target_temperature=21.5
    )
    # every 120 s I grows by 0.05/60 * 1 K * 120 s = 0.1 K: 21.4, 21.5, 21.6, 21.7 all -> 21.5
    for now in (120, 240, 360, 480):
        assert loop.update(now, 21.0, "heat", 20.0, 21.5, True) == NOTHING
    # t=600: 0.3 + 0.5 = 0.8 -> 21.8 -> 22.0, moved 0.5 K after 600 s >= 300 s: written
    assert loop.update(600, 21.0, "heat", 20.0, 22.0, True) == ThermostatOutput(
        target_temperature=22.0
    )
    assert loop.offset == 1.0


def test_offset_writes_at_most_every_interval() -> None:
    loop = make_loop("remote_sensor", kp=1.0, ki=0.0)
    assert loop.update(0, 21.0, "heat", 21.0, 21.0, True).target_temperature == 21.0
    # error 1.5 K -> 22.5, but only 100 s after the last write
    assert loop.update(100, 21.0, "heat", 19.5, 21.0, True) == NOTHING
    assert loop.update(299, 21.0, "heat", 19.5, 21.0, True) == NOTHING
    assert loop.update(300, 21.0, "heat", 19.5, 21.0, True).target_temperature == 22.5


def test_offset_ignores_moves_smaller_than_min_change() -> None:
    loop = make_loop("remote_sensor", step=0.1)
    assert loop.update(0, 21.0, "heat", 20.0, 21.0, True).target_temperature == pytest.approx(21.3)
    # t=400: 0.3 + 0.333 = 0.633 -> 21.6; moved 0.3 < 0.5 after 400 s: not written
    assert loop.update(400, 21.0, "heat", 20.0, 21.0, True) == NOTHING
    # t=720: 0.3 + 0.6 = 0.9 -> 21.9; moved 0.6 K: written
    out = loop.update(720, 21.0, "heat", 20.0, 21.0, True)
    assert out.target_temperature == pytest.approx(21.9)


def test_offset_is_bounded_by_max_offset_and_by_the_unit_range() -> None:
    loop = make_loop("remote_sensor", max_temp=31.0)
    # 11 K error: P alone is 3.3, clamped to max_offset 2 -> 23.0
    assert loop.update(0, 21.0, "heat", 10.0, 21.0, True).target_temperature == 23.0
    for now in range(60, 12 * 3600, 60):  # twelve hours of error: the I term must not run away
        loop.update(now, 21.0, "heat", 10.0, 23.0, True)
        assert abs(loop.offset) <= 2.0
    hot = make_loop("remote_sensor", max_temp=31.0)
    assert hot.update(0, 30.0, "heat", 20.0, 30.0, True).target_temperature == 31.0
    odd = make_loop("remote_sensor", max_offset=1.2)  # 21 + 1.2 = 22.2 -> the grid's 22.0
    assert odd.update(0, 21.0, "heat", 10.0, 21.0, True).target_temperature == 22.0


def test_offset_does_not_integrate_while_the_unit_is_off() -> None:
    loop = make_loop("remote_sensor")
    loop.update(0, 21.0, "heat", 20.0, 21.0, False)
    for now in range(60, 3601, 60):
        loop.update(now, 21.0, "heat", 20.0, 21.0, False)
    # an hour off with 1 K error: still only P (21.3 -> 21.5), no integral (would be +3 K)
    assert loop.offset == 0.5


def test_offset_sign_is_the_same_in_cool_mode() -> None:
    # The unit regulates its own reading to its setpoint either way: a room colder than the
    # target (a warm-reading unit sensor overcools) needs a higher setpoint in both modes.
    loop = make_loop("remote_sensor", kp=1.0, ki=0.0)
    assert loop.update(0, 24.0, "cool", 22.5, 24.0, True).target_temperature == 25.5
    loop = make_loop("remote_sensor", kp=1.0, ki=0.0)
    assert loop.update(0, 24.0, "cool", 25.0, 24.0, True).target_temperature == 23.0


def test_new_target_is_written_at_once_and_mode_change_resets_the_integral() -> None:
    loop = make_loop("remote_sensor")
    for now in range(0, 3601, 60):
        loop.update(now, 21.0, "heat", 20.0, 21.0, True)
    assert loop.offset == 2.0  # P 0.3 + I (clamped at 2) -> max_offset
    out = loop.update(3630, 18.0, "heat", 20.0, 21.0, True)  # 30 s after a write: still goes
    # error -2: P -0.6, I ~2 -> offset ~1.4 -> 19.4 -> 19.5
    assert out.target_temperature == 19.5
    out = loop.update(3660, 24.0, "cool", 24.0, 24.0, True)
    assert out.target_temperature == 24.0  # no error, integral forgotten with the mode


def test_offset_modes_without_a_setpoint_loop_are_passthrough() -> None:
    loop = make_loop("remote_sensor", kp=1.0)
    assert loop.update(0, 21.0, "fan_only", 15.0, 21.0, True).target_temperature == 21.0
    assert loop.update(60, 22.0, "dry", 15.0, 21.0, True).target_temperature == 22.0


# --- hysteresis -------------------------------------------------------------------------


def test_hysteresis_heat_band_and_hold() -> None:
    loop = make_loop("hysteresis")  # tolerances 0.3 / 0.3
    first = loop.update(0, 21.0, "heat", 20.6, 21.0, False)  # below 20.7: on
    # while on, the setpoint is pushed max_offset past the target
    assert first == ThermostatOutput(power=True, target_temperature=23.0)
    assert loop.update(60, 21.0, "heat", 20.6, 21.0, True) == NOTHING  # already on
    assert loop.update(120, 21.0, "heat", 21.3, 21.0, True) == NOTHING  # inside: hold on
    assert loop.update(180, 21.0, "heat", 21.31, 21.0, True) == ThermostatOutput(power=False)
    assert loop.update(240, 21.0, "heat", 20.7, 21.0, False) == NOTHING  # inside: hold off
    assert loop.update(300, 21.0, "heat", 20.69, 21.0, False) == ThermostatOutput(power=True)


def test_hysteresis_cool_band_is_mirrored() -> None:
    loop = make_loop("hysteresis", cold_tolerance=0.5, hot_tolerance=0.2)
    assert loop.update(0, 24.0, "cool", 24.3, 24.0, False) == ThermostatOutput(
        power=True, target_temperature=22.0
    )
    assert loop.update(60, 24.0, "cool", 23.6, 24.0, True) == NOTHING  # 23.5 is the off edge
    assert loop.update(120, 24.0, "cool", 23.4, 24.0, True) == ThermostatOutput(power=False)
    assert loop.update(180, 24.0, "cool", 24.1, 24.0, False) == NOTHING


def test_hysteresis_without_a_room_reading_hands_over_to_the_unit() -> None:
    loop = make_loop("hysteresis")
    loop.update(0, 21.0, "heat", 21.5, 21.0, True)  # too warm: switched off, setpoint pushed
    assert loop.update(60, 21.0, "heat", None, 21.0, False) == ThermostatOutput(
        power=True, target_temperature=21.0
    )
    assert loop.update(120, 21.0, "heat", None, 21.0, True) == NOTHING


# --- stale sensor, closed loop with the simulated unit -------------------------------------


@dataclass
class Plant:
    """A simulated unit in a room; ``sensor_bias`` is how wrong the remote room sensor reads."""

    unit: SimulatedUnit
    clock: ManualClock
    sensor_bias: float

    def apply(self, out: ThermostatOutput) -> None:
        if out.power is not None:
            self.unit.power = out.power
        if out.target_temperature is not None:
            self.unit.target_temperature = out.target_temperature
        if out.remote_temperature is not None:
            self.unit.remote_temperature = out.remote_temperature


def make_plant(sensor_bias: float) -> Plant:
    clock = ManualClock()
    room = Room(outdoor=OutdoorClimate.constant(0.0), temperature=18.0)
    unit = SimulatedUnit(clock=clock, room=room, power=True, mode=Mode.HEAT)
    return Plant(unit, clock, sensor_bias)


def test_stale_sensor_falls_back_to_the_plain_target_and_the_units_own_sensor() -> None:
    # The remote sensor reads 1 K cold, so the offset loop raises the setpoint and the room
    # ends up warm. When the sensor dies the loop must send the plain target, and the unit
    # (whose own sensor is right here) brings the room back to it.
    plant = make_plant(sensor_bias=-1.0)
    loop = make_loop("remote_sensor")
    freshness = SensorFreshness(timeout=600)
    first_stale: tuple[int, ThermostatOutput] | None = None
    for minute in range(16 * 60):
        now = minute * 60.0
        if minute < 8 * 60:  # the sensor reports for 8 h, then goes silent
            freshness.update(now)
        room = None if freshness.stale(now) else plant.unit.room.temperature + plant.sensor_bias
        out = loop.update(now, 21.0, "heat", room, plant.unit.room_temperature, plant.unit.power)
        if room is None and first_stale is None:
            first_stale = (minute, out)
        plant.apply(out)
        plant.clock.advance(60)
        plant.unit.advance()
        if minute == 8 * 60 - 1:
            assert plant.unit.target_temperature >= 21.5  # the offset was in force
            assert plant.unit.room.temperature > 21.5
    # last report at minute 479; stale once more than 600 s have passed: minute 490
    assert first_stale == (490, ThermostatOutput(target_temperature=21.0))
    assert plant.unit.target_temperature == 21.0
    assert plant.unit.remote_temperature is None  # the unit regulated on its own sensor
    assert abs(plant.unit.room.temperature - 21.0) < 0.5


def settle_with_warm_unit_sensor(strategy: Strategy, hours: int = 12) -> float:
    """Run a loop for ``hours`` against a unit whose own sensor reads 1.5 K warm (return air
    near the ceiling); return the mean room temperature over the last two hours."""
    plant = make_plant(sensor_bias=0.0)
    loop = make_loop(strategy)
    tail: list[float] = []
    for minute in range(hours * 60):
        room = plant.unit.room.temperature
        # what the unit's own sensor reads (the simulator regulates on remote_temperature)
        plant.unit.remote_temperature = room + 1.5
        out = loop.update(minute * 60.0, 21.0, "heat", room, room + 1.5, plant.unit.power)
        plant.apply(out)
        plant.clock.advance(60)
        plant.unit.advance()
        if minute >= (hours - 2) * 60:
            tail.append(plant.unit.room.temperature)
    return sum(tail) / len(tail)


def test_offset_corrects_a_warm_reading_unit_sensor_where_passthrough_cannot() -> None:
    assert settle_with_warm_unit_sensor("passthrough") < 20.0  # the unit holds 21 at its sensor
    assert abs(settle_with_warm_unit_sensor("remote_sensor") - 21.0) < 0.4


# --- sensor freshness -------------------------------------------------------------------


def test_sensor_freshness() -> None:
    fresh = SensorFreshness(timeout=300)
    assert fresh.stale(0.0)  # never heard from
    fresh.update(100.0)
    assert not fresh.stale(100.0)
    assert not fresh.stale(400.0)  # exactly the timeout: still fresh
    assert fresh.stale(400.5)
    fresh.update(401.0)
    assert not fresh.stale(500.0)
    with pytest.raises(ValueError, match="positive"):
        SensorFreshness(0)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="tolerances"):
        ThermostatSettings(cold_tolerance=-0.1)
    with pytest.raises(ValueError, match="offset_step"):
        ThermostatSettings(offset_step=0)
    with pytest.raises(ValueError, match="step must be positive"):
        ThermostatLoop(ThermostatSettings(), native_remote=False, step=0, min_temp=16, max_temp=31)
