"""LG air conditioners through the 28-bit LG/LG2 IR protocol (ir.md §B11).

The remote model is a unit option (``[units.options] model = "AKB75215403"``): it picks the
timing (LG for GE6711AR2853M and LG6711A20083V, LG2 for the AKB remotes), the fan levels and
which separate swing words exist. ``display_light = false`` (AKB74955603) sends the light toggle
after every state word, since each state word switches the display on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.lg_ir.codec import CODEC, LgCodec


class LgOptions(BaseModel):
    """``[units.options]`` of a ``driver = "lg_ir"`` unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal[
        "GE6711AR2853M", "LG6711A20083V", "AKB75215403", "AKB74955603", "AKB73757604"
    ] = Field(
        default="AKB75215403",
        description=(
            "the remote model: GE6711AR2853M or LG6711A20083V (LG timing); AKB75215403, "
            "AKB74955603 (vane positions, 5 fan speeds, light) or AKB73757604 (per-vane "
            "positions, horizontal swing) (LG2 timing)"
        ),
    )
    display_light: bool = Field(
        default=True, description="keep the display lit (AKB74955603 only; false switches it off)"
    )


def create_encoder(options: BaseModel) -> CodecEncoder:
    if not isinstance(options, LgOptions):
        raise TypeError(f"lg_ir expects LgOptions, got {type(options).__name__}")
    return CodecEncoder(LgCodec(options.model, display_light=options.display_light))


DRIVER = DriverInfo(
    name="lg_ir",
    brand="LG",
    models=(
        "GE6711AR2853M",
        "LG6711A20083V",
        "AKB75215403",
        "AKB74955603",
        "AKB73757604",
        "S4-W12JA3AA",
    ),
    kind="ir",
    traits=CODEC.traits,
    options_model=LgOptions,
    create_ir=create_encoder,
    ir_codec=CODEC,
    description=(
        "28-bit LG/LG2 IR words: a dedicated off word, separate vane/swing/light words after "
        "the state word."
    ),
)

__all__ = ["DRIVER", "LgOptions"]
