"""Invariants of the driver registry: every installed driver is well declared and findable."""

from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points

import pytest
from pydantic import ValidationError

from klima.driver import ENTRY_POINT_GROUP, DriverInfo, DriverRegistry, default_registry
from klima.errors import UnknownDriverError
from klima.state import Mode


def test_every_entry_point_loads_as_a_valid_driver_of_the_same_name() -> None:
    points = list(entry_points(group=ENTRY_POINT_GROUP))
    assert points, "no drivers are installed"
    registry = default_registry()
    for ep in points:
        info = ep.load()
        assert isinstance(info, DriverInfo)
        assert info.name == ep.name
        assert info.check() == []
        assert registry.get(ep.name) is info


@pytest.mark.parametrize("info", default_registry().all(), ids=lambda i: i.name)
def test_driver_declaration_is_complete(info: DriverInfo) -> None:
    traits = info.traits
    assert Mode.OFF not in traits.modes
    assert traits.min_temp < traits.max_temp
    assert traits.temp_step in (0.5, 1.0)
    # Options are either all optional or only miss what must be given; unknown keys are refused.
    required = [n for n, f in info.options_model.model_fields.items() if f.is_required()]
    if required:
        with pytest.raises(ValidationError) as err:
            info.options_model.model_validate({})
        assert {e["type"] for e in err.value.errors()} == {"missing"}
    else:
        info.options_model.model_validate({})
    with pytest.raises(ValueError, match="Extra inputs"):
        info.options_model.model_validate({"surely_not_an_option": 1})
    if info.kind == "serial":
        assert info.serial is not None and info.create_client is not None
        assert info.decode_frame is not None, "serial drivers must support `klima decode`"
    if info.kind == "ir":
        assert info.create_ir is not None
    assert info.to_json()["traits"]["modes"][0] == "off"


def test_registry_refuses_bad_or_duplicate_drivers() -> None:
    good = default_registry().get("mitsubishi_cn105")
    registry = DriverRegistry({good.name: good})
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(good)
    with pytest.raises(ValueError, match="lower_snake_case"):
        registry.register(dataclasses.replace(good, name="Bad-Name"))
    with pytest.raises(ValueError, match="serial settings"):
        registry.register(dataclasses.replace(good, name="other", create_client=None))
    with pytest.raises(UnknownDriverError, match="known: mitsubishi_cn105"):
        registry.get("daikin_s99")


def test_a_broken_brand_pack_is_skipped_not_fatal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    good = default_registry().get("mitsubishi_cn105")

    class FakeEntryPoint:
        def __init__(self, name: str, value: object) -> None:
            self.name = name
            self._value = value

        def load(self) -> object:
            if isinstance(self._value, Exception):
                raise self._value
            return self._value

    points = [
        FakeEntryPoint("mitsubishi_cn105", good),
        FakeEntryPoint("mitsubishi_cn105", good),  # the same name twice
        FakeEntryPoint("bad_models", dataclasses.replace(good, name="bad_models", models=())),
        FakeEntryPoint("crashes", ImportError("missing dependency")),
        FakeEntryPoint("not_info", object()),
    ]
    monkeypatch.setattr("klima.driver.entry_points", lambda group: points)
    registry = DriverRegistry.from_entry_points()
    assert registry.names() == ["mitsubishi_cn105"]
    text = caplog.text
    assert "registered twice" in text and "models is empty" in text and "crashes" in text
