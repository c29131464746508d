"""The daemon as a real process: SIGTERM says offline, kill -9 loses nothing committed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest
from tests.support.daemon_harness import observe

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.timeout(90)


@asynccontextmanager
async def simulator_process() -> AsyncIterator[str]:
    """`klima-sim serial` in its own process, as a user would run it; yields the unit's port."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "klima_sim.cli",
        "serial",
        "--units",
        "1",
        "--speed",
        "60",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(10):
            line = await proc.stdout.readline()
        endpoint = json.loads(line)
        assert endpoint["unit"] == "sim_1" and endpoint["driver"] == "mitsubishi_cn105"
        yield str(endpoint["port"])
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                await proc.wait()


def write_config(path: Path, broker_url: str, base: str, port: str, data_dir: Path) -> Path:
    path.write_text(
        f"""
[mqtt]
url = "{broker_url}"
base_topic = "{base}"

[database]
url = "sqlite:///{data_dir / "klima.db"}"
commit_interval = 0.05

[daemon]
hub_id = "{base}"
data_dir = "{data_dir}"

[[units]]
id = "sim_1"
name = "Simulated"
driver = "mitsubishi_cn105"
port = "{port}"
poll_interval = 0.2
restart_delay = 0
options = {{ connect_settle_s = 0.0 }}
""",
        encoding="utf-8",
    )
    return path


async def start_daemon(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "klima.cli.main",
        "run",
        "--config",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_sigterm_publishes_offline_and_exits_cleanly(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with simulator_process() as port, observe(mosquitto.url, [f"{mqtt_base}/#"]) as obs:
        config = write_config(tmp_path / "klima.toml", mosquitto.url, mqtt_base, port, tmp_path)
        proc = await start_daemon(config)
        try:
            await obs.wait_for(
                lambda: obs.text(f"{mqtt_base}/sim_1/availability") == "online", 20, "online"
            )
            assert obs.text(f"{mqtt_base}/bridge/state") == "online"
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                code = await proc.wait()
            assert code == 0
            await obs.wait_for(
                lambda: (
                    obs.text(f"{mqtt_base}/bridge/state") == "offline"
                    and obs.text(f"{mqtt_base}/sim_1/availability") == "offline"
                ),
                what="offline",
            )
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_kill_9_loses_nothing_committed_and_restart_restores_state(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    config = tmp_path / "klima.toml"
    database = tmp_path / "klima.db"
    async with observe(mosquitto.url, [f"{mqtt_base}/#"]) as obs:
        async with simulator_process() as port:
            write_config(config, mosquitto.url, mqtt_base, port, tmp_path)
            proc = await start_daemon(config)
            await obs.wait_for(
                lambda: obs.text(f"{mqtt_base}/sim_1/availability") == "online", 20, "online"
            )
            await obs.publish(
                f"{mqtt_base}/sim_1/set", b'{"mode": "cool", "target_temperature": 23.5}'
            )
            await obs.wait_for(
                lambda: (
                    (obs.json(f"{mqtt_base}/sim_1") or {}).get("state_source") == "reported"
                    and obs.json(f"{mqtt_base}/sim_1")["target_temperature"] == 23.5
                ),
                what="confirmed state",
            )
            # Give the writer thread a commit interval, then kill it without warning.
            await asyncio.sleep(0.5)
            proc.kill()
            assert await proc.wait() == -signal.SIGKILL

        with sqlite3.connect(database) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            (saved,) = db.execute("SELECT state FROM unit_state WHERE unit_id = 'sim_1'").fetchone()
        saved_state = json.loads(saved)
        assert saved_state["mode"] == "cool" and saved_state["target_temperature"] == 23.5

        # Restart with the unit gone: what the daemon publishes can only come from the database.
        await obs.publish(f"{mqtt_base}/sim_1", b"", retain=True)
        obs.latest.pop(f"{mqtt_base}/sim_1", None)
        proc = await start_daemon(config)
        try:
            restored = await obs.wait_for(
                lambda: obs.json(f"{mqtt_base}/sim_1"), timeout=20, what="restored state"
            )
            assert restored["mode"] == "cool" and restored["target_temperature"] == 23.5
            assert obs.text(f"{mqtt_base}/sim_1/availability") == "offline"
        finally:
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                await proc.wait()


def test_check_config_reports_errors_with_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[units]]\nid = "x"\ndriver = "nope"\nport = "/dev/null"\nfoo = 1\n')
    result = subprocess.run(
        [sys.executable, "-m", "klima.cli.main", "check-config", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "units[0] (unit 'x').foo: unknown key" in result.stderr
    good = tmp_path / "good.toml"
    good.write_text('[mqtt]\nurl = "embedded"\n')
    result = subprocess.run(
        [sys.executable, "-m", "klima.cli.main", "check-config", str(good)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


async def test_systemd_notify_ready_watchdog_and_stopping(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    import socket

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify.sock"))
    listener.setblocking(False)
    received: list[str] = []

    async def collect(until: str) -> None:
        loop = asyncio.get_running_loop()
        while not any(until in m for m in received):
            data = await loop.sock_recv(listener, 4096)
            received.append(data.decode())

    async with simulator_process() as port:
        config = write_config(tmp_path / "klima.toml", mosquitto.url, mqtt_base, port, tmp_path)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "klima.cli.main",
            "run",
            "--config",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env={
                **os.environ,
                "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
                "WATCHDOG_USEC": "400000",
                "WATCHDOG_PID": "",
            },
        )
        try:
            async with asyncio.timeout(20):
                await collect("READY=1")
                await collect("WATCHDOG=1")
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                await collect("STOPPING=1")
                assert await proc.wait() == 0
        finally:
            listener.close()
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    ready = next(i for i, m in enumerate(received) if "READY=1" in m)
    stopping = next(i for i, m in enumerate(received) if "STOPPING=1" in m)
    assert ready < stopping
