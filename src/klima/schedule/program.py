"""Which block governs a unit when: the time maths behind the weekly programs.

Pure functions of (programs, calendar, vacations, an instant) so that start-up, the next-change
timer and the CLI all agree. The engine never replays missed blocks; it asks ``in_force`` for
the state to apply and ``next_change`` for when to wake up (research §4.5).

Precedence of program sources, per instant: a vacation that names a program (the last such
vacation in the sequence wins when they overlap) > the unit's holiday programs on a public
holiday (if it has any) > its programs for the weekday. Vacations that carry ``settings``
instead do not change transitions; the engine layers them on top.

All instants are compared and returned in UTC: Python compares and subtracts two datetimes of
the *same* zone by wall time, ignoring ``fold`` (PEP 495), which orders the repeated hour of a
DST change wrongly; and a datetime inside that hour never equals one in another zone. Convert
``Transition.at`` to the site zone only for display.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from klima.schedule.model import At

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import date

    from klima.schedule.calendar import SiteCalendar
    from klima.schedule.model import Program, Settings, Vacation

# Weekly programs repeat within 7 days; one more covers sun offsets that cross midnight.
DEFAULT_LOOKBACK_DAYS = 8
# Datetimes resolve to microseconds, so [start, t + 1 µs) is the closed range [start, t].
_TICK = timedelta(microseconds=1)
_MIDNIGHT = At("clock")


@dataclass(frozen=True)
class Transition:
    """A block taking over at ``at`` (UTC), or, at a vacation's start or end, the block
    already in force in the program that takes over, re-stated at that instant."""

    at: datetime
    program: str
    block_index: int
    settings: Settings


def _running(candidates: Sequence[Program], day: date, calendar: SiteCalendar) -> list[Program]:
    """Of ``candidates``, the programs that run on local ``day`` (holiday ones replace the rest)."""
    if any(p.holidays for p in candidates) and calendar.is_holiday(day) is not None:
        return [p for p in candidates if p.holidays]
    return [p for p in candidates if p.runs_on_weekday(day)]


def _own_programs(unit_id: str, programs: Sequence[Program]) -> list[Program]:
    return [p for p in programs if p.enabled and unit_id in p.units]


def _program_vacations(
    unit_id: str, programs: Sequence[Program], vacations: Sequence[Vacation]
) -> list[tuple[Vacation, Program]]:
    """Vacations that swap in a program for this unit. The program may be disabled: that is
    how a vacation-only program stays out of the weekly rotation. One naming an unknown
    program is ignored, so the unit keeps its normal programs rather than running nothing."""
    by_id = {p.id: p for p in programs}
    found = []
    for vacation in vacations:
        program = by_id.get(vacation.program) if vacation.program is not None else None
        if program is not None and vacation.applies_to(unit_id):
            found.append((vacation, program))
    return found


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("schedule times must be timezone-aware datetimes")
    return when.astimezone(UTC)


def programs_for(
    unit_id: str,
    day: date,
    programs: Sequence[Program],
    calendar: SiteCalendar,
    vacations: Sequence[Vacation] = (),
) -> list[Program]:
    """The programs governing ``unit_id`` on local ``day``.

    A program vacation touching any part of the day counts for the whole day here (a summary
    for display); ``transitions`` switches at the vacation's exact start and end.
    """
    day_start = calendar.instant(day, _MIDNIGHT)
    day_end = calendar.instant(day + timedelta(days=1), _MIDNIGHT)
    # Clock times always exist (a skipped midnight is shifted), so these are never None.
    assert day_start is not None
    assert day_end is not None
    touching = [
        program
        for vacation, program in _program_vacations(unit_id, programs, vacations)
        if _utc(vacation.start) < _utc(day_end) and _utc(vacation.end) > _utc(day_start)
    ]
    if touching:
        return _running(touching[-1:], day, calendar)
    return _running(_own_programs(unit_id, programs), day, calendar)


def _days(start: datetime, end: datetime, calendar: SiteCalendar) -> Iterator[date]:
    """Local days whose blocks can land in [start, end): a sun offset of up to 12 h can push
    a block into the neighbouring day, so one day either side."""
    zone = calendar.site.zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def _block_transitions(
    source: Callable[[date], list[Program]],
    start: datetime,
    end: datetime,
    calendar: SiteCalendar,
) -> list[Transition]:
    found = []
    for day in _days(start, end, calendar):
        for program in source(day):
            for index, block in enumerate(program.blocks):
                local = calendar.instant(day, block.at)
                # None: no sun time that day (polar or no position); the caller logs the skip.
                if local is None:
                    continue
                when = _utc(local)
                if start <= when < end:
                    found.append(Transition(when, program.id, index, block.settings))
    return found


def _sorted(found: list[Transition], programs: Sequence[Program]) -> list[Transition]:
    """By time; at the same instant the later program, then the later block, comes last
    (and so wins)."""
    rank = {p.id: i for i, p in enumerate(programs)}
    return sorted(found, key=lambda t: (t.at, rank.get(t.program, -1), t.block_index))


def transitions(  # noqa: PLR0917 - the spec's signature, shared with the engine
    unit_id: str,
    start: datetime,
    end: datetime,
    programs: Sequence[Program],
    calendar: SiteCalendar,
    vacations: Sequence[Vacation] = (),
) -> list[Transition]:
    """Every block instant for ``unit_id`` in [start, end), ordered by time (ties: last wins)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    own = _own_programs(unit_id, programs)
    swaps = _program_vacations(unit_id, programs, vacations)

    def source_at(when: datetime) -> Callable[[date], list[Program]]:
        covering = [program for vacation, program in swaps if vacation.covers(when)]
        candidates = covering[-1:] or own
        return lambda day: _running(candidates, day, calendar)

    cuts = sorted({_utc(t) for vacation, _ in swaps for t in (vacation.start, vacation.end)})
    found: list[Transition] = []
    for begin, stop in pairwise([start, *(t for t in cuts if start < t < end), end]):
        source = source_at(begin)
        found += _block_transitions(source, begin, stop, calendar)
        if begin != start:
            # The program taking over at a vacation edge starts mid-day: re-state its block
            # in force there, unless one of its blocks starts exactly then anyway.
            before = _block_transitions(
                source, begin - timedelta(days=DEFAULT_LOOKBACK_DAYS), begin + _TICK, calendar
            )
            carried = _sorted(before, programs)[-1:] if before else []
            found += [replace(t, at=begin) for t in carried if t.at < begin]
    return _sorted(found, programs)


def in_force(  # noqa: PLR0917 - the spec's signature, shared with the engine
    unit_id: str,
    now: datetime,
    programs: Sequence[Program],
    calendar: SiteCalendar,
    vacations: Sequence[Vacation] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> Transition | None:
    """The latest transition at or before ``now`` (possibly days ago); ``None`` when the unit
    has no program or none of its blocks fell in the look-back."""
    now = _utc(now)
    start = now - timedelta(days=lookback_days)
    found = transitions(unit_id, start, now + _TICK, programs, calendar, vacations)
    return found[-1] if found else None


def next_change(  # noqa: PLR0917 - the spec's signature, shared with the engine
    unit_id: str,
    now: datetime,
    programs: Sequence[Program],
    calendar: SiteCalendar,
    vacations: Sequence[Vacation] = (),
    horizon_days: int = DEFAULT_LOOKBACK_DAYS,
) -> Transition | None:
    """The first transition after ``now``; of several at that instant, the one that wins."""
    now = _utc(now)
    end = now + timedelta(days=horizon_days)
    found = transitions(unit_id, now + _TICK, end, programs, calendar, vacations)
    if not found:
        return None
    first = [t for t in found if t.at == found[0].at]
    return first[-1]
