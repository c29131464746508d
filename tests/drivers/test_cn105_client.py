"""Cn105Client against the simulated unit over a real pseudo-terminal (pyserial opens the slave)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from klima.driver import DriverContext
from klima.errors import DriverError, KlimaTimeoutError, LinkLostError
from klima.state import Action, Mode, UnitCommand, UnitState
from klima_drivers.mitsubishi_cn105 import codec
from klima_drivers.mitsubishi_cn105.client import Cn105Client, Cn105Options
from klima_drivers.mitsubishi_cn105.frames import FrameParser, parse_frame
from klima_sim.clock import ManualClock

if TYPE_CHECKING:
    from conftest import Cn105Pty, ServeCn105, UnitFactory

REQUEST_TIMEOUT = 0.25
Taps = list[tuple[str, bytes]]


def make_client(port: str, taps: Taps | None = None, **options: Any) -> Cn105Client:
    options.setdefault("connect_settle_s", 0.0)
    ctx = DriverContext(
        unit_id="living",
        port=port,
        options=Cn105Options(**options),
        request_timeout=REQUEST_TIMEOUT,
        frame_tap=(lambda direction, raw: taps.append((direction, raw)))
        if taps is not None
        else None,
    )
    return Cn105Client(ctx)


def sent_codes(received: bytes | bytearray, frame_type: int) -> list[int | None]:
    return [f.code for f in FrameParser().feed(bytes(received)) if f.type == frame_type]


async def test_connect_learns_capabilities_and_poll_reads_the_unit(cn105_pty: Cn105Pty) -> None:
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        # C9 record: heat down to 10 °C; the settings reply showed the half-degree scale.
        assert client.traits.limits_for(Mode.HEAT) == (10.0, 31.0)
        assert client.traits.limits_for(Mode.COOL) == (16.0, 31.0)
        assert client.traits.temp_step == 0.5
        assert client.enhanced_setpoint is True
        obs = await client.poll()
    finally:
        await client.close()
    assert obs.power is False
    assert obs.mode is Mode.HEAT
    assert obs.target_temperature == 21.0
    assert obs.current_temperature == 19.0
    assert obs.action is Action.OFF
    assert obs.fan_mode == "auto"
    assert obs.swing_horizontal_mode == "center"
    assert obs.compressor_frequency == 0
    assert obs.fault_code is None
    assert obs.outdoor_temperature == pytest.approx(cn105_pty.unit.outdoor_temperature, abs=0.5)
    # The handshake came first, then identify, then one request per query.
    first = parse_frame(bytes(cn105_pty.received[:8]))
    assert first.raw == codec.encode_connect()
    assert sent_codes(cn105_pty.received, 0x42) == [2, 2, 3, 6, 9, 4]


async def test_apply_sends_only_what_changed_and_the_unit_follows(cn105_pty: Cn105Pty) -> None:
    taps: Taps = []
    client = make_client(cn105_pty.port, taps)
    await client.connect()
    try:
        current = UnitState(power=False, mode=Mode.HEAT, target_temperature=21.0, fan_mode="auto")
        command = UnitCommand(mode=Mode.COOL, target_temperature=22.5, fan_mode="auto")
        await client.apply(command, current)
        obs = await client.poll()
    finally:
        await client.close()
    unit = cn105_pty.unit
    assert (unit.power, unit.mode, unit.target_temperature) == (True, Mode.COOL, 22.5)
    sets = [parse_frame(raw) for direction, raw in taps if direction == "tx" and raw[1] == 0x41]
    assert len(sets) == 1
    # fan_mode was already "auto": not flagged. Mode implies power on.
    assert codec.decode_set_request(sets[0].payload) == UnitCommand(
        power=True, mode=Mode.COOL, target_temperature=22.5
    )
    assert sets[0].raw[19] == 0xAD  # the enhanced byte, as the unit reported it understands
    assert (obs.power, obs.mode, obs.target_temperature) == (True, Mode.COOL, 22.5)


async def test_apply_without_changes_sends_nothing(cn105_pty: Cn105Pty) -> None:
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        before = len(cn105_pty.received)
        current = UnitState(power=False, mode=Mode.HEAT, target_temperature=21.0)
        await client.apply(UnitCommand(power=False, target_temperature=21.0), current)
        assert len(cn105_pty.received) == before
    finally:
        await client.close()


async def test_every_frame_goes_to_the_tap(cn105_pty: Cn105Pty) -> None:
    taps: Taps = []
    client = make_client(cn105_pty.port, taps)
    await client.connect()
    await client.poll()
    await client.close()
    tx = [raw for d, raw in taps if d == "tx"]
    rx = [raw for d, raw in taps if d == "rx"]
    assert client.last_frame_at is not None
    assert tx[0] == codec.encode_connect()
    assert rx[0] == codec.encode_connect_reply()
    assert len(tx) == len(rx) == 1 + 1 + 1 + 5  # connect, identify, scale read, poll cycle
    assert all(parse_frame(raw) for raw in tx + rx)


async def test_old_unit_gets_legacy_setpoints_and_whole_degrees(
    make_unit: UnitFactory, serve_cn105: ServeCn105
) -> None:
    unit = make_unit(enhanced_setpoint=False, target_temperature=20.0)
    async with serve_cn105(unit) as pty:
        client = make_client(pty.port)
        await client.connect()
        try:
            assert client.enhanced_setpoint is False
            assert client.traits.temp_step == 1.0
            assert client.traits.limits_for(Mode.HEAT) == (16.0, 31.0)
            await client.apply(UnitCommand(target_temperature=23.0), UnitState(mode=Mode.HEAT))
        finally:
            await client.close()
    assert unit.target_temperature == 23.0  # a unit reading only byte 10 got the right value


async def test_queries_an_old_unit_never_answers_are_dropped(
    make_unit: UnitFactory, serve_cn105: ServeCn105
) -> None:
    unit = make_unit(answers_run_state=False)
    async with serve_cn105(unit) as pty:
        client = make_client(pty.port)
        await client.connect()
        try:
            for _ in range(3):
                obs = await client.poll()
            assert client.skipped_queries == {codec.RUN_STATE}
            assert obs.target_temperature == unit.target_temperature
        finally:
            await client.close()
        # Asked twice, then never again.
        assert sent_codes(pty.received, 0x42).count(codec.RUN_STATE) == 2


async def test_remote_temperature_reaches_the_unit_and_can_be_reverted(cn105_pty: Cn105Pty) -> None:
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        await client.set_remote_temperature(22.8)
        assert cn105_pty.unit.remote_temperature == 23.0
        obs = await client.poll()
        assert obs.current_temperature == 23.0  # the unit reports what it regulates on
        await client.set_remote_temperature(None)
        assert cn105_pty.unit.remote_temperature is None
    finally:
        await client.close()


async def test_poll_reports_heating_fault_and_scaled_power(
    make_unit: UnitFactory, serve_cn105: ServeCn105
) -> None:
    unit = make_unit(power=True, mode=Mode.HEAT, target_temperature=25.0, room_temperature=18.0)
    async with serve_cn105(unit) as pty:
        client = make_client(pty.port, power_scale=0.5)
        await client.connect()
        try:
            assert isinstance(unit.clock, ManualClock)
            unit.clock.advance(900)  # past the compressor start and the coil's preheat
            obs = await client.poll()
            assert obs.action is Action.HEATING
            assert obs.compressor_frequency == unit.compressor_frequency > 0
            assert obs.power_w == pytest.approx(round(unit.power_w) * 0.5, abs=0.01)
            unit.set_fault("E6")
            obs = await client.poll()
            assert obs.fault_code == "E6"
            assert obs.action is Action.IDLE  # a faulted unit stops conditioning
        finally:
            await client.close()


async def test_garbage_and_damaged_frames_on_the_line_are_skipped(cn105_pty: Cn105Pty) -> None:
    def noisy(reply: bytes) -> bytes:
        if not reply:
            return reply
        damaged = bytearray(reply)
        damaged[-1] ^= 0x55
        return b"\x00\xfc\x13" + bytes(damaged) + b"\xaa" + reply

    cn105_pty.reply_filter = noisy
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        obs = await client.poll()
    finally:
        await client.close()
    assert obs.target_temperature == 21.0
    assert client.bad_frames >= 8
    assert client.garbage_bytes > 0


async def test_silent_unit_fails_connect_with_a_timeout(cn105_pty: Cn105Pty) -> None:
    cn105_pty.reply_filter = lambda reply: b""
    client = make_client(cn105_pty.port, connect_attempts=2)
    with pytest.raises(KlimaTimeoutError, match="did not answer CONNECT after 2 attempts"):
        await client.connect()
    assert sent_codes(cn105_pty.received, 0x5A) == [0xCA, 0xCA]


async def test_unanswered_settings_query_is_a_timeout(cn105_pty: Cn105Pty) -> None:
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        cn105_pty.reply_filter = lambda reply: b""
        with pytest.raises(KlimaTimeoutError, match="settings query"):
            await client.poll()
    finally:
        await client.close()


async def test_unit_without_identify_keeps_the_protocol_traits(cn105_pty: Cn105Pty) -> None:
    cn105_pty.reply_filter = lambda reply: b"" if reply[1:2] == b"\x7b" else reply
    client = make_client(cn105_pty.port)
    await client.connect()
    await client.close()
    assert client.capabilities is None
    assert client.traits.limits_for(Mode.HEAT) == (16.0, 31.0)


async def test_rejected_set_is_a_driver_error(cn105_pty: Cn105Pty) -> None:
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        cn105_pty.reply_filter = lambda reply: (
            codec.encode_set_ack(accepted=False) if reply[1:2] == b"\x61" else reply
        )
        with pytest.raises(DriverError, match="rejected"):
            await client.apply(UnitCommand(power=True), UnitState())
    finally:
        await client.close()


async def test_unplugged_port_is_link_lost(cn105_pty: Cn105Pty) -> None:
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        cn105_pty.hang_up()
        with pytest.raises(LinkLostError):
            await client.poll()
    finally:
        await client.close()


async def test_calls_after_close_are_link_lost(cn105_pty: Cn105Pty) -> None:
    client = make_client(cn105_pty.port)
    await client.connect()
    await client.close()
    with pytest.raises(LinkLostError):
        await client.poll()


async def test_poll_ends_early_when_a_command_is_waiting(cn105_pty: Cn105Pty) -> None:
    """After the settings reply the cycle stops once `interrupted()` says a command waits."""
    client = make_client(cn105_pty.port)
    await client.connect()
    try:
        before = len(sent_codes(cn105_pty.received, 0x42))
        observation = await client.poll(interrupted=lambda: True)
    finally:
        await client.close()
    assert sent_codes(cn105_pty.received, 0x42)[before:] == [2]  # settings only
    assert observation.power is False
    assert observation.current_temperature is None  # the temperatures query was skipped
    assert "action" not in observation.cleared  # unread is not "unknown"
