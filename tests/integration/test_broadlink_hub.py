"""The Broadlink facade (klima.transports.broadlink) against the simulator over UDP loopback.

The unmodified library runs inside the facade; the simulator plays the blasters. Timeouts and
intervals are shrunk so every test finishes in about a second.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from klima.errors import (
    BlasterAuthError,
    BlasterError,
    BlasterOfflineError,
    BlasterTimeoutError,
    KlimaError,
)
from klima.ir import CodecEncoder, IrSignal
from klima.irpacket import broadlink_to_signal, normalize_packet
from klima.state import Mode, UnitState
from klima.transports.blaster import Availability, Blaster, HubSettings
from klima.transports.broadlink import BroadlinkHub, discover, learn_code
from klima_drivers.mitsubishi_ir.codec import CODEC as MITSUBISHI
from klima_sim.broadlink_sim import BroadlinkSimulator, EndpointSpec, free_udp_port

RM_MINI3, RM4_MINI, RM4_PRO, RM_PRO = 0x2737, 0x51DA, 0x6026, 0x2712
FAST = HubSettings(
    request_timeout=0.3,
    hello_timeout=0.3,
    call_margin=0.5,
    send_gap=0.0,
    heartbeat_interval=60.0,
    offline_after=3,
    reconnect_initial=0.05,
    reconnect_max=0.2,
    learn_poll_interval=0.05,
)


def cool(temperature: float, **changes: object) -> UnitState:
    state = UnitState(power=True, mode=Mode.COOL, target_temperature=temperature, fan_mode="auto")
    return state.replace(**changes)


def packet(state: UnitState) -> bytes:
    [payload] = CodecEncoder(MITSUBISHI).packets(state, None)
    return payload


class Events:
    """Availability callbacks as a list, with a way to wait for the next one."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []
        self._changed = asyncio.Event()

    def __call__(self, blaster_id: str, online: bool) -> None:
        self.seen.append((blaster_id, online))
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 3.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.seen) < count:
                self._changed.clear()
                await self._changed.wait()


@pytest.mark.parametrize("identified", [True, False], ids=["gendevice", "hello"])
async def test_send_reaches_the_unit(identified: bool) -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_PRO, units=["mitsubishi_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        blaster = Blaster(
            "hall",
            "127.0.0.1",
            endpoint.port,
            mac=endpoint.mac_hex if identified else None,
            devtype=endpoint.devtype if identified else None,
        )
        async with BroadlinkHub([blaster], FAST) as hub:
            await hub.send("hall", packet(cool(23.0, swing_mode="high")))
            info = hub.info("hall")
        unit = endpoint.units[0].unit
        assert (unit.power, unit.mode, unit.target_temperature, unit.swing_mode) == (
            True,
            Mode.COOL,
            23.0,
            "high",
        )
    assert info["online"] is True
    assert (info["model"], info["devtype"], info["type"]) == ("RM4 pro", RM4_PRO, "RM4PRO")
    assert info["mac"] == ":".join(f"{b:02x}" for b in endpoint.mac)
    assert endpoint.stats.hellos == (0 if identified else 1)


async def test_units_sharing_a_blaster_never_interleave_and_keep_the_gap() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM_MINI3)]) as sim:
        endpoint = sim.endpoints[0]
        gap = 0.05
        hub_settings = HubSettings(
            request_timeout=0.5, hello_timeout=0.5, send_gap=gap, heartbeat_interval=60.0
        )
        blaster = Blaster(
            "hall", "127.0.0.1", endpoint.port, mac=endpoint.mac, devtype=endpoint.devtype
        )
        first = [packet(cool(t)) for t in (20.0, 21.0, 22.0)]
        second = [packet(cool(t)) for t in (26.0, 27.0)]
        async with BroadlinkHub([blaster], hub_settings) as hub:
            await asyncio.gather(hub.send_all("hall", first), hub.send_all("hall", second))
    received = [normalize_packet(frame.payload) for frame in endpoint.received]
    assert received in (first + second, second + first)
    times = [frame.at for frame in endpoint.received]
    assert all(later - earlier >= gap * 0.9 for earlier, later in itertools.pairwise(times))


@pytest.mark.parametrize(
    ("devtype", "expected"),
    [
        (RM4_MINI, {"temperature": 21.75, "humidity": 52.5}),
        (RM_PRO, {"temperature": 21.8}),
        (RM_MINI3, None),
    ],
)
async def test_check_sensors(devtype: int, expected: dict[str, float] | None) -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=devtype)]) as sim:
        endpoint = sim.endpoints[0]
        endpoint.sensor_temperature, endpoint.humidity = 21.75, 52.5
        async with BroadlinkHub([Blaster("b", "127.0.0.1", endpoint.port)], FAST) as hub:
            reading = await hub.check_sensors("b")
    assert reading == (pytest.approx(expected) if expected else None)


