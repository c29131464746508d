"""How to reach the MQTT broker: one frozen value shared by the daemon and the companion CLI.

The password arrives already read from its file (or systemd credential) by the config layer; it is
kept out of ``repr`` so that logging a settings object can never print it.
"""

from __future__ import annotations

import dataclasses
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from klima.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_BROKER_URL = "mqtt://127.0.0.1:1883"
_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
_WILDCARDS = ("+", "#")


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """Split ``mqtt://host:port`` or ``mqtts://host:port`` into ``(host, port, tls)``.

    Credentials inside the URL are refused: they would end up in logs and process lists, and
    the password belongs in a file.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"broker URL {url!r} is invalid: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError(
            f"broker URL {url!r} must start with mqtt:// or mqtts:// (got {parts.scheme or 'no'}"
            " scheme)"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"broker URL for host {parts.hostname!r} must not contain credentials; "
            "use the username setting and a password file"
        )
    host = parts.hostname
    if not host:
        raise ConfigError(f"broker URL {url!r} has no host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"broker URL {url!r} must not have a path, query or fragment")
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    elif port == 0:
        raise ConfigError(f"broker URL {url!r} has port 0; use 1..65535")
    return host, port, scheme == "mqtts"


def validate_topic_prefix(value: str, what: str) -> str:
    """A topic prefix we publish under: non-empty, no wildcards, no leading/trailing '/'."""
    if not value or value != value.strip("/"):
        raise ConfigError(f"{what} {value!r} must be non-empty and not start or end with '/'")
    if any(w in value for w in _WILDCARDS) or "\x00" in value:
        raise ConfigError(f"{what} {value!r} must not contain MQTT wildcards '+' or '#'")
    if "//" in value:
        raise ConfigError(f"{what} {value!r} must not contain an empty level ('//')")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttSettings:
    """Broker address, identity, TLS and reconnect policy."""

    url: str = DEFAULT_BROKER_URL
    base_topic: str = "klima"
    client_id: str | None = None  # None: a random id, so two hubs never kick each other off
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | Path | None = None
    certfile: str | Path | None = None
    keyfile: str | Path | None = None
    tls_insecure: bool = False  # skip the host name check only; the certificate is still verified
    keepalive: int = 60
    discovery_prefix: str = "homeassistant"
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    timeout_s: float = 10.0  # connect, subscribe and publish acknowledgements

    def __post_init__(self) -> None:
        parse_broker_url(self.url)
        validate_topic_prefix(self.base_topic, "base topic")
        validate_topic_prefix(self.discovery_prefix, "discovery prefix")
        if self.keepalive < 5:
            raise ConfigError(f"MQTT keepalive {self.keepalive} s is too short (minimum 5)")
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            raise ConfigError(
                f"reconnect backoff {self.reconnect_min_s}..{self.reconnect_max_s} s is invalid"
            )
        if self.timeout_s <= 0:
            raise ConfigError("MQTT timeout must be positive")
        if (self.certfile is None) != (self.keyfile is None):
            raise ConfigError("a client certificate needs both certfile and keyfile")
        if not self.tls and (self.ca_file or self.certfile or self.tls_insecure):
            raise ConfigError("TLS options are set but the broker URL is not mqtts://")
        if self.password is not None and self.username is None:
            raise ConfigError("an MQTT password was given without a username")

    @property
    def host(self) -> str:
        return parse_broker_url(self.url)[0]

    @property
    def port(self) -> int:
        return parse_broker_url(self.url)[1]

    @property
    def tls(self) -> bool:
        return parse_broker_url(self.url)[2]

    @property
    def address(self) -> str:
        """``host:port`` for log lines (never includes credentials)."""
        host, port, _ = parse_broker_url(self.url)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def topic(self, *levels: str) -> str:
        """A topic under the base topic, e.g. ``topic("bridge", "state")``."""
        return "/".join((self.base_topic, *levels))

    def replace(self, **changes: object) -> MqttSettings:
        # Values are re-validated by __post_init__; mypy cannot type-check **changes here.
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    """The TLS context for an ``mqtts://`` broker; unreadable files are a :class:`ConfigError`."""
    if not settings.tls:
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if settings.certfile is not None:
            context.load_cert_chain(settings.certfile, settings.keyfile)
    except OSError as exc:  # ssl.SSLError is an OSError too
        msg = f"cannot load TLS files for MQTT broker {settings.address}: {exc}"
        raise ConfigError(msg) from None
    if settings.tls_insecure:
        context.check_hostname = False
    return context
