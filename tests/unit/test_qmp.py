"""QMPClient (harness/machine/qmp.py) against a scripted QMP server on a
socket pair: ids on every request, a reply matched by its id whatever
came before it (events, other requests' replies), send() now and result()
later, and errors."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from harness.errors import QMPError
from harness.machine.qmp import QMPClient


class Server:
    """Greets, answers qmp_capabilities, then runs SCRIPT(request) for each
    request: a list of messages to send back (dicts)."""

    def __init__(self, script):
        self.client_sock, self.server_sock = socket.socketpair()
        self.requests = []
        self.script = script
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        f = self.server_sock.makefile("rwb")
        f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
        f.flush()
        for line in f:
            request = json.loads(line)
            self.requests.append(request)
            replies = [{"return": {}, "id": request["id"]}] \
                if request["execute"] == "qmp_capabilities" else self.script(request)
            for reply in replies:
                f.write(json.dumps(reply).encode() + b"\n")
            f.flush()

    def client(self) -> QMPClient:
        return QMPClient(self.client_sock, 5.0)


def echo(request):
    return [{"event": "STOP"}, {"return": {"echo": request["execute"]}, "id": request["id"]}]


def test_every_request_carries_an_id_and_events_are_kept():
    server = Server(echo)
    qmp = server.client()
    assert qmp.execute("query-status") == {"echo": "query-status"}
    assert [r["id"] for r in server.requests] == [1, 2]
    assert qmp.events == [{"event": "STOP"}]


def test_replies_are_matched_by_id_whatever_order_they_are_read_in():
    server = Server(echo)
    qmp = server.client()
    first = qmp.send("query-replay")
    second = qmp.send("query-status")
    assert second.result() == {"echo": "query-status"}     # reads past the first's reply
    assert first.result() == {"echo": "query-replay"}      # kept for it
    assert qmp.execute("stop") == {"echo": "stop"}


def test_an_error_reply_raises_with_the_command_and_qemus_words():
    server = Server(lambda r: [{"error": {"class": "GenericError", "desc": "no"},
                                "id": r["id"]}])
    with pytest.raises(QMPError, match="QMP 'loadvm' failed: GenericError: no"):
        server.client().execute("loadvm")


def test_a_reply_without_an_id_answers_the_request_awaited():
    server = Server(lambda r: [{"error": {"class": "GenericError", "desc": "bad JSON"}}])
    with pytest.raises(QMPError, match="bad JSON"):
        server.client().execute("query-status")


def test_no_reply_in_time_is_an_error():
    server = Server(lambda r: [])
    with pytest.raises(QMPError, match="no answer within 0.2 s while waiting for the reply "
                                       "to 'query-status'"):
        server.client().send("query-status").result(0.2)
