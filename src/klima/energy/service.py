"""The energy service: per-unit trackers, pricing, the ledger, recording and publishing.

Every minute (:meth:`EnergyService.close_minute`) each unit's tracker says what the unit used
and where the figure came from; a shared outdoor unit's figure is split between its indoor
units; each unit's kWh is priced in turn against the house's running period total (so tiers
are climbed once, in time order, exactly as the bill does); the ledger's running totals and the
minute's samples go to the database writer; and the unit and house payloads are published.
Time is always passed in, so tests run a whole simulated day in milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from klima.control.feedback import extract, number
from klima.energy.ledger import Ledger
from klima.energy.model import EnergySource
from klima.energy.payload import energy_payload
from klima.energy.pricing import RealtimePricer
from klima.energy.query import answer_query, parse_query
from klima.energy.tariffs import TariffError
from klima.energy.tracker import MinuteEnergy, UnitEnergyTracker
from klima.persistence.energy import EnergySampleRow, EnergyTotals

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from klima.config import KlimaConfig, UnitConfig
    from klima.energy.setup import EnergySetup
    from klima.persistence import Store
    from klima.state import UnitState

log = logging.getLogger(__name__)

SENSOR_STALE_AFTER = timedelta(
    hours=2
)  # an outdoor sensor or live price older than this is ignored
_KWH_QUANTUM = 6  # decimals: energy is stored in mWh, so it is priced at exactly that precision

Publisher = Callable[[str | None, dict[str, Any]], None]


@dataclass(slots=True)
class _Live:
    value: float
    at: datetime


class EnergyService:
    """Build with :meth:`create`; feed with ``observe_*``; call :meth:`close_minute` each minute."""

    def __init__(
        self,
        config: KlimaConfig,
        setup: EnergySetup,
        store: Store,
        *,
        now: datetime,
        publish: Publisher | None = None,
        reporting: Collection[str] | None = None,
    ) -> None:
        self.config = config.energy
        self.zone = setup.zone
        self.store = store
        self._publish = publish
        self.pricer = (
            RealtimePricer(setup.tariff, setup.zone, billing_day=self.config.billing_day)
            if setup.tariff is not None
            else None
        )
        self._live_only = (
            self.config.price_topic is not None
            and self.config.tariff is None
            and self.config.prices is None
        )
        self.ledger = Ledger(setup.zone, self.config.billing_day)
        # A unit is tracked when something can tell its energy: a meter, a profile, or the unit
        # itself (``reporting``: units whose driver may report power; None = any unit).
        units = [
            u
            for u in config.units
            if u.energy.enabled
            and (
                u.energy.meter is not None
                or setup.profiles.get(u.id) is not None
                or (u.energy.use_reported and (reporting is None or u.id in reporting))
            )
        ]
        for unit in config.units:
            if unit not in units and unit.energy.enabled:
                log.info(
                    "unit %s: no energy source (set units.energy.profile, ratings or a meter)",
                    unit.id,
                )
        self.ledger.load(store, now, [u.id for u in units])
        self._outdoor: _Live | None = None
        self._price: _Live | None = None
        self.trackers: dict[str, UnitEnergyTracker] = {
            unit.id: UnitEnergyTracker(
                unit.id,
                unit.energy,
                setup.profiles.get(unit.id),
                start=now,
                outdoor_c=self._outdoor_now,
                saved=_dict(self.ledger.saved.get(unit.id)),
            )
            for unit in units
        }
        self._leaders = {u.id: u for u in units if u.energy.outdoor_unit_shared_with}
        # Units whose power is a share of an outdoor unit's, known only per closed minute.
        self._shared = {
            member for leader in self._leaders.values()
            for member in (leader.id, *leader.energy.outdoor_unit_shared_with)
        }  # fmt: skip
        self._last_close = now
        self._seen = now  # the latest moment any input carried
        self._last: dict[str, MinuteEnergy] = {}
        self._warned: set[str] = set()

    # ------------------------------------------------------------------ inputs

    def observe_state(self, unit_id: str, state: UnitState, at: datetime) -> None:
        self._seen = max(self._seen, at)
        tracker = self.trackers.get(unit_id)
        if tracker is not None:
            tracker.observe_state(state, at)

    def observe_offline(self, unit_id: str, at: datetime) -> None:
        tracker = self.trackers.get(unit_id)
        if tracker is not None:
            tracker.forget_state(at)

    def routes(
        self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> dict[str, list[Callable[[bytes], None]]]:
        """MQTT topics the service listens to (meters, outdoor sensor, live price)."""
        routes: dict[str, list[Callable[[bytes], None]]] = {}
        for tracker in self.trackers.values():
            meter = tracker.settings.meter
            if meter is not None:
                routes.setdefault(meter.topic, []).append(_meter_handler(tracker, clock))
        if self.config.outdoor_temperature_topic:
            routes.setdefault(self.config.outdoor_temperature_topic, []).append(
                lambda payload: self.observe_outdoor(payload, clock())
            )
        if self.config.price_topic:
            routes.setdefault(self.config.price_topic, []).append(
                lambda payload: self.observe_price(payload, clock())
            )
        return routes

    def observe_outdoor(self, payload: bytes, at: datetime) -> None:
        self._seen = max(self._seen, at)
        value = number(extract(payload, self.config.outdoor_temperature_json_path))
        if value is None or not -60 <= value <= 70:
            self._warn_once(f"outdoor temperature topic: not a temperature: {payload[:80]!r}")
            return
        self._outdoor = _Live(value, at)
        for tracker in self.trackers.values():
            tracker.refresh_estimate(at)

    def observe_price(self, payload: bytes, at: datetime) -> None:
        value = number(extract(payload, self.config.price_json_path))
        if value is None:
            self._warn_once(f"price topic: not a price: {payload[:80]!r}")
            return
        self._price = _Live(value, at)

    def _outdoor_now(self) -> float | None:
        live = self._outdoor
        # "Now" is the latest time the service was given (simulated in tests, never the
        # wall clock behind the caller's back).
        if live is not None and self._seen - live.at <= SENSOR_STALE_AFTER:
            return live.value
        return self.config.outdoor_temperature_c

    def _live_price(self, at: datetime) -> Decimal | None:
        live = self._price
        if live is not None and at - live.at <= SENSOR_STALE_AFTER:
            return Decimal(str(live.value))
        return None

    # ------------------------------------------------------------------ the minute

    def close_minute(self, end: datetime) -> None:
        """Account for everything since the previous close, record it and publish it."""
        self._seen = max(self._seen, end)
        start = self._last_close
        if end <= start:
            return
        minutes = {unit_id: t.close(end) for unit_id, t in self.trackers.items()}
        self._share_outdoor_units(minutes)
        keys = self.ledger.keys_at(start)
        self.ledger.roll(keys)
        period_kwh = Decimal(str(round(self.ledger.period.get(None, _ZERO).kwh, _KWH_QUANTUM)))
        live_price = self._live_price(start)
        samples: list[EnergySampleRow] = []
        for unit_id in sorted(minutes):
            minute = minutes[unit_id]
            if minute.source is None:
                continue
            kwh = Decimal(str(round(max(minute.kwh, 0.0), _KWH_QUANTUM)))
            cost = self._price_of(start, end, kwh, period_kwh, live_price)
            period_kwh += kwh
            self.ledger.add(unit_id, float(kwh), minute.source, cost)
            samples.append(EnergySampleRow(start, unit_id, float(kwh), minute.source))
        for unit_id, tracker in self.trackers.items():
            self.ledger.saved[unit_id] = tracker.saved_state()
        rollups, lifetimes = self.ledger.rows(self.trackers)
        self.store.record_energy(samples, rollups, lifetimes)
        self._last_close = end
        self._last = minutes
        self.publish_all(end)

    def _price_of(
        self,
        start: datetime,
        end: datetime,
        kwh: Decimal,
        period_kwh: Decimal,
        live_price: Decimal | None,
    ) -> Decimal:
        if self.pricer is None or kwh == 0:
            return Decimal(0)
        if self._live_only and live_price is None:
            self._warn_once("no live price received yet (energy.price_topic): costs paused")
            return Decimal(0)
        try:
            return self.pricer.price(start, end, kwh, period_kwh, live_price=live_price).cost
        except TariffError as exc:
            self._warn_once(f"cannot price energy: {exc}")
            return Decimal(0)

    def _share_outdoor_units(self, minutes: dict[str, MinuteEnergy]) -> None:
        """A leader's metered or reported figure covers its whole outdoor unit: split it."""
        for leader_id, leader in self._leaders.items():
            own = minutes.get(leader_id)
            if own is None or own.source not in (EnergySource.METERED, EnergySource.REPORTED):
                continue  # the leader's own estimate covers only itself
            members = [leader_id, *leader.energy.outdoor_unit_shared_with]
            present = [m for m in members if m in minutes]
            weights = _weights(leader, [minutes[m] for m in present])
            total_weight = sum(weights)
            for member, weight in zip(present, weights, strict=True):
                share = own.kwh * weight / total_weight if total_weight else own.kwh / len(present)
                power = (
                    own.power_w * weight / total_weight
                    if own.power_w is not None and total_weight
                    else None
                )
                mine = minutes[member]
                minutes[member] = MinuteEnergy(
                    share, own.source, mine.estimated_kwh, power, mine.running
                )

    # ------------------------------------------------------------------ publishing

    def set_publisher(self, publish: Publisher) -> None:
        self._publish = publish

    def discovery_units(self) -> dict[str, str | None]:
        """Units with energy sensors, and the currency of their cost sensors (None: no tariff)."""
        currency = self.pricer.currency if self.pricer is not None else None
        return dict.fromkeys(self.trackers, currency)

    def publish_all(self, now: datetime) -> None:
        if self._publish is None:
            return
        for unit_id in self.trackers:
            self._publish(unit_id, self.payload(unit_id, now))
        self._publish(None, self.payload(None, now))

    def payload(self, owner: str | None, now: datetime) -> dict[str, Any]:
        """The retained ``<base>/<unit>/energy`` (or ``bridge/energy`` for ``None``) payload."""
        if owner is None:
            powers = [self._power(u, now) for u in self.trackers]
            known = [p for p in powers if p is not None]
            power = sum(known) if known else None
            sources = {m.source for m in self._last.values() if m.source is not None}
            source = next(iter(sources)) if len(sources) == 1 else ("mixed" if sources else None)
        else:
            power = self._power(owner, now)
            minute = self._last.get(owner)
            source = minute.source if minute is not None else None
        return energy_payload(
            ledger=self.ledger,
            owner=owner,
            pricer=self.pricer,
            now=now,
            power_w=power,
            source=None if source is None else str(source),
            live_price=self._live_price(now),
            price_known=not self._live_only or self._live_price(now) is not None,
            units=list(self.trackers) if owner is None else None,
        )

    def _power(self, unit_id: str, now: datetime) -> float | None:
        minute = self._last.get(unit_id)
        if unit_id in self._shared and minute is not None:
            return minute.power_w
        return self.trackers[unit_id].power_w(now)

    async def query(self, data: dict[str, Any]) -> dict[str, Any]:
        """``bridge/request/energy/query``: recorded history of a unit or the house."""
        units = set(self.trackers) | set(await asyncio.to_thread(self.store.energy_units))
        request = parse_query(data, self.zone, datetime.now(UTC), units)
        currency = self.pricer.currency if self.pricer is not None else None
        return await answer_query(self.store, request, self.zone, currency)

    # ------------------------------------------------------------------ running

    async def run(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """Close a minute at every wall-clock minute boundary until cancelled."""
        while True:
            now = clock()
            boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            await asyncio.sleep((boundary - now).total_seconds())
            try:
                self.close_minute(boundary)
            except Exception:  # a bug in one minute must not stop the recording for good
                log.exception("energy: closing the minute %s failed", boundary.isoformat())

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("energy: %s", message)


_ZERO = EnergyTotals()


def _weights(leader: UnitConfig, minutes: Sequence[MinuteEnergy]) -> list[float]:
    if leader.energy.split == "estimate" and all(m.estimated_kwh is not None for m in minutes):
        return [m.estimated_kwh or 0.0 for m in minutes]
    # Equal shares between the units that are switched on (or all, if none is).
    running = [1.0 if m.running else 0.0 for m in minutes]
    return running if any(running) else [1.0] * len(minutes)


def _meter_handler(
    tracker: UnitEnergyTracker, clock: Callable[[], datetime]
) -> Callable[[bytes], None]:
    def handle(payload: bytes) -> None:
        tracker.observe_meter(payload, clock())

    return handle


def _dict(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None
