"""The pty endpoints, fault injection and lifecycle of SerialSimulator, with a trivial device.

The client side is Klima's real serial transport (pyserial-asyncio-fast on the pty), so these
tests exercise the same seam the daemon uses.
"""

from __future__ import annotations

import asyncio
import os
import random
import stat
from pathlib import Path

import pytest

from klima.driver import SerialSettings
from klima.errors import KlimaTimeoutError, LinkLostError
from klima.state import Mode
from klima.transports.serial import SerialLink, open_serial
from klima_sim.clock import ManualClock
from klima_sim.faults import LinkStats, ReplyFaults
from klima_sim.serial_sim import SerialSimulator
from klima_sim.unit import SimulatedUnit

CN105_LINE = SerialSettings(baudrate=2400, parity="E")


class EchoDevice:
    """Replies with exactly the bytes it received."""

    def __init__(self, unit: SimulatedUnit) -> None:
        self.unit = unit

    def receive(self, data: bytes) -> bytes:
        return data


class LineDevice:
    """Answers each newline-terminated request; ``temp?`` reports the simulated room."""

    def __init__(self, unit: SimulatedUnit) -> None:
        self.unit = unit
        self._buffer = b""

    def receive(self, data: bytes) -> bytes:
        self._buffer += data
        replies = []
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            if line == b"boom":
                raise RuntimeError("device bug")
            if line == b"temp?":
                replies.append(f"{self.unit.room_temperature:.2f}\n".encode())
            else:
                replies.append(b"ok " + line + b"\n")
        return b"".join(replies)


async def read_exactly(link: SerialLink, count: int, timeout: float = 1.0) -> bytes:
    data = b""
    async with asyncio.timeout(timeout):
        while len(data) < count:
            data += await link.read(timeout, count - len(data))
    return data


def open_fds() -> set[str]:
    return {p.name for p in Path("/proc/self/fd").iterdir()}


async def test_endpoints_are_stable_symlinks_to_distinct_ttys() -> None:
    async with SerialSimulator("echo", units=2, device_factory=EchoDevice) as sim:
        ports = [Path(ep.port) for ep in sim.endpoints]
        assert [ep.unit_id for ep in sim.endpoints] == ["sim_1", "sim_2"]
        assert all(p.is_symlink() for p in ports)
        targets = {str(p.resolve()) for p in ports}
        assert len(targets) == 2
        for ep in sim.endpoints:
            assert os.path.realpath(ep.port) == ep.tty_path
            assert stat.S_ISCHR(Path(ep.port).stat().st_mode)
        link_dir = ports[0].parent
    assert not link_dir.exists(), "the simulator's temporary link directory is removed"


async def test_round_trip_survives_client_reopen() -> None:
    async with SerialSimulator("line", device_factory=LineDevice) as sim:
        ep = sim.endpoints[0]
        for attempt in range(3):
            link = await open_serial(ep.port, CN105_LINE)
            try:
                # A request split across writes still reaches the device as one stream.
                await link.write(b"ping")
                await link.write(f"{attempt}\n".encode())
                assert await read_exactly(link, 9) == f"ok ping{attempt}\n".encode()
            finally:
                await link.close()
        assert ep.stats.bytes_in == 3 * len(b"ping0\n")
        assert ep.stats.bytes_out == 3 * len(b"ok ping0\n")


async def test_physics_advance_on_every_request() -> None:
    clock = ManualClock()
    unit = SimulatedUnit(clock=clock, power=True, mode=Mode.HEAT, target_temperature=24.0)
    async with SerialSimulator("line", units=[unit], device_factory=LineDevice) as sim:
        link = await open_serial(sim.endpoints[0].port, CN105_LINE)
        try:
            await link.write(b"temp?\n")
            before = float(await read_exactly(link, 6))
            clock.advance(3600)
            await link.write(b"temp?\n")
            after = float(await read_exactly(link, 6))
        finally:
            await link.close()
    assert before == pytest.approx(20.0, abs=0.01)
    assert after > before + 1.0, "an hour of heating happened between the two requests"


async def test_garbage_is_scattered_through_the_next_reply_reproducibly() -> None:
    replies = []
    for _ in range(2):
        async with SerialSimulator("echo", device_factory=EchoDevice, seed=7) as sim:
            ep = sim.endpoints[0]
            link = await open_serial(ep.port, CN105_LINE)
            try:
                ep.inject_garbage(4)
                await link.write(b"ABCDEFGH")
                reply = await read_exactly(link, 12)
                await link.write(b"clean")
                assert await read_exactly(link, 5) == b"clean", "garbage only hits one reply"
            finally:
                await link.close()
            assert ep.stats.garbage_bytes == 4
        replies.append(reply)
    assert replies[0] == replies[1], "the same seed garbles the same way"
    remaining = iter(replies[0])
    assert all(byte in remaining for byte in b"ABCDEFGH"), "the reply survives in order"


