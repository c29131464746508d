"""Simulated serial units on pseudo-terminals, in-process::

    async with SerialSimulator(driver="mitsubishi_cn105", units=2, clock=ScaledClock(60)) as sim:
        port = sim.endpoints[0].port  # give this path to a serial client

Each endpoint owns a pty pair and a stable symlink to its slave side. The symlink is the
``port``: a replugged endpoint gets a new pty (a closed pty cannot be reopened and the kernel
picks the number), and the symlink moves to it, so a client reconnecting by path finds it.
While unplugged the symlink does not exist, like a USB adapter's device node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from klima_sim.clock import Clock, RealClock
from klima_sim.devices import serial_device_factory
from klima_sim.faults import LinkStats, ReplyFaults
from klima_sim.pty import PtyPair, close_pty, open_pty, read_master, write_master
from klima_sim.room import OutdoorClimate, Room
from klima_sim.unit import SimulatedUnit

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from klima_sim.devices import DeviceFactory, SerialDevice

log = logging.getLogger(__name__)


class SerialEndpoint:
    """One simulated unit on one pseudo-terminal, with run-time fault controls."""

    def __init__(
        self,
        *,
        unit_id: str,
        driver: str,
        unit: SimulatedUnit,
        device_factory: DeviceFactory,
        port: Path,
        rng: random.Random,
        byte_time: float | None,
    ) -> None:
        self.unit_id = unit_id
        self.driver = driver
        self.unit = unit
        self.port = str(port)  # the stable symlink a client opens
        self.stats = LinkStats()
        self.faults = ReplyFaults(rng, self.stats)
        self._device_factory = device_factory
        self.device: SerialDevice = device_factory(unit)
        self._byte_time = byte_time  # real seconds per byte on the wire; None = instant
        self._pair: PtyPair | None = None
        self._outbox: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Task[None]] = set()

    # --- fault controls -----------------------------------------------------------------

    @property
    def drop_probability(self) -> float:
        return self.faults.drop_probability

    @drop_probability.setter
    def drop_probability(self, value: float) -> None:
        self.faults.drop_probability = value

    @property
    def reply_delay(self) -> float:
        return self.faults.reply_delay

    @reply_delay.setter
    def reply_delay(self, seconds: float) -> None:
        self.faults.reply_delay = seconds

    @property
    def silent(self) -> bool:
        return self.faults.silent

    def silence(self, silent: bool = True) -> None:
        """Stop (or resume) answering; the port stays open and requests are still read."""
        self.faults.silent = silent

    def inject_garbage(self, count: int, *, now: bool = False) -> None:
        """Add ``count`` random bytes: scattered through the next reply, or sent ``now``."""
        if now:
            self._enqueue(self.faults.random_bytes(count))
        else:
            self.faults.add_garbage(count)

    @property
    def plugged(self) -> bool:
        return self._pair is not None

    @property
    def tty_path(self) -> str | None:
        """The pty slave the symlink points to now (``None`` while unplugged)."""
        return self._pair.slave_path if self._pair else None

    def unplug(self) -> None:
        """Pull the cable: the client sees EOF/EIO and the port path disappears."""
        if self._pair is None:
            return
        self.stats.unplugs += 1
        self._close_link()
        log.info("%s unplugged", self.unit_id)

    def replug(self) -> None:
        """Plug back in: a new pty behind the same port path; the device handshakes afresh."""
        if self._pair is not None:
            return
        self.stats.replugs += 1
        self.device = self._device_factory(self.unit)  # a fresh link needs a fresh connect
        self.open_link()
        log.info("%s replugged at %s", self.unit_id, self.tty_path)

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit_id,
            "driver": self.driver,
            "port": self.port,
            "tty": self.tty_path,
        }

    # --- plumbing -----------------------------------------------------------------------

    def open_link(self) -> None:
        """Create the pty and the port symlink and start serving (the simulator calls this)."""
        pair = open_pty()
        loop = asyncio.get_running_loop()
        try:
            _point_symlink(Path(self.port), pair.slave_path)
            loop.add_reader(pair.master_fd, self._on_readable)
        except BaseException:
            close_pty(pair)
            raise
        self._pair = pair
        self._outbox = asyncio.Queue()
        self._writer = loop.create_task(self._write_loop(pair), name=f"klima-sim-{self.unit_id}")

    def _close_link(self) -> None:
        pair, self._pair = self._pair, None
        if self._writer is not None:
            self._writer.cancel()
            self._retired.add(self._writer)
            self._writer = None
        if pair is None:
            return
        with contextlib.suppress(FileNotFoundError):
            Path(self.port).unlink()
        with contextlib.suppress(RuntimeError):  # the loop may already be closing
            asyncio.get_running_loop().remove_reader(pair.master_fd)
        close_pty(pair)

    async def aclose(self) -> None:
        self._close_link()
        if self._retired:
            await asyncio.gather(*self._retired, return_exceptions=True)
            self._retired.clear()

    def _on_readable(self) -> None:
        if self._pair is None:
            return
        data = read_master(self._pair)
        if not data:
            return
        self.stats.chunks_in += 1
        self.stats.bytes_in += len(data)
        self.unit.advance()
        try:
            reply = self.device.receive(data)
        except Exception:
            # A device bug must show up in the log, not kill the endpoint's reader.
            log.exception("%s: device failed on %s", self.unit_id, data.hex(" "))
            return
        out = self.faults.mangle(reply)
        if out:
            self._enqueue(out)

    def _enqueue(self, data: bytes) -> None:
        if self._pair is not None and data:
            loop = asyncio.get_running_loop()
            self._outbox.put_nowait((loop.time() + self.faults.reply_delay, data))

    async def _write_loop(self, pair: PtyPair) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await self._outbox.get()
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._byte_time is None:
                self._write(pair, data)
                continue
            started = loop.time()
            for index in range(len(data)):
                self._write(pair, data[index : index + 1])
                await asyncio.sleep(max(0.0, started + (index + 1) * self._byte_time - loop.time()))

    def _write(self, pair: PtyPair, data: bytes) -> None:
        try:
            written = write_master(pair, data)
        except OSError as exc:
            log.debug("%s: write failed: %s", self.unit_id, exc)
            written = 0
        # A UART does not wait for a reader: what does not fit in the buffer is lost.
        self.stats.bytes_out += written
        self.stats.dropped_bytes += len(data) - written


Endpoint = SerialEndpoint  # the short name other modules use


def _point_symlink(link: Path, target: str) -> None:
    """Make ``link`` point at ``target``, replacing any old link atomically."""
    staging = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        staging.unlink()
    staging.symlink_to(target)
    staging.replace(link)


class SerialSimulator:
    """Several simulated units of one serial protocol, each on its own pty endpoint.

    ``units`` is a count (fresh units on ``clock``, outdoors at ``outdoor``) or ready-made
    :class:`SimulatedUnit` objects, which keep their own clocks and rooms. ``device_factory``
    replaces the driver's device (tests use trivial ones). With ``wire_time`` replies are paced
    like ``baudrate``; otherwise they arrive at once, which keeps tests fast.
    """

    def __init__(
        self,
        driver: str = "mitsubishi_cn105",
        units: int | Sequence[SimulatedUnit] = 1,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        outdoor: OutdoorClimate | float | None = None,
        wire_time: bool = False,
        baudrate: int = 2400,
        bits_per_byte: int = 11,  # start + 8 data + parity + stop (CN105 is 8E1)
        device_factory: DeviceFactory | None = None,
        link_dir: str | Path | None = None,
        tick_interval: float = 0.25,
    ) -> None:
        self.driver = driver
        self.clock = clock or RealClock()
        self.seed = seed
        self._device_factory = device_factory or serial_device_factory(driver)
        self._byte_time = bits_per_byte / baudrate if wire_time else None
        self._tick_interval = tick_interval
        self._given_link_dir = Path(link_dir) if link_dir is not None else None
        self._link_dir: Path | None = None
        climate = (
            OutdoorClimate.constant(float(outdoor)) if isinstance(outdoor, int | float) else outdoor
        )
        if isinstance(units, int):
            self.units = [
                SimulatedUnit(clock=self.clock, room=Room(outdoor=climate)) for _ in range(units)
            ]
        else:
            self.units = list(units)
        self.endpoints: list[SerialEndpoint] = []
        self._ticker: asyncio.Task[None] | None = None

    def endpoint(self, unit_id: str) -> SerialEndpoint:
        for endpoint in self.endpoints:
            if endpoint.unit_id == unit_id:
                return endpoint
        raise KeyError(unit_id)

    async def start(self) -> None:
        if self._given_link_dir is not None:
            self._given_link_dir.mkdir(parents=True, exist_ok=True)
            self._link_dir = self._given_link_dir
        else:
            self._link_dir = Path(tempfile.mkdtemp(prefix="klima-sim-"))
        try:
            for index, unit in enumerate(self.units, start=1):
                unit_id = f"sim_{index}"
                endpoint = SerialEndpoint(
                    unit_id=unit_id,
                    driver=self.driver,
                    unit=unit,
                    device_factory=self._device_factory,
                    port=self._link_dir / unit_id,
                    rng=random.Random(self.seed * 1000 + index),  # noqa: S311 - reproducible faults, not crypto
                    byte_time=self._byte_time,
                )
                self.endpoints.append(endpoint)
                endpoint.open_link()
        except BaseException:
            await self.close()
            raise
        self._ticker = asyncio.get_running_loop().create_task(self._tick(), name="klima-sim-tick")

    async def _tick(self) -> None:
        """Let the rooms evolve between requests too (a unit nobody polls still heats)."""
        while True:
            await asyncio.sleep(self._tick_interval)
            for unit in self.units:
                unit.advance()

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for endpoint in self.endpoints:
            await endpoint.aclose()
        if self._link_dir is not None and self._given_link_dir is None:
            shutil.rmtree(self._link_dir, ignore_errors=True)
        self._link_dir = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
