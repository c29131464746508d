"""CN105 field codec against public vectors, in both roles, and host<->device round trips.

Vector bytes live in tests/fixtures/cn105_vectors.json; each test names the source of the
vectors it uses (the same source column as serial.md §3.8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from klima.errors import CommandError, ProtocolError
from klima.state import Mode, UnitCommand
from klima_drivers.mitsubishi_cn105 import codec, scales
from klima_drivers.mitsubishi_cn105.frames import parse_frame

if TYPE_CHECKING:
    from conftest import Vector


def payload(raw: bytes) -> bytes:
    return parse_frame(raw).payload


# --- handshake ----------------------------------------------------------------------------


def test_connect_request_c1(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp; SwiCago src/HeatPump.h (serial.md C1)
    assert codec.encode_connect() == vectors["C1"].frame


def test_connect_reply_c2(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_frame_parser.cpp (serial.md C2)
    assert codec.encode_connect_reply() == vectors["C2"].frame


def test_identify_request_c23(vectors: dict[str, Vector]) -> None:
    # source: constructed per the muart-group docs (serial.md C23)
    assert codec.encode_identify() == vectors["C23"].frame


# --- queries ------------------------------------------------------------------------------


def test_get_settings_and_temperatures_c3_c4(vectors: dict[str, Vector]) -> None:
    # source: SwiCago issue #20 log (serial.md C3, C4)
    assert codec.encode_get(codec.SETTINGS) == vectors["C3"].frame
    assert codec.encode_get(codec.TEMPERATURES) == vectors["C4"].frame


def test_short_get_request_c19(vectors: dict[str, Vector]) -> None:
    # source: samphonic/mitsubishi-uart #32 log (serial.md C19)
    assert codec.encode_get(codec.RUN_STATE, short=True) == vectors["C19"].frame


# --- settings (0x02) ----------------------------------------------------------------------

C5_SETTINGS = codec.Settings(
    power=False,
    mode=Mode.HEAT,
    target_temperature=19.5,
    fan_mode="auto",
    swing_mode="auto",
    swing_horizontal_mode="center",
    enhanced_setpoint=True,
)
C6_SETTINGS = codec.Settings(
    power=True,
    mode=Mode.HEAT,
    target_temperature=21.5,
    fan_mode="auto",
    swing_mode="auto",
    swing_horizontal_mode="center",
    enhanced_setpoint=True,
)


@pytest.mark.parametrize(("vector_id", "settings"), [("C5", C5_SETTINGS), ("C6", C6_SETTINGS)])
def test_settings_replies_c5_c6_both_roles(
    vectors: dict[str, Vector], vector_id: str, settings: codec.Settings
) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C5, C6)
    raw = vectors[vector_id].frame
    assert codec.decode_settings(payload(raw)) == settings
    assert codec.encode_settings_reply(settings) == raw


def test_settings_fall_back_to_the_legacy_setpoint_when_enhanced_is_zero(
    vectors: dict[str, Vector],
) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C5) with data[11] cleared,
    # as an old unit sends it
    data = bytearray(payload(vectors["C5"].frame))
    data[11] = 0
    settings = codec.decode_settings(bytes(data))
    assert settings.target_temperature == 19.5  # legacy 1C = 31 - 12 + 0.5
    assert settings.enhanced_setpoint is False


@pytest.mark.parametrize(("code", "mode"), [(0x09, Mode.HEAT), (0x0A, Mode.DRY), (0x0B, Mode.COOL)])
def test_isee_variants_decode_to_the_base_mode(code: int, mode: Mode) -> None:
    data = codec.fixed_payload(codec.SETTINGS, {3: 1, 4: code, 11: 0xAA})
    settings = codec.decode_settings(data)
    assert settings.mode is mode
    assert settings.isee is True


def test_auto_mode_is_not_mistaken_for_isee() -> None:
    settings = codec.decode_settings(codec.fixed_payload(codec.SETTINGS, {4: 0x08}))
    assert settings.mode is Mode.HEAT_COOL
    assert settings.isee is False


def test_unknown_settings_bytes_decode_to_none() -> None:
    data = codec.fixed_payload(codec.SETTINGS, {4: 0x05, 6: 0x04, 7: 0x06, 10: 0x07})
    settings = codec.decode_settings(data)
    assert (settings.mode, settings.fan_mode, settings.swing_mode) == (None, None, None)
    assert settings.swing_horizontal_mode is None


def test_wide_vane_bit7_is_masked() -> None:
    settings = codec.decode_settings(codec.fixed_payload(codec.SETTINGS, {10: 0x83}))
    assert settings.swing_horizontal_mode == "center"


def test_decoder_refuses_a_payload_for_another_code(vectors: dict[str, Vector]) -> None:
    with pytest.raises(ProtocolError, match="expected a payload for code 02, got 03"):
        codec.decode_settings(payload(vectors["C12"].frame))


# --- set settings (0x41/01) ---------------------------------------------------------------

SET_VECTORS = {
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C7, C8, C9)
    "C7": UnitCommand(power=True, mode=Mode.FAN_ONLY, target_temperature=19.5),
    "C8": UnitCommand(swing_mode="high"),  # vertical vane position 2
    "C9": UnitCommand(power=False, target_temperature=21.5),
    # source: constructed per serial.md §3.4.1 (C21)
    "C21": UnitCommand(power=True, mode=Mode.COOL, target_temperature=22.5, fan_mode="auto"),
}


@pytest.mark.parametrize("vector_id", sorted(SET_VECTORS))
def test_set_requests_c7_c8_c9_c21_both_roles(vectors: dict[str, Vector], vector_id: str) -> None:
    command = SET_VECTORS[vector_id]
    raw = vectors[vector_id].frame
    assert codec.encode_set(command, enhanced=True) == raw
    assert codec.decode_set_request(payload(raw)) == command


def test_legacy_set_uses_byte_10_in_whole_degrees() -> None:
    raw = codec.encode_set(UnitCommand(target_temperature=21.0), enhanced=False)
    assert raw[10] == 31 - 21
    assert raw[19] == 0
    assert raw[6] == codec.FLAG_SETPOINT


def test_legacy_set_rounds_half_degrees_up() -> None:
    raw = codec.encode_set(UnitCommand(target_temperature=21.5), enhanced=False)
    assert scales.from_legacy_setpoint(raw[10]) == 22.0


def test_an_old_unit_reads_an_enhanced_only_frame_as_31_degrees(vectors: dict[str, Vector]) -> None:
    # Why the client never sends the enhanced byte alone to a unit that has not shown it:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C9), read as an old unit would
    command = codec.decode_set_request(payload(vectors["C9"].frame), reads_enhanced=False)
    assert command.target_temperature == 31.0


def test_set_carries_only_the_flags_of_present_fields() -> None:
    raw = codec.encode_set(UnitCommand(swing_horizontal_mode="swing"), enhanced=True)
    assert raw[6] == 0
    assert raw[7] == codec.FLAG2_WIDE_VANE
    assert raw[18] == 0x0C


def test_mode_off_becomes_power_off() -> None:
    raw = codec.encode_set(UnitCommand(mode=Mode.OFF), enhanced=True)
    assert raw[6] == codec.FLAG_POWER
    assert raw[8] == 0


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (UnitCommand(fan_mode="turbo"), "fan_mode"),
        (UnitCommand(swing_mode="on"), "swing_mode"),
        (UnitCommand(swing_horizontal_mode="wide"), "swing_horizontal_mode"),
        (UnitCommand(target_temperature=64.0), "target_temperature"),
        (UnitCommand(target_temperature=float("nan")), "target_temperature"),
        (UnitCommand(), None),
    ],
)
def test_set_refuses_what_cn105_cannot_say(command: UnitCommand, field: str | None) -> None:
    with pytest.raises(CommandError) as info:
        codec.encode_set(command, enhanced=True)
    assert info.value.field == field


@pytest.mark.parametrize("celsius", [10.0, 15.0, 32.0])
def test_legacy_setpoint_outside_16_31_is_refused(celsius: float) -> None:
    with pytest.raises(CommandError, match="legacy setpoint scale"):
        codec.encode_set(UnitCommand(target_temperature=celsius), enhanced=False)


def test_device_rejects_unknown_set_values() -> None:
    data = codec.fixed_payload(codec.SET_SETTINGS, {1: codec.FLAG_MODE, 4: 0x05})
    with pytest.raises(ProtocolError, match="mode byte 05"):
        codec.decode_set_request(data)
    data = codec.fixed_payload(codec.SET_SETTINGS, {1: codec.FLAG_POWER, 3: 0x02})
    with pytest.raises(ProtocolError, match="power byte 02"):
        codec.decode_set_request(data)


def test_device_ignores_unflagged_bytes() -> None:
    # muart: a sample set frame carries FF in the fan byte with the fan flag clear.
    data = codec.fixed_payload(codec.SET_SETTINGS, {1: codec.FLAG_POWER, 3: 1, 6: 0xFF})
    assert codec.decode_set_request(data) == UnitCommand(power=True)


# --- remote temperature (0x41/07) ---------------------------------------------------------


def test_remote_temperature_c10_both_roles(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C10): 22.8 °C → 23.0
    assert codec.encode_remote_temperature(22.8) == vectors["C10"].frame
    assert codec.decode_remote_temperature(payload(vectors["C10"].frame)) == 23.0


def test_remote_temperature_revert_c22_both_roles(vectors: dict[str, Vector]) -> None:
    # source: constructed per serial.md §3.4.2 from echavet/SwiCago code (C22)
    assert codec.encode_remote_temperature(None) == vectors["C22"].frame
    assert codec.decode_remote_temperature(payload(vectors["C22"].frame)) is None


def test_remote_temperature_legacy_byte_is_read_without_the_enhanced_one() -> None:
    data = codec.fixed_payload(codec.SET_REMOTE_TEMPERATURE, {1: 1, 2: 0x1E})
    assert codec.decode_remote_temperature(data) == 23.0


def test_remote_temperature_rounds_halves_up() -> None:
    raw = codec.encode_remote_temperature(22.25)
    assert codec.decode_remote_temperature(payload(raw)) == 22.5


def test_remote_temperature_out_of_range_is_refused() -> None:
    with pytest.raises(CommandError, match="enhanced scale"):
        codec.encode_remote_temperature(70.0)


# --- acknowledgement ----------------------------------------------------------------------


def test_set_ack_c11_both_roles(vectors: dict[str, Vector]) -> None:
    # source: echavet issue #290 log; public CN105 .rst write-up for MSZ-HR25VF (serial.md C11)
    assert codec.encode_set_ack() == vectors["C11"].frame
    assert codec.decode_set_ack(payload(vectors["C11"].frame)) is True
    assert codec.decode_set_ack(payload(codec.encode_set_ack(accepted=False))) is False


# --- temperatures (0x03) ------------------------------------------------------------------


def test_temperatures_c12_both_roles(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C12)
    temps = codec.decode_temperatures(payload(vectors["C12"].frame))
    assert temps == codec.Temperatures(room_temperature=23.0)
    assert codec.encode_temperatures_reply(temps) == vectors["C12"].frame


def test_temperatures_with_outdoor_and_runtime_m3(vectors: dict[str, Vector]) -> None:
    # source: muart-group docs it-protocol/0x62-get-response/0x03-get-temperatures.md (GS12NA)
    temps = codec.decode_temperatures(payload(vectors["M3"].frame))
    assert temps.room_temperature == 25.0
    assert temps.outdoor_temperature == 9.0
    assert temps.operating_minutes == 0x01597A


@pytest.mark.parametrize("outdoor_byte", [0x00, 0x01])
def test_outdoor_00_and_01_mean_not_reported(outdoor_byte: int) -> None:
    data = codec.fixed_payload(codec.TEMPERATURES, {3: 0x0D, 5: outdoor_byte})
    assert codec.decode_temperatures(data).outdoor_temperature is None


def test_room_temperature_falls_back_to_the_legacy_byte() -> None:
    data = codec.fixed_payload(codec.TEMPERATURES, {3: 0x0B})
    assert codec.decode_temperatures(data).room_temperature == 21.0


# --- errors (0x04) ------------------------------------------------------------------------


def test_no_error_c17_both_roles(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp; samphonic/mitsubishi-uart #32 (C17)
    assert codec.decode_errors(payload(vectors["C17"].frame)) is None
    assert codec.encode_errors_reply(None) == vectors["C17"].frame


def test_fault_codes_follow_the_muart_mapping() -> None:
    # source: muart-group docs packet-reference/0x62-get-response/0x04-get-error-state.md
    assert scales.fault_code_name(0x00) == "A0"
    assert scales.fault_code_name(0x46) == "E6"
    assert scales.fault_code_name(0xE9) == "U9"
    assert scales.fault_code_name(0x30) == "bO"
    assert scales.fault_code_name(0x1F) == "1F"  # outside the table: the raw byte


def test_fault_word_without_a_code_byte_is_not_hidden() -> None:
    data = codec.fixed_payload(codec.ERRORS, {4: 0x81, 5: 0x02})
    assert codec.decode_errors(data) == "0102"


# --- operating state (0x06) ---------------------------------------------------------------


def test_operating_state_c15_both_roles(vectors: dict[str, Vector]) -> None:
    # source: echavet components/cn105/hp_readings.cpp comment (serial.md C15)
    state = codec.decode_operating(payload(vectors["C15"].frame))
    assert state == codec.OperatingState(
        compressor_frequency=26, operating=True, power_w=0, energy_kwh=0.0
    )
    assert codec.encode_operating_reply(state) == vectors["C15"].frame


def test_idle_compressor_noise_is_forced_to_zero() -> None:
    data = codec.fixed_payload(codec.OPERATING_STATE, {3: 0x1A, 4: 0})
    assert codec.decode_operating(data).compressor_frequency == 0


def test_power_and_energy_are_big_endian() -> None:
    data = codec.fixed_payload(codec.OPERATING_STATE, {4: 1, 5: 0x02, 6: 0x9A, 7: 0x30, 8: 0x39})
    state = codec.decode_operating(data)
    assert state.power_w == 666
    assert state.energy_kwh == 1234.5


def test_energy_counter_wraps_at_16_bits() -> None:
    raw = codec.encode_operating_reply(
        codec.OperatingState(compressor_frequency=0, operating=False, power_w=5, energy_kwh=6553.6)
    )
    assert codec.decode_operating(payload(raw)).energy_kwh == 0.0


# --- run state (0x09) ---------------------------------------------------------------------


def test_run_state_m4(vectors: dict[str, Vector]) -> None:
    # source: muart-group docs it-protocol/0x62-get-response/0x09-get-run-state.md
    state = codec.decode_run_state(payload(vectors["M4"].frame))
    assert state == codec.RunState(fan_stage=2, auto_substate=0x40)
    assert codec.encode_run_state_reply(state) == vectors["M4"].frame


def test_run_state_flags() -> None:
    data = codec.fixed_payload(codec.RUN_STATE, {3: 0x02 | 0x08 | 0x01})
    state = codec.decode_run_state(data)
    assert (state.defrost, state.preheat, state.standby) == (True, False, True)


# --- capabilities (0x7B / C9) -------------------------------------------------------------


def test_capabilities_of_an_msz_gs12na_m1(vectors: dict[str, Vector]) -> None:
    # source: muart-group docs it-protocol/0x7B-identify-response/0xC9-base-capabilities.md
    caps = codec.decode_capabilities(payload(vectors["M1"].frame))
    assert (caps.heat, caps.dry, caps.fan_only) == (True, True, True)
    assert (caps.vertical_vane, caps.vane_swing, caps.auto_fan) == (True, True, True)
    assert caps.fan_speeds == 5
    assert caps.outdoor_temperature is True
    assert caps.mode_limits() == {
        Mode.COOL: (16.0, 31.0),
        Mode.DRY: (16.0, 31.0),
        Mode.HEAT: (10.0, 31.0),
        Mode.HEAT_COOL: (16.0, 31.0),
    }


def test_capabilities_of_an_msz_ge35va_have_no_limits_m2(vectors: dict[str, Vector]) -> None:
    # source: muart-group docs it-protocol/0x7B-identify-response/0xC9-base-capabilities.md
    caps = codec.decode_capabilities(payload(vectors["M2"].frame))
    assert caps.extended_range is False
    assert caps.mode_limits() == {}
