"""The I/O-free half of the GDB remote serial protocol: packet framing,
checksums, escaping, run-length decoding, stop replies and the register
layout described by target.xml. harness/debug/rsp.py does the talking.
"""

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from harness.errors import HarnessError


class RspError(HarnessError):
    """The GDB stub misbehaved, refused a request or the connection broke."""


ESCAPE = 0x7D  # '}'
RUN_LENGTH = 0x2A  # '*'
SPECIAL = frozenset(b"#$}*")


def checksum(data: bytes) -> int:
    """Modulo-256 sum of the bytes between '$' and '#'."""
    return sum(data) & 0xFF


def escape(payload: bytes) -> bytes:
    """Escapes '#', '$', '}' and '*' as '}' followed by the byte XOR 0x20."""
    if not SPECIAL.intersection(payload):
        return payload
    out = bytearray()
    for byte in payload:
        if byte in SPECIAL:
            out += bytes((ESCAPE, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    """The packet `$<escaped payload>#<checksum>` for PAYLOAD."""
    body = escape(payload)
    return b"$%s#%02x" % (body, checksum(body))


def decode_body(body: bytes) -> bytes:
    """Undoes escaping and run-length encoding (`X*n` = X repeated n-29 more
    times) of a received packet body."""
    if ESCAPE not in body and RUN_LENGTH not in body:
        return bytes(body)
    out = bytearray()
    i = 0
    while i < len(body):
        byte = body[i]
        if byte == ESCAPE:
            if i + 1 >= len(body):
                raise RspError(f"packet ends inside an escape: {bytes(body)[-20:]!r}")
            out.append(body[i + 1] ^ 0x20)
            i += 2
        elif byte == RUN_LENGTH:
            if not out or i + 1 >= len(body):
                raise RspError(f"bad run-length encoding in packet: {bytes(body)[:40]!r}")
            out += bytes((out[-1],)) * (body[i + 1] - 29)
            i += 2
        else:
            out.append(byte)
            i += 1
    return bytes(out)


class PacketReader:
    """Splits the byte stream from a stub into packet payloads. Acks ('+')
    are dropped; a nak ('-') means the stub rejected our last packet."""

    def __init__(self):
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_packet(self) -> Optional[bytes]:
        """The next complete packet's decoded payload, or None."""
        buf = self._buffer
        start = buf.find(b"$")
        junk = buf[:start] if start >= 0 else buf
        if b"-" in junk:
            raise RspError("the GDB stub rejected a packet (nak)")
        if start < 0:
            buf.clear()
            return None
        end = buf.find(b"#", start)
        if end < 0 or len(buf) < end + 3:
            del buf[:start]
            return None
        body = bytes(buf[start + 1:end])
        sent = bytes(buf[end + 1:end + 3])
        del buf[:end + 3]
        try:
            expected = int(sent, 16)
        except ValueError:
            expected = -1
        if expected != checksum(body):
            raise RspError(f"bad packet checksum {sent!r} (computed "
                           f"{checksum(body):02x}) on {body[:40]!r}")
        return decode_body(body)


@dataclass(frozen=True)
class StopReply:
    """Why the target stopped. KIND: "signal" (T/S packets; code = signal
    number, 5 = SIGTRAP), "exited" (W; code = exit status) or "killed" (X)."""
    kind: str
    code: int
    thread: Optional[str] = None
    info: dict = field(default_factory=dict)  # other T-packet pairs, e.g. "swbreak"
    raw: bytes = b""


def parse_stop_reply(payload: bytes) -> StopReply:
    """Parses `S05`, `T05thread:p01.01;06:...;`, `W00`, `X09` and the like."""
    kinds = {b"S": "signal", b"T": "signal", b"W": "exited", b"X": "killed"}
    kind = kinds.get(payload[:1])
    try:
        code = int(payload[1:3], 16)
    except ValueError:
        kind = None
    if kind is None:
        raise RspError(f"not a stop reply: {payload[:60]!r}")
    info, thread = {}, None
    if payload[:1] == b"T":
        for pair in payload[3:].decode(errors="replace").split(";"):
            key, _, value = pair.partition(":")
            if key == "thread":
                thread = value
            elif key:
                info[key] = value
    return StopReply(kind, code, thread, info, bytes(payload))


@dataclass(frozen=True)
class Register:
    name: str
    number: int  # for `p`/`P` packets
    bitsize: int
    offset: int  # byte offset in the `g` packet


class RegisterLayout:
    """The stub's registers, in `g` packet order, from its target.xml."""

    def __init__(self, registers: list):
        self.registers = list(registers)
        self._by_name = {reg.name: reg for reg in self.registers}
        self.g_size = sum(reg.bitsize // 8 for reg in self.registers)
        self.pc_name = next((n for n in ("rip", "pc", "eip") if n in self._by_name), None)

    def register(self, name: str) -> Register:
        try:
            return self._by_name[name]
        except KeyError:
            raise RspError(f"the target has no register {name!r}; it has "
                           f"{', '.join(r.name for r in self.registers[:40])}") from None

    def names(self) -> list:
        return [reg.name for reg in self.registers]

    def decode_g(self, reply: bytes) -> dict:
        """Register values (unsigned ints) from a `g` reply's hex text."""
        if len(reply) != 2 * self.g_size:
            raise RspError(f"`g` reply has {len(reply) // 2} bytes, target.xml describes "
                           f"{self.g_size}: {reply[:40]!r}")
        data = bytes.fromhex(reply.decode())
        return {reg.name: int.from_bytes(data[reg.offset:reg.offset + reg.bitsize // 8], "little")
                for reg in self.registers}


_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<(xi:include|reg)\b([^>]*)>")
_ATTR = re.compile(r'([\w:]+)\s*=\s*["\']([^"\']*)["\']')


def parse_target_description(read_annex: Callable[[str], str],
                             annex: str = "target.xml") -> RegisterLayout:
    """Builds the register layout from target description ANNEX, following
    xi:include. READ_ANNEX(name) returns a file's text. Registers are numbered
    in document order; a `regnum` attribute restarts the numbering."""
    registers: list = []
    _collect_registers(read_annex, annex, registers, depth=0)
    if not registers:
        raise RspError(f"target description {annex} lists no registers")
    return RegisterLayout(registers)


def _collect_registers(read_annex, annex: str, registers: list, depth: int) -> None:
    if depth > 8:
        raise RspError(f"target description include loop at {annex}")
    text = _COMMENT.sub("", read_annex(annex))
    for match in _TAG.finditer(text):
        attrs = dict(_ATTR.findall(match.group(2)))
        if match.group(1) == "xi:include":
            _collect_registers(read_annex, attrs["href"], registers, depth + 1)
            continue
        number = int(attrs["regnum"]) if "regnum" in attrs else (
            registers[-1].number + 1 if registers else 0)
        offset = registers[-1].offset + registers[-1].bitsize // 8 if registers else 0
        registers.append(Register(attrs["name"], number, int(attrs["bitsize"]), offset))
