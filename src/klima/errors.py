"""The exception tree: one root, so callers can catch everything Klima raises in one place.

Third-party exceptions never leave the wrapper module that imports their library; they are
translated into one of these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


class KlimaError(Exception):
    """Root of every error Klima raises on purpose."""


class KlimaTimeoutError(KlimaError, TimeoutError):
    """A device or service did not answer in time."""


class ConfigError(KlimaError):
    """The configuration file is missing, unreadable or invalid."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return "\n".join([super().__str__(), *(f"  - {p}" for p in self.problems)])


class CommandError(KlimaError):
    """A command was rejected before it reached a unit; names the field and what is allowed."""

    def __init__(
        self, field: str | None, message: str, allowed: Sequence[object] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.allowed = list(allowed) if allowed is not None else None
        self.transaction: object = None  # the caller's correlation id, echoed in the answer

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"field": self.field, "message": self.message}
        if self.allowed is not None:
            out["allowed"] = self.allowed
        return out


class UnknownUnitError(CommandError):
    """A command named a unit that is not configured."""


class DriverError(KlimaError):
    """A driver could not talk to its unit."""


class UnknownDriverError(DriverError):
    """No installed driver has the requested name."""


class ProtocolError(DriverError):
    """Bytes on the wire did not form a valid frame."""


class ChecksumError(ProtocolError):
    """A frame's checksum did not match its contents."""


class TruncatedFrameError(ProtocolError):
    """A frame ended before its declared length."""


class CommandRefusedError(DriverError):
    """The unit answered, but refused a command (the link itself is fine)."""


class LinkLostError(DriverError):
    """The transport closed or went silent; the unit is unreachable until it reconnects."""


class BlasterError(DriverError):
    """A Broadlink blaster refused or failed a request, or could not be reached.

    ``code`` is the device's or the library's error code where there is one (broadlink.md §A7:
    -1 locked, -7 key expired, -10 nothing learned, -4000 timeout …).
    """

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class BlasterTimeoutError(BlasterError, KlimaTimeoutError):
    """A Broadlink blaster did not answer in time (or learned no code in time)."""


class BlasterAuthError(BlasterError):
    """A Broadlink blaster refused authentication: it is locked (unlock it in the app)."""


class BlasterOfflineError(BlasterError, LinkLostError):
    """A Broadlink blaster is marked offline; it is retried in the background."""


class StorageError(KlimaError):
    """The database could not be opened or written."""
