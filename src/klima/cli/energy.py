"""``klima energy``: the recorded energy and cost of one unit or the house, per hour, day or month.

Reads the rollups the daemon records (see :meth:`klima.persistence.Store.energy_series`). The
range is ``[--from, --to)``; a bare date means local midnight. Without ``--to`` it ends with the
current month, without ``--from`` it starts at the beginning of the month ``--to`` ends in.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from klima.cli.history import (
    USAGE_ERROR,
    HistoryError,
    add_history_arguments,
    check_unit,
    history_settings,
    month_start,
    next_month_start,
    open_store,
    parse_time,
    zone_name,
)
from klima.cli.table import align
from klima.errors import KlimaError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from klima.persistence import EnergyBucket, EnergyTotals

BUCKETS = ("hour", "day", "month")
COLUMNS = ("start", "end", "kwh", "metered_kwh", "reported_kwh", "estimated_kwh", "cost")


def add_energy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unit", help="unit id (default: the house, every unit together)")
    parser.add_argument("--from", dest="from_", metavar="FROM", help="start date or date and time")
    parser.add_argument("--to", help="end date or date and time (exclusive)")
    parser.add_argument("--bucket", choices=BUCKETS, default="day", help="default day")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="a JSON list of buckets")
    output.add_argument("--csv", action="store_true", help="CSV with a header row")
    add_history_arguments(parser)


def run_energy(args: argparse.Namespace) -> int:
    try:
        settings = history_settings(args)
        start, end = _range(args.from_, args.to, settings.tz)
        with open_store(settings.database_url) as store:
            check_unit(store, args.unit)
            buckets = store.energy_series(args.unit, start, end, args.bucket, settings.tz)
    except KlimaError as exc:
        print(f"klima energy: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if args.json:
        print(json.dumps(_json_rows(buckets, settings.tz), indent=2))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(_json_rows(buckets, settings.tz))
    else:
        what = "the house" if args.unit is None else f"unit {args.unit}"
        print(
            f"energy of {what} from {_moment(start)} to {_moment(end)} ({zone_name(settings.tz)})"
        )
        print(_table(buckets, args.bucket, settings.tz, settings.currency))
    return 0


def _range(
    first: str | None, last: str | None, tz: ZoneInfo, now: datetime | None = None
) -> tuple[datetime, datetime]:
    if last is not None:
        end = parse_time(last, tz, "--to")
    else:
        today = (now or datetime.now(UTC)).astimezone(tz).date()
        end = next_month_start(today, tz)
    if first is not None:
        start = parse_time(first, tz, "--from")
    else:
        # The month holding the last instant of the range, so `--to 2026-11-01` shows October.
        start = month_start((end - timedelta(microseconds=1)).astimezone(tz).date(), tz)
    if start >= end:
        raise HistoryError(f"--from ({_moment(start)}) must be before --to ({_moment(end)})")
    return start, end


def _moment(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="minutes")


def _json_rows(buckets: list[EnergyBucket], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The rows of the MQTT ``energy/query`` answer, with times in ``tz`` (hours come in UTC)."""
    from klima.energy.query import bucket_json  # noqa: PLC0415 - imports the storage layer

    return [
        bucket_json(
            replace(bucket, start=bucket.start.astimezone(tz), end=bucket.end.astimezone(tz))
        )
        for bucket in buckets
    ]


def _label(moment: datetime, bucket: str, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    if bucket == "month":
        return local.strftime("%Y-%m")
    if bucket == "day":
        return local.date().isoformat()
    # The offset tells apart the two 02:00 hours of a fall-back night.
    return local.isoformat(sep=" ", timespec="minutes")


def _table(buckets: list[EnergyBucket], bucket: str, tz: ZoneInfo, currency: str | None) -> str:
    # Hourly costs are cents or less: two more places keep them from rounding to zero.
    places = Decimal("0.0001") if bucket == "hour" else Decimal("0.01")
    header = (bucket, "kWh", "metered kWh", "reported kWh", "estimated kWh")
    rows: list[tuple[str, ...]] = [(*header, f"cost {currency}" if currency else "cost")]
    total: EnergyTotals | None = None
    priced = True
    for item in buckets:
        total = item.totals if total is None else total + item.totals
        priced = priced and item.has_cost
        label = _label(item.start, bucket, tz)
        rows.append(_cells(label, item.totals, places if item.has_cost else None))
    if total is not None:
        rows.append(_cells("total", total, places if priced else None))
    else:
        rows.append(("total", *("0.000",) * 4, "-"))
    return align(rows)


def _cells(label: str, totals: EnergyTotals, places: Decimal | None) -> tuple[str, ...]:
    cost = "-" if places is None else f"{totals.cost.quantize(places):f}"
    kwh = (totals.kwh, totals.metered_kwh, totals.reported_kwh, totals.estimated_kwh)
    return (label, *(f"{value:.3f}" for value in kwh), cost)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for tests and scripts; ``klima energy`` wires the same two functions."""
    parser = argparse.ArgumentParser(prog="klima energy", description=__doc__)
    add_energy_arguments(parser)
    return run_energy(parser.parse_args(argv))
