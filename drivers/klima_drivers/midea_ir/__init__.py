"""Midea-protocol split units (Midea, Pioneer System, Lennox, Comfee, Danby, Keystone, MrCool,
Trotec, Kaysun …) through the 48-bit MIDEA IR protocol (ir.md §B6).

Command frames carry power explicitly; swing is a toggle sent only when the swing setting
changes (ir.md §B12). Details are in :mod:`.codec`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from klima.driver import DriverInfo
from klima.ir import CodecEncoder
from klima_drivers.midea_ir.codec import CODEC, TRAITS, MideaCodec, TemperatureUnit


class MideaOptions(BaseModel):
    """``[units.options]`` of a ``driver = "midea_ir"`` unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature_unit: TemperatureUnit = Field(
        default="C",
        description=(
            "unit of the setpoint in the frames sent: C (preferred) or F for units whose "
            "remote only speaks Fahrenheit; Klima's setpoints stay in °C either way"
        ),
    )


def create_encoder(options: BaseModel) -> CodecEncoder:
    if not isinstance(options, MideaOptions):
        raise TypeError(f"midea_ir expects MideaOptions, got {type(options).__name__}")
    return CodecEncoder(MideaCodec(temperature_unit=options.temperature_unit))


DRIVER = DriverInfo(
    name="midea_ir",
    brand="Midea (Pioneer System, Lennox, Comfee, Danby, Keystone, MrCool, Trotec, Kaysun …)",
    models=("RG57A6/BGEFU1", "RG57H4(B)BGEF", "R09C/BCGE", "RYBO12GMFILCAD", "MPD1-12CRN7"),
    kind="ir",
    traits=TRAITS,
    options_model=MideaOptions,
    create_ir=create_encoder,
    ir_codec=CODEC,
    description=(
        "Infrared (MIDEA, 48-bit): command frames with power, mode, setpoint 17..30 °C and three "
        "fan speeds; swing as a toggle sent only when it changes."
    ),
)

__all__ = ["DRIVER", "MideaOptions"]
