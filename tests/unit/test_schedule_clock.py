"""A Pi without an RTC: when may schedules trust the clock?"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from klima.schedule.clock import clock_trusted

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def test_a_synchronised_clock_is_trusted_whatever_the_database_says(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    flag.touch()
    assert clock_trusted(NOW, NOW + timedelta(days=30), flag)


def test_without_ntp_the_clock_must_be_later_than_the_database(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"  # not there: timesyncd has not synchronised yet
    assert not clock_trusted(NOW, NOW + timedelta(hours=1), flag)  # booted with a stale time
    assert not clock_trusted(NOW, NOW, flag)
    assert clock_trusted(NOW, NOW - timedelta(seconds=1), flag)
    assert clock_trusted(NOW, None, flag)  # a new database has nothing to compare with
