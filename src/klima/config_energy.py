"""The ``[energy]`` and ``[units.energy]`` config sections: tariffs, meters, performance data.

Kept apart from :mod:`klima.config` so the energy knobs are read in one place; the tariff and
profile files themselves are loaded (and checked) by :func:`klima.energy.setup.load_energy`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from klima.energy.model.profile import CoolingRatings, HeatingRatings
from klima.strict_model import StrictModel, ZoneName

_NO_WILDCARDS = r"^[^+#]+$"
_CURRENCY = r"^[A-Z]{3}$"


def is_profile_file(profile: str) -> bool:
    """A profile given as a file path rather than the name of a shipped profile."""
    return "/" in profile or profile.endswith(".toml")


class MeterConfig(StrictModel):
    """An external meter for one unit: a smart plug or CT clamp publishing on MQTT."""

    topic: Annotated[str, Field(pattern=_NO_WILDCARDS)] = Field(
        description="MQTT topic the meter publishes on (no wildcards)."
    )
    power_path: str | None = Field(
        None,
        description='Dotted JSON path to the power in W, e.g. "apower" or "ENERGY.Power". '
        "With neither path set the whole payload is the power.",
    )
    energy_path: str | None = Field(
        None,
        description='Dotted JSON path to a cumulative energy counter, e.g. "aenergy.total" '
        "or ENERGY.Total. Preferred over integrating power: it covers gaps.",
    )
    energy_unit: Literal["kWh", "Wh"] = Field("kWh", description="Unit of the energy counter.")
    stale_after: Annotated[float, Field(ge=10, le=86400)] = Field(
        300.0, description="Seconds after which an unrefreshed reading is no longer trusted."
    )


class UnitEnergyConfig(StrictModel):
    """Where one unit's energy figures come from (most trusted first: meter, unit, model)."""

    enabled: bool = Field(default=True, description="Record and publish this unit's energy.")
    profile: str | None = Field(
        None,
        description="Performance profile: the name of a shipped one (klima profiles) "
        "or the path of a TOML profile file.",
    )
    heating: HeatingRatings | None = Field(
        None, description="Nameplate heating ratings, used when no profile is set."
    )
    cooling: CoolingRatings | None = Field(
        None, description="Nameplate cooling ratings, used when no profile is set."
    )
    meter: MeterConfig | None = None
    use_reported: bool = Field(
        default=True,
        description="Trust the power and energy the unit itself reports (e.g. CN105).",
    )
    max_power_w: Annotated[float, Field(gt=0, le=50_000)] = Field(
        10_000.0,
        description="Most the unit (or its whole outdoor unit) can draw: a counter jump "
        "beyond it is a reset, not energy.",
    )
    outdoor_unit_shared_with: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]] = (
        Field(
            default_factory=list,
            description="Multi-split: this unit's meter or reported power covers the whole "
            "outdoor unit, which also serves these units; it is split between them.",
        )
    )
    split: Literal["estimate", "equal"] = Field(
        "estimate",
        description="How a shared outdoor unit's energy is split: in proportion to each "
        "unit's model estimate, or equally between the units that are running.",
    )

    @model_validator(mode="after")
    def _profile_or_ratings(self) -> UnitEnergyConfig:
        if self.profile is not None and (self.heating or self.cooling):
            raise ValueError("set either profile or heating/cooling ratings, not both")
        return self


class EnergyConfig(StrictModel):
    """Tariff, time zone, recording and the outdoor temperature the model needs."""

    tariff: Path | None = Field(
        None, description="Tariff file: an OpenEI URDB rate (.json) or a native TOML tariff."
    )
    prices: Path | None = Field(
        None, description="Dynamic prices: a CSV of start,price rows (price per kWh)."
    )
    price_topic: Annotated[str, Field(pattern=_NO_WILDCARDS)] | None = Field(
        None, description="MQTT topic with the current price per kWh (overrides the tariff)."
    )
    price_json_path: str | None = None
    currency: Annotated[str, Field(pattern=_CURRENCY)] | None = Field(
        None, description="ISO 4217 code; needed with prices or price_topic and no tariff."
    )
    timezone: ZoneName | None = Field(
        None, description="IANA zone for days and billing periods; defaults to the system's."
    )
    billing_day: Annotated[int, Field(ge=1, le=28)] = Field(
        1, description="Day of the month the meter is read (1 = calendar months)."
    )
    commit_interval: Annotated[float, Field(ge=5, le=3600)] = Field(
        300.0,
        description="Seconds energy rows may wait in memory before a commit (SD-card wear: "
        "8.8 MiB/day at 300 s, 33.5 at 60 s); they also ride along with any earlier commit. "
        "A crash loses at most this much of estimated energy; counters catch up.",
    )
    sample_retention_days: Annotated[int, Field(ge=0, le=36500)] = Field(
        90, description="Days of per-minute samples kept (0 = forever)."
    )
    hourly_retention_days: Annotated[int, Field(ge=0, le=36500)] = Field(
        0, description="Days of hourly rollups kept (0 = forever)."
    )
    outdoor_temperature_topic: Annotated[str, Field(pattern=_NO_WILDCARDS)] | None = Field(
        None, description="MQTT topic of an outdoor temperature sensor (°C)."
    )
    outdoor_temperature_json_path: str | None = None
    outdoor_temperature_c: Annotated[float, Field(ge=-50, le=60)] | None = Field(
        None,
        description="Outdoor temperature to assume when neither the unit nor a sensor tells; "
        "unset: the rating conditions (8.3 °C heating, 35 °C cooling).",
    )

    @model_validator(mode="after")
    def _priced_consistently(self) -> EnergyConfig:
        if self.tariff is not None and self.prices is not None:
            raise ValueError("set tariff or prices, not both (a dynamic tariff is a prices file)")
        if (self.prices or self.price_topic) and not self.tariff and not self.currency:
            raise ValueError('prices and price_topic need a currency (e.g. currency = "GBP")')
        return self