async def test_learn_returns_the_pressed_code_and_times_out_without_one() -> None:
    remote = MITSUBISHI.modulate(MITSUBISHI.encode(cool(19.5), None)[0])
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI)]) as sim:
        endpoint = sim.endpoints[0]
        async with BroadlinkHub([Blaster("b", "127.0.0.1", endpoint.port)], FAST) as hub:
            asyncio.get_running_loop().call_later(0.15, endpoint.press_remote, remote)
            code = await hub.learn("b", timeout=2.0)
            with pytest.raises(BlasterTimeoutError, match="no code learned"):
                await hub.learn("b", timeout=0.2)
    [message] = MITSUBISHI.demodulate(broadlink_to_signal(code))
    assert MITSUBISHI.decode(message)["target_temperature"] == 19.5


async def test_learn_code_one_shot_and_locked_blaster() -> None:
    remote = IrSignal((3400, 1750, 450, 1300, 450, 420, 440, 15500))
    async with BroadlinkSimulator([EndpointSpec(devtype=RM_MINI3)]) as sim:
        endpoint = sim.endpoints[0]
        asyncio.get_running_loop().call_later(0.1, endpoint.press_remote, remote)
        code = await learn_code("127.0.0.1", endpoint.port, 2.0, settings=FAST)
        assert broadlink_to_signal(code).pulses[:7] == pytest.approx(remote.pulses[:7], abs=16)
        endpoint.locked = True
        with pytest.raises(BlasterAuthError, match="locked"):
            await learn_code("127.0.0.1", endpoint.port, 1.0, settings=FAST)


async def test_expired_session_is_reauthenticated_and_retried_once() -> None:
    events = Events()
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_PRO, units=["mitsubishi_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        blaster = Blaster("b", "127.0.0.1", endpoint.port)
        async with BroadlinkHub([blaster], FAST, on_availability=events) as hub:
            await hub.wait_online("b", 2.0)
            auths = endpoint.stats.auths
            endpoint.expire_key()
            await hub.send("b", packet(cool(25.0)))
            assert endpoint.units[0].unit.target_temperature == 25.0
            assert endpoint.stats.auths == auths + 1
            assert endpoint.stats.rejected == 1  # the -7 that triggered it
            endpoint.short_replies(1)  # a malformed reply: re-auth and retry as well
            await hub.send("b", packet(cool(26.0)))
            assert endpoint.units[0].unit.target_temperature == 26.0
    assert events.seen == [("b", True)]


async def test_refused_reauthentication_surfaces_as_locked_and_recovers() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI, units=["mitsubishi_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        async with BroadlinkHub([Blaster("b", "127.0.0.1", endpoint.port)], FAST) as hub:
            await hub.wait_online("b", 2.0)
            endpoint.expire_key()
            endpoint.fail_auth(1)  # the re-auth after -7 is refused
            with pytest.raises(BlasterAuthError, match="locked") as caught:
                await hub.send("b", packet(cool(18.0)))
            assert caught.value.code == -1
            assert hub.is_online("b") is True  # one failure is not an outage
            await hub.send("b", packet(cool(18.0)))  # a fresh device object authenticates
            assert endpoint.units[0].unit.target_temperature == 18.0


async def test_library_errors_are_translated_never_leaked() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_PRO)]) as sim:
        endpoint = sim.endpoints[0]
        async with BroadlinkHub([Blaster("b", "127.0.0.1", endpoint.port)], FAST) as hub:
            await hub.wait_online("b", 2.0)
            endpoint.short_replies(2)  # the send and the retry after re-auth
            with pytest.raises(KlimaError) as caught:
                await hub.send("b", packet(cool(22.0)))
            with pytest.raises(BlasterError, match="unknown blaster 'nope'"):
                await hub.send("nope", b"")
    assert type(caught.value).__module__ == "klima.errors"
    assert isinstance(caught.value, BlasterError)
    assert caught.value.code == -4007


async def test_blaster_missing_at_start_comes_online_in_the_background() -> None:
    port = free_udp_port()
    events = Events()
    blaster = Blaster("late", "127.0.0.1", port, timeout=0.2)
    async with BroadlinkHub([blaster], FAST, on_availability=events) as hub:
        assert (hub.availability("late"), hub.is_online("late")) == (None, False)
        await events.wait_for(1)
        assert events.seen == [("late", False)]
        with pytest.raises(BlasterOfflineError, match="retrying in the background"):
            await hub.send("late", packet(cool(21.0)))
        spec = EndpointSpec(devtype=RM4_MINI, port=port, units=["mitsubishi_ir"])
        async with BroadlinkSimulator([spec]) as sim:
            await hub.wait_online("late", 3.0)
            await hub.send("late", packet(cool(21.0)))
            assert sim.endpoints[0].units[0].unit.target_temperature == 21.0
    assert events.seen == [("late", False), ("late", True)]


