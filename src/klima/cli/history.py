"""What ``klima energy`` and ``klima report`` share: the config, the database and the time zone.

Both commands only read. The database is the one ``--database`` names, else the config's; the
time zone is ``--tz``, else the config's ``[energy] timezone``, else this machine's (see
:func:`klima.energy.setup.local_zone`). Every problem is a :class:`HistoryError`: one line,
exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from klima.config import KlimaConfig, load_config
from klima.energy.setup import energy_zone, load_pricing_tariff
from klima.energy.tariffs import TariffError
from klima.energy.tariffs.periods import local_midnight
from klima.energy.tariffs.usage import parse_timestamp
from klima.errors import ConfigError, KlimaError
from klima.strict_model import check_zone

if TYPE_CHECKING:
    import argparse

    from klima.persistence import Store

DEFAULT_CONFIG = Path("/etc/klima/klima.toml")
USAGE_ERROR = 2


class HistoryError(KlimaError):
    """A bad argument, config or database for a history command."""


@dataclass(frozen=True, slots=True)
class HistorySettings:
    database_url: str
    tz: ZoneInfo
    currency: str | None  # the tariff's, when the config prices energy


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help=f"config file (default {DEFAULT_CONFIG} if present)"
    )
    parser.add_argument("--database", metavar="URL", help="database URL (default: the config's)")
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA time zone of days and months (default: the config's, else the system's)",
    )


def history_settings(args: argparse.Namespace) -> HistorySettings:
    config = _config(args.config)
    tz = _zone(args.tz) if args.tz is not None else energy_zone(config)
    return HistorySettings(
        database_url=args.database or config.database_url(),
        tz=tz,
        currency=_config_currency(config),
    )


def _config(path: Path | None) -> KlimaConfig:
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    if path is None:
        return KlimaConfig()
    from klima.driver import default_registry  # noqa: PLC0415 - loads every driver package

    try:
        return load_config(path, default_registry())
    except ConfigError as exc:
        raise HistoryError(str(exc)) from None


def _config_currency(config: KlimaConfig) -> str | None:
    """The currency costs were recorded in: the config's, else its tariff's."""
    if config.energy.currency:
        return config.energy.currency
    try:
        tariff = load_pricing_tariff(config)
    except KlimaError:
        return None  # the costs are still shown, as "cost"; the daemon reports the tariff
    return tariff.currency if tariff is not None else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(check_zone(name))
    except ValueError as exc:
        raise HistoryError(str(exc)) from None


def zone_name(tz: ZoneInfo) -> str:
    # A zone read from a copied /etc/localtime has no name.
    return tz.key or "system time"


def parse_time(text: str, tz: ZoneInfo, option: str) -> datetime:
    """An ISO-8601 date (local midnight in ``tz``) or date and time (``tz`` unless it has an
    offset)."""
    try:
        return parse_timestamp(text, tz)
    except TariffError:
        raise HistoryError(f"{option}: not an ISO-8601 date or date and time: {text!r}") from None


def month_start(day: date, tz: ZoneInfo) -> datetime:
    return local_midnight(day.replace(day=1), tz)


def next_month_start(day: date, tz: ZoneInfo) -> datetime:
    return local_midnight((day.replace(day=1) + timedelta(days=32)).replace(day=1), tz)


def open_store(url: str) -> Store:
    """The database at ``url`` for reading. A SQLite file must exist already: opening a missing
    one would create an empty database and answer with nothing instead of the mistake."""
    from klima.persistence import Store, normalize_url  # noqa: PLC0415 - SQLAlchemy is slow to import

    try:
        parsed = normalize_url(url)
    except KlimaError as exc:
        raise HistoryError(str(exc)) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise HistoryError(f"{url} is an empty in-memory database: name the daemon's file")
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            raise HistoryError(f"no database at {path} (is --database or the config right?)")
    try:
        # No pruning: a command that reads must not delete what the daemon keeps.
        return Store.open(
            url, retention_days=None, sample_retention_days=None, hourly_retention_days=None
        )
    except KlimaError as exc:
        raise HistoryError(str(exc)) from None


def check_unit(store: Store, unit_id: str | None) -> None:
    """Refuse a unit with no recorded energy, naming those that have some."""
    if unit_id is None:
        return
    known = store.energy_units()
    if unit_id not in known:
        listing = ", ".join(sorted(known)) or "none yet"
        raise HistoryError(
            f"no energy recorded for unit {unit_id!r} (units with energy: {listing})"
        )
