"""Benchmark of `vmcheck debug` (docs/debugger.md, "Inside gdb"): the time
from the command to gdb's prompt at the failure, each vm-* command inside
gdb (the harness's reads over gdb's connection), and `quit` to the exit.

    /usr/bin/python3 -m harness.bench.debug_session [--repeat 3]

Runs on two mutants of the reference kernel (built in build/mutants/):
ro-writable on ro-data-read (a failed checkpoint, 9 SPT entries) and
swap-leak-write-error on evict-anon-werr (a failed checkpoint after
swapping, 133 SPT entries). Needs Debian's python3-pexpect. Prints the
median of REPEAT sessions per figure; say the host's load beside them.
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness import config
from harness.course.mutants import build_mutant, load_catalogue

CASES = (("ro-writable", "ro-data-read"), ("swap-leak-write-error", "evict-anon-werr"))
COMMANDS = ("vm-check", "vm-spt", "vm-maps", "vm-pt 0x400000", "vm-threads", "vm-frames")
PROMPT = r"\(gdb\) "


def session(kernel: str, scenario: str) -> dict:
    """Seconds per step of one `vmcheck debug` session."""
    import pexpect
    times = {}
    t0 = time.monotonic()
    child = pexpect.spawn(str(config.REPO_ROOT / "vmcheck"), ["debug", scenario, "--kernel", kernel],
                          encoding="utf-8", timeout=300, env={"TERM": "dumb", "PATH": "/usr/bin:/bin"})
    try:
        child.expect(PROMPT)
        times["to the prompt"] = time.monotonic() - t0
        for command in COMMANDS:
            t = time.monotonic()
            child.sendline(command)
            child.expect(PROMPT)
            times[command] = time.monotonic() - t
        t = time.monotonic()
        child.sendline("quit")
        child.expect(pexpect.EOF)
        times["quit to exit"] = time.monotonic() - t
    finally:
        child.close(force=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    catalogue = {m.name: m for m in load_catalogue()}
    for mutant, scenario in CASES:
        out = config.build_dir() / "mutants" / mutant
        build_mutant(catalogue[mutant], out)
        runs = [session(f"reference:{out}", scenario) for _ in range(args.repeat)]
        print(f"{scenario} on mutant {mutant} (median of {args.repeat}):")
        for step in runs[0]:
            print(f"  {step:<16} {statistics.median(r[step] for r in runs):6.2f} s")


if __name__ == "__main__":
    main()
