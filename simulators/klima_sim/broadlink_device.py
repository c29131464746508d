"""A simulated Broadlink RM blaster in the device's role: datagram in, datagram out. No I/O.

Follows the checklist of broadlink.md §A9, which is what the unmodified python-broadlink 0.19.0
needs: hello replies of 0x80 bytes, auth with the initial key, both RM framings, replies padded
to 16, the non-RM ``get_fwversion``/``set_name``/``set_lock`` payloads, and retransmissions (same
packet, same count) answered every time but acted on once.

Faults a test can switch at run time: ``silent`` (hears, never answers, does nothing),
``drop_probability`` (requests lost on the way in), :meth:`drop_replies` (act, then lose the
reply: provokes the library's retransmission), :meth:`short_replies` (malformed replies),
``reply_delay``, ``locked`` (hello says locked, auth answered -1), :meth:`fail_auth`,
:meth:`expire_key` (commands answered -7 until the client authenticates again).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from klima.errors import ProtocolError
from klima.ir import IrSignal
from klima.irpacket import (
    IR_PACKET_TYPE,
    broadlink_to_signal,
    normalize_packet,
    signal_to_broadlink,
)
from klima_sim import broadlink_wire as wire

if TYPE_CHECKING:
    import random

    from klima_sim.broadlink_units import IrUnit
    from klima_sim.clock import Clock

log = logging.getLogger(__name__)

FIRMWARE_VERSION = 55
DEFAULT_HUMIDITY = 45.0
DEFAULT_TEMPERATURE = 22.0
_DEDUPE_DEPTH = 64

UnitListener = Callable[["IrUnit", dict[str, Any]], None]


@dataclass(slots=True)
class BroadlinkStats:
    """Counters per endpoint; tests assert on them."""

    packets_in: int = 0
    hellos: int = 0
    pings: int = 0
    auths: int = 0
    auths_refused: int = 0
    commands: int = 0  # distinct 0x6A requests acted on
    duplicates: int = 0  # retransmissions answered from the cache, not acted on again
    rejected: int = 0  # answered with an error code
    bad_packets: int = 0  # wrong magic, checksum or size: ignored
    dropped_requests: int = 0
    dropped_replies: int = 0
    silenced: int = 0
    ir_frames: int = 0  # IR codes received through send_data
    decoded_frames: int = 0  # … of which at least one unit understood
    unknown_codes: int = 0  # … of which no unit understood
    rf_frames: int = 0


@dataclass(frozen=True, slots=True)
class ReceivedFrame:
    """One code the blaster was asked to send, and what each unit made of it.

    ``payload`` is the data as the device received it; with the legacy (RM mini) framing that
    includes the AES zero padding, which the device cannot tell from the code (§A9.7).
    """

    at: float
    payload: bytes
    decoded: tuple[tuple[str, dict[str, Any]], ...]


class BroadlinkDevice:
    """The protocol state of one RM blaster and the units in front of it."""

    def __init__(
        self,
        *,
        devtype: int,
        mac: bytes,
        name: str,
        units: list[IrUnit],
        host: str,
        rng: random.Random,
        clock: Clock,
        locked: bool = False,
    ) -> None:
        self.devtype = devtype
        self.family = wire.family_of(devtype)
        self.model = wire.model_of(devtype)
        if len(mac) != 6:
            raise ValueError("a MAC address has 6 bytes")
        self.mac = mac
        self.name = name
        self.units = units
        self.host = host
        self.stats = BroadlinkStats()
        self.received: list[ReceivedFrame] = []  # every code sent, in order
        self.listeners: list[UnitListener] = []
        # Faults.
        self.locked = locked
        self.silent = False
        self.reply_delay = 0.0
        self.not_learned_error = wire.ERR_READ  # -10; some models answer -5 (§A9.10)
        self._drop_probability = 0.0
        self._drop_replies = 0
        self._fail_auth = 0
        self._short_replies = 0
        # Session and learning.
        self.device_id = rng.getrandbits(32) or 1
        self._rng = rng
        self._clock = clock
        self.key = rng.randbytes(16)
        self.learning = False
        self._learned: bytes | None = None
        self.humidity = DEFAULT_HUMIDITY
        self.sensor_temperature: float | None = None  # None: the first unit's room
        self._replies: OrderedDict[bytes, bytes | None] = OrderedDict()

    # --- fault controls -----------------------------------------------------------------

    @property
    def drop_probability(self) -> float:
        """Chance that a request is lost on its way to the device."""
        return self._drop_probability

    @drop_probability.setter
    def drop_probability(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"drop probability must be within 0..1, not {value}")
        self._drop_probability = value

    def drop_replies(self, count: int = 1) -> None:
        """Act on the next ``count`` requests but lose their replies."""
        self._drop_replies += count

    def short_replies(self, count: int = 1) -> None:
        """Cut the next ``count`` replies to 0x20 bytes (the library raises -4007, §A3)."""
        self._short_replies += count

    def fail_auth(self, count: int = 1) -> None:
        """Refuse the next ``count`` auth requests with -1, as a locked device does."""
        self._fail_auth += count

    def expire_key(self) -> None:
        """Forget the session key: requests under the old key are answered -7 (§A7)."""
        self.key = self._rng.randbytes(16)

    # --- the outside world --------------------------------------------------------------

    @property
    def temperature(self) -> float:
        if self.sensor_temperature is not None:
            return self.sensor_temperature
        if self.units:
            unit = self.units[0].unit
            unit.advance()
            return unit.room_temperature
        return DEFAULT_TEMPERATURE

    def press_remote(self, code: bytes | IrSignal, *, units_hear: bool = False) -> None:
        """A remote button pressed at the blaster: learned while learning (and seen by the
        units too when ``units_hear``)."""
        packet = code if isinstance(code, bytes) else _learned_packet(code)
        if self.learning:
            self._learned = packet
        if units_hear:
            self._emit(packet)

    # --- datagrams ----------------------------------------------------------------------

    def handle(self, packet: bytes) -> bytes | None:
        """The reply to one datagram, or None (no reply, or the reply is lost)."""
        self.stats.packets_in += 1
        if self.silent:
            self.stats.silenced += 1
            return None
        if self._drop_probability and self._rng.random() < self._drop_probability:
            self.stats.dropped_requests += 1
            return None
        if packet[:8] == wire.MAGIC:
            reply = self._encrypted(packet)
        elif len(packet) >= wire.DISCOVERY_SIZE:
            reply = self._discovery(packet)
        else:
            self.stats.bad_packets += 1
            reply = None
        if reply is not None and self._drop_replies:
            self._drop_replies -= 1
            self.stats.dropped_replies += 1
            return None
        if reply is not None and self._short_replies:
            self._short_replies -= 1
            return reply[:0x20]
        return reply

    def _discovery(self, packet: bytes) -> bytes | None:
        command = packet[0x26]
        if command == wire.CMD_PING:
            self.stats.pings += 1  # the watchdog feed has no answer
            return None
        if command != wire.CMD_HELLO:
            self.stats.bad_packets += 1
            return None
        self.stats.hellos += 1
        return wire.hello_reply(
            devtype=self.devtype, mac=self.mac, name=self.name, locked=self.locked, ip=self.host
        )

    def _encrypted(self, packet: bytes) -> bytes | None:
        if len(packet) < wire.HEADER_SIZE or (len(packet) - wire.HEADER_SIZE) % 16:
            self.stats.bad_packets += 1
            return None
        if not wire.outer_checksum_ok(packet):
            self.stats.bad_packets += 1
            return None
        if packet in self._replies:
            # The library re-sends the identical packet (same count) when a reply is lost:
            # answer again, act once (§A9.9).
            self.stats.duplicates += 1
            return self._replies[packet]
        header = wire.CommandHeader.parse(packet)
        if header.packet_type == wire.PACKET_AUTH:
            reply = self._auth(header, packet[wire.HEADER_SIZE :])
        elif header.packet_type == wire.PACKET_COMMAND:
            reply = self._command(header, packet[wire.HEADER_SIZE :])
        else:
            self.stats.bad_packets += 1
            reply = None
        self._replies[packet] = reply
        if len(self._replies) > _DEDUPE_DEPTH:
            self._replies.popitem(last=False)
        return reply

    def _error(self, header: wire.CommandHeader, code: int, reply_type: int) -> bytes:
        self.stats.rejected += 1
        return wire.command_reply(
            header, reply_type=reply_type, device_id=self.device_id, error=code
        )

    def _auth(self, header: wire.CommandHeader, ciphertext: bytes) -> bytes:
        self.stats.auths += 1
        plaintext = wire.decrypt(wire.INITIAL_KEY, ciphertext)
        if wire.checksum(plaintext) != header.payload_checksum:
            return self._error(header, wire.ERR_STRUCTURE, wire.REPLY_AUTH)
        if self.locked or self._fail_auth:
            self._fail_auth = max(0, self._fail_auth - 1)
            self.stats.auths_refused += 1
            return self._error(header, wire.ERR_AUTHENTICATION, wire.REPLY_AUTH)
        # The answer still travels under the initial key; the new key applies afterwards.
        session = self.device_id.to_bytes(4, "little") + self.key
        return wire.command_reply(
            header,
            reply_type=wire.REPLY_AUTH,
            device_id=self.device_id,
            key=wire.INITIAL_KEY,
            plaintext=session,
        )

    def _command(self, header: wire.CommandHeader, ciphertext: bytes) -> bytes:
        plaintext = wire.decrypt(self.key, ciphertext)
        if wire.checksum(plaintext) != header.payload_checksum:
            # Not our current key: never authenticated, or the key expired.
            return self._error(header, wire.ERR_KEY_EXPIRED, wire.REPLY_COMMAND)
        self.stats.commands += 1
        device_level = self._device_level(plaintext)
        if device_level is not None:
            return self._reply(header, device_level)
        parsed = self._rm_request(plaintext)
        if parsed is None:
            return self._error(header, wire.ERR_STRUCTURE, wire.REPLY_COMMAND)
        command, data = parsed
        error, answer = self._rm_command(command, data)
        if error:
            return self._error(header, error, wire.REPLY_COMMAND)
        return self._reply(header, wire.rm_reply_plaintext(self.family, command, answer))

    def _reply(self, header: wire.CommandHeader, plaintext: bytes) -> bytes:
        return wire.command_reply(
            header,
            reply_type=wire.REPLY_COMMAND,
            device_id=self.device_id,
            key=self.key,
            plaintext=plaintext,
        )

    def _device_level(self, plaintext: bytes) -> bytes | None:
        """Answers to the payloads that bypass RM framing even on RM4 (§A5), else None."""
        if plaintext[0] == wire.DEVICE_FWVERSION and not any(plaintext[1:]):
            return bytes(4) + FIRMWARE_VERSION.to_bytes(2, "little")
        if len(plaintext) == 0x50 and not any(plaintext[:4]):  # set_name / set_lock
            self.name = plaintext[4:0x43].split(b"\x00")[0].decode("utf-8", "replace")
            self.locked = bool(plaintext[0x43])
            return b""
        return None

    def _rm_request(self, plaintext: bytes) -> tuple[int, bytes] | None:
        if self.family.length_prefixed:
            length = int.from_bytes(plaintext[0:2], "little")
            if length < 4 or 2 + length > len(plaintext):
                return None
            return int.from_bytes(plaintext[2:6], "little"), plaintext[6 : 2 + length]
        # Legacy framing: data and AES padding are indistinguishable here (§A9.7).
        return int.from_bytes(plaintext[0:4], "little"), plaintext[4:]

    def _rm_command(self, command: int, data: bytes) -> tuple[int, bytes]:
        """(error code, reply data) for one RM sub-command."""
        if command == wire.RM_SEND_DATA:
            self._emit(data)
            return 0, b""
        if command == wire.RM_ENTER_LEARNING:
            self.learning, self._learned = True, None
            return 0, b""
        if command == wire.RM_CHECK_DATA:
            if self._learned is None:
                return self.not_learned_error, b""
            code, self._learned, self.learning = self._learned, None, False
            return 0, code
        if command == wire.RM4_SENSORS and self.family.rm4_sensors:
            return 0, wire.rm4_sensor_bytes(self.temperature, self.humidity)
        if command == wire.RM_INFO_OR_RM2_SENSORS:
            if self.family is wire.RmFamily.RMPRO:
                return 0, wire.rm2_sensor_bytes(self.temperature)
            return 0, self._device_info()
        if command in (wire.RM_SWEEP_FREQUENCY, wire.RM_CANCEL_SWEEP, wire.RM_FIND_RF_PACKET):
            return (0, b"") if self.family.has_rf else (wire.ERR_NOT_SUPPORTED, b"")
        if command == wire.RM_CHECK_FREQUENCY and self.family.has_rf:
            return 0, bytes(5)  # nothing found
        return wire.ERR_NOT_SUPPORTED, b""

    def _device_info(self) -> bytes:
        info = bytearray(0x88)
        encoded = self.name.encode("utf-8")[:0x3F]
        info[0x48 : 0x48 + len(encoded)] = encoded
        info[0x87] = 1 if self.locked else 0
        return bytes(info)

    def _emit(self, data: bytes) -> None:
        """An RF/IR code leaves the blaster: every unit in the room hears it."""
        if not data or data[0] != IR_PACKET_TYPE:
            self.stats.rf_frames += 1
            return
        self.stats.ir_frames += 1
        try:
            payload = normalize_packet(data)  # the packet's own length, not the UDP length
            signal = broadlink_to_signal(payload)
        except ProtocolError as exc:
            log.info("blaster %s: undecodable IR packet: %s", self.mac.hex(), exc)
            self.stats.unknown_codes += 1
            self.received.append(ReceivedFrame(self._clock.now(), bytes(data), ()))
            return
        decoded: list[tuple[str, dict[str, Any]]] = []
        for ir_unit in self.units:
            messages = ir_unit.decode(signal)
            if not messages:
                continue
            before = ir_unit.settings()
            for fields in messages:
                ir_unit.apply(fields)
                decoded.append((ir_unit.unit_id, fields))
            if ir_unit.settings() != before:
                for listener in list(self.listeners):
                    listener(ir_unit, ir_unit.snapshot())
        if decoded:
            self.stats.decoded_frames += 1
        else:
            self.stats.unknown_codes += 1
        self.received.append(ReceivedFrame(self._clock.now(), bytes(data), tuple(decoded)))


def _learned_packet(signal: IrSignal) -> bytes:
    """What an RM returns from check_data for ``signal``: the capture ends with the 0x0D05
    timeout space and the whole ``send_data`` plaintext is padded to 16 (§A10.1)."""
    pulses = signal.pulses if len(signal.pulses) % 2 else signal.pulses[:-1]
    packet = signal_to_broadlink(IrSignal(pulses, signal.carrier_hz), pad=False)
    return packet + bytes(-(len(packet) + 4) % 16)
