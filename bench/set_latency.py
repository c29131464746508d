"""Latency of an MQTT ``/set``: to the set frame's first byte on the serial line, and to the
retained state showing the new setpoint. 10 simulated CN105 units polled every 2 s.

    .venv/bin/python bench/set_latency.py [--quick] [--commands 200] [--json out.json]

The simulator and the MQTT client share this process and one clock (``time.perf_counter``); the
daemon runs as its own process. Every unit gets its own stream of commands (alternating two
setpoints) with exponentially distributed pauses, all units at once, so commands land at random
points of the units' poll cycles. See docs/benchmarks.md.

Scenarios (``--scenarios``):

* ``instant`` — the simulator answers at once: what is left is software (daemon, broker, pty).
* ``wire`` — replies are paced at 2400 baud 8E1 (the simulator's ``wire_time``); requests still
  reach the unit at once.
* ``line`` — both directions take wire time: each reply is also held back by one frame time,
  the time a real line needs to carry the 22-byte request. The realistic figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import (
    FRAME_TIME,
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
from _wire_log import LineLog, TimedSimulator

SETPOINTS = (22.0, 23.5)  # alternated per unit; the simulated units start at 21.0
SCENARIOS: dict[str, dict[str, Any]] = {
    "instant": {"wire_time": False, "request_time": 0.0},
    "wire": {"wire_time": True, "request_time": 0.0},
    "line": {"wire_time": True, "request_time": FRAME_TIME},
}
COMMAND_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Sent:
    unit_id: str
    target: float
    published_at: float
    state_at: float


async def drive_unit(
    watcher: Watcher, unit_id: str, count: int, mean_pause: float, rng: random.Random
) -> list[Sent]:
    """Send ``count`` commands to one unit, each after a random pause; wait for each state."""
    sent: list[Sent] = []
    for index in range(count):
        target = SETPOINTS[index % 2]
        # Exponential pauses make the commands a Poisson stream, which samples the unit's poll
        # cycle uniformly in time (a fixed rhythm could lock onto the cycle and never hit a
        # poll, or always). Capped so the run stays bounded.
        await asyncio.sleep(min(rng.expovariate(1.0 / mean_pause), 4 * mean_pause))
        arrival = watcher.expect_setpoint(unit_id, target)
        published_at = time.perf_counter()
        await watcher.publish(f"{unit_id}/set", json.dumps({"target_temperature": target}))
        try:
            state_at = await asyncio.wait_for(arrival, COMMAND_TIMEOUT)
        except TimeoutError:
            print(f"warning: no state for {unit_id} -> {target} within {COMMAND_TIMEOUT:g} s")
            continue
        sent.append(Sent(unit_id, target, published_at, state_at))
    return sent


async def drive(watcher: Watcher, count: int, mean_pause: float, seed: int) -> list[Sent]:
    """All units at once, each with its own command stream; ``count`` commands in total."""
    streams = [
        drive_unit(
            watcher,
            f"sim_{unit + 1}",
            count // UNIT_COUNT + (1 if unit < count % UNIT_COUNT else 0),
            mean_pause,
            random.Random(seed * 1000 + unit),
        )
        for unit in range(UNIT_COUNT)
    ]
    return [command for stream in await asyncio.gather(*streams) for command in stream]


def decompose(sent: list[Sent], lines: dict[str, LineLog]) -> dict[str, list[float]]:
    """Split each latency into waiting for the line, the wire, and the daemon's own share."""
    parts: dict[str, list[float]] = {
        key: []
        for key in (
            "to_first_byte",
            "line_wait",
            "in_flight_wait",
            "rest_of_cycle_wait",
            "overhead_first_byte",
            "to_state",
            "set_exchange",
            "overhead_state",
            "if_preempting",
        )
    }
    for command in sent:
        line = lines[command.unit_id]
        frame = line.first_set_after(command.published_at, command.target)
        ack_end = line.first_reply_end_after(frame.first_byte_at) if frame else None
        if frame is None or ack_end is None:
            print(f"warning: no set frame seen for {command}", file=sys.stderr)
            continue
        published = command.published_at
        # The line is ours once the last reply before our frame is complete (half duplex).
        busy_until = line.last_reply_end_before(frame.first_byte_at) or published
        line_free = max(published, busy_until)
        in_flight = line.exchange_in_flight(published)
        in_flight_wait = in_flight[1] - published if in_flight else 0.0
        overhead = frame.first_byte_at - line_free
        parts["to_first_byte"].append(frame.first_byte_at - published)
        parts["line_wait"].append(line_free - published)
        parts["in_flight_wait"].append(in_flight_wait)
        parts["rest_of_cycle_wait"].append(line_free - published - in_flight_wait)
        parts["overhead_first_byte"].append(overhead)
        parts["to_state"].append(command.state_at - published)
        parts["set_exchange"].append(ack_end - frame.first_byte_at)
        parts["overhead_state"].append(
            command.state_at - line_free - (ack_end - frame.first_byte_at)
        )
        # What the first-byte latency would be if a command could go between two poll requests.
        parts["if_preempting"].append(in_flight_wait + overhead)
    return parts


