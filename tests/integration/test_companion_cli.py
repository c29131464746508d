"""The companion commands against a real Mosquitto and a small fake daemon on the other side.

The fake daemon is the peer, not a mock of the code under test: it speaks the MQTT contract
(retained info/state/availability, ``/set`` validated with the real ``klima.commands``, error
events shaped like the bridge's, request/response with the echoed transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from klima.cli.companion import (
    add_broker_arguments,
    build_set_payload,
    run_request,
    run_set,
    run_status,
    run_watch,
    settings_from_args,
)
from klima.commands import decode_json_object, parse_command
from klima.errors import CommandError, ConfigError
from klima.mqtt.connection import MqttClientSession
from klima.mqtt.settings import MqttSettings
from klima.state import Action, Mode, StateSource, UnitState
from klima.traits import Traits

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from support.mosquitto import MosquittoBroker

TRAITS = Traits(
    modes=(Mode.HEAT, Mode.COOL, Mode.DRY),
    fan_modes=("auto", "quiet", "high"),
    min_temp=16.0,
    max_temp=31.0,
    temp_step=0.5,
)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ")


class FakeDaemon:
    """Answers like a Klima daemon; ``mute`` units ignore commands (to test timeouts)."""

    def __init__(self, session: MqttClientSession, settings: MqttSettings) -> None:
        self.session = session
        self.base = settings.base_topic
        self.states = {
            "livingroom": UnitState(
                power=True,
                mode=Mode.HEAT,
                target_temperature=21.0,
                current_temperature=19.5,
                action=Action.HEATING,
                state_source=StateSource.REPORTED,
            ),
            "bedroom": UnitState(power=False, mode=Mode.COOL, target_temperature=24.0),
        }
        self.mute: set[str] = set()
        self.received: list[dict[str, Any]] = []

    async def publish_all(self) -> None:
        units = [{"id": unit, "name": unit.title()} for unit in self.states]
        await self.session.publish(f"{self.base}/bridge/state", "online", retain=True)
        await self.session.publish(
            f"{self.base}/bridge/info", {"version": "9.9.9", "units": units}, retain=True
        )
        for unit in self.states:
            await self.publish_state(unit)
            await self.session.publish(f"{self.base}/{unit}/availability", "online", retain=True)

    async def publish_state(self, unit: str) -> None:
        topic = f"{self.base}/{unit}"
        await self.session.publish(topic, self.states[unit].to_json(), retain=True)

    async def serve(self) -> None:
        await self.session.subscribe([f"{self.base}/+/set", f"{self.base}/bridge/request/#"])
        async for message in self.session.messages():
            levels = message.topic.split("/")[1:]
            if levels[-1] == "set":
                await self.on_set(levels[0], message.payload)
            else:
                await self.on_request("/".join(levels[2:]), message.payload)

    async def on_set(self, unit: str, payload: bytes) -> None:
        data = decode_json_object(payload)
        self.received.append(data)
        if unit in self.mute:
            return
        try:
            command = parse_command(data, TRAITS)
        except CommandError as exc:
            event = {
                "type": "command_rejected",
                "unit": unit,
                "ts": "2026-01-01T00:00:00+00:00",
                "data": {"topic": f"{self.base}/{unit}/set", "error": exc.message},
            }
            await self.session.publish(f"{self.base}/bridge/event", event)
            return
        self.states[unit] = self.states[unit].apply(command, StateSource.REPORTED)
        await self.publish_state(unit)

    async def on_request(self, action: str, payload: bytes) -> None:
        data = decode_json_object(payload)
        response: dict[str, Any] = {"transaction": data.pop("transaction", None)}
        if action == "health_check":
            response |= {"status": "ok", "data": {"healthy": True, "echo": data}}
        else:
            response |= {"status": "error", "data": {}, "error": f"unknown request {action!r}"}
        await self.session.publish(f"{self.base}/bridge/response/{action}", response)


@pytest.fixture
def settings(mosquitto: MosquittoBroker, mqtt_base: str) -> MqttSettings:
    return MqttSettings(url=mosquitto.url, base_topic=mqtt_base, timeout_s=5.0)


@pytest.fixture
async def daemon(settings: MqttSettings) -> AsyncIterator[FakeDaemon]:
    async with MqttClientSession(settings) as session:
        fake = FakeDaemon(session, settings)
        await fake.publish_all()
        task = asyncio.create_task(fake.serve())
        await asyncio.sleep(0.05)  # let it subscribe before the CLI speaks
        try:
            yield fake
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_status_prints_a_table_of_every_unit(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(run_status, settings)
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "bridge: online (klima 9.9.9)"
    assert out[1].split() == [
        "UNIT",
        "AVAILABILITY",
        "MODE",
        "SETPOINT",
        "ROOM",
        "ACTION",
        "SOURCE",
    ]
    rows = {line.split()[0]: line.split() for line in out[2:]}
    assert rows["livingroom"] == [
        "livingroom", "online", "heat", "21.0°C", "19.5°C", "heating", "reported",
    ]  # fmt: skip
    assert rows["bedroom"] == ["bedroom", "online", "off", "24.0°C", "-", "off", "assumed"]


async def test_status_json_and_unit_filter(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(run_status, settings, ["bedroom"], True)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bridge"]["state"] == "online"
    assert report["bridge"]["info"]["version"] == "9.9.9"
    assert [u["id"] for u in report["units"]] == ["bedroom"]
    bedroom = report["units"][0]
    assert bedroom["availability"] == "online"
    assert bedroom["name"] == "Bedroom"
    assert bedroom["state"]["target_temperature"] == 24.0


async def test_status_of_an_unknown_unit_is_an_error(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(run_status, settings, ["attic"], False, 1.0)
    assert code == 1
    assert "unknown unit attic; the daemon has: livingroom, bedroom" in capsys.readouterr().err


async def test_status_without_a_daemon_says_so(
    settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(run_status, settings, None, False, 0.5)
    assert code == 1
    err = capsys.readouterr().err
    assert f"no Klima daemon answered on {settings.base_topic}/bridge/info" in err


async def test_set_waits_for_the_state_to_show_the_change(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    words = ["mode=cool", "target_temperature=23.5", "fan_mode=quiet"]
    code = await asyncio.to_thread(run_set, settings, "livingroom", words)
    assert capsys.readouterr().out.strip() == (
        "livingroom: mode=cool target_temperature=23.5 fan_mode=quiet (state_source=reported)"
    )
    assert code == 0
    sent = daemon.received[-1]
    assert sent.pop("transaction")
    assert sent == {"mode": "cool", "target_temperature": 23.5, "fan_mode": "quiet"}
    assert daemon.states["livingroom"].mode is Mode.COOL


async def test_set_power_off_is_confirmed_by_the_published_mode(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(run_set, settings, "livingroom", ["power=off"])
    assert code == 0
    assert "livingroom: power=OFF" in capsys.readouterr().out
    assert daemon.states["livingroom"].power is False


async def test_set_reports_the_daemons_refusal(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(run_set, settings, "livingroom", ["fan_mode=turbo"])
    assert code == 1
    err = capsys.readouterr().err
    assert "livingroom: command refused: fan_mode 'turbo' is not supported" in err
    assert daemon.states["livingroom"].fan_mode is None


async def test_set_times_out_when_the_state_never_changes(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    daemon.mute.add("bedroom")
    code = await asyncio.to_thread(run_set, settings, "bedroom", ["mode=heat"], 0.5)
    assert code == 1
    err = capsys.readouterr().err
    assert "bedroom: no confirmation within 0.5 s; it still reports mode=off" in err


async def test_set_to_a_unit_nobody_publishes(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    daemon.mute.add("ghost")
    code = await asyncio.to_thread(run_set, settings, "ghost", ["mode=heat"], 0.5)
    assert code == 1
    assert "no state was ever published for it" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["mode"], "expected key=value, got 'mode'"),
        (["speed=3"], "unknown setting 'speed' (allowed: power, mode, target_temperature"),
        (["target_temperature=warm"], "target_temperature must be a number, got 'warm'"),
        (["mode=turbo"], "unknown mode 'turbo' (allowed: off, heat, cool"),
        (["power=maybe"], "power must be ON or OFF"),
        (["mode=cool", "mode=heat"], "mode is given twice"),
    ],
)
def test_set_rejects_bad_words_before_touching_the_broker(
    words: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = MqttSettings(url="mqtt://127.0.0.1:9", base_topic="klima")
    assert run_set(nowhere, "livingroom", words) == 1
    assert message in capsys.readouterr().err


def test_set_payload_types() -> None:
    assert build_set_payload(["target_temperature=22", "power=on", "mode=HEAT"]) == {
        "target_temperature": 22.0,
        "power": "ON",
        "mode": "heat",
    }


async def test_watch_prints_one_line_per_change(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    watch = asyncio.create_task(asyncio.to_thread(run_watch, settings, 7))
    lines: list[str] = []
    while len(lines) < 5 and not watch.done():  # the retained snapshot comes first
        await asyncio.sleep(0.02)
        lines += capsys.readouterr().out.splitlines()
    await daemon.publish_state("livingroom")  # a heartbeat: the same state prints nothing
    event = {"type": "safety_refused", "unit": "livingroom", "data": {"reason": "min_off"}}
    await daemon.session.publish(f"{settings.base_topic}/bridge/event", event)
    daemon.states["livingroom"] = daemon.states["livingroom"].replace(mode=Mode.DRY)
    await daemon.publish_state("livingroom")
    assert await asyncio.wait_for(watch, 10) == 0
    lines += capsys.readouterr().out.splitlines()
    assert all(TIMESTAMP.match(line) for line in lines), lines
    bodies = [TIMESTAMP.sub("", line) for line in lines]
    assert set(bodies[:5]) == {
        "bridge  online",
        "livingroom  availability  online",
        "livingroom  state  mode=heat setpoint=21.0°C room=19.5°C action=heating source=reported",
        "bedroom  state  mode=off setpoint=24.0°C room=- action=off source=assumed",
        "bedroom  availability  online",
    }
    assert bodies[5:] == [
        'event  safety_refused  unit=livingroom  {"reason":"min_off"}',
        "livingroom  state  mode=dry setpoint=21.0°C room=19.5°C action=heating source=reported",
    ]


async def test_request_prints_the_response_data(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(run_request, settings, "health_check", {"deep": True})
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"healthy": True, "echo": {"deep": True}}


async def test_request_error_and_timeout(
    daemon: FakeDaemon, settings: MqttSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(run_request, settings, "reboot", {}) == 1
    assert "request reboot failed: unknown request 'reboot'" in capsys.readouterr().err
    quiet = settings.replace(base_topic=f"{settings.base_topic}_nobody")
    assert await asyncio.to_thread(run_request, quiet, "health_check", {}, 0.3) == 1
    assert "no response to health_check within 0.3 s" in capsys.readouterr().err


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_broker_arguments(parser)
    return parser.parse_args(argv)


def test_broker_arguments_build_settings(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("s3cret\n")
    ca = tmp_path / "ca.pem"
    settings = settings_from_args(
        parse(
            [
                "--broker", "mqtts://broker.lan:8884", "--base-topic", "house/klima",
                "--username", "app", "--password-file", str(password), "--ca-file", str(ca),
                "--insecure",
            ]
        )
    )  # fmt: skip
    assert (settings.host, settings.port, settings.tls) == ("broker.lan", 8884, True)
    assert settings.base_topic == "house/klima"
    assert (settings.username, settings.password) == ("app", "s3cret")
    assert settings.ca_file == ca
    assert settings.tls_insecure
    assert "s3cret" not in repr(settings)


def test_broker_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLIMA_BROKER", raising=False)
    assert settings_from_args(parse([])).url == "mqtt://127.0.0.1:1883"
    monkeypatch.setenv("KLIMA_BROKER", "mqtt://broker.example")
    from_env = settings_from_args(parse([]))
    assert (from_env.host, from_env.port) == ("broker.example", 1883)
    explicit = settings_from_args(parse(["--broker", "mqtt://127.0.0.1:1884"]))
    assert explicit.port == 1884


def test_unreadable_password_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read password file"):
        settings_from_args(parse(["--username", "u", "--password-file", str(tmp_path / "no")]))
