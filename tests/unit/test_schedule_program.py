"""Which block governs a unit when: DST weeks, restarts, sun blocks, holidays, vacations, ties.

All times are simulated: the "timer" below is a loop that jumps from one ``next_change`` to the
next, as the engine does, so a week runs in milliseconds.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from klima.schedule.calendar import SiteCalendar
from klima.schedule.model import DAYS, At, Block, Program, Settings, Site, Vacation
from klima.schedule.program import (
    Transition,
    in_force,
    next_change,
    programs_for,
    transitions,
)

BERLIN = ZoneInfo("Europe/Berlin")
UNIT = "living_room"
HEAT = Settings(mode="heat", target_temperature=21.0)
ECO = Settings(preset="eco")
AWAY = Settings(target_temperature=16.0)


@pytest.fixture(scope="module")
def berlin() -> SiteCalendar:
    return SiteCalendar(
        Site(BERLIN, latitude=52.52, longitude=13.40, country="DE", subdivision="BE")
    )


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def program(
    program_id: str,
    blocks: list[tuple[str, Settings]],
    days: tuple[str, ...] = DAYS,
    *,
    units: tuple[str, ...] = (UNIT,),
    holidays: bool = False,
    enabled: bool = True,
) -> Program:
    return Program(
        id=program_id,
        units=units,
        days=frozenset(days),  # type: ignore[arg-type]
        blocks=tuple(Block(At.parse(at), settings) for at, settings in blocks),
        holidays=holidays,
        enabled=enabled,
    )


def run_timer(
    start: datetime, end: datetime, programs: list[Program], calendar: SiteCalendar
) -> list[Transition]:
    """What the engine's timer would fire: wake at each next change, nothing in between."""
    fired = []
    now = start
    while (change := next_change(UNIT, now, programs, calendar)) is not None and change.at < end:
        assert change.at > now
        fired.append(change)
        now = change.at
    return fired


NIGHT_OWL = program("night", [("02:30", HEAT), ("22:00", ECO)])


# --- a week across each DST change -----------------------------------------------------------


def test_spring_forward_week_runs_the_0230_block_once_a_day(berlin: SiteCalendar) -> None:
    # Mon 2026-03-23 .. Sun 2026-03-29 (clocks jump 02:00 CET -> 03:00 CEST on the Sunday).
    found = transitions(UNIT, local(2026, 3, 23), local(2026, 3, 30), [NIGHT_OWL], berlin)
    expected = []
    for day in range(23, 29):  # CET = UTC+1
        expected += [utc(2026, 3, day, 1, 30), utc(2026, 3, day, 21, 0)]
    # Sunday: 02:30 does not exist and is shifted by the gap to 03:30 CEST = 01:30 UTC;
    # 22:00 CEST = 20:00 UTC.
    expected += [utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 20, 0)]
    assert [t.at for t in found] == expected
    assert [t.block_index for t in found] == [0, 1] * 7
    assert all(t.at.tzinfo is UTC for t in found)
    sunday_morning = found[12].at.astimezone(BERLIN)
    assert (sunday_morning.hour, sunday_morning.minute) == (3, 30)
    # The simulated timer fires exactly the same instants, each once.
    fired = run_timer(local(2026, 3, 23), local(2026, 3, 30), [NIGHT_OWL], berlin)
    assert fired == found
    per_day = Counter(t.at.astimezone(BERLIN).date() for t in fired if t.block_index == 0)
    assert per_day == {date(2026, 3, day): 1 for day in range(23, 30)}


def test_fall_back_week_runs_the_0230_block_once_a_day(berlin: SiteCalendar) -> None:
    # Mon 2026-10-19 .. Sun 2026-10-25 (clocks go back 03:00 CEST -> 02:00 CET on the Sunday,
    # so the Sunday has 02:30 twice).
    found = transitions(UNIT, local(2026, 10, 19), local(2026, 10, 26), [NIGHT_OWL], berlin)
    expected = []
    for day in range(19, 25):  # CEST = UTC+2
        expected += [utc(2026, 10, day, 0, 30), utc(2026, 10, day, 20, 0)]
    # Sunday: the first 02:30 (CEST, 00:30 UTC) only; 22:00 CET = 21:00 UTC.
    expected += [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 21, 0)]
    assert [t.at for t in found] == expected
    fired = run_timer(local(2026, 10, 19), local(2026, 10, 26), [NIGHT_OWL], berlin)
    assert fired == found
    # During the second 02:30 (CET, 01:30 UTC) the block is already in force and the next
    # change is the evening, not a second run.
    second_half_past_two = utc(2026, 10, 25, 1, 30)
    current = in_force(UNIT, second_half_past_two, [NIGHT_OWL], berlin)
    assert current is not None
    assert current.at == utc(2026, 10, 25, 0, 30)
    upcoming = next_change(UNIT, second_half_past_two, [NIGHT_OWL], berlin)
    assert upcoming is not None
    assert upcoming.at == utc(2026, 10, 25, 21, 0)


