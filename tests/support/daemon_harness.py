"""Run the real daemon in-process against simulated units and a real broker, and watch MQTT."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from klima.config import DaemonConfig, DatabaseConfig, KlimaConfig, MqttConfig, UnitConfig
from klima.config_energy import EnergyConfig
from klima.daemon import Daemon
from klima.mqtt.connection import MqttClientSession
from klima.mqtt.settings import MqttSettings
from klima_sim.clock import ScaledClock
from klima_sim.serial_sim import SerialSimulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path


@dataclass
class Observer:
    """Collects everything published under the test's topics; waits for conditions."""

    session: MqttClientSession
    latest: dict[str, bytes] = field(default_factory=dict)
    log: list[tuple[str, bytes, bool]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def pump(self) -> None:
        async for message in self.session.messages():
            self.latest[message.topic] = message.payload
            self.log.append((message.topic, message.payload, message.retain))
            self.changed.set()

    def json(self, topic: str) -> Any:
        payload = self.latest.get(topic)
        return json.loads(payload) if payload else None

    def text(self, topic: str) -> str | None:
        payload = self.latest.get(topic)
        return payload.decode() if payload is not None else None

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    value = predicate()
                except (KeyError, TypeError, IndexError):
                    value = None
                if value:
                    return value
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.2):
                        await self.changed.wait()
        raise AssertionError(f"timed out waiting for {what}")  # pragma: no cover

    def events(self, base: str, kind: str | None = None) -> list[dict[str, Any]]:
        out = []
        for topic, payload, _ in self.log:
            if topic == f"{base}/bridge/event":
                event = json.loads(payload)
                if kind is None or event["type"] == kind:
                    out.append(event)
        return out

    async def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        await self.session.publish(topic, payload, retain=retain, qos=1)


@contextlib.asynccontextmanager
async def observe(url: str, topics: list[str]) -> AsyncIterator[Observer]:
    async with MqttClientSession(MqttSettings(url=url)) as session:
        await session.subscribe(topics)
        observer = Observer(session)
        task = asyncio.create_task(observer.pump())
        try:
            yield observer
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def make_config(
    *,
    broker_url: str,
    base: str,
    data_dir: Path,
    ports: list[tuple[str, str]],
    database_url: str | None = None,
    energy_config: EnergyConfig | None = None,
    extra_config: dict[str, Any] | None = None,
    **unit_options: Any,
) -> KlimaConfig:
    """``extra_config``: more top-level sections (e.g. ``schedules``, ``site``), validated too."""
    unit_defaults: dict[str, Any] = {
        "poll_interval": 0.2,
        "reconnect_after": 1.5,
        "restart_delay": 0.0,
        "options": {"connect_settle_s": 0.0},
    }
    unit_defaults.update(unit_options)
    return KlimaConfig(
        **(extra_config or {}),
        mqtt=MqttConfig(url=broker_url, base_topic=base),
        database=DatabaseConfig(
            url=database_url or f"sqlite:///{data_dir / 'klima.db'}", commit_interval=0.05
        ),
        daemon=DaemonConfig(hub_id=base, data_dir=data_dir),
        units=[
            UnitConfig(id=unit_id, driver="mitsubishi_cn105", port=port, **unit_defaults)
            for unit_id, port in ports
        ],
        energy=energy_config or EnergyConfig(),
    )


@dataclass
class Running:
    daemon: Daemon
    sim: SerialSimulator
    observer: Observer
    base: str
    task: asyncio.Task[None]

    def state(self, unit_id: str) -> dict[str, Any] | None:
        value = self.observer.json(f"{self.base}/{unit_id}")
        return value if isinstance(value, dict) else None

    async def wait_state(
        self, unit_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            state = self.state(unit_id)
            return state if state and predicate(state) else None

        result: dict[str, Any] = await self.observer.wait_for(check, timeout, f"{unit_id} state")
        return result

    async def wait_available(
        self, unit_id: str, online: bool = True, timeout: float = 10.0
    ) -> None:
        want = "online" if online else "offline"
        topic = f"{self.base}/{unit_id}/availability"
        await self.observer.wait_for(lambda: self.observer.text(topic) == want, timeout, want)

    async def send(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        await self.observer.publish(f"{self.base}/{topic}", payload, retain=retain)


@contextlib.asynccontextmanager
async def running_daemon(
    broker_url: str,
    base: str,
    data_dir: Path,
    *,
    units: int = 2,
    speed: float = 60.0,
    database_url: str | None = None,
    energy_config: EnergyConfig | None = None,
    extra_config: dict[str, Any] | None = None,
    **unit_options: Any,
) -> AsyncIterator[Running]:
    async with SerialSimulator(units=units, clock=ScaledClock(speed), seed=7) as sim:
        ports = [(ep.unit_id, ep.port) for ep in sim.endpoints]
        config = make_config(
            broker_url=broker_url,
            base=base,
            data_dir=data_dir,
            ports=ports,
            database_url=database_url,
            energy_config=energy_config,
            extra_config=extra_config,
            **unit_options,
        )
        topics = [f"{base}/#", "homeassistant/device/+/config", "homeassistant/status"]
        async with observe(broker_url, topics) as observer:
            daemon = Daemon(config)
            task = asyncio.create_task(daemon.run())
            running = Running(daemon, sim, observer, base, task)
            try:
                for ep in sim.endpoints:
                    await running.wait_available(ep.unit_id)
                yield running
            finally:
                daemon.stop()
                async with asyncio.timeout(15):
                    await task
