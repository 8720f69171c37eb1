"""Benchmark and soak of the vm conformance programs
(scenarios/programs/vm/MANIFEST.toml) on the reference kernel.

    python3 -m harness.bench.vm_programs bench [--runs 5] [--user-pages N] [PROGRAM...]
        wall time (median of RUNS boots, deterministic -icount), and the
        kernel's page-fault and eviction counts (read over the GDB stub at
        power-off); default programs: swap-anon swap-iter page-merge-par
    python3 -m harness.bench.vm_programs soak [--runs 10] [--user-pages N] [PROGRAM...]
        RUNS boots of each program without -icount (the interleaving of
        processes differs between runs), each judged in full; default
        programs: page-merge-par page-merge-mm swap-fork

Both judge every run as tests/integration/test_vm_programs.py does: the
console's test lines, the exit status, the files left behind, and no
leaked frame or swap slot at power-off; they exit 1 if a run fails.
VMCHECK_BUILD_DIR selects the build (default: build/).

The library part (load_manifest, run_program, judge) is what that test
uses:

    spec = load_manifest()["page-merge-par"]
    result = run_program(spec, make_data_files(), ReferenceAdapter())
    problems = judge(spec, result)      # [] if it passed

Checkpoints are not used here (the scenario runner checks page states).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from harness import config
from harness.adapters.base import Ending, KernelAdapter
from harness.adapters.reference.adapter import ReferenceAdapter
from harness.run.boot import BootRequest, BootResult, OnStarted, boot
from harness.debug.debugger import Debugger
from harness.errors import HarnessError
from harness.machine.qemu import Machine, MachineOptions
from harness.run.output_match import output_problem
from oracles.cksum import cksum

MANIFEST = config.REPO_ROOT / "scenarios" / "programs" / "vm" / "MANIFEST.toml"
MAKE_DATA = config.REPO_ROOT / "scenarios" / "data" / "make_data.py"
POWEROFF_RE = re.compile(r"user_frames_free=(\d+)/(\d+) swap_slots_free=(\d+)/(\d+)")


@dataclass(frozen=True)
class Outcome:
    """One acceptable ending: the test program's exit status and lines."""
    exit_status: int
    output: tuple


@dataclass(frozen=True)
class VmProgram:
    """One [test.NAME] table of the manifest (defaults applied)."""
    name: str
    command: list
    programs: list
    files: list
    memory_mb: int
    swap_mb: int
    timeout_s: float
    order: str
    outcomes: tuple            # Outcome, the reference kernel's first
    other_lines: tuple = ()
    files_after: tuple = ()    # dicts {name, size, cksum}

    @property
    def program(self) -> str:
        return self.command[0]


