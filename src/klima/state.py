"""The state of one indoor unit, and commands as partial differences to it.

Vocabulary follows Home Assistant's climate entity so MQTT templates stay trivial: the unit's
own "auto" is ``heat_cool``; ``mode == off`` is how an unpowered unit is published.

Inside Klima ``power`` and ``mode`` are kept apart, because serial protocols keep the operating
mode while the unit is off (switching it on again resumes that mode). Only the published JSON
folds them into Home Assistant's single ``mode``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    OFF = "off"
    HEAT = "heat"
    COOL = "cool"
    HEAT_COOL = "heat_cool"
    DRY = "dry"
    FAN_ONLY = "fan_only"


class Action(StrEnum):
    OFF = "off"
    HEATING = "heating"
    COOLING = "cooling"
    DRYING = "drying"
    IDLE = "idle"
    FAN = "fan"
    DEFROSTING = "defrosting"
    PREHEATING = "preheating"


class StateSource(StrEnum):
    REPORTED = "reported"  # read back from the unit over a wire
    ASSUMED = "assumed"  # what we last sent, with no readback (IR)
    EXTERNAL = "external"  # the unit changed behind our back (its own IR remote, a wall panel)


# The settings a user can command; everything else in UnitState is observed only.
SETTING_FIELDS: tuple[str, ...] = (
    "power",
    "mode",
    "target_temperature",
    "fan_mode",
    "swing_mode",
    "swing_horizontal_mode",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitCommand:
    """A partial change: ``None`` means "leave as it is".

    ``mode=Mode.OFF`` is accepted as Home Assistant sends it and normalised by
    :meth:`normalized` into ``power=False`` with the operating mode untouched.
    """

    power: bool | None = None
    mode: Mode | None = None
    target_temperature: float | None = None
    fan_mode: str | None = None
    swing_mode: str | None = None
    swing_horizontal_mode: str | None = None

    def normalized(self) -> UnitCommand:
        if self.mode is Mode.OFF:
            return dataclasses.replace(self, power=False, mode=None)
        if self.mode is not None and self.power is None:
            # Choosing an operating mode in Home Assistant means "run in this mode".
            return dataclasses.replace(self, power=True)
        return self

    def fields(self) -> dict[str, Any]:
        """The fields this command sets, by name."""
        return _present(self)

    def is_empty(self) -> bool:
        return not self.fields()

    def merged(self, later: UnitCommand) -> UnitCommand:
        """This command with ``later``'s fields laid over it (a queue of commands coalesces)."""
        return dataclasses.replace(self, **later.fields())

    def turns_on(self, current: UnitState) -> bool:
        return self.normalized().power is True and not current.power


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What one poll of a unit read back; ``None`` means the unit did not report that field."""

    power: bool | None = None
    mode: Mode | None = None
    target_temperature: float | None = None
    fan_mode: str | None = None
    swing_mode: str | None = None
    swing_horizontal_mode: str | None = None
    current_temperature: float | None = None
    outdoor_temperature: float | None = None
    action: Action | None = None
    compressor_frequency: int | None = None
    power_w: float | None = None
    energy_kwh: float | None = None
    fault_code: str | None = None
    operating_minutes: int | None = None
    # Fields the unit positively reported as absent (e.g. "no fault"): ``None`` above only
    # means "not read this time", which must not clear a value.
    cleared: frozenset[str] = frozenset()

    def fields(self) -> dict[str, Any]:
        """The fields this poll read, by name."""
        return _present(self, skip="cleared")


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitState:
    """One immutable snapshot of a unit. Change it with :meth:`apply` or :meth:`observe`."""

    power: bool = False
    mode: Mode = Mode.HEAT_COOL  # operating mode; never OFF (see module docstring)
    target_temperature: float | None = None
    fan_mode: str | None = None
    swing_mode: str | None = None
    swing_horizontal_mode: str | None = None
    current_temperature: float | None = None
    outdoor_temperature: float | None = None
    action: Action | None = None
    compressor_frequency: int | None = None
    power_w: float | None = None
    energy_kwh: float | None = None
    fault_code: str | None = None
    operating_minutes: int | None = None
    state_source: StateSource = StateSource.ASSUMED
    temperature_source: str = "unit"  # "unit" or "remote" (an external room sensor)
    lockout_until: datetime | None = None
    last_seen: datetime | None = None

    def apply(self, command: UnitCommand, source: StateSource) -> UnitState:
        """The state after ``command`` took effect."""
        changes = command.normalized().fields()
        return dataclasses.replace(self, **changes, state_source=source)

    def observe(self, reading: Observation, source: StateSource, seen: datetime) -> UnitState:
        """The state after a poll read back ``reading``."""
        changes: dict[str, Any] = dict.fromkeys(reading.cleared)
        changes.update(reading.fields())
        if changes.get("mode") is Mode.OFF:
            del changes["mode"]
            changes["power"] = False
        return dataclasses.replace(self, **changes, state_source=source, last_seen=seen)

    def replace(self, **changes: Any) -> UnitState:
        return dataclasses.replace(self, **changes)

    def settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SETTING_FIELDS}

    def diff(self, other: UnitState) -> UnitCommand:
        """The command that turns this state's settings into ``other``'s."""
        mine, theirs = self.settings(), other.settings()
        return UnitCommand(**{k: v for k, v in theirs.items() if mine[k] != v})

    @property
    def published_mode(self) -> Mode:
        return self.mode if self.power else Mode.OFF

    def to_json(self) -> dict[str, Any]:
        """The retained MQTT state payload (Home-Assistant-aligned names)."""
        out: dict[str, Any] = {
            "power": "ON" if self.power else "OFF",
            "mode": self.published_mode.value,
            "operating_mode": self.mode.value,
            # An unpowered unit is off; a powered one whose activity is unknown is null.
            "action": self.action.value if self.action else (None if self.power else "off"),
            "target_temperature": self.target_temperature,
            "current_temperature": self.current_temperature,
            "outdoor_temperature": self.outdoor_temperature,
            "fan_mode": self.fan_mode,
            "swing_mode": self.swing_mode,
            "swing_horizontal_mode": self.swing_horizontal_mode,
            "compressor_frequency": self.compressor_frequency,
            "power_w": self.power_w,
            "energy_kwh": self.energy_kwh,
            "fault_code": self.fault_code,
            "operating_minutes": self.operating_minutes,
            "state_source": self.state_source.value,
            "temperature_source": self.temperature_source,
            "lockout_until": _iso(self.lockout_until),
            "last_seen": _iso(self.last_seen),
        }
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UnitState:
        """Rebuild a state persisted with :meth:`to_json` (unknown keys are ignored)."""
        power = data.get("power") in ("ON", True)
        mode = Mode(data.get("operating_mode") or data.get("mode") or Mode.HEAT_COOL)
        if mode is Mode.OFF:
            mode = Mode.HEAT_COOL
        action = data.get("action")
        return cls(
            power=power,
            mode=mode,
            target_temperature=data.get("target_temperature"),
            fan_mode=data.get("fan_mode"),
            swing_mode=data.get("swing_mode"),
            swing_horizontal_mode=data.get("swing_horizontal_mode"),
            current_temperature=data.get("current_temperature"),
            outdoor_temperature=data.get("outdoor_temperature"),
            action=Action(action) if action else None,
            compressor_frequency=data.get("compressor_frequency"),
            power_w=data.get("power_w"),
            energy_kwh=data.get("energy_kwh"),
            fault_code=data.get("fault_code"),
            operating_minutes=data.get("operating_minutes"),
            state_source=StateSource(data.get("state_source") or StateSource.ASSUMED),
            temperature_source=str(data.get("temperature_source") or "unit"),
            lockout_until=_parse_iso(data.get("lockout_until")),
            last_seen=_parse_iso(data.get("last_seen")),
        )


def _present(record: Any, skip: str = "") -> dict[str, Any]:
    """The dataclass fields of ``record`` that are not ``None``."""
    return {
        f.name: value
        for f in dataclasses.fields(record)
        if f.name != skip and (value := getattr(record, f.name)) is not None
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _parse_iso(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
