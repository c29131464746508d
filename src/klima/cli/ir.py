"""``klima ir decode`` and ``klima ir encode``: identify a captured code, build a frame by hand.

Both work offline, with the brand codecs only; ``klima ir learn`` and ``klima discover`` (in
:mod:`klima.cli.ir_tools`) talk to a blaster.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from klima.commands import parse_assignments
from klima.driver import DriverInfo, default_registry
from klima.errors import CommandError, ProtocolError
from klima.ir import IrSignal, default_state
from klima.irpacket import broadlink_to_signal, signal_to_broadlink

if TYPE_CHECKING:
    from collections.abc import Iterator

    from klima.ir import IrCodec
    from klima.state import UnitState

FORMATS = ("auto", "broadlink", "state", "pulses")
_PULSES = re.compile(r"^[\s,+\-\d\[\]]+$")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2}[\s:]?)+$")


def ir_drivers(name: str | None) -> list[DriverInfo]:
    """The IR drivers with a codec, or just the named one."""
    if name is not None:
        info = default_registry().get(name)
        if info.ir_codec is None:
            raise CommandError("driver", f"driver {name!r} has no IR codec to decode with")
        return [info]
    return [i for i in default_registry().all() if i.ir_codec is not None]


def parse_code(text: str, fmt: str) -> tuple[str, IrSignal | bytes]:
    """Read a code given on the command line: (format, signal or state bytes)."""
    text = text.strip()
    if fmt == "auto":
        fmt = _guess_format(text)
    if fmt == "pulses":
        values = [abs(int(v)) for v in re.findall(r"[+-]?\d+", text)]
        if len(values) < 4:
            raise ProtocolError("a pulse list needs at least a few mark/space durations in µs")
        return fmt, IrSignal(tuple(values))
    raw = _hex(text) if fmt == "state" or _HEX.match(text) else _base64(text)
    if fmt == "state":
        return fmt, raw
    return fmt, broadlink_to_signal(raw)


def _guess_format(text: str) -> str:
    if _PULSES.match(text) and any(int(v) > 255 for v in re.findall(r"\d+", text)):
        return "pulses"
    if _HEX.match(text):
        return "broadlink" if _hex(text)[:1] in (b"\x26", b"\xb2", b"\xd7") else "state"
    return "broadlink"


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(re.sub(r"[\s:]", "", text))
    except ValueError:
        raise ProtocolError(f"not hexadecimal: {text[:40]!r}") from None


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("not base64 (nor hex, nor a pulse list)") from None


def read_code(
    value: IrSignal | bytes, drivers: list[DriverInfo], reasons: list[str] | None = None
) -> Iterator[tuple[DriverInfo, list[bytes], list[dict[str, Any]]]]:
    """Every driver among ``drivers`` whose codec understands ``value`` (a signal, or one
    message's state bytes), with the messages and what each one says. Codecs that refuse it
    add their reason to ``reasons``."""
    for info in drivers:
        codec = info.ir_codec
        if codec is None:
            continue
        try:
            messages = [value] if isinstance(value, bytes) else codec.demodulate(value)
            fields = [codec.decode(message) for message in messages]
        except ProtocolError as exc:
            if reasons is not None:
                reasons.append(f"{info.name}: {exc}")
            continue
        yield info, messages, fields


def decode(code: str, fmt: str, driver: str | None) -> dict[str, Any]:
    """Try every codec (or ``driver``'s) on ``code``; the first that understands it wins."""
    kind, value = parse_code(code, fmt)
    reasons: list[str] = []
    for info, messages, fields in read_code(value, ir_drivers(driver), reasons):
        merged: dict[str, Any] = {}
        for item in fields:
            merged.update(item)
        assert info.ir_codec is not None  # read_code() only yields drivers with a codec
        return {
            "driver": info.name,
            "protocol": info.ir_codec.protocol,
            "format": kind,
            "messages": [m.hex() for m in messages],
            **merged,
        }
    detail = "; ".join(reasons[:12])
    raise ProtocolError(f"no IR codec understands this {kind} code ({detail})")


def encode(driver: str, assignments: list[str], fmt: str) -> list[str]:
    """The frame for ``key=value`` settings, one line per message (or Broadlink packet)."""
    (info,) = ir_drivers(driver)
    codec = info.ir_codec
    assert codec is not None
    desired = _desired_state(codec, assignments)
    messages = codec.encode(desired, None)
    if fmt == "state":
        return [m.hex() for m in messages]
    signals = [codec.modulate(m) for m in messages]
    if fmt == "pulses":
        return [" ".join(str(p) for p in s.pulses) for s in signals]
    return [base64.b64encode(signal_to_broadlink(s)).decode() for s in signals]


def _desired_state(codec: IrCodec, assignments: list[str]) -> UnitState:
    start = default_state(codec.traits).replace(power=True)
    if not assignments:
        return start
    return start.apply(parse_assignments(assignments, codec.traits), start.state_source)


def run_decode(code: str, fmt: str, driver: str | None) -> int:
    try:
        result = decode(code, fmt, driver)
    except (ProtocolError, CommandError) as exc:
        print(f"klima: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def run_encode(driver: str, assignments: list[str], fmt: str) -> int:
    try:
        lines = encode(driver, assignments, fmt)
    except CommandError as exc:
        allowed = f" (allowed: {', '.join(map(str, exc.allowed))})" if exc.allowed else ""
        print(f"klima: {exc.message}{allowed}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
