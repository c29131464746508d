"""The rate limit as an MQTT client sees it: real Mosquitto, a simulated CN105 unit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from tests.support.daemon_harness import running_daemon

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.timeout(60)


async def test_too_many_commands_are_refused_with_an_event_and_a_rejection(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, max_commands_per_minute=1
    ) as run:
        unit = run.sim.endpoint("sim_1").unit
        await run.send("sim_1/set", b'{"mode": "heat", "target_temperature": 21}')
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 21.0)
        await run.send("sim_1/set", b'{"target_temperature": 25, "transaction": "second"}')

        def answers(kind: str) -> list[dict[str, Any]]:
            events = run.observer.events(mqtt_base, kind)
            return [e for e in events if e["data"].get("transaction") == "second"]

        [refused] = await run.observer.wait_for(lambda: answers("safety_refused"), what="event")
        [rejected] = await run.observer.wait_for(lambda: answers("command_rejected"), what="reply")
        assert refused["unit"] == "sim_1" and refused["data"]["origin"] == "mqtt"
        assert refused["data"]["reason"] == "rate_limit"
        assert refused["data"]["action"] == "refused"
        assert refused["data"]["command"] == {"target_temperature": 25.0}
        message = rejected["data"]["message"]
        assert message.startswith("too many commands for unit 'sim_1'; next allowed at ")
        assert message.endswith(refused["data"]["lockout_until"])
        state = await run.wait_state("sim_1", lambda s: s["state_source"] == "reported")
        assert state["target_temperature"] == 21.0 and unit.target_temperature == 21.0
