"""The config file: the minimal example works as written; every mistake names its key and unit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from klima.config import json_schema, load_config, read_secret
from klima.driver import default_registry
from klima.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
[mqtt]
url = "mqtt://127.0.0.1:1883"
base_topic = "klima"

[database]
url = "sqlite:////var/lib/klima/klima.db"

[[units]]
id = "living_room"
name = "Living room"
driver = "mitsubishi_cn105"
port = "/dev/ttyUSB0"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "klima.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_file_from_the_issue_works_as_written(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL), default_registry())
    assert config.mqtt.url == "mqtt://127.0.0.1:1883"
    assert not config.mqtt.embedded
    assert config.database_url() == "sqlite:////var/lib/klima/klima.db"
    (unit,) = config.units
    assert (unit.id, unit.display_name, unit.driver, unit.port) == (
        "living_room",
        "Living room",
        "mitsubishi_cn105",
        "/dev/ttyUSB0",
    )


def test_no_mqtt_section_means_embedded_broker(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "[daemon]\nlog_level = 'debug'\n"))
    assert config.mqtt.embedded
    assert config.units == []


def test_example_config_in_repo_is_valid() -> None:
    config = load_config(ROOT / "config" / "klima.example.toml", default_registry())
    assert [u.id for u in config.units] == ["living_room"]


def test_every_error_is_reported_with_key_path_and_unit(tmp_path: Path) -> None:
    text = MINIMAL.replace('port = "/dev/ttyUSB0"', 'port = "/dev/ttyUSB0"\npoll_intervall = 3')
    text += '\n[[units]]\nid = "Bad Id"\ndriver = "mitsubishi_cn105"\n'
    text = text.replace('base_topic = "klima"', 'base_topic = "klima/#"')
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text), default_registry())
    problems = err.value.problems
    assert any("units[0] (unit 'living_room').poll_intervall: unknown key" in p for p in problems)
    assert any(p.startswith("units[1] (unit 'Bad Id').id") for p in problems)
    assert any(p.startswith("mqtt.base_topic") for p in problems)
    assert str(tmp_path / "klima.toml") in str(err.value)


def test_unknown_driver_and_bad_options_are_named(tmp_path: Path) -> None:
    text = MINIMAL.replace("mitsubishi_cn105", "mitsubishi_cn999")
    text += '\n[[units]]\nid = "b"\ndriver = "mitsubishi_cn105"\nport = "/dev/x"\n'
    text += "options = { nope = 1 }\n"
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text), default_registry())
    problems = err.value.problems
    assert any(
        "unit 'living_room'" in p and "unknown driver 'mitsubishi_cn999'" in p for p in problems
    )
    assert any("units[1] (unit 'b').options.nope" in p for p in problems)


def test_serial_unit_needs_a_port_and_ids_are_unique(tmp_path: Path) -> None:
    text = MINIMAL.replace('port = "/dev/ttyUSB0"', "")
    with pytest.raises(ConfigError, match="port: required"):
        load_config(_write(tmp_path, text), default_registry())
    with pytest.raises(ConfigError, match="used twice"):
        load_config(_write(tmp_path, MINIMAL + "[[units]]" + MINIMAL.split("[[units]]")[1]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[mqtt\nurl=1", "not valid TOML"),
        ("[mqtt]\nurl = 'http://x'", "mqtt.url"),
        ('[[units]]\nid = "bridge"\ndriver = "mitsubishi_cn105"\nport = "/dev/x"', "reserved"),
    ],
)
def test_broken_files_give_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text), default_registry())
    assert message in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_secret_from_systemd_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt_password").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert read_secret(Path("mqtt_password")) == "s3cret"
    with pytest.raises(ConfigError, match="does not exist"):
        read_secret(Path("other"))


def test_committed_schema_is_current() -> None:
    committed = json.loads((ROOT / "config" / "klima.schema.json").read_text())
    assert committed == json_schema(), "run: klima schema > config/klima.schema.json"


@pytest.mark.parametrize(
    ("mqtt", "message"),
    [
        ('url = "mqtt://127.0.0.1:0"', "port 0"),
        ('url = "mqtt://user:pw@127.0.0.1"', "credentials"),
        ('url = "mqtt://127.0.0.1"\nca_file = "/etc/ca.crt"', "need mqtts://"),
        ('url = "mqtts://127.0.0.1"\ncert_file = "/etc/c.crt"', "both cert_file and key_file"),
        ('url = "mqtt://127.0.0.1"\npassword_file = "pw"', "username is not"),
        ('url = "embedded"\nembedded_host = "0.0.0.0"', "loopback only"),
    ],
)
def test_check_config_catches_what_the_broker_connection_would_refuse(
    tmp_path: Path, mqtt: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, f"[mqtt]\n{mqtt}\n"))
    assert message in str(err.value)
    assert "mqtt" in str(err.value)


def test_schema_and_driver_errors_are_reported_in_one_pass(tmp_path: Path) -> None:
    text = MINIMAL.replace('base_topic = "klima"', 'base_topic = "klima"\ntypo = 1')
    text += '\n[[units]]\nid = "office"\ndriver = "daikin_s99"\nport = "/dev/x"\n'
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text), default_registry())
    problems = err.value.problems
    assert any(p.startswith("mqtt.typo: unknown key") for p in problems)
    assert any("unit 'office').driver: unknown driver 'daikin_s99'" in p for p in problems)


def test_the_ir_config_from_the_issue_works_as_written(tmp_path: Path) -> None:
    text = """
[[blasters]]
id = "hall"
host = "192.168.1.50"   # optional: port = 80, mac = "…", devtype = 0x6026

[[units]]
id = "bedroom"
driver = "mitsubishi_ir"
blaster = "hall"
"""
    config = load_config(_write(tmp_path, text), default_registry())
    (blaster,) = config.blasters
    assert (blaster.id, blaster.host, blaster.port) == ("hall", "192.168.1.50", 80)
    assert config.units[0].blaster == "hall"
    with pytest.raises(ConfigError, match="names blaster 'attic'"):
        load_config(_write(tmp_path, text.replace('blaster = "hall"', 'blaster = "attic"')))
    with pytest.raises(ConfigError, match="blaster: required for IR driver"):
        load_config(_write(tmp_path, text.replace('blaster = "hall"', "")), default_registry())


def test_smartir_limits_are_checked_against_the_code_file(tmp_path: Path) -> None:
    sharp = ROOT / "tests" / "fixtures" / "smartir" / "1300.json"  # 18..32 °C
    text = f"""
[[blasters]]
id = "hall"
host = "127.0.0.1"

[[units]]
id = "lounge"
driver = "smartir"
blaster = "hall"
min_temp = 31.0
max_temp = 32.0
options = {{ code_file = "{sharp}" }}
"""
    config = load_config(_write(tmp_path, text), default_registry())
    assert config.units[0].max_temp == 32.0
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="options: SmartIR code file"):
        load_config(_write(tmp_path, text.replace(str(sharp), str(broken))), default_registry())
