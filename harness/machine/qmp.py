"""A small QMP (QEMU Machine Protocol) client over a Unix socket.

execute() sends {"execute": ..., "id": N} and reads lines until the
{"return": ...} or {"error": ...} that carries id N; send() returns at
once, and its request's result() reads the reply later, so the caller
can work meanwhile. Asynchronous events seen on the way are kept in
`events`, other requests' replies until they are asked for. Every read
has a timeout.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Callable

from harness.errors import QMPError


class QMPClient:
    """A connected, capabilities-negotiated QMP session."""

    def __init__(self, sock: socket.socket, command_timeout: float):
        self._sock = sock
        self._buffer = b""
        self.command_timeout = command_timeout
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        self._replies: dict = {}      # request id -> its reply, read before it was asked for
        self.greeting = self._read_message(command_timeout, "the QMP greeting")
        if "QMP" not in self.greeting:
            raise QMPError(f"QMP: expected a greeting, got {self.greeting!r}")
        self.execute("qmp_capabilities")

    @classmethod
    def connect(cls, path: str, deadline: float, command_timeout: float,
                still_alive: Callable[[], bool]) -> "QMPClient":
        """Connects to the QMP socket at PATH, retrying while it does not
        exist yet, until time.monotonic() passes DEADLINE. Raises QMPError
        if STILL_ALIVE() turns false (the server process died) or on
        timeout (the message says which)."""
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return cls(sock, command_timeout)
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
            except (OSError, QMPError):
                sock.close()
                raise
            if not still_alive():
                raise QMPError("QMP: the QEMU process exited before its QMP socket appeared")
            if time.monotonic() > deadline:
                raise QMPError(f"QMP: socket {path} did not appear in time")
            time.sleep(0.002)

    def execute(self, command: str, arguments: dict[str, Any] | None = None,
                timeout: float | None = None) -> Any:
        """Runs COMMAND and returns its "return" value; QMPError on an
        "error" reply, a broken connection or no reply within TIMEOUT."""
        return self.send(command, arguments).result(timeout)

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> "QMPRequest":
        """Sends COMMAND and returns at once: its QMPRequest's result() waits
        for the reply, so the caller can work while QEMU answers (a
        checkpoint's instruction count, read while its state is captured).
        Each request carries an id that QEMU's reply echoes, so replies
        are matched whatever is asked in between. QMPError if it cannot be
        sent."""
        self._next_id += 1
        request: dict[str, Any] = {"execute": command, "id": self._next_id}
        if arguments:
            request["arguments"] = arguments
        try:
            self._sock.sendall(json.dumps(request).encode() + b"\n")
        except OSError as e:
            raise QMPError(f"QMP: cannot send {command!r}: {e}") from None
        return QMPRequest(self, self._next_id, command)

    def _reply(self, request_id: int, command: str, timeout: float | None) -> Any:
        """QMPRequest.result(): the reply to request REQUEST_ID (COMMAND),
        read now or kept from an earlier read; events and other requests'
        replies met on the way are kept."""
        wait = self.command_timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        while request_id not in self._replies:
            reply = self._read_message(max(0.0, deadline - time.monotonic()),
                                       f"the reply to {command!r}")
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply or "return" in reply:      # no id: QEMU could not read
                self._replies[reply.get("id", request_id)] = reply     # the request
        reply = self._replies.pop(request_id)
        if "error" in reply:
            err = reply["error"]
            raise QMPError(f"QMP {command!r} failed: {err.get('class')}: {err.get('desc')}")
        return reply["return"]

    def human_monitor_command(self, command_line: str, timeout: float | None = None) -> str:
        """Runs an HMP command (e.g. "savevm tag") and returns its text
        output; HMP reports most failures only in that text."""
        return self.execute("human-monitor-command", {"command-line": command_line}, timeout)

    def _read_message(self, timeout: float, awaited: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QMPError(f"QMP: no answer within {timeout:.1f} s while waiting for {awaited}")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                raise QMPError(f"QMP: connection broken while waiting for {awaited}: {e}") from None
            if not chunk:
                raise QMPError(f"QMP: QEMU closed the connection while waiting for {awaited}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            raise QMPError(f"QMP: not JSON: {line[:200]!r}") from None

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass


class QMPRequest:
    """A command sent with QMPClient.send, its reply not read yet."""

    def __init__(self, client: QMPClient, request_id: int, command: str):
        self._client, self._id, self.command = client, request_id, command

    def result(self, timeout: float | None = None) -> Any:
        """The command's "return" value, waiting up to TIMEOUT (default: the
        client's command timeout); QMPError as QMPClient.execute says."""
        return self._client._reply(self._id, self.command, timeout)
