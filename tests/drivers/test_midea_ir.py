"""MIDEA (48-bit) codec: ir.md §B6 vectors, §B1 framing (message + inverse), toggles (§B12)."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from klima.errors import ChecksumError, CommandError, ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.coolix_ir.codec import CODEC as COOLIX
from klima_drivers.ir_common.sections import jittered
from klima_drivers.ir_common.transcript import from_transcript
from klima_drivers.midea_ir import DRIVER, MideaOptions
from klima_drivers.midea_ir.codec import (
    CODEC,
    MODE_AUTO,
    MODE_COOL,
    SPECIALS,
    TRAITS,
    MideaCodec,
    MideaFrame,
    checksum,
)

FAHRENHEIT = MideaCodec(temperature_unit="F")


def value(number: int) -> bytes:
    return number.to_bytes(6, "big")


# (id, value, native fields, decoded fields); sources in the comments.
VECTORS: list[tuple[str, int, MideaFrame, dict[str, Any]]] = [
    (
        # ir.md §B6, IRremoteESP8266 test/ir_Midea_test.cpp
        # TestMideaACClass.HumanReadableOutput (the library's default state, native °F)
        "library-default-77f",
        0xA1826FFFFF62,
        MideaFrame(mode=MODE_AUTO, fan=0, fahrenheit=True, temperature=77),
        {"power": True, "mode": "heat_cool", "target_temperature": 25.0,
         "temperature_unit": "F", "target_temperature_f": 77, "fan_mode": "auto"},
    ),
    (
        # ir.md §B6, same test
        "cool-69f-high",
        0xA19867FFFF7E,
        MideaFrame(mode=MODE_COOL, fan=3, fahrenheit=True, temperature=69),
        {"power": True, "mode": "cool", "target_temperature": 21.0,
         "target_temperature_f": 69, "fan_mode": "high"},
    ),
    (
        # ir.md §B6, test/ir_Midea_test.cpp TestMideaACClass.CelsiusRemoteTemp (issue #819)
        "issue-819-cool-17c-low",
        0xA18840FFFF56,
        MideaFrame(mode=MODE_COOL, fan=1, temperature=17),
        {"power": True, "mode": "cool", "target_temperature": 17.0, "temperature_unit": "C",
         "fan_mode": "low"},
    ),
]  # fmt: skip
IDS = [v[0] for v in VECTORS]

# IRremoteESP8266 test/ir_Midea_test.cpp: command frames from °F Klima states (the library's
# default unit). (value, test, state)
AUTO = UnitState(power=True, mode=Mode.HEAT_COOL)
LIBRARY_FRAMES = [
    (0xA1826FFFFF62, "Power (on)", AUTO),
    (0xA1026FFFFFE2, "Power (off)", dataclasses.replace(AUTO, power=False)),
    (0xA1806FFFFF61, "OperatingMode (cool)", dataclasses.replace(AUTO, mode=Mode.COOL)),
    (0xA1836FFFFF63, "OperatingMode (heat)", dataclasses.replace(AUTO, mode=Mode.HEAT)),
    (0xA1816FFFFF60, "OperatingMode (dry)", dataclasses.replace(AUTO, mode=Mode.DRY)),
    (0xA1846FFFFF66, "OperatingMode (fan)", dataclasses.replace(AUTO, mode=Mode.FAN_ONLY)),
    (0xA18A6FFFFF6C, "FanSpeed (low)", dataclasses.replace(AUTO, fan_mode="low")),
    (0xA1926FFFFF7C, "FanSpeed (med)", dataclasses.replace(AUTO, fan_mode="medium")),
    (0xA19A6FFFFF74, "FanSpeed (high)", dataclasses.replace(AUTO, fan_mode="high")),
    (0xA18278FFFF78, "Temperature (max 86F)", dataclasses.replace(AUTO, target_temperature=30.0)),
]

# ir.md §B6 special values and what each decodes to.
SPECIAL_MEANINGS = {
    "swing": {"toggle": "swing_mode"},
    "econo": {"toggle": "econo"},
    "light": {"toggle": "light"},
    "turbo": {"toggle": "turbo"},
    "clean": {"toggle": "clean"},
    "heat_8c": {"command": "heat_8c"},
    "quiet_on": {"quiet": True},
    "quiet_off": {"quiet": False},
}

# IRremoteESP8266 test/ir_Midea_test.cpp TestSendMidea.SendDataOnly, sendMidea(0x55AA55AA55AA).
TRANSCRIPT_55AA = """
    f38000d50
    m4480s4480
    m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680
    m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560
    m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680
    m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560
    m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680
    m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560
    m560s5600
    m4480s4480
    m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560
    m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680
    m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560
    m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680
    m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560
    m560s560m560s1680m560s560m560s1680m560s560m560s1680m560s560m560s1680
    m560s105600
