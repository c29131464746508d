"""Panasonic air conditioners through the 216-bit IR protocol (ir.md §B8).

The remote model is a unit option (``[units.options] model = "DKE"``): it decides the marker
bytes, whether horizontal swing exists (DKE/PKR, RKR) and whether power is a toggle (CKP).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.panasonic_ir.codec import CODEC, PanasonicCodec


class PanasonicOptions(BaseModel):
    """``[units.options]`` of a ``driver = "panasonic_ir"`` unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Literal["JKE", "LKE", "NKE", "DKE", "CKP", "RKR"] = Field(
        default="DKE",
        description=(
            "the remote model: DKE (also PKR; horizontal swing), JKE, LKE, NKE, RKR "
            "(horizontal swing), CKP (power is a toggle)"
        ),
    )


def create_encoder(options: BaseModel) -> CodecEncoder:
    if not isinstance(options, PanasonicOptions):
        raise TypeError(f"panasonic_ir expects PanasonicOptions, got {type(options).__name__}")
    return CodecEncoder(PanasonicCodec(options.model))


DRIVER = DriverInfo(
    name="panasonic_ir",
    brand="Panasonic",
    models=("JKE", "LKE", "NKE", "DKE", "PKR", "CKP", "RKR"),
    kind="ir",
    traits=CODEC.traits,
    options_model=PanasonicOptions,
    create_ir=create_encoder,
    ir_codec=CODEC,
    description=(
        "Full-state 216-bit IR messages on a 36.7 kHz carrier; per remote model marker bytes, "
        "horizontal swing on DKE/RKR, power toggle on CKP."
    ),
)

__all__ = ["DRIVER", "PanasonicOptions"]
