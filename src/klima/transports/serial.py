"""Serial lines through pyserial-asyncio-fast (the only module that imports it).

A :class:`SerialLink` moves bytes and nothing else: framing belongs to each driver's codec.
"""

from __future__ import annotations

import asyncio
import logging
import termios
from pathlib import Path
from typing import TYPE_CHECKING

import serial
import serial_asyncio_fast

from klima.errors import DriverError, KlimaTimeoutError, LinkLostError

if TYPE_CHECKING:
    from klima.driver import SerialSettings

log = logging.getLogger(__name__)

_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}
_STOPBITS = {1: serial.STOPBITS_ONE, 2: serial.STOPBITS_TWO}


class SerialLink:
    """An open serial port: write bytes, read whatever has arrived, with timeouts."""

    def __init__(
        self, port: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.port = port
        self._reader = reader
        self._writer = writer
        self._closed = False

    async def write(self, data: bytes, within: float = 2.0) -> None:
        if self._closed:
            raise LinkLostError(f"{self.port} is closed")
        try:
            self._writer.write(data)
            async with asyncio.timeout(within):
                await self._writer.drain()
        except TimeoutError:
            raise KlimaTimeoutError(f"writing to {self.port} timed out") from None
        except (OSError, serial.SerialException) as exc:
            raise LinkLostError(f"writing to {self.port} failed: {exc}") from None

    async def read(self, within: float, max_bytes: int = 256) -> bytes:
        """Return the bytes that arrive within ``within`` seconds (at least one byte)."""
        if self._closed:
            raise LinkLostError(f"{self.port} is closed")
        try:
            async with asyncio.timeout(within):
                data = await self._reader.read(max_bytes)
        except TimeoutError:
            raise KlimaTimeoutError(f"no reply on {self.port} within {within:g} s") from None
        except (OSError, serial.SerialException) as exc:
            raise LinkLostError(f"reading {self.port} failed: {exc}") from None
        if not data:
            raise LinkLostError(f"{self.port} was closed by the other end")
        return data

    async def gather_input(self, seconds: float) -> None:
        """Let ``seconds`` of bytes collect in the kernel's buffer instead of waking per byte.

        At 2400 baud a frame trickles in one byte every 4.6 ms; reading each one as it comes
        costs most of an idle daemon's CPU. Pausing the transport lets the next read take them
        all at once.
        """
        transport = self._writer.transport
        transport.pause_reading()  # type: ignore[attr-defined]  # a ReadTransport underneath
        try:
            await asyncio.sleep(seconds)
        finally:
            if not self._closed:
                transport.resume_reading()  # type: ignore[attr-defined]

    def discard_input(self) -> None:
        """Drop bytes already buffered (stale replies after a timeout)."""
        buffered = getattr(self._reader, "_buffer", None)
        if isinstance(buffered, bytearray):
            buffered.clear()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        try:
            async with asyncio.timeout(1.0):
                await self._writer.wait_closed()
        except (TimeoutError, OSError, serial.SerialException):
            log.debug("closing %s did not finish cleanly", self.port)


def _is_pseudo_terminal(port: str) -> bool:
    """A pty (a simulator's port, also through a symlink) carries no parity bit.

    Linux clears PARENB on ptys and glibc's tcsetattr then fails with EINVAL, so asking for
    even parity (CN105 is 8E1) would make pyserial refuse to open a simulator's port.
    """
    return str(Path(port).resolve()).startswith("/dev/pts/")


async def open_serial(port: str, settings: SerialSettings, within: float = 5.0) -> SerialLink:
    """Open ``port`` (a device path or a pty) with the driver's line settings."""
    try:
        async with asyncio.timeout(within):
            reader, writer = await serial_asyncio_fast.open_serial_connection(
                url=port,
                baudrate=settings.baudrate,
                bytesize=settings.bytesize,
                parity=serial.PARITY_NONE
                if _is_pseudo_terminal(port)
                else _PARITY[settings.parity],
                stopbits=_STOPBITS[settings.stopbits],
            )
    except TimeoutError:
        raise KlimaTimeoutError(f"opening {port} timed out") from None
    except (OSError, serial.SerialException, ValueError, termios.error) as exc:
        raise DriverError(f"cannot open {port}: {exc}") from None
    return SerialLink(port, reader, writer)
