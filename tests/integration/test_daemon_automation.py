"""Automation in the running daemon, over a real Mosquitto: programs, presets, holds, run-time
schedule changes that survive a restart, and what Home Assistant is told."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.daemon_harness import Running, running_daemon

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MosquittoBroker

pytestmark = pytest.mark.timeout(60)

ALWAYS = {
    "site": {"timezone": "Europe/Berlin"},
    # One block a day at midnight: whatever the time of the test, it is in force.
    "schedules": [
        {"id": "always", "units": ["sim_1"],
         "blocks": [{"at": "00:00", "mode": "heat", "target_temperature": 23.0}]},
    ],
}  # fmt: skip


async def _request(run: Running, action: str, data: dict[str, Any]) -> dict[str, Any]:
    topic = f"{run.base}/bridge/response/{action}"
    run.observer.latest.pop(topic, None)
    await run.send(f"bridge/request/{action}", json.dumps(data))
    answer: dict[str, Any] = await run.observer.wait_for(
        lambda: run.observer.json(topic), what=f"answer to {action}"
    )
    return answer


def _program(state: dict[str, Any]) -> dict[str, Any]:
    program: dict[str, Any] = state.get("program") or {}
    return program


async def test_programs_presets_and_holds_over_mqtt(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, extra_config=ALWAYS
    ) as run:
        # The block in force is applied at start-up and shown in the state.
        state = await run.wait_state(
            "sim_1",
            lambda s: s["target_temperature"] == 23.0 and _program(s).get("schedule") == "always",
        )
        assert state["power"] == "ON" and state["mode"] == "heat"
        assert _program(state)["source"] == "schedule"
        assert run.observer.events(mqtt_base, "schedule_applied")
        # Home Assistant offers the presets.
        discovery = run.observer.json(f"homeassistant/device/klima_{mqtt_base}_sim_1/config")
        assert "eco" in discovery["cmps"]["climate"]["pr_modes"]

        # Picking a preset holds it; "none" hands back to the program.
        await run.send("sim_1/set/preset", "eco")
        state = await run.wait_state("sim_1", lambda s: s["target_temperature"] == 18.0)
        assert (_program(state)["source"], _program(state)["preset"]) == ("hold", "eco")
        assert run.observer.events(mqtt_base, "hold_started")
        await run.send("sim_1/set", '{"preset": "none"}')
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 23.0)
        await run.send("sim_1/set", '{"preset": "tropical"}')
        rejected = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "command_rejected"), what="rejection"
        )
        assert rejected[-1]["data"]["field"] == "preset"

        # A manual setpoint is held instead of being undone by the program.
        await run.send("sim_1/set", '{"target_temperature": 25}')
        state = await run.wait_state(
            "sim_1", lambda s: s["target_temperature"] == 25.0 and _program(s).get("hold")
        )
        assert _program(state)["hold"]["kind"] in ("next_block", "permanent")

        # A run-time program replaces the configured one; resume applies it.
        answer = await _request(
            run, "schedule/set",
            {"id": "always", "units": ["sim_1"], "blocks": [{"at": "00:00", "preset": "comfort"}]},
        )  # fmt: skip
        assert answer["status"] == "ok", answer
        answer = await _request(run, "schedule/resume", {"unit": "sim_1"})
        assert answer["data"]["resumed"] is True
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 21.0)
        bad = await _request(run, "schedule/hold", {"unit": "sim_9", "preset": "eco"})
        assert (bad["status"], bad["data"]["field"]) == ("error", "unit")

    # After a restart the run-time program is still there.
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, extra_config=ALWAYS
    ) as run:
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 21.0)
        answer = await _request(run, "schedule/list", {})
        (program,) = answer["data"]["schedules"]
        assert (program["id"], program["source"]) == ("always", "runtime")
        assert program["blocks"] == [{"at": "00:00", "preset": "comfort"}]
