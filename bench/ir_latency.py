"""Latency of an MQTT ``/set`` to an IR unit: to the UDP packet carrying the IR code arriving at
the Broadlink blaster, and to the retained state. 10 IR units of 10 brands on 3 simulated
blasters (4 + 3 + 3).

    .venv/bin/python bench/ir_latency.py [--quick] [--commands 200] [--json out.json]

The blasters (``klima_sim.broadlink_sim``) and the MQTT client share this process and one clock
(``time.perf_counter``); the daemon runs as its own process and talks to the blasters with the
unmodified python-broadlink over UDP on 127.0.0.1. Each endpoint's datagram handler is wrapped
so that every IR code is timestamped when its datagram arrives, before the simulator decrypts
and decodes it; a command's packet is the first one after the publish that the commanded unit
decodes to the new setpoint.

The hub sends one packet at a time per blaster and waits ``[broadlink] send_gap`` (default
0.3 s) after each send_data reply before the next, so commands to units sharing a blaster queue
behind each other. Each latency is split into that wait (until the blaster's previous send
returned plus the gap) and the rest.

Scenarios (``--scenarios``):

* ``stream`` — every unit its own stream of commands with exponentially distributed pauses
  (mean ``--mean-pause``), all units at once: commands meet on a blaster by chance.
* ``burst`` — all 10 units commanded at the same moment (in random order), repeatedly, as an
  automation that sets every room at once does: the worst case for the queue.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import BASE_TOPIC, DaemonProcess, emit, machine_info, mosquitto, print_table
from _harness import summarize_ms as summary
from _mqtt_watch import Watcher
from klima.config import BroadlinkConfig
from klima_sim.broadlink_sim import (
    RM4_MINI,
    RM4_PRO,
    RM_MINI3,
    BroadlinkEndpoint,
    BroadlinkSimulator,
    EndpointSpec,
)

if TYPE_CHECKING:
    from collections.abc import Callable

# Three blasters of three families (RM4 Pro, RM4 mini, the legacy-framed RM mini 3).
LAYOUT: list[tuple[int, list[str]]] = [
    (RM4_PRO, ["mitsubishi_ir", "daikin_ir", "gree_ir", "coolix_ir"]),
    (RM4_MINI, ["midea_ir", "fujitsu_ir", "panasonic_ir"]),
    (RM_MINI3, ["toshiba_ir", "samsung_ir", "lg_ir"]),
]
UNIT_COUNT = sum(len(drivers) for _, drivers in LAYOUT)
START_SETPOINT = 21.0  # every unit is switched on in cool at this before the measurement
SETPOINTS = (22.0, 24.0)  # then alternated per unit: whole degrees, valid for every brand
COMMAND_TIMEOUT = 15.0
BLASTER_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class Arrival:
    """One IR code at a blaster: datagram in, reply out, what the units decoded."""

    at: float
    replied_at: float
    decoded: tuple[tuple[str, dict[str, Any]], ...]

    def sets(self, unit_id: str, target: float) -> bool:
        return any(u == unit_id and f.get("target_temperature") == target for u, f in self.decoded)

    def heard_by(self, unit_id: str) -> bool:
        return any(u == unit_id for u, _ in self.decoded)


@dataclass
class FrameLog:
    """Timestamps every IR code one simulated blaster receives (send_data only)."""

    endpoint: BroadlinkEndpoint
    arrivals: list[Arrival] = field(default_factory=list)

    def __post_init__(self) -> None:
        handle: Callable[[bytes], bytes | None] = self.endpoint.handle
        endpoint = self.endpoint

        def timed_handle(packet: bytes) -> bytes | None:
            at = time.perf_counter()
            codes_before = len(endpoint.received)
            reply = handle(packet)
            if len(endpoint.received) > codes_before:  # an IR code (not a probe, not a resend)
                frame = endpoint.received[-1]
                self.arrivals.append(Arrival(at, time.perf_counter(), frame.decoded))
            return reply

        # The endpoint is its own DatagramProtocol and calls self.handle() per datagram.
        setattr(endpoint, "handle", timed_handle)  # noqa: B010 - mypy forbids assigning a method


@dataclass(frozen=True, slots=True)
class Sent:
    unit_id: str
    blaster: int
    target: float
    published_at: float
    state_at: float


def write_ir_config(
    path: Path, *, broker_url: str, sim: BroadlinkSimulator, data_dir: Path, send_gap: float | None
) -> Path:
    broadlink = "" if send_gap is None else f"\n[broadlink]\nsend_gap = {send_gap}\n"
    blasters = "".join(
        f"""
[[blasters]]
id = "blaster_{index}"
host = "{endpoint.host}"
port = {endpoint.port}
mac = "{endpoint.mac_hex}"
devtype = 0x{endpoint.devtype:04X}
timeout = {BLASTER_TIMEOUT}
"""
        for index, endpoint in enumerate(sim.endpoints, start=1)
    )
    units = "".join(
        f"""
