"""CPU time to turn a desired state into Broadlink IR packets, per brand.

    .venv/bin/python bench/ir_encode.py [--quick] [--states 200] [--rounds 25] [--json out.json]

For every installed IR driver with a brand codec, and for ``smartir`` (its encoder over
``tests/fixtures/smartir/1000.json``), a fixed sequence of random desired states valid for the
codec's traits (seeded, ``klima_drivers.ir_common.samples.random_state``) is encoded, each from
the state before it (so toggle protocols add the toggle frames the change needs). Timed with
``time.perf_counter_ns`` around every single call, ``--rounds`` times over the sequence:

* ``path``: ``CodecEncoder(codec).packets(desired, previous)``, what the IR unit calls per
  command (for ``smartir``: the code file lookup, the only step it has);
* ``encode``: ``codec.encode(desired, previous)``, desired state → protocol messages (bytes);
* ``modulate``: ``codec.modulate(message)`` per message → microsecond pulses;
* ``packet``: ``klima.irpacket.signal_to_broadlink(signal)`` per signal → the Broadlink payload.

Runs in this process only; no daemon, broker or network. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _harness import REPO, emit, machine_info, print_table, summarize_ms
from klima.driver import default_registry
from klima.ir import CodecEncoder, IrEncoder, IrSignal, default_state
from klima.irpacket import broadlink_to_signal, signal_to_broadlink
from klima_drivers.ir_common.samples import random_state
from klima_drivers.smartir import SmartIrEncoder

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from klima.ir import IrCodec
    from klima.state import UnitState

SMARTIR_FILE = REPO / "tests" / "fixtures" / "smartir" / "1000.json"
PARTS = ("path", "per_packet", "encode", "modulate", "packet")


@dataclass
class Case:
    """One brand: the encoder the unit uses and, where there is one, the codec behind it."""

    name: str
    encoder: IrEncoder
    codec: IrCodec | None = None
    samples_ns: dict[str, list[int]] = field(default_factory=lambda: {p: [] for p in PARTS})


def cases(only: Sequence[str]) -> list[Case]:
    found = [
        Case(info.name, CodecEncoder(info.ir_codec), info.ir_codec)
        for info in default_registry().all()
        if info.kind == "ir" and info.ir_codec is not None
    ]
    found.append(Case("smartir", SmartIrEncoder.load(SMARTIR_FILE)))
    return [case for case in found if not only or case.name in only]


def workload(case: Case, count: int, seed: int) -> list[tuple[UnitState, UnitState]]:
    """``(desired, previous)`` pairs: random states, each encoded from the one before."""
    rng = random.Random(seed)  # a reproducible workload, not crypto
    traits = case.encoder.traits
    previous = default_state(traits)
    pairs = []
    for _ in range(count):
        desired = random_state(traits, rng)
        pairs.append((desired, previous))
        previous = desired
    return pairs


def timed(
    call: Callable[..., object], arguments: Sequence[tuple[Any, ...]], rounds: int
) -> list[int]:
    """Nanoseconds of every single call, ``rounds`` passes over ``arguments`` (after one
    untimed pass, so caches and lazily built tables are warm)."""
    clock = time.perf_counter_ns
    for args in arguments:
        call(*args)
    samples: list[int] = []
    for _ in range(rounds):
        for args in arguments:
            started = clock()
            call(*args)
            samples.append(clock() - started)
    return samples


def measure(case: Case, pairs: list[tuple[UnitState, UnitState]], rounds: int) -> dict[str, Any]:
    packets = [case.encoder.packets(desired, previous) for desired, previous in pairs]
    gc.collect()
    path = timed(case.encoder.packets, pairs, rounds)
    counts = [len(p) for p in packets] * rounds
    case.samples_ns["path"] = path
    # A state that sends nothing (no change for a toggle-only field) costs its call but has no
    # packet to bill it to.
    case.samples_ns["per_packet"] = [ns // n for ns, n in zip(path, counts, strict=True) if n]
    if case.codec is not None:
        codec = case.codec
        messages = [m for desired, previous in pairs for m in codec.encode(desired, previous)]
        signals = [codec.modulate(m) for m in messages]
        case.samples_ns["encode"] = timed(codec.encode, pairs, rounds)
        case.samples_ns["modulate"] = timed(codec.modulate, [(m,) for m in messages], rounds)
        case.samples_ns["packet"] = timed(signal_to_broadlink, [(s,) for s in signals], rounds)
    else:
        signals = [broadlink_to_signal(p) for ps in packets for p in ps]
    flat = [p for ps in packets for p in ps]
    return {
        "driver": case.name,
        "states": len(pairs),
        "rounds": rounds,
        "packets_per_state": {
            "mean": round(statistics.fmean(len(p) for p in packets), 2),
            "max": max(len(p) for p in packets),
        },
        "bytes_per_packet": {
            "mean": round(statistics.fmean(len(p) for p in flat), 1),
            "max": max(len(p) for p in flat),
        },
        "pulses_per_frame": round(statistics.fmean(len(s.pulses) for s in signals), 1),
        "airtime_ms_per_frame": round(statistics.fmean(_airtime_ms(s) for s in signals), 1),
        "us": {part: summarize_us(case.samples_ns[part]) for part in PARTS},
    }


def _airtime_ms(signal: IrSignal) -> float:
    """How long the LED is busy with one frame, including its repeats and trailing gap."""
    return signal.duration_us / 1000


def summarize_us(samples_ns: list[int]) -> dict[str, float | int]:
    # summarize_ms scales seconds to ms; handing it ms gives µs with the same percentiles.
    return summarize_ms([ns / 1e6 for ns in samples_ns]) if samples_ns else {"n": 0}


def report(results: list[dict[str, Any]]) -> None:
    def q(result: dict[str, Any], part: str, key: str) -> float | str:
        value = result["us"][part].get(key)
        return "-" if value is None else float(value)

    print_table(
        "µs per call (p50 / p99): path = encode + modulate + packet, what a unit calls per command",
        [
            "driver",
            "path p50",
            "path p99",
            "/packet p50",
            "/packet p99",
            "encode p50",
            "encode p99",
            "modulate p50",
            "modulate p99",
            "packet p50",
            "packet p99",
        ],
        [
            [
                r["driver"],
                *(q(r, part, key) for part in PARTS for key in ("p50", "p99")),
            ]
            for r in results
        ],
    )
    print_table(
        "sizes",
        ["driver", "packets/state", "max", "bytes/packet", "max", "pulses/frame", "air ms/frame"],
        [
            [
                r["driver"],
                f"{r['packets_per_state']['mean']:.2f}",
                r["packets_per_state"]["max"],
                r["bytes_per_packet"]["mean"],
                r["bytes_per_packet"]["max"],
                r["pulses_per_frame"],
                r["airtime_ms_per_frame"],
            ]
            for r in results
        ],
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 states, 3 rounds")
    parser.add_argument("--states", type=int, default=200, help="random states per brand")
    parser.add_argument("--rounds", type=int, default=25, help="timed passes over the states")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drivers", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--json", type=Path, help="also write the JSON result here")
    args = parser.parse_args()
    args.drivers = [d.strip() for d in args.drivers.split(",") if d.strip()]
    if args.quick:
        args.states, args.rounds = min(args.states, 50), min(args.rounds, 3)
    return args


def main() -> None:
    args = parse_args()
    selected = cases(args.drivers)
    if not selected:
        raise SystemExit(f"no IR driver matches {', '.join(args.drivers)}")
    started = time.perf_counter()
    results = []
    for case in selected:
        print(f"{case.name}: {args.states} states x {args.rounds} rounds ...", flush=True)
        results.append(measure(case, workload(case, args.states, args.seed), args.rounds))
    report(results)
    emit(
        {
            "benchmark": "ir_encode",
            "machine": machine_info(),
            "states": args.states,
            "rounds": args.rounds,
            "seed": args.seed,
            "seconds": round(time.perf_counter() - started, 1),
            "drivers": results,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
