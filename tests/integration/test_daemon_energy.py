"""The energy service inside the running daemon, against a real Mosquitto and SQLite.

The simulated CN105 unit reports its power and counter; a smart plug on MQTT outranks it.
Minutes are closed by calling the service directly instead of waiting for the wall clock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.daemon_harness import running_daemon

from klima.config_energy import EnergyConfig, UnitEnergyConfig

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MosquittoBroker

pytestmark = pytest.mark.timeout(60)

TARIFF = """
name = "flat with tax"
currency = "EUR"
tax_percent = "10"
[[periods]]
name = "flat"
tiers = [{rate = "0.30"}]
"""


async def test_energy_is_published_priced_discovered_and_queryable(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    tariff = tmp_path / "tariff.toml"
    tariff.write_text(TARIFF, encoding="utf-8")
    plug = f"{mqtt_base}_plug/status"
    async with running_daemon(
        mosquitto.url,
        mqtt_base,
        tmp_path,
        units=1,
        energy_config=EnergyConfig(tariff=tariff, timezone="Europe/Berlin"),
        energy=UnitEnergyConfig(meter={"topic": plug, "power_path": "apower"}),
    ) as run:
        service = run.daemon.energy
        assert service is not None
        obs = run.observer
        energy_topic = f"{mqtt_base}/sim_1/energy"

        # Home Assistant gets energy, power and cost sensors in the tariff's currency.
        discovery = f"homeassistant/device/klima_{mqtt_base}_sim_1/config"
        config = await obs.wait_for(
            lambda: (c := obs.json(discovery)) and "cost" in c["cmps"] and c, what="discovery"
        )
        cost = config["cmps"]["cost"]
        assert (cost["unit_of_meas"], cost["dev_cla"], cost["stat_cla"]) == (
            "EUR", "monetary", "total"
        )  # fmt: skip
        assert config["cmps"]["energy"]["stat_t"] == energy_topic

        # Heat hard, so the unit reports real power; a closed minute says where it came from.
        await run.send("sim_1/set", '{"power": true, "mode": "heat", "target_temperature": 30}')
        await run.wait_state("sim_1", lambda s: (s.get("power_w") or 0) > 100)
        service.close_minute(datetime.now(UTC))
        reported = await obs.wait_for(
            lambda: (p := obs.json(energy_topic)) and p["source"] == "reported" and p,
            what="a reported minute",
        )
        # 0.30 EUR/kWh + 10 % tax, the only tariff period.
        assert (reported["price"], reported["tariff_period"]) == (0.33, "flat")
        assert reported["currency"] == "EUR"

        # The plug's reading outranks the unit's own from the moment it arrives.
        await obs.publish(plug, json.dumps({"apower": 750.5, "voltage": 230}))
        await obs.wait_for(
            lambda: service.trackers["sim_1"].power_w(datetime.now(UTC)) == 750.5,
            what="the plug reading",
        )
        # Close the minute 30 s on: the plug's 750 W held that long (no sleeping in the test).
        service.close_minute(datetime.now(UTC) + timedelta(seconds=30))
        metered = await obs.wait_for(
            lambda: (p := obs.json(energy_topic)) and p["power_w"] == 750.5 and p,
            what="a metered minute",
        )
        house = await obs.wait_for(
            lambda: (p := obs.json(f"{mqtt_base}/bridge/energy")) and p["power_w"] == 750.5 and p,
            what="the house total",
        )
        assert metered["energy_today_kwh"] == house["energy_today_kwh"]
        assert house["units"] == ["sim_1"]

        # The recorded history over MQTT, and a bad request answered with the field at fault.
        await service.store.aflush()
        await run.send("bridge/request/energy/query", '{"unit": "sim_1", "bucket": "minute"}')
        answer: dict[str, Any] = await obs.wait_for(
            lambda: obs.json(f"{mqtt_base}/bridge/response/energy/query"), what="query answer"
        )
        assert answer["status"] == "ok", answer
        rows = answer["data"]["rows"]
        assert {row["metered_kwh"] > 0 for row in rows} >= {True}
        assert sum(row["kwh"] for row in rows) == pytest.approx(
            metered["energy_today_kwh"], abs=1e-3
        )
        obs.latest.pop(f"{mqtt_base}/bridge/response/energy/query")
        await run.send("bridge/request/energy/query", '{"bucket": "week", "transaction": 7}')
        error = await obs.wait_for(
            lambda: obs.json(f"{mqtt_base}/bridge/response/energy/query"), what="error answer"
        )
        assert (error["status"], error["transaction"]) == ("error", 7)
        assert "week" in error["error"]
