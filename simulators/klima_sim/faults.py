"""Fault injection on the bytes a simulated device sends back to its client.

:class:`ReplyFaults` is pure (no I/O, a seeded RNG) so a failure seen in a test replays
exactly. The endpoint in :mod:`klima_sim.serial_sim` applies it to every reply and adds the
faults that need the pseudo-terminal itself (unplug/replug).

Faults act on the device → client direction only: that is where a real link's trouble shows
up for the client (a request garbled on the way in simply earns no reply, which ``silent`` and
``drop_probability`` already cover).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random


@dataclass(slots=True)
class LinkStats:
    """Counters for one endpoint; tests assert on them."""

    chunks_in: int = 0  # reads from the client (one request may span several)
    bytes_in: int = 0
    replies: int = 0  # non-empty replies the device produced
    bytes_out: int = 0  # bytes actually written to the client
    garbage_bytes: int = 0
    dropped_bytes: int = 0
    silenced_replies: int = 0
    unplugs: int = 0
    replugs: int = 0


class ReplyFaults:
    """What happens to replies on their way out: garbage, drops, delay, silence."""

    def __init__(self, rng: random.Random, stats: LinkStats) -> None:
        self._rng = rng
        self._stats = stats
        self._drop_probability = 0.0
        self._reply_delay = 0.0
        self._pending_garbage = 0
        self.silent = False  # the device hears requests but never answers

    @property
    def drop_probability(self) -> float:
        """Chance that each reply byte is lost."""
        return self._drop_probability

    @drop_probability.setter
    def drop_probability(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"drop probability must be within 0..1, not {value}")
        self._drop_probability = value

    @property
    def reply_delay(self) -> float:
        """Real seconds between a request and the start of its reply."""
        return self._reply_delay

    @reply_delay.setter
    def reply_delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"reply delay cannot be negative, not {seconds}")
        self._reply_delay = seconds

    def add_garbage(self, count: int) -> None:
        """Scatter ``count`` random bytes through the next reply."""
        if count < 0:
            raise ValueError("garbage byte count cannot be negative")
        self._pending_garbage += count

    def random_bytes(self, count: int) -> bytes:
        self._stats.garbage_bytes += count
        return bytes(self._rng.randrange(256) for _ in range(count))

    def mangle(self, reply: bytes) -> bytes:
        """The bytes that reach the client for ``reply`` (possibly none)."""
        if not reply:
            return b""
        self._stats.replies += 1
        if self.silent:
            self._stats.silenced_replies += 1
            return b""
        out = bytearray(reply)
        if self._drop_probability > 0.0:
            kept = bytearray(b for b in out if self._rng.random() >= self._drop_probability)
            self._stats.dropped_bytes += len(out) - len(kept)
            out = kept
        if self._pending_garbage:
            for byte in self.random_bytes(self._pending_garbage):
                out.insert(self._rng.randint(0, len(out)), byte)
            self._pending_garbage = 0
        return bytes(out)
