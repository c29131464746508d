"""Thermostat strategies against the simulated room: comfort, compressor starts and energy.

    .venv/bin/python bench/thermostat.py [--quick] [--days 7] [--seed 1] [--json out.json]
        [--offset-interval 300] [--offset-change 0.5]

One simulated 25 m² room (``klima_sim.room``) heated or cooled by the simulated inverter unit
(``klima_sim.unit.SimulatedUnit``: PI capacity, thermostat-off, its own 3 min restart delay,
preheat and defrost) on a :class:`ManualClock`, for a winter week (heat, outdoor around 0 °C)
and a summer week (cool, around 28 °C, sun on the window). The weather is a daily sinusoid
plus a seeded day-to-day drift, identical for every strategy and every run.

The schedule asks for 21 °C from 06:30 to 22:00 and 18 °C at night (summer: 24 / 27 °C).
The unit's own sensor sits in the return air near the ceiling and reads 1.5 K warm; the
simulator regulates on ``remote_temperature`` when one is set, so that bias is modelled by
setting ``remote_temperature`` to room + 1.5 K, except in the native remote strategy where
the loop feeds the room sensor's reading instead. The room sensor reads the true room
temperature to 0.1 K.

Every minute the strategy's ``ThermostatLoop`` (``klima.control.thermostat``) is updated and
its output applied. Power commands from the loop pass a compressor-protection gate with the
safety gate's defaults (10 min minimum run, 5 min minimum off, at most 4 starts per hour);
the baseline, a plain on/off thermostat at ±0.5 K on the room sensor, has no gate.

One day of warm-up is simulated first and not counted. Comfort is |room - target| while
occupied (06:30-22:00), and again from 08:00 ("steady", after the morning recovery).
In-process, no daemon; simulated time only.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from _harness import emit, machine_info, print_table
from klima.control.safety import CycleGuard
from klima.control.thermostat import Strategy as LoopStrategy
from klima.control.thermostat import (
    ThermostatLoop,
    ThermostatOutput,
    ThermostatSettings,
)
from klima.state import Mode, UnitCommand, UnitState
from klima_sim.clock import ManualClock
from klima_sim.room import OutdoorClimate, Room, RoomParameters
from klima_sim.unit import SimulatedUnit

DAY = 86_400.0
TICK = 60.0  # the loop runs once a minute, like the engine's tick
OWN_SENSOR_BIAS = 1.5  # K: the unit's return-air sensor near the ceiling reads warm
SENSOR_RESOLUTION = 0.1  # K: a typical Zigbee room sensor
PUSH = 2.0  # K past the target the baseline sets, so the unit's own thermostat never stops first
STEP, MIN_TEMP, MAX_TEMP = 0.5, 16.0, 31.0  # the simulated CN105 unit's setpoint grid and range

Strategy = Literal["baseline", "passthrough", "remote_native", "remote_offset", "hysteresis"]
STRATEGIES: tuple[Strategy, ...] = (
    "baseline",
    "passthrough",
    "remote_native",
    "remote_offset",
    "hysteresis",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftingOutdoor(OutdoorClimate):
    """The daily sinusoid plus a day-to-day drift (one value per day, linearly interpolated
    between midnights)."""

    day_shifts: tuple[float, ...] = ()

    def temperature_at(self, seconds: float) -> float:
        base = OutdoorClimate.temperature_at(self, seconds)  # slots: no zero-arg super()
        if not self.day_shifts:
            return base
        position = seconds / DAY
        index = min(int(position), len(self.day_shifts) - 2)
        fraction = min(1.0, position - index)
        low, high = self.day_shifts[index], self.day_shifts[index + 1]
        return base + low + (high - low) * fraction


@dataclass(frozen=True, slots=True)
class Season:
    name: str
    mode: Mode
    mean: float
    amplitude: float
    drift_sigma: float
    solar_peak_w: float
    comfort: float  # target 06:30-22:00
    night: float

    def outdoor(self, days: int, seed: int) -> DriftingOutdoor:
        rng = random.Random(f"{seed}-{self.name}")
        shifts = tuple(rng.gauss(0.0, self.drift_sigma) for _ in range(days + 2))
        return DriftingOutdoor(mean=self.mean, daily_amplitude=self.amplitude, day_shifts=shifts)

    def target(self, seconds: float) -> float:
        hour = (seconds % DAY) / 3600.0
        return self.comfort if occupied(hour) else self.night


WINTER = Season("winter", Mode.HEAT, 0.0, 4.0, 2.5, 150.0, 21.0, 18.0)
SUMMER = Season("summer", Mode.COOL, 28.0, 5.0, 2.0, 600.0, 24.0, 27.0)


def occupied(hour: float) -> bool:
    return 6.5 <= hour < 22.0


@dataclass(slots=True)
class Tally:
    deviations: list[float] = field(default_factory=list)  # occupied, |room - target|
    steady: list[float] = field(default_factory=list)  # occupied from 08:00
    starts: int = 0
    power_commands: int = 0
    setpoint_writes: int = 0
    refused: int = 0

    def result(self, hours: float, kwh: float) -> dict[str, Any]:
        def rms(values: list[float]) -> float:
            return math.sqrt(sum(v * v for v in values) / len(values))

        return {
            "comfort_rms_k": round(rms(self.deviations), 3),
            "comfort_worst_k": round(max(self.deviations), 2),
            "steady_rms_k": round(rms(self.steady), 3),
            "steady_worst_k": round(max(self.steady), 2),
            "starts_per_hour": round(self.starts / hours, 2),
            "kwh": round(kwh, 2),
            "power_commands": self.power_commands,
            "power_commands_refused_by_gate": self.refused,
            "setpoint_writes": self.setpoint_writes,
        }


def make_loop(strategy: Strategy, offset_limits: tuple[float, float]) -> ThermostatLoop | None:
    kinds: dict[Strategy, LoopStrategy] = {
        "passthrough": "passthrough",
        "remote_native": "remote_sensor",
        "remote_offset": "remote_sensor",
        "hysteresis": "hysteresis",
    }
    kind = kinds.get(strategy)
    if kind is None:
        return None  # the baseline is not a ThermostatLoop
    interval, change = offset_limits
    settings = ThermostatSettings(
        strategy=kind, min_offset_interval=interval, min_offset_change=change
    )
    return ThermostatLoop(
        settings,
        native_remote=strategy == "remote_native",
        step=STEP,
        min_temp=MIN_TEMP,
        max_temp=MAX_TEMP,
    )


def baseline(target: float, room: float, unit_on: bool, mode: Mode) -> ThermostatOutput:
    """Plain on/off at ±0.5 K around the target, the unit pushed to run whenever it is on."""
    direction = 1 if mode is Mode.HEAT else -1
    error = (target - room) * direction  # > 0: demand
    power: bool | None = None
    if error > 0.5 and not unit_on:
        power = True
    elif error < -0.5 and unit_on:
        power = False
    return ThermostatOutput(power=power, target_temperature=target + direction * PUSH)


def run(
    strategy: Strategy,
    season: Season,
    days: int,
    seed: int,
    offset_limits: tuple[float, float] = (300.0, 0.5),
) -> dict[str, Any]:
    clock = ManualClock()
    room = Room(
        RoomParameters(solar_gain_peak_w=season.solar_peak_w),
        season.outdoor(days + 1, seed),
        temperature=season.night,
    )
    unit = SimulatedUnit(
        clock=clock, room=room, power=True, mode=season.mode, target_temperature=season.night
    )
    loop = make_loop(strategy, offset_limits)
    # The daemon's own compressor protection (klima.control.safety), with its defaults.
    gate = CycleGuard()
    gate.record_power(was_on=False, is_on=unit.power, now=0.0)
    tally = Tally()
    gated = loop is not None  # every automatic strategy goes through the gate
    warmup_end = DAY
    energy_at_start = 0.0
    was_operating, was_defrosting = False, False
    for tick in range(int((days + 1) * DAY / TICK)):
        now = tick * TICK
        counting = now >= warmup_end
        if now == warmup_end:
            energy_at_start = unit.energy_kwh
        target = season.target(now)
        reading = round(room.temperature / SENSOR_RESOLUTION) * SENSOR_RESOLUTION
        if strategy != "remote_native":
            unit.remote_temperature = room.temperature + OWN_SENSOR_BIAS
        if loop is None:
            out = baseline(target, reading, unit.power, season.mode)
        else:
            unit_reading = unit.regulated_temperature
            out = loop.update(now, target, season.mode.value, reading, unit_reading, unit.power)
        apply(out, unit, gate if gated else None, now, tally if counting else Tally())

        clock.advance(TICK)
        unit.advance()

        if counting:
            hour = ((now + TICK) % DAY) / 3600.0
            if occupied(hour):
                deviation = abs(room.temperature - season.target(now + TICK))
                tally.deviations.append(deviation)
                if hour >= 8.0:
                    tally.steady.append(deviation)
            if unit.operating and not was_operating and not was_defrosting:
                tally.starts += 1
        was_operating, was_defrosting = unit.operating, unit.defrosting
    return tally.result(days * 24.0, unit.energy_kwh - energy_at_start)


def apply(
    out: ThermostatOutput, unit: SimulatedUnit, gate: CycleGuard | None, now: float, tally: Tally
) -> None:
    if out.power is not None and out.power != unit.power:
        tally.power_commands += 1
        current = UnitState(power=unit.power, mode=unit.mode)
        refused = gate is not None and gate.decide(
            UnitCommand(power=out.power), current, now, "thermostat"
        )
        if refused:
            tally.refused += 1  # dropped: the loop asks again on the next tick
        else:
            if gate is not None:
                gate.record_power(was_on=unit.power, is_on=out.power, now=now)
            unit.power = out.power
    if out.target_temperature is not None and out.target_temperature != unit.target_temperature:
        tally.setpoint_writes += 1
        unit.target_temperature = out.target_temperature
    if out.remote_temperature is not None:
        unit.remote_temperature = out.remote_temperature


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="2 simulated days per season")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--offset-interval", type=float, default=300.0, help="min_offset_interval, seconds"
    )
    parser.add_argument("--offset-change", type=float, default=0.5, help="min_offset_change, K")
    args = parser.parse_args()
    days = 2 if args.quick else args.days
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    for season in (WINTER, SUMMER):
        rows = []
        outdoor = season.outdoor(days + 1, args.seed)
        temps = [outdoor.temperature_at(t) for t in range(int(DAY), int((days + 1) * DAY), 600)]
        results[season.name] = {
            "outdoor_c": {
                "mean": round(sum(temps) / len(temps), 1),
                "min": round(min(temps), 1),
                "max": round(max(temps), 1),
            }
        }
        for strategy in STRATEGIES:
            limits = (args.offset_interval, args.offset_change)
            figures = run(strategy, season, days, args.seed, limits)
            results[season.name][strategy] = figures
            rows.append(
                [
                    strategy,
                    *(f"{figures[key]:.2f}" for key in ("comfort_rms_k", "comfort_worst_k")),
                    *(f"{figures[key]:.2f}" for key in ("steady_rms_k", "steady_worst_k")),
                    f"{figures['starts_per_hour']:.2f}",
                    f"{figures['kwh']:.1f}",
                    figures["setpoint_writes"],
                    figures["power_commands"],
                ]
            )
        print_table(
            f"{season.name} ({season.mode.value}), {days} days, outdoor"
            f" {min(temps):.1f}..{max(temps):.1f} °C",
            [
                "strategy",
                "RMS K",
                "worst K",
                "steady RMS",
                "steady worst",
                "starts/h",
                "kWh",
                "setpoints",
                "power cmds",
            ],
            rows,
        )
    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.1f} s")
    emit(
        {
            "benchmark": "thermostat",
            "days": days,
            "seed": args.seed,
            "offset_limits": {"interval_s": args.offset_interval, "change_k": args.offset_change},
            "elapsed_s": round(elapsed, 1),
            "machine": machine_info(),
            "results": results,
        },
        args.json,
    )


if __name__ == "__main__":
    main()
