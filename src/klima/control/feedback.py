"""Reading a feedback sensor: does the IR unit really run?

Feedback comes from other bridges' topics (a Tasmota or Shelly plug's power, a Zigbee2MQTT
contact sensor), so payloads are plain numbers, words or JSON with the value somewhere inside.
"""

from __future__ import annotations

import json
import logging
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from klima.config import FeedbackConfig

log = logging.getLogger(__name__)

_ON = {"on", "true", "1", "open", "yes", "running"}
_OFF = {"off", "false", "0", "closed", "no", "stopped"}


def extract(payload: bytes, json_path: str | None) -> Any:
    """The value at ``json_path`` (dotted) in a JSON payload, or the plain payload itself."""
    text = payload.decode("utf-8", "replace").strip()
    if json_path is None:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        return None
    for key in json_path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def number(value: Any) -> float | None:
    """A finite number from an extracted value (``true`` is not 1 W), else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def truth(value: Any) -> bool | None:
    """``on``/``off`` and their kin (any case), a JSON boolean, else ``None``."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    return None


def read_feedback(payload: bytes, feedback: FeedbackConfig) -> bool | None:
    """Whether the unit runs according to this message; ``None`` when it does not say."""
    value = extract(payload, feedback.json_path)
    if feedback.kind == "power":
        watts = number(value)
        if watts is None:
            log.debug("feedback on %s is not a number: %r", feedback.topic, value)
            return None
        return watts > feedback.on_above_w
    running = truth(value)
    if running is not None:
        return running != feedback.invert
    log.debug("feedback on %s is neither on nor off: %r", feedback.topic, value)
    return None
