"""A room as one lumped thermal capacitance losing heat to the outdoors.

    C · dT/dt = Q_hvac + Q_internal + Q_solar(t) + UA · (T_outdoor(t) - T)

Default numbers describe a 25 m² room (2.5 m ceiling) in a moderately insulated building:

- ``C`` = 2.2 MJ/K. The air alone is only ≈ 75 kJ/K (62.5 m³ · 1.2 kg/m³ · 1005 J/(kg·K));
  furniture and the surface layer of walls, floor and ceiling that exchange heat within hours
  add ≈ 2 MJ/K. One lump makes the air follow the heat pump more slowly than in reality
  (minutes become tens of minutes), which is the right trade for testing a thermostat.
- ``UA`` = 55 W/K: transmission through ≈ 10 m² of wall and a window plus ventilation at
  0.5 air changes/h (≈ 10 W/K). That is ≈ 1.65 kW at 20 °C inside and -10 °C outside, a usual
  design heat load for this room (≈ 65 W/m²). Time constant C/UA ≈ 11 h.
- Internal gains 80 W (an occupant and some electronics, averaged); solar gain off by default.

Integration is explicit Euler in sub-steps no longer than 5 % of the time constant (and
``max_step_s``), so any ``duration`` is stable and accurate to well under 0.1 K.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OutdoorClimate:
    """Outdoor temperature: constant, or a daily sinusoid coldest at ``coldest_hour``.

    ``daily_amplitude`` is half the day's swing (5 means mean - 5 … mean + 5 °C).
    """

    mean: float = 5.0
    daily_amplitude: float = 0.0
    coldest_hour: float = 5.0  # just before dawn; the warmest hour is 12 h later

    @classmethod
    def constant(cls, celsius: float) -> OutdoorClimate:
        return cls(mean=celsius)

    def temperature_at(self, seconds: float) -> float:
        if self.daily_amplitude == 0.0:
            return self.mean
        hours_since_coldest = seconds / 3600.0 - self.coldest_hour
        return self.mean - self.daily_amplitude * math.cos(2 * math.pi * hours_since_coldest / 24)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoomParameters:
    heat_capacity_j_per_k: float = 2.2e6
    loss_w_per_k: float = 55.0
    internal_gain_w: float = 80.0
    solar_gain_peak_w: float = 0.0  # at solar noon; a half sine from 06:00 to 18:00
    max_step_s: float = 60.0

    def __post_init__(self) -> None:
        if self.heat_capacity_j_per_k <= 0 or self.loss_w_per_k <= 0 or self.max_step_s <= 0:
            raise ValueError("room heat capacity, losses and step must be positive")

    @property
    def time_constant_s(self) -> float:
        return self.heat_capacity_j_per_k / self.loss_w_per_k


class Room:
    """The room's air temperature, integrated forward under a given heat-pump heat flow."""

    def __init__(
        self,
        parameters: RoomParameters | None = None,
        outdoor: OutdoorClimate | None = None,
        temperature: float = 20.0,
    ) -> None:
        self.parameters = parameters or RoomParameters()
        self.outdoor = outdoor or OutdoorClimate()
        self.temperature = temperature

    def outdoor_temperature(self, seconds: float) -> float:
        return self.outdoor.temperature_at(seconds)

    def solar_gain(self, seconds: float) -> float:
        peak = self.parameters.solar_gain_peak_w
        if peak == 0.0:
            return 0.0
        hour = (seconds % SECONDS_PER_DAY) / 3600.0
        if not 6.0 <= hour <= 18.0:
            return 0.0
        return peak * math.sin(math.pi * (hour - 6.0) / 12.0)

    def heat_flow(self, seconds: float, hvac_w: float) -> float:
        """Net watts into the room at ``seconds`` with ``hvac_w`` from the heat pump."""
        p = self.parameters
        losses = p.loss_w_per_k * (self.outdoor_temperature(seconds) - self.temperature)
        return hvac_w + p.internal_gain_w + self.solar_gain(seconds) + losses

    def step(self, start: float, duration: float, hvac_w: float) -> float:
        """Integrate ``duration`` seconds from time ``start``; return the new temperature."""
        if duration <= 0:
            return self.temperature
        p = self.parameters
        max_step = min(p.max_step_s, 0.05 * p.time_constant_s)
        steps = max(1, math.ceil(duration / max_step))
        dt = duration / steps
        for i in range(steps):
            watts = self.heat_flow(start + i * dt, hvac_w)
            self.temperature += watts * dt / p.heat_capacity_j_per_k
        return self.temperature

    def equilibrium_temperature(self, seconds: float, hvac_w: float = 0.0) -> float:
        """Where the room settles with ``hvac_w`` and the outdoor temperature at ``seconds``."""
        p = self.parameters
        gains = hvac_w + p.internal_gain_w + self.solar_gain(seconds)
        return self.outdoor_temperature(seconds) + gains / p.loss_w_per_k
