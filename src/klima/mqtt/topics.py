"""Pure MQTT helpers: payload encoding and topic checks, shared by the connection and its users."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from klima.errors import ConfigError

Payload = str | bytes | Mapping[str, Any] | Sequence[Any]


class IncomingMessage(NamedTuple):
    """One received message, as handed to callbacks and iterators."""

    topic: str
    payload: bytes
    retain: bool


def encode_payload(payload: Payload) -> bytes:
    """Bytes as they are, text as UTF-8, anything else as compact JSON."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check_topic(topic: str) -> str:
    """A topic we may publish to: non-empty, no wildcards (a bug, not a connection problem)."""
    if not topic or any(c in topic for c in "+#\x00"):
        raise ConfigError(f"cannot publish to MQTT topic {topic!r}: it is empty or has + or #")
    return topic


def check_filter(topic_filter: str) -> str:
    """A subscription filter whose ``+``/``#`` fill whole levels (``#`` only the last)."""
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        misplaced_hash = "#" in level and (level != "#" or index != len(levels) - 1)
        if ("+" in level and level != "+") or misplaced_hash or "\x00" in level:
            raise ConfigError(
                f"invalid MQTT subscription filter {topic_filter!r}: '+' and '#' must fill a "
                "whole level, and '#' must be the last one"
            )
    return topic_filter


def topic_matches(topic: str, topic_filter: str) -> bool:
    """Whether ``topic`` matches a subscription filter with ``+`` and ``#`` wildcards."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False  # MQTT-4.7.2-1: wildcards at the first level never match $-topics
    levels = topic.split("/")
    parts = topic_filter.split("/")
    for index, part in enumerate(parts):
        if part == "#":
            return True
        if index >= len(levels) or part not in ("+", levels[index]):
            return False
    return len(parts) == len(levels)
