"""Mitsubishi Electric indoor units through the CN105 connector ("IT protocol", 2400 8E1).

Protocol reference: serial.md §3. Layers: :mod:`.frames` (framing), :mod:`.codec` (fields, both
roles), :mod:`.client` (the serial client), :mod:`.decode` (frame debugging).
"""

from __future__ import annotations

from klima.driver import DriverInfo
from klima_drivers.mitsubishi_cn105.client import SERIAL_SETTINGS, Cn105Options, create_client
from klima_drivers.mitsubishi_cn105.decode import decode_frame
from klima_drivers.mitsubishi_cn105.unit_traits import CN105_TRAITS

DRIVER = DriverInfo(
    name="mitsubishi_cn105",
    brand="Mitsubishi Electric",
    models=(
        "MSZ-AP",
        "MSZ-AY",
        "MSZ-EF",
        "MSZ-FH",
        "MSZ-GE",
        "MSZ-GL",
        "MSZ-GS",
        "MSZ-LN",
        "MSZ-RW",
        "MFZ-KJ",
        "SEZ-KD",
        "SLZ-KF",
    ),
    kind="serial",
    traits=CN105_TRAITS,
    options_model=Cn105Options,
    serial=SERIAL_SETTINGS,
    create_client=create_client,
    decode_frame=decode_frame,
    description=(
        "Wired control through the CN105 connector: partial settings, half-degree setpoints, "
        "remote room temperature, compressor/power/energy readings where the unit reports them."
    ),
)

__all__ = ["DRIVER"]
