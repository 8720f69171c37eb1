"""A fake GDB stub for unit tests: a thread serving the remote protocol on
a Unix socket, modelled on QEMU 7.2's stub (acks every packet, no no-ack
mode, target.xml with an include, `m` limited to 0x800 bytes).

The fake CPU: continuing from pc P stops at the lowest inserted breakpoint
address; if P itself holds a breakpoint it is reported again at once, as
QEMU does (a client must step over it). A step adds 1 to pc, also from a
breakpoint (QEMU's TCG lets a single step pass one); with
`step_reports_breakpoints` a step that starts on one reports it and
stays (as under KVM). With no
breakpoint the CPU runs until interrupted (T02). `exit_on_continue` makes
the next continue end the guest (W21); `close_on_continue` makes the stub
close the connection instead, as QEMU does at a guest power-off. The CPU
enters long mode (EFER = 0x500) when it stops at `long_mode_at`. Memory replies of zero bytes are
run-length encoded, to exercise the client's decoding.
"""

import os
import socket
import threading

from harness.debug.rsp_codec import PacketReader, checksum, frame

# How long a test waits for the fake stub when it expects an answer. The
# stub (a thread of the test process) answers at once: this only guards a
# hang, and a loaded host can keep that thread from running for seconds.
STUB_WAIT = 30


TARGET_XML = ('<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">'
              '<target><architecture>i386:x86-64</architecture>'
              '<xi:include href="core.xml"/></target>')
CORE_XML = """<feature name="org.gnu.gdb.i386.core">
  <!-- <reg name="commented_out" bitsize="64"/> -->
  <reg name="rax" bitsize="64" type="int64" regnum="0"/>
  <reg name="rbx" bitsize="64"/><reg name="rcx" bitsize="64"/><reg name="rdx" bitsize="64"/>
  <reg name="rsi" bitsize="64"/><reg name="rdi" bitsize="64"/><reg name="rbp" bitsize="64"/>
  <reg name="rsp" bitsize="64"/>
  <reg name="rip" bitsize="64" regnum="16"/>
  <reg name="eflags" bitsize="32"/>
  <reg name="cr3" bitsize="64" regnum="29"/>
  <reg name="efer" bitsize="64" regnum="32"/>
</feature>"""
MEMORY_SIZE = 0x10000


class Encoded(bytes):
    """A reply body already in wire form (run-length encoded): sent as is."""


