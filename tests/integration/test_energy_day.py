"""End to end: a simulated unit heats a room for a simulated day; what the energy service
publishes matches what it recorded, and the recorded samples priced by the bill engine.

The unit is the simulator's inverter heat pump with its room physics; its state reaches the
energy service the way the CN105 driver reports it (input power in W, a 0.1 kWh counter that
wraps at 6553.6). The database is a real SQLite file; time is simulated (one state every 10 s).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from klima.config import validate_config
from klima.energy.model import CN105_COUNTER_WRAP_KWH, EnergySource
from klima.energy.service import EnergyService
from klima.energy.setup import load_energy
from klima.energy.tariffs import UsageInterval, calendar_month, compute_bill, load_tariff
from klima.persistence import Store
from klima.state import Action, Mode, UnitState
from klima_sim.clock import ManualClock
from klima_sim.room import OutdoorClimate, Room
from klima_sim.unit import SimulatedUnit

if TYPE_CHECKING:
    from pathlib import Path

ZONE = ZoneInfo("Europe/Berlin")
# Tiered off-peak (the first 3 kWh a day of the month at 0.25) and a weekday evening peak, with
# 19 % tax: every part of the tariff engine the real-time path shares with the bill.
TARIFF = """
name = "test TOU"
currency = "EUR"
tax_percent = "19"
fixed = [{amount = "0.40", per = "day"}]

[[periods]]
name = "off-peak"
tiers = [{rate = "0.25", max = "3", daily = true}, {rate = "0.30"}]

[[periods]]
name = "peak"
tiers = [{rate = "0.45"}]

