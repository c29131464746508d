"""RealtimePricer: hand-checked cases (arithmetic next to each expectation) and the invariant that
pricing interval by interval adds up to compute_bill's energy, adjustment and tax lines."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from klima.energy.pricing import PricedEnergy, PriceNow, RealtimePricer
from klima.energy.tariffs import (
    Charge,
    EnergyPeriod,
    PriceSeries,
    Schedule,
    Tariff,
    TariffError,
    Tier,
    UsageInterval,
    calendar_month,
    compute_bill,
    load_urdb,
    meter_read_period,
    tariff_from_document,
    tariff_from_urdb,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tariffs"
JACKSON = FIXTURES / "urdb_jackson_emc_5a0b2804.json"
EASTERN = ZoneInfo("America/New_York")  # Jackson EMC serves Georgia
BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
D = Decimal


ZERO = Decimal(0)


def jackson(*, fuel_may: Decimal = ZERO, tax: Decimal = ZERO) -> Tariff:
    """Jackson EMC (URDB 5a0b2804) with an optional made-up May fuel adjustment and tax."""
    document = json.loads(JACKSON.read_text())
    if fuel_may:
        document["fueladjustmentsmonthly"] = [0.0] * 4 + [str(fuel_may)] + [0.0] * 7
    return tariff_from_urdb(document, tax_percent=tax)


# Berlin TOU tariff in the native format: peak on December weekdays 17-20 with a daily allowance
# of 2 kWh at 0.40 then 0.50; off-peak 0.25; 19 % tax; 25 Dec is a holiday (weekend rules).
BERLIN_TOU = {
    "name": "Berlin TOU example",
    "currency": "EUR",
    "tax_percent": "19",
    "holidays": ["2026-12-25"],
    "periods": [
        {"name": "off-peak", "tiers": [{"rate": "0.25"}]},
        {"name": "peak", "tiers": [{"rate": "0.40", "max": 2, "daily": True}, {"rate": "0.50"}]},
    ],
    "rules": [{"period": "peak", "months": [12], "days": "weekday", "hours": [17, 20]}],
}


def test_jackson_may_day_by_day_matches_the_hand_bill() -> None:
    # Same inputs as test_bill_compute: May 2017, 40 kWh/day for days 1-30, 0 on day 31.
    # Tiers (period 1): 0-650 0.0896, 650-1000 0.1121, >1000 0.1181.
    pricer = RealtimePricer(load_urdb(JACKSON), EASTERN)
    used = D(0)
    costs = []
    for day in range(1, 32):
        start = datetime(2017, 5, day, tzinfo=EASTERN)
        kwh = D(40) if day <= 30 else D(0)
        costs.append(pricer.price(start, start + timedelta(days=1), kwh, used))
        used += kwh
    # Day 1: 40 x 0.0896 = 3.584
    assert costs[0] == PricedEnergy(D("3.584"), D("0.0896"), "period 1")
    # Day 17 takes 640 -> 680: 10 x 0.0896 + 30 x 0.1121 = 0.896 + 3.363 = 4.259
    assert costs[16].cost == D("4.259")
    assert costs[16].rate == D("4.259") / 40
    # Day 26 starts at 1000 exactly, all in tier 3: 40 x 0.1181 = 4.724
    assert costs[25].cost == D("4.724")
    # Day 31 uses nothing: no rate
    assert costs[30] == PricedEnergy(D(0), None, "period 1")
    # 650 x 0.0896 + 350 x 0.1121 + 200 x 0.1181 = 58.24 + 39.235 + 23.62 = 121.095
    assert sum((c.cost for c in costs), D(0)) == D("121.095")


def test_a_tier_crossing_inside_one_interval_is_split() -> None:
    # One hour of 700 kWh from 0: 650 x 0.0896 + 50 x 0.1121 = 58.24 + 5.605 = 63.845 (May);
    # January (period 0, declining): 650 x 0.0896 + 50 x 0.0831 = 58.24 + 4.155 = 62.395
    pricer = RealtimePricer(load_urdb(JACKSON), EASTERN)
    may = datetime(2017, 5, 3, 10, tzinfo=EASTERN)
    priced = pricer.price(may, may + timedelta(hours=1), D(700), D(0))
    assert priced.cost == D("63.845")
    assert priced.rate == D("63.845") / D(700)
    january = datetime(2017, 1, 3, 10, tzinfo=EASTERN)
    assert pricer.price(january, january + timedelta(hours=1), D(700), D(0)).cost == D("62.395")
    # Crossing both bounds from 600: 50 x 0.0896 + 350 x 0.1121 + 100 x 0.1181
    # = 4.48 + 39.235 + 11.81 = 55.525
    assert pricer.price(may, may + timedelta(hours=1), D(500), D(600)).cost == D("55.525")


def test_daily_allowance_scales_with_the_whole_period_calendar_and_meter_read() -> None:
    # 10 kWh/day at 0.20, above at 0.40. 20 kWh after 290 kWh:
    # June (30 days, allowance 300): 10 x 0.20 + 10 x 0.40 = 2.00 + 4.00 = 6.00
    # meter-read 15 Jan - 15 Feb (31 days, allowance 310): 20 x 0.20 = 4.00
    tariff = Tariff(
        periods=(EnergyPeriod("all", (Tier(D("0.2"), D(10), daily=True), Tier(D("0.4")))),)
    )
    june = datetime(2026, 6, 11, 8, tzinfo=EASTERN)
    monthly = RealtimePricer(tariff, EASTERN)
    assert monthly.price(june, june + timedelta(hours=1), D(20), D(290)).cost == D("6.00")
    assert monthly.period_at(june) == calendar_month(2026, 6, EASTERN)
    january = datetime(2026, 1, 20, 8, tzinfo=EASTERN)
    read_15 = RealtimePricer(tariff, EASTERN, billing_day=15)
    assert read_15.period_at(january) == meter_read_period(january.date(), 15, EASTERN)
    assert read_15.period_at(january).days == 31
    assert read_15.price(january, january + timedelta(hours=1), D(20), D(290)).cost == D("4.00")


def test_tou_weekday_weekend_holiday_with_tiers_and_tax() -> None:
    pricer = RealtimePricer(tariff_from_document(BERLIN_TOU), BERLIN)
    hour = timedelta(hours=1)

    def at(day: int, hour_of_day: int, minute: int = 0) -> datetime:
        return datetime(2026, 12, day, hour_of_day, minute, tzinfo=BERLIN)

    # Thu 24 Dec 18:00, weekday peak, allowance 2 x 31 = 62: 3 x 0.40 = 1.20; x 1.19 = 1.428
    assert pricer.price(at(24, 18), at(24, 19), D(3), D(0)) == PricedEnergy(
        D("1.428"), D("0.476"), "peak"
    )
    # Fri 25 Dec 18:00 is a holiday -> weekend rules, off-peak: 4 x 0.25 = 1.00; x 1.19 = 1.19
    assert pricer.price(at(25, 18), at(25, 19), D(4), D(3)).cost == D("1.19")
    assert pricer.price(at(25, 18), at(25, 19), D(4), D(3)).tariff_period == "off-peak"
    # Sat 26 Dec 18:00, weekend: off-peak
    assert pricer.price(at(26, 18), at(26, 19), D(1), D(7)).tariff_period == "off-peak"
    # Mon 28 Dec 16:30-17:30: the start is 16:xx, so the whole interval is off-peak:
    # 2 x 0.25 x 1.19 = 0.595
    assert pricer.price(at(28, 16, 30), at(28, 17, 30), D(2), D(8)) == PricedEnergy(
        D("0.595"), D("0.2975"), "off-peak"
    )
    # Tue 29 Dec 19:00 peak with 61 kWh already used: 1 x 0.40 + 2 x 0.50 = 1.40; x 1.19 = 1.666
    assert pricer.price(at(29, 19), at(29, 19) + hour, D(3), D(61)).cost == D("1.666")


def test_london_fall_back_day_with_half_hourly_dynamic_prices() -> None:
    # 25 Oct 2026: clocks go back at 02:00 BST, so the local day has 25 hours = 50 half-hours and
    # 01:00 and 01:30 happen twice. Prices 0.10 GBP/kWh except the four half-hours from 01:00 BST:
    # -0.05, -0.02 (BST) then 0.30, 0.25 (GMT); 5 % VAT; 1 kWh in every half-hour.
    # 46 x 0.10 + (-0.05 - 0.02 + 0.30 + 0.25) = 4.60 + 0.48 = 5.08; x 1.05 = 5.334
    day_start = datetime(2026, 10, 25, tzinfo=LONDON).astimezone(UTC)
    day_end = datetime(2026, 10, 26, tzinfo=LONDON).astimezone(UTC)
    half = timedelta(minutes=30)
    starts = []
    moment = day_start
    while moment < day_end:
        starts.append(moment)
        moment += half
    assert len(starts) == 50
    first_one_am = starts.index(datetime(2026, 10, 25, 0, tzinfo=UTC))  # 01:00 BST
    special = {
        first_one_am: D("-0.05"),
        first_one_am + 1: D("-0.02"),
        first_one_am + 2: D("0.30"),
        first_one_am + 3: D("0.25"),
    }
    prices = tuple(special.get(i, D("0.10")) for i in range(50))
    tariff = Tariff(currency="GBP", prices=PriceSeries(tuple(starts), prices), tax_percent=D(5))
    pricer = RealtimePricer(tariff, LONDON)
    costs = [pricer.price(s, s + half, D(1), D(i)) for i, s in enumerate(starts)]
    # The two local 01:00s get their own slots: -0.05 x 1.05 = -0.0525 and 0.30 x 1.05 = 0.315
    assert starts[first_one_am].astimezone(LONDON).hour == 1
    assert starts[first_one_am + 2].astimezone(LONDON).hour == 1
    assert costs[first_one_am] == PricedEnergy(D("-0.0525"), D("-0.0525"), "dynamic")
    assert costs[first_one_am + 2].cost == D("0.315")
    assert sum((c.cost for c in costs), D(0)) == D("5.334")
    # A live price replaces the series for that interval: 2 kWh x -0.5 x 1.05 = -1.05
    assert pricer.price(starts[0], starts[1], D(2), D(0), live_price=D("-0.5")).cost == D("-1.05")
    # The same usage through the bill engine: 5.08 + 5 % = 5.334 -> 5.33
    usage = [UsageInterval(s, s + half, D(1)) for s in starts]
    assert compute_bill(tariff, usage, pricer.period_at(starts[0])).total == D("5.33")


def test_tou_on_the_new_york_fall_back_day_uses_the_local_start_hour() -> None:
    # 1 Nov 2026: 01:00 EDT and 01:00 EST are both local hour 1, priced peak (1-2 local) at 0.50;
    # 00:00 and 02:00 are off-peak at 0.20.
    rows = tuple(tuple(1 if h == 1 else 0 for h in range(24)) for _ in range(12))
    tariff = Tariff(
        periods=(EnergyPeriod("off", (Tier(D("0.20")),)), EnergyPeriod("peak", (Tier(D("0.50")),))),
        schedule=Schedule(rows, rows),
    )
    pricer = RealtimePricer(tariff, EASTERN)
    first = datetime(2026, 11, 1, 4, tzinfo=UTC)  # 00:00 EDT
    hour = timedelta(hours=1)
    periods = [pricer.price(first + i * hour, first + (i + 1) * hour, D(1), D(i)) for i in range(4)]
    assert [p.tariff_period for p in periods] == ["off", "peak", "peak", "off"]
    assert [p.cost for p in periods] == [D("0.20"), D("0.50"), D("0.50"), D("0.20")]


def test_missing_dynamic_price_and_bad_input_are_clear_errors() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    half = timedelta(minutes=30)
    tariff = Tariff(prices=PriceSeries((start, start + half), (D(1), D(2))))
    pricer = RealtimePricer(tariff, ZoneInfo("UTC"))
    later = start + timedelta(hours=1)  # the series ends at start + 1 h
    with pytest.raises(TariffError, match="no price for the interval starting 2026-06-01T01:00"):
        pricer.price(later, later + half, D(1), D(0))
    with pytest.raises(TariffError, match="no price"):
        pricer.price(start - half, start, D(1), D(0))
    # The live price covers the gap: 1 x 0.3
    assert pricer.price(later, later + half, D(1), D(0), live_price=D("0.3")).cost == D("0.3")
    with pytest.raises(TariffError, match="time-zone aware"):
        pricer.price(datetime(2026, 6, 1), later, D(1), D(0))
    with pytest.raises(TariffError, match="must end after"):
        pricer.price(start, start, D(1), D(0))
    with pytest.raises(TariffError, match="negative"):
        pricer.price(start, start + half, D(-1), D(0))
    with pytest.raises(TariffError, match="billing day"):
        RealtimePricer(tariff, ZoneInfo("UTC"), billing_day=29)


def test_price_now_marginal_tier_adjustment_and_tax() -> None:
    # Jackson May with a 0.005 fuel adjustment and 10 % tax, the next kWh
    # after 649.9 kWh: (0.0896 + 0.005) x 1.1 = 0.10406;
    # after exactly 650: (0.1121 + 0.005) x 1.1 = 0.12881;
    # after 1000: (0.1181 + 0.005) x 1.1 = 0.13541.
    # January has no adjustment, after 700 kWh: 0.0831 x 1.1 = 0.09141.
    pricer = RealtimePricer(jackson(fuel_may=D("0.005"), tax=D(10)), EASTERN)
    may = datetime(2017, 5, 10, 12, tzinfo=EASTERN)
    assert pricer.price_now(may, D("649.9")) == PriceNow(D("0.10406"), "period 1", 1)
    assert pricer.price_now(may, D(650)) == PriceNow(D("0.12881"), "period 1", 2)
    assert pricer.price_now(may, D(1000)) == PriceNow(D("0.13541"), "period 1", 3)
    january = datetime(2017, 1, 10, 12, tzinfo=EASTERN)
    assert pricer.price_now(january, D(700)) == PriceNow(D("0.09141"), "period 0", 2)
    # price_now agrees with the rate of a small next interval
    small = pricer.price(may, may + timedelta(minutes=1), D("0.01"), D(650))
    assert small.rate == pricer.price_now(may, D(650)).rate


def test_price_now_dynamic() -> None:
    # 0.20 then -0.10 per half hour, 5 % VAT: 0.21 and -0.105; outside the series: unknown;
    # a live price 0.40 -> 0.42
    start = datetime(2026, 6, 1, tzinfo=LONDON)
    half = timedelta(minutes=30)
    tariff = Tariff(
        currency="GBP",
        prices=PriceSeries((start, start + half), (D("0.20"), D("-0.10"))),
        tax_percent=D(5),
    )
    pricer = RealtimePricer(tariff, LONDON)
    assert pricer.currency == "GBP"
    assert pricer.price_now(start + timedelta(minutes=10), D(0)) == PriceNow(
        D("0.21"), "dynamic", None
    )
    assert pricer.price_now(start + half, D(0)).rate == D("-0.105")
    assert pricer.price_now(start + 2 * half, D(0)) == PriceNow(None, "dynamic", None)
    assert pricer.price_now(start + 2 * half, D(0), live_price=D("0.40")).rate == D("0.42")


def test_fixed_so_far_prorates_like_the_bill_as_of() -> None:
    # Jackson 5.50 $/month, 10 % tax, as of 16 May 2017 12:00 EDT: 15.5 of 31 days ->
    # 5.50 x 15.5 / 31 = 2.75; x 1.1 = 3.025
    pricer = RealtimePricer(jackson(tax=D(10)), EASTERN)
    as_of = datetime(2017, 5, 16, 12, tzinfo=EASTERN)
    may = pricer.period_at(as_of)
    assert pricer.fixed_so_far(may, as_of) == D("3.025")
    assert pricer.fixed_so_far(may, may.start) == 0
    # The whole period: 5.50 x 1.1 = 6.05 (also after its end)
    assert pricer.fixed_so_far(may, may.end + timedelta(days=3)) == D("6.05")
    # Standing charge 0.50 GBP/day + 60 GBP/year, 5 % VAT, London spring-forward day 29 Mar 2026
    # as of 12:00 BST: 28 whole days + 11 of the day's 23 real hours.
    # 0.50 x (28 + 11/23) + 60 / 12 x (28 + 11/23) / 31, all x 1.05
    tariff = Tariff(
        currency="GBP",
        fixed_charges=(Charge(D("0.50"), "day"), Charge(D(60), "year")),
        tax_percent=D(5),
    )
    london = RealtimePricer(tariff, LONDON)
    as_of = datetime(2026, 3, 29, 12, tzinfo=LONDON)
    days = 28 + D(11) / D(23)
    expected = (D("0.50") * days + days / 31 / 12 * D(60)) * D("1.05")
    march = london.period_at(as_of)
    assert london.fixed_so_far(march, as_of) == expected
    # ... and the bill engine's as_of total with no usage agrees after rounding
    usage = [UsageInterval(march.start, march.start + timedelta(hours=1), D(0))]
    bill = compute_bill(tariff, usage, march, as_of)
    assert bill.total == expected.quantize(D("0.01"), ROUND_HALF_UP)


def test_project_to_the_end_of_the_period() -> None:
    pricer = RealtimePricer(Tariff(), EASTERN)
    june = calendar_month(2026, 6, EASTERN)  # 30 days
    day_10 = datetime(2026, 6, 11, tzinfo=EASTERN)  # 10 days elapsed, 20 to go
    # recent days average (2.5 + 3.5) / 2 = 3.0: 30 + 3.0 x 20 = 90
    assert pricer.project(june, day_10, D(30), [D("2.5"), D("3.5")]) == D(90)
    # no recent days: the period's own average, 40 / 10 = 4 a day: 40 + 4 x 20 = 120
    assert pricer.project(june, day_10, D(40), []) == D(120)
    # half way through day 11 (10.5 elapsed, 19.5 to go): 30 + 2 x 19.5 = 69
    day_10_noon = datetime(2026, 6, 11, 12, tzinfo=EASTERN)
    assert pricer.project(june, day_10_noon, D(30), [D(2)]) == D(69)
    # at or after the end nothing remains; at the start without history there is no basis
    assert pricer.project(june, june.end, D(30), [D(5)]) == D(30)
    assert pricer.project(june, june.start, D(0), []) == D(0)
    # negative daily costs (paid to use energy) project downwards: -1 + (-0.5) x 20 = -11
    assert pricer.project(june, day_10, D(-1), [D("-0.5")]) == D(-11)


def test_period_at_calendar_and_meter_read_boundaries() -> None:
    monthly = RealtimePricer(Tariff(), BERLIN)
    # 31 Oct 2026 23:30 local is still October; 00:00 on 1 Nov local is November
    assert monthly.period_at(datetime(2026, 10, 31, 22, 30, tzinfo=UTC)).start.month == 10
    assert monthly.period_at(datetime(2026, 10, 31, 23, 0, tzinfo=UTC)).start.month == 11
    read_day = RealtimePricer(Tariff(), BERLIN, billing_day=15)
    period = read_day.period_at(datetime(2026, 1, 3, 12, tzinfo=BERLIN))
    assert (period.start, period.end) == (
        datetime(2025, 12, 15, tzinfo=BERLIN),
        datetime(2026, 1, 15, tzinfo=BERLIN),
    )
    # cached period is not reused outside its range
    assert read_day.period_at(datetime(2026, 1, 15, tzinfo=BERLIN)).start.day == 15
    assert read_day.period_at(datetime(2026, 1, 15, tzinfo=BERLIN)).start.month == 1


def _tariffs_for_the_invariant() -> dict[str, Tariff]:
    berlin = tariff_from_document(BERLIN_TOU)
    may_fuel = jackson(fuel_may=D("0.0049"), tax=D("7.5"))
    adjusted = replace(
        may_fuel,
        monthly_adjustments=tuple(D(m) / 1000 - D("0.003") for m in range(1, 13)),
    )
    e20 = load_urdb(FIXTURES / "urdb_tou_demand_e20_shape.json")
    # Jackson EMC reshaped as a baseline rate: tier bounds in "kWh daily" (x days of the period)
    baseline_document = json.loads(JACKSON.read_text())
    for tiers in baseline_document["energyratestructure"]:
        tiers[0].update({"max": 20, "unit": "kWh daily"})
        tiers[1].update({"max": 40, "unit": "kWh daily", "adj": 0.002})
    baseline = tariff_from_urdb(baseline_document, tax_percent=D(19))
    start = datetime(2026, 2, 25, tzinfo=UTC)  # to mid May: March and 15 Mar - 15 Apr
    slots = tuple(start + timedelta(minutes=30 * i) for i in range(48 * 80))
    rng = random.Random(7)
    dynamic = Tariff(
        currency="GBP",
        prices=PriceSeries(slots, tuple(D(rng.randint(-200, 900)) / 1000 for _ in slots)),
        monthly_adjustments=tuple(D(m) / 100 for m in range(12)),
        tax_percent=D(5),
    )
    tariffs = {
        "jackson": load_urdb(JACKSON),
        "jackson fuel + tax": may_fuel,
        "jackson every month adjusted": adjusted,
        "berlin tou daily tiers holiday tax": berlin,
        "jackson daily baseline + tax": baseline,
        "e20 energy only": e20,
        "dynamic negative prices": dynamic,
    }
    # The invariant holds for energy, adjustments and tax: drop fixed, demand and minimum charges.
    return {
        name: replace(t, fixed_charges=(), demand_charges=(), minimum_charge=None)
        for name, t in tariffs.items()
    }


def _random_usage(rng: random.Random, start: datetime, end: datetime) -> list[UsageInterval]:
    """Intervals of 1 to 180 minutes, sometimes with gaps, 0..big kWh with 3 decimals."""
    usage = []
    moment = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while moment < end:
        length = timedelta(minutes=rng.choice([1, 5, 15, 30, 60, 180]))
        stop = min(moment + length, end)
        if rng.random() > 0.1:
            kwh = D(rng.randint(0, 60_000 if rng.random() < 0.02 else 3_000)) / 1000
            usage.append(UsageInterval(moment, stop, kwh))
        moment = stop
    return usage


@pytest.mark.parametrize("billing_day", [1, 15])
@pytest.mark.parametrize(
    ("tz", "local_day"),
    [
        (EASTERN, datetime(2017, 5, 20)),
        (BERLIN, datetime(2026, 3, 20)),
        (BERLIN, datetime(2026, 12, 20)),
    ],
)
def test_summed_prices_equal_the_bill(billing_day: int, tz: ZoneInfo, local_day: datetime) -> None:
    # Around DST changes (29 Mar 2026 Berlin), holidays (25 Dec) and tier bounds; for each tariff
    # the running sum of price() equals compute_bill's lines (energy + adjustments + tax) exactly,
    # also as of part-way through the period, and the rounded totals agree.
    rng = random.Random(f"{billing_day} {tz} {local_day}")
    for name, tariff in _tariffs_for_the_invariant().items():
        pricer = RealtimePricer(tariff, tz, billing_day=billing_day)
        # The dynamic price series covers March to mid May 2026 only.
        when = local_day if tariff.prices is None else datetime(2026, 3, 20)
        period = pricer.period_at(when.replace(tzinfo=tz))
        usage = _random_usage(rng, period.start, period.end)
        running = D(0)
        total = D(0)
        halfway = period.start.astimezone(UTC) + (period.end - period.start) / 2
        total_at_halfway = None
        for interval in usage:
            if total_at_halfway is None and interval.start >= halfway:
                total_at_halfway = total
            assert pricer.period_at(interval.start) == period
            priced = pricer.price(interval.start, interval.end, interval.kwh, running)
            running += interval.kwh
            total += priced.cost
        assert running > 0, name
        bill = compute_bill(tariff, usage, period)
        assert sum((line.amount for line in bill.lines), D(0)) == total, name
        assert bill.total == total.quantize(D("0.01"), ROUND_HALF_UP), name
        energy_lines = sum((line.amount for line in bill.lines if line.kind == "energy"), D(0))
        assert energy_lines * (1 + tariff.tax_percent / 100) == total, name
        so_far = compute_bill(tariff, usage, period, as_of=halfway)
        assert sum((line.amount for line in so_far.lines), D(0)) == total_at_halfway, name
