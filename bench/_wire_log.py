"""A simulator that timestamps its serial lines: when each request's first byte arrived, when
each reply's last byte was written, and which setpoint every set frame carried.

It runs in the benchmark's own process, on the same ``time.perf_counter()`` clock as the MQTT
client, so "publish" and "first byte on the line" are compared on one clock.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from klima_drivers.mitsubishi_cn105 import codec
from klima_drivers.mitsubishi_cn105.frames import SET_REQUEST, FrameParser
from klima_sim.clock import RealClock, ScaledClock
from klima_sim.devices import serial_device_factory
from klima_sim.serial_sim import SerialSimulator

if TYPE_CHECKING:
    from klima_sim.devices import SerialDevice
    from klima_sim.pty import PtyPair
    from klima_sim.serial_sim import SerialEndpoint
    from klima_sim.unit import SimulatedUnit


@dataclass(frozen=True, slots=True)
class SetFrame:
    first_byte_at: float
    target_temperature: float


@dataclass
class LineLog:
    """One unit's line: exchanges as (request's first byte, reply's last byte), set frames."""

    exchanges: list[tuple[float, float]] = field(default_factory=list)
    reply_ends: list[float] = field(default_factory=list)
    sets: list[SetFrame] = field(default_factory=list)
    requests: int = 0
    _request_at: float = 0.0
    _reply_bytes_due: int = 0

    def request(self, at: float) -> None:
        self.requests += 1
        self._request_at = at

    def reply_queued(self, size: int) -> None:
        self._reply_bytes_due += size

    def bytes_written(self, size: int, at: float) -> None:
        if self._reply_bytes_due <= 0:
            return
        self._reply_bytes_due -= size
        if self._reply_bytes_due <= 0:
            self.exchanges.append((self._request_at, at))
            self.reply_ends.append(at)

    # --- queries used by the analysis ---------------------------------------------------

    def first_set_after(self, since: float, target: float) -> SetFrame | None:
        for frame in self.sets:
            if frame.first_byte_at >= since and frame.target_temperature == target:
                return frame
        return None

    def last_reply_end_before(self, moment: float) -> float | None:
        index = bisect.bisect_left(self.reply_ends, moment)
        return self.reply_ends[index - 1] if index else None

    def first_reply_end_after(self, moment: float) -> float | None:
        index = bisect.bisect_right(self.reply_ends, moment)
        return self.reply_ends[index] if index < len(self.reply_ends) else None

    def exchange_in_flight(self, moment: float) -> tuple[float, float] | None:
        """The exchange whose request had arrived but whose reply was not finished at ``moment``."""
        index = bisect.bisect_left(self.reply_ends, moment)
        if index < len(self.exchanges):
            start, end = self.exchanges[index]
            if start <= moment <= end:
                return start, end
        return None


class TimedDevice:
    """Wraps the real simulated CN105 device and records what crosses the line, and when."""

    def __init__(self, inner: SerialDevice, unit: SimulatedUnit, log: LineLog) -> None:
        self._inner = inner
        self._unit = unit
        self._log = log
        self._watch = FrameParser()
        self._frame_started_at = 0.0

    def receive(self, data: bytes) -> bytes:
        now = time.perf_counter()
        if self._watch.pending == 0:
            self._frame_started_at = now  # this chunk begins a new frame
        frames = self._watch.feed(data)
        reply = self._inner.receive(data)
        for index, frame in enumerate(frames):
            started = self._frame_started_at if index == 0 else now
            self._log.request(started)
            if frame.type == SET_REQUEST and frame.code == codec.SET_SETTINGS:
                # The device has applied it by now, so the unit holds the frame's setpoint.
                self._log.sets.append(SetFrame(started, self._unit.target_temperature))
        if self._watch.pending:
            self._frame_started_at = now
        if reply:
            self._log.reply_queued(len(reply))
        return reply


class TimedSimulator:
    """``SerialSimulator`` (CN105) whose endpoints log their line timing in :attr:`lines`."""

    def __init__(
        self, units: int, *, wire_time: bool, request_time: float = 0.0, speed: float = 1.0
    ) -> None:
        self.lines: dict[str, LineLog] = {}
        self._logs_by_unit: dict[int, LineLog] = {}
        inner_factory = serial_device_factory("mitsubishi_cn105")

        def factory(unit: SimulatedUnit) -> SerialDevice:
            log = self._logs_by_unit.setdefault(id(unit), LineLog())
            return TimedDevice(inner_factory(unit), unit, log)

        self.sim = SerialSimulator(
            units=units,
            clock=ScaledClock(speed) if speed != 1.0 else RealClock(),
            seed=1,
            wire_time=wire_time,
            device_factory=factory,
        )
        # The simulator writes the host's requests to the pty at once; a real 2400 baud line
        # needs a frame time to carry them. Delaying each reply by that much models it.
        self.request_time = request_time

    async def __aenter__(self) -> TimedSimulator:
        await self.sim.start()
        for endpoint in self.sim.endpoints:
            log = self._logs_by_unit[id(endpoint.unit)]
            self.lines[endpoint.unit_id] = log
            endpoint.reply_delay = self.request_time
            _time_writes(endpoint, log)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sim.close()

    @property
    def ports(self) -> list[tuple[str, str]]:
        return [(endpoint.unit_id, endpoint.port) for endpoint in self.sim.endpoints]

    def exchanges(self) -> int:
        return sum(len(line.exchanges) for line in self.lines.values())


def _time_writes(endpoint: SerialEndpoint, log: LineLog) -> None:
    """Timestamp every write to the host's side of the pty.

    The simulator has no hook for this, so the endpoint's private ``_write`` is wrapped on the
    instance (bench-only; it is what the paced writer calls for every byte).
    """
    original = endpoint._write

    def timed_write(pair: PtyPair, data: bytes) -> None:
        original(pair, data)
        log.bytes_written(len(data), time.perf_counter())

    endpoint._write = timed_write  # type: ignore[method-assign]  # see the docstring