async def run_scenario(
    name: str, workdir: Path, broker_url: str, commands: int, mean_pause: float, seed: int
) -> dict[str, Any]:
    settings = SCENARIOS[name]
    scenario_dir = workdir / name
    scenario_dir.mkdir()
    async with TimedSimulator(UNIT_COUNT, **settings) as sim, Watcher(broker_url) as watcher:
        config = write_config(
            scenario_dir / "klima.toml",
            broker_url=broker_url,
            ports=sim.ports,
            data_dir=scenario_dir,
        )
        async with DaemonProcess(config) as daemon:
            try:
                await watcher.wait_online(UNIT_COUNT, timeout=30)
            except TimeoutError:
                raise SystemExit(f"units did not come online:\n{daemon.log_tail()}") from None
            await asyncio.sleep(3.0)  # past the first polls and the discovery burst
            cpu_before, started = daemon.cpu_seconds(), time.perf_counter()
            exchanges_before = sim.exchanges()
            sent = await drive(watcher, commands, mean_pause, seed)
            elapsed = time.perf_counter() - started
            cpu = daemon.cpu_seconds() - cpu_before
            memory = daemon.memory_mib()
            exchanges = sim.exchanges() - exchanges_before
        parts = decompose(sent, sim.lines)
    durations = [end - start for line in sim.lines.values() for start, end in line.exchanges[3:]]
    return {
        "scenario": name,
        **settings,
        "commands_sent": commands,
        "commands_confirmed": len(sent),
        "waited_for_line": sum(1 for w in parts["line_wait"] if w > 0),
        "exchange_ms": summarize_ms(durations),
        "exchanges_per_s": round(exchanges / elapsed, 1),
        "daemon_cpu_percent": round(100 * cpu / elapsed, 2),
        "daemon_memory_mib": memory,
        "seconds": round(elapsed, 1),
        "latency_ms": {key: summarize_ms(values) for key, values in parts.items()},
    }


LABELS = [
    ("to_first_byte", "publish -> first byte of set frame"),
    ("line_wait", "  waiting for the line (poll in flight)"),
    ("in_flight_wait", "    of which the exchange in flight"),
    ("rest_of_cycle_wait", "    of which the rest of the poll cycle"),
    ("overhead_first_byte", "  own overhead (line free -> first byte)"),
    ("if_preempting", "  estimate if commands preempted polls"),
    ("to_state", "publish -> retained state"),
    ("set_exchange", "  set frame + ack on the line"),
    ("overhead_state", "  own overhead (total - line wait - set)"),
]


def report(result: dict[str, Any]) -> None:
    rows = [
        [label, *(result["latency_ms"][key].get(q, "-") for q in ("n", "p50", "p95", "p99", "max"))]
        for key, label in LABELS
    ]
    title = (
        f"scenario {result['scenario']}: {result['commands_confirmed']}/{result['commands_sent']} "
        f"confirmed, {result['waited_for_line']} waited for a poll, daemon CPU "
        f"{result['daemon_cpu_percent']} % of a core, exchange p50 "
        f"{result['exchange_ms'].get('p50')} ms"
    )
    print_table(title, ["ms", "n", "p50", "p95", "p99", "max"], rows)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    with tempfile.TemporaryDirectory(prefix="klima-bench-") as tmp:
        workdir = Path(tmp)
        with mosquitto(workdir, tcp_nodelay=args.broker_nodelay) as broker:
            for name in args.scenarios:
                print(f"running scenario {name!r}: {args.commands} commands ...", flush=True)
                result = await run_scenario(
                    name, workdir, broker.url, args.commands, args.mean_pause, args.seed
                )
                report(result)
                results.append(result)
    return {
        "benchmark": "set_latency",
        "machine": machine_info(),
        "units": UNIT_COUNT,
        "frame_time_ms": round(FRAME_TIME * 1000, 1),
        "mean_pause_s": args.mean_pause,
        "broker_tcp_nodelay": args.broker_nodelay,
        "scenarios": results,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="20 commands per scenario, 0.5 s mean pause"
    )
    parser.add_argument("--commands", type=int, default=200, help="commands per scenario")
    parser.add_argument(
        "--mean-pause", type=float, default=2.5, help="mean pause between a unit's commands, s"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--scenarios", default="instant,wire,line", help="comma-separated: instant,wire,line"
    )
    parser.add_argument(
        "--broker-nodelay", action="store_true", help="run Mosquitto with set_tcp_nodelay true"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON result here")
    args = parser.parse_args()
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.quick:
        args.commands = min(args.commands, 20)
        args.mean_pause = min(args.mean_pause, 0.5)
    return args


def main() -> None:
    args = parse_args()
    emit(asyncio.run(main_async(args)), args.json)


if __name__ == "__main__":
    main()
