"""URDB JSON and native TOML tariff loading."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from klima.energy.tariffs import (
    Charge,
    TariffError,
    Tier,
    calendar_month,
    compute_bill,
    intervals_from_starts,
    load_native,
    load_tariff,
    load_urdb,
    tariff_from_urdb,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tariffs"
JACKSON = FIXTURES / "urdb_jackson_emc_5a0b2804.json"
D = Decimal


def test_urdb_bare_rate_object() -> None:
    # Figures from research §2.2 (URDB 5a0b28045457a3ea2aca608e).
    tariff = load_urdb(JACKSON)
    assert tariff.currency == "USD"
    assert tariff.fixed_charges == (Charge(D("5.5"), "month"),)
    assert tariff.periods[0].tiers == (
        Tier(D("0.0896"), D(650)),
        Tier(D("0.0831"), D(1000)),
        Tier(D("0.0821")),
    )
    assert tariff.periods[1].tiers[2] == Tier(D("0.1181"))
    assert tariff.schedule.weekday[4] == (1,) * 24  # May
    assert tariff.schedule.weekend[9] == (0,) * 24  # October


def test_urdb_api_response_items_picks_first_or_label() -> None:
    response = FIXTURES / "urdb_api_response.json"
    assert load_urdb(response).fixed_charges[0].amount == D(99)
    chosen = load_urdb(response, label="5a0b28045457a3ea2aca608e")
    assert chosen == load_urdb(JACKSON)
    with pytest.raises(TariffError, match="no item labelled"):
        load_urdb(response, label="nope")


def test_urdb_adj_is_added_and_daily_units_scale() -> None:
    document = json.loads(JACKSON.read_text())
    document["energyratestructure"][0] = [
        {"rate": 0.1, "adj": 0.02, "max": 10, "unit": "kWh daily"},
        {"rate": 0.3},
    ]
    tariff = tariff_from_urdb(document)
    assert tariff.periods[0].tiers[0] == Tier(D("0.12"), D(10), daily=True)
    # January 2026 (31 days): 310 kWh allowance at 0.12, 10 kWh above at 0.30 -> 37.20 + 3.00
    # + 5.50 fixed = 45.70
    tz = ZoneInfo("America/New_York")
    start = datetime(2026, 1, 2, tzinfo=tz)
    usage = intervals_from_starts([(start, D(320)), (datetime(2026, 1, 3, tzinfo=tz), D(0))])
    assert compute_bill(tariff, usage, calendar_month(2026, 1, tz)).total == D("45.70")


def test_urdb_demand_structures() -> None:
    tariff = load_urdb(FIXTURES / "urdb_tou_demand_e20_shape.json")
    rates = [charge.rate for charge in tariff.demand_charges]
    assert rates == [D("11.98"), D("0.23"), D("3.56"), D("16.37")]  # S16
    assert tariff.minimum_charge == Charge(D(20), "month")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"energyratestructure": []}, "no energyratestructure"),
        ({"energyweekdayschedule": [[0] * 24] * 11}, "12 rows of 24"),
        ({"energyweekdayschedule": [[5] * 24] * 12}, "period the tariff does not have"),
        ({"fixedchargeunits": "$/fortnight"}, "fixedchargeunits"),
        ({"energyratestructure": [[{"rate": "x"}]]}, "not a number"),
        ({"energyratestructure": [[{"rate": 1, "unit": "kWh/kW"}]]}, "not supported"),
        (
            {
                "flatdemandstructure": [[{"rate": 1, "max": 5}, {"rate": 2}]],
                "flatdemandmonths": [0] * 12,
            },
            "tiered demand",
        ),
    ],
)
def test_urdb_rejects_what_it_cannot_price(change: dict[str, object], message: str) -> None:
    document = {**json.loads(JACKSON.read_text()), **change}
    if change.get("energyratestructure"):
        document["energyweekdayschedule"] = document["energyweekendschedule"] = [[0] * 24] * 12
    with pytest.raises(TariffError, match=message):
        tariff_from_urdb(document)


def test_urdb_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TariffError, match="not valid JSON"):
        load_urdb(bad)
    with pytest.raises(TariffError, match="cannot read"):
        load_urdb(tmp_path / "missing.json")


NATIVE = """
name = "Berlin TOU example"
currency = "eur"
rounding = "line"
tax_percent = "19"
holidays = ["2026-12-25"]
fixed = [{amount = "0.40", per = "day"}]
minimum = {amount = 5, per = "month"}

