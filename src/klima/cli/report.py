"""``klima report``: a chart of one month, daily kWh and daily cost per unit, as PNG or SVG.

Needs matplotlib, an optional extra (``pip install 'klima[report]'``); it is imported only here,
so the other commands start without it. Drawing uses the Agg canvas: no display is needed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from klima.cli.history import (
    USAGE_ERROR,
    HistoryError,
    HistorySettings,
    add_history_arguments,
    history_settings,
    open_store,
    zone_name,
)
from klima.energy.tariffs import TariffError, parse_month
from klima.errors import KlimaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from klima.energy.tariffs import BillingPeriod

FORMATS = {".png": "png", ".svg": "svg"}
INSTALL_HINT = "matplotlib is not installed: pip install 'klima[report]'"


@dataclass
class MonthData:
    """Per unit, one value per day of the month (index 0 = the 1st); days without rows are 0."""

    days: int
    kwh: dict[str, list[float]] = field(default_factory=dict)
    cost: dict[str, list[Decimal]] = field(default_factory=dict)

    @property
    def total_kwh(self) -> float:
        return sum(sum(values) for values in self.kwh.values())

    @property
    def total_cost(self) -> Decimal:
        return sum((sum(values, Decimal(0)) for values in self.cost.values()), Decimal(0))


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", required=True, metavar="YYYY-MM", help="calendar month")
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE", help="FILE.png or FILE.svg"
    )
    add_history_arguments(parser)


def run_report(args: argparse.Namespace) -> int:
    out: Path = args.out
    try:
        image_format = FORMATS.get(out.suffix.lower())
        if image_format is None:
            raise HistoryError(f"--out must end in .png or .svg, not {out.name!r}")
        try:
            from matplotlib.figure import Figure  # noqa: PLC0415 - an optional extra
        except ImportError:
            raise HistoryError(INSTALL_HINT) from None
        settings = history_settings(args)
        period = _month(args.period, settings)
        data = _read_month(settings, period)
        figure = _draw(Figure(figsize=(10, 7), layout="constrained"), data, period, settings)
        _save(figure, out, image_format)
    except KlimaError as exc:
        print(f"klima report: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if not data.kwh:
        print(f"klima report: no energy recorded in {args.period}", file=sys.stderr)
    print(f"wrote {out} ({len(data.kwh)} unit(s), {data.total_kwh:.3f} kWh)")
    return 0


def _month(text: str, settings: HistorySettings) -> BillingPeriod:
    try:
        return parse_month(text, settings.tz)
    except TariffError as exc:
        raise HistoryError(f"--period: {exc}") from None


def _read_month(settings: HistorySettings, period: BillingPeriod) -> MonthData:
    data = MonthData(days=period.days)
    with open_store(settings.database_url) as store:
        for unit_id in sorted(store.energy_units()):
            series = store.energy_series(unit_id, period.start, period.end, "day", settings.tz)
            if not series:
                continue
            kwh = data.kwh.setdefault(unit_id, [0.0] * data.days)
            cost = data.cost.setdefault(unit_id, [Decimal(0)] * data.days)
            for bucket in series:
                index = bucket.start.astimezone(settings.tz).day - 1
                kwh[index] = bucket.totals.kwh
                cost[index] = bucket.totals.cost
    return data


def _draw(
    figure: Figure, data: MonthData, period: BillingPeriod, settings: HistorySettings
) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415

    FigureCanvasAgg(figure)  # attaches itself to the figure: Agg, never a display
    energy_axes, cost_axes = figure.subplots(2, 1, sharex=True)
    days = list(range(1, data.days + 1))
    _stacked_bars(energy_axes, days, data.kwh)
    _stacked_bars(cost_axes, days, {u: [float(c) for c in v] for u, v in data.cost.items()})
    energy_axes.set_ylabel("kWh per day")
    cost_axes.set_ylabel(f"{settings.currency or 'cost'} per day")
    cost_axes.set_xlabel(f"day of the month ({zone_name(settings.tz)})")
    cost_axes.set_xticks(days[::2] if data.days > 16 else days)
    cost_axes.axhline(0, color="black", linewidth=0.6)
    cost_axes.set_xlim(0.5, data.days + 0.5)
    if data.kwh:
        # Outside the axes, so it never hides a bar; one entry per unit, colours shared.
        figure.legend(*energy_axes.get_legend_handles_labels(), loc="outside right upper")
    else:
        energy_axes.text(0.5, 0.5, "no energy recorded", transform=energy_axes.transAxes)
    month = period.start.astimezone(settings.tz).strftime("%B %Y")
    cost = f"{data.total_cost:.2f}"
    cost_text = f"{cost} {settings.currency}" if settings.currency else f"cost {cost}"
    figure.suptitle(f"{month}: {data.total_kwh:.1f} kWh, {cost_text}")
    return figure


def _stacked_bars(axes: Axes, days: list[int], series: dict[str, list[float]]) -> None:
    # Separate stacks above and below zero: dynamic prices can make a day's cost negative.
    above = [0.0] * len(days)
    below = [0.0] * len(days)
    for color, (unit_id, values) in enumerate(series.items()):
        bottom = [b if v < 0 else a for v, a, b in zip(values, above, below, strict=True)]
        axes.bar(days, values, bottom=bottom, label=unit_id, color=f"C{color}", width=0.8)
        above = [a + max(v, 0.0) for a, v in zip(above, values, strict=True)]
        below = [b + min(v, 0.0) for b, v in zip(below, values, strict=True)]


def _save(figure: Figure, out: Path, image_format: str) -> None:
    from matplotlib import rc_context  # noqa: PLC0415

    # SVG text stays text (searchable, smaller); no date, so the same data gives the same file.
    metadata = {"Date": None} if image_format == "svg" else {}
    try:
        with rc_context({"svg.fonttype": "none"}):
            figure.savefig(out, format=image_format, metadata=metadata, dpi=100)
    except OSError as exc:
        raise HistoryError(f"cannot write {out}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for tests and scripts; ``klima report`` wires the same two functions."""
    parser = argparse.ArgumentParser(prog="klima report", description=__doc__)
    add_report_arguments(parser)
    return run_report(parser.parse_args(argv))
