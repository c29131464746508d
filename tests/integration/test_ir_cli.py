"""`klima ir encode` and `klima ir decode`: build a frame by hand, identify a captured code."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from klima.cli.main import main

SMARTIR_FILE = Path(__file__).parents[1] / "fixtures" / "smartir" / "1000.json"
BRANDS = [
    "mitsubishi_ir",
    "daikin_ir",
    "gree_ir",
    "coolix_ir",
    "midea_ir",
    "fujitsu_ir",
    "panasonic_ir",
    "toshiba_ir",
    "samsung_ir",
    "lg_ir",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("driver", BRANDS)
def test_every_brand_identifies_its_own_frame_in_every_format(
    capsys: pytest.CaptureFixture[str], driver: str
) -> None:
    settings = ["mode=cool", "target_temperature=24"]
    code, packet, err = run(capsys, "ir", "encode", "--driver", driver, *settings)
    assert code == 0, err
    first_packet = packet.split()[0]
    assert base64.b64decode(first_packet)[0] == 0x26  # a Broadlink IR payload
    # Decoding tries every codec and must land on the right one, from any format.
    code, out, err = run(capsys, "ir", "decode", first_packet)
    assert code == 0, err
    decoded = json.loads(out)
    assert decoded["driver"] == driver
    assert decoded["mode"] == "cool"
    assert decoded["target_temperature"] == 24.0
    assert decoded["power"] is True
    code, pulses, _ = run(
        capsys, "ir", "encode", "--driver", driver, "--format", "pulses", *settings
    )
    code, out, err = run(capsys, "ir", "decode", "--format", "pulses", pulses.splitlines()[0])
    assert code == 0, err
    assert json.loads(out)["driver"] == driver
    code, state, _ = run(capsys, "ir", "encode", "--driver", driver, "--format", "state", *settings)
    code, out, err = run(
        capsys, "ir", "decode", "--driver", driver, "--format", "state", state.split()[0]
    )
    assert code == 0, err
    assert json.loads(out)["target_temperature"] == 24.0


def test_a_smartir_code_is_identified_or_refused_clearly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    codes = json.loads(SMARTIR_FILE.read_text())["commands"]
    code, out, err = run(capsys, "ir", "decode", codes["cool"]["low"]["22"])
    if code == 0:  # a brand we can decode: it must then say what it saw
        assert json.loads(out)["driver"].endswith("_ir")
    else:
        assert "no IR codec understands" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ir", "decode", "not a code!"], "not base64"),
        (["ir", "decode", "--format", "pulses", "1 2"], "pulse list"),
        (["ir", "decode", "JgAEAAEBAQE="], "no IR codec understands"),
        (["ir", "encode", "--driver", "mitsubishi_ir", "mode=turbo"], "unknown mode"),
        (["ir", "encode", "--driver", "mitsubishi_ir", "target_temperature=99"], "outside"),
        (["ir", "decode", "--driver", "mitsubishi_cn105", "JgAEAAEBAQE="], "no IR codec"),
    ],
)
def test_bad_codes_and_settings_are_clear_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert message in err
    assert "Traceback" not in err


async def test_discover_and_learn_through_the_klima_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    from klima_sim.broadlink_sim import BroadlinkSimulator, EndpointSpec

    async with BroadlinkSimulator([EndpointSpec(units=["gree_ir"])], seed=5) as sim:
        blaster = sim.endpoints[0]
        capsys.readouterr()
        argv = ["discover", "--target", "127.0.0.1", "--port", str(blaster.port), "--timeout", "2"]
        assert await asyncio.to_thread(main, argv) == 0
        assert blaster.mac_hex.replace(":", "")[:6] in capsys.readouterr().out.replace(":", "")
        # Learning: someone presses a Gree remote at the blaster while Klima listens.
        pressed = base64.b64decode(_first_line(capsys, "gree_ir"))
        learner = asyncio.create_task(
            asyncio.to_thread(
                main,
                [
                    "ir",
                    "learn",
                    "--blaster",
                    "127.0.0.1",
                    "--port",
                    str(blaster.port),
                    "--timeout",
                    "5",
                ],
            )
        )
        await asyncio.sleep(0.5)
        blaster.press_remote(pressed)
        assert await learner == 0
        out = capsys.readouterr().out
        assert "gree_ir" in out


def _first_line(capsys: pytest.CaptureFixture[str], driver: str) -> str:
    code, out, _ = run(capsys, "ir", "encode", "--driver", driver, "mode=dry")
    assert code == 0
    return out.split()[0]
