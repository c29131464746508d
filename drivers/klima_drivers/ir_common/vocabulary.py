"""Klima's shared names for fan and swing settings, and each protocol's native codes for them.

Every IR codec speaks one vocabulary (the stdAc names of IRremoteESP8266, in snake case) so MQTT
and Home Assistant see the same words whatever the brand; a :class:`NameMap` ties one protocol's
native codes to the subset of names it can express.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klima.errors import CommandError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from klima.state import UnitState

FAN_NAMES = ("auto", "quiet", "min", "low", "medium", "medium_high", "high", "max")
SWING_NAMES = ("off", "auto", "highest", "high", "upper_middle", "middle", "low", "lowest")
SWING_HORIZONTAL_NAMES = ("off", "auto", "left_max", "left", "middle", "right", "right_max", "wide")
_KNOWN = {
    "fan_mode": FAN_NAMES,
    "swing_mode": SWING_NAMES,
    "swing_horizontal_mode": SWING_HORIZONTAL_NAMES,
}


class NameMap:
    """One protocol's native codes for one setting (``fan_mode``, ``swing_mode`` …), both ways.

    ``names`` maps each name the protocol expresses to its code (the order is the order the
    traits list). ``aliases`` are names accepted when encoding that decode as another name
    (e.g. Mitsubishi's horizontal "off" is its "middle" vane code).
    """

    def __init__(
        self, field: str, names: Mapping[str, int], *, aliases: Mapping[str, int] | None = None
    ) -> None:
        unknown = [n for n in [*names, *(aliases or {})] if n not in _KNOWN[field]]
        if unknown:
            raise ValueError(f"{field}: {unknown} are not in Klima's vocabulary")
        if len(set(names.values())) != len(names):
            raise ValueError(f"{field}: two names share a code; decoding would be ambiguous")
        self.field = field
        self._codes = {**(aliases or {}), **names}
        self._names = {code: name for name, code in names.items()}
        self.names: tuple[str, ...] = tuple(names)

    def code(self, name: str) -> int:
        """The native code for ``name``; :class:`CommandError` if the protocol cannot say it."""
        try:
            return self._codes[name]
        except KeyError:
            raise CommandError(
                self.field, f"{self.field} {name!r} is not supported", list(self.names)
            ) from None

    def name(self, code: int) -> str | None:
        """The name of a native code, or ``None`` for a code outside the vocabulary."""
        return self._names.get(code)


def toggle_due(desired: UnitState, previous: UnitState | None, field: str) -> bool:
    """Whether a one-shot toggle for ``field`` must follow the state frame (ir.md §B12).

    Only when the unit ends up on, the previous value is known and it differs: with an unknown
    previous state a toggle could just as well flip the setting the wrong way, and toggles sent
    to a unit that is (or stays) off are lost or, worse, acted on later.
    """
    if previous is None or not desired.power:
        return False
    before, after = getattr(previous, field), getattr(desired, field)
    return before is not None and after is not None and before != after
