"""The automation config: mistakes the engine would trip over are config errors up front."""

from __future__ import annotations

from typing import Any

import pytest

from klima.config import validate_config
from klima.errors import ConfigError

UNIT = {"id": "living", "driver": "mitsubishi_cn105", "port": "/dev/null"}


def _config(**sections: Any) -> dict[str, Any]:
    return {"units": [dict(UNIT)], **sections}


def _schedule(**changes: Any) -> dict[str, Any]:
    return {"id": "s", "units": ["living"], "blocks": [{"at": "06:30", "preset": "comfort"}],
            **changes}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_config(site={"country": "XX"}), "no public holidays known"),
        (_config(site={"country": "DE", "subdivision": "ZZ"}), "subdivision ZZ"),
        (_config(site={"latitude": 52.5}), "both latitude and longitude"),
        (_config(site={"timezone": "Mars/Olympus"}), "unknown time zone"),
        (_config(automation={"hold": "0m"}), "'0m' is not a duration"),
        (_config(automation={"hold": "tomorrow"}), "String should match pattern"),
        (_config(schedules=[_schedule(blocks=[{"at": "sunset+13:00", "preset": "eco"}])]),
         "at most 12:00"),
        (_config(schedules=[_schedule(blocks=[{"at": "24:00", "preset": "eco"}])]),
         "hours must be 00-23"),
        (_config(schedules=[_schedule(days=[])]), "runs on no day"),
        (_config(schedules=[_schedule(units=["garage"])]), "no unit or group"),
        (_config(schedules=[_schedule(blocks=[{"at": "07:00", "preset": "tropical"}])]),
         "has no preset 'tropical'"),
        (_config(schedules=[_schedule(), _schedule()]), "schedule id is used twice"),
        (_config(presets={"eco": {"min_temp": 19}}), "outside the preset's min_temp"),
        (_config(presets={"none": {"target_temperature": 20}}), '"none" is not a preset'),
        (_config(vacations=[{"id": "v", "start": "2026-12-20", "end": "2026-12-10",
                             "preset": "away"}]), "ends before it starts"),
        (_config(vacations=[{"id": "v", "start": "2026-12-20", "end": "2027-01-03",
                             "program": "ghost"}]), "which is no schedule"),
        (_config(windows=[{"id": "w", "units": ["living"]}]), "needs a topic or auto_detect"),
        (_config(windows=[{"id": "w", "units": ["living"], "topic": "a"},
                          {"id": "w", "units": ["living"], "topic": "b"}]),
         "window id is used twice"),
        (_config(presence=[{"id": "p", "topic": "home", "away_preset": "gone"}]),
         "has no preset 'gone'"),
        (_config(groups=[{"id": "living", "units": ["living"]}]), "also a unit id"),
        ({"units": [{**UNIT, "thermostat": {"strategy": "hysteresis"}}]}, "needs a sensor"),
    ],
)  # fmt: skip
def test_mistakes_are_config_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(raw)
    assert message in str(info.value)


def test_days_default_to_every_day_and_to_none_for_holiday_programs() -> None:
    config = validate_config(
        _config(
            site={"country": "DE", "subdivision": "BE"},
            schedules=[_schedule(), _schedule(id="h", holidays=True)],
        )
    )
    weekly, holiday = config.schedules
    assert weekly.run_days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert holiday.run_days == []
