"""EnergyTotals arithmetic and the integer units the recorder stores (mWh, micro-units)."""

from __future__ import annotations

from decimal import Decimal

from klima.energy.model import EnergySource
from klima.persistence import EnergyTotals
from klima.persistence.energy import cost_to_micros, kwh_to_mwh, micros_to_cost, mwh_to_kwh


def test_add_puts_kwh_under_its_source_and_adds_the_cost() -> None:
    totals = (
        EnergyTotals()
        .add(1.5, EnergySource.METERED, Decimal("0.45"))
        .add(0.25, EnergySource.ESTIMATED, Decimal("0.075"))
        .add(0.5, EnergySource.METERED, Decimal("0.15"))
    )
    assert totals == EnergyTotals(
        metered_kwh=1.5 + 0.5, reported_kwh=0.0, estimated_kwh=0.25, cost=Decimal("0.675")
    )
    assert totals.kwh == 2.25


def test_sum_and_json() -> None:
    a = EnergyTotals(1.0, 2.0, 3.0, Decimal("1.10"))
    b = EnergyTotals(0.5, 0.0, 1.0, Decimal("-0.20"))  # negative dynamic prices are possible
    assert a + b == EnergyTotals(1.5, 2.0, 4.0, Decimal("0.90"))
    assert (a + b).to_json() == {
        "kwh": 1.5 + 2.0 + 4.0,
        "metered_kwh": 1.5,
        "reported_kwh": 2.0,
        "estimated_kwh": 4.0,
        "cost": "0.90",
    }


def test_stored_units() -> None:
    assert kwh_to_mwh(3.0 / 60) == 50_000  # one minute at 3 kW
    assert mwh_to_kwh(50_000) == 0.05
    # Half a micro-unit rounds to even: 0.0000005 -> 0, 0.0000015 -> 2 micro-units.
    assert cost_to_micros(Decimal("0.0000005")) == 0
    assert cost_to_micros(Decimal("0.0000015")) == 2
    assert cost_to_micros(Decimal("-1.2345675")) == -1_234_568
    assert micros_to_cost(1_234_500) == Decimal("1.2345")
    assert EnergyTotals.from_stored(1_000_000, 0, 250_000, 375_000) == EnergyTotals(
        1.0, 0.0, 0.25, Decimal("0.375")
    )
