"""Energy history in SQLite: load time, size per sample, read latency and bytes written per day.

    .venv/bin/python bench/energy_history.py [--units 10] [--years 5] [--quick] [--json out.json]

Builds a synthetic history of ``--units`` units x one sample per minute x ``--years`` years
(26.3 M samples at the defaults) with the matching hourly, daily and monthly-period rollups and
lifetime rows, in the recorder's own tables, in an SQLite file under /tmp. The schema is created
by ``Store.open`` (the same code the daemon runs); the rows are then bulk-loaded with the
standard library's ``sqlite3`` (``executemany`` of plain INSERTs, one transaction per local day,
in time order, on the connection settings the daemon uses: WAL, ``synchronous=NORMAL``), which
is the fastest honest way to put the same rows into the same tables. The reads are then timed
through ``Store`` (SQLAlchemy, the daemon's code path), and a simulated day of normal recording
runs through ``Store.record_energy`` on top of the loaded history.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _harness import emit, machine_info, print_table, summarize_ms
from klima.energy.model import EnergySource
from klima.persistence import EnergySampleRow, EnergyTotals, LifetimeRow, RollupRow, Store

TZ = ZoneInfo("Europe/Berlin")
PRICE_MICROS_PER_MWH = Decimal("0.3")  # a flat 0.30 per kWh = 0.3 micro-units per mWh
HOUSE = 0
# unit 1 has a meter, unit 2 reports its own energy, the rest are estimated (source codes)
SOURCE_OF_UNIT = {1: 0, 2: 1}


def day_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def local_midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp())


def unit_id(key: int) -> str:
    return f"unit-{key:02d}"


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def cost_micros(mwh: int) -> int:
    return int(mwh * PRICE_MICROS_PER_MWH)


def rollup_rows(key: int, per_unit: list[int]) -> list[tuple[int, ...]]:
    """(key, unit_key, metered, reported, estimated, cost) rows for every unit and the house,
    from each unit's mWh (index = unit key; each unit has one source)."""
    house = [0, 0, 0]
    rows = []
    for unit_key in range(1, len(per_unit)):
        split = [0, 0, 0]
        split[SOURCE_OF_UNIT.get(unit_key, 2)] = per_unit[unit_key]
        house = [h + v for h, v in zip(house, split, strict=True)]
        rows.append((key, unit_key, *split, cost_micros(per_unit[unit_key])))
    rows.append((key, HOUSE, *house, cost_micros(sum(house))))
    return rows


def minute_mwh(rng: random.Random, hour: int, winter: bool) -> int:
    """One minute of a mini-split: running (5 to 40 Wh/min) more often by day and in winter,
    otherwise standby (2 W = 33 mWh per minute)."""
    busy = 0.6 if 7 <= hour < 23 else 0.25
    if winter:
        busy += 0.2
    return rng.randrange(5_000, 40_000) if rng.random() < busy else 33


def load(path: Path, units: int, days: int, first_day: date) -> dict[str, Any]:
    """Bulk-load ``days`` local days of history; returns counts and timings."""
    Store.open(f"sqlite:///{path}", sample_retention_days=None).close()  # the schema, by Klima
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.executemany(
        "INSERT INTO energy_unit (unit_key, unit_id) VALUES (?, ?)",
        [(key, unit_id(key)) for key in range(1, units + 1)],
    )
    rng = random.Random(1)
    sources = [SOURCE_OF_UNIT.get(key, 2) for key in range(units + 1)]
    period_tot = [0] * (units + 1)
    lifetime = [0] * (units + 1)
    samples = 0
    started = time.perf_counter()
    period_start = first_day.replace(day=1)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day >= next_month(period_start):
            write_periods(db, rollup_rows(day_key(period_start), period_tot), day_key(day))
            period_start, period_tot = day, [0] * (units + 1)
        start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
        winter = day.month in (11, 12, 1, 2, 3)
        rows: list[tuple[int, int, int, int]] = []
        hour_rows: list[tuple[int, ...]] = []
        day_tot = [0] * (units + 1)
        for hour_start in range(start, end, 3600):
            hour_tot = [0] * (units + 1)
            hour_of_day = (hour_start - start) // 3600
            for ts in range(hour_start, hour_start + 3600, 60):
                for key in range(1, units + 1):
                    mwh = minute_mwh(rng, hour_of_day, winter)
                    rows.append((ts, key, mwh, sources[key]))
                    hour_tot[key] += mwh
            hour_rows += rollup_rows(hour_start, hour_tot)
            day_tot = [d + h for d, h in zip(day_tot, hour_tot, strict=True)]
        period_tot = [p + d for p, d in zip(period_tot, day_tot, strict=True)]
        lifetime = [t + d for t, d in zip(lifetime, day_tot, strict=True)]
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO energy_sample (ts, unit_key, mwh, source) VALUES (?, ?, ?, ?)", rows
        )
        db.executemany(
            "INSERT INTO energy_hour (ts, unit_key, metered_mwh, reported_mwh, estimated_mwh,"
            " cost_micros) VALUES (?, ?, ?, ?, ?, ?)",
            hour_rows,
        )
        db.executemany(
            "INSERT INTO energy_day (day, unit_key, metered_mwh, reported_mwh, estimated_mwh,"
            " cost_micros) VALUES (?, ?, ?, ?, ?, ?)",
            rollup_rows(day_key(day), day_tot),
        )
        db.execute("COMMIT")
        samples += len(rows)
        if offset % 100 == 0:
            elapsed = time.perf_counter() - started
            print(f"  day {offset}/{days}: {samples:,} samples, {elapsed:.0f} s", flush=True)
    last_day = first_day + timedelta(days=days - 1)
    write_periods(db, rollup_rows(day_key(period_start), period_tot), day_key(next_month(last_day)))
    lifetime[HOUSE] = sum(lifetime)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO energy_lifetime (unit_key, mwh, cost_micros, state) VALUES (?, ?, ?, '{}')",
        [(key, mwh, cost_micros(mwh)) for key, mwh in enumerate(lifetime)],
    )
    db.execute("COMMIT")
    load_s = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sizes = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
    counts = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("energy_sample", "energy_hour", "energy_day", "energy_period")
    }
    db.close()
    return {"samples": samples, "load_s": load_s, "table_bytes": sizes, "rows": counts}


