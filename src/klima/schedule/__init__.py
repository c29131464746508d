"""Weekly programs, sun and holiday rules, vacations: when each unit's settings change.

The pure time maths lives in ``model``, ``calendar`` and ``program``; the engine and the
timer (APScheduler) build on them.
"""

from klima.schedule.calendar import SiteCalendar
from klima.schedule.model import DAYS, At, Block, Day, Program, Settings, Site, Vacation, weekday
from klima.schedule.program import Transition, in_force, next_change, programs_for, transitions

__all__ = [
    "DAYS",
    "At",
    "Block",
    "Day",
    "Program",
    "Settings",
    "Site",
    "SiteCalendar",
    "Transition",
    "Vacation",
    "in_force",
    "next_change",
    "programs_for",
    "transitions",
    "weekday",
]
