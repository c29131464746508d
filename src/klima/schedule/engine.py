"""The automation engine: what each unit should run now, and making it so.

Layers, highest first (research §4.5): frost protection, an open window, a manual hold (or a
fired timer), a vacation preset, presence away, then the weekly program in force (holiday and
vacation programs included). The winner's settings pass through the unit's presets and its
thermostat strategy and go to ``Unit.submit`` with an automatic origin, so the safety gate
(restart delay, minimum run and off times, rate limit) has the last word.

:meth:`AutomationEngine.tick` is idempotent and takes the time as an argument: the daemon calls
it when a transition is due, every ``reconcile_interval``, and when a sensor reports; tests
call it with a simulated clock. Nothing is replayed: a tick applies what is in force now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from klima.control.feedback import extract, number, truth
from klima.control.presence import PresenceTracker
from klima.control.thermostat import SensorFreshness, ThermostatLoop, ThermostatSettings
from klima.control.window import WindowDetector
from klima.errors import CommandError
from klima.schedule.calendar import SiteCalendar
from klima.schedule.from_config import (
    expand_groups,
    program_from_config,
    site_from_config,
    vacation_from_config,
)
from klima.schedule.holds import Hold, HoldKind, Timer, parse_duration
from klima.schedule.model import Program, Settings
from klima.schedule.presets import Preset, command_for, expand, unit_presets
from klima.schedule.program import in_force, next_change
from klima.schedule.strategy import through_thermostat
from klima.schedule.units import ControlledUnit, Decision, Room, SettingsStore, UnitAutomation

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from zoneinfo import ZoneInfo

    from klima.config import KlimaConfig, UnitConfig
    from klima.state import UnitCommand, UnitState

log = logging.getLogger(__name__)

FROST_RELEASE_K = 1.0  # frost protection ends this far above the floor
_PAUSES = frozenset({"window", "sensor_fallback"})  # layers that stop a unit for a while
Emit = Callable[[str, str | None, dict[str, Any]], None]


class AutomationEngine:
    def __init__(
        self,
        config: KlimaConfig,
        units: Mapping[str, ControlledUnit],
        *,
        zone: ZoneInfo,
        store: SettingsStore | None = None,
        emit: Emit | None = None,
    ) -> None:
        self.config = config
        self.units = units
        self.zone = zone
        self.store = store
        self._emit = emit or (lambda _kind, _unit, _data: None)
        self.calendar = SiteCalendar(site_from_config(config, zone))
        self.groups = {g.id: list(g.units) for g in config.groups}
        self.config_programs = {s.id: program_from_config(s, self.groups) for s in config.schedules}
        self.programs: dict[str, Program] = dict(self.config_programs)
        self.vacations = [vacation_from_config(v, self.groups, zone) for v in config.vacations]
        self.timers: dict[str, Timer] = {}
        self._garbled: set[str] = set()  # sensor topics whose last message was unreadable
        self.clock_trusted = not config.automation.wait_for_clock
        self._state: dict[str, UnitAutomation] = {}
        for unit_config in config.units:
            if unit_config.id in units:
                self._state[unit_config.id] = self._unit_automation(unit_config)
        self._windows = [
            (w, WindowDetector(delay=w.delay, auto=w.auto_detect), self._members(w.units))
            for w in config.windows
        ]
        self._presence = [
            (p, PresenceTracker(away_after=p.away_after), self._members(p.units) or set(units))
            for p in config.presence
        ]

    def _members(self, names: Iterable[str]) -> set[str]:
        return set(expand_groups(names, self.groups))

    def _unit_automation(self, config: UnitConfig) -> UnitAutomation:
        unit = self.units[config.id]
        automation = UnitAutomation(config, unit_presets(self.config.presets, config.presets))
        thermostat = config.thermostat
        if thermostat.sensor is not None:
            sensor = thermostat.sensor
            automation.room = Room(sensor.topic, sensor.json_path, SensorFreshness(sensor.timeout))
        if thermostat.strategy != "passthrough":
            automation.loop = ThermostatLoop(
                ThermostatSettings(
                    strategy=thermostat.strategy,
                    cold_tolerance=thermostat.cold_tolerance,
                    hot_tolerance=thermostat.hot_tolerance,
                    max_offset=thermostat.max_offset,
                    min_offset_interval=thermostat.min_offset_interval,
                ),
                native_remote=unit.traits.remote_temperature,
                step=unit.traits.temp_step,
                min_temp=unit.traits.min_temp,
                max_temp=unit.traits.max_temp,
            )
        return automation

    # ------------------------------------------------------------------ persistence

    def load(self) -> None:
        """Run-time programs, holds and timers saved before the last stop."""
        if self.store is None:
            return
        for key, value in self.store.load_settings().items():
            kind, _, name = key.partition(":")
            try:
                if kind == "program":
                    if value.get("deleted"):
                        self.programs.pop(name, None)
                    else:
                        self.programs[name] = Program.from_json(value)
                elif kind == "hold" and name in self._state:
                    hold = Hold.from_json(value)
                    preset = hold.settings.preset
                    if preset is not None and preset not in self._state[name].presets:
                        # The preset left the config since: the hold could do nothing.
                        log.warning(
                            "unit %s: dropping a hold of the unknown preset %r", name, preset
                        )
                        self._save(key, None)
                        continue
                    self._state[name].hold = hold
                elif kind == "timer":
                    self.timers[name] = Timer.from_json(value)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("ignoring the saved setting %s: %s", key, exc)

    def _save(self, key: str, value: Any) -> None:
        if self.store is not None:
            self.store.save_setting(key, value)

    # ------------------------------------------------------------------ inputs

    def routes(
        self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> dict[str, list[Callable[[bytes], None]]]:
        """MQTT topics of room sensors, windows and presence, each with its handler."""
        routes: dict[str, list[Callable[[bytes], None]]] = {}

        def add(topic: str, handler: Callable[[bytes, datetime], None]) -> None:
            routes.setdefault(topic, []).append(lambda payload: handler(payload, clock()))

        for unit_id, automation in self._state.items():
            if automation.room is not None:
                add(automation.room.topic, self._room_handler(unit_id))
        for rule, detector, members in self._windows:
            if rule.topic is not None:
                add(
                    rule.topic,
                    self._window_handler(
                        rule.topic, rule.json_path, rule.invert, detector, members
                    ),
                )
        for presence, tracker, members in self._presence:
            add(
                presence.topic,
                self._presence_handler(presence.topic, presence.json_path, tracker, members),
            )
        return routes

    def _room_handler(self, unit_id: str) -> Callable[[bytes, datetime], None]:
        def handle(payload: bytes, now: datetime) -> None:
            room = self._state[unit_id].room
            assert room is not None
            value = number(extract(payload, room.json_path))
            if value is None or not -40 <= value <= 60:
                self._unreadable(room.topic, "not a temperature", payload)
                return
            self._garbled.discard(room.topic)
            room.value = value
            room.freshness.update(now.timestamp())
            self._feed_window_detection(unit_id, value, now)
            self.tick(now, only={unit_id})

        return handle

    def _window_handler(
        self,
        topic: str,
        path: str | None,
        invert: bool,
        detector: WindowDetector,
        members: set[str],
    ) -> Callable[[bytes, datetime], None]:
        def handle(payload: bytes, now: datetime) -> None:
            state = truth(extract(payload, path))
            if state is None:
                self._unreadable(topic, "neither open nor closed", payload)
                return
            self._garbled.discard(topic)
            detector.contact(now.timestamp(), state != invert)
            self.tick(now, only=members)

        return handle

    def _presence_handler(
        self, topic: str, path: str | None, tracker: PresenceTracker, members: set[str]
    ) -> Callable[[bytes, datetime], None]:
        def handle(payload: bytes, now: datetime) -> None:
            value = extract(payload, path)
            present = truth(value)
            if present is None and isinstance(value, str):
                present = value.strip().lower() in ("home", "present", "occupied")
            if present is None:
                self._unreadable(topic, "neither home nor away", payload)
                return
            self._garbled.discard(topic)
            tracker.update(now.timestamp(), present)
            self.tick(now, only=members)

        return handle

    def _unreadable(self, topic: str, what: str, payload: bytes) -> None:
        """One warning per topic until it sends something readable again (no log flood)."""
        if topic not in self._garbled:
            self._garbled.add(topic)
            log.warning("%s: %s: %r (ignored)", topic, what, payload[:80])

    def unit_state_changed(self, unit_id: str, state: UnitState, now: datetime) -> None:
        """The unit's own room reading feeds automatic window detection (unless a room
        sensor does)."""
        automation = self._state.get(unit_id)
        has_sensor = automation is not None and automation.room is not None
        if state.current_temperature is not None and not has_sensor:
            self._feed_window_detection(unit_id, state.current_temperature, now)

    def _feed_window_detection(self, unit_id: str, celsius: float, now: datetime) -> None:
        for _rule, detector, members in self._windows:
            if unit_id in members:
                detector.temperature(now.timestamp(), celsius)

    # ------------------------------------------------------------------ user actions

    def manual_change(self, unit_id: str, command: UnitCommand, now: datetime) -> None:
        """A user changed the unit (MQTT, CLI): hold it per ``[automation] hold``."""
        if unit_id not in self._state or not self._governed(unit_id, now):
            return
        settings = _settings_of(command)
        current = self._state[unit_id].hold
        if current is not None and not current.expired(now):
            settings = _overlay(current.settings, settings)
        self.hold(unit_id, settings, self.config.automation.hold, now, origin="mqtt")

    def external_change(self, unit_id: str, changes: Mapping[str, Any], now: datetime) -> None:
        """Someone used the unit's own remote: hold that too, rather than undo it."""
        if unit_id not in self._state or not self.clock_trusted or not self._governed(unit_id, now):
            return
        mode = changes.get("mode")
        settings = Settings(
            power=changes.get("power") if isinstance(changes.get("power"), bool) else None,
            mode=mode if isinstance(mode, str) else None,
            target_temperature=changes.get("target_temperature"),
            fan_mode=changes.get("fan_mode"),
        )
        if settings.is_empty():
            return
        current = self._state[unit_id].hold
        if current is not None and not current.expired(now):
            settings = _overlay(current.settings, settings)
        self.hold(unit_id, settings, self.config.automation.hold, now, origin="unit")

    def _governed(self, unit_id: str, now: datetime) -> bool:
        """Whether anything would change the unit by itself (so a manual change needs a hold):
        a program, a vacation or presence rule, or a hold already in place. A unit nobody
        automates is left alone, and a later schedule is not blocked by a forgotten hold."""
        automation = self._state[unit_id]
        programs = list(self.programs.values())
        return (
            automation.hold is not None
            or in_force(unit_id, now, programs, self.calendar, self.vacations) is not None
            or self._next_transition(unit_id, now) is not None
            or any(v.applies_to(unit_id) and v.end > now for v in self.vacations)
            or any(unit_id in members for _rule, _tracker, members in self._presence)
        )

    def set_preset(
        self,
        unit_id: str,
        name: str,
        now: datetime,
        policy: str | None = None,
        command: UnitCommand | None = None,
    ) -> None:
        """Hold preset ``name`` (``none`` resumes the program); fields of ``command`` sent in
        the same message are laid over the preset's."""
        automation = self._automation(unit_id)
        if name == "none":
            self.resume(unit_id, now)
            if command is not None:
                self.manual_change(unit_id, command, now)
            return
        if name not in automation.presets:
            raise CommandError("preset", f"unknown preset {name!r}", sorted(automation.presets))
        extra = _settings_of(command).to_json() if command is not None else {}
        settings = Settings.from_json({**extra, "preset": name})
        self.hold(unit_id, settings, policy or self.config.automation.hold, now)

    def hold(
        self,
        unit_id: str,
        settings: Settings,
        policy: str,
        now: datetime,
        *,
        until: datetime | None = None,
        origin: str = "mqtt",
    ) -> Hold:
        """Hold ``settings``: ``next_block``, ``permanent``, a duration ("2h") or ``until``."""
        automation = self._automation(unit_id)
        if settings.preset is not None and settings.preset not in automation.presets:
            raise CommandError("preset", f"unknown preset {settings.preset!r}",
                               sorted(automation.presets))  # fmt: skip
        if until is not None:
            hold = Hold(settings, "duration", until, now, origin)
        elif policy == "permanent":
            hold = Hold(settings, "permanent", None, now, origin)
        elif policy == "next_block":
            upcoming = self._next_transition(unit_id, now)
            kind: HoldKind = "next_block" if upcoming is not None else "permanent"
            local = None if upcoming is None else upcoming.astimezone(self.zone)
            hold = Hold(settings, kind, local, now, origin)
        else:
            try:
                hold = Hold(settings, "duration", now + parse_duration(policy), now, origin)
            except (ValueError, OverflowError) as exc:  # parse_duration says which
                raise CommandError("hold", str(exc)) from None
        if hold.until is not None:  # shown in the hub's local time, like everything else
            hold = replace(hold, until=hold.until.astimezone(self.zone))
        automation.hold = hold
        self._save(f"hold:{unit_id}", hold.to_json())
        self._emit("hold_started", unit_id, {"origin": origin, **hold.public()})
        self.tick(now, only={unit_id})
        return hold

    def resume(self, unit_id: str, now: datetime) -> bool:
        """End the unit's hold; the program in force applies again. False if there was none."""
        automation = self._automation(unit_id)
        if automation.hold is None:
            return False
        self._end_hold(unit_id, automation, "resumed")
        self.tick(now, only={unit_id})
        return True

    def _end_hold(self, unit_id: str, automation: UnitAutomation, reason: str) -> None:
        automation.hold = None
        self._save(f"hold:{unit_id}", None)
        self._emit("hold_ended", unit_id, {"reason": reason})

    def add_timer(self, timer: Timer) -> None:
        presets = self._automation(timer.unit).presets
        if timer.settings.preset is not None and timer.settings.preset not in presets:
            raise CommandError(
                "preset", f"unknown preset {timer.settings.preset!r}", sorted(presets)
            )
        timer = replace(timer, at=timer.at.astimezone(self.zone))
        self.timers[timer.id] = timer
        self._save(f"timer:{timer.id}", timer.to_json())

    def cancel_timer(self, timer_id: str) -> bool:
        if self.timers.pop(timer_id, None) is None:
            return False
        self._save(f"timer:{timer_id}", None)
        return True

    def set_program(self, program: Program, now: datetime) -> None:
        """Add or replace a program at run time (group ids in ``units`` are expanded)."""
        program = replace(program, units=expand_groups(program.units, self.groups))
        unknown = sorted(set(program.units) - set(self._state))
        if unknown:
            raise CommandError("units", f"unknown units {unknown}", sorted(self._state))
        for unit_id in program.units:
            presets = self._state[unit_id].presets
            for block in program.blocks:
                if block.settings.preset is not None and block.settings.preset not in presets:
                    raise CommandError("preset", f"unit {unit_id!r} has no preset "
                                       f"{block.settings.preset!r}", sorted(presets))  # fmt: skip
        self.programs[program.id] = program
        self._save(f"program:{program.id}", program.to_json())
        self.tick(now, only=set(program.units))

    def delete_program(self, program_id: str, now: datetime) -> None:
        program = self.programs.pop(program_id, None)
        if program is None:
            raise CommandError("id", f"no schedule {program_id!r}", sorted(self.programs))
        # A schedule from the config file stays deleted across restarts (a tombstone).
        self._save(
            f"program:{program_id}",
            {"deleted": True} if program_id in self.config_programs else None,
        )
        self.tick(now, only=set(program.units))

    def _automation(self, unit_id: str) -> UnitAutomation:
        try:
            return self._state[unit_id]
        except KeyError:
            raise CommandError("unit", f"unknown unit {unit_id!r}", sorted(self._state)) from None

    # ------------------------------------------------------------------ the tick

    def tick(self, now: datetime, only: set[str] | None = None) -> None:
        """Bring every unit (or ``only`` these) to what is in force at ``now``."""
        self._fire_timers(now)
        for unit_id, automation in self._state.items():
            if only is not None and unit_id not in only:
                continue
            try:
                self._tick_unit(unit_id, automation, now)
            except Exception:  # one unit's trouble must not stop the others' programs
                log.exception("automation for unit %s failed", unit_id)

    def next_wakeup(self, now: datetime) -> datetime | None:
        """The next instant something changes by the clock alone (a block, a hold, a timer)."""
        moments = [t.at for t in self.timers.values()]
        for unit_id, automation in self._state.items():
            upcoming = self._next_transition(unit_id, now)
            if upcoming is not None:
                moments.append(upcoming)
            if automation.hold is not None and automation.hold.until is not None:
                moments.append(automation.hold.until)
        moments += [v.start for v in self.vacations] + [v.end for v in self.vacations]
        future = [m for m in moments if m > now]
        return min(future) if future else None

    def _fire_timers(self, now: datetime) -> None:
        if not self.clock_trusted:
            return
        for timer in sorted(self.timers.values(), key=lambda t: t.at):
            # cancel_timer is False when a nested tick (from an earlier timer's hold) fired it.
            if timer.at > now or not self.cancel_timer(timer.id):
                continue
            self._emit("timer_fired", timer.unit, {"id": timer.id, **timer.settings.to_json()})
            try:
                if timer.unit in self._state:
                    self.hold(timer.unit, timer.settings, "next_block", now, origin="timer")
            except CommandError as exc:  # e.g. a preset removed from the config since
                log.warning("timer %s for unit %s: %s", timer.id, timer.unit, exc.message)

    def _tick_unit(self, unit_id: str, automation: UnitAutomation, now: datetime) -> None:
        unit = self.units[unit_id]
        self._update_safety_layers(unit_id, automation, unit, now)
        if automation.hold is not None and automation.hold.expired(now):
            self._end_hold(unit_id, automation, "expired")
        decision = self._decide(unit_id, automation, now)
        previous = automation.decision
        automation.decision = decision
        if decision is None or not unit.available:
            return  # an offline unit gets what is in force when it comes back (then announced)
        pausing = decision.source in _PAUSES and decision.settings.power is False
        if pausing and (previous is None or previous.source not in _PAUSES):
            # After the pause the unit runs again only if it was running before it.
            automation.restore_power = unit.state.power
        self._announce(unit_id, automation, decision, previous, now)
        self._apply(unit_id, automation, unit, decision, now)

    def _update_safety_layers(
        self, unit_id: str, automation: UnitAutomation, unit: ControlledUnit, now: datetime
    ) -> None:
        room = self._room_temperature(automation, unit, now)
        frost = automation.config.frost
        if frost.enabled and room is not None:
            if room < frost.floor:
                automation.below_floor_since = automation.below_floor_since or now
                due = now - automation.below_floor_since >= timedelta(seconds=frost.after)
                if due and not automation.frost:
                    automation.frost = True
                    self._emit("frost_protection", unit_id, {"room": room, "floor": frost.floor})
            elif room >= frost.floor + FROST_RELEASE_K:
                automation.below_floor_since = None
                automation.frost = False
        window_open = any(
            detector.is_open(now.timestamp())
            for _rule, detector, members in self._windows
            if unit_id in members
        )
        if window_open != automation.window_open:
            automation.window_open = window_open
            self._emit("window_open" if window_open else "window_closed", unit_id, {})
        # Away only when every presence rule covering the unit says so (one rule per person).
        covering = [tracker for _rule, tracker, members in self._presence if unit_id in members]
        away = bool(covering) and all(tracker.away(now.timestamp()) for tracker in covering)
        if away != automation.away:
            automation.away = away
            self._emit("presence_changed", unit_id, {"away": away})

    def _room_temperature(
        self, automation: UnitAutomation, unit: ControlledUnit, now: datetime
    ) -> float | None:
        """The remote sensor while it is fresh, else the unit's own reading."""
        room = automation.room
        if room is not None:
            if room.value is None:
                # Not heard from yet: give it its timeout from start-up before calling it stale.
                room.watching_since = room.watching_since or now
                timeout = timedelta(seconds=room.freshness.timeout)
                stale = now - room.watching_since >= timeout
            else:
                stale = room.freshness.stale(now.timestamp())
            if stale and not room.was_stale:
                self._emit(
                    "sensor_stale",
                    unit.id,
                    {"topic": room.topic, "fallback": automation.config.thermostat.fallback},
                )
            room.was_stale = stale
            if not stale:
                return room.value
        return unit.state.current_temperature

    def _decide(self, unit_id: str, automation: UnitAutomation, now: datetime) -> Decision | None:
        presets = automation.presets
        if automation.frost:
            frost = automation.config.frost
            heat = Settings(power=True, mode="heat", target_temperature=frost.setpoint)
            return self._decision(heat, "frost", {"floor": frost.floor}, presets)
        if automation.window_open:
            action = next(
                (rule.action for rule, detector, members in self._windows
                 if unit_id in members and detector.is_open(now.timestamp())),
                "off",
            )  # fmt: skip
            settings = {
                "off": Settings(power=False),
                "fan_only": Settings(power=True, mode="fan_only"),
            }.get(action, Settings(preset=action))
            return self._decision(settings, "window", {"action": action}, presets)
        if not self.clock_trusted:
            return None  # the program waits for a trustworthy clock; safety layers do not
        room = automation.room
        if (
            room is not None
            and room.was_stale
            and automation.config.thermostat.fallback != ("unit_sensor")
        ):
            fallback = automation.config.thermostat.fallback
            settings = Settings(power=False) if fallback == "off" else Settings(preset="frost")
            return self._decision(settings, "sensor_fallback", {"fallback": fallback}, presets)
        if automation.hold is not None:
            return self._decision(automation.hold.settings, "hold", automation.hold.public(),
                                  presets)  # fmt: skip
        vacation = next(
            (v for v in reversed(self.vacations)
             if v.settings is not None and v.applies_to(unit_id) and v.covers(now)),
            None,
        )  # fmt: skip
        if vacation is not None and vacation.settings is not None:
            return self._decision(vacation.settings, "vacation", {"vacation": vacation.id},
                                  presets)  # fmt: skip
        if automation.away:
            preset = next(p.away_preset for p, _t, m in self._presence if unit_id in m)
            return self._decision(Settings(preset=preset), "presence", {}, presets)
        transition = in_force(unit_id, now, list(self.programs.values()), self.calendar,
                              self.vacations)  # fmt: skip
        if transition is None:
            return None
        block = (
            self.programs[transition.program].blocks[transition.block_index]
            if (transition.program in self.programs)
            else None
        )
        detail = {
            "schedule": transition.program,
            "block": str(block.at) if block is not None else None,
            "since": transition.at.astimezone(self.zone).isoformat(),
        }
        return self._decision(transition.settings, "schedule", detail, presets)

    @staticmethod
    def _decision(
        settings: Settings, source: str, detail: dict[str, Any], presets: Mapping[str, Preset]
    ) -> Decision:
        preset = settings.preset if settings.preset in presets else None
        expanded = expand(settings, presets) if preset is not None else settings
        return Decision(expanded, source, detail, preset)

    def _announce(
        self,
        unit_id: str,
        automation: UnitAutomation,
        decision: Decision,
        previous: Decision | None,
        now: datetime,
    ) -> None:
        del now
        if decision.source == "schedule":
            key = (str(decision.detail["schedule"]), str(decision.detail["since"]))
            if key != automation.transition_key:
                automation.transition_key = key
                self._emit(
                    "schedule_applied",
                    unit_id,
                    {**decision.detail, "preset": decision.preset,
                     **decision.settings.to_json()},
                )  # fmt: skip
        elif previous is None or previous.source != decision.source:
            automation.transition_key = None

    def _apply(
        self,
        unit_id: str,
        automation: UnitAutomation,
        unit: ControlledUnit,
        decision: Decision,
        now: datetime,
    ) -> None:
        settings = decision.settings
        origin = {"hold": "hold", "sensor_fallback": "thermostat"}.get(
            decision.source, decision.source
        )
        if decision.source not in _PAUSES and automation.restore_power:
            if unit.state.power:
                automation.restore_power = False
            elif settings.power is None:
                settings = replace(settings, power=True)
        switched = through_thermostat(automation, unit, settings, now)
        if switched.power != settings.power:
            origin = "thermostat"  # the loop's own on/off: held to the compressor limits
        settings = switched
        command = command_for(settings, unit.state, unit.traits)
        if command.is_empty():
            automation.sent = None
            return
        wanted = tuple(sorted(command.fields().items(), key=lambda kv: kv[0]))
        interval = timedelta(seconds=self.config.automation.reconcile_interval)
        repeat = (
            automation.sent == wanted
            and automation.sent_at is not None
            and (now - automation.sent_at < interval)
        )
        waiting = unit.state.lockout_until is not None and command.power is not False
        if repeat or waiting:
            return  # already asked (the unit is still on its way there) or waiting for the gate
        automation.sent, automation.sent_at = wanted, now
        try:
            unit.submit(command, origin=origin)
        except CommandError as exc:
            reason = exc.message
            if reason not in automation.failed:
                automation.failed.add(reason)
                log.warning("unit %s: %s could not apply %s: %s", unit_id, origin,
                            command.fields(), reason)  # fmt: skip
                self._emit("automation_failed", unit_id,
                           {"origin": origin, "error": reason})  # fmt: skip

    # ------------------------------------------------------------------ status

    def _next_transition(self, unit_id: str, now: datetime) -> datetime | None:
        upcoming = next_change(unit_id, now, list(self.programs.values()), self.calendar,
                               self.vacations)  # fmt: skip
        return None if upcoming is None else upcoming.at

    def limits_for(self, unit_id: str) -> tuple[float, float] | None:
        """Setpoint limits of the preset in force (a manual change must stay inside them)."""
        automation = self._state.get(unit_id)
        if automation is None or automation.decision is None or automation.decision.preset is None:
            return None
        return automation.presets[automation.decision.preset].limits

    def presets_for(self, unit_id: str) -> list[str]:
        automation = self._state.get(unit_id)
        return sorted(automation.presets) if automation is not None else []

    def status(self, unit_id: str, now: datetime) -> dict[str, Any]:
        """The ``program`` object of the unit's published state."""
        automation = self._state.get(unit_id)
        if automation is None:
            return {}
        decision = automation.decision
        upcoming = next_change(unit_id, now, list(self.programs.values()), self.calendar,
                               self.vacations)  # fmt: skip
        hold = automation.hold
        room = automation.room
        return {
            "source": None if decision is None else decision.source,
            "preset": None if decision is None else decision.preset,
            "schedule": None if decision is None else decision.detail.get("schedule"),
            "block": None if decision is None else decision.detail.get("block"),
            "next_change": None
            if upcoming is None
            else upcoming.at.astimezone(self.zone).isoformat(),
            "next": None if upcoming is None else upcoming.settings.to_json(),
            "hold": None if hold is None else hold.public(),
            "window_open": automation.window_open,
            "away": automation.away,
            "frost_protection": automation.frost,
            "room_sensor": None
            if room is None
            else {"temperature": room.value, "stale": room.was_stale},
        }


def _settings_of(command: UnitCommand) -> Settings:
    fields = command.normalized().fields()
    return Settings(
        power=fields.get("power"),
        mode=None if fields.get("mode") is None else fields["mode"].value,
        target_temperature=fields.get("target_temperature"),
        fan_mode=fields.get("fan_mode"),
    )


def _overlay(base: Settings, later: Settings) -> Settings:
    fields = {**base.to_json(), **later.to_json()}
    if later.preset is None and any(k != "preset" for k in later.to_json()):
        fields.pop("preset", None)  # an explicit setpoint replaces a held preset's
    return Settings.from_json(fields)
