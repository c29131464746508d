"""The base of every configuration record, and value types several sections share."""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_zone(value: str) -> str:
    """An IANA time zone this machine knows (e.g. Europe/Berlin)."""
    if not re.match(r"^[A-Za-z0-9_+\-/]+$", value):
        raise ValueError(f"not an IANA time zone name: {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Berlin)") from None
    return value


ZoneName = Annotated[str, AfterValidator(check_zone)]
