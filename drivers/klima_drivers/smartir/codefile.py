"""Loading a SmartIR climate code file (smartir.md §C1) into traits and an index of codes.

A code file is untrusted input from the user's disk: every problem becomes a
:class:`SmartIrFileError` (a :class:`~klima.errors.ConfigError`) naming the file and the key
path, never a bare ``KeyError``/``JSONDecodeError`` that could take the daemon down.
Problems that leave the file usable (an unknown mode, a broken leaf code, missing combinations)
are collected in :attr:`CodeFile.notes` and logged once at load.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from klima.errors import CommandError
from klima.state import Mode
from klima.traits import Traits
from klima_drivers.smartir.codes import (
    Code,
    Level,
    ModeTree,
    SmartIrFileError,
    lookup_temperature,
    parse_leaf,
    parse_levels,
    parse_mode_tree,
    temperature_key,
)

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

# SmartIR's operation modes that Home Assistant (and so Klima) knows; "auto" is the unit's own
# automatic mode, which Klima calls heat_cool. Anything else ("ion", "fan", "ai") is dropped,
# as SmartIR itself drops it (smartir.md §C1).
MODE_NAMES: dict[str, Mode] = {
    "heat": Mode.HEAT,
    "cool": Mode.COOL,
    "heat_cool": Mode.HEAT_COOL,
    "auto": Mode.HEAT_COOL,
    "dry": Mode.DRY,
    "fan_only": Mode.FAN_ONLY,
}
MAX_FILE_BYTES = 32 * 1024 * 1024  # the largest corpus file is a few MB; refuse absurd input
# Setpoints above this are Fahrenheit files (61..86 in the corpus); Klima works in °C only.
MAX_CELSIUS_SETPOINT = 40.0
_MISSING_EXAMPLES = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeFile:
    """One validated code file."""

    path: Path
    manufacturer: str
    models: tuple[str, ...]
    min_temp: float
    max_temp: float
    temp_step: float
    mode_keys: dict[Mode, str]  # Klima mode → the file's key for it, in the file's order
    fans: tuple[Level, ...]
    swings: tuple[Level, ...]  # empty: the file has no swing level
    off: Code
    on: Code | None
    tree: dict[Mode, ModeTree]
    notes: tuple[str, ...]  # what was skipped or is missing, for the log
    traits: Traits

    @property
    def has_swing(self) -> bool:
        return bool(self.swings)

    def code_for(self, mode: Mode, fan: str, swing: str | None, celsius: float) -> Code:
        """The code for one combination; :class:`CommandError` names the first missing key."""
        code, field, key_path = self.find(mode, fan, swing, celsius)
        if code is None:
            raise CommandError(field, f"{self.path}: no code for {key_path} in the SmartIR file")
        if code.problem is not None:
            raise CommandError(
                None, f"{self.path}: {key_path}: the code cannot be sent: {code.problem}"
            )
        return code

    def find(
        self, mode: Mode, fan: str, swing: str | None, celsius: float
    ) -> tuple[Code | None, str, str]:
        """The code, or ``None`` with the field and key path where the lookup stopped.

        A mode, fan or swing name the file does not offer at all is a :class:`CommandError`.
        """
        mode_key = self.mode_keys.get(mode)
        if mode_key is None:
            raise CommandError(
                "mode",
                f"{self.path}: no commands for mode {mode.value!r}",
                list(self.traits.hvac_modes),
            )
        key_path = f"commands.{mode_key}.{self._level(self.fans, fan, 'fan_mode').name}"
        by_swing = self.tree[mode].get(fan)
        if by_swing is None:
            return None, "fan_mode", key_path
        if self.swings:
            key_path += f".{self._level(self.swings, swing or '', 'swing_mode').name}"
        temperatures = by_swing.get(swing if self.swings else None)
        if temperatures is None:
            return None, "swing_mode", key_path
        key_path += f".{temperature_key(celsius)}"
        return lookup_temperature(temperatures, celsius), "target_temperature", key_path

    def _level(self, levels: tuple[Level, ...], trait: str, field: str) -> Level:
        for level in levels:
            if level.trait == trait:
                return level
        raise CommandError(
            field, f"{field} {trait!r} is not supported", [level.trait for level in levels]
        )


def load_code_file(path: Path) -> CodeFile:
    """Read and validate ``path``; raises :class:`SmartIrFileError` when it cannot be used."""
    data = _read_json(path)
    controller = data.get("supportedController")
    if controller is None or str(controller).lower() != "broadlink":
        raise SmartIrFileError(
            path,
            "supportedController",
            f"is {controller!r}; Klima sends SmartIR codes through a Broadlink blaster and "
            'needs a file made for "Broadlink"',
        )
    encoding = data.get("commandsEncoding")
    if encoding is None or str(encoding).lower() != "base64":
        raise SmartIrFileError(
            path,
            "commandsEncoding",
            f'is {encoding!r}; only "Base64" codes (Broadlink packets) are supported',
        )
    min_temp = _number(path, data, "minTemperature")
    max_temp = _number(path, data, "maxTemperature")
    step = _number(path, data, "precision", default=1.0)
    if min_temp > max_temp:
        raise SmartIrFileError(
            path, "minTemperature", f"{min_temp:g} is above maxTemperature {max_temp:g}"
        )
    if max_temp > MAX_CELSIUS_SETPOINT:
        raise SmartIrFileError(
            path,
            "maxTemperature",
            f"{max_temp:g} looks like a Fahrenheit file; Klima works in °C only",
        )
    if step <= 0:
        raise SmartIrFileError(path, "precision", f"{step:g} must be positive")

    notes: list[str] = []
    mode_names = _mode_names(path, data.get("operationModes"), notes)
    fans = parse_levels(path, "fanModes", data.get("fanModes"), required=True)
    swings = parse_levels(path, "swingModes", data.get("swingModes"), required=False)
    commands = data.get("commands")
    if not isinstance(commands, dict):
        raise SmartIrFileError(path, "commands", "missing, or not an object")
    if "off" not in commands:
        raise SmartIrFileError(path, "commands.off", "missing; a unit must be able to turn off")
    off = _must_work(path, parse_leaf(path, "commands.off", commands["off"]))
    on = None
    if "on" in commands:
        on = _must_work(path, parse_leaf(path, "commands.on", commands["on"]))

    mode_keys: dict[Mode, str] = {}
    tree: dict[Mode, ModeTree] = {}
    lowered = {str(key).lower(): key for key in commands}
    for name, mode in mode_names:
        key = name if name in commands else lowered.get(name.lower())
        if key is None:
            notes.append(f"operationModes lists {name!r} but commands.{name} is missing; dropped")
            continue
        mode_keys[mode] = key
        tree[mode] = parse_mode_tree(
            path, key, commands[key], fans=fans, swings=swings, notes=notes
        )
    if not mode_keys:
        raise SmartIrFileError(path, "operationModes", "no mode Klima can use has commands")

    manufacturer = data.get("manufacturer")
    models = data.get("supportedModels")
    code_file = CodeFile(
        path=path,
        manufacturer=manufacturer if isinstance(manufacturer, str) else "",
        models=tuple(m for m in models if isinstance(m, str)) if isinstance(models, list) else (),
        min_temp=min_temp,
        max_temp=max_temp,
        temp_step=step,
        mode_keys=mode_keys,
        fans=fans,
        swings=swings,
        off=off,
        on=on,
        tree=tree,
        notes=(),
        traits=_traits(
            mode_keys=mode_keys,
            fans=fans,
            swings=swings,
            tree=tree,
            min_temp=min_temp,
            max_temp=max_temp,
            step=step,
        ),
    )
    notes.extend(_problems(code_file))
    for note in notes:
        log.warning("SmartIR code file %s: %s", path, note)
    return replace(code_file, notes=tuple(notes))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SmartIrFileError(path, None, f"{size} bytes is too large for a code file")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SmartIrFileError(path, None, "file not found") from None
    except OSError as exc:
        raise SmartIrFileError(path, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SmartIrFileError(path, None, "not UTF-8 text") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise SmartIrFileError(
            path, None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise SmartIrFileError(path, None, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SmartIrFileError(path, None, "expected a JSON object at the top level")
    return data


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _number(path: Path, data: dict[str, Any], key: str, default: float | None = None) -> float:
    value = data.get(key, default)
    if value is None:
        raise SmartIrFileError(path, key, "missing")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SmartIrFileError(path, key, f"expected a number, found {value!r}")
    return float(value)


def _mode_names(path: Path, value: object, notes: list[str]) -> list[tuple[str, Mode]]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SmartIrFileError(path, "operationModes", "missing, or not a list of mode names")
    chosen: list[tuple[str, Mode]] = []
    for name in value:
        mode = MODE_NAMES.get(name.lower())
        if mode is None:
            notes.append(f"operationModes: {name!r} is not a climate mode Klima knows; ignored")
        elif any(mode is taken for _, taken in chosen):
            # "auto" and "heat_cool" are one Klima mode; the first one listed wins.
            notes.append(f"operationModes: {name!r} is {mode.value} again; ignored")
        else:
            chosen.append((name, mode))
    return chosen


def _must_work(path: Path, code: Code) -> Code:
    if code.problem is not None:
        raise SmartIrFileError(path, code.key_path, code.problem)
    return code


def _traits(
    *,
    mode_keys: dict[Mode, str],
    fans: tuple[Level, ...],
    swings: tuple[Level, ...],
    tree: dict[Mode, ModeTree],
    min_temp: float,
    max_temp: float,
    step: float,
) -> Traits:
    # A mode whose codes cover less than the file's declared range (a dry mode learned only
    # from 20 °C, say) gets its own limits, so the daemon refuses what the file cannot send.
    mode_limits: dict[Mode, tuple[float, float]] = {}
    for mode, by_fan in tree.items():
        temps = [
            t
            for by_swing in by_fan.values()
            for temperatures in by_swing.values()
            for t in temperatures
            if min_temp <= t <= max_temp
        ]
        if temps and (min(temps), max(temps)) != (min_temp, max_temp):
            mode_limits[mode] = (min(temps), max(temps))
    return Traits(
        modes=tuple(mode_keys),
        fan_modes=tuple(level.trait for level in fans),
        swing_modes=tuple(level.trait for level in swings),
        min_temp=min_temp,
        max_temp=max_temp,
        temp_step=step,
        mode_limits=mode_limits,
    )


def grid(low: float, high: float, step: float) -> list[float]:
    """The setpoints the traits accept in ``low..high``: multiples of ``step`` (from zero)."""
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 3) for i in range(first, last + 1)]


def _problems(code_file: CodeFile) -> list[str]:
    """Broken leaf codes and combinations the traits offer but the file lacks, summarised."""
    broken: list[str] = []
    missing: list[str] = []
    swings: list[str | None] = [level.trait for level in code_file.swings] or [None]
    for mode in code_file.mode_keys:
        low, high = code_file.traits.limits_for(mode)
        for fan in code_file.fans:
            for swing in swings:
                for celsius in grid(low, high, code_file.temp_step):
                    code, _, key_path = code_file.find(mode, fan.trait, swing, celsius)
                    if code is None:
                        missing.append(key_path)
                    elif code.problem is not None:
                        broken.append(f"{key_path} ({code.problem})")
    notes = []
    if missing:
        examples = ", ".join(missing[:_MISSING_EXAMPLES])
        notes.append(f"{len(missing)} combination(s) have no code, e.g. {examples}")
    if broken:
        examples = "; ".join(broken[:_MISSING_EXAMPLES])
        notes.append(f"{len(broken)} code(s) cannot be sent, e.g. {examples}")
    return notes
