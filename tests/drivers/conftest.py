"""Fixtures for driver tests: CN105 vectors and a small pseudo-terminal harness.

The harness runs :class:`klima_sim.cn105.Cn105Device` on the master side of a real pty inside
the test's event loop; the driver under test opens the slave path with pyserial, exactly as it
opens a USB adapter. (The full multi-unit simulator with fault injection is klima_sim's; this is
the minimum a client test needs.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tty
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest

from klima_sim.clock import ManualClock
from klima_sim.cn105 import Cn105Device
from klima_sim.unit import SimulatedUnit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    # Annotations for the fixtures below; test modules import these under TYPE_CHECKING.
    UnitFactory: TypeAlias = Callable[..., SimulatedUnit]
    ServeCn105: TypeAlias = Callable[
        [SimulatedUnit], contextlib.AbstractAsyncContextManager["Cn105Pty"]
    ]

VECTORS_FILE = Path(__file__).parent.parent / "fixtures" / "cn105_vectors.json"


@dataclass(frozen=True)
class Vector:
    id: str
    frame: bytes
    direction: str
    meaning: str
    source: str


def _load_vectors() -> dict[str, Vector]:
    data = json.loads(VECTORS_FILE.read_text())
    return {
        v["id"]: Vector(
            id=v["id"],
            frame=bytes.fromhex(v["frame"]),
            direction=v["direction"],
            meaning=v["meaning"],
            source=v["source"],
        )
        for v in data["vectors"]
    }


CN105_VECTORS = _load_vectors()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Any test taking ``cn105_vector`` runs once per vector, with the vector id as test id."""
    if "cn105_vector" in metafunc.fixturenames:
        vectors = list(CN105_VECTORS.values())
        metafunc.parametrize("cn105_vector", vectors, ids=[v.id for v in vectors])


@pytest.fixture
def vectors() -> dict[str, Vector]:
    return CN105_VECTORS


def make_unit(**settings: Any) -> SimulatedUnit:
    """A simulated unit on a clock that only moves when the test says so."""
    settings.setdefault("clock", ManualClock(0.0))
    return SimulatedUnit(**settings)


@dataclass
class Cn105Pty:
    """A simulated CN105 unit answering on a pseudo-terminal."""

    device: Cn105Device
    port: str
    master_fd: int
    slave_fd: int
    # Rewrites each reply before it is written (inject garbage, damage or drop frames).
    reply_filter: Callable[[bytes], bytes] | None = None
    received: bytearray = field(default_factory=bytearray)
    open: bool = True

    @property
    def unit(self) -> SimulatedUnit:
        return self.device.unit

    def on_readable(self) -> None:
        try:
            data = os.read(self.master_fd, 1024)
        except OSError:
            return
        self.received += data
        reply = self.device.receive(data)
        if self.reply_filter is not None:
            reply = self.reply_filter(reply)
        if reply:
            os.write(self.master_fd, reply)

    def hang_up(self) -> None:
        """Unplug: close both ends, as a USB adapter disappearing would."""
        if not self.open:
            return
        self.open = False
        asyncio.get_running_loop().remove_reader(self.master_fd)
        for fd in (self.master_fd, self.slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


@contextlib.asynccontextmanager
async def serve_cn105(unit: SimulatedUnit) -> AsyncIterator[Cn105Pty]:
    master_fd, slave_fd = os.openpty()
    # Raw before the client opens it, so nothing is echoed or translated in the meantime. We
    # keep our slave descriptor open so the master does not see EIO when the client closes.
    tty.setraw(slave_fd)
    os.set_blocking(master_fd, False)
    pty = Cn105Pty(
        device=Cn105Device(unit),
        port=os.ttyname(slave_fd),
        master_fd=master_fd,
        slave_fd=slave_fd,
    )
    asyncio.get_running_loop().add_reader(master_fd, pty.on_readable)
    try:
        yield pty
    finally:
        pty.hang_up()


@pytest.fixture(name="make_unit")
def make_unit_fixture() -> UnitFactory:
    return make_unit


@pytest.fixture(name="serve_cn105")
def serve_cn105_fixture() -> Callable[
    [SimulatedUnit], contextlib.AbstractAsyncContextManager[Cn105Pty]
]:
    """``async with serve_cn105(unit) as pty:`` for tests that configure their own unit."""
    return serve_cn105


@pytest.fixture
def cn105_unit() -> SimulatedUnit:
    return make_unit(power=False, target_temperature=21.0, room_temperature=19.0)


@pytest.fixture
async def cn105_pty(cn105_unit: SimulatedUnit) -> AsyncIterator[Cn105Pty]:
    async with serve_cn105(cn105_unit) as pty:
        yield pty
