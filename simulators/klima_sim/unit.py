"""A simulated inverter mini-split: its settings, what it measures, and what it does to a room.

Protocol devices (``klima_sim.cn105`` …) read and write the public fields; everything physical
is recomputed by :meth:`SimulatedUnit.advance`, which integrates up to ``clock.now()``.

Regulation, simplified from how inverter units behave:

- The unit regulates on ``remote_temperature`` when a host fed one, else on its own sensor
  (the room temperature).
- While running, capacity is a PI function of the error: a proportional band (capacity goes
  from minimum to maximum across ``proportional_band_k``) plus a slow integral that removes the
  steady-state offset, so the room holds the setpoint rather than a droop below it.
- When the room overshoots by ``thermostat_off_k`` the compressor stops ("thermostat off":
  0 Hz, ``operating`` False). It restarts once the error is ``restart_k`` on the demand side
  again and at least ``min_off_s`` have passed (compressor anti-short-cycle).
- ``heat_cool`` heats or cools by the sign of the error beyond ``auto_deadband_k`` and keeps
  its last direction inside the deadband. ``dry`` runs a small cooling load at minimum
  capacity. ``fan_only`` moves air and nothing else.
- After each compressor start in heat mode the indoor fan waits ``preheat_s`` while the coil
  warms ("hot adjust": ``preheating``). In heat mode below ``defrost_below_c`` outdoors, every
  ``defrost_after_s`` of compressor running the unit defrosts for ``defrost_duration_s``:
  compressor reported stopped, fan off, ``defrosting`` True, the room loses a little heat.
- Input power = capacity / COP(outdoor) + indoor fan + standby; energy integrates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from klima.state import SETTING_FIELDS, Mode
from klima_drivers.mitsubishi_cn105.scales import FAN_MODES, SWING_HORIZONTAL_MODES, SWING_MODES
from klima_sim.clock import Clock, RealClock
from klima_sim.room import Room

# The simulated heat pump speaks the vocabulary of the CN105 driver it is first built for.
SETTING_NAMES = SETTING_FIELDS
# Indoor fan stage (0 = stopped … 5) for each fixed fan setting; "auto" follows capacity.
_FAN_STAGE = {"quiet": 1, "low": 2, "medium": 3, "middle": 4, "high": 5}


@dataclass(frozen=True, slots=True, kw_only=True)
class HeatPumpSpec:
    """The machine: defaults resemble a 2.5 kW-class (nominal) wall unit."""

    heating_min_w: float = 900.0
    heating_max_w: float = 5000.0
    cooling_min_w: float = 900.0
    cooling_max_w: float = 3300.0
    dry_sensible_fraction: float = 0.6  # in dry mode much of the capacity goes into moisture
    compressor_min_hz: int = 15
    compressor_max_hz: int = 90
    proportional_band_k: float = 2.0
    integral_time_s: float = 1800.0
    thermostat_off_k: float = 1.0
    restart_k: float = 0.5
    auto_deadband_k: float = 2.0  # wider than thermostat_off_k, or auto would ping-pong
    min_off_s: float = 180.0
    standby_w: float = 5.0
    fan_base_w: float = 5.0
    fan_w_per_stage: float = 6.0
    preheat_s: float = 150.0
    preheat_heat_fraction: float = 0.3
    defrost_below_c: float = 2.0
    defrost_after_s: float = 50 * 60.0
    defrost_duration_s: float = 5 * 60.0
    defrost_input_w: float = 250.0
    defrost_room_w: float = -150.0  # the idle indoor coil pulls some heat out of the room
    max_step_s: float = 10.0

    def heating_cop(self, outdoor: float, load_fraction: float) -> float:
        """≈ 4.0 at 7 °C, 2.9 at -7 °C; inverters are ~20 % better at part load."""
        full_load = min(6.0, max(1.6, 4.0 + 0.08 * (outdoor - 7.0)))
        return full_load * (1.0 + 0.2 * (1.0 - load_fraction))

    def cooling_cop(self, outdoor: float, load_fraction: float) -> float:
        """≈ 4.5 at 25 °C, 3.3 at 35 °C outdoors."""
        full_load = min(7.0, max(2.0, 4.5 - 0.12 * (outdoor - 25.0)))
        return full_load * (1.0 + 0.2 * (1.0 - load_fraction))


@dataclass(slots=True)
class _ControlState:
    """The controller's memory between integration steps."""

    running: bool = False
    direction: int = 0  # +1 heating, -1 cooling, 0 not decided (heat_cool)
    integral: float = 0.0
    stopped_at: float = -math.inf
    preheat_left_s: float = 0.0
    frost_s: float = 0.0
    defrost_left_s: float = 0.0
    powered_seconds: float = 0.0
    last_time: float = 0.0
    synced_room_temperature: float = math.nan


