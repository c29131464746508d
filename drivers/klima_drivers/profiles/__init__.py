"""Performance profiles of common mini-split models, shipped as TOML data.

Each file in ``data/`` is one :class:`klima.energy.model.PerformanceProfile`; every number in it
carries its public source in a comment. The file name (without ``.toml``) is the profile's name.
"""

from __future__ import annotations

import tomllib
from importlib import resources

from pydantic import ValidationError

from klima.energy.model import PerformanceProfile
from klima.errors import ConfigError

_DATA = resources.files(__name__).joinpath("data")
_SUFFIX = ".toml"


def list_profiles() -> list[str]:
    """Names of the shipped profiles, sorted."""
    return sorted(
        entry.name.removesuffix(_SUFFIX)
        for entry in _DATA.iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    )


def load_profile(name: str) -> PerformanceProfile:
    """Load and validate the shipped profile ``name``; :class:`ConfigError` if unknown/invalid."""
    if name not in list_profiles():
        raise ConfigError(
            f"unknown performance profile {name!r}", [f"known: {', '.join(list_profiles())}"]
        )
    text = _DATA.joinpath(name + _SUFFIX).read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
        profile = PerformanceProfile.model_validate(raw)
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise ConfigError(f"performance profile {name!r} is invalid", [str(error)]) from error
    if profile.name != name:
        raise ConfigError(f"performance profile file {name!r} names itself {profile.name!r}")
    return profile
