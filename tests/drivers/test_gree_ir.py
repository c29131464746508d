"""GREE (64-bit) codec: ir.md §B4 vectors, §B1 framing, a real capture, round trips."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from klima.errors import ChecksumError, CommandError, ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.gree_ir import DRIVER, GreeOptions
from klima_drivers.gree_ir.codec import (
    CODEC,
    MODE_COOL,
    MODE_HEAT,
    TRAITS,
    GreeCodec,
    GreeFrame,
    checksum,
)
from klima_drivers.ir_common.sections import jittered
from klima_drivers.ir_common.transcript import from_transcript
from klima_drivers.midea_ir.codec import CODEC as MIDEA

ISSUE_386 = bytes.fromhex("19 0A 60 50 02 23 00 F0")
YBOFB_ON = bytes.fromhex("59 07 20 50 01 20 00 C0")
OFF = bytes.fromhex("51 07 20 50 01 20 00 40")

# (id, state, native fields, decoded fields); sources in the comments.
VECTORS: list[tuple[str, bytes, GreeFrame, dict[str, Any]]] = [
    (
        # ir.md §B4, IRremoteESP8266 test/ir_Gree_test.cpp TestDecodeGree.NormalRealExample
        # (issue #386 capture)
        "issue-386-yaw1f-cool-26",
        ISSUE_386,
        GreeFrame(
            power=True, mode=MODE_COOL, fan=1, temperature=26, swing_vertical=2,
            display_temperature=3,
        ),
        {
            "power": True, "model": "YAW1F", "mode": "cool", "target_temperature": 26.0,
            "fan_mode": "low", "swing_mode": "highest", "display_temperature": "outside",
            "light": True,
        },
    ),
    (
        # ir.md §B4, test/ir_Gree_test.cpp TestGreeClass.Issue814Power (YBOFB_on)
        "issue-814-ybofb-on",
        YBOFB_ON,
        GreeFrame(
            power=True, mode=MODE_COOL, fan=1, temperature=23, swing_auto=True,
            swing_vertical=1, power_echo=False,
        ),
        {
            "power": True, "model": "YBOFB", "mode": "cool", "target_temperature": 23.0,
            "fan_mode": "low", "swing_mode": "auto", "display_temperature": "off",
        },
    ),
    (
        # ir.md §B4, same test (off): the power bit clear changes the checksum from C to 4
        "issue-814-off",
        OFF,
        GreeFrame(
            power=False, mode=MODE_COOL, fan=1, temperature=23, swing_auto=True,
            swing_vertical=1, power_echo=False,
        ),
        {"power": False, "mode": "cool", "target_temperature": 23.0, "swing_mode": "auto"},
    ),
    (
        # IRremoteESP8266 test/ir_Gree_test.cpp TestGreeClass.Issue814Power (YAW1F_on)
        "issue-814-yaw1f-on",
        bytes.fromhex("59 07 60 50 01 20 00 C0"),
        GreeFrame(
            power=True, mode=MODE_COOL, fan=1, temperature=23, swing_auto=True,
            swing_vertical=1, power_echo=True,
        ),
        {"power": True, "model": "YAW1F", "swing_mode": "auto"},
    ),
    (
        # IRremoteESP8266 test/ir_Gree_test.cpp TestGreeClass.SetAndGetRaw (expectedState)
        "set-and-get-raw",
        bytes.fromhex("A9 05 D0 50 00 20 00 A0"),
        GreeFrame(
            power=True, mode=MODE_COOL, fan=2, temperature=21, sleep=True, light=False,
            turbo=True, xfan=True,
        ),
        {
            "power": True, "mode": "cool", "target_temperature": 21.0, "fan_mode": "medium",
            "sleep": True, "light": False, "turbo": True, "xfan": True, "swing_mode": "off",
        },
    ),
    (
        # IRremoteESP8266 test/ir_Gree_test.cpp TestGreeClass.Temperature (issue #1121, 63 °F)
        "issue-1121-fahrenheit",
        bytes.fromhex("09 01 20 5C 00 20 00 20"),
        GreeFrame(
            power=True, mode=MODE_COOL, temperature=17, fahrenheit=True, extra_degree_f=True,
            power_echo=False,
        ),
        {"power": True, "target_temperature": 17.5, "temperature_unit": "F"},
    ),
    (
        # IRremoteESP8266 test/ir_Gree_test.cpp TestGreeClass.DisplayTempSource (issue #1118)
        "issue-1118-display-inside",
        bytes.fromhex("4C 04 60 50 01 02 00 A0"),
        GreeFrame(
            power=True, mode=MODE_HEAT, temperature=20, swing_auto=True, swing_vertical=1,
            display_temperature=2, byte5_middle=0,
        ),
        {"mode": "heat", "display_temperature": "inside", "swing_mode": "auto"},
    ),
]  # fmt: skip
IDS = [v[0] for v in VECTORS]

# IRremoteESP8266 test/ir_Gree_test.cpp TestDecodeGree.NormalRealExample: issue #386 capture
# (no trailing gap after the last mark).
REAL_CAPTURE = (
    9008, 4496, 644, 1660, 676, 530, 648, 558, 672, 1636, 646, 1660,
    644, 556, 650, 584, 626, 560, 644, 580, 628, 1680, 624, 560,
    648, 1662, 644, 582, 648, 536, 674, 530, 646, 580, 628, 560,
    670, 532, 646, 562, 644, 556, 672, 536, 648, 1662, 646, 1660,
    652, 554, 644, 558, 672, 538, 644, 560, 668, 560, 648, 1638,
    668, 536, 644, 1660, 668, 532, 648, 560, 648, 1660, 674, 554,
    622, 19990, 646, 580, 624, 1660, 648, 556, 648, 558, 674, 556,
    622, 560, 644, 564, 668, 536, 646, 1662, 646, 1658, 672, 534,
    648, 558, 644, 562, 648, 1662, 644, 584, 622, 558, 648, 562,
    668, 534, 670, 536, 670, 532, 672, 536, 646, 560, 646, 558,
    648, 558, 670, 534, 650, 558, 646, 560, 646, 560, 668, 1638,
    646, 1662, 646, 1660, 646, 1660, 648,
)  # fmt: skip

# IRremoteESP8266 test/ir_Gree_test.cpp TestSendGreeChars.SendData: 12 34 56 78 90 AB CD EF.
SEND_DATA_TRANSCRIPT = """
    f38000d50
    m9000s4500
    m620s540m620s1600m620s540m620s540m620s1600m620s540m620s540m620s540
    m620s540m620s540m620s1600m620s540m620s1600m620s1600m620s540m620s540
    m620s540m620s1600m620s1600m620s540m620s1600m620s540m620s1600m620s540
    m620s540m620s540m620s540m620s1600m620s1600m620s1600m620s1600m620s540
    m620s540m620s1600m620s540
    m620s19980
    m620s540m620s540m620s540m620s540m620s1600m620s540m620s540m620s1600
    m620s1600m620s1600m620s540m620s1600m620s540m620s1600m620s540m620s1600
    m620s1600m620s540m620s1600m620s1600m620s540m620s540m620s1600m620s1600
    m620s1600m620s1600m620s1600m620s1600m620s540m620s1600m620s1600m620s1600
    m620s19980
