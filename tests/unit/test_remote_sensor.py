"""The remote room temperature feed: keep-alive, expiry of a dead sensor, re-send on relink."""

from __future__ import annotations

from klima.control.remote_sensor import RemoteTemperatureFeed


def test_new_value_is_sent_then_kept_alive() -> None:
    feed = RemoteTemperatureFeed(keepalive=30, timeout=300)
    assert not feed.due(0.0)
    feed.update(21.5, now=0.0)
    assert feed.due(0.0)
    feed.sent(0.0)
    assert not feed.due(29.0)
    assert feed.due(30.0)
    assert feed.next_deadline() == 30.0


def test_dead_sensor_expires_into_an_explicit_revert() -> None:
    feed = RemoteTemperatureFeed(keepalive=30, timeout=300)
    feed.update(21.5, now=0.0)
    feed.sent(0.0)
    assert not feed.stale(300.0)
    assert feed.stale(300.5)
    feed.expire()
    assert feed.value is None
    assert feed.due(301.0)  # the revert must actually be sent
    feed.sent(301.0)
    assert not feed.due(10_000.0)
    assert feed.next_deadline() is None


def test_relink_resends_value_or_revert() -> None:
    feed = RemoteTemperatureFeed()
    feed.relink()
    assert not feed.due(0.0)  # nothing was ever fed: nothing to say
    feed.update(20.0, now=0.0)
    feed.sent(0.0)
    feed.relink()
    assert feed.due(1.0)
