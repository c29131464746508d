"""``klima-sim``: simulated units for humans and for tests that need a separate process.

``klima-sim serial --driver mitsubishi_cn105 --units 2`` prints one JSON line per endpoint on
stdout as soon as it is ready (``{"unit": "sim_1", "driver": ..., "port": ..., "tty": ...}``)
and serves until SIGINT or SIGTERM. Logs go to stderr so stdout stays machine-readable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import TYPE_CHECKING

from klima_sim.broadlink_cli import add_broadlink_parser
from klima_sim.clock import Clock, RealClock, ScaledClock
from klima_sim.devices import SERIAL_DEVICES
from klima_sim.serial_sim import SerialSimulator

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

# argparse has no public name for the object add_subparsers() returns.
SubParsers = argparse._SubParsersAction


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="klima-sim", description="Simulated air-conditioner units for Klima."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serial_command(sub)
    add_broadlink_parser(sub)
    _add_demo_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    result = handler(args)
    return int(result)


# --- serial ------------------------------------------------------------------------------


def _add_serial_command(sub: SubParsers[argparse.ArgumentParser]) -> None:
    serial = sub.add_parser("serial", help="serve simulated serial units on pseudo-terminals")
    serial.add_argument("--driver", default="mitsubishi_cn105", choices=sorted(SERIAL_DEVICES))
    serial.add_argument("--units", type=int, default=1, help="number of units (default 1)")
    serial.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)"
    )
    serial.add_argument("--seed", type=int, default=0, help="seed for fault injection")
    serial.add_argument(
        "--outdoor", type=float, default=None, help="constant outdoor temperature in °C"
    )
    serial.add_argument(
        "--wire-time", action="store_true", help="pace replies like a 2400 baud line"
    )
    serial.add_argument("--link-dir", help="directory for the port symlinks (default: a temp dir)")
    serial.add_argument("--log-level", default="warning", choices=["debug", "info", "warning"])
    serial.set_defaults(handler=run_serial)


def run_serial(args: argparse.Namespace) -> int:
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.units < 1:
        print("klima-sim: --units must be at least 1", file=sys.stderr)
        return 2
    asyncio.run(_serve_serial(args))
    return 0


async def _serve_serial(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    clock: Clock = RealClock() if args.speed == 1.0 else ScaledClock(args.speed)
    try:
        async with SerialSimulator(
            driver=args.driver,
            units=args.units,
            clock=clock,
            seed=args.seed,
            outdoor=args.outdoor,
            wire_time=args.wire_time,
            link_dir=args.link_dir,
        ) as sim:
            for endpoint in sim.endpoints:
                print(json.dumps(endpoint.to_json()), flush=True)
            await stop.wait()
            log.info("stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


# --- demo --------------------------------------------------------------------------------


def _add_demo_command(sub: SubParsers[argparse.ArgumentParser]) -> None:
    """Hook for ``klima-sim demo`` (simulators plus the real daemon), kept in its own module.

    The demo pulls in the whole daemon; if that cannot be imported the ``serial`` command must
    keep working, so ``demo`` then explains why it is unavailable instead.
    """
    try:
        from klima_sim.demo import add_demo_parser  # noqa: PLC0415 - optional, heavy import
    except ImportError as exc:
        reason = str(exc)
        demo = sub.add_parser("demo", help="(unavailable) run the daemon against simulated units")
        demo.set_defaults(handler=lambda _args: _demo_unavailable(reason))
        return
    add_demo_parser(sub)


def _demo_unavailable(reason: str) -> int:
    print(f"klima-sim demo is unavailable: {reason}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
