"""Plumbing shared by the benchmarks: the daemon as a process, its config, /proc readings,
percentiles, machine facts and output.

The daemon always runs in its own process (``python -m klima.cli.main run``), so the CPU time and
memory read from ``/proc/<pid>`` are the daemon's alone. Everything talks over loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.support (the same Mosquitto helper the tests use)

from tests.support.mosquitto import MosquittoBroker, find_mosquitto  # noqa: E402

BASE_TOPIC = "klimabench"
UNIT_COUNT = 10
POLL_INTERVAL = 2.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# CN105 runs at 2400 baud 8E1: start + 8 data + parity + stop = 11 bits on the wire per byte.
BYTE_TIME = 11 / 2400
FRAME_BYTES = 22  # every CN105 get/set request and its reply: 5 header + 16 payload + checksum
FRAME_TIME = FRAME_BYTES * BYTE_TIME  # 100.8 ms


__all__ = [
    "BASE_TOPIC",
    "BYTE_TIME",
    "FRAME_TIME",
    "POLL_INTERVAL",
    "UNIT_COUNT",
    "DaemonProcess",
    "MosquittoBroker",
    "emit",
    "machine_info",
    "print_table",
    "summarize_ms",
    "write_config",
]


def write_config(
    path: Path,
    *,
    broker_url: str,
    ports: list[tuple[str, str]],
    data_dir: Path,
    poll_interval: float = POLL_INTERVAL,
) -> Path:
    """A daemon config with one CN105 unit per ``(unit_id, port)``; everything else default."""
    units = "".join(
        f"""
[[units]]
id = "{unit_id}"
driver = "mitsubishi_cn105"
port = "{port}"
poll_interval = {poll_interval}
restart_delay = 0
options = {{ connect_settle_s = 0.0 }}
"""
        for unit_id, port in ports
    )
    path.write_text(
        f"""
[mqtt]
url = "{broker_url}"
base_topic = "{BASE_TOPIC}"

[database]
url = "sqlite:///{data_dir / "klima.db"}"

[daemon]
hub_id = "{BASE_TOPIC}"
data_dir = "{data_dir}"
{units}""",
        encoding="utf-8",
    )
    return path


class DaemonProcess:
    """``klima run`` as a child process; its log goes to a file next to the config."""

    def __init__(
        self, config: Path, *, extra_env: dict[str, str] | None = None, prelude: str = ""
    ) -> None:
        self.config = config
        # Python run before the daemon's main() in the child, for experiments (e.g. patching a
        # setting to test a hypothesis without editing the daemon).
        self.prelude = prelude
        self.log_path = config.with_suffix(".log")
        self.extra_env = extra_env or {}
        self.process: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0  # time.perf_counter() just before the fork

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the daemon is not running")
        return self.process.pid

    async def start(self) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}
        }
        # As systemd/klima.service runs it: the benchmark measures the deployed daemon.
        env.setdefault("MALLOC_ARENA_MAX", "2")
        env.update(self.extra_env)
        run = ["run", "--config", str(self.config)]
        if self.prelude:
            launch = (
                f"{self.prelude}\nimport sys\nfrom klima.cli.main import main\nsys.exit(main())"
            )
            command = [sys.executable, "-c", launch, *run]
        else:
            command = [sys.executable, "-m", "klima.cli.main", *run]
        with self.log_path.open("ab") as log:
            self.spawned_at = time.perf_counter()
            self.process = await asyncio.create_subprocess_exec(
                *command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )

    def cpu_seconds(self) -> float:
        """User + system CPU time of the daemon so far (all its threads)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # The command name may contain spaces; the fields we want follow its closing ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / CLOCK_TICKS

    def memory_mib(self) -> dict[str, float]:
        """Resident set size now (VmRSS), its peak so far (VmHWM) and its private (RssAnon) and
        file-backed (RssFile: the interpreter, shared libraries, mapped files) parts, in MiB."""
        out: dict[str, float] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM", "RssAnon", "RssFile"}:
                out[key] = int(value.split()[0]) / 1024
            elif key == "Threads":
                out[key] = int(value)
        return out

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    async def stop(self, timeout: float = 15.0) -> float:
        """SIGTERM and wait; returns the seconds the shutdown took (SIGKILL after ``timeout``)."""
        process = self.process
        if process is None or process.returncode is not None:
            return 0.0
        started = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            print(f"warning: the daemon ignored SIGTERM for {timeout:g} s; killed", file=sys.stderr)
        return time.perf_counter() - started

    async def __aenter__(self) -> DaemonProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@contextlib.contextmanager
def mosquitto(workdir: Path, *, tcp_nodelay: bool = False) -> Any:
    """A private Mosquitto on a free loopback port for the length of the benchmark.

    Mosquitto's default leaves Nagle's algorithm on (``set_tcp_nodelay false``), as most
    installations run it; ``tcp_nodelay`` turns it off.
    """
    extra = "set_tcp_nodelay true\n" if tcp_nodelay else ""
    broker = MosquittoBroker(workdir / "mosquitto", extra_config=extra)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def summarize_ms(seconds: list[float]) -> dict[str, float | int]:
    """n, mean, p50, p95, p99 and max of ``seconds``, in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = sorted(s * 1000 for s in seconds)

    def pick(q: float) -> float:
        # Linear interpolation between the closest ranks (numpy's default "linear" method).
        pos = q * (len(ms) - 1)
        low = int(pos)
        high = min(low + 1, len(ms) - 1)
        return ms[low] + (ms[high] - ms[low]) * (pos - low)

    return {
        "n": len(ms),
        "mean": round(statistics.fmean(ms), 2),
        "p50": round(pick(0.50), 2),
        "p95": round(pick(0.95), 2),
        "p99": round(pick(0.99), 2),
        "max": round(ms[-1], 2),
    }


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
    mosquitto_version = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        # `mosquitto -h` prints its version on the first line and exits non-zero.
        probe = subprocess.run(
            [find_mosquitto(), "-h"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        mosquitto_version = (probe.stdout or probe.stderr).splitlines()[0].strip()
    return {
        "code": _code_version(),
        "cpu": model,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "mosquitto": mosquitto_version,
    }


def _code_version() -> str:
    """The commit measured, and whether the daemon's code differed from it (read-only git)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never let git touch the index
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=env,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "drivers"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=env,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} (+ uncommitted changes in src/drivers)" if changed else commit


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        padded = [
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(padded))
        if index == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def emit(result: dict[str, Any], json_path: Path | None) -> None:
    """Print the result as JSON (and write it to ``json_path`` when given)."""
    text = json.dumps(result, indent=2)
    print("\nJSON:")
    print(text)
    if json_path is not None:
        json_path.write_text(text + "\n", encoding="utf-8")
