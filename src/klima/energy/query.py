"""``<base>/bridge/request/energy/query``: recorded energy history over MQTT.

The request is ``{"unit": "bedroom", "from": "2026-11-01", "to": "2026-12-01", "bucket": "day"}``
(``unit`` omitted or null = the house; dates are local midnights in the energy time zone; ``to``
defaults to now, ``from`` to today for minute/hour buckets, the 1st of the month for days and
1 January for months). The answer lists one row per bucket with data, like
``klima energy --json``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, get_args

from klima.energy.tariffs.model import TariffError
from klima.energy.tariffs.usage import parse_timestamp
from klima.errors import CommandError
from klima.persistence.energy import EnergyBucketKind

if TYPE_CHECKING:
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo

    from klima.persistence import EnergyBucket, Store

BUCKETS: tuple[str, ...] = get_args(EnergyBucketKind)
MAX_ROWS = 10_000  # one answer stays a reasonable MQTT message (about 1.5 MB at most)
_ROWS_PER_DAY = {"minute": 1440, "hour": 24, "day": 1, "month": 1 / 28}


@dataclass(frozen=True, slots=True)
class EnergyQuery:
    unit_id: str | None
    start: datetime
    end: datetime
    bucket: EnergyBucketKind


def parse_moment(value: Any, field: str, zone: ZoneInfo) -> datetime:
    """An ISO-8601 date (local midnight) or date-time (local when it has no offset)."""
    if not isinstance(value, str):
        raise CommandError(field, f"{field} must be an ISO-8601 date or date-time string")
    try:
        return parse_timestamp(value, zone)  # a date is its local midnight
    except TariffError:
        raise CommandError(
            field, f"{field}: not an ISO-8601 date or date-time: {value!r}"
        ) from None


def parse_query(
    data: dict[str, Any], zone: ZoneInfo, now: datetime, units: Iterable[str]
) -> EnergyQuery:
    unknown = sorted(set(data) - {"unit", "bucket", "from", "to"})
    if unknown:
        fields = ["unit", "from", "to", "bucket"]
        raise CommandError(unknown[0], f"unknown field {unknown[0]!r}", fields)
    known = sorted(units)
    unit = data.get("unit")
    if unit is not None and unit not in known:
        raise CommandError("unit", f"no energy is recorded for unit {unit!r}", known)
    bucket = data.get("bucket", "day")
    if bucket not in BUCKETS:
        raise CommandError("bucket", f"unknown bucket {bucket!r}", list(BUCKETS))
    today = now.astimezone(zone).date()
    # Without "from": today for minutes and hours, this month for days, this year for months.
    first = {
        "minute": today,
        "hour": today,
        "day": today.replace(day=1),
        "month": today.replace(month=1, day=1),
    }[bucket]
    default_start = datetime(first.year, first.month, first.day, tzinfo=zone)
    start = parse_moment(data["from"], "from", zone) if "from" in data else default_start
    end = parse_moment(data["to"], "to", zone) if "to" in data else now
    if end <= start:
        raise CommandError("to", "to must be after from")
    days = (end - start) / timedelta(days=1)
    if days * _ROWS_PER_DAY[bucket] > MAX_ROWS:
        raise CommandError(
            "bucket", f"{bucket} rows over {days:.0f} days exceed {MAX_ROWS}; ask for less"
        )
    return EnergyQuery(unit, start, end, bucket)


def bucket_json(bucket: EnergyBucket) -> dict[str, Any]:
    totals = bucket.totals
    return {
        "start": bucket.start.isoformat(),
        "end": bucket.end.isoformat(),
        "kwh": round(totals.kwh, 6),
        "metered_kwh": round(totals.metered_kwh, 6),
        "reported_kwh": round(totals.reported_kwh, 6),
        "estimated_kwh": round(totals.estimated_kwh, 6),
        "cost": str(totals.cost) if bucket.has_cost else None,
    }


async def answer_query(
    store: Store, query: EnergyQuery, zone: ZoneInfo, currency: str | None
) -> dict[str, Any]:
    rows = await asyncio.to_thread(
        store.energy_series, query.unit_id, query.start, query.end, query.bucket, zone
    )
    return {
        "unit": query.unit_id,
        "bucket": query.bucket,
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "timezone": str(zone),
        "currency": currency,
        "rows": [bucket_json(row) for row in rows],
    }
