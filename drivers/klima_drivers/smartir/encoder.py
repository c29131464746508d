"""Driving a unit from a SmartIR code file: desired state → the file's Broadlink packets.

SmartIR codes are learned full-state frames (smartir.md §C2): one code per (mode, fan,
[swing], temperature), plus ``off`` and an optional ``on``. Nothing is synthesised here: a
combination the file lacks is a :class:`CommandError` naming the missing key, never the
"nearest" code, because a wrong frame would silently put the unit in a state nobody asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from klima.state import Mode, UnitState
from klima_drivers.smartir.codefile import grid, load_code_file

if TYPE_CHECKING:
    from pathlib import Path

    from klima.traits import Traits
    from klima_drivers.smartir.codefile import CodeFile

# The setpoint sent when the state has none yet (a unit never commanded). SmartIR starts at the
# file's minimum, which in heat mode means "barely heat"; a comfortable middle is kinder.
DEFAULT_SETPOINT = 24.0


class SmartIrEncoder:
    """An :class:`~klima.ir.IrEncoder` that replays the codes of one SmartIR climate file.

    ``send_on_before_state`` decides when the file's optional ``on`` code goes out before the
    state code (smartir.md §C2, §C4 item 2):

    - ``None`` (default): only when the unit is being switched on, i.e. the previous state was
      off or unknown. Units that need an explicit "on" get it; units whose "on" is the same
      toggle as "off" are not switched off again by every setpoint change.
    - ``True``: before every state code, as SmartIR itself does.
    - ``False``: never.
    """

    def __init__(self, code_file: CodeFile, *, send_on_before_state: bool | None = None) -> None:
        self.code_file = code_file
        self.send_on_before_state = send_on_before_state

    @classmethod
    def load(cls, path: Path, *, send_on_before_state: bool | None = None) -> SmartIrEncoder:
        """Load ``path``; raises :class:`~klima_drivers.smartir.codes.SmartIrFileError`."""
        return cls(load_code_file(path), send_on_before_state=send_on_before_state)

    @property
    def traits(self) -> Traits:
        """What this file can do: its modes, fan/swing names, setpoint range and step."""
        return self.code_file.traits

    def effective_state(self, desired: UnitState) -> UnitState:
        """``desired`` with the settings it leaves open filled in as :meth:`packets` sends them.

        A unit never commanded has no fan, swing or setpoint yet; the file's first fan and swing
        name (SmartIR's own default) and :data:`DEFAULT_SETPOINT` (clamped onto the file's
        grid) are sent then, and this tells the caller which.
        """
        code_file = self.code_file
        fan = desired.fan_mode or code_file.fans[0].trait
        swing = desired.swing_mode
        if code_file.has_swing and swing is None:
            swing = code_file.swings[0].trait
        setpoint = desired.target_temperature
        if setpoint is None:
            setpoint = self._default_setpoint(desired.mode)
        return desired.replace(fan_mode=fan, swing_mode=swing, target_temperature=setpoint)

    def packets(self, desired: UnitState, previous: UnitState | None) -> list[bytes]:
        """The Broadlink payloads that put the unit in ``desired``.

        Off sends the file's ``off`` code; anything else the one code for the full state
        (preceded by ``on`` where the file has one and the policy above says so). Raises
        :class:`~klima.errors.CommandError` naming the key path when the file has no code for
        the combination.
        """
        code_file = self.code_file
        if not desired.power or desired.mode is Mode.OFF:
            return list(code_file.off.packets)
        state = self.effective_state(desired)
        assert state.fan_mode is not None
        assert state.target_temperature is not None
        swing = state.swing_mode if code_file.has_swing else None
        code = code_file.code_for(state.mode, state.fan_mode, swing, state.target_temperature)
        packets = list(code.packets)
        if code_file.on is not None and self._sends_on(previous):
            packets[:0] = code_file.on.packets
        return packets

    def _sends_on(self, previous: UnitState | None) -> bool:
        if self.send_on_before_state is None:
            return previous is None or not previous.power
        return self.send_on_before_state

    def _default_setpoint(self, mode: Mode) -> float:
        low, high = self.traits.limits_for(mode)
        steps = grid(low, high, self.code_file.temp_step)
        if not steps:  # a range narrower than one step: nothing on the grid to choose
            return low
        return min(steps, key=lambda celsius: abs(celsius - DEFAULT_SETPOINT))
