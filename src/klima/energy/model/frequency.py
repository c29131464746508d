"""Learning a unit's compressor frequency range, to turn a reported Hz into a speed fraction.

Research §1.6 step 2 case 2: f_min and f_max are the smallest and largest non-zero frequencies
seen at that outdoor temperature. Ranges are kept per outdoor-temperature band; a band that has
not yet seen a real spread borrows the range seen over all temperatures.
"""

from __future__ import annotations

import math

# Narrower than this (Hz) and a band has not seen the unit modulate yet.
_MIN_SPAN_HZ = 5.0


class FrequencyRangeLearner:
    """Smallest and largest non-zero compressor frequency, per outdoor band of ``band_c`` °C."""

    def __init__(self, *, band_c: float = 5.0) -> None:
        if band_c <= 0:
            raise ValueError("band_c must be positive")
        self._band_c = band_c
        self._bands: dict[int, tuple[float, float]] = {}
        self._overall: tuple[float, float] | None = None

    def _band(self, outdoor_c: float) -> int:
        return math.floor(outdoor_c / self._band_c)

    @staticmethod
    def _widen(known: tuple[float, float] | None, hz: float) -> tuple[float, float]:
        return (hz, hz) if known is None else (min(known[0], hz), max(known[1], hz))

    def observe(self, hz: float, outdoor_c: float) -> None:
        """Record a reported frequency; 0 (compressor resting) and nonsense are not a speed."""
        if not math.isfinite(hz) or hz <= 0:
            return
        band = self._band(outdoor_c)
        self._bands[band] = self._widen(self._bands.get(band), hz)
        self._overall = self._widen(self._overall, hz)

    def range_at(self, outdoor_c: float) -> tuple[float, float] | None:
        """(f_min, f_max) to use at ``outdoor_c``, or ``None`` until a real spread was seen."""
        for candidate in (self._bands.get(self._band(outdoor_c)), self._overall):
            if candidate is not None and candidate[1] - candidate[0] >= _MIN_SPAN_HZ:
                return candidate
        return None
