"""Gree (and clone) split units through the GREE IR remote protocol (ir.md §B4).

Full-state frames with an explicit power bit: every command sends the whole state, so repeating
it is harmless. The remote model matters for one bit (YAW1F echoes the power bit in byte 2), so
it is a unit option. Protocol details and the frame model are in :mod:`.codec`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.gree_ir.codec import CODEC, TRAITS, GreeCodec, GreeModel


class GreeOptions(BaseModel):
    """``[units.options]`` of a ``driver = "gree_ir"`` unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    remote: GreeModel = Field(
        default="YAW1F",
        description="the unit's remote: YAW1F (most units) or YBOFB (no power echo in byte 2)",
    )


def create_encoder(options: BaseModel) -> CodecEncoder:
    if not isinstance(options, GreeOptions):
        raise TypeError(f"gree_ir expects GreeOptions, got {type(options).__name__}")
    return CodecEncoder(GreeCodec(model=options.remote))


DRIVER = DriverInfo(
    name="gree_ir",
    brand="Gree",
    models=("YAW1F", "YBOFB", "Ultimate", "EKOKAI", "Soleus", "Amana"),
    kind="ir",
    traits=TRAITS,
    options_model=GreeOptions,
    create_ir=create_encoder,
    ir_codec=CODEC,
    description=(
        "Infrared (GREE, 64-bit): full state in every frame, setpoints 16..30 °C, three fan "
        "speeds, vertical vane positions and swing, horizontal swing."
    ),
)

__all__ = ["DRIVER", "GreeOptions"]