class FakeStub:
    def __init__(self, directory):
        self.path = os.path.join(str(directory), "fake-gdb.sock")
        self.layout = [("rax", 0, 8), ("rbx", 1, 8), ("rcx", 2, 8), ("rdx", 3, 8),
                       ("rsi", 4, 8), ("rdi", 5, 8), ("rbp", 6, 8), ("rsp", 7, 8),
                       ("rip", 16, 8), ("eflags", 17, 4), ("cr3", 29, 8), ("efer", 32, 8)]
        self.regs = {name: 0 for name, _, _ in self.layout}
        self.regs.update(efer=0x500, cr3=0x1000, rip=0x100)
        self.virt = bytearray(MEMORY_SIZE)
        self.phys = bytearray(MEMORY_SIZE)
        self.physical_mode = False
        self.breakpoints = set()  # (type, address); type 2: a write watchpoint
        self.writes = []          # addresses the "guest" writes at its next continues
        self.log = []  # every packet payload received, in order
        self.exit_on_continue = False
        self.close_on_continue = False
        self.step_reports_breakpoints = False    # True: a step on a breakpoint stays (KVM)
        self.exit_before_reply = False   # QEMU shutting down: W00 instead of the next reply
        self.long_mode_at = None
        self.running = False
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def drop_connection(self):
        """QEMU exits: the connection closes without a stop reply."""
        self._conn.shutdown(socket.SHUT_RDWR)

    def close(self):
        self._server.close()
        self._thread.join(5)

    # --- transport ---

    def _serve(self):
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        self._conn = conn
        reader = PacketReader()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                if b"\x03" in data and self.running:
                    data = data.replace(b"\x03", b"")
                    self.running = False
                    self._reply(b"T02thread:p01.01;")
                reader.feed(data)
                while (packet := reader.next_packet()) is not None:
                    self.log.append(packet)
                    conn.sendall(b"+")
                    reply = self._handle(packet)
                    if reply is not None:
                        self._reply(reply)

    def _reply(self, payload: bytes):
        if isinstance(payload, Encoded):
            self._conn.sendall(b"$%s#%02x" % (payload, checksum(payload)))
        else:
            self._conn.sendall(frame(payload))

    # --- commands ---

    def _handle(self, packet: bytes):
        text = packet.decode()
        if self.exit_before_reply:
            self.exit_before_reply = False
            return b"W00"
        if text.startswith("qSupported"):
            return b"PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+"
        if text.startswith("qXfer:features:read:"):
            annex, _, span = text[len("qXfer:features:read:"):].partition(":")
            offset, length = (int(x, 16) for x in span.split(","))
            doc = {"target.xml": TARGET_XML, "core.xml": CORE_XML}[annex].encode()
            piece = doc[offset:offset + min(length, 100)]  # force several reads
            return (b"l" if offset + len(piece) >= len(doc) else b"m") + piece
        if text == "vCont?":
            return b"vCont;c;C;s;S"
        if text == "?":
            return b"T05thread:p01.01;"
        if text == "g":
            return b"".join(self.regs[n].to_bytes(s, "little").hex().encode()
                            for n, _, s in self.layout)
        if text[0] in "pP":
            return self._register(text)
        if text[0] == "G":
            return self._write_all(bytes.fromhex(text[1:]))
        if text[0] in "mM":
            return self._memory(text)
        if text[0] in "Zz":
            kind, address, _ = text[1:].split(",")
            entry = (int(kind), int(address, 16))
            (self.breakpoints.add if text[0] == "Z" else self.breakpoints.discard)(entry)
            return b"OK"
        if text.startswith("Qqemu.PhyMemMode:"):
            self.physical_mode = text.endswith("1")
            return b"OK"
        if text.startswith("vCont;s") or text == "s":
            on_breakpoint = any(address == self.regs["rip"] for _, address in self.breakpoints)
            if not (self.step_reports_breakpoints and on_breakpoint):
                self.regs["rip"] += 1
            return b"T05thread:p01.01;"
        if text in ("vCont;c", "c"):
            return self._continue()
        return b""  # unsupported, as GDB stubs say it

    def _register(self, text: str):
        number, _, value = text[1:].partition("=")
        for name, num, size in self.layout:
            if num == int(number, 16):
                if text[0] == "p":
                    return self.regs[name].to_bytes(size, "little").hex().encode()
                self.regs[name] = int.from_bytes(bytes.fromhex(value), "little")
                return b"OK"
        return b"E14"

    def _write_all(self, data: bytes):
        """QEMU's `G`: the registers in `g` order, as many as DATA holds."""
        at = 0
        for name, _, size in self.layout:
            if at >= len(data):
                break
            self.regs[name] = int.from_bytes(data[at:at + size], "little")
            at += size
        return b"OK"

    def _memory(self, text: str):
        head, _, data = text[1:].partition(":")
        address, length = (int(x, 16) for x in head.split(","))
        memory = self.phys if self.physical_mode else self.virt
        if address + length > MEMORY_SIZE or length > 0x800:
            return b"E14" if length <= 0x800 else b"E22"
        if text[0] == "M":
            memory[address:address + length] = bytes.fromhex(data)
            return b"OK"
        return Encoded(_run_length_encode(memory[address:address + length].hex().encode()))

    def _continue(self):
        if self.close_on_continue:
            self._conn.shutdown(socket.SHUT_RDWR)
            return None
        if self.exit_on_continue:
            return b"W21"
        watched = [a for kind, a in self.breakpoints if kind == 2]
        while self.writes:
            address = self.writes.pop(0)
            if address in watched:
                return b"T05watch:%x;thread:p01.01;" % address
        addresses = sorted(a for kind, a in self.breakpoints if kind != 2)
        if not addresses:
            self.running = True
            return None  # runs until \x03
        if self.regs["rip"] not in addresses:
            self.regs["rip"] = addresses[0]
        if self.regs["rip"] == self.long_mode_at:
            self.regs["efer"] = 0x500
        return b"T05thread:p01.01;"


def _run_length_encode(hex_text: bytes) -> bytes:
    """Encodes runs of '0' as GDB stubs may: '0*<n+29>' (n <= 97 extra,
    never producing the forbidden counts '#' or '$')."""
    out, i = bytearray(), 0
    while i < len(hex_text):
        run = 1
        while i + run < len(hex_text) and hex_text[i + run] == hex_text[i] and run < 90:
            run += 1
        if hex_text[i] == ord("0") and run > 4 and run - 1 + 29 not in (35, 36):
            out += b"0*" + bytes((run - 1 + 29,))
        else:
            out += hex_text[i:i + run]
        i += run
    return bytes(out)
