"""The daemon against a broker that requires a username and password (read from a file)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest
from tests.support.mosquitto import MosquittoBroker

from klima.config import DaemonConfig, DatabaseConfig, KlimaConfig, MqttConfig
from klima.daemon import Daemon
from klima.mqtt.connection import MqttClientSession
from klima.mqtt.settings import MqttSettings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    users = tmp_path / "mosquitto.passwd"
    subprocess.run([passwd, "-b", "-c", str(users), "klima", "s3cret"], check=True, timeout=10)
    users.chmod(0o600)
    broker = MosquittoBroker(
        tmp_path / "broker", extra_config=f"allow_anonymous false\npassword_file {users}\n"
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _config(broker: MosquittoBroker, tmp_path: Path, password: str) -> KlimaConfig:
    secret = tmp_path / "mqtt_password"
    secret.write_text(password + "\n")
    return KlimaConfig(
        mqtt=MqttConfig(url=broker.url, username="klima", password_file=secret),
        database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'klima.db'}"),
        daemon=DaemonConfig(data_dir=tmp_path),
    )


async def test_daemon_logs_in_with_the_password_from_its_file(
    secured_broker: MosquittoBroker, tmp_path: Path
) -> None:
    daemon = Daemon(_config(secured_broker, tmp_path, "s3cret"))
    task = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(10):
            while daemon.bridge is None:
                await asyncio.sleep(0.05)
            await daemon.bridge.connection.connected.wait()
        settings = MqttSettings(url=secured_broker.url, username="klima", password="s3cret")
        async with MqttClientSession(settings) as session:
            await session.subscribe(["klima/bridge/state"])
            message = await session.next_message(5)
            assert message.payload == b"online"
    finally:
        daemon.stop()
        await task


async def test_wrong_password_keeps_the_daemon_running_and_offline(
    secured_broker: MosquittoBroker, tmp_path: Path
) -> None:
    daemon = Daemon(_config(secured_broker, tmp_path, "wrong"))
    task = asyncio.create_task(daemon.run())
    try:
        await asyncio.sleep(2.0)
        assert not task.done()
        assert daemon.bridge is not None
        assert not daemon.bridge.connection.is_connected
        assert "not authorised" in secured_broker.log_text() or "not authorized" in (
            secured_broker.log_text().lower()
        )
    finally:
        daemon.stop()
        async with asyncio.timeout(10):
            await task
