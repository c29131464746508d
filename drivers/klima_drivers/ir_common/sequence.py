"""Messages made of several frames: repeats, the long pause after a message, splitting a capture.

A remote sends some messages more than once (Mitsubishi, Coolix: twice) and some protocols end a
message with a longer pause than the gap between its frames (Coolix, Midea: +100 ms). A capture
(a learned code, a Broadlink packet) holds frames back to back; :func:`parse_frames` walks them
and :func:`klima_drivers.ir_common.sections.fold_repeats` folds each protocol repeat back
into one message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klima.errors import ProtocolError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def repeated(frame: Sequence[int], copies: int, *, final_gap_extra: int = 0) -> list[int]:
    """``frame`` (mark first, ending with its gap) sent ``copies`` times in a row.

    ``final_gap_extra`` lengthens the very last gap (the pause some protocols keep after the
    whole message, which on the wire simply adds to the last frame's gap).
    """
    if copies < 1:
        raise ValueError("a message is sent at least once")
    if len(frame) % 2:
        raise ValueError("a frame must end with its gap (an even number of pulses)")
    out = list(frame) * copies
    if final_gap_extra:
        out[-1] += final_gap_extra
    return out


def parse_frames(
    pulses: tuple[int, ...], parse_one: Callable[[tuple[int, ...], int], tuple[bytes, int]]
) -> list[bytes]:
    """All frames in ``pulses``, back to back, read with ``parse_one``.

    Raises :class:`ProtocolError` when the signal is empty or anything in it does not parse:
    a decoder that skipped what it cannot read would report a message that was never sent.
    """
    if not pulses:
        raise ProtocolError("the signal is empty")
    frames: list[bytes] = []
    index = 0
    while index < len(pulses):
        frame, after = parse_one(pulses, index)
        if after <= index:
            raise ProtocolError("frame parser made no progress")  # a parser bug, not a signal
        frames.append(frame)
        index = after
    return frames
