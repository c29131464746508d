"""The configuration file: one human-edited TOML file, validated strictly.

A typo is an error that names the file, the key path and the unit; every error is reported at
once so a user fixes the file in one pass. Secrets are only ever read from files (or systemd
credentials), never written in the config itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from klima.config_automation import (
    AutomationConfig,
    FrostConfig,
    GroupConfig,
    PresenceConfig,
    PresetConfig,
    ScheduleConfig,
    SiteConfig,
    ThermostatConfig,
    VacationConfig,
    WindowConfig,
    check_automation_references,
)
from klima.config_energy import EnergyConfig, UnitEnergyConfig, is_profile_file
from klima.errors import ConfigError, UnknownDriverError
from klima.mqtt.settings import parse_broker_url
from klima.strict_model import StrictModel

if TYPE_CHECKING:
    from klima.driver import DriverRegistry

DEFAULT_BROKER = "embedded"
_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_TOPIC = r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$"


class MqttConfig(StrictModel):
    url: str = Field(
        DEFAULT_BROKER,
        description='Broker URL (mqtt://host:port or mqtts://host:port), or "embedded" to '
        "run the built-in broker on loopback.",
    )
    base_topic: Annotated[str, Field(pattern=_TOPIC)] = "klima"
    client_id: str | None = Field(None, description="Defaults to klima-<hub id>.")
    username: str | None = None
    password_file: Path | None = Field(
        None,
        description="File holding the broker password; a relative name is looked up in "
        "$CREDENTIALS_DIRECTORY first (systemd LoadCredential).",
    )
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    tls_insecure: bool = Field(default=False, description="Skip the broker certificate host check.")
    keepalive: Annotated[int, Field(ge=5, le=3600)] = 60
    discovery: bool = Field(default=True, description="Publish Home Assistant discovery.")
    discovery_prefix: Annotated[str, Field(pattern=_TOPIC)] = "homeassistant"
    embedded_host: str = "127.0.0.1"
    embedded_port: Annotated[int, Field(ge=0, le=65535)] = 1883

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if value == "embedded":
            return value
        if not re.match(r"^mqtts?://[^/\s]+$", value):
            raise ValueError('must be "embedded" or mqtt://host[:port] / mqtts://host[:port]')
        try:
            parse_broker_url(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("embedded_host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the embedded broker listens on loopback only (127.0.0.1 or ::1)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MqttConfig:
        tls_files = self.ca_file or self.cert_file or self.key_file or self.tls_insecure
        if tls_files and not self.url.startswith("mqtts://"):
            raise ValueError(
                "TLS options (ca_file, cert_file, key_file, tls_insecure) need mqtts://"
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs both cert_file and key_file")
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file is set but username is not")
        return self

    @property
    def embedded(self) -> bool:
        return self.url == "embedded"


class DatabaseConfig(StrictModel):
    url: str | None = Field(
        None, description="SQLAlchemy URL; defaults to sqlite:///<data_dir>/klima.db."
    )
    commit_interval: Annotated[float, Field(gt=0, le=300)] = Field(
        2.0, description="Seconds of writes batched into one commit (fewer SD-card writes)."
    )
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30


class DaemonConfig(StrictModel):
    hub_id: Annotated[str, Field(pattern=_ID)] | None = Field(
        None, description="Stable id of this hub in discovery ids; defaults to the base topic."
    )
    data_dir: Path | None = Field(
        None,
        description="Defaults to $STATE_DIRECTORY (systemd), else /var/lib/klima if writable, "
        "else ~/.local/share/klima.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class BlasterConfig(StrictModel):
    """A Broadlink RM blaster; several IR units may share one."""

    id: Annotated[str, Field(pattern=_ID)]
    host: str = Field(description="IP address or host name of the blaster.")
    port: Annotated[int, Field(ge=1, le=65535)] = 80
    mac: str | None = Field(
        None, pattern=r"^[0-9A-Fa-f]{2}([:-]?[0-9A-Fa-f]{2}){5}$", description="e.g. 34:ea:34:…"
    )
    devtype: Annotated[int, Field(ge=0, le=0xFFFF)] | None = Field(
        None, description="Broadlink device type, e.g. 0x6026; found by a hello when unset."
    )
    timeout: Annotated[float, Field(gt=0, le=30)] | None = Field(
        None, description="Seconds to wait for the blaster to answer one request (default 3)."
    )


class BroadlinkConfig(StrictModel):
    """How Klima paces and watches all its blasters."""

    heartbeat_interval: Annotated[float, Field(gt=0, le=3600)] = Field(
        120.0, description="Seconds between pings (newer firmware reboots without them)."
    )
    offline_after: Annotated[int, Field(ge=1, le=100)] = Field(
        3, description="Consecutive failures before a blaster (and its units) is offline."
    )
    send_gap: Annotated[float, Field(ge=0, le=5)] = Field(
        0.3, description="Seconds between two transmissions on one blaster."
    )


class FeedbackConfig(StrictModel):
    """A sensor that shows whether an IR unit really follows (IR itself has no readback)."""

    topic: Annotated[str, Field(pattern=r"^[^+#]+$")] = Field(
        description="MQTT topic of a smart plug's power or a contact sensor (no wildcards)."
    )
    json_path: str | None = Field(
        None, description='Dotted path into a JSON payload, e.g. "power" or "ENERGY.Power".'
    )
    kind: Literal["power", "contact"] = Field(
        "power",
        description="power: the value is watts, above on_above_w means running; contact: "
        "the value is ON/OFF (true/false, 1/0).",
    )
    on_above_w: Annotated[float, Field(ge=0)] = 50.0
    invert: bool = Field(
        default=False,
        description="contact: the sensor reads ON/true when the unit is NOT running (e.g. a "
        "Zigbee2MQTT contact that is true when closed, on a flap that opens when running).",
    )
    settle_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        90.0, description="Seconds after a power change before the feedback is judged."
    )


class UnitConfig(StrictModel):
    id: Annotated[str, Field(pattern=_ID, description="Stable slug used in MQTT topics.")]
    name: str | None = None
    driver: str
    port: str | None = Field(None, description="Serial device (serial drivers).")
    blaster: str | None = Field(None, description="Id of the [[blasters]] entry (IR drivers).")
    feedback: FeedbackConfig | None = None
    keepalive_resend: Annotated[float, Field(ge=1, le=86400)] | None = Field(
        None, description="IR: re-send the full state this often (seconds), e.g. 1800."
    )
    blaster_sensor: bool = Field(
        default=False,
        description="IR: use the blaster's own temperature sensor (RM4) as the room temperature.",
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Driver-specific options, checked by the driver."
    )
    model: str | None = Field(None, description="Model name shown in Home Assistant.")
    poll_interval: Annotated[float, Field(ge=0.05, le=600)] = 2.0
    min_temp: float | None = Field(None, description="Lowest setpoint allowed for this unit.")
    max_temp: float | None = Field(None, description="Highest setpoint allowed for this unit.")
    restart_delay: Annotated[float, Field(ge=0, le=3600)] = Field(
        180.0,
        description="Compressor protection: seconds a unit must stay off before it may start "
        "again. Turning off always acts at once.",
    )
    min_run_time: Annotated[float, Field(ge=0, le=7200)] = Field(
        600.0,
        description="Compressor protection for automatic commands (schedules, thermostat, "
        "window, presence): seconds a unit runs before they may switch it off. 0 = no minimum.",
    )
    min_off_time: Annotated[float, Field(ge=0, le=7200)] = Field(
        300.0,
        description="Compressor protection for automatic commands: seconds a unit stays off "
        "before they may start it again. 0 = no minimum.",
    )
    max_starts_per_hour: Annotated[int, Field(ge=0, le=60)] = Field(
        4,
        description="Compressor protection for automatic commands: starts allowed in any "
        "60 minutes; further automatic starts wait. 0 = no limit.",
    )
    max_commands_per_minute: Annotated[int, Field(ge=0, le=600)] = Field(
        10,
        description="Commands from any source accepted in any 60 seconds; more are refused. "
        "0 = no limit.",
    )
    reconnect_after: Annotated[float, Field(ge=1, le=600)] = Field(
        10.0, description="Seconds without a valid frame before the link is reopened."
    )
    remote_temperature_timeout: Annotated[float, Field(ge=1, le=86400)] = Field(
        600.0,
        description="Seconds without a new remote_temperature before the unit is told to use "
        "its own sensor again (a dead room sensor must not freeze the room).",
    )
    publish_frames: bool = Field(
        default=False, description="Publish every frame on <base>/<unit>/frames."
    )
    energy: UnitEnergyConfig = Field(default_factory=UnitEnergyConfig)
    thermostat: ThermostatConfig = Field(default_factory=ThermostatConfig)
    frost: FrostConfig = Field(default_factory=FrostConfig)
    presets: dict[str, PresetConfig] = Field(
        default_factory=dict, description="This unit's own presets or changes to the shared ones."
    )

    @property
    def display_name(self) -> str:
        return self.name or self.id.replace("_", " ").capitalize()

    @model_validator(mode="after")
    def _limits_ordered(self) -> UnitConfig:
        if (
            self.min_temp is not None
            and self.max_temp is not None
            and self.min_temp > self.max_temp
        ):
            raise ValueError("min_temp is above max_temp")
        return self


class KlimaConfig(StrictModel):
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    broadlink: BroadlinkConfig = Field(default_factory=BroadlinkConfig)
    blasters: list[BlasterConfig] = Field(default_factory=list)
    units: list[UnitConfig] = Field(default_factory=list)
    energy: EnergyConfig = Field(default_factory=EnergyConfig)
    site: SiteConfig = Field(default_factory=SiteConfig)
    automation: AutomationConfig = Field(default_factory=AutomationConfig)
    presets: dict[str, PresetConfig] = Field(
        default_factory=dict,
        description="Presets shared by all units (comfort, eco, sleep, away, boost and frost "
        "exist by default; set keys here to change them or add new names).",
    )
    groups: list[GroupConfig] = Field(default_factory=list)
    schedules: list[ScheduleConfig] = Field(default_factory=list)
    vacations: list[VacationConfig] = Field(default_factory=list)
    windows: list[WindowConfig] = Field(default_factory=list)
    presence: list[PresenceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _automation_references(self) -> KlimaConfig:
        check_automation_references(self)
        return self

    @model_validator(mode="after")
    def _outdoor_units(self) -> KlimaConfig:
        ids = {unit.id for unit in self.units}
        leader_of: dict[str, str] = {}  # member -> the unit that reports the outdoor unit
        for unit in self.units:
            for other in unit.energy.outdoor_unit_shared_with:
                if other == unit.id or other not in ids:
                    raise ValueError(
                        f"unit {unit.id!r}: energy.outdoor_unit_shared_with names {other!r}, "
                        "which is not another configured unit"
                    )
                if other in leader_of:
                    raise ValueError(f"unit {other!r} is shared by two outdoor units")
                leader_of[other] = unit.id
        for member, leader in leader_of.items():
            if member in leader_of.values():
                raise ValueError(
                    f"unit {member!r} is served by {leader!r}'s outdoor unit and cannot "
                    "share its own"
                )
        return self

    @model_validator(mode="after")
    def _unique_units(self) -> KlimaConfig:
        blasters = [b.id for b in self.blasters]
        if len(set(blasters)) != len(blasters):
            raise ValueError("a blaster id is used twice")
        for unit in self.units:
            if unit.blaster is not None and unit.blaster not in blasters:
                known = ", ".join(blasters) or "none declared"
                raise ValueError(
                    f"unit {unit.id!r} names blaster {unit.blaster!r} (blasters: {known})"
                )
        seen: set[str] = set()
        for unit in self.units:
            if unit.id == "bridge":
                raise ValueError('unit id "bridge" is reserved for <base>/bridge/… topics')
            if unit.id in seen:
                raise ValueError(f"unit id {unit.id!r} is used twice")
            seen.add(unit.id)
        return self

    @property
    def hub_id(self) -> str:
        return self.daemon.hub_id or re.sub(r"[^a-z0-9_-]", "_", self.mqtt.base_topic.lower())

    def data_dir(self) -> Path:
        return self.daemon.data_dir or default_data_dir()

    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir() / 'klima.db'}"

    def read_password(self) -> str | None:
        return read_secret(self.mqtt.password_file) if self.mqtt.password_file else None


def default_data_dir() -> Path:
    state_dir = os.environ.get("STATE_DIRECTORY")
    if state_dir:
        return Path(state_dir.split(":")[0])
    system = Path("/var/lib/klima")
    if system.is_dir() and os.access(system, os.W_OK):
        return system
    return Path.home() / ".local" / "share" / "klima"


def read_secret(path: Path) -> str:
    """Read a secret from a file; relative names are looked up in systemd's credentials first."""
    candidates = [path]
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds and not path.is_absolute():
        candidates.insert(0, Path(creds) / path)
    for candidate in candidates:
        try:
            return candidate.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {candidate}: {exc.strerror}") from None
    raise ConfigError(f"secret file {path} does not exist")


