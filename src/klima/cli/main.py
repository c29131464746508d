"""The ``klima`` command.

Daemon-side commands (``run``, ``check-config``, ``drivers``, ``decode``, ``schema``) work on
this machine; the companion commands (``status``, ``set``, ``watch``, ``request``, ``schedule``)
talk to a running daemon only through MQTT, so they work the same from any machine that reaches
the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from klima import __version__
from klima.cli import bill as bill_cli
from klima.cli import companion
from klima.cli import energy as energy_cli
from klima.cli import report as report_cli
from klima.cli import schedule as schedule_cli
from klima.config import json_schema, load_config
from klima.driver import default_registry
from klima.errors import ConfigError, KlimaError, ProtocolError

DEFAULT_CONFIG = Path("/etc/klima/klima.toml")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `klima status --json | head`: the reader left; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KlimaError as exc:
        print(f"klima: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klima", description=__doc__)
    parser.add_argument("--version", action="version", version=f"klima {__version__}")
    sub = parser.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon")
    run.add_argument(
        "--config", type=Path, help=f"config file (default {DEFAULT_CONFIG} if present)"
    )
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    run.set_defaults(handler=_run)

    check = sub.add_parser("check-config", help="validate a config file and report every error")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_check_config)

    drivers = sub.add_parser("drivers", help="list installed drivers and their traits")
    drivers.add_argument("--json", action="store_true")
    drivers.set_defaults(handler=_drivers)

    _add_profiles_command(sub)

    decode = sub.add_parser("decode", help="explain one raw frame (hex) as JSON")
    decode.add_argument("--driver", required=True)
    decode.add_argument("hex", nargs="+", help="frame bytes, e.g. 'FC 7A 01 30 01 00 54'")
    decode.set_defaults(handler=_decode)

    _add_ir_commands(sub)

    bill = sub.add_parser("bill", help="price a usage CSV with a tariff (URDB JSON or TOML)")
    bill_cli.add_bill_arguments(bill)
    bill.set_defaults(handler=bill_cli.run_bill)

    energy = sub.add_parser("energy", help="recorded energy and cost per hour, day or month")
    energy_cli.add_energy_arguments(energy)
    energy.set_defaults(handler=energy_cli.run_energy)

    report = sub.add_parser("report", help="chart a month's daily kWh and cost per unit")
    report_cli.add_report_arguments(report)
    report.set_defaults(handler=report_cli.run_report)

    schema = sub.add_parser("schema", help="print the config file's JSON schema")
    schema.set_defaults(handler=lambda _a: _print_json(json_schema()))

    status = sub.add_parser("status", help="show every unit (through MQTT)")
    status.add_argument("units", nargs="*")
    status.add_argument("--json", action="store_true")
    companion.add_broker_arguments(status)
    status.set_defaults(
        handler=lambda a: companion.run_status(
            companion.settings_from_args(a), a.units or None, as_json=a.json
        )
    )

    setp = sub.add_parser(
        "set", help="change a unit: klima set bedroom mode=cool target_temperature=24"
    )
    setp.add_argument("unit")
    setp.add_argument("assignments", nargs="+", metavar="key=value")
    companion.add_broker_arguments(setp)
    setp.set_defaults(
        handler=lambda a: companion.run_set(companion.settings_from_args(a), a.unit, a.assignments)
    )

    watch = sub.add_parser("watch", help="stream state changes and events live")
    watch.add_argument("--count", type=int, help="stop after this many messages")
    companion.add_broker_arguments(watch)
    watch.set_defaults(
        handler=lambda a: companion.run_watch(companion.settings_from_args(a), count=a.count)
    )

    request = sub.add_parser("request", help="send a bridge request, e.g. health_check")
    request.add_argument("action")
    request.add_argument("data", nargs="?", default="{}", help="JSON object")
    companion.add_broker_arguments(request)
    request.set_defaults(handler=_request)

    _add_schedule_commands(sub)
    return parser


def _add_schedule_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schedule = sub.add_parser(
        "schedule", help="weekly programs, holds and timers: list, show, set, hold, timer …"
    )
    schedule_cli.add_schedule_arguments(schedule)


def _add_ir_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ir = sub.add_parser("ir", help="infrared: decode, encode, learn codes")
    ir.set_defaults(handler=lambda _args: _print_help(ir))
    ir_sub = ir.add_subparsers(metavar="COMMAND")
    decode = ir_sub.add_parser("decode", help="identify a code and print what it means as JSON")
    decode.add_argument("--driver", help="only try this driver (default: every IR codec)")
    decode.add_argument(
        "--format", default="auto", choices=["auto", "broadlink", "state", "pulses"]
    )
    decode.add_argument(
        "code", nargs="+", help="base64/hex Broadlink code, state hex, or µs pulses"
    )
    decode.set_defaults(handler=_ir_decode)
    encode = ir_sub.add_parser("encode", help="build the frame for a desired state")
    encode.add_argument("--driver", required=True)
    encode.add_argument("--format", default="broadlink", choices=["state", "pulses", "broadlink"])
    encode.add_argument("assignments", nargs="*", metavar="key=value")
    encode.set_defaults(handler=_ir_encode)
    learn = ir_sub.add_parser("learn", help="capture a code from a remote with a blaster")
    learn.add_argument("--blaster", required=True, metavar="HOST")
    learn.add_argument("--port", type=int, default=80)
    learn.add_argument("--timeout", type=float, default=30.0)
    learn.add_argument("--mac", help="the blaster's MAC (skips the hello)")
    learn.add_argument("--devtype", type=lambda v: int(v, 0), help="device type, e.g. 0x6026")
    learn.add_argument("--json", action="store_true")
    learn.set_defaults(handler=_ir_learn)
    discover = sub.add_parser("discover", help="list Broadlink devices on the LAN")
    discover.add_argument("--target", default="255.255.255.255", help="broadcast address")
    discover.add_argument("--port", type=int, default=80)
    discover.add_argument("--timeout", type=float, default=5.0)
    discover.add_argument("--json", action="store_true")
    discover.set_defaults(handler=_discover)


def _ir_decode(args: argparse.Namespace) -> int:
    from klima.cli.ir import run_decode  # noqa: PLC0415 - the codecs load only when needed

    return run_decode(" ".join(args.code), args.format, args.driver)


def _ir_encode(args: argparse.Namespace) -> int:
    from klima.cli.ir import run_encode  # noqa: PLC0415

    return run_encode(args.driver, args.assignments, args.format)


def _ir_learn(args: argparse.Namespace) -> int:
    from klima.cli.ir_tools import run_learn  # noqa: PLC0415 - imports the broadlink library

    return run_learn(
        args.blaster, args.port, args.timeout, mac=args.mac, devtype=args.devtype, as_json=args.json
    )


def _discover(args: argparse.Namespace) -> int:
    from klima.cli.ir_tools import run_discover  # noqa: PLC0415

    return run_discover(args.target, args.port, args.timeout, as_json=args.json)


def _run(args: argparse.Namespace) -> int:
    from klima.daemon import Daemon  # noqa: PLC0415 - keep the companion commands light

    path = args.config
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    config = load_config(path, default_registry())
    level = args.log_level or config.daemon.log_level
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not config.units:
        logging.getLogger("klima").warning(
            "no units configured (try `klima-sim demo` for simulated ones)"
        )
    asyncio.run(Daemon(config).run())
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from klima.energy.setup import load_energy  # noqa: PLC0415 - keep the companion commands light

    try:
        config = load_config(args.file, default_registry())
        load_energy(config)  # the tariff file and the performance profiles too
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.file}: OK ({len(config.units)} unit(s))")
    return 0


def _add_profiles_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    profiles = sub.add_parser(
        "profiles", help="list the shipped performance profiles (units.energy.profile)"
    )
    profiles.add_argument("--json", action="store_true")
    profiles.set_defaults(handler=_profiles)


def _profiles(args: argparse.Namespace) -> int:
    from klima_drivers.profiles import list_profiles, load_profile  # noqa: PLC0415

    rows = [(name, load_profile(name).description) for name in list_profiles()]
    if args.json:
        return _print_json([{"name": name, "description": text} for name, text in rows])
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    return 0


def _drivers(args: argparse.Namespace) -> int:
    infos = default_registry().all()
    if args.json:
        return _print_json([info.to_json() for info in infos])
    for info in infos:
        t = info.traits
        print(f"{info.name}  ({info.brand}, {info.kind})")
        print(f"  models:  {', '.join(info.models)}")
        print(f"  modes:   {', '.join(t.hvac_modes)}")
        print(f"  fan:     {', '.join(t.fan_modes) or '-'}")
        print(f"  swing:   {', '.join(t.swing_modes) or '-'}")
        print(f"  swing_h: {', '.join(t.swing_horizontal_modes) or '-'}")
        print(f"  setpoint {t.min_temp:g}..{t.max_temp:g} °C, step {t.temp_step:g}")
    return 0


def _decode(args: argparse.Namespace) -> int:
    info = default_registry().get(args.driver)
    if info.decode_frame is None:
        print(f"klima: driver {info.name} has no frame decoder", file=sys.stderr)
        return 1
    text = "".join(args.hex).replace(":", "").replace(",", "")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        print(f"klima: not hexadecimal: {' '.join(args.hex)!r}", file=sys.stderr)
        return 1
    try:
        decoded = info.decode_frame(raw)
    except ProtocolError as exc:
        print(f"klima: {exc}", file=sys.stderr)
        return 1
    return _print_json(decoded)


def _request(args: argparse.Namespace) -> int:
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as exc:
        print(f"klima: data is not JSON: {exc.msg}", file=sys.stderr)
        return 1
    if not isinstance(data, dict):
        print("klima: data must be a JSON object", file=sys.stderr)
        return 1
    return companion.run_request(companion.settings_from_args(args), args.action, data)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _print_json(value: object) -> int:
    print(json.dumps(value, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
