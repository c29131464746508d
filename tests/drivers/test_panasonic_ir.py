"""Panasonic AC IR codec (ir.md §B8, timings §B1, stateful rules §B12).

Vectors are the states published in ir.md §B8, from IRremoteESP8266 v2.9.0
test/ir_Panasonic_test.cpp; each test names its test case.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.irpacket import broadlink_to_signal
from klima.state import Mode, UnitState
from klima_drivers.ir_common.samples import random_state
from klima_drivers.ir_common.sections import jittered
from klima_drivers.panasonic_ir import DRIVER, PanasonicOptions
from klima_drivers.panasonic_ir.codec import (
    CODEC,
    MODELS,
    Model,
    PanasonicCodec,
    PanasonicState,
    template,
)

# ir.md §B8, TestDecodePanasonicAC.SyntheticExample (issue #525), also
# TestSendPanasonicAC.SendDataOnly: JKE, Power Off, Cool, 25C, Fan Auto, Swing(V) Auto.
JKE_OFF_COOL_25 = bytes.fromhex(
    "02 20 E0 04 00 00 00 06  02 20 E0 04 00 30 32 80 AF 00 00 06 60 00 00 80 00 06 83"
)
# ir.md §B8, ir_Panasonic_test.cpp real capture (line ~961): UNKNOWN model, Power On, Cool,
# 26C, Fan Auto, Swing(V) Auto, Swing(H) Auto.
CAPTURE_COOL_26 = bytes.fromhex(
    "02 20 E0 04 00 00 00 06  02 20 E0 04 00 39 34 80 AF 0D 00 0E E0 00 00 81 00 00 1E"
)
# ir.md §B8, TestDecodePanasonicAC.DkeIonRealMessages (issue #1024): DKE, Power On, Heat, 25C,
# Fan Auto, Ion Off.
DKE_HEAT_25 = bytes.fromhex(
    "02 20 E0 04 00 00 00 06  02 20 E0 04 00 4F 32 80 AF 0D 00 06 60 00 00 01 00 06 30"
)
SYNTHETIC_TIMERS = bytes.fromhex("00 06 60")

DKE = PanasonicCodec("DKE")
HEAT_25 = UnitState(
    power=True,
    mode=Mode.HEAT,
    target_temperature=25.0,
    fan_mode="auto",
    swing_mode="auto",
    swing_horizontal_mode="auto",
)


def test_jke_vector_from_fields_and_back() -> None:
    # source: ir.md §B8, TestDecodePanasonicAC.SyntheticExample / TestSendPanasonicAC.SendDataOnly
    fields = PanasonicState(
        power=False,
        mode=3,
        temperature=25,
        fan=7,
        swing_v=0xF,
        timers=SYNTHETIC_TIMERS,
        model_byte=0x80,
        clock=bytes.fromhex("00 06"),
    )
    assert fields.to_bytes() == JKE_OFF_COOL_25
    assert PanasonicState.from_bytes(JKE_OFF_COOL_25) == fields
    assert CODEC.decode(JKE_OFF_COOL_25) == {
        "power": False,
        "mode": "cool",
        "target_temperature": 25.0,
        "fan_mode": "auto",
        "swing_mode": "auto",
        "quiet": False,
        "turbo": False,
        "ion": False,
        "model": "JKE",
    }


def test_real_capture_vector_from_fields_and_back() -> None:
    # source: ir.md §B8, ir_Panasonic_test.cpp real capture (line ~961)
    fields = PanasonicState(
        power=True, mode=3, temperature=26, fan=7, swing_v=0xF, swing_h=0x0D, flags=0x08
    )
    assert fields.to_bytes() == CAPTURE_COOL_26
    assert PanasonicState.from_bytes(CAPTURE_COOL_26) == fields
    decoded = CODEC.decode(CAPTURE_COOL_26)
    assert decoded["model"] == "UNKNOWN"
    assert (decoded["power"], decoded["mode"], decoded["target_temperature"]) == (
        True,
        "cool",
        26.0,
    )
    assert (decoded["swing_mode"], decoded["swing_horizontal_mode"]) == ("auto", "auto")


def test_dke_vector_from_fields_and_back() -> None:
    # source: ir.md §B8, TestDecodePanasonicAC.DkeIonRealMessages (issue #1024)
    fields = dataclasses.replace(
        template("DKE"), power=True, mode=4, flags=0x0E, timers=SYNTHETIC_TIMERS
    )
    assert fields.to_bytes() == DKE_HEAT_25
    assert PanasonicState.from_bytes(DKE_HEAT_25) == fields
    decoded = CODEC.decode(DKE_HEAT_25)
    assert (decoded["model"], decoded["mode"], decoded["ion"]) == ("DKE", "heat", False)


def test_dke_encoder_sets_the_bytes_of_the_dke_capture() -> None:
    # source: ir.md §B8, TestDecodePanasonicAC.DkeIonRealMessages: every byte the encoder owns
    # (mode/power, setpoint, fan/swing V, swing H, model byte, clock) matches the capture.
    [message] = DKE.encode(HEAT_25, HEAT_25)
    for index in (14, 15, 16, 17, 21, 22, 23, 24, 25):
        assert message[index] == DKE_HEAT_25[index], index
    assert message[13] >> 4 == DKE_HEAT_25[13] >> 4
    assert message[13] & 0x01 == 1


@pytest.mark.parametrize("vector", [JKE_OFF_COOL_25, CAPTURE_COOL_26, DKE_HEAT_25])
def test_checksum_is_f4_plus_the_sum(vector: bytes) -> None:
    # ir.md §B8: checksum = (0xF4 + sum of bytes 0..25) mod 256
    assert (0xF4 + sum(vector[:26])) & 0xFF == vector[26]
    with pytest.raises(ProtocolError, match="checksum"):
        CODEC.decode(vector[:26] + bytes([vector[26] ^ 0x01]))


@pytest.mark.parametrize("model", MODELS)
def test_each_model_template_is_detected_as_its_model(model: Model) -> None:
    state = template(model)
    assert PanasonicState.from_bytes(state.to_bytes()).model == model
    codec = PanasonicCodec(model)
    [message] = codec.encode(HEAT_25, HEAT_25)
    decoded = codec.decode(message)
    assert decoded["model"] == model
    assert decoded["mode"] == "heat"


def test_quiet_and_powerful_swap_places_on_ckp_and_rkr() -> None:
    cases: list[tuple[Model, int]] = [("DKE", 0x01), ("CKP", 0x20), ("RKR", 0x20)]
    for model, quiet_bit in cases:
        message = dataclasses.replace(template(model), quiet=True).to_bytes()
        assert message[21] & 0x21 == quiet_bit
        assert CODEC.decode(message)["quiet"] is True
        assert CODEC.decode(message)["turbo"] is False


# --- pulses ------------------------------------------------------------------------------


def test_timings_and_carrier() -> None:
    # ir.md §B1: 36.7 kHz; per section 3456/1728 header, 432 mark, 1296/432 spaces;
    # 432/10000 after section 1, 432/100000 at the end; sent once
    signal = CODEC.modulate(JKE_OFF_COOL_25)
    pulses = signal.pulses
    first = 2 + 8 * 16 + 2
    assert signal.carrier_hz == 36_700
    assert len(pulses) == first + 2 + 19 * 16 + 2
    assert pulses[:2] == (3456, 1728)
    assert pulses[first - 2 : first + 2] == (432, 10_000, 3456, 1728)
    assert pulses[-2:] == (432, 100_000)
    data = pulses[2 : first - 2] + pulses[first + 2 : -2]
    assert set(data[::2]) == {432}
    assert set(data[1::2]) == {1296, 432}
    # LSB first: 0x02 -> 0,1,0,0,0,0,0,0
    assert pulses[3:18:2] == (432, 1296, 432, 432, 432, 432, 432, 432)


def expected_fields(state: UnitState, model: str) -> dict[str, object]:
    fields: dict[str, object] = {
        "power": state.power,
        "mode": state.mode.value,
        # The remote sends 27 °C in fan-only mode.
        "target_temperature": 27.0 if state.mode is Mode.FAN_ONLY else state.target_temperature,
        "fan_mode": state.fan_mode,
        "swing_mode": state.swing_mode,
    }
    if model in ("DKE", "RKR"):
        fields["swing_horizontal_mode"] = state.swing_horizontal_mode
    return fields


@pytest.mark.parametrize("model", [m for m in MODELS if m != "CKP"])
def test_random_states_round_trip_through_pulses(model: Model) -> None:
    codec = PanasonicCodec(model)
    rng = random.Random(13)
    for _ in range(100):
        desired = random_state(codec.traits, rng)
        [message] = codec.encode(desired, rng.choice([None, random_state(codec.traits, rng)]))
        assert codec.demodulate(codec.modulate(message)) == [message]
        decoded = codec.decode(message)
        expected = expected_fields(desired, model)
        assert {k: decoded.get(k) for k in expected} == expected


def test_demodulate_tolerates_15_percent_jitter() -> None:
    rng = random.Random(18)
    for _ in range(100):
        [message] = DKE.encode(random_state(DKE.traits, rng), None)
        noisy = IrSignal(jittered(DKE.modulate(message).pulses, rng, 0.15), 36_700)
        assert DKE.demodulate(noisy) == [message]


def test_through_a_broadlink_packet() -> None:
    assert DRIVER.create_ir is not None
    encoder = DRIVER.create_ir(PanasonicOptions(model="DKE"))
    packets = encoder.packets(HEAT_25, None)
    received = [m for p in packets for m in CODEC.demodulate(broadlink_to_signal(p))]
    assert received == DKE.encode(HEAT_25, None)


# --- stateful behaviour (ir.md §B12) ------------------------------------------------------


def test_full_state_models_are_idempotent() -> None:
    off = HEAT_25.replace(power=False)
    assert DKE.encode(HEAT_25, None) == DKE.encode(HEAT_25, HEAT_25) == DKE.encode(HEAT_25, off)
    assert DKE.decode(DKE.encode(off, HEAT_25)[0])["power"] is False


def test_ckp_power_is_a_toggle() -> None:
    ckp = PanasonicCodec("CKP")
    off = HEAT_25.replace(power=False)

    def toggles(desired: UnitState, previous: UnitState | None) -> bool:
        return ckp.decode(ckp.encode(desired, previous)[0]).get("toggle") == "power"

    assert toggles(HEAT_25, off)  # off -> on flips
    assert toggles(off, HEAT_25)  # on -> off flips
    assert not toggles(HEAT_25, HEAT_25)  # same desired twice: no flip
    assert not toggles(off, off)
    assert not toggles(HEAT_25, None)  # unknown previous state: no toggles
    assert "power" not in ckp.decode(ckp.encode(HEAT_25, HEAT_25)[0])


def test_models_without_horizontal_swing_keep_their_marker() -> None:
    nke = PanasonicCodec("NKE")
    assert nke.traits.swing_horizontal_modes == ()
    [message] = nke.encode(HEAT_25, None)
    assert message[17] == 0x06
    assert "swing_horizontal_mode" not in nke.decode(message)


# --- rejection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pulses",
    [
        (),
        (3456, 1728, 432, 432),
        tuple(random.Random(6).randint(100, 5000) for _ in range(440)),
    ],
)
def test_garbage_pulses_are_protocol_errors(pulses: tuple[int, ...]) -> None:
    with pytest.raises(ProtocolError):
        CODEC.demodulate(IrSignal(pulses, 36_700))


def test_other_brands_frames_are_rejected() -> None:
    from klima_drivers.fujitsu_ir.codec import CODEC as FUJITSU
    from klima_drivers.samsung_ir.codec import CODEC as SAMSUNG
    from klima_drivers.toshiba_ir.codec import CODEC as TOSHIBA

    rng = random.Random(2)
    for other in (FUJITSU, SAMSUNG, TOSHIBA):
        message = other.encode(random_state(other.traits, rng, power=True), None)[0]
        with pytest.raises(ProtocolError):
            CODEC.demodulate(other.modulate(message))


@pytest.mark.parametrize("message", [b"", bytes(27), JKE_OFF_COOL_25[:26], bytes(28)])
def test_garbage_bytes_are_protocol_errors(message: bytes) -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(message)


def test_driver_declaration() -> None:
    assert DRIVER.check() == []
    assert DRIVER.name == "panasonic_ir"
    assert DRIVER.ir_codec is CODEC
    assert CODEC.model == "DKE"
    assert "left_max" in DRIVER.traits.swing_horizontal_modes
