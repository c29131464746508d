"""The schedule requests refuse bad input whole, naming the field (found in review)."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any

import pytest
from tests.integration.test_automation import _program
from tests.support.automation_harness import BERLIN, make_rig

from klima.errors import CommandError
from klima.schedule.requests import schedule_requests


def _ask(action: str, data: dict[str, Any]) -> Any:
    rig = make_rig(_program(), datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN))
    rig.settle()
    assert rig.engine is not None
    handlers = schedule_requests(rig.engine, clock=lambda: rig.now)
    return asyncio.run(handlers[action](data))


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        ("schedule/hold", {"unit": "living_room", "target_temperature": math.nan},
         "settings", "from 0 to 40"),
        ("schedule/hold", {"unit": "living_room", "mode": "warm"}, "settings", "mode must be"),
        ("schedule/hold", {"unit": "living_room", "preset": "eco", "permanent": "false"},
         "permanent", "true or false"),
        ("schedule/hold", {"unit": "living_room", "preset": "eco", "for": "99999999d"},
         "hold", "longer than a year"),
        ("schedule/timer", {"unit": "living_room", "in": "90m", "preset": "bogus"},
         "preset", "unknown preset"),
        ("schedule/timer", {"unit": "living_room", "in": "0m", "power": False},
         "in", "not a duration"),
        ("schedule/hold", {"unit": "living_room", "preset": "eco",
                           "until": "2026-11-25T11:00:00+01:00"}, "until", "already passed"),
        ("schedule/timer", {"unit": "living_room", "at": "2026-11-25T10:00:00+01:00",
                            "power": False}, "at", "already passed"),
        ("schedule/set", {"id": "x", "units": ["living_room"],
                          "blocks": [{"at": "07:00", "target_temperature": 99}]},
         "schedule", "from 0 to 40"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_with_the_field(
    action: str, data: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(CommandError) as info:
        _ask(action, data)
    assert info.value.field == field
    assert message in info.value.message


def test_a_good_hold_answers_with_it() -> None:
    answer = _ask("schedule/hold", {"unit": "living_room", "preset": "eco", "for": "2h"})
    assert answer["hold"]["kind"] == "duration"
    assert answer["hold"]["preset"] == "eco"