[[units]]
id = "{unit.unit_id}"
driver = "{unit.driver}"
blaster = "blaster_{index}"
restart_delay = 0
"""
        for index, endpoint in enumerate(sim.endpoints, start=1)
        for unit in endpoint.units
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
{broadlink}{blasters}{units}""",
        encoding="utf-8",
    )
    return path


class Driver:
    """Sends the commands and waits for each unit's state."""

    def __init__(self, watcher: Watcher, blaster_of: dict[str, int]) -> None:
        self.watcher = watcher
        self.blaster_of = blaster_of

    async def command(
        self, unit_id: str, target: float, payload: dict[str, Any] | None = None
    ) -> Sent | None:
        arrival = self.watcher.expect_setpoint(unit_id, target)
        published_at = time.perf_counter()
        body = payload or {"target_temperature": target}
        await self.watcher.publish(f"{unit_id}/set", json.dumps(body))
        try:
            state_at = await asyncio.wait_for(arrival, COMMAND_TIMEOUT)
        except TimeoutError:
            print(f"warning: no state for {unit_id} -> {target} within {COMMAND_TIMEOUT:g} s")
            return None
        return Sent(unit_id, self.blaster_of[unit_id], target, published_at, state_at)

    async def stream(self, unit_id: str, count: int, mean_pause: float, seed: int) -> list[Sent]:
        rng = random.Random(seed)  # a reproducible workload, not crypto
        sent = []
        for index in range(count):
            # Poisson arrivals: commands meet on a blaster by chance, not by a fixed rhythm.
            await asyncio.sleep(min(rng.expovariate(1.0 / mean_pause), 4 * mean_pause))
            done = await self.command(unit_id, SETPOINTS[index % 2])
            if done is not None:
                sent.append(done)
        return sent

    async def streams(self, count: int, mean_pause: float, seed: int) -> list[Sent]:
        units = list(self.blaster_of)
        per_unit = [count // len(units) + (i < count % len(units)) for i in range(len(units))]
        runs = [
            self.stream(unit, n, mean_pause, seed * 1000 + i)
            for i, (unit, n) in enumerate(zip(units, per_unit, strict=True))
        ]
        return [s for run in await asyncio.gather(*runs) for s in run]

    async def bursts(self, count: int, mean_pause: float, seed: int) -> list[Sent]:
        rng = random.Random(seed)  # a reproducible workload, not crypto
        units = list(self.blaster_of)
        sent: list[Sent] = []
        for round_index in range(max(1, count // len(units))):
            rng.shuffle(units)
            target = SETPOINTS[round_index % 2]
            # Tasks start in order and each publishes before its first real wait, so the ten
            # publishes leave back to back.
            results = await asyncio.gather(*(self.command(u, target) for u in units))
            sent += [s for s in results if s is not None]
            await asyncio.sleep(rng.uniform(0.5, 1.5) * mean_pause)
        return sent


LABELS = [
    ("to_packet", "publish -> IR code at the blaster"),
    ("blaster_wait", "  waiting for the blaster (earlier sends + gap)"),
    ("own_to_packet", "  the rest (blaster free -> code arrives)"),
    ("alone", "  no other unit's code in between"),
    ("behind_1", "  behind 1 other unit's code"),
    ("behind_2", "  behind 2 other units' codes"),
    ("behind_3", "  behind 3 other units' codes"),
    ("to_state", "publish -> retained state"),
    ("packet_to_state", "  code at the blaster -> state"),
    ("simulator", "    of which the simulator (decrypt, decode)"),
]


def decompose(sent: list[Sent], logs: list[FrameLog], send_gap: float) -> dict[str, list[float]]:
    """Split each latency into waiting for the blaster and the rest (see the module doc)."""
    parts: dict[str, list[float]] = {key: [] for key, _ in LABELS}
    for command in sent:
        arrivals = logs[command.blaster - 1].arrivals
        published = command.published_at
        index = next(
            (
                i
                for i, a in enumerate(arrivals)
                if a.at > published and a.sets(command.unit_id, command.target)
            ),
            None,
        )
        if index is None:
            print(f"warning: no IR code seen for {command}", file=sys.stderr)
            continue
        frame = arrivals[index]
        # The hub may send once the blaster's previous send_data returned plus the gap.
        previous = arrivals[index - 1] if index else None
        free_at = previous.replied_at + send_gap if previous else published
        wait = min(max(0.0, free_at - published), frame.at - published)
        ahead = sum(
            1 for a in arrivals[:index] if a.at > published and not a.heard_by(command.unit_id)
        )
        to_packet = frame.at - published
        parts["to_packet"].append(to_packet)
        parts["blaster_wait"].append(wait)
        parts["own_to_packet"].append(to_packet - wait)
        parts["to_state"].append(command.state_at - published)
        parts["packet_to_state"].append(command.state_at - frame.at)
        parts["simulator"].append(frame.replied_at - frame.at)
        parts["alone" if ahead == 0 else f"behind_{min(ahead, 3)}"].append(to_packet)
    return parts


async def run_scenario(
    name: str, workdir: Path, broker_url: str, args: argparse.Namespace
) -> dict[str, Any]:
    scenario_dir = workdir / name
    scenario_dir.mkdir()
    specs = [EndpointSpec(devtype=devtype, units=drivers) for devtype, drivers in LAYOUT]
    send_gap = BroadlinkConfig().send_gap if args.send_gap is None else args.send_gap
    async with BroadlinkSimulator(specs, seed=args.seed) as sim, Watcher(broker_url) as watcher:
        logs = [FrameLog(endpoint) for endpoint in sim.endpoints]
        blaster_of = {
            unit.unit_id: index
            for index, endpoint in enumerate(sim.endpoints, start=1)
            for unit in endpoint.units
        }
        config = write_ir_config(
            scenario_dir / "klima.toml",
            broker_url=broker_url,
            sim=sim,
            data_dir=scenario_dir,
            send_gap=args.send_gap,
        )
        driver = Driver(watcher, blaster_of)
        async with DaemonProcess(config) as daemon:
            try:
                await watcher.wait_online(UNIT_COUNT, timeout=30)
            except TimeoutError:
                raise SystemExit(f"units did not come online:\n{daemon.log_tail()}") from None
            switch_on = {"mode": "cool", "target_temperature": START_SETPOINT}
            ready = await asyncio.gather(
                *(driver.command(u, START_SETPOINT, switch_on) for u in blaster_of)
            )
            if not all(ready):
                raise SystemExit(f"units did not switch on:\n{daemon.log_tail()}")
            await asyncio.sleep(1.0)
            codes_before = sum(len(log.arrivals) for log in logs)
            cpu_before, started = daemon.cpu_seconds(), time.perf_counter()
            if name == "stream":
                planned = args.commands
                sent = await driver.streams(args.commands, args.mean_pause, args.seed)
            else:
                planned = UNIT_COUNT * max(1, args.commands // UNIT_COUNT)
                sent = await driver.bursts(args.commands, args.mean_pause, args.seed)
            elapsed = time.perf_counter() - started
            cpu = daemon.cpu_seconds() - cpu_before
            memory = daemon.memory_mib()
            codes = sum(len(log.arrivals) for log in logs) - codes_before
    parts = decompose(sent, logs, send_gap)
    return {
        "scenario": name,
        "send_gap_s": send_gap,
        "commands_sent": planned,
        "commands_confirmed": len(sent),
        "ir_codes_sent": codes,
        "waited_for_blaster": sum(1 for w in parts["blaster_wait"] if w > 0),
        "daemon_cpu_percent": round(100 * cpu / elapsed, 2),
        "daemon_cpu_ms_per_command": round(1000 * cpu / max(1, len(sent)), 2),
        "daemon_memory_mib": memory,
        "seconds": round(elapsed, 1),
        "latency_ms": {key: summary(values) for key, values in parts.items()},
    }


def report(result: dict[str, Any]) -> None:
    rows = [
        [label, *(result["latency_ms"][key].get(q, "-") for q in ("n", "p50", "p95", "p99", "max"))]
        for key, label in LABELS
    ]
    memory = result["daemon_memory_mib"]
    title = (
        f"scenario {result['scenario']} (send_gap {result['send_gap_s']:g} s): "
        f"{result['commands_confirmed']}/{result['commands_sent']} confirmed, "
        f"{result['waited_for_blaster']} waited for the blaster; daemon CPU "
        f"{result['daemon_cpu_percent']} % of a core, RSS {memory.get('VmRSS', 0):.1f} MiB "
        f"(peak {memory.get('VmHWM', 0):.1f})"
    )
    print_table(title, ["ms", "n", "p50", "p95", "p99", "max"], rows)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results = []
    with tempfile.TemporaryDirectory(prefix="klima-bench-") as tmp:
        workdir = Path(tmp)
        with mosquitto(workdir, tcp_nodelay=args.broker_nodelay) as broker:
            for name in args.scenarios:
                print(f"running scenario {name!r}: {args.commands} commands ...", flush=True)
                result = await run_scenario(name, workdir, broker.url, args)
                report(result)
                results.append(result)
    return {
        "benchmark": "ir_latency",
        "machine": machine_info(),
        "units": UNIT_COUNT,
        "layout": [
            {"devtype": f"0x{devtype:04X}", "drivers": drivers} for devtype, drivers in LAYOUT
        ],
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
    parser.add_argument(
        "--send-gap", type=float, help="[broadlink] send_gap for the daemon (default: its own)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenarios", default="stream,burst", help="comma-separated")
    parser.add_argument(
        "--broker-nodelay", action="store_true", help="run Mosquitto with set_tcp_nodelay true"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON result here")
    args = parser.parse_args()
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - {"stream", "burst"}
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
