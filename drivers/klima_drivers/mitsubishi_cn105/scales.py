"""CN105 vocabularies and temperature scales (serial.md §3.4-3.5), shared by both roles.

The names are Klima's public vocabulary (MQTT, Home Assistant discovery, the simulator); the
byte values are the unit's.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import TYPE_CHECKING

from klima.state import Mode

if TYPE_CHECKING:
    from collections.abc import Mapping

MODE_CODES: Mapping[Mode, int] = MappingProxyType(
    {Mode.HEAT: 0x01, Mode.DRY: 0x02, Mode.COOL: 0x03, Mode.FAN_ONLY: 0x07, Mode.HEAT_COOL: 0x08}
)
# i-See ("3D sensor") units report the mode + 8 while the sensor steers the airflow.
ISEE_OFFSET = 0x08

FAN_MODES: tuple[str, ...] = ("auto", "quiet", "low", "medium", "middle", "high")
FAN_CODES: Mapping[str, int] = MappingProxyType(
    dict(zip(FAN_MODES, (0x00, 0x01, 0x02, 0x03, 0x05, 0x06), strict=True))
)

# Vertical vane: 1 = top (horizontal airflow) … 5 = bottom.
SWING_MODES: tuple[str, ...] = ("auto", "highest", "high", "middle", "low", "lowest", "swing")
SWING_CODES: Mapping[str, int] = MappingProxyType(
    dict(zip(SWING_MODES, (0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x07), strict=True))
)

# Horizontal ("wide") vane. 0x00 is "auto"/airflow control on i-See units.
SWING_HORIZONTAL_MODES: tuple[str, ...] = (
    "auto",
    "left_max",
    "left",
    "center",
    "right",
    "right_max",
    "split",
    "swing",
)
SWING_HORIZONTAL_CODES: Mapping[str, int] = MappingProxyType(
    dict(
        zip(
            SWING_HORIZONTAL_MODES,
            (0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x0C),
            strict=True,
        )
    )
)


def _inverse(table: Mapping[str, int]) -> Mapping[int, str]:
    return MappingProxyType({code: name for name, code in table.items()})


MODE_BY_CODE: Mapping[int, Mode] = MappingProxyType({c: m for m, c in MODE_CODES.items()})
FAN_BY_CODE = _inverse(FAN_CODES)
SWING_BY_CODE = _inverse(SWING_CODES)
SWING_HORIZONTAL_BY_CODE = _inverse(SWING_HORIZONTAL_CODES)

# The legacy setpoint byte is 31 - °C in its low nibble, so it only spans 16..31 °C.
LEGACY_SETPOINT_MIN = 16
LEGACY_SETPOINT_MAX = 31
LEGACY_HALF_DEGREE = 0x10  # muart: bit 4 adds 0.5 °C (units report it, see vectors C5/C6)
# The enhanced scale is one byte of (2·°C + 128): -64.0 … +63.5 °C; 0 means "not reported".
ENHANCED_MIN = -64.0
ENHANCED_MAX = 63.5
LEGACY_ROOM_OFFSET = 10  # legacy room temperature byte = °C - 10


def half_degrees(celsius: float) -> int:
    """``celsius`` in whole half-degrees, rounding halves up (22.25 → 44.5 → 45, not banker's)."""
    if not math.isfinite(celsius):
        raise ValueError(f"temperature {celsius!r} is not a number")
    return math.floor(celsius * 2 + 0.5)


def to_enhanced(celsius: float) -> int:
    """The enhanced-scale byte for ``celsius`` (nearest 0.5 °C)."""
    value = half_degrees(celsius) + 128
    if not 1 <= value <= 0xFF:
        raise ValueError(
            f"{celsius:g} °C is outside the enhanced scale {ENHANCED_MIN:g}..{ENHANCED_MAX:g}"
        )
    return value


def from_enhanced(value: int) -> float:
    return (value - 128) / 2


def to_legacy_setpoint(celsius: float, allow_half: bool = True) -> int:
    """The legacy setpoint byte: ``31 - whole degrees``, plus bit 4 for a half degree."""
    halves = half_degrees(celsius)
    if not allow_half:
        halves = 2 * math.floor(halves / 2 + 0.5)  # whole degrees, halves rounded up
    whole, half = divmod(halves, 2)
    if not LEGACY_SETPOINT_MIN <= whole <= LEGACY_SETPOINT_MAX or (
        whole == LEGACY_SETPOINT_MAX and half
    ):
        raise ValueError(
            f"{celsius:g} °C is outside the legacy setpoint scale "
            f"{LEGACY_SETPOINT_MIN}..{LEGACY_SETPOINT_MAX}"
        )
    return (LEGACY_SETPOINT_MAX - whole) | (LEGACY_HALF_DEGREE if half else 0)


def from_legacy_setpoint(value: int) -> float:
    whole = LEGACY_SETPOINT_MAX - (value & 0x0F)
    return whole + (0.5 if value & LEGACY_HALF_DEGREE else 0.0)


def to_legacy_room(celsius: float) -> int:
    """The legacy (whole-degree) room temperature byte, clamped to what one byte can say."""
    return min(max(math.floor(celsius + 0.5) - LEGACY_ROOM_OFFSET, 0), 0xFF)


def from_legacy_room(value: int) -> float:
    return float(value + LEGACY_ROOM_OFFSET)


# Fault codes (muart): the upper 3 bits pick a letter, the lower 5 bits a digit/letter.
_FAULT_LETTERS = "AbEFJLPU"
_FAULT_DIGITS = "0123456789ABCDEFOHJLPU"


def fault_code_name(value: int) -> str:
    """The two-character code a Mitsubishi remote shows for the error byte (``00`` = "A0")."""
    letter, digit = value >> 5, value & 0x1F
    if digit >= len(_FAULT_DIGITS):
        return f"{value:02X}"  # outside the known table: show the raw byte rather than guess
    return _FAULT_LETTERS[letter] + _FAULT_DIGITS[digit]


def fault_code_byte(name: str) -> int:
    """The error byte for a two-character code such as ``"E6"`` (inverse of the above)."""
    if len(name) == 2:
        letters = {c.upper(): i for i, c in enumerate(_FAULT_LETTERS)}
        letter = letters.get(name[0].upper())
        digit = _FAULT_DIGITS.find(name[1].upper())
        if letter is not None and digit >= 0:
            return (letter << 5) | digit
    raise ValueError(f"fault code {name!r} is not a CN105 two-character code")
