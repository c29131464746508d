"""Samsung air conditioners through the 112/168-bit IR protocol (ir.md §B10)."""

from __future__ import annotations

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.samsung_ir.codec import CODEC, TRAITS

DRIVER = DriverInfo(
    name="samsung_ir",
    brand="Samsung",
    models=("AR09FSSDAWKNFA", "DB63-03556X003", "DB93-16761C", "IEC-R03"),
    kind="ir",
    traits=TRAITS,
    create_ir=lambda _options: CodecEncoder(CODEC),
    ir_codec=CODEC,
    description=(
        "Full-state IR messages of 7-byte sections; the 21-byte extended message whenever the "
        "power changes (and to switch off)."
    ),
)

__all__ = ["DRIVER"]
