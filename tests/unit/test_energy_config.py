"""The [energy] and [units.energy] config: every mistake is a clear error before start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from klima.cli.main import main
from klima.config import load_config, validate_config
from klima.energy.setup import load_energy
from klima.errors import ConfigError
from klima_drivers.profiles import list_profiles

if TYPE_CHECKING:
    from pathlib import Path


def _units(*energies: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": f"u{i}", "driver": "mitsubishi_cn105", "port": "/dev/null", "energy": energy}
        for i, energy in enumerate(energies)
    ]


TWO_LEADERS = {"outdoor_unit_shared_with": ["u2"]}
RATINGS = {"nominal_capacity_btuh": 9000, "hspf2": 9}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"energy": {"tariff": "a.toml", "prices": "p.csv"}}, "tariff or prices, not both"),
        ({"energy": {"price_topic": "prices/now"}}, "need a currency"),
        ({"energy": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
        ({"energy": {"billing_day": 31}}, "less than or equal to 28"),
        ({"units": _units({"outdoor_unit_shared_with": ["u0"]})}, "not another configured unit"),
        ({"units": _units({"outdoor_unit_shared_with": ["ghost"]})}, "'ghost'"),
        ({"units": _units(TWO_LEADERS, TWO_LEADERS, {})}, "shared by two outdoor units"),
        ({"units": _units({"profile": "x", "heating": RATINGS})}, "not both"),
        ({"units": _units({"meter": {"topic": "plugs/+/power"}})}, "pattern"),
    ],
)
def test_config_mistakes_are_named(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    assert message in str(info.value)


def test_unknown_profiles_and_broken_tariffs_are_reported_together(tmp_path: Path) -> None:
    tariff = tmp_path / "broken.toml"
    tariff.write_text("name = ", encoding="utf-8")
    config = validate_config(
        {"energy": {"tariff": str(tariff)}, "units": _units({"profile": "no_such_unit"})}
    )
    with pytest.raises(ConfigError) as info:
        load_energy(config)
    text = str(info.value)
    assert "2 error(s)" in text
    assert "not valid TOML" in text
    assert "no_such_unit" in text
    assert list_profiles()[0] in text  # the known profiles are listed


def test_ratings_make_a_profile_and_relative_tariffs_are_found_next_to_the_config(
    tmp_path: Path,
) -> None:
    (tmp_path / "tariffs").mkdir()
    (tmp_path / "tariffs" / "flat.toml").write_text(
        'currency = "CHF"\n[[periods]]\nname = "flat"\ntiers = [{rate = "0.3"}]\n',
        encoding="utf-8",
    )
    path = tmp_path / "klima.toml"
    path.write_text(
        '[energy]\ntariff = "tariffs/flat.toml"\n'
        '[[units]]\nid = "a"\ndriver = "mitsubishi_cn105"\nport = "/dev/null"\n'
        "[units.energy]\nheating = {nominal_capacity_btuh = 9000, hspf2 = 9.5}\n",
        encoding="utf-8",
    )
    setup = load_energy(load_config(path))
    assert setup.tariff is not None
    assert setup.tariff.currency == "CHF"
    profile = setup.profiles["a"]
    assert profile is not None
    assert profile.heating_table()  # built from the ratings
    assert not profile.cooling_table()


def test_check_config_checks_the_tariff_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "klima.toml"
    path.write_text('[energy]\ntariff = "missing.json"\n', encoding="utf-8")
    assert main(["check-config", str(path)]) == 1
    assert "missing.json" in capsys.readouterr().err


def test_profiles_command_lists_the_shipped_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for name in list_profiles():
        assert name in out
    assert "NEEP" in out


def test_a_relative_profile_file_is_found_next_to_the_config(tmp_path: Path) -> None:
    source = list_profiles()[0]
    from klima_drivers.profiles import load_profile

    shipped = load_profile(source)
    (tmp_path / "profiles").mkdir()
    text = shipped.model_dump_json(exclude_none=True)
    (tmp_path / "profiles" / "mine.toml").write_text(_json_to_toml(text), encoding="utf-8")
    path = tmp_path / "klima.toml"
    path.write_text(
        '[[units]]\nid = "a"\ndriver = "mitsubishi_cn105"\nport = "/dev/null"\n'
        '[units.energy]\nprofile = "profiles/mine.toml"\n'
        "[energy]\nsample_retention_days = 0\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.units[0].energy.profile == str(tmp_path / "profiles" / "mine.toml")
    assert config.energy.sample_retention_days == 0  # forever
    assert load_energy(config).profiles["a"] == shipped


def _json_to_toml(text: str) -> str:
    """A profile as TOML (inline tables): the shipped file's own data, written back."""
    import json

    def value(item: Any) -> str:
        if isinstance(item, dict):
            return "{" + ", ".join(f"{k} = {value(v)}" for k, v in item.items()) + "}"
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        return json.dumps(item)

    data = json.loads(text)
    return "\n".join(f"{key} = {value(item)}" for key, item in data.items()) + "\n"
