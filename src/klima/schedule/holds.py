"""Manual overrides (holds) and one-shot timers, as the engine keeps and persists them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from klima.schedule.model import Settings

HoldKind = Literal["next_block", "duration", "permanent"]
_DURATION = re.compile(r"^(\d+)(m|h|d)$")
_UNIT = {"m": "minutes", "h": "hours", "d": "days"}
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """``90m``, ``2h``, ``1d``."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration: use e.g. 90m, 2h or 1d")
    try:
        span = timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None
    if span > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than a year: use a permanent hold")
    return span


@dataclass(frozen=True)
class Hold:
    """The user's settings win over the program until ``until`` (``None``: for good)."""

    settings: Settings
    kind: HoldKind
    until: datetime | None
    started: datetime
    origin: str = "mqtt"

    def expired(self, now: datetime) -> bool:
        return self.until is not None and now >= self.until

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings.to_json(),
            "kind": self.kind,
            "until": None if self.until is None else self.until.isoformat(),
            "started": self.started.isoformat(),
            "origin": self.origin,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Hold:
        until = data.get("until")
        kind = data["kind"]
        if kind not in ("next_block", "duration", "permanent"):
            raise ValueError(f"unknown hold kind {kind!r}")
        return Hold(
            settings=Settings.from_json(data["settings"]),
            kind=kind,
            until=None if until is None else datetime.fromisoformat(until),
            started=datetime.fromisoformat(data["started"]),
            origin=str(data.get("origin", "mqtt")),
        )

    def public(self) -> dict[str, Any]:
        return {"kind": self.kind, "until": self.to_json()["until"], **self.settings.to_json()}


@dataclass(frozen=True)
class Timer:
    """At ``at``, apply ``settings`` to ``unit`` (then it holds until the next block)."""

    id: str
    unit: str
    at: datetime
    settings: Settings

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "unit": self.unit,
            "at": self.at.isoformat(),
            "settings": self.settings.to_json(),
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Timer:
        return Timer(
            id=str(data["id"]),
            unit=str(data["unit"]),
            at=datetime.fromisoformat(data["at"]),
            settings=Settings.from_json(data["settings"]),
        )
