"""Turning the energy config into working parts: time zone, tariff, performance profiles.

Everything here is checked by ``klima check-config`` as well as at start-up, so a broken tariff
file or a misspelt profile is a config error with the file's name, not a crash at midnight.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from klima.config_energy import is_profile_file
from klima.energy.model import PerformanceProfile
from klima.energy.tariffs import (
    EnergyPeriod,
    Tariff,
    TariffError,
    Tier,
    load_tariff,
    read_prices_csv,
)
from klima.errors import ConfigError

if TYPE_CHECKING:
    from klima.config import KlimaConfig, UnitConfig

_LOCALTIME = Path("/etc/localtime")


def local_zone() -> ZoneInfo:
    """The system's time zone: $TZ, else /etc/localtime, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with _LOCALTIME.open("rb") as handle:
            return ZoneInfo.from_file(handle, key=_zone_key(_LOCALTIME))
    except (OSError, ValueError):
        return ZoneInfo("UTC")


def _zone_key(path: Path) -> str | None:
    """``Europe/Berlin`` from a /etc/localtime symlink into zoneinfo (for readable output)."""
    try:
        target = str(path.resolve())
    except OSError:
        return None
    marker = "/zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def energy_zone(config: KlimaConfig) -> ZoneInfo:
    return ZoneInfo(config.energy.timezone) if config.energy.timezone else local_zone()


def load_pricing_tariff(config: KlimaConfig) -> Tariff | None:
    """The tariff that prices energy: the tariff file, a prices CSV, or ``None`` (no costs).

    With only ``price_topic`` the tariff is a placeholder in the configured currency; every
    interval then takes the live price.
    """
    energy = config.energy
    try:
        if energy.tariff is not None:
            tariff = load_tariff(energy.tariff)
            if energy.currency and energy.currency != tariff.currency:
                raise ConfigError(
                    f"energy.currency {energy.currency} differs from the tariff's "
                    f"{tariff.currency} ({energy.tariff})"
                )
            return tariff
        if energy.prices is not None:
            assert energy.currency is not None  # checked by EnergyConfig
            return Tariff(
                name=energy.prices.name,
                currency=energy.currency,
                prices=read_prices_csv(energy.prices, energy_zone(config)),
            )
    except TariffError as exc:
        raise ConfigError(f"energy tariff: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"energy tariff: cannot read {exc.filename}: {exc.strerror}") from None
    if energy.price_topic is not None:
        assert energy.currency is not None
        return Tariff(
            name="live price",
            currency=energy.currency,
            periods=(EnergyPeriod("live", (Tier(Decimal(0)),)),),
        )
    return None


def load_unit_profile(unit: UnitConfig) -> PerformanceProfile | None:
    """The unit's performance data from a shipped profile, a profile file, or its ratings."""
    settings = unit.energy
    if settings.profile is not None:
        return _named_or_file_profile(settings.profile)
    if settings.heating is None and settings.cooling is None:
        return None
    try:
        return PerformanceProfile(
            name=f"{unit.id} ratings", heating_ratings=settings.heating,
            cooling_ratings=settings.cooling,
        )  # fmt: skip
    except ValidationError as exc:
        raise ConfigError(f"unit {unit.id!r}: energy ratings: {exc.errors()[0]['msg']}") from None


def _named_or_file_profile(name: str) -> PerformanceProfile:
    if not is_profile_file(name):
        # Shipped with the drivers; imported here so the core never depends on driver data.
        from klima_drivers.profiles import load_profile  # noqa: PLC0415

        return load_profile(name)
    path = Path(name).expanduser()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return PerformanceProfile.model_validate(raw)
    except OSError as exc:
        raise ConfigError(f"performance profile {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"performance profile {path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"performance profile {path}: {exc.errors()[0]['msg']}") from None


@dataclass(frozen=True)
class EnergySetup:
    zone: ZoneInfo
    tariff: Tariff | None
    profiles: dict[str, PerformanceProfile | None]


def load_energy(config: KlimaConfig) -> EnergySetup:
    """Load everything the energy service needs; :class:`ConfigError` lists every problem."""
    problems: list[str] = []
    tariff = None
    try:
        tariff = load_pricing_tariff(config)
    except ConfigError as exc:
        problems.append(str(exc))
    profiles: dict[str, PerformanceProfile | None] = {}
    for unit in config.units:
        try:
            profiles[unit.id] = load_unit_profile(unit)
        except ConfigError as exc:
            problems.append(f"unit {unit.id!r}: {exc}".replace("\n", " "))
    if problems:
        raise ConfigError(f"energy: {len(problems)} error(s)", problems)
    return EnergySetup(energy_zone(config), tariff, profiles)
