"""``klima-sim broadlink`` as a process, and the ``klima ir learn`` / ``klima discover`` tools.

The tools run their own event loop (``asyncio.run``), so here the simulator runs in a thread
with its own loop, or as a separate ``klima-sim`` process.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from klima.cli.ir_tools import identify, run_discover, run_learn
from klima.errors import ProtocolError
from klima.ir import CodecEncoder
from klima.irpacket import parse_code
from klima.state import Mode, UnitState
from klima.transports.blaster import Blaster, HubSettings
from klima.transports.broadlink import BroadlinkHub
from klima_drivers.mitsubishi_ir.codec import CODEC as MITSUBISHI
from klima_sim.broadlink_sim import BroadlinkEndpoint, BroadlinkSimulator, EndpointSpec

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
HEAT_21 = UnitState(power=True, mode=Mode.HEAT, target_temperature=21.0, fan_mode="low")


class ThreadedSimulator:
    """A BroadlinkSimulator on its own event loop in a thread."""

    def __init__(self, specs: list[EndpointSpec]) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.sim = BroadlinkSimulator(specs)
        asyncio.run_coroutine_threadsafe(self.sim.start(), self.loop).result(5)

    @property
    def endpoint(self) -> BroadlinkEndpoint:
        return self.sim.endpoints[0]

    def later(self, delay: float, action: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(self.loop.call_later, delay, action, *args)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture
def threaded() -> Iterator[ThreadedSimulator]:
    sim = ThreadedSimulator([EndpointSpec(devtype=0x51DA, name="Hall", units=["mitsubishi_ir"])])
    try:
        yield sim
    finally:
        sim.close()


# --- klima discover / klima ir learn ----------------------------------------------------


def test_run_discover_prints_a_table_and_json(
    threaded: ThreadedSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    port = threaded.endpoint.port
    assert run_discover("127.0.0.1", port, 0.3) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "HOST",
        "PORT",
        "DEVTYPE",
        "MODEL",
        "MAC",
        "NAME",
        "LOCKED",
        "SUPPORTED",
    ]
    assert table[1].split()[:4] == ["127.0.0.1", str(port), "0x51DA", "RM4"]
    assert run_discover("127.0.0.1", port, 0.3, as_json=True) == 0
    [device] = json.loads(capsys.readouterr().out)
    assert (device["port"], device["name"]) == (port, "Hall")


def test_run_discover_with_nobody_answering_exits_1(
    threaded: ThreadedSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    threaded.endpoint.silent = True
    assert run_discover("127.0.0.1", threaded.endpoint.port, 0.2) == 1
    assert "no Broadlink device answered" in capsys.readouterr().err


def test_run_learn_prints_the_code_and_what_it_means(
    threaded: ThreadedSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = MITSUBISHI.modulate(MITSUBISHI.encode(HEAT_21, None)[0])
    threaded.later(0.3, threaded.endpoint.press_remote, remote)
    assert run_learn("127.0.0.1", threaded.endpoint.port, 5.0) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("base64: Jg")
    assert lines[1].startswith("hex:    26")
    assert parse_code(lines[0].split()[1]) == parse_code(lines[1].split()[1])
    assert lines[2].startswith("decode: mitsubishi_ir (MITSUBISHI_AC) ")
    fields = json.loads(lines[2].split(") ", 1)[1])
    assert (fields["power"], fields["mode"], fields["target_temperature"]) == (True, "heat", 21.0)


def test_run_learn_json_and_errors(
    threaded: ThreadedSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = MITSUBISHI.modulate(MITSUBISHI.encode(HEAT_21, None)[0])
    threaded.later(0.3, threaded.endpoint.press_remote, remote)
    assert run_learn("127.0.0.1", threaded.endpoint.port, 5.0, as_json=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decoded"][0]["driver"] == "mitsubishi_ir"
    assert bytes.fromhex(out["hex"]) == parse_code(out["base64"])
    threaded.endpoint.locked = True
    assert run_learn("127.0.0.1", threaded.endpoint.port, 1.0) == 1
    assert "locked" in capsys.readouterr().err


def test_identify_lists_every_reading_and_rejects_garbage() -> None:
    [payload] = CodecEncoder(MITSUBISHI).packets(HEAT_21, None)
    [reading] = identify(payload)
    assert reading["driver"] == "mitsubishi_ir"
    assert reading["state"] == MITSUBISHI.encode(HEAT_21, None)[0].hex()
    assert identify(bytes.fromhex("26000c00 00012894 12121237 12000521")) == []
    with pytest.raises(ProtocolError):
        identify(b"\x27\x00")


# --- klima-sim broadlink ----------------------------------------------------------------


def sim_env() -> dict[str, str]:
    env = dict(os.environ)
    roots = [str(ROOT / "src"), str(ROOT / "drivers"), str(ROOT / "simulators")]
    env["PYTHONPATH"] = os.pathsep.join([*roots, env.get("PYTHONPATH", "")])
    return env


class LineReader:
    """Lines from a process's stdout, read with a deadline (raw fd reads, no buffering)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self._fd = process.stdout.fileno()
        self._buffer = b""

    def read(self, count: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_READ)
            while self._buffer.count(b"\n") < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    pytest.fail(f"klima-sim printed {self._buffer!r} within {timeout} s")
                chunk = os.read(self._fd, 4096)
                if not chunk:
                    pytest.fail(f"klima-sim exited after printing {self._buffer!r}")
                self._buffer += chunk
        lines = self._buffer.split(b"\n")
        self._buffer = b"\n".join(lines[count:])
        return [json.loads(line) for line in lines[:count]]


async def test_klima_sim_broadlink_serves_units_and_prints_their_changes() -> None:
    command = [sys.executable, "-m", "klima_sim.cli", "broadlink", "--units", "3"]
    command += ["--per-blaster", "2", "--devtype", "0x5F36"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=sim_env()
    )
    try:
        reader = LineReader(process)
        endpoints = await asyncio.to_thread(reader.read, 3, 15.0)
        assert [e["unit"] for e in endpoints] == ["sim_1", "sim_2", "sim_3"]
        assert {e["driver"] for e in endpoints} == {"mitsubishi_ir"}
        assert {e["devtype"] for e in endpoints} == {0x5F36}
        assert endpoints[0]["port"] == endpoints[1]["port"] != endpoints[2]["port"]
        first = endpoints[0]
        blaster = Blaster(
            "b", first["host"], first["port"], mac=first["mac"], devtype=first["devtype"]
        )
        settings = HubSettings(request_timeout=1.0, hello_timeout=1.0)
        async with BroadlinkHub([blaster], settings) as hub:
            await hub.send_all("b", CodecEncoder(MITSUBISHI).packets(HEAT_21, None))
        changes = await asyncio.to_thread(reader.read, 2, 5.0)
        # Both units in front of that blaster follow; the third blaster heard nothing.
        assert sorted(c["unit"] for c in changes) == ["sim_1", "sim_2"]
        for change in changes:
            assert change["event"] == "state"
            assert (change["power"], change["mode"], change["target_temperature"]) == (
                True,
                "heat",
                21.0,
            )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def test_klima_sim_broadlink_rejects_an_unknown_driver() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "klima_sim.cli", "broadlink", "--driver", "nope"],
        capture_output=True,
        env=sim_env(),
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert b"unknown driver 'nope'" in result.stderr
