"""The real CN105 driver client against the CN105 simulator over a pseudo-terminal.

Nothing is mocked: the client opens the endpoint's symlink with pyserial, the simulated unit
answers through the driver's own codec in the device role, and a ScaledClock lets the room
respond to what the client sets.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from klima.driver import DriverContext
from klima.errors import DriverError, KlimaTimeoutError, LinkLostError
from klima.state import Action, Mode, StateSource, UnitCommand, UnitState
from klima_drivers.mitsubishi_cn105 import DRIVER
from klima_sim.clock import ScaledClock
from klima_sim.serial_sim import SerialSimulator

if TYPE_CHECKING:
    from klima.driver import SerialClient
    from klima_sim.serial_sim import SerialEndpoint


def make_client(endpoint: SerialEndpoint) -> SerialClient:
    assert DRIVER.create_client is not None
    options = DRIVER.options_model(connect_settle_s=0)
    return DRIVER.create_client(
        DriverContext(
            unit_id=endpoint.unit_id, port=endpoint.port, options=options, request_timeout=0.5
        )
    )


async def test_client_polls_sets_and_sees_the_room_respond() -> None:
    async with SerialSimulator("mitsubishi_cn105", units=2, clock=ScaledClock(60), seed=1) as sim:
        endpoint, other = sim.endpoints
        unit = endpoint.unit
        client = make_client(endpoint)
        await client.connect()
        try:
            first = await client.poll()
            assert first.power is False
            assert first.action is Action.OFF
            assert first.current_temperature == pytest.approx(unit.room_temperature, abs=0.5)

            state = UnitState().observe(first, StateSource.REPORTED, seen=datetime.now(UTC))
            await client.apply(UnitCommand(mode=Mode.HEAT, target_temperature=23.5), state)
            assert (unit.power, unit.mode, unit.target_temperature) == (True, Mode.HEAT, 23.5)
            assert other.unit.power is False, "each endpoint drives its own unit"

            await asyncio.sleep(0.3)  # 18 simulated seconds: the compressor starts
            running = await client.poll()
            assert (running.power, running.mode, running.target_temperature) == (
                True,
                Mode.HEAT,
                23.5,
            )
            assert running.compressor_frequency is not None
            assert running.compressor_frequency > 0
            assert running.action in (Action.PREHEATING, Action.HEATING)
            assert running.power_w is not None
            assert running.power_w > 100

            await client.set_remote_temperature(19.0)
            assert unit.remote_temperature == 19.0

            unit.press_remote(fan_mode="high")  # the unit's own IR remote, behind our back
            assert (await client.poll()).fan_mode == "high"

            unit.set_fault("E6")
            assert (await client.poll()).fault_code == "E6"
        finally:
            await client.close()


async def test_client_survives_garbage_on_the_line() -> None:
    async with SerialSimulator("mitsubishi_cn105", clock=ScaledClock(60), seed=3) as sim:
        endpoint = sim.endpoints[0]
        client = make_client(endpoint)
        await client.connect()
        try:
            endpoint.inject_garbage(12, now=True)
            await asyncio.sleep(0.05)
            observation = await client.poll()
            assert observation.power is False
            assert endpoint.stats.garbage_bytes == 12
        finally:
            await client.close()


async def test_silence_times_out_and_the_unit_answers_again_afterwards() -> None:
    async with SerialSimulator("mitsubishi_cn105", clock=ScaledClock(60)) as sim:
        endpoint = sim.endpoints[0]
        client = make_client(endpoint)
        await client.connect()
        try:
            endpoint.silence()
            with pytest.raises(KlimaTimeoutError):
                await client.poll()
            endpoint.silence(False)
            assert (await client.poll()).power is False
        finally:
            await client.close()


async def test_unplug_loses_the_link_and_a_new_client_reconnects_on_the_same_path() -> None:
    async with SerialSimulator("mitsubishi_cn105", clock=ScaledClock(60)) as sim:
        endpoint = sim.endpoints[0]
        port = endpoint.port
        client = make_client(endpoint)
        await client.connect()
        try:
            state = UnitState().observe(
                await client.poll(), StateSource.REPORTED, seen=datetime.now(UTC)
            )
            await client.apply(UnitCommand(power=True, mode=Mode.COOL), state)
            endpoint.unplug()
            with pytest.raises((LinkLostError, KlimaTimeoutError)):
                await client.poll()
        finally:
            await client.close()

        reconnecting = make_client(endpoint)
        with pytest.raises(DriverError, match="cannot open"):
            await reconnecting.connect()  # nothing at the path while unplugged

        endpoint.replug()
        assert endpoint.port == port
        client = make_client(endpoint)
        await client.connect()
        try:
            observation = await client.poll()
            assert (observation.power, observation.mode) == (True, Mode.COOL), "state survives"
        finally:
            await client.close()