[[periods]]
name = "off-peak"
tiers = [{rate = "0.25"}]

[[periods]]
name = "peak"
tiers = [{rate = "0.40", max = 2, daily = true}, {rate = "0.50"}]

[[rules]]
period = "peak"
months = [12]
days = "weekday"
hours = [17, 20]

[[demand]]
name = "peak demand"
rate = "10"
period = "peak"
"""


def test_native_toml_tariff(tmp_path: Path) -> None:
    path = tmp_path / "tariff.toml"
    path.write_text(NATIVE)
    tariff = load_tariff(path)
    assert tariff == load_native(path)
    assert (tariff.currency, tariff.rounding, tariff.tax_percent) == ("EUR", "line", D(19))
    assert tariff.schedule.weekday[11][17:20] == (1, 1, 1)
    assert tariff.schedule.weekday[11][20] == 0
    assert tariff.schedule.weekend[11] == (0,) * 24
    # Thu 24 Dec 2026 18:00 (weekday, peak) 3 kWh in one hour; Fri 25 Dec 18:00 (holiday -> weekend
    # rules, off-peak) 4 kWh in one hour; empty rows close both hours (intervals run to the next
    # start).
    # peak: 3 kWh, allowance 2 x 31 = 62 -> 3 x 0.40 = 1.20; off-peak 4 x 0.25 = 1.00
    # demand 3 kW x 10 = 30.00; fixed 31 x 0.40 = 12.40; subtotal 44.60; tax 19 % = 8.474 -> 8.47
    # (rounded per line) -> total 53.07
    tz = ZoneInfo("Europe/Berlin")
    usage = intervals_from_starts(
        [
            (datetime(2026, 12, 24, 18, tzinfo=tz), D(3)),
            (datetime(2026, 12, 24, 19, tzinfo=tz), D(0)),
            (datetime(2026, 12, 25, 18, tzinfo=tz), D(4)),
            (datetime(2026, 12, 25, 19, tzinfo=tz), D(0)),
        ]
    )
    bill = compute_bill(tariff, usage, calendar_month(2026, 12, tz))
    amounts = {line.label: line.amount for line in bill.lines}
    assert amounts["peak tier 1"] == D("1.20")
    assert amounts["off-peak"] == D("1.00")
    assert amounts["peak demand"] == D("30.00")
    assert amounts["tax 19%"] == D("8.47")
    assert bill.total == D("53.07")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("periods = []", "at least one"),
        ("[[periods]]\nname='a'\ntiers=[{rate='x'}]", "must be a number"),
        ("[[periods]]\ntiers=[{rate=1}]\n[[rules]]\nperiod='b'", "period must be one of"),
        ("[[periods]]\ntiers=[{rate=1}]\n[[rules]]\nperiod='period 0'\nhours=[5, 30]", "hours"),
        ("rounding='up'\n[[periods]]\ntiers=[{rate=1}]", "rounding"),
        ("fixed=[{amount=1, per='week'}]\n[[periods]]\ntiers=[{rate=1}]", "per must be"),
        ("name = ", "not valid TOML"),
    ],
)
def test_native_rejects_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(TariffError, match=message):
        load_native(path)


def test_urdb_fuel_adjustments_and_demand_window() -> None:
    # Jackson EMC May bill (126.595 before rounding, test_bill_compute) with a made-up fuel
    # adjustment of 0.005 $/kWh in May: 1200 x 0.005 = 6.00 -> 132.595 -> 132.60
    document = json.loads(JACKSON.read_text())
    document["fueladjustmentsmonthly"] = [0.0] * 4 + [0.005] + [0.0] * 7
    tariff = tariff_from_urdb(document)
    tz = ZoneInfo("America/New_York")
    rows = [
        (datetime(2017, 5, day, tzinfo=tz), D(40) if day <= 30 else D(0)) for day in range(1, 32)
    ]
    bill = compute_bill(tariff, intervals_from_starts(rows), calendar_month(2017, 5, tz))
    assert [line.label for line in bill.lines if line.kind == "energy"][-1] == "adjustment month 5"
    assert bill.total == D("132.60")
    shaped = json.loads((FIXTURES / "urdb_tou_demand_e20_shape.json").read_text())
    shaped["demandwindow"] = 15
    assert {c.window_minutes for c in tariff_from_urdb(shaped).demand_charges} == {15}
    shaped["demandwindow"] = "soon"
    with pytest.raises(TariffError, match="demandwindow"):
        tariff_from_urdb(shaped)
