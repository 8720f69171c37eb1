"""Small text helpers shared by the HTML, JUnit and Gradescope writers."""

from __future__ import annotations

import re

from oracles.model.machine_state import Violation

# C0 control characters other than tab and newline, DEL, lone surrogates
# and the non-characters U+FFFE/U+FFFF: XML 1.0 forbids most of them and a
# browser shows them as nothing useful.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def printable(text: str) -> str:
    """TEXT with control characters written as \\xNN / \\uNNNN (CR dropped
    before LF)."""
    text = text.replace("\r\n", "\n")
    return _CONTROL.sub(_escape_char, text)


def _escape_char(match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def hex_or_dash(value) -> str:
    return "—" if value is None else f"{value:#x}"


def slug(name: str) -> str:
    """A file-name-safe form of a scenario name."""
    return _SLUG_UNSAFE.sub("-", name).strip("-.") or "scenario"


def unique_slugs(names) -> list:
    """One distinct slug per name, in order (suffix -2, -3... on clashes)."""
    seen: dict = {}
    out = []
    for name in names:
        base = slug(name)
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{base}-{n}"
        seen[candidate.lower()] = True
        out.append(candidate)
    return out


def violation_text(v: Violation) -> str:
    return printable(str(v))


def unknown_lines(sc) -> list:
    """One line per UNKNOWN check of a ScenarioResult (same oracle and
    reason once, with every place it was met)."""
    return [f"unknown ({', '.join(wheres)}): {printable(oracle)}: could not inspect: "
            f"{printable(reason)}" for oracle, reason, wheres in sc.unknown_groups()]


def tail_lines(text: str, count: int) -> str:
    """The last COUNT lines of TEXT (printable)."""
    lines = printable(text).rstrip("\n").split("\n")
    return "\n".join(lines[-count:]) if text else ""


def failure_lines(sc) -> list:
    """Why a ScenarioResult did not pass, one line each: the reason, every
    violation (found while running, at checkpoints, after the run), missing
    console lines or the output difference, missed checkpoints, exit status.
    A NOT_JUDGED scenario did not run: only its reason."""
    lines = [printable(sc.reason)] if sc.reason else []
    if sc.verdict.value == "NOT_JUDGED":
        return lines
    lines += [f"while running: {violation_text(v)}" for v in sc.run_violations]
    for cp in sc.checkpoints:
        lines += [f"checkpoint {cp.id}: {violation_text(v)}" for v in cp.violations]
    lines += [f"after the run: {violation_text(v)}" for v in sc.after_violations]
    lines += [f"console line not seen: {printable(str(m))}" for m in sc.missing_output]
    if sc.output_mismatch:
        lines.append(f"console output: {printable(sc.output_mismatch)}")
    lines += [f"checkpoints: {printable(line)}" for line in sc.unreached]
    if (sc.expected_exit_status is not None
            and sc.exit_status != sc.expected_exit_status):
        lines.append(f"exit status: expected {sc.expected_exit_status}, "
                     f"actual {sc.exit_status}")
    return lines + fault_lines(sc)


def fault_lines(sc) -> list:
    """One line per fault caught in a ScenarioResult (and how many more
    were only counted), then the panic's stack with file:line per frame."""
    lines = [f"fault: {printable(f.one_line())}" for f in sc.faults]
    if sc.faults_beyond:
        lines.append(f"fault: {sc.faults_beyond} more not recorded")
    if sc.panic_stack:
        lines.append("panic stack: " + " < ".join(
            printable(f"{f.function} ({f.source})" if f.source else f.function)
            for f in sc.panic_stack))
    return lines