def load_config(path: Path | None, registry: DriverRegistry | None = None) -> KlimaConfig:
    """Load and validate ``path`` (``None`` = embedded defaults with no units)."""
    if path is None:
        return KlimaConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _relative_to(validate_config(raw, source=str(path), registry=registry), path.parent)


def _relative_to(config: KlimaConfig, directory: Path) -> KlimaConfig:
    """Tariff, price and profile files named relative to the config file are found next to it
    (under systemd the working directory is /)."""
    energy = config.energy
    update = {
        name: directory / value
        for name, value in (("tariff", energy.tariff), ("prices", energy.prices))
        if value is not None and not value.expanduser().is_absolute()
    }
    if update:
        config = config.model_copy(update={"energy": energy.model_copy(update=update)})
    units = [_unit_relative_to(unit, directory) for unit in config.units]
    return config.model_copy(update={"units": units})


def _unit_relative_to(unit: UnitConfig, directory: Path) -> UnitConfig:
    profile = unit.energy.profile
    if profile is None or not is_profile_file(profile) or Path(profile).expanduser().is_absolute():
        return unit
    energy = unit.energy.model_copy(update={"profile": str(directory / profile)})
    return unit.model_copy(update={"energy": energy})


def validate_config(
    raw: dict[str, Any], source: str = "<config>", registry: DriverRegistry | None = None
) -> KlimaConfig:
    """Validate parsed TOML; with a registry, also each unit's driver and driver options.

    Every problem is reported at once: units that are well-formed are checked against their
    driver even when another part of the file has errors.
    """
    try:
        config = KlimaConfig.model_validate(raw)
    except ValidationError as exc:
        problems = _describe(exc, raw)
        if registry is not None:
            problems += _check_raw_units(raw, registry)
        raise ConfigError(f"{source}: {len(problems)} error(s)", problems) from None
    if registry is not None:
        problems = check_drivers(config, registry)
        if problems:
            raise ConfigError(f"{source}: {len(problems)} error(s)", problems)
    return config


