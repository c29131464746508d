"""The unmodified python-broadlink 0.19.0 against the Broadlink simulator over UDP loopback.

These tests use the library directly (in a thread, it blocks) to show the simulator is a
faithful device: discovery, auth, both RM framings, sensors, learning, retransmissions and the
error codes of broadlink.md §A7/§A9. The facade is tested in test_broadlink_hub.py.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any, TypeVar

import broadlink
import pytest
from broadlink import exceptions as blx

from klima.ir import CodecEncoder, IrSignal
from klima.irpacket import broadlink_to_signal, signal_to_broadlink
from klima.state import Mode, UnitState
from klima_drivers.coolix_ir.codec import CODEC as COOLIX
from klima_drivers.gree_ir.codec import CODEC as GREE
from klima_drivers.mitsubishi_ir.codec import CODEC as MITSUBISHI
from klima_sim.broadlink_sim import BroadlinkEndpoint, BroadlinkSimulator, EndpointSpec

if TYPE_CHECKING:
    from collections.abc import Callable

    from klima_sim.broadlink_units import IrUnit

T = TypeVar("T")
RM_MINI3, RM_MINI3_NEW, RM4_MINI, RM4_PRO, RM4_PRO_2, RM_PRO = (
    0x2737,
    0x5F36,
    0x51DA,
    0x6026,
    0x520B,
    0x2712,
)
COOL_22_5 = UnitState(
    power=True,
    mode=Mode.COOL,
    target_temperature=22.5,
    fan_mode="high",
    swing_mode="lowest",
    swing_horizontal_mode="left",
)
# A NEC-like pulse list no AC codec understands (broadlink.md §A10.4 example 1).
FOREIGN = signal_to_broadlink(IrSignal((9000, 4500, 560, 560, 560, 1690, 560, 40000)))


async def blocking(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


def connect(endpoint: BroadlinkEndpoint, timeout: float = 1.0) -> Any:
    device = broadlink.gendevice(endpoint.devtype, (endpoint.host, endpoint.port), endpoint.mac)
    device.timeout = timeout
    device.auth()
    return device


def discover_at(port: int) -> list[Any]:
    return list(
        broadlink.discover(timeout=0.3, discover_ip_address="127.0.0.1", discover_ip_port=port)
    )


def powered(ir_unit: IrUnit) -> bool:
    """The unit's power as observed now (a call, so mypy does not pin an earlier check)."""
    return bool(ir_unit.unit.power)


def mitsubishi_packet(state: UnitState) -> bytes:
    [packet] = CodecEncoder(MITSUBISHI).packets(state, None)
    return packet


@pytest.mark.parametrize(
    ("devtype", "family"),
    [
        (RM_MINI3, "RMMINI"),
        (RM_MINI3_NEW, "RMMINIB"),
        (RM4_MINI, "RM4MINI"),
        (RM4_PRO, "RM4PRO"),
        (RM4_PRO_2, "RM4PRO"),
        (RM_PRO, "RMPRO"),
    ],
)
async def test_unicast_hello_identifies_the_device(devtype: int, family: str) -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=devtype, name="Hall")]) as sim:
        endpoint = sim.endpoints[0]
        device = await blocking(lambda: broadlink.hello("127.0.0.1", port=endpoint.port, timeout=1))
    assert device.host == ("127.0.0.1", endpoint.port)
    assert device.devtype == devtype
    assert device.mac == endpoint.mac
    assert device.type == family
    assert device.name == "Hall"
    assert device.is_locked is False
    assert endpoint.stats.hellos == 1


async def test_discover_to_loopback_finds_every_endpoint_once() -> None:
    specs = [EndpointSpec(devtype=RM4_PRO), EndpointSpec(devtype=RM_MINI3)]
    async with BroadlinkSimulator(specs) as sim:
        found = []
        for endpoint in sim.endpoints:
            found += await blocking(functools.partial(discover_at, endpoint.port))
    assert [(d.devtype, d.mac) for d in found] == [(e.devtype, e.mac) for e in sim.endpoints]


@pytest.mark.parametrize("devtype", [RM_MINI3, RM_MINI3_NEW, RM4_MINI, RM4_PRO])
async def test_send_data_drives_the_unit_in_both_framings(devtype: int) -> None:
    spec = EndpointSpec(devtype=devtype, units=["mitsubishi_ir"])
    async with BroadlinkSimulator([spec]) as sim:
        endpoint = sim.endpoints[0]
        unit = endpoint.units[0]
        device = await blocking(lambda: connect(endpoint))
        await blocking(lambda: device.send_data(mitsubishi_packet(COOL_22_5)))
        assert unit.unit.power is True
        assert unit.unit.mode is Mode.COOL
        assert unit.unit.target_temperature == 22.5
        assert (unit.unit.fan_mode, unit.unit.swing_mode) == ("high", "lowest")
        assert unit.unit.swing_horizontal_mode == "left"
        off = COOL_22_5.replace(power=False)
        await blocking(lambda: device.send_data(mitsubishi_packet(off)))
        assert not powered(unit)
    assert endpoint.stats.ir_frames == 2
    assert endpoint.stats.decoded_frames == 2
    assert endpoint.received[0].decoded[0][0] == unit.unit_id


