"""Stopping cleanly on SIGINT, SIGTERM and SIGHUP, for every command.

    with interrupt.handling():        # the CLI's main(); the pytest plugin
        ...                           # a stop signal raises Interrupted here
    interrupt.exit_code()             # 128 + the signal's number, or None

The handler is installed explicitly for each signal, also for a SIGINT
that the process inherited as ignored (a background job of a
non-interactive shell). On the first stop signal it:
  1. records the signal (stop_requested(), stop_signal());
  2. runs every registered stop action at once (harness.machine.qemu registers
     one that SIGKILLs every QEMU of this process): work in other threads
     sees its machine die and returns;
  3. raises Interrupted in the main thread, a KeyboardInterrupt, so `with`
     and `finally` blocks run and code that catches Exception does not
     swallow it.
Commands then write what they have (a partial report: scenarios not run
are NOT_RUN, never failures) and the CLI exits 128 + the signal's number
(130 for SIGINT, 143 for SIGTERM). A second signal while stopping only
repeats step 2; a third ends the process at once (os._exit).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Callable, Iterator, Optional

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FORCE_AFTER = 3      # the third stop signal ends the process without cleanup

_stop = threading.Event()
_received: list[int] = []
_actions: list[Callable[[], None]] = []


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; SIGNUM says which."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal_name(signum)}")
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def on_stop(action: Callable[[], None]) -> None:
    """Runs ACTION (fast, no locks: it runs inside the signal handler) when
    a stop signal arrives."""
    if action not in _actions:
        _actions.append(action)


def stop_requested() -> bool:
    """Whether a stop signal arrived (any thread may ask, e.g. before
    starting the next scenario)."""
    return _stop.is_set()


def stop_signal() -> Optional[int]:
    return _received[0] if _received else None


def exit_code() -> Optional[int]:
    """128 + the first stop signal's number, None if none arrived."""
    return 128 + _received[0] if _received else None


def not_run_reason() -> str:
    return f"not run: the run was interrupted by {signal_name(stop_signal() or signal.SIGINT)}"


def _on_signal(signum, frame) -> None:
    _received.append(signum)
    _stop.set()
    for action in list(_actions):
        action()
    if len(_received) >= FORCE_AFTER:
        os._exit(128 + _received[0])
    if len(_received) == 1:
        raise Interrupted(signum)


def reset() -> None:
    """Forgets a stop signal (a new command in the same process, a test)."""
    _stop.clear()
    _received.clear()


def install() -> dict:
    """Installs the stop-signal handler (and forgets an earlier signal);
    returns the previous handlers for restore(). Does nothing outside the
    main thread (Python delivers signals to the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    reset()
    return {signum: signal.signal(signum, _on_signal) for signum in STOP_SIGNALS}


def restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """install() for the body, restore() after it."""
    previous = install()
    try:
        yield
    finally:
        restore(previous)
