"""Mitsubishi Electric split units through their 144-bit IR remote protocol (ir.md §B2).

Full-state frames with an explicit power bit: every command sends the whole state, so repeating
it is harmless. Protocol details and the frame model are in :mod:`.codec`.
"""

from __future__ import annotations

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.mitsubishi_ir.codec import CODEC, TRAITS

DRIVER = DriverInfo(
    name="mitsubishi_ir",
    brand="Mitsubishi Electric",
    models=("MSZ-GV", "MSZ-SF", "MSZ-ZW", "MSZ-FH", "RH151", "SG15D", "SG153", "KM14A"),
    kind="ir",
    traits=TRAITS,
    create_ir=lambda _options: CodecEncoder(CODEC),
    ir_codec=CODEC,
    description=(
        "Infrared (MITSUBISHI_AC, 144-bit): full state in every frame, half-degree setpoints "
        "16..31 °C, four fan speeds plus quiet, vertical and wide vane positions."
    ),
)

__all__ = ["DRIVER"]
