"""The driver API and the registry that finds drivers through entry points.

A driver is declared as data (:class:`DriverInfo`). Drivers live outside the core in
``klima_drivers`` (or a third-party brand pack) and register in the entry-point group
``klima.drivers``; the core only ever sees them through this module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from klima.errors import UnknownDriverError

if TYPE_CHECKING:
    from klima.ir import IrCodec, IrEncoder
    from klima.state import Observation, UnitCommand, UnitState
    from klima.traits import Traits

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "klima.drivers"
DriverKind = Literal["serial", "ir"]
FrameDirection = Literal["tx", "rx"]
FrameTap = Callable[[FrameDirection, bytes], None]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class NoOptions(BaseModel):
    """Options model for drivers that take none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class SerialSettings:
    baudrate: int
    bytesize: int = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverContext:
    """What the daemon hands a driver when it creates a client for one unit."""

    unit_id: str
    port: str
    options: BaseModel
    frame_tap: FrameTap | None = None  # called with every frame sent and received
    request_timeout: float = 1.0  # seconds to wait for one reply


class SerialClient(Protocol):
    """One connection to one unit over a serial line. Created per (re)connect."""

    @property
    def traits(self) -> Traits:
        """The unit's traits; may narrow after :meth:`connect` learned its capabilities."""
        ...

    async def connect(self) -> None:
        """Open the port and complete the handshake. Raises DriverError / KlimaTimeoutError."""
        ...

    async def poll(self, interrupted: Callable[[], bool] | None = None) -> Observation:
        """Run one poll cycle and return what the unit reported.

        ``interrupted()`` turning true (a command is waiting) may end the cycle early: return
        what has been read so far, leaving out what was not.
        """
        ...

    async def apply(self, command: UnitCommand, current: UnitState) -> None:
        """Send the settings in ``command`` (only what changes, where the protocol allows)."""
        ...

    async def set_remote_temperature(self, celsius: float | None) -> None:
        """Feed an external room temperature (``None`` reverts to the unit's own sensor)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverInfo:
    name: str
    brand: str
    models: tuple[str, ...]
    kind: DriverKind
    traits: Traits
    options_model: type[BaseModel] = NoOptions
    serial: SerialSettings | None = None
    create_client: Callable[[DriverContext], SerialClient] | None = None
    # IR drivers: the encoder a unit uses (built from the unit's validated driver options),
    # and the brand codec itself where there is one (for `klima ir decode/encode`).
    create_ir: Callable[[BaseModel], IrEncoder] | None = None
    ir_codec: IrCodec | None = None
    # Decodes one raw frame for field debugging (`klima decode`); raises ProtocolError.
    decode_frame: Callable[[bytes], dict[str, Any]] | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def check(self) -> list[str]:
        """Problems with this declaration (the registry refuses a driver that has any)."""
        problems = []
        if not _NAME.match(self.name):
            problems.append(f"name {self.name!r} must be lower_snake_case")
        if not self.brand:
            problems.append("brand is empty")
        if not self.models:
            problems.append("models is empty")
        if self.kind == "serial" and (self.serial is None or self.create_client is None):
            problems.append("a serial driver needs serial settings and create_client")
        if self.kind == "ir" and self.create_ir is None:
            problems.append("an IR driver needs create_ir")
        if not self.traits.modes:
            problems.append("traits list no modes")
        if self.options_model.model_config.get("extra") != "forbid":
            problems.append("options_model must forbid unknown keys")
        return problems

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "brand": self.brand,
            "models": list(self.models),
            "kind": self.kind,
            "traits": self.traits.to_json(),
            "description": self.description,
        }


class DriverRegistry:
    """All drivers by name; tests may register extra drivers.

    Entry points are loaded on first use of each name, so a hub imports only the drivers its
    units use (every brand codec loaded costs memory on a Pi).
    """

    def __init__(self, drivers: Mapping[str, DriverInfo] | None = None) -> None:
        self._drivers: dict[str, DriverInfo] = {}
        self._pending: dict[str, list[EntryPoint]] = {}
        for info in (drivers or {}).values():
            self.register(info)

    @classmethod
    def from_entry_points(cls) -> DriverRegistry:
        registry = cls()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            registry._pending.setdefault(ep.name, []).append(ep)
        return registry

    def _load(self, name: str) -> None:
        for ep in self._pending.pop(name, []):
            try:
                info = ep.load()
            except Exception:  # a broken third-party pack must not stop the daemon
                log.exception("driver entry point %s could not be loaded", ep.name)
                continue
            if not isinstance(info, DriverInfo):
                log.error("entry point %s is not a DriverInfo; ignored", ep.name)
                continue
            if info.name != ep.name:
                log.error("entry point %s declares driver %s; ignored", ep.name, info.name)
                continue
            try:
                self.register(info)
            except ValueError as exc:  # a bad declaration or a duplicate name
                log.warning("driver entry point %s ignored: %s", ep.name, exc)

    def register(self, info: DriverInfo) -> None:
        problems = info.check()
        if problems:
            raise ValueError(f"driver {info.name!r}: " + "; ".join(problems))
        if info.name in self._drivers:
            raise ValueError(f"driver {info.name!r} is registered twice")
        self._drivers[info.name] = info

    def get(self, name: str) -> DriverInfo:
        self._load(name)
        try:
            return self._drivers[name]
        except KeyError:
            known = ", ".join(self.names()) or "none installed"
            raise UnknownDriverError(f"unknown driver {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        for name in list(self._pending):
            self._load(name)
        return sorted(self._drivers)

    def all(self) -> list[DriverInfo]:
        return [self._drivers[n] for n in self.names()]


_default: DriverRegistry | None = None


def default_registry() -> DriverRegistry:
    """The process-wide registry built from installed entry points."""
    global _default  # noqa: PLW0603 - one lazily built registry per process
    if _default is None:
        _default = DriverRegistry.from_entry_points()
    return _default
