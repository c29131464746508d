"""Presence: home at once, away only after a quiet ``away_after``."""

from __future__ import annotations

import pytest

from klima.control.presence import PresenceTracker


def test_nobody_is_away_before_the_first_report() -> None:
    assert not PresenceTracker().away(1e9)


def test_away_only_after_the_debounce() -> None:
    presence = PresenceTracker(away_after=600)
    presence.update(0.0, present=True)
    presence.update(100.0, present=False)
    assert not presence.away(699.0)
    presence.update(400.0, present=False)  # repeated "absent" keeps the first one's time
    assert presence.away(700.0)


def test_presence_returns_at_once_and_restarts_the_debounce() -> None:
    presence = PresenceTracker(away_after=600)
    presence.update(0.0, present=False)
    assert presence.away(600.0)
    presence.update(650.0, present=True)
    assert not presence.away(650.0)
    presence.update(700.0, present=False)
    assert not presence.away(1299.0)
    assert presence.away(1300.0)


def test_a_blip_of_motion_keeps_home() -> None:
    presence = PresenceTracker(away_after=600)
    presence.update(0.0, present=False)
    presence.update(500.0, present=True)
    presence.update(501.0, present=False)
    assert not presence.away(1000.0)
    assert presence.away(1101.0)


def test_negative_debounce_is_refused() -> None:
    with pytest.raises(ValueError, match="away_after"):
        PresenceTracker(away_after=-1)
