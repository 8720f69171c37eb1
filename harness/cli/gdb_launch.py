"""Handing a stopped machine to `gdb` in the user's terminal (vmcheck debug).

GdbHandOver is the hand-over of a StopRequest (harness/run/stop_point.py):
called with the guest stopped at the chosen moment and the harness's
debugger still attached, it writes what the in-GDB commands need
(gdb-context.json in the run folder, read by harness/cli/gdb_startup.py),
releases the harness's link (QEMU's stub serves one client), and runs gdb
in the foreground: the kernel's symbols, the programs' symbols (static
ELFs at their link addresses), `target remote` on QEMU's socket, the vm-*
commands, a banner. It returns gdb's exit status when gdb ends.

While gdb runs, vmcheck ignores SIGINT: Ctrl-C belongs to gdb, which
interrupts the guest with it. QEMU is in a session of its own and never
sees the terminal's signals; it is ended by the run's teardown after gdb.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from harness import config

STARTUP = Path(__file__).with_name("gdb_startup.py")
CONTEXT_FILE = "gdb-context.json"
CONTEXT_ENV = "VMCHECK_GDB_CONTEXT"


class GdbHandOver:
    """hand_over(machine, dbg, moment) for `vmcheck debug`: runs GDB_PATH
    on the stopped machine. KERNEL: the --kernel spec; ADAPTER, SC: the
    kernel and scenario run; WHERE: what the user asked for (the banner)."""

    def __init__(self, gdb_path: str, kernel: str, adapter, sc, where):
        self.gdb_path, self.adapter, self.sc, self.where = gdb_path, adapter, sc, where
        self.kernel = kernel   # the --kernel spec, which names a student's tree
        self.run_dir: Path | None = None
        self.status: int | None = None

    def __call__(self, machine, dbg, moment) -> int:
        self.run_dir = machine.run_dir
        context = self.write_context(machine, moment)
        command = self.command(machine.gdb_socket)
        dbg.release()
        print(f"vmcheck: {self.sc.name} stopped at {moment.kind}: {moment.why}", flush=True)
        print(f"vmcheck: starting gdb (run folder {machine.run_dir}; the guest's console "
              f"goes to {machine.console_log})", flush=True)
        self.status = run_in_foreground(command, {CONTEXT_ENV: str(context)})
        return self.status

    def write_context(self, machine, moment) -> Path:
        """The run folder's gdb-context.json: what the vm-* commands need."""
        sc = self.sc
        programs = {name: str(self.adapter.find_program(name)) for name in sc.programs}
        context = {
            "kernel": self.kernel, "scenario": sc.name, "program": sc.program,
            "programs": programs, "mem_mb": sc.mem_mb, "swap_mb": sc.swap_mb,
            "invariants_off": list(sc.invariants_off), "where": str(self.where),
            "moment": {"kind": moment.kind, "why": moment.why,
                       "checkpoint": list(moment.checkpoint) if moment.checkpoint else None,
                       "program": moment.program},
            "run_dir": str(machine.run_dir), "console_log": str(machine.console_log),
        }
        path = Path(machine.run_dir) / CONTEXT_FILE
        path.write_text(json.dumps(context, indent=1))
        machine.keep_files.append(path)   # beside the logs in the kept run folder
        return path

    def command(self, socket: Path) -> list[str]:
        """gdb's command line: symbols, source folder, the connection, gdb's
        own breakpoint for --at break:SYMBOL, our commands
        (harness/cli/gdb_startup.py, which prints the banner)."""
        ex = ["set confirm off", "set pagination off", "set architecture i386:x86-64",
              f"file {self.adapter.symbol_file}"]
        for name in self.sc.programs:
            ex.append(f"add-symbol-file {self.adapter.find_program(name)}")
        source = self.adapter.source_root
        if source is not None:
            ex.append(f"directory {source}")
        ex.append(f"target remote {socket}")
        if self.where.symbol:   # `continue` stops at its next call, as the user expects
            ex.append(f"break {self.where.symbol}")
        args = [self.gdb_path, "-q"]
        for line in ex:
            args += ["-ex", line]
        return args + ["-x", str(STARTUP)]


def run_in_foreground(command: list[str], env: dict) -> int:
    """Runs COMMAND in this terminal and returns its exit status; SIGINT
    is ignored here meanwhile (it is the child's: gdb's Ctrl-C)."""
    import os
    child = subprocess.Popen(command, env={**os.environ, **env}, cwd=config.REPO_ROOT)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
        if child.poll() is None:
            child.kill()
            child.wait()
