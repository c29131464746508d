"""MqttConnection and MqttClientSession against a real Mosquitto and the embedded broker."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from klima.errors import ConfigError, KlimaError, KlimaTimeoutError
from klima.mqtt.connection import (
    BrokerUnavailableError,
    IncomingMessage,
    MqttClientSession,
    MqttConnection,
)
from klima.mqtt.embedded import EmbeddedBroker
from klima.mqtt.settings import MqttSettings
from support.mosquitto import MosquittoBroker, free_port, make_tls_files, tls_listener_config

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

SRC = Path(__file__).resolve().parents[2] / "src"


def fast_settings(url: str, base: str, **changes: object) -> MqttSettings:
    """Small backoff and timeouts so reconnect tests take fractions of a second."""
    settings = MqttSettings(
        url=url, base_topic=base, reconnect_min_s=0.05, reconnect_max_s=0.2, timeout_s=5.0
    )
    return settings.replace(**changes)


async def retained(settings: MqttSettings, topic_filter: str) -> dict[str, bytes]:
    """Every retained message under ``topic_filter``, read by a fresh subscriber."""
    found: dict[str, bytes] = {}
    async with MqttClientSession(settings) as observer:
        await observer.subscribe([topic_filter])
        try:
            while True:
                message = await observer.next_message(0.3)
                if message.retain:
                    found[message.topic] = message.payload
        except KlimaTimeoutError:
            return found


async def drain(session: MqttClientSession) -> list[IncomingMessage]:
    """Everything that arrives until the topic has been quiet for 0.3 s."""
    messages: list[IncomingMessage] = []
    try:
        while True:
            messages.append(await session.next_message(0.3))
    except KlimaTimeoutError:
        return messages


async def wait_for(predicate: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def running() -> AsyncIterator[Callable[[MqttConnection], asyncio.Task[None]]]:
    """Start connections' run() tasks and make sure none outlives the test."""
    started: list[tuple[MqttConnection, asyncio.Task[None]]] = []

    def start(connection: MqttConnection) -> asyncio.Task[None]:
        task = asyncio.create_task(connection.run())
        started.append((connection, task))
        return task

    yield start
    for connection, task in started:
        await connection.stop(within=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_connects_says_online_and_delivers_subscribed_messages(
    mosquitto: MosquittoBroker, mqtt_base: str, running: Callable[..., asyncio.Task[None]]
) -> None:
    settings = fast_settings(mosquitto.url, mqtt_base)
    received: list[tuple[str, bytes, bool]] = []

    async def on_message(topic: str, payload: bytes, retain: bool) -> None:
        received.append((topic, payload, retain))

    connection = MqttConnection(
        settings, subscriptions=[f"{mqtt_base}/+/set"], on_message=on_message
    )
    running(connection)
    await connection.wait_connected(5)
    assert connection.is_connected
    assert (await retained(settings, f"{mqtt_base}/bridge/state")) == {
        f"{mqtt_base}/bridge/state": b"online"
    }
    async with MqttClientSession(settings) as peer:
        await peer.publish(f"{mqtt_base}/bedroom/set", {"mode": "cool"})
        await peer.publish(f"{mqtt_base}/bedroom/other", "not subscribed")
        await peer.publish(f"{mqtt_base}/kitchen/set", b"\x00raw")
    await wait_for(lambda: len(received) == 2)
    assert received == [
        (f"{mqtt_base}/bedroom/set", b'{"mode":"cool"}', False),
        (f"{mqtt_base}/kitchen/set", b"\x00raw", False),
    ]


async def test_publish_is_ordered_and_retains_json(
    mosquitto: MosquittoBroker, mqtt_base: str, running: Callable[..., asyncio.Task[None]]
) -> None:
    settings = fast_settings(mosquitto.url, mqtt_base)
    connection = MqttConnection(settings)
    running(connection)
    await connection.wait_connected(5)
    async with MqttClientSession(settings) as live:
        await live.subscribe([f"{mqtt_base}/seq"])
        for n in range(50):
            connection.publish(f"{mqtt_base}/seq", str(n))
        connection.publish(f"{mqtt_base}/unit", {"mode": "heat", "t": 21.5}, retain=True)
        assert await connection.flush(5)
        seen = [int((await live.next_message(2)).payload) for _ in range(50)]
    assert seen == list(range(50))
    assert (await retained(settings, f"{mqtt_base}/unit")) == {
        f"{mqtt_base}/unit": b'{"mode":"heat","t":21.5}'
    }


async def test_a_failing_handler_does_not_stop_delivery(
    mosquitto: MosquittoBroker,
    mqtt_base: str,
    running: Callable[..., asyncio.Task[None]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = fast_settings(mosquitto.url, mqtt_base)
    handled: list[bytes] = []

    async def on_message(topic: str, payload: bytes, retain: bool) -> None:
        handled.append(payload)
        if payload == b"boom":
            raise ValueError("handler bug")

    connection = MqttConnection(settings, subscriptions=[f"{mqtt_base}/in"], on_message=on_message)
    running(connection)
    await connection.wait_connected(5)
    async with MqttClientSession(settings) as peer:
        for payload in (b"one", b"boom", b"two", b"boom", b"three"):
            await peer.publish(f"{mqtt_base}/in", payload)
    await wait_for(lambda: len(handled) == 5)
    assert handled == [b"one", b"boom", b"two", b"boom", b"three"]
    assert connection.is_connected
    failures = [r for r in caplog.records if "message handler on" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None


async def test_stop_drains_the_queue_and_leaves_offline_retained(
    mosquitto: MosquittoBroker, mqtt_base: str, running: Callable[..., asyncio.Task[None]]
) -> None:
    settings = fast_settings(mosquitto.url, mqtt_base)
    connection = MqttConnection(settings)
    task = running(connection)
    await connection.wait_connected(5)
    for n in range(20):
        connection.publish(f"{mqtt_base}/unit{n}/availability", "offline", retain=True)
    await connection.stop()
    assert task.done()
    assert not connection.is_connected
    found = await retained(settings, f"{mqtt_base}/#")
    assert found[f"{mqtt_base}/bridge/state"] == b"offline"
    assert sum(1 for topic in found if topic.endswith("/availability")) == 20


async def test_held_retained_values_go_out_on_connect_and_events_are_dropped(
    mosquitto: MosquittoBroker, mqtt_base: str, running: Callable[..., asyncio.Task[None]]
) -> None:
    settings = fast_settings(mosquitto.url, mqtt_base)
    connection = MqttConnection(settings)
    # Not connected yet: retained values are held (newest per topic), events are dropped.
    connection.publish(f"{mqtt_base}/unit", {"v": 1}, retain=True)
    connection.publish(f"{mqtt_base}/bridge/event", {"type": "passed"})
    connection.publish(f"{mqtt_base}/unit", {"v": 2}, retain=True)
    async with MqttClientSession(settings) as live:
        await live.subscribe([f"{mqtt_base}/#"])
        running(connection)
        await connection.wait_connected(5)
        assert await connection.flush(5)
        messages = await drain(live)
    assert [(m.topic, m.payload) for m in messages] == [
        (f"{mqtt_base}/bridge/state", b"online"),
        (f"{mqtt_base}/unit", b'{"v":2}'),
    ]


async def test_reconnects_after_broker_restart_and_resends_held_values(
    mosquitto: MosquittoBroker, mqtt_base: str, running: Callable[..., asyncio.Task[None]]
) -> None:
    settings = fast_settings(mosquitto.url, mqtt_base)
    connects = 0
    received: list[bytes] = []

    async def on_connected() -> None:
        nonlocal connects
        connects += 1
        connection.publish(f"{mqtt_base}/republished", str(connects), retain=True)

    async def on_message(topic: str, payload: bytes, retain: bool) -> None:
        received.append(payload)

    connection = MqttConnection(
        settings,
        subscriptions=[f"{mqtt_base}/in"],
        on_connected=on_connected,
        on_message=on_message,
    )
    running(connection)
    await connection.wait_connected(5)
    await wait_for(lambda: connects == 1)

    mosquitto.stop()
    await wait_for(lambda: not connection.is_connected)
    connection.publish(f"{mqtt_base}/held", "first", retain=True)
    connection.publish(f"{mqtt_base}/held", "newest", retain=True)
    await asyncio.sleep(0.3)  # a few failed attempts while the broker is down
    mosquitto.start()

    await wait_for(lambda: connects == 2)
    assert await connection.flush(5)
    found = await retained(settings, f"{mqtt_base}/#")
    assert found == {
        f"{mqtt_base}/bridge/state": b"online",
        f"{mqtt_base}/held": b"newest",
        f"{mqtt_base}/republished": b"2",
    }
    # Subscriptions were made again on the new connection.
    async with MqttClientSession(settings) as peer:
        await peer.publish(f"{mqtt_base}/in", "after restart")
    await wait_for(lambda: received == [b"after restart"])


async def test_unclean_death_makes_the_broker_publish_the_last_will(
    mosquitto: MosquittoBroker, mqtt_base: str
) -> None:
    settings = fast_settings(mosquitto.url, mqtt_base)
    child = textwrap.dedent(
        f"""
        import asyncio
        from klima.mqtt.connection import MqttConnection
        from klima.mqtt.settings import MqttSettings

        async def main():
            settings = MqttSettings(url={mosquitto.url!r}, base_topic={mqtt_base!r})
            connection = MqttConnection(settings)
            task = asyncio.create_task(connection.run())
            await connection.wait_connected(10)
            print("connected", flush=True)
            await task

        asyncio.run(main())
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 20)
        assert line.strip() == "connected"
        async with MqttClientSession(settings) as observer:
            await observer.subscribe([f"{mqtt_base}/bridge/state"])
            assert (await observer.next_message(2)).payload == b"online"
            process.send_signal(signal.SIGKILL)  # no DISCONNECT: the socket just dies
            will = await observer.next_message(5)
            print("WILL", will)
        assert (will.topic, will.payload) == (f"{mqtt_base}/bridge/state", b"offline")
        assert (await retained(settings, f"{mqtt_base}/bridge/state")) == {will.topic: b"offline"}
    finally:
        process.kill()
        process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()


async def test_unreachable_broker_logs_one_warning_and_stop_still_works(
    mqtt_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="klima.mqtt.connection")
    settings = fast_settings(f"mqtt://127.0.0.1:{free_port()}", mqtt_base, reconnect_max_s=0.05)
    connection = MqttConnection(settings)
    connection.publish(f"{mqtt_base}/x", "held", retain=True)
    task = asyncio.create_task(connection.run())
    await asyncio.sleep(0.5)
    await connection.stop(within=5)
    assert task.done()
    assert task.exception() is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    attempts = [r for r in caplog.records if "attempt" in r.getMessage()]
    assert len(warnings) == 1
    assert "cannot connect" in warnings[0].getMessage()
    assert len(attempts) >= 3  # it kept trying, quietly


async def test_session_to_a_closed_port_is_a_klima_error(mqtt_base: str) -> None:
    settings = fast_settings(f"mqtt://127.0.0.1:{free_port()}", mqtt_base)
    with pytest.raises(BrokerUnavailableError, match=r"cannot connect to MQTT broker 127\.0\.0\.1"):
        async with MqttClientSession(settings):
            pass


async def test_unreadable_tls_files_are_config_errors(tmp_path: Path, mqtt_base: str) -> None:
    missing = tmp_path / "missing-ca.pem"
    settings = MqttSettings(url="mqtts://127.0.0.1:8883", base_topic=mqtt_base, ca_file=missing)
    with pytest.raises(ConfigError, match="TLS files"):
        await MqttConnection(settings).run()
    with pytest.raises(ConfigError, match="TLS files"):
        async with MqttClientSession(settings):
            pass


async def test_embedded_broker_retains_acks_qos1_and_sends_the_will(mqtt_base: str) -> None:
    async with EmbeddedBroker(port=0) as broker:
        assert broker.url.startswith("mqtt://127.0.0.1:")
        settings = fast_settings(broker.url, mqtt_base)
        connection = MqttConnection(settings, subscriptions=[f"{mqtt_base}/in"])
        task = asyncio.create_task(connection.run())
        try:
            await connection.wait_connected(5)
            connection.publish(f"{mqtt_base}/unit", {"mode": "cool"}, retain=True)
            assert await connection.flush(5)  # the QoS 1 PUBACK came back
            assert (await retained(settings, f"{mqtt_base}/unit")) == {
                f"{mqtt_base}/unit": b'{"mode":"cool"}'
            }
        finally:
            await connection.stop(within=5)
            await task
        assert (await retained(settings, f"{mqtt_base}/bridge/state")) == {
            f"{mqtt_base}/bridge/state": b"offline"
        }
        await check_last_will(broker.url, mqtt_base)


async def check_last_will(url: str, base: str) -> None:
    """A client whose socket dies without DISCONNECT leaves its will; then it reconnects.

    The backoff is kept above amqtt's quirk: a same-id reconnect within a few milliseconds
    "takes over" the dead session before amqtt has sent its will.
    """
    settings = fast_settings(url, base, reconnect_min_s=0.3, reconnect_max_s=0.5)
    connection = MqttConnection(settings)
    task = asyncio.create_task(connection.run())
    try:
        await connection.wait_connected(5)
        async with MqttClientSession(settings) as observer:
            await observer.subscribe([f"{base}/bridge/state"])
            assert (await observer.next_message(2)).payload == b"online"
            kill_socket(connection)  # the client itself never publishes offline on a loss
            will = await next_live(observer)
            assert will.payload == b"offline"
            back = await next_live(observer)
            assert back.payload == b"online"
    finally:
        await connection.stop(within=5)
        await task


async def next_live(session: MqttClientSession) -> IncomingMessage:
    """The next message that is not a retained replay (amqtt may replay one twice)."""
    while True:
        message = await session.next_message(5)
        if not message.retain:
            return message


def kill_socket(connection: MqttConnection) -> None:
    link = connection._link
    assert link is not None
    sock = link.client._client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)  # both directions; the broker sees EOF with no DISCONNECT


@pytest.fixture
def tls_mosquitto(tmp_path: Path) -> Iterator[tuple[MosquittoBroker, Path]]:
    """A second Mosquitto whose listener speaks TLS with a throwaway CA."""
    ca, cert, key = make_tls_files(tmp_path)
    broker = MosquittoBroker(tmp_path / "broker", extra_config=tls_listener_config(ca, cert, key))
    broker.scheme = "mqtts"
    broker.start()
    try:
        yield broker, ca
    finally:
        broker.stop()


async def test_tls_broker_with_our_ca(
    tls_mosquitto: tuple[MosquittoBroker, Path], mqtt_base: str
) -> None:
    broker, ca = tls_mosquitto
    settings = fast_settings(broker.url, mqtt_base, ca_file=ca)
    connection = MqttConnection(settings)
    task = asyncio.create_task(connection.run())
    try:
        await connection.wait_connected(5)
        assert (await retained(settings, f"{mqtt_base}/bridge/state")) == {
            f"{mqtt_base}/bridge/state": b"online"
        }
    finally:
        await connection.stop(within=5)
        await task


async def test_tls_refuses_unknown_ca_and_wrong_host_unless_insecure(
    tls_mosquitto: tuple[MosquittoBroker, Path], mqtt_base: str
) -> None:
    broker, ca = tls_mosquitto
    system_store_only = fast_settings(broker.url, mqtt_base)
    with pytest.raises(BrokerUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
        async with MqttClientSession(system_store_only):
            pass
    # The certificate names 127.0.0.1; reaching it as "localhost" fails the host name check...
    by_name = fast_settings(f"mqtts://localhost:{broker.port}", mqtt_base, ca_file=ca)
    with pytest.raises(BrokerUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
        async with MqttClientSession(by_name):
            pass
    # ...which --insecure skips, while the chain is still checked against the CA.
    async with MqttClientSession(by_name.replace(tls_insecure=True)) as session:
        await session.subscribe([f"{mqtt_base}/x"])
        await session.publish(f"{mqtt_base}/x", "over tls")
        assert (await session.next_message(2)).payload == b"over tls"


async def test_embedded_broker_refuses_non_loopback_and_busy_ports() -> None:
    with pytest.raises(ConfigError, match="only listens on loopback"):
        EmbeddedBroker(host="0.0.0.0")
    async with EmbeddedBroker(port=0) as first:
        second = EmbeddedBroker(port=first.port)
        with pytest.raises(
            KlimaError, match=f"cannot start the embedded MQTT broker on 127.0.0.1:{first.port}"
        ):
            await second.start()
        assert first.url == f"mqtt://127.0.0.1:{first.port}"
