"""The simulated inverter unit: regulation, power and energy, defrost, remote and faults."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import pytest

from klima.state import Mode
from klima_sim.clock import ManualClock, ScaledClock
from klima_sim.room import OutdoorClimate, Room
from klima_sim.unit import SimulatedUnit

HOUR = 3600.0


@dataclass(frozen=True)
class Sample:
    hours: float
    room: float
    hz: int
    operating: bool
    defrosting: bool
    preheating: bool
    fan_stage: int
    power_w: float
    energy_kwh: float


def make_unit(
    *, outdoor: float | OutdoorClimate = 0.0, room: float = 20.0, **settings: Any
) -> tuple[SimulatedUnit, ManualClock]:
    clock = ManualClock()
    climate = outdoor if isinstance(outdoor, OutdoorClimate) else OutdoorClimate.constant(outdoor)
    unit = SimulatedUnit(clock=clock, room=Room(outdoor=climate, temperature=room), **settings)
    return unit, clock


def run(
    unit: SimulatedUnit, clock: ManualClock, hours: float, every_s: float = 300.0
) -> list[Sample]:
    samples = []
    for i in range(round(hours * HOUR / every_s)):
        clock.advance(every_s)
        unit.advance()
        samples.append(
            Sample(
                hours=(i + 1) * every_s / HOUR,
                room=unit.room_temperature,
                hz=unit.compressor_frequency,
                operating=unit.operating,
                defrosting=unit.defrosting,
                preheating=unit.preheating,
                fan_stage=unit.fan_stage,
                power_w=unit.power_w,
                energy_kwh=unit.energy_kwh,
            )
        )
    return samples


def test_heating_reaches_the_setpoint_and_holds_it() -> None:
    unit, clock = make_unit(outdoor=0.0, room=15.0, power=True, mode=Mode.HEAT)
    samples = run(unit, clock, hours=12)
    first = samples[0]
    assert first.operating
    assert first.hz > 60, "a cold room starts near full capacity"
    reached = next(s.hours for s in samples if s.room >= 20.5)
    assert reached < 3.0
    held = [s.room for s in samples if s.hours >= 4.0]
    assert min(held) > 20.0
    assert max(held) < 22.0
    assert sum(held) / len(held) == pytest.approx(21.0, abs=0.4)
    steady = [s for s in samples if s.hours >= 4.0 and s.operating]
    assert all(15 <= s.hz < 60 for s in steady), "holding needs only part load"


def test_switched_off_room_drifts_to_outdoors_on_standby_power() -> None:
    unit, clock = make_unit(outdoor=2.0, room=21.0, power=False)
    samples = run(unit, clock, hours=48)
    rooms = [s.room for s in samples]
    assert rooms == sorted(rooms, reverse=True), "an unheated room only cools"
    assert rooms[-1] < 2.0 + 80 / 55 + 1.5
    assert all(s.hz == 0 and not s.operating and s.fan_stage == 0 for s in samples)
    assert unit.power_w == pytest.approx(5.0)
    assert unit.energy_kwh == pytest.approx(5.0 * 48 / 1000, rel=1e-6)
    assert unit.operating_minutes == 0


def test_energy_only_grows_and_matches_integrated_power() -> None:
    climate = OutdoorClimate(mean=4.0, daily_amplitude=6.0)
    unit, clock = make_unit(outdoor=climate, room=17.0, power=True, mode=Mode.HEAT)
    samples = run(unit, clock, hours=24, every_s=60.0)
    energies = [s.energy_kwh for s in samples]
    assert all(b >= a for a, b in itertools.pairwise(energies))
    trapezoid = sum(s.power_w * 60.0 for s in samples) / 3.6e6
    assert energies[-1] == pytest.approx(trapezoid, rel=0.05)
    assert unit.operating_minutes == 24 * 60


def test_cooling_lowers_a_hot_room() -> None:
    unit, clock = make_unit(
        outdoor=32.0, room=29.0, power=True, mode=Mode.COOL, target_temperature=24.0
    )
    samples = run(unit, clock, hours=8)
    assert samples[0].operating
    assert min(s.room for s in samples) < 24.5
    late = [s.room for s in samples if s.hours >= 3]
    assert max(late) < 25.5


@pytest.mark.parametrize(("outdoor", "start", "heats"), [(32.0, 27.0, False), (-2.0, 17.0, True)])
def test_heat_cool_picks_the_direction_and_does_not_ping_pong(
    outdoor: float, start: float, heats: bool
) -> None:
    unit, clock = make_unit(
        outdoor=outdoor, room=start, power=True, mode=Mode.HEAT_COOL, target_temperature=22.0
    )
    samples, directions = [], set()
    for _ in range(20):
        samples += run(unit, clock, hours=0.5)
        directions.add(unit._control.direction)
    assert samples[0].operating
    if heats:
        assert samples[6].room > start + 1.0
    else:
        assert samples[6].room < start - 1.0
    held = [s.room for s in samples[48:]]  # from 4 h on (5-minute samples)
    assert min(held) > 20.5
    assert max(held) < 23.5
    assert directions == {1 if heats else -1}, "overshooting the setpoint must not switch sides"


def test_dry_runs_a_small_cooling_load() -> None:
    dry, dry_clock = make_unit(
        outdoor=30.0, room=27.0, power=True, mode=Mode.DRY, target_temperature=22.0
    )
    cool, cool_clock = make_unit(
        outdoor=30.0, room=27.0, power=True, mode=Mode.COOL, target_temperature=22.0
    )
    dry_samples = run(dry, dry_clock, hours=1)
    cool_samples = run(cool, cool_clock, hours=1)
    assert all(s.hz == 15 for s in dry_samples), "dry holds the compressor at minimum"
    assert dry.room_temperature < 27.0
    assert dry.room_temperature > cool.room_temperature
    assert dry.energy_kwh < cool.energy_kwh / 2
    assert max(s.power_w for s in dry_samples) < max(s.power_w for s in cool_samples)


def test_fan_only_moves_air_without_the_compressor() -> None:
    unit, clock = make_unit(outdoor=25.0, power=True, mode=Mode.FAN_ONLY, fan_mode="high")
    samples = run(unit, clock, hours=1)
    assert all(s.hz == 0 and not s.operating for s in samples)
    assert all(s.fan_stage == 5 for s in samples)
    assert 20.0 < unit.power_w < 60.0


def test_thermostat_off_in_mild_weather() -> None:
    # At 12 °C outdoors the room needs less than the compressor's minimum: it must cycle.
    unit, clock = make_unit(outdoor=12.0, room=21.0, power=True, mode=Mode.HEAT)
    samples = run(unit, clock, hours=12, every_s=60.0)
    idle = [s for s in samples if not s.operating]
    running = [s for s in samples if s.operating]
    assert idle
    assert running
    assert all(s.hz == 0 for s in idle)
    assert max(s.room for s in samples) < 22.2
    assert min(s.room for s in samples if s.hours > 1) > 20.3


def test_compressor_speed_and_input_power_follow_the_load() -> None:
    cold, cold_clock = make_unit(outdoor=-10.0, room=21.0, power=True, mode=Mode.HEAT)
    mild, mild_clock = make_unit(outdoor=5.0, room=21.0, power=True, mode=Mode.HEAT)
    cold_samples = [s for s in run(cold, cold_clock, hours=6) if s.hours > 2 and s.operating]
    mild_samples = [s for s in run(mild, mild_clock, hours=6) if s.hours > 2 and s.operating]
    assert avg([s.hz for s in cold_samples]) > avg([s.hz for s in mild_samples])
    assert avg([s.power_w for s in cold_samples]) > 1.3 * avg([s.power_w for s in mild_samples])


def avg(values: list[float] | list[int]) -> float:
    return sum(values) / len(values)


def test_defrost_cycles_only_in_frosty_weather() -> None:
    frosty, frosty_clock = make_unit(outdoor=-3.0, room=21.0, power=True, mode=Mode.HEAT)
    samples = run(frosty, frosty_clock, hours=4, every_s=30.0)
    defrosts = [s for s in samples if s.defrosting]
    assert defrosts, "heating below 2 °C outdoors defrosts now and then"
    assert all(s.hz == 0 and not s.operating and s.fan_stage == 0 for s in defrosts)
    assert len(defrosts) * 30.0 < 0.2 * 4 * HOUR, "defrost is occasional"
    after = samples[samples.index(defrosts[-1]) + 1]
    assert after.preheating, "the coil warms up again after a defrost"

    mild, mild_clock = make_unit(outdoor=8.0, room=21.0, power=True, mode=Mode.HEAT)
    assert not any(s.defrosting for s in run(mild, mild_clock, hours=4, every_s=30.0))


def test_heat_start_preheats_with_the_fan_stopped() -> None:
    unit, clock = make_unit(outdoor=5.0, room=18.0, power=True, mode=Mode.HEAT)
    first = run(unit, clock, hours=60 / HOUR, every_s=60.0)[0]
    assert first.preheating
    assert first.operating
    assert first.fan_stage == 0
    later = run(unit, clock, hours=0.1, every_s=60.0)[-1]
    assert not later.preheating
    assert later.fan_stage > 0


def test_regulates_on_the_remote_temperature_when_fed_one() -> None:
    unit, clock = make_unit(outdoor=0.0, room=17.0, power=True, mode=Mode.HEAT)
    unit.remote_temperature = 23.0  # the host's sensor says it is warm enough already
    samples = run(unit, clock, hours=1)
    assert not any(s.operating for s in samples)
    assert unit.regulated_temperature == 23.0
    unit.remote_temperature = None
    assert run(unit, clock, hours=0.5)[-1].operating


def test_press_remote_changes_settings_behind_the_controllers_back() -> None:
    unit, _clock = make_unit(power=False)
    unit.press_remote(mode="cool", target_temperature=25, fan_mode="low")
    assert (unit.power, unit.mode, unit.target_temperature, unit.fan_mode) == (
        True,
        Mode.COOL,
        25.0,
        "low",
    )
    unit.press_remote(mode=Mode.OFF)
    assert unit.power is False
    assert unit.mode is Mode.COOL, "off keeps the operating mode"
    with pytest.raises(ValueError):
        unit.press_remote(fan_mode="turbo")
    with pytest.raises(ValueError):
        unit.press_remote(remote_temperature=20.0)


def test_a_fault_stops_the_unit_until_cleared() -> None:
    unit, clock = make_unit(outdoor=0.0, room=15.0, power=True, mode=Mode.HEAT)
    assert run(unit, clock, hours=0.5)[-1].operating
    unit.set_fault("E6")
    assert unit.error_code == "E6"
    assert not unit.operating
    assert unit.compressor_frequency == 0
    assert not any(s.operating for s in run(unit, clock, hours=0.5))
    unit.set_fault(None)
    assert run(unit, clock, hours=0.5)[-1].operating


def test_writing_the_room_temperature_moves_the_room() -> None:
    unit, clock = make_unit(room=20.0, power=False)
    unit.room_temperature = 26.0
    clock.advance(60)
    unit.advance()
    assert unit.room.temperature == pytest.approx(26.0, abs=0.05)


def test_operating_mode_is_never_off() -> None:
    with pytest.raises(ValueError):
        SimulatedUnit(clock=ManualClock(), mode=Mode.OFF)


def test_a_simulated_day_passes_in_well_under_a_second() -> None:
    unit, clock = make_unit(outdoor=OutdoorClimate(mean=0, daily_amplitude=5), power=True)
    started = time.perf_counter()
    clock.advance(24 * HOUR)
    unit.advance()
    assert time.perf_counter() - started < 0.5
    assert unit.operating_minutes == 24 * 60


def test_scaled_clock_runs_simulated_hours_in_real_milliseconds() -> None:
    clock = ScaledClock(3600.0)
    unit = SimulatedUnit(clock=clock, power=True, mode=Mode.HEAT, room=Room(temperature=15.0))
    start = clock.now()
    time.sleep(0.1)
    unit.advance()
    assert clock.now() - start >= 360.0
    assert unit.room_temperature > 15.0
    assert unit.energy_kwh > 0.0
