"""The Broadlink LAN protocol in the device's role (broadlink.md §A1-A6, §A9). Pure, no I/O.

Packet layouts, checksums, AES and the RM families, so :mod:`klima_sim.broadlink_sim` can
answer the unmodified python-broadlink library. Written from the protocol description; the
library itself is not imported here (only ``klima.transports.broadlink`` may import it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

INITIAL_KEY = bytes.fromhex("097628343fe99e23765c1513accf8b02")
IV = bytes.fromhex("562e17996d093d28ddb3ba695a2e6f58")
MAGIC = bytes.fromhex("5aa5aa555aa5aa55")
HEADER_SIZE = 0x38
DISCOVERY_SIZE = 0x30
HELLO_REPLY_SIZE = 0x80  # the library indexes resp[0x7F]; shorter replies crash it

CMD_HELLO = 0x06
CMD_HELLO_REPLY = 0x07
CMD_PING = 0x01
PACKET_AUTH = 0x65
PACKET_COMMAND = 0x6A
REPLY_AUTH = 0x3E9
REPLY_COMMAND = 0x3EE

# Device error codes (§A7).
ERR_AUTHENTICATION = -1  # auth refused: the device is locked
ERR_LOGGED_OUT = -2
ERR_NOT_SUPPORTED = -4
ERR_STORAGE = -5  # also "nothing learned yet" on some models
ERR_STRUCTURE = -6
ERR_KEY_EXPIRED = -7
ERR_READ = -10  # the usual "nothing learned yet"

# RM sub-commands (§A5).
RM_INFO_OR_RM2_SENSORS = 0x01
RM_SEND_DATA = 0x02
RM_ENTER_LEARNING = 0x03
RM_CHECK_DATA = 0x04
RM_SWEEP_FREQUENCY = 0x19
RM_CHECK_FREQUENCY = 0x1A
RM_FIND_RF_PACKET = 0x1B
RM_CANCEL_SWEEP = 0x1E
RM4_SENSORS = 0x24
DEVICE_FWVERSION = 0x68


class RmFamily(Enum):
    """The python-broadlink class a device type maps to; decides framing and sensors."""

    RMMINI = "rmmini"  # no length prefix, no sensors
    RMPRO = "rmpro"  # no length prefix, temperature via 0x01
    RMMINIB = "rmminib"  # length prefix, no sensors
    RM4MINI = "rm4mini"  # length prefix, temperature + humidity via 0x24
    RM4PRO = "rm4pro"

    @property
    def length_prefixed(self) -> bool:
        return self in (RmFamily.RMMINIB, RmFamily.RM4MINI, RmFamily.RM4PRO)

    @property
    def has_rf(self) -> bool:
        return self in (RmFamily.RMPRO, RmFamily.RM4PRO)

    @property
    def rm4_sensors(self) -> bool:
        return self in (RmFamily.RM4MINI, RmFamily.RM4PRO)


# broadlink.md §A6 (SUPPORTED_TYPES of python-broadlink 0.19.0), model names for the hello reply.
_FAMILIES: dict[RmFamily, dict[int, str]] = {
    RmFamily.RMMINI: dict.fromkeys(
        (0x2737, 0x278F, 0x27B7, 0x27C2, 0x27C7, 0x27CC, 0x27CD, 0x27D0, 0x27D1, 0x27D3),
        "RM mini 3",
    )
    | {0x27DC: "RM mini 3", 0x27DE: "RM mini 3"},
    RmFamily.RMPRO: dict.fromkeys(
        (0x2712, 0x272A, 0x273D, 0x2787, 0x277C, 0x2783, 0x278B, 0x27A1, 0x27A6), "RM pro"
    )
    | dict.fromkeys((0x2797, 0x279D, 0x27A9, 0x27C3), "RM pro+"),
    RmFamily.RMMINIB: dict.fromkeys((0x5F36, 0x6507, 0x6508), "RM mini 3"),
    RmFamily.RM4MINI: dict.fromkeys(
        (0x51DA, 0x520C, 0x5216, 0x521C, 0x610E, 0x62BC, 0x648D, 0x653A), "RM4 mini"
    )
    | dict.fromkeys((0x520D, 0x6070, 0x610F, 0x62BE, 0x6539), "RM4C mini")
    | {0x5209: "RM4 TV mate", 0x5212: "RM4 TV mate", 0x5211: "RM4C mate", 0x6364: "RM4S"},
    RmFamily.RM4PRO: dict.fromkeys((0x520B, 0x5213, 0x6026, 0x61A2, 0x649B, 0x653C), "RM4 pro")
    | dict.fromkeys((0x5218, 0x6184), "RM4C pro"),
}


def family_of(devtype: int) -> RmFamily:
    for family, types in _FAMILIES.items():
        if devtype in types:
            return family
    raise ValueError(f"device type 0x{devtype:04X} is not an RM remote python-broadlink knows")


def model_of(devtype: int) -> str:
    return _FAMILIES[family_of(devtype)][devtype]


def checksum(data: bytes | bytearray) -> int:
    """16-bit sum from 0xBEAF (§A1); zero padding does not change it."""
    return (sum(data) + 0xBEAF) & 0xFFFF


def encrypt(key: bytes, plaintext: bytes) -> bytes:
    """AES-128-CBC with the fixed IV; ``plaintext`` is zero-padded to 16 first (§A9.6)."""
    padded = plaintext + bytes(-len(plaintext) % 16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(IV)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt(key: bytes, ciphertext: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(IV)).decryptor()
    return decryptor.update(ciphertext) + decryptor.finalize()


def hello_reply(*, devtype: int, mac: bytes, name: str, locked: bool, ip: str) -> bytes:
    """The 0x80-byte answer to a hello (§A2); MAC and IP byte-reversed like real devices."""
    reply = bytearray(HELLO_REPLY_SIZE)
    reply[0x26] = CMD_HELLO_REPLY
    reply[0x34:0x36] = devtype.to_bytes(2, "little")
    reply[0x36:0x3A] = bytes(int(part) for part in ip.split("."))[::-1]
    reply[0x3A:0x40] = mac[::-1]
    encoded = name.encode("utf-8")[: 0x7F - 0x40 - 1]
    reply[0x40 : 0x40 + len(encoded)] = encoded
    reply[0x7F] = 1 if locked else 0
    reply[0x20:0x22] = checksum(reply).to_bytes(2, "little")
    return bytes(reply)


@dataclass(frozen=True, slots=True)
class CommandHeader:
    """The fields of an encrypted request's header (§A3) a device answers with."""

    devtype: int
    packet_type: int
    count: int
    mac_reversed: bytes
    device_id: int
    payload_checksum: int

    @classmethod
    def parse(cls, packet: bytes) -> CommandHeader:
        return cls(
            devtype=int.from_bytes(packet[0x24:0x26], "little"),
            packet_type=int.from_bytes(packet[0x26:0x28], "little"),
            count=int.from_bytes(packet[0x28:0x2A], "little"),
            mac_reversed=bytes(packet[0x2A:0x30]),
            device_id=int.from_bytes(packet[0x30:0x34], "little"),
            payload_checksum=int.from_bytes(packet[0x34:0x36], "little"),
        )


