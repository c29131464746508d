"""Window detection: contact sensor delay and restore, auto mode from the temperature slope."""

from __future__ import annotations

import pytest

from klima.control.window import WindowDetector


def test_contact_counts_as_open_only_after_the_delay() -> None:
    window = WindowDetector(delay=120)
    window.contact(0.0, is_open=True)
    assert not window.is_open(119.0)
    window.contact(100.0, is_open=True)  # a repeated report does not restart the delay
    assert window.is_open(120.0)


def test_closing_restores_at_once_and_reopening_waits_again() -> None:
    window = WindowDetector(delay=120)
    window.contact(0.0, is_open=True)
    assert window.is_open(500.0)
    window.contact(501.0, is_open=False)
    assert not window.is_open(501.0)
    window.contact(600.0, is_open=True)
    assert not window.is_open(700.0)
    assert window.is_open(720.0)


def test_a_short_airing_never_counts() -> None:
    window = WindowDetector(delay=120)
    window.contact(0.0, is_open=True)
    window.contact(90.0, is_open=False)
    assert not window.is_open(200.0)


def feed(window: WindowDetector, start: float, celsius: float, per_minute: float, n: int) -> float:
    """``n`` readings a minute apart changing by ``per_minute`` K; returns the last value."""
    for i in range(n):
        window.temperature(start + 60.0 * i, celsius + per_minute * i)
    return celsius + per_minute * (n - 1)


def test_auto_opens_on_a_steep_fall_after_four_points() -> None:
    window = WindowDetector(auto=True)
    # -0.1 K/min = -6 °C/h; slopes: -6, then ½·-6 + ½·-6 = -6 ...
    feed(window, 0.0, 21.0, -0.1, 3)
    assert not window.is_open(120.0)  # three readings: no verdict yet
    window.temperature(180.0, 20.7)
    assert window.slope == pytest.approx(-6.0)
    assert window.is_open(180.0)


def test_auto_slow_fall_is_not_a_window() -> None:
    window = WindowDetector(auto=True)
    feed(window, 0.0, 21.0, -0.04, 30)  # -2.4 °C/h, above the -3 °C/h threshold
    assert not window.is_open(30 * 60.0)


def test_auto_closes_when_the_temperature_rises_again() -> None:
    window = WindowDetector(auto=True)
    last = feed(window, 0.0, 21.0, -0.1, 6)  # open; slope -6
    assert window.is_open(300.0)
    window.temperature(360.0, last + 0.1)  # +6 °C/h: ½·-6 + ½·6 = 0 >= slope_close 0
    assert window.slope == pytest.approx(0.0)
    assert not window.is_open(360.0)


def test_auto_flat_readings_keep_it_open_until_max_open() -> None:
    window = WindowDetector(auto=True, max_open=1800)
    last = feed(window, 0.0, 21.0, -0.1, 4)  # opens at t=180
    # flat readings halve the slope each time (-3, -1.5, ...) but never reach 0
    for i in range(1, 30):
        window.temperature(180.0 + 60.0 * i, last)
    assert window.is_open(1979.0)
    assert not window.is_open(1980.0)  # 180 + 1800


def test_auto_after_max_open_needs_four_fresh_points_to_reopen() -> None:
    window = WindowDetector(auto=True, max_open=1800)
    # a room that keeps falling steeply (a window left open for good)
    for minute in range(60):
        window.temperature(60.0 * minute, 21.0 - 0.1 * minute)
        if minute == 32:  # t=1920: opened at t=180, not yet 1800 s
            assert window.is_open(60.0 * minute)
        if minute == 33:  # t=1980: expired; this reading starts a new series (1 point)
            assert not window.is_open(60.0 * minute)
        if minute == 35:  # 3 points of the new series
            assert not window.is_open(60.0 * minute)
        if minute == 36:  # the 4th: open again
            assert window.is_open(60.0 * minute)


def test_auto_drops_outliers() -> None:
    window = WindowDetector(auto=True)
    feed(window, 0.0, 21.0, 0.0, 4)
    window.temperature(240.0, 16.0)  # -5 K in a minute = -300 °C/h: a glitch, not a window
    assert window.slope == pytest.approx(0.0)
    assert not window.is_open(240.0)
    window.temperature(300.0, 21.0)  # compared with the last good point (t=180, 21.0)
    assert window.slope == pytest.approx(0.0)
    # a 2 K fall in a minute is 120 °C/h, the edge: accepted
    window.temperature(360.0, 19.0)
    assert window.slope == pytest.approx(-60.0)
    assert window.is_open(360.0)


def test_auto_ignores_temperatures_when_off_and_readings_too_close_together() -> None:
    window = WindowDetector(auto=False)
    feed(window, 0.0, 21.0, -1.0, 10)
    assert window.slope is None
    assert not window.is_open(600.0)
    auto = WindowDetector(auto=True)
    auto.temperature(0.0, 21.0)
    auto.temperature(0.5, 20.0)  # half a second later: no slope from that
    assert auto.slope is None


def test_contact_and_auto_combine() -> None:
    window = WindowDetector(auto=True, delay=60)
    window.contact(0.0, is_open=True)
    feed(window, 0.0, 21.0, 0.0, 5)  # flat: auto says closed
    assert window.is_open(60.0)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="slope_open"):
        WindowDetector(slope_open=0.0, slope_close=0.0)
    with pytest.raises(ValueError, match="max_open"):
        WindowDetector(max_open=0)
