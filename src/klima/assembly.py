"""Building the unit actors from the config: the right actor for each driver kind.

Kept apart from the daemon's lifecycle so that the composition stays readable and testable.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from klima.errors import ConfigError
from klima.state import StateSource, UnitState
from klima.unit_ir import BlasterPort, IrUnit
from klima.unit_serial import SerialUnit

if TYPE_CHECKING:
    from collections.abc import Mapping

    from klima.config import KlimaConfig, UnitConfig
    from klima.driver import DriverRegistry
    from klima.unit import Unit, UnitListener

log = logging.getLogger(__name__)


def build_units(
    config: KlimaConfig,
    registry: DriverRegistry,
    listener: UnitListener,
    saved: Mapping[str, Mapping[str, Any]],
    blasters: BlasterPort | None,
) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for unit_config in config.units:
        restored = saved.get(unit_config.id)
        initial = UnitState.from_json(dict(restored)) if restored else None
        if initial:
            log.info("unit %s: restored last known state", unit_config.id)
        try:
            units[unit_config.id] = build_unit(unit_config, registry, listener, initial, blasters)
        except ConfigError as exc:
            # One unit's broken driver file must not take the other units down with it.
            log.error("unit %s is disabled: %s", unit_config.id, exc)  # noqa: TRY400
    return units


def build_unit(
    unit_config: UnitConfig,
    registry: DriverRegistry,
    listener: UnitListener,
    initial: UnitState | None,
    blasters: BlasterPort | None,
) -> Unit:
    info = registry.get(unit_config.driver)
    if info.kind == "serial":
        return SerialUnit(unit_config, info, listener, initial_state=initial)
    if info.create_ir is None or blasters is None:
        raise ValueError(f"unit {unit_config.id}: IR driver {info.name} needs a blaster")
    encoder = info.create_ir(info.options_model.model_validate(unit_config.options))
    if initial is not None:
        # Nothing confirms an IR state after a restart: it is what we last sent.
        initial = initial.replace(state_source=StateSource.ASSUMED)
    return IrUnit(
        unit_config, info, listener, encoder=encoder, blasters=blasters, initial_state=initial
    )
