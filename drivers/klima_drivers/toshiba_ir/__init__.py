"""Toshiba (and Carrier 42NQV) air conditioners through the 72-bit IR protocol (ir.md §B9)."""

from __future__ import annotations

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.toshiba_ir.codec import CODEC, TRAITS

DRIVER = DriverInfo(
    name="toshiba_ir",
    brand="Toshiba",
    models=("WH-TA01", "WH-TG01", "WH-UB03", "RAS series", "Carrier 42NQV"),
    kind="ir",
    traits=TRAITS,
    create_ir=lambda _options: CodecEncoder(CODEC),
    ir_codec=CODEC,
    description=(
        "Full-state IR frames (sent twice); off is mode 7 of the same frame, swing a separate "
        "short frame sent after the state when it changes."
    ),
)

__all__ = ["DRIVER"]