[[rules]]
period = "peak"
days = "weekday"
hours = [17, 21]
"""


def _config(tmp_path: Path, **unit_energy: Any) -> Any:
    tariff = tmp_path / "tariff.toml"
    tariff.write_text(TARIFF, encoding="utf-8")
    return validate_config(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'klima.db'}"},
            "energy": {"tariff": str(tariff), "timezone": "Europe/Berlin"},
            "units": [
                {"id": "living", "driver": "mitsubishi_cn105", "port": "/dev/null",
                 "energy": unit_energy},
            ],
        }
    )  # fmt: skip


def _reported_state(sim: SimulatedUnit) -> UnitState:
    """What the CN105 driver makes of the simulated unit: W and a wrapping 0.1 kWh counter."""
    counter = (round(sim.energy_kwh * 10) / 10) % CN105_COUNTER_WRAP_KWH
    running = sim.power and sim.operating
    return UnitState(
        power=sim.power,
        mode=sim.mode,
        target_temperature=sim.target_temperature,
        current_temperature=round(sim.room_temperature, 1),
        outdoor_temperature=sim.outdoor_temperature,
        action=(Action.HEATING if running else Action.IDLE) if sim.power else Action.OFF,
        compressor_frequency=sim.compressor_frequency,
        power_w=round(sim.power_w),
        energy_kwh=counter,
    )


class Published:
    def __init__(self) -> None:
        self.last: dict[str | None, dict[str, Any]] = {}

    def __call__(self, owner: str | None, payload: dict[str, Any]) -> None:
        self.last[owner] = payload


def _run_day(
    service: EnergyService, sim: SimulatedUnit, clock: ManualClock, start: datetime, hours: float
) -> datetime:
    now = start
    end = start + timedelta(hours=hours)
    while now < end:
        for _ in range(6):  # a poll every 10 s, a minute closed every 6 polls
            clock.advance(10.0)
            now += timedelta(seconds=10)
            sim.advance()
            service.observe_state("living", _reported_state(sim), now)
        service.close_minute(now)
    return now


@pytest.fixture
def sim_unit() -> tuple[SimulatedUnit, ManualClock]:
    clock = ManualClock()
    room = Room(outdoor=OutdoorClimate.constant(2.0), temperature=16.0)
    unit = SimulatedUnit(clock=clock, room=room, power=True, mode=Mode.HEAT)
    unit.target_temperature = 21.0
    # Start the counter near its wrap, as a unit that has run for years would be.
    unit.energy_kwh = CN105_COUNTER_WRAP_KWH - 1.0
    return unit, clock


def test_a_simulated_day_publishes_what_it_records_and_the_bill_agrees(
    tmp_path: Path, sim_unit: tuple[SimulatedUnit, ManualClock]
) -> None:
    sim, clock = sim_unit
    config = _config(tmp_path)
    setup = load_energy(config)
    start = datetime(2026, 11, 2, 0, 0, tzinfo=ZONE).astimezone(UTC)  # a Monday
    published = Published()
    with Store.open(config.database_url()) as store:
        service = EnergyService(config, setup, store, now=start, publish=published)
        sim.advance()
        service.observe_state("living", _reported_state(sim), start)
        end = _run_day(service, sim, clock, start, hours=24)
        store.flush()
        samples = store.energy_series("living", start, end, "minute", ZONE)
        days = store.energy_series("living", start, end, "day", ZONE)

    unit = published.last["living"]
    house = published.last[None]
    kwh = sum(Decimal(str(s.totals.kwh)) for s in samples)
    # The unit ran all day at 2 °C outdoors: several kWh, all of it from the unit's counter.
    assert kwh > 5
    assert all(s.totals.reported_kwh == s.totals.kwh for s in samples)
    assert unit["source"] == EnergySource.REPORTED
    # The counter wrapped during the day and no energy was lost or invented: the simulator's
    # own integral agrees to within the counter's 0.1 kWh resolution (one step at each end).
    assert abs(float(kwh) - (sim.energy_kwh - (CN105_COUNTER_WRAP_KWH - 1.0))) <= 0.2
    # Published today == recorded samples == the daily rollup; the house is the only unit.
    assert unit["energy_today_kwh"] == pytest.approx(float(kwh), abs=5e-4)
    assert days[0].totals.kwh == pytest.approx(float(kwh), abs=1e-6)
    assert house["energy_period_kwh"] == unit["energy_period_kwh"]
    # The bill engine over the recorded samples: energy lines plus 19 % tax.
    tariff = load_tariff(tmp_path / "tariff.toml")
    usage = [UsageInterval(s.start, s.end, Decimal(str(round(s.totals.kwh, 6)))) for s in samples]
    bill = compute_bill(tariff, usage, calendar_month(2026, 11, ZONE), as_of=end)
    energy = sum((line.amount for line in bill.lines if line.kind == "energy"), Decimal(0))
    expected = (energy * Decimal("1.19")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(str(unit["cost_today"])) == expected
    assert Decimal(str(house["cost_period"])) == expected
    # The house adds the fixed charge of the period's two elapsed days (1 and 2 November):
    # 2 x 0.40 = 0.80, + 19 % tax = 0.952, shown as 0.95.
    assert Decimal(str(house["fixed_period"])) == Decimal("0.95")
    bill_total = sum((line.amount for line in bill.lines), Decimal(0))  # energy + fixed + tax
    assert Decimal(str(house["bill_period"])) == bill_total.quantize(Decimal("0.01"), ROUND_HALF_UP)
    # Peak hours were used, so the price mix is not a single rate.
    assert {line.label for line in bill.lines if line.kind == "energy"} >= {"peak"}
    assert unit["currency"] == "EUR"


def test_a_restart_continues_the_totals_and_the_counter(
    tmp_path: Path, sim_unit: tuple[SimulatedUnit, ManualClock]
) -> None:
    sim, clock = sim_unit
    config = _config(tmp_path)
    setup = load_energy(config)
    start = datetime(2026, 11, 3, 6, 0, tzinfo=ZONE).astimezone(UTC)
    first = Published()
    with Store.open(config.database_url()) as store:
        service = EnergyService(config, setup, store, now=start, publish=first)
        service.observe_state("living", _reported_state(sim), start)
        stop = _run_day(service, sim, clock, start, hours=2)
    # The hub is down for 10 minutes while the unit keeps heating; its counter keeps counting.
    clock.advance(600.0)
    sim.advance()
    restart = stop + timedelta(minutes=10)
    second = Published()
    with Store.open(config.database_url()) as store:
        service = EnergyService(config, setup, store, now=restart, publish=second)
        service.observe_state("living", _reported_state(sim), restart)
        end = _run_day(service, sim, clock, restart, hours=1)
        store.flush()
        recorded = store.energy_series("living", start, end, "minute", ZONE)
    total = sum(s.totals.kwh for s in recorded)
    used = sim.energy_kwh - (CN105_COUNTER_WRAP_KWH - 1.0)
    # The gap's energy arrives with the first counter reading after the restart.
    assert total == pytest.approx(used, abs=0.2)
    assert second.last["living"]["energy_today_kwh"] == pytest.approx(total, abs=5e-4)
    assert second.last["living"]["energy_lifetime_kwh"] == pytest.approx(total, abs=5e-4)
    assert second.last["living"]["cost_period"] > first.last["living"]["cost_period"] > 0
