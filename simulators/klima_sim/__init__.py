"""Real endpoints for tests and humans: simulated units on pseudo-terminals, a room model,
fault injection and the ``klima-sim`` command.

Protocol devices (``klima_sim.cn105`` …) are imported lazily through :mod:`klima_sim.devices`.
"""

from klima_sim.clock import Clock, ManualClock, RealClock, ScaledClock
from klima_sim.room import OutdoorClimate, Room, RoomParameters
from klima_sim.serial_sim import SerialEndpoint, SerialSimulator
from klima_sim.unit import HeatPumpSpec, SimulatedUnit

__all__ = [
    "Clock",
    "HeatPumpSpec",
    "ManualClock",
    "OutdoorClimate",
    "RealClock",
    "Room",
    "RoomParameters",
    "ScaledClock",
    "SerialEndpoint",
    "SerialSimulator",
    "SimulatedUnit",
]
