"""LG AC IR protocol, 28-bit, in its two timings LG and LG2 (ir.md §B11, §B1, §B12).

One 28-bit word per message, MSB-first, sent once; the gap after it is stretched so a message
lasts at least 108 050 µs. Which timing a remote uses depends on its model (the GE/old LG
remotes send LG, the AKB remotes LG2); demodulation accepts both. Off is a dedicated word;
vane positions, horizontal swing and the display light travel as separate words after the
state word.
"""

from __future__ import annotations

from typing import Any, Literal

from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.state import Mode, UnitState
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, decode_section, encode_section, matches
from klima_drivers.ir_common.sections import pad_to_length
from klima_drivers.ir_common.statemap import choose, invert, must_resend, setpoint
from klima_drivers.lg_ir import codes
from klima_drivers.lg_ir.codes import LgState

CARRIER_HZ = 38_000
MIN_MESSAGE_US = 108_050
TIMINGS: dict[str, Timing] = {
    "LG": Timing(
        header_mark=8500,
        header_space=4250,
        bit_mark=550,
        one_space=1600,
        zero_space=550,
        footer_mark=550,
        gap=39_750,
        lsb_first=False,
    ),
    "LG2": Timing(
        header_mark=3200,
        header_space=9900,
        bit_mark=480,
        one_space=1600,
        zero_space=550,
        footer_mark=480,
        gap=39_750,
        lsb_first=False,
    ),
}

Model = Literal["GE6711AR2853M", "LG6711A20083V", "AKB75215403", "AKB74955603", "AKB73757604"]
MODEL_PROTOCOL: dict[Model, str] = {
    "GE6711AR2853M": "LG",
    "LG6711A20083V": "LG",
    "AKB75215403": "LG2",
    "AKB74955603": "LG2",
    "AKB73757604": "LG2",
}
SWING_V_MODEL: Model = "AKB74955603"  # vertical vane positions/swing and the light toggle
VANES_MODEL: Model = "AKB73757604"  # per-vane positions and horizontal swing

MIN_TEMP, MAX_TEMP = 16.0, 30.0
MODES: dict[Mode, int] = {
    Mode.COOL: 0,
    Mode.DRY: 1,
    Mode.FAN_ONLY: 2,
    Mode.HEAT_COOL: 3,
    Mode.HEAT: 4,
}
# stdAc: Min→0, Low→1, Medium→2, Max→4, Auto→5; only AKB74955603 has its own "high" (10) and
# sends low as 9.
FANS: dict[str, int] = {"auto": 5, "min": 0, "low": 1, "medium": 2, "max": 4}
FANS_AKB74955603: dict[str, int] = {
    "auto": 5,
    "min": 0,
    "low": 9,
    "medium": 2,
    "high": 10,
    "max": 4,
}
FAN_NAMES: dict[int, str] = invert(FANS) | invert(FANS_AKB74955603)

SPECIALS: dict[int, dict[str, Any]] = {
    codes.OFF: {"power": False},
    codes.LIGHT_TOGGLE: {"toggle": "light"},
    codes.SWING_V_TOGGLE: {"toggle": "swing_mode"},
    **{word: {"swing_mode": name} for name, word in codes.SWING_V.items()},
    **{word: {"swing_horizontal_mode": name} for name, word in codes.SWING_H.items()},
}


def traits_for(model: Model) -> Traits:
    return Traits(
        modes=(Mode.HEAT_COOL, Mode.COOL, Mode.DRY, Mode.FAN_ONLY, Mode.HEAT),
        fan_modes=tuple(FANS_AKB74955603 if model == SWING_V_MODEL else FANS),
        swing_modes=(
            tuple(codes.SWING_V)
            if model == SWING_V_MODEL
            else tuple(codes.VANE_POSITIONS)
            if model == VANES_MODEL
            else ()
        ),
        swing_horizontal_modes=tuple(codes.SWING_H) if model == VANES_MODEL else (),
        min_temp=MIN_TEMP,
        max_temp=MAX_TEMP,
        temp_step=1.0,
    )


