"""An MQTT client that watches the daemon: units coming online, and state messages carrying a
setpoint someone is waiting for. Timestamps are taken on arrival with ``time.perf_counter()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Self

from _harness import BASE_TOPIC
from klima.mqtt.connection import MqttClientSession
from klima.mqtt.settings import MqttSettings

if TYPE_CHECKING:
    from types import TracebackType


class Watcher:
    """Subscribes to every unit's state and availability under the benchmark's base topic."""

    def __init__(self, broker_url: str) -> None:
        self.session = MqttClientSession(MqttSettings(url=broker_url))
        self.online: set[str] = set()
        self.state_messages = 0
        self.messages = 0
        self._changed = asyncio.Event()
        self._waiting: dict[str, tuple[float, asyncio.Future[float]]] = {}
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.session.__aenter__()
        await self.session.subscribe([f"{BASE_TOPIC}/+", f"{BASE_TOPIC}/+/availability"])
        self._pump = asyncio.create_task(self._run(), name="bench-watcher")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
        await self.session.__aexit__(exc_type, exc, tb)

    async def publish(self, topic: str, payload: str) -> None:
        # QoS 0, like Home Assistant's MQTT climate entity sends its commands by default.
        await self.session.publish(f"{BASE_TOPIC}/{topic}", payload, qos=0)

    def expect_setpoint(self, unit_id: str, target: float) -> asyncio.Future[float]:
        """A future that resolves to the arrival time of ``unit_id``'s state showing ``target``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[unit_id] = (target, future)
        return future

    def forget_online(self) -> None:
        self.online.clear()

    async def wait_online(self, count: int, timeout: float) -> float:
        """Wait until ``count`` units said ``online`` (live, not retained); returns the time."""
        async with asyncio.timeout(timeout):
            while len(self.online) < count:
                self._changed.clear()
                await self._changed.wait()
        return time.perf_counter()

    async def _run(self) -> None:
        async for message in self.session.messages():
            arrived = time.perf_counter()
            self.messages += 1
            parts = message.topic.split("/")
            if len(parts) == 3 and parts[2] == "availability":
                if message.payload == b"online" and not message.retain:
                    self.online.add(parts[1])
                elif message.payload == b"offline":
                    self.online.discard(parts[1])
                self._changed.set()
            elif len(parts) == 2 and message.payload:
                self.state_messages += 1
                self._check_setpoint(parts[1], message.payload, arrived)

    def _check_setpoint(self, unit_id: str, payload: bytes, arrived: float) -> None:
        waiting = self._waiting.get(unit_id)
        if waiting is None:
            return
        target, future = waiting
        if json.loads(payload).get("target_temperature") == target and not future.done():
            future.set_result(arrived)
            del self._waiting[unit_id]
