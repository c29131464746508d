"""Random desired states within a codec's traits: for round-trip tests, benchmarks and the
simulator's "someone pressed the remote" events. Pass a seeded ``random.Random`` for
reproducible sequences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klima.state import UnitState

if TYPE_CHECKING:
    import random

    from klima.traits import Traits


def random_state(traits: Traits, rng: random.Random, *, power: bool | None = None) -> UnitState:
    """A state every field of which ``traits`` allows (``power`` random unless given)."""
    mode = rng.choice(traits.modes)
    low, high = traits.limits_for(mode)
    steps = round((high - low) / traits.temp_step)
    return UnitState(
        power=rng.random() < 0.8 if power is None else power,
        mode=mode,
        target_temperature=low + traits.temp_step * rng.randint(0, steps),
        fan_mode=rng.choice(traits.fan_modes) if traits.fan_modes else None,
        swing_mode=rng.choice(traits.swing_modes) if traits.swing_modes else None,
        swing_horizontal_mode=(
            rng.choice(traits.swing_horizontal_modes) if traits.swing_horizontal_modes else None
        ),
    )
