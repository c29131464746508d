"""Persistence: the last state of each unit, the state log and the event log.

One writer thread batches commits (SD cards wear per write); the same code runs on SQLite and
PostgreSQL. See :class:`Store`.
"""

from klima.persistence.engine import normalize_url, redact
from klima.persistence.schema import SCHEMA_VERSION
from klima.persistence.store import EventRecord, Store

__all__ = ["SCHEMA_VERSION", "EventRecord", "Store", "normalize_url", "redact"]
