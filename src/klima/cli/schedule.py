"""``klima schedule``: weekly programs, holds and timers of a running daemon, through MQTT.

Each subcommand is one ``<base>/bridge/request/schedule/<verb>`` request; the daemon validates,
persists and applies the change, and a refusal prints as one line (``klima: … (allowed: …)``).
Only what the daemon cannot check is checked here: the words on the command line and the shape
of a schedule file (against the config file's own ``[[schedules]]`` model, so a file that works
in ``klima.toml`` works here and vice versa).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from klima.cli import schedule_views as views
from klima.cli.companion import (
    add_broker_arguments,
    bridge_request,
    build_set_payload,
    run_command,
    settings_from_args,
)
from klima.config_automation import ScheduleConfig
from klima.errors import CommandError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from klima.mqtt.settings import MqttSettings

    Builder = Callable[[argparse.Namespace], dict[str, Any]]
    View = Callable[[Any], list[str]]

# What a hold or timer may set (the request's settings keys); `preset` may also be a word.
SETTING_KEYS = ("power", "mode", "target_temperature", "fan_mode", "preset")


def add_schedule_arguments(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(handler=lambda _args: _help(parser))
    verbs = parser.add_subparsers(metavar="COMMAND", parser_class=_WordsAfterOptions)

    _verb(verbs, "list", "every schedule, hold, timer and vacation", lambda _a: {}, views.list_view)

    show = _verb(verbs, "show", "one schedule, or a unit's status and upcoming changes",
                 _show_request, _show_view)  # fmt: skip
    show.add_argument("id", nargs="?", help="the schedule's id")
    show.add_argument("--unit", help="show this unit instead: what is in force and what comes")

    put = _verb(verbs, "set", "add or replace a schedule from a TOML or JSON file",
                _set_request, views.set_view)  # fmt: skip
    put.add_argument("file", help="one [[schedules]] entry as TOML or JSON; - reads stdin")

    delete = _verb(verbs, "delete", "remove a schedule",
                   lambda a: {"id": a.id}, views.delete_view)  # fmt: skip
    delete.add_argument("id")

    hold = _verb(verbs, "hold", "override the schedule of a unit", _hold_request, views.hold_view)
    hold.add_argument("unit")
    _add_settings_arguments(hold)
    until = hold.add_mutually_exclusive_group()
    until.add_argument("--for", dest="for_", metavar="DURATION", help="e.g. 90m, 2h, 1d")
    until.add_argument("--until", metavar="TIME", help="HH:MM (next time) or an ISO date-time")
    until.add_argument("--permanent", action="store_true", help="until `schedule resume`")

    resume = _verb(verbs, "resume", "end a unit's hold; its schedule applies again",
                   lambda a: {"unit": a.unit}, views.resume_view)  # fmt: skip
    resume.add_argument("unit")

    timer = _verb(verbs, "timer", "change a unit once, later (or cancel such a timer)",
                  _timer_request, views.timer_view)  # fmt: skip
    timer.add_argument("unit", nargs="?")
    _add_settings_arguments(timer)
    when = timer.add_mutually_exclusive_group(required=True)
    when.add_argument("--in", dest="in_", metavar="DURATION", help="e.g. 90m, 2h")
    when.add_argument("--at", metavar="TIME", help="HH:MM (next time) or an ISO date-time")
    when.add_argument("--cancel", metavar="ID", help="cancel the timer with this id")


class _WordsAfterOptions(argparse.ArgumentParser):
    """Takes ``key=value`` words after options too (``timer bed --in 90m power=off``).

    Plain argparse stops filling positionals once an option follows the first one; the
    intermixed parse (two passes: options, then positionals) does not.
    """

    _inner = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._inner:  # the intermixed parse's own passes (Python 3.11 calls back in here)
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


def _verb(
    verbs: argparse._SubParsersAction[_WordsAfterOptions],
    name: str,
    summary: str,
    build: Builder,
    view: View,
) -> argparse.ArgumentParser:
    parser = verbs.add_parser(name, help=summary, description=summary)
    parser.add_argument("--json", action="store_true", help="print the response data as JSON")
    add_broker_arguments(parser)
    parser.set_defaults(
        handler=lambda args: run_command(_call(settings_from_args(args), name, args, build, view))
    )
    return parser


def _add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", metavar="NAME", help="e.g. comfort, eco, away, boost")
    parser.add_argument(
        "assignments", nargs="*", metavar="key=value", help=f"{', '.join(SETTING_KEYS[:-1])}"
    )


async def _call(
    settings: MqttSettings, verb: str, args: argparse.Namespace, build: Builder, view: View
) -> int:
    data = build(args)
    response = await bridge_request(settings, f"schedule/{verb}", data)
    if response.get("status") != "ok":
        raise refusal(response)
    result = response.get("data")
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print("\n".join(view(result)))
    return 0


def refusal(response: Mapping[str, Any]) -> CommandError:
    """The daemon's error response as the error it was raised as (field, message, allowed)."""
    detail = response.get("data")
    detail = detail if isinstance(detail, dict) else {}
    message = str(detail.get("message") or response.get("error") or "request refused")
    allowed = detail.get("allowed")
    return CommandError(
        detail.get("field"), message, allowed if isinstance(allowed, list) else None
    )


