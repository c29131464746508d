"""The energy recorder through the Store, on SQLite files and PostgreSQL: rows, keys, the lazy
commit rule, the queue bound, failed commits, time series across DST, retention, the v1 → v2
migration and kill -9."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from tests.integration.test_persistence import (
    OpenStore,
    _wait_until,
    database_url,
    open_store,
    postgres_admin,
)
from tests.integration.test_persistence_crash import _run_and_kill

from klima.energy.model import EnergySource
from klima.persistence import (
    SCHEMA_VERSION,
    EnergySampleRow,
    EnergyTotals,
    LifetimeRow,
    RollupRow,
    Store,
)
from klima.persistence.schema import event_log, metadata, schema_version, state_log, unit_state

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["database_url", "open_store", "postgres_admin"]  # fixtures used below

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
METERED, REPORTED, ESTIMATED = EnergySource.METERED, EnergySource.REPORTED, EnergySource.ESTIMATED


@pytest.fixture
def energy_store(open_store: OpenStore) -> OpenStore:
    """Stores that keep every energy row (the tests' timestamps lie in the past)."""

    def opener(**options: object) -> Store:
        options.setdefault("sample_retention_days", None)
        return open_store(**options)

    return opener


def _sample(minute: int, unit: str, kwh: float, source: EnergySource = METERED) -> EnergySampleRow:
    return EnergySampleRow(T0 + timedelta(minutes=minute), unit, kwh, source)


def _totals(
    metered: float = 0.0, reported: float = 0.0, estimated: float = 0.0, cost: str = "0"
) -> EnergyTotals:
    return EnergyTotals(metered, reported, estimated, Decimal(cost))


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


# --- rows in, rows out ----------------------------------------------------------------------


def test_round_trip_of_every_kind_of_row(energy_store: OpenStore) -> None:
    store = energy_store()
    store.record_energy(
        samples=[_sample(0, "living", 0.05), _sample(0, "bed", 0.02, ESTIMATED)],
        rollups=[
            RollupRow("hour", int(T0.timestamp()), "living", _totals(metered=0.05, cost="0.0150")),
            RollupRow("day", 20260115, "living", _totals(metered=1.25, cost="0.375")),
            RollupRow("day", 20260115, None, _totals(metered=1.25, estimated=0.5, cost="0.525")),
            RollupRow(
                "period", 20260101, "bed", _totals(estimated=12.5, cost="3.75"), end_key=20260201
            ),
            RollupRow(
                "period",
                20260101,
                None,
                _totals(metered=40.0, estimated=12.5, cost="15.75"),
                end_key=20260201,
            ),
        ],
        lifetimes=[
            LifetimeRow("living", 1234.5, Decimal("370.35"), {"offset": 6553.5, "last": 12.3}),
            LifetimeRow(None, 2000.0, Decimal(600), {}),
        ],
    )
    assert store.flush(5)

    assert store.energy_units() == ["bed", "living"]
    assert store.energy_rollups("day", 20260115) == {
        "living": _totals(metered=1.25, cost="0.375"),
        None: _totals(metered=1.25, estimated=0.5, cost="0.525"),
    }
    assert store.energy_rollups("hour", int(T0.timestamp())) == {
        "living": _totals(metered=0.05, cost="0.015")
    }
    assert store.energy_period_totals(20260101) == {
        "bed": _totals(estimated=12.5, cost="3.75"),
        None: _totals(metered=40.0, estimated=12.5, cost="15.75"),
    }
    assert store.energy_period_totals(20260201) == {}
    lifetimes = store.energy_lifetimes()
    assert lifetimes["living"] == LifetimeRow(
        "living", 1234.5, Decimal("370.35"), {"offset": 6553.5, "last": 12.3}
    )
    assert lifetimes[None].kwh == 2000.0
    assert set(lifetimes) == {"living", None}
    (bed_minute,) = store.energy_series("bed", T0, T0 + timedelta(hours=1), "minute", BERLIN)
    assert (bed_minute.start, bed_minute.end) == (T0, T0 + timedelta(minutes=1))
    assert bed_minute.totals == _totals(estimated=0.02)
    assert not bed_minute.has_cost


def test_rollups_and_lifetimes_coalesce_and_samples_upsert_by_minute(
    energy_store: OpenStore,
) -> None:
    store = energy_store(commit_interval=60, energy_commit_interval=60)
    for n in range(1, 11):  # a running total rewritten ten times: one row, the last one wins
        store.record_energy(
            rollups=[RollupRow("day", 20260115, "u", _totals(metered=0.1 * n))],
            lifetimes=[LifetimeRow("u", 100 + n, Decimal(n), {"n": n})],
        )
    # Two samples in one minute (12:00:10 and 12:00:50, e.g. either side of a restart) add up.
    store.record_energy(samples=[EnergySampleRow(T0 + timedelta(seconds=10), "u", 0.01, METERED)])
    store.record_energy(samples=[EnergySampleRow(T0 + timedelta(seconds=50), "u", 0.03, METERED)])
    assert store.queue_depth == 1 + 1 + 2  # one rollup, one lifetime, two queued samples
    assert store.flush(5)
    assert store.commits == 1

    series = store.energy_series("u", T0, T0 + timedelta(minutes=5), "minute", BERLIN)
    assert [(b.start, b.totals) for b in series] == [(T0, _totals(metered=0.04))]
    # The same key in a later commit adds too; the minute takes the later source.
    store.record_energy(samples=[_sample(0, "u", 0.04, REPORTED)])
    assert store.flush(5)
    assert store.energy_rollups("day", 20260115) == {"u": _totals(metered=1.0)}
    assert store.energy_lifetimes()["u"].state == {"n": 10}
    series = store.energy_series("u", T0, T0 + timedelta(minutes=5), "minute", BERLIN)
    assert [(b.start, b.totals) for b in series] == [(T0, _totals(reported=0.08))]


def test_unit_keys_survive_restarts_and_stay_distinct(
    energy_store: OpenStore, database_url: str
) -> None:
    first = energy_store()
    first.record_energy(samples=[_sample(0, "a", 0.01), _sample(0, "b", 0.02)])
    assert first.close()

    second = energy_store()
    # "a" is known from the database, "c" is new: it must not reuse a's or b's key.
    second.record_energy(samples=[_sample(1, "c", 0.03), _sample(1, "a", 0.04)])
    assert second.flush(5)
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            keys = dict(conn.execute(sa.text("SELECT unit_id, unit_key FROM energy_unit")).all())
    finally:
        engine.dispose()
    assert sorted(keys) == ["a", "b", "c"]
    assert len(set(keys.values())) == 3
    assert 0 not in keys.values()  # 0 is the house
    a_minutes = second.energy_series("a", T0, T0 + timedelta(minutes=2), "minute", BERLIN)
    assert [b.totals.kwh for b in a_minutes] == [0.01, 0.04]


def test_house_minutes_are_the_sum_of_the_units_by_source(energy_store: OpenStore) -> None:
    store = energy_store()
    store.record_energy(
        samples=[
            _sample(0, "a", 0.010, METERED),
            _sample(0, "b", 0.020, ESTIMATED),
            _sample(0, "c", 0.005, REPORTED),
            _sample(1, "a", 0.012, METERED),
            _sample(3, "b", 0.001, ESTIMATED),  # minute 3: outside [0, 2) below
        ]
    )
    assert store.flush(5)
    house = store.energy_series(None, T0, T0 + timedelta(minutes=2), "minute", BERLIN)
    assert [(b.start, b.totals) for b in house] == [
        (T0, _totals(metered=0.010, reported=0.005, estimated=0.020)),
        (T0 + timedelta(minutes=1), _totals(metered=0.012)),
    ]
    assert house[0].totals.kwh == pytest.approx(0.010 + 0.020 + 0.005)
    assert store.energy_series("nobody", T0, T0 + timedelta(days=1), "minute", BERLIN) == []


def test_hour_series_reads_the_hourly_rollups_that_overlap(energy_store: OpenStore) -> None:
    store = energy_store()
    hours = [T0 + timedelta(hours=n) for n in range(4)]
    store.record_energy(
        rollups=[
            RollupRow("hour", int(h.timestamp()), "u", _totals(metered=n + 1, cost=f"0.{n + 1}"))
            for n, h in enumerate(hours)
        ]
    )
    assert store.flush(5)
    # 12:30 to 14:30 overlaps the hours starting 12:00, 13:00 and 14:00.
    series = store.energy_series(
        "u", T0 + timedelta(minutes=30), T0 + timedelta(hours=2, minutes=30), "hour", BERLIN
    )
    assert [(b.start, b.end, b.totals.kwh, b.totals.cost) for b in series] == [
        (hours[0], hours[1], 1.0, Decimal("0.1")),
        (hours[1], hours[2], 2.0, Decimal("0.2")),
        (hours[2], hours[3], 3.0, Decimal("0.3")),
    ]
    assert all(b.has_cost for b in series)


def _day_rows(unit: str | None, days: dict[int, float]) -> list[RollupRow]:
    # 0.30 per kWh, so each day's cost follows from its kWh.
    return [
        RollupRow(
            "day", key, unit, _totals(metered=kwh, cost=str(Decimal(str(kwh)) * Decimal("0.3")))
        )
        for key, kwh in days.items()
    ]


def test_day_and_month_buckets_are_local_and_follow_dst(energy_store: OpenStore) -> None:
    """Europe/Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25; March is 743 h long and
    October 745 h (31 * 24 - 1 and + 1)."""
    store = energy_store()
    unit_days = {
        20260228: 1.0,
        20260301: 2.0,
        20260329: 3.0,
        20260331: 4.0,
        20260401: 5.0,
        20261025: 6.0,
        20261031: 7.0,
        20261101: 8.0,
    }
    store.record_energy(
        rollups=[
            *_day_rows("u", unit_days),
            *_day_rows(None, {k: 2 * v for k, v in unit_days.items()}),
        ]
    )
    assert store.flush(5)

    march_start = datetime(2026, 3, 1, tzinfo=BERLIN)
    april_start = datetime(2026, 4, 1, tzinfo=BERLIN)
    days = store.energy_series("u", march_start, april_start, "day", BERLIN)
    assert [b.start.date().isoformat() for b in days] == ["2026-03-01", "2026-03-29", "2026-03-31"]
    dst_day = days[1]
    assert dst_day.start.utcoffset() == timedelta(hours=1)
    assert dst_day.end.utcoffset() == timedelta(hours=2)
    assert dst_day.end.astimezone(UTC) - dst_day.start.astimezone(UTC) == timedelta(hours=23)
    assert dst_day.totals == _totals(metered=3.0, cost="0.9")

    months = store.energy_series(
        "u",
        datetime(2026, 2, 1, tzinfo=BERLIN),
        datetime(2026, 12, 1, tzinfo=BERLIN),
        "month",
        BERLIN,
    )
    assert [(b.start.month, b.totals.kwh) for b in months] == [
        (2, 1.0),
        (3, 2.0 + 3.0 + 4.0),
        (4, 5.0),
        (10, 6.0 + 7.0),
        (11, 8.0),
    ]
    march, october = months[1], months[3]
    assert (march.start, march.end) == (march_start, april_start)
    assert march.end.astimezone(UTC) - march.start.astimezone(UTC) == timedelta(hours=31 * 24 - 1)
    assert october.end.astimezone(UTC) - october.start.astimezone(UTC) == timedelta(
        hours=31 * 24 + 1
    )
    assert march.totals.cost == Decimal("0.3") * (2 + 3 + 4)
    assert all(b.has_cost for b in months)

    # The house reads its own rows (unit_id None), not the unit's.
    house_october = store.energy_series(
        None,
        datetime(2026, 10, 1, tzinfo=BERLIN),
        datetime(2026, 11, 1, tzinfo=BERLIN),
        "month",
        BERLIN,
    )
    assert [b.totals.kwh for b in house_october] == [2 * (6.0 + 7.0)]


def test_day_series_takes_the_local_dates_overlapping_the_range(energy_store: OpenStore) -> None:
    store = energy_store()
    store.record_energy(rollups=_day_rows("u", {20260114: 1.0, 20260115: 2.0, 20260116: 3.0}))
    assert store.flush(5)
    # 2026-01-14 23:30 UTC is already 00:30 on the 15th in Berlin; 2026-01-15 23:00 UTC is
    # midnight starting the 16th, so the 16th is outside the half-open range.
    series = store.energy_series(
        "u",
        datetime(2026, 1, 14, 23, 30, tzinfo=UTC),
        datetime(2026, 1, 15, 23, 0, tzinfo=UTC),
        "day",
        BERLIN,
    )
    assert [b.totals.kwh for b in series] == [2.0]
    assert series[0].start == datetime(2026, 1, 15, tzinfo=BERLIN)


# --- the lazy commit rule -------------------------------------------------------------------


def test_energy_rows_do_not_start_the_commit_timer(energy_store: OpenStore) -> None:
    store = energy_store(commit_interval=0.01, energy_commit_interval=3600)
    store.record_energy(samples=[_sample(0, "u", 0.05)])
    time.sleep(0.15)  # fifteen state commit intervals: a state row would have committed by now
    assert store.commits == 0
    assert store.queue_depth == 1

    store.save_state("u", {"mode": "cool"}, T0)  # the next state commit takes the energy along
    assert _wait_until(lambda: store.commits >= 1)
    assert store.commits == 1
    assert store.queue_depth == 0
    assert [
        b.totals.kwh
        for b in store.energy_series("u", T0, T0 + timedelta(minutes=1), "minute", BERLIN)
    ] == [0.05]


def test_energy_rows_commit_on_their_own_interval(energy_store: OpenStore) -> None:
    store = energy_store(commit_interval=3600, energy_commit_interval=0.05)
    for minute in range(5):
        store.record_energy(samples=[_sample(minute, "u", 0.01)])
    assert _wait_until(lambda: store.commits >= 1)
    assert store.commits == 1  # five samples queued within one interval: one commit
    assert len(store.energy_series("u", T0, T0 + timedelta(hours=1), "minute", BERLIN)) == 5


def test_close_commits_queued_energy_rows(energy_store: OpenStore) -> None:
    store = energy_store(commit_interval=3600, energy_commit_interval=3600)
    store.record_energy(
        samples=[_sample(0, "u", 0.05)],
        rollups=[RollupRow("period", 20260101, None, _totals(metered=9.0), end_key=20260201)],
    )
    assert store.close()
    reopened = energy_store()
    assert reopened.energy_period_totals(20260101) == {None: _totals(metered=9.0)}


# --- queue bound and failures ---------------------------------------------------------------


def test_full_queue_drops_oldest_samples_but_never_rollups(energy_store: OpenStore) -> None:
    store = energy_store(commit_interval=3600, energy_commit_interval=3600, max_queued_rows=10)
    store.record_energy(
        rollups=[RollupRow("day", 20260115, "u", _totals(metered=3.0))],
        lifetimes=[LifetimeRow("u", 3.0, Decimal(1), {})],
    )
    for minute in range(30):
        store.record_energy(samples=[_sample(minute, "u", 0.001 * (minute + 1))])
    assert store.dropped_rows == 20  # 30 samples, room for 10
    assert store.queue_depth == 12  # the rollup and the lifetime on top

    assert store.flush(5)
    kept = store.energy_series("u", T0, T0 + timedelta(hours=1), "minute", BERLIN)
    assert [b.start for b in kept] == [T0 + timedelta(minutes=m) for m in range(20, 30)]
    assert store.energy_rollups("day", 20260115) == {"u": _totals(metered=3.0)}
    assert store.energy_lifetimes()["u"].kwh == 3.0


def test_failed_commit_keeps_energy_rows_and_retries(
    energy_store: OpenStore, database_url: str
) -> None:
    store = energy_store(retry_initial=0.01, retry_max=0.05)
    store.record_energy(samples=[_sample(0, "u", 0.01)])
    assert store.flush(5)

    other = _engine(database_url)
    with other.begin() as conn:
        conn.execute(sa.text("ALTER TABLE energy_sample RENAME TO energy_sample_away"))
    try:
        store.record_energy(
            samples=[_sample(1, "u", 0.02)],
            rollups=[RollupRow("day", 20260115, "u", _totals(metered=0.03))],
        )
        assert not store.flush(0.3)
        assert _wait_until(lambda: store.failed_commits >= 3)
        assert store.queue_depth == 2  # held: the sample and the rollup
        # A newer running total joins the held batch and replaces the held one.
        store.record_energy(rollups=[RollupRow("day", 20260115, "u", _totals(metered=0.05))])
    finally:
        with other.begin() as conn:
            conn.execute(sa.text("ALTER TABLE energy_sample_away RENAME TO energy_sample"))
        other.dispose()

    assert store.flush(5)
    minutes = store.energy_series("u", T0, T0 + timedelta(minutes=5), "minute", BERLIN)
    assert [b.totals.kwh for b in minutes] == [0.01, 0.02]
    assert store.energy_rollups("day", 20260115) == {"u": _totals(metered=0.05)}


def test_rows_are_validated_when_recorded(energy_store: OpenStore) -> None:
    store = energy_store()
    with pytest.raises(ValueError, match="naive"):
        store.record_energy(samples=[EnergySampleRow(datetime(2026, 1, 1), "u", 0.1, METERED)])
    with pytest.raises(ValueError, match="end_key"):
        store.record_energy(rollups=[RollupRow("period", 20260101, None, _totals())])
    with pytest.raises(ValueError, match="64"):
        store.record_energy(samples=[_sample(0, "x" * 65, 0.1)])
    assert store.queue_depth == 0


# --- retention ------------------------------------------------------------------------------


def test_writer_prunes_old_samples_and_hours_but_keeps_days(energy_store: OpenStore) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    old_hour, recent_hour = now - timedelta(days=61), now - timedelta(days=59)
    setup = energy_store(sample_retention_days=None, hourly_retention_days=None)
    setup.record_energy(
        samples=[EnergySampleRow(t, "u", 0.01, METERED) for t in (old, recent)],
        rollups=[
            RollupRow("hour", int(old_hour.timestamp()) // 3600 * 3600, "u", _totals(metered=1.0)),
            RollupRow(
                "hour", int(recent_hour.timestamp()) // 3600 * 3600, "u", _totals(metered=2.0)
            ),
            RollupRow("day", 20200101, "u", _totals(metered=3.0)),
            RollupRow("period", 20200101, "u", _totals(metered=4.0), end_key=20200201),
        ],
    )
    assert setup.close()

    # Opening prunes once at start-up; then every prune_interval.
    store = energy_store(sample_retention_days=30, hourly_retention_days=60, prune_interval=0.05)
    span = (now - timedelta(days=400), now + timedelta(days=1))
    assert _wait_until(
        lambda: [b.start for b in store.energy_series("u", *span, "minute", BERLIN)] == [recent]
    )
    assert [b.totals.kwh for b in store.energy_series("u", *span, "hour", BERLIN)] == [2.0]
    assert store.energy_rollups("day", 20200101) == {"u": _totals(metered=3.0)}
    assert store.energy_period_totals(20200101) == {"u": _totals(metered=4.0)}


# --- schema version 1 → 2 -------------------------------------------------------------------


def test_a_version_1_database_upgrades_and_keeps_its_rows(database_url: str) -> None:
    engine = _engine(database_url)
    v1_tables = [schema_version, unit_state, state_log, event_log]  # what version 1 created
    try:
        with engine.begin() as conn:
            metadata.create_all(conn, tables=v1_tables)
            conn.execute(schema_version.insert().values(version=1))
            conn.execute(unit_state.insert().values(unit_id="u", state='{"n":1}', updated_at=T0))
            conn.execute(state_log.insert().values(ts=T0, unit_id="u", state='{"n":1}'))
            conn.execute(event_log.insert().values(ts=T0, type="boot", unit_id=None, data="{}"))
        with engine.connect() as conn:
            assert not sa.inspect(conn).has_table("energy_sample")
    finally:
        engine.dispose()

    with Store.open(database_url, retention_days=None, sample_retention_days=None) as store:
        assert store.load_states() == {"u": {"n": 1}}
        assert store.state_history("u") == [(T0, {"n": 1})]
        assert [e.type for e in store.events()] == ["boot"]
        store.record_energy(samples=[_sample(0, "u", 0.05)])
        assert store.flush(5)
        assert store.energy_units() == ["u"]

    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.select(schema_version.c.version)).scalar_one() == SCHEMA_VERSION
    finally:
        engine.dispose()


# --- kill -9 --------------------------------------------------------------------------------

ENERGY_CHILD = """
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from klima.energy.model import EnergySource
from klima.persistence import EnergySampleRow, EnergyTotals, RollupRow, Store

store = Store.open(sys.argv[1], commit_interval=3600, energy_commit_interval=0.002,
                   retention_days=None, sample_retention_days=None)
start = datetime(2026, 1, 1, tzinfo=UTC)
seq = 0
while True:
    rows = []
    for _ in range(10):
        seq += 1
        rows.append(EnergySampleRow(start + timedelta(minutes=seq), f"unit-{seq % 3}",
                                    seq / 1000, EnergySource.ESTIMATED))
    total = EnergyTotals(estimated_kwh=seq / 1000, cost=Decimal(seq))
    store.record_energy(samples=rows,
                        rollups=[RollupRow("period", 20260101, None, total, end_key=20260201)])
    if store.flush(10):
        print(seq, flush=True)
"""


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_while_recording_energy_loses_nothing_flushed(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "klima.db"
    flushed = _run_and_kill(
        f"sqlite:///{path}", random.Random(seed).uniform(0.05, 0.4), ENERGY_CHILD
    )
    assert flushed, "the child never reported a flush before it was killed"
    last = flushed[-1]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        sample_count = db.execute("SELECT count(*) FROM energy_sample").fetchone()[0]
    assert sample_count >= last  # one sample per sequence number, each its own minute

    with Store.open(f"sqlite:///{path}", retention_days=None, sample_retention_days=None) as store:
        (house,) = store.energy_period_totals(20260101).values()
        minutes = store.energy_series(
            "unit-1",
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=last + 1),
            "minute",
            BERLIN,
        )
    assert house.cost >= Decimal(last)  # the running total is at least the last flushed one
    assert house.estimated_kwh * 1000 == pytest.approx(float(house.cost))
    assert len(minutes) == len([s for s in range(1, last + 1) if s % 3 == 1])
