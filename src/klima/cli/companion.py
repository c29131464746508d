"""Companion commands: ``status``, ``set``, ``watch`` and ``request``.

They talk to a running daemon only through the MQTT contract (DESIGN.md §4), so they work the same
from the hub itself or from any machine that reaches the broker. Each ``run_*`` function is
synchronous, prints for a person, and returns the process exit code.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klima.cli.companion_views import (
    StatusSnapshot,
    WatchFormatter,
    parse_json,
    status_json,
    status_table,
)
from klima.commands import COMMAND_FIELDS
from klima.errors import CommandError, ConfigError, KlimaError, KlimaTimeoutError
from klima.mqtt.connection import MqttClientSession
from klima.mqtt.settings import DEFAULT_BROKER_URL, MqttSettings
from klima.state import Mode

if TYPE_CHECKING:
    import argparse
    from collections.abc import Coroutine, Mapping

    from klima.mqtt.connection import IncomingMessage

ENV_BROKER = "KLIMA_BROKER"
_ON = {"on", "true", "1", "yes"}
_OFF = {"off", "false", "0", "no"}
# Events the daemon sends when it refuses or fails a unit's command.
ERROR_EVENTS = {"command_rejected", "command_failed", "safety_refused", "retained_command_ignored"}


# ---------------------------------------------------------------- arguments


def add_broker_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MQTT broker")
    group.add_argument(
        "--broker",
        help=f"mqtt://host:port or mqtts://host:port (default: ${ENV_BROKER}, else "
        f"{DEFAULT_BROKER_URL})",
    )
    group.add_argument("--base-topic", default="klima", help="the daemon's base topic")
    group.add_argument("--username")
    group.add_argument("--password-file", type=Path, help="file holding the broker password")
    group.add_argument("--ca-file", type=Path, help="CA certificate(s) for mqtts://")
    group.add_argument("--cert-file", type=Path, help="client certificate for mqtts://")
    group.add_argument("--key-file", type=Path, help="client key for mqtts://")
    group.add_argument(
        "--insecure", action="store_true", help="skip the broker certificate's host name check"
    )


def settings_from_args(args: argparse.Namespace) -> MqttSettings:
    url = args.broker or os.environ.get(ENV_BROKER) or DEFAULT_BROKER_URL
    password = _read_password(args.password_file) if args.password_file else None
    return MqttSettings(
        url=url,
        base_topic=args.base_topic,
        username=args.username,
        password=password,
        ca_file=args.ca_file,
        certfile=args.cert_file,
        keyfile=args.key_file,
        tls_insecure=args.insecure,
        timeout_s=5.0,
    )


def _read_password(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"cannot read password file {path}: {exc.strerror}") from None


# ---------------------------------------------------------------- entry points


def run_status(
    settings: MqttSettings,
    unit_ids: list[str] | None = None,
    as_json: bool = False,
    timeout: float = 5.0,
) -> int:
    return run_command(_status(settings, unit_ids, as_json=as_json, wait_s=timeout))


def run_set(
    settings: MqttSettings, unit: str, assignments: list[str], timeout: float = 10.0
) -> int:
    return run_command(_set(settings, unit, assignments, timeout))


def run_watch(settings: MqttSettings, count: int | None = None) -> int:
    return run_command(_watch(settings, count))


def run_request(
    settings: MqttSettings,
    action: str,
    data: Mapping[str, Any] | None = None,
    timeout: float = 10.0,
) -> int:
    return run_command(_request(settings, action, dict(data or {}), timeout))


def run_command(command: Coroutine[Any, Any, int]) -> int:
    """Run one companion command; a refused request or a broker problem is one line, exit 1."""
    try:
        return asyncio.run(command)
    except KeyboardInterrupt:
        return 130
    except CommandError as exc:
        allowed = f" (allowed: {', '.join(map(str, exc.allowed))})" if exc.allowed else ""
        _error(f"{exc.message}{allowed}")
    except KlimaError as exc:
        _error(str(exc))
    return 1


def _error(message: str) -> None:
    print(f"klima: {message}", file=sys.stderr)


def _now() -> str:
    return datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _check_level(name: str, what: str) -> None:
    if not name or any(c in name for c in "/+#\x00"):
        raise CommandError(what, f"{what} {name!r} must be one topic level without / + #")


# ---------------------------------------------------------------- status


async def _status(
    settings: MqttSettings, unit_ids: list[str] | None, *, as_json: bool, wait_s: float
) -> int:
    snapshot = StatusSnapshot(settings)
    async with MqttClientSession(settings) as session:
        base = settings.base_topic
        await session.subscribe(
            [f"{base}/bridge/info", f"{base}/bridge/state", f"{base}/+", f"{base}/+/availability"]
        )
        deadline = asyncio.get_running_loop().time() + wait_s
        while not snapshot.complete(unit_ids):
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                snapshot.add(await session.next_message(max(remaining, 0.001)))
            except KlimaTimeoutError:
                break
    if snapshot.info is None and not snapshot.states:
        _error(
            f"no Klima daemon answered on {settings.topic('bridge', 'info')} at "
            f"{settings.address} within {wait_s:g} s (is it running? is --base-topic right?)"
        )
        return 1
    units = unit_ids or snapshot.known_units()
    unknown = [u for u in units if u not in snapshot.states and u not in snapshot.known_units()]
    if unknown:
        known = ", ".join(snapshot.known_units()) or "none"
        _error(f"unknown unit {', '.join(unknown)}; the daemon has: {known}")
        return 1
    if as_json:
        print(json.dumps(status_json(snapshot, units), indent=2, ensure_ascii=False))
    else:
        print("\n".join(status_table(snapshot, units)))
    return 0


# ---------------------------------------------------------------- set


def build_set_payload(assignments: list[str]) -> dict[str, Any]:
    """CLI words such as ``mode=cool target_temperature=24`` as a ``/set`` JSON object.

    Types are fixed here (numbers as numbers, power as ON/OFF); whether the unit supports a
    value is the daemon's decision, which ``set`` reports back.
    """
    command: dict[str, Any] = {}
    for word in assignments:
        key, sep, text = word.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key:
            raise CommandError(word, f"expected key=value, got {word!r}", list(COMMAND_FIELDS))
        if key not in COMMAND_FIELDS:
            raise CommandError(key, f"unknown setting {key!r}", list(COMMAND_FIELDS))
        if key in command:
            raise CommandError(key, f"{key} is given twice")
        command[key] = _convert(key, text)
    if not command:
        raise CommandError(None, "nothing to set", list(COMMAND_FIELDS))
    return command


def _convert(key: str, text: str) -> Any:
    if key == "target_temperature":
        try:
            value = float(text)
        except ValueError:
            raise CommandError(key, f"target_temperature must be a number, got {text!r}") from None
        if not math.isfinite(value):
            raise CommandError(key, "target_temperature must be a finite number")
        return value
    if key == "power":
        if text.lower() in _ON:
            return "ON"
        if text.lower() in _OFF:
            return "OFF"
        raise CommandError(key, f"power must be ON or OFF, got {text!r}", ["ON", "OFF"])
    if key == "mode":
        modes = [m.value for m in Mode]
        if text.lower() not in modes:
            raise CommandError(key, f"unknown mode {text!r}", modes)
        return text.lower()
    return text


def _reflects(state: Mapping[str, Any], command: Mapping[str, Any]) -> bool:
    """Whether a published state shows every setting of ``command``."""
    for key, wanted in command.items():
        have = state.get(key)
        if key == "target_temperature":
            if not isinstance(have, int | float) or abs(have - wanted) > 1e-6:
                return False
        elif have != wanted:
            return False
    return True


def _summary(command: Mapping[str, Any], state: Mapping[str, Any]) -> str:
    return " ".join(f"{key}={state.get(key)}" for key in command)


def _deferral(message: IncomingMessage, unit: str, transaction: str) -> str | None:
    """``lockout_until`` if ``message`` says this command was deferred (not refused)."""
    event = parse_json(message.payload)
    if not isinstance(event, dict) or event.get("unit") != unit:
        return None
    data = event.get("data")
    if event.get("type") != "safety_refused" or not isinstance(data, dict):
        return None
    if data.get("action") != "deferred" or data.get("transaction") not in (None, transaction):
        return None
    return str(data.get("lockout_until"))


def _error_event(message: IncomingMessage, unit: str, transaction: str) -> str | None:
    """The error text if ``message`` is the daemon refusing this command, else None."""
    event = parse_json(message.payload)
    if not isinstance(event, dict) or event.get("unit") != unit:
        return None
    data = event.get("data")
    if not isinstance(data, dict):
        data = {}
    echoed = event.get("transaction", data.get("transaction"))
    if echoed is not None and echoed != transaction:
        return None  # someone else's command
    if event.get("type") not in ERROR_EVENTS and "error" not in data:
        return None
    return str(data.get("error") or data.get("message") or event.get("type"))


async def _set(settings: MqttSettings, unit: str, assignments: list[str], wait_s: float) -> int:
    _check_level(unit, "unit")
    command = build_set_payload(assignments)
    transaction = secrets.token_hex(6)
    state_topic = settings.topic(unit)
    event_topic = settings.topic("bridge", "event")
    last_state: dict[str, Any] | None = None
    availability: str | None = None
    async with MqttClientSession(settings) as session:
        await session.subscribe([state_topic, f"{state_topic}/availability", event_topic])
        await session.publish(f"{state_topic}/set", {**command, "transaction": transaction})
        deadline = asyncio.get_running_loop().time() + wait_s
        while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                message = await session.next_message(remaining)
            except KlimaTimeoutError:
                break
            if message.topic == state_topic:
                state = parse_json(message.payload)
                if isinstance(state, dict):
                    last_state = state
                    if _reflects(state, command):
                        source = state.get("state_source", "unknown")
                        print(f"{unit}: {_summary(command, state)} (state_source={source})")
                        return 0
            elif message.topic == event_topic:
                deferred = _deferral(message, unit, transaction)
                if deferred is not None:
                    print(
                        f"{unit}: accepted; the compressor restart delay defers the start "
                        f"until {deferred} (it happens by itself)"
                    )
                    return 0
                error = _error_event(message, unit, transaction)
                if error is not None:
                    _error(f"{unit}: command refused: {error}")
                    return 1
            else:
                availability = message.payload.decode("utf-8", "replace")
    if last_state is None:
        why = "no state was ever published for it; is the unit name right?"
    else:
        why = f"it still reports {_summary(command, last_state)}"
    offline = " The unit is offline." if availability == "offline" else ""
    _error(f"{unit}: no confirmation within {wait_s:g} s; {why}{offline}")
    return 1


# ---------------------------------------------------------------- watch


async def _watch(settings: MqttSettings, count: int | None) -> int:
    formatter = WatchFormatter(settings)
    printed = 0
    base = settings.base_topic
    async with MqttClientSession(settings) as session:
        await session.subscribe(
            [f"{base}/bridge/state", f"{base}/bridge/event", f"{base}/+", f"{base}/+/availability"]
        )
        async for message in session.messages():
            line = formatter.line(message)
            if line is None:
                continue
            print(f"{_now()}  {line}", flush=True)
            printed += 1
            if count is not None and printed >= count:
                break
    return 0


# ---------------------------------------------------------------- request


async def bridge_request(
    settings: MqttSettings, action: str, data: Mapping[str, Any], wait_s: float = 10.0
) -> dict[str, Any]:
    """Send ``<base>/bridge/request/<action>`` and return the daemon's response object.

    The response (``status``, ``data``, ``error``) is the one carrying our fresh ``transaction``;
    answers to other clients on the same topic are skipped.
    """
    if not action or any(c in action for c in "+#\x00") or action != action.strip("/"):
        raise CommandError("action", f"request action {action!r} is not a valid topic")
    transaction = secrets.token_hex(8)
    response_topic = settings.topic("bridge", "response", action)
    async with MqttClientSession(settings) as session:
        await session.subscribe([response_topic])
        await session.publish(
            settings.topic("bridge", "request", action), {**data, "transaction": transaction}
        )
        deadline = asyncio.get_running_loop().time() + wait_s
        while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                message = await session.next_message(remaining)
            except KlimaTimeoutError:
                break
            response = parse_json(message.payload)
            if isinstance(response, dict) and response.get("transaction") == transaction:
                return response
    raise KlimaTimeoutError(f"no response to {action} within {wait_s:g} s (is the daemon running?)")


async def _request(settings: MqttSettings, action: str, data: dict[str, Any], wait_s: float) -> int:
    response = await bridge_request(settings, action, data, wait_s)
    if response.get("status") == "ok":
        print(json.dumps(response.get("data"), indent=2, ensure_ascii=False))
        return 0
    _error(f"request {action} failed: {response.get('error') or 'unknown error'}")
    if response.get("data"):
        print(json.dumps(response["data"], indent=2, ensure_ascii=False), file=sys.stderr)
    return 1
