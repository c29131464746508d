"""The performance envelope at one outdoor temperature, interpolated from a profile's table.

For each of min, rated and max, capacity and power are interpolated linearly between the two table
temperatures that bracket T (research §1.6 step 1). Beyond the table's ends the end segment is
extended by at most ``EXTRAPOLATION_LIMIT_F`` and then held, so a sensor reading of -40 °F does
not produce a negative capacity.

NEEP lists no rated point at 5 °F and colder. Where only one bracketing temperature has a rated
point, the other gets a virtual one on its min→max line at the same relative capacity, which keeps
the envelope continuous and exact at every listed point.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from klima.energy.model.profile import ConditionPoints, OperatingPoint

EXTRAPOLATION_LIMIT_F = 10.0


@dataclass(frozen=True, slots=True)
class Level:
    capacity_btuh: float
    input_w: float


@dataclass(frozen=True, slots=True)
class Envelope:
    """Min / (rated) / max steady operation at one outdoor temperature."""

    min: Level
    rated: Level | None
    max: Level

    def knots(self) -> tuple[Level, ...]:
        """Points of the piecewise-linear power-versus-capacity curve, smallest first."""
        middle = (self.rated,) if self.rated is not None else ()
        return (self.min, *middle, self.max)


def _level(point: OperatingPoint) -> Level:
    return Level(point.capacity_btuh, point.input_w)


def _blend(a: Level, b: Level, weight_b: float) -> Level:
    return Level(
        a.capacity_btuh + (b.capacity_btuh - a.capacity_btuh) * weight_b,
        a.input_w + (b.input_w - a.input_w) * weight_b,
    )


def _envelope(points: ConditionPoints) -> Envelope:
    rated = _level(points.rated) if points.rated is not None else None
    return Envelope(_level(points.min), rated, _level(points.max))


def _virtual_rated(envelope: Envelope, like: Envelope) -> Level:
    """A rated point on ``envelope``'s min→max line at the relative capacity ``like`` has."""
    assert like.rated is not None
    span = like.max.capacity_btuh - like.min.capacity_btuh
    share = (like.rated.capacity_btuh - like.min.capacity_btuh) / span if span > 0 else 0.0
    return _blend(envelope.min, envelope.max, share)


def _positive(level: Level) -> Level:
    # Extrapolation may reach zero on a steep segment; a unit never delivers or draws nothing.
    return Level(max(level.capacity_btuh, 1.0), max(level.input_w, 1.0))


def envelope_at(table: tuple[ConditionPoints, ...], outdoor_f: float) -> Envelope:
    """Interpolate ``table`` (coldest first, non-empty) at ``outdoor_f``."""
    if len(table) == 1:
        return _envelope(table[0])
    if outdoor_f <= table[0].outdoor_f:
        lower, upper = table[0], table[1]
        target = max(outdoor_f, table[0].outdoor_f - EXTRAPOLATION_LIMIT_F)
    elif outdoor_f >= table[-1].outdoor_f:
        lower, upper = table[-2], table[-1]
        target = min(outdoor_f, table[-1].outdoor_f + EXTRAPOLATION_LIMIT_F)
    else:
        index = next(i for i, p in enumerate(table) if p.outdoor_f > outdoor_f)
        lower, upper = table[index - 1], table[index]
        target = outdoor_f
    weight = (target - lower.outdoor_f) / (upper.outdoor_f - lower.outdoor_f)
    low, high = _envelope(lower), _envelope(upper)
    rated: Level | None = None
    if low.rated is not None and high.rated is not None:
        rated = _blend(low.rated, high.rated, weight)
    elif low.rated is not None and weight < 1.0:
        rated = _blend(low.rated, _virtual_rated(high, low), weight)
    elif high.rated is not None and weight > 0.0:
        rated = _blend(_virtual_rated(low, high), high.rated, weight)
    return Envelope(
        _positive(_blend(low.min, high.min, weight)),
        _positive(rated) if rated is not None else None,
        _positive(_blend(low.max, high.max, weight)),
    )


def power_at_capacity(envelope: Envelope, capacity_btuh: float) -> float:
    """Input W for a steady capacity within [min, max], piecewise-linear through the knots."""
    knots = envelope.knots()
    capacity = min(max(capacity_btuh, envelope.min.capacity_btuh), envelope.max.capacity_btuh)
    for left, right in itertools.pairwise(knots):
        if capacity <= right.capacity_btuh:
            span = right.capacity_btuh - left.capacity_btuh
            if span <= 0:
                return right.input_w if capacity >= right.capacity_btuh else left.input_w
            share = (capacity - left.capacity_btuh) / span
            return left.input_w + (right.input_w - left.input_w) * share
    return envelope.max.input_w
