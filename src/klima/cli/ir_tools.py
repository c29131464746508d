"""``klima ir learn`` and ``klima discover``: Broadlink tools for setting up IR units.

Both talk to blasters directly (not through the daemon). Discovery broadcasts a hello unless a
target address is given; learning puts one blaster into learning mode and prints the code the
user's remote sends, as base64 (SmartIR, Home Assistant) and hex, with every codec's reading.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from klima.cli.ir import read_code
from klima.driver import DriverRegistry, default_registry
from klima.errors import KlimaError, ProtocolError
from klima.irpacket import broadlink_to_signal, normalize_packet, to_base64, to_hex
from klima.transports.broadlink import BROADCAST, discover, learn_code


def identify(payload: bytes, registry: DriverRegistry | None = None) -> list[dict[str, Any]]:
    """Every installed codec's reading of a Broadlink IR packet (empty if none understands it).

    Each entry: ``driver``, ``protocol``, ``state`` (the message bytes as hex) and the decoded
    fields. Raises ProtocolError if the packet itself is malformed.
    """
    signal = broadlink_to_signal(payload)
    drivers = (registry or default_registry()).all()
    return [
        {"driver": info.name, "protocol": info.ir_codec.protocol, "state": message.hex(), **fields}
        for info, messages, decoded in read_code(signal, drivers)
        if info.ir_codec is not None
        for message, fields in zip(messages, decoded, strict=True)
    ]


def run_learn(
    host: str,
    port: int = 80,
    timeout: float = 30.0,
    *,
    mac: str | None = None,
    devtype: int | None = None,
    as_json: bool = False,
) -> int:
    """Learn one code from the blaster at ``host``; 0 when a code was captured."""
    if not as_json:
        print(
            f"Learning on {host}:{port}: point the remote at the blaster and press a button"
            f" (within {timeout:g} s)…",
            file=sys.stderr,
        )
    try:
        code = asyncio.run(learn_code(host, port, timeout, mac=mac, devtype=devtype))
    except KlimaError as exc:
        print(f"klima: {exc}", file=sys.stderr)
        return 1
    try:
        code = normalize_packet(code)
        readings = identify(code)
        problem = None
    except ProtocolError as exc:  # an RF code, or something the blaster garbled
        readings, problem = [], str(exc)
    if as_json:
        out: dict[str, Any] = {"base64": to_base64(code), "hex": to_hex(code), "decoded": readings}
        if problem:
            out["error"] = problem
        print(json.dumps(out, indent=2))
        return 0
    print(f"base64: {to_base64(code)}")
    print(f"hex:    {to_hex(code)}")
    if problem:
        print(f"decode: {problem}")
    elif not readings:
        print("decode: no installed codec recognises this code (record it for a SmartIR file)")
    for reading in readings:
        fields = {k: v for k, v in reading.items() if k not in ("driver", "protocol", "state")}
        print(f"decode: {reading['driver']} ({reading['protocol']}) {json.dumps(fields)}")
    return 0


_COLUMNS = ("host", "port", "devtype", "model", "mac", "name", "locked", "supported")


def run_discover(
    target: str = BROADCAST, port: int = 80, timeout: float = 5.0, *, as_json: bool = False
) -> int:
    """List the Broadlink devices answering a hello; 0 when at least one answered."""
    try:
        devices = asyncio.run(discover(target, port, timeout))
    except KlimaError as exc:
        print(f"klima: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(devices, indent=2))
    elif devices:
        _print_table(devices)
    if not devices:
        print(f"klima: no Broadlink device answered at {target}:{port}", file=sys.stderr)
        return 1
    return 0


def _print_table(devices: list[dict[str, Any]]) -> None:
    rows = [[_cell(name, device[name]) for name in _COLUMNS] for device in devices]
    widths = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(_COLUMNS)]
    print("  ".join(name.upper().ljust(w) for name, w in zip(_COLUMNS, widths, strict=True)))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _cell(name: str, value: Any) -> str:
    if name == "devtype":
        return f"0x{value:04X}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
