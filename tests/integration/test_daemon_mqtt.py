"""The daemon end to end: real Mosquitto, real pseudo-terminals, simulated CN105 units."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING

import pytest
from tests.support.daemon_harness import observe, running_daemon

from klima.state import Mode, UnitState

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.timeout(90)


async def test_set_changes_the_simulated_unit_and_the_retained_state(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path) as run:
        unit = run.sim.endpoint("sim_1").unit
        await run.send("sim_1/set", json.dumps({"mode": "cool", "target_temperature": 24}))
        state = await run.wait_state(
            "sim_1", lambda s: s["mode"] == "cool" and s["target_temperature"] == 24.0
        )
        assert unit.power and unit.mode is Mode.COOL and unit.target_temperature == 24.0
        # Once the unit has confirmed it, the state is what the unit reported.
        state = await run.wait_state("sim_1", lambda s: s["state_source"] == "reported")
        assert state["power"] == "ON"
        # The plain-value topic (what Home Assistant's command topics point at).
        await run.send("sim_1/set/fan_mode", "quiet")
        await run.wait_state("sim_1", lambda s: s["fan_mode"] == "quiet")
        assert unit.fan_mode == "quiet"
        # The other unit was not touched.
        assert (
            run.sim.endpoint("sim_2").unit.mode is not Mode.COOL
            or not run.sim.endpoint("sim_2").unit.power
        )


async def test_change_at_the_units_own_remote_shows_up_as_external(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path) as run:
        await run.wait_state("sim_2", lambda s: s["state_source"] == "reported")
        run.sim.endpoint("sim_2").unit.press_remote(
            power=True, mode=Mode.HEAT, target_temperature=25.5
        )
        state = await run.wait_state("sim_2", lambda s: s["state_source"] == "external")
        assert state["mode"] == "heat"
        assert state["target_temperature"] == 25.5
        (event,) = list(run.observer.events(mqtt_base, "external_change"))
        assert event["unit"] == "sim_2"
        # The daemon adopts the change instead of fighting it: nothing is re-sent.
        await asyncio.sleep(0.6)
        assert run.sim.endpoint("sim_2").unit.target_temperature == 25.5


async def test_discovery_payloads_are_complete(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path) as run:
        topic = f"homeassistant/device/klima_{mqtt_base}_sim_1/config"
        # After connecting, the unit's capability record (heat down to 10 °C) is discovered.
        config = await run.observer.wait_for(
            lambda: (
                (c := run.observer.json(topic)) and c["cmps"]["climate"]["min_temp"] == 10.0 and c
            ),
            what="discovery with the unit's own setpoint range",
        )
        climate = next(c for c in config["cmps"].values() if c["p"] == "climate")
        assert config["o"]["name"] == "klima"
        assert config["dev"]["mf"] == "Mitsubishi Electric"
        assert climate["modes"] == ["off", "heat", "cool", "heat_cool", "dry", "fan_only"] or set(
            climate["modes"]
        ) == {"off", "heat", "cool", "heat_cool", "dry", "fan_only"}
        state = run.state("sim_1")
        assert state is not None
        energy_topic = f"{mqtt_base}/sim_1/energy"
        energy = await run.observer.wait_for(
            lambda: run.observer.json(energy_topic), what="the retained energy payload"
        )
        retained = {f"{mqtt_base}/sim_1": state, energy_topic: energy}
        # The CN105 unit reports its power, so it has energy and power sensors.
        assert {"energy", "power"} <= set(config["cmps"])
        # Every template reads a field its topic's retained payload really has; every command
        # topic is one the daemon listens on.
        for component in config["cmps"].values():
            payload = retained[component.get("stat_t", f"{mqtt_base}/sim_1")]
            for key, value in component.items():
                if isinstance(value, str) and "value_json." in value:
                    for name in re.findall(r"value_json\.(\w+)", value):
                        assert name in payload, f"{key} reads missing field {name}"
                if key.endswith("cmd_t"):
                    assert value.startswith(f"{mqtt_base}/sim_1/set/")
        # Home Assistant restarting asks for discovery again.
        run.observer.latest.pop(topic)
        await run.observer.publish("homeassistant/status", "online")
        await run.observer.wait_for(lambda: run.observer.json(topic), what="re-sent discovery")


async def test_bad_input_is_answered_and_changes_nothing(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path) as run:
        await run.wait_state("sim_1", lambda s: s["state_source"] == "reported")
        unit = run.sim.endpoint("sim_1").unit
        before = (unit.power, unit.mode, unit.target_temperature, unit.fan_mode)
        cases = [
            ("sim_1/set", b"{not json", None),
            ("sim_1/set", b'{"colour": "blue"}', "colour"),
            ("sim_1/set", b'{"target_temperature": "warm"}', "target_temperature"),
            ("sim_1/set", b'{"target_temperature": 45}', "target_temperature"),
            ("sim_1/set", b'{"target_temperature": 21.3}', "target_temperature"),
            ("sim_1/set", b'{"mode": "turbo"}', "mode"),
            ("sim_1/set", b'{"fan_mode": "max"}', "fan_mode"),
            ("sim_1/set", b"{" + b" " * 5000 + b"}", None),
            ("sim_1/set/volume", b"11", "volume"),
            ("nosuch/set", b'{"mode": "cool"}', "unit"),
        ]
        for topic, payload, _ in cases:
            await run.send(topic, payload)
        await run.observer.wait_for(
            lambda: len(run.observer.events(mqtt_base, "command_rejected")) >= len(cases),
            what="all rejections",
        )
        rejections = run.observer.events(mqtt_base, "command_rejected")
        for (topic, _, field), event in zip(cases, rejections, strict=True):
            assert event["data"]["topic"] == f"{mqtt_base}/{topic}"
            assert event["data"]["error"]
            if field:
                assert event["data"]["field"] == field
        mode_error = next(e for e in rejections if e["data"]["field"] == "mode")
        assert "heat_cool" in mode_error["data"]["allowed"]
        # The caller's transaction comes back with its refusal.
        await run.send("sim_1/set", b'{"fan_mode": "max", "transaction": "abc"}')
        echoed = await run.observer.wait_for(
            lambda: [
                e
                for e in run.observer.events(mqtt_base, "command_rejected")
                if e["data"].get("transaction") == "abc"
            ],
            what="transaction echo",
        )
        assert echoed[0]["data"]["field"] == "fan_mode"
        # A bad request gets an error on its response topic, with the transaction echoed.
        await run.send("bridge/request/nonsense", b'{"transaction": "t1"}')
        await run.send("bridge/request/health_check", b"not json")
        bad = await run.observer.wait_for(
            lambda: run.observer.json(f"{mqtt_base}/bridge/response/nonsense"), what="response"
        )
        assert bad["status"] == "error" and bad["transaction"] == "t1"
        assert "health_check" in bad["data"]["allowed"]
        await asyncio.sleep(0.5)
        assert (unit.power, unit.mode, unit.target_temperature, unit.fan_mode) == before
        # ... and the daemon is still fine.
        await run.send("bridge/request/health_check", b'{"transaction": 7}')
        health = await run.observer.wait_for(
            lambda: (
                (r := run.observer.json(f"{mqtt_base}/bridge/response/health_check"))
                and r.get("transaction") == 7
                and r
            ),
            what="health",
        )
        assert health["status"] == "ok"
        assert health["data"]["units"] == {"sim_1": True, "sim_2": True}


async def test_a_retained_command_is_never_acted_on(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    # A retained /set left on the broker would replay at every reconnect of the daemon.
    async with observe(mosquitto.url, []) as publisher:
        await publisher.publish(f"{mqtt_base}/sim_1/set", b'{"mode": "dry"}', retain=True)
    try:
        async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
            (event,) = await run.observer.wait_for(
                lambda: run.observer.events(mqtt_base, "retained_command_ignored"),
                what="retained command ignored",
            )
            assert event["unit"] == "sim_1"
            await asyncio.sleep(0.5)
            assert run.sim.endpoint("sim_1").unit.mode is not Mode.DRY
    finally:
        async with observe(mosquitto.url, []) as publisher:
            await publisher.publish(f"{mqtt_base}/sim_1/set", b"", retain=True)


async def test_units_request_lists_traits_and_state(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
        await run.send("bridge/request/units", b"{}")
        response = await run.observer.wait_for(
            lambda: run.observer.json(f"{mqtt_base}/bridge/response/units"), what="units"
        )
        (unit,) = response["data"]
        assert unit["id"] == "sim_1" and unit["driver"] == "mitsubishi_cn105"
        assert unit["traits"]["temp_step"] == 0.5
        info = run.observer.json(f"{mqtt_base}/bridge/info")
        assert info["units"][0]["id"] == "sim_1"
        assert run.observer.text(f"{mqtt_base}/bridge/state") == "online"


async def test_restart_inside_the_compressor_delay_is_deferred(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, restart_delay=2.0
    ) as run:
        unit = run.sim.endpoint("sim_1").unit
        await run.send("sim_1/set", b'{"mode": "heat", "target_temperature": 22}')
        await run.wait_state("sim_1", lambda s: s["mode"] == "heat")
        await run.send("sim_1/set/power", b"OFF")
        await run.wait_state("sim_1", lambda s: s["power"] == "OFF")
        assert not unit.power  # "off" acts at once
        await run.send("sim_1/set/power", b"ON")
        event = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "safety_refused"), what="deferral"
        )
        assert event[0]["data"]["lockout_until"]
        state = await run.wait_state("sim_1", lambda s: s["lockout_until"] is not None)
        assert state["power"] == "OFF" and not unit.power
        # After the delay the deferred start happens by itself.
        await run.wait_state("sim_1", lambda s: s["power"] == "ON", timeout=10)
        assert unit.power


async def test_broker_restart_reconnects_and_republishes(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
        connects = run.daemon.bridge.connection.connect_count  # type: ignore[union-attr]
        await run.observer.session.__aexit__(None, None, None)
        mosquitto.restart()  # non-persistent broker: every retained message is gone
        async with observe(mosquitto.url, [f"{mqtt_base}/#"]) as fresh:
            await fresh.wait_for(
                lambda: (
                    fresh.text(f"{mqtt_base}/bridge/state") == "online"
                    and fresh.json(f"{mqtt_base}/sim_1")
                    and fresh.text(f"{mqtt_base}/sim_1/availability") == "online"
                    and fresh.json(f"{mqtt_base}/sim_1/energy")
                    and fresh.json(f"{mqtt_base}/bridge/energy")
                ),
                timeout=20,
                what="republished state and energy",
            )
            assert run.daemon.bridge.connection.connect_count > connects  # type: ignore[union-attr]
            # And it still takes commands.
            await fresh.publish(f"{mqtt_base}/sim_1/set", b'{"mode": "fan_only"}')
            await fresh.wait_for(
                lambda: fresh.json(f"{mqtt_base}/sim_1")["mode"] == "fan_only", what="command"
            )
        run.observer = fresh  # the harness' observer session is gone


async def test_unplug_takes_unit_offline_and_replug_brings_it_back(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path) as run:
        endpoint = run.sim.endpoint("sim_1")
        endpoint.inject_garbage(40)
        await asyncio.sleep(0.5)
        assert run.observer.text(f"{mqtt_base}/sim_1/availability") == "online"
        endpoint.unplug()
        await run.wait_available("sim_1", online=False)
        events = run.observer.events(mqtt_base, "fault")
        assert events and events[0]["unit"] == "sim_1"
        # The other unit keeps working while one is unplugged.
        await run.send("sim_2/set", b'{"mode": "dry"}')
        await run.wait_state("sim_2", lambda s: s["mode"] == "dry")
        endpoint.replug()
        await run.wait_available("sim_1", online=True, timeout=20)
        await run.send("sim_1/set", b'{"target_temperature": 19.5, "mode": "heat"}')
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 19.5)
        assert endpoint.unit.target_temperature == 19.5


async def test_silent_unit_goes_offline_and_recovers(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
        endpoint = run.sim.endpoint("sim_1")
        endpoint.silence(True)
        await run.wait_available("sim_1", online=False)
        endpoint.silence(False)
        await run.wait_available("sim_1", online=True, timeout=20)


async def test_state_is_persisted_and_restored(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
        await run.send("sim_1/set", b'{"mode": "cool", "target_temperature": 23.5}')
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 23.5)
    from klima.persistence import Store

    store = Store.open(f"sqlite:///{tmp_path / 'klima.db'}")
    try:
        saved = UnitState.from_json(store.load_states()["sim_1"])
        assert saved.mode is Mode.COOL and saved.target_temperature == 23.5
        assert any(e.type == "availability" for e in store.events())
    finally:
        store.close()


async def test_remote_room_temperature_is_fed_and_reverted_when_the_sensor_dies(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, remote_temperature_timeout=1.5
    ) as run:
        unit = run.sim.endpoint("sim_1").unit
        await run.send("sim_1/set", b'{"remote_temperature": 18.5}')
        await run.wait_state("sim_1", lambda s: s["temperature_source"] == "remote")
        assert unit.remote_temperature == 18.5
        # The unit regulates on the room sensor's value (CN105 units report it as room temp).
        await run.wait_state("sim_1", lambda s: s["current_temperature"] == 18.5)
        # No new reading: the unit is told to use its own sensor again, and we say so.
        (event,) = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "sensor_stale"), what="sensor_stale"
        )
        assert event["unit"] == "sim_1"
        await run.wait_state("sim_1", lambda s: s["temperature_source"] == "unit")
        assert unit.remote_temperature is None
        # A bad value changes nothing.
        await run.send("sim_1/set/remote_temperature", b"hot")
        rejected = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "command_rejected"), what="rejection"
        )
        assert rejected[0]["data"]["field"] == "remote_temperature"
        assert unit.remote_temperature is None


async def test_a_command_the_unit_refuses_is_reported_and_the_link_stays_up(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
        endpoint = run.sim.endpoint("sim_1")
        endpoint.device.refuse_sets = True  # type: ignore[attr-defined]
        await run.send("sim_1/set", b'{"mode": "cool"}')
        (event,) = await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "command_failed"), what="command_failed"
        )
        assert event["data"]["command"]["mode"] == "cool"
        assert "rejected" in event["data"]["error"]
        await asyncio.sleep(0.5)
        assert run.observer.text(f"{mqtt_base}/sim_1/availability") == "online"
        assert run.state("sim_1")["mode"] == "off"  # type: ignore[index]
        assert not endpoint.unit.power


async def test_unit_fault_codes_raise_and_clear_events(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
        unit = run.sim.endpoint("sim_1").unit
        unit.set_fault("E6")
        await run.wait_state("sim_1", lambda s: s["fault_code"] == "E6")
        (event,) = run.observer.events(mqtt_base, "fault")
        assert event["data"]["fault_code"] == "E6"
        unit.set_fault(None)
        await run.wait_state("sim_1", lambda s: s["fault_code"] is None)
        await run.observer.wait_for(
            lambda: run.observer.events(mqtt_base, "fault_cleared"), what="fault_cleared"
        )
        # Clearing a retained command (an empty message) is not an error.
        await run.send("sim_1/set", b"", retain=True)
        await asyncio.sleep(0.3)
        assert not run.observer.events(mqtt_base, "command_rejected")


async def test_a_command_arriving_during_a_poll_goes_out_when_the_poll_ends(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    # With a 30 s poll interval, a command that waited for the next poll would miss the
    # 10 s wait below: this guards the actor's wake-up, not its speed.
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, poll_interval=30.0
    ) as run:
        endpoint = run.sim.endpoint("sim_1")
        endpoint.reply_delay = 0.15  # a poll cycle now takes the better part of a second
        await run.send("sim_1/get", b"")
        await asyncio.sleep(0.3)  # the poll is under way
        await run.send("sim_1/set", b'{"mode": "cool", "target_temperature": 25}')
        await run.wait_state(
            "sim_1", lambda s: s["target_temperature"] == 25.0 and s["mode"] == "cool", timeout=10
        )
        assert endpoint.unit.target_temperature == 25.0
