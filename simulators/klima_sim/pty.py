"""Pseudo-terminal pairs: the simulator holds the master, a serial client opens the slave path.

Why the simulator also keeps the *slave* open: on Linux, once every file descriptor of the
slave side is closed, reads on the master fail with EIO and the master stays "readable", so an
event-loop reader would spin on it. A client closing the port and reopening it (which the
daemon does on every reconnect) would trigger exactly that. Holding one slave descriptor of our
own keeps the line "connected" whether or not a client has it open.
"""

from __future__ import annotations

import contextlib
import errno
import os
import termios
import tty
from dataclasses import dataclass


@dataclass(slots=True)
class PtyPair:
    master_fd: int
    slave_fd: int  # our own reference to the slave side; see the module docstring
    slave_path: str
    closed: bool = False


def open_pty() -> PtyPair:
    """Open a raw, non-blocking pseudo-terminal pair."""
    master_fd, slave_fd = os.openpty()
    try:
        # Raw mode: no echo, no line editing, no CR/NL translation, 8-bit clean. A serial
        # client normally sets this itself, but bytes may arrive before it does.
        tty.setraw(slave_fd, termios.TCSANOW)
        os.set_blocking(master_fd, False)
        slave_path = os.ttyname(slave_fd)
    except BaseException:
        os.close(master_fd)
        os.close(slave_fd)
        raise
    return PtyPair(master_fd=master_fd, slave_fd=slave_fd, slave_path=slave_path)


def read_master(pair: PtyPair, max_bytes: int = 4096) -> bytes:
    """Read what the client wrote; ``b""`` when nothing is there (EAGAIN) or no client (EIO)."""
    try:
        return os.read(pair.master_fd, max_bytes)
    except BlockingIOError:
        return b""
    except OSError as exc:
        # EIO: no slave descriptor open. Cannot happen while we hold ours, but a pair being
        # closed concurrently may still report it once.
        if exc.errno == errno.EIO:
            return b""
        raise


def write_master(pair: PtyPair, data: bytes) -> int:
    """Write to the client's side; returns bytes written (0 when the buffer is full)."""
    try:
        return os.write(pair.master_fd, data)
    except BlockingIOError:
        return 0


def close_pty(pair: PtyPair) -> None:
    """Close both of our descriptors; a client still holding the slave sees EOF/EIO."""
    if pair.closed:
        return
    pair.closed = True
    for fd in (pair.master_fd, pair.slave_fd):
        with contextlib.suppress(OSError):
            os.close(fd)
