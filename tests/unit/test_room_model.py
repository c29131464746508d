"""The lumped-capacitance room: outdoor climate, gains, and integration stability."""

from __future__ import annotations

import math

import pytest

from klima_sim.room import OutdoorClimate, Room, RoomParameters

HOUR = 3600.0


def test_constant_outdoor_temperature() -> None:
    climate = OutdoorClimate.constant(-3.0)
    assert {climate.temperature_at(t * HOUR) for t in range(48)} == {-3.0}


def test_daily_sinusoid_is_coldest_before_dawn_and_warmest_in_the_afternoon() -> None:
    climate = OutdoorClimate(mean=5.0, daily_amplitude=4.0, coldest_hour=5.0)
    assert climate.temperature_at(5 * HOUR) == pytest.approx(1.0)
    assert climate.temperature_at(17 * HOUR) == pytest.approx(9.0)
    assert climate.temperature_at(11 * HOUR) == pytest.approx(5.0)
    assert climate.temperature_at((24 + 5) * HOUR) == pytest.approx(1.0), "repeats daily"
    samples = [climate.temperature_at(t * 60.0) for t in range(24 * 60)]
    assert min(samples) == pytest.approx(1.0, abs=1e-3)
    assert max(samples) == pytest.approx(9.0, abs=1e-3)


def test_default_room_is_a_realistic_25_square_metre_room() -> None:
    p = RoomParameters()
    assert 1.5e6 <= p.heat_capacity_j_per_k <= 3e6
    assert 40 <= p.loss_w_per_k <= 80
    assert 6 * HOUR <= p.time_constant_s <= 20 * HOUR


def test_unheated_room_drifts_to_its_equilibrium_exponentially() -> None:
    room = Room(outdoor=OutdoorClimate.constant(0.0), temperature=20.0)
    equilibrium = room.equilibrium_temperature(0.0)
    assert equilibrium == pytest.approx(80.0 / 55.0)  # internal gains hold it above outdoors
    tau = room.parameters.time_constant_s
    room.step(0.0, tau, hvac_w=0.0)
    expected = equilibrium + (20.0 - equilibrium) * math.exp(-1)
    assert room.temperature == pytest.approx(expected, abs=0.05)
    room.step(tau, 10 * tau, hvac_w=0.0)
    assert room.temperature == pytest.approx(equilibrium, abs=0.01)


def test_heating_settles_where_the_heat_pump_balances_the_losses() -> None:
    room = Room(outdoor=OutdoorClimate.constant(0.0), temperature=10.0)
    target_w = 55.0 * 21.0 - 80.0  # what holds 21 °C at 0 °C outdoors
    room.step(0.0, 20 * room.parameters.time_constant_s, hvac_w=target_w)
    assert room.temperature == pytest.approx(21.0, abs=0.01)


@pytest.mark.parametrize("duration_h", [0.01, 1.0, 50.0, 1000.0])
def test_one_long_step_matches_many_short_ones(duration_h: float) -> None:
    climate = OutdoorClimate(mean=3.0, daily_amplitude=5.0)
    coarse = Room(outdoor=climate, temperature=22.0)
    fine = Room(outdoor=climate, temperature=22.0)
    coarse.step(0.0, duration_h * HOUR, hvac_w=1500.0)
    steps = 200
    for i in range(steps):
        fine.step(i * duration_h * HOUR / steps, duration_h * HOUR / steps, hvac_w=1500.0)
    assert math.isfinite(coarse.temperature)
    assert coarse.temperature == pytest.approx(fine.temperature, abs=0.1)
    assert coarse.temperature < 60.0, "no explicit-Euler blow-up on a huge step"


def test_solar_gain_is_a_daytime_half_sine() -> None:
    room = Room(parameters=RoomParameters(solar_gain_peak_w=600.0))
    assert room.solar_gain(3 * HOUR) == 0.0
    assert room.solar_gain(22 * HOUR) == 0.0
    assert room.solar_gain(12 * HOUR) == pytest.approx(600.0)
    assert room.solar_gain((24 + 12) * HOUR) == pytest.approx(600.0)
    assert 0 < room.solar_gain(8 * HOUR) < 600.0
    sunny = Room(parameters=RoomParameters(solar_gain_peak_w=600.0), temperature=20.0)
    shaded = Room(temperature=20.0)
    sunny.step(6 * HOUR, 12 * HOUR, 0.0)
    shaded.step(6 * HOUR, 12 * HOUR, 0.0)
    assert sunny.temperature > shaded.temperature + 1.0


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        RoomParameters(loss_w_per_k=0.0)
