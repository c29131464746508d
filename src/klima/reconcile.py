"""Desired versus observed: merging a poll into the state without fighting the user.

Two field problems this solves (serial.md §3.7):
- a poll that was answered just before our write landed reports the *old* value; within a
  grace window such a stale value must not undo the user's command (snap-back);
- a change made at the unit itself (its IR remote, a wall panel) must be adopted, not fought,
  and marked ``external``.
"""

from __future__ import annotations

from typing import Any

from klima.state import SETTING_FIELDS, Mode, Observation, UnitCommand, UnitState

_TOLERANCE = 0.01  # setpoints are compared with a tolerance; floats come from two encodings


class Reconciler:
    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.pending: dict[str, tuple[Any, float]] = {}

    def expect(self, command: UnitCommand, now: float) -> None:
        """Remember the fields we just wrote, until the unit confirms them or the grace ends."""
        for name, value in command.normalized().fields().items():
            self.pending[name] = (value, now + self.grace)

    def reconcile(
        self, state: UnitState, observation: Observation, now: float, *, first: bool
    ) -> tuple[Observation, dict[str, Any], dict[str, tuple[Any, Any]]]:
        """Return (what to accept, external changes, fields the unit did not take)."""
        seen = observation.fields()
        if seen.get("mode") is Mode.OFF:
            seen.pop("mode")
            seen["power"] = False
        external: dict[str, Any] = {}
        mismatched: dict[str, tuple[Any, Any]] = {}
        for name in SETTING_FIELDS:
            if name not in seen:
                continue
            got = seen[name]
            if name in self.pending:
                wanted, deadline = self.pending[name]
                if _same(wanted, got):
                    del self.pending[name]
                elif now < deadline:
                    del seen[name]  # stale reading from before our write; keep what we sent
                else:
                    del self.pending[name]
                    mismatched[name] = (wanted, got)
            elif not first and not _same(getattr(state, name), got):
                external[name] = got
        if mismatched:
            # The unit kept its own value after the grace window: believe the unit, but as
            # something that happened outside our control.
            external.update({k: got for k, (_, got) in mismatched.items()})
        accepted = Observation(cleared=observation.cleared, **seen)
        return accepted, external, mismatched


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < _TOLERANCE
    return bool(a == b)
