"""Simulated Broadlink RM blasters on UDP loopback, in-process::

    spec = EndpointSpec(devtype=0x6026, units=[IrUnitSpec(driver="mitsubishi_ir")])
    async with BroadlinkSimulator(endpoints=[spec]) as sim:
        blaster = sim.endpoints[0]  # .host .port .mac .devtype .units
        broadlink.gendevice(blaster.devtype, (blaster.host, blaster.port), blaster.mac)

Each endpoint is one device on its own socket (the library talks to whatever address answered
its hello, §A9.1). The unmodified python-broadlink 0.19.0 can discover it, authenticate, send
IR codes, learn codes and read sensors; every IR code is decoded with the brand codecs and the
units in front of the blaster follow it (:mod:`klima_sim.broadlink_units`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from klima_sim.broadlink_device import BroadlinkDevice
from klima_sim.broadlink_units import IrUnit, IrUnitSpec
from klima_sim.clock import Clock, RealClock

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from klima.driver import DriverRegistry

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
RM4_PRO = 0x6026
RM4_MINI = 0x51DA
RM_MINI3 = 0x2737
RM_MINI3_NEW = 0x5F36


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointSpec:
    """One simulated blaster. ``units`` are drivers names or full :class:`IrUnitSpec`."""

    devtype: int = RM4_PRO
    units: Sequence[IrUnitSpec | str] = ()
    port: int = 0  # 0 = any free port
    mac: bytes | None = None  # None = a locally administered MAC from the seed
    name: str = ""
    locked: bool = False


class BroadlinkEndpoint(BroadlinkDevice, asyncio.DatagramProtocol):
    """One simulated blaster bound to a UDP port on the loopback interface."""

    def __init__(self, *, port: int, **device: Any) -> None:
        BroadlinkDevice.__init__(self, host=LOOPBACK, **device)
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._delayed: set[asyncio.TimerHandle] = set()

    @property
    def mac_hex(self) -> str:
        return self.mac.hex()

    @property
    def running(self) -> bool:
        return self._transport is not None

    def to_json(self) -> list[dict[str, Any]]:
        """One record per unit, the line ``klima-sim broadlink`` prints."""
        return [
            {
                "unit": u.unit_id,
                "driver": u.driver,
                "host": LOOPBACK,
                "port": self.port,
                "mac": self.mac_hex,
                "devtype": self.devtype,
            }
            for u in self.units
        ]

    async def start(self) -> None:
        """Bind (again, after :meth:`stop`, on the same port) and serve."""
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(LOOPBACK, self.port), family=socket.AF_INET
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        log.info(
            "broadlink %s (0x%04X) listening on %s:%d",
            self.model,
            self.devtype,
            LOOPBACK,
            self.port,
        )

    async def stop(self) -> None:
        """Unplug: the port closes; the library then sees timeouts."""
        for handle in self._delayed:
            handle.cancel()
        self._delayed.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            await asyncio.sleep(0)  # let the transport finish closing

    # asyncio.DatagramProtocol
    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            reply = self.handle(data)
        except Exception:  # a simulator bug must show, but not stop the endpoint
            log.exception("broadlink simulator failed on a %d-byte packet", len(data))
            return
        if reply is None or self._transport is None:
            return
        if self.reply_delay > 0:
            self._send_after(self.reply_delay, reply, addr)
        else:
            self._transport.sendto(reply, addr)

    def _send_after(self, delay: float, reply: bytes, addr: tuple[str | Any, int]) -> None:
        def send() -> None:
            self._delayed.discard(handle)
            if self._transport is not None:
                self._transport.sendto(reply, addr)

        handle = asyncio.get_running_loop().call_later(delay, send)
        self._delayed.add(handle)

    def error_received(self, exc: Exception) -> None:
        log.debug("broadlink simulator socket error: %s", exc)


@dataclass(slots=True)
class _Numbering:
    next_unit: int = 1
    taken_macs: set[bytes] = field(default_factory=set)


class BroadlinkSimulator:
    """Several simulated blasters; an async context manager that starts and stops them."""

    def __init__(
        self,
        endpoints: Sequence[EndpointSpec] = (EndpointSpec(),),
        *,
        clock: Clock | None = None,
        seed: int = 0,
        registry: DriverRegistry | None = None,
    ) -> None:
        self.clock: Clock = clock or RealClock()
        rng = random.Random(seed)  # noqa: S311 - reproducible simulation, not crypto
        numbering = _Numbering()
        self.endpoints = [
            self._build(spec, rng, numbering, registry, index)
            for index, spec in enumerate(endpoints, start=1)
        ]

    def _build(
        self,
        spec: EndpointSpec,
        rng: random.Random,
        numbering: _Numbering,
        registry: DriverRegistry | None,
        index: int,
    ) -> BroadlinkEndpoint:
        units = []
        for entry in spec.units:
            unit_spec = IrUnitSpec(driver=entry) if isinstance(entry, str) else entry
            unit_id = f"sim_{numbering.next_unit}"
            numbering.next_unit += 1
            units.append(IrUnit.build(unit_spec, unit_id, clock=self.clock, registry=registry))
        mac = spec.mac
        while mac is None or mac in numbering.taken_macs:
            # 0x02 in the first byte: locally administered, never a real vendor's address.
            mac = bytes([0x02, *rng.randbytes(5)])
        numbering.taken_macs.add(mac)
        return BroadlinkEndpoint(
            port=spec.port,
            devtype=spec.devtype,
            mac=mac,
            name=spec.name or f"Klima sim blaster {index}",
            units=units,
            rng=random.Random(rng.getrandbits(64)),  # noqa: S311 - not crypto
            clock=self.clock,
            locked=spec.locked,
        )

    @property
    def units(self) -> list[IrUnit]:
        return [unit for endpoint in self.endpoints for unit in endpoint.units]

    def unit(self, unit_id: str) -> IrUnit:
        for unit in self.units:
            if unit.unit_id == unit_id:
                return unit
        raise KeyError(unit_id)

    async def start(self) -> None:
        try:
            for endpoint in self.endpoints:
                await endpoint.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for endpoint in self.endpoints:
            with contextlib.suppress(OSError):
                await endpoint.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that was free a moment ago (to start a simulator later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port
