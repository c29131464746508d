"""``<base>/bridge/request/schedule/<verb>``: schedules, holds and timers at run time.

Every change is validated in full before anything changes, persisted, and applied at once;
errors name the field (``CommandError``), as every other request does.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from klima.energy.tariffs.model import TariffError
from klima.energy.tariffs.usage import parse_timestamp
from klima.errors import CommandError
from klima.schedule.holds import Timer, parse_duration
from klima.schedule.model import Program, Settings
from klima.schedule.program import transitions

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from klima.schedule.engine import AutomationEngine

_SETTING_KEYS = ("power", "mode", "target_temperature", "fan_mode", "preset")
UPCOMING = timedelta(days=2)  # how far ahead `show` lists a unit's transitions


def schedule_requests(
    engine: AutomationEngine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dict[str, Callable[[dict[str, Any]], Awaitable[Any]]]:
    """The handlers by action name (``schedule/list`` …)."""

    async def list_(data: dict[str, Any]) -> dict[str, Any]:
        _only(data, set())
        return {
            "schedules": [
                {**p.to_json(), "source": _source(engine, p.id)} for p in engine.programs.values()
            ],
            "holds": {
                unit: status["hold"]
                for unit in sorted(engine.units)
                if (status := engine.status(unit, clock()))["hold"] is not None
            },
            "timers": [t.to_json() for t in sorted(engine.timers.values(), key=lambda t: t.at)],
            "vacations": [v.to_json() for v in engine.vacations],
        }

    async def show(data: dict[str, Any]) -> dict[str, Any]:
        _only(data, {"id", "unit"})
        if "unit" in data:
            unit = _unit(engine, data["unit"])
            now = clock()
            upcoming = transitions(
                unit, now, now + UPCOMING, list(engine.programs.values()), engine.calendar,
                engine.vacations,
            )  # fmt: skip
            return {
                "unit": unit,
                "status": engine.status(unit, now),
                "presets": engine.presets_for(unit),
                "upcoming": [
                    {
                        "at": t.at.astimezone(engine.zone).isoformat(),
                        "schedule": t.program,
                        **t.settings.to_json(),
                    }
                    for t in upcoming
                ],
            }
        program = engine.programs.get(str(data.get("id")))
        if program is None:
            raise CommandError("id", f"no schedule {data.get('id')!r}", sorted(engine.programs))
        return {**program.to_json(), "source": _source(engine, program.id)}

    async def set_(data: dict[str, Any]) -> dict[str, Any]:
        try:
            program = Program.from_json(data)
        except ValueError as exc:
            raise CommandError("schedule", str(exc)) from None
        engine.set_program(program, clock())
        return program.to_json()

    async def delete(data: dict[str, Any]) -> dict[str, Any]:
        _only(data, {"id"})
        engine.delete_program(str(data.get("id")), clock())
        return {"deleted": data["id"]}

    async def hold(data: dict[str, Any]) -> dict[str, Any]:
        return _hold(engine, data, clock())

    async def resume(data: dict[str, Any]) -> dict[str, Any]:
        _only(data, {"unit"})
        unit = _unit(engine, data.get("unit"))
        return {"unit": unit, "resumed": engine.resume(unit, clock())}

    async def timer(data: dict[str, Any]) -> dict[str, Any]:
        return _timer(engine, data, clock())

    return {
        "schedule/list": list_,
        "schedule/show": show,
        "schedule/set": set_,
        "schedule/delete": delete,
        "schedule/hold": hold,
        "schedule/resume": resume,
        "schedule/timer": timer,
    }


def _hold(engine: AutomationEngine, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    _only(data, {"unit", "for", "until", "permanent", *_SETTING_KEYS})
    unit = _unit(engine, data.get("unit"))
    settings = _settings(data)
    until = _moment(data["until"], "until", engine, now) if "until" in data else None
    if until is not None and until <= now:
        raise CommandError("until", f"until {until.isoformat()} has already passed")
    permanent = data.get("permanent", False)
    if not isinstance(permanent, bool):
        raise CommandError("permanent", "permanent must be true or false", [True, False])
    policy = "permanent" if permanent else str(data.get("for", "next_block"))
    result = engine.hold(unit, settings, policy, now, until=until)
    return {"unit": unit, "hold": result.public()}


def _timer(engine: AutomationEngine, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    _only(data, {"unit", "in", "at", "cancel", *_SETTING_KEYS})
    if "cancel" in data:
        if not engine.cancel_timer(str(data["cancel"])):
            raise CommandError("cancel", f"no timer {data['cancel']!r}", sorted(engine.timers))
        return {"cancelled": data["cancel"]}
    unit = _unit(engine, data.get("unit"))
    if ("in" in data) == ("at" in data):
        raise CommandError("in", 'give "in" (e.g. "90m") or "at" (e.g. "06:30"), not both')
    if "in" in data:
        try:
            at = now + parse_duration(str(data["in"]))
        except ValueError as exc:
            raise CommandError("in", str(exc)) from None
    else:
        at = _moment(data["at"], "at", engine, now)
        if at <= now:
            raise CommandError("at", f"{at.isoformat()} has already passed")
    entry = Timer(f"t{secrets.token_hex(4)}", unit, at, _settings(data))
    engine.add_timer(entry)
    return entry.to_json()


def _source(engine: AutomationEngine, program_id: str) -> str:
    configured = engine.config_programs.get(program_id)
    return "config" if configured == engine.programs.get(program_id) else "runtime"


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CommandError(unknown[0], f"unknown field {unknown[0]!r}", sorted(allowed))


def _unit(engine: AutomationEngine, value: Any) -> str:
    if not isinstance(value, str) or value not in engine.units:
        raise CommandError("unit", f"unknown unit {value!r}", sorted(engine.units))
    return value


def _settings(data: dict[str, Any]) -> Settings:
    try:
        settings = Settings.from_json({k: data[k] for k in _SETTING_KEYS if k in data})
    except ValueError as exc:
        raise CommandError("settings", str(exc)) from None
    if settings.is_empty():
        raise CommandError("settings", "say what to set: a preset, power, mode, target_temperature")
    return settings


def _moment(value: Any, field: str, engine: AutomationEngine, now: datetime) -> datetime:
    """``HH:MM`` (the next time the clock shows it) or an ISO date-time (local if naive)."""
    if not isinstance(value, str):
        raise CommandError(field, f"{field} must be HH:MM or an ISO date-time")
    try:
        if len(value) <= len("23:59"):
            wall = time.fromisoformat(value)
            local = now.astimezone(engine.zone)
            candidate = datetime.combine(local.date(), wall, engine.zone)
            if candidate <= local:
                candidate = datetime.combine(local.date() + timedelta(days=1), wall, engine.zone)
            return candidate
        return parse_timestamp(value, engine.zone)
    except (ValueError, TariffError):
        raise CommandError(field, f"{field}: not HH:MM or an ISO date-time: {value!r}") from None