def outer_checksum_ok(packet: bytes) -> bool:
    stated = int.from_bytes(packet[0x20:0x22], "little")
    return stated == (checksum(packet) - packet[0x20] - packet[0x21]) & 0xFFFF


def command_reply(
    request: CommandHeader,
    *,
    reply_type: int,
    device_id: int,
    error: int = 0,
    key: bytes | None = None,
    plaintext: bytes = b"",
) -> bytes:
    """A response packet: echoed header fields, error code, encrypted (padded) payload.

    With ``key=None`` only the header goes out; the library raises on a non-zero error before
    it looks at the payload (§A9.10).
    """
    packet = bytearray(HEADER_SIZE)
    packet[0x00:0x08] = MAGIC
    packet[0x22:0x24] = error.to_bytes(2, "little", signed=True)
    packet[0x24:0x26] = request.devtype.to_bytes(2, "little")
    packet[0x26:0x28] = reply_type.to_bytes(2, "little")
    packet[0x28:0x2A] = request.count.to_bytes(2, "little")
    packet[0x2A:0x30] = request.mac_reversed
    packet[0x30:0x34] = device_id.to_bytes(4, "little")
    if key is not None:
        packet[0x34:0x36] = checksum(plaintext).to_bytes(2, "little")
        packet += encrypt(key, plaintext)
    packet[0x20:0x22] = checksum(packet).to_bytes(2, "little")
    return bytes(packet)


def rm_reply_plaintext(family: RmFamily, command: int, data: bytes = b"") -> bytes:
    """An RM reply's plaintext: (RM4: ``len:LE16``) + 4-byte command echo + data (§A5)."""
    body = command.to_bytes(4, "little") + data
    if family.length_prefixed:
        return (len(data) + 4).to_bytes(2, "little") + body
    return body


def rm4_sensor_bytes(temperature: float, humidity: float) -> bytes:
    """``[°C int8, hundredths int8, %RH, hundredths]``: the library adds whole + part / 100."""
    whole, part = _split(max(-127.0, min(127.0, temperature)), 100)
    rh_whole, rh_part = _split(max(0.0, min(100.0, humidity)), 100)
    return bytes([whole & 0xFF, part & 0xFF, rh_whole, rh_part])


def rm2_sensor_bytes(temperature: float) -> bytes:
    """``[°C int8, tenths int8]`` (RM pro, command 0x01)."""
    whole, part = _split(max(-127.0, min(127.0, temperature)), 10)
    return bytes([whole & 0xFF, part & 0xFF])


def _split(value: float, scale: int) -> tuple[int, int]:
    """Whole and fractional parts with the same sign, so ``whole + part / scale == value``."""
    total = round(value * scale)
    whole = int(total / scale)  # truncates towards zero, like the sign of ``part``
    return whole, total - whole * scale
