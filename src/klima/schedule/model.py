"""Value types of the weekly schedule: when a block starts, what it asks for, who it governs.

Everything here is immutable and free of clocks and I/O so that the engine, the store and the
config loader can share the same objects. ``to_json``/``from_json`` give the shape stored in
Klima's own tables and sent over MQTT; ``from_json`` rejects unknown keys and wrong types with a
message naming the field, because run-time edits arrive from outside.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

if TYPE_CHECKING:
    from collections.abc import Mapping
    from zoneinfo import ZoneInfo

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Anchor = Literal["clock", "sunrise", "sunset"]

# Index = date.weekday(), so Monday first as in the config and the research notes (§4.1).
DAYS: tuple[Day, ...] = get_args(Day)

# A sun offset beyond half a day would move a block onto another day's sun; nobody means that.
MAX_SUN_OFFSET = timedelta(hours=12)

_HHMM = r"(\d{1,2}):(\d{2})"
_CLOCK_RE = re.compile(rf"{_HHMM}")
_SUN_RE = re.compile(rf"(sunrise|sunset)(?:([+-]){_HHMM})?")


def weekday(day: date) -> Day:
    return DAYS[day.weekday()]


def _hhmm(text: str, hours: str, minutes: str) -> timedelta:
    if int(minutes) >= 60:
        raise ValueError(f"bad time {text!r}: minutes must be 00-59")
    return timedelta(hours=int(hours), minutes=int(minutes))


def _format_hhmm(span: timedelta) -> str:
    minutes = int(span.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class At:
    """When a block starts on its day.

    ``clock``: ``offset`` is the wall-clock time after local midnight (not elapsed time, so
    "06:30" stays 06:30 on DST days). Sun anchors: ``offset`` is real time added to the event.
    """

    anchor: Anchor
    offset: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.anchor == "clock":
            if not timedelta(0) <= self.offset < timedelta(days=1):
                raise ValueError(f"clock time must be within 00:00-23:59, not {self.offset}")
        elif self.anchor in ("sunrise", "sunset"):
            if abs(self.offset) > MAX_SUN_OFFSET:
                raise ValueError(f"{self.anchor} offset must be at most 12:00, not {self.offset}")
        else:
            raise ValueError(f"unknown anchor {self.anchor!r}; expected clock, sunrise or sunset")
        if self.offset % timedelta(minutes=1):
            raise ValueError(f"offset must be whole minutes, not {self.offset}")

    @staticmethod
    def parse(text: str) -> At:
        """Read ``"06:30"``, ``"sunrise"``, ``"sunset-00:30"`` or ``"sunrise+01:15"``."""
        if not isinstance(text, str):
            # ValueError, not TypeError: config and MQTT callers catch one error for bad input.
            raise ValueError(f"time must be text like '06:30' or 'sunset-00:30', not {text!r}")  # noqa: TRY004
        cleaned = text.strip().lower()
        if match := _CLOCK_RE.fullmatch(cleaned):
            offset = _hhmm(text, *match.groups())
            if offset >= timedelta(days=1):
                raise ValueError(f"bad time {text!r}: hours must be 00-23")
            return At("clock", offset)
        if match := _SUN_RE.fullmatch(cleaned):
            anchor, sign, hours, minutes = match.groups()
            if sign is None:
                return At(cast("Anchor", anchor))
            offset = _hhmm(text, hours, minutes)
            if offset > MAX_SUN_OFFSET:
                raise ValueError(f"bad time {text!r}: a sun offset may be at most 12:00")
            return At(cast("Anchor", anchor), -offset if sign == "-" else offset)
        raise ValueError(
            f"bad time {text!r}: expected HH:MM (e.g. '06:30'), 'sunrise' or 'sunset', "
            "optionally with an offset such as 'sunset-00:30' or 'sunrise+01:15'"
        )

    def __str__(self) -> str:
        if self.anchor == "clock":
            return _format_hhmm(self.offset)
        if not self.offset:
            return self.anchor
        sign = "-" if self.offset < timedelta(0) else "+"
        return f"{self.anchor}{sign}{_format_hhmm(abs(self.offset))}"


def _check_keys(what: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be an object, not {data!r}")  # noqa: TRY004
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown field(s) {', '.join(unknown)}")


def _optional(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(key)
    # bool is an int subclass; a temperature of `true` is a mistake, not 1 degree.
    if value is not None and (
        not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)
    ):
        raise ValueError(f"{key} has the wrong type: {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """What a block, preset or vacation asks of a unit; ``None`` leaves that part as it is."""

    power: bool | None = None
    mode: str | None = None
    target_temperature: float | None = None
    fan_mode: str | None = None
    preset: str | None = None  # resolved into the other fields by the engine

    def is_empty(self) -> bool:
        return not self.to_json()

    def to_json(self) -> dict[str, Any]:
        fields = {
            "power": self.power,
            "mode": self.mode,
            "target_temperature": self.target_temperature,
            "fan_mode": self.fan_mode,
            "preset": self.preset,
        }
        return {key: value for key, value in fields.items() if value is not None}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Settings:
        _check_keys("settings", data, set(_SETTINGS_FIELDS))
        target = _optional(data, "target_temperature", (int, float))
        if target is not None and not (math.isfinite(target) and 0 <= target <= 40):
            raise ValueError(f"target_temperature must be a number from 0 to 40, not {target!r}")
        mode = _optional(data, "mode", str)
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        return Settings(
            power=_optional(data, "power", bool),
            mode=mode,
            target_temperature=None if target is None else float(target),
            fan_mode=_optional(data, "fan_mode", str),
            preset=_optional(data, "preset", str),
        )


_SETTINGS_FIELDS = ("power", "mode", "target_temperature", "fan_mode", "preset")
# Operating modes a block, hold or timer may ask for ("off" is power = false).
MODES = ("heat", "cool", "heat_cool", "dry", "fan_only")


@dataclass(frozen=True)
class Block:
    at: At
    settings: Settings

    def __post_init__(self) -> None:
        if self.settings.is_empty():
            # A block that sets nothing is almost certainly a typo in the config.
            raise ValueError(f"block at {self.at} sets nothing")

    def to_json(self) -> dict[str, Any]:
        return {"at": str(self.at), **self.settings.to_json()}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Block:
        _check_keys("block", data, {"at", *_SETTINGS_FIELDS})
        if "at" not in data:
            raise ValueError("block: missing field at")
        settings = {key: value for key, value in data.items() if key != "at"}
        return Block(At.parse(data["at"]), Settings.from_json(settings))


def _units(what: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(u, str) and u for u in value):
        raise ValueError(f"{what}: units must be a list of unit ids, not {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class Program:
    """One weekly program (a ``[[schedules]]`` entry).

    ``holidays=True``: the program also runs on public holidays, whatever the weekday, and
    on those days it replaces the unit's other programs. ``days`` may then be empty for a
    holiday-only program.
    """

    id: str
    units: tuple[str, ...]
    days: frozenset[Day]
    blocks: tuple[Block, ...]
    holidays: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("program id must not be empty")
        if not self.units:
            raise ValueError(f"program {self.id}: name at least one unit")
        bad = sorted(set(self.days) - set(DAYS))
        if bad:
            raise ValueError(f"program {self.id}: unknown day(s) {', '.join(bad)}; use mon..sun")
        if not self.days and not self.holidays:
            raise ValueError(f"program {self.id}: name at least one day (or set holidays)")
        if not self.blocks:
            raise ValueError(f"program {self.id}: needs at least one block")

    def runs_on_weekday(self, day: date) -> bool:
        return weekday(day) in self.days

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "units": list(self.units),
            "days": [day for day in DAYS if day in self.days],
            "blocks": [block.to_json() for block in self.blocks],
            "holidays": self.holidays,
            "enabled": self.enabled,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Program:
        _check_keys("program", data, {"id", "units", "days", "blocks", "holidays", "enabled"})
        program_id = data.get("id")
        if not isinstance(program_id, str):
            raise ValueError(f"program: id must be text, not {program_id!r}")  # noqa: TRY004
        what = f"program {program_id}"
        # Like the config: every day unless told, none for a holiday program.
        days = data.get("days", [] if data.get("holidays") is True else list(DAYS))
        if not isinstance(days, list | tuple) or not all(isinstance(d, str) for d in days):
            raise ValueError(f"{what}: days must be a list like ['mon', 'tue'], not {days!r}")
        blocks = data.get("blocks")
        if not isinstance(blocks, list | tuple):
            raise ValueError(f"{what}: blocks must be a list, not {blocks!r}")  # noqa: TRY004
        flags = {
            key: data.get(key, default) for key, default in (("holidays", False), ("enabled", True))
        }
        for key, value in flags.items():
            if not isinstance(value, bool):
                raise ValueError(f"{what}: {key} must be true or false, not {value!r}")  # noqa: TRY004
        return Program(
            id=program_id,
            units=_units(what, data.get("units")),
            days=frozenset(cast("Day", d.lower()) for d in days),
            blocks=tuple(Block.from_json(block) for block in blocks),
            holidays=flags["holidays"],
            enabled=flags["enabled"],
        )


@dataclass(frozen=True)
class Vacation:
    """A date range that either layers ``settings`` on top of the programs or swaps in
    another ``program`` (exactly one of the two). Empty ``units`` means every unit."""

    id: str
    units: tuple[str, ...]
    start: datetime
    end: datetime
    settings: Settings | None = None
    program: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"vacation {self.id}: start and end need a time zone")
        if self.end.astimezone(UTC) <= self.start.astimezone(UTC):
            raise ValueError(f"vacation {self.id}: end must be after start")
        if (self.settings is None) == (self.program is None):
            raise ValueError(f"vacation {self.id}: give exactly one of settings or program")

    def applies_to(self, unit_id: str) -> bool:
        return not self.units or unit_id in self.units

    def covers(self, when: datetime) -> bool:
        # Via UTC: Python compares two datetimes of the same zone by wall time, ignoring
        # ``fold``, which is wrong inside the repeated hour of a DST change.
        return self.start.astimezone(UTC) <= when.astimezone(UTC) < self.end.astimezone(UTC)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "units": list(self.units),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
        if self.settings is not None:
            data["settings"] = self.settings.to_json()
        if self.program is not None:
            data["program"] = self.program
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Vacation:
        _check_keys("vacation", data, {"id", "units", "start", "end", "settings", "program"})
        vacation_id = data.get("id")
        if not isinstance(vacation_id, str) or not vacation_id:
            raise ValueError(f"vacation: id must be text, not {vacation_id!r}")
        what = f"vacation {vacation_id}"
        times = {}
        for key in ("start", "end"):
            try:
                times[key] = datetime.fromisoformat(data[key])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{what}: {key} must be an ISO date-time") from None
        settings = data.get("settings")
        program = _optional(data, "program", str)
        return Vacation(
            id=vacation_id,
            units=_units(what, data.get("units", [])),
            start=times["start"],
            end=times["end"],
            settings=None if settings is None else Settings.from_json(settings),
            program=program,
        )


@dataclass(frozen=True)
class Site:
    """Where the hub is: its zone for wall-clock times, position for the sun, region for
    public holidays. Without a position sun blocks are skipped; without a country there
    are no holidays."""

    zone: ZoneInfo
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("site: give both latitude and longitude, or neither")
        if self.latitude is not None and not -90.0 <= self.latitude <= 90.0:
            raise ValueError(f"site: latitude must be within -90..90, not {self.latitude}")
        if self.longitude is not None and not -180.0 <= self.longitude <= 180.0:
            raise ValueError(f"site: longitude must be within -180..180, not {self.longitude}")
        if self.subdivision is not None and self.country is None:
            raise ValueError("site: a holiday subdivision needs a country")
