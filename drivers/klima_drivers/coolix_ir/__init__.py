"""Coolix-protocol split units (Beko, Midea RG52D/RG57, Comfee, Tokio, Airwell, Kastron, Kaysun,
Toshiba RAS-M…YKV, Bosch, Fisher …) through the 24-bit COOLIX IR protocol (ir.md §B5).

A state frame always switches the unit on; off is a separate fixed frame, and swing is a
toggle sent only when the swing setting changes (ir.md §B12). Details are in :mod:`.codec`.
"""

from __future__ import annotations

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.coolix_ir.codec import CODEC, TRAITS

DRIVER = DriverInfo(
    name="coolix_ir",
    brand="Coolix (Beko, Midea, Comfee, Tokio, Airwell, Kaysun, Toshiba, Bosch …)",
    models=("RG57K7", "RG52D", "RG57A7", "RG51", "RC08B", "RG36B4", "RAS-M10YKV", "WH-E1YE"),
    kind="ir",
    traits=TRAITS,
    create_ir=lambda _options: CodecEncoder(CODEC),
    ir_codec=CODEC,
    description=(
        "Infrared (COOLIX, 24-bit): state frames for mode, setpoint 17..30 °C and three fan "
        "speeds; a separate off frame; swing as a toggle sent only when it changes."
    ),
)

__all__ = ["DRIVER"]
