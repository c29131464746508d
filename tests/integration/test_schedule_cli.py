"""`klima schedule …` against the real daemon (through MQTT only): programs, holds, timers."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from tests.support.daemon_harness import running_daemon

from klima.cli.main import main
from klima.cli.schedule import schedule_from_text, settings_from_words
from klima.cli.schedule_views import days_text, hold_text
from klima.errors import CommandError

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.daemon_harness import Running
    from tests.support.mosquitto import MosquittoBroker

pytestmark = pytest.mark.timeout(90)
BERLIN = ZoneInfo("Europe/Berlin")

# sim_1 runs "daily" from the config: one block at midnight, so heat 20 °C is in force whatever
# the time of day the test runs. The clock is trusted at once (no NTP wait in a test).
AUTOMATION: dict[str, Any] = {
    "site": {"timezone": "Europe/Berlin", "latitude": 52.52, "longitude": 13.40},
    "automation": {"wait_for_clock": False},
    "schedules": [
        {
            "id": "daily",
            "units": ["sim_1"],
            "blocks": [{"at": "00:00", "mode": "heat", "target_temperature": 20.0}],
        }
    ],
}

EVENINGS_TOML = """\
# pasted from klima.toml
[[schedules]]
id = "evenings"
units = ["sim_2"]
days = ["mon", "tue", "wed", "thu", "fri"]
blocks = [
  { at = "06:30", preset = "comfort" },
  { at = "sunset-00:30", mode = "heat", target_temperature = 21.5 },
]
"""


async def klima(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `klima ARGV` as a user would (its own event loop, so in a thread)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def ok_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = await klima(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


async def started(run: Running) -> None:
    """The config's program is applied to sim_1 at start-up."""
    await run.wait_state("sim_1", lambda s: s["target_temperature"] == 20.0 and s["mode"] == "heat")


async def test_set_list_show_and_delete_schedules(
    mosquitto: MosquittoBroker,
    mqtt_base: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker = ["--broker", mosquitto.url, "--base-topic", mqtt_base]
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, extra_config=AUTOMATION) as run:
        await started(run)

        code, out, err = await klima(capsys, "schedule", "list", *broker)
        assert code == 0, err
        header, daily = out.splitlines()
        assert header.split() == ["SCHEDULE", "UNITS", "DAYS", "BLOCKS", "SOURCE", "ENABLED"]
        assert daily.split("  ")[0] == "daily"
        assert "every day" in daily and "00:00 heat 20.0°C" in daily
        assert daily.split()[-2:] == ["config", "yes"]

        # A schedule from a TOML file, in the config file's own [[schedules]] shape.
        (tmp_path / "evenings.toml").write_text(EVENINGS_TOML, encoding="utf-8")
        code, out, err = await klima(
            capsys, "schedule", "set", str(tmp_path / "evenings.toml"), *broker
        )
        assert (code, err) == (0, "")
        assert out == "schedule evenings saved: sim_2, mon-fri, 2 blocks\n"

        listed = await ok_json(capsys, "schedule", "list", *broker)
        by_id = {s["id"]: s for s in listed["schedules"]}
        assert set(by_id) == {"daily", "evenings"}
        assert by_id["evenings"] == {
            "id": "evenings",
            "units": ["sim_2"],
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "blocks": [
                {"at": "06:30", "preset": "comfort"},
                {"at": "sunset-00:30", "mode": "heat", "target_temperature": 21.5},
            ],
            "holidays": False,
            "enabled": True,
            "source": "runtime",
        }
        assert listed["holds"] == {} and listed["timers"] == []

        code, out, err = await klima(capsys, "schedule", "show", "evenings", *broker)
        assert code == 0, err
        assert out.splitlines() == [
            "schedule evenings (runtime, enabled)",
            "units:  sim_2",
            "days:   mon-fri",
            "blocks:",
            "  06:30         preset comfort",
            "  sunset-00:30  heat 21.5°C",
        ]

        # A unit's view: what is in force and the next two days of changes.
        shown = await ok_json(capsys, "schedule", "show", "--unit", "sim_1", *broker)
        assert shown["status"]["source"] == "schedule"
        assert shown["status"]["schedule"] == "daily" and shown["status"]["block"] == "00:00"
        assert "eco" in shown["presets"] and "comfort" in shown["presets"]
        # 48 h hold two or three local midnights (three only across a spring-forward night).
        assert 2 <= len(shown["upcoming"]) <= 3
        for change in shown["upcoming"]:
            local = datetime.fromisoformat(change["at"]).astimezone(BERLIN)
            assert (local.hour, local.minute) == (0, 0)
            assert change == {"at": change["at"], "schedule": "daily", "mode": "heat",
                              "target_temperature": 20.0}  # fmt: skip
        code, out, err = await klima(capsys, "schedule", "show", "--unit", "sim_1", *broker)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[:2] == ["unit sim_1", "in force:     schedule daily, block 00:00"]
        assert lines[-len(shown["upcoming"]) - 2] == "upcoming:"
        assert all(
            line.endswith("daily     heat 20.0°C") for line in lines[-len(shown["upcoming"]) :]
        )

        # Replace it from stdin as JSON (the same shape): now only the weekend, one block.
        replacement = {"id": "evenings", "units": ["sim_2"], "days": ["sat", "sun"],
                       "blocks": [{"at": "sunset", "preset": "eco"}]}  # fmt: skip
        monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(replacement)))
        code, out, err = await klima(capsys, "schedule", "set", "-", *broker)
        assert (code, out, err) == (0, "schedule evenings saved: sim_2, sat,sun, 1 block\n", "")
        shown = await ok_json(capsys, "schedule", "show", "evenings", *broker)
        assert shown["days"] == ["sat", "sun"] and shown["blocks"] == [
            {"at": "sunset", "preset": "eco"}
        ]

        code, out, err = await klima(capsys, "schedule", "delete", "evenings", *broker)
        assert (code, out, err) == (0, "schedule evenings deleted\n", "")
        listed = await ok_json(capsys, "schedule", "list", *broker)
        assert [s["id"] for s in listed["schedules"]] == ["daily"]
        code, out, err = await klima(capsys, "schedule", "delete", "evenings", *broker)
        assert (code, out) == (1, "")
        assert err == "klima: no schedule 'evenings' (allowed: daily)\n"


