"""What the energy recorder stores and returns, and the integer units it stores them in.

Energy is kept as integer mWh and money as integer micro-units (1e-6 of the currency), so sums
in SQL are exact and rows stay small. The house (the sum of all units) is ``unit_id=None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Literal

from klima.energy.model import EnergySource
from klima.persistence.energy_schema import SOURCE_CODES

if TYPE_CHECKING:
    from collections.abc import Mapping

RollupKind = Literal["hour", "day", "period"]
EnergyBucketKind = Literal["minute", "hour", "day", "month"]

ROLLUP_KINDS: tuple[RollupKind, ...] = ("hour", "day", "period")
MWH_PER_KWH = 1_000_000
MICROS = 1_000_000
SOURCES_BY_CODE = {code: EnergySource(name) for name, code in SOURCE_CODES.items()}


def kwh_to_mwh(kwh: float) -> int:
    return round(kwh * MWH_PER_KWH)


def mwh_to_kwh(mwh: int) -> float:
    return mwh / MWH_PER_KWH


def cost_to_micros(cost: Decimal) -> int:
    return int((cost * MICROS).to_integral_value(ROUND_HALF_EVEN))


def micros_to_cost(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


@dataclass(frozen=True, slots=True)
class EnergyTotals:
    metered_kwh: float = 0.0
    reported_kwh: float = 0.0
    estimated_kwh: float = 0.0
    cost: Decimal = Decimal(0)

    @property
    def kwh(self) -> float:
        return self.metered_kwh + self.reported_kwh + self.estimated_kwh

    def add(self, kwh: float, source: EnergySource, cost: Decimal) -> EnergyTotals:
        return EnergyTotals(
            metered_kwh=self.metered_kwh + (kwh if source is EnergySource.METERED else 0.0),
            reported_kwh=self.reported_kwh + (kwh if source is EnergySource.REPORTED else 0.0),
            estimated_kwh=self.estimated_kwh + (kwh if source is EnergySource.ESTIMATED else 0.0),
            cost=self.cost + cost,
        )

    def __add__(self, other: EnergyTotals) -> EnergyTotals:
        return EnergyTotals(
            metered_kwh=self.metered_kwh + other.metered_kwh,
            reported_kwh=self.reported_kwh + other.reported_kwh,
            estimated_kwh=self.estimated_kwh + other.estimated_kwh,
            cost=self.cost + other.cost,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kwh": self.kwh,
            "metered_kwh": self.metered_kwh,
            "reported_kwh": self.reported_kwh,
            "estimated_kwh": self.estimated_kwh,
            "cost": str(self.cost),
        }

    @classmethod
    def from_stored(cls, metered: int, reported: int, estimated: int, micros: int) -> EnergyTotals:
        """From stored integers (PostgreSQL's SUM of BIGINT is NUMERIC, hence the int())."""
        return cls(
            mwh_to_kwh(int(metered)),
            mwh_to_kwh(int(reported)),
            mwh_to_kwh(int(estimated)),
            micros_to_cost(int(micros)),
        )


@dataclass(frozen=True, slots=True)
class EnergySampleRow:
    ts: datetime  # aware; stored as the start of its UTC minute
    unit_id: str
    kwh: float
    source: EnergySource


@dataclass(frozen=True, slots=True)
class RollupRow:
    """Absolute running totals of one bucket (upserted: the newest wins)."""

    kind: RollupKind
    key: int  # hour: UTC epoch seconds; day/period: YYYYMMDD local
    unit_id: str | None  # None = house
    totals: EnergyTotals
    end_key: int | None = None  # period only: YYYYMMDD of the (exclusive) end date


@dataclass(frozen=True, slots=True)
class LifetimeRow:
    unit_id: str | None
    kwh: float
    cost: Decimal
    state: dict[str, Any]  # JSON-able counter state


@dataclass(frozen=True, slots=True)
class EnergyBucket:
    start: datetime  # aware: UTC for minute/hour, local midnight in the asked zone for day/month
    end: datetime
    totals: EnergyTotals  # cost is 0 for minute buckets: samples carry no cost
    has_cost: bool


# --- rows as the writer stores them (converted on the caller's thread, errors raised there) ---


@dataclass(frozen=True, slots=True)
class SampleWrite:
    ts: int  # UTC epoch seconds of the minute start
    unit_id: str
    mwh: int
    source: int


@dataclass(frozen=True, slots=True)
class RollupWrite:
    kind: RollupKind
    key: int
    unit_id: str | None
    end_key: int | None
    values: tuple[int, int, int, int]  # metered, reported, estimated mWh; cost micros


@dataclass(frozen=True, slots=True)
class LifetimeWrite:
    unit_id: str | None
    mwh: int
    cost_micros: int
    state: str  # JSON text


def prepare_sample(row: EnergySampleRow) -> SampleWrite:
    if row.ts.tzinfo is None:
        raise ValueError(f"naive datetime {row.ts!r}: pass an aware datetime (UTC)")
    epoch = int(row.ts.astimezone(UTC).timestamp())
    return SampleWrite(
        epoch - epoch % 60, row.unit_id, kwh_to_mwh(row.kwh), SOURCE_CODES[row.source]
    )


def prepare_rollup(row: RollupRow) -> RollupWrite:
    if row.kind not in ROLLUP_KINDS:
        raise ValueError(f"unknown rollup kind {row.kind!r}; expected one of {ROLLUP_KINDS}")
    if row.kind == "period" and row.end_key is None:
        raise ValueError(f"period rollup {row.key} needs its end_key")
    totals = row.totals
    values = (
        kwh_to_mwh(totals.metered_kwh),
        kwh_to_mwh(totals.reported_kwh),
        kwh_to_mwh(totals.estimated_kwh),
        cost_to_micros(totals.cost),
    )
    return RollupWrite(row.kind, row.key, row.unit_id, row.end_key, values)


def prepare_lifetime(row: LifetimeRow) -> LifetimeWrite:
    state = json.dumps(row.state, separators=(",", ":"), ensure_ascii=False)
    return LifetimeWrite(row.unit_id, kwh_to_mwh(row.kwh), cost_to_micros(row.cost), state)


def lifetime_from_stored(unit_id: str | None, mwh: int, micros: int, state: str) -> LifetimeRow:
    loaded: Mapping[str, Any] = json.loads(state)
    return LifetimeRow(unit_id, mwh_to_kwh(mwh), micros_to_cost(micros), dict(loaded))
