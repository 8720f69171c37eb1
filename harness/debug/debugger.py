"""The harness's debugger: control of a QEMU guest over its GDB stub.

    dbg = Debugger.attach(machine.gdb_socket, SymbolTable(kernel_elf),
                          long_mode_at="kmain")
    bp = dbg.add_breakpoint("vmcheck_hook_frame_alloc",
                            callback=lambda d, bp: d.force_return(1))
    stop = dbg.run_until(dbg.add_breakpoint("thread_exit"), timeout=30)
    cr3 = dbg.register("cr3"); page = dbg.read_phys(cr3 & ~0xfff, 4096)

Timeouts given to Debugger methods are in seconds before scaling; each is
multiplied by the Debugger's timeout_scale (VMCHECK_TIMEOUT_SCALE by default).
"""

import time
from collections import Counter
from typing import Callable, Optional, Union

from harness import config
from harness.debug.debug_types import Breakpoint, DebuggerError, DebuggerTimeout, Stop  # noqa: F401 - re-exported
from harness.debug.guest_memory import MappedMemory, StubMemory
from harness.debug.rsp import EXIT_STATUS_UNKNOWN, RspClient, RspConnectionClosed, StopReply
from harness.debug.symbols import SymbolTable
from harness.debug.typed_memory import read_struct, read_value
from harness.debug.watchpoints import Watchpoints

EFER_LMA = 1 << 10
RED_ZONE = 128    # bytes below rsp a detour's frame leaves alone
DETOUR_REGISTERS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
                    "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags")
SIGINT = 2
Location = Union[str, int]


