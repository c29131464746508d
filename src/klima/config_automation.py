"""Config sections of climate automation: site, presets, schedules, vacations, windows, presence,
and per unit the thermostat strategy and frost protection.

Validated here as far as the file alone allows (names, times, references between sections);
the engine checks what needs the units' traits (a preset's setpoint against a unit's range).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from klima.schedule.holds import parse_duration
from klima.schedule.model import At
from klima.strict_model import StrictModel, ZoneName

if TYPE_CHECKING:
    from klima.config import KlimaConfig

_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_NO_WILDCARDS = r"^[^+#]+$"
Id = Annotated[str, Field(pattern=_ID)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HoldPolicy = Annotated[str, Field(pattern=r"^(next_block|permanent|\d+(m|h|d))$")]
ModeName = Literal["heat", "cool", "heat_cool", "dry", "fan_only"]

# The presets every unit has unless the config changes them (HA's names plus frost, research
# §4.4): comfort/eco/sleep/away as setpoints the program or a user picks, boost for a quick
# warm-up, frost as the lowest heat setpoint the unit supports (clamped to its range).
DEFAULT_PRESETS: dict[str, dict[str, Any]] = {
    "comfort": {"target_temperature": 21.0},
    "eco": {"target_temperature": 18.0},
    "sleep": {"target_temperature": 19.0},
    "away": {"target_temperature": 16.0},
    "boost": {"target_temperature": 24.0, "fan_mode": "high"},
    "frost": {"power": True, "mode": "heat", "target_temperature": 8.0},
}


def check_at(value: str) -> str:
    """``HH:MM``, ``sunrise``/``sunset``, optionally ``±HH:MM`` (exactly what the engine reads)."""
    At.parse(value)  # raises ValueError with the user's text and the expected format
    return value.strip()


def check_hold(value: str) -> str:
    if value not in ("next_block", "permanent"):
        parse_duration(value)
    return value


class SiteConfig(StrictModel):
    """Where the hub is: local time for schedules, the sun, public holidays."""

    timezone: ZoneName | None = Field(None, description="IANA zone; defaults to the system's.")
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = Field(
        None, description="ISO 3166 country for public holidays, e.g. DE."
    )
    subdivision: str | None = Field(None, description="Region for holidays, e.g. BE or CA.")

    @model_validator(mode="after")
    def _both_coordinates(self) -> SiteConfig:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.subdivision is not None and self.country is None:
            raise ValueError("subdivision needs country")
        if self.country is not None:
            import holidays  # noqa: PLC0415 - large; only configs with a country need it

            try:
                holidays.country_holidays(self.country, subdiv=self.subdivision, years=2000)
            except NotImplementedError as exc:
                raise ValueError(f"no public holidays known for {exc}") from None
        return self


class PresetConfig(StrictModel):
    """Settings a preset applies; unset keys leave the unit as it is."""

    power: bool | None = None
    mode: ModeName | None = None
    target_temperature: Annotated[float, Field(ge=0, le=40)] | None = None
    fan_mode: str | None = None
    min_temp: float | None = Field(None, description="Lowest setpoint allowed in this preset.")
    max_temp: float | None = Field(None, description="Highest setpoint allowed in this preset.")

    @model_validator(mode="after")
    def _limits(self) -> PresetConfig:
        low, high, target = self.min_temp, self.max_temp, self.target_temperature
        if low is not None and high is not None and low > high:
            raise ValueError("min_temp is above max_temp")
        if target is not None and (
            (low is not None and target < low) or (high is not None and target > high)
        ):
            raise ValueError("target_temperature is outside the preset's min_temp..max_temp")
        return self


class BlockConfig(StrictModel):
    """From ``at`` on, the unit runs these settings (or a preset) until the next block."""

    at: str = Field(description='"HH:MM", "sunrise", "sunset", optionally "sunset-00:30".')
    preset: str | None = None
    power: bool | None = None
    mode: ModeName | None = None
    target_temperature: Annotated[float, Field(ge=0, le=40)] | None = None
    fan_mode: str | None = None

    @field_validator("at")
    @classmethod
    def _valid_at(cls, value: str) -> str:
        return check_at(value)

    @model_validator(mode="after")
    def _preset_or_settings(self) -> BlockConfig:
        settings = (self.power, self.mode, self.target_temperature, self.fan_mode)
        if self.preset is not None and any(s is not None for s in settings):
            raise ValueError("a block sets either a preset or power/mode/setpoint/fan, not both")
        if self.preset is None and all(s is None for s in settings):
            raise ValueError("a block needs a preset or at least one setting")
        return self


class ScheduleConfig(StrictModel):
    id: Id
    units: list[Id] = Field(min_length=1, description="Unit or group ids.")
    days: list[Day] | None = Field(
        None,
        description="Weekdays the program runs; default every day, or none for a holiday "
        "program (holidays = true).",
    )
    blocks: list[BlockConfig] = Field(min_length=1)
    holidays: bool = Field(
        default=False,
        description="This program runs on public holidays ([site] country) instead of the "
        "units' normal programs.",
    )
    enabled: bool = Field(
        default=True,
        description="false keeps it out of the weekly rotation (a vacation may still run it).",
    )

    @model_validator(mode="after")
    def _runs_sometime(self) -> ScheduleConfig:
        if self.days == [] and not self.holidays:
            raise ValueError("days = [] runs on no day: name days, or set holidays = true")
        return self

    @property
    def run_days(self) -> list[Day]:
        if self.days is not None:
            return list(self.days)
        return [] if self.holidays else list(ALL_DAYS)


class GroupConfig(StrictModel):
    id: Id
    units: list[Id] = Field(min_length=1)


class VacationConfig(StrictModel):
    """A date range during which the units run a preset or another program."""

    id: Id
    units: list[Id] = Field(default_factory=list, description="Unit or group ids; empty = all.")
    start: date | datetime
    end: date | datetime = Field(description="Exclusive: a date means that day's midnight.")
    preset: str | None = None
    program: Id | None = Field(None, description="The id of a [[schedules]] entry to run.")

    @model_validator(mode="after")
    def _one_target(self) -> VacationConfig:
        if (self.preset is None) == (self.program is None):
            raise ValueError("a vacation sets exactly one of preset or program")
        return self


class SensorConfig(StrictModel):
    topic: Annotated[str, Field(pattern=_NO_WILDCARDS)]
    json_path: str | None = Field(None, description='e.g. "temperature" (Zigbee2MQTT).')
    timeout: Annotated[float, Field(ge=30, le=86400)] = Field(
        600.0, description="Seconds without an update before the sensor is stale."
    )


class WindowConfig(StrictModel):
    """Pause heating/cooling while a window is open (contact sensor or a fast temperature drop)."""

    id: Id
    units: list[Id] = Field(min_length=1, description="Unit or group ids.")
    topic: Annotated[str, Field(pattern=_NO_WILDCARDS)] | None = Field(
        None, description="Contact sensor topic; without it only auto_detect works."
    )
    json_path: str | None = Field(None, description='e.g. "contact".')
    invert: bool = Field(
        default=False,
        description="The sensor reads true/ON when the window is CLOSED (Zigbee2MQTT contact).",
    )
    delay: Annotated[float, Field(ge=0, le=3600)] = Field(
        120.0, description="Seconds open before the units pause."
    )
    action: Literal["off", "frost", "eco", "fan_only"] = "off"
    auto_detect: bool = Field(
        default=False,
        description="Also detect an open window from a fast room-temperature drop (-3 °C/h).",
    )

    @model_validator(mode="after")
    def _some_input(self) -> WindowConfig:
        if self.topic is None and not self.auto_detect:
            raise ValueError("a window rule needs a topic or auto_detect = true")
        return self


class PresenceConfig(StrictModel):
    """Switch to the away preset while nobody is home."""

    id: Id
    units: list[Id] = Field(default_factory=list, description="Unit or group ids; empty = all.")
    topic: Annotated[str, Field(pattern=_NO_WILDCARDS)]
    json_path: str | None = None
    away_preset: str = "away"
    away_after: Annotated[float, Field(ge=0, le=86400)] = Field(
        600.0, description="Seconds of absence before the away preset applies."
    )


class ThermostatConfig(StrictModel):
    """How a unit holds the setpoint (docs/automation.md#thermostat-strategies)."""

    strategy: Literal["passthrough", "remote_sensor", "hysteresis"] = "passthrough"
    sensor: SensorConfig | None = Field(
        None, description="Room sensor (remote_sensor, hysteresis)."
    )
    fallback: Literal["unit_sensor", "off", "frost"] = Field(
        "unit_sensor", description="What a stale room sensor falls back to."
    )
    cold_tolerance: Annotated[float, Field(ge=0.1, le=5)] = 0.3
    hot_tolerance: Annotated[float, Field(ge=0.1, le=5)] = 0.3
    max_offset: Annotated[float, Field(ge=0, le=5)] = Field(
        2.0, description="remote_sensor without native support: largest setpoint offset (K)."
    )
    min_offset_interval: Annotated[float, Field(ge=30, le=3600)] = Field(
        300.0, description="Seconds between two setpoint-offset changes."
    )

    @model_validator(mode="after")
    def _sensor_needed(self) -> ThermostatConfig:
        if self.strategy != "passthrough" and self.sensor is None:
            raise ValueError(f"strategy {self.strategy!r} needs a sensor")
        return self


class FrostConfig(StrictModel):
    """Heat at ``setpoint`` when the room stays below ``floor``, whatever else says."""

    enabled: bool = True
    floor: Annotated[float, Field(ge=0, le=15)] = 7.0
    setpoint: Annotated[float, Field(ge=5, le=20)] = Field(
        10.0, description="Raised to the unit's lowest heat setpoint if that is higher."
    )
    after: Annotated[float, Field(ge=0, le=86400)] = Field(
        900.0, description="Seconds below the floor before frost protection acts."
    )


class AutomationConfig(StrictModel):
    hold: Annotated[HoldPolicy, AfterValidator(check_hold)] = Field(
        "next_block",
        description='A manual change holds "next_block" (until the next block), '
        '"permanent", or for a duration such as "90m", "2h", "1d".',
    )
    reconcile_interval: Annotated[float, Field(ge=30, le=3600)] = Field(
        300.0,
        description="Seconds before a command a unit has not followed is sent again (units "
        "are checked every 30 s and whenever a block, sensor or window changes).",
    )
    wait_for_clock: bool = Field(
        default=True,
        description="Before the first time-based action, wait until the clock is trusted "
        "(NTP synchronised, or later than anything in the database): a Pi has no RTC.",
    )


def check_automation_references(config: KlimaConfig) -> None:
    """Every id a schedule, vacation, window or presence rule names exists; presets too."""
    unit_ids = {unit.id for unit in config.units}
    groups = {group.id: group for group in config.groups}
    for group in config.groups:
        if group.id in unit_ids:
            raise ValueError(f"group id {group.id!r} is also a unit id")
        unknown = sorted(set(group.units) - unit_ids)
        if unknown:
            raise ValueError(f"group {group.id!r} names unknown units {unknown}")
    if len(groups) != len(config.groups):
        raise ValueError("a group id is used twice")
    schedule_ids = [schedule.id for schedule in config.schedules]
    if len(set(schedule_ids)) != len(schedule_ids):
        raise ValueError("a schedule id is used twice")
    shared = set(DEFAULT_PRESETS) | set(config.presets)
    for what, items in (("vacation", config.vacations), ("window", config.windows),
                        ("presence", config.presence)):  # fmt: skip
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a {what} id is used twice")
    _check_presets(config)

    def members(what: str, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for name in ids:
            if name in groups:
                found |= set(groups[name].units)
            elif name in unit_ids:
                found.add(name)
            else:
                known = ", ".join(sorted(unit_ids | set(groups))) or "none"
                raise ValueError(f"{what} names {name!r}, which is no unit or group ({known})")
        return found

    def check_preset(what: str, preset: str, units: set[str]) -> None:
        for unit in config.units:
            if unit.id in units and preset not in shared | set(unit.presets):
                known = ", ".join(sorted(shared | set(unit.presets)))
                raise ValueError(f"{what}: unit {unit.id!r} has no preset {preset!r} ({known})")

    for schedule in config.schedules:
        units = members(f"schedule {schedule.id!r}", schedule.units)
        for block in schedule.blocks:
            if block.preset is not None:
                check_preset(f"schedule {schedule.id!r} block {block.at}", block.preset, units)
    for vacation in config.vacations:
        units = members(f"vacation {vacation.id!r}", vacation.units) or unit_ids
        if vacation.program is not None and vacation.program not in schedule_ids:
            raise ValueError(
                f"vacation {vacation.id!r} names program {vacation.program!r}, which is no schedule"
            )
        if vacation.preset is not None:
            check_preset(f"vacation {vacation.id!r}", vacation.preset, units)
        if _as_datetime(vacation.end) <= _as_datetime(vacation.start):
            raise ValueError(f"vacation {vacation.id!r} ends before it starts")
    for window in config.windows:
        units = members(f"window {window.id!r}", window.units)
        if window.action in ("frost", "eco"):
            check_preset(f"window {window.id!r}", window.action, units)
    for rule in config.presence:
        units = members(f"presence {rule.id!r}", rule.units) or unit_ids
        check_preset(f"presence {rule.id!r}", rule.away_preset, units)


def _as_datetime(value: date | datetime) -> datetime:
    """Naive local wall time, for ordering two config values (the zone is the same for both)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, datetime.min.time())


def _check_presets(config: KlimaConfig) -> None:
    """Preset names and, per unit, the presets as merged (defaults, shared, the unit's own)."""
    from klima.schedule.presets import unit_presets  # noqa: PLC0415 - imports this module

    for name in [*config.presets, *(n for unit in config.units for n in unit.presets)]:
        if name == "none":
            raise ValueError('"none" is not a preset name: it means "no preset" (end a hold)')
    for unit in config.units:
        try:
            unit_presets(config.presets, unit.presets)
        except ValidationError as exc:
            raise ValueError(f"unit {unit.id!r}: presets: {exc.errors()[0]['msg']}") from None
