"""The exact disk's benchmark (harness/bench/exact_disk.py,
harness/bench/packet_trace.py): packets counted per stop, by kind, and a
stop in which the exact disk looked at a request counted as one; the
side-by-side report says whether two runs were the same run."""

import io

import pytest

from harness.adapters.pintos_kaist.exact_disk import PintosExactDisk
from harness.bench.exact_disk import report
from harness.bench.packet_trace import CONTINUE, STEP, PacketTrace
from harness.debug.rsp import RspClient
from tests.unit.fake_gdb_stub import STUB_WAIT, FakeStub
from tests.unit.test_exact_disk import LAYOUT


@pytest.fixture
def client(tmp_path):
    stub = FakeStub(tmp_path)
    c = RspClient.connect(stub.path, timeout=STUB_WAIT)
    yield c
    c.close()
    stub.close()


def test_packets_are_counted_per_stop_and_a_served_request_is_a_read(client):
    service = PintosExactDisk(LAYOUT, None, 16 << 20, 0)
    client.step_passes_breakpoints = True    # as found at an earlier resume (QEMU's TCG)
    client.insert_breakpoint(0x200)
    original = RspClient.request
    with PacketTrace() as trace:
        assert RspClient.request is not original
        client.resume()                     # pc 0x100: no step; stops at 0x200
        assert client.wait_stop(STUB_WAIT).kind == "signal"
        client.read_register("rax")          # an "other" stop: p, then a step and continue
        client.resume()
        client.wait_stop(STUB_WAIT)
        service._serve(client, False)        # rdi 0: not a disk, left to the function
        client.write_registers({"rip": 0x300})
        client.resume()
    client.wait_stop(STUB_WAIT)
    assert RspClient.request is original                   # uninstalled
    other, read = trace.windows["other"], trace.windows["read"]
    assert other.count == 1 and read.count == 1
    assert other.packets["p  read one register"] == 2                  # rax, pc
    assert other.packets[STEP] == 1 and other.packets[CONTINUE] == 1
    assert read.packets["g  read all registers"] == 1
    assert read.packets["G  write registers"] == 1 and read.packets[CONTINUE] == 1
    per = trace.requests().per_request()
    assert per["packets"] == 3 and per["held_ms"] >= per["packet_ms"] > 0


def _run(fingerprint_ticks: int, verdict: str = "PASS") -> dict:
    scenario = {"name": "evict-anon", "verdict": verdict, "wall_s": 10.0, "requests": 100,
                "held_s": 0.2, "other_stops": 3, "exact_disk": {},
                "per_request": {"held_ms": 2.0, "resumed_ms": 1.0, "packet_ms": 1.5,
                                "packets": 8.0, "by_kind": {"g  read all registers": [3, 0.6]}},
                "fingerprint": [{"at": "checkpoint 1", "ticks": fingerprint_ticks},
                                {"at": "the end of the run", "verdict": verdict}]}
    return {"host": {"cpus": 2, "load": [1.0, 1.0, 1.0]}, "scenarios": [scenario]}


def test_the_report_says_whether_two_runs_were_the_same_run():
    out = io.StringIO()
    report([_run(5), _run(5)], out)
    assert "same run: yes" in out.getvalue()
    out = io.StringIO()
    report([_run(5), _run(6)], out)
    assert "same run: NO: at checkpoint 1: ticks 5 vs 6" in out.getvalue()
    out = io.StringIO()
    report([_run(5), _run(5, "FAIL")], out)
    assert "same run: NO: verdict PASS vs FAIL" in out.getvalue()
