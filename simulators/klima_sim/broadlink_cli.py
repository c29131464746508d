"""``klima-sim broadlink``: simulated Broadlink blasters with IR units, as a separate process.

``klima-sim broadlink --driver mitsubishi_ir --units 2`` prints one JSON line per unit as soon
as the blasters listen (``{"unit", "driver", "host", "port", "mac", "devtype"}``), then one
line ``{"event": "state", "unit": …}`` whenever a unit's settings change, and serves until
SIGINT or SIGTERM. Logs go to stderr so stdout stays machine-readable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

from klima.errors import KlimaError
from klima_sim.clock import Clock, RealClock, ScaledClock

if TYPE_CHECKING:
    import argparse

    from klima_sim.broadlink_units import IrUnit

log = logging.getLogger(__name__)

DEFAULT_DEVTYPE = 0x6026  # RM4 pro: length-prefixed framing and sensors


def add_broadlink_parser(sub: Any) -> None:
    """Register ``broadlink`` on the ``klima-sim`` subparsers."""
    parser = sub.add_parser(
        "broadlink", help="serve simulated Broadlink RM blasters (UDP on 127.0.0.1)"
    )
    parser.add_argument("--driver", default="mitsubishi_ir", help="IR driver of every unit")
    parser.add_argument("--units", type=int, default=1, help="number of units (default 1)")
    parser.add_argument(
        "--per-blaster", type=int, default=1, help="units sharing one blaster (default 1)"
    )
    parser.add_argument(
        "--devtype",
        type=lambda text: int(text, 0),
        default=DEFAULT_DEVTYPE,
        help="device type, e.g. 0x6026 (RM4 pro), 0x51DA (RM4 mini), 0x2737 (RM mini 3)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for MACs and fault injection")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=run_broadlink)


def run_broadlink(args: argparse.Namespace) -> int:
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.units < 1 or args.per_blaster < 1:
        sys.stderr.write("klima-sim: --units and --per-blaster must be at least 1\n")
        return 2
    try:
        asyncio.run(_serve(args))
    except (KlimaError, ValueError) as exc:  # unknown driver or device type
        sys.stderr.write(f"klima-sim: {exc}\n")
        return 2
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from klima_sim.broadlink_sim import (  # noqa: PLC0415 - loads every codec; only when used
        BroadlinkSimulator,
        EndpointSpec,
    )

    counts = [
        min(args.per_blaster, args.units - start)
        for start in range(0, args.units, args.per_blaster)
    ]
    specs = [EndpointSpec(devtype=args.devtype, units=[args.driver] * n) for n in counts]
    clock: Clock = RealClock() if args.speed == 1.0 else ScaledClock(args.speed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with BroadlinkSimulator(endpoints=specs, clock=clock, seed=args.seed) as sim:
            for endpoint in sim.endpoints:
                for record in endpoint.to_json():
                    _emit(record)
                endpoint.listeners.append(_print_change)
            await stop.wait()
            log.info("stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _print_change(_unit: IrUnit, snapshot: dict[str, Any]) -> None:
    _emit({"event": "state", **snapshot})


def _emit(record: dict[str, Any]) -> None:
    """One JSON line on stdout, flushed: a test or script reads it as soon as it is out."""
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()
