"""The `klima` command against the real daemon (through MQTT only) and its local subcommands."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest
from tests.support.daemon_harness import observe, running_daemon

from klima.cli.main import main
from klima.state import Mode

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.timeout(90)


async def klima(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `klima ARGV` as a user would (its own event loop, so in a thread)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_status_set_watch_and_request_through_mqtt(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = ["--broker", mosquitto.url, "--base-topic", mqtt_base]
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path) as run:
        await run.wait_state("sim_2", lambda s: s["current_temperature"] is not None)

        code, out, _ = await klima(capsys, "status", *broker)
        assert code == 0
        assert "sim_1" in out and "sim_2" in out and "online" in out

        code, out, _ = await klima(capsys, "status", "--json", *broker)
        status = json.loads(out)
        units = status["units"] if isinstance(status, dict) and "units" in status else status
        text = json.dumps(units)
        assert "sim_1" in text and "reported" in text

        code, out, err = await klima(
            capsys, "set", "sim_1", "mode=cool", "target_temperature=24", *broker
        )
        assert code == 0, err
        unit = run.sim.endpoint("sim_1").unit
        assert unit.mode is Mode.COOL and unit.target_temperature == 24.0

        code, out, err = await klima(capsys, "set", "sim_1", "target_temperature=99", *broker)
        assert code == 1
        assert "target_temperature" in out + err
        assert unit.target_temperature == 24.0

        code, out, err = await klima(capsys, "request", "health_check", *broker)
        assert code == 0, err
        assert '"healthy": true' in out.replace("'", '"') or "healthy" in out

        # `watch` starts with the retained snapshot and then follows live changes.
        code, out, err = await klima(capsys, "watch", "--count", "5", *broker)
        assert code == 0, err
        assert "sim_1" in out and "sim_2" in out and "source=reported" in out
        await run.send("sim_2/set", b'{"fan_mode": "high"}')
        await run.wait_state("sim_2", lambda s: s["fan_mode"] == "high")


async def test_frames_are_published_when_enabled(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, publish_frames=True
    ) as run:
        topic = f"{mqtt_base}/sim_1/frames"

        def published() -> list[dict[str, str]]:
            return [json.loads(p) for t, p, _ in run.observer.log if t == topic]

        await run.observer.wait_for(lambda: len(published()) >= 4, what="frames")
        frames = published()[:4]
        directions = {f["direction"] for f in frames}
        assert directions == {"tx", "rx"}
        assert all(f["hex"].startswith("FC ") for f in frames)


async def test_discovery_of_a_removed_unit_is_cleared(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path
) -> None:
    gone = f"homeassistant/device/klima_{mqtt_base}_sim_2/config"
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=2) as run:
        await run.observer.wait_for(lambda: run.observer.json(gone), what="sim_2 discovery")
    # The same hub restarted with sim_2 taken out of its config.
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, units=1) as run:
        await run.observer.wait_for(
            lambda: run.observer.latest.get(gone) == b"", what="sim_2 discovery cleared"
        )
        await run.observer.wait_for(
            lambda: run.observer.latest.get(f"{mqtt_base}/sim_2") == b"", what="state cleared"
        )
    async with observe(mosquitto.url, [gone]) as fresh:
        await asyncio.sleep(0.5)
        assert gone not in fresh.latest  # nothing retained any more


def test_decode_explains_frames_and_rejects_bad_ones(capsys: pytest.CaptureFixture[str]) -> None:
    # source: echavet tests/unit/test_real_frames.cpp (serial.md §3.8 C6): ON, HEAT, 21.5 °C
    c6 = "FC 62 01 30 10 02 00 00 01 01 1A 00 00 00 00 03 AB 00 00 00 00 91"
    assert main(["decode", "--driver", "mitsubishi_cn105", *c6.split()]) == 0
    decoded = json.loads(capsys.readouterr().out)
    assert decoded["direction"] == "from_unit"
    assert decoded["fields"]["power"] == "ON"
    assert decoded["fields"]["mode"] == "heat"
    assert decoded["fields"]["target_temperature"] == 21.5

    bad_checksum = c6[:-2] + "92"
    assert main(["decode", "--driver", "mitsubishi_cn105", bad_checksum]) == 1
    err = capsys.readouterr().err
    assert "checksum" in err.lower() and "Traceback" not in err

    assert main(["decode", "--driver", "mitsubishi_cn105", "FC 62 01 30 10 02 00"]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert main(["decode", "--driver", "mitsubishi_cn105", "zz"]) == 1
    assert main(["decode", "--driver", "no_such_driver", "FC"]) == 1
    assert "unknown driver" in capsys.readouterr().err


def test_drivers_lists_cn105_with_its_traits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drivers", "--json"]) == 0
    (cn105,) = [d for d in json.loads(capsys.readouterr().out) if d["name"] == "mitsubishi_cn105"]
    assert cn105["kind"] == "serial"
    assert cn105["brand"] == "Mitsubishi Electric"
    assert "heat_cool" in cn105["traits"]["modes"]
    assert main(["drivers"]) == 0
    assert "mitsubishi_cn105" in capsys.readouterr().out


async def test_set_reports_a_deferred_start_as_accepted(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = ["--broker", mosquitto.url, "--base-topic", mqtt_base]
    async with running_daemon(
        mosquitto.url, mqtt_base, tmp_path, units=1, restart_delay=3.0
    ) as run:
        code, _, err = await klima(capsys, "set", "sim_1", "mode=heat", *broker)
        assert code == 0, err
        code, _, err = await klima(capsys, "set", "sim_1", "power=OFF", *broker)
        assert code == 0, err
        code, out, err = await klima(capsys, "set", "sim_1", "power=ON", *broker)
        assert code == 0, err
        assert "defers the start until" in out
        await run.wait_state("sim_1", lambda s: s["power"] == "ON", timeout=15)


def test_run_with_unreadable_tls_files_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "klima.toml"
    config.write_text(
        f'[mqtt]\nurl = "mqtts://127.0.0.1:8883"\nca_file = "{tmp_path / "missing-ca.crt"}"\n'
        f'[daemon]\ndata_dir = "{tmp_path}"\n'
    )
    assert main(["run", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "cannot load TLS files" in err and "Traceback" not in err
