"""Run-time settings (schedules, holds, timers) survive restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.integration.test_persistence import database_url, open_store, postgres_admin

if TYPE_CHECKING:
    from tests.integration.test_persistence import OpenStore

__all__ = ["database_url", "open_store", "postgres_admin"]  # fixtures used below


def test_settings_are_upserted_deleted_and_read_back_after_a_restart(
    open_store: OpenStore,
) -> None:
    store = open_store()
    store.save_setting("program:weekdays", {"id": "weekdays", "blocks": [1]})
    store.save_setting("program:weekdays", {"id": "weekdays", "blocks": [1, 2]})  # newest wins
    store.save_setting("hold:living", {"kind": "permanent"})
    store.save_setting("timer:t1", {"at": "2026-11-27T06:30:00+00:00"})
    store.save_setting("timer:t1", None)  # forgotten before it was ever written
    assert store.close()

    again = open_store()
    assert again.load_settings() == {
        "program:weekdays": {"id": "weekdays", "blocks": [1, 2]},
        "hold:living": {"kind": "permanent"},
    }
    assert again.load_settings("hold:") == {"hold:living": {"kind": "permanent"}}
    again.save_setting("hold:living", None)
    assert again.flush(5)
    assert again.load_settings("hold:") == {}


def test_last_write_is_the_newest_state_timestamp(open_store: OpenStore) -> None:
    store = open_store()
    assert store.last_write() is None
    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    store.save_state("a", {"power": "ON"}, t0)
    store.save_state("b", {"power": "ON"}, t0 + timedelta(minutes=5))
    assert store.flush(5)
    assert store.last_write() == t0 + timedelta(minutes=5)
