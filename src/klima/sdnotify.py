"""The systemd notify protocol (``sd_notify``) with the standard library only.

systemd passes an ``AF_UNIX`` datagram socket in ``NOTIFY_SOCKET`` (a path, or an abstract
name written with a leading ``@``); each datagram holds newline-separated ``KEY=VALUE``
assignments. With ``WatchdogSec=`` set, systemd also exports ``WATCHDOG_USEC`` (and
``WATCHDOG_PID``) and restarts the service if ``WATCHDOG=1`` does not arrive in time.

Outside systemd every call is a no-op. Notification is never worth crashing the daemon for, so
failures are logged once and otherwise ignored.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends state notifications to the service manager, if there is one."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        # A leading "@" names a socket in Linux's abstract namespace (a leading NUL byte).
        self._address = "\0" + address[1:] if address and address.startswith("@") else address
        self._watchdog_usec = watchdog_usec
        self._socket: socket.socket | None = None
        self._failed_once = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """A notifier configured from ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``."""
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        if address is not None and not address.startswith(("/", "@")):
            # e.g. "vsock:…", used when systemd runs in a VM; not needed on a Pi.
            log.warning("NOTIFY_SOCKET %r is not a path or abstract socket; ignoring it", address)
            address = None
        return cls(address, _watchdog_usec_for_this_process(env))

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, message: str) -> bool:
        """Send one datagram of ``KEY=VALUE`` lines; ``True`` if it was sent."""
        if self._address is None:
            return False
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
                # Never block the event loop on a full receive queue: drop the datagram instead.
                self._socket.settimeout(0.0)
            self._socket.sendto(message.encode(), self._address)
        except (OSError, ValueError) as exc:
            if not self._failed_once:
                self._failed_once = True
                log.warning("cannot notify systemd via %r: %s", self._printable_address(), exc)
            else:
                log.debug("cannot notify systemd: %s", exc)
            return False
        return True

    def ready(self) -> bool:
        return self.notify("READY=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        # STATUS is one line; a newline would start a new (bogus) assignment.
        return self.notify("STATUS=" + " ".join(text.splitlines()))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time to start or stop (e.g. while a database migrates)."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings: half of ``WatchdogSec``; ``None`` without a watchdog."""
        if self._watchdog_usec is None:
            return None
        return self._watchdog_usec / 2 / 1_000_000

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _printable_address(self) -> str:
        address = self._address or ""
        return "@" + address[1:] if address.startswith("\0") else address


def _watchdog_usec_for_this_process(env: Mapping[str, str]) -> int | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    # A watchdog meant for our parent (we were started by a wrapper) is not ours to feed.
    if pid and pid != str(os.getpid()):
        return None
    return usec


async def run_watchdog(notifier: Notifier, healthy: Callable[[], bool]) -> None:
    """Ping the watchdog every :meth:`Notifier.watchdog_interval` while ``healthy()`` is true.

    When ``healthy()`` turns false the pings stop, so systemd restarts a daemon that is stuck
    rather than dead. Returns at once when there is no watchdog; otherwise runs until cancelled.
    """
    interval = notifier.watchdog_interval()
    if interval is None or not notifier.enabled:
        return
    was_healthy = True
    while True:
        is_healthy = healthy()
        if is_healthy:
            notifier.watchdog()
        if is_healthy != was_healthy:
            # One line per transition, not one per skipped ping.
            if is_healthy:
                log.info("health check passes again; resuming watchdog pings")
            else:
                log.warning("health check failed; withholding watchdog pings")
            was_healthy = is_healthy
        await asyncio.sleep(interval)