class Debugger:
    """High-level control of one guest CPU. Not thread-safe."""

    def __init__(self, client: RspClient, symbols: Optional[SymbolTable] = None,
                 timeout_scale: Optional[float] = None):
        self.client = client
        self.symbols = symbols
        self.timeout_scale = config.env_timeout_scale() if timeout_scale is None else timeout_scale
        # Under KVM software breakpoints crash QEMU (docs/debugger.md): set True there.
        self.hardware_breakpoints = False
        self._breakpoints: dict = {}  # address -> [Breakpoint]
        self._detours: dict = {}      # (pc, rsp) a detour returns with -> saved registers
        self.memory = StubMemory(client)   # where reads go (harness/debug/guest_memory.py)
        self.watchpoints = Watchpoints(client)   # write watchpoints (harness/debug/watchpoints.py)
        # Stops handled: by breakpoint address, "look" (a watch's look at the
        # guest), "detour" (a call_first() coming back), "interrupt".
        self.stops: Counter = Counter()

    @classmethod
    def attach(cls, socket_path, symbols: Optional[SymbolTable] = None,
               long_mode_at: Optional[Location] = None, timeout: float = 10.0,
               timeout_scale: Optional[float] = None, guest_ram=None) -> "Debugger":
        """Connects to the GDB stub at SOCKET_PATH and returns once the CPU
        runs in long mode (see wait_for_long_mode), stopped. GUEST_RAM: the
        machine's mapped RAM (Machine.guest_ram), read instead of the stub."""
        scale = config.env_timeout_scale() if timeout_scale is None else timeout_scale
        client = RspClient.connect(str(socket_path), timeout * scale)
        debugger = cls(client, symbols, scale)
        if guest_ram is not None:
            debugger.use_guest_ram(guest_ram)
        try:
            debugger.wait_for_long_mode(long_mode_at, timeout)
        except BaseException:
            client.close()
            raise
        return debugger

    def close(self) -> None:
        self.client.close()

    def release(self) -> None:
        """Hands the stopped guest to another debugger: removes every
        breakpoint and closes the link without detaching (a `D` packet
        would resume the guest; QEMU keeps it stopped when the client just
        goes, and its stub then accepts the next client)."""
        for address, hardware in self.client.breakpoints():
            self.client.remove_breakpoint(address, hardware)
        self.watchpoints.clear()
        self._breakpoints.clear()
        self._detours.clear()
        self.client.close()

    def __enter__(self) -> "Debugger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- symbols ------------------------------------------------------------

    def resolve(self, where: Location) -> int:
        """An address for a symbol name or an integer address."""
        if isinstance(where, int):
            return where
        if self.symbols is None:
            raise DebuggerError(f"cannot resolve {where!r}: the debugger has no symbol file")
        return self.symbols.address_of(where)

    def describe(self, address: int) -> str:
        return self.symbols.describe(address) if self.symbols else hex(address)

    # --- registers and memory ---------------------------------------------

    def read_registers(self) -> dict:
        """All registers by name, including cr0, cr2, cr3, cr4, efer, fs_base
        and gs_base."""
        return self.client.read_registers()

    def register(self, name: str) -> int:
        return self.client.read_register(name)

    def write_register(self, name: str, value: int) -> None:
        self.client.write_register(name, value)

    def write_registers(self, values: dict) -> None:
        """Several general registers (or the pc) at once: one packet
        (RspClient.write_registers)."""
        self.client.write_registers(values)

    @property
    def pc(self) -> int:
        return self.client.pc()

    def in_long_mode(self) -> bool:
        return bool(self.client.read_register("efer") & EFER_LMA)

    def reads_ram_locally(self) -> bool:
        """Whether reads of guest RAM come from the mapped RAM (no round trip)."""
        return isinstance(self.memory, MappedMemory)

    def use_guest_ram(self, guest_ram) -> None:
        """Reads memory from GUEST_RAM (harness.machine.guest_ram.GuestRam)
        from now on; what is not RAM still goes over the stub."""
        self.memory = MappedMemory(self.client, guest_ram,
                                   StubMemory(self.client, cache=False))

    def read_virt(self, address: int, size: int) -> bytes:
        """SIZE bytes at virtual ADDRESS, translated by the current CR3."""
        self._require_virtual()
        return self.memory.read_virt(address, size)

    def write_virt(self, address: int, data: bytes) -> None:
        self._require_virtual()
        self.client.write_memory(address, data)

    def read_phys(self, address: int, size: int) -> bytes:
        return self.memory.read_phys(address, size)

    def write_phys(self, address: int, data: bytes) -> None:
        with self.client.physical_memory():
            self.client.write_memory(address, data)

    def physical_memory(self):
        """A context for many read_phys/write_phys calls in a row (e.g. a
        page-table walk): the stub stays in physical mode for the whole
        block instead of switching per call. read_virt is refused inside."""
        return self.client.physical_memory()

    def _require_virtual(self) -> None:
        if self.client.physical_mode:
            raise DebuggerError("virtual memory access inside physical_memory()")

    def read_u64(self, address: int) -> int:
        return int.from_bytes(self.read_virt(address, 8), "little")

    def read_variable(self, name: str):
        """The global variable NAME, decoded through its DWARF type."""
        variable = self._require_symbols().types.variable(name)
        return read_value(self.read_virt, variable.address, variable.type)

    def read_struct(self, address: int, type_name: str):
        """The struct named TYPE_NAME (e.g. "struct thread") at ADDRESS."""
        return read_struct(self.read_virt, address, self._require_symbols().types.get(type_name))

    def _require_symbols(self) -> SymbolTable:
        if self.symbols is None:
            raise DebuggerError("this needs the kernel's symbol file; attach with symbols=")
        return self.symbols

    # --- breakpoints --------------------------------------------------------

    def add_breakpoint(self, where: Location, callback: Optional[Callable] = None,
                       hardware: Optional[bool] = None) -> Breakpoint:
        """A breakpoint at a symbol or address (hardware: Z1; default: the
        debugger's hardware_breakpoints). Several may share an address."""
        if hardware is None:
            hardware = self.hardware_breakpoints
        address = self.resolve(where)
        label = where if isinstance(where, str) else self.describe(address)
        bp = Breakpoint(address, label, callback, hardware)
        self.client.insert_breakpoint(address, hardware)
        self._breakpoints.setdefault(address, []).append(bp)
        return bp

    def remove_breakpoint(self, bp: Breakpoint) -> None:
        at_address = self._breakpoints.get(bp.address, [])
        if bp not in at_address:
            return
        at_address.remove(bp)
        if not any(other.hardware == bp.hardware for other in at_address):
            self.client.remove_breakpoint(bp.address, bp.hardware)
        if not at_address:
            del self._breakpoints[bp.address]

    def breakpoints(self) -> list:
        return [bp for bps in self._breakpoints.values() for bp in bps]

    # --- running ------------------------------------------------------------

    def run_until(self, until=None, timeout: float = 30.0, watch=None) -> Stop:
        """Runs the guest until a stop condition, calling breakpoint callbacks
        (and counting hits) on the way. Conditions, besides the guest ending
        and a callback returning true:
          until=None: a breakpoint without a callback is hit;
          until=Breakpoint or an iterable of them: one of those is hit;
          until=function(debugger): it returns true (asked at each stop).
        WATCH (e.g. harness.run.hang_watch.HangWatch), if given, is polled while
        the guest runs, at least every watch.interval seconds (poll() says
        itself when it is due): when watch.poll() returns true the guest is stopped, watch.inspect(debugger) runs
        (it may raise to end the run, the guest left stopped) and the guest
        goes on. Raises DebuggerTimeout (guest stopped) after TIMEOUT seconds,
        not counting the time WATCH says the harness held the guest stopped
        meanwhile (its held_s: e.g. the exact disk's requests)."""
        seconds = timeout * self.timeout_scale
        deadline = time.monotonic() + seconds - getattr(watch, "held_s", 0.0)
        if isinstance(until, Breakpoint):
            until = (until,)
        elif until is not None and not callable(until):
            until = tuple(until)
        while True:
            self.client.resume()
            reply = self._wait_stop(deadline, watch)
            timed_out = reply is None
            if timed_out:
                reply = self.client.halt(self.client.timeout)
            stop = self._handle_stop(reply, until)
            if stop is not None:
                return stop
            if timed_out:
                stop = Stop("signal", self.pc, (), reply)
                raise DebuggerTimeout(_awaited(until), seconds, stop, self.describe(stop.pc))

    def _wait_stop(self, deadline: float, watch) -> Optional[StopReply]:
        """The running guest's next stop reply, None at DEADLINE plus the
        harness's time WATCH counts (still running). Polls WATCH
        meanwhile; its looks at the stopped guest are not stops of their
        own unless a breakpoint came first."""
        while True:
            left = deadline + getattr(watch, "held_s", 0.0) - time.monotonic()
            if left <= 0:
                return None
            if watch is not None and watch.poll():
                try:
                    reply = self.client.halt(self.client.timeout)
                    if reply.kind != "signal" or reply.code != SIGINT or \
                            self.pc in self._breakpoints:
                        return reply
                    self.stops["look"] += 1
                    watch.inspect(self)
                    self.client.resume()
                except RspConnectionClosed:   # QEMU exited (power-off) as the look began
                    return StopReply("exited", EXIT_STATUS_UNKNOWN, raw=b"")
                continue
            reply = self.client.wait_stop(min(left, watch.interval) if watch else left)
            if reply is not None:
                return reply

    def _handle_stop(self, reply: StopReply, until) -> Optional[Stop]:
        """Dispatches one stop: counts hits, runs callbacks; returns the Stop
        if run_until should return."""
        if reply.kind != "signal":
            return Stop("exited", None, (), reply)
        pc = self.pc
        hit = tuple(self._breakpoints.get(pc, ()))
        watched = self.watchpoints.hit_by(reply.info)
        if watched is not None:
            self.stops["watch"] += 1
            watched.hits += 1
            if watched.callback(self, watched):
                return Stop("watchpoint", pc, (), reply)
            if not hit:    # else the write's next instruction has a breakpoint too
                return None
        if hit and self._end_detour(pc):
            self.stops["detour"] += 1
            for bp in hit:    # the code here "runs as if nothing had happened"
                if bp.replaces_code and bp.callback is not None and self.pc == pc:
                    bp.callback(self, bp)
            return None
        if not hit:
            self.stops["interrupt"] += 1
            return Stop("signal", pc, (), reply) if reply.code != SIGINT else None
        self.stops[pc] += 1
        asked = False
        for bp in hit:
            bp.hits += 1
            if bp.callback is not None and bp.callback(self, bp):
                asked = True
        if asked:
            return Stop("breakpoint", pc, hit, reply)
        if until is None:
            wanted = any(bp.callback is None for bp in hit)
        elif callable(until):
            if until(self):
                return Stop("predicate", pc, hit, reply)
            wanted = False
        else:
            wanted = any(bp in until for bp in hit)
        return Stop("breakpoint", pc, hit, reply) if wanted else None

    def step(self) -> StopReply:
        """Executes one instruction."""
        return self.client.step()

    def force_return(self, value: int) -> None:
        """At a function's first instruction: returns VALUE to its caller
        without running the function (rax = VALUE, rip = the return address
        popped from the stack)."""
        rsp = self.register("rsp")
        return_address = self.read_u64(rsp)
        self.write_register("rax", value)
        self.write_register("rip", return_address)
        self.write_register("rsp", rsp + 8)

    def call_first(self, function: Location) -> None:
        """At a breakpoint: makes the stopped thread call FUNCTION (no
        arguments) before it goes on from here. The call returns to this
        address; the debugger recognises that stop by its stack pointer,
        puts back every general register and the flags as they are now, and
        resumes without counting a hit or running callbacks (except those
        of breakpoints that replace the code here), so the code here then
        runs as if nothing had happened in between. The call's
        frame goes RED_ZONE bytes below the stack pointer, aligned as the
        SysV ABI wants at a function's entry."""
        saved = {name: self.register(name) for name in DETOUR_REGISTERS}
        pc, rsp = saved["rip"], saved["rsp"]
        frame = ((rsp - RED_ZONE - 8) & ~0xf) + 8
        self.write_virt(frame, pc.to_bytes(8, "little"))
        self.write_register("rsp", frame)
        self.write_register("rip", self.resolve(function))
        # its own breakpoint, so the return stops here even if the caller's goes
        comeback = self.add_breakpoint(pc, callback=lambda d, bp: False)
        self._detours[(pc, frame + 8)] = (saved, comeback)

    def _end_detour(self, pc: int) -> bool:
        """True (registers restored) if this stop is a call_first() call
        coming back."""
        if not self._detours:
            return False
        detour = self._detours.pop((pc, self.register("rsp")), None)
        if detour is None:
            return False
        saved, comeback = detour
        for name, value in saved.items():
            self.write_register(name, value)
        self.remove_breakpoint(comeback)
        return True

    def finish(self, timeout: float = 30.0) -> int:
        """At a function's first instruction: runs until it returns to its
        caller (this activation: the stack pointer is checked, so recursion
        and other threads are told apart) and returns rax. Breakpoints hit on
        the way count and run their callbacks but do not end the wait."""
        rsp = self.register("rsp")
        return_address = self.read_u64(rsp)
        returned = self.add_breakpoint(return_address)

        def returned_to_caller(d: Debugger) -> bool:
            return d.pc == return_address and d.register("rsp") == rsp + 8
        try:
            stop = self.run_until(returned_to_caller, timeout)
        finally:
            self.remove_breakpoint(returned)
        if stop.reason != "predicate":
            raise DebuggerError(f"the guest stopped ({stop.reason}) before returning to "
                                f"{self.describe(return_address)}")
        return self.register("rax")

    def wait_for_long_mode(self, at: Optional[Location] = None, timeout: float = 10.0) -> None:
        """Returns (stopped) once the CPU runs in long mode (EFER.LMA). With
        AT, a hardware breakpoint there (a symbol only reached in long mode,
        such as the kernel's C entry); without, the guest is polled. A CPU
        already in long mode (a machine restored where it stood at AT:
        harness/machine/state_file.py) is taken as it stands."""
        if self.in_long_mode():
            return
        if at is None:
            return self._poll_for_long_mode(timeout)
        entry = self.add_breakpoint(at, hardware=True)
        try:
            stop = self.run_until(entry, timeout)
        finally:
            self.remove_breakpoint(entry)
        if stop.reason == "exited":
            raise DebuggerError(f"the guest ended before reaching {entry.label}")
        if stop.reason != "breakpoint" or not self.in_long_mode():
            raise DebuggerError(f"the CPU did not reach {entry.label} in long mode "
                                f"(stop: {stop.reason}, EFER={self.register('efer'):#x})")

    def _poll_for_long_mode(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout * self.timeout_scale
        interval, reply = 0.002, None
        while time.monotonic() < deadline:
            self.client.resume()
            reply = self.client.wait_stop(interval) or self.client.halt()
            if reply.kind != "signal":
                raise DebuggerError("the guest ended before reaching long mode")
            if self.in_long_mode():
                return
            interval = min(interval * 2, 0.05)
        raise DebuggerTimeout("the CPU to enter long mode", timeout * self.timeout_scale,
                              Stop("signal", self.pc, (), reply), self.describe(self.pc))


def _awaited(until) -> str:
    if until is None:
        return "a breakpoint without a callback"
    if callable(until):
        return f"the condition {getattr(until, '__name__', 'given').replace('_', ' ')}"
    return "breakpoint " + " or ".join(bp.label for bp in until)
