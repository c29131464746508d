"""Idle cost of the daemon: CPU time and memory while it polls 10 simulated units every 2 s and
nobody sends a command.

    .venv/bin/python bench/idle.py [--quick] [--seconds 60] [--instant] [--json out.json]

Two cases, each with a fresh daemon: ``off``, every unit off in real time (a poll changes nothing,
so nothing is published or stored: the pure polling cost), and ``busy``, every unit heating to
26 °C with the rooms running 60 times faster than real time (the compressor, power and room
temperature move, so most polls publish a new state and queue a database row: an upper bound).

CPU is the daemon process's utime + stime from /proc/<pid>/stat (all its threads), over a window
that starts once every unit is online and the start-up burst (discovery, first polls) is over.
Memory is VmRSS and its high-water mark VmHWM from /proc/<pid>/status.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
    write_config,
)
from _mqtt_watch import Watcher
from _wire_log import TimedSimulator
from klima.state import Mode

SETTLE_SECONDS = 5.0  # after all units are online: discovery and the first polls are done
WINDOWS = 6  # the measurement is reported in this many equal windows too, to show the spread


CASES = ("off", "busy")
BUSY_SPEED = 60.0


async def measure(case: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with mosquitto(workdir) as broker:
        async with (
            TimedSimulator(
                UNIT_COUNT,
                wire_time=not args.instant,
                speed=BUSY_SPEED if case == "busy" else 1.0,
            ) as sim,
            Watcher(broker.url) as watcher,
        ):
            if case == "busy":
                for unit in sim.sim.units:
                    unit.power, unit.mode, unit.target_temperature = True, Mode.HEAT, 26.0
            config = write_config(
                workdir / "klima.toml", broker_url=broker.url, ports=sim.ports, data_dir=workdir
            )
            daemon = DaemonProcess(config, prelude=_profiling_prelude(args.profile, case))
            async with daemon:
                try:
                    await watcher.wait_online(UNIT_COUNT, timeout=30)
                except TimeoutError:
                    raise SystemExit(f"units did not come online:\n{daemon.log_tail()}") from None
                online_at = time.perf_counter() - daemon.spawned_at
                memory_at_start = daemon.memory_mib()
                await asyncio.sleep(SETTLE_SECONDS)
                window = args.seconds / WINDOWS
                samples = [_sample(daemon, sim, watcher)]
                for _ in range(WINDOWS):
                    await asyncio.sleep(window)
                    samples.append(_sample(daemon, sim, watcher))
                memory_at_end = daemon.memory_mib()
    (t0, cpu0, ex0, msg0), (t1, cpu1, ex1, msg1) = samples[0], samples[-1]
    elapsed = t1 - t0
    per_window = [
        round(100 * (b[1] - a[1]) / (b[0] - a[0]), 2) for a, b in itertools.pairwise(samples)
    ]
    return {
        "case": case,
        "seconds": round(elapsed, 1),
        "units_online_after_s": round(online_at, 2),
        "cpu_seconds": round(cpu1 - cpu0, 2),
        "cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / elapsed, 2),
        "cpu_percent_per_window": per_window,
        "serial_exchanges_per_s": round((ex1 - ex0) / elapsed, 1),
        "cpu_us_per_exchange": round(1e6 * (cpu1 - cpu0) / max(1, ex1 - ex0), 1),
        "mqtt_messages_per_s": round((msg1 - msg0) / elapsed, 2),
        "memory_after_start_mib": memory_at_start,
        "memory_at_end_mib": memory_at_end,
    }


def _sample(
    daemon: DaemonProcess, sim: TimedSimulator, watcher: Watcher
) -> tuple[float, float, int, int]:
    return time.perf_counter(), daemon.cpu_seconds(), sim.exchanges(), watcher.state_messages


def report(result: dict[str, Any], *, units: int, wire_time: bool) -> None:
    start, end = result["memory_after_start_mib"], result["memory_at_end_mib"]
    rows = [
        ["CPU, % of one core", result["cpu_percent_of_one_core"], "< 1"],
        ["  per window", " ".join(f"{v:.2f}" for v in result["cpu_percent_per_window"]), ""],
        ["CPU per serial exchange, us", result["cpu_us_per_exchange"], ""],
        ["serial exchanges / s", result["serial_exchanges_per_s"], ""],
        ["state messages seen / s", result["mqtt_messages_per_s"], ""],
        ["RSS after start, MiB", round(start["VmRSS"], 1), ""],
        [
            "  private (RssAnon) / file-backed (RssFile)",
            f"{start['RssAnon']:.1f} / {start['RssFile']:.1f}",
            "",
        ],
        ["peak RSS (VmHWM) after start, MiB", round(start["VmHWM"], 1), "< 57.2 (60 MB)"],
        ["peak RSS (VmHWM) at end, MiB", round(end["VmHWM"], 1), "< 57.2 (60 MB)"],
        ["threads", int(end["Threads"]), ""],
        ["units online after spawn, s", result["units_online_after_s"], ""],
    ]
    wire = "replies paced at 2400 baud" if wire_time else "instant replies"
    print_table(
        f"idle daemon, {units} units {result['case']}, {wire}, {result['seconds']} s",
        ["metric", "value", "aim"],
        rows,
    )


def _profiling_prelude(profile: Path | None, case: str) -> str:
    if profile is None:
        return ""
    target = str(profile.with_name(f"{profile.name}.{case}.prof").resolve())
    return (
        "import atexit, cProfile\n"
        "_profiler = cProfile.Profile()\n"
        f"atexit.register(lambda: (_profiler.disable(), _profiler.dump_stats({target!r})))\n"
        "_profiler.enable()"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="measure for 6 s per case")
    parser.add_argument("--seconds", type=float, default=60.0, help="window per case")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated: off,busy")
    parser.add_argument(
        "--instant", action="store_true", help="simulator replies at once (no wire time)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the daemon under cProfile and write <PROFILE>.<case>.prof (main thread only)",
    )
    parser.add_argument("--json", type=Path, help="also write the JSON result here")
    args = parser.parse_args()
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if set(args.cases) - set(CASES):
        parser.error(f"cases must be among {', '.join(CASES)}")
    if args.quick:
        args.seconds = min(args.seconds, 6.0)
    return args


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    for case in args.cases:
        print(f"measuring case {case!r} for {args.seconds:g} s ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="klima-bench-") as tmp:
            result = await measure(case, args, Path(tmp))
        report(result, units=UNIT_COUNT, wire_time=not args.instant)
        results.append(result)
    return {
        "benchmark": "idle",
        "machine": machine_info(),
        "units": UNIT_COUNT,
        "wire_time": not args.instant,
        "cases": results,
    }


def main() -> None:
    args = parse_args()
    emit(asyncio.run(main_async(args)), args.json)


if __name__ == "__main__":
    main()
