"""``klima-sim demo``: the quick start. Simulated units plus the real daemon in one process.

The daemon is the production code path, unchanged: it opens the simulators' pseudo-terminals
with pyserial like it would open /dev/ttyUSB0, runs an embedded MQTT broker on loopback, and
keeps its SQLite database in a data directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from klima.config import (
    BlasterConfig,
    DaemonConfig,
    DatabaseConfig,
    KlimaConfig,
    MqttConfig,
    UnitConfig,
)
from klima.config_automation import BlockConfig, ScheduleConfig
from klima.config_energy import EnergyConfig, UnitEnergyConfig
from klima.daemon import Daemon
from klima_sim.broadlink_sim import BroadlinkSimulator, EndpointSpec
from klima_sim.clock import ScaledClock
from klima_sim.serial_sim import SerialSimulator

if TYPE_CHECKING:
    import argparse

    from klima_sim.broadlink_sim import BroadlinkEndpoint
    from klima_sim.serial_sim import Endpoint

log = logging.getLogger(__name__)

DEMO_NAMES = ("Living room", "Bedroom", "Office", "Kitchen", "Guest room", "Studio")
DEMO_TARIFF = Path(__file__).parent / "data" / "demo_tariff.toml"
# Shipped performance profiles standing in for the simulated IR units' real models.
DEMO_PROFILE = "mitsubishi_msz_fh09na"
DEMO_PROFILES = {"coolix_ir": "carrier_40grqb09", "fujitsu_ir": "fujitsu_asu9rls3"}


def add_demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser(
        "demo", help="run the daemon against simulated units (embedded broker, SQLite)"
    )
    demo.add_argument("--units", type=int, default=2, help="simulated CN105 units (default 2)")
    demo.add_argument(
        "--ir",
        default="mitsubishi_ir,coolix_ir",
        help="IR units behind one simulated Broadlink blaster, by driver (comma-separated; "
        "empty for none)",
    )
    demo.add_argument(
        "--speed", type=float, default=30.0, help="simulated seconds per real second (default 30)"
    )
    demo.add_argument("--port", type=int, default=1883, help="embedded broker port (0 = any)")
    demo.add_argument(
        "--broker", help="use this broker (mqtt://host:port) instead of the embedded one"
    )
    demo.add_argument("--data-dir", type=Path, help="default ~/.local/share/klima-demo")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_demo(args))
    return 0


def _free_or_any(port: int) -> int:
    """The requested port if it is free on loopback, else 0 (the broker picks a free one)."""
    if port == 0:
        return 0
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                log.warning("port %d is taken; the embedded broker takes a free port", port)
                return 0
            raise
    return port


def demo_config(
    endpoints: list[Endpoint],
    args: argparse.Namespace,
    blaster: BroadlinkEndpoint | None = None,
) -> KlimaConfig:
    data_dir = args.data_dir or Path.home() / ".local" / "share" / "klima-demo"
    mqtt = (
        MqttConfig(url=args.broker)
        if args.broker
        else MqttConfig(url="embedded", embedded_port=_free_or_any(args.port))
    )
    units = [
        UnitConfig(
            id=ep.unit_id,
            name=DEMO_NAMES[i % len(DEMO_NAMES)],
            driver=ep.driver,
            port=ep.port,
            model="simulated",
            options={"connect_settle_s": 0.0},
            restart_delay=60.0,
        )
        for i, ep in enumerate(endpoints)
    ]
    blasters = []
    if blaster is not None:
        blasters.append(
            BlasterConfig(
                id="demo_blaster",
                host=blaster.host,
                port=blaster.port,
                mac=blaster.mac.hex(),
                devtype=blaster.devtype,
            )
        )
        units += [
            UnitConfig(
                id=ir_unit.unit_id.replace("sim_", "ir_"),
                name=f"IR {ir_unit.driver.removesuffix('_ir').capitalize()}",
                driver=ir_unit.driver,
                blaster="demo_blaster",
                blaster_sensor=True,  # the simulated RM4 pro has a thermometer
                restart_delay=60.0,
                # IR has no readback: the energy is the model's estimate for a typical unit.
                energy=UnitEnergyConfig(profile=DEMO_PROFILES.get(ir_unit.driver, DEMO_PROFILE)),
            )
            for ir_unit in blaster.units
        ]
    return KlimaConfig(
        mqtt=mqtt,
        database=DatabaseConfig(),
        daemon=DaemonConfig(data_dir=data_dir),
        blasters=blasters,
        units=units,
        energy=EnergyConfig(tariff=DEMO_TARIFF),
        # A weekly program for the first unit, so `klima schedule list` shows one at once.
        schedules=[
            ScheduleConfig(
                id="demo_week",
                units=[units[0].id],
                blocks=[
                    BlockConfig(at="06:30", mode="heat", target_temperature=21.0),
                    BlockConfig(at="22:00", preset="eco"),
                ],
            )
        ]
        if units
        else [],
    )


async def _demo(args: argparse.Namespace) -> None:
    clock = ScaledClock(args.speed)
    ir_drivers = [d.strip() for d in args.ir.split(",") if d.strip()]
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(
            SerialSimulator(
                driver="mitsubishi_cn105", units=args.units, clock=clock, seed=args.seed
            )
        )
        blaster = None
        if ir_drivers:
            ir_sim = await stack.enter_async_context(
                BroadlinkSimulator([EndpointSpec(units=ir_drivers)], clock=clock, seed=args.seed)
            )
            blaster = ir_sim.endpoints[0]
        config = demo_config(list(sim.endpoints), args, blaster)
        daemon = Daemon(config, on_ready=_print_banner)
        await daemon.run()


def _print_banner(daemon: Daemon) -> None:
    url = daemon.broker_url or "mqtt://127.0.0.1:1883"
    klima = Path(sys.executable).with_name("klima")
    cli = str(klima) if klima.exists() else "klima"
    cwd = Path.cwd()
    with contextlib.suppress(ValueError):
        cli = "./" + os.path.relpath(cli, cwd) if Path(cli).is_absolute() else cli
    broker = "" if url.endswith("127.0.0.1:1883") else f" --broker {url}"
    units = list(daemon.units)
    first = units[0] if units else "sim_1"
    print(
        "\n".join(
            [
                "",
                f"Klima is running: {len(units)} simulated unit(s) ({', '.join(units)}),",
                f"MQTT broker {url}, database {daemon.config.database_url()}",
                "From another terminal:",
                f"  {cli} status{broker}",
                f"  {cli} set {first} mode=cool target_temperature=24{broker}",
                f"  {cli} schedule show --unit {first}{broker}",
                f"  {cli} energy --database {daemon.config.database_url()} --bucket hour",
                f"  {cli} watch{broker}",
                "Home Assistant on this machine: point its MQTT integration at the broker above",
                "(the embedded broker listens on loopback only; for Home Assistant elsewhere run",
                "Mosquitto and start the demo with --broker mqtt://HOST:1883).",
                "Stop with Ctrl-C.",
                "",
            ]
        ),
        flush=True,
    )
