"""Billing periods in local time: calendar months, meter-read cycles and explicit ranges.

Days are local calendar days, so a period holding a DST change still counts whole days while its
length in hours is 23 or 25 hours off a multiple of 24.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from klima.energy.tariffs.model import TariffError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


@dataclass(frozen=True)
class BillingPeriod:
    """``[start, end)`` local midnights in ``tz``: one period, so monthly charges apply once."""

    start: datetime
    end: datetime
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise TariffError("a billing period must end after it starts")

    @property
    def days(self) -> int:
        return (self.end.astimezone(self.tz).date() - self.start.astimezone(self.tz).date()).days

    def elapsed_days(self, as_of: datetime) -> Decimal:
        """Local days from the start to ``as_of``, the current day pro-rated by its real length."""
        if as_of.astimezone(UTC) <= self.start.astimezone(UTC):
            return Decimal(0)
        if as_of.astimezone(UTC) >= self.end.astimezone(UTC):
            return Decimal(self.days)
        local = as_of.astimezone(self.tz)
        day_start = local_midnight(local.date(), self.tz)
        day_end = local_midnight(local.date() + timedelta(days=1), self.tz)
        whole = (local.date() - self.start.astimezone(self.tz).date()).days
        # Subtract in UTC: aware datetimes sharing a tzinfo subtract wall clocks, not real time.
        done = Decimal(int((as_of.astimezone(UTC) - day_start.astimezone(UTC)).total_seconds()))
        length = Decimal(int((day_end.astimezone(UTC) - day_start.astimezone(UTC)).total_seconds()))
        return whole + done / length


def calendar_month(year: int, month: int, tz: ZoneInfo) -> BillingPeriod:
    if not 1 <= month <= 12:
        raise TariffError(f"no month {month}")
    following = date(year + month // 12, month % 12 + 1, 1)
    return BillingPeriod(
        local_midnight(date(year, month, 1), tz), local_midnight(following, tz), tz
    )


def parse_month(text: str, tz: ZoneInfo) -> BillingPeriod:
    """``YYYY-MM``."""
    try:
        year, month = (int(part) for part in text.split("-"))
    except ValueError:
        raise TariffError(f"a period is YYYY-MM, not {text!r}") from None
    return calendar_month(year, month, tz)


def meter_read_period(day: date, read_day: int, tz: ZoneInfo) -> BillingPeriod:
    """The cycle holding ``day`` that starts on day ``read_day`` (1..28) of a month."""
    if not 1 <= read_day <= 28:
        raise TariffError("a meter-read day must be 1..28 so that every month has it")
    first = date(day.year, day.month, read_day)
    if day < first:
        first = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, read_day)
    following = date(first.year + first.month // 12, first.month % 12 + 1, read_day)
    return BillingPeriod(local_midnight(first, tz), local_midnight(following, tz), tz)