def load_manifest(path: Path = MANIFEST) -> dict:
    """NAME -> VmProgram for every [test.NAME] of the manifest."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    defaults = data.get("defaults", {})
    return {name: _program(name, {**defaults, **table})
            for name, table in data.get("test", {}).items()}


def _program(name: str, t: dict) -> VmProgram:
    outcomes = [Outcome(t["exit_status"], tuple(t["output"]))]
    outcomes += [Outcome(a["exit_status"], tuple(a["output"]))
                 for a in t.get("also_accept", [])]
    return VmProgram(name=name, command=t["command"].split(), programs=list(t["programs"]),
                     files=list(t.get("files", [])), memory_mb=t["memory_mb"],
                     swap_mb=t["swap_mb"], timeout_s=float(t["timeout_s"]),
                     order=t["order"], outcomes=tuple(outcomes),
                     other_lines=tuple(t.get("other_lines", ())),
                     files_after=tuple(t.get("files_after", ())))


def make_data_files(out_dir: Optional[Path] = None) -> dict:
    """Generates the data files (scenarios/data/make_data.py) and returns
    NAME -> contents."""
    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="vmcheck-data-"))
    done = subprocess.run(["/usr/bin/python3", str(MAKE_DATA), str(out_dir)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{MAKE_DATA} failed: {done.stderr.strip()}")
    return {p.name: p.read_bytes() for p in out_dir.iterdir() if p.is_file()}


def run_program(spec: VmProgram, data: dict, adapter: KernelAdapter,
                options: Optional[MachineOptions] = None,
                on_started: Optional[Callable[[Machine], None]] = None,
                user_pages: Optional[int] = None) -> BootResult:
    """Boots SPEC's command with its programs, data files, memory and swap
    size (and the user pool capped at USER_PAGES frames if given); reads
    back the files that files_after names."""
    request = BootRequest(runs=[spec.command], extra_programs=spec.programs[1:],
                          files={name: data[name] for name in spec.files},
                          mem_mb=spec.memory_mb, swap_mb=spec.swap_mb,
                          user_page_limit=user_pages, timeout=spec.timeout_s,
                          read_back=[f["name"] for f in spec.files_after])
    return boot(adapter, request, options or MachineOptions(),
                OnStarted(on_started) if on_started else None)


def judge(spec: VmProgram, result: BootResult) -> list:
    """Every way RESULT differs from what SPEC expects ([] if it passed)."""
    outcome = result.outcome
    if outcome.ending is not Ending.POWEROFF:
        why = outcome.panic_line or outcome.ending.name
        return [f"the kernel did not power off cleanly: {why}"]
    problems = []
    status = outcome.status_of(spec.program)
    attempts = [(o, _outcome_problem(spec, o, status, result.console)) for o in spec.outcomes]
    if all(problem for _, problem in attempts):
        problems.append(attempts[0][1])
    problems += _file_problems(spec, result.files)
    problems += _leak_problems(outcome.poweroff_line)
    return problems


def _outcome_problem(spec: VmProgram, want: Outcome, status, console: str):
    if status != want.exit_status:
        return f"{spec.program} exited with {status}, expected {want.exit_status}"
    return output_problem(console, spec.order, want.output, spec.other_lines, spec.program)


def _file_problems(spec: VmProgram, files: dict) -> list:
    problems = []
    for want in spec.files_after:
        data = files.get(want["name"])
        if data is None:
            problems.append(f"file {want['name']!r} is missing after the run")
        elif len(data) != want["size"] or cksum(data) != want["cksum"]:
            problems.append(f"file {want['name']!r}: {len(data)} bytes, cksum {cksum(data)}; "
                            f"expected {want['size']} bytes, cksum {want['cksum']}")
    return problems


def _leak_problems(poweroff_line: Optional[str]) -> list:
    m = POWEROFF_RE.search(poweroff_line or "")
    if m is None:
        return [f"no leak counts in the power-off line: {poweroff_line!r}"]
    frames_free, frames, slots_free, slots = map(int, m.groups())
    problems = []
    if frames_free != frames:
        problems.append(f"leaked user frames: {frames - frames_free} of {frames} not free "
                        f"at power-off")
    if slots_free != slots:
        problems.append(f"leaked swap slots: {slots - slots_free} of {slots} not free "
                        f"at power-off")
    return problems


# ---- Runs driven by the debugger --------------------------------------------

def run_with_debugger(spec: VmProgram, data: dict, adapter: KernelAdapter,
                      drive: Callable[[Debugger], None],
                      options: Optional[MachineOptions] = None,
                      user_pages: Optional[int] = None) -> BootResult:
    """Runs SPEC on a machine started paused, with DRIVE(debugger) running
    in a thread of its own from the kernel's entry in long mode; DRIVE
    must let the guest run to its end (e.g. run_until(None)). An exception
    in DRIVE is raised here, after QEMU is gone."""
    errors: list = []

    def watch(dbg: Debugger) -> None:
        try:
            drive(dbg)
        except Exception as e:  # QEMU is torn down by boot() meanwhile
            errors.append(e)
        finally:
            dbg.close()

    threads: list = []

    def on_started(machine: Machine) -> None:
        dbg = Debugger.attach(machine.gdb_socket, adapter.kernel_symbols(),
                              adapter.long_mode_symbol, timeout_scale=options.timeouts.scale)
        threads.append(threading.Thread(target=watch, args=(dbg,), daemon=True))
        threads[0].start()

    options = dataclasses.replace(options or MachineOptions(keep_on_error=False), paused=True)
    result = run_program(spec, data, adapter, options, on_started, user_pages)
    for t in threads:
        t.join(30)
    if errors:
        raise HarnessError(f"{spec.name}: the debugger failed: {errors[0]}")
    return result


COUNTERS = ("faults", "evictions", "swap_outs", "swap_ins", "file_reads", "file_writes",
            "cow_copies")


def read_counters(spec: VmProgram, data: dict, adapter: KernelAdapter,
                  user_pages: Optional[int] = None) -> tuple:
    """Runs SPEC once with a breakpoint at power_off and returns (result,
    counters): the kernel's vmcheck_vm_stats members named in COUNTERS and
    "page_faults" (vmcheck_page_fault_count). A breakpoint slows the code
    on its page, so these runs are not timed; under -icount the counts are
    those of every run."""
    found: dict = {}

    def drive(dbg: Debugger) -> None:
        bp = dbg.add_breakpoint("power_off")
        dbg.run_until(bp, timeout=spec.timeout_s)
        stats = dbg.read_variable("vmcheck_vm_stats")
        found.update({name: stats[name] for name in COUNTERS})
        found["page_faults"] = dbg.read_variable("vmcheck_page_fault_count")
        dbg.remove_breakpoint(bp)
        dbg.run_until(None, timeout=30)

    result = run_with_debugger(spec, data, adapter, drive, user_pages=user_pages)
    return result, found


# ---- Command line ----------------------------------------------------------

BENCH_DEFAULT = ("swap-anon", "swap-iter", "page-merge-par")
SOAK_DEFAULT = ("page-merge-par", "page-merge-mm", "swap-fork")


def _checked(spec: VmProgram, result: BootResult) -> bool:
    problems = judge(spec, result)
    if problems:
        print(f"  FAIL {spec.name}: {'; '.join(problems)}", flush=True)
    return not problems


def bench(specs: list, runs: int, data: dict, adapter: KernelAdapter,
          user_pages: Optional[int]) -> bool:
    """Prints wall time (median of RUNS) and counters for each spec."""
    ok = True
    header = ["program", "median s", "min s", "max s", "page_faults", *COUNTERS]
    rows = [header]
    for spec in specs:
        times = []
        for _ in range(runs):
            result = run_program(spec, data, adapter, MachineOptions(keep_on_error=False),
                                 user_pages=user_pages)
            ok &= _checked(spec, result)
            times.append(result.seconds)
        result, counts = read_counters(spec, data, adapter, user_pages)
        ok &= _checked(spec, result)
        rows.append([spec.name, f"{statistics.median(times):.2f}", f"{min(times):.2f}",
                     f"{max(times):.2f}", str(counts["page_faults"]),
                     *(str(counts[c]) for c in COUNTERS)])
        print(f"  {spec.name}: done", flush=True)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    return ok


def soak(specs: list, runs: int, data: dict, adapter: KernelAdapter,
         user_pages: Optional[int]) -> bool:
    """Runs each spec RUNS times without -icount; prints passes per spec."""
    ok = True
    for spec in specs:
        passed = 0
        for _ in range(runs):
            result = run_program(spec, data, adapter,
                                 MachineOptions(icount=False, keep_on_error=False),
                                 user_pages=user_pages)
            passed += _checked(spec, result)
        limit = f", user pool {user_pages} frames" if user_pages else ""
        print(f"{spec.name}: {passed}/{runs} passed (no -icount{limit})", flush=True)
        ok &= passed == runs
    return ok


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m harness.bench.vm_programs",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("bench", "soak"))
    parser.add_argument("programs", nargs="*", help="manifest test names (default: see above)")
    parser.add_argument("--runs", type=int, help="runs per program (bench 5, soak 10)")
    parser.add_argument("--user-pages", type=int,
                        help="cap the user pool at N frames (kernel argument -ul=N)")
    args = parser.parse_intermixed_args(argv)
    specs_by_name = load_manifest()
    names = args.programs or (BENCH_DEFAULT if args.mode == "bench" else SOAK_DEFAULT)
    unknown = [n for n in names if n not in specs_by_name]
    if unknown:
        print(f"bench_vm: unknown program(s) {', '.join(unknown)} (see {MANIFEST})")
        return 2
    specs = [specs_by_name[n] for n in names]
    adapter = ReferenceAdapter()
    adapter.check_built()
    data = make_data_files()
    if args.mode == "bench":
        ok = bench(specs, args.runs or 5, data, adapter, args.user_pages)
    else:
        ok = soak(specs, args.runs or 10, data, adapter, args.user_pages)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