@dataclass(kw_only=True, eq=False)
class SimulatedUnit:
    # Settings (what a remote or a host can change).
    power: bool = False
    mode: Mode = Mode.HEAT  # the operating mode, never OFF
    target_temperature: float = 21.0
    fan_mode: str = "auto"
    swing_mode: str = "auto"
    swing_horizontal_mode: str = "center"
    remote_temperature: float | None = None  # fed by a host; the unit regulates on it when set
    error_code: str | None = None  # e.g. "E6"; None = no fault
    # Capabilities a protocol device may report.
    enhanced_setpoint: bool = True  # CN105: understands half-degree setpoints
    answers_run_state: bool = True  # CN105: answers the 0x09 run-state query
    # Physical values, recomputed by advance(). Writing room_temperature moves the room to it.
    room_temperature: float = math.nan  # nan = take the room's current temperature
    outdoor_temperature: float | None = None
    compressor_frequency: int = 0
    operating: bool = False
    defrosting: bool = False
    preheating: bool = False
    fan_stage: int = 0
    power_w: float = 0.0
    energy_kwh: float = 0.0
    operating_minutes: int = 0
    clock: Clock = field(default_factory=RealClock)
    room: Room = field(default_factory=Room)
    spec: HeatPumpSpec = field(default_factory=HeatPumpSpec)
    _control: _ControlState = field(default_factory=_ControlState, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.mode is Mode.OFF:
            raise ValueError("SimulatedUnit.mode is the operating mode; use power=False for off")
        if math.isnan(self.room_temperature):
            self.room_temperature = self.room.temperature
        self.room.temperature = self.room_temperature
        self._control.synced_room_temperature = self.room_temperature
        self._control.last_time = self.clock.now()
        self.outdoor_temperature = self.room.outdoor_temperature(self._control.last_time)
        self.power_w = self.spec.standby_w

    # --- the outside world -------------------------------------------------------------

    def press_remote(self, **settings: Any) -> None:
        """Change settings the way the unit's own IR remote does, behind any controller's back.

        Accepts the names in :data:`SETTING_NAMES`; ``mode="off"`` switches the unit off.
        """
        unknown = set(settings) - set(SETTING_NAMES)
        if unknown:
            raise ValueError(f"a remote cannot set {sorted(unknown)}")
        self.advance()
        if "mode" in settings:
            mode = Mode(settings.pop("mode"))
            if mode is Mode.OFF:
                self.power = False
            else:
                self.mode = mode
                settings.setdefault("power", True)  # a remote's mode button also switches on
        if "power" in settings:
            self.power = bool(settings["power"])
        if "target_temperature" in settings:
            self.target_temperature = float(settings["target_temperature"])
        for name, allowed in (
            ("fan_mode", FAN_MODES),
            ("swing_mode", SWING_MODES),
            ("swing_horizontal_mode", SWING_HORIZONTAL_MODES),
        ):
            if name in settings:
                if settings[name] not in allowed:
                    raise ValueError(f"{name} must be one of {allowed}")
                setattr(self, name, settings[name])

    def set_fault(self, code: str | None) -> None:
        """Raise (or clear with ``None``) a fault; a faulted unit stops conditioning."""
        self.advance()
        self.error_code = code
        self._refresh_outputs()

    @property
    def regulated_temperature(self) -> float:
        """The temperature the unit regulates on (remote sensor if fed, else its own)."""
        if self.remote_temperature is not None:
            return self.remote_temperature
        return self.room.temperature

    # --- physics -----------------------------------------------------------------------

    def advance(self) -> None:
        """Integrate the unit and its room up to ``clock.now()``."""
        ctl = self._control
        if self.room_temperature != ctl.synced_room_temperature:
            self.room.temperature = self.room_temperature  # someone moved the room by hand
        now = self.clock.now()
        if now <= ctl.last_time:
            self._refresh_outputs()  # settings may have changed without time passing
        t = ctl.last_time
        while t < now:
            dt = min(self.spec.max_step_s, now - t)
            self._step(t, dt)
            t += dt
        ctl.last_time = max(ctl.last_time, now)
        self.room_temperature = ctl.synced_room_temperature = self.room.temperature
        self.outdoor_temperature = self.room.outdoor_temperature(ctl.last_time)
        self.operating_minutes = int(ctl.powered_seconds // 60)

    def _step(self, t: float, dt: float) -> None:
        outdoor = self.room.outdoor_temperature(t)
        room_w, input_w = self._regulate(t, dt, outdoor)
        self.room.step(t, dt, room_w)
        self.power_w = input_w
        self.energy_kwh += input_w * dt / 3.6e6
        if self.power:
            self._control.powered_seconds += dt

    def _refresh_outputs(self) -> None:
        """Recompute the reported outputs for the current settings without time passing."""
        now = self._control.last_time
        _, self.power_w = self._regulate(now, 0.0, self.room.outdoor_temperature(now))

    def _regulate(self, t: float, dt: float, outdoor: float) -> tuple[float, float]:
        """Update the controller over ``dt``; return (watts into the room, electrical watts)."""
        spec, ctl = self.spec, self._control
        if not self.power or self.error_code is not None:
            self._stop_compressor(t)
            ctl.direction = 0
            self._report(hz=0, fan_stage=0)
            return 0.0, spec.standby_w
        if self.mode is Mode.FAN_ONLY:
            self._stop_compressor(t)
            stage = _FAN_STAGE.get(self.fan_mode, 3)
            self._report(hz=0, fan_stage=stage)
            return 0.0, spec.standby_w + self._fan_w(stage)

        if ctl.defrost_left_s > 0:
            ctl.defrost_left_s -= dt
            if ctl.defrost_left_s <= 0:
                ctl.preheat_left_s = spec.preheat_s  # the coil is cold again after a defrost
            self._report(hz=0, fan_stage=0, defrosting=True)
            return spec.defrost_room_w, spec.standby_w + spec.defrost_input_w

        direction = self._direction(t)
        error = (self.target_temperature - self.regulated_temperature) * direction
        if ctl.running and error < -spec.thermostat_off_k:
            self._stop_compressor(t)
        elif not ctl.running and error >= spec.restart_k and t - ctl.stopped_at >= spec.min_off_s:
            ctl.running = True
            ctl.integral = 0.0
            ctl.preheat_left_s = spec.preheat_s if direction > 0 else 0.0

        if not ctl.running:
            idle_stage = 1 if direction > 0 else _FAN_STAGE.get(self.fan_mode, 1)
            self._report(hz=0, fan_stage=idle_stage)
            return 0.0, spec.standby_w + self._fan_w(idle_stage)

        fraction = self._load_fraction(error, dt)
        if self.mode is Mode.DRY:
            fraction = 0.0
        hz = round(
            spec.compressor_min_hz + (spec.compressor_max_hz - spec.compressor_min_hz) * fraction
        )
        if direction > 0:
            capacity = spec.heating_min_w + (spec.heating_max_w - spec.heating_min_w) * fraction
            electrical = capacity / spec.heating_cop(outdoor, fraction)
            if outdoor < spec.defrost_below_c:
                ctl.frost_s += dt
                if ctl.frost_s >= spec.defrost_after_s:
                    ctl.frost_s = 0.0
                    ctl.defrost_left_s = spec.defrost_duration_s
        else:
            capacity = spec.cooling_min_w + (spec.cooling_max_w - spec.cooling_min_w) * fraction
            electrical = capacity / spec.cooling_cop(outdoor, fraction)
            if self.mode is Mode.DRY:
                capacity *= spec.dry_sensible_fraction

        if ctl.preheat_left_s > 0:
            ctl.preheat_left_s -= dt
            self._report(hz=hz, fan_stage=0, preheating=True)
            return capacity * spec.preheat_heat_fraction, spec.standby_w + electrical

        stage = self._fan_stage_running(fraction)
        self._report(hz=hz, fan_stage=stage)
        return direction * capacity, spec.standby_w + electrical + self._fan_w(stage)

    def _direction(self, t: float) -> int:
        """+1 to heat, -1 to cool, for the current mode and room."""
        ctl = self._control
        if self.mode is Mode.HEAT:
            ctl.direction = 1
        elif self.mode in (Mode.COOL, Mode.DRY):
            ctl.direction = -1
        else:  # heat_cool: pick by the error, keep the last choice inside the deadband
            error = self.target_temperature - self.regulated_temperature
            if error > self.spec.auto_deadband_k or (ctl.direction == 0 and error >= 0):
                if ctl.direction != 1:
                    self._stop_compressor(t)
                ctl.direction = 1
            elif error < -self.spec.auto_deadband_k or ctl.direction == 0:
                if ctl.direction != -1:
                    self._stop_compressor(t)
                ctl.direction = -1
        return ctl.direction

    def _load_fraction(self, error: float, dt: float) -> float:
        """PI controller output in 0..1 (0 = minimum capacity), with anti-windup."""
        spec, ctl = self.spec, self._control
        proportional = error / spec.proportional_band_k
        output = proportional + ctl.integral
        # Conditional integration: never wind further into a limit the output already sits at.
        if not ((output >= 1.0 and proportional > 0) or (output <= 0.0 and proportional < 0)):
            ctl.integral += proportional * dt / spec.integral_time_s
            ctl.integral = min(1.0, max(0.0, ctl.integral))
        return min(1.0, max(0.0, proportional + ctl.integral))

    def _fan_stage_running(self, fraction: float) -> int:
        if self.mode is Mode.DRY:
            return 1
        if self.fan_mode == "auto":
            return 1 + round(fraction * 4)
        return _FAN_STAGE.get(self.fan_mode, 3)

    def _fan_w(self, stage: int) -> float:
        return self.spec.fan_base_w + self.spec.fan_w_per_stage * stage if stage else 0.0

    def _stop_compressor(self, t: float) -> None:
        ctl = self._control
        if ctl.running:
            ctl.running = False
            ctl.stopped_at = t
        ctl.preheat_left_s = 0.0

    def _report(
        self, *, hz: int, fan_stage: int, defrosting: bool = False, preheating: bool = False
    ) -> None:
        self.compressor_frequency = hz
        self.operating = hz > 0
        self.fan_stage = fan_stage
        self.defrosting = defrosting
        self.preheating = preheating
