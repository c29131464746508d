"""The thermostat loop: what to send a unit so a room (not the unit's own sensor) holds a target.

Pure and time-injected: ``now`` is monotonic seconds from the caller, nothing here does I/O.
Three strategies (research notes §5.4):

- ``passthrough``: the unit regulates on its own sensor; the target is sent when it changes.
- ``remote_sensor``: on units that take a remote temperature (CN105) the room reading is fed
  and the target passed through; on others the setpoint is offset by a slow PI on
  (target - room), bounded, quantised to the unit's step and written rarely, because units
  dislike frequent setpoint writes (and an IR frame beeps).
- ``hysteresis``: the loop itself is the thermostat and switches the unit on and off around a
  band. Minimum run/off times are the safety gate's business, not this module's.

When the room sensor is stale the caller passes ``room=None`` and every strategy falls back to
passthrough: the unit regulates on its own sensor against the plain target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Strategy = Literal["passthrough", "remote_sensor", "hysteresis"]
# Modes in which the unit regulates toward its setpoint, so a setpoint offset means something.
_REGULATING_MODES = frozenset({"heat", "cool", "heat_cool"})
_HYSTERESIS_MODES = frozenset({"heat", "cool"})  # heat_cool picks its direction itself
# A gap between two updates longer than this (a stalled daemon) is not integrated in full.
_MAX_INTEGRATION_STEP = 600.0


@dataclass(frozen=True, slots=True)
class ThermostatSettings:
    strategy: Strategy = "passthrough"
    cold_tolerance: float = 0.3  # hysteresis band below target (generic_thermostat default)
    hot_tolerance: float = 0.3
    max_offset: float = 2.0  # remote_sensor on units without native remote temperature
    offset_step: float = 0.5  # smallest offset change the loop aims for (see min_offset_change)
    min_offset_interval: float = 300.0  # seconds between offset setpoint writes
    min_offset_change: float = 0.5  # K; smaller moves are not worth a write
    kp: float = 0.3  # PI on (target - room) ...
    ki: float = 0.05 / 60  # ... ki per second (Versatile Thermostat "medium"-like)

    def __post_init__(self) -> None:
        if self.cold_tolerance < 0 or self.hot_tolerance < 0:
            raise ValueError("thermostat tolerances must not be negative")
        if self.max_offset < 0 or self.offset_step <= 0:
            raise ValueError("max_offset must not be negative and offset_step must be positive")
        if self.min_offset_interval < 0 or self.min_offset_change < 0:
            raise ValueError("offset write limits must not be negative")
        if self.kp < 0 or self.ki < 0:
            raise ValueError("PI gains must not be negative")


@dataclass(frozen=True, slots=True)
class ThermostatOutput:
    power: bool | None = None  # hysteresis: switch on/off (None = no change)
    target_temperature: float | None = None  # setpoint to send, None = no change
    remote_temperature: float | None = None  # native remote temperature to feed, or None


class ThermostatLoop:
    """One unit's loop. Call :meth:`update` on every tick and on every new reading.

    Call it while the program wants the unit running; ``target=None`` means there is nothing
    to regulate and yields an empty output.
    """

    def __init__(
        self,
        settings: ThermostatSettings,
        *,
        native_remote: bool,
        step: float,
        min_temp: float,
        max_temp: float,
    ) -> None:
        if step <= 0 or min_temp > max_temp:
            raise ValueError("step must be positive and min_temp <= max_temp")
        self.settings = settings
        self.native_remote = native_remote
        self.step = step
        self.min_temp = min_temp
        self.max_temp = max_temp
        self._sent_target: float | None = None  # the setpoint we last asked for
        self._sent_at: float | None = None
        self._last_target: float | None = None  # the program's target at the last write
        self._mode: str | None = None
        self._integral = 0.0  # the I term, in kelvin of offset
        self._last_now: float | None = None

    @property
    def offset(self) -> float:
        """The offset the last written setpoint carries (0 unless in offset mode)."""
        if self._sent_target is None or self._last_target is None:
            return 0.0
        return self._sent_target - self._last_target

    def reset(self) -> None:
        """Forget what was sent, so the next update writes again (new connection, manual change)."""
        self._sent_target = self._sent_at = self._last_target = None

    def update(  # noqa: PLR0917 - the engine calls it with one positional per input
        self,
        now: float,
        target: float | None,
        mode: str,
        room: float | None,
        unit_room: float | None,
        unit_on: bool,
    ) -> ThermostatOutput:
        """What to send now. ``room`` is the remote sensor (None if stale or none);
        ``unit_room`` the unit's own reading (informational); ``unit_on`` its power state."""
        del unit_room  # the unit regulates on it by itself; the loop needs only the room
        dt = 0.0 if self._last_now is None else max(0.0, now - self._last_now)
        self._last_now = now
        if mode != self._mode:
            self._mode = mode
            self._integral = 0.0  # an offset learnt for heating says nothing about cooling
        if target is None:
            return ThermostatOutput()
        strategy = self.settings.strategy
        if room is None or strategy == "passthrough" or mode not in _REGULATING_MODES:
            return self._fallback(now, target, mode, unit_on)
        if strategy == "hysteresis" and mode not in _HYSTERESIS_MODES:
            return self._fallback(now, target, mode, unit_on)
        if strategy == "remote_sensor":
            if self.native_remote:
                return ThermostatOutput(
                    target_temperature=self._on_change(now, target, target),
                    remote_temperature=room,
                )
            return self._offset(now, dt, target, room, unit_on)
        return self._hysteresis(now, target, mode, room, unit_on)

    # --- strategies --------------------------------------------------------------------

    def _fallback(self, now: float, target: float, mode: str, unit_on: bool) -> ThermostatOutput:
        """Passthrough: the unit's own thermostat against the plain target."""
        # A hysteresis loop may have switched the unit off; without a room reading (or in a
        # mode it has no band for) it cannot switch it back on, so the unit's own thermostat
        # takes over, running.
        hysteresis = self.settings.strategy == "hysteresis"
        power = True if hysteresis and mode in _REGULATING_MODES and not unit_on else None
        return ThermostatOutput(
            power=power, target_temperature=self._on_change(now, target, target)
        )

    def _offset(
        self, now: float, dt: float, target: float, room: float, unit_on: bool
    ) -> ThermostatOutput:
        s = self.settings
        error = target - room
        if unit_on:  # an idle unit cannot close the gap: integrating would only wind up
            self._integral += s.ki * error * min(dt, _MAX_INTEGRATION_STEP)
            self._integral = _clamp(self._integral, -s.max_offset, s.max_offset)
        offset = _clamp(s.kp * error + self._integral, -s.max_offset, s.max_offset)
        setpoint = self._quantise_within(target, offset)
        if self._sent_target is not None and target == self._last_target:
            too_soon = self._sent_at is not None and now - self._sent_at < s.min_offset_interval
            too_small = abs(setpoint - self._sent_target) < s.min_offset_change - 1e-9
            if too_soon or too_small:
                return ThermostatOutput()
        # A new target (program step, user hold) is written at once: the limits are for drift.
        return ThermostatOutput(target_temperature=self._on_change(now, target, setpoint))

    def _hysteresis(
        self, now: float, target: float, mode: str, room: float, unit_on: bool
    ) -> ThermostatOutput:
        s = self.settings
        too_cold = room < target - s.cold_tolerance
        too_hot = room > target + s.hot_tolerance
        direction = 1 if mode == "heat" else -1
        demand, satisfied = (too_cold, too_hot) if direction > 0 else (too_hot, too_cold)
        power: bool | None = None
        if demand and not unit_on:
            power = True
        elif satisfied and unit_on:
            power = False
        # While on, the unit's own thermostat must not stop short of the band's far edge (its
        # sensor may read warm or cold), so its setpoint is pushed past the target.
        setpoint = self._quantise_within(target, direction * s.max_offset)
        return ThermostatOutput(
            power=power, target_temperature=self._on_change(now, target, setpoint)
        )

    # --- helpers -----------------------------------------------------------------------

    def _on_change(self, now: float, target: float, setpoint: float) -> float | None:
        """``setpoint`` if it differs from what was last sent (and remember it), else None."""
        setpoint = _clamp(setpoint, self.min_temp, self.max_temp)
        if self._sent_target is not None and math.isclose(setpoint, self._sent_target):
            self._last_target = target
            return None
        self._sent_target, self._sent_at, self._last_target = setpoint, now, target
        return setpoint

    def _quantise_within(self, target: float, offset: float) -> float:
        """target + offset on the unit's step grid, never more than max_offset from target."""
        limit = self.settings.max_offset + 1e-9
        value = self.step * math.floor((target + offset) / self.step + 0.5)
        if value - target > limit:
            value -= self.step
        elif target - value > limit:
            value += self.step
        return value


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class SensorFreshness:
    """Whether a sensor has reported within ``timeout`` seconds (remote sensors, windows,
    presence). A sensor never heard from is stale."""

    def __init__(self, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError("a freshness timeout must be positive")
        self.timeout = timeout
        self._seen_at: float | None = None

    def update(self, now: float) -> None:
        self._seen_at = now

    def stale(self, now: float) -> bool:
        return self._seen_at is None or now - self._seen_at > self.timeout
