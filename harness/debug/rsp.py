"""A client for the GDB remote serial protocol, as QEMU's GDB stub speaks it.

Talks to the stub directly over its Unix socket (no GDB process): packet
framing, acks, the register layout from target.xml, registers, memory
(virtual or, with QEMU's PhyMemMode, physical), breakpoints, continue, step
and interrupt. Continuing from a stop at an inserted breakpoint steps over it
transparently (QEMU would report the same breakpoint again otherwise).

Measured on QEMU 7.2: QStartNoAckMode is not supported (every packet is
acked; the ack is sent together with the next packet), `m` answers at most
0x800 bytes, and the `g` packet follows target.xml exactly, in every CPU mode.
"""

import select
import socket
import time
from contextlib import contextmanager
from typing import Optional

from harness.debug.rsp_codec import (PacketReader, RegisterLayout, RspError, StopReply,
                               frame, parse_stop_reply, parse_target_description)

__all__ = ["RspClient", "RspError", "RspTimeout", "RspConnectionClosed", "RspMemoryError",
           "StopReply", "EXIT_STATUS_UNKNOWN"]


class RspTimeout(RspError):
    """No reply from the stub within the timeout."""


class RspConnectionClosed(RspError):
    """The stub closed the connection (QEMU exited)."""


class RspMemoryError(RspError):
    """The stub could not access guest memory (address not mapped)."""

    def __init__(self, address: int, size: int, reply: bytes, physical: bool):
        space = "physical" if physical else "virtual"
        super().__init__(f"cannot access {size} bytes of {space} memory at "
                         f"{address:#x} (stub replied {reply.decode(errors='replace')})")
        self.address = address
        self.size = size


EXIT_STATUS_UNKNOWN = -1  # StopReply.code when QEMU closed the connection
READ_CHUNK = 0x800  # QEMU answers E22 to longer `m` requests
X86_BREAKPOINT_KIND = 1
# What write_registers may put in a `G` packet (x86-64, in target.xml's order rax..r15, rip)
G_WRITABLE = frozenset(("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
                        "r10", "r11", "r12", "r13", "r14", "r15", "rip"))


