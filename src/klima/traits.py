"""What one unit supports, and validation of commands against it.

Traits come from the driver (what the protocol can express), may be narrowed by what the unit
reports about itself (CN105's capability record), and by the user's config (setpoint limits).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from klima.errors import CommandError
from klima.state import Mode, UnitCommand


@dataclass(frozen=True, slots=True, kw_only=True)
class Traits:
    modes: tuple[Mode, ...]  # operating modes; "off" is always allowed and not listed here
    fan_modes: tuple[str, ...] = ()
    swing_modes: tuple[str, ...] = ()
    swing_horizontal_modes: tuple[str, ...] = ()
    min_temp: float = 16.0
    max_temp: float = 31.0
    temp_step: float = 1.0
    # Per-mode setpoint limits where a unit reports them (e.g. heat down to 10 °C).
    mode_limits: dict[Mode, tuple[float, float]] = field(default_factory=dict)
    remote_temperature: bool = False  # accepts an external room temperature natively

    def __post_init__(self) -> None:
        if Mode.OFF in self.modes:
            raise ValueError("Traits.modes lists operating modes; 'off' is implicit")
        if self.min_temp > self.max_temp or self.temp_step <= 0:
            raise ValueError(f"invalid setpoint range {self.min_temp}..{self.max_temp}")

    @property
    def hvac_modes(self) -> tuple[str, ...]:
        """The mode list Home Assistant shows, ``off`` first."""
        return (Mode.OFF.value, *(m.value for m in self.modes))

    def limits_for(self, mode: Mode | None) -> tuple[float, float]:
        if mode is not None and mode in self.mode_limits:
            return self.mode_limits[mode]
        return self.min_temp, self.max_temp

    @property
    def widest_limits(self) -> tuple[float, float]:
        """The setpoint range over all modes (Home Assistant takes one range per entity)."""
        ranges = [(self.min_temp, self.max_temp), *self.mode_limits.values()]
        return min(r[0] for r in ranges), max(r[1] for r in ranges)

    def narrowed(self, *, min_temp: float | None = None, max_temp: float | None = None) -> Traits:
        """These traits with the setpoint range tightened (never widened) by the user's config."""

        def clamp(limits: tuple[float, float]) -> tuple[float, float]:
            low = limits[0] if min_temp is None else max(limits[0], min_temp)
            high = limits[1] if max_temp is None else min(limits[1], max_temp)
            if low > high:
                raise ValueError(
                    f"setpoint limits {min_temp}..{max_temp} leave nothing of the unit's "
                    f"{limits[0]:g}..{limits[1]:g}"
                )
            return low, high

        low, high = clamp((self.min_temp, self.max_temp))
        per_mode = {mode: clamp(limits) for mode, limits in self.mode_limits.items()}
        return dataclasses.replace(self, min_temp=low, max_temp=high, mode_limits=per_mode)

    def validate(self, command: UnitCommand, current_mode: Mode | None = None) -> None:
        """Raise :class:`CommandError` naming the first field this unit cannot do."""
        cmd = command.normalized()
        if cmd.mode is not None and cmd.mode not in self.modes:
            raise CommandError(
                "mode", f"mode {cmd.mode.value!r} is not supported", list(self.hvac_modes)
            )
        self._check_choice("fan_mode", cmd.fan_mode, self.fan_modes)
        self._check_choice("swing_mode", cmd.swing_mode, self.swing_modes)
        self._check_choice(
            "swing_horizontal_mode", cmd.swing_horizontal_mode, self.swing_horizontal_modes
        )
        if cmd.target_temperature is not None:
            self._check_setpoint(cmd.target_temperature, cmd.mode or current_mode)

    def _check_setpoint(self, value: float, mode: Mode | None) -> None:
        if not math.isfinite(value):
            raise CommandError("target_temperature", "target_temperature must be a number")
        low, high = self.limits_for(mode)
        if not low <= value <= high:
            raise CommandError(
                "target_temperature",
                f"target_temperature {value:g} is outside {low:g}..{high:g} °C",
                [low, high],
            )
        # Steps count from zero, not from the low limit: a limit of 17.3 must not shift the
        # grid to 17.8, 18.3, … when the unit itself takes 17.5, 18.0, …
        steps = value / self.temp_step
        if abs(steps - round(steps)) > 1e-6:
            raise CommandError(
                "target_temperature",
                f"target_temperature {value:g} is not a multiple of the step {self.temp_step:g}",
                [self.temp_step],
            )

    @staticmethod
    def _check_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
        if value is None:
            return
        if not allowed:
            raise CommandError(name, f"this unit has no {name}", [])
        if value not in allowed:
            raise CommandError(name, f"{name} {value!r} is not supported", list(allowed))

    def to_json(self) -> dict[str, Any]:
        return {
            "modes": list(self.hvac_modes),
            "fan_modes": list(self.fan_modes),
            "swing_modes": list(self.swing_modes),
            "swing_horizontal_modes": list(self.swing_horizontal_modes),
            "min_temp": self.min_temp,
            "max_temp": self.max_temp,
            "mode_limits": {m.value: list(v) for m, v in self.mode_limits.items()},
            "temp_step": self.temp_step,
            "remote_temperature": self.remote_temperature,
        }
