"""Fujitsu air conditioners through their IR remote protocol (AR-RAH2E family; ir.md §B7)."""

from __future__ import annotations

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.fujitsu_ir.codec import CODEC, TRAITS

DRIVER = DriverInfo(
    name="fujitsu_ir",
    brand="Fujitsu",
    models=("AR-RAH2E", "AR-RCE1E", "AR-RAE1E", "AR-REG1U", "ASYG30LFCA"),
    kind="ir",
    traits=TRAITS,
    create_ir=lambda _options: CodecEncoder(CODEC),
    ir_codec=CODEC,
    description=(
        "Full-state IR frames of the AR-RAH2E remote family: the turn-on flag only in the "
        "frame that switches the unit on, a separate short frame to switch it off."
    ),
)

__all__ = ["DRIVER"]