def check_drivers(config: KlimaConfig, registry: DriverRegistry) -> list[str]:
    problems: list[str] = []
    for index, unit in enumerate(config.units):
        problems += _check_unit(index, unit, registry)
    return problems


def _check_raw_units(raw: dict[str, Any], registry: DriverRegistry) -> list[str]:
    """Driver checks for the units that are well-formed in a file that has other errors."""
    units = raw.get("units")
    if not isinstance(units, list):
        return []
    problems: list[str] = []
    for index, entry in enumerate(units):
        try:
            unit = UnitConfig.model_validate(entry)
        except ValidationError:
            continue  # already reported by the schema pass
        problems += _check_unit(index, unit, registry)
    return problems


def _check_unit(index: int, unit: UnitConfig, registry: DriverRegistry) -> list[str]:
    where = f"units[{index}] (unit {unit.id!r})"
    try:
        info = registry.get(unit.driver)
    except UnknownDriverError as exc:
        return [f"{where}.driver: {exc}"]
    problems: list[str] = []
    if info.kind == "serial" and not unit.port:
        problems.append(f"{where}.port: required for serial driver {info.name!r}")
    if info.kind == "ir" and not unit.blaster:
        problems.append(f"{where}.blaster: required for IR driver {info.name!r}")
    try:
        options = info.options_model.model_validate(unit.options)
    except ValidationError as exc:
        problems.extend(f"{where}.options.{_loc(err['loc'])}: {err['msg']}" for err in exc.errors())
    else:
        if info.create_ir is not None:
            try:  # e.g. a SmartIR code file: check it now, not when the daemon starts
                info.create_ir(options)
            except ConfigError as exc:
                problems.append(f"{where}.options: {exc}")
    traits = info.traits
    if info.create_ir is not None and not problems:
        with contextlib.suppress(ConfigError, ValidationError):  # reported above
            traits = info.create_ir(info.options_model.model_validate(unit.options)).traits
    try:
        traits.narrowed(min_temp=unit.min_temp, max_temp=unit.max_temp)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
    return problems


def _describe(exc: ValidationError, raw: dict[str, Any]) -> list[str]:
    out = []
    for err in exc.errors():
        loc = err["loc"]
        where = _loc(loc)
        if len(loc) >= 2 and loc[0] == "units" and isinstance(loc[1], int):
            units = raw.get("units")
            if isinstance(units, list) and loc[1] < len(units) and isinstance(units[loc[1]], dict):
                unit_id = units[loc[1]].get("id")
                if unit_id is not None:
                    where = f"units[{loc[1]}] (unit {unit_id!r})" + _loc(loc[2:], leading=".")
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see config/klima.schema.json)"
        out.append(f"{where or '<top level>'}: {message}")
    return out


def _loc(parts: tuple[int | str, ...], leading: str = "") -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    text = text.lstrip(".")
    return f"{leading}{text}" if text and not text.startswith("[") else text


def json_schema() -> dict[str, Any]:
    """The JSON schema of the config file (kept in config/ and checked by CI to be current)."""
    schema = KlimaConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Klima configuration"
    return schema
