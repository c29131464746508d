"""The MQTT connection: the only module that imports aiomqtt (and through it paho-mqtt).

:class:`MqttConnection` is the daemon's long-lived link. It owns the bridge's last will
(``<base>/bridge/state`` = ``offline``, retained), says ``online`` after every connect, reconnects
with capped, jittered exponential backoff, and remembers retained publishes made while the broker
is away so that the newest value of each topic reaches the broker after reconnecting.

:class:`MqttClientSession` is a one-shot client for the companion CLI and for tests.

No aiomqtt or paho exception leaves this module: connection trouble is either absorbed (the
daemon's link reconnects) or raised as :class:`BrokerUnavailableError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import aiomqtt

from klima.errors import KlimaError, KlimaTimeoutError
from klima.mqtt.settings import tls_context
from klima.mqtt.topics import (
    IncomingMessage,
    Payload,
    check_filter,
    check_topic,
    encode_payload,
    topic_matches,
)

if TYPE_CHECKING:
    import ssl
    from types import TracebackType

    from klima.mqtt.settings import MqttSettings

__all__ = [
    "OFFLINE",
    "ONLINE",
    "BrokerUnavailableError",
    "IncomingMessage",
    "MqttClientSession",
    "MqttConnection",
    "Payload",
    "encode_payload",
    "topic_matches",
]

log = logging.getLogger(__name__)

ONLINE = "online"
OFFLINE = "offline"
# Bounds both the send queue and the retained values held during an outage (one per topic).
MAX_QUEUED = 10_000

OnMessage = Callable[[str, bytes, bool], Awaitable[None]]
OnConnected = Callable[[], Awaitable[None]]


class BrokerUnavailableError(KlimaError):
    """The MQTT broker could not be reached, refused us, or the connection was lost."""


def _new_client(
    settings: MqttSettings, client_id: str, tls: ssl.SSLContext | None, *, with_will: bool
) -> aiomqtt.Client:
    will = None
    if with_will:
        will = aiomqtt.Will(settings.topic("bridge", "state"), OFFLINE, qos=1, retain=True)
    return aiomqtt.Client(
        settings.host,
        settings.port,
        username=settings.username,
        password=settings.password,
        identifier=client_id,
        will=will,
        clean_session=True,
        keepalive=settings.keepalive,
        timeout=settings.timeout_s,
        tls_context=tls,
    )


def _to_incoming(message: aiomqtt.Message) -> IncomingMessage:
    return IncomingMessage(message.topic.value, bytes(message.payload), bool(message.retain))


class _ConnectionDroppedError(Exception):
    """The connection a publish was riding on went away before the broker acknowledged it."""


@dataclass(eq=False)
class _Link:
    """One live connection; ``lost`` is set as soon as anything sees it die."""

    client: aiomqtt.Client
    lost: asyncio.Event = field(default_factory=asyncio.Event)


class _Outgoing(NamedTuple):
    topic: str
    data: bytes
    qos: int
    retain: bool


async def _send(link: _Link, message: _Outgoing) -> None:
    """Publish and wait for the acknowledgement, giving up as soon as the connection dies.

    aiomqtt would otherwise wait its full timeout for a PUBACK that can no longer arrive.
    """
    publish = asyncio.ensure_future(
        link.client.publish(message.topic, message.data, qos=message.qos, retain=message.retain)
    )
    lost = asyncio.ensure_future(link.lost.wait())
    try:
        await asyncio.wait({publish, lost}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        lost.cancel()
        if not publish.done():
            publish.cancel()
    if publish.cancelled():
        raise _ConnectionDroppedError
    publish.result()


class MqttConnection:
    """The daemon's supervised MQTT link; run :meth:`run` as a task and call :meth:`stop`.

    :meth:`publish` never blocks and never fails: messages go out in the order they were
    published, one at a time, each acknowledged (QoS 1) before the next.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        subscriptions: Iterable[str] = (),
        on_message: OnMessage | None = None,
        on_connected: OnConnected | None = None,
    ) -> None:
        self.settings = settings
        self.state_topic = settings.topic("bridge", "state")
        self.connected = asyncio.Event()  # set while connected; tests wait on it
        self.connect_count = 0
        self._subscriptions = [check_filter(f) for f in dict.fromkeys(subscriptions)]
        self._on_message = on_message
        self._on_connected = on_connected
        self._client_id = settings.client_id or f"klima-{secrets.token_hex(4)}"
        self._link: _Link | None = None
        self._outbox: deque[_Outgoing] = deque()
        self._outbox_changed = asyncio.Event()
        self._idle = asyncio.Event()  # outbox empty and nothing in flight
        self._idle.set()
        self._remembered: OrderedDict[str, _Outgoing] = OrderedDict()
        self._dropped = 0
        self._stop = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False

    @property
    def is_connected(self) -> bool:
        return self._link is not None and self.connected.is_set()

    async def wait_connected(self, within: float) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), within)
        except TimeoutError:
            msg = f"not connected to MQTT broker {self.settings.address} after {within:g} s"
            raise KlimaTimeoutError(msg) from None

    async def flush(self, within: float) -> bool:
        """Wait until every queued message is acknowledged; False if disconnected or too slow."""
        if not self.is_connected:
            return False
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    async def subscribe(self, topic: str) -> None:
        """Add a subscription; it is made now if connected and again after every reconnect."""
        if check_filter(topic) in self._subscriptions:
            return
        self._subscriptions.append(topic)
        link = self._link
        if link is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await link.client.subscribe(topic, qos=1)

    def publish(self, topic: str, payload: Payload, *, retain: bool = False, qos: int = 1) -> None:
        """Queue a message. Never blocks and never raises for connection trouble.

        While disconnected a retained message is remembered (newest per topic) and sent after
        reconnecting; a non-retained one is dropped, since it is an event that has passed.
        """
        message = _Outgoing(check_topic(topic), encode_payload(payload), qos, retain)
        if self._link is None:
            self._hold(message)
            return
        if len(self._outbox) >= MAX_QUEUED and not retain:
            self._drop(message)
            return
        self._outbox.append(message)
        self._idle.clear()
        self._outbox_changed.set()

    def _hold(self, message: _Outgoing) -> None:
        if not message.retain:
            self._drop(message)
            return
        self._remembered.pop(message.topic, None)
        self._remembered[message.topic] = message
        if len(self._remembered) > MAX_QUEUED:
            forgotten, _ = self._remembered.popitem(last=False)
            log.warning("too many retained topics waiting for the broker; forgot %s", forgotten)

    def _drop(self, message: _Outgoing) -> None:
        self._dropped += 1
        if self._dropped == 1:
            log.info("MQTT broker unreachable or slow: dropping events (first: %s)", message.topic)

    async def run(self) -> None:
        """Stay connected until :meth:`stop`. Raises only :class:`ConfigError` (bad TLS files)."""
        if self._running:
            raise RuntimeError("MqttConnection.run() is already running")
        tls = tls_context(self.settings)
        self._running = True
        self._finished.clear()
        failures = 0
        try:
            while not self._stop.is_set():
                client = _new_client(self.settings, self._client_id, tls, with_will=True)
                try:
                    await self._serve(client, failures)
                    failures = 0
                except (aiomqtt.MqttError, _ConnectionDroppedError) as exc:
                    self._log_failure(failures, exc)
                    failures += 1
                    await self._sleep_unless_stopped(self._backoff(failures))
        finally:
            self._running = False
            self._finished.set()

    async def stop(self, within: float = 15.0) -> None:
        """Send what is queued, say ``offline`` (retained), disconnect and let :meth:`run` end."""
        self._stop.set()
        if self._running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), within)

    def _log_failure(self, failures: int, exc: Exception) -> None:
        """One line per transition: the first failure of an outage warns, the rest are debug."""
        reason = str(exc) or "connection closed"
        address = self.settings.address
        if failures:
            log.debug("MQTT connect attempt %d to %s failed: %s", failures + 1, address, reason)
        elif self.connect_count:
            log.warning("lost connection to MQTT broker %s: %s; reconnecting", address, reason)
        else:
            log.warning("cannot connect to MQTT broker %s: %s; retrying", address, reason)

    def _backoff(self, failures: int) -> float:
        low, high = self.settings.reconnect_min_s, self.settings.reconnect_max_s
        ceiling = min(high, low * 2 ** min(failures - 1, 30))
        # Jitter keeps many hubs from hammering a restarted broker in lockstep.
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - not cryptographic

    async def _connected_callback(self) -> None:
        if self._on_connected is not None:
            await self._on_connected()

    async def _sleep_unless_stopped(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), delay)

    async def _serve(self, client: aiomqtt.Client, failures: int) -> None:
        """One connection from CONNECT to loss (raises) or to a requested stop (returns)."""
        async with client:
            link = _Link(client)
            if self._subscriptions:
                await client.subscribe([(topic, 1) for topic in self._subscriptions])
            await client.publish(self.state_topic, ONLINE, qos=1, retain=True)
            # What was held during the outage goes out first, before anything newer.
            self._outbox.extendleft(reversed(self._remembered.values()))
            self._remembered.clear()
            self._idle.clear()
            self._outbox_changed.set()
            self._link = link
            self._dropped = 0
            self.connect_count += 1
            self.connected.set()
            if failures:
                log.info("reconnected to MQTT broker %s", self.settings.address)
            else:
                log.info("connected to MQTT broker %s", self.settings.address)
            tasks = [
                asyncio.ensure_future(self._pump(link)),
                asyncio.ensure_future(self._sender(link)),
                asyncio.ensure_future(self._guarded(self._connected_callback(), "on_connected")),
            ]
            stop = asyncio.ensure_future(self._stop.wait())
            try:
                await asyncio.wait({*tasks[:2], stop}, return_when=asyncio.FIRST_COMPLETED)
                if not stop.done():
                    raise _ConnectionDroppedError
                await self._finish(link)
            except asyncio.CancelledError:
                await self._finish(link)
                raise
            finally:
                self._link = None
                self.connected.clear()
                link.lost.set()
                for task in (*tasks, stop):
                    task.cancel()
                results = await asyncio.gather(*tasks, stop, return_exceptions=True)
                self._stash_outbox()
            for result in results[:2]:
                if isinstance(result, aiomqtt.MqttError):
                    raise result

    async def _finish(self, link: _Link) -> None:
        """Before a clean disconnect: drain the queue, then announce ``offline``."""
        self.publish(self.state_topic, OFFLINE, retain=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self.settings.timeout_s)
        if not self._idle.is_set():
            log.warning("MQTT broker did not acknowledge the last messages before disconnecting")
        link.lost.set()

    def _stash_outbox(self) -> None:
        """After a loss, keep the newest retained values and forget passed events."""
        while self._outbox:
            self._hold(self._outbox.popleft())
        self._idle.set()

    async def _sender(self, link: _Link) -> None:
        while True:
            while not self._outbox:
                self._idle.set()
                self._outbox_changed.clear()
                await self._outbox_changed.wait()
            self._idle.clear()
            try:
                await _send(link, self._outbox[0])
            except (aiomqtt.MqttError, _ConnectionDroppedError):
                link.lost.set()  # an unacknowledged publish means the link is no good
                raise
            except Exception:  # e.g. a payload paho refuses: drop it, don't wedge the queue
                log.exception("cannot publish to %s; message dropped", self._outbox[0].topic)
            self._outbox.popleft()

    async def _pump(self, link: _Link) -> None:
        try:
            async for message in link.client.messages:
                incoming = _to_incoming(message)
                # amqtt hands a new client retained messages for *other* clients' filters.
                wanted = any(topic_matches(incoming.topic, f) for f in self._subscriptions)
                if wanted and self._on_message is not None:
                    await self._guarded(
                        self._on_message(*incoming), f"message handler on {incoming.topic}"
                    )
        finally:
            link.lost.set()

    @staticmethod
    async def _guarded(call: Awaitable[None], what: str) -> None:
        """Run a callback of the owner's; its bugs are logged and never end the connection."""
        try:
            await call
        except Exception:
            log.exception("MQTT %s failed", what)