async def test_hold_resume_and_timers(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = ["--broker", mosquitto.url, "--base-topic", mqtt_base]
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, extra_config=AUTOMATION) as run:
        await started(run)
        unit = run.sim.endpoint("sim_1").unit

        # A hold for two hours wins over the program; the simulated unit follows.
        before = datetime.now(UTC)
        code, out, err = await klima(
            capsys, "schedule", "hold", "sim_1", "--for", "2h", "target_temperature=23", *broker
        )
        after = datetime.now(UTC)
        assert code == 0, err
        assert out.startswith("sim_1: holding 23.0°C until ")
        hold = (await ok_json(capsys, "schedule", "list", *broker))["holds"]["sim_1"]
        assert hold["kind"] == "duration" and hold["target_temperature"] == 23.0
        until = datetime.fromisoformat(hold["until"])
        assert before + timedelta(hours=2) <= until <= after + timedelta(hours=2)
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 23.0)
        assert unit.target_temperature == 23.0
        state = await run.wait_state("sim_1", lambda s: s["program"]["source"] == "hold")
        assert state["program"]["hold"] == hold

        code, out, err = await klima(capsys, "schedule", "list", *broker)
        assert code == 0, err
        lines = out.splitlines()
        holds = lines.index("holds:")
        assert lines[holds + 1].split() == ["UNIT", "SETTINGS", "KIND", "UNTIL"]
        assert lines[holds + 2].startswith("  sim_1  23.0°C    duration  ")

        code, out, err = await klima(capsys, "schedule", "resume", "sim_1", *broker)
        assert (code, out, err) == (0, "sim_1: hold ended; the schedule applies again\n", "")
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 20.0)
        code, out, _ = await klima(capsys, "schedule", "resume", "sim_1", *broker)
        assert (code, out) == (0, "sim_1: there was no hold; nothing changed\n")

        # A preset held for good (eco is 18 °C by default) until resumed.
        code, out, err = await klima(
            capsys, "schedule", "hold", "sim_1", "--preset", "eco", "--permanent", *broker
        )
        assert (code, out, err) == (0, "sim_1: holding preset eco permanently\n", "")
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 18.0)
        code, _, err = await klima(capsys, "schedule", "resume", "sim_1", *broker)
        assert code == 0, err
        await run.wait_state("sim_1", lambda s: s["target_temperature"] == 20.0)

        # Without --for/--until/--permanent a hold lasts until the next block: local midnight.
        held = await ok_json(capsys, "schedule", "hold", "sim_1", "target_temperature=22", *broker)
        assert held["hold"]["kind"] == "next_block"
        until = datetime.fromisoformat(held["hold"]["until"]).astimezone(BERLIN)
        assert (until.hour, until.minute) == (0, 0)
        assert datetime.now(UTC) < until <= datetime.now(UTC) + timedelta(days=1)
        code, out, err = await klima(capsys, "schedule", "resume", "sim_1", *broker)
        assert code == 0, err

        # "Off in 90 minutes": listed with its id, then cancelled.
        before = datetime.now(UTC)
        code, out, err = await klima(
            capsys, "schedule", "timer", "sim_2", "--in", "90m", "power=off", *broker
        )
        assert code == 0, err
        timer_id = out.split()[1].rstrip(":")
        assert out.startswith(f"timer {timer_id}: sim_2 off at ")
        listed = await ok_json(capsys, "schedule", "list", *broker)
        (timer,) = listed["timers"]
        assert timer["id"] == timer_id and timer["settings"] == {"power": False}
        at = datetime.fromisoformat(timer["at"])
        assert before + timedelta(minutes=90) <= at <= datetime.now(UTC) + timedelta(minutes=90)
        code, out, _ = await klima(capsys, "schedule", "list", *broker)
        assert "timers:" in out.splitlines()
        assert any(line.split()[:2] == [timer_id, "sim_2"] for line in out.splitlines())

        code, out, err = await klima(capsys, "schedule", "timer", "--cancel", timer_id, *broker)
        assert (code, out, err) == (0, f"timer {timer_id} cancelled\n", "")
        assert (await ok_json(capsys, "schedule", "list", *broker))["timers"] == []
        code, out, err = await klima(capsys, "schedule", "timer", "--cancel", timer_id, *broker)
        assert (code, out) == (1, "")
        assert err == f"klima: no timer '{timer_id}'\n"  # none left, so no allowed list

        # "On at 06:30": the next 06:30 on the hub's clock (Europe/Berlin).
        timer = await ok_json(
            capsys, "schedule", "timer", "sim_1", "--at", "06:30", "--preset", "comfort", *broker
        )
        at = datetime.fromisoformat(timer["at"])
        assert (at.astimezone(BERLIN).hour, at.astimezone(BERLIN).minute) == (6, 30)
        assert datetime.now(UTC) < at <= datetime.now(UTC) + timedelta(days=1)
        assert timer["unit"] == "sim_1" and timer["settings"] == {"preset": "comfort"}
        code, _, err = await klima(capsys, "schedule", "timer", "--cancel", timer["id"], *broker)
        assert code == 0, err