class RspClient:
    """One connection to a GDB stub. Not thread-safe.

    The target is either stopped (registers, memory and breakpoints may be
    used) or running (after resume(); only wait_stop() and interrupt()).
    """

    def __init__(self, sock: socket.socket, timeout: float = 5.0):
        self._sock = sock
        self._reader = PacketReader()
        self._pending_ack = False
        self.timeout = timeout
        self.ack_mode = True
        self.features: dict = {}
        self.packet_size = 0x1000
        self.layout: Optional[RegisterLayout] = None
        self.has_vcont = False
        self.thread: Optional[str] = None  # thread of the last stop reply
        self.running = False
        self.connected = True  # False once the stub closed the connection
        self.physical_mode = False
        self._breakpoints: set = set()  # (address, hardware)
        self._watchpoints: set = set()  # (address, length): write watchpoints
        self._registers: dict = {}  # values read since the last stop, by name
        # Whether a single step that starts on a breakpoint runs the
        # instruction (QEMU's TCG) rather than reporting the breakpoint again
        # (KVM, which patches int3): None until resume() has found out.
        self.step_passes_breakpoints: Optional[bool] = None
        # Counts the moments guest memory may change under a reader's cache:
        # the target runs, or the client writes memory or a register.
        self.epoch = 0

    @classmethod
    def connect(cls, path: str, timeout: float = 5.0) -> "RspClient":
        """Connects to the stub's Unix socket PATH (retrying until TIMEOUT while
        the socket does not accept yet) and runs the handshake."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError) as err:
                sock.close()
                if time.monotonic() > deadline:
                    raise RspTimeout(f"GDB stub socket {path} not accepting after "
                                     f"{timeout:.1f}s: {err}") from err
                time.sleep(0.01)
        client = cls(sock, timeout)
        try:
            client.handshake()
        except BaseException:
            client.close()
            raise
        return client

    def close(self) -> None:
        self.connected = False
        try:
            if self._pending_ack:
                self._sock.sendall(b"+")
        except OSError:
            pass
        self._sock.close()

    # --- transport -------------------------------------------------------

    def _send(self, payload: bytes) -> None:
        data = (b"+" if self._pending_ack else b"") + frame(payload)
        self._pending_ack = False
        try:
            self._sock.sendall(data)
        except OSError as err:
            raise RspConnectionClosed(f"GDB stub connection lost while sending "
                                      f"{payload[:40]!r}: {err}") from err

    def _receive(self, timeout: Optional[float]) -> Optional[bytes]:
        """Returns the next packet, or None if none arrived within TIMEOUT."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            packet = self._reader.next_packet()
            if packet is not None:
                self._pending_ack = self.ack_mode
                return packet
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            ready, _, _ = select.select([self._sock], [], [], remaining)
            if not ready:
                return None
            try:
                data = self._sock.recv(65536)
            except OSError as err:
                data = b""
                lost = f"GDB stub connection lost: {err}"
            else:
                lost = "GDB stub closed the connection (QEMU exited?)"
            if not data:
                self.connected = False
                raise RspConnectionClosed(lost)
            self._reader.feed(data)

    def request(self, payload: bytes, timeout: Optional[float] = None) -> bytes:
        """Sends PAYLOAD and returns the stub's reply packet. After an
        RspTimeout the connection is out of step: close it."""
        if self.running:
            raise RspError(f"cannot send {payload[:40]!r}: the target is running")
        self._send(payload)
        seconds = self.timeout if timeout is None else timeout
        reply = self._receive(seconds)
        if reply is None:
            raise RspTimeout(f"no reply from the GDB stub to {payload[:40]!r} "
                             f"within {seconds:.1f}s")
        if reply[:1] in (b"W", b"X"):   # no reply starts so: an exit stop reply
            # QEMU's shutdown (the guest powered off just before this stop)
            # tells the debugger the target exited, in place of the reply
            parse_stop_reply(reply)     # RspError if it is not a well-formed one
            raise RspConnectionClosed(f"the target exited ({reply.decode()}) before the "
                                      f"GDB stub answered {payload[:40]!r}")
        return reply

    def _expect_ok(self, payload: bytes) -> None:
        reply = self.request(payload)
        if reply != b"OK":
            what = "unsupported" if reply == b"" else reply.decode(errors="replace")
            raise RspError(f"GDB stub refused {payload[:40]!r}: {what}")

    # --- handshake and target description ---------------------------------

    def handshake(self) -> None:
        """qSupported, no-ack mode when offered, vCont?, register layout."""
        reply = self.request(b"qSupported:multiprocess+;swbreak+;hwbreak+;"
                             b"vContSupported+;xmlRegisters=i386")
        for item in reply.decode().split(";"):
            name, eq, value = item.partition("=")
            if eq:
                self.features[name] = value
            elif item:
                self.features[item[:-1]] = item[-1] == "+"
        self.packet_size = int(self.features.get("PacketSize", "1000"), 16)
        if self.features.get("QStartNoAckMode"):
            self._expect_ok(b"QStartNoAckMode")
            self.ack_mode = False
        self.has_vcont = self.request(b"vCont?").startswith(b"vCont")
        if not self.features.get("qXfer:features:read"):
            raise RspError("GDB stub offers no target description (qXfer:features:read)")
        self.layout = parse_target_description(self.read_feature_file)
        self.thread = parse_stop_reply(self.request(b"?")).thread

    def read_feature_file(self, annex: str) -> str:
        """Reads one target-description file (e.g. target.xml) in pieces."""
        text, offset = b"", 0
        while True:
            reply = self.request(b"qXfer:features:read:%s:%x,%x"
                                 % (annex.encode(), offset, self.packet_size - 16))
            if reply[:1] not in (b"m", b"l"):
                raise RspError(f"cannot read target description {annex}: {reply!r}")
            text += reply[1:]
            offset += len(reply) - 1
            if reply[:1] == b"l":
                return text.decode()

    # --- registers --------------------------------------------------------

    # Register values are cached from a stop until the target runs again.

    def read_registers(self) -> dict:
        """All registers by name (`g` packet), as unsigned integers."""
        self._registers = self.layout.decode_g(self.request(b"g"))
        return dict(self._registers)

    def read_register(self, name: str) -> int:
        if name in self._registers:
            return self._registers[name]
        reg = self.layout.register(name)
        reply = self.request(b"p%x" % reg.number)
        if len(reply) != reg.bitsize // 4:
            raise RspError(f"cannot read register {name}: stub replied {reply[:40]!r}")
        value = int.from_bytes(bytes.fromhex(reply.decode()), "little")
        self._registers[name] = value
        return value

    def write_register(self, name: str, value: int) -> None:
        reg = self.layout.register(name)
        value &= (1 << reg.bitsize) - 1
        data = value.to_bytes(reg.bitsize // 8, "little")
        self._expect_ok(b"P%x=%s" % (reg.number, data.hex().encode()))
        self._registers[name] = value
        self.epoch += 1

    def write_registers(self, values: dict) -> None:
        """Writes VALUES (name -> value) in one `G` packet. QEMU's stub
        writes a `G` packet's registers in `g` order for as many bytes as
        the packet holds, so it carries every register up to the last one
        named, those not named at their values of this stop (read with `g`
        unless known). Only the general registers and the pc may be in that
        prefix (RspError otherwise): writing a segment or control register,
        even its own value, is not free of side effects in QEMU (a selector
        load reads the descriptor table; cr0/cr3/cr4 flush the TLB)."""
        order = self.layout.names()
        last = max(order.index(self.layout.register(name).name) for name in values)
        prefix = self.layout.registers[:last + 1]
        refused = [reg.name for reg in prefix if reg.name not in G_WRITABLE]
        if refused:
            raise RspError(f"a `G` packet up to {order[last]} would also write "
                           f"{', '.join(refused)}")
        if any(reg.name not in values and reg.name not in self._registers for reg in prefix):
            self.read_registers()
        data = b""
        for reg in prefix:
            value = values.get(reg.name, self._registers.get(reg.name))
            data += (value & ((1 << reg.bitsize) - 1)).to_bytes(reg.bitsize // 8, "little")
        self._expect_ok(b"G" + data.hex().encode())
        for reg in prefix:
            self._registers[reg.name] = int.from_bytes(
                data[reg.offset:reg.offset + reg.bitsize // 8], "little")
        self.epoch += 1

    def pc(self) -> int:
        return self.read_register(self.layout.pc_name)

    # --- memory -----------------------------------------------------------

    def read_memory(self, address: int, size: int) -> bytes:
        """SIZE bytes at ADDRESS (virtual, or physical in physical_memory())."""
        out = bytearray()
        while len(out) < size:
            at = address + len(out)
            count = min(READ_CHUNK, size - len(out))
            reply = self.request(b"m%x,%x" % (at, count))
            if len(reply) != 2 * count:
                raise RspMemoryError(at, count, reply, self.physical_mode)
            out += bytes.fromhex(reply.decode())
        return bytes(out)

    def write_memory(self, address: int, data: bytes) -> None:
        self.epoch += 1
        chunk = (self.packet_size - 64) // 2
        for start in range(0, len(data), chunk):
            piece = data[start:start + chunk]
            reply = self.request(b"M%x,%x:%s" % (address + start, len(piece), piece.hex().encode()))
            if reply != b"OK":
                raise RspMemoryError(address + start, len(piece), reply, self.physical_mode)

    @contextmanager
    def physical_memory(self):
        """Within the block, memory reads and writes use physical addresses
        (QEMU's Qqemu.PhyMemMode). Nests."""
        if self.physical_mode:
            yield
            return
        self._expect_ok(b"Qqemu.PhyMemMode:1")
        self.physical_mode = True
        try:
            yield
        finally:
            self.physical_mode = False
            self._expect_ok(b"Qqemu.PhyMemMode:0")

    # --- breakpoints ------------------------------------------------------

    def insert_breakpoint(self, address: int, hardware: bool = False) -> None:
        """Z0 (software) or Z1 (hardware) breakpoint at virtual ADDRESS."""
        if (address, hardware) in self._breakpoints:
            return
        self._expect_ok(b"Z%d,%x,%d" % (int(hardware), address, X86_BREAKPOINT_KIND))
        self._breakpoints.add((address, hardware))

    def remove_breakpoint(self, address: int, hardware: bool = False) -> None:
        """Removes a breakpoint; after the stub has gone, only forgets it."""
        if (address, hardware) not in self._breakpoints:
            return
        if not self.connected:
            self._breakpoints.discard((address, hardware))
            return
        self._expect_ok(b"z%d,%x,%d" % (int(hardware), address, X86_BREAKPOINT_KIND))
        self._breakpoints.discard((address, hardware))

    def breakpoints(self) -> set:
        """The inserted breakpoints, as (address, hardware) pairs."""
        return set(self._breakpoints)

    def insert_watchpoint(self, address: int, length: int) -> None:
        """Z2: a write watchpoint on LENGTH bytes at virtual ADDRESS. QEMU
        stops after the writing instruction (stop reply pair `watch`)."""
        if (address, length) in self._watchpoints:
            return
        self._expect_ok(b"Z2,%x,%x" % (address, length))
        self._watchpoints.add((address, length))

    def remove_watchpoint(self, address: int, length: int) -> None:
        """Removes a write watchpoint; after the stub has gone, only forgets it."""
        if (address, length) not in self._watchpoints:
            return
        if self.connected:
            self._expect_ok(b"z2,%x,%x" % (address, length))
        self._watchpoints.discard((address, length))

    # --- execution --------------------------------------------------------

    def resume(self) -> None:
        """Lets the target run; stepping first over a breakpoint at pc.
        Where a step passes a breakpoint at its own start (QEMU's TCG: its
        breakpoint check gives way to a single step), the breakpoint stays
        in place: two round trips less a resume than lifting and putting it
        back. The first resume from a breakpoint finds out: a step that
        leaves pc where it was (the breakpoint reported again, as under KVM;
        or an instruction that repeats, such as a rep iteration) means
        lifting it, then and from then on."""
        if self._at_breakpoint():
            stop = None
            if self.step_passes_breakpoints is not False:
                pc = self.pc()
                stop = self.step(lift=False)
                if self.step_passes_breakpoints is None and stop.kind == "signal":
                    self.step_passes_breakpoints = self.pc() != pc
                    if not self.step_passes_breakpoints:
                        stop = None
            if stop is None:
                stop = self.step()
            if stop.kind != "signal":
                return  # the step ended the target; nothing to resume
        self._start(b"vCont;c" if self.has_vcont else b"c")

    def step(self, timeout: Optional[float] = None, lift: bool = True) -> StopReply:
        """Executes one instruction (over a breakpoint at pc too: LIFT lifts
        it for the step and puts it back; False leaves it in place, for a
        stub whose step passes it, see resume())."""
        pc = self.pc()
        lifted = [bp for bp in self._breakpoints if bp[0] == pc] if lift else []
        for address, hardware in lifted:
            self.remove_breakpoint(address, hardware)
        self._start(b"vCont;s:%s" % self.thread.encode()
                    if self.has_vcont and self.thread else b"s")
        stop = self.wait_stop(self.timeout if timeout is None else timeout)
        finished = stop is not None
        if not finished:
            stop = self.halt()
        if stop.kind == "signal":
            for address, hardware in lifted:
                self.insert_breakpoint(address, hardware)
        if not finished:
            raise RspTimeout("a single step did not finish (a hlt with interrupts "
                             "masked for stepping?); the target was interrupted")
        return stop

    def _start(self, packet: bytes) -> None:
        self._send(packet)
        self.running = True
        self._registers = {}
        self.epoch += 1

    def wait_stop(self, timeout: Optional[float]) -> Optional[StopReply]:
        """Waits for the running target's stop reply; None after TIMEOUT
        seconds (the target is then still running)."""
        if not self.running:
            raise RspError("wait_stop() while the target is stopped")
        while True:
            try:
                packet = self._receive(timeout)
            except RspConnectionClosed:
                # QEMU exits without a W packet when the guest powers off
                # (isa-debug-exit): an exit with an unknown status.
                self.running = False
                return StopReply("exited", EXIT_STATUS_UNKNOWN, raw=b"")
            if packet is None:
                return None
            if packet[:1] == b"O" and packet != b"OK":
                continue  # console output from the stub
            stop = parse_stop_reply(packet)
            self.running = False
            self._registers = {}
            self.thread = stop.thread or self.thread
            return stop

    def interrupt(self) -> None:
        """Asks the running target to stop (a stop reply follows)."""
        try:
            self._sock.sendall(b"\x03")
        except OSError as err:
            raise RspConnectionClosed(f"GDB stub connection lost: {err}") from err

    def halt(self, timeout: Optional[float] = None) -> StopReply:
        """Stops the running target and returns its stop reply."""
        self.interrupt()
        stop = self.wait_stop(self.timeout if timeout is None else timeout)
        if stop is None:
            raise RspTimeout("the target did not stop after an interrupt")
        return stop

    def detach(self) -> None:
        """Removes all breakpoints and lets the target run without us."""
        self._expect_ok(b"D")
        self._breakpoints.clear()
        self._watchpoints.clear()
        self.running = True

    def _at_breakpoint(self) -> bool:
        if not self._breakpoints:
            return False
        pc = self.pc()
        return any(address == pc for address, _ in self._breakpoints)