async def test_availability_hysteresis_and_recovery() -> None:
    events = Events()
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI, units=["mitsubishi_ir"])]) as sim:
        endpoint = sim.endpoints[0]
        blaster = Blaster(
            "b", "127.0.0.1", endpoint.port, mac=endpoint.mac, devtype=endpoint.devtype
        )
        async with BroadlinkHub([blaster], FAST, on_availability=events) as hub:
            await hub.wait_online("b", 2.0)
            endpoint.silent = True
            for _ in range(FAST.offline_after - 1):
                with pytest.raises(BlasterTimeoutError):
                    await hub.send("b", packet(cool(20.0)))
                assert hub.is_online("b") is True  # one failure is not an outage
            with pytest.raises(BlasterTimeoutError):
                await hub.send("b", packet(cool(20.0)))
            assert hub.is_online("b") is False
            heard = endpoint.stats.packets_in
            started = time.monotonic()
            with pytest.raises(BlasterOfflineError):
                await hub.send("b", packet(cool(20.0)))
            assert time.monotonic() - started < 0.05  # fails fast, no I/O
            assert endpoint.stats.packets_in - heard <= 2  # only the background probe, if any
            endpoint.silent = False
            await hub.wait_online("b", 3.0)
            await hub.send("b", packet(cool(20.0)))
            assert endpoint.units[0].unit.target_temperature == 20.0
    assert events.seen == [("b", True), ("b", False), ("b", True)]


async def test_heartbeat_pings_and_notices_a_silent_blaster() -> None:
    events = Events()
    settings = HubSettings(
        request_timeout=0.2,
        hello_timeout=0.2,
        call_margin=0.5,
        heartbeat_interval=0.05,
        offline_after=2,
        reconnect_initial=0.05,
        reconnect_max=0.1,
    )
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_PRO)]) as sim:
        endpoint = sim.endpoints[0]
        async with BroadlinkHub(
            [Blaster("b", "127.0.0.1", endpoint.port)], settings, on_availability=events
        ) as hub:
            await events.wait_for(1)
            await asyncio.sleep(0.3)
            assert endpoint.stats.pings >= 2  # the firmware watchdog is fed
            endpoint.silent = True  # nobody sends anything: only the heartbeat can notice
            await events.wait_for(2)
            endpoint.silent = False
            await events.wait_for(3)
            assert hub.is_online("b") is True
    assert events.seen == [("b", True), ("b", False), ("b", True)]


async def test_wrong_device_at_the_address_is_refused() -> None:
    events = Events()
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_PRO)]) as sim:
        endpoint = sim.endpoints[0]
        blaster = Blaster("b", "127.0.0.1", endpoint.port, mac="02:00:00:00:00:01")
        async with BroadlinkHub([blaster], FAST, on_availability=events) as hub:
            await events.wait_for(1)
            with pytest.raises(BlasterOfflineError, match="answers with MAC"):
                await hub.send("b", b"\x26\x00\x00\x00")
    assert events.seen == [("b", False)]


async def test_discover_on_loopback() -> None:
    async with BroadlinkSimulator([EndpointSpec(devtype=RM4_MINI, name="Hall")]) as sim:
        endpoint = sim.endpoints[0]
        found = await discover("127.0.0.1", endpoint.port, timeout=0.3)
        nobody = await discover("127.0.0.1", free_udp_port(), timeout=0.2)
    assert nobody == []
    [device] = found
    assert device["port"] == endpoint.port
    assert (device["devtype"], device["model"], device["name"]) == (RM4_MINI, "RM4 mini", "Hall")
    assert device["supported"] is True
    assert device["locked"] is False


def test_availability_hysteresis_rules() -> None:
    availability = Availability()
    problem = RuntimeError("no answer")
    assert availability.record(problem, 3) is True  # unknown → offline at once
    assert (availability.online, availability.failures) == (False, 1)
    assert availability.record(None, 3) is True
    assert availability.record(problem, 3) is False
    assert availability.record(problem, 3) is False
    assert (availability.online, availability.failures) == (True, 2)
    assert availability.record(problem, 3) is True
    assert availability.record(problem, 3) is False  # logged once per transition
    assert availability.record(None, 3) is True


def test_blaster_declaration_is_validated() -> None:
    assert Blaster("a", "h", mac="AA-BB-CC-DD-EE-FF").mac == bytes.fromhex("aabbccddeeff")
    with pytest.raises(ValueError, match="6 bytes"):
        Blaster("a", "h", mac="aa:bb")
    with pytest.raises(ValueError, match="port"):
        Blaster("a", "h", port=0)
    with pytest.raises(ValueError, match="timeout"):
        Blaster("a", "h", timeout=0)
    with pytest.raises(ValueError, match="twice"):
        BroadlinkHub([Blaster("a", "h"), Blaster("a", "h2")])
