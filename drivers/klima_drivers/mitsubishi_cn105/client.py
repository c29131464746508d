"""The CN105 client: one serial connection to one Mitsubishi indoor unit.

Strictly one request at a time (the link is half-duplex): write a frame, then read until the
matching reply arrives or ``request_timeout`` passes. Garbage and damaged frames on the line are
skipped and counted, never fatal. Policies that span connections belong to the unit actor:
reconnecting after ~10 s without a valid frame, and re-sending the remote temperature at least
every 20-60 s (the unit falls back to its own sensor after a few minutes without one).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from klima.driver import SerialSettings
from klima.errors import (
    CommandRefusedError,
    KlimaTimeoutError,
    LinkLostError,
    ProtocolError,
)
from klima.state import Action, Mode, Observation, UnitCommand
from klima.transports.serial import open_serial
from klima_drivers.mitsubishi_cn105 import codec
from klima_drivers.mitsubishi_cn105.frames import (
    CONNECT_REPLY,
    GET_REPLY,
    IDENTIFY_REPLY,
    SET_REPLY,
    Frame,
    FrameParser,
)
from klima_drivers.mitsubishi_cn105.unit_traits import CN105_TRAITS, unit_traits

if TYPE_CHECKING:
    from collections.abc import Callable

    from klima.driver import DriverContext, FrameDirection
    from klima.state import UnitState
    from klima.traits import Traits
    from klima.transports.serial import SerialLink

log = logging.getLogger(__name__)

SERIAL_SETTINGS = SerialSettings(baudrate=2400, bytesize=8, parity="E", stopbits=1)
# echavet's cycle plus the error query; 0x05 (timers) is not needed, Klima schedules itself.
POLL_CYCLE = (
    codec.SETTINGS,
    codec.TEMPERATURES,
    codec.OPERATING_STATE,
    codec.RUN_STATE,
    codec.ERRORS,
)
# A query the unit has never answered is dropped after this many misses (old MSZ-GE/FD units
# never answer 0x09); one it has answered before is kept, a miss there is just a lost frame.
MISSES_BEFORE_SKIP = 2


class Cn105Options(BaseModel):
    """Per-unit options for the ``mitsubishi_cn105`` driver."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect_settle_s: float = Field(
        default=1.0, ge=0.0, le=10.0, description="wait after opening the port (line settling)"
    )
    connect_attempts: int = Field(default=3, ge=1, le=10, description="CONNECT frames to try")
    power_scale: float = Field(
        default=1.0,
        gt=0.0,
        le=10.0,
        description="multiplier for reported W and kWh (models that report BTU: ~0.293)",
    )


