#!/usr/bin/python3
"""Checks scenarios/programs/vm/MANIFEST.toml: its structure (the keys and
values its header documents) and every value it derives from the data files
or the programs' algorithms (recomputed by make_data.py).

    check_manifest.py [MANIFEST]     exit 0 if consistent, 1 if not, 2 on
                                     unreadable input
"""
import re
import sys
import tomllib
from pathlib import Path

import make_data

MANIFEST = make_data.VM_DIR / "MANIFEST.toml"
TEST_KEYS = {"pintos_test", "summary", "command", "programs", "files",
             "memory_mb", "swap_mb", "timeout_s", "exit_status", "order",
             "output"}
OPTIONAL_TEST_KEYS = {"fs_free_kb", "other_lines", "also_accept",
                      "files_after", "checkpoint"}
CHECKPOINT_KEYS = {"id", "when", "pages"}
OPTIONAL_CHECKPOINT_KEYS = {"program", "process", "hits", "swap_pages_min"}
PAGE_KEYS = {"at", "count", "to", "state", "writable", "dirty", "frame"}
STATES = {"present", "lazy", "valid", "not_present", "unmapped"}
ADDRESS = re.compile(r"(probe|sym:\w+|USER_STACK|KERN_BASE)"
                     r"([+-](0x[0-9a-fA-F]+|\d+))*")
TEST_LINE = re.compile(r"\([^)\s]+\) .+|\S+: exit\(-?\d+\)")


def derived_claims(values):
    """(test, kind, expected): "line" claims name an output line, "file"
    claims a files_after entry (name, size, cksum)."""
    v = values
    sums = v["shuffle_cksums"]
    shuffle_lines = [f"init: cksum={sums[0]}"] + [
        f"shuffle {i}: cksum={s}" for i, s in enumerate(sums[1:])]
    claims = [
        ("pt-grow-stack", "line", f"cksum: {v['pt_grow_stack_cksum']}"),
        ("pt-big-stk-obj", "line", f"cksum: {v['pt_big_stk_obj_cksum']}"),
        ("mmap-unmap", "line",
         f"first word of page 0: {v['sample_first_word']}"),
        ("mmap-unmap", "line",
         f"first word of page 0, plus 0x1000: {v['sample_first_word'] + 0x1000}"),
        ("mmap-exit", "line",
         f'verified "sample.txt" ({v["sample_len"]} bytes)'),
        ("lazy-file", "line",
         f"small.txt: {v['small_size']} bytes, {v['small_pages']} pages"),
        ("mmap-clean", "file", ("sample.txt",) + v["mmap_clean_file"]),
        ("mmap-off", "file", ("large.txt",) + v["mmap_off_file"]),
        ("mmap-write", "file", ("sample.txt",) + v["file:sample.txt"]),
        ("pt-grow-stk-sc", "file", ("sample.txt",) + v["file:sample.txt"]),
        ("mmap-exit", "file", ("sample.txt",) + v["file:sample.txt"]),
        ("mmap-shuffle", "file", ("buffer", 128 * 1024, sums[-1])),
    ]
    for test in ("page-shuffle", "mmap-shuffle"):
        claims += [(test, "line", line) for line in shuffle_lines]
    return claims


def check_derived(manifest, values):
    problems = []
    tests = manifest.get("test", {})
    for test, kind, want in derived_claims(values):
        entry = tests.get(test)
        if entry is None:
            problems.append(f"{test}: missing")
        elif kind == "line":
            if f"({test}) {want}" not in entry.get("output", []):
                problems.append(f"{test}: output lacks '({test}) {want}'")
        else:
            name, size, crc = want
            got = [f for f in entry.get("files_after", [])
                   if f.get("name") == name]
            if not got or (got[0].get("size"), got[0].get("cksum")) != \
                    (size, crc):
                problems.append(f"{test}: files_after {name} should be "
                                f"size={size} cksum={crc}, is {got}")
    for entry in manifest.get("data", {}).get("files", []):
        want = values.get(f"file:{entry.get('name')}")
        if want != (entry.get("size"), entry.get("cksum")):
            problems.append(f"[data] {entry.get('name')}: should be {want}")
    return problems


