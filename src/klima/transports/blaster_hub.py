"""The asyncio side of the Broadlink transport: locks, retries, availability and supervision.

The blocking device library sits behind :class:`BlasterLibrary` (python-broadlink, wrapped in
:mod:`klima.transports.broadlink`, the only module that imports it). This module runs its calls
in a small executor under one asyncio lock per blaster — the library does not serialise calls on
one device (broadlink.md §A8) — with a short gap between IR sends, since several units may share
a blaster. Policy, after Home Assistant's integration (§A7):

- every call has the library's own timeout plus an asyncio safety net;
- on an expired session or a link error: authenticate again and retry once;
- availability with hysteresis: offline after ``offline_after`` consecutive link failures (at
  once when the first connection fails), online on the first success, logged once per
  transition; while offline requests fail fast and a background task reconnects with
  exponential backoff — a missing blaster never stops the daemon;
- a heartbeat every ``heartbeat_interval``: the watchdog ping newer firmware needs when the
  cloud is unreachable, plus a request that proves the blaster still answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self

from klima.errors import BlasterError, BlasterOfflineError, BlasterTimeoutError
from klima.transports.blaster import Availability, Blaster, HubSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Sequence

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Failure:
    """A library call's failure, translated to Klima's errors and classified."""

    error: BlasterError
    reauth: bool  # the session expired or the link failed: authenticate again and retry once
    link_failure: bool  # counts towards offline; False when the blaster answered "no"


class BlasterLibrary(Protocol):
    """The blocking calls the hub needs; each runs in the hub's executor."""

    def open(self, blaster: Blaster, settings: HubSettings) -> Any:
        """A device object for ``blaster``, authenticated."""
        ...

    def call(self, device: Any, operation: str, *args: Any) -> Any:
        """Run ``operation``: auth, send_data, enter_learning, check_data (None while nothing
        is learned), check_sensors (None without sensors), probe (a request that must be
        answered) or ping (no answer)."""
        ...

    def failure(self, exc: Exception, blaster_id: str, action: str) -> Failure:
        """Translate anything the library raised."""
        ...

    def describe(self, device: Any) -> dict[str, Any]:
        """The device as a JSON-ready record (model, MAC, type …)."""
        ...


class _CallFailedError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure.error))
        self.failure = failure


@dataclass(eq=False)
class _Link:
    """One blaster's connection state; only touched on the event loop."""

    blaster: Blaster
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    availability: Availability = field(default_factory=Availability)
    device: Any = None  # the library's device object, once created and authenticated
    last_send: float = -math.inf
    task: asyncio.Task[None] | None = None


