"""The pure parts of the Broadlink transport: a blaster's declaration, the hub's settings and
availability with hysteresis. No I/O and no ``broadlink`` import (that is
:mod:`klima.transports.broadlink`'s job alone).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from klima.errors import BlasterError

DEFAULT_PORT = 80
_MAC_SEPARATORS = re.compile(r"[:\-.\s]")


def normalize_mac(mac: str | bytes) -> bytes:
    """Six bytes from ``aa:bb:cc:dd:ee:ff``, ``AA-BB-…``, ``aabbccddeeff`` or bytes."""
    if isinstance(mac, bytes):
        raw = mac
    else:
        try:
            raw = bytes.fromhex(_MAC_SEPARATORS.sub("", mac))
        except ValueError:
            raise ValueError(f"not a MAC address: {mac!r}") from None
    if len(raw) != 6:
        raise ValueError(f"a MAC address has 6 bytes, not {len(raw)}: {mac!r}")
    return raw


def format_mac(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


@dataclass(frozen=True, slots=True)
class Blaster:
    """One Broadlink RM device as the config declares it.

    With both ``devtype`` and ``mac`` the device object is built without any network I/O
    (``gendevice``); otherwise a unicast hello asks the device for them (works for locked
    devices too) and any value given is checked against the answer. ``timeout`` (seconds)
    overrides the hub's request and hello timeouts for this blaster.
    """

    id: str
    host: str
    port: int = DEFAULT_PORT
    mac: bytes | None = None
    devtype: int | None = None
    timeout: float | None = None

    def __init__(
        self,
        id: str,  # noqa: A002 - the config's key is "id"
        host: str,
        port: int = DEFAULT_PORT,
        *,
        mac: str | bytes | None = None,
        devtype: int | None = None,
        timeout: float | None = None,
    ) -> None:
        if not 0 < port < 0x10000:
            raise ValueError(f"blaster {id!r}: port {port} is out of range")
        if devtype is not None and not 0 <= devtype <= 0xFFFF:
            raise ValueError(f"blaster {id!r}: device type {devtype} is not a 16-bit value")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"blaster {id!r}: timeout must be positive")
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "port", port)
        object.__setattr__(self, "mac", None if mac is None else normalize_mac(mac))
        object.__setattr__(self, "devtype", devtype)
        object.__setattr__(self, "timeout", timeout)

    def request_timeout(self, settings: HubSettings) -> float:
        return self.timeout or settings.request_timeout

    def hello_timeout(self, settings: HubSettings) -> float:
        return self.timeout or settings.hello_timeout

    def check_identity(self, mac: bytes, devtype: int) -> None:
        """Raise BlasterError if the device that answered is not the one declared."""
        if self.mac is not None and mac != self.mac:
            raise BlasterError(
                f"blaster {self.id!r}: {self.host} answers with MAC {format_mac(mac)},"
                f" not {format_mac(self.mac)}"
            )
        if self.devtype is not None and devtype != self.devtype:
            raise BlasterError(
                f"blaster {self.id!r}: {self.host} is device type 0x{devtype:04X},"
                f" not 0x{self.devtype:04X}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class HubSettings:
    """Timeouts and pacing (seconds). Defaults suit a LAN; tests shrink them."""

    # The library re-sends a request every 1 s until this passes (broadlink.md §A8), so > 1 s
    # survives one lost datagram.
    request_timeout: float = 3.0
    hello_timeout: float = 3.0
    # Safety net over the library's own timeout, in case a call hangs anyway.
    call_margin: float = 2.0
    send_gap: float = 0.3  # between two transmissions on one blaster
    heartbeat_interval: float = 120.0  # newer firmware reboots without a ping every 2 min
    offline_after: int = 3  # consecutive link failures before a blaster is offline
    reconnect_initial: float = 2.0
    reconnect_max: float = 120.0
    learn_poll_interval: float = 1.0
    workers: int = 0  # executor threads; 0 = one per blaster + 2, at most 8

    def __post_init__(self) -> None:
        if self.offline_after < 1:
            raise ValueError("offline_after must be at least 1")
        for name in ("request_timeout", "hello_timeout", "heartbeat_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.reconnect_initial <= 0 or self.reconnect_max < self.reconnect_initial:
            raise ValueError("reconnect backoff must be positive and its maximum ≥ its start")


@dataclass(eq=False)
class Availability:
    """Online/offline with hysteresis: offline after ``offline_after`` consecutive failures
    (or at the first one while still unknown), online again on the first success."""

    online: bool | None = None
    failures: int = 0
    reason: str = ""
    _online: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def record(self, error: Exception | None, offline_after: int) -> bool:
        """Note one outcome; True if availability changed."""
        if error is None:
            self.failures = 0
            self.reason = ""
            if self.online is True:
                return False
            self.online = True
            self._online.set()
            return True
        self.failures += 1
        self.reason = str(error)
        if self.online is None or (self.online and self.failures >= offline_after):
            self.online = False
            self._online.clear()
            return True
        return False

    async def wait_online(self) -> None:
        await self._online.wait()


def device_record(device: Any) -> dict[str, Any]:
    """A python-broadlink device object as a JSON-ready record (duck-typed)."""
    host, port = device.host
    return {
        "host": host,
        "port": port,
        "mac": format_mac(bytes(device.mac)),
        "devtype": int(device.devtype),
        "model": device.model or "",
        "manufacturer": device.manufacturer or "",
        "name": device.name or "",
        "locked": bool(device.is_locked),
        "type": str(device.type),
        "supported": hasattr(device, "send_data"),
    }
