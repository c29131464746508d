"""Infrared: the shapes every brand codec and the IR unit actor share.

A brand codec is pure (sans-I/O): desired state → the protocol's state bytes → mark/space pulses,
and back. The unit actor never sees protocol details: it asks an :class:`IrEncoder` for the
Broadlink payloads that bring the unit from the previous state to the desired one.

Pulses are microseconds, alternating mark and space, starting with a mark; a message's pulses
include its repeats and end with the gap after the last footer mark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from klima.state import UnitState
    from klima.traits import Traits

DEFAULT_CARRIER_HZ = 38_000


@dataclass(frozen=True, slots=True)
class IrSignal:
    """One transmission as the LED sends it."""

    pulses: tuple[int, ...]
    carrier_hz: int = DEFAULT_CARRIER_HZ

    def __post_init__(self) -> None:
        if any(p <= 0 for p in self.pulses):
            raise ValueError("pulse durations must be positive microseconds")

    def __add__(self, other: IrSignal) -> IrSignal:
        """Two signals back to back (the first must end with its gap)."""
        return IrSignal(self.pulses + other.pulses, self.carrier_hz)

    @property
    def duration_us(self) -> int:
        return sum(self.pulses)


class IrCodec(Protocol):
    """One brand's protocol: encode and decode, no I/O."""

    @property
    def protocol(self) -> str:
        """The protocol's name, e.g. ``MITSUBISHI_AC``."""
        ...

    @property
    def traits(self) -> Traits: ...

    def encode(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        """The messages (state bytes each) that take the unit from ``previous`` to ``desired``.

        Full-state protocols return one message whatever ``previous`` was. Protocols whose
        remotes send toggles (ir.md §B12) add toggle messages only for what changes, so sending
        the same desired state twice never flips the unit. ``previous=None`` means "unknown":
        send the full state and no toggles.
        """
        ...

    def modulate(self, message: bytes) -> IrSignal:
        """The pulses of one message, with the protocol's repeats and trailing gap."""
        ...

    def demodulate(self, signal: IrSignal) -> list[bytes]:
        """The messages in ``signal``; raises ProtocolError if it is not this protocol."""
        ...

    def decode(self, message: bytes) -> dict[str, Any]:
        """The fields one message carries, in MQTT state names (``power`` as a bool, ``mode``,
        ``target_temperature``, ``fan_mode``, ``swing_mode``, ``swing_horizontal_mode``, plus
        protocol extras). A toggle message decodes to ``{"toggle": "<field>"}``; a dedicated
        off message to ``{"power": False}``. Raises ProtocolError on a bad checksum or layout.
        """
        ...


class IrEncoder(Protocol):
    """What an IR unit needs from its driver: Broadlink payloads for a desired state."""

    @property
    def traits(self) -> Traits: ...

    def packets(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        """Broadlink IR payloads (``0x26 …``) to send, in order."""
        ...


def default_state(traits: Traits) -> UnitState:
    """What an IR unit is assumed to be before Klima has sent anything: off, and every
    setting at the first value its remote offers (toggle protocols need a known start)."""
    from klima.state import UnitState  # noqa: PLC0415 - keep this module free of import cycles

    low, high = traits.limits_for(None)
    return UnitState(
        power=False,
        mode=traits.modes[0],
        target_temperature=min(max(24.0, low), high),
        fan_mode=traits.fan_modes[0] if traits.fan_modes else None,
        swing_mode=traits.swing_modes[0] if traits.swing_modes else None,
        swing_horizontal_mode=(
            traits.swing_horizontal_modes[0] if traits.swing_horizontal_modes else None
        ),
    )


class CodecEncoder:
    """Adapts a brand :class:`IrCodec` to :class:`IrEncoder` (pulses → Broadlink payloads)."""

    def __init__(self, codec: IrCodec) -> None:
        self.codec = codec

    @property
    def traits(self) -> Traits:
        return self.codec.traits

    def packets(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        from klima.irpacket import signal_to_broadlink  # noqa: PLC0415 - avoid an import cycle

        return [
            signal_to_broadlink(self.codec.modulate(message))
            for message in self.codec.encode(desired, previous)
        ]
