"""Is a window open? From a contact sensor (after a delay) or from a falling room temperature.

Pure and time-injected (monotonic seconds). Auto mode follows the method Versatile Thermostat
documents (research notes §5.2): a smoothed slope in °C/h, slope = ½·previous + ½·ΔT/Δt, with
readings steeper than 120 °C/h dropped as outliers (a sensor glitch, not a window), and no
verdict before 4 readings. It opens at a slope <= ``slope_open``, closes at >= ``slope_close``
or after ``max_open`` seconds (so a room that merely cools slowly is not left unheated).
"""

from __future__ import annotations

_OUTLIER_SLOPE = 120.0  # °C/h
_MIN_POINTS = 4
_MIN_GAP = 1.0  # seconds; two readings closer than this say nothing about a slope


class WindowDetector:
    def __init__(
        self,
        *,
        delay: float = 120.0,
        slope_open: float = -3.0,
        slope_close: float = 0.0,
        max_open: float = 1800.0,
        auto: bool = False,
    ) -> None:
        if delay < 0 or max_open <= 0:
            raise ValueError("window delay must not be negative and max_open must be positive")
        if slope_open >= slope_close:
            raise ValueError("slope_open must be below slope_close")
        self.delay = delay
        self.slope_open = slope_open
        self.slope_close = slope_close
        self.max_open = max_open
        self.auto = auto
        self._contact_open_since: float | None = None
        self._last_point: tuple[float, float] | None = None  # (time, °C) of the last reading
        self._points = 0
        self._slope: float | None = None  # smoothed, °C/h
        self._auto_open_since: float | None = None

    @property
    def slope(self) -> float | None:
        """The smoothed temperature slope in °C/h (auto mode), None before two readings."""
        return self._slope

    def contact(self, now: float, is_open: bool) -> None:
        """A contact sensor's report. Closing restores at once; opening counts from now."""
        if not is_open:
            self._contact_open_since = None
        elif self._contact_open_since is None:
            self._contact_open_since = now

    def temperature(self, now: float, celsius: float) -> None:
        """A room temperature reading (auto mode; ignored otherwise)."""
        if not self.auto:
            return
        self._expire(now)
        if self._last_point is None:
            self._last_point, self._points = (now, celsius), 1
            return
        last_time, last_celsius = self._last_point
        if now - last_time < _MIN_GAP:
            return
        raw = (celsius - last_celsius) / (now - last_time) * 3600.0
        if abs(raw) > _OUTLIER_SLOPE:
            return  # dropped: the next reading is compared with the last good one
        self._slope = raw if self._slope is None else 0.5 * self._slope + 0.5 * raw
        self._last_point = (now, celsius)
        self._points += 1
        if self._points < _MIN_POINTS:
            return
        if self._auto_open_since is None:
            if self._slope <= self.slope_open:
                self._auto_open_since = now
        elif self._slope >= self.slope_close:
            self._auto_open_since = None

    def is_open(self, now: float) -> bool:
        """Open for at least ``delay`` (contact) or detected open (auto)."""
        contact = self._contact_open_since
        if contact is not None and now - contact >= self.delay:
            return True
        self._expire(now)
        return self._auto_open_since is not None

    def _expire(self, now: float) -> None:
        """After ``max_open`` the detection ends and starts over from fresh readings, or the
        same falling slope would reopen it at once."""
        since = self._auto_open_since
        if since is not None and now - since >= self.max_open:
            self._auto_open_since = None
            self._last_point, self._points, self._slope = None, 0, None
