"""The smartir driver: SmartIR climate code files (smartir.md §C1, §C2) replayed as Broadlink
packets.

Real files: tests/fixtures/smartir/1000.json (Toyotomi AKIRA) and 1300.json (Sharp AY-B22DM),
from smartHomeHub/SmartIR codes/climate/ at commit e4df295 (MIT, see the LICENSE beside them).
Neither has swing or an "on" code, so those are tested with small synthetic files.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from klima.driver import DriverRegistry
from klima.errors import CommandError, ConfigError
from klima.irpacket import broadlink_to_signal, parse_broadlink, signal_to_broadlink, ticks_to_us
from klima.state import Mode, UnitCommand, UnitState
from klima_drivers.smartir import (
    DRIVER,
    SmartIrEncoder,
    SmartIrFileError,
    SmartIrOptions,
    load_code_file,
)
from klima_drivers.smartir.codes import slug, temperature_key

FIXTURES = Path(__file__).parent.parent / "fixtures" / "smartir"
TOYOTOMI = FIXTURES / "1000.json"
SHARP = FIXTURES / "1300.json"

# Leaf codes copied verbatim from the fixture files (SmartIR e4df295 codes/climate/1000.json and
# 1300.json): the encoder must pick exactly these for the states named.
TOYOTOMI_OFF = (
    "JgCSAAABKZEXNBgQFxEXEBc1FxAYEBcQGDQXERcQGDQXERcQFxEXEBcRFxAYEBcQGBAXNRcQFxEXEBcRFxAYEBc1"
    "FxAXNRcQGBAXNRcQFwACjhcQGBAXEBgQFxEXEBcRFxAXERcQGBAXEBgQFzQYEBcRFxAYEBcQGBAXEBgQFxEXEBcR"
    "FxAXERcQGBAXNBg0FxEXAA0FAAAAAAAA"
)
TOYOTOMI_COOL_MID_24 = (
    "JgCSAAABJ5MWNhUSFRMWNRUTFTcWERUTFRIVExYRFzUWEhUSFRMVEhUTFxAWEhUTFRIVNxUSFhIVEhUTFxEVEhU3"
    "FRIVNxYRFRMXNRYRFgACjxYSFRIWEhUSFRMXEBUTFRIWEhcRFRIVExcQFzUVEhUTFhIVEhUTFRIWEhUSFhIVEhUT"
    "FRMWERUTFTYWEhU3FTYWAA0FAAAAAAAA"
)
TOYOTOMI_HEAT_AUTO_16 = (
    "JgCSAAABKJEXERUTFTYXNRcRFhEVExYRFRMWERUTFRIXERcQFxEXERYRFxEWERcRFhEVNxcRFhEXERYRFxEWERc1"
    "FxEWNRcRFhEVNxcQFQACkBYSFxAXERcRFRIVExUSFxEWERUTFxAVExUSFTcXERUSFxEVEhcRFxAXERcQFxEXERYR"
    "FRMVEhUTFRIXERcQFzUVAA0FAAAAAAAA"
)
TOYOTOMI_FAN_ONLY_HIGH_30 = (
    "JgCSAAABJ5IWNxY2FRIVNxU2FTcWEhUSFRMVNhU3FTcWERUTFRIWEhUTFRIVExUSFRMVNhYSFRIVExUTFBMWEhU2"
    "FhIVNxUSFhIVNhUTFQACkBUSFjYWNhUSFhIVEhUTFRIWEhUSFRMVExQTFjYVEhUTFRIVExUSFRMVExQTFRMVEhUT"
    "FRIVExUSFTcWEhU2FhIVAA0FAAAAAAAA"
)
SHARP_OFF = (
    "JgDWAH0/DxAOMBAPDzAPEBAvDxAPMA8QDjAQEQ0wEC8PEA8wDxAPLxAvDzAOMBAPDxEOMBAvDxAPEQ4QDxEOMBEP"
    "DhEPEA8QDxINEg4wDhEPEQ4QDxEOMQ4QDxEOEQ8QDzAPEA8QDzEOEA8QDxEOMQ4wDxAPEA8RDhEPEQ4QDxEOEQ8Q"
    "DxEOEg4RDjAOMQ4RDxENEg4RDhAPEQ4SDhEOEQ4wEA8QLw8QDxAPEQ8RDhAPEQ4SDhAPEA8RDjEOEA8RDjAQLw8v"
    "EC8PEA8QDxEPLxAQDhEPLxAADQUAAA=="
)
SHARP_COOL_LEVEL3_25 = (
    "JgDWAH0/DxAPLw8RDjAPEQ4wDxEOMA8QDzAPEQ8vDjAQDw8wDxAPMA8vDzEOLw8RDhIPLw4wDxAPEg0RDxAPMA8R"
    "DhAPEQ4RDxEOEQ4xDw8PEQ4RDxAPMQ4QDxAPEQ4wEA8PEQ4RDxEOMQ4QDxAPMQ4vDzAQEA4RDhIOEQ4RDhEOEQ8Q"
    "DxEOMA8QDzEOMA8QDhIOEQ8QDhEPEQ4RDhEOMA8RDhEPLxAQDhEQDw8RDhEPEA8QDxINEQ8QDzAPEA8RDjAPLw8w"
    "EC8OEQ8QDxAPMA8wDjAQMA4ADQUAAA=="
)
SHARP_DRY_AUTO_18 = (
    "JgDWAH5ADhAPMA8QDy8PEQ4wEA8QLxAPEC8PEQ8vDjAPEA8wDxAPMA8vEDAOLxAQDhIPLw4wEA8PEg0RDxAPMBAQ"
    "DhAPEQ4RDxEOEQ4SDRIOEA8RDhEPLw8RDhEPEQ4xDhAPEA8RDjAQLw4RDxAPEQ4wEBAOEQ4RDxAPEBARDREPEA8R"
    "DhINMBAQDjEPMA0SDhEOEQ4RDhEPEA8RDhEPLw8RDhEPLw8RDxAPEQ4SDREPEA8QEBAOEg8QDy8OEQ8RDjEOLxAw"
    "Dy8OEQ8QDxAPMA8wDhEPEQ8ADQUAAA=="
)
SHARP_HEAT_LEVEL1_32 = (
    "JgDWAH1ADhEPLxAQDjAQDxAvDxAPMA8QDzAOEg4wDy8PEA8xDhEOMA8vEC8PMA4RDhEPMA4xDxAPEQ0SDhAPMBAQ"
    "DhEOEQ4wDzAPMA8vDxAPEA8RDhEPMA4RDxAQDw8wDxAPEA8RDjEOEQ4SDhAPMA4wDxEOEg4QDxAQEA4RDxAPEQ4R"
    "DxAPEQ4RDjAPMA4RDxAPEQ4SDhAPEBAQDhIOMA8QDxAPMA4SDhAPEA8RDhEPEA8RDhEPEA8QDzAPEQ4RDjEOMA8w"
    "DjENEQ8QEBAOEg4wDjEOMA4ADQUAAA=="
)

LEARNED_TRAILER_US = ticks_to_us(0x0D05)  # broadlink.md §A10.1: learned codes end "00 0D 05"


def on(mode: Mode, fan: str | None, celsius: float | None, swing: str | None = None) -> UnitState:
    return UnitState(
        power=True, mode=mode, fan_mode=fan, target_temperature=celsius, swing_mode=swing
    )


OFF = UnitState(power=False, mode=Mode.COOL, fan_mode="mid", target_temperature=24.0)


def b64(payloads: list[bytes]) -> list[str]:
    return [base64.b64encode(p).decode() for p in payloads]


def tiny_packet(marker: int) -> str:
    """A small but valid Broadlink IR packet whose first mark tells test codes apart."""
    return base64.b64encode(bytes((0x26, 0, 4, 0, marker, 20, 20, 40))).decode()


def write_file(tmp_path: Path, data: dict[str, Any], name: str = "code.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def swing_file() -> dict[str, Any]:
    """A file with swing nesting, an "on" code and half-degree steps (all synthetic codes)."""
    temps = ["20", "20.5", "21"]
    marker = iter(range(10, 250))
    commands: dict[str, Any] = {"off": tiny_packet(1), "on": tiny_packet(2)}
    for mode in ("auto", "cool"):
        commands[mode] = {
            fan: {
                swing: {t: tiny_packet(next(marker)) for t in temps} for swing in ("Off", "Up Down")
            }
            for fan in ("Auto", "Level 1")
        }
    return {
        "manufacturer": "Test",
        "supportedModels": ["T-1"],
        "supportedController": "Broadlink",
        "commandsEncoding": "Base64",
        "minTemperature": 20,
        "maxTemperature": 21,
        "precision": 0.5,
        "operationModes": ["auto", "cool"],
        "fanModes": ["Auto", "Level 1"],
        "swingModes": ["Off", "Up Down"],
        "commands": commands,
    }


def toyotomi_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TOYOTOMI.read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------------------- real files


def test_toyotomi_file_loads_with_its_traits() -> None:
    code_file = load_code_file(TOYOTOMI)
    traits = code_file.traits
    assert code_file.manufacturer == "Toyotomi"
    assert code_file.models == ("AKIRA GAN/GAG-A128 VL",)
    assert traits.modes == (Mode.HEAT, Mode.COOL, Mode.FAN_ONLY)
    assert traits.fan_modes == ("low", "mid", "high", "auto")
    assert traits.swing_modes == ()
    assert (traits.min_temp, traits.max_temp, traits.temp_step) == (16.0, 30.0, 1.0)
    assert traits.mode_limits == {}
    assert code_file.on is None
    assert code_file.notes == ()  # every combination the traits offer has a code


def test_sharp_file_drops_the_ion_mode_it_cannot_name(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        encoder = SmartIrEncoder.load(SHARP)
    traits = encoder.traits
    assert traits.modes == (Mode.COOL, Mode.HEAT, Mode.DRY)  # "ion" is not a climate mode
    assert traits.fan_modes == ("auto", "level1", "level2", "level3", "level4")
    assert (traits.min_temp, traits.max_temp, traits.temp_step) == (18.0, 32.0, 1.0)
    assert any("'ion'" in note for note in encoder.code_file.notes)
    assert "1300.json" in caplog.text
    assert "'ion'" in caplog.text


@pytest.mark.parametrize(
    ("path", "state", "expected"),
    [
        (TOYOTOMI, OFF, TOYOTOMI_OFF),
        (TOYOTOMI, on(Mode.COOL, "mid", 24.0), TOYOTOMI_COOL_MID_24),
        (TOYOTOMI, on(Mode.HEAT, "auto", 16.0), TOYOTOMI_HEAT_AUTO_16),
        (TOYOTOMI, on(Mode.FAN_ONLY, "high", 30.0), TOYOTOMI_FAN_ONLY_HIGH_30),
        (SHARP, OFF, SHARP_OFF),
        (SHARP, on(Mode.COOL, "level3", 25.0), SHARP_COOL_LEVEL3_25),
        (SHARP, on(Mode.DRY, "auto", 18.0), SHARP_DRY_AUTO_18),
        (SHARP, on(Mode.HEAT, "level1", 32.0), SHARP_HEAT_LEVEL1_32),
    ],
)
def test_exact_payload_for_a_state(path: Path, state: UnitState, expected: str) -> None:
    encoder = SmartIrEncoder.load(path)
    assert b64(encoder.packets(state, previous=None)) == [expected]
    assert b64(encoder.packets(state, previous=state)) == [expected]  # no "on" code: same


@pytest.mark.parametrize("path", [TOYOTOMI, SHARP])
def test_every_combination_is_the_files_own_code(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))["commands"]
    encoder = SmartIrEncoder.load(path)
    traits = encoder.traits
    count = 0
    for mode in traits.modes:
        for fan in traits.fan_modes:
            for celsius in range(int(traits.min_temp), int(traits.max_temp) + 1):
                (packet,) = encoder.packets(on(mode, fan, float(celsius)), None)
                assert packet == base64.b64decode(raw[mode.value][fan][str(celsius)])
                count += 1
    assert count == len(traits.modes) * len(traits.fan_modes) * 15  # both files span 15 °C


@pytest.mark.parametrize("path", [TOYOTOMI, SHARP])
def test_off_is_the_off_code_whatever_the_mode(path: Path) -> None:
    encoder = SmartIrEncoder.load(path)
    off_code = encoder.code_file.off.packets
    for mode in (Mode.HEAT, Mode.COOL, Mode.HEAT_COOL, Mode.DRY):
        state = UnitState(power=False, mode=mode, fan_mode="nonsense", target_temperature=99.0)
        assert encoder.packets(state, on(Mode.COOL, None, None)) == list(off_code)


@pytest.mark.parametrize("path", [TOYOTOMI, SHARP])
def test_packets_decode_through_broadlink_to_signal(path: Path) -> None:
    encoder = SmartIrEncoder.load(path)
    rng = random.Random(1300)
    traits = encoder.traits
    states = [OFF] + [
        on(
            rng.choice(traits.modes),
            rng.choice(traits.fan_modes),
            float(rng.randint(int(traits.min_temp), int(traits.max_temp))),
        )
        for _ in range(20)
    ]
    for state in states:
        (packet,) = encoder.packets(state, None)
        signal = broadlink_to_signal(packet)
        assert signal.carrier_hz == 38_000
        assert len(signal.pulses) % 2 == 0  # mark/space pairs, ending on a space
        assert signal.pulses[0] > 3000  # an AC frame starts with a long header mark
        assert signal.pulses[-1] == LEARNED_TRAILER_US
        # Re-encoding the pulses gives back the very same ticks (padding aside).
        again = signal_to_broadlink(signal)
        assert parse_broadlink(again).ticks == parse_broadlink(packet).ticks


# ---------------------------------------------------------------------------- lookups


def test_unsupported_mode_fan_or_swing_is_a_command_error() -> None:
    encoder = SmartIrEncoder.load(TOYOTOMI)
    with pytest.raises(CommandError) as mode_error:
        encoder.packets(on(Mode.HEAT_COOL, "mid", 24.0), None)
    assert mode_error.value.field == "mode"
    assert mode_error.value.allowed == ["off", "heat", "cool", "fan_only"]
    with pytest.raises(CommandError) as fan_error:
        encoder.packets(on(Mode.COOL, "turbo", 24.0), None)
    assert fan_error.value.field == "fan_mode"
    assert fan_error.value.allowed == ["low", "mid", "high", "auto"]


def test_off_grid_setpoint_is_refused_not_rounded() -> None:
    encoder = SmartIrEncoder.load(TOYOTOMI)
    with pytest.raises(CommandError) as error:
        encoder.packets(on(Mode.COOL, "mid", 24.5), None)
    assert error.value.field == "target_temperature"
    assert "commands.cool.mid.24.5" in error.value.message
    assert "1000.json" in error.value.message
    # The daemon refuses it earlier, from the traits the file gave:
    with pytest.raises(CommandError):
        encoder.traits.validate(UnitCommand(target_temperature=24.5))
    with pytest.raises(CommandError):
        encoder.traits.validate(UnitCommand(target_temperature=31.0))


def test_missing_combination_names_the_key_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = toyotomi_data()
    del data["commands"]["cool"]["low"]["24"]
    del data["commands"]["heat"]["high"]
    with caplog.at_level(logging.WARNING):
        encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    with pytest.raises(CommandError) as temp_error:
        encoder.packets(on(Mode.COOL, "low", 24.0), None)
    assert temp_error.value.field == "target_temperature"
    assert "no code for commands.cool.low.24 " in temp_error.value.message
    with pytest.raises(CommandError) as fan_error:
        encoder.packets(on(Mode.HEAT, "high", 20.0), None)
    assert fan_error.value.field == "fan_mode"
    assert "no code for commands.heat.high " in fan_error.value.message
    # Neighbours still work, and the gap was reported once at load: 1 + 15 temperatures.
    assert encoder.packets(on(Mode.COOL, "low", 23.0), None)
    assert "16 combination(s) have no code" in caplog.text


def test_broken_leaf_code_spoils_only_its_combination(tmp_path: Path) -> None:
    data = toyotomi_data()
    data["commands"]["cool"]["low"]["20"] = "this is not base64!"
    rf = bytes((0xB2, 0, 4, 0, 1, 2, 3, 4))  # an RF 433 MHz packet (broadlink.md §A10.1)
    data["commands"]["cool"]["low"]["21"] = base64.b64encode(rf).decode()
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    assert "2 code(s) cannot be sent" in " ".join(encoder.code_file.notes)
    for celsius, reason in ((20.0, "not valid base64"), (21.0, "RF packet")):
        with pytest.raises(CommandError) as error:
            encoder.packets(on(Mode.COOL, "low", celsius), None)
        assert f"commands.cool.low.{celsius:g}" in error.value.message
        assert reason in error.value.message
    assert b64(encoder.packets(on(Mode.COOL, "mid", 24.0), None)) == [TOYOTOMI_COOL_MID_24]


def test_defaults_for_a_state_that_names_no_fan_or_setpoint() -> None:
    encoder = SmartIrEncoder.load(TOYOTOMI)
    bare = UnitState(power=True, mode=Mode.COOL)
    filled = encoder.effective_state(bare)
    assert (filled.fan_mode, filled.target_temperature) == ("low", 24.0)
    raw = toyotomi_data()["commands"]
    assert b64(encoder.packets(bare, None)) == [raw["cool"]["low"]["24"]]


def test_list_of_codes_is_sent_in_sequence(tmp_path: Path) -> None:
    data = toyotomi_data()
    data["commands"]["cool"]["mid"]["24"] = [tiny_packet(7), TOYOTOMI_COOL_MID_24]
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    sent = b64(encoder.packets(on(Mode.COOL, "mid", 24.0), None))
    assert sent == [tiny_packet(7), TOYOTOMI_COOL_MID_24]


# ---------------------------------------------------------------------------- swing, on, modes


def test_swing_file_nesting_names_and_half_degrees(tmp_path: Path) -> None:
    data = swing_file()
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    traits = encoder.traits
    assert traits.modes == (Mode.HEAT_COOL, Mode.COOL)  # the file's "auto" is heat_cool
    assert traits.fan_modes == ("auto", "level_1")
    assert traits.swing_modes == ("off", "up_down")
    assert traits.temp_step == 0.5
    commands = data["commands"]
    previous = on(Mode.COOL, "auto", 20.0, "off")  # already on: no "on" code in front
    auto, cool = commands["auto"], commands["cool"]
    cases = [
        (on(Mode.HEAT_COOL, "level_1", 20.5, "up_down"), auto["Level 1"]["Up Down"]["20.5"]),
        (on(Mode.COOL, "auto", 21.0, "off"), cool["Auto"]["Off"]["21"]),
        (on(Mode.COOL, "auto", 20.0, None), cool["Auto"]["Off"]["20"]),  # the first swing name
    ]
    for state, expected in cases:
        assert b64(encoder.packets(state, previous)) == [expected]
    with pytest.raises(CommandError) as error:
        encoder.packets(on(Mode.COOL, "auto", 21.0, "sideways"), previous)
    assert error.value.field == "swing_mode"
    assert error.value.allowed == ["off", "up_down"]


def test_missing_swing_level_names_the_files_own_keys(tmp_path: Path) -> None:
    data = swing_file()
    del data["commands"]["cool"]["Level 1"]["Up Down"]
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    with pytest.raises(CommandError) as error:
        encoder.packets(on(Mode.COOL, "level_1", 20.0, "up_down"), None)
    assert error.value.field == "swing_mode"
    assert "commands.cool.Level 1.Up Down " in error.value.message


@pytest.mark.parametrize(
    ("policy", "previous", "sends_on"),
    [
        (None, None, True),  # unknown: the unit may be off, and needs "on" then
        (None, OFF, True),  # switching on
        (None, on(Mode.COOL, "auto", 20.0, "off"), False),  # already on: no double beep
        (True, on(Mode.COOL, "auto", 20.0, "off"), True),  # SmartIR's way: every time
        (False, OFF, False),
    ],
)
def test_on_code_policy(
    tmp_path: Path, policy: bool | None, previous: UnitState | None, sends_on: bool
) -> None:
    data = swing_file()
    encoder = SmartIrEncoder.load(write_file(tmp_path, data), send_on_before_state=policy)
    state_code = data["commands"]["cool"]["Auto"]["Up Down"]["21"]
    sent = b64(encoder.packets(on(Mode.COOL, "auto", 21.0, "up_down"), previous))
    assert sent == ([data["commands"]["on"]] if sends_on else []) + [state_code]
    # Off never sends "on".
    assert b64(encoder.packets(OFF, previous)) == [data["commands"]["off"]]


def test_auto_and_heat_cool_are_one_mode_first_listed_wins(tmp_path: Path) -> None:
    data = swing_file()
    data["operationModes"] = ["heat_cool", "auto", "cool", "fan"]
    data["commands"]["heat_cool"] = copy.deepcopy(data["commands"]["cool"])
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    assert encoder.traits.modes == (Mode.HEAT_COOL, Mode.COOL)
    assert encoder.code_file.mode_keys[Mode.HEAT_COOL] == "heat_cool"
    notes = " ".join(encoder.code_file.notes)
    assert "'auto' is heat_cool again" in notes
    assert "'fan' is not a climate mode" in notes


def test_mode_listed_without_commands_is_dropped(tmp_path: Path) -> None:
    data = toyotomi_data()
    data["operationModes"].append("dry")
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    assert Mode.DRY not in encoder.traits.modes
    assert any("commands.dry is missing" in note for note in encoder.code_file.notes)


def test_mode_with_a_narrower_range_gets_its_own_limits(tmp_path: Path) -> None:
    data = toyotomi_data()
    for fan in data["commands"]["fan_only"].values():
        for celsius in ("16", "17", "29", "30"):
            del fan[celsius]
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    assert encoder.traits.mode_limits == {Mode.FAN_ONLY: (18.0, 28.0)}
    assert encoder.code_file.notes == ()  # nothing the traits offer is missing
    with pytest.raises(CommandError):
        encoder.traits.validate(UnitCommand(mode=Mode.FAN_ONLY, target_temperature=17.0))


def test_unlisted_fan_keys_are_ignored(tmp_path: Path) -> None:
    data = toyotomi_data()
    data["commands"]["cool"]["turbo"] = copy.deepcopy(data["commands"]["cool"]["mid"])
    encoder = SmartIrEncoder.load(write_file(tmp_path, data))
    assert "turbo" not in encoder.traits.fan_modes
    assert any("commands.cool.turbo is not in fanModes" in n for n in encoder.code_file.notes)


def test_names_and_temperature_keys() -> None:
    assert [slug(n) for n in ("Auto", "Level 1", "mid", " Up-Down ", "HIGH+")] == [
        "auto",
        "level_1",
        "mid",
        "up_down",
        "high",
    ]
    assert [temperature_key(t) for t in (16.0, 16.5, 24.0, 30)] == ["16", "16.5", "24", "30"]


# ---------------------------------------------------------------------------- bad files


def _mutate(data: dict[str, Any], change: str) -> dict[str, Any]:
    broken = copy.deepcopy(data)
    commands = broken["commands"]
    match change:
        case "raw_encoding":
            broken["commandsEncoding"] = "Raw"
        case "xiaomi":
            broken["supportedController"] = "Xiaomi"
        case "no_commands":
            del broken["commands"]
        case "no_off":
            del commands["off"]
        case "off_not_base64":
            commands["off"] = "%%%"
        case "off_rf":
            commands["off"] = base64.b64encode(bytes((0xD7, 0, 4, 0, 1, 2, 3, 4))).decode()
        case "mode_not_object":
            commands["cool"] = "JgA="
        case "temperature_key":
            commands["cool"]["mid"]["hot"] = TOYOTOMI_OFF
        case "leaf_number":
            commands["cool"]["mid"]["24"] = 42
        case "no_min":
            del broken["minTemperature"]
        case "min_above_max":
            broken["minTemperature"] = 31
        case "fahrenheit":
            broken["maxTemperature"] = 86
        case "precision_zero":
            broken["precision"] = 0
        case "precision_bool":
            broken["precision"] = True
        case "no_fans":
            broken["fanModes"] = []
        case "fan_clash":
            broken["fanModes"] = ["low", "Low"]
        case "no_modes":
            broken["operationModes"] = ["ion"]
        case "modes_not_list":
            broken["operationModes"] = "cool"
        case _:
            raise AssertionError(change)
    return broken


@pytest.mark.parametrize(
    ("change", "key", "says"),
    [
        ("raw_encoding", "commandsEncoding", "'Raw'"),
        ("xiaomi", "supportedController", "'Xiaomi'"),
        ("no_commands", "commands", "missing"),
        ("no_off", "commands.off", "missing"),
        ("off_not_base64", "commands.off", "not valid base64"),
        ("off_rf", "commands.off", "RF packet"),
        ("mode_not_object", "commands.cool", "expected an object keyed by fan modes"),
        ("temperature_key", "commands.cool.mid.hot", "temperature key"),
        ("leaf_number", "commands.cool.mid.24", "base64 code string"),
        ("no_min", "minTemperature", "missing"),
        ("min_above_max", "minTemperature", "above maxTemperature 30"),
        ("fahrenheit", "maxTemperature", "Fahrenheit"),
        ("precision_zero", "precision", "positive"),
        ("precision_bool", "precision", "expected a number"),
        ("no_fans", "fanModes", "lists no modes"),
        ("fan_clash", "fanModes", "both become 'low'"),
        ("no_modes", "operationModes", "no mode Klima can use"),
        ("modes_not_list", "operationModes", "not a list"),
    ],
)
def test_bad_file_names_file_and_key(tmp_path: Path, change: str, key: str, says: str) -> None:
    path = write_file(tmp_path, _mutate(toyotomi_data(), change), name="broken.json")
    with pytest.raises(SmartIrFileError) as error:
        load_code_file(path)
    assert isinstance(error.value, ConfigError)
    assert error.value.path == path
    assert error.value.key == key
    assert says in error.value.problem
    assert str(path) in str(error.value)
    assert f"{key}: " in str(error.value)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"manufacturer": "x",\n  "commands": {', "not valid JSON: Expecting property name"),
        (b'{"minTemperature": NaN}', "NaN is not a JSON number"),
        (b"[1, 2]", "expected a JSON object"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_unreadable_file(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SmartIrFileError) as error:
        load_code_file(path)
    assert says in str(error.value)
    assert str(path) in str(error.value)


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "a": 1,\n  "b": }', encoding="utf-8")
    with pytest.raises(SmartIrFileError, match=r"line 3 column 8"):
        load_code_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SmartIrFileError, match="file not found"):
        load_code_file(tmp_path / "nope.json")
    with pytest.raises(SmartIrFileError, match="cannot read"):
        load_code_file(tmp_path)  # a directory


def test_random_damage_never_escapes_as_anything_but_a_file_error(tmp_path: Path) -> None:
    """Whatever a hand-edited file looks like, loading ends in a result or SmartIrFileError."""
    rng = random.Random(3)
    original = toyotomi_data()
    junk: list[object] = [None, 0, -1.5, True, "", "x", [], {}, ["JgA="], {"a": 1}]
    path = tmp_path / "damaged.json"
    outcomes: set[str] = set()
    for _ in range(300):
        data = copy.deepcopy(original)
        for _ in range(rng.randint(1, 3)):
            # Half the damage goes deep into the commands tree, where most of a file is.
            node: Any = data["commands"] if rng.random() < 0.5 else data
            while isinstance(node, dict) and node and rng.random() < 0.85:
                key = rng.choice(list(node))
                if not isinstance(node[key], dict) or rng.random() < 0.3:
                    if rng.random() < 0.2:
                        del node[key]
                    else:
                        node[key] = copy.deepcopy(rng.choice(junk))
                    break
                node = node[key]
        path.write_text(json.dumps(data), encoding="utf-8")
        try:
            encoder = SmartIrEncoder.load(path)
        except SmartIrFileError as exc:
            outcomes.add("top level" if exc.key is None or "." not in exc.key else "commands")
            continue
        outcomes.add("loaded with notes" if encoder.code_file.notes else "loaded")
        for mode in encoder.traits.modes:
            with contextlib.suppress(CommandError):  # a damaged leaf: refused, named
                encoder.packets(on(mode, None, None), None)
    assert outcomes == {"top level", "commands", "loaded", "loaded with notes"}


# ---------------------------------------------------------------------------- the driver


def test_driver_declaration_registers_and_builds_the_units_encoder() -> None:
    registry = DriverRegistry({"smartir": DRIVER})
    info = registry.get("smartir")
    assert info.kind == "ir"
    assert info.ir_codec is None
    assert info.create_ir is not None
    options = SmartIrOptions.model_validate({"code_file": str(SHARP)})
    encoder = info.create_ir(options)
    assert isinstance(encoder, SmartIrEncoder)
    assert encoder.traits.modes == (Mode.COOL, Mode.HEAT, Mode.DRY)  # the file's, not generic
    assert b64(encoder.packets(on(Mode.COOL, "level3", 25.0), None)) == [SHARP_COOL_LEVEL3_25]


def test_options_model_is_strict() -> None:
    with pytest.raises(ValidationError):
        SmartIrOptions.model_validate({})
    with pytest.raises(ValidationError):
        SmartIrOptions.model_validate({"code_file": "a.json", "codefile": "b.json"})
    options = SmartIrOptions.model_validate({"code_file": "a.json", "send_on_before_state": True})
    assert options.send_on_before_state is True
    with pytest.raises(ValidationError):
        options.code_file = Path("other.json")  # type: ignore[misc]


def test_unusable_file_from_options_is_a_config_error(tmp_path: Path) -> None:
    assert DRIVER.create_ir is not None
    with pytest.raises(ConfigError, match="file not found"):
        DRIVER.create_ir(SmartIrOptions(code_file=tmp_path / "missing.json"))
