"""Performance profiles: what one unit draws at each outdoor temperature and capacity.

A profile holds NEEP-style tables (capacity and input power at minimum / rated / maximum
compressor speed at a few outdoor temperatures) for heating and cooling. When only the nameplate
ratings are known, the tables are derived from them through OpenStudio-HPXML's NEEP regressions
for ductless variable-speed heat pumps (research: energy-and-tariffs.md §1.6, source [S2]).

Temperatures in tables are in °F because every public listing uses °F; the power model converts.
"""

from __future__ import annotations

import itertools
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

BTUH_PER_WATT = 3.412142  # research §1.1
# HSPF2 → HSPF for ductless units (ANSI/RESNET/ICC 301 Table 4.4.4.1(1), research §1.1 [S2][S3]).
DUCTLESS_HSPF2_PER_HSPF = 0.90
DUCTLESS_SEER2_PER_SEER = 1.00
# A listed COP may differ from capacity/power by this much: power is listed rounded to 0.01 kW.
_LISTED_COP_TOLERANCE = 0.05


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OperatingPoint(_Frozen):
    """One steady operating point: delivered capacity and the unit's total input power."""

    capacity_btuh: float = Field(gt=0)
    input_kw: float = Field(gt=0)
    listed_cop: float | None = Field(default=None, gt=0)

    @property
    def input_w(self) -> float:
        return self.input_kw * 1000.0

    @property
    def cop(self) -> float:
        return self.capacity_btuh / BTUH_PER_WATT / self.input_w

    @model_validator(mode="after")
    def _listed_cop_matches(self) -> Self:
        # Listings carry entry errors (research §1.5); a row whose COP disagrees with its own
        # capacity and power is refused rather than silently trusted.
        if self.listed_cop is not None:
            error = abs(self.cop - self.listed_cop) / self.listed_cop
            if error > _LISTED_COP_TOLERANCE:
                raise ValueError(
                    f"listed COP {self.listed_cop} disagrees with capacity/power ({self.cop:.2f})"
                )
        return self


class ConditionPoints(_Frozen):
    """The envelope at one outdoor temperature; ``rated`` is absent at 5 °F and colder in NEEP."""

    outdoor_f: float = Field(ge=-60, le=130)
    min: OperatingPoint
    rated: OperatingPoint | None = None
    max: OperatingPoint

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        levels = [p for p in (self.min, self.rated, self.max) if p is not None]
        for lower, upper in itertools.pairwise(levels):
            if lower.capacity_btuh > upper.capacity_btuh or lower.input_kw > upper.input_kw:
                raise ValueError(
                    f"at {self.outdoor_f} °F capacity and power must not fall from min to max"
                )
        return self


class HeatingRatings(_Frozen):
    """Nameplate heating data: rated capacity at 47 °F and HSPF or HSPF2 (ductless units)."""

    nominal_capacity_btuh: float = Field(gt=0)
    hspf: float | None = Field(default=None, gt=3, lt=25)
    hspf2: float | None = Field(default=None, gt=3, lt=25)

    @model_validator(mode="after")
    def _one_rating(self) -> Self:
        if (self.hspf is None) == (self.hspf2 is None):
            raise ValueError("give exactly one of hspf and hspf2")
        return self

    @property
    def hspf_region4(self) -> float:
        if self.hspf is not None:
            return self.hspf
        assert self.hspf2 is not None
        return self.hspf2 / DUCTLESS_HSPF2_PER_HSPF


class CoolingRatings(_Frozen):
    """Nameplate cooling data: rated capacity at 95 °F, SEER or SEER2, optionally EER or EER2."""

    nominal_capacity_btuh: float = Field(gt=0)
    seer: float | None = Field(default=None, gt=5, lt=50)
    seer2: float | None = Field(default=None, gt=5, lt=50)
    # EER2 is taken as EER: the M1 static-pressure change that lowers the "2" ratings concerns
    # ducted units, and the published ductless factor for SEER is 1.00 (research §1.1).
    eer: float | None = Field(default=None, gt=3, lt=40)
    eer2: float | None = Field(default=None, gt=3, lt=40)

    @model_validator(mode="after")
    def _one_rating(self) -> Self:
        if (self.seer is None) == (self.seer2 is None):
            raise ValueError("give exactly one of seer and seer2")
        if self.eer is not None and self.eer2 is not None:
            raise ValueError("give at most one of eer and eer2")
        return self

    @property
    def seer1(self) -> float:
        if self.seer is not None:
            return self.seer
        assert self.seer2 is not None
        return self.seer2 / DUCTLESS_SEER2_PER_SEER

    @property
    def eer_any(self) -> float | None:
        return self.eer if self.eer is not None else self.eer2


def _point(capacity_btuh: float, cop: float) -> OperatingPoint:
    return OperatingPoint(
        capacity_btuh=capacity_btuh, input_kw=capacity_btuh / BTUH_PER_WATT / cop / 1000
    )


