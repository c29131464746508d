"""Persistence: the last state of each unit, the state log, the event log and the energy recorder.

One writer thread batches commits (SD cards wear per write); the same code runs on SQLite and
PostgreSQL. See :class:`Store`.
"""

from klima.persistence.energy import (
    EnergyBucket,
    EnergyBucketKind,
    EnergySampleRow,
    EnergyTotals,
    LifetimeRow,
    RollupKind,
    RollupRow,
)
from klima.persistence.engine import normalize_url, redact
from klima.persistence.schema import SCHEMA_VERSION
from klima.persistence.store import EventRecord, Store

__all__ = [
    "SCHEMA_VERSION",
    "EnergyBucket",
    "EnergyBucketKind",
    "EnergySampleRow",
    "EnergyTotals",
    "EventRecord",
    "LifetimeRow",
    "RollupKind",
    "RollupRow",
    "Store",
    "normalize_url",
    "redact",
]
