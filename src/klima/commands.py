"""Turning untrusted input (MQTT payloads, CLI arguments) into validated :class:`UnitCommand`s.

Every rejection is a :class:`CommandError` that names the field and the allowed values, so the
caller can answer with something a person can act on.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from klima.errors import CommandError
from klima.state import SETTING_FIELDS, Mode, UnitCommand

if TYPE_CHECKING:
    from collections.abc import Mapping

    from klima.traits import Traits

MAX_PAYLOAD_BYTES = 4096
COMMAND_FIELDS = SETTING_FIELDS
# Keys that may ride along in a /set payload without being a setting.
META_FIELDS = ("transaction",)

_TRUE = {"on", "true", "1", "yes"}
_FALSE = {"off", "false", "0", "no"}


def decode_json_object(payload: bytes) -> dict[str, Any]:
    """Parse a command payload that must be a JSON object of bounded size."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise CommandError(
            None, f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}"
        )
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CommandError(None, f"payload is not UTF-8 text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise CommandError(None, f"payload is not valid JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(data, dict):
        raise CommandError(None, f"payload must be a JSON object, got {type(data).__name__}")
    return data


def parse_command(data: Mapping[str, Any], traits: Traits) -> UnitCommand:
    """Build and validate a command from a JSON object such as ``{"mode": "cool"}``."""
    unknown = [k for k in data if k not in COMMAND_FIELDS and k not in META_FIELDS]
    if unknown:
        raise CommandError(unknown[0], f"unknown field {unknown[0]!r}", list(COMMAND_FIELDS))
    values = {k: _convert(k, v) for k, v in data.items() if k in COMMAND_FIELDS}
    command = UnitCommand(**values)
    if command.is_empty():
        raise CommandError(None, "command sets nothing", list(COMMAND_FIELDS))
    traits.validate(command)
    return command


def parse_attribute(attribute: str, payload: bytes, traits: Traits) -> UnitCommand:
    """Build a command from ``<unit>/set/<attribute>`` with a plain (non-JSON) value."""
    if attribute not in COMMAND_FIELDS:
        raise CommandError(attribute, f"unknown attribute {attribute!r}", list(COMMAND_FIELDS))
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise CommandError(attribute, "payload is too large")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError(attribute, "payload is not UTF-8 text") from None
    value: Any = text
    if attribute == "target_temperature":
        value = _number(attribute, text)
    return parse_command({attribute: value}, traits)


def parse_assignments(pairs: list[str], traits: Traits) -> UnitCommand:
    """Build a command from CLI words such as ``mode=cool target_temperature=24``."""
    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise CommandError(pair, f"expected key=value, got {pair!r}", list(COMMAND_FIELDS))
        data[key] = _number(key, text) if key == "target_temperature" else text
    return parse_command(data, traits)


def _convert(name: str, value: Any) -> Any:
    if name == "power":
        return _boolean(name, value)
    if name == "mode":
        if not isinstance(value, str):
            raise CommandError(name, "mode must be a string", [m.value for m in Mode])
        try:
            return Mode(value.strip().lower())
        except ValueError:
            raise CommandError(name, f"unknown mode {value!r}", [m.value for m in Mode]) from None
    if name == "target_temperature":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CommandError(name, "target_temperature must be a number")
        if not math.isfinite(value):
            raise CommandError(name, "target_temperature must be a finite number")
        return float(value)
    if not isinstance(value, str):
        raise CommandError(name, f"{name} must be a string")
    return value.strip()


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise CommandError(name, f"{name} must be ON or OFF", ["ON", "OFF"])


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(name, f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise CommandError(name, f"{name} must be a finite number")
    return value