class LgCodec:
    """One LG remote model: its timing (LG or LG2), fan levels and separate swing words."""

    def __init__(self, model: Model = "AKB75215403", *, display_light: bool = True) -> None:
        if model not in MODEL_PROTOCOL:
            raise ValueError(f"unknown LG remote model {model!r}")
        self.model = model
        self.protocol = MODEL_PROTOCOL[model]
        self.timing = TIMINGS[self.protocol]
        # AKB74955603: every state word lights the display; switching it off takes the light
        # toggle after each state word (so the result does not depend on what came before).
        self.light_off = not display_light and model == SWING_V_MODEL
        self.traits = traits_for(model)

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        if not desired.power:
            return [codes.to_message(codes.OFF)]
        fans = FANS_AKB74955603 if self.model == SWING_V_MODEL else FANS
        state = LgState(
            power=True,
            # Clear only in the word that switches the unit on; unknown counts as off.
            turn_on=previous is None or not previous.power,
            mode=choose("mode", desired.mode, MODES, default=Mode.HEAT_COOL),
            temperature=int(
                setpoint(desired.target_temperature, low=MIN_TEMP, high=MAX_TEMP, default=24.0)
            ),
            fan=choose("fan_mode", desired.fan_mode, fans, default="auto"),
        )
        words = [state.to_word(), *self._swing_words(desired, previous)]
        if self.light_off:
            words.append(codes.LIGHT_TOGGLE)  # must come last: any state word relights
        return [codes.to_message(word) for word in words]

    def _swing_words(self, desired: UnitState, previous: UnitState | None) -> list[int]:
        words: list[int] = []
        vertical = desired.swing_mode
        if vertical is not None and must_resend("swing_mode", desired, previous):
            if self.model == SWING_V_MODEL:
                words.append(choose("swing_mode", vertical, codes.SWING_V, default="off"))
            elif self.model == VANES_MODEL:
                choose("swing_mode", vertical, codes.VANE_POSITIONS, default="middle")  # validate
                words += [codes.vane_code(vane, vertical) for vane in range(codes.VANES)]
        horizontal = desired.swing_horizontal_mode
        if (
            self.model == VANES_MODEL
            and horizontal is not None
            and must_resend("swing_horizontal_mode", desired, previous)
        ):
            words.append(choose("swing_horizontal_mode", horizontal, codes.SWING_H, default="off"))
        return words

    def modulate(self, message: bytes) -> IrSignal:
        codes.to_word(message)
        pulses = encode_section(message, self.timing, nbits=codes.BITS)
        return IrSignal(tuple(pad_to_length(pulses, MIN_MESSAGE_US)), CARRIER_HZ)

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        pulses, index, messages = list(signal.pulses), 0, []
        while index < len(pulses):
            timing = next(
                (t for t in TIMINGS.values() if matches(pulses[index], t.header_mark, t)), None
            )
            if timing is None:
                raise ProtocolError(f"no LG/LG2 header mark at pulse {index}: {pulses[index]} µs")
            message, index = decode_section(pulses, index, timing, nbits=codes.BITS)
            codes.to_word(message)
            messages.append(message)
        if not messages:
            raise ProtocolError("no LG AC word in an empty signal")
        return messages

    def decode(self, message: bytes) -> dict[str, Any]:
        word = codes.to_word(message)
        if word in SPECIALS:
            return dict(SPECIALS[word])
        vane = codes.vane_of(word)
        if vane is not None:
            return {"swing_mode": vane[1], "vane": vane[0]}
        if word >> 16 & 0xF == 0x1:
            raise ProtocolError(f"unknown LG special code {word:#09x}")
        state = LgState.from_word(word)
        if word >> 18 & 0b11 not in (0b00, 0b11) or state.spare:
            raise ProtocolError(f"LG word {word:#09x} has an unknown power field")
        if not state.power:
            return {"power": False}
        mode = invert(MODES).get(state.mode)
        fan = FAN_NAMES.get(state.fan)
        if mode is None or fan is None:
            raise ProtocolError(f"unknown LG mode {state.mode} or fan {state.fan}")
        return {
            "power": True,
            "mode": mode.value,
            "target_temperature": float(state.temperature),
            "fan_mode": fan,
            "turn_on": state.turn_on,
        }


CODEC = LgCodec()
