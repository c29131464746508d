"""IR units end to end: real Mosquitto, the unmodified broadlink library, a simulated blaster."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.support.daemon_harness import Observer, observe

from klima.config import (
    BlasterConfig,
    BroadlinkConfig,
    DaemonConfig,
    DatabaseConfig,
    FeedbackConfig,
    KlimaConfig,
    MqttConfig,
    UnitConfig,
)
from klima.config_energy import UnitEnergyConfig
from klima.daemon import Daemon
from klima_sim.broadlink_sim import BroadlinkSimulator, EndpointSpec

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.timeout(90)
SMARTIR_FILE = Path(__file__).parents[1] / "fixtures" / "smartir" / "1000.json"


@dataclass
class IrRun:
    daemon: Daemon
    sim: BroadlinkSimulator
    observer: Observer
    base: str

    def state(self, unit_id: str) -> dict[str, Any]:
        value = self.observer.json(f"{self.base}/{unit_id}")
        return value if isinstance(value, dict) else {}

    async def send(self, topic: str, payload: bytes) -> None:
        await self.observer.publish(f"{self.base}/{topic}", payload)

    async def wait_state(self, unit_id: str, predicate: Any, what: str = "state") -> None:
        await self.observer.wait_for(lambda: predicate(self.state(unit_id)), what=what)

    @property
    def frames_sent(self) -> int:
        return self.sim.endpoints[0].stats.ir_frames


def ir_config(
    broker: str, base: str, data_dir: Path, sim: BroadlinkSimulator, units: list[UnitConfig]
) -> KlimaConfig:
    endpoint = sim.endpoints[0]
    return KlimaConfig(
        mqtt=MqttConfig(url=broker, base_topic=base),
        database=DatabaseConfig(url=f"sqlite:///{data_dir / 'klima.db'}", commit_interval=0.05),
        daemon=DaemonConfig(hub_id=base, data_dir=data_dir),
        broadlink=BroadlinkConfig(heartbeat_interval=0.5, offline_after=2, send_gap=0.05),
        blasters=[
            BlasterConfig(
                id="hall",
                host=endpoint.host,
                port=endpoint.port,
                mac=endpoint.mac.hex(),
                devtype=endpoint.devtype,
                timeout=1.0,
            )
        ],
        units=units,
    )


def ir_unit(unit_id: str, driver: str, **extra: Any) -> UnitConfig:
    return UnitConfig(id=unit_id, driver=driver, blaster="hall", restart_delay=0, **extra)


@contextlib.asynccontextmanager
async def running(
    broker: str, base: str, data_dir: Path, drivers: list[str], units: list[UnitConfig]
) -> AsyncIterator[IrRun]:
    async with BroadlinkSimulator([EndpointSpec(units=drivers)], seed=3) as sim:
        config = ir_config(broker, base, data_dir, sim, units)
        async with observe(broker, [f"{base}/#", "homeassistant/device/+/config"]) as observer:
            daemon = Daemon(config)
            task = asyncio.create_task(daemon.run())
            run = IrRun(daemon, sim, observer, base)
            try:
                for unit in units:
                    topic = f"{base}/{unit.id}/availability"
                    await observer.wait_for(lambda t=topic: observer.text(t) == "online")
                yield run
            finally:
                daemon.stop()
                async with asyncio.timeout(15):
                    await task


async def test_set_sends_the_full_state_and_the_unit_follows(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    units = [ir_unit("bedroom", "mitsubishi_ir"), ir_unit("office", "coolix_ir")]
    async with running(
        mosquitto.url, mqtt_base, tmp_path, ["mitsubishi_ir", "coolix_ir"], units
    ) as run:
        bedroom = run.sim.unit("sim_1")
        await run.send(
            "bedroom/set", b'{"mode": "cool", "target_temperature": 24, "fan_mode": "high"}'
        )
        await run.wait_state("bedroom", lambda s: s.get("mode") == "cool")
        await run.observer.wait_for(lambda: bedroom.snapshot()["mode"] == "cool", what="unit")
        snap = bedroom.snapshot()
        assert (snap["target_temperature"], snap["fan_mode"]) == (24.0, "high")
        assert run.state("bedroom")["state_source"] == "assumed"
        # Home Assistant sees a climate entity with the codec's own lists, and no sensors that
        # an open-loop unit cannot have.
        discovery = run.observer.json(f"homeassistant/device/klima_{mqtt_base}_office/config")
        assert discovery["cmps"]["climate"]["fan_modes"] == ["auto", "low", "medium", "high"]
        assert set(discovery["cmps"]) == {"climate", "schedule"}  # the program, not a sensor
        assert "sunrise" not in str(discovery["cmps"]["climate"]["pr_modes"])
        assert discovery["cmps"]["climate"]["pr_modes"] == [
            "away", "boost", "comfort", "eco", "frost", "sleep"
        ]  # fmt: skip
        # The Coolix unit in the same room was not touched by the Mitsubishi frame.
        assert run.sim.unit("sim_2").snapshot()["power"] is False

        # Coolix swing is a toggle: asking for the same swing twice must not flip it back.
        office = run.sim.unit("sim_2")
        await run.send("office/set", b'{"mode": "heat", "target_temperature": 22}')
        await run.observer.wait_for(lambda: office.snapshot()["power"], what="office on")
        await run.send("office/set", b'{"swing_mode": "auto"}')
        await run.observer.wait_for(lambda: office.snapshot()["swing_mode"] == "auto", what="swing")
        sent = run.frames_sent
        await run.send("office/set", b'{"swing_mode": "auto"}')
        await asyncio.sleep(0.5)
        assert office.snapshot()["swing_mode"] == "auto"
        assert run.frames_sent == sent  # nothing changed, nothing sent
        await run.send("office/set/power", b"OFF")
        await run.observer.wait_for(lambda: not office.snapshot()["power"], what="office off")


async def test_resync_resends_and_a_restart_sends_nothing(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    profile = UnitEnergyConfig(profile="mitsubishi_msz_fh09na")
    units = [ir_unit("bedroom", "mitsubishi_ir", energy=profile)]
    async with running(mosquitto.url, mqtt_base, tmp_path, ["mitsubishi_ir"], units) as run:
        await run.send("bedroom/set", b'{"mode": "heat", "target_temperature": 21.5}')
        await run.wait_state("bedroom", lambda s: s.get("target_temperature") == 21.5)
        sent = run.frames_sent
        await run.send("bedroom/get", b'{"resync": true}')
        await run.observer.wait_for(lambda: run.frames_sent == sent + 1, what="resync frame")
        await asyncio.sleep(0.3)  # the state reaches the database
    async with running(mosquitto.url, mqtt_base, tmp_path, ["mitsubishi_ir"], units) as run:
        await run.wait_state("bedroom", lambda s: s.get("target_temperature") == 21.5)
        state = run.state("bedroom")
        assert state["mode"] == "heat" and state["state_source"] == "assumed"
        await asyncio.sleep(0.5)
        assert run.frames_sent == 0  # restored from the database, nothing re-sent
        # ...and the energy model runs on the restored state at once, not from the next command.
        energy = run.daemon.energy
        assert energy is not None
        assert (energy.trackers["bedroom"].power_w(datetime.now(UTC)) or 0) > 100


async def test_blaster_down_and_back(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    units = [ir_unit("bedroom", "mitsubishi_ir")]
    async with running(mosquitto.url, mqtt_base, tmp_path, ["mitsubishi_ir"], units) as run:
        endpoint = run.sim.endpoints[0]
        endpoint.silent = True
        await run.send("bedroom/set", b'{"mode": "cool"}')
        await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "command_failed"), what="failed send"
        )
        topic = f"{mqtt_base}/bedroom/availability"
        await run.observer.wait_for(lambda: run.observer.text(topic) == "offline", 30, "offline")
        endpoint.silent = False
        await run.observer.wait_for(lambda: run.observer.text(topic) == "online", 60, "online")
        await run.send("bedroom/set", b'{"mode": "dry"}')
        await run.observer.wait_for(
            lambda: run.sim.unit("sim_1").snapshot()["mode"] == "dry", what="unit follows"
        )


async def test_feedback_mismatch_resends_once_then_reports(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    plug = f"{mqtt_base}_plug/bedroom/power"
    feedback = FeedbackConfig(topic=plug, settle_s=0.5, on_above_w=30)
    units = [ir_unit("bedroom", "mitsubishi_ir", feedback=feedback)]
    async with running(mosquitto.url, mqtt_base, tmp_path, ["mitsubishi_ir"], units) as run:
        await run.observer.publish(plug, b"2.0")  # the plug says: nothing runs
        await run.send("bedroom/set", b'{"mode": "cool", "target_temperature": 25}')
        retry = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "command_retry"), what="one resend"
        )
        assert retry[0]["data"]["field"] == "power"
        (mismatch,) = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "state_mismatch"), what="mismatch"
        )
        assert mismatch["data"] == {"field": "power", "wanted": True, "reported": False}
        assert len(run.observer.events(mqtt_base, "command_retry")) == 1
        # When the plug shows the unit running, the state counts as confirmed.
        await run.observer.publish(plug, b"650")
        await run.send("bedroom/set", b'{"target_temperature": 24}')
        await run.send("bedroom/set/power", b"OFF")
        await run.observer.publish(plug, b"0")
        await run.wait_state(
            "bedroom", lambda s: s.get("power") == "OFF" and s["state_source"] == "reported"
        )


async def test_smartir_code_file_drives_a_unit(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    units = [ir_unit("lounge", "smartir", options={"code_file": str(SMARTIR_FILE)})]
    async with running(mosquitto.url, mqtt_base, tmp_path, ["smartir"], units) as run:
        codes = json.loads(SMARTIR_FILE.read_text())["commands"]
        await run.send(
            "lounge/set", b'{"mode": "cool", "fan_mode": "low", "target_temperature": 22}'
        )
        await run.wait_state("lounge", lambda s: s.get("mode") == "cool")
        await run.observer.wait_for(lambda: run.frames_sent >= 1, what="a frame")
        received = run.sim.endpoints[0].received[-1].payload
        expected = base64.b64decode(codes["cool"]["low"]["22"])
        # The library pads what it sends to whole AES blocks; the IR code itself is unchanged.
        assert received[: len(expected)] == expected, (len(received), len(expected))
        assert not received[len(expected) :].strip(b"\0")
        # A combination the file does not have is refused before anything is sent.
        await run.send("lounge/set", b'{"mode": "dry"}')
        (rejected,) = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "command_rejected"), what="rejection"
        )
        assert rejected["data"]["field"] == "mode"


async def test_keepalive_resends_and_the_blaster_sensor_feeds_the_room_temperature(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    units = [ir_unit("bedroom", "mitsubishi_ir", keepalive_resend=1.0, blaster_sensor=True)]
    async with running(mosquitto.url, mqtt_base, tmp_path, ["mitsubishi_ir"], units) as run:
        endpoint = run.sim.endpoints[0]
        await run.wait_state(
            "bedroom", lambda s: s.get("current_temperature") is not None, "blaster sensor"
        )
        assert run.state("bedroom")["current_temperature"] == pytest.approx(
            endpoint.temperature, abs=0.1
        )
        await run.send("bedroom/set", b'{"mode": "heat", "target_temperature": 23}')
        await run.observer.wait_for(lambda: run.frames_sent >= 1, what="the command")
        sent = run.frames_sent
        # No command, yet the full state goes out again after the keep-alive interval.
        await run.observer.wait_for(lambda: run.frames_sent > sent, 10, "keep-alive resend")
        assert run.sim.unit("sim_1").snapshot()["target_temperature"] == 23.0
