"""The safety gate's restart delay and the desired-versus-observed reconciliation."""

from __future__ import annotations

from klima.control.safety import RestartGuard
from klima.reconcile import Reconciler
from klima.state import Mode, Observation, UnitCommand, UnitState


def test_restart_inside_delay_is_deferred_until_delay_ends() -> None:
    guard = RestartGuard(restart_delay=180)
    on = UnitState(power=True, mode=Mode.HEAT)
    off = on.replace(power=False)
    guard.record_power(was_on=True, is_on=False, now=1000.0)
    assert guard.deferral(UnitCommand(power=True), off, now=1060.0) == 1180.0
    assert guard.deferral(UnitCommand(power=True), off, now=1180.0) is None
    # Off, setpoint changes and commands to a running unit are never held back.
    assert guard.deferral(UnitCommand(power=False), on, now=1001.0) is None
    assert guard.deferral(UnitCommand(target_temperature=20.0), off, now=1001.0) is None
    assert guard.deferral(UnitCommand(mode=Mode.COOL), on, now=1001.0) is None


def test_choosing_a_mode_on_an_off_unit_counts_as_a_start() -> None:
    guard = RestartGuard(restart_delay=60)
    guard.record_power(was_on=True, is_on=False, now=0.0)
    assert guard.deferral(UnitCommand(mode=Mode.COOL), UnitState(power=False), now=10.0) == 60.0


def test_stale_poll_inside_grace_does_not_undo_a_write() -> None:
    rec = Reconciler(grace=3.0)
    state = UnitState(power=True, mode=Mode.HEAT, target_temperature=22.0)
    rec.expect(UnitCommand(target_temperature=22.0), now=100.0)
    accepted, external, mismatched = rec.reconcile(
        state, Observation(target_temperature=20.0, current_temperature=19.0), 101.0, first=False
    )
    assert "target_temperature" not in accepted.fields()
    assert accepted.current_temperature == 19.0
    assert not external and not mismatched
    # Confirmation clears the pending write.
    rec.reconcile(state, Observation(target_temperature=22.0), 102.0, first=False)
    assert not rec.pending


def test_unit_that_keeps_its_value_after_grace_is_reported() -> None:
    rec = Reconciler(grace=3.0)
    state = UnitState(power=True, mode=Mode.HEAT, target_temperature=22.0)
    rec.expect(UnitCommand(target_temperature=22.0), now=100.0)
    accepted, external, mismatched = rec.reconcile(
        state, Observation(target_temperature=20.0), 104.0, first=False
    )
    assert accepted.target_temperature == 20.0
    assert mismatched == {"target_temperature": (22.0, 20.0)}
    assert external == {"target_temperature": 20.0}


def test_change_at_the_unit_is_external_but_first_poll_is_not() -> None:
    rec = Reconciler(grace=3.0)
    state = UnitState(power=True, mode=Mode.HEAT, target_temperature=22.0)
    _, external, _ = rec.reconcile(state, Observation(mode=Mode.COOL), 5.0, first=True)
    assert external == {}
    _, external, _ = rec.reconcile(state, Observation(mode=Mode.COOL), 5.0, first=False)
    assert external == {"mode": Mode.COOL}
    _, external, _ = rec.reconcile(state, Observation(mode=Mode.OFF), 5.0, first=False)
    assert external == {"power": False}
