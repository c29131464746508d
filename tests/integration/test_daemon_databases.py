"""The daemon's persistence through the same code on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from tests.integration.test_persistence import database_url, postgres_admin
from tests.support.daemon_harness import running_daemon

from klima.persistence import Store
from klima.state import Mode, UnitState

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.mosquitto import MosquittoBroker

__all__ = ["database_url", "postgres_admin"]  # fixtures used below
pytestmark = pytest.mark.timeout(90)


async def test_daemon_saves_and_restores_state(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path, database_url: str
) -> None:
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, database_url=database_url
    ) as run:
        await run.send("sim_1/set", b'{"mode": "dry", "target_temperature": 22.5}')
        await run.wait_state(
            "sim_1", lambda s: s["mode"] == "dry" and s["state_source"] == "reported"
        )
    with Store.open(database_url) as store:
        saved = UnitState.from_json(store.load_states()["sim_1"])
        history = store.state_history("sim_1")
        events = store.events()
    assert saved.mode is Mode.DRY and saved.power and saved.target_temperature == 22.5
    assert len(history) >= 2  # the first reading and the change
    assert {"availability"} <= {e.type for e in events}


async def test_setpoint_limits_from_the_config_are_enforced(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, min_temp=18.0, max_temp=26.0
    ) as run:
        await run.send("sim_1/set", b'{"mode": "heat", "target_temperature": 27}')
        (event,) = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "command_rejected"), what="rejection"
        )
        assert event["data"]["field"] == "target_temperature"
        assert event["data"]["allowed"] == [18.0, 26.0]
        assert not run.sim.endpoint("sim_1").unit.power
        await run.send("sim_1/set", b'{"mode": "heat", "target_temperature": 26}')
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 26.0)
