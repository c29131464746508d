"""What a CN105 unit supports: the protocol's full vocabulary, refined by what the unit reports.

Two reports refine it: the ``C9`` capability record (modes, vanes, automatic fan, per-mode
setpoint limits) and the settings reply (0x02), whose enhanced setpoint byte says whether the
unit takes half degrees. A unit that only knows the legacy byte gets whole degrees 16..31.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from klima.state import Mode
from klima.traits import Traits
from klima_drivers.mitsubishi_cn105 import scales

if TYPE_CHECKING:
    from klima_drivers.mitsubishi_cn105.replies import Capabilities

# Everything the protocol can express. The setpoint range is the one every CN105 unit accepts;
# wider per-mode limits (e.g. heating down to 10 °C) come from the unit's own C9 record.
CN105_TRAITS = Traits(
    modes=(Mode.HEAT_COOL, Mode.HEAT, Mode.COOL, Mode.DRY, Mode.FAN_ONLY),
    fan_modes=scales.FAN_MODES,
    swing_modes=scales.SWING_MODES,
    swing_horizontal_modes=scales.SWING_HORIZONTAL_MODES,
    min_temp=float(scales.LEGACY_SETPOINT_MIN),
    max_temp=float(scales.LEGACY_SETPOINT_MAX),
    temp_step=0.5,
    remote_temperature=True,
)


def unit_traits(
    base: Traits, capabilities: Capabilities | None, enhanced_setpoint: bool | None
) -> Traits:
    """``base`` refined by the unit's capability record and setpoint scale (when known)."""
    traits = base
    if capabilities is not None:
        traits = _with_capabilities(traits, capabilities)
    if enhanced_setpoint is False:
        traits = dataclasses.replace(
            traits,
            min_temp=max(traits.min_temp, scales.LEGACY_SETPOINT_MIN),
            max_temp=min(traits.max_temp, scales.LEGACY_SETPOINT_MAX),
            temp_step=max(traits.temp_step, 1.0),
            mode_limits={},
        )
    return traits


def _with_capabilities(traits: Traits, caps: Capabilities) -> Traits:
    dropped = {
        Mode.HEAT: not caps.heat,
        Mode.DRY: not caps.dry,
        Mode.FAN_ONLY: not caps.fan_only,
    }
    modes = tuple(m for m in traits.modes if not dropped.get(m, False))
    swing = traits.swing_modes if caps.vertical_vane else ()
    wide = traits.swing_horizontal_modes
    if not caps.vane_swing:  # muart: the swing bit covers both vanes
        swing = tuple(s for s in swing if s != "swing")
        wide = tuple(s for s in wide if s != "swing")
    fans = traits.fan_modes if caps.auto_fan else tuple(f for f in traits.fan_modes if f != "auto")
    changes: dict[str, object] = {
        "modes": modes or traits.modes,
        "swing_modes": swing,
        "swing_horizontal_modes": wide,
        "fan_modes": fans,
    }
    limits = {m: lim for m, lim in caps.mode_limits().items() if m in modes}
    if limits:
        changes["min_temp"] = min(low for low, _ in limits.values())
        changes["max_temp"] = max(high for _, high in limits.values())
        changes["mode_limits"] = limits
    return dataclasses.replace(traits, **changes)  # type: ignore[arg-type]  # names checked above