def test_ordering_inside_the_repeated_hour_follows_real_time(berlin: SiteCalendar) -> None:
    # sunrise-04:30 on 2026-10-25 lands in the *second* 02:xx (CET): sunrise is about 06:50
    # CET, minus 4:30 = about 02:20 CET = 01:20 UTC, which is after 02:30 CEST (00:30 UTC)
    # although its wall time is earlier.
    sunday_only = program("dst", [("02:30", HEAT), ("sunrise-04:30", ECO)], ("sun",))
    found = transitions(UNIT, local(2026, 10, 25), local(2026, 10, 25, 12), [sunday_only], berlin)
    assert [t.block_index for t in found] == [0, 1]
    early = found[1].at.astimezone(BERLIN)
    assert early.fold == 1
    assert early.utcoffset() == timedelta(hours=1)
    assert early.hour == 2
    assert found[0].at < found[1].at


# --- restart mid-block -----------------------------------------------------------------------

WEEKDAYS = program(
    "weekdays", [("06:30", HEAT), ("22:00", ECO)], ("mon", "tue", "wed", "thu", "fri")
)


def test_restart_finds_yesterdays_block(berlin: SiteCalendar) -> None:
    # Tuesday 2026-03-10 03:00: the block in force is Monday's 22:00 (21:00 UTC).
    current = in_force(UNIT, local(2026, 3, 10, 3, 0), [WEEKDAYS], berlin)
    assert current == Transition(utc(2026, 3, 9, 21, 0), "weekdays", 1, ECO)
    upcoming = next_change(UNIT, local(2026, 3, 10, 3, 0), [WEEKDAYS], berlin)
    assert upcoming == Transition(utc(2026, 3, 10, 5, 30), "weekdays", 0, HEAT)


def test_restart_after_the_weekend_looks_back_to_friday(berlin: SiteCalendar) -> None:
    monday_early = local(2026, 3, 9, 5, 0)
    current = in_force(UNIT, monday_early, [WEEKDAYS], berlin)
    assert current is not None
    assert current.at == utc(2026, 3, 6, 21, 0)  # Friday 22:00 CET
    # A look-back shorter than the gap finds nothing.
    assert in_force(UNIT, monday_early, [WEEKDAYS], berlin, lookback_days=2) is None


def test_restart_exactly_at_a_block_start_counts_it_as_in_force(berlin: SiteCalendar) -> None:
    at_start = local(2026, 3, 10, 6, 30)
    current = in_force(UNIT, at_start, [WEEKDAYS], berlin)
    assert current is not None
    assert current.block_index == 0
    upcoming = next_change(UNIT, at_start, [WEEKDAYS], berlin)
    assert upcoming is not None
    assert upcoming.at == utc(2026, 3, 10, 21, 0)


def test_unit_without_program_has_nothing_in_force(berlin: SiteCalendar) -> None:
    assert in_force("bedroom", local(2026, 3, 10, 12), [WEEKDAYS], berlin) is None
    assert next_change("bedroom", local(2026, 3, 10, 12), [WEEKDAYS], berlin) is None
    assert in_force(UNIT, local(2026, 3, 10, 12), [], berlin) is None


