"""Which simulated device speaks each driver's protocol.

A device plays the indoor unit's role of one protocol: request bytes in, reply bytes out, state
kept in a :class:`~klima_sim.unit.SimulatedUnit`. Factories import their module lazily so a
simulator for one protocol does not load every other one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Mapping

    from klima_sim.unit import SimulatedUnit


class SerialDevice(Protocol):
    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the host (any split); return the reply bytes now due (maybe none)."""
        ...


DeviceFactory: TypeAlias = Callable[["SimulatedUnit"], SerialDevice]


def _mitsubishi_cn105(unit: SimulatedUnit) -> SerialDevice:
    from klima_sim.cn105 import Cn105Device  # noqa: PLC0415 - lazy: one protocol per simulator

    return Cn105Device(unit)


SERIAL_DEVICES: Mapping[str, DeviceFactory] = {
    "mitsubishi_cn105": _mitsubishi_cn105,
}


def serial_device_factory(driver: str) -> DeviceFactory:
    try:
        return SERIAL_DEVICES[driver]
    except KeyError:
        known = ", ".join(sorted(SERIAL_DEVICES))
        raise ValueError(f"no simulated device for driver {driver!r} (known: {known})") from None
