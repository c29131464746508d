"""From a desired :class:`~klima.state.UnitState` to a protocol's native values, and back.

Brand codecs describe each setting as a table from Klima's vocabulary (``"auto"``, ``"low"``,
``Mode.COOL`` …) to the protocol's raw value; these helpers do the lookups with one error style
(:class:`CommandError` naming the field and what is allowed), so the unit actor reports an
unsupported value the same way for every brand.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypeVar

from klima.errors import CommandError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from klima.state import UnitState

K = TypeVar("K")
V = TypeVar("V")


def choose(field: str, value: K | None, table: Mapping[K, V], *, default: K) -> V:
    """``table[value]`` (``default`` when ``value`` is None); CommandError when unsupported."""
    key = default if value is None else value
    try:
        return table[key]
    except KeyError:
        allowed = [str(k) for k in table]
        raise CommandError(field, f"{field} {key!s} is not supported", allowed) from None


def invert(table: Mapping[K, V]) -> dict[V, K]:
    """Raw value → name; the first name listed wins where several share a raw value."""
    out: dict[V, K] = {}
    for name, raw in table.items():
        out.setdefault(raw, name)
    return out


def setpoint(
    value: float | None, *, low: float, high: float, step: float = 1.0, default: float
) -> float:
    """The setpoint to send: ``value`` (``default`` if None) clamped to ``low..high`` and rounded
    to the protocol's step. Traits validation normally rejects out-of-range values first; the
    clamp only keeps a frame valid when traits were narrowed or bypassed.
    """
    chosen = default if value is None else value
    if not math.isfinite(chosen):
        raise CommandError("target_temperature", "target_temperature must be a number")
    stepped = round(chosen / step) * step
    return min(high, max(low, stepped))


def must_resend(field: str, desired: UnitState, previous: UnitState | None) -> bool:
    """Whether a separate, absolute (non-toggle) frame for ``field`` must go out with a state.

    It must when the unit's setting is unknown (``previous`` None), when the unit is being
    switched on (a change made while it was off was never sent), or when the value changed.
    Callers send nothing of the kind while the desired state is off.
    """
    if previous is None or not previous.power:
        return True
    return bool(getattr(desired, field) != getattr(previous, field))
