"""A unit's energy minute by minute: which source wins, counters, gaps, restarts, bad meters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from klima.config_energy import MeterConfig, UnitEnergyConfig
from klima.energy.model import EnergySource, estimate_power
from klima.energy.tracker import MAX_HOLD, UnitEnergyTracker
from klima.state import Action, Mode, UnitState
from klima_drivers.profiles import load_profile

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PROFILE = load_profile("mitsubishi_msz_fh09na")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def hour_by_minutes(t: UnitEnergyTracker, start: float) -> float:
    """Close sixty minutes one by one, as the service does; the kWh of the hour."""
    return sum(t.close(at(start + 60 * m)).kwh for m in range(1, 61))


def tracker(**settings: object) -> UnitEnergyTracker:
    return UnitEnergyTracker(
        "u", UnitEnergyConfig.model_validate(settings), PROFILE, start=T0, outdoor_c=lambda: 5.0
    )


def heating(**fields: object) -> UnitState:
    return UnitState(power=True, mode=Mode.HEAT, action=Action.HEATING, **fields)  # type: ignore[arg-type]


def test_reported_power_is_integrated_step_wise() -> None:
    t = tracker()
    t.observe_state(heating(power_w=1200.0), at(0))
    t.observe_state(heating(power_w=600.0), at(30))
    minute = t.close(at(60))
    # 1200 W for 30 s + 600 W for 30 s = (36 000 + 18 000) J = 0.015 kWh
    assert minute.kwh == pytest.approx(0.015)
    assert minute.source is EnergySource.REPORTED
    assert minute.power_w == 600.0


def test_a_counter_beats_integrated_power_and_survives_its_wrap() -> None:
    t = tracker()
    t.observe_state(heating(power_w=1000.0, energy_kwh=6553.4), at(0))
    t.close(at(60))  # seeds the counter: nothing to add yet
    t.observe_state(heating(power_w=1000.0, energy_kwh=0.1), at(360))  # wrapped: 6553.6 -> 0
    minute = t.close(at(420))
    # 6553.6 - 6553.4 + 0.1 = 0.3 kWh, not the 0.1 kWh that 1 kW held for 6 minutes gives
    assert minute.kwh == pytest.approx(0.3)
    assert minute.source is EnergySource.REPORTED


def test_a_counter_jump_beyond_max_power_is_a_reset_not_energy() -> None:
    t = tracker(max_power_w=3000)
    t.observe_state(heating(energy_kwh=100.0), at(0))
    t.observe_state(heating(energy_kwh=900.0), at(60))  # 800 kWh in a minute: a new board
    assert t.close(at(60)).kwh == 0.0
    t.observe_state(heating(energy_kwh=900.1), at(120))
    assert t.close(at(120)).kwh == pytest.approx(0.1)


def test_the_model_estimates_when_nothing_is_reported() -> None:
    t = tracker()
    t.observe_state(heating(outdoor_temperature=-5.0), at(0))
    expected_w = estimate_power(PROFILE, mode=Mode.HEAT, action=Action.HEATING, outdoor_c=-5.0)
    assert t.close(at(60)).source is EnergySource.ESTIMATED
    assert t.close(at(60)).kwh == 0.0  # no time passed
    assert hour_by_minutes(t, 60) == pytest.approx(expected_w / 1000)
    # Without an outdoor reading the configured sensor/fallback (5 °C here) is used.
    t.observe_state(heating(), at(3660))
    fallback_w = estimate_power(PROFILE, mode=Mode.HEAT, action=Action.HEATING, outdoor_c=5.0)
    assert hour_by_minutes(t, 3660) == pytest.approx(fallback_w / 1000)
    assert fallback_w != expected_w


def test_a_long_step_of_the_clock_is_a_gap_not_an_hour_of_estimate() -> None:
    t = tracker()
    t.observe_state(heating(), at(0))
    t.close(at(60))
    # The Pi booted with a stale clock and NTP stepped it ten hours forward.
    assert t.close(at(60 + 10 * 3600)).kwh == 0.0
    assert t.close(at(120 + 10 * 3600)).kwh > 0  # and then it counts again


def test_an_off_unit_draws_standby() -> None:
    t = tracker()
    t.observe_state(UnitState(power=False, mode=Mode.HEAT), at(0))
    assert hour_by_minutes(t, 0) == pytest.approx(PROFILE.standby_w / 1000)


def test_a_meter_beats_the_unit_and_a_stale_meter_hands_back() -> None:
    t = tracker(meter={"topic": "plug/status", "power_path": "ENERGY.Power", "stale_after": 120})
    t.observe_state(heating(power_w=2000.0), at(0))
    t.observe_meter(json.dumps({"ENERGY": {"Power": 900}}).encode(), at(0))
    minute = t.close(at(60))
    assert (minute.source, minute.kwh) == (EnergySource.METERED, pytest.approx(0.015))
    t.observe_state(heating(power_w=2000.0), at(200))  # the plug went quiet 200 s ago
    minute = t.close(at(240))
    assert minute.source is EnergySource.REPORTED


def test_a_meter_energy_counter_in_wh() -> None:
    settings = MeterConfig(topic="shelly", energy_path="aenergy.total", energy_unit="Wh")
    t = UnitEnergyTracker("u", UnitEnergyConfig(meter=settings), None, start=T0)
    t.observe_meter(b'{"aenergy": {"total": 1000.0}}', at(0))
    t.observe_meter(b'{"aenergy": {"total": 1025.5}}', at(50))
    minute = t.close(at(60))
    assert (minute.source, minute.kwh) == (EnergySource.METERED, pytest.approx(0.0255))
    # Average power of the minute stands in for a meter that reports no power.
    assert minute.power_w == pytest.approx(0.0255 * 1000 * 60)


def test_garbage_from_a_meter_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    t = tracker(meter={"topic": "plug", "power_path": "power"})
    t.observe_meter(b'{"power": 500}', at(0))
    for junk in (b"", b"not json", b'{"power": "on"}', b'{"power": true}', b"\xff\xfe"):
        t.observe_meter(junk, at(10))
    minute = t.close(at(60))
    assert minute.kwh == pytest.approx(500 * 60 / 3.6e6)
    assert "no number" in caplog.text


def test_power_is_held_at_most_max_hold_over_a_gap() -> None:
    t = UnitEnergyTracker("u", UnitEnergyConfig(), None, start=T0)
    t.observe_state(heating(power_w=1200.0), at(0))
    minute = t.close(at(3600))  # no reading for an hour: only MAX_HOLD of it is counted
    assert minute.kwh == pytest.approx(1.2 * MAX_HOLD.total_seconds() / 3600)


def test_without_any_source_nothing_is_claimed() -> None:
    t = UnitEnergyTracker("u", UnitEnergyConfig(use_reported=False), None, start=T0)
    t.observe_state(heating(power_w=1200.0), at(0))
    minute = t.close(at(60))
    assert (minute.kwh, minute.source, minute.power_w) == (0.0, None, None)


def test_counter_state_survives_a_restart() -> None:
    t = tracker()
    t.observe_state(heating(energy_kwh=50.0), at(0))
    t.close(at(60))
    saved = json.loads(json.dumps(t.saved_state()))  # as stored in the database
    again = UnitEnergyTracker("u", UnitEnergyConfig(), PROFILE, start=at(600), saved=saved)
    again.observe_state(heating(energy_kwh=50.4), at(660))  # 0.4 kWh used while we were away
    assert again.close(at(660)).kwh == pytest.approx(0.4)


def test_an_offline_unit_is_not_estimated() -> None:
    t = tracker()
    t.observe_state(heating(), at(0))
    t.forget_state(at(30))
    minute = t.close(at(60))
    full_w = estimate_power(PROFILE, mode=Mode.HEAT, action=Action.HEATING, outdoor_c=5.0)
    assert minute.kwh == pytest.approx(full_w * 30 / 3.6e6)
    assert t.close(at(120)).source is None
