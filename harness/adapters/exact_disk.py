"""What an adapter's exact disk reports (harness/run/exact_disk.py runs it;
harness/adapters/pintos_kaist/exact_disk.py is Pintos-KAIST's): whether a
run's disk requests were all answered in guest time, and if not, why.
"""

from __future__ import annotations

import dataclasses


class ExactDiskUnavailable(Exception):
    """The kernel needs the exact disk and cannot have it; the message says why."""


@dataclasses.dataclass
class ExactDiskReport:
    """What the exact disk did in one run. EXACT is false when it was not
    used (REASON) or some requests went to the device (DEVICE, with the
    first reason in REASON)."""
    exact: bool
    reason: str = ""
    reads: int = 0
    writes: int = 0
    device: int = 0     # requests the device served

    def note(self) -> str:
        """One line for the result's notes."""
        if not self.exact and not (self.reads or self.writes or self.device):
            return f"exact disk not used: {self.reason}; the run is not exact"
        served = (f"exact disk: {self.reads} sector reads and {self.writes} writes served "
                  "in guest time")
        if self.device:
            return (f"{served}; {self.device} request(s) went to the device, the first "
                    f"because {self.reason}: the run is not exact")
        return served if self.exact else f"{served}; the run is not exact: {self.reason}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