class MqttClientSession:
    """A short-lived client: ``async with MqttClientSession(settings) as session: ...``."""

    def __init__(self, settings: MqttSettings, *, client_id: str | None = None) -> None:
        self.settings = settings
        self._client_id = client_id or f"klima-cli-{secrets.token_hex(4)}"
        self._client: aiomqtt.Client | None = None
        self._filters: list[str] = []

    async def __aenter__(self) -> MqttClientSession:
        tls = tls_context(self.settings)
        client = _new_client(self.settings, self._client_id, tls, with_will=False)
        try:
            await client.__aenter__()
        except aiomqtt.MqttError as exc:
            raise BrokerUnavailableError(
                f"cannot connect to MQTT broker {self.settings.address}: {exc}"
            ) from None
        self._client = client
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.__aexit__(exc_type, exc, tb)

    def _require(self) -> aiomqtt.Client:
        if self._client is None:
            raise BrokerUnavailableError("the MQTT session is not connected")
        return self._client

    async def subscribe(self, topics: Iterable[str], qos: int = 1) -> None:
        wanted = [(check_filter(topic), qos) for topic in dict.fromkeys(topics)]
        if not wanted:
            return
        try:
            await self._require().subscribe(wanted)
        except aiomqtt.MqttError as exc:
            raise BrokerUnavailableError(f"subscribe failed: {exc}") from None
        self._filters.extend(topic for topic, _ in wanted)

    async def publish(
        self, topic: str, payload: Payload, *, retain: bool = False, qos: int = 1
    ) -> None:
        try:
            data = encode_payload(payload)
            await self._require().publish(check_topic(topic), data, qos=qos, retain=retain)
        except aiomqtt.MqttError as exc:
            raise BrokerUnavailableError(f"publish to {topic} failed: {exc}") from None

    async def messages(self) -> AsyncIterator[IncomingMessage]:
        """Every message on the subscribed topics, in arrival order, until the link drops."""
        while True:
            yield await self._receive()

    async def next_message(self, within: float) -> IncomingMessage:
        """The next message, or :class:`KlimaTimeoutError` after ``within`` seconds."""
        try:
            return await asyncio.wait_for(self._receive(), within)
        except TimeoutError:
            raise KlimaTimeoutError(f"no MQTT message within {within:g} s") from None

    async def _receive(self) -> IncomingMessage:
        while True:
            try:
                message = _to_incoming(await anext(self._require().messages))
            except aiomqtt.MqttError as exc:
                raise BrokerUnavailableError(
                    f"connection to MQTT broker {self.settings.address} lost: {exc}"
                ) from None
            # See MqttConnection._pump: some brokers send retained messages nobody asked for.
            if any(topic_matches(message.topic, f) for f in self._filters):
                return message
