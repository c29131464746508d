"""``klima-sim serial`` as a separate process: JSON lines on stdout, clean exit on SIGTERM."""

from __future__ import annotations

import json
import os
import selectors
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from klima_sim.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def sim_env() -> dict[str, str]:
    env = dict(os.environ)
    roots = [str(ROOT / "src"), str(ROOT / "drivers"), str(ROOT / "simulators")]
    env["PYTHONPATH"] = os.pathsep.join([*roots, env.get("PYTHONPATH", "")])
    return env


def read_lines(process: subprocess.Popen[bytes], count: int, timeout: float) -> list[str]:
    """The first ``count`` stdout lines (raw fd reads: a buffered reader would hide lines)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while data.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                pytest.fail(f"klima-sim printed {data!r} within {timeout} s")
            chunk = os.read(fd, 4096)
            if not chunk:
                pytest.fail(f"klima-sim exited after printing {data!r}")
            data += chunk
    return data.decode().splitlines()[:count]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serial_prints_one_line_per_endpoint_and_stops_cleanly(
    stop_signal: signal.Signals,
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "klima_sim.cli", "serial", "--units", "2", "--speed", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sim_env(),
    )
    try:
        lines = [json.loads(line) for line in read_lines(process, 2, timeout=10.0)]
        assert [line["unit"] for line in lines] == ["sim_1", "sim_2"]
        assert {line["driver"] for line in lines} == {"mitsubishi_cn105"}
        for line in lines:
            assert Path(line["port"]).is_symlink()
            assert stat.S_ISCHR(Path(line["port"]).stat().st_mode)
            fd = os.open(line["port"], os.O_RDWR | os.O_NOCTTY)
            try:
                assert os.isatty(fd)
            finally:
                os.close(fd)
        started = time.monotonic()
        process.send_signal(stop_signal)
        _, stderr_bytes = process.communicate(timeout=5.0)
        stderr = stderr_bytes.decode()
        assert process.returncode == 0, stderr
        assert time.monotonic() - started < 5.0
        assert "Traceback" not in stderr
        for line in lines:
            assert not os.path.lexists(line["port"]), "ports are removed on exit"
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_parser_has_room_for_the_demo_command() -> None:
    parser = build_parser()
    args = parser.parse_args(["serial", "--units", "3", "--outdoor", "-5"])
    assert (args.units, args.outdoor, args.driver) == (3, -5.0, "mitsubishi_cn105")
    assert callable(args.handler)
    with pytest.raises(SystemExit):
        parser.parse_args(["serial", "--driver", "no_such_driver"])
