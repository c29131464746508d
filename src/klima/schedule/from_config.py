"""The config file's schedules, vacations and site as the engine's records."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from klima.schedule.model import At, Block, Program, Settings, Site, Vacation

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from klima.config import KlimaConfig
    from klima.config_automation import ScheduleConfig, VacationConfig


def site_zone(config: KlimaConfig) -> ZoneInfo:
    """Schedules run in ``[site] timezone``, else the energy time zone, else the system's."""
    from klima.energy.setup import energy_zone  # noqa: PLC0415 - avoids an import cycle

    return ZoneInfo(config.site.timezone) if config.site.timezone else energy_zone(config)


def site_from_config(config: KlimaConfig, zone: ZoneInfo) -> Site:
    s = config.site
    return Site(zone, s.latitude, s.longitude, s.country, s.subdivision)


def expand_groups(names: Iterable[str], groups: Mapping[str, list[str]]) -> tuple[str, ...]:
    """Unit ids with group ids replaced by their members, each once, in order."""
    return tuple(dict.fromkeys(unit for name in names for unit in groups.get(name, [name])))


def program_from_config(entry: ScheduleConfig, groups: Mapping[str, list[str]]) -> Program:
    blocks = tuple(
        Block(
            At.parse(b.at),
            Settings(
                power=b.power,
                mode=b.mode,
                target_temperature=b.target_temperature,
                fan_mode=b.fan_mode,
                preset=b.preset,
            ),
        )
        for b in entry.blocks
    )
    return Program(
        entry.id,
        expand_groups(entry.units, groups),
        frozenset(entry.run_days),
        blocks,
        entry.holidays,
        entry.enabled,
    )


def vacation_from_config(
    entry: VacationConfig, groups: Mapping[str, list[str]], zone: ZoneInfo
) -> Vacation:
    def moment(value: date | datetime) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=zone)
        return datetime(value.year, value.month, value.day, tzinfo=zone)

    return Vacation(
        entry.id,
        expand_groups(entry.units, groups),
        moment(entry.start),
        moment(entry.end),
        None if entry.preset is None else Settings(preset=entry.preset),
        entry.program,
    )
