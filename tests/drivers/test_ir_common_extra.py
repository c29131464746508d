"""The ir_common helpers added for the Fujitsu/Panasonic/Toshiba/Samsung/LG codecs:
variable-length sections, minimum message length, repeat folding, jitter, value tables,
setpoints, resend rules and random states.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from klima.errors import CommandError, ProtocolError
from klima.state import Mode, UnitState
from klima.traits import Traits
from klima_drivers.ir_common.pulse_distance import Timing, encode_section
from klima_drivers.ir_common.samples import random_state
from klima_drivers.ir_common.sections import (
    decode_section_of_lengths,
    fold_repeats,
    jittered,
    pad_to_length,
)
from klima_drivers.ir_common.statemap import choose, invert, must_resend, setpoint

TIMING = Timing(
    header_mark=3000,
    header_space=1500,
    bit_mark=500,
    one_space=1500,
    zero_space=500,
    footer_mark=500,
    gap=8000,
)


# --- sections ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [bytes(range(1, 8)), bytes(range(1, 17)), b"\xff"])
def test_a_section_of_any_allowed_length(data: bytes) -> None:
    pulses = encode_section(data, TIMING) + encode_section(b"\x5a", TIMING)
    message, index = decode_section_of_lengths(pulses, 0, TIMING, (1, 7, 16))
    assert message == data
    assert decode_section_of_lengths(pulses, index, TIMING, (1, 7, 16)) == (b"\x5a", len(pulses))


def test_a_section_of_another_length_is_refused_naming_each_try() -> None:
    pulses = encode_section(bytes(5), TIMING)
    with pytest.raises(ProtocolError, match=r"7 bytes: .*; 3 bytes: "):
        decode_section_of_lengths(pulses, 0, TIMING, (3, 7))


def test_msb_first_sections_of_several_lengths() -> None:
    msb = dataclasses.replace(TIMING, lsb_first=False)
    pulses = encode_section(b"\xf2\x0d\x01", msb)
    assert decode_section_of_lengths(pulses, 0, msb, (2, 3, 4))[0] == b"\xf2\x0d\x01"


def test_pad_to_length_stretches_only_the_last_space() -> None:
    assert pad_to_length([100, 200, 300, 400], 2000) == [100, 200, 300, 1400]
    assert pad_to_length([100, 200, 300, 4000], 2000) == [100, 200, 300, 4000]
    with pytest.raises(ValueError, match="space"):
        pad_to_length([100, 200, 300], 2000)


def test_fold_repeats() -> None:
    a, b = b"A", b"B"
    assert fold_repeats([a, a, b, b], 2) == [a, b]
    assert fold_repeats([a, b], 2) == [a, b]  # lost repeats
    assert fold_repeats([a, a, a], 2) == [a, a]  # a third copy is a new message
    assert fold_repeats([a, a], 1) == [a, a]
    assert fold_repeats([], 2) == []
    with pytest.raises(ValueError, match="copies"):
        fold_repeats([a], 0)


def test_jitter_stays_within_its_fraction_and_is_reproducible() -> None:
    pulses = tuple(range(100, 10_000, 37))
    noisy = jittered(pulses, random.Random(1), 0.15)
    assert noisy == jittered(pulses, random.Random(1), 0.15)
    assert noisy != pulses
    for clean, measured in zip(pulses, noisy, strict=True):
        assert abs(measured - clean) <= clean * 0.15 + 1
    assert min(jittered((1,) * 50, random.Random(2), 0.9)) == 1  # never below 1 µs
    with pytest.raises(ValueError, match="fraction"):
        jittered(pulses, random.Random(1), 1.5)


# --- state mapping -----------------------------------------------------------------------


def test_choose_uses_the_default_for_none_and_names_what_is_allowed() -> None:
    table = {"auto": 0, "low": 3}
    assert choose("fan_mode", None, table, default="auto") == 0
    assert choose("fan_mode", "low", table, default="auto") == 3
    with pytest.raises(CommandError) as info:
        choose("fan_mode", "turbo", table, default="auto")
    assert info.value.field == "fan_mode"
    assert info.value.allowed == ["auto", "low"]


def test_invert_keeps_the_first_name_for_a_shared_value() -> None:
    assert invert({"high": 1, "max": 1, "low": 3}) == {1: "high", 3: "low"}


def test_setpoint_defaults_clamps_and_steps() -> None:
    assert setpoint(None, low=16, high=30, default=24) == 24
    assert setpoint(35, low=16, high=30, default=24) == 30
    assert setpoint(10, low=16, high=30, default=24) == 16
    assert setpoint(21.4, low=16, high=30, default=24) == 21
    assert setpoint(21.3, low=16, high=30, step=0.5, default=24) == 21.5
    with pytest.raises(CommandError):
        setpoint(float("nan"), low=16, high=30, default=24)


def test_must_resend() -> None:
    on = UnitState(power=True, mode=Mode.COOL, swing_mode="auto")
    assert must_resend("swing_mode", on, None)  # unknown
    assert must_resend("swing_mode", on, on.replace(power=False))  # switching on
    assert must_resend("swing_mode", on, on.replace(swing_mode="off"))  # changed
    assert not must_resend("swing_mode", on, on)  # same again
    assert not must_resend("swing_mode", on, on.replace(target_temperature=20.0))


def test_random_state_stays_within_traits() -> None:
    traits = Traits(
        modes=(Mode.COOL, Mode.HEAT),
        fan_modes=("auto", "low"),
        swing_modes=("off",),
        min_temp=17.0,
        max_temp=30.0,
        temp_step=0.5,
        mode_limits={Mode.HEAT: (10.0, 20.0)},
    )
    rng = random.Random(3)
    states = [random_state(traits, rng) for _ in range(300)]
    assert {s.power for s in states} == {True, False}
    for state in states:
        low, high = traits.limits_for(state.mode)
        assert state.target_temperature is not None
        assert low <= state.target_temperature <= high
        assert (state.target_temperature * 2).is_integer()
        assert state.fan_mode in traits.fan_modes
        assert state.swing_mode == "off"
        assert state.swing_horizontal_mode is None
    assert random_state(traits, rng, power=False).power is False
