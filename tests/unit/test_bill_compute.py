"""Bill engine cases checked by hand; the arithmetic is in the comments next to each expectation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from klima.energy.tariffs import (
    Charge,
    DemandCharge,
    EnergyPeriod,
    PriceSeries,
    Schedule,
    Tariff,
    TariffError,
    Tier,
    UsageInterval,
    calendar_month,
    compute_bill,
    intervals_from_starts,
    load_urdb,
    meter_read_period,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tariffs"
BERLIN = ZoneInfo("Europe/Berlin")
EASTERN = ZoneInfo("America/New_York")  # Jackson EMC serves Georgia
D = Decimal


def hourly(start: datetime, end: datetime, kwh: Decimal) -> list[UsageInterval]:
    """Real hours (UTC steps) from start to end, each using ``kwh``."""
    step = timedelta(hours=1)
    moments = []
    moment = start.astimezone(UTC)
    while moment < end:
        moments.append(moment)
        moment += step
    return [UsageInterval(m, m + step, kwh) for m in moments]


def daily(year: int, month: int, per_day: list[Decimal], tz: ZoneInfo) -> list[UsageInterval]:
    starts = [datetime(year, month, day + 1, tzinfo=tz) for day in range(len(per_day))]
    ends = [*starts[1:], calendar_month(year, month, tz).end]
    return [UsageInterval(s, e, k) for s, e, k in zip(starts, ends, per_day, strict=True)]


def test_jackson_emc_may_inclining_blocks_split_inside_an_interval() -> None:
    # URDB 5a0b2804 (research §2.2): May is period 1: 0-650 kWh 0.0896, 650-1000 0.1121,
    # >1000 0.1181; 5.50 $/month. Usage 40 kWh/day for May 1-30, 0 on May 31 = 1200 kWh.
    # Day 17 takes the cumulative 640 -> 680 and crosses 650 inside the interval (10 + 30 kWh);
    # 1000 is reached exactly at the end of day 25.
    # energy 650 x 0.0896 = 58.24; 350 x 0.1121 = 39.235; 200 x 0.1181 = 23.62 -> 121.095
    # total 121.095 + 5.50 = 126.595 -> 126.60 (ROUND_HALF_UP once at the total)
    tariff = load_urdb(FIXTURES / "urdb_jackson_emc_5a0b2804.json")
    usage = daily(2017, 5, [D(40)] * 30 + [D(0)], EASTERN)
    bill = compute_bill(tariff, usage, calendar_month(2017, 5, EASTERN))
    energy = {
        line.label: (line.quantity, line.amount) for line in bill.lines if line.kind == "energy"
    }
    assert energy == {
        "period 1 tier 1": (D(650), D("58.2400")),
        "period 1 tier 2": (D(350), D("39.2350")),
        "period 1 tier 3": (D(200), D("23.6200")),
    }
    assert bill.kwh == D(1200)
    assert bill.total == D("126.60")


def test_jackson_emc_january_declining_blocks() -> None:
    # January is period 0: 650 x 0.0896 = 58.24; 350 x 0.0831 = 29.085; 200 x 0.0821 = 16.42
    # energy 103.745 + 5.50 = 109.245 -> 109.25
    tariff = load_urdb(FIXTURES / "urdb_jackson_emc_5a0b2804.json")
    usage = daily(2017, 1, [D(40)] * 30 + [D(0)], EASTERN)
    bill = compute_bill(tariff, usage, calendar_month(2017, 1, EASTERN))
    assert bill.total == D("109.25")
    assert next(line.label for line in bill.lines if line.kind == "energy") == "period 0 tier 1"


def test_tier_crossing_splits_a_single_interval() -> None:
    # One 1-hour interval of 700 kWh: 650 at 0.0896 + 50 at 0.1121 (May) = 58.24 + 5.605 = 63.845
    # plus a second, empty interval; fixed 5.50 -> 69.345 -> 69.35
    tariff = load_urdb(FIXTURES / "urdb_jackson_emc_5a0b2804.json")
    start = datetime(2017, 5, 3, 10, tzinfo=EASTERN)
    usage = intervals_from_starts([(start, D(700)), (start + timedelta(hours=1), D(0))])
    bill = compute_bill(tariff, usage, calendar_month(2017, 5, EASTERN))
    energy = [(line.quantity, line.rate) for line in bill.lines if line.kind == "energy"]
    assert energy == [(D(650), D("0.0896")), (D(50), D("0.1121"))]
    assert bill.total == D("69.35")


@pytest.mark.parametrize(("month", "hours"), [(3, 743), (10, 745), (4, 720)])
def test_berlin_dst_months_count_real_hours(month: int, hours: int) -> None:
    # 1 kWh every real hour of the local month: March 2026 loses an hour on the 29th (743 h),
    # October gains one on the 25th (745 h). 0.30 EUR/kWh + 0.40 EUR/day standing charge:
    # March 743 x 0.30 + 31 x 0.40 = 222.90 + 12.40 = 235.30; October 223.50 + 12.40 = 235.90;
    # April 720 x 0.30 + 30 x 0.40 = 216.00 + 12.00 = 228.00
    period = calendar_month(2026, month, BERLIN)
    tariff = Tariff(
        currency="EUR",
        periods=(EnergyPeriod("flat", (Tier(D("0.30")),)),),
        fixed_charges=(Charge(D("0.40"), "day"),),
    )
    bill = compute_bill(tariff, hourly(period.start, period.end, D(1)), period)
    assert bill.kwh == hours
    expected = {3: "235.30", 10: "235.90", 4: "228.00"}[month]
    assert bill.total == D(expected)


def test_tou_on_the_spring_forward_day_uses_local_hours() -> None:
    # Peak 17:00-20:00 local at 0.50, off-peak 0.20. 29 March 2026 in Berlin has 23 hours; the
    # 3 peak hours still fall at 17, 18 and 19 local: 3 x 0.50 + 20 x 0.20 = 1.50 + 4.00 = 5.50
    rows = [tuple([0] * 17 + [1] * 3 + [0] * 4)] * 12
    tariff = Tariff(
        currency="EUR",
        periods=(EnergyPeriod("off", (Tier(D("0.20")),)), EnergyPeriod("peak", (Tier(D("0.50")),))),
        schedule=Schedule(tuple(rows), tuple(rows)),
    )
    day_start = datetime(2026, 3, 29, tzinfo=BERLIN)
    usage = hourly(day_start, datetime(2026, 3, 30, tzinfo=BERLIN), D(1))
    assert len(usage) == 23
    bill = compute_bill(tariff, usage, calendar_month(2026, 3, BERLIN))
    assert {line.label: line.quantity for line in bill.lines} == {"off": D(20), "peak": D(3)}
    assert bill.total == D("5.50")


def test_as_of_prorates_fixed_charges_by_elapsed_local_days() -> None:
    # March 2026 Berlin, as of 29 March 12:00 local: 28 whole days + 11 real hours of a 23-hour day.
    period = calendar_month(2026, 3, BERLIN)
    as_of = datetime(2026, 3, 29, 12, tzinfo=BERLIN)
    assert period.elapsed_days(as_of) == 28 + D(11) / D(23)
    # 31.00 EUR/month x (28 + 11/23)/31 = 28.4782608... ; no usage -> total 28.48
    tariff = Tariff(currency="EUR", fixed_charges=(Charge(D(31), "month"),))
    usage = hourly(period.start, period.end, D(0))
    assert compute_bill(tariff, usage, period, as_of).total == D("28.48")


def test_daily_allowance_uses_the_whole_period_even_as_of() -> None:
    # Baseline 10 kWh/day x 30 days (June) = 300 kWh at 0.20, above at 0.40. As of 11 June, 320 kWh
    # used (the allowance is the whole month's, not 10 elapsed days'): 300 x 0.20 + 20 x 0.40 = 68.
    tariff = Tariff(
        periods=(EnergyPeriod("all", (Tier(D("0.2"), D(10), daily=True), Tier(D("0.4")))),)
    )
    period = calendar_month(2026, 6, EASTERN)
    usage = daily(2026, 6, [D(32)] * 10 + [D(0)] * 20, EASTERN)
    bill = compute_bill(tariff, usage, period, datetime(2026, 6, 11, tzinfo=EASTERN))
    assert bill.total == D("68.00")


def test_negative_dynamic_prices() -> None:
    # Half-hourly prices (GBP/kWh): 0.20, -0.05, -0.10, 0.30; usage 1, 2, 3, 0.5 kWh
    # 0.20 - 0.10 - 0.30 + 0.15 = -0.05; standing charge 0.50/day for 1 of 30 days (as of next day)
    start = datetime(2026, 6, 1, tzinfo=ZoneInfo("Europe/London"))
    starts = tuple(start + timedelta(minutes=30 * i) for i in range(4))
    prices = PriceSeries(starts, (D("0.20"), D("-0.05"), D("-0.10"), D("0.30")))
    tariff = Tariff(currency="GBP", prices=prices, fixed_charges=(Charge(D("0.50"), "day"),))
    usage = intervals_from_starts(list(zip(starts, (D(1), D(2), D(3), D("0.5")), strict=True)))
    period = calendar_month(2026, 6, start.tzinfo)  # type: ignore[arg-type]
    bill = compute_bill(tariff, usage, period, start + timedelta(days=1))
    energy = next(line for line in bill.lines if line.kind == "energy")
    assert energy.amount == D("-0.05")
    assert bill.total == D("0.45")


def test_dynamic_price_missing_for_an_interval_is_an_error() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    prices = PriceSeries((start, start + timedelta(minutes=30)), (D(1), D(1)))
    usage = intervals_from_starts([(start + timedelta(hours=h), D(1)) for h in range(3)])
    with pytest.raises(TariffError, match="no price"):
        compute_bill(Tariff(prices=prices), usage, calendar_month(2026, 6, ZoneInfo("UTC")))


def test_tou_demand_minimum_charge_and_tax() -> None:
    # Fixture: E-20 demand rates (S16) on a synthetic schedule. July weekday 14:00 is period 3
    # (16.37 $/kW), 09:00 is period 1 (0.23 $/kW). Usage: 2 kWh in a 15-minute interval at 14:00
    # = 8 kW; 1 kWh per 15 min at 09:00 = 4 kW. Energy 3 kWh x 0.10 = 0.30.
    # demand: 8 x 16.37 = 130.96 and 4 x 0.23 = 0.92 -> subtotal 0.30 + 131.88 = 132.18 (over the
    # 20 $ minimum). Tax 10 %: 13.218 -> total 145.398 -> 145.40
    tariff = load_urdb(FIXTURES / "urdb_tou_demand_e20_shape.json")
    tz = ZoneInfo("America/Los_Angeles")
    at_9 = datetime(2026, 7, 1, 9, tzinfo=tz)
    at_14 = datetime(2026, 7, 1, 14, tzinfo=tz)
    quarter = timedelta(minutes=15)
    usage = [UsageInterval(at_9, at_9 + quarter, D(1)), UsageInterval(at_14, at_14 + quarter, D(2))]
    tariff = Tariff(**{**tariff.__dict__, "tax_percent": D(10)})
    bill = compute_bill(tariff, usage, calendar_month(2026, 7, tz))
    demand = {line.label: line.quantity for line in bill.lines if line.kind == "demand"}
    assert demand == {"demand period 1": D(4), "demand period 3": D(8)}
    assert bill.total == D("145.40")


def test_minimum_charge_tops_up_a_small_bill() -> None:
    # Same fixture, one off-season hour of 1 kWh in January (period 2, 3.56 $/kW):
    # 0.10 + 3.56 = 3.66 < 20 minimum -> top-up 16.34, total 20.00
    tariff = load_urdb(FIXTURES / "urdb_tou_demand_e20_shape.json")
    tz = ZoneInfo("America/Los_Angeles")
    start = datetime(2026, 1, 5, 3, tzinfo=tz)
    bill = compute_bill(
        tariff,
        [UsageInterval(start, start + timedelta(hours=1), D(1))],
        calendar_month(2026, 1, tz),
    )
    assert [line.kind for line in bill.lines] == ["energy", "demand", "minimum"]
    assert bill.total == D("20.00")


def test_rounding_per_line_can_differ_from_rounding_once() -> None:
    # Two lines of 0.005 each: rounded once 0.01; per line 0.01 + 0.01 = 0.02 (half up).
    tariff = Tariff(
        periods=(EnergyPeriod("flat", (Tier(D("0.001")),)),),
        fixed_charges=(Charge(D("0.005"), "month"),),
    )
    start = datetime(2026, 2, 1, tzinfo=UTC)
    usage = [UsageInterval(start, start + timedelta(hours=1), D(5))]
    period = calendar_month(2026, 2, ZoneInfo("UTC"))
    assert compute_bill(tariff, usage, period).total == D("0.01")
    per_line = Tariff(**{**tariff.__dict__, "rounding": "line"})
    assert compute_bill(per_line, usage, period).total == D("0.02")


def test_holiday_uses_the_weekend_schedule() -> None:
    weekday = tuple([tuple([1] * 24)] * 12)
    weekend = tuple([tuple([0] * 24)] * 12)
    holiday = datetime(2026, 12, 25, 10, tzinfo=BERLIN)  # a Friday
    schedule = Schedule(weekday, weekend)
    assert schedule.period_at(holiday, frozenset()) == 1
    assert schedule.period_at(holiday, frozenset({holiday.date()})) == 0


def test_flat_demand_charge_over_all_intervals() -> None:
    # 3 kWh in one half hour = 6 kW; 12 $/kW -> 72.00
    tariff = Tariff(demand_charges=(DemandCharge("demand", D(12)),))
    start = datetime(2026, 2, 2, tzinfo=UTC)
    usage = intervals_from_starts([(start, D(3)), (start + timedelta(minutes=30), D(1))])
    assert compute_bill(tariff, usage, calendar_month(2026, 2, ZoneInfo("UTC"))).total == D("72.00")


def test_meter_read_period() -> None:
    period = meter_read_period(datetime(2026, 1, 3).date(), 15, BERLIN)
    assert period.start == datetime(2025, 12, 15, tzinfo=BERLIN)
    assert period.end == datetime(2026, 1, 15, tzinfo=BERLIN)
    assert period.days == 31
    later = meter_read_period(datetime(2026, 3, 20).date(), 15, BERLIN)
    assert (later.start.day, later.start.month, later.days) == (15, 3, 31)


def test_usage_validation() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(TariffError, match="two rows"):
        intervals_from_starts([(start, D(1))])
    with pytest.raises(TariffError, match="increasing"):
        intervals_from_starts([(start, D(1)), (start, D(1))])
    with pytest.raises(TariffError, match="negative"):
        intervals_from_starts([(start, D(-1)), (start + timedelta(hours=1), D(1))])
    last = intervals_from_starts([(start, D(1)), (start + timedelta(minutes=30), D(1))])[-1]
    assert last.end - last.start == timedelta(minutes=30)


def test_a_max_on_the_last_tier_does_not_leave_energy_unpriced() -> None:
    # 0.10 up to 5 kWh, then 0.20 "up to 6" (last tier): 8 kWh = 0.50 + 3 x 0.20 = 1.10
    tiers = (Tier(D("0.1"), D(5)), Tier(D("0.2"), D(6)))
    tariff = Tariff(periods=(EnergyPeriod("all", tiers),))
    start = datetime(2026, 2, 2, tzinfo=UTC)
    usage = intervals_from_starts([(start, D(8)), (start + timedelta(hours=1), D(0))])
    assert compute_bill(tariff, usage, calendar_month(2026, 2, ZoneInfo("UTC"))).total == D("1.10")


def test_demand_averages_over_the_demand_window() -> None:
    # 5-minute intervals 12:00, 12:05, 12:10 with 0.5, 0.5 and 1.0 kWh, then zeros. A 15-minute
    # window holds 2.0 kWh -> 2.0 / 0.25 h = 8 kW (the single 1.0 kWh interval alone would be
    # 12 kW). 10 $/kW -> 80.00; without a window the peak interval gives 120.00.
    start = datetime(2026, 2, 2, 12, tzinfo=UTC)
    kwh = [D("0.5"), D("0.5"), D("1.0"), D(0), D(0), D(0)]
    usage = intervals_from_starts(
        [(start + timedelta(minutes=5 * i), k) for i, k in enumerate(kwh)]
    )
    period = calendar_month(2026, 2, ZoneInfo("UTC"))
    windowed = Tariff(demand_charges=(DemandCharge("demand", D(10), window_minutes=15),))
    assert compute_bill(windowed, usage, period).total == D("80.00")
    instant = Tariff(demand_charges=(DemandCharge("demand", D(10)),))
    assert compute_bill(instant, usage, period).total == D("120.00")


def test_minimum_charge_prorated_and_rounded_per_line() -> None:
    # Minimum 10.00/month, as of 10 days into a 30-day June: 10 x 10/30 = 3.3333.. -> per line 3.33.
    # Energy 1 kWh x 0.50 = 0.50 -> top-up 2.83; total 3.33 (rounding once would also give 3.33).
    tariff = Tariff(
        periods=(EnergyPeriod("flat", (Tier(D("0.5")),)),),
        minimum_charge=Charge(D(10), "month"),
        rounding="line",
    )
    start = datetime(2026, 6, 1, tzinfo=UTC)
    usage = intervals_from_starts([(start, D(1)), (start + timedelta(hours=1), D(0))])
    period = calendar_month(2026, 6, ZoneInfo("UTC"))
    bill = compute_bill(tariff, usage, period, datetime(2026, 6, 11, tzinfo=UTC))
    assert [line.amount for line in bill.lines] == [D("0.50"), D("2.83")]
    assert bill.total == D("3.33")
