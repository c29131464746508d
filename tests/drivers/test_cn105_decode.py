"""decode_frame: the field-debugging view of single frames (what `klima decode` prints)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from klima.errors import ChecksumError, ProtocolError, TruncatedFrameError
from klima_drivers.mitsubishi_cn105 import DRIVER
from klima_drivers.mitsubishi_cn105.decode import decode_frame
from klima_drivers.mitsubishi_cn105.frames import build_frame

if TYPE_CHECKING:
    from conftest import Vector


def test_every_vector_decodes_with_a_direction_and_a_type(cn105_vector: Vector) -> None:
    out = decode_frame(cn105_vector.frame)
    assert out["direction"] == cn105_vector.direction
    assert out["frame_type"] in {
        "set",
        "set_reply",
        "get",
        "get_reply",
        "connect",
        "connect_reply",
        "identify",
        "identify_reply",
    }
    assert out["raw"] == cn105_vector.frame.hex(" ").upper()


def test_settings_reply_c6(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C6)
    assert decode_frame(vectors["C6"].frame) == {
        "direction": "from_unit",
        "frame_type": "get_reply",
        "command": "settings",
        "fields": {
            "power": "ON",
            "mode": "heat",
            "target_temperature": 21.5,
            "fan_mode": "auto",
            "swing_mode": "auto",
            "swing_horizontal_mode": "center",
            "isee": False,
            "setpoint_scale": "enhanced",
        },
        "raw": vectors["C6"].frame.hex(" ").upper(),
    }


def test_set_request_c7_shows_only_flagged_fields(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C7)
    out = decode_frame(vectors["C7"].frame)
    assert (out["direction"], out["frame_type"], out["command"]) == ("to_unit", "set", "settings")
    assert out["fields"] == {"power": "ON", "mode": "fan_only", "target_temperature": 19.5}


def test_remote_temperature_c10_and_revert_c22(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (C10); constructed per serial.md (C22)
    c10 = decode_frame(vectors["C10"].frame)
    assert c10["command"] == "remote_temperature"
    assert c10["fields"] == {"remote_temperature": 23.0, "use_internal_sensor": False}
    c22 = decode_frame(vectors["C22"].frame)
    assert c22["fields"] == {"remote_temperature": None, "use_internal_sensor": True}


def test_temperatures_c12(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C12)
    out = decode_frame(vectors["C12"].frame)
    assert out["command"] == "temperatures"
    assert out["fields"] == {
        "current_temperature": 23.0,
        "outdoor_temperature": None,
        "operating_minutes": None,
    }


def test_operating_state_c15(vectors: dict[str, Vector]) -> None:
    # source: echavet components/cn105/hp_readings.cpp comment (serial.md C15)
    out = decode_frame(vectors["C15"].frame)
    assert out["command"] == "operating_state"
    assert out["fields"] == {
        "compressor_frequency": 26,
        "operating": True,
        "power_w": 0,
        "energy_kwh": 0.0,
    }


def test_errors_c17(vectors: dict[str, Vector]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md C17)
    out = decode_frame(vectors["C17"].frame)
    assert (out["command"], out["fields"]) == ("errors", {"fault_code": None})


def test_get_requests_name_their_query(vectors: dict[str, Vector]) -> None:
    # source: SwiCago issue #20 log (C3); samphonic/mitsubishi-uart #32 log (C19)
    assert decode_frame(vectors["C3"].frame)["command"] == "settings"
    assert decode_frame(vectors["C19"].frame)["command"] == "run_state"
    assert decode_frame(vectors["C19"].frame)["fields"] == {}


def test_handshake_and_ack(vectors: dict[str, Vector]) -> None:
    # source: echavet tests (C1, C2); echavet #290 log (C11)
    assert decode_frame(vectors["C1"].frame)["frame_type"] == "connect"
    assert decode_frame(vectors["C2"].frame)["frame_type"] == "connect_reply"
    ack = decode_frame(vectors["C11"].frame)
    assert (ack["frame_type"], ack["fields"]) == ("set_reply", {"accepted": True})


def test_identify_and_capabilities(vectors: dict[str, Vector]) -> None:
    # source: constructed per muart docs (C23); muart docs C9 sample of an MSZ-GS12NA (M1)
    assert decode_frame(vectors["C23"].frame)["fields"] == {"record": "C9"}
    caps = decode_frame(vectors["M1"].frame)
    assert caps["command"] == "capabilities"
    assert caps["fields"]["mode_limits"]["heat"] == [10.0, 31.0]
    assert set(caps["fields"]["modes"]) == {"heat", "cool", "dry", "fan_only", "heat_cool"}


def test_unknown_query_shows_its_payload() -> None:
    out = decode_frame(build_frame(0x62, bytes.fromhex("42 01 02 03")))
    assert out["command"] == "code_42"
    assert out["fields"] == {"payload": "42 01 02 03"}


def test_bad_checksum_is_a_checksum_error_with_a_clear_message(vectors: dict[str, Vector]) -> None:
    raw = bytearray(vectors["C12"].frame)
    raw[-1] = 0x00
    with pytest.raises(ChecksumError, match="expected 9F"):
        decode_frame(bytes(raw))


def test_truncated_frame_is_a_truncated_frame_error(vectors: dict[str, Vector]) -> None:
    with pytest.raises(TruncatedFrameError):
        decode_frame(vectors["C12"].frame[:-3])


def test_all_decode_errors_are_protocol_errors(vectors: dict[str, Vector]) -> None:
    for bad in (b"\x00\x01", vectors["C5"].frame[:7], vectors["C5"].frame + b"\x00"):
        with pytest.raises(ProtocolError):
            decode_frame(bad)


def test_driver_declares_the_decoder(vectors: dict[str, Vector]) -> None:
    assert DRIVER.decode_frame is decode_frame
