"""Broker URL parsing and settings validation."""

from __future__ import annotations

import pytest

from klima.errors import ConfigError
from klima.mqtt.connection import encode_payload, topic_matches
from klima.mqtt.settings import MqttSettings, parse_broker_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1", ("127.0.0.1", 1883, False)),
        ("mqtts://broker.lan", ("broker.lan", 8883, True)),
        ("mqtt://broker.lan:1884", ("broker.lan", 1884, False)),
        ("MQTTS://Broker.Lan:8884/", ("broker.lan", 8884, True)),
        ("mqtt://[::1]:1883", ("::1", 1883, False)),
    ],
)
def test_broker_urls(url: str, expected: tuple[str, int, bool]) -> None:
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://broker:1883", "must start with mqtt:// or mqtts://"),
        ("broker:1883", "must start with mqtt:// or mqtts://"),
        ("mqtt://broker:99999", "invalid"),
        ("mqtt://broker:0", "port 0"),
        ("mqtt://broker:abc", "invalid"),
        ("mqtt://", "no host"),
        ("mqtt://user:pw@broker", "must not contain credentials"),
        ("mqtt://broker/klima", "must not have a path"),
    ],
)
def test_bad_broker_urls_are_config_errors(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_broker_url(url)


def test_credentials_never_reach_the_error_message() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_broker_url("mqtt://user:hunter2@broker")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"base_topic": "klima/"}, "must be non-empty and not start or end"),
        ({"base_topic": "kl+ima"}, "wildcards"),
        ({"base_topic": "a//b"}, "empty level"),
        ({"discovery_prefix": "#"}, "wildcards"),
        ({"keepalive": 1}, "keepalive"),
        ({"reconnect_min_s": 5.0, "reconnect_max_s": 1.0}, "backoff"),
        ({"password": "x"}, "without a username"),
        ({"ca_file": "/etc/ca.pem"}, "not mqtts://"),
        ({"url": "mqtts://b", "certfile": "/c.pem"}, "both certfile and keyfile"),
    ],
)
def test_invalid_settings_are_config_errors(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        MqttSettings(**changes)  # type: ignore[arg-type]


def test_password_is_kept_out_of_repr_and_topics_join_the_base() -> None:
    settings = MqttSettings(base_topic="house/klima", username="u", password="hunter2")
    assert "hunter2" not in repr(settings)
    assert settings.topic("bridge", "state") == "house/klima/bridge/state"
    assert MqttSettings(url="mqtt://[::1]:1883").address == "[::1]:1883"


@pytest.mark.parametrize(
    ("topic", "topic_filter", "matches"),
    [
        ("klima/a/set", "klima/+/set", True),
        ("klima/a/set/mode", "klima/+/set", False),
        ("klima/a/set/mode", "klima/+/set/+", True),
        ("klima/bridge/request/unit/add", "klima/bridge/request/#", True),
        ("klima/bridge/request", "klima/bridge/request/#", True),
        ("klima", "klima/#", True),
        ("other/a", "klima/#", False),
        ("$SYS/broker/uptime", "#", False),
        ("$SYS/broker/uptime", "$SYS/#", True),
    ],
)
def test_topic_matching(topic: str, topic_filter: str, matches: bool) -> None:
    assert topic_matches(topic, topic_filter) is matches


def test_payload_encoding() -> None:
    assert encode_payload(b"\x00") == b"\x00"
    assert encode_payload("°C") == "°C".encode()
    assert encode_payload({"t": 21.5, "m": "heat"}) == b'{"t":21.5,"m":"heat"}'
