"""Console: draining a pipe into a log, a live sink, and pattern waits."""

from __future__ import annotations

import os
import threading
import time

from harness.machine.console import Console


def make_console(tmp_path, sink=None):
    read_fd, write_fd = os.pipe()
    return Console(read_fd, tmp_path / "console.log", sink), write_fd


def test_output_reaches_log_sink_and_text(tmp_path):
    chunks = []
    console, w = make_console(tmp_path, chunks.append)
    os.write(w, b"hello\r\nwor")
    os.write(w, b"ld\n")
    os.close(w)
    assert console.wait_ended(5)
    assert console.text() == "hello\nworld\n"
    assert console.lines() == ["hello", "world"]
    assert b"".join(chunks) == b"hello\r\nworld\n"
    assert (tmp_path / "console.log").read_bytes() == b"hello\r\nworld\n"


def test_wait_for_sees_output_written_later(tmp_path):
    console, w = make_console(tmp_path)
    threading.Timer(0.1, os.write, (w, b"boot: ready\n")).start()
    match = console.wait_for(r"^boot: (\w+)$", timeout=5)
    assert match and match.group(1) == "ready"
    os.close(w)


def test_wait_for_returns_none_at_end_of_output_and_on_timeout(tmp_path):
    console, w = make_console(tmp_path)
    os.write(w, b"something else\n")
    started = time.monotonic()
    assert console.wait_for("never", timeout=0.2) is None
    assert time.monotonic() - started >= 0.2 and not console.ended
    os.close(w)
    assert console.wait_for("never", timeout=5) is None
    assert console.ended


def test_wait_for_start_offset_skips_earlier_matches(tmp_path):
    console, w = make_console(tmp_path)
    os.write(w, b"a: exit(0)\n")
    first = console.wait_for(r"exit\(\d\)", 5)
    os.write(w, b"b: exit(1)\n")
    second = console.wait_for(r"exit\(\d\)", 5, start=first.end())
    assert second.group(0) == "exit(1)"
    os.close(w)


def test_a_failing_sink_does_not_stop_draining(tmp_path):
    def broken(chunk):
        raise BrokenPipeError
    console, w = make_console(tmp_path, broken)
    os.write(w, b"one\n")
    os.write(w, b"two\n")
    os.close(w)
    assert console.wait_ended(5)
    assert console.lines() == ["one", "two"]


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    console, w = make_console(tmp_path)
    os.write(w, b"bad \xff byte\n")
    os.close(w)
    assert console.wait_ended(5)
    assert console.lines() == ["bad \ufffd byte"]


def test_tail_returns_the_last_lines(tmp_path):
    console, w = make_console(tmp_path)
    os.write(w, "".join(f"line {i}\n" for i in range(30)).encode())
    os.close(w)
    console.wait_ended(5)
    assert console.tail(3) == ["line 27", "line 28", "line 29"]
