"""The MQTT contract (DESIGN.md §4): topics in, units and requests out, state and events back.

The bridge never touches a unit's driver: commands go through :meth:`Unit.submit`, the unit's
safety gate. Every bad input is answered on ``<base>/bridge/event`` (or the response topic for
requests) and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from klima import __version__
from klima.commands import decode_json_object, parse_attribute, parse_command
from klima.errors import CommandError, KlimaError
from klima.mqtt.connection import MqttConnection, Payload
from klima.mqtt.discovery import build_device_discovery, build_discovery_removal

if TYPE_CHECKING:
    from klima.mqtt.settings import MqttSettings
    from klima.state import UnitCommand
    from klima.unit import Unit

log = logging.getLogger(__name__)

RequestHandler = Callable[[dict[str, Any]], Awaitable[Any]]


class Automation(Protocol):
    """What the bridge needs of the automation engine (schedules, presets, holds)."""

    def status(self, unit_id: str, now: datetime) -> dict[str, Any]: ...
    def presets_for(self, unit_id: str) -> list[str]: ...
    def limits_for(self, unit_id: str) -> tuple[float, float] | None: ...
    def set_preset(
        self,
        unit_id: str,
        name: str,
        now: datetime,
        policy: str | None = None,
        command: UnitCommand | None = None,
    ) -> None: ...
    def manual_change(self, unit_id: str, command: UnitCommand, now: datetime) -> None: ...


REMOTE_TEMPERATURE = "remote_temperature"
PRESET = "preset"
API_VERSION = 1  # the MQTT contract in docs/mqtt-api.md; bumped on incompatible changes


class MqttBridge:
    def __init__(
        self,
        settings: MqttSettings,
        units: Mapping[str, Unit],
        *,
        hub_id: str,
        discovery: bool = True,
        publish_frames: frozenset[str] = frozenset(),
        feedback: Mapping[str, list[Callable[[bytes], None]]] | None = None,
        energy: Mapping[str, str | None] | None = None,
        automation: Automation | None = None,
    ) -> None:
        self.settings = settings
        self.base = settings.base_topic
        self.hub_id = hub_id
        self.units = dict(units)
        self.discovery = discovery
        self.publish_frames = publish_frames
        # Other bridges' topics some units listen to (e.g. a smart plug's power as IR feedback).
        self._external = dict(feedback or {})
        # Units whose energy is recorded, and the currency it is priced in (None: no tariff).
        self.energy = dict(energy or {})
        self.automation = automation
        self.started_at = datetime.now(UTC)
        self._requests: dict[str, RequestHandler] = {
            "health_check": self._health_check,
            "units": self._list_units,
        }
        self._discovery_prefix = f"{settings.discovery_prefix}/device/"
        self._discovered: dict[str, dict[str, Any]] = {}  # last discovery payload per unit
        self._discovered_sensors: dict[str, set[str]] = {}
        self._own_discovery = f"klima_{hub_id}_"
        self._republishers: list[Callable[[], None]] = []
        self.connection = MqttConnection(
            settings,
            subscriptions=[
                f"{self.base}/+/set",
                f"{self.base}/+/set/+",
                f"{self.base}/+/get",
                f"{self.base}/bridge/request/#",
                f"{settings.discovery_prefix}/status",
                *([f"{settings.discovery_prefix}/device/+/config"] if discovery else []),
                *self._external,
            ],
            on_message=self._on_message,
            on_connected=self._on_connected,
        )

    def add_republisher(self, republish: Callable[[], None]) -> None:
        """Something else that owns retained topics (e.g. energy) and republishes on connect."""
        self._republishers.append(republish)

    def add_request(self, action: str, handler: RequestHandler) -> None:
        """Let other parts of the daemon answer ``bridge/request/<action>``."""
        self._requests[action] = handler

    async def run(self) -> None:
        await self.connection.run()

    async def stop(self) -> None:
        for unit in self.units.values():
            self._send(self._t(unit.id, "availability"), "offline", retain=True)
        await self.connection.stop()  # sends what is queued, then bridge/state "offline"

    def _send(self, topic: str, payload: Payload, *, retain: bool) -> None:
        self.connection.publish(topic, payload, retain=retain)

    # ------------------------------------------------------------------ outgoing

    def publish_state(self, unit: Unit) -> None:
        state = unit.state.to_json()
        if self.automation is not None:
            state["program"] = self.automation.status(unit.id, datetime.now(UTC))
        self._send(self._t(unit.id), state, retain=True)
        if self._sensors(unit) != self._discovered_sensors.get(unit.id, set()):
            self._publish_discovery(unit)  # e.g. the unit started reporting its power

    def publish_energy(self, unit_id: str | None, payload: Mapping[str, Any]) -> None:
        """``<base>/<unit>/energy``, or ``<base>/bridge/energy`` for the house (``None``)."""
        self._send(self._t(unit_id or "bridge", "energy"), payload, retain=True)

    def publish_availability(self, unit: Unit) -> None:
        value = "online" if unit.available else "offline"
        self._send(self._t(unit.id, "availability"), value, retain=True)
        if unit.available:
            # A unit that just connected may have told us its real setpoint range.
            self._publish_discovery(unit, only_if_changed=True)

    def publish_event(self, kind: str, unit_id: str | None, data: Mapping[str, Any]) -> None:
        payload = {
            "type": kind,
            "unit": unit_id,
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "data": dict(data),
        }
        self._send(f"{self.base}/bridge/event", payload, retain=False)

    def publish_frame(self, unit: Unit, direction: str, raw: bytes) -> None:
        if unit.id in self.publish_frames:
            payload = {"direction": direction, "hex": raw.hex(" ").upper()}
            self._send(self._t(unit.id, "frames"), payload, retain=False)

    def info(self) -> dict[str, Any]:
        return {
            "api_version": API_VERSION,
            "version": __version__,
            "hub_id": self.hub_id,
            "base_topic": self.base,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "units": [
                {"id": u.id, "name": u.name, "driver": u.info.name, "kind": u.info.kind}
                for u in self.units.values()
            ],
            "requests": sorted(self._requests),
        }

    async def _on_connected(self) -> None:
        """After every (re)connect: say we are online and republish everything retained."""
        self._send(f"{self.base}/bridge/info", self.info(), retain=True)
        for unit in self.units.values():
            self._publish_discovery(unit)
            self.publish_availability(unit)
            self.publish_state(unit)
        for republish in self._republishers:
            republish()

    def _sensors(self, unit: Unit) -> set[str]:
        if unit.info.kind == "ir":
            # Open loop: only what something else measures (the blaster's own thermometer).
            return {"current_temperature"} if unit.config.blaster_sensor else set()
        sensors = {"current_temperature", "outdoor_temperature", "compressor_frequency"}
        if unit.state.power_w is not None and unit.id not in self.energy:
            sensors.add("power_w")  # with energy recording, the energy topic has the power
        return sensors

    def _publish_discovery(self, unit: Unit, *, only_if_changed: bool = False) -> None:
        if not self.discovery:
            return
        sensors = self._sensors(unit)
        topic, payload = build_device_discovery(
            base_topic=self.base,
            discovery_prefix=self.settings.discovery_prefix,
            hub_id=self.hub_id,
            unit_id=unit.id,
            unit_name=unit.name,
            manufacturer=unit.info.brand,
            model=unit.config.model or f"{unit.info.brand} ({unit.info.name})",
            driver_name=unit.info.name,
            traits=unit.traits,
            sw_version=__version__,
            sensors=sensors,
            presets=self.automation.presets_for(unit.id) if self.automation else (),
            energy=unit.id in self.energy,
            currency=self.energy.get(unit.id),
        )
        self._discovered_sensors[unit.id] = sensors
        if only_if_changed and self._discovered.get(unit.id) == payload:
            return
        self._discovered[unit.id] = payload
        self._send(topic, payload, retain=True)

    # ------------------------------------------------------------------ incoming

    async def _on_message(self, topic: str, payload: bytes, retain: bool) -> None:
        handlers = self._external.get(topic)
        if handlers is not None:
            for handler in handlers:
                try:
                    handler(payload)
                except Exception:  # one listener's bug must not starve the others on the topic
                    log.exception("handling a message on %s failed", topic)
            return
        if topic == f"{self.settings.discovery_prefix}/status":
            if payload.strip().lower() == b"online":
                log.info("Home Assistant is online; re-sending discovery")
                await self._on_connected()
            return
        if topic.startswith(self._discovery_prefix):
            self._clear_stale_discovery(topic, payload)
            return
        if not topic.startswith(f"{self.base}/"):
            return
        parts = topic[len(self.base) + 1 :].split("/")
        if parts[:2] == ["bridge", "request"] and len(parts) > 2:
            if retain:
                error = CommandError(None, "retained requests are ignored")
                self._reject(None, topic, error, kind="retained_command_ignored")
                return
            await self._on_request("/".join(parts[2:]), payload)
            return
        if len(parts) < 2 or parts[0] == "bridge":
            return
        unit_id, verb, rest = parts[0], parts[1], parts[2:]
        if not payload and verb == "set":
            return  # an empty message is how a retained command is cleared; nothing to do
        if retain:
            # A retained command would replay on every reconnect; never act on one.
            error = CommandError(None, "retained messages on command topics are ignored")
            self._reject(unit_id, topic, error, kind="retained_command_ignored")
            return
        try:
            unit = self._unit(unit_id)
            if verb == "set" and not rest:
                self._on_set(unit, payload)
            elif verb == "set" and len(rest) == 1:
                self._on_set_attribute(unit, rest[0], payload)
            elif verb == "get":
                self.publish_state(unit)
                self.publish_availability(unit)
                unit.request_refresh(resync=_wants_resync(payload))
        except CommandError as exc:
            self._reject(unit_id, topic, exc)

    def _on_set(self, unit: Unit, payload: bytes) -> None:
        data = decode_json_object(payload)
        transaction = data.get("transaction")
        try:
            self._apply_set(unit, data)
        except CommandError as exc:
            # Echo the caller's transaction so a client can tell its refusal from another's.
            exc.transaction = transaction
            raise

    def _apply_set(self, unit: Unit, data: dict[str, Any]) -> None:
        # Validate everything before acting on anything: a bad field changes nothing.
        has_remote = REMOTE_TEMPERATURE in data
        remote = _remote_value(data.pop(REMOTE_TEMPERATURE, None))
        if has_remote:
            unit.check_remote_temperature()
        preset = self._preset_value(unit, data.pop(PRESET, None))
        settings = {k: v for k, v in data.items() if k != "transaction"}
        wants_command = settings or not (has_remote or preset is not None)
        command = parse_command(data, unit.traits) if wants_command else None
        if command is not None:
            # The unit logs the command and reports a deferral itself (safety_refused).
            unit.submit(
                command,
                origin="mqtt",
                transaction=data.get("transaction"),
                limits=self._preset_limits(unit, preset),
            )
            if self.automation is not None and preset is None:
                self.automation.manual_change(unit.id, command, datetime.now(UTC))
        if preset is not None and self.automation is not None:
            # One hold for the preset and the fields sent with it (they win over the preset's).
            self.automation.set_preset(unit.id, preset, datetime.now(UTC), command=command)
        if has_remote:
            unit.set_remote_temperature(remote)

    def _on_set_attribute(self, unit: Unit, attribute: str, payload: bytes) -> None:
        if attribute == REMOTE_TEMPERATURE:
            text = payload.decode("utf-8", "replace").strip()
            unit.check_remote_temperature()
            cleared = text.lower() in ("", "none", "null")
            unit.set_remote_temperature(_remote_value(None if cleared else text))
            return
        if attribute == PRESET:
            name = self._preset_value(unit, payload.decode("utf-8", "replace").strip())
            if self.automation is not None and name is not None:
                self.automation.set_preset(unit.id, name, datetime.now(UTC))
            return
        command = parse_attribute(attribute, payload, unit.traits)
        unit.submit(command, origin="mqtt", limits=self._preset_limits(unit, None))
        if self.automation is not None:
            self.automation.manual_change(unit.id, command, datetime.now(UTC))

    def _preset_limits(self, unit: Unit, new_preset: str | None) -> tuple[float, float] | None:
        """The active preset's setpoint limits (none when the same message picks a preset)."""
        if self.automation is None or new_preset is not None:
            return None
        return self.automation.limits_for(unit.id)

    def _preset_value(self, unit: Unit, value: Any) -> str | None:
        """A preset name the unit has (``none`` ends a preset hold), checked before acting."""
        if value is None:
            return None
        known = ["none", *(self.automation.presets_for(unit.id) if self.automation else [])]
        if not isinstance(value, str) or value not in known:
            raise CommandError(PRESET, f"unknown preset {value!r}", known)
        return value

    def _unit(self, unit_id: str) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise CommandError("unit", f"unknown unit {unit_id!r}", sorted(self.units)) from None

    def _reject(
        self, unit_id: str | None, topic: str, error: CommandError, kind: str = "command_rejected"
    ) -> None:
        log.warning("rejected message on %s: %s", topic, error.message)
        data = {"topic": topic, "error": error.message, **error.as_dict()}
        if error.transaction is not None:
            data["transaction"] = error.transaction
        self.publish_event(kind, unit_id, data)

    async def _on_request(self, action: str, payload: bytes) -> None:
        response_topic = f"{self.base}/bridge/response/{action}"
        transaction: Any = None
        try:
            data = decode_json_object(payload) if payload.strip() else {}
            transaction = data.pop("transaction", None)
            result = await self._handler(action)(data)
        except KlimaError as exc:
            message = exc.message if isinstance(exc, CommandError) else str(exc)
            response: dict[str, Any] = {"status": "error", "data": {}, "error": message}
            if isinstance(exc, CommandError):
                response["data"] = exc.as_dict()
        except Exception:  # a bug in one handler must not take the bridge down
            log.exception("request %s failed", action)
            response = {"status": "error", "data": {}, "error": "internal error; see the log"}
        else:
            response = {"status": "ok", "data": result}
        if transaction is not None:
            response["transaction"] = transaction
        self._send(response_topic, response, retain=False)

    def _handler(self, action: str) -> RequestHandler:
        try:
            return self._requests[action]
        except KeyError:
            raise CommandError(
                "action", f"unknown request {action!r}", sorted(self._requests)
            ) from None

    async def _health_check(self, _data: dict[str, Any]) -> dict[str, Any]:
        units = {u.id: u.available for u in self.units.values()}
        return {
            "healthy": self.connection.is_connected,
            "units": units,
            "uptime_s": round((datetime.now(UTC) - self.started_at).total_seconds()),
        }

    async def _list_units(self, _data: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "id": u.id,
                "name": u.name,
                "driver": u.info.name,
                "available": u.available,
                "traits": u.traits.to_json(),
                "state": u.state.to_json(),
            }
            for u in self.units.values()
        ]

    def _clear_stale_discovery(self, topic: str, payload: bytes) -> None:
        device_id = topic[len(self._discovery_prefix) :].removesuffix("/config")
        if not payload or not device_id.startswith(self._own_discovery):
            return
        unit_id = device_id[len(self._own_discovery) :]
        if unit_id in self.units:
            return
        removal_topic, empty = build_discovery_removal(
            discovery_prefix=self.settings.discovery_prefix, hub_id=self.hub_id, unit_id=unit_id
        )
        log.info("unit %s is no longer configured; clearing its discovery", unit_id)
        self._send(removal_topic, empty, retain=True)
        self._send(self._t(unit_id), b"", retain=True)
        self._send(self._t(unit_id, "availability"), b"", retain=True)

    def _t(self, unit_id: str, *rest: str) -> str:
        return "/".join((self.base, unit_id, *rest))


def _remote_value(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CommandError(REMOTE_TEMPERATURE, "remote_temperature must be a number or null")
    try:
        number = float(value)
    except ValueError:
        raise CommandError(REMOTE_TEMPERATURE, f"not a number: {value!r}") from None
    if not -30.0 <= number <= 60.0:
        raise CommandError(REMOTE_TEMPERATURE, "remote_temperature outside -30..60 °C", [-30, 60])
    return number


def _wants_resync(payload: bytes) -> bool:
    """``<unit>/get`` with ``{"resync": true}`` re-sends the full state (IR) or re-polls."""
    if not payload.strip():
        return False
    data = decode_json_object(payload)
    resync = data.get("resync", False)
    if not isinstance(resync, bool):
        raise CommandError("resync", "resync must be true or false", [True, False])
    return resync