def heating_points_from_ratings(ratings: HeatingRatings) -> tuple[ConditionPoints, ...]:
    """Min/max envelope at 47 and 5 °F from OpenStudio-HPXML's ductless regressions (§1.6 [S2])."""
    h = ratings.hspf_region4
    q_nom = ratings.nominal_capacity_btuh
    q_min_47 = q_nom * 0.252 / 0.812
    q_max_47 = q_nom / 0.812
    r5 = 0.0461 * h + 0.1594  # max-capacity retention at 5 °F
    cop_max_47 = 0.1914 * h - 1.822 * r5 + 1.364 * r5**2 - 0.07783 * r5 * h + 2.221
    cop_min_47 = cop_max_47 * (1.5907 - 0.01698 * h)
    return (
        ConditionPoints(
            outdoor_f=5,
            min=_point(0.611 * q_min_47, 0.538 * cop_min_47),
            max=_point(r5 * q_max_47, 0.671 * cop_max_47),
        ),
        ConditionPoints(
            outdoor_f=47, min=_point(q_min_47, cop_min_47), max=_point(q_max_47, cop_max_47)
        ),
    )


def cooling_points_from_ratings(ratings: CoolingRatings) -> tuple[ConditionPoints, ...]:
    """Min/max envelope at 82 and 95 °F from the ductless regressions (§1.6 [S2]).

    The source gives only the minimum capacity ratio (0.255) for cooling; the maximum at 95 °F is
    taken as the nominal capacity (AHRI's A test runs at full speed, §1.2) — an assumption. A
    measured EER, when given, replaces the regression's COP at that point.
    """
    seer = ratings.seer1
    q_nom = ratings.nominal_capacity_btuh
    cop_max_95_regression = 0.06635 * seer + 1.8707
    cop_min_95 = cop_max_95_regression * (0.01377 * seer + 1.13948)
    eer = ratings.eer_any
    cop_max_95 = eer / BTUH_PER_WATT if eer is not None else cop_max_95_regression
    q_min_95 = 0.255 * q_nom
    return (
        ConditionPoints(
            outdoor_f=82,
            min=_point(1.099 * q_min_95, 1.333 * cop_min_95),
            max=_point(1.033 * q_nom, 1.300 * cop_max_95),
        ),
        ConditionPoints(
            outdoor_f=95, min=_point(q_min_95, cop_min_95), max=_point(q_nom, cop_max_95)
        ),
    )


def _check_table(points: tuple[ConditionPoints, ...], what: str) -> None:
    temperatures = [p.outdoor_f for p in points]
    if temperatures != sorted(set(temperatures)):
        raise ValueError(f"{what} points must have distinct outdoor temperatures, coldest first")


class PerformanceProfile(_Frozen):
    """Everything the power model needs to know about one unit (or one outdoor unit)."""

    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    heating_points: tuple[ConditionPoints, ...] = ()
    heating_ratings: HeatingRatings | None = None
    cooling_points: tuple[ConditionPoints, ...] = ()
    cooling_ratings: CoolingRatings | None = None
    # Research §1.6 step 0: a few W when off; 15-40 W for the indoor fan alone. Calibrate.
    standby_w: float = Field(default=5.0, ge=0, le=200)
    fan_w: float = Field(default=25.0, ge=0, le=500)
    # Cycling degradation below minimum capacity; research §1.6 recommends 0.15 (0.1-0.25).
    cycling_cd: float = Field(default=0.15, ge=0, lt=1)
    # Base-pan heater (§1.3): its power and the outdoor temperature at or below which it runs.
    pan_heater_w: float = Field(default=0.0, ge=0, le=1000)
    pan_heater_on_at_or_below_f: float = 32.0
    # Compressor frequency range (Hz) for mapping a reported frequency to speed, if known.
    compressor_min_hz: float | None = Field(default=None, gt=0)
    compressor_max_hz: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.heating_points and self.heating_ratings is not None:
            raise ValueError("give heating_points or heating_ratings, not both")
        if self.cooling_points and self.cooling_ratings is not None:
            raise ValueError("give cooling_points or cooling_ratings, not both")
        _check_table(self.heating_points, "heating")
        _check_table(self.cooling_points, "cooling")
        if (self.compressor_min_hz is None) != (self.compressor_max_hz is None):
            raise ValueError("give both compressor_min_hz and compressor_max_hz, or neither")
        if (
            self.compressor_min_hz is not None
            and self.compressor_max_hz is not None
            and self.compressor_min_hz >= self.compressor_max_hz
        ):
            raise ValueError("compressor_min_hz must be below compressor_max_hz")
        return self

    def heating_table(self) -> tuple[ConditionPoints, ...]:
        """Heating envelope, coldest first; empty when the profile has no heating data."""
        if self.heating_ratings is not None:
            return heating_points_from_ratings(self.heating_ratings)
        return self.heating_points

    def cooling_table(self) -> tuple[ConditionPoints, ...]:
        """Cooling envelope, coldest first; empty when the profile has no cooling data."""
        if self.cooling_ratings is not None:
            return cooling_points_from_ratings(self.cooling_ratings)
        return self.cooling_points
