"""``klima energy`` and ``klima report`` through ``klima.cli.main.main`` on a real SQLite file.

The history is written with the Store's own API (``record_energy`` + ``flush``), the way the
daemon records it; every expected number below is the sum of the rows recorded here.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from klima.cli.energy import _range
from klima.cli.history import HistoryError
from klima.cli.main import main
from klima.persistence import EnergyTotals, RollupRow, Store

if TYPE_CHECKING:
    from pathlib import Path

BERLIN = ZoneInfo("Europe/Berlin")

# (day key, unit, metered, reported, estimated kWh, cost EUR)
DAYS = [
    (20261031, "living_room", 9.0, 0.0, 0.0, "3.00"),  # the day before November
    (20261031, "attic", 0.0, 0.0, 4.0, "1.20"),  # a unit with nothing in November
    (20261101, "living_room", 2.5, 0.0, 0.25, "0.91"),
    (20261101, "bedroom", 0.0, 0.0, 1.5, "0.45"),
    (20261102, "living_room", 0.0, 3.0, 0.0, "1.05"),
    (20261103, "living_room", 0.0, 0.0, 1.125, "0.36"),
    (20261103, "bedroom", 0.75, 0.0, 0.0, "0.27"),
    (20261201, "living_room", 7.0, 0.0, 0.0, "2.00"),  # the day after November
]
# Berlin falls back on 25 Oct 2026: 00:00 and 01:00 UTC are both 02:00 local.
HOURS = [
    (datetime(2026, 10, 25, 0, tzinfo=UTC), "living_room", 0.5, "0.15"),
    (datetime(2026, 10, 25, 1, tzinfo=UTC), "living_room", 0.25, "0.08"),
    (datetime(2026, 10, 25, 2, tzinfo=UTC), "living_room", 0.125, "0.04"),
]


def totals(metered: float, reported: float, estimated: float, cost: str) -> EnergyTotals:
    return EnergyTotals(metered, reported, estimated, Decimal(cost))


def record_history(url: str) -> None:
    rollups = [RollupRow("day", row[0], row[1], totals(*row[2:])) for row in DAYS]
    house: dict[int, EnergyTotals] = {}
    for row in rollups:
        house[row.key] = house.get(row.key, EnergyTotals()) + row.totals
    rollups += [RollupRow("day", day, None, sums) for day, sums in house.items()]
    for start, unit, kwh, cost in HOURS:
        hour = totals(0.0, 0.0, kwh, cost)
        rollups += [
            RollupRow("hour", int(start.timestamp()), unit, hour),
            RollupRow("hour", int(start.timestamp()), None, hour),
        ]
    store = Store.open(url, retention_days=None)
    try:
        store.record_energy(rollups=rollups)
        assert store.flush()
    finally:
        store.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('energy')}/klima.db"
    record_history(url)
    return url


@pytest.fixture
def config(tmp_path: Path, database: str) -> Path:
    """A config naming the database, the time zone and the currency."""
    path = tmp_path / "klima.toml"
    path.write_text(
        f'[database]\nurl = "{database}"\n\n'
        '[energy]\ntimezone = "Europe/Berlin"\ncurrency = "EUR"\n'
    )
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["energy", *args, "--json"]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_unit_days_in_json_equal_the_recorded_rows(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(
        capsys, "--unit", "living_room", "--from", "2026-11-01", "--to", "2026-12-01",
        "--bucket", "day", "--database", database, "--tz", "Europe/Berlin",
    )  # fmt: skip
    assert [(row["start"], row["end"]) for row in rows] == [
        ("2026-11-01T00:00:00+01:00", "2026-11-02T00:00:00+01:00"),
        ("2026-11-02T00:00:00+01:00", "2026-11-03T00:00:00+01:00"),
        ("2026-11-03T00:00:00+01:00", "2026-11-04T00:00:00+01:00"),
    ]
    recorded = [row[2:] for row in DAYS if row[1] == "living_room" and row[0] // 100 == 202611]
    for row, (metered, reported, estimated, cost) in zip(rows, recorded, strict=True):
        assert (row["metered_kwh"], row["reported_kwh"], row["estimated_kwh"]) == (
            metered, reported, estimated,
        )  # fmt: skip
        assert row["kwh"] == metered + reported + estimated
        assert Decimal(str(row["cost"])) == Decimal(cost)


def test_house_months_are_sums_of_every_unit(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(
        capsys, "--from", "2026-10-01", "--to", "2027-01-01", "--bucket", "month",
        "--database", database, "--tz", "Europe/Berlin",
    )  # fmt: skip
    assert [row["start"] for row in rows] == [
        "2026-10-01T00:00:00+02:00",
        "2026-11-01T00:00:00+01:00",
        "2026-12-01T00:00:00+01:00",
    ]
    # October: living_room 9 + attic 4; November: living_room 2.75 + 3 + 1.125, bedroom 1.5 + 0.75
    assert [row["kwh"] for row in rows] == [9.0 + 4.0, 2.75 + 3.0 + 1.125 + 1.5 + 0.75, 7.0]
    assert [row["metered_kwh"] for row in rows] == [9.0, 2.5 + 0.75, 7.0]
    assert [Decimal(str(row["cost"])) for row in rows] == [
        Decimal("3.00") + Decimal("1.20"),
        Decimal("0.91") + Decimal("0.45") + Decimal("1.05") + Decimal("0.36") + Decimal("0.27"),
        Decimal("2.00"),
    ]


def test_csv_has_the_json_columns_and_values(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--unit", "bedroom", "--from", "2026-11-01", "--to", "2026-11-30"]
    args += ["--database", database, "--tz", "Europe/Berlin"]
    as_json = run_json(capsys, *args)
    assert main(["energy", *args, "--csv"]) == 0
    lines = capsys.readouterr().out
    assert lines.splitlines()[0] == "start,end,kwh,metered_kwh,reported_kwh,estimated_kwh,cost"
    as_csv = list(csv.DictReader(io.StringIO(lines)))
    assert len(as_csv) == len(as_json) == 2
    for from_csv, from_json in zip(as_csv, as_json, strict=True):
        assert from_csv == {key: str(value) for key, value in from_json.items()}


def test_table_from_the_config_has_units_currency_and_a_total_row(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No --database and no --tz: both come from the config, as does the currency.
    assert (
        main(["energy", "--config", str(config), "--from", "2026-11-01", "--to", "2026-11-04"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0] == "energy of the house from 2026-11-01 00:00+01:00 to 2026-11-04 00:00+01:00"
        " (Europe/Berlin)"
    )
    header = ["day", "kWh", "metered kWh", "reported kWh", "estimated kWh", "cost EUR"]
    assert re.split(r"\s{2,}", lines[1]) == header
    # House per day: 1 Nov 2.75 + 1.5; 2 Nov 3.0; 3 Nov 1.125 + 0.75
    assert lines[2].split() == ["2026-11-01", "4.250", "2.500", "0.000", "1.750", "1.36"]
    assert lines[3].split() == ["2026-11-02", "3.000", "0.000", "3.000", "0.000", "1.05"]
    assert lines[4].split() == ["2026-11-03", "1.875", "0.750", "0.000", "1.125", "0.63"]
    assert lines[5].split() == [
        "total",
        f"{4.25 + 3.0 + 1.875:.3f}",
        "3.250",
        "3.000",
        "2.875",
        "3.04",
    ]
    # Aligned: every value column ends at the same place in every row.
    assert len({len(line) for line in lines[1:]}) == 1


def test_hours_on_the_fall_back_night_are_told_apart(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--unit", "living_room", "--bucket", "hour", "--database", database]
    args += ["--from", "2026-10-25T00:00", "--to", "2026-10-25T04:00", "--tz", "Europe/Berlin"]
    assert main(["energy", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:2] == ["hour", "kWh"]
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["2026-10-25", "02:00+02:00", "0.500"],
        ["2026-10-25", "02:00+01:00", "0.250"],
        ["2026-10-25", "03:00+01:00", "0.125"],
    ]
    # Hourly costs keep four places; the total sums the three hours.
    assert lines[5].split() == [
        "total",
        f"{0.5 + 0.25 + 0.125:.3f}",
        "0.000",
        "0.000",
        "0.875",
        "0.2700",
    ]


def test_default_range_is_the_current_month() -> None:
    now = datetime(2026, 11, 27, 13, 46, tzinfo=UTC)
    assert _range(None, None, BERLIN, now) == (
        datetime(2026, 11, 1, tzinfo=BERLIN),
        datetime(2026, 12, 1, tzinfo=BERLIN),
    )
    # Only --to: the month it ends in; only --from: up to the end of the current month.
    assert _range(None, "2026-11-01", BERLIN, now)[0] == datetime(2026, 10, 1, tzinfo=BERLIN)
    assert _range("2026-01-15T06:00", None, BERLIN, now) == (
        datetime(2026, 1, 15, 6, tzinfo=BERLIN),
        datetime(2026, 12, 1, tzinfo=BERLIN),
    )
    with pytest.raises(HistoryError, match="must be before --to"):
        _range("2027-01-01", None, BERLIN, now)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01"], "--from: not an ISO-8601 date or date and time: '2026-13-01'"),
        (["--from", "2026-11-02", "--to", "2026-11-02"], "must be before --to"),
        (
            ["--unit", "garage"],
            "no energy recorded for unit 'garage' (units with energy: attic, bedroom, living_room)",
        ),
        (["--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--database", "sqlite:///{tmp}/nothing-here.db"], "no database at {tmp}/nothing-here.db"),
        (["--database", "mysql://localhost/klima"], "unsupported database URL"),
        (["--database", "sqlite://"], "empty in-memory database"),
        (["--config", "{tmp}/missing.toml"], "missing.toml: file not found"),
    ],
)
def test_errors_are_one_line_and_exit_2(
    args: list[str],
    message: str,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    if "--database" not in argv:
        argv += ["--database", database]
    assert main(["energy", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("klima energy: ")
    assert message.replace("{tmp}", str(tmp_path)) in captured.err
    assert len(captured.err.splitlines()) == 1
    assert not (tmp_path / "nothing-here.db").exists()  # reading never creates a database


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]


def test_report_svg_has_one_series_per_unit_and_the_month_totals(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "november.svg"
    assert main(["report", "--period", "2026-11", "--out", str(out), "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (2 unit(s)")
    texts = svg_texts(out)
    assert "living_room" in texts
    assert "bedroom" in texts
    assert "attic" not in texts  # it has energy only in October
    # 2.75 + 3 + 1.125 + 1.5 + 0.75 kWh; 0.91 + 1.05 + 0.36 + 0.45 + 0.27 EUR
    assert f"November 2026: {9.125:.1f} kWh, 3.04 EUR" in texts
    assert "kWh per day" in texts
    assert "EUR per day" in texts


def test_report_png(database: str, tmp_path: Path) -> None:
    out = tmp_path / "november.PNG"
    args = ["--period", "2026-11", "--out", str(out), "--database", database, "--tz", "UTC"]
    assert main(["report", *args]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # IHDR follows the signature: width and height of a 10 x 7 inch figure at 100 dpi
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1000, 700)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--period", "2026-11", "--out", "{tmp}/chart.pdf"],
            "--out must end in .png or .svg, not 'chart.pdf'",
        ),
        (["--period", "2026-13", "--out", "{tmp}/chart.png"], "--period: no month 13"),
        (["--period", "november", "--out", "{tmp}/chart.png"], "--period: a period is YYYY-MM"),
        (["--period", "2026-11", "--out", "{tmp}/no/such/dir/chart.png"], "cannot write"),
    ],
)
def test_report_errors(
    args: list[str], message: str, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    assert main(["report", *argv, "--database", database]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("klima report: ")
    assert message in captured.err
    assert len(captured.err.splitlines()) == 1


def test_report_without_matplotlib_names_the_extra(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A None entry makes `import` fail as if the package were not installed.
    for name in [name for name in sys.modules if name.split(".")[0] == "matplotlib"] + [
        "matplotlib"
    ]:
        monkeypatch.setitem(sys.modules, name, None)
    out = tmp_path / "chart.png"
    assert main(["report", "--period", "2026-11", "--out", str(out), "--database", database]) == 2
    assert capsys.readouterr().err == (
        "klima report: matplotlib is not installed: pip install 'klima[report]'\n"
    )
    assert not out.exists()


def test_klima_starts_without_importing_matplotlib_or_sqlalchemy() -> None:
    code = (
        "import sys, klima.cli.main; print(sorted({'matplotlib', 'sqlalchemy'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_range_without_data_prints_an_empty_table(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--unit", "bedroom", "--from", "2026-12-01", "--to", "2026-12-31", "--tz", "UTC"]
    assert run_json(capsys, *args, "--database", database) == []
    assert main(["energy", *args, "--database", database]) == 0
    lines = capsys.readouterr().out.splitlines()
    # Without a config there is no currency: the column is plain "cost", and nothing was priced.
    assert re.split(r"\s{2,}", lines[1])[-1] == "cost"
    assert lines[2:] == [lines[2]]
    assert lines[2].split() == ["total", "0.000", "0.000", "0.000", "0.000", "-"]


def test_without_tz_or_config_days_are_in_the_system_zone(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    rows = run_json(
        capsys, "--unit", "bedroom", "--from", "2026-11-03", "--to", "2026-11-04",
        "--database", database,
    )  # fmt: skip
    assert [(row["start"], row["kwh"]) for row in rows] == [("2026-11-03T00:00:00-05:00", 0.75)]
