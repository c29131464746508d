"""How the companion commands show what they read from MQTT: status snapshot, table, watch lines.

Pure: every function takes received messages and returns data or text, so it is easy to test.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klima.mqtt.connection import IncomingMessage
    from klima.mqtt.settings import MqttSettings

TABLE_COLUMNS = ("UNIT", "AVAILABILITY", "MODE", "SETPOINT", "ROOM", "ACTION", "SOURCE")


def parse_json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None


def temperature_text(value: Any) -> str:
    return f"{value:.1f}°C" if isinstance(value, int | float) else "-"


class StatusSnapshot:
    """What the retained topics say about the bridge and its units (fed message by message)."""

    def __init__(self, settings: MqttSettings) -> None:
        self.base = settings.base_topic
        self.info: dict[str, Any] | None = None
        self.bridge_state: str | None = None
        self.states: dict[str, dict[str, Any]] = {}
        self.availability: dict[str, str] = {}

    def add(self, message: IncomingMessage) -> None:
        levels = message.topic[len(self.base) + 1 :].split("/")
        if levels == ["bridge", "info"]:
            info = parse_json(message.payload)
            self.info = info if isinstance(info, dict) else None
        elif levels == ["bridge", "state"]:
            self.bridge_state = message.payload.decode("utf-8", "replace")
        elif levels[0] == "bridge":
            return
        elif len(levels) == 1:
            state = parse_json(message.payload)
            if isinstance(state, dict):
                self.states[levels[0]] = state
            else:
                self.states.pop(levels[0], None)  # empty payload: the unit was removed
        elif levels[1:] == ["availability"]:
            self.availability[levels[0]] = message.payload.decode("utf-8", "replace")

    def known_units(self) -> list[str]:
        units: list[str] = []
        for entry in (self.info or {}).get("units", []):
            unit = entry.get("id") if isinstance(entry, dict) else entry
            if isinstance(unit, str):
                units.append(unit)
        return units or sorted(self.states)

    def names(self) -> dict[str, str]:
        entries = (self.info or {}).get("units", [])
        return {e["id"]: str(e.get("name", e["id"])) for e in entries if isinstance(e, dict)}

    def complete(self, wanted: list[str] | None) -> bool:
        if self.info is None or self.bridge_state is None:
            return False
        known = self.known_units()
        # A unit the daemon does not list will never appear; don't wait for it.
        units = [u for u in wanted if u in known] if wanted else known
        return all(u in self.states and u in self.availability for u in units)


def status_json(snapshot: StatusSnapshot, units: list[str]) -> dict[str, Any]:
    names = snapshot.names()
    return {
        "bridge": {"state": snapshot.bridge_state, "info": snapshot.info},
        "units": [
            {
                "id": unit,
                "name": names.get(unit, unit),
                "availability": snapshot.availability.get(unit),
                "state": snapshot.states.get(unit),
            }
            for unit in units
        ],
    }


def status_table(snapshot: StatusSnapshot, units: list[str]) -> list[str]:
    info = snapshot.info or {}
    version = f" (klima {info['version']})" if "version" in info else ""
    lines = [f"bridge: {snapshot.bridge_state or 'unknown'}{version}"]
    rows = [TABLE_COLUMNS]
    for unit in units:
        state = snapshot.states.get(unit, {})
        rows.append(
            (
                unit,
                snapshot.availability.get(unit, "unknown"),
                str(state.get("mode") or "-"),
                temperature_text(state.get("target_temperature")),
                temperature_text(state.get("current_temperature")),
                str(state.get("action") or "-"),
                str(state.get("state_source") or "-"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return lines


class WatchFormatter:
    """One line per change; identical republished states (heartbeats) print nothing."""

    def __init__(self, settings: MqttSettings) -> None:
        self.base = settings.base_topic
        self.seen: dict[str, str] = {}

    def line(self, message: IncomingMessage) -> str | None:
        levels = message.topic[len(self.base) + 1 :].split("/")
        text = message.payload.decode("utf-8", "replace")
        if levels == ["bridge", "event"]:
            return self._event(text)
        if levels == ["bridge", "state"]:
            return self._changed("bridge", f"bridge  {text}")
        if len(levels) == 2 and levels[1] == "availability":
            return self._changed(message.topic, f"{levels[0]}  availability  {text or 'removed'}")
        if len(levels) == 1 and levels[0] != "bridge":
            return self._changed(message.topic, f"{levels[0]}  {self._state(message.payload)}")
        return None

    def _changed(self, key: str, line: str) -> str | None:
        if self.seen.get(key) == line:
            return None
        self.seen[key] = line
        return line

    @staticmethod
    def _state(payload: bytes) -> str:
        if not payload:
            return "removed"
        state = parse_json(payload)
        if not isinstance(state, dict):
            return f"state (not JSON: {payload[:60]!r})"
        setpoint = temperature_text(state.get("target_temperature"))
        room = temperature_text(state.get("current_temperature"))
        return (
            f"state  mode={state.get('mode')} setpoint={setpoint} room={room}"
            f" action={state.get('action')} source={state.get('state_source')}"
        )

    @staticmethod
    def _event(text: str) -> str:
        event = parse_json(text.encode())
        if not isinstance(event, dict):
            return f"event  {text}"
        data = json.dumps(event.get("data", {}), separators=(",", ":"), ensure_ascii=False)
        return f"event  {event.get('type')}  unit={event.get('unit')}  {data}"