class Cn105Client:
    """:class:`klima.driver.SerialClient` for the CN105 connector."""

    def __init__(self, ctx: DriverContext, base_traits: Traits = CN105_TRAITS) -> None:
        self._ctx = ctx
        self._options = _options(ctx.options)
        self._base_traits = base_traits
        self._traits = base_traits
        self._link: SerialLink | None = None
        self._parser = FrameParser()
        self.capabilities: codec.Capabilities | None = None
        self.enhanced_setpoint: bool | None = None  # latched from the first settings reply
        self._answered: set[int] = set()
        self._misses: dict[int, int] = {}
        self._skipped: set[int] = set()
        # Event-loop time of the last valid frame, for the actor's "silent for 10 s" rule.
        self.last_frame_at: float | None = None

    @property
    def traits(self) -> Traits:
        return self._traits

    @property
    def garbage_bytes(self) -> int:
        return self._parser.garbage_bytes

    @property
    def bad_frames(self) -> int:
        return self._parser.bad_frames

    @property
    def skipped_queries(self) -> frozenset[int]:
        return frozenset(self._skipped)

    # --- connection ---------------------------------------------------------------------

    async def connect(self) -> None:
        if self._link is not None:
            await self.close()
        self._link = await open_serial(self._ctx.port, SERIAL_SETTINGS)
        try:
            if self._options.connect_settle_s > 0:
                await asyncio.sleep(self._options.connect_settle_s)
            await self._handshake()
            await self._identify()
            await self._latch_setpoint_scale()
        except BaseException:
            await self.close()
            raise

    async def _handshake(self) -> None:
        attempts = self._options.connect_attempts
        for attempt in range(1, attempts + 1):
            try:
                await self._exchange(codec.encode_connect(), CONNECT_REPLY, None, "CONNECT")
            except KlimaTimeoutError:
                log.debug("%s: no CONNECT reply (attempt %d/%d)", self._name, attempt, attempts)
                continue
            log.info("%s: connected on %s", self._name, self._ctx.port)
            return
        raise KlimaTimeoutError(
            f"{self._name}: the unit on {self._ctx.port} did not answer CONNECT after "
            f"{attempts} attempts (check TX/RX, 5 V levels and pull-ups)"
        )

    async def _identify(self) -> None:
        """Read the C9 capability record once; units without it keep the protocol's traits."""
        try:
            frame = await self._exchange(
                codec.encode_identify(), IDENTIFY_REPLY, codec.CAPABILITIES, "identify C9"
            )
            self.capabilities = codec.decode_capabilities(frame.payload)
        except (KlimaTimeoutError, ProtocolError) as exc:
            log.info("%s: no capability record (%s); using default traits", self._name, exc)
            return
        self._refresh_traits()

    async def _latch_setpoint_scale(self) -> None:
        """Learn the setpoint scale now, so ``traits`` is right before the first poll."""
        try:
            frame = await self._query(codec.SETTINGS)
        except KlimaTimeoutError:
            log.info("%s: no settings reply yet; setpoint scale unknown", self._name)
            return
        self._note_settings(codec.decode_settings(frame.payload))

    async def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.close()

    # --- polling ------------------------------------------------------------------------

    async def poll(self, interrupted: Callable[[], bool] | None = None) -> Observation:
        """One cycle of queries. Raises KlimaTimeoutError if the settings query goes unanswered.

        ``interrupted`` is asked between queries; once it says yes (a command is waiting) the
        cycle ends early with what it has, so the command does not wait for the whole cycle.
        """
        replies: dict[int, bytes] = {}
        complete = True
        for code in POLL_CYCLE:
            if code in self._skipped:
                continue
            if replies and interrupted is not None and interrupted():
                complete = False
                break
            try:
                frame = await self._query(code)
            except KlimaTimeoutError:
                if code == codec.SETTINGS:
                    raise
                self._note_miss(code)
                continue
            replies[code] = frame.payload
        return self._observation(replies, complete=complete)

    async def _query(self, code: int) -> Frame:
        name = codec.QUERY_NAMES.get(code, f"{code:02X}")
        frame = await self._exchange(codec.encode_get(code), GET_REPLY, code, f"{name} query")
        self._answered.add(code)
        self._misses.pop(code, None)
        return frame

    def _note_miss(self, code: int) -> None:
        name = codec.QUERY_NAMES.get(code, f"{code:02X}")
        if code in self._answered:
            log.debug("%s: %s query went unanswered this cycle", self._name, name)
            return
        self._misses[code] = misses = self._misses.get(code, 0) + 1
        if misses >= MISSES_BEFORE_SKIP:
            self._skipped.add(code)
            log.info("%s: the unit never answers the %s query; not asking again", self._name, name)

    def _observation(self, replies: dict[int, bytes], *, complete: bool = True) -> Observation:
        settings = codec.decode_settings(replies[codec.SETTINGS])
        self._note_settings(settings)
        temps = operating = run = None
        fields: dict[str, Any] = {}
        if codec.TEMPERATURES in replies:
            temps = codec.decode_temperatures(replies[codec.TEMPERATURES])
            fields["current_temperature"] = temps.room_temperature
            fields["outdoor_temperature"] = temps.outdoor_temperature
            fields["operating_minutes"] = temps.operating_minutes
        if codec.OPERATING_STATE in replies:
            operating = codec.decode_operating(replies[codec.OPERATING_STATE])
            scale = self._options.power_scale
            fields["compressor_frequency"] = operating.compressor_frequency
            fields["power_w"] = round(operating.power_w * scale, 1)
            fields["energy_kwh"] = round(operating.energy_kwh * scale, 3)
        if codec.RUN_STATE in replies:
            run = codec.decode_run_state(replies[codec.RUN_STATE])
        cleared: set[str] = set()
        action = derive_action(settings, operating, run, temps.room_temperature if temps else None)
        if action is None and complete:
            cleared.add("action")  # not enough reported to tell: unknown, not the old value
        if codec.ERRORS in replies:
            fields["fault_code"] = codec.decode_errors(replies[codec.ERRORS])
            if fields["fault_code"] is None:
                cleared.add("fault_code")  # "no error" must clear an earlier fault
        return Observation(
            cleared=frozenset(cleared),
            power=settings.power,
            mode=settings.mode,
            target_temperature=settings.target_temperature,
            fan_mode=settings.fan_mode,
            swing_mode=settings.swing_mode,
            swing_horizontal_mode=settings.swing_horizontal_mode,
            action=action,
            **fields,
        )

    def _note_settings(self, settings: codec.Settings) -> None:
        if settings.enhanced_setpoint != self.enhanced_setpoint:
            self.enhanced_setpoint = settings.enhanced_setpoint
            log.info(
                "%s: the unit uses the %s setpoint scale",
                self._name,
                "half-degree" if settings.enhanced_setpoint else "legacy whole-degree",
            )
            self._refresh_traits()

    def _refresh_traits(self) -> None:
        self._traits = unit_traits(self._base_traits, self.capabilities, self.enhanced_setpoint)

    # --- commands -----------------------------------------------------------------------

    async def apply(self, command: UnitCommand, current: UnitState) -> None:
        """Send one set frame carrying only the fields that differ from ``current``."""
        changes = _changed_fields(command.normalized(), current)
        if not changes:
            log.debug("%s: nothing to change", self._name)
            return
        # Never send the enhanced byte alone to a unit that has not shown it reads it.
        frame = codec.encode_set(UnitCommand(**changes), enhanced=self.enhanced_setpoint is True)
        reply = await self._exchange(frame, SET_REPLY, None, "set acknowledgement")
        if not codec.decode_set_ack(reply.payload):
            readable = ", ".join(f"{k}={getattr(v, 'value', v)}" for k, v in changes.items())
            raise CommandRefusedError(f"{self._name}: the unit rejected the settings {readable}")
        log.info("%s: sent %s", self._name, changes)

    async def set_remote_temperature(self, celsius: float | None) -> None:
        """Send one 0x07 frame. Re-sending it before the unit times out is the actor's job."""
        frame = codec.encode_remote_temperature(celsius)
        reply = await self._exchange(frame, SET_REPLY, None, "remote temperature acknowledgement")
        if not codec.decode_set_ack(reply.payload):
            raise CommandRefusedError(f"{self._name}: the unit rejected the remote temperature")

    # --- the wire -----------------------------------------------------------------------

    async def _exchange(
        self, request: bytes, reply_type: int, code: int | None, what: str
    ) -> Frame:
        """Write ``request`` and return the first frame of ``reply_type`` (and ``code``)."""
        link = self._link
        if link is None:
            raise LinkLostError(f"{self._name}: not connected")
        # Half-duplex: anything already buffered answers an earlier request that timed out.
        link.discard_input()
        self._parser.clear()
        self._tap("tx", request)
        await link.write(request)
        timeout = self._ctx.request_timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            try:
                data = await link.read(remaining)
            except KlimaTimeoutError:
                break
            garbage_before = self._parser.garbage_bytes
            for frame in self._parser.feed(data):
                self.last_frame_at = loop.time()
                self._tap("rx", frame.raw)
                if frame.type == reply_type and (code is None or frame.code == code):
                    return frame
                log.debug("%s: ignoring %s while waiting for %s", self._name, frame.hex(), what)
            if self._parser.missing:
                # At 2400 baud bytes trickle in one by one; waking up for each costs most of
                # the daemon's idle CPU. Sleep until the rest of the frame can be there.
                await link.gather_input(min(self._parser.missing * BYTE_TIME, remaining))
            if self._parser.garbage_bytes != garbage_before:
                log.debug(
                    "%s: skipped %d garbage bytes (%d bad frames so far)",
                    self._name,
                    self._parser.garbage_bytes - garbage_before,
                    self._parser.bad_frames,
                )
        raise KlimaTimeoutError(f"{self._name}: no {what} reply within {timeout:g} s")

    def _tap(self, direction: FrameDirection, raw: bytes) -> None:
        log.debug("%s %s %s", self._name, direction, raw.hex(" ").upper())
        if self._ctx.frame_tap is not None:
            self._ctx.frame_tap(direction, raw)

    @property
    def _name(self) -> str:
        return self._ctx.unit_id


