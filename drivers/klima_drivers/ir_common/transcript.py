"""IRremoteESP8266's text notation for pulse trains: ``f38000d50m3400s1750m450s1300…``.

``f<Hz>d<duty>`` sets the carrier, ``m<µs>`` is a mark and ``s<µs>`` a space; consecutive marks
(or spaces) add up, as they do on the LED. The library's unit tests state their expected
output in this notation, so codec tests can compare against it mark for mark, and a human can
read a signal in a log line.
"""

from __future__ import annotations

import re

from klima.ir import DEFAULT_CARRIER_HZ, IrSignal

_TOKEN = re.compile(r"([fdms])(\d+)")


def from_transcript(text: str) -> IrSignal:
    """The signal a transcript describes (whitespace and quotes between tokens are ignored)."""
    cleaned = re.sub(r"[\s\"']", "", text)
    tokens = _TOKEN.findall(cleaned)
    if "".join(kind + digits for kind, digits in tokens) != cleaned:
        raise ValueError("not an m/s transcript: " + cleaned[:40])
    carrier = DEFAULT_CARRIER_HZ
    pulses: list[int] = []
    for kind, digits in tokens:
        value = int(digits)
        if kind == "f":
            carrier = value
        elif kind == "d":
            continue  # duty cycle: the LED driver's business, not the signal's
        elif (kind == "m") == (len(pulses) % 2 == 1):  # same kind as the pulse before
            if not pulses:
                raise ValueError("a transcript starts with a mark")
            pulses[-1] += value  # two marks (or spaces) in a row are one longer pulse
        else:
            pulses.append(value)
    return IrSignal(tuple(pulses), carrier)


def to_transcript(signal: IrSignal, *, duty: int = 50) -> str:
    """The signal in the notation, carrier first."""
    body = "".join(
        ("m" if index % 2 == 0 else "s") + str(pulse) for index, pulse in enumerate(signal.pulses)
    )
    return f"f{signal.carrier_hz}d{duty}{body}"