def check_output(name, where, output, exit_status):
    problems = []
    if not output or output[0] != f"({name}) begin":
        problems.append(f"{where}: output must start with '({name}) begin'")
    if not output or output[-1] != f"{name}: exit({exit_status})":
        problems.append(f"{where}: output must end with "
                        f"'{name}: exit({exit_status})'")
    for line in output:
        if not TEST_LINE.fullmatch(line):
            problems.append(f"{where}: not a test line: {line!r}")
    return problems


def check_page(where, page):
    problems = []
    extra = set(page) - PAGE_KEYS
    if extra:
        problems.append(f"{where}: unknown keys {sorted(extra)}")
    if page.get("state") not in STATES:
        problems.append(f"{where}: state {page.get('state')!r}")
    if "count" in page and "to" in page:
        problems.append(f"{where}: both count and to")
    for key in ("at", "to"):
        addr = page.get(key)
        if key == "at" and addr is None:
            problems.append(f"{where}: no 'at'")
        elif isinstance(addr, str) and not ADDRESS.fullmatch(addr):
            problems.append(f"{where}: bad address {addr!r}")
    frame = page.get("frame")
    if frame is not None and not re.fullmatch(r"(same_as|differs_from):\d+",
                                              frame):
        problems.append(f"{where}: bad frame {frame!r}")
    return problems


def check_checkpoints(name, test):
    problems = []
    ids = set()
    for cp in test.get("checkpoint", []):
        where = f"{name} checkpoint {cp.get('id')}"
        keys = set(cp)
        if CHECKPOINT_KEYS - keys or keys - CHECKPOINT_KEYS - \
                OPTIONAL_CHECKPOINT_KEYS:
            problems.append(f"{where}: keys {sorted(keys)}")
        if cp.get("id") in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(cp.get("id"))
        program = cp.get("program", name)
        if program not in test["programs"]:
            problems.append(f"{where}: program {program} not in programs")
        for i, page in enumerate(cp.get("pages", [])):
            problems += check_page(f"{where} page {i}", page)
    return problems


def check_test(name, test, data_files):
    keys = set(test)
    if TEST_KEYS - keys:
        return [f"{name}: missing keys {sorted(TEST_KEYS - keys)}"]
    problems = []
    if keys - TEST_KEYS - OPTIONAL_TEST_KEYS:
        problems.append(f"{name}: unknown keys "
                        f"{sorted(keys - TEST_KEYS - OPTIONAL_TEST_KEYS)}")
    if test["command"].split()[0] != name or test["programs"][0] != name:
        problems.append(f"{name}: command and programs[0] must name {name}")
    for program in test["programs"]:
        if not (make_data.VM_DIR / f"{program}.c").exists():
            problems.append(f"{name}: no program {program}.c")
    for f in test["files"]:
        if f not in data_files:
            problems.append(f"{name}: unknown data file {f}")
    if test["order"] not in ("exact", "main-ordered"):
        problems.append(f"{name}: order {test['order']!r}")
    if (test["order"] == "main-ordered") != ("other_lines" in test):
        problems.append(f"{name}: other_lines goes with main-ordered only")
    problems += check_output(name, name, test["output"], test["exit_status"])
    for i, alt in enumerate(test.get("also_accept", [])):
        problems += check_output(name, f"{name} also_accept[{i}]",
                                 alt.get("output", []),
                                 alt.get("exit_status"))
    return problems + check_checkpoints(name, test)


def check_manifest(path=MANIFEST):
    """Returns the list of problems (empty if the manifest is consistent)."""
    manifest = tomllib.loads(Path(path).read_text())
    values = make_data.expected_values()
    data_files = {f["name"] for f in manifest.get("data", {}).get("files", [])}
    problems = []
    for name, test in manifest.get("test", {}).items():
        problems += check_test(name, test, data_files)
    for name, child in manifest.get("child", {}).items():
        if not (make_data.VM_DIR / f"{name}.c").exists():
            problems.append(f"child {name}: no program {name}.c")
    return problems + check_derived(manifest, values)


def main(argv):
    path = Path(argv[0]) if argv else MANIFEST
    try:
        problems = check_manifest(path)
    except (make_data.DataError, OSError, tomllib.TOMLDecodeError) as e:
        print(f"check_manifest.py: {path}: {e}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"{path.name}: {p}", file=sys.stderr)
    print(f"{path.name}: " + (f"{len(problems)} problem(s)" if problems
                              else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
