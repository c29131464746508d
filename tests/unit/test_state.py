"""The state model: immutable states, partial commands, Home-Assistant-aligned JSON."""

from __future__ import annotations

import dataclasses

import pytest

from klima.state import Action, Mode, Observation, StateSource, UnitCommand, UnitState


def test_state_is_immutable() -> None:
    state = UnitState()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.power = True  # type: ignore[misc]


def test_mode_off_means_power_off_and_keeps_operating_mode() -> None:
    state = UnitState(power=True, mode=Mode.COOL, target_temperature=24.0)
    after = state.apply(UnitCommand(mode=Mode.OFF), StateSource.REPORTED)
    assert after.power is False
    assert after.mode is Mode.COOL
    assert after.to_json()["mode"] == "off"
    assert after.to_json()["operating_mode"] == "cool"
    # Power on again resumes the mode the unit kept.
    again = after.apply(UnitCommand(power=True), StateSource.REPORTED)
    assert again.to_json()["mode"] == "cool"


def test_choosing_a_mode_switches_on() -> None:
    state = UnitState(power=False, mode=Mode.HEAT)
    after = state.apply(UnitCommand(mode=Mode.DRY), StateSource.ASSUMED)
    assert after.power is True
    assert after.mode is Mode.DRY
    assert after.state_source is StateSource.ASSUMED


def test_diff_contains_only_changed_settings() -> None:
    a = UnitState(power=True, mode=Mode.HEAT, target_temperature=21.0, fan_mode="auto")
    b = a.replace(target_temperature=22.5, current_temperature=19.0)
    assert a.diff(b).fields() == {"target_temperature": 22.5}
    assert a.diff(a).is_empty()


def test_commands_merge_later_fields_over_earlier() -> None:
    first = UnitCommand(mode=Mode.COOL, target_temperature=24.0)
    later = UnitCommand(target_temperature=25.0, fan_mode="high")
    merged = first.merged(later)
    assert merged.fields() == {"mode": Mode.COOL, "target_temperature": 25.0, "fan_mode": "high"}


def test_observation_with_mode_off_powers_off() -> None:
    state = UnitState(power=True, mode=Mode.HEAT)
    seen = state.observe(
        Observation(mode=Mode.OFF, current_temperature=20.5), StateSource.REPORTED, seen=_now()
    )
    assert seen.power is False and seen.mode is Mode.HEAT
    assert seen.current_temperature == 20.5
    assert seen.last_seen == _now()


def test_json_round_trip_restores_everything_that_matters() -> None:
    state = UnitState(
        power=True,
        mode=Mode.HEAT_COOL,
        target_temperature=22.5,
        fan_mode="quiet",
        swing_mode="swing",
        swing_horizontal_mode="center",
        current_temperature=21.0,
        outdoor_temperature=-3.5,
        action=Action.DEFROSTING,
        compressor_frequency=42,
        state_source=StateSource.EXTERNAL,
        last_seen=_now(),
    )
    assert UnitState.from_json(state.to_json()) == state


def test_published_action_is_off_when_unpowered_and_null_when_unknown() -> None:
    assert UnitState(power=False).to_json()["action"] == "off"
    assert UnitState(power=True).to_json()["action"] is None
    assert UnitState(power=True, action=Action.COOLING).to_json()["action"] == "cooling"


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_a_fault_reported_as_gone_is_cleared_but_an_unread_one_is_kept() -> None:
    state = UnitState(fault_code="E6")
    unread = state.observe(Observation(current_temperature=20.0), StateSource.REPORTED, _now())
    assert unread.fault_code == "E6"
    cleared = state.observe(
        Observation(cleared=frozenset({"fault_code"})), StateSource.REPORTED, _now()
    )
    assert cleared.fault_code is None
