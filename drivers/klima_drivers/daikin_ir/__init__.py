"""Daikin split units through their 280-bit IR remote protocol (ir.md §B3).

Full-state messages with an explicit power bit: every command sends the whole state, so
repeating it is harmless. Protocol details and the message model are in :mod:`.codec`.
"""

from __future__ import annotations

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.daikin_ir.codec import CODEC, TRAITS

DRIVER = DriverInfo(
    name="daikin_ir",
    brand="Daikin",
    models=("FTXM-M", "ARC433", "ARC466A12", "ARC466A33", "ARC443A5"),
    kind="ir",
    traits=TRAITS,
    create_ir=lambda _options: CodecEncoder(CODEC),
    ir_codec=CODEC,
    description=(
        "Infrared (DAIKIN, 280-bit): full state in every message, half-degree setpoints "
        "10..32 °C, five fan speeds plus quiet and auto, vertical and horizontal swing."
    ),
)

__all__ = ["DRIVER"]
