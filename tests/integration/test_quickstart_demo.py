"""The README's first command runs `klima-sim demo`: simulated units, embedded broker, SQLite."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from typing import TYPE_CHECKING

import pytest

from klima.cli.main import main

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.timeout(60)


async def test_demo_starts_and_answers_the_companion_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "klima_sim.cli",
        "demo",
        "--port",
        "0",
        "--speed",
        "60",
        "--data-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        banner = ""
        async with asyncio.timeout(30):
            while "Stop with Ctrl-C" not in banner:
                line = await proc.stdout.readline()
                assert line, "the demo exited before it was ready"
                banner += line.decode()
        broker = re.search(r"MQTT broker (mqtt://127\.0\.0\.1:\d+)", banner)
        assert broker, banner
        assert (tmp_path / "klima.db").exists()
        capsys.readouterr()
        argv = ["status", "--json", "--broker", broker.group(1)]
        assert await asyncio.to_thread(main, argv) == 0
        status = capsys.readouterr().out
        for unit in ("sim_1", "sim_2", "ir_1", "ir_2"):
            assert unit in status
        argv = ["set", "ir_1", "mode=cool", "target_temperature=23", "--broker", broker.group(1)]
        assert await asyncio.to_thread(main, argv) == 0
        # Energy is recorded and priced with the demo tariff; the history answers over MQTT.
        capsys.readouterr()
        query = '{"unit": "ir_1", "bucket": "hour"}'
        argv = ["request", "energy/query", query, "--broker", broker.group(1)]
        assert await asyncio.to_thread(main, argv) == 0
        answer = json.loads(capsys.readouterr().out)
        assert (answer["unit"], answer["bucket"], answer["currency"]) == ("ir_1", "hour", "EUR")
        # The demo's weekly program runs on the first unit.
        argv = ["schedule", "list", "--json", "--broker", broker.group(1)]
        assert await asyncio.to_thread(main, argv) == 0
        listing = json.loads(capsys.readouterr().out)
        assert [(p["id"], p["units"]) for p in listing["schedules"]] == [("demo_week", ["sim_1"])]
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
