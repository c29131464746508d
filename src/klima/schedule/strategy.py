"""A unit's thermostat strategy between what the program wants and what is sent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from klima.errors import CommandError
from klima.schedule.model import Settings

if TYPE_CHECKING:
    from klima.schedule.units import ControlledUnit, UnitAutomation

log = logging.getLogger(__name__)

REMOTE_REFEED = timedelta(seconds=60)


def through_thermostat(
    automation: UnitAutomation, unit: ControlledUnit, settings: Settings, now: datetime
) -> Settings:
    """The strategy's view of the setpoint: a remote room temperature, an offset setpoint,
    or on/off by hysteresis."""
    loop, room = automation.loop, automation.room
    if loop is None or settings.power is False:
        return settings
    room_value = None
    if room is not None and not room.freshness.stale(now.timestamp()):
        room_value = room.value
    mode = settings.mode or unit.state.mode.value
    output = loop.update(
        now.timestamp(),
        settings.target_temperature
        if settings.target_temperature is not None
        else unit.state.target_temperature,
        mode,
        room_value,
        unit.state.current_temperature,
        unit.state.power,
    )
    fed_at = automation.remote_fed_at
    refresh = fed_at is None or now - fed_at >= REMOTE_REFEED
    if loop.native_remote and (automation.remote_fed != output.remote_temperature or refresh):
        # Fed again at least every minute: the unit's own timeout must not expire while the
        # room sensor keeps reporting the same value.
        automation.remote_fed, automation.remote_fed_at = output.remote_temperature, now
        try:
            unit.set_remote_temperature(output.remote_temperature)
        except CommandError as exc:
            log.warning("unit %s: cannot feed the room temperature: %s", unit.id, exc.message)
    target = settings.target_temperature
    power: bool | None = settings.power
    strategy = automation.config.thermostat.strategy
    if strategy == "remote_sensor" and not loop.native_remote:
        # The loop writes an offset setpoint only now and then; in between, keep it.
        target = (
            output.target_temperature
            if output.target_temperature is not None
            else unit.state.target_temperature
        )
    if strategy == "hysteresis" and room_value is not None:
        # The loop switches the unit; inside the band it keeps whatever it is doing.
        power = output.power if output.power is not None else unit.state.power
    return Settings(
        power=power, mode=settings.mode, target_temperature=target, fan_mode=settings.fan_mode
    )
