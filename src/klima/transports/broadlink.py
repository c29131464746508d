"""Broadlink RM blasters — the only module that imports ``broadlink`` (python-broadlink 0.19.0).

:class:`BroadlinkHub` is the daemon's transport: the asyncio machinery of
:class:`~klima.transports.blaster_hub.BlasterHubBase` (executor, a lock per blaster, re-auth and
retry once, availability with hysteresis, background reconnect, heartbeat) driving the library
through :class:`BroadlinkLibrary`. :func:`discover` and :func:`learn_code` serve the
``klima discover`` and ``klima ir learn`` tools.

No exception of the library leaves this module: each becomes a
:class:`~klima.errors.BlasterError` (timeouts a :class:`~klima.errors.BlasterTimeoutError`, a
locked device a :class:`~klima.errors.BlasterAuthError`) carrying the §A7 error code.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from typing import TYPE_CHECKING, Any

import broadlink
from broadlink import exceptions as blx

from klima.errors import BlasterAuthError, BlasterError, BlasterTimeoutError
from klima.transports.blaster import Blaster, HubSettings, device_record
from klima.transports.blaster_hub import BlasterHubBase, Failure

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = [
    "BROADCAST",
    "Blaster",
    "BlasterHub",
    "BlasterSpec",
    "BroadlinkHub",
    "BroadlinkLibrary",
    "HubSettings",
    "discover",
    "learn_code",
]

log = logging.getLogger(__name__)

BROADCAST = "255.255.255.255"
# The device says the session is gone: authenticate again and retry once (§A7, HA's policy).
_SESSION_ERRORS = (blx.AuthorizationError, blx.ConnectionClosedError, blx.DeviceOfflineError)
# No answer, or one the library could not parse (§A7 lists what escapes it): the link failed.
_LINK_ERRORS = (
    blx.NetworkTimeoutError,
    blx.DataValidationError,
    OSError,
    ValueError,
    IndexError,
    struct.error,
)
# check_data's "nothing learned yet" (§A5): models differ in which one they answer.
_NOT_LEARNED = (blx.ReadError, blx.StorageError)


def translate(exc: Exception, blaster_id: str, action: str) -> BlasterError:
    """The Klima error for anything the library (or its socket) raised."""
    if isinstance(exc, BlasterError):
        return exc
    where = f"blaster {blaster_id!r}"
    if isinstance(exc, blx.NetworkTimeoutError):
        return BlasterTimeoutError(f"{where}: no answer to {action}", code=-4000)
    if isinstance(exc, blx.AuthenticationError):
        return BlasterAuthError(
            f"{where} refused authentication: it is locked; unlock it in the Broadlink app",
            code=-1,
        )
    if isinstance(exc, blx.BroadlinkException):
        code = exc.errno if isinstance(exc.errno, int) else None
        return BlasterError(f"{where}: {action} failed: {exc.strerror}", code=code)
    if isinstance(exc, OSError):
        return BlasterError(f"{where}: network error during {action}: {exc}")
    return BlasterError(f"{where}: malformed reply to {action}: {exc!r}")


class BroadlinkLibrary:
    """python-broadlink's blocking calls, as the hub needs them."""

    def open(self, blaster: Blaster, settings: HubSettings) -> Any:
        """The device object (unicast hello if type or MAC are unknown), authenticated."""
        if blaster.devtype is not None and blaster.mac is not None:
            device = broadlink.gendevice(blaster.devtype, (blaster.host, blaster.port), blaster.mac)
        else:
            device = broadlink.hello(
                blaster.host, port=blaster.port, timeout=blaster.hello_timeout(settings)
            )
            blaster.check_identity(bytes(device.mac), int(device.devtype))
        if not hasattr(device, "send_data"):  # an unknown type becomes a generic Device (§A6)
            raise BlasterError(
                f"blaster {blaster.id!r}: device type 0x{device.devtype:04X} at {blaster.host}"
                " is not an RM remote python-broadlink supports"
            )
        device.timeout = blaster.request_timeout(settings)
        device.auth()
        return device

    def call(self, device: Any, operation: str, *args: Any) -> Any:
        if operation == "check_data":
            try:
                return bytes(device.check_data())
            except _NOT_LEARNED:
                return None
        if operation == "check_sensors":
            if not hasattr(device, "check_sensors"):
                return None  # RM mini 3: no sensors
            return dict(device.check_sensors())
        if operation == "probe":
            # Every RM answers get_fwversion (Home Assistant calls it at setup); one answering
            # "not supported" (-4) is alive all the same (see failure()).
            return int(device.get_fwversion())
        if operation in ("auth", "send_data", "enter_learning", "ping"):
            return getattr(device, operation)(*args)
        raise ValueError(f"unknown blaster operation {operation!r}")

    def failure(self, exc: Exception, blaster_id: str, action: str) -> Failure:
        error = translate(exc, blaster_id, action)
        session = isinstance(exc, _SESSION_ERRORS)
        link = isinstance(exc, _LINK_ERRORS)
        # A device-side code other than these means the blaster answered and refused only
        # this request (e.g. -6 malformed payload): it is alive.
        answered_no = isinstance(exc, blx.BroadlinkException) and not (
            session or link or isinstance(exc, blx.AuthenticationError)
        )
        return Failure(error, reauth=session or link, link_failure=not answered_no)

    def describe(self, device: Any) -> dict[str, Any]:
        return device_record(device)


class BroadlinkHub(BlasterHubBase):
    """The daemon's Broadlink transport: several blasters, any number of IR units each."""

    def __init__(
        self,
        blasters: Iterable[Blaster],
        settings: HubSettings | None = None,
        *,
        on_availability: Callable[[str, bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        supervise: bool = True,
    ) -> None:
        super().__init__(
            BroadlinkLibrary(),
            blasters,
            settings,
            on_availability=on_availability,
            clock=clock,
            supervise=supervise,
        )


# The names the daemon uses.
BlasterHub = BroadlinkHub
BlasterSpec = Blaster


async def discover(
    target_host: str = BROADCAST,
    target_port: int = 80,
    timeout: float = 5.0,  # noqa: ASYNC109 - how long devices may answer, not a deadline
) -> list[dict[str, Any]]:
    """Devices answering a hello to ``target_host:target_port`` within ``timeout`` seconds.

    The library re-sends the hello every second and always waits the full timeout (§A8).
    """

    def scan() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        answers = broadlink.xdiscover(
            timeout=timeout, discover_ip_address=target_host, discover_ip_port=target_port
        )
        try:
            for device in answers:
                found.append(device_record(device))  # noqa: PERF401 - keep what came before a bad reply
        except (IndexError, ValueError) as exc:  # a short or garbled reply ends the scan
            log.warning("a device answered discovery with a malformed reply: %r", exc)
        return found

    try:
        return await asyncio.to_thread(scan)
    except OSError as exc:
        raise BlasterError(f"discovery to {target_host}:{target_port} failed: {exc}") from exc


async def learn_code(
    host: str,
    port: int = 80,
    timeout: float = 30.0,  # noqa: ASYNC109 - how long learning waits for a button press
    *,
    mac: str | bytes | None = None,
    devtype: int | None = None,
    settings: HubSettings | None = None,
) -> bytes:
    """Put the blaster at ``host`` into learning mode and return the code it captures."""
    blaster = Blaster(id=host, host=host, port=port, mac=mac, devtype=devtype)
    async with BroadlinkHub([blaster], settings, supervise=False) as hub:
        return await hub.learn(blaster.id, timeout)