async def test_each_unit_follows_only_its_own_brand() -> None:
    spec = EndpointSpec(devtype=RM4_MINI, units=["mitsubishi_ir", "gree_ir"])
    async with BroadlinkSimulator([spec]) as sim:
        endpoint = sim.endpoints[0]
        mitsubishi, gree = endpoint.units
        device = await blocking(lambda: connect(endpoint))
        heat = UnitState(power=True, mode=Mode.HEAT, target_temperature=25.0, fan_mode="low")
        [packet] = CodecEncoder(GREE).packets(heat, None)
        await blocking(lambda: device.send_data(packet))
        assert (gree.unit.power, gree.unit.mode, gree.unit.target_temperature) == (
            True,
            Mode.HEAT,
            25.0,
        )
        assert mitsubishi.unit.power is False
        assert mitsubishi.frames_applied == 0


async def test_a_unit_without_a_codec_of_its_own_listens_to_every_brand() -> None:
    # smartir drives units from learned codes; the simulated unit decodes with any codec.
    spec = EndpointSpec(units=["smartir"])
    async with BroadlinkSimulator([spec]) as sim:
        endpoint = sim.endpoints[0]
        device = await blocking(lambda: connect(endpoint))
        await blocking(lambda: device.send_data(mitsubishi_packet(COOL_22_5)))
    assert endpoint.units[0].snapshot()["target_temperature"] == 22.5
    assert endpoint.units[0].snapshot()["mode"] == "cool"


