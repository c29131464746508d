"""The site calendar: wall-clock instants across DST, sun times against published tables,
polar fallback and public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from klima.schedule.calendar import SiteCalendar
from klima.schedule.model import At, Site

BERLIN = ZoneInfo("Europe/Berlin")
BERLIN_SITE = Site(BERLIN, latitude=52.52, longitude=13.40, country="DE", subdivision="BE")
# Published times are to the minute and for a slightly different point in the city.
TOLERANCE = timedelta(minutes=2)


@pytest.fixture(scope="module")
def berlin() -> SiteCalendar:
    return SiteCalendar(BERLIN_SITE)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- wall-clock times across DST -----------------------------------------------------------


def test_spring_forward_gap_is_shifted_forward_by_the_gap(berlin: SiteCalendar) -> None:
    # 2026-03-29: clocks jump 02:00 CET -> 03:00 CEST, so 02:00-02:59 does not exist.
    day = date(2026, 3, 29)
    half_past_two = berlin.instant(day, At.parse("02:30"))
    assert half_past_two is not None
    assert half_past_two == utc(2026, 3, 29, 1, 30)  # 03:30 CEST = 01:30 UTC
    assert (half_past_two.hour, half_past_two.minute) == (3, 30)
    assert half_past_two.utcoffset() == timedelta(hours=2)
    assert berlin.instant(day, At.parse("02:00")) == utc(2026, 3, 29, 1, 0)  # 03:00 CEST
    assert berlin.instant(day, At.parse("01:59")) == utc(2026, 3, 29, 0, 59)  # still CET
    assert berlin.instant(day, At.parse("03:00")) == utc(2026, 3, 29, 1, 0)


def test_fall_back_repeated_hour_means_the_first_occurrence(berlin: SiteCalendar) -> None:
    # 2026-10-25: clocks go back 03:00 CEST -> 02:00 CET, so 02:00-02:59 happens twice.
    day = date(2026, 10, 25)
    half_past_two = berlin.instant(day, At.parse("02:30"))
    assert half_past_two is not None
    # Compared in UTC: a datetime inside the repeated hour never equals one in another zone
    # (PEP 495), so a plain == against a UTC value would fail even when correct.
    assert half_past_two.astimezone(UTC) == utc(2026, 10, 25, 0, 30)  # 02:30 CEST, the first
    assert half_past_two.utcoffset() == timedelta(hours=2)
    assert half_past_two.fold == 0
    assert berlin.instant(day, At.parse("03:00")) == utc(2026, 10, 25, 2, 0)  # CET
    assert berlin.instant(day, At.parse("01:30")) == utc(2026, 10, 24, 23, 30)  # CEST


def test_ordinary_day_is_plain_local_time(berlin: SiteCalendar) -> None:
    assert berlin.instant(date(2026, 1, 15), At.parse("06:30")) == utc(2026, 1, 15, 5, 30)
    assert berlin.instant(date(2026, 7, 15), At.parse("06:30")) == utc(2026, 7, 15, 4, 30)


def test_skipped_midnight_is_shifted_too() -> None:
    # Chile moves its clocks at midnight: 2026-09-06 starts at 01:00 -03.
    calendar = SiteCalendar(Site(ZoneInfo("America/Santiago")))
    midnight = calendar.instant(date(2026, 9, 6), At.parse("00:00"))
    assert midnight == utc(2026, 9, 6, 4, 0)
    assert midnight is not None
    assert midnight.astimezone(ZoneInfo("America/Santiago")).hour == 1


# --- sun times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "sunrise", "sunset", "source"),
    [
        # n-tv.de (dpa), "Sonnenwende leitet Sommer ein", 21 June 2022
        # (n-tv.de/wissen/Sonnenwende-leitet-Sommer-ein-article23412634.html):
        # Berlin sunrise 4.44 Uhr, sunset 21.31 Uhr.
        (date(2022, 6, 21), (4, 44), (21, 31), "n-tv 2022"),
        # payback.de, "Zahl des Tages: Wintersonnenwende", dated 21.12.18
        # (payback.de/ratgeber/besser-leben/zahl-des-tages-wintersonnenwende):
        # Berlin sunrise 8:14 Uhr, sunset 15:54 Uhr.
        (date(2018, 12, 21), (8, 14), (15, 54), "payback 2018"),
        # timeanddate.com for Berlin as quoted in the automation spec (Europe/Berlin, CEST);
        # not re-checked against the site itself.
        (date(2026, 6, 21), (4, 43), (21, 33), "timeanddate 2026"),
    ],
)
def test_berlin_sun_times_match_published_tables(
    berlin: SiteCalendar,
    day: date,
    sunrise: tuple[int, int],
    sunset: tuple[int, int],
    source: str,
) -> None:
    rise, set_ = berlin.sun(day)
    assert rise is not None, source
    assert set_ is not None, source
    assert rise.tzinfo == BERLIN
    assert rise.date() == day
    assert set_.date() == day
    published_rise = datetime(day.year, day.month, day.day, *sunrise, tzinfo=BERLIN)
    published_set = datetime(day.year, day.month, day.day, *sunset, tzinfo=BERLIN)
    assert abs(rise - published_rise) <= TOLERANCE, (source, rise)
    assert abs(set_ - published_set) <= TOLERANCE, (source, set_)


def test_sun_anchor_offsets_are_real_time_from_the_event(berlin: SiteCalendar) -> None:
    day = date(2018, 12, 21)
    rise, set_ = berlin.sun(day)
    assert rise is not None
    assert set_ is not None
    assert berlin.instant(day, At.parse("sunrise")) == rise
    assert berlin.instant(day, At.parse("sunset-00:30")) == set_ - timedelta(minutes=30)
    assert berlin.instant(day, At.parse("sunrise+01:15")) == rise + timedelta(hours=1, minutes=15)
    # Published sunset 15:54 minus 30 min = 15:24, within the tolerance.
    evening = berlin.instant(day, At.parse("sunset-00:30"))
    assert evening is not None
    assert abs(evening - datetime(2018, 12, 21, 15, 24, tzinfo=BERLIN)) <= TOLERANCE


def test_sun_times_follow_the_dst_change(berlin: SiteCalendar) -> None:
    # The sun rises about 2 minutes earlier each day in late March, but the clocks jump an
    # hour on 2026-03-29, so local sunrise moves about 58 minutes later on the clock.
    saturday, _ = berlin.sun(date(2026, 3, 28))
    sunday, _ = berlin.sun(date(2026, 3, 29))
    assert saturday is not None
    assert sunday is not None
    assert saturday.utcoffset() == timedelta(hours=1)
    assert sunday.utcoffset() == timedelta(hours=2)
    # Subtract in UTC: same-zone subtraction in Python gives the wall-clock difference.
    real = sunday.astimezone(UTC) - saturday.astimezone(UTC)
    assert timedelta(hours=23, minutes=56) <= real <= timedelta(hours=23, minutes=59)
    wall = (sunday.hour * 60 + sunday.minute) - (saturday.hour * 60 + saturday.minute)
    assert 56 <= wall <= 59


def test_sunset_offset_across_the_autumn_change(berlin: SiteCalendar) -> None:
    # 2026-10-25 is CET all evening: sunset-00:30 must carry +01:00, not the morning's +02:00.
    evening = berlin.instant(date(2026, 10, 25), At.parse("sunset-00:30"))
    assert evening is not None
    assert evening.utcoffset() == timedelta(hours=1)
    assert 15 <= evening.hour <= 16


def test_polar_night_and_day_have_no_sun_times() -> None:
    tromso = SiteCalendar(Site(ZoneInfo("Europe/Oslo"), latitude=69.65, longitude=18.96))
    assert tromso.sun(date(2026, 12, 21)) == (None, None)  # polar night
    assert tromso.instant(date(2026, 12, 21), At.parse("sunrise+01:00")) is None
    assert tromso.sun(date(2026, 6, 21)) == (None, None)  # midnight sun
    assert tromso.instant(date(2026, 6, 21), At.parse("sunset")) is None
    # Clock blocks are unaffected, and in spring the sun is back.
    assert tromso.instant(date(2026, 12, 21), At.parse("07:00")) == utc(2026, 12, 21, 6, 0)
    rise, set_ = tromso.sun(date(2026, 3, 21))
    assert rise is not None
    assert set_ is not None
    assert rise < set_


def test_site_without_position_has_no_sun() -> None:
    calendar = SiteCalendar(Site(BERLIN))
    assert calendar.sun(date(2026, 6, 21)) == (None, None)
    assert calendar.instant(date(2026, 6, 21), At.parse("sunset")) is None


# --- holidays -------------------------------------------------------------------------------


def test_berlin_public_holidays_2026(berlin: SiteCalendar) -> None:
    assert berlin.is_holiday(date(2026, 12, 25)) == "Christmas Day"
    # International Women's Day is a public holiday in Berlin (since 2019), not nationally.
    assert berlin.is_holiday(date(2026, 3, 8)) == "Women's Day"
    assert berlin.is_holiday(date(2026, 10, 3)) == "German Unity Day"
    assert berlin.is_holiday(date(2026, 3, 9)) is None
    assert berlin.is_holiday(date(2026, 12, 24)) is None
    # Next year is looked up on demand.
    assert berlin.is_holiday(date(2027, 1, 1)) == "New Year's Day"


def test_subdivision_matters() -> None:
    bavaria = SiteCalendar(Site(BERLIN, country="DE", subdivision="BY"))
    assert bavaria.is_holiday(date(2026, 3, 8)) is None
    assert bavaria.is_holiday(date(2026, 1, 6)) == "Epiphany"


def test_holiday_names_do_not_depend_on_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without an explicit language the package follows LANG and would say
    # "Erster Weihnachtstag" here.
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    calendar = SiteCalendar(Site(BERLIN, country="de", subdivision="BE"))
    assert calendar.is_holiday(date(2026, 12, 25)) == "Christmas Day"


def test_no_country_means_no_holidays() -> None:
    calendar = SiteCalendar(Site(BERLIN))
    assert calendar.is_holiday(date(2026, 12, 25)) is None


def test_unknown_country_or_region_fails_at_construction() -> None:
    with pytest.raises(ValueError, match=r"no public holidays known.*XX"):
        SiteCalendar(Site(BERLIN, country="XX"))
    with pytest.raises(ValueError, match=r"no public holidays known.*ZZ"):
        SiteCalendar(Site(BERLIN, country="DE", subdivision="ZZ"))