"""

ON = UnitState(
    power=True, mode=Mode.COOL, target_temperature=24.0, fan_mode="auto", swing_mode="off"
)


@pytest.mark.parametrize(("name", "number", "frame", "fields"), VECTORS, ids=IDS)
def test_vector_decodes_to_its_printed_fields(
    name: str, number: int, frame: MideaFrame, fields: dict[str, Any]
) -> None:
    decoded = CODEC.decode(value(number))
    assert {k: decoded.get(k) for k in fields} == fields


@pytest.mark.parametrize(("name", "number", "frame", "fields"), VECTORS, ids=IDS)
def test_vector_encodes_byte_exact_from_native_fields(
    name: str, number: int, frame: MideaFrame, fields: dict[str, Any]
) -> None:
    assert frame.to_bytes() == value(number)
    assert MideaFrame.from_bytes(value(number)) == frame


def test_celsius_vector_from_the_unit_state() -> None:
    # ir.md §B6 issue #819 vector: Klima's default °C frames.
    desired = UnitState(power=True, mode=Mode.COOL, target_temperature=17.0, fan_mode="low")
    assert CODEC.encode(desired, None) == [value(0xA18840FFFF56)]


@pytest.mark.parametrize(
    ("number", "test", "state"), LIBRARY_FRAMES, ids=[f[1] for f in LIBRARY_FRAMES]
)
def test_fahrenheit_frames_from_the_unit_state_match_the_library(
    number: int, test: str, state: UnitState
) -> None:
    if state.target_temperature is None:
        state = dataclasses.replace(state, target_temperature=25.0)  # 77 °F
    assert FAHRENHEIT.encode(state, None) == [value(number)]


def test_fahrenheit_limits_decode_to_the_nearest_celsius() -> None:
    # IRremoteESP8266 test/ir_Midea_test.cpp TestMideaACClass.Temperature: 62 °F and 86 °F.
    # 62 °F (16.7 °C) is below Klima's 17 °C, which goes out as 63 °F; both read back as 17.
    assert CODEC.decode(value(0xA18260FFFF6C))["target_temperature"] == 17.0
    assert CODEC.decode(value(0xA18260FFFF6C))["target_temperature_f"] == 62
    assert CODEC.decode(value(0xA18278FFFF78))["target_temperature"] == 30.0
    low = UnitState(power=True, mode=Mode.HEAT_COOL, target_temperature=17.0)
    assert CODEC.decode(FAHRENHEIT.encode(low, None)[0])["target_temperature_f"] == 63


def test_checksum_rule() -> None:
    # ir.md §B6: bit-reverse T0..T4, sum, negate mod 256, bit-reverse. Values from
    # IRremoteESP8266 test/ir_Midea_test.cpp TestMideaACClass.Checksums.
    def reference(number: int) -> int:
        body = value(number)[:5]
        total = sum(int(f"{b:08b}"[::-1], 2) for b in body)
        return int(f"{(256 - total % 256) % 256:08b}"[::-1], 2)

    assert checksum(value(0x1234567890AB)) == reference(0x1234567890AB) == 0xDF
    assert checksum(value(0xFFFFFFFFFFFF)) == reference(0xFFFFFFFFFFFF) == 0xA0
    assert checksum(value(0)) == 0
    for number in [v[1] for v in VECTORS] + [0xA18177FFFF70] + list(SPECIALS.values()):
        assert number & 0xFF == checksum(value(number)) == reference(number)
    damaged = bytearray(value(0xA18840FFFF56))
    damaged[2] ^= 0x01
    with pytest.raises(ChecksumError):
        CODEC.decode(bytes(damaged))


@pytest.mark.parametrize("name", list(SPECIALS))
def test_specials_have_valid_checksums_and_decode_to_their_meaning(name: str) -> None:
    message = CODEC.special(name)
    assert message == value(SPECIALS[name])
    assert CODEC.decode(message) == SPECIAL_MEANINGS[name]
    assert CODEC.demodulate(CODEC.modulate(message)) == [message]


def test_modulation_matches_the_library_transcript() -> None:
    assert CODEC.modulate(value(0x55AA55AA55AA)) == from_transcript(TRANSCRIPT_55AA)


def test_timings_inverse_and_carrier() -> None:
    message = value(0xA18840FFFF56)
    signal = CODEC.modulate(message)
    pulses = signal.pulses
    assert signal.carrier_hz == 38_000
    half = 2 + 2 * 48 + 2
    assert len(pulses) == 2 * half
    assert pulses[:2] == pulses[half : half + 2] == (4480, 4480)
    assert pulses[half - 2 : half] == (560, 5600)
    assert pulses[-2:] == (560, 105_600)
    first = [pulses[i] == 1680 for i in range(3, half - 2, 2)]
    second = [pulses[i] == 1680 for i in range(half + 3, 2 * half - 2, 2)]
    assert first == [not bit for bit in second]


def test_a_second_frame_that_is_not_the_inverse_is_refused() -> None:
    pulses = list(CODEC.modulate(value(0xA18840FFFF56)).pulses)
    half = 2 + 2 * 48 + 2
    pulses[half + 3] = 1680 if pulses[half + 3] == 560 else 560
    with pytest.raises(ProtocolError, match="inverse"):
        CODEC.demodulate(IrSignal(tuple(pulses)))
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(tuple(pulses[:half])))  # the inverse missing


# --- stateful behaviour (ir.md §B12: swing, econo, turbo, light, clean are toggles) ---


def test_same_desired_twice_gives_identical_messages_and_no_toggle() -> None:
    swinging = dataclasses.replace(ON, swing_mode="auto")
    assert CODEC.encode(swinging, swinging) == CODEC.encode(swinging, None)
    assert len(CODEC.encode(swinging, swinging)) == 1


def test_a_swing_change_adds_one_toggle_after_the_command() -> None:
    swinging = dataclasses.replace(ON, swing_mode="auto")
    [command, toggle] = CODEC.encode(swinging, ON)
    assert CODEC.decode(command)["power"] is True
    assert CODEC.decode(toggle) == {"toggle": "swing_mode"}
    assert CODEC.encode(ON, swinging)[1] == toggle


def test_power_off_is_a_command_frame_and_never_carries_toggles() -> None:
    off = dataclasses.replace(ON, power=False, swing_mode="auto")
    [message] = CODEC.encode(off, ON)
    assert CODEC.decode(message)["power"] is False
    assert CODEC.encode(off, off) == [message]


def test_switching_on_with_a_changed_swing_sends_command_then_toggle() -> None:
    was_off = dataclasses.replace(ON, power=False)
    assert CODEC.encode(ON, was_off) == CODEC.encode(ON, None)
    messages = CODEC.encode(dataclasses.replace(ON, swing_mode="auto"), was_off)
    assert [CODEC.decode(m).get("toggle") for m in messages] == [None, "swing_mode"]


def test_unknown_previous_or_previous_swing_sends_no_toggle() -> None:
    swinging = dataclasses.replace(ON, swing_mode="auto")
    assert len(CODEC.encode(swinging, None)) == 1
    assert len(CODEC.encode(swinging, dataclasses.replace(ON, swing_mode=None))) == 1


def random_state(rng: random.Random) -> UnitState:
    return UnitState(
        power=rng.random() < 0.8,
        mode=rng.choice(TRAITS.modes),
        target_temperature=float(rng.randrange(17, 31)),
        fan_mode=rng.choice(TRAITS.fan_modes),
        swing_mode=rng.choice(TRAITS.swing_modes),
    )


@pytest.mark.parametrize("codec", [CODEC, FAHRENHEIT], ids=["celsius", "fahrenheit"])
def test_random_states_survive_encode_modulate_demodulate_decode(codec: MideaCodec) -> None:
    rng = random.Random(48)
    previous: UnitState | None = None
    for _ in range(300):
        desired = random_state(rng)
        messages = codec.encode(desired, previous)
        signal = IrSignal(sum((codec.modulate(m).pulses for m in messages), ()))
        assert codec.demodulate(signal) == messages
        decoded = codec.decode(messages[0])
        assert {k: decoded[k] for k in ("power", "mode", "target_temperature", "fan_mode")} == {
            "power": desired.power,
            "mode": desired.mode.value,
            "target_temperature": desired.target_temperature,
            "fan_mode": desired.fan_mode,
        }
        swing_changed = (
            previous is not None and desired.power and previous.swing_mode != desired.swing_mode
        )
        assert [codec.decode(m) for m in messages[1:]] == (
            [{"toggle": "swing_mode"}] if swing_changed else []
        )
        previous = desired


def test_demodulate_tolerates_15_percent_jitter() -> None:
    rng = random.Random(4480)
    for _ in range(100):
        first, second = (CODEC.encode(random_state(rng), None)[0] for _ in range(2))
        signal = CODEC.modulate(first) + CODEC.modulate(second)
        assert CODEC.demodulate(IrSignal(jittered(signal.pulses, rng, 0.15))) == [first, second]


def test_unsupported_settings_and_specials_are_refused() -> None:
    with pytest.raises(CommandError) as excinfo:
        CODEC.encode(dataclasses.replace(ON, fan_mode="quiet"), None)
    assert excinfo.value.field == "fan_mode"
    with pytest.raises(ValueError, match="unknown Midea special"):
        CODEC.special("defrost")


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        CODEC.modulate(value(0xA18840FFFF56)).pulses[:60],
        tuple(random.Random(11).randrange(300, 5000) for _ in range(200)),
        COOLIX.modulate(COOLIX.encode(ON, None)[0]).pulses,
    ],
    ids=["empty", "truncated", "noise", "coolix-frame"],
)
def test_garbage_and_other_protocols_are_refused(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(pulses))


def test_decode_refuses_other_headers_and_unknown_specials() -> None:
    with pytest.raises(ProtocolError, match="header"):
        CODEC.decode(bytes.fromhex("B1826FFFFF") + bytes([checksum(bytes.fromhex("B1826FFFFF"))]))
    body = bytes.fromhex("A203FFFFFF")
    with pytest.raises(ProtocolError, match="unknown Midea special"):
        CODEC.decode(body + bytes([checksum(body)]))
    with pytest.raises(ProtocolError):
        CODEC.decode(value(0xA18840FFFF56)[:5])


def test_traits_and_driver_declaration() -> None:
    assert TRAITS.fan_modes == ("auto", "low", "medium", "high")
    assert TRAITS.swing_modes == ("off", "auto")
    assert (TRAITS.min_temp, TRAITS.max_temp, TRAITS.temp_step) == (17.0, 30.0, 1.0)
    assert DRIVER.check() == []
    assert DRIVER.ir_codec is CODEC
    assert CODEC.protocol == "MIDEA"


def test_driver_option_chooses_the_setpoint_unit() -> None:
    assert DRIVER.create_ir is not None
    for unit, flag in (("C", False), ("F", True)):
        encoder = DRIVER.create_ir(MideaOptions(temperature_unit=unit))
        [packet] = encoder.packets(ON, None)
        [message] = CODEC.demodulate(broadlink_to_signal(packet))
        assert bool(message[2] & 0x20) is flag
        assert CODEC.decode(message)["target_temperature"] == 24.0
