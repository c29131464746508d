"""The simulator's CN105 device role (klima_sim.cn105) fed with bytes, no pty."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from klima.state import Mode, UnitCommand
from klima_drivers.mitsubishi_cn105 import codec
from klima_drivers.mitsubishi_cn105.frames import FrameParser, build_frame, parse_frame
from klima_sim.clock import ManualClock
from klima_sim.cn105 import Cn105Device

if TYPE_CHECKING:
    from conftest import UnitFactory, Vector


@pytest.fixture
def device(make_unit: UnitFactory) -> Cn105Device:
    dev = Cn105Device(make_unit(power=False, mode=Mode.HEAT, target_temperature=20.0))
    dev.receive(codec.encode_connect())
    return dev


def replies(data: bytes) -> list[bytes]:
    return [f.raw for f in FrameParser().feed(data)]


def test_connect_c1_is_answered_with_c2(make_unit: UnitFactory, vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (C1) and test_frame_parser.cpp (C2)
    dev = Cn105Device(make_unit())
    assert dev.receive(vectors["C1"].frame) == vectors["C2"].frame
    assert dev.connected


def test_requests_before_connect_are_ignored(
    make_unit: UnitFactory, vectors: dict[str, Vector]
) -> None:
    # source: SwiCago issue #20 log (C3); echavet tests (C7) — a real unit ignores both
    unit = make_unit(power=False)
    dev = Cn105Device(unit)
    assert dev.receive(vectors["C3"].frame) == b""
    assert dev.receive(vectors["C7"].frame) == b""
    assert unit.power is False
    assert dev.ignored_frames == 2


def test_set_c7_applies_only_flagged_fields_and_is_acknowledged_with_c11(
    device: Cn105Device, vectors: dict[str, Vector]
) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (C7); echavet #290 log (C11)
    device.unit.fan_mode = "quiet"
    assert device.receive(vectors["C7"].frame) == vectors["C11"].frame
    unit = device.unit
    assert (unit.power, unit.mode, unit.target_temperature) == (True, Mode.FAN_ONLY, 19.5)
    assert unit.fan_mode == "quiet"  # not flagged, untouched


def test_set_c8_moves_only_the_vane(device: Cn105Device, vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (C8)
    device.receive(vectors["C8"].frame)
    assert device.unit.swing_mode == "high"
    assert device.unit.power is False


def test_old_unit_reads_only_the_legacy_setpoint_byte(
    make_unit: UnitFactory, vectors: dict[str, Vector]
) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (C9: enhanced byte only, legacy byte 00)
    unit = make_unit(enhanced_setpoint=False)
    dev = Cn105Device(unit)
    dev.receive(codec.encode_connect())
    dev.receive(vectors["C9"].frame)
    assert unit.target_temperature == 31.0  # why the driver never does this to an old unit


def test_settings_query_c3_reports_the_unit(
    device: Cn105Device, vectors: dict[str, Vector]
) -> None:
    # source: SwiCago issue #20 log (C3)
    device.unit.power = True
    device.unit.target_temperature = 21.5
    device.unit.swing_horizontal_mode = "center"
    reply = device.receive(vectors["C3"].frame)
    settings = codec.decode_settings(parse_frame(reply).payload)
    assert (settings.power, settings.mode, settings.target_temperature) == (True, Mode.HEAT, 21.5)
    assert settings.enhanced_setpoint is True


def test_settings_reply_of_an_old_unit_has_no_enhanced_byte(make_unit: UnitFactory) -> None:
    unit = make_unit(enhanced_setpoint=False, target_temperature=22.0)
    dev = Cn105Device(unit)
    dev.receive(codec.encode_connect())
    settings = codec.decode_settings(parse_frame(dev.receive(codec.encode_get(2))).payload)
    assert settings.enhanced_setpoint is False
    assert settings.target_temperature == 22.0


def test_temperatures_report_the_remote_sensor_once_fed(
    device: Cn105Device, vectors: dict[str, Vector]
) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (C10); SwiCago issue #20 log (C4)
    assert device.receive(vectors["C10"].frame) == vectors["C11"].frame
    assert device.unit.remote_temperature == 23.0
    temps = codec.decode_temperatures(parse_frame(device.receive(vectors["C4"].frame)).payload)
    assert temps.room_temperature == 23.0
    assert temps.outdoor_temperature == pytest.approx(device.unit.outdoor_temperature, abs=0.5)


def test_remote_temperature_revert_c22(device: Cn105Device, vectors: dict[str, Vector]) -> None:
    # source: constructed per serial.md §3.4.2 (C22)
    device.receive(vectors["C10"].frame)
    device.receive(vectors["C22"].frame)
    assert device.unit.remote_temperature is None


def test_error_query_reports_the_fault(device: Cn105Device) -> None:
    assert codec.decode_errors(parse_frame(device.receive(codec.encode_get(4))).payload) is None
    device.unit.set_fault("E6")
    reply = device.receive(codec.encode_get(4))
    assert codec.decode_errors(parse_frame(reply).payload) == "E6"


def test_operating_state_follows_the_physics(device: Cn105Device) -> None:
    unit = device.unit
    device.receive(codec.encode_set(UnitCommand(mode=Mode.HEAT, target_temperature=25.0), True))
    assert isinstance(unit.clock, ManualClock)
    unit.clock.advance(600)  # ten simulated minutes: compressor started, coil warm
    state = codec.decode_operating(parse_frame(device.receive(codec.encode_get(6))).payload)
    assert state.operating is True
    assert state.compressor_frequency == unit.compressor_frequency > 0
    assert state.power_w == round(unit.power_w) > 0


def test_run_state_short_request_c19(device: Cn105Device, vectors: dict[str, Vector]) -> None:
    # source: samphonic/mitsubishi-uart #32 log (C19)
    reply = parse_frame(device.receive(vectors["C19"].frame))
    assert reply.code == codec.RUN_STATE
    assert codec.decode_run_state(reply.payload).auto_substate == 0x40


def test_old_unit_never_answers_run_state(
    make_unit: UnitFactory, vectors: dict[str, Vector]
) -> None:
    # source: samphonic/mitsubishi-uart #32 (MSZ-GE/FD units never answer 09) (C19)
    dev = Cn105Device(make_unit(answers_run_state=False))
    dev.receive(codec.encode_connect())
    assert dev.receive(vectors["C19"].frame) == b""


def test_identify_c23_returns_the_capability_record(
    device: Cn105Device, vectors: dict[str, Vector]
) -> None:
    # source: constructed per muart docs (C23); limits as in the MSZ-GS12NA sample
    caps = codec.decode_capabilities(parse_frame(device.receive(vectors["C23"].frame)).payload)
    assert caps.heat_limits == (10.0, 31.0)
    assert caps.cool_dry_limits == (16.0, 31.0)


def test_garbage_split_frames_and_bad_checksums_are_tolerated(
    device: Cn105Device, vectors: dict[str, Vector]
) -> None:
    # source: SwiCago issue #20 log (C3, C4)
    damaged = bytearray(vectors["C4"].frame)
    damaged[-1] ^= 0xFF
    stream = b"\x00\xff" + bytes(damaged) + b"\x13" + vectors["C3"].frame + vectors["C4"].frame
    out = device.receive(stream[:10]) + device.receive(stream[10:30]) + device.receive(stream[30:])
    codes = [parse_frame(r).code for r in replies(out)]
    assert codes == [codec.SETTINGS, codec.TEMPERATURES]
    assert device.bad_frames == 1
    assert device.garbage_bytes > 0


def test_unknown_queries_get_no_reply(device: Cn105Device) -> None:
    assert device.receive(codec.encode_get(0x05)) == b""
    assert device.receive(codec.encode_identify(0xCD)) == b""


def test_invalid_set_values_are_nacked(device: Cn105Device) -> None:
    bad = codec.fixed_payload(codec.SET_SETTINGS, {1: codec.FLAG_MODE, 4: 0x05})
    reply = parse_frame(device.receive(build_frame(0x41, bad)))
    assert codec.decode_set_ack(reply.payload) is False
    assert device.unit.mode is Mode.HEAT