def test_naive_times_are_refused(berlin: SiteCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        in_force(UNIT, datetime(2026, 3, 10, 12), [WEEKDAYS], berlin)
    assert transitions(UNIT, local(2026, 3, 10), local(2026, 3, 9), [WEEKDAYS], berlin) == []


# --- sun blocks ------------------------------------------------------------------------------


def test_sun_blocks_in_a_program(berlin: SiteCalendar) -> None:
    # payback.de, 21.12.18: Berlin sunset 15:54, so sunset-00:30 is about 15:24 CET.
    evening = program("evening", [("07:00", HEAT), ("sunset-00:30", ECO)])
    found = transitions(UNIT, local(2018, 12, 21), local(2018, 12, 22), [evening], berlin)
    assert [t.block_index for t in found] == [0, 1]
    assert abs(found[1].at - utc(2018, 12, 21, 14, 24)) <= timedelta(minutes=2)


def test_sun_offset_past_midnight_belongs_to_its_day(berlin: SiteCalendar) -> None:
    # A Sunday-only program with sunset+05:00 on Sunday 2026-06-21: sunset about 21:33 CEST,
    # so the block runs about 02:33 on Monday and must still be found in Monday's window.
    late = program("late", [("12:00", HEAT), ("sunset+05:00", ECO)], ("sun",))
    monday = transitions(UNIT, local(2026, 6, 22), local(2026, 6, 23), [late], berlin)
    assert [t.block_index for t in monday] == [1]
    assert abs(monday[0].at - local(2026, 6, 22, 2, 33)) <= timedelta(minutes=2)


def test_polar_night_skips_sun_blocks_but_keeps_clock_blocks() -> None:
    tromso = SiteCalendar(Site(ZoneInfo("Europe/Oslo"), latitude=69.65, longitude=18.96))
    mixed = program("north", [("07:00", HEAT), ("sunrise", ECO)])
    day = datetime(2026, 12, 21, tzinfo=ZoneInfo("Europe/Oslo"))
    found = transitions(UNIT, day, day + timedelta(days=1), [mixed], tromso)
    assert [(t.at, t.block_index) for t in found] == [(utc(2026, 12, 21, 6, 0), 0)]
    # The clock block stays in force all day instead of a sunrise that never comes.
    current = in_force(UNIT, day + timedelta(hours=15), [mixed], tromso)
    assert current is not None
    assert current.block_index == 0


# --- holidays --------------------------------------------------------------------------------

WEEKEND = program("weekend", [("08:00", HEAT), ("23:00", ECO)], ("sat", "sun"), holidays=True)
HOLIDAY_ONLY = program("holiday", [("09:00", HEAT)], (), holidays=True)


def test_public_holiday_switches_to_the_holiday_program(berlin: SiteCalendar) -> None:
    programs = [WEEKDAYS, WEEKEND]
    # Christmas Day 2026 is a Friday: the weekend program runs instead of the weekday one.
    assert programs_for(UNIT, date(2026, 12, 25), programs, berlin) == [WEEKEND]
    assert programs_for(UNIT, date(2026, 12, 24), programs, berlin) == [WEEKDAYS]
    found = transitions(UNIT, local(2026, 12, 25), local(2026, 12, 26), programs, berlin)
    assert [(t.at, t.program) for t in found] == [
        (utc(2026, 12, 25, 7, 0), "weekend"),  # 08:00 CET
        (utc(2026, 12, 25, 22, 0), "weekend"),  # 23:00 CET
    ]
    # Ascension Day, Thursday 2026-05-14 (CEST): 08:00 = 06:00 UTC.
    current = in_force(UNIT, local(2026, 5, 14, 12), programs, berlin)
    assert current == Transition(utc(2026, 5, 14, 6, 0), "weekend", 0, HEAT)


def test_berlin_womens_day_is_a_holiday_there_only() -> None:
    # 2026-03-08 is a Sunday; the holiday-only program runs in Berlin (Frauentag) and
    # replaces the weekend program there, but not in Bavaria.
    programs = [WEEKEND, HOLIDAY_ONLY]
    berlin = SiteCalendar(Site(BERLIN, country="DE", subdivision="BE"))
    bavaria = SiteCalendar(Site(BERLIN, country="DE", subdivision="BY"))
    assert programs_for(UNIT, date(2026, 3, 8), programs, berlin) == [WEEKEND, HOLIDAY_ONLY]
    assert programs_for(UNIT, date(2026, 3, 8), programs, bavaria) == [WEEKEND]
    assert programs_for(UNIT, date(2026, 3, 9), [HOLIDAY_ONLY], berlin) == []


def test_unit_without_holiday_program_keeps_its_weekday_program(berlin: SiteCalendar) -> None:
    others_holiday = program("kids", [("09:00", HEAT)], (), units=("kids_room",), holidays=True)
    assert programs_for(UNIT, date(2026, 12, 25), [WEEKDAYS, others_holiday], berlin) == [WEEKDAYS]
    assert programs_for("kids_room", date(2026, 12, 25), [WEEKDAYS, others_holiday], berlin) == [
        others_holiday
    ]


def test_disabled_programs_do_not_run(berlin: SiteCalendar) -> None:
    off = program("weekdays", [("06:30", HEAT)], ("mon", "tue", "wed", "thu", "fri"), enabled=False)
    assert in_force(UNIT, local(2026, 3, 10, 12), [off], berlin) is None
    assert next_change(UNIT, local(2026, 3, 10, 12), [off], berlin) is None
    # A disabled holiday program does not take over Christmas either.
    off_holiday = program("holiday", [("09:00", HEAT)], (), holidays=True, enabled=False)
    assert programs_for(UNIT, date(2026, 12, 25), [WEEKDAYS, off_holiday], berlin) == [WEEKDAYS]


# --- vacations -------------------------------------------------------------------------------

DAILY = program("daily", [("06:30", HEAT), ("22:00", ECO)])
# The vacation program need not list the unit: the vacation says whom it governs.
AWAY_PROGRAM = program("away", [("07:00", AWAY)], units=("nobody",))


def test_vacation_program_takes_over_from_its_start_to_its_end(berlin: SiteCalendar) -> None:
    # Wed 2026-07-01 18:00 to Sun 2026-07-05 10:00 (CEST = UTC+2).
    trip = Vacation("trip", (UNIT,), local(2026, 7, 1, 18), local(2026, 7, 5, 10), program="away")
    programs = [DAILY, AWAY_PROGRAM]
    found = transitions(UNIT, local(2026, 7, 1), local(2026, 7, 6), programs, berlin, [trip])
    assert [(t.at, t.program, t.block_index) for t in found] == [
        (utc(2026, 7, 1, 4, 30), "daily", 0),  # 06:30 before the trip
        (utc(2026, 7, 1, 16, 0), "away", 0),  # 18:00: away's block in force, re-stated
        (utc(2026, 7, 2, 5, 0), "away", 0),  # 07:00 each day of the trip
        (utc(2026, 7, 3, 5, 0), "away", 0),
        (utc(2026, 7, 4, 5, 0), "away", 0),
        (utc(2026, 7, 5, 5, 0), "away", 0),
        (utc(2026, 7, 5, 8, 0), "daily", 0),  # 10:00 back: the 06:30 block re-stated
        (utc(2026, 7, 5, 20, 0), "daily", 1),  # 22:00
    ]
    # Before the trip starts on its first day the normal program is in force ...
    before = in_force(UNIT, local(2026, 7, 1, 12), programs, berlin, [trip])
    assert before is not None
    assert before.program == "daily"
    # ... and mid-trip (a restart) the away program, even when its last block was the carry.
    during = in_force(UNIT, local(2026, 7, 1, 23), programs, berlin, [trip])
    assert during == Transition(utc(2026, 7, 1, 16, 0), "away", 0, AWAY)
    # The day summary counts the trip for every day it touches.
    assert programs_for(UNIT, date(2026, 7, 1), programs, berlin, [trip]) == [AWAY_PROGRAM]
    assert programs_for(UNIT, date(2026, 7, 5), programs, berlin, [trip]) == [AWAY_PROGRAM]
    assert programs_for(UNIT, date(2026, 7, 6), programs, berlin, [trip]) == [DAILY]
    assert programs_for(UNIT, date(2026, 6, 30), programs, berlin, [trip]) == [DAILY]


def test_vacation_starting_on_a_block_is_not_doubled(berlin: SiteCalendar) -> None:
    trip = Vacation("trip", (), local(2026, 7, 2, 7), local(2026, 7, 3, 6, 30), program="away")
    found = transitions(
        UNIT, local(2026, 7, 2), local(2026, 7, 3, 12), [DAILY, AWAY_PROGRAM], berlin, [trip]
    )
    assert [(t.at, t.program) for t in found] == [
        (utc(2026, 7, 2, 4, 30), "daily"),
        (utc(2026, 7, 2, 5, 0), "away"),  # the vacation start and away's 07:00 coincide
        (utc(2026, 7, 3, 4, 30), "daily"),  # the end and daily's 06:30 coincide
    ]


def test_vacations_that_do_not_swap_programs_change_nothing(berlin: SiteCalendar) -> None:
    window = (local(2026, 7, 1), local(2026, 7, 4))
    plain = transitions(UNIT, *window, [DAILY, AWAY_PROGRAM], berlin)
    ignored = [
        # settings are layered by the engine, not here
        Vacation("settings", (), local(2026, 7, 1), local(2026, 7, 3), settings=AWAY),
        Vacation("other-unit", ("bedroom",), local(2026, 7, 1), local(2026, 7, 3), program="away"),
        Vacation("unknown", (), local(2026, 7, 1), local(2026, 7, 3), program="nope"),
    ]
    assert transitions(UNIT, *window, [DAILY, AWAY_PROGRAM], berlin, ignored) == plain


def test_a_vacation_may_run_a_disabled_program(berlin: SiteCalendar) -> None:
    # Disabled = out of the weekly rotation: the way to keep a program for vacations only.
    window = (local(2026, 7, 1), local(2026, 7, 4))
    off_away = program("away", [("07:00", AWAY)], enabled=False)
    assert transitions(UNIT, *window, [DAILY, off_away], berlin) == transitions(
        UNIT, *window, [DAILY], berlin
    )
    trip = [Vacation("trip", (), local(2026, 7, 1, 12), local(2026, 7, 3), program="away")]
    during = in_force(UNIT, local(2026, 7, 2, 12), [DAILY, off_away], berlin, trip)
    assert during is not None
    assert (during.program, during.settings) == ("away", AWAY)


def test_overlapping_vacations_last_one_wins(berlin: SiteCalendar) -> None:
    cold = program("cold", [("08:00", Settings(target_temperature=12.0))], units=("nobody",))
    long_trip = Vacation("long", (), local(2026, 7, 1), local(2026, 7, 10), program="away")
    short_trip = Vacation("short", (), local(2026, 7, 3), local(2026, 7, 4), program="cold")
    programs = [DAILY, AWAY_PROGRAM, cold]
    vacations = [long_trip, short_trip]
    on_the_3rd = in_force(UNIT, local(2026, 7, 3, 12), programs, berlin, vacations)
    assert on_the_3rd is not None
    assert on_the_3rd.program == "cold"
    on_the_4th = in_force(UNIT, local(2026, 7, 4, 6), programs, berlin, vacations)
    # Back to the long trip at midnight: away's 07:00 block from the 3rd is re-stated.
    assert on_the_4th == Transition(utc(2026, 7, 3, 22, 0), "away", 0, AWAY)


# --- ties ------------------------------------------------------------------------------------


def test_tie_in_one_program_the_later_block_wins(berlin: SiteCalendar) -> None:
    doubled = program("doubled", [("07:00", HEAT), ("07:00", ECO)])
    found = transitions(UNIT, local(2026, 7, 1), local(2026, 7, 2), [doubled], berlin)
    assert [t.block_index for t in found] == [0, 1]
    current = in_force(UNIT, local(2026, 7, 1, 8), [doubled], berlin)
    assert current is not None
    assert current.block_index == 1
    upcoming = next_change(UNIT, local(2026, 7, 1, 6), [doubled], berlin)
    assert upcoming is not None
    assert upcoming.settings == ECO


def test_tie_across_programs_the_later_program_wins(berlin: SiteCalendar) -> None:
    first = program("first", [("07:00", HEAT)])
    second = program("second", [("07:00", ECO)])
    current = in_force(UNIT, local(2026, 7, 1, 8), [first, second], berlin)
    assert current is not None
    assert current.program == "second"
    current = in_force(UNIT, local(2026, 7, 1, 8), [second, first], berlin)
    assert current is not None
    assert current.program == "first"


def test_dst_gap_tie_the_later_block_wins(berlin: SiteCalendar) -> None:
    # On 2026-03-29 02:30 is shifted to 03:30 and meets the 03:30 block at 01:30 UTC.
    gap = program("gap", [("02:30", HEAT), ("03:30", ECO)])
    sunday = transitions(UNIT, local(2026, 3, 29), local(2026, 3, 30), [gap], berlin)
    assert [(t.at, t.block_index) for t in sunday] == [
        (utc(2026, 3, 29, 1, 30), 0),
        (utc(2026, 3, 29, 1, 30), 1),
    ]
    upcoming = next_change(UNIT, local(2026, 3, 29, 1), [gap], berlin)
    assert upcoming is not None
    assert upcoming.block_index == 1
    current = in_force(UNIT, local(2026, 3, 29, 4), [gap], berlin)
    assert current is not None
    assert current.block_index == 1
