"""Any IR-controlled unit with a SmartIR climate code file (smartir.md §C1, §C2).

For brands Klima has no encoder for: the unit is driven by replaying the learned Broadlink
codes of a SmartIR file (``codes/climate/<n>.json``). Each unit's traits come from its file,
so the driver-level traits below are only a generic default for listings.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from klima.driver import DriverInfo
from klima.state import Mode
from klima.traits import Traits
from klima_drivers.smartir.codefile import CodeFile, load_code_file
from klima_drivers.smartir.codes import SmartIrFileError
from klima_drivers.smartir.encoder import SmartIrEncoder


class SmartIrOptions(BaseModel):
    """``[units.options]`` of a ``driver = "smartir"`` unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code_file: Path = Field(description="the SmartIR climate JSON file (Broadlink, Base64)")
    send_on_before_state: bool | None = Field(
        default=None,
        description=(
            "when to send the file's 'on' code before the state code: unset = only when "
            "switching the unit on; true = before every command (SmartIR's way); false = never"
        ),
    )


def create_encoder(options: BaseModel) -> SmartIrEncoder:
    """The encoder for one unit; raises :class:`SmartIrFileError` if its file is unusable."""
    if not isinstance(options, SmartIrOptions):
        raise TypeError(f"smartir expects SmartIrOptions, got {type(options).__name__}")
    return SmartIrEncoder.load(
        options.code_file.expanduser(), send_on_before_state=options.send_on_before_state
    )


GENERIC_TRAITS = Traits(
    modes=(Mode.HEAT, Mode.COOL, Mode.HEAT_COOL, Mode.DRY, Mode.FAN_ONLY),
    min_temp=16.0,
    max_temp=30.0,
    temp_step=1.0,
)

DRIVER = DriverInfo(
    name="smartir",
    brand="SmartIR code file",
    models=("any model with a SmartIR climate code file",),
    kind="ir",
    traits=GENERIC_TRAITS,
    options_model=SmartIrOptions,
    create_ir=create_encoder,
    ir_codec=None,
    description=(
        "Replays the learned Broadlink codes of a SmartIR climate JSON file; modes, fan and "
        "swing names and the setpoint range come from the file."
    ),
)

__all__ = [
    "DRIVER",
    "CodeFile",
    "SmartIrEncoder",
    "SmartIrFileError",
    "SmartIrOptions",
    "create_encoder",
    "load_code_file",
]
