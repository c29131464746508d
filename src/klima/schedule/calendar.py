"""The site's calendar: local wall-clock instants, sun times and public holidays.

The only module that talks to ``astral`` and ``holidays`` (spec), so the rest of the schedule
code deals in plain aware datetimes. Results are cached per day (sun) and per year (holidays)
because the engine asks about the same few days over and over.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from astral import Observer
from astral.sun import sunrise, sunset

if TYPE_CHECKING:
    from collections.abc import Callable

    from holidays import HolidayBase

    from klima.schedule.model import At, Site

# Enough for a year of days; the cache is dropped whole when full, which costs one recompute.
_SUN_CACHE_DAYS = 400


def wall_clock(day: date, offset: timedelta, zone: tzinfo) -> datetime:
    """The instant a clock shows ``offset`` after midnight on ``day`` (``SiteCalendar.instant``)."""
    naive = datetime.combine(day, time()) + offset
    # fold=0 picks the first of a repeated hour; for a skipped hour zoneinfo then reads the
    # wall time with the offset from before the change, which a round trip through UTC turns
    # into the wall time one gap later (02:30 -> 03:30), exactly "shifted forward by the gap".
    local = naive.replace(tzinfo=zone, fold=0)
    return local.astimezone(UTC).astimezone(zone)


def _holiday_table(site: Site) -> HolidayBase:
    """Built at start-up so a mistyped country or region fails then, not on the first holiday."""
    # Imported here: the package is large and sites without a country never need it.
    import holidays  # noqa: PLC0415

    assert site.country is not None
    try:
        # Names are published in state and events, so the daemon's locale must not change
        # them; countries without an English translation fall back to the English originals.
        return holidays.country_holidays(
            site.country.upper(), subdiv=site.subdivision, language="en_US"
        )
    except NotImplementedError as error:
        raise ValueError(f"site: no public holidays known: {error}") from None


class SiteCalendar:
    def __init__(self, site: Site) -> None:
        self.site = site
        self._observer = (
            None
            if site.latitude is None or site.longitude is None
            else Observer(latitude=site.latitude, longitude=site.longitude)
        )
        self._sun: dict[date, tuple[datetime | None, datetime | None]] = {}
        self._holidays = None if site.country is None else _holiday_table(site)

    def sun(self, day: date) -> tuple[datetime | None, datetime | None]:
        """Sunrise and sunset on local ``day`` in the site zone; ``None`` in polar day or
        night, or when the site has no position."""
        if self._observer is None:
            return None, None
        cached = self._sun.get(day)
        if cached is None:
            if len(self._sun) >= _SUN_CACHE_DAYS:
                self._sun.clear()
            cached = self._sun[day] = (self._event(sunrise, day), self._event(sunset, day))
        return cached

    def _event(self, event: Callable[..., datetime], day: date) -> datetime | None:
        assert self._observer is not None
        try:
            # astral raises ValueError when the sun stays above or below the horizon all day.
            found = event(self._observer, date=day, tzinfo=self.site.zone)
        except ValueError:
            return None
        # Whole seconds: astral is good to about a minute, and tidy instants read better in
        # published state and logs.
        return found.replace(microsecond=0).astimezone(self.site.zone)

    def is_holiday(self, day: date) -> str | None:
        """The holiday's name, or ``None`` (always ``None`` without a country)."""
        if self._holidays is None:
            return None
        # The table fills itself one year at a time on first lookup and keeps it (per-year cache).
        return self._holidays.get(day)

    def instant(self, day: date, at: At) -> datetime | None:
        """The aware instant of ``at`` on local ``day``, or ``None`` when there is no sun time.

        A clock time in the spring-forward gap is shifted forward by the gap and a repeated
        one means its first occurrence, so a block runs exactly once a day.
        """
        if at.anchor == "clock":
            return wall_clock(day, at.offset, self.site.zone)
        rise, set_ = self.sun(day)
        event = rise if at.anchor == "sunrise" else set_
        if event is None:
            return None
        # Sun offsets are real time; normalising keeps the zone's offset right across a change.
        return (event.astimezone(UTC) + at.offset).astimezone(self.site.zone)
