"""The systemd notify protocol against a real AF_UNIX datagram socket, and the unit file."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from klima.sdnotify import Notifier, run_watchdog

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
UNIT_FILE = REPO / "systemd" / "klima.service"


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    if len(str(path)) >= 100:  # sun_path holds 108 bytes; pytest's tmp_path can be long
        pytest.skip(f"tmp path too long for a unix socket: {path}")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    yield server
    server.close()


def _receive(server: socket.socket) -> str:
    return server.recv(4096).decode()


def _drain(server: socket.socket) -> list[str]:
    messages = []
    server.setblocking(False)
    try:
        while True:
            messages.append(server.recv(4096).decode())
    except BlockingIOError:
        return messages
    finally:
        server.settimeout(2)


def test_state_messages_reach_the_socket(
    notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.getsockname())
    notifier = Notifier.from_env()
    assert notifier.enabled
    assert notifier.ready()
    assert _receive(notify_socket) == "READY=1"
    notifier.status("2 units\nbroker mqtt://127.0.0.1")
    assert _receive(notify_socket) == "STATUS=2 units broker mqtt://127.0.0.1"
    notifier.watchdog()
    assert _receive(notify_socket) == "WATCHDOG=1"
    notifier.extend_timeout(1.5)
    assert _receive(notify_socket) == "EXTEND_TIMEOUT_USEC=1500000"
    notifier.stopping()
    assert _receive(notify_socket) == "STOPPING=1"
    notifier.close()


def test_abstract_socket_address(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"klima-test-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(2)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert Notifier.from_env().ready()
        assert _receive(server) == "READY=1"
    finally:
        server.close()


def test_without_systemd_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = Notifier.from_env()
    assert not notifier.enabled
    assert not notifier.ready()
    assert notifier.watchdog_interval() is None


def test_unsupported_address_is_ignored(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:1234")
    notifier = Notifier.from_env()
    assert not notifier.enabled
    assert "vsock:2:1234" in caplog.text


def test_a_dead_socket_never_raises_and_is_logged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    notifier = Notifier.from_env()
    assert not notifier.ready()
    assert not notifier.watchdog()
    assert not notifier.status("x")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "nobody-listens" in warnings[0].getMessage()


@pytest.mark.parametrize(
    ("usec", "pid", "interval"),
    [
        ("30000000", None, 15.0),  # WatchdogSec=30 → ping every 15 s
        ("30000000", "self", 15.0),
        ("30000000", "1", None),  # the watchdog belongs to another process
        ("0", None, None),
        ("not a number", None, None),
        (None, None, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, interval: float | None
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(os.getpid()) if value == "self" else value)
    assert Notifier.from_env().watchdog_interval() == interval


async def test_watchdog_pings_only_while_healthy(
    notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.getsockname())
    monkeypatch.setenv("WATCHDOG_USEC", "2000")  # a ping every millisecond
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    notifier = Notifier.from_env()
    checks = 0
    enough = asyncio.Event()

    def healthy() -> bool:
        nonlocal checks
        checks += 1
        if checks >= 6:
            enough.set()
        return checks <= 3  # healthy three times, then stuck

    task = asyncio.create_task(run_watchdog(notifier, healthy))
    async with asyncio.timeout(5):
        await enough.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _drain(notify_socket) == ["WATCHDOG=1"] * 3


async def test_watchdog_returns_at_once_without_a_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    async with asyncio.timeout(1):
        await run_watchdog(Notifier.from_env(), lambda: True)


# --- the unit file that makes systemd use all of the above ------------------------------------


def _unit_sections() -> dict[str, dict[str, list[str]]]:
    """The unit file as {section: {key: [values]}}; systemd keys repeat (DeviceAllow=, …),
    which configparser would collapse, so the few lines are split by hand."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in UNIT_FILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"setting outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not a KEY=VALUE line: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_unit_file_declares_notify_watchdog_and_hardening() -> None:
    sections = _unit_sections()
    assert list(sections) == ["Unit", "Service", "Install"]
    assert sections["Install"] == {"WantedBy": ["multi-user.target"]}
    settings = sections["Service"]
    expected = {
        "Type": ["notify"],
        "NotifyAccess": ["main"],
        "ExecStart": ["/opt/klima/.venv/bin/klima run --config /etc/klima/klima.toml"],
        "WatchdogSec": ["30"],
        "Restart": ["on-failure"],
        "RestartSec": ["5"],
        "User": ["klima"],
        "Group": ["klima"],
        "SupplementaryGroups": ["dialout"],
        "StateDirectory": ["klima"],
        "ConfigurationDirectory": ["klima"],
        "LoadCredential": ["mqtt_password:/etc/klima/mqtt_password"],
        "NoNewPrivileges": ["yes"],
        "ProtectSystem": ["strict"],
        "ProtectHome": ["yes"],
        "PrivateTmp": ["yes"],
        "CapabilityBoundingSet": [""],
        "DevicePolicy": ["closed"],
        "DeviceAllow": ["char-ttyAMA rw", "char-ttyUSB rw", "char-ttyACM rw"],
        "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6 AF_NETLINK"],
        "MemoryDenyWriteExecute": ["yes"],
    }
    assert {key: settings.get(key) for key in expected} == expected


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart exists; point it at a binary that does.
    unit = tmp_path / "klima.service"
    unit.write_text(
        UNIT_FILE.read_text().replace(
            "ExecStart=/opt/klima/.venv/bin/klima", f"ExecStart={shutil.which('true')}"
        )
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
