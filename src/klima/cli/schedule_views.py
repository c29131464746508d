"""How ``klima schedule`` shows the daemon's answers: tables and short lines for a person.

Pure: each function takes a response's ``data`` (shapes in ``klima.schedule.requests``) and
returns lines. Instants are shown in this machine's local time, as ``klima watch`` does.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from klima.cli.companion_views import temperature_text
from klima.cli.table import columns

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RUN = 3  # three or more consecutive days read better as a range ("mon-fri")


def settings_text(settings: Mapping[str, Any]) -> str:
    """``preset eco``, ``off``, ``heat 21.0°C``, ``on cool 24.0°C fan high``."""
    parts = []
    if settings.get("preset") is not None:
        parts.append(f"preset {settings['preset']}")
    if settings.get("power") is not None:
        parts.append("on" if settings["power"] else "off")
    if settings.get("mode") is not None:
        parts.append(str(settings["mode"]))
    if settings.get("target_temperature") is not None:
        parts.append(temperature_text(settings["target_temperature"]))
    if settings.get("fan_mode") is not None:
        parts.append(f"fan {settings['fan_mode']}")
    return " ".join(parts) or "-"


def days_text(days: Sequence[str], holidays: bool = False) -> str:
    """``every day``, ``mon-fri``, ``sat,sun``, ``mon-fri + holidays``, ``holidays``."""
    chosen = [day in days for day in WEEK]
    if all(chosen):
        text = "every day"
    else:
        runs: list[list[str]] = []
        for day, on in zip(WEEK, chosen, strict=True):
            if on and runs and runs[-1][-1] == WEEK[WEEK.index(day) - 1]:
                runs[-1].append(day)
            elif on:
                runs.append([day])
        text = ",".join(
            f"{run[0]}-{run[-1]}" if len(run) >= _RUN else ",".join(run) for run in runs
        )
    if holidays:
        return f"{text} + holidays" if text else "holidays"
    return text or "-"


def when_text(value: Any) -> str:
    """An ISO instant from the daemon as ``Mon 2026-11-30 06:30`` in local time."""
    if not isinstance(value, str):
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone().strftime("%a %Y-%m-%d %H:%M")


def blocks_text(blocks: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{block['at']} {settings_text(block)}" for block in blocks)


def hold_text(hold: Mapping[str, Any]) -> str:
    """``heat 23.0°C until Mon 2026-11-30 18:00``, ``… until the next block (…)`` or permanently."""
    what = settings_text(hold)
    if hold.get("until") is None:
        return f"{what} permanently"
    if hold.get("kind") == "next_block":
        return f"{what} until the next block ({when_text(hold['until'])})"
    return f"{what} until {when_text(hold['until'])}"


def list_view(data: Mapping[str, Any]) -> list[str]:
    schedules = data.get("schedules", [])
    rows: list[tuple[str, ...]]
    if not schedules:
        lines = ["no schedules"]
    else:
        rows = [("SCHEDULE", "UNITS", "DAYS", "BLOCKS", "SOURCE", "ENABLED")]
        rows += [
            (
                str(s["id"]),
                ",".join(s["units"]),
                days_text(s["days"], s.get("holidays", False)),
                blocks_text(s["blocks"]),
                str(s.get("source", "-")),
                "yes" if s.get("enabled", True) else "no",
            )
            for s in schedules
        ]
        lines = columns(rows)
    holds = data.get("holds", {})
    if holds:
        lines += ["", "holds:"]
        rows = [("UNIT", "SETTINGS", "KIND", "UNTIL")]
        rows += [
            (unit, settings_text(h), str(h.get("kind")), when_text(h.get("until")))
            for unit, h in holds.items()
        ]
        lines += columns(rows, indent="  ")
    timers = data.get("timers", [])
    if timers:
        lines += ["", "timers:"]
        rows = [("ID", "UNIT", "AT", "SETTINGS")]
        rows += [
            (str(t["id"]), str(t["unit"]), when_text(t["at"]), settings_text(t["settings"]))
            for t in timers
        ]
        lines += columns(rows, indent="  ")
    vacations = data.get("vacations", [])
    if vacations:
        lines += ["", "vacations:"]
        rows = [("ID", "UNITS", "FROM", "TO", "RUNS")]
        rows += [
            (
                str(v["id"]),
                ",".join(v["units"]) or "all",
                when_text(v["start"]),
                when_text(v["end"]),
                f"schedule {v['program']}" if "program" in v else settings_text(v["settings"]),
            )
            for v in vacations
        ]
        lines += columns(rows, indent="  ")
    return lines


def schedule_view(program: Mapping[str, Any]) -> list[str]:
    state = "enabled" if program.get("enabled", True) else "disabled"
    source = f"{program['source']}, " if "source" in program else ""
    lines = [
        f"schedule {program['id']} ({source}{state})",
        f"units:  {', '.join(program['units'])}",
        f"days:   {days_text(program['days'], program.get('holidays', False))}",
        "blocks:",
    ]
    lines += columns([(str(b["at"]), settings_text(b)) for b in program["blocks"]], indent="  ")
    return lines


def unit_view(data: Mapping[str, Any]) -> list[str]:
    status = data.get("status") or {}
    lines = [f"unit {data['unit']}", f"in force:     {_in_force(status)}"]
    if status.get("hold"):
        lines.append(f"hold:         {hold_text(status['hold'])}")
    if status.get("next_change"):
        nxt = settings_text(status.get("next") or {})
        lines.append(f"next change:  {when_text(status['next_change'])}  {nxt}")
    flags = [name for name in ("window_open", "away", "frost_protection") if status.get(name)]
    if flags:
        lines.append(f"active rules: {', '.join(flags)}")
    lines.append(f"presets:      {', '.join(data.get('presets', [])) or '-'}")
    upcoming = data.get("upcoming", [])
    if not upcoming:
        return [*lines, "upcoming:     none in the next two days"]
    rows = [("AT", "SCHEDULE", "SETTINGS")]
    rows += [(when_text(t["at"]), str(t["schedule"]), settings_text(t)) for t in upcoming]
    return [*lines, "upcoming:", *columns(rows, indent="  ")]


def _in_force(status: Mapping[str, Any]) -> str:
    source = status.get("source")
    if source is None:
        return "nothing (no schedule governs this unit now)"
    text = str(source)
    if status.get("schedule"):
        text += f" {status['schedule']}"
    if status.get("block"):
        text += f", block {status['block']}"
    if status.get("preset"):
        text += f", preset {status['preset']}"
    return text


def set_view(program: Mapping[str, Any]) -> list[str]:
    count = len(program["blocks"])
    days = days_text(program["days"], program.get("holidays", False))
    blocks = f"{count} block{'s' if count != 1 else ''}"
    return [f"schedule {program['id']} saved: {', '.join(program['units'])}, {days}, {blocks}"]


def delete_view(data: Mapping[str, Any]) -> list[str]:
    return [f"schedule {data['deleted']} deleted"]


def hold_view(data: Mapping[str, Any]) -> list[str]:
    return [f"{data['unit']}: holding {hold_text(data['hold'])}"]


def resume_view(data: Mapping[str, Any]) -> list[str]:
    if data.get("resumed"):
        return [f"{data['unit']}: hold ended; the schedule applies again"]
    return [f"{data['unit']}: there was no hold; nothing changed"]


def timer_view(data: Mapping[str, Any]) -> list[str]:
    if "cancelled" in data:
        return [f"timer {data['cancelled']} cancelled"]
    what = settings_text(data["settings"])
    return [f"timer {data['id']}: {data['unit']} {what} at {when_text(data['at'])}"]
