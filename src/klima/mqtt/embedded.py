"""A small MQTT broker inside the daemon, for a hub that has no Mosquitto.

It wraps amqtt's broker (the only module importing amqtt): anonymous access, loopback only, no
persistence (retained messages live in memory; the daemon republishes everything on connect),
and amqtt's chatty logging turned down to warnings.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any

from klima.errors import ConfigError, KlimaError

if TYPE_CHECKING:
    import socket
    from types import TracebackType

log = logging.getLogger(__name__)

_AMQTT_LOGGERS = ("amqtt", "transitions")


def _require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"the embedded MQTT broker only listens on loopback (127.0.0.1 or ::1), not {host!r}"
        )


class EmbeddedBroker:
    """``async with EmbeddedBroker(port=0) as broker:`` then connect to ``broker.url``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        _require_loopback(host)
        if not 0 <= port <= 65535:
            raise ConfigError(f"embedded broker port {port} is outside 0..65535")
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._broker: Any = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise KlimaError("the embedded broker is not running")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"

    async def start(self) -> None:
        # Imported here: amqtt pulls in websockets and more, which the CLI never needs.
        from amqtt.broker import Broker  # noqa: PLC0415
        from amqtt.errors import BrokerError  # noqa: PLC0415

        for name in _AMQTT_LOGGERS:
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.WARNING)
        bind_host = f"[{self.host}]" if ":" in self.host else self.host
        config = {
            "listeners": {
                "default": {"type": "tcp", "bind": f"{bind_host}:{self._requested_port}"}
            },
            # No $SYS publisher, no packet logger, no persistence plugin: only "let anyone in".
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        broker = Broker(config)
        try:
            await broker.start()
        except BrokerError as exc:  # amqtt wraps bind errors (port in use) in BrokerError
            cause = exc.__cause__ or exc
            raise KlimaError(
                f"cannot start the embedded MQTT broker on {bind_host}:{self._requested_port}: "
                f"{cause}"
            ) from None
        self._broker = broker
        self._port = self._bound_port(broker)
        log.debug("embedded MQTT broker listening on %s", self.url)

    @staticmethod
    def _bound_port(broker: Any) -> int:  # amqtt ships no type information
        server = broker._servers["default"].instance  # the real port when asked for 0
        sockets: list[socket.socket] = list(server.sockets)
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        broker, self._broker = self._broker, None
        self._port = None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
