"""Simulated air conditioners in front of a simulated Broadlink blaster.

Each :class:`IrUnit` is a :class:`~klima_sim.unit.SimulatedUnit` (settings plus room physics)
that listens to one brand's IR protocol. The blaster hands it every code it emits; the unit
demodulates and decodes it with the brand codec, exactly as Klima encoded it, and follows the
fields it understands. A code for another brand is ignored, as a real unit would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from klima.driver import DriverRegistry, default_registry
from klima.errors import KlimaError
from klima.state import Mode
from klima_sim.unit import SimulatedUnit

if TYPE_CHECKING:
    from klima.ir import IrCodec, IrSignal
    from klima_sim.clock import Clock

log = logging.getLogger(__name__)

_TOGGLE_SWING = ("swing_mode", "swing_horizontal_mode")


@dataclass(frozen=True, slots=True, kw_only=True)
class IrUnitSpec:
    """How to build one simulated unit: its driver, and optionally its codec and machine.

    ``codec=None`` takes the driver's codec from the registry; a driver without one (e.g.
    ``smartir``) listens to every installed brand codec.
    """

    driver: str
    unit_id: str | None = None
    codec: IrCodec | None = None
    unit: SimulatedUnit | None = None


@dataclass(eq=False)
class IrUnit:
    """One simulated unit and the codec(s) it understands."""

    unit_id: str
    driver: str
    unit: SimulatedUnit
    codecs: tuple[IrCodec, ...]
    extras: dict[str, Any] = field(default_factory=dict)  # protocol extras: turbo, light …
    frames_applied: int = 0

    @classmethod
    def build(
        cls,
        spec: IrUnitSpec,
        unit_id: str,
        *,
        clock: Clock | None = None,
        registry: DriverRegistry | None = None,
    ) -> IrUnit:
        codecs = (spec.codec,) if spec.codec is not None else _codecs_for(spec.driver, registry)
        unit = spec.unit
        if unit is None:
            settings = dict(_IR_DEFAULTS)
            if clock is not None:
                settings["clock"] = clock
            unit = SimulatedUnit(**settings)
        return cls(unit_id=spec.unit_id or unit_id, driver=spec.driver, unit=unit, codecs=codecs)

    def decode(self, signal: IrSignal) -> list[dict[str, Any]]:
        """The decoded messages in ``signal`` this unit understands (empty if none)."""
        for codec in self.codecs:
            try:
                return [codec.decode(message) for message in codec.demodulate(signal)]
            except KlimaError as exc:  # ProtocolError: another protocol, or a corrupt frame
                log.debug("%s: %s does not decode the code: %s", self.unit_id, codec.protocol, exc)
            except (ValueError, IndexError, KeyError) as exc:  # a codec bug must not kill the sim
                log.warning("%s: %s crashed on a code: %r", self.unit_id, codec.protocol, exc)
        return []

    def apply(self, fields: dict[str, Any]) -> None:
        """Follow one decoded message the way the indoor unit's receiver does."""
        unit = self.unit
        unit.advance()
        self.frames_applied += 1
        for name, value in fields.items():
            if name == "toggle":
                self._toggle(str(value))
            elif name == "power":
                unit.power = bool(value)
            elif name == "mode":
                mode = Mode(value)
                if mode is Mode.OFF:
                    unit.power = False
                else:
                    unit.mode = mode
            elif name == "target_temperature":
                unit.target_temperature = float(value)
            elif name in ("fan_mode", *_TOGGLE_SWING):
                setattr(unit, name, str(value))
            else:
                self.extras[name] = value

    def _toggle(self, name: str) -> None:
        unit = self.unit
        if name == "power":
            unit.power = not unit.power
        elif name in _TOGGLE_SWING:
            # A swing toggle starts or stops the vanes moving; stopping leaves them fixed.
            setattr(unit, name, "off" if getattr(unit, name) == "auto" else "auto")
        elif name == "fan_mode":
            options = self.codecs[0].traits.fan_modes if self.codecs else ()
            if unit.fan_mode in options:
                unit.fan_mode = options[(options.index(unit.fan_mode) + 1) % len(options)]
        else:
            self.extras[name] = not bool(self.extras.get(name, False))

    def snapshot(self) -> dict[str, Any]:
        """What the unit is really doing, as one JSON-ready record."""
        unit = self.unit
        return {
            "unit": self.unit_id,
            "driver": self.driver,
            "power": unit.power,
            "mode": unit.mode.value if unit.power else Mode.OFF.value,
            "operating_mode": unit.mode.value,
            "target_temperature": unit.target_temperature,
            "fan_mode": unit.fan_mode,
            "swing_mode": unit.swing_mode,
            "swing_horizontal_mode": unit.swing_horizontal_mode,
            "extras": dict(self.extras),
        }

    def settings(self) -> dict[str, Any]:
        """The snapshot without bookkeeping, to tell whether a frame changed anything."""
        snap = self.snapshot()
        del snap["unit"], snap["driver"]
        return snap


# An IR unit's state before it has heard anything, in the IR vocabulary (ir-brief).
_IR_DEFAULTS: dict[str, Any] = {
    "power": False,
    "mode": Mode.COOL,
    "target_temperature": 24.0,
    "fan_mode": "auto",
    "swing_mode": "off",
    "swing_horizontal_mode": "off",
}


def _codecs_for(driver: str, registry: DriverRegistry | None) -> tuple[IrCodec, ...]:
    registry = registry or default_registry()
    info = registry.get(driver)  # UnknownDriverError names the installed ones
    if info.kind != "ir":
        raise ValueError(f"driver {driver!r} is not an IR driver")
    if info.ir_codec is not None:
        return (info.ir_codec,)
    return tuple(d.ir_codec for d in registry.all() if d.kind == "ir" and d.ir_codec is not None)