# Seconds per byte on the wire: start bit, 8 data bits, parity, stop bit.
BYTE_TIME = 11 / SERIAL_SETTINGS.baudrate


def derive_action(
    settings: codec.Settings,
    operating: codec.OperatingState | None,
    run: codec.RunState | None,
    room_temperature: float | None,
) -> Action | None:
    """What the unit is doing; ``None`` when the unit does not report enough to say."""
    if not settings.power:
        return Action.OFF
    if run is not None and run.defrost:
        return Action.DEFROSTING
    if run is not None and run.preheat:
        return Action.PREHEATING
    if settings.mode is Mode.FAN_ONLY:
        return Action.FAN
    if operating is None:
        return None
    if not operating.operating:
        return Action.IDLE
    if settings.mode is Mode.HEAT_COOL:
        # The auto sub-state byte means different things on different units (serial.md
        # §3.5.6), so infer the direction from which side of the setpoint the room is on.
        target = settings.target_temperature
        if room_temperature is None or target is None or room_temperature == target:
            return Action.IDLE
        return Action.HEATING if room_temperature < target else Action.COOLING
    by_mode = {Mode.HEAT: Action.HEATING, Mode.COOL: Action.COOLING, Mode.DRY: Action.DRYING}
    return by_mode.get(settings.mode) if settings.mode else None


def _changed_fields(command: UnitCommand, current: UnitState) -> dict[str, Any]:
    return {
        name: value
        for name, value in command.fields().items()
        if getattr(current, name, None) != value
    }


def _options(options: BaseModel) -> Cn105Options:
    if isinstance(options, Cn105Options):
        return options
    return Cn105Options.model_validate(options.model_dump())


def create_client(ctx: DriverContext) -> Cn105Client:
    return Cn105Client(ctx)
