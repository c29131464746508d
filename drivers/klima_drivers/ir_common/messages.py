"""Checks every codec makes on the messages it is asked to send."""

from __future__ import annotations


def require_length(message: bytes, length: int, protocol: str) -> None:
    """Any bytes of the right length are sent as they are (raw frames from ``klima ir encode``);
    anything else is a programming error, not a protocol error."""
    if len(message) != length:
        raise ValueError(f"a {protocol} message is {length} bytes, got {len(message)}")
