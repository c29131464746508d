"""LG AC 28-bit words: the state word's layout and the fixed special codes (ir.md §B11).

A word is ``0x88`` (signature) then 16 command bits then a 4-bit checksum, the sum of the six
nibbles before it. Messages travel as the word in 4 big-endian bytes (the top nibble is 0).
"""

from __future__ import annotations

from dataclasses import dataclass

from klima.errors import ProtocolError

SIGNATURE = 0x88
BITS = 28
MESSAGE_BYTES = 4

OFF = 0x88C0051  # kLgAcOffCommand: the dedicated off code
LIGHT_TOGGLE = 0x88C00A6  # display light on/off (AKB74955603)
SWING_V_TOGGLE = 0x8810001  # swing on/off toggle of older remotes
# Vertical vane position/swing codes (AKB74955603), absolute.
SWING_V: dict[str, int] = {
    "lowest": 0x8813048,
    "low": 0x8813059,
    "middle": 0x881306A,
    "upper_middle": 0x881307B,
    "high": 0x881308C,
    "highest": 0x881309D,
    "auto": 0x8813149,
    "off": 0x881315A,
}
# Horizontal swing (AKB73757604), absolute.
SWING_H: dict[str, int] = {"auto": 0x881316B, "off": 0x881317C}
# Per-vane vertical positions (AKB73757604): base + ((vane x 8 + position) << 4) + checksum.
VANE_BASE = 0x8813200
VANES = 4
VANE_POSITIONS: dict[str, int] = {
    "highest": 1,
    "high": 2,
    "upper_middle": 3,
    "middle": 4,
    "low": 5,
    "lowest": 6,
}


def checksum(word: int) -> int:
    """Sum of the six nibbles in bits 4-27, mod 16."""
    command = word >> 4
    return sum(command >> shift & 0xF for shift in range(0, 24, 4)) & 0xF


def with_checksum(word_without_sum: int) -> int:
    """``word_without_sum`` (checksum nibble 0) with its checksum filled in."""
    return word_without_sum & ~0xF | checksum(word_without_sum)


def vane_code(vane: int, position: str) -> int:
    if not 0 <= vane < VANES:
        raise ValueError(f"vane {vane} is not 0..{VANES - 1}")
    return with_checksum(VANE_BASE + ((vane * 8 + VANE_POSITIONS[position]) << 4))


def vane_of(word: int) -> tuple[int, str] | None:
    """(vane, position) of a per-vane code, None for any other word."""
    return _VANE_CODES.get(word)


_VANE_CODES = {
    vane_code(vane, name): (vane, name) for vane in range(VANES) for name in VANE_POSITIONS
}


def to_message(word: int) -> bytes:
    return word.to_bytes(MESSAGE_BYTES, "big")


def to_word(message: bytes) -> int:
    """The checked 28-bit word of a 4-byte message."""
    if len(message) != MESSAGE_BYTES:
        raise ProtocolError(f"an LG AC message is {MESSAGE_BYTES} bytes, not {len(message)}")
    word = int.from_bytes(message, "big")
    if word >> BITS or word >> 20 != SIGNATURE:
        raise ProtocolError(f"not an LG AC word: {word:#09x}")
    if checksum(word) != word & 0xF:
        raise ProtocolError(f"bad LG checksum in {word:#09x}")
    return word


@dataclass(frozen=True, slots=True, kw_only=True)
class LgState:
    """The fields of a state word (not a special code), raw values."""

    power: bool  # bits 18-19: 0b00 on, 0b11 off
    mode: int  # bits 12-14
    temperature: int  # bits 8-11 = °C - 15
    fan: int  # bits 4-7
    # Bit 15 is clear only in the word that switches the unit on (the remote's own words while
    # the unit runs have it set; Arduino-IRremote ac_LG.h LG_SWITCH_ON_MASK).
    turn_on: bool = True
    spare: int = 0  # bits 16-17, never seen set

    def to_word(self) -> int:
        if not 16 <= self.temperature <= 30:
            raise ValueError(f"temperature {self.temperature} is outside 16..30")
        word = (
            SIGNATURE << 20
            | (0 if self.power else 0b11) << 18
            | (self.spare & 0b11) << 16
            | (0 if self.turn_on else 1) << 15
            | (self.mode & 0b111) << 12
            | (self.temperature - 15) << 8
            | (self.fan & 0xF) << 4
        )
        return with_checksum(word)

    @classmethod
    def from_word(cls, word: int) -> LgState:
        return cls(
            power=word >> 18 & 0b11 == 0,
            mode=word >> 12 & 0b111,
            temperature=(word >> 8 & 0xF) + 15,
            fan=word >> 4 & 0xF,
            turn_on=not word >> 15 & 1,
            spare=word >> 16 & 0b11,
        )