"""


@pytest.mark.parametrize(("name", "state", "frame", "fields"), VECTORS, ids=IDS)
def test_vector_decodes_to_its_printed_fields(
    name: str, state: bytes, frame: GreeFrame, fields: dict[str, Any]
) -> None:
    decoded = CODEC.decode(state)
    assert {k: decoded.get(k) for k in fields} == fields


@pytest.mark.parametrize(("name", "state", "frame", "fields"), VECTORS, ids=IDS)
def test_vector_encodes_byte_exact_from_native_fields(
    name: str, state: bytes, frame: GreeFrame, fields: dict[str, Any]
) -> None:
    assert frame.to_bytes() == state
    assert GreeFrame.from_bytes(state) == frame


@pytest.mark.parametrize(("name", "state", "frame", "fields"), VECTORS, ids=IDS)
def test_checksum_is_the_kelvinator_nibble_sum(
    name: str, state: bytes, frame: GreeFrame, fields: dict[str, Any]
) -> None:
    low = sum(b & 0xF for b in state[:4])
    high = sum(b >> 4 for b in state[4:7])
    assert state[7] >> 4 == (10 + low + high) % 16 == checksum(state)
    damaged = bytearray(state)
    damaged[1] ^= 0x01
    with pytest.raises(ChecksumError):
        CODEC.decode(bytes(damaged))


def test_the_power_bit_alone_moves_the_checksum_from_c_to_4() -> None:
    # ir.md §B4: "The same settings with the power bit clear changes the checksum from C to 4."
    assert YBOFB_ON[7] >> 4 == 0xC
    assert OFF[7] >> 4 == 0x4
    assert [i for i in range(8) if YBOFB_ON[i] != OFF[i]] == [0, 7]


def test_unit_states_give_the_issue_814_frames_for_a_ybofb_remote() -> None:
    codec = GreeCodec(model="YBOFB")
    on = UnitState(
        power=True, mode=Mode.COOL, target_temperature=23.0, fan_mode="low",
        swing_mode="auto", swing_horizontal_mode="off",
    )  # fmt: skip
    assert codec.encode(on, None) == [YBOFB_ON]
    assert codec.encode(dataclasses.replace(on, power=False), on) == [OFF]
    # The YAW1F remote (the default) echoes the power bit in byte 2 (ir.md §B4).
    assert CODEC.encode(on, None) == [bytes.fromhex("59 07 60 50 01 20 00 C0")]
    assert CODEC.encode(dataclasses.replace(on, power=False), on) == [OFF]


def test_unit_state_gives_the_issue_386_frame_but_for_the_display_source() -> None:
    desired = UnitState(
        power=True, mode=Mode.COOL, target_temperature=26.0, fan_mode="low",
        swing_mode="highest", swing_horizontal_mode="off",
    )  # fmt: skip
    [sent] = CODEC.encode(desired, None)
    # The display source is byte 5's low nibble, which the checksum does not cover.
    assert [i for i in range(8) if sent[i] != ISSUE_386[i]] == [5]
    assert (
        sent
        == dataclasses.replace(GreeFrame.from_bytes(ISSUE_386), display_temperature=0).to_bytes()
    )


def test_modulation_matches_the_library_transcript() -> None:
    raw = bytes.fromhex("12 34 56 78 90 AB CD EF")  # not a valid state: sent as it is
    assert CODEC.modulate(raw) == from_transcript(SEND_DATA_TRANSCRIPT)


def test_timings_block_footer_and_carrier() -> None:
    signal = CODEC.modulate(ISSUE_386)
    pulses = signal.pulses
    assert signal.carrier_hz == 38_000
    assert pulses[:2] == (9000, 4500)
    block1_end = 2 + 2 * 32 + 2 * 3
    assert pulses[block1_end - 6 : block1_end] == (620, 540, 620, 1600, 620, 540)  # 0, 1, 0
    assert pulses[block1_end : block1_end + 2] == (620, 19980)
    assert len(pulses) == block1_end + 2 + 2 * 32 + 2
    assert pulses[-2:] == (620, 19980)
    assert set(pulses[2::2]) == {620}


def test_real_remote_capture_decodes() -> None:
    assert CODEC.demodulate(IrSignal(REAL_CAPTURE)) == [ISSUE_386]


def test_a_wrong_block_footer_is_refused() -> None:
    pulses = list(CODEC.modulate(ISSUE_386).pulses)
    pulses[2 + 64 + 3] = 540  # the footer's middle bit becomes a zero
    with pytest.raises(ProtocolError, match="footer"):
        CODEC.demodulate(IrSignal(tuple(pulses)))


def test_auto_mode_locks_25_and_dry_mode_fan_speed_1_like_the_remote() -> None:
    auto = UnitState(power=True, mode=Mode.HEAT_COOL, target_temperature=19.0, fan_mode="high")
    fields = CODEC.decode(CODEC.encode(auto, None)[0])
    assert (fields["target_temperature"], fields["fan_mode"]) == (25.0, "high")
    dry = UnitState(power=True, mode=Mode.DRY, target_temperature=19.0, fan_mode="high")
    fields = CODEC.decode(CODEC.encode(dry, None)[0])
    assert (fields["target_temperature"], fields["fan_mode"]) == (19.0, "low")


def random_state(rng: random.Random) -> UnitState:
    return UnitState(
        power=rng.random() < 0.8,
        mode=rng.choice(TRAITS.modes),
        target_temperature=float(rng.randrange(16, 31)),
        fan_mode=rng.choice(TRAITS.fan_modes),
        swing_mode=rng.choice(TRAITS.swing_modes),
        swing_horizontal_mode=rng.choice(TRAITS.swing_horizontal_modes),
    )


def expected_fields(state: UnitState) -> dict[str, Any]:
    return {
        "power": state.power,
        "mode": state.mode.value,
        "target_temperature": 25.0 if state.mode is Mode.HEAT_COOL else state.target_temperature,
        "fan_mode": "low" if state.mode is Mode.DRY else state.fan_mode,
        "swing_mode": state.swing_mode,
        "swing_horizontal_mode": state.swing_horizontal_mode,
    }


@pytest.mark.parametrize("model", ["YAW1F", "YBOFB"])
def test_random_states_survive_encode_modulate_demodulate_decode(model: str) -> None:
    codec = GreeCodec(model=model)  # type: ignore[arg-type]
    rng = random.Random(64)
    for _ in range(300):
        desired = random_state(rng)
        [message] = codec.encode(desired, None)
        assert codec.demodulate(codec.modulate(message)) == [message]
        decoded = codec.decode(message)
        expected = expected_fields(desired)
        assert {k: decoded[k] for k in expected} == expected
        assert decoded.get("model") == (model if desired.power else None)


def test_demodulate_tolerates_15_percent_jitter_and_back_to_back_messages() -> None:
    rng = random.Random(9000)
    for _ in range(100):
        first, second = (CODEC.encode(random_state(rng), None)[0] for _ in range(2))
        signal = CODEC.modulate(first) + CODEC.modulate(second)
        assert CODEC.demodulate(IrSignal(jittered(signal.pulses, rng, 0.15))) == [first, second]


def test_full_state_frames_ignore_previous_and_are_idempotent() -> None:
    desired = UnitState(power=True, mode=Mode.HEAT, target_temperature=22.0, swing_mode="auto")
    others = [None, desired, dataclasses.replace(desired, power=False, swing_mode="off")]
    sent = [CODEC.encode(desired, previous) for previous in others]
    assert sent[0] == sent[1] == sent[2]
    assert len(sent[0]) == 1


def test_unsupported_settings_are_refused() -> None:
    with pytest.raises(CommandError) as excinfo:
        CODEC.encode(UnitState(power=True, mode=Mode.COOL, swing_horizontal_mode="wide"), None)
    assert excinfo.value.field == "swing_horizontal_mode"


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        REAL_CAPTURE[:80],
        tuple(random.Random(9).randrange(300, 9000) for _ in range(140)),
        MIDEA.modulate(MIDEA.encode(UnitState(power=True, mode=Mode.COOL), None)[0]).pulses,
    ],
    ids=["empty", "truncated", "noise", "midea-message"],
)
def test_garbage_and_other_protocols_are_refused(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(pulses))


def test_decode_refuses_wrong_length_and_fixed_nibble() -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(ISSUE_386[:7])
    with pytest.raises(ProtocolError, match="byte 3"):
        CODEC.decode(ISSUE_386[:3] + b"\x40" + ISSUE_386[4:])


def test_traits_and_driver_declaration() -> None:
    assert TRAITS.fan_modes == ("auto", "low", "medium", "high")
    assert TRAITS.swing_modes == ("off", "auto", "highest", "high", "middle", "low", "lowest")
    assert TRAITS.swing_horizontal_modes == (
        "off", "auto", "left_max", "left", "middle", "right", "right_max",
    )  # fmt: skip
    assert (TRAITS.min_temp, TRAITS.max_temp, TRAITS.temp_step) == (16.0, 30.0, 1.0)
    assert DRIVER.check() == []
    assert DRIVER.ir_codec is CODEC
    assert CODEC.protocol == "GREE"


def test_driver_option_chooses_the_remote_model() -> None:
    assert DRIVER.create_ir is not None
    desired = UnitState(power=True, mode=Mode.COOL, target_temperature=24.0)
    for remote, echo in (("YAW1F", True), ("YBOFB", False)):
        encoder = DRIVER.create_ir(GreeOptions(remote=remote))
        [packet] = encoder.packets(desired, None)
        [message] = CODEC.demodulate(broadlink_to_signal(packet))
        assert bool(message[2] & 0x40) is echo
    with pytest.raises(ValueError, match="Extra inputs"):
        GreeOptions.model_validate({"model": "YAW1F"})
