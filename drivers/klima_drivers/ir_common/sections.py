"""Section-level helpers on top of :mod:`.pulse_distance` (ir.md §B0, §B1).

Some protocols send sections whose length depends on the message (Fujitsu's 7- or 16-byte
frames, Toshiba's 7/9/10), some stretch the final gap to a minimum message length (LG), and some
repeat a frame a fixed number of times (Toshiba, Mitsubishi). These helpers keep that logic out
of each brand codec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klima.errors import ProtocolError
from klima_drivers.ir_common.pulse_distance import decode_section

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

    from klima_drivers.ir_common.pulse_distance import Timing


def decode_section_of_lengths(
    pulses: Sequence[int], start: int, timing: Timing, lengths: Sequence[int]
) -> tuple[bytes, int]:
    """One section of any of ``lengths`` bytes (LSB-first or MSB-first per ``timing``).

    Longer lengths are tried first: a shorter frame read as a longer one fails at its gap, so
    the first length that fits is the frame's own. Raises :class:`ProtocolError` naming every
    length tried when none fits.
    """
    problems: list[str] = []
    for nbytes in sorted(set(lengths), reverse=True):
        try:
            return decode_section(list(pulses), start, timing, nbytes=nbytes)
        except ProtocolError as exc:
            problems.append(f"{nbytes} bytes: {exc}")
    raise ProtocolError("no section fits: " + "; ".join(problems))


def pad_to_length(pulses: list[int], min_total_us: int) -> list[int]:
    """``pulses`` with the final space lengthened so the whole lasts at least ``min_total_us``.

    Protocols such as LG specify a minimum message length as well as a minimum gap: the gap
    after a short message grows so the next message starts no earlier than that.
    """
    if not pulses or len(pulses) % 2:
        raise ValueError("pulses must end with a space")
    shortfall = min_total_us - sum(pulses)
    if shortfall <= 0:
        return list(pulses)
    return [*pulses[:-1], pulses[-1] + shortfall]


def fold_repeats(frames: Sequence[bytes], copies: int) -> list[bytes]:
    """The messages in ``frames`` with each message's own repeats (up to ``copies`` identical
    consecutive frames in all) folded into one.

    A protocol sent twice (Toshiba) yields ``A A B B`` for two messages; this returns ``[A, B]``.
    A lone copy is kept (a capture may have lost the repeat); ``A A A`` with ``copies=2`` is
    ``[A, A]``: the third frame starts a new message.
    """
    if copies < 1:
        raise ValueError("copies must be at least 1")
    messages: list[bytes] = []
    run = 0
    for frame in frames:
        if messages and frame == messages[-1] and run < copies:
            run += 1
            continue
        messages.append(frame)
        run = 1
    return messages


def jittered(pulses: Sequence[int], rng: random.Random, fraction: float) -> tuple[int, ...]:
    """Each pulse scaled by its own random factor within ``1 ± fraction`` (at least 1 µs).

    What a real receiver measures (a Broadlink's learning mode, a photodiode); used by tests and
    by the simulator to check that decoders tolerate it.
    """
    if not 0 <= fraction < 1:
        raise ValueError("fraction must be in [0, 1)")
    return tuple(max(1, round(p * rng.uniform(1 - fraction, 1 + fraction))) for p in pulses)
