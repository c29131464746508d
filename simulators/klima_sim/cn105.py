"""The indoor unit's side of Mitsubishi CN105, driven by a :class:`SimulatedUnit`.

It reuses the driver's own codec in the device role, behaves like a real unit where the public
references say how (serial.md §3): it ignores everything but CONNECT until a CONNECT arrived,
applies only the flagged fields of a set request, acknowledges sets with ``FC 61 … 5E``, answers
the identify request for record C9, and stays silent on queries it does not know. An "old unit"
(``enhanced_setpoint=False``) reads only the legacy setpoint byte and reports no half-degree
bytes; ``answers_run_state=False`` makes it ignore 0x09 like MSZ-GE/FD units.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from klima.errors import ProtocolError
from klima.state import Mode
from klima_drivers.mitsubishi_cn105 import codec
from klima_drivers.mitsubishi_cn105.frames import (
    CONNECT_REQUEST,
    GET_REQUEST,
    IDENTIFY_REQUEST,
    SET_REQUEST,
    Frame,
    FrameParser,
)

if TYPE_CHECKING:
    from klima.state import UnitCommand
    from klima_sim.unit import SimulatedUnit

log = logging.getLogger(__name__)

# What the simulated unit reports in its C9 record: the MSZ-GS12NA sample in the muart docs.
_LIMITS_COOL_DRY = (16.0, 31.0)
_LIMITS_HEAT = (10.0, 31.0)
_LIMITS_AUTO = (16.0, 31.0)
# 0x09 auto sub-state, newer-unit bitfield (serial.md §3.5.6): 40 not auto, 41 auto idle,
# 43 auto with the compressor engaged.
_AUTO_NOT_ACTIVE, _AUTO_IDLE, _AUTO_ENGAGED = 0x40, 0x41, 0x43


class Cn105Device:
    """Bytes from the host in (any split, any garbage), reply bytes out."""

    def __init__(self, unit: SimulatedUnit) -> None:
        self.unit = unit
        self.connected = False
        self.ignored_frames = 0  # valid frames the unit did not answer
        self.refuse_sets = False  # fault injection: answer every set request with "refused"
        self._parser = FrameParser()

    @property
    def garbage_bytes(self) -> int:
        return self._parser.garbage_bytes

    @property
    def bad_frames(self) -> int:
        return self._parser.bad_frames

    def receive(self, data: bytes) -> bytes:
        """Feed host bytes; return the replies to every complete valid frame among them."""
        return b"".join(self.handle(frame) for frame in self._parser.feed(data))

    def handle(self, frame: Frame) -> bytes:
        """The reply to one frame (empty when a real unit would stay silent)."""
        if frame.type == CONNECT_REQUEST:
            self.connected = True
            return codec.encode_connect_reply()
        reply = b""
        if not self.connected:
            pass  # a real unit ignores requests until it has seen CONNECT (SwiCago #20)
        elif frame.type == SET_REQUEST:
            reply = self._set(frame)
        elif frame.type == GET_REQUEST and frame.code is not None:
            reply = self._get(frame.code)
        elif frame.type == IDENTIFY_REQUEST and frame.code == codec.CAPABILITIES:
            reply = codec.encode_capabilities_reply(self._capabilities())
        if not reply:
            self.ignored_frames += 1
            log.debug("cn105 device: no reply to %s", frame.hex())
        return reply

    # --- set requests -------------------------------------------------------------------

    def _set(self, frame: Frame) -> bytes:
        unit = self.unit
        if self.refuse_sets:
            return codec.encode_set_ack(accepted=False)
        try:
            if frame.code == codec.SET_SETTINGS:
                command = codec.decode_set_request(
                    frame.payload, reads_enhanced=unit.enhanced_setpoint
                )
                unit.advance()  # the time until now ran under the old settings
                self._apply(command)
            elif frame.code == codec.SET_REMOTE_TEMPERATURE:
                unit.advance()
                unit.remote_temperature = codec.decode_remote_temperature(frame.payload)
        except ProtocolError as exc:
            log.warning("cn105 device: rejecting %s: %s", frame.hex(), exc)
            return codec.encode_set_ack(accepted=False)
        # Other set commands (0x08 options, installer functions) are acknowledged and ignored.
        return codec.encode_set_ack()

    def _apply(self, command: UnitCommand) -> None:
        unit = self.unit
        if command.power is not None:
            unit.power = command.power
        if command.mode is not None:
            unit.mode = command.mode
        if command.target_temperature is not None:
            unit.target_temperature = command.target_temperature
        if command.fan_mode is not None:
            unit.fan_mode = command.fan_mode
        if command.swing_mode is not None:
            unit.swing_mode = command.swing_mode
        if command.swing_horizontal_mode is not None:
            unit.swing_horizontal_mode = command.swing_horizontal_mode

    # --- queries ------------------------------------------------------------------------

    def _get(self, code: int) -> bytes:
        unit = self.unit
        if code == codec.SETTINGS:
            return codec.encode_settings_reply(
                codec.Settings(
                    power=unit.power,
                    mode=unit.mode,
                    target_temperature=unit.target_temperature,
                    fan_mode=unit.fan_mode,
                    swing_mode=unit.swing_mode,
                    swing_horizontal_mode=unit.swing_horizontal_mode,
                    enhanced_setpoint=unit.enhanced_setpoint,
                )
            )
        if code == codec.TEMPERATURES:
            unit.advance()
            # The unit reports the temperature it regulates on: the host's, once it sent one.
            room = (
                unit.remote_temperature
                if unit.remote_temperature is not None
                else unit.room_temperature
            )
            temps = codec.Temperatures(
                room_temperature=room,
                outdoor_temperature=unit.outdoor_temperature,
                operating_minutes=unit.operating_minutes,
            )
            return codec.encode_temperatures_reply(temps, enhanced=unit.enhanced_setpoint)
        if code == codec.ERRORS:
            return codec.encode_errors_reply(unit.error_code)
        if code == codec.OPERATING_STATE:
            unit.advance()
            return codec.encode_operating_reply(
                codec.OperatingState(
                    compressor_frequency=unit.compressor_frequency,
                    operating=unit.operating,
                    power_w=round(unit.power_w),
                    energy_kwh=unit.energy_kwh,
                )
            )
        if code == codec.RUN_STATE and unit.answers_run_state:
            unit.advance()
            return codec.encode_run_state_reply(
                codec.RunState(
                    defrost=unit.defrosting,
                    preheat=unit.preheating,
                    fan_stage=unit.fan_stage,
                    auto_substate=self._auto_substate(),
                )
            )
        return b""

    def _auto_substate(self) -> int:
        if not self.unit.power or self.unit.mode is not Mode.HEAT_COOL:
            return _AUTO_NOT_ACTIVE
        return _AUTO_ENGAGED if self.unit.operating else _AUTO_IDLE

    def _capabilities(self) -> codec.Capabilities:
        """Old units report no setpoint limits (like MSZ-GE35VA); newer ones the GS12NA set."""
        enhanced = self.unit.enhanced_setpoint
        return codec.Capabilities(
            extended_range=enhanced,
            outdoor_temperature=self.unit.outdoor_temperature is not None,
            cool_dry_limits=_LIMITS_COOL_DRY if enhanced else None,
            heat_limits=_LIMITS_HEAT if enhanced else None,
            auto_limits=_LIMITS_AUTO if enhanced else None,
        )
