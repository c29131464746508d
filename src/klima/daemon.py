"""The composition root: builds everything from the config, runs it, and shuts it down in order.

Shutdown order matters: units stop first (nothing more goes to the wire), then every unit and
the bridge are published ``offline`` (the embedded broker, if any, goes after that), then
systemd hears STOPPING and the database is flushed and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from klima.assembly import build_units
from klima.driver import DriverRegistry, FrameDirection, default_registry
from klima.energy.service import EnergyService
from klima.energy.setup import EnergySetup, load_energy
from klima.mqtt.bridge import MqttBridge
from klima.mqtt.embedded import EmbeddedBroker
from klima.mqtt.settings import MqttSettings, tls_context
from klima.persistence import Store
from klima.schedule.clock import clock_trusted
from klima.schedule.engine import AutomationEngine
from klima.schedule.from_config import site_zone
from klima.schedule.requests import schedule_requests
from klima.schedule.timer import WakeTimer
from klima.sdnotify import Notifier, run_watchdog
from klima.transports.blaster import Blaster, HubSettings
from klima.unit_ir import BlasterPort, IrUnit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping

    from klima.config import KlimaConfig
    from klima.state import UnitState
    from klima.unit import Unit

log = logging.getLogger(__name__)

READY_WAIT_FOR_BROKER = 5.0  # seconds; READY is not held back forever by a missing broker
CLOCK_CHECK_INTERVAL = 5.0  # seconds between checks of an untrusted clock


class _Listener:
    """Fans a unit's news out to MQTT, the database and the energy service."""

    def __init__(self, store: Store, energy: EnergyService) -> None:
        self.store = store
        self.energy = energy
        self.bridge: MqttBridge | None = None
        self.automation: AutomationEngine | None = None
        self.units: Mapping[str, Unit] = {}
        self.last_write: datetime | None = None  # the database's newest time at start-up

    def state_changed(self, unit: Unit, state: UnitState) -> None:
        now = datetime.now(UTC)
        if self.bridge:
            self.bridge.publish_state(unit)
        self.store.save_state(unit.id, state.to_json(), now)
        self.energy.observe_state(unit.id, state, now)
        if self.automation is not None:
            self.automation.unit_state_changed(unit.id, state, now)

    def state_refreshed(self, unit: Unit) -> None:
        if self.bridge:  # a heartbeat: MQTT only, the database already has this state
            self.bridge.publish_state(unit)
        # ...but it tells the energy service the unit's own power reading is still current.
        self.energy.observe_state(unit.id, unit.state, datetime.now(UTC))

    def availability_changed(self, unit: Unit, online: bool) -> None:
        now = datetime.now(UTC)
        if self.bridge:
            self.bridge.publish_availability(unit)
        self.store.log_event("availability", unit.id, {"online": online}, now)
        if not online and unit.info.kind == "serial":
            # A unit we cannot read may be off or running: estimate nothing for it.
            self.energy.observe_offline(unit.id, now)
        if online and self.automation is not None:
            # A unit that (re)appears runs what is in force now (a restart mid-block).
            self.automation.tick(now, only={unit.id})

    def automation_event(self, kind: str, unit_id: str | None, data: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        if self.bridge:
            self.bridge.publish_event(kind, unit_id, data)
            unit = self.units.get(unit_id) if unit_id else None
            if unit is not None:
                self.bridge.publish_state(unit)  # the program part of its state changed
        self.store.log_event(kind, unit_id, data, now)

    def event(self, kind: str, unit: Unit, data: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        if self.bridge:
            self.bridge.publish_event(kind, unit.id, data)
        self.store.log_event(kind, unit.id, data, now)
        if kind == "external_change" and self.automation is not None:
            self.automation.external_change(unit.id, data.get("changes", {}), now)

    def frame(self, unit: Unit, direction: FrameDirection, raw: bytes) -> None:
        if self.bridge:
            self.bridge.publish_frame(unit, direction, raw)


def mqtt_settings(config: KlimaConfig, url: str) -> MqttSettings:
    m = config.mqtt
    return MqttSettings(
        url=url,
        base_topic=m.base_topic,
        client_id=m.client_id or f"klima-{config.hub_id}",
        username=m.username,
        password=config.read_password(),
        ca_file=str(m.ca_file) if m.ca_file else None,
        certfile=str(m.cert_file) if m.cert_file else None,
        keyfile=str(m.key_file) if m.key_file else None,
        tls_insecure=m.tls_insecure,
        keepalive=m.keepalive,
        discovery_prefix=m.discovery_prefix,
    )


@contextlib.asynccontextmanager
async def _broker(config: KlimaConfig) -> AsyncIterator[str]:
    if not config.mqtt.embedded:
        yield config.mqtt.url
        return
    broker = EmbeddedBroker(host=config.mqtt.embedded_host, port=config.mqtt.embedded_port)
    async with broker:
        log.info("embedded MQTT broker listening on %s", broker.url)
        yield broker.url


class Daemon:
    """Klima's daemon. ``await Daemon(config).run()`` until SIGTERM/SIGINT or :meth:`stop`."""

    def __init__(
        self,
        config: KlimaConfig,
        registry: DriverRegistry | None = None,
        *,
        on_ready: Callable[[Daemon], None] | None = None,
    ) -> None:
        self.config = config
        self.registry = registry or default_registry()
        self.units: dict[str, Unit] = {}
        self.bridge: MqttBridge | None = None
        self.energy: EnergyService | None = None
        self.automation: AutomationEngine | None = None
        self.broker_url: str | None = None
        self._stop = asyncio.Event()
        self._on_ready = on_ready
        self.ready_after: float | None = None  # seconds from run() to READY, for benchmarks

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        notifier = Notifier.from_env()
        if not self.config.mqtt.embedded:
            # Unreadable TLS files or a bad broker URL are config errors: say so before
            # starting anything, not from inside a running task.
            tls_context(mqtt_settings(self.config, self.config.mqtt.url))
        energy_setup = load_energy(self.config)  # a broken tariff file stops us here
        data_dir = self.config.data_dir()
        data_dir.mkdir(parents=True, exist_ok=True)
        energy = self.config.energy
        store = Store.open(
            self.config.database_url(),
            commit_interval=self.config.database.commit_interval,
            retention_days=self.config.database.retention_days,
            energy_commit_interval=energy.commit_interval,
            sample_retention_days=energy.sample_retention_days or None,  # 0 = keep forever
            hourly_retention_days=energy.hourly_retention_days or None,
        )
        try:
            await self._run_with_store(store, energy_setup, notifier, started)
        finally:
            notifier.stopping()
            await asyncio.to_thread(store.close)
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            log.info("klima stopped")

    async def _run_with_store(
        self, store: Store, energy_setup: EnergySetup, notifier: Notifier, started: float
    ) -> None:
        reporting = {
            unit.id for unit in self.config.units if self.registry.get(unit.driver).kind == "serial"
        }
        energy = await asyncio.to_thread(
            EnergyService,
            self.config,
            energy_setup,
            store,
            now=datetime.now(UTC),
            reporting=reporting,
        )
        self.energy = energy
        listener = _Listener(store, energy)
        # Read before anything is written with a clock that may still be wrong (no RTC).
        last_write = await asyncio.to_thread(store.last_write)
        async with contextlib.AsyncExitStack() as stack:
            blasters = await stack.enter_async_context(self._blaster_hub())
            self.units = build_units(
                self.config, self.registry, listener, store.load_states(), blasters
            )
            listener.units = self.units
            now = datetime.now(UTC)
            for unit in self.units.values():
                if unit.info.kind == "ir":
                    # An IR unit's restored state is what it runs (no readback will come): the
                    # energy model starts from it, not from the next command days later.
                    energy.observe_state(unit.id, unit.state, now)
            automation = AutomationEngine(
                self.config,
                self.units,
                zone=site_zone(self.config),
                store=store,
                emit=listener.automation_event,
            )
            await asyncio.to_thread(automation.load)
            self.automation = listener.automation = automation
            listener.last_write = last_write
            try:
                await self._run_units(listener, notifier, started)
            finally:
                # The minute so far is recorded too: a restart loses no energy.
                energy.close_minute(datetime.now(UTC))

    @contextlib.asynccontextmanager
    async def _blaster_hub(self) -> AsyncIterator[BlasterPort | None]:
        """The Broadlink blasters, when any are configured (a missing one is retried)."""
        if not self.config.blasters:
            yield None
            return
        # Imported only when needed: the library and its crypto cost ~8 MiB on a serial-only hub.
        from klima.transports.broadlink import BroadlinkHub  # noqa: PLC0415

        hub = BroadlinkHub(
            [
                Blaster(b.id, b.host, b.port, mac=b.mac, devtype=b.devtype, timeout=b.timeout)
                for b in self.config.blasters
            ],
            HubSettings(
                heartbeat_interval=self.config.broadlink.heartbeat_interval,
                offline_after=self.config.broadlink.offline_after,
                send_gap=self.config.broadlink.send_gap,
            ),
            on_availability=self._blaster_availability,
        )
        async with hub:
            yield hub

    def _blaster_availability(self, blaster_id: str, online: bool) -> None:
        for unit in self.units.values():
            if isinstance(unit, IrUnit) and unit.blaster == blaster_id:
                unit.blaster_availability(online=online)

    async def _run_units(self, listener: _Listener, notifier: Notifier, started: float) -> None:
        automation = listener.automation
        assert automation is not None
        async with _broker(self.config) as url:
            self.broker_url = url
            bridge = MqttBridge(
                mqtt_settings(self.config, url),
                self.units,
                hub_id=self.config.hub_id,
                discovery=self.config.mqtt.discovery,
                publish_frames=frozenset(u.id for u in self.config.units if u.publish_frames),
                feedback=_merge_routes(
                    _feedback_routes(self.units.values()),
                    listener.energy.routes(),
                    automation.routes(),
                ),
                energy=listener.energy.discovery_units(),
                automation=automation,
            )
            self.bridge = bridge
            listener.bridge = bridge
            listener.energy.set_publisher(bridge.publish_energy)
            # The totals so far on every connect, before the next minute closes.
            bridge.add_republisher(lambda: listener.energy.publish_all(datetime.now(UTC)))
            bridge.add_request("energy/query", listener.energy.query)
            for action, handler in schedule_requests(automation).items():
                bridge.add_request(action, handler)
            async with asyncio.TaskGroup() as group:
                bridge_task = group.create_task(bridge.run(), name="mqtt")
                unit_tasks = [
                    group.create_task(_supervise(unit), name=f"unit:{unit.id}")
                    for unit in self.units.values()
                ]
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(READY_WAIT_FOR_BROKER):
                        await bridge.connection.connected.wait()
                self.ready_after = time.perf_counter() - started
                notifier.ready()
                notifier.status(f"{len(self.units)} unit(s); broker {url}")
                log.info(
                    "klima ready in %.2f s: %d unit(s), broker %s",
                    self.ready_after,
                    len(self.units),
                    url,
                )
                if self._on_ready:
                    self._on_ready(self)
                energy_task = group.create_task(listener.energy.run(), name="energy")
                wake = WakeTimer(lambda now: _run_automation(automation, now))
                wake.start()
                clock_task = group.create_task(
                    _trust_clock(automation, listener.last_write, wake), name="clock"
                )
                watchdog = group.create_task(
                    run_watchdog(notifier, lambda: not self._stop.is_set()), name="watchdog"
                )
                await self._stop.wait()
                log.info("stopping")
                for task in unit_tasks:
                    task.cancel()
                await asyncio.gather(*unit_tasks, return_exceptions=True)
                watchdog.cancel()
                energy_task.cancel()
                clock_task.cancel()
                wake.shutdown()
                await bridge.stop()
                bridge_task.cancel()


async def _supervise(unit: Unit) -> None:
    """Keep a unit's actor running: a bug in one driver must not stop the other units."""
    while True:
        try:
            await unit.run()
        except Exception:
            log.exception("unit %s: actor crashed; restarting in 5 s", unit.id)
        await asyncio.sleep(5.0)


def _run_automation(automation: AutomationEngine, now: datetime) -> datetime | None:
    automation.tick(now)
    return automation.next_wakeup(now)


async def _trust_clock(
    automation: AutomationEngine, last_write: datetime | None, wake: WakeTimer
) -> None:
    """Hold the programs back until the clock can be trusted (safety layers never wait)."""
    if automation.clock_trusted:
        return
    warned = False
    while not clock_trusted(datetime.now(UTC), last_write):
        if not warned:
            log.warning("waiting for a trustworthy clock before running schedules (no NTP yet)")
            warned = True
        await asyncio.sleep(CLOCK_CHECK_INTERVAL)
    automation.clock_trusted = True
    wake.wake()


def _merge_routes(
    *tables: dict[str, list[Callable[[bytes], None]]],
) -> dict[str, list[Callable[[bytes], None]]]:
    merged: dict[str, list[Callable[[bytes], None]]] = {}
    for table in tables:
        for topic, handlers in table.items():
            merged.setdefault(topic, []).extend(handlers)
    return merged


def _feedback_routes(units: Iterable[Unit]) -> dict[str, list[Callable[[bytes], None]]]:
    """Feedback topics and the IR units listening to each (several may share a plug)."""
    routes: dict[str, list[Callable[[bytes], None]]] = {}
    for unit in units:
        if isinstance(unit, IrUnit) and unit.config.feedback is not None:
            routes.setdefault(unit.config.feedback.topic, []).append(unit.feedback_message)
    return routes