# ---------------------------------------------------------------- requests from arguments


def settings_from_words(words: list[str], preset: str | None = None) -> dict[str, Any]:
    """``power=off mode=heat target_temperature=21`` (and ``--preset``) as request settings.

    Spelled as for ``klima set``; power becomes true/false, as schedules store it.
    """
    for word in words:
        key, sep, _value = word.partition("=")
        if not sep:
            raise CommandError(word, f"expected key=value, got {word!r}", list(SETTING_KEYS))
        if key.strip() not in SETTING_KEYS:
            raise CommandError(key, f"unknown setting {key.strip()!r}", list(SETTING_KEYS))
    named = [w for w in words if w.partition("=")[0].strip() == "preset"]
    others = [w for w in words if w not in named]
    settings = build_set_payload(others) if others else {}
    if "power" in settings:
        settings["power"] = settings["power"] == "ON"
    presets = [w.partition("=")[2].strip() for w in named] + ([preset] if preset else [])
    if len(presets) > 1:
        raise CommandError("preset", "preset is given twice")
    if presets:
        settings["preset"] = presets[0]
    return settings


def _show_request(args: argparse.Namespace) -> dict[str, Any]:
    if (args.id is None) == (args.unit is None):
        raise CommandError("id", "give a schedule ID or --unit UNIT (one of them)")
    return {"id": args.id} if args.id is not None else {"unit": args.unit}


def _show_view(data: Mapping[str, Any]) -> list[str]:
    return views.unit_view(data) if "unit" in data else views.schedule_view(data)


def _hold_request(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {"unit": args.unit, **settings_from_words(args.assignments, args.preset)}
    if args.for_ is not None:
        data["for"] = args.for_
    elif args.until is not None:
        data["until"] = args.until
    elif args.permanent:
        data["permanent"] = True
    return data  # no policy: the hold lasts until the next block


def _timer_request(args: argparse.Namespace) -> dict[str, Any]:
    if args.cancel is not None:
        if args.unit is not None or args.assignments or args.preset:
            raise CommandError("cancel", "--cancel takes only the timer's id")
        return {"cancel": args.cancel}
    if args.unit is None:
        raise CommandError("unit", "name the unit: klima schedule timer UNIT --in 90m power=off")
    when = {"in": args.in_} if args.in_ is not None else {"at": args.at}
    return {"unit": args.unit, **when, **settings_from_words(args.assignments, args.preset)}


def _set_request(args: argparse.Namespace) -> dict[str, Any]:
    return schedule_from_text(*_read(args.file))


def _read(name: str) -> tuple[str, str]:
    if name == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(name).read_text(encoding="utf-8"), name
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError("file", f"cannot read {name}: {getattr(exc, 'strerror', exc)}") from None


def schedule_from_text(text: str, source: str = "<stdin>") -> dict[str, Any]:
    """One schedule in the config's ``[[schedules]]`` shape (TOML or JSON) as request JSON.

    The file may hold the entry's keys at the top level or a ``schedules`` list of one entry
    (pasted from ``klima.toml``). Defaults are filled in as the config file does (every day).
    """
    raw = _parse(text, source)
    entries = raw.get("schedules")
    if isinstance(entries, list):
        if len(entries) != 1 or len(raw) != 1:
            raise CommandError("schedule", f"{source}: holds {len(entries)} schedules; give one")
        raw = entries[0]
    try:
        entry = ScheduleConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise CommandError("schedule", f"{source}: {problems}") from None
    data: dict[str, Any] = entry.model_dump(mode="json", exclude_none=True)
    data["days"] = entry.run_days  # a holiday program defaults to no weekdays
    return data


def _parse(text: str, source: str) -> dict[str, Any]:
    is_json = source.endswith(".json") or (
        not source.endswith(".toml") and text.lstrip()[:1] == "{"
    )
    try:
        raw = json.loads(text) if is_json else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if is_json else "TOML"
        raise CommandError("schedule", f"{source}: not valid {kind}: {exc}") from None
    if not isinstance(raw, dict):
        raise CommandError("schedule", f"{source}: expected one schedule (an object)")
    return raw


def _problem(error: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}" if where else message


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
