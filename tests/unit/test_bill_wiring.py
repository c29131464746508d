"""`klima bill` is reachable from the main command (the engine is tested in test_bill_*)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from klima.cli.main import main

if TYPE_CHECKING:
    import pytest

JACKSON = Path(__file__).parents[1] / "fixtures" / "tariffs" / "urdb_jackson_emc_5a0b2804.json"


def test_klima_bill_prices_a_month(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    usage = tmp_path / "usage.csv"
    usage.write_text("start,kwh\n2026-05-01T00:00:00+00:00,600\n2026-05-16T00:00:00+00:00,600\n")
    argv = ["bill", "--tariff", str(JACKSON), "--usage", str(usage), "--period", "2026-05"]
    assert main([*argv, "--json"]) == 0
    bill = json.loads(capsys.readouterr().out)
    # 650 * 0.0896 + 350 * 0.1121 + 200 * 0.1181 + 5.50 fixed = 126.595 → 126.60 (research §2.2)
    assert (bill["currency"], bill["kwh"], bill["total"]) == ("USD", "1200", "126.60")
    assert main(["bill", "--tariff", str(tmp_path / "none.json"), "--usage", str(usage)]) == 1
    assert "Traceback" not in capsys.readouterr().err
