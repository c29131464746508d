"""Per-unit power model: performance profiles, estimated watts, kWh integration and counters."""

from klima.energy.model.frequency import FrequencyRangeLearner
from klima.energy.model.integrate import (
    CounterState,
    EnergySource,
    LifetimeAccumulator,
    PowerSample,
    integrate_kwh,
    interval_kwh,
)
from klima.energy.model.power import (
    MissingPerformanceDataError,
    celsius_to_fahrenheit,
    estimate_power,
)
from klima.energy.model.profile import (
    ConditionPoints,
    CoolingRatings,
    HeatingRatings,
    OperatingPoint,
    PerformanceProfile,
)

# CN105 code 06 data[7..8]: 16 bits of 0.1 kWh roll over after 6553.5 (serial.md §3.5.5, §3.6).
CN105_COUNTER_WRAP_KWH = 65536 * 0.1

__all__ = [
    "CN105_COUNTER_WRAP_KWH",
    "ConditionPoints",
    "CoolingRatings",
    "CounterState",
    "EnergySource",
    "FrequencyRangeLearner",
    "HeatingRatings",
    "LifetimeAccumulator",
    "MissingPerformanceDataError",
    "OperatingPoint",
    "PerformanceProfile",
    "PowerSample",
    "celsius_to_fahrenheit",
    "estimate_power",
    "integrate_kwh",
    "interval_kwh",
]
