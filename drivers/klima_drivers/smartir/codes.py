"""The ``commands`` object of a SmartIR climate code file (smartir.md §C1), as an index.

Nesting: ``commands[mode][fan][temperature]``, or ``commands[mode][fan][swing][temperature]``
when the file lists ``swingModes``; ``off`` and the optional ``on`` are single codes. A code is
the base64 of a Broadlink IR packet (broadlink.md §A10), or a list of them sent in sequence.

Structural problems (a level that is not an object, a temperature key that is not a number)
make the whole file unusable and raise :class:`SmartIrFileError`. A single leaf code that does
not decode is kept as a broken :class:`Code`: the rest of the file still works, and asking for
that combination names the key and the reason. (The public corpus has about 1k such strings
among 113k codes, smartir.md §C3; refusing a whole file for one bad leaf would help nobody.)
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from klima.errors import ConfigError, ProtocolError
from klima.irpacket import parse_broadlink

if TYPE_CHECKING:
    from pathlib import Path

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


class SmartIrFileError(ConfigError):
    """A SmartIR code file cannot be used; names the file and the key path at fault."""

    def __init__(self, path: Path, key: str | None, problem: str) -> None:
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(f"SmartIR code file {where}{problem}")
        self.path = path
        self.key = key
        self.problem = problem


def slug(name: str) -> str:
    """The trait name for one of the file's own fan or swing names: ``"Level 1"`` → ``level_1``."""
    return _SLUG_JUNK.sub("_", name.strip().lower()).strip("_")


def temperature_key(celsius: float) -> str:
    """A temperature as SmartIR writes it (Python's ``'{:g}'``): ``16.0`` → ``"16"``."""
    return f"{celsius:g}"


def _grid_key(celsius: float) -> float:
    # Keys "24.5" and "24.50" and a float 24.5 from MQTT must meet at one dict key.
    return round(celsius, 3)


@dataclass(frozen=True, slots=True)
class Code:
    """One leaf of the file: the packets to send, or why there are none."""

    key_path: str  # e.g. "commands.cool.low.24"
    packets: tuple[bytes, ...]
    problem: str | None = None


def decode_code(value: object, key_path: str) -> Code:
    """A leaf value (a base64 string, or a list of them) as Broadlink IR packets.

    Raises ``TypeError`` only for a value that is not a code at all (an object, a number):
    that is a structural problem the caller reports against the file.
    """
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise TypeError("expected a base64 code string or a non-empty list of them")
    packets: list[bytes] = []
    for index, item in enumerate(items):
        where = f"code {index + 1} of {len(items)}: " if len(items) > 1 else ""
        assert isinstance(item, str)
        try:
            packet = base64.b64decode("".join(item.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            return Code(key_path, (), f"{where}not valid base64 ({exc})")
        try:
            parse_broadlink(packet)  # the blaster would refuse or mangle anything else
        except ProtocolError as exc:
            return Code(key_path, (), f"{where}{exc}")
        packets.append(packet)
    return Code(key_path, tuple(packets))


@dataclass(frozen=True, slots=True)
class Level:
    """The file's name for one fan or swing level, and the trait name it is published as."""

    name: str
    trait: str


def parse_levels(path: Path, key: str, value: object, *, required: bool) -> tuple[Level, ...]:
    """``fanModes`` / ``swingModes``: free strings, published as their slugs."""
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SmartIrFileError(path, key, "expected a list of names")
    if required and not value:
        raise SmartIrFileError(path, key, "lists no modes")
    levels: list[Level] = []
    seen: dict[str, str] = {}
    for name in value:
        trait = slug(name)
        if not trait:
            raise SmartIrFileError(path, key, f"{name!r} has no letters or digits to name it by")
        if trait in seen:
            if seen[trait] == name:
                continue  # listed twice: harmless
            raise SmartIrFileError(
                path, key, f"{seen[trait]!r} and {name!r} both become {trait!r}; rename one"
            )
        seen[trait] = name
        levels.append(Level(name, trait))
    return tuple(levels)


# mode key in the file → fan trait → swing trait (None without swing) → temperature → code
Temperatures = dict[float, Code]
ModeTree = dict[str, dict[str | None, Temperatures]]


def parse_mode_tree(
    path: Path,
    mode_key: str,
    subtree: object,
    *,
    fans: tuple[Level, ...],
    swings: tuple[Level, ...],
    notes: list[str],
) -> ModeTree:
    """One mode's commands, indexed by trait names and temperatures.

    Keys the file does not list in ``fanModes``/``swingModes`` cannot be chosen by anyone, so
    they are skipped (with a note) rather than refused.
    """
    where = f"commands.{mode_key}"
    fan_names = {level.trait: level for level in fans}
    swing_names = {level.trait: level for level in swings}
    tree: ModeTree = {}
    for fan_key, fan_value in _object(path, where, subtree, "fan modes").items():
        fan_where = f"{where}.{fan_key}"
        fan_trait = slug(fan_key)
        if fan_trait not in fan_names:
            notes.append(f"{fan_where} is not in fanModes; ignored")
            continue
        by_swing: dict[str | None, Temperatures] = tree.setdefault(fan_trait, {})
        if not swings:
            by_swing[None] = _parse_temperatures(path, fan_where, fan_value)
            continue
        for swing_key, swing_value in _object(path, fan_where, fan_value, "swing modes").items():
            swing_trait = slug(swing_key)
            if swing_trait not in swing_names:
                notes.append(f"{fan_where}.{swing_key} is not in swingModes; ignored")
                continue
            by_swing[swing_trait] = _parse_temperatures(
                path, f"{fan_where}.{swing_key}", swing_value
            )
    return tree


def _parse_temperatures(path: Path, where: str, value: object) -> Temperatures:
    temperatures: Temperatures = {}
    for temp_key, code_value in _object(path, where, value, "temperatures").items():
        key_path = f"{where}.{temp_key}"
        try:
            celsius = float(temp_key)
        except ValueError:
            raise SmartIrFileError(
                path, key_path, 'expected a temperature key such as "24" or "24.5"'
            ) from None
        if not math.isfinite(celsius):
            raise SmartIrFileError(path, key_path, "temperature key is not a finite number")
        temperatures[_grid_key(celsius)] = parse_leaf(path, key_path, code_value)
    return temperatures


def parse_leaf(path: Path, key_path: str, value: object) -> Code:
    try:
        return decode_code(value, key_path)
    except TypeError as exc:
        raise SmartIrFileError(path, key_path, str(exc)) from None


def _object(path: Path, where: str, value: object, keyed_by: str) -> dict[str, object]:
    if not isinstance(value, dict):
        found = "a code" if isinstance(value, str | list) else type(value).__name__
        raise SmartIrFileError(
            path, where, f"expected an object keyed by {keyed_by}, found {found}"
        )
    return value


def lookup_temperature(temperatures: Temperatures, celsius: float) -> Code | None:
    return temperatures.get(_grid_key(celsius))
