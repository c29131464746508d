"""``klima bill`` end to end through :func:`klima.cli.bill.main` with real files in tmp_path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from klima.cli.bill import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tariffs"


def write_csv(path: Path, header: str, rows: list[tuple[str, str]]) -> Path:
    path.write_text("\n".join([header, *(f"{a},{b}" for a, b in rows)]) + "\n")
    return path


def berlin_fall_back_day(tmp_path: Path) -> Path:
    """25 Oct 2026 in Berlin has 25 hours; rows carry their UTC offsets so 02:00 appears twice."""
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)  # local midnight, +02:00
    rows = [((start + timedelta(hours=h)).isoformat(), "1") for h in range(25)]
    return write_csv(tmp_path / "usage.csv", "start,kwh", rows)


def test_json_bill_for_jackson_emc_may(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 40 kWh/day on May 1-30 2017 + 0 on May 31: 126.60 (see test_bill_compute for the arithmetic)
    rows = [(f"2017-05-{day:02d}T00:00:00", "40" if day <= 30 else "0") for day in range(1, 32)]
    usage = write_csv(tmp_path / "usage.csv", "start,kwh", rows)
    code = main(
        [
            "--tariff",
            str(FIXTURES / "urdb_jackson_emc_5a0b2804.json"),
            "--usage",
            str(usage),
            "--period",
            "2017-05",
            "--tz",
            "America/New_York",
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["currency"], document["kwh"], document["total"]) == ("USD", "1200", "126.60")
    kinds = [(line["kind"], line["label"]) for line in document["lines"]]
    assert kinds == [
        ("energy", "period 1 tier 1"),
        ("energy", "period 1 tier 2"),
        ("energy", "period 1 tier 3"),
        ("fixed", "fixed per month"),
    ]


def test_dynamic_prices_standing_charge_tax_and_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Half-hourly prices 0.20, -0.05, -0.10, 0.30 GBP/kWh with usage 1, 2, 3, 0.5 kWh -> -0.05;
    # standing charge 0.50/day, --from/--to one day -> 0.45; tax 5 % -> 0.4725 -> 0.47
    starts = [f"2026-06-01T{h:02d}:{m:02d}" for h, m in ((0, 0), (0, 30), (1, 0), (1, 30))]
    prices = write_csv(
        tmp_path / "p.csv",
        "start,price",
        list(zip(starts, ("0.20", "-0.05", "-0.10", "0.30"), strict=True)),
    )
    usage = write_csv(
        tmp_path / "u.csv", "start,kwh", list(zip(starts, ("1", "2", "3", "0.5"), strict=True))
    )
    base = ["--prices", str(prices), "--usage", str(usage), "--tz", "Europe/London"]
    extra = ["--from", "2026-06-01", "--to", "2026-06-02", "--standing-charge", "0.50"]
    extra += ["--tax-percent", "5", "--currency", "gbp"]
    assert main([*base, *extra, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["currency"], document["total"]) == ("GBP", "0.47")
    assert [line["kind"] for line in document["lines"]] == ["energy", "fixed", "tax"]
    assert main([*base, *extra]) == 0
    table = capsys.readouterr().out
    assert "energy: dynamic" in table
    assert table.splitlines()[-1].endswith("0.47 GBP")


def test_as_of_on_the_fall_back_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Flat 0.30 EUR/kWh, 0.40 EUR/day. 25 one-kWh hours on 25 Oct 2026 (Berlin, 25-hour day).
    # As of 26 Oct 00:00 local: 25 kWh x 0.30 = 7.50; 25 elapsed days x 0.40 = 10.00 -> 17.50
    tariff = tmp_path / "t.toml"
    tariff.write_text('currency = "EUR"\n[[periods]]\nname = "flat"\ntiers = [{rate = "0.30"}]\n')
    usage = berlin_fall_back_day(tmp_path)
    args = ["--tariff", str(tariff), "--usage", str(usage), "--tz", "Europe/Berlin"]
    args += ["--period", "2026-10", "--standing-charge", "0.40", "--as-of", "2026-10-26T00:00"]
    assert main([*args, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["kwh"], document["days"], document["total"]) == ("25", "25", "17.50")


def test_default_period_is_the_days_the_usage_spans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tariff = tmp_path / "t.toml"
    tariff.write_text('[[periods]]\ntiers = [{rate = "1"}]\nfixed = []\n')
    usage = berlin_fall_back_day(tmp_path)
    assert (
        main(["--tariff", str(tariff), "--usage", str(usage), "--tz", "Europe/Berlin", "--json"])
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["period"] == {
        "start": "2026-10-25T00:00:00+02:00",
        "end": "2026-10-26T00:00:00+01:00",
    }
    assert (document["kwh"], document["total"]) == ("25", "25.00")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--usage", "{missing}"], "cannot read"),
        (["--usage", "{usage}", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["--usage", "{usage}", "--period", "2026-13"], "no month 13"),
        (["--usage", "{usage}", "--period", "may"], "YYYY-MM"),
        (["--usage", "{usage}", "--from", "2026-10-01"], "go together"),
        (["--usage", "{usage}", "--as-of", "yesterday"], "ISO-8601"),
        (["--usage", "{usage}", "--tax-percent", "a lot"], "not a number"),
        (["--usage", "{usage}", "--currency", "euro"], "three-letter"),
        (["--usage", "{bad}"], "header must name"),
        (["--usage", "{usage}", "--period", "2026-10", "--to", "2026-11-01"], "not both"),
        (["--usage", "{usage}", "--from", "2026-10-02", "--to", "2026-10-01"], "end after"),
        (["--usage", "{ambiguous}", "--tz", "Europe/Berlin"], "UTC offset"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    usage = berlin_fall_back_day(tmp_path)
    bad = write_csv(tmp_path / "bad.csv", "when,kwh", [("2026-01-01", "1")])
    # 02:00 twice without offsets on the Berlin fall-back day: the rows cannot be told apart.
    ambiguous = write_csv(
        tmp_path / "amb.csv", "start,kwh", [("2026-10-25T02:00", "1"), ("2026-10-25T02:00", "1")]
    )
    paths = {
        "usage": str(usage),
        "missing": str(tmp_path / "nope.csv"),
        "bad": str(bad),
        "ambiguous": str(ambiguous),
    }
    filled = [arg.format(**paths) for arg in args]
    code = main(["--tariff", str(FIXTURES / "urdb_jackson_emc_5a0b2804.json"), *filled])
    captured = capsys.readouterr()
    assert code == 1
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_tariff_and_prices_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--tariff", "a.json", "--prices", "b.csv", "--usage", "u.csv"])
    assert stopped.value.code == 2
