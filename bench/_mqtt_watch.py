"""An MQTT client that watches the daemon: units coming online, and state messages carrying a
setpoint someone is waiting for. Timestamps are taken on arrival with ``time.perf_counter()``.

It uses aiomqtt directly rather than klima's ``MqttClientSession`` for one reason: it must turn
Nagle's algorithm off (``TCP_NODELAY``). Otherwise the PUBACK this client owes for each QoS 1 state
message sits unacknowledged (the broker delays its TCP ACK up to 40 ms) and holds back the next
command behind it: the client's own latency would then be billed to the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from typing import TYPE_CHECKING, Self

import aiomqtt

from _harness import BASE_TOPIC
from klima.mqtt.settings import parse_broker_url

if TYPE_CHECKING:
    from types import TracebackType


class Watcher:
    """Subscribes to every unit's state and availability under the benchmark's base topic."""

    def __init__(self, broker_url: str) -> None:
        host, port, _tls = parse_broker_url(broker_url)
        self.client = aiomqtt.Client(
            host,
            port,
            identifier=f"klima-bench-{id(self):x}",
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        self.online: set[str] = set()
        self.state_messages = 0
        self.messages = 0
        self._changed = asyncio.Event()
        self._waiting: dict[str, tuple[float, asyncio.Future[float]]] = {}
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.client.__aenter__()
        await self.client.subscribe([(f"{BASE_TOPIC}/+", 1), (f"{BASE_TOPIC}/+/availability", 1)])
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
        await self.client.__aexit__(exc_type, exc, tb)

    async def publish(self, topic: str, payload: str) -> None:
        # QoS 0, like Home Assistant's MQTT climate entity sends its commands by default.
        await self.client.publish(f"{BASE_TOPIC}/{topic}", payload, qos=0)

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
        async for message in self.client.messages:
            arrived = time.perf_counter()
            self.messages += 1
            payload = message.payload if isinstance(message.payload, bytes) else b""
            parts = message.topic.value.split("/")
            if len(parts) == 3 and parts[2] == "availability":
                if payload == b"online" and not message.retain:
                    self.online.add(parts[1])
                elif payload == b"offline":
                    self.online.discard(parts[1])
                self._changed.set()
            elif len(parts) == 2 and payload:
                self.state_messages += 1
                self._check_setpoint(parts[1], payload, arrived)

    def _check_setpoint(self, unit_id: str, payload: bytes, arrived: float) -> None:
        waiting = self._waiting.get(unit_id)
        if waiting is None:
            return
        target, future = waiting
        if json.loads(payload).get("target_temperature") == target and not future.done():
            future.set_result(arrived)
            del self._waiting[unit_id]