class BlasterHubBase:
    """Several blasters, each used by any number of IR units."""

    def __init__(
        self,
        library: BlasterLibrary,
        blasters: Iterable[Blaster],
        settings: HubSettings | None = None,
        *,
        on_availability: Callable[[str, bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        supervise: bool = True,
    ) -> None:
        """``supervise=False`` runs no background task (no reconnect, no heartbeat), for a
        one-shot tool such as ``klima ir learn``: requests connect on demand."""
        self.settings = settings or HubSettings()
        self._library = library
        self._supervised = supervise
        self._links: dict[str, _Link] = {}
        for blaster in blasters:
            if blaster.id in self._links:
                raise ValueError(f"blaster {blaster.id!r} is declared twice")
            self._links[blaster.id] = _Link(blaster)
        self._on_availability = on_availability
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting every blaster in the background; returns at once."""
        if self._executor is not None:
            return
        workers = self.settings.workers or min(8, len(self._links) + 2)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="blaster")
        if self._supervised:
            for link in self._links.values():
                name = f"blaster-{link.blaster.id}"
                link.task = asyncio.create_task(self._supervise(link), name=name)

    async def close(self) -> None:
        tasks = [link.task for link in self._links.values() if link.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for link in self._links.values():
            link.task = link.device = None
        if self._executor is not None:
            # A call still blocked in the library ends by its own socket timeout.
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # --- state --------------------------------------------------------------------------

    @property
    def blaster_ids(self) -> list[str]:
        return list(self._links)

    def is_online(self, blaster_id: str) -> bool:
        """True while the blaster answers (False while still unknown, at start-up)."""
        return self._link(blaster_id).availability.online is True

    def availability(self, blaster_id: str) -> bool | None:
        """True/False once known; None while the first connection is still being tried."""
        return self._link(blaster_id).availability.online

    def info(self, blaster_id: str) -> dict[str, Any]:
        """What is known about one blaster (model, type, MAC once connected; availability)."""
        link = self._link(blaster_id)
        record: dict[str, Any] = {
            "id": blaster_id,
            "host": link.blaster.host,
            "port": link.blaster.port,
            "online": link.availability.online,
        }
        if link.device is not None:
            record.update(self._library.describe(link.device))
        return record

    async def wait_online(self, blaster_id: str, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until the blaster is online; BlasterTimeoutError after ``timeout`` seconds."""
        link = self._link(blaster_id)
        try:
            async with asyncio.timeout(timeout):
                await link.availability.wait_online()
        except TimeoutError:
            raise BlasterTimeoutError(
                f"blaster {blaster_id!r} did not come online within {timeout} s"
            ) from None

    # --- requests -----------------------------------------------------------------------

    async def send(self, blaster_id: str, payload: bytes) -> None:
        """Transmit one IR/RF packet (a ``0x26 …`` payload)."""
        await self.send_all(blaster_id, [payload])

    async def send_all(self, blaster_id: str, payloads: Sequence[bytes]) -> None:
        """Transmit packets in order, with no other unit's packets in between."""
        link = self._link(blaster_id)
        async with self._session(link):
            for payload in payloads:
                wait = link.last_send + self.settings.send_gap - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                log.debug("blaster %s: send %s", link.blaster.id, payload.hex())
                try:
                    await self._request(link, "send_data", payload)
                finally:
                    link.last_send = self._clock()

    async def check_sensors(self, blaster_id: str) -> dict[str, float] | None:
        """Temperature (°C) and, on RM4, humidity (%RH); None if the model has no sensors."""
        link = self._link(blaster_id)
        async with self._session(link):
            reading = await self._request(link, "check_sensors")
        if reading is None:
            return None
        return {str(k): float(v) for k, v in dict(reading).items()}

    async def learn(self, blaster_id: str, timeout: float = 30.0) -> bytes:  # noqa: ASYNC109
        """Enter learning mode and return the first code captured within ``timeout`` seconds."""
        link = self._link(blaster_id)
        async with self._session(link):
            await self._request(link, "enter_learning")
        deadline = self._clock() + timeout
        while self._clock() < deadline:
            await asyncio.sleep(min(self.settings.learn_poll_interval, timeout))
            async with self._session(link):
                code = await self._request(link, "check_data")
            if code is not None:
                return bytes(code)
        raise BlasterTimeoutError(
            f"blaster {blaster_id!r}: no code learned within {timeout} s", code=-10
        )

    # --- internals ----------------------------------------------------------------------

    def _link(self, blaster_id: str) -> _Link:
        try:
            return self._links[blaster_id]
        except KeyError:
            known = ", ".join(self._links) or "none"
            raise BlasterError(f"unknown blaster {blaster_id!r} (known: {known})") from None

    @contextlib.asynccontextmanager
    async def _session(self, link: _Link) -> AsyncIterator[None]:
        """Hold the blaster's lock; fail fast while it is known to be offline."""
        if self._executor is None:
            raise BlasterError("the blaster hub is not started")
        self._fail_if_offline(link)
        async with link.lock:
            self._fail_if_offline(link)
            yield

    def _fail_if_offline(self, link: _Link) -> None:
        # Unsupervised, nobody would bring it back: then every request tries for itself.
        if self._supervised and link.availability.online is False:
            raise BlasterOfflineError(
                f"blaster {link.blaster.id!r} at {link.blaster.host} is offline"
                f" ({link.availability.reason}); retrying in the background"
            )

    async def _request(self, link: _Link, operation: str, *args: Any) -> Any:
        """One operation under the lock: connect if needed, re-auth and retry once, and record
        the outcome for availability."""
        try:
            try:
                await self._ensure_device(link)
                result = await self._call(link, operation, *args)
            except _CallFailedError as first:
                if not first.failure.reauth or link.device is None:
                    raise
                log.info("%s; authenticating again and retrying once", first.failure.error)
                await self._call(link, "auth")
                result = await self._call(link, operation, *args)
        except _CallFailedError as failed:
            self._record(link, failed.failure)
            error, cause = failed.failure.error, failed.__cause__
            raise error from (cause if cause is not error else None)
        self._record(link, None)
        return result

    async def _ensure_device(self, link: _Link) -> None:
        if link.device is None:
            link.device = await self._call(link, "connect")

    async def _call(self, link: _Link, operation: str, *args: Any) -> Any:
        """Run one blocking library call in the executor; failures become _CallFailedError."""
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        if operation == "connect":
            future = loop.run_in_executor(
                self._executor, self._library.open, link.blaster, self.settings
            )
        else:
            call = self._library.call
            future = loop.run_in_executor(self._executor, call, link.device, operation, *args)
        budget = self._budget(link.blaster, operation)
        deadline = asyncio.timeout(budget)
        try:
            async with deadline:
                return await future
        except asyncio.CancelledError:
            link.device = None  # see below: the thread may still be using it
            raise
        except Exception as exc:
            if deadline.expired():
                # The thread may still be inside the library with this device object: never
                # use it again (a new one is created and authenticated on the next request).
                link.device = None
                error = BlasterTimeoutError(
                    f"blaster {link.blaster.id!r}: {operation} hung for {budget:.1f} s", -4000
                )
                raise _CallFailedError(Failure(error, reauth=False, link_failure=True)) from None
            failure = self._library.failure(exc, link.blaster.id, operation)
            if operation == "connect" or failure.error.code == -1:
                link.device = None  # never half-open: the next request starts afresh
            raise _CallFailedError(failure) from exc

    def _budget(self, blaster: Blaster, operation: str) -> float:
        request = blaster.request_timeout(self.settings)
        if operation == "connect":
            # hello (when type or MAC is unknown) and auth each have their own timeout.
            return blaster.hello_timeout(self.settings) + request + self.settings.call_margin
        return request + self.settings.call_margin

    def _record(self, link: _Link, failure: Failure | None) -> None:
        """Feed the hysteresis; on a transition log once, call back and wake the supervisor."""
        error = failure.error if failure is not None and failure.link_failure else None
        changed = link.availability.record(error, self.settings.offline_after)
        if not changed:
            if error is not None:
                log.debug("blaster %s: %s", link.blaster.id, error)
            return
        online = link.availability.online is True
        if online:
            log.info("blaster %s online (%s)", link.blaster.id, self._describe(link))
        else:
            link.device = None
            retry = "; retrying in the background" if self._supervised else ""
            log.warning("blaster %s offline: %s%s", link.blaster.id, error, retry)
            link.wake.set()
        if self._on_availability is not None:
            try:
                self._on_availability(link.blaster.id, online)
            except Exception:  # a listener's bug must not break the transport
                log.exception("availability callback failed for blaster %s", link.blaster.id)

    def _describe(self, link: _Link) -> str:
        record = self.info(link.blaster.id)
        model = record.get("model") or "unknown model"
        return f"{model} 0x{record.get('devtype', 0):04X} at {record['host']}:{record['port']}"

    async def _supervise(self, link: _Link) -> None:
        """Connect (with backoff while it fails), then keep the heartbeat going."""
        backoff = self.settings.reconnect_initial
        while True:
            if link.device is None or link.availability.online is not True:
                if await self._try_connect(link):
                    backoff = self.settings.reconnect_initial
                else:
                    await self._nap(link, backoff)
                    backoff = min(backoff * 2, self.settings.reconnect_max)
                    continue
            if await self._nap(link, self.settings.heartbeat_interval):
                continue  # woken: a request found the blaster offline
            await self._heartbeat(link)

    async def _try_connect(self, link: _Link) -> bool:
        """One attempt: a fresh device object, auth, and a request that must be answered."""
        link.wake.clear()
        async with link.lock:
            link.device = None
            with contextlib.suppress(BlasterError):  # the outcome is recorded for availability
                await self._request(link, "probe")
        return link.device is not None and link.availability.online is True

    async def _heartbeat(self, link: _Link) -> None:
        async with link.lock:
            if link.device is None or self._executor is None:
                return
            with contextlib.suppress(_CallFailedError):
                # Feeds the firmware watchdog; it has no reply, so it proves nothing.
                await self._call(link, "ping")
            with contextlib.suppress(BlasterError):  # recorded for availability
                await self._request(link, "probe")

    async def _nap(self, link: _Link, seconds: float) -> bool:
        """Sleep ``seconds``; True if woken early (then the wake flag is cleared)."""
        try:
            async with asyncio.timeout(seconds):
                await link.wake.wait()
        except TimeoutError:
            return False
        link.wake.clear()
        return True