async def test_refusals_are_one_line_and_change_nothing(
    mosquitto: MosquittoBroker, mqtt_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = ["--broker", mosquitto.url, "--base-topic", mqtt_base]
    bad_time = tmp_path / "bad.toml"
    bad_time.write_text(
        'id = "x"\nunits = ["sim_1"]\nblocks = [{ at = "25:00", preset = "eco" }]\n'
    )
    stranger = tmp_path / "stranger.json"
    stranger.write_text(
        '{"id": "x", "units": ["nosuch"], "blocks": [{"at": "07:00", "preset": "eco"}]}'
    )
    refusals = [
        # from the daemon (exactly the text a request answers with)
        (["hold", "nosuch", "mode=heat"], "klima: unknown unit 'nosuch' (allowed: sim_1, sim_2)"),
        (["resume", "nosuch"], "klima: unknown unit 'nosuch' (allowed: sim_1, sim_2)"),
        (["timer", "sim_1", "--at", "25:00", "power=off"],
         "klima: at: not HH:MM or an ISO date-time: '25:00'"),
        (["hold", "sim_1", "power=off", "--until", "7pm"],
         "klima: until: not HH:MM or an ISO date-time: '7pm'"),
        (["hold", "sim_1", "power=off", "--for", "2x"],
         "klima: '2x' is not a duration: use e.g. 90m, 2h or 1d"),
        (["timer", "sim_1", "--in", "soon", "power=off"],
         "klima: 'soon' is not a duration: use e.g. 90m, 2h or 1d"),
        (["hold", "sim_1"],
         "klima: say what to set: a preset, power, mode, target_temperature"),
        (["hold", "sim_1", "--preset", "party"],
         "klima: unknown preset 'party' (allowed: away, boost, comfort, eco, frost, sleep)"),
        (["set", str(stranger)], "klima: unknown units ['nosuch'] (allowed: sim_1, sim_2)"),
        (["show", "nosuch"], "klima: no schedule 'nosuch' (allowed: daily)"),
        (["show", "--unit", "nosuch"], "klima: unknown unit 'nosuch' (allowed: sim_1, sim_2)"),
        # found before anything is sent
        (["hold", "sim_1", "colour=blue"], ("klima: unknown setting 'colour' (allowed: power, "
         "mode, target_temperature, fan_mode, preset)")),
        (["set", str(bad_time)],
         f"klima: {bad_time}: blocks[0].at: bad time '25:00': hours must be 00-23"),
        (["set", str(tmp_path / "missing.toml")],
         f"klima: cannot read {tmp_path / 'missing.toml'}: No such file or directory"),
        (["show"], "klima: give a schedule ID or --unit UNIT (one of them)"),
        (["timer", "sim_1", "--cancel", "t1"], "klima: --cancel takes only the timer's id"),
    ]  # fmt: skip
    async with running_daemon(mosquitto.url, mqtt_base, tmp_path, extra_config=AUTOMATION) as run:
        await started(run)
        for argv, message in refusals:
            code, out, err = await klima(capsys, "schedule", *argv, *broker)
            assert (code, out, err) == (1, "", message + "\n"), argv
        listed = await ok_json(capsys, "schedule", "list", *broker)
        assert [s["id"] for s in listed["schedules"]] == ["daily"]
        assert listed["holds"] == {} and listed["timers"] == []
        assert run.state("sim_1")["target_temperature"] == 20.0  # type: ignore[index]


def test_a_schedule_file_reads_like_the_config() -> None:
    # Days default to every day, as in klima.toml; top-level keys work as well as [[schedules]].
    text = 'id = "n"\nunits = ["a"]\n[[blocks]]\nat = "sunset+00:15"\npower = false\n'
    assert schedule_from_text(text) == {
        "id": "n",
        "units": ["a"],
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "blocks": [{"at": "sunset+00:15", "power": False}],
        "holidays": False,
        "enabled": True,
    }  # fmt: skip
    with pytest.raises(CommandError, match="a block sets either a preset or"):
        schedule_from_text('{"id": "n", "units": ["a"], "blocks": [{"at": "06:00", '
                           '"preset": "eco", "mode": "heat"}]}')  # fmt: skip
    with pytest.raises(CommandError, match=r"holds 2 schedules; give one"):
        schedule_from_text("[[schedules]]\nid = 'a'\n[[schedules]]\nid = 'b'\n")
    with pytest.raises(CommandError, match=r"blocks\[0\]\.colour: unknown key"):
        schedule_from_text('{"id": "n", "units": ["a"], "blocks": [{"at": "06:00", "colour": 1}]}')
    with pytest.raises(CommandError, match="not valid TOML"):
        schedule_from_text("id = ")


def test_settings_words_are_spelled_as_for_klima_set() -> None:
    assert settings_from_words(["power=off", "mode=HEAT", "target_temperature=21"]) == {
        "power": False,
        "mode": "heat",
        "target_temperature": 21.0,
    }
    assert settings_from_words(["power=on"], preset="boost") == {"power": True, "preset": "boost"}
    assert settings_from_words(["preset=eco"]) == {"preset": "eco"}
    with pytest.raises(CommandError, match="preset is given twice"):
        settings_from_words(["preset=eco"], preset="comfort")
    with pytest.raises(CommandError, match="unknown mode 'warm'"):
        settings_from_words(["mode=warm"])
    with pytest.raises(CommandError, match="expected key=value"):
        settings_from_words(["heat"])


def test_days_and_holds_read_as_words() -> None:
    assert days_text(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]) == "every day"
    assert days_text(["mon", "tue", "wed", "thu", "fri"]) == "mon-fri"
    assert days_text(["sat", "sun"]) == "sat,sun"
    assert days_text(["mon", "tue", "wed", "fri"], holidays=True) == "mon-wed,fri + holidays"
    assert days_text([], holidays=True) == "holidays"
    assert hold_text({"kind": "permanent", "until": None, "power": False}) == "off permanently"
    until = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    local = until.astimezone().strftime("%a %Y-%m-%d %H:%M")  # shown in this machine's zone
    assert hold_text({"kind": "next_block", "until": until.isoformat(), "preset": "boost"}) == (
        f"preset boost until the next block ({local})"
    )
    assert hold_text(
        {"kind": "duration", "until": until.isoformat(), "mode": "cool", "target_temperature": 24}
    ) == (f"cool 24.0°C until {local}")