def write_periods(db: sqlite3.Connection, rows: list[tuple[int, ...]], end: int) -> None:
    db.execute("BEGIN")
    db.executemany(
        'INSERT INTO energy_period (start, unit_key, "end", metered_mwh, reported_mwh,'
        " estimated_mwh, cost_micros) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(k, u, end, m, r, e, c) for k, u, m, r, e, c in rows],
    )
    db.execute("COMMIT")


def timed(call: Any, repeats: int) -> dict[str, Any]:
    first_started = time.perf_counter()
    result = call()
    first = time.perf_counter() - first_started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    rows = len(result) if isinstance(result, list | dict) else None
    return {"first_ms": round(first * 1000, 2), "rows": rows, **summarize_ms(times)}


def reads(path: Path, last_day: date, repeats: int) -> dict[str, Any]:
    period_key = day_key(last_day.replace(day=1))
    year_end = datetime(last_day.year, last_day.month, last_day.day, tzinfo=TZ)
    year_start = year_end - timedelta(days=365)
    today = day_key(last_day)
    with Store.open(f"sqlite:///{path}", sample_retention_days=None) as store:

        def bill_so_far() -> dict[str | None, EnergyTotals]:
            # What the energy service reads to publish "bill so far": the period's running
            # totals, today's, and the last 7 days' costs for the projection.
            totals = store.energy_period_totals(period_key)
            store.energy_rollups("day", today)
            store.energy_series(None, year_end - timedelta(days=7), year_end, "day", TZ)
            return totals

        return {
            "period_totals": timed(lambda: store.energy_period_totals(period_key), repeats),
            "bill_so_far_service": timed(bill_so_far, repeats),
            "year_of_days_unit": timed(
                lambda: store.energy_series(unit_id(3), year_start, year_end, "day", TZ), repeats
            ),
            "year_of_days_house": timed(
                lambda: store.energy_series(None, year_start, year_end, "day", TZ), repeats
            ),
            "year_of_months_house": timed(
                lambda: store.energy_series(None, year_start, year_end, "month", TZ), repeats
            ),
            "day_of_minutes_unit": timed(
                lambda: store.energy_series(
                    unit_id(3), year_end - timedelta(days=1), year_end, "minute", TZ
                ),
                max(repeats // 10, 10),
            ),
        }


def io_counters() -> dict[str, int]:
    """This process's I/O so far: wchar = bytes passed to write()/pwrite() (what SQLite wrote
    to its files), write_bytes = bytes the kernel attributes to it for the block device."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return {"wchar": int(fields["wchar"]), "write_bytes": int(fields["write_bytes"])}


def record_day(path: Path, units: int, day: date, every_minutes: int) -> dict[str, Any]:
    """One simulated day of normal recording through Store.record_energy: each minute, one
    sample per unit plus the running hour/day/period totals and lifetimes of every unit and
    the house; committed every ``every_minutes`` minutes (flush), as the energy commit
    interval would."""
    rng = random.Random(2)
    start = datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(UTC)
    period_key = day_key(day.replace(day=1))
    period_end = day_key(next_month(day))
    empty = EnergyTotals()
    totals: dict[str | None, dict[str, EnergyTotals]] = defaultdict(
        lambda: {"hour": EnergyTotals(), "day": EnergyTotals()}
    )
    with Store.open(
        f"sqlite:///{path}",
        sample_retention_days=None,
        retention_days=None,
        commit_interval=3600,
        energy_commit_interval=3600,
    ) as store:
        store.flush()
        # The WAL left by opening the store: start from a checkpointed file.
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        commits_before = store.commits
        before = io_counters()
        started = time.perf_counter()
        for minute in range(1440):
            ts = start + timedelta(minutes=minute)
            hour_key = int(ts.timestamp()) // 3600 * 3600
            samples, rollups, lifetimes = [], [], []
            if minute % 60 == 0:
                for buckets in totals.values():
                    buckets["hour"] = empty
            for key in range(1, units + 1):
                kwh = minute_mwh(rng, minute // 60, winter=True) / 1_000_000
                samples.append(EnergySampleRow(ts, unit_id(key), kwh, EnergySource.ESTIMATED))
                cost = Decimal(str(kwh)) * Decimal("0.3")
                for who in (unit_id(key), None):
                    for bucket in ("hour", "day"):
                        totals[who][bucket] = totals[who][bucket].add(
                            kwh, EnergySource.ESTIMATED, cost
                        )
            for who, buckets in totals.items():
                rollups.append(RollupRow("hour", hour_key, who, buckets["hour"]))
                rollups.append(RollupRow("day", day_key(day), who, buckets["day"]))
                # A period total is the earlier days' total plus today's; only today's part
                # changes, which is what matters for the bytes written.
                rollups.append(
                    RollupRow("period", period_key, who, buckets["day"], end_key=period_end)
                )
                lifetimes.append(
                    LifetimeRow(who, buckets["day"].kwh, buckets["day"].cost, {"raw": minute})
                )
            store.record_energy(samples, rollups, lifetimes)
            if (minute + 1) % every_minutes == 0:
                store.flush()
        store.flush()
        commits = store.commits - commits_before
        elapsed = time.perf_counter() - started
    # Pages still in the WAL would be copied into the database at the next checkpoint: do it
    # now so that the day's figure includes them.
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after = io_counters()
    return {
        "commit_every_min": every_minutes,
        "commits": commits,
        "wchar_bytes": after["wchar"] - before["wchar"],
        "block_write_bytes": after["write_bytes"] - before["write_bytes"],
        "cpu_wall_s": round(elapsed, 2),
    }


def main() -> None:
    args = parse_args()
    path: Path = args.db
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    days = round(args.years * 365.25)
    last_day = date(2026, 10, 31)
    first_day = last_day - timedelta(days=days - 1)
    print(f"loading {args.units} units x {days} days into {path}")
    loaded = load(path, args.units, days, first_day)
    file_bytes = path.stat().st_size
    print(f"loaded {loaded['samples']:,} samples in {loaded['load_s']:.0f} s")
    query = reads(path, last_day, args.repeats)
    recording = [
        record_day(path, args.units, last_day + timedelta(days=1 + n), every)
        for n, every in enumerate(args.commit_every)
    ]
    result = {
        "benchmark": "energy_history",
        "machine": machine_info(),
        "units": args.units,
        "days": days,
        "samples": loaded["samples"],
        "load_s": round(loaded["load_s"], 1),
        "load_samples_per_s": round(loaded["samples"] / loaded["load_s"]),
        "rows": loaded["rows"],
        "file_bytes": file_bytes,
        "bytes_per_sample_file": round(file_bytes / loaded["samples"], 2),
        "bytes_per_sample_table": round(
            loaded["table_bytes"]["energy_sample"] / loaded["samples"], 2
        ),
        "table_bytes": loaded["table_bytes"],
        "reads_ms": query,
        "recording_day": recording,
    }
    report(result)
    emit(result, args.json)
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def report(result: dict[str, Any]) -> None:
    mib = 1024 * 1024
    print(
        f"\n{result['samples']:,} samples ({result['units']} units x {result['days']} days) "
        f"loaded in {result['load_s']} s ({result['load_samples_per_s']:,}/s); file "
        f"{result['file_bytes'] / mib:.1f} MiB = {result['bytes_per_sample_file']} B/sample "
        f"(energy_sample alone {result['bytes_per_sample_table']} B/sample)"
    )
    rows = [
        [name, r["rows"], r["first_ms"], r["p50"], r["p99"], r["max"]]
        for name, r in result["reads_ms"].items()
    ]
    print_table("reads through Store (ms)", ["query", "rows", "first", "p50", "p99", "max"], rows)
    rows = [
        [
            f"commit every {r['commit_every_min']} min",
            r["commits"],
            round(r["wchar_bytes"] / mib, 2),
            round(r["block_write_bytes"] / mib, 2),
        ]
        for r in result["recording_day"]
    ]
    print_table(
        "one day of recording (MiB written)", ["", "commits", "write() MiB", "block MiB"], rows
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--years", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=500, help="timed repeats per query")
    parser.add_argument(
        "--commit-every",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 5, 15],
        help="recording-day commit cadences in minutes (one simulated day each)",
    )
    parser.add_argument(
        "--db", type=Path, default=Path(f"/tmp/klima-energy-bench-{os.getpid()}.db")
    )
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    parser.add_argument("--quick", action="store_true", help="--years 0.1 --repeats 50")
    parser.add_argument("--json", type=Path, help="also write the JSON result here")
    args = parser.parse_args()
    if args.quick:
        args.years, args.repeats = min(args.years, 0.1), min(args.repeats, 50)
    return args


if __name__ == "__main__":
    main()
