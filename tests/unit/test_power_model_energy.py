"""kWh integration and the lifetime counter accumulator (research §1.7, serial.md §3.6 and §8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from klima.energy.model import (
    CN105_COUNTER_WRAP_KWH,
    CounterState,
    EnergySource,
    FrequencyRangeLearner,
    LifetimeAccumulator,
    PowerSample,
    integrate_kwh,
)

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
METERED, REPORTED, ESTIMATED = EnergySource.METERED, EnergySource.REPORTED, EnergySource.ESTIMATED


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_trapezoid_is_exact_for_constant_and_linear_power() -> None:
    constant = [PowerSample(at(m), 1200.0, REPORTED) for m in range(0, 61, 5)]
    assert integrate_kwh(constant)[REPORTED] == pytest.approx(1.2, rel=1e-12)
    # A ramp 0 → 2 000 W over two hours is 2 kWh; trapezoid is exact for linear power
    # at any sampling, including uneven steps.
    minutes = [0, 1, 7, 30, 31, 90, 120]
    ramp = [PowerSample(at(m), 2000.0 * m / 120, ESTIMATED) for m in minutes]
    totals = integrate_kwh(ramp)
    assert totals[ESTIMATED] == pytest.approx(2.0, rel=1e-12)
    assert totals[METERED] == 0.0


def test_interval_counts_as_its_less_trusted_end() -> None:
    samples = [
        PowerSample(at(0), 600.0, METERED),
        PowerSample(at(60), 600.0, METERED),  # 0.6 kWh metered
        PowerSample(at(120), 1000.0, ESTIMATED),  # (600 + 1000)/2 · 1 h = 0.8 kWh estimated
        PowerSample(at(150), 1000.0, REPORTED),  # 0.5 kWh estimated (one end estimated)
        PowerSample(at(180), 0.0, REPORTED),  # 0.25 kWh reported
    ]
    totals = integrate_kwh(samples)
    assert totals == pytest.approx({METERED: 0.6, REPORTED: 0.25, ESTIMATED: 1.3})


def test_gaps_and_backwards_samples_add_nothing() -> None:
    samples = [
        PowerSample(at(0), 1000.0, REPORTED),
        PowerSample(at(10), 1000.0, REPORTED),  # 1/6 kWh
        PowerSample(at(5), 9999.0, REPORTED),  # backwards: ignored
        PowerSample(at(10), 9999.0, REPORTED),  # same time: ignored
        PowerSample(at(130), 1000.0, REPORTED),  # 2 h gap > max_gap: skipped
        PowerSample(at(140), 1000.0, REPORTED),  # 1/6 kWh
    ]
    totals = integrate_kwh(samples, max_gap=timedelta(minutes=15))
    assert totals[REPORTED] == pytest.approx(2 / 6)
    without_limit = integrate_kwh(samples)
    assert without_limit[REPORTED] == pytest.approx(2 / 6 + 2.0)


def cn105_counter(state: CounterState | None = None) -> LifetimeAccumulator:
    # 16 bits of 0.1 kWh (serial.md §3.5.5); a 9 000 Btu/h unit peaks near 2 kW; 3 kW is generous.
    return LifetimeAccumulator(max_power_kw=3.0, wrap_kwh=CN105_COUNTER_WRAP_KWH, state=state)


def test_counter_seeds_from_first_reading_and_adds_positive_deltas() -> None:
    counter = cn105_counter()
    assert counter.update(1234.5, at(0)) == 0.0  # seeding adds nothing
    assert counter.update(1234.9, at(15)) == pytest.approx(0.4)
    assert counter.update(1234.9, at(30)) == 0.0
    assert counter.update(1235.6, at(45)) == pytest.approx(0.7)
    assert counter.total_kwh == pytest.approx(1.1)


def test_counter_follows_a_16_bit_wrap() -> None:
    counter = cn105_counter()
    counter.update(6553.3, at(0))
    # 6553.3 → 6553.5 → (wrap) 0.0 → 0.2: 0.2 + 0.1 + 0.2 = 0.5 kWh in 20 min (1.5 kW).
    assert counter.update(0.2, at(20)) == pytest.approx(0.5)
    assert counter.update(0.3, at(25)) == pytest.approx(0.1)
    assert counter.total_kwh == pytest.approx(0.6)


def test_counter_reset_or_dip_never_goes_backwards() -> None:
    counter = cn105_counter()
    counter.update(812.4, at(0))
    counter.update(812.8, at(10))
    # The unit lost power and its counter restarted at 0 (or a multi-split counter dipped).
    assert counter.update(0.0, at(20)) == 0.0
    assert counter.total_kwh == pytest.approx(0.4)
    assert counter.update(0.3, at(30)) == pytest.approx(0.3)  # re-seeded from 0.0
    dip = cn105_counter()
    dip.update(500.0, at(0))
    assert dip.update(499.0, at(5)) == 0.0  # S21-style ≈1 kWh dip (serial.md §8)
    assert dip.update(499.2, at(10)) == pytest.approx(0.2)
    assert dip.total_kwh == pytest.approx(0.2)


def test_counter_accepts_long_gaps_but_not_impossible_jumps() -> None:
    counter = cn105_counter()
    counter.update(100.0, at(0))
    # Hub offline for 10 h; 12 kWh ≤ 3 kW · 10 h, so the counter's difference is trusted.
    assert counter.update(112.0, at(600)) == pytest.approx(12.0)
    # 50 kWh in 10 minutes is a glitch: not added, but the reading becomes the new seed.
    assert counter.update(162.0, at(610)) == 0.0
    assert counter.update(162.5, at(620)) == pytest.approx(0.5)
    assert counter.total_kwh == pytest.approx(12.5)


def test_counter_ignores_stale_readings_and_restores_from_state() -> None:
    counter = cn105_counter()
    counter.update(10.0, at(0))
    counter.update(10.5, at(10))
    assert counter.update(11.0, at(10)) == 0.0  # same timestamp: stale
    assert counter.update(11.0, at(5)) == 0.0  # older: stale
    restored = cn105_counter(counter.state)
    assert restored.total_kwh == pytest.approx(0.5)
    assert restored.update(10.9, at(20)) == pytest.approx(0.4)


def test_counter_without_wrap_treats_every_drop_as_reset() -> None:
    counter = LifetimeAccumulator(max_power_kw=3.0, step_kwh=0.001)
    counter.update(6553.4, at(0))
    assert counter.update(0.1, at(10)) == 0.0
    assert counter.total_kwh == 0.0
    with pytest.raises(ValueError, match="max_power_kw"):
        LifetimeAccumulator(max_power_kw=0)


def test_frequency_range_is_learned_per_outdoor_band() -> None:
    learner = FrequencyRangeLearner(band_c=5.0)
    assert learner.range_at(7.0) is None
    for hz in (0.0, 18.0, 30.0, 0.0):
        learner.observe(hz, outdoor_c=7.0)
    assert learner.range_at(7.0) == (18.0, 30.0)
    learner.observe(84.0, outdoor_c=-8.0)
    learner.observe(25.0, outdoor_c=-8.0)
    assert learner.range_at(-6.0) == (25.0, 84.0)  # same band [-10, -5)
    assert learner.range_at(7.0) == (18.0, 30.0)  # its own band, unchanged
    learner.observe(40.0, outdoor_c=22.0)
    # A band with one frequency only borrows the range seen over all temperatures.
    assert learner.range_at(21.0) == (18.0, 84.0)
