"""The exact disk in a run: whether a kernel's disk requests are answered
in guest time (docs/exact-disk.md), what the run says about it, and when
it is on.

The service itself belongs to the kernel adapter (KernelAdapter.exact_disk;
Pintos-KAIST: harness/adapters/pintos_kaist/exact_disk.py, its report
harness/adapters/exact_disk.py); the runner starts it
after the disks are made, arms it on the debugger after the injections,
and puts its report in the result (`exact_disk` in results.json, a line
in the notes).

When it is on: `replay` and `explore` always (a schedule is only worth
replaying if the run is the same run); `run` (RUN_DEFAULT, None) only for
the scenarios it injects into, whose failing runs write schedules: every
request costs a GDB stop, and a whole suite took several times as long
(docs/exact-disk.md, "Cost"); `--exact-disk` / `--device-disk` say so on
any command. Without `-icount` no run is exact and the exact disk is not
used.
"""

from __future__ import annotations

from typing import Optional

from harness.adapters.exact_disk import ExactDiskReport, ExactDiskUnavailable

RUN_DEFAULT = None     # `run`: the exact disk for the runs with injections only


def exact_disk_wanted(choice: Optional[bool], injected: bool) -> bool:
    """Whether a run uses the exact disk: CHOICE (--exact-disk: True,
    --device-disk: False), or when None whether the run has injections
    (INJECTED)."""
    return injected if choice is None else choice


def start_exact_disk(adapter, disks, ram_size: int, wanted: bool, guest_clock: bool):
    """(service or None, ExactDiskReport or None) for one run: None, None
    when it is not wanted or the kernel needs none; a report saying why
    when it is wanted and cannot be had (no -icount, a driver it cannot
    stand in for)."""
    if not wanted:
        return None, None
    try:
        service = adapter.exact_disk(disks, ram_size)
    except ExactDiskUnavailable as e:
        return None, ExactDiskReport(exact=False, reason=str(e))
    if service is None:
        return None, None
    if not guest_clock:
        service.close()
        return None, ExactDiskReport(exact=False, reason="the run is not under -icount "
                                                         "(no run is exact without it)")
    return service, service.report


def finish_exact_disk(service, report: Optional[ExactDiskReport], result) -> None:
    """Closes SERVICE and puts REPORT into RESULT (field and notes)."""
    if service is not None:
        service.close()
    if report is not None:
        result.exact_disk = report.to_dict()
        result.notes.append(report.note())
