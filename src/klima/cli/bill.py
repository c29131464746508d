"""``klima bill``: price a usage CSV with a tariff file (URDB JSON or native TOML) or a price CSV.

Without ``--period`` or ``--from``/``--to`` the bill covers the local days the usage spans, as one
billing period. ``--to`` is exclusive; a bare date means local midnight.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from klima.cli.table import align
from klima.energy.tariffs import (
    BillingPeriod,
    Charge,
    Tariff,
    TariffError,
    compute_bill,
    load_tariff,
    parse_month,
    read_prices_csv,
    read_usage_csv,
)
from klima.energy.tariffs.periods import local_midnight
from klima.energy.tariffs.usage import parse_decimal, parse_timestamp
from klima.strict_model import check_zone

if TYPE_CHECKING:
    from klima.energy.tariffs import Bill, UsageInterval


def add_bill_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--tariff", type=Path, help="URDB rate JSON (.json) or native TOML tariff")
    source.add_argument("--prices", type=Path, help="CSV of start,price (per kWh): dynamic tariff")
    parser.add_argument("--usage", type=Path, required=True, help="CSV of start,kwh rows")
    parser.add_argument("--period", help="calendar month YYYY-MM")
    parser.add_argument("--from", dest="from_", metavar="FROM", help="start date or timestamp")
    parser.add_argument("--to", help="end date or timestamp (exclusive)")
    parser.add_argument("--as-of", help="bill so far up to this timestamp")
    parser.add_argument("--tz", default="UTC", help="IANA time zone of the tariff (default UTC)")
    parser.add_argument("--tax-percent", help="tax percent on the whole bill (overrides tariff)")
    parser.add_argument("--rounding", choices=("total", "line"), help="overrides the tariff's")
    parser.add_argument("--standing-charge", help="an extra fixed charge per day")
    parser.add_argument("--currency", help="currency code (overrides the tariff's)")
    parser.add_argument("--json", action="store_true", help="print the bill as JSON")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(check_zone(name))
    except ValueError as exc:
        raise TariffError(str(exc)) from None


def _period(args: argparse.Namespace, usage: list[UsageInterval], tz: ZoneInfo) -> BillingPeriod:
    if args.period is not None:
        if args.from_ is not None or args.to is not None:
            raise TariffError("give --period or --from/--to, not both")
        return parse_month(args.period, tz)
    if (args.from_ is None) != (args.to is None):
        raise TariffError("--from and --to go together")
    if args.from_ is not None:
        return BillingPeriod(parse_timestamp(args.from_, tz), parse_timestamp(args.to, tz), tz)
    first = usage[0].start.astimezone(tz).date()
    last = usage[-1].end.astimezone(tz)
    end_day = last.date()
    if last != local_midnight(end_day, tz):
        end_day += timedelta(days=1)
    return BillingPeriod(local_midnight(first, tz), local_midnight(end_day, tz), tz)


def _tariff(args: argparse.Namespace, tz: ZoneInfo) -> Tariff:
    if args.prices is not None:
        tariff = Tariff(name="dynamic prices", prices=read_prices_csv(args.prices, tz))
    else:
        tariff = load_tariff(args.tariff)
    changes: dict[str, object] = {}
    if args.tax_percent is not None:
        changes["tax_percent"] = parse_decimal(args.tax_percent, "--tax-percent")
    if args.rounding is not None:
        changes["rounding"] = args.rounding
    if args.currency is not None:
        code = args.currency.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise TariffError(f"--currency must be a three-letter code, not {args.currency!r}")
        changes["currency"] = code
    if args.standing_charge is not None:
        amount = parse_decimal(args.standing_charge, "--standing-charge")
        changes["fixed_charges"] = (*tariff.fixed_charges, Charge(amount, "day"))
    return dataclasses.replace(tariff, **changes)  # type: ignore[arg-type]


def _table(bill: Bill) -> str:
    rows = [("line", "quantity", "rate", "amount")]
    for line in bill.lines:
        rate = "" if line.rate is None else f"{line.rate.normalize():f}"
        quantity = f"{line.quantity.quantize(Decimal('0.001')).normalize():f} {line.unit}"
        amount = f"{line.amount.quantize(Decimal('0.0001')).normalize():f}"
        rows.append((f"{line.kind}: {line.label}", quantity, rate, amount))
    rows.append((f"total ({bill.kwh.normalize():f} kWh)", "", "", f"{bill.total} {bill.currency}"))
    return align(rows)


def run_bill(args: argparse.Namespace) -> int:
    try:
        tz = _zone(args.tz)
        tariff = _tariff(args, tz)
        usage = read_usage_csv(args.usage, tz)
        period = _period(args, usage, tz)
        as_of = None if args.as_of is None else parse_timestamp(args.as_of, tz)
        bill = compute_bill(tariff, usage, period, as_of)
    except TariffError as exc:
        print(f"klima bill: {exc}", file=sys.stderr)
        return 1
    if args.json:
        document = bill.to_json()
        document["period"] = {"start": period.start.isoformat(), "end": period.end.isoformat()}
        print(json.dumps(document, indent=2))
    else:
        print(_table(bill))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for tests and scripts; ``klima bill`` wires the same two functions."""
    parser = argparse.ArgumentParser(prog="klima bill", description=__doc__)
    add_bill_arguments(parser)
    return run_bill(parser.parse_args(argv))
