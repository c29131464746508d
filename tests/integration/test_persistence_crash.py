"""kill -9 in the middle of writing: the SQLite file stays intact and nothing flushed is lost.

A child process writes states and events in a tight loop with a short commit interval and prints
each sequence number once ``flush()`` has returned for it. The test kills the child with SIGKILL
at a random moment (mostly inside a commit, since that is where the child spends its time),
then reopens the database.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from klima.persistence import Store

SRC = Path(__file__).resolve().parents[2] / "src"
UNITS = 3

# Timestamps are derived from the sequence number so every state_log key is unique, and a
# padded payload makes the WAL grow past SQLite's auto-checkpoint (a crash inside a checkpoint
# is the interesting case too).
CHILD = f"""
import sys
from datetime import UTC, datetime, timedelta
from klima.persistence import Store

store = Store.open(sys.argv[1], commit_interval=0.002, retention_days=None)
start = datetime.now(UTC)
seq = 0
while True:
    for _ in range(7):
        seq += 1
        ts = start + timedelta(milliseconds=seq)
        store.save_state(f"unit-{{seq % {UNITS}}}", {{"seq": seq, "pad": "x" * 400}}, ts)
        store.log_event("tick", None, {{"seq": seq}}, ts)
    if store.flush(10):
        print(seq, flush=True)
"""


def _run_and_kill(db_url: str, kill_after: float, script: str = CHILD) -> list[int]:
    """Run ``script`` (it prints each sequence number it flushed) and SIGKILL it
    ``kill_after`` seconds after its first report; return the numbers it reported."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, "-c", script, db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    started = threading.Event()

    def kill_once_writing() -> None:
        started.wait(30)  # the child has committed at least once
        time.sleep(kill_after)
        child.send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_once_writing)
    killer.start()
    flushed: list[int] = []
    try:
        for line in child.stdout:
            if not line.endswith("\n"):
                break  # cut off by the kill: not a complete report
            flushed.append(int(line))
            started.set()
    finally:
        started.set()
        killer.join(30)
        child.kill()
        _, stderr = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, stderr
    return flushed


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_kill_9_while_writing_loses_nothing_flushed(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "klima.db"
    kill_after = random.Random(seed).uniform(0.05, 0.6)
    flushed = _run_and_kill(f"sqlite:///{path}", kill_after)
    assert flushed, "the child never reported a flush before it was killed"
    last = flushed[-1]

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        logged = {
            json.loads(state)["seq"] for (state,) in db.execute("SELECT state FROM state_log")
        }
        events = {json.loads(data)["seq"] for (data,) in db.execute("SELECT data FROM event_log")}
    assert set(range(1, last + 1)) <= logged
    assert set(range(1, last + 1)) <= events

    # The reopened store restores, per unit, at least the last state that was flushed.
    with Store.open(f"sqlite:///{path}", retention_days=None) as store:
        restored = store.load_states()
    for unit in range(UNITS):
        last_for_unit = max(seq for seq in range(1, last + 1) if seq % UNITS == unit)
        assert restored[f"unit-{unit}"]["seq"] >= last_for_unit
