"""Schedule value types: parsing ``at``, JSON round trips and the errors users will see."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from klima.schedule.model import DAYS, At, Block, Program, Settings, Site, Vacation, weekday

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "anchor", "offset", "canonical"),
    [
        ("06:30", "clock", timedelta(hours=6, minutes=30), "06:30"),
        ("6:05", "clock", timedelta(hours=6, minutes=5), "06:05"),
        ("00:00", "clock", timedelta(0), "00:00"),
        ("23:59", "clock", timedelta(hours=23, minutes=59), "23:59"),
        ("sunrise", "sunrise", timedelta(0), "sunrise"),
        ("sunset", "sunset", timedelta(0), "sunset"),
        ("sunset-00:30", "sunset", -timedelta(minutes=30), "sunset-00:30"),
        ("sunrise+01:15", "sunrise", timedelta(hours=1, minutes=15), "sunrise+01:15"),
        (" Sunset+1:00 ", "sunset", timedelta(hours=1), "sunset+01:00"),
        ("sunrise+00:00", "sunrise", timedelta(0), "sunrise"),
        ("sunset-12:00", "sunset", -timedelta(hours=12), "sunset-12:00"),
    ],
)
def test_at_parses_and_round_trips(
    text: str, anchor: str, offset: timedelta, canonical: str
) -> None:
    at = At.parse(text)
    assert at.anchor == anchor
    assert at.offset == offset
    assert str(at) == canonical
    assert At.parse(str(at)) == at


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("24:00", "hours must be 00-23"),
        ("25:10", "hours must be 00-23"),
        ("06:60", "minutes must be 00-59"),
        ("sunset-00:75", "minutes must be 00-59"),
        ("sunrise+12:01", "at most 12:00"),
        ("0630", "expected HH:MM"),
        ("6.30", "expected HH:MM"),
        ("sunset-30", "expected HH:MM"),
        ("noon", "expected HH:MM"),
        ("sunset+", "expected HH:MM"),
        ("", "expected HH:MM"),
        ("06:30:00", "expected HH:MM"),
    ],
)
def test_bad_at_strings_are_rejected_with_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        At.parse(text)
    # The user's own text is quoted so they can find it in the config.
    assert repr(text) in str(caught.value)


def test_at_rejects_non_text() -> None:
    with pytest.raises(ValueError, match="must be text"):
        At.parse(630)  # type: ignore[arg-type]


def test_at_constructor_checks_ranges() -> None:
    with pytest.raises(ValueError, match="00:00-23:59"):
        At("clock", timedelta(hours=24))
    with pytest.raises(ValueError, match="00:00-23:59"):
        At("clock", -timedelta(minutes=1))
    with pytest.raises(ValueError, match="whole minutes"):
        At("clock", timedelta(seconds=90))
    with pytest.raises(ValueError, match="at most 12:00"):
        At("sunrise", timedelta(hours=13))
    with pytest.raises(ValueError, match="unknown anchor"):
        At("noon", timedelta(0))  # type: ignore[arg-type]


def test_days_are_monday_first() -> None:
    assert DAYS == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    # 2026-03-29 is the Sunday of the spring DST change; 2026-03-30 the Monday after.
    assert weekday(date(2026, 3, 29)) == "sun"
    assert weekday(date(2026, 3, 30)) == "mon"


def test_settings_json_keeps_only_what_is_set() -> None:
    settings = Settings(mode="heat", target_temperature=21.0)
    assert settings.to_json() == {"mode": "heat", "target_temperature": 21.0}
    assert Settings.from_json(settings.to_json()) == settings
    full = Settings(
        power=False, mode="cool", target_temperature=24.5, fan_mode="auto", preset="eco"
    )
    assert Settings.from_json(full.to_json()) == full
    assert Settings().is_empty()
    assert not Settings(power=False).is_empty()


def test_settings_from_json_rejects_unknown_fields_and_wrong_types() -> None:
    with pytest.raises(ValueError, match=r"unknown field.*temperature"):
        Settings.from_json({"temperature": 21})
    with pytest.raises(ValueError, match="target_temperature has the wrong type"):
        Settings.from_json({"target_temperature": "21"})
    # true is not a temperature even though bool is an int in Python.
    with pytest.raises(ValueError, match="target_temperature has the wrong type"):
        Settings.from_json({"target_temperature": True})
    with pytest.raises(ValueError, match="power has the wrong type"):
        Settings.from_json({"power": "on"})
    with pytest.raises(ValueError, match="must be an object"):
        Settings.from_json(["heat"])  # type: ignore[arg-type]
    # Integers from JSON become floats.
    assert Settings.from_json({"target_temperature": 21}).target_temperature == 21.0


def test_block_json_is_the_config_shape() -> None:
    block = Block.from_json({"at": "sunset-00:30", "preset": "eco"})
    assert block == Block(At("sunset", -timedelta(minutes=30)), Settings(preset="eco"))
    assert block.to_json() == {"at": "sunset-00:30", "preset": "eco"}
    with pytest.raises(ValueError, match="missing field at"):
        Block.from_json({"preset": "eco"})
    with pytest.raises(ValueError, match="block at 06:30 sets nothing"):
        Block.from_json({"at": "06:30"})
    with pytest.raises(ValueError, match="bad time '6h30'"):
        Block.from_json({"at": "6h30", "preset": "eco"})


def _program_json() -> dict[str, object]:
    return {
        "id": "weekdays",
        "units": ["living_room"],
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "blocks": [
            {"at": "06:30", "mode": "heat", "target_temperature": 21.0},
            {"at": "22:00", "preset": "eco"},
        ],
    }


def test_program_round_trips_through_json() -> None:
    program = Program.from_json(_program_json())
    assert program.days == frozenset({"mon", "tue", "wed", "thu", "fri"})
    assert program.blocks[0].settings == Settings(mode="heat", target_temperature=21.0)
    assert program.holidays is False
    assert program.enabled is True
    again = Program.from_json(program.to_json())
    assert again == program
    # Days come out in week order whatever order they went in.
    shuffled = Program.from_json({**_program_json(), "days": ["sun", "mon", "Sat"]})
    assert shuffled.to_json()["days"] == ["mon", "sat", "sun"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"days": ["mon", "funday"]}, "unknown day.*funday.*mon..sun"),
        ({"days": []}, "name at least one day"),
        ({"days": "mon"}, "days must be a list"),
        ({"units": []}, "name at least one unit"),
        ({"units": "living_room"}, "units must be a list"),
        ({"blocks": []}, "at least one block"),
        ({"blocks": {"at": "06:30"}}, "blocks must be a list"),
        ({"holidays": "yes"}, "holidays must be true or false"),
        ({"enabled": 1}, "enabled must be true or false"),
        ({"colour": "red"}, "unknown field.*colour"),
        ({"id": 7}, "id must be text"),
        ({"id": ""}, "id must not be empty"),
    ],
)
def test_program_from_json_errors(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Program.from_json({**_program_json(), **change})


def test_holiday_only_program_needs_no_days() -> None:
    program = Program.from_json({**_program_json(), "days": [], "holidays": True})
    assert program.days == frozenset()
    assert program.holidays


def test_vacation_validation_and_json() -> None:
    start = datetime(2026, 7, 1, 18, 0, tzinfo=BERLIN)
    end = datetime(2026, 7, 10, tzinfo=BERLIN)
    vacation = Vacation("summer", (), start, end, program="away")
    assert vacation.applies_to("anything")
    assert vacation.covers(start)
    assert not vacation.covers(end)
    assert Vacation.from_json(vacation.to_json()) == vacation
    with_settings = Vacation("trip", ("bedroom",), start, end, settings=Settings(preset="away"))
    assert not with_settings.applies_to("living_room")
    assert Vacation.from_json(with_settings.to_json()) == with_settings
    with pytest.raises(ValueError, match="exactly one of settings or program"):
        Vacation("x", (), start, end)
    with pytest.raises(ValueError, match="exactly one of settings or program"):
        Vacation("x", (), start, end, settings=Settings(preset="away"), program="away")
    with pytest.raises(ValueError, match="end must be after start"):
        Vacation("x", (), end, start, program="away")
    with pytest.raises(ValueError, match="need a time zone"):
        Vacation("x", (), datetime(2026, 7, 1), end, program="away")
    with pytest.raises(ValueError, match="start must be an ISO date-time"):
        Vacation.from_json({**vacation.to_json(), "start": "first of July"})


def test_site_validation() -> None:
    Site(BERLIN, 52.52, 13.40, "DE", "BE")
    with pytest.raises(ValueError, match="both latitude and longitude"):
        Site(BERLIN, latitude=52.52)
    with pytest.raises(ValueError, match="latitude must be within"):
        Site(BERLIN, 95.0, 13.4)
    with pytest.raises(ValueError, match="longitude must be within"):
        Site(BERLIN, 52.5, 181.0)
    with pytest.raises(ValueError, match="subdivision needs a country"):
        Site(BERLIN, subdivision="BE")