async def test_unknown_codes_are_counted_not_fatal() -> None:
    async with BroadlinkSimulator([EndpointSpec(units=["mitsubishi_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        device = await blocking(lambda: connect(endpoint))
        await blocking(lambda: device.send_data(FOREIGN))
        await blocking(lambda: device.send_data(b"\x26\x00\x40\x00\x10"))  # length lies
        assert not powered(endpoint.units[0])
        await blocking(lambda: device.send_data(mitsubishi_packet(COOL_22_5)))
        assert powered(endpoint.units[0])
    assert endpoint.stats.unknown_codes == 2
    assert endpoint.stats.decoded_frames == 1


async def test_toggle_frames_flip_the_unit_and_listeners_see_changes_only() -> None:
    previous = UnitState(power=True, mode=Mode.COOL, target_temperature=24.0, fan_mode="auto")
    swinging = previous.replace(swing_mode="auto")
    full, toggle = CodecEncoder(COOLIX).packets(swinging, previous.replace(swing_mode="off"))
    async with BroadlinkSimulator([EndpointSpec(units=["coolix_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        seen: list[dict[str, Any]] = []
        endpoint.listeners.append(lambda _unit, snapshot: seen.append(snapshot))
        device = await blocking(lambda: connect(endpoint))
        for packet in (full, full, toggle):
            await blocking(functools.partial(device.send_data, packet))
        unit = endpoint.units[0].unit
        assert unit.power is True
        assert unit.swing_mode == "auto"
        await blocking(lambda: device.send_data(toggle))
        assert unit.swing_mode == "off"
    # full (change), full again (no change), toggle on, toggle off
    assert [s["swing_mode"] for s in seen] == ["off", "auto", "off"]
    assert seen[0]["power"] is True


async def test_retransmitted_packet_is_answered_but_acted_on_once() -> None:
    # A toggle is the frame for which acting twice would be visible (ir.md §B12).
    base = UnitState(power=True, mode=Mode.COOL, target_temperature=24.0, fan_mode="auto")
    _full, toggle = CodecEncoder(COOLIX).packets(
        base.replace(swing_mode="auto"), base.replace(swing_mode="off")
    )
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI, units=["coolix_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        unit = endpoint.units[0].unit
        device = await blocking(lambda: connect(endpoint, timeout=3.0))
        endpoint.drop_replies(1)  # the library re-sends the same packet after 1 s
        await blocking(lambda: device.send_data(toggle))
    assert endpoint.stats.dropped_replies == 1
    assert endpoint.stats.duplicates == 1
    assert endpoint.stats.ir_frames == 1
    assert unit.swing_mode == "auto"  # off → auto once, not back to off


async def test_rm4_sensors_report_the_simulated_room() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI, units=["gree_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        endpoint.units[0].unit.room_temperature = 23.47
        endpoint.humidity = 61.25
        device = await blocking(lambda: connect(endpoint))
        reading = await blocking(device.check_sensors)
        assert reading == {"temperature": pytest.approx(23.47), "humidity": 61.25}
        endpoint.sensor_temperature = -3.25
        assert await blocking(device.check_temperature) == pytest.approx(-3.25)


async def test_rm_pro_reports_temperature_in_tenths() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM_PRO)]) as sim:
        endpoint = sim.endpoints[0]
        endpoint.sensor_temperature = 19.26
        device = await blocking(lambda: connect(endpoint))
        assert await blocking(device.check_sensors) == {"temperature": pytest.approx(19.3)}


@pytest.mark.parametrize(
    ("devtype", "not_learned", "error"),
    [(RM4_PRO, -10, blx.ReadError), (RM_MINI3, -5, blx.StorageError)],
)
async def test_learning_returns_the_remote_press(
    devtype: int, not_learned: int, error: type[Exception]
) -> None:
    remote = MITSUBISHI.modulate(MITSUBISHI.encode(COOL_22_5, None)[0])
    async with BroadlinkSimulator([EndpointSpec(devtype=devtype)]) as sim:
        endpoint = sim.endpoints[0]
        endpoint.not_learned_error = not_learned
        device = await blocking(lambda: connect(endpoint))
        await blocking(device.enter_learning)
        with pytest.raises(error):
            await blocking(device.check_data)
        endpoint.press_remote(remote)
        code = await blocking(device.check_data)
        assert endpoint.learning is False
    assert endpoint.units == []
    assert code[0] == 0x26
    learned = broadlink_to_signal(code).pulses
    assert len(learned) == len(remote.pulses)
    # Every edge within half a tick, except the last space: the capture timeout (§A10.1).
    for sent, got in zip(remote.pulses[:-1], learned[:-1], strict=True):
        assert abs(sent - got) <= 16
    assert (
        next(MITSUBISHI.decode(m) for m in MITSUBISHI.demodulate(broadlink_to_signal(code)))[
            "target_temperature"
        ]
        == 22.5
    )


async def test_a_remote_press_reaches_the_units_when_they_hear_it() -> None:
    remote = MITSUBISHI.modulate(MITSUBISHI.encode(COOL_22_5, None)[0])
    async with BroadlinkSimulator([EndpointSpec(units=["mitsubishi_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        endpoint.press_remote(remote)  # not learning, units not in the line of sight
        assert not powered(endpoint.units[0])
        endpoint.press_remote(remote, units_hear=True)
        assert powered(endpoint.units[0])


async def test_locked_device_says_so_and_refuses_auth() -> None:
    async with BroadlinkSimulator([EndpointSpec(locked=True)]) as sim:
        endpoint = sim.endpoints[0]
        device = await blocking(lambda: broadlink.hello("127.0.0.1", port=endpoint.port))
        assert device.is_locked is True
        device.timeout = 1
        with pytest.raises(blx.AuthenticationError):
            await blocking(device.auth)
        endpoint.locked = False
        endpoint.fail_auth(1)
        with pytest.raises(blx.AuthenticationError):
            await blocking(device.auth)
        assert await blocking(device.auth) is True
    assert endpoint.stats.auths_refused == 2


async def test_expired_key_answers_minus_7_until_auth() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_PRO)]) as sim:
        endpoint = sim.endpoints[0]
        device = await blocking(lambda: connect(endpoint))
        endpoint.expire_key()
        with pytest.raises(blx.AuthorizationError):
            await blocking(lambda: device.send_data(FOREIGN))
        await blocking(device.auth)
        await blocking(lambda: device.send_data(FOREIGN))
    assert endpoint.stats.ir_frames == 1


async def test_device_level_commands_bypass_rm4_framing() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_PRO)]) as sim:
        endpoint = sim.endpoints[0]
        device = await blocking(lambda: connect(endpoint))
        assert await blocking(device.get_fwversion) == 55
        await blocking(lambda: device.set_name("Living room"))
        await blocking(lambda: device.set_lock(True))
        assert (endpoint.name, endpoint.locked) == ("Living room", True)


async def test_rm_mini_update_reads_name_and_lock() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM_MINI3, name="Study")]) as sim:
        device = await blocking(lambda: connect(sim.endpoints[0]))
        await blocking(device.update)
    assert (device.name, device.is_locked) == ("Study", False)


async def test_silence_drops_and_delays() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI)]) as sim:
        endpoint = sim.endpoints[0]
        device = await blocking(lambda: connect(endpoint, timeout=0.3))
        endpoint.silent = True
        with pytest.raises(blx.NetworkTimeoutError):
            await blocking(device.get_fwversion)
        endpoint.silent = False
        endpoint.drop_probability = 1.0
        with pytest.raises(blx.NetworkTimeoutError):
            await blocking(device.get_fwversion)
        endpoint.drop_probability = 0.0
        endpoint.reply_delay = 0.1
        assert await blocking(device.get_fwversion) == 55
        endpoint.reply_delay = 0.0
        endpoint.short_replies(1)
        with pytest.raises(blx.DataValidationError):
            await blocking(device.get_fwversion)
    assert endpoint.stats.silenced == 1
    assert endpoint.stats.dropped_requests == 1


async def test_stopped_endpoint_rebinds_its_port() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI)]) as sim:
        endpoint = sim.endpoints[0]
        port = endpoint.port
        device = await blocking(lambda: connect(endpoint, timeout=0.3))
        await endpoint.stop()
        with pytest.raises(blx.NetworkTimeoutError):
            await blocking(device.get_fwversion)
        await endpoint.start()
        assert endpoint.port == port
        assert await blocking(device.get_fwversion) == 55
