"""Start-up time of the daemon: from spawning ``klima run`` to its systemd ``READY=1``.

    .venv/bin/python bench/startup.py [--quick] [--runs 10] [--json out.json]

The daemon is started under a fake ``NOTIFY_SOCKET``: an AF_UNIX datagram socket this script
binds, exactly what systemd hands a ``Type=notify`` service. The clock starts just before the
fork and stops when the ``READY=1`` datagram arrives. Each run also records when all 10 units
announced ``online`` over MQTT, the daemon's own figure for run() -> READY (from its log), and
how long a SIGTERM takes to stop it. The first run creates the database; the others reuse it,
as a restarted service does. Import time is measured separately with ``python -X importtime``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import (
    UNIT_COUNT,
    DaemonProcess,
    emit,
    machine_info,
    mosquitto,
    print_table,
    summarize_ms,
    write_config,
)
from _mqtt_watch import Watcher
from _wire_log import TimedSimulator

READY_TIMEOUT = 30.0
READY_IN_LOG = re.compile(r"klima ready in ([0-9.]+) s")
# What `klima run` imports before it can start (the CLI, the daemon, the installed driver).
IMPORTS = "import klima.cli.main, klima.daemon, klima_drivers.mitsubishi_cn105"


async def wait_ready(notify: socket.socket) -> float:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(READY_TIMEOUT):
        while True:
            datagram = await loop.sock_recv(notify, 4096)
            arrived = time.perf_counter()
            if b"READY=1" in datagram.split(b"\n"):
                return arrived


async def one_run(
    index: int, workdir: Path, config: Path, watcher: Watcher
) -> dict[str, float | None]:
    socket_path = workdir / f"notify-{index}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(socket_path))
        notify.settimeout(0.0)  # non-blocking, for loop.sock_recv
        watcher.forget_online()
        daemon = DaemonProcess(config, extra_env={"NOTIFY_SOCKET": str(socket_path)})
        await daemon.start()
        try:
            ready_at = await wait_ready(notify)
            online_at = await watcher.wait_online(UNIT_COUNT, timeout=READY_TIMEOUT)
        except TimeoutError:
            raise SystemExit(f"no READY within {READY_TIMEOUT:g} s:\n{daemon.log_tail()}") from None
        finally:
            stop_seconds = await daemon.stop()
    socket_path.unlink()
    logged = READY_IN_LOG.findall(daemon.log_path.read_text(errors="replace"))
    return {
        "to_ready_s": ready_at - daemon.spawned_at,
        "to_all_online_s": online_at - daemon.spawned_at,
        "run_to_ready_s": float(logged[-1]) if len(logged) > index else None,
        "stop_s": stop_seconds,
    }


def import_time() -> dict[str, Any]:
    """Import cost of what ``klima run`` loads, from ``python -X importtime`` (best of 3)."""
    best: dict[str, Any] | None = None
    for _ in range(3):
        started = time.perf_counter()
        probe = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", IMPORTS],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        wall = time.perf_counter() - started
        rows = []
        for line in probe.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
            if match:
                self_us, cumulative_us, indent, name = match.groups()
                rows.append((int(self_us), int(cumulative_us), len(indent), name))
        by_package: dict[str, int] = {}
        for self_us, _, _, name in rows:
            root = name.split(".")[0]
            by_package[root] = by_package.get(root, 0) + self_us
        heaviest = sorted(by_package.items(), key=lambda item: -item[1])[:10]
        result = {
            "total_import_s": round(sum(r[0] for r in rows) / 1e6, 3),
            "process_wall_s": round(wall, 3),
            "modules": len(rows),
            "by_package_s": {name: round(us / 1e6, 3) for name, us in heaviest},
        }
        if best is None or result["total_import_s"] < best["total_import_s"]:
            best = result
    assert best is not None
    bare = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=30)
        bare.append(time.perf_counter() - started)
    best["bare_interpreter_wall_s"] = round(min(bare), 3)
    return best


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    runs: list[dict[str, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="klima-bench-") as tmp:
        workdir = Path(tmp)
        with mosquitto(workdir) as broker:
            async with (
                TimedSimulator(UNIT_COUNT, wire_time=True) as sim,
                Watcher(broker.url) as watcher,
            ):
                config = write_config(
                    workdir / "klima.toml", broker_url=broker.url, ports=sim.ports, data_dir=workdir
                )
                for index in range(args.runs):
                    runs.append(await one_run(index, workdir, config, watcher))
                    print(f"run {index + 1}/{args.runs}: {runs[-1]}", flush=True)
    return {
        "benchmark": "startup",
        "machine": machine_info(),
        "units": UNIT_COUNT,
        "runs": [{k: round(v, 3) if v is not None else None for k, v in r.items()} for r in runs],
        "first_run_to_ready_s": round(float(runs[0]["to_ready_s"] or 0), 3),
        "summary_ms": {
            key: summarize_ms([value for r in runs if (value := r[key]) is not None])
            for key in ("to_ready_s", "to_all_online_s", "run_to_ready_s", "stop_s")
        },
        "imports": import_time(),
    }


def report(result: dict[str, Any]) -> None:
    labels = {
        "to_ready_s": "spawn -> READY=1",
        "run_to_ready_s": "  of which Daemon.run() -> READY",
        "to_all_online_s": "spawn -> all units online (MQTT)",
        "stop_s": "SIGTERM -> exit",
    }
    rows = [
        [label, *(result["summary_ms"][key].get(q, "-") for q in ("n", "p50", "mean", "max"))]
        for key, label in labels.items()
    ]
    print_table(f"start-up, {result['units']} units", ["ms", "n", "p50", "mean", "max"], rows)
    imports = result["imports"]
    print(
        f"\n  {IMPORTS}: {imports['modules']} modules, {imports['total_import_s']} s of "
        f"imports in {imports['process_wall_s']} s of process wall time (under -X importtime); "
        f"a bare interpreter takes {imports['bare_interpreter_wall_s']} s"
    )
    print("  import time by package:")
    for name, seconds in imports["by_package_s"].items():
        print(f"    {name:<24} {seconds:.3f} s")
    median = statistics.median(r["to_ready_s"] for r in result["runs"])
    print(f"  first run (creates the database): {result['first_run_to_ready_s']} s to READY")
    print(f"  median over all runs: {median:.3f} s to READY")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 runs")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the JSON result here")
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 2)
    return args


def main() -> None:
    args = parse_args()
    result = asyncio.run(main_async(args))
    report(result)
    emit(result, args.json)


if __name__ == "__main__":
    main()
