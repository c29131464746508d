"""What the engine keeps per unit, and what it needs of a unit actor and of the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from klima.config import UnitConfig
    from klima.control.thermostat import SensorFreshness, ThermostatLoop
    from klima.schedule.holds import Hold
    from klima.schedule.model import Settings
    from klima.schedule.presets import Preset
    from klima.state import UnitCommand, UnitState
    from klima.traits import Traits


class ControlledUnit(Protocol):
    """What the engine needs of a unit actor (:class:`klima.unit.Unit` has it)."""

    @property
    def id(self) -> str: ...

    state: UnitState
    traits: Traits
    available: bool

    def submit(self, command: UnitCommand, origin: str, transaction: object = None) -> object: ...
    def set_remote_temperature(self, celsius: float | None) -> None: ...


class SettingsStore(Protocol):
    def save_setting(self, key: str, value: Any, ts: datetime | None = None) -> None: ...
    def load_settings(self, prefix: str = "") -> dict[str, Any]: ...


@dataclass
class Room:
    """The remote room sensor of one unit."""

    topic: str
    json_path: str | None
    freshness: SensorFreshness
    value: float | None = None
    was_stale: bool = False
    watching_since: datetime | None = None  # first tick without any reading yet


@dataclass
class UnitAutomation:
    config: UnitConfig
    presets: dict[str, Preset]
    loop: ThermostatLoop | None = None
    room: Room | None = None
    hold: Hold | None = None
    below_floor_since: datetime | None = None
    frost: bool = False
    window_open: bool = False
    away: bool = False
    transition_key: tuple[str, str] | None = None
    decision: Decision | None = None
    sent: tuple[Any, ...] | None = None
    sent_at: datetime | None = None
    remote_fed: float | None = None
    remote_fed_at: datetime | None = None
    restore_power: bool = False  # switch back on after a pause (window, sensor fallback)
    failed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Decision:
    settings: Settings  # after the preset was expanded
    source: str  # frost | window | hold | vacation | presence | schedule | none
    detail: dict[str, Any]
    preset: str | None
