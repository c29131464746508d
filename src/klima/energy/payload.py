"""The retained energy payloads: ``<base>/<unit>/energy`` and ``<base>/bridge/energy``.

Energy is rounded to Wh and money to the currency's minor unit (what a bill shows); prices
keep five decimals because a few tenths of a cent per kWh matter over a month.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from klima.energy.tariffs.compute import money_quantum

if TYPE_CHECKING:
    from datetime import datetime

    from klima.energy.ledger import Ledger
    from klima.energy.pricing import RealtimePricer

_PRICE_QUANTUM = Decimal("0.00001")


def money(amount: Decimal, currency: str) -> float:
    return float(amount.quantize(money_quantum(currency), ROUND_HALF_UP))


def energy_payload(
    *,
    ledger: Ledger,
    owner: str | None,
    pricer: RealtimePricer | None,
    now: datetime,
    power_w: float | None,
    source: str | None,
    live_price: Decimal | None,
    units: list[str] | None = None,
    price_known: bool = True,
) -> dict[str, Any]:
    """Power, energy and (with a tariff) cost of one unit, or of the house for ``None``."""
    today, period, lifetime = ledger.totals(owner)
    keys = ledger.keys or ledger.keys_at(now)
    billing = keys.period
    out: dict[str, Any] = {
        "power_w": None if power_w is None else round(power_w, 1),
        "source": source,
        "energy_today_kwh": round(today.kwh, 3),
        "energy_period_kwh": round(period.kwh, 3),
        "energy_lifetime_kwh": round(lifetime.kwh, 3),
        "period_start": billing.start.isoformat(),
        "period_end": billing.end.isoformat(),
        "ts": now.isoformat(timespec="seconds"),
    }
    if pricer is not None:
        currency = pricer.currency
        house_kwh = Decimal(str(round(ledger.period.get(None, period).kwh, 6)))
        price = pricer.price_now(now, house_kwh, live_price=live_price)
        projected = pricer.project(billing, now, period.cost, list(ledger.recent.get(owner, ())))
        out.update(
            currency=currency,
            cost_today=money(today.cost, currency),
            cost_period=money(period.cost, currency),
            cost_lifetime=money(lifetime.cost, currency),
            projected_cost_period=money(projected, currency),
            # Only a live price topic and no price yet: nothing is known about the price.
            price=None
            if price.rate is None or not price_known
            else float(price.rate.quantize(_PRICE_QUANTUM)),
            tariff_period=price.tariff_period if price_known else None,
            tier=price.tier if price_known else None,
        )
        if owner is None:
            fixed = pricer.fixed_so_far(billing, now)
            fixed_full = pricer.fixed_so_far(billing, billing.end)
            out.update(
                fixed_period=money(fixed, currency),
                bill_period=money(period.cost + fixed, currency),
                projected_bill_period=money(projected + fixed_full, currency),
            )
    if units is not None:
        out["units"] = units
    return out