async def test_dropped_bytes_and_silence_make_the_client_time_out() -> None:
    async with SerialSimulator("echo", device_factory=EchoDevice) as sim:
        ep = sim.endpoints[0]
        link = await open_serial(ep.port, CN105_LINE)
        try:
            ep.drop_probability = 1.0
            await link.write(b"lost")
            with pytest.raises(KlimaTimeoutError):
                await link.read(0.2)
            assert ep.stats.dropped_bytes == 4

            ep.drop_probability = 0.0
            ep.silence()
            await link.write(b"unheard")
            with pytest.raises(KlimaTimeoutError):
                await link.read(0.2)
            assert ep.stats.silenced_replies == 1
            assert ep.stats.bytes_in == len(b"lost") + len(b"unheard"), "silent still listens"

            ep.silence(False)
            await link.write(b"back")
            assert await read_exactly(link, 4) == b"back"
        finally:
            await link.close()


def test_partial_drop_probability_is_seeded() -> None:
    def run() -> tuple[bytes, int]:
        stats = LinkStats()
        faults = ReplyFaults(random.Random(3), stats)
        faults.drop_probability = 0.5
        return faults.mangle(bytes(range(200))), stats.dropped_bytes

    first, dropped = run()
    assert (first, dropped) == run()
    assert 50 < dropped < 150
    assert len(first) == 200 - dropped
    with pytest.raises(ValueError):
        ReplyFaults(random.Random(), LinkStats()).drop_probability = 1.5


async def test_reply_delay_and_wire_time_slow_the_reply() -> None:
    async with SerialSimulator("echo", device_factory=EchoDevice, wire_time=True) as sim:
        ep = sim.endpoints[0]
        ep.reply_delay = 0.1
        link = await open_serial(ep.port, CN105_LINE)
        loop = asyncio.get_running_loop()
        try:
            started = loop.time()
            await link.write(bytes(22))  # one CN105 frame: ≈ 100 ms at 2400 baud 8E1
            assert await read_exactly(link, 22) == bytes(22)
            elapsed = loop.time() - started
        finally:
            await link.close()
    assert elapsed >= 0.1 + 22 * 11 / 2400 * 0.9
    assert elapsed < 1.0


async def test_garbage_can_be_sent_unprompted() -> None:
    async with SerialSimulator("echo", device_factory=EchoDevice) as sim:
        ep = sim.endpoints[0]
        link = await open_serial(ep.port, CN105_LINE)
        try:
            ep.inject_garbage(3, now=True)
            assert len(await read_exactly(link, 3)) == 3
        finally:
            await link.close()


async def test_unplug_loses_the_link_and_replug_restores_the_same_path() -> None:
    async with SerialSimulator("line", device_factory=LineDevice) as sim:
        ep = sim.endpoints[0]
        first_device = ep.device
        link = await open_serial(ep.port, CN105_LINE)
        try:
            await link.write(b"a\n")
            assert await read_exactly(link, 5) == b"ok a\n"
            ep.unplug()
            assert not ep.plugged
            assert not os.path.lexists(ep.port), "the port path disappears while unplugged"
            with pytest.raises(LinkLostError):
                await link.read(1.0)
        finally:
            await link.close()

        ep.replug()
        assert ep.device is not first_device, "a replugged device starts a fresh session"
        assert os.path.realpath(ep.port) == ep.tty_path
        link = await open_serial(ep.port, CN105_LINE)
        try:
            await link.write(b"b\n")
            assert await read_exactly(link, 5) == b"ok b\n"
        finally:
            await link.close()
        assert (ep.stats.unplugs, ep.stats.replugs) == (1, 1)


async def test_a_device_error_is_logged_and_the_endpoint_keeps_serving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with SerialSimulator("line", device_factory=LineDevice) as sim:
        link = await open_serial(sim.endpoints[0].port, CN105_LINE)
        try:
            await link.write(b"boom\n")
            await asyncio.sleep(0.05)
            await link.write(b"c\n")
            assert await read_exactly(link, 5) == b"ok c\n"
        finally:
            await link.close()
    assert "device failed" in caplog.text


async def test_close_leaves_no_tasks_fds_or_links() -> None:
    fds_before = open_fds()
    tasks_before = asyncio.all_tasks()
    sim = SerialSimulator("echo", units=3, device_factory=EchoDevice)
    async with sim:
        ports = [ep.port for ep in sim.endpoints]
        sim.endpoints[1].unplug()
        sim.endpoints[1].replug()
        sim.endpoints[2].unplug()
        assert len(asyncio.all_tasks()) > len(tasks_before)
    assert asyncio.all_tasks() == tasks_before
    assert open_fds() == fds_before
    assert not any(os.path.lexists(p) for p in ports)


async def test_given_link_dir_is_kept(tmp_path: Path) -> None:
    async with SerialSimulator("echo", device_factory=EchoDevice, link_dir=tmp_path) as sim:
        assert sim.endpoints[0].port == str(tmp_path / "sim_1")
        assert os.path.lexists(tmp_path / "sim_1")
    assert tmp_path.is_dir()
    assert not os.path.lexists(tmp_path / "sim_1")


def test_unknown_driver_is_refused() -> None:
    with pytest.raises(ValueError, match="no simulated device"):
        SerialSimulator("nonexistent")
