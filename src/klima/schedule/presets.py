"""Presets per unit, and turning what a layer asks for into a command the unit accepts.

A unit's presets are the built-in ones, changed by the shared ``[presets]`` and then by its own
``[units.presets]``. A preset's setpoint is clamped into the unit's range for the mode (the
frost preset asks for 8 °C; a unit whose heat mode stops at 16 °C gets 16 °C) and rounded to
the unit's step, so the engine never sends a command the safety gate must refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from klima.config_automation import DEFAULT_PRESETS, PresetConfig
from klima.schedule.model import Settings
from klima.state import Mode, UnitCommand

if TYPE_CHECKING:
    from collections.abc import Mapping

    from klima.state import UnitState
    from klima.traits import Traits


@dataclass(frozen=True)
class Preset:
    name: str
    settings: Settings
    limits: tuple[float, float] | None  # setpoint limits while this preset is in force


def unit_presets(
    shared: Mapping[str, PresetConfig], own: Mapping[str, PresetConfig]
) -> dict[str, Preset]:
    merged: dict[str, dict[str, object]] = {k: dict(v) for k, v in DEFAULT_PRESETS.items()}
    for table in (shared, own):
        for name, preset in table.items():
            merged.setdefault(name, {}).update(preset.model_dump(exclude_none=True))
    out = {}
    for name, values in merged.items():
        config = PresetConfig.model_validate(values)
        low, high = config.min_temp, config.max_temp
        limits = (
            None
            if low is None and high is None
            else (-100.0 if low is None else low, 100.0 if high is None else high)
        )
        settings = Settings(
            power=config.power,
            mode=config.mode,
            target_temperature=config.target_temperature,
            fan_mode=config.fan_mode,
        )
        out[name] = Preset(name, settings, limits)
    return out


def expand(settings: Settings, presets: Mapping[str, Preset]) -> Settings:
    """A preset's own settings, with any explicit fields laid over them."""
    if settings.preset is None:
        return settings
    base = presets[settings.preset].settings
    return Settings(
        power=settings.power if settings.power is not None else base.power,
        mode=settings.mode or base.mode,
        target_temperature=(
            settings.target_temperature
            if settings.target_temperature is not None
            else base.target_temperature
        ),
        fan_mode=settings.fan_mode or base.fan_mode,
        preset=settings.preset,
    )


def command_for(settings: Settings, state: UnitState, traits: Traits) -> UnitCommand:
    """The fields of ``settings`` that differ from ``state``, made acceptable to ``traits``.

    Asking for a mode means running, unless ``power`` says otherwise; a setpoint or fan alone
    (e.g. the eco or away preset) changes what the unit runs at, not whether it runs: away must
    not start a unit somebody switched off. Fields the unit does not have (a fan mode it lacks,
    a mode it cannot run) are left out.
    """
    mode = Mode(settings.mode) if settings.mode in {m.value for m in Mode} else None
    if mode is not None and mode.value not in traits.hvac_modes:
        mode = None
    power = settings.power
    if power is None and mode is not None:
        power = True
    if power is False:
        # Off is off: the other fields wait for the next time the unit runs. An off unit with
        # a start waiting in the safety gate gets the off too: it cancels that start.
        waiting = state.lockout_until is not None
        return UnitCommand(power=False) if state.power or waiting else UnitCommand()
    effective_mode = mode or state.mode
    target = settings.target_temperature
    if target is not None:
        low, high = traits.limits_for(effective_mode)
        step = traits.temp_step
        target = min(max(round(target / step) * step, low), high)
    fan = settings.fan_mode if settings.fan_mode in traits.fan_modes else None
    return UnitCommand(
        power=True if power and not state.power else None,
        mode=mode if mode is not None and mode != state.mode else None,
        target_temperature=(
            target if target is not None and target != state.target_temperature else None
        ),
        fan_mode=fan if fan is not None and fan != state.fan_mode else None,
    )
