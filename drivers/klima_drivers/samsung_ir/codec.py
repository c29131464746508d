"""Samsung AC IR protocol, 112/168-bit (SAMSUNG_AC; ir.md §B10, §B1, §B12).

A message is made of 7-byte sections, LSB-first, each with its own checksum, after one short
leading mark. The normal message is two sections (14 bytes). A change of power needs the
*extended* message: section 1, a fixed middle section, then section 2 (21 bytes), so the codec
sends the extended form whenever the power differs from what was last sent (and when that is
unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.state import Mode, UnitState
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, decode_section, encode_section, matches
from klima_drivers.ir_common.statemap import choose, invert, setpoint

PROTOCOL = "SAMSUNG_AC"
CARRIER_HZ = 38_000
LEAD_MARK, LEAD_SPACE = 690, 17_844  # once per message, before the first section
SECTION = Timing(
    header_mark=3086,
    header_space=8864,
    bit_mark=586,
    one_space=1432,
    zero_space=436,
    footer_mark=586,
    gap=2886,
)
MESSAGE_GAP = 100_000  # the space after the last section (the library's 100 ms)

SECTION_LENGTH = 7
NORMAL_LENGTH, EXTENDED_LENGTH = 14, 21
EXTENDED_MIDDLE = bytes([0x01, 0xD2, 0x0F, 0x00, 0x00, 0x00, 0x00])

MIN_TEMP, MAX_TEMP = 16.0, 30.0
MODES: dict[Mode, int] = {
    Mode.HEAT_COOL: 0,
    Mode.COOL: 1,
    Mode.DRY: 2,
    Mode.FAN_ONLY: 3,
    Mode.HEAT: 4,
}
FAN_AUTO_IN_AUTO_MODE = 6  # the only fan value the auto mode takes
FANS: dict[str, int] = {"auto": 0, "low": 2, "medium": 4, "high": 5, "max": 7}
FAN_NAMES = invert(FANS) | {FAN_AUTO_IN_AUTO_MODE: "auto"}
# Byte 9 bits 4-6, keyed by (vertical, horizontal) swinging.
SWINGS: dict[tuple[bool, bool], int] = {
    (False, False): 7,
    (True, False): 2,
    (False, True): 3,
    (True, True): 4,
}
SWING_FLAGS = invert(SWINGS)
_ON_OFF: dict[str, bool] = {"off": False, "auto": True}
# Byte 10 bits 1-3.
SPECIAL_POWERFUL, SPECIAL_BREEZE, SPECIAL_ECONO = 3, 5, 7

TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.COOL, Mode.DRY, Mode.FAN_ONLY, Mode.HEAT),
    fan_modes=("auto", "low", "medium", "high", "max"),
    swing_modes=("off", "auto"),
    swing_horizontal_modes=("off", "auto"),
    min_temp=MIN_TEMP,
    max_temp=MAX_TEMP,
    temp_step=1.0,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SamsungState:
    """The fields of a Samsung message, raw values as the protocol numbers them."""

    power: bool  # bits 4-5 of bytes 6 and 13, both 0b11 for on
    mode: int  # byte 12 bits 4-6
    temperature: int  # byte 11 bits 4-7 = °C - 16
    fan: int  # byte 12 bits 1-3
    swing: int = 7  # byte 9 bits 4-6: 2 vertical, 3 horizontal, 4 both, 7 off
    light: bool = True  # byte 10 bit 4 (display)
    fan_special: int = 0  # byte 10 bits 1-3: powerful / breeze / econo
    sleep: bool = False  # byte 5 bit 4
    quiet: bool = False  # byte 5 bit 5
    clean: bool = False  # byte 10 bit 7 and byte 11 bit 1 (a toggle)
    ion: bool = False  # byte 11 bit 0
    beep: bool = False  # byte 13 bit 2 (a toggle)
    extended: bool = False  # 21 bytes, needed when the power changes

    def to_bytes(self) -> bytes:
        if not MIN_TEMP <= self.temperature <= MAX_TEMP:
            raise ValueError(f"temperature {self.temperature} is outside 16..30")
        power_bits = 0x30 if self.power else 0x00
        first = [0x02, 0x02, 0x00, 0x00, 0x00, int(self.sleep) << 4 | int(self.quiet) << 5]
        first.append(0xC0 | power_bits)
        second = [
            0x01,
            0x02,
            0x80 | (self.swing & 0x07) << 4,
            0x61 | (self.fan_special & 0x07) << 1 | int(self.light) << 4 | int(self.clean) << 7,
            int(self.ion) | int(self.clean) << 1 | (self.temperature - int(MIN_TEMP)) << 4,
            0x01 | (self.fan & 0x07) << 1 | (self.mode & 0x07) << 4,
            0xC0 | power_bits | int(self.beep) << 2,
        ]
        middle = EXTENDED_MIDDLE if self.extended else b""
        return with_checksum(bytes(first)) + middle + with_checksum(bytes(second))

    @classmethod
    def from_bytes(cls, message: bytes) -> SamsungState:
        check_message(message)
        first, second = message[:SECTION_LENGTH], message[-SECTION_LENGTH:]
        return cls(
            power=first[6] & 0x30 == 0x30 and second[6] & 0x30 == 0x30,
            mode=second[5] >> 4 & 0x07,
            temperature=int(MIN_TEMP) + (second[4] >> 4),
            fan=second[5] >> 1 & 0x07,
            swing=second[2] >> 4 & 0x07,
            light=bool(second[3] & 0x10),
            fan_special=second[3] >> 1 & 0x07,
            sleep=bool(first[5] & 0x10),
            quiet=bool(first[5] & 0x20),
            clean=bool(second[3] & 0x80 and second[4] & 0x02),
            ion=bool(second[4] & 0x01),
            beep=bool(second[6] & 0x04),
            extended=len(message) == EXTENDED_LENGTH,
        )


def section_checksum(section: bytes) -> int:
    """NOT of the count of 1-bits in the section outside its checksum nibbles (8 bits)."""
    counted = bytes([section[0], section[1] & 0x0F, section[2] & 0xF0, *section[3:7]])
    ones = sum(b.bit_count() for b in counted)
    return ~ones & 0xFF


def with_checksum(section: bytes) -> bytes:
    """``section`` with its checksum stored: low nibble → byte 1 high, high nibble → byte 2 low."""
    checksum = section_checksum(section)
    return bytes(
        [
            section[0],
            (section[1] & 0x0F) | (checksum & 0x0F) << 4,
            (section[2] & 0xF0) | checksum >> 4,
            *section[3:],
        ]
    )


def check_message(message: bytes) -> None:
    """Raise ProtocolError unless ``message`` is a valid 14- or 21-byte Samsung message."""
    if len(message) not in (NORMAL_LENGTH, EXTENDED_LENGTH):
        raise ProtocolError(f"a Samsung AC message is 14 or 21 bytes, not {len(message)}")
    sections = [message[i : i + SECTION_LENGTH] for i in range(0, len(message), SECTION_LENGTH)]
    if sections[0][0] != 0x02 or sections[-1][0] != 0x01:
        raise ProtocolError(
            f"not a Samsung AC message: {message[:1].hex()}…{sections[-1][:1].hex()}"
        )
    if len(sections) == 3 and sections[1] != EXTENDED_MIDDLE:
        raise ProtocolError(f"unexpected Samsung middle section {sections[1].hex(' ')}")
    for number, section in enumerate(sections, 1):
        if with_checksum(section) != section:
            raise ProtocolError(f"bad checksum in Samsung section {number}")


class SamsungCodec:
    """Samsung AR09FSSDAWKNFA and the DB63-03556X003, DB93-16761C, IEC-R03 remotes."""

    protocol = PROTOCOL
    traits = TRAITS

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        mode = choose("mode", desired.mode, MODES, default=Mode.HEAT_COOL)
        fan = choose("fan_mode", desired.fan_mode, FANS, default="auto")
        if mode == MODES[Mode.HEAT_COOL]:
            fan = FAN_AUTO_IN_AUTO_MODE  # the remote allows no other fan in auto mode
        vertical = choose("swing_mode", desired.swing_mode, _ON_OFF, default="off")
        horizontal = choose(
            "swing_horizontal_mode", desired.swing_horizontal_mode, _ON_OFF, default="off"
        )
        state = SamsungState(
            power=desired.power,
            mode=mode,
            temperature=int(
                setpoint(desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, default=24.0)
            ),
            fan=fan,
            swing=SWINGS[vertical, horizontal],
            # Off, and any change of power (or a power we cannot know), take the long form.
            extended=not desired.power or previous is None or previous.power != desired.power,
        )
        return [state.to_bytes()]

    def modulate(self, message: bytes) -> IrSignal:
        check_message(message)
        pulses = [LEAD_MARK, LEAD_SPACE]
        for offset in range(0, len(message), SECTION_LENGTH):
            pulses += encode_section(message[offset : offset + SECTION_LENGTH], SECTION)
        pulses[-1] = MESSAGE_GAP
        return IrSignal(tuple(pulses), CARRIER_HZ)

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        pulses, index, messages = list(signal.pulses), 0, []
        while index < len(pulses):
            # A capture that starts at the first section (without the short lead-in) is
            # accepted as well.
            if (
                index + 1 < len(pulses)
                and matches(pulses[index], LEAD_MARK, SECTION)
                and matches(pulses[index + 1], LEAD_SPACE, SECTION)
            ):
                index += 2
            elif not matches(pulses[index], SECTION.header_mark, SECTION):
                raise ProtocolError(f"no Samsung AC lead-in or section at pulse {index}")
            message = b""
            while index < len(pulses) and matches(pulses[index], SECTION.header_mark, SECTION):
                section, index = decode_section(pulses, index, SECTION, nbytes=SECTION_LENGTH)
                message += section
            check_message(message)
            messages.append(message)
        if not messages:
            raise ProtocolError("no Samsung AC message in an empty signal")
        return messages

    def decode(self, message: bytes) -> dict[str, Any]:
        state = SamsungState.from_bytes(message)
        mode = invert(MODES).get(state.mode)
        fan = FAN_NAMES.get(state.fan)
        swing = SWING_FLAGS.get(state.swing)
        if mode is None or fan is None or swing is None:
            raise ProtocolError(
                f"unknown Samsung mode {state.mode}, fan {state.fan} or swing {state.swing}"
            )
        return {
            "power": state.power,
            "mode": mode.value,
            "target_temperature": float(state.temperature),
            "fan_mode": fan,
            "swing_mode": "auto" if swing[0] else "off",
            "swing_horizontal_mode": "auto" if swing[1] else "off",
            "light": state.light,
            "turbo": state.fan_special == SPECIAL_POWERFUL,
            "breeze": state.fan_special == SPECIAL_BREEZE,
            "econo": state.fan_special == SPECIAL_ECONO,
            "quiet": state.quiet,
            "sleep": state.sleep,
            "clean": state.clean,
            "ion": state.ion,
            "beep": state.beep,
        }


CODEC = SamsungCodec()
