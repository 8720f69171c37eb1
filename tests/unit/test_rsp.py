"""GDB remote protocol: the codec (framing, checksums, escaping, run-length
decoding, stop replies, target.xml) and RspClient against a fake stub."""

import pytest

from harness.debug.rsp import RspClient, RspConnectionClosed, RspError, RspMemoryError, RspTimeout
from harness.debug.rsp_codec import (PacketReader, RegisterLayout, checksum, decode_body, escape,
                               frame, parse_stop_reply, parse_target_description)
from tests.unit.fake_gdb_stub import (CORE_XML, STUB_WAIT, TARGET_XML, FakeStub,
                                      _run_length_encode)


# --- codec ---------------------------------------------------------------------

def test_checksum_is_the_byte_sum_modulo_256():
    assert checksum(b"") == 0
    assert checksum(b"OK") == (ord("O") + ord("K")) % 256
    assert checksum(b"\xff\xff") == 0xFE


def test_frame_of_a_plain_packet():
    assert frame(b"g") == b"$g#67"
    assert frame(b"qSupported") == b"$qSupported#37"


def test_special_bytes_are_escaped_and_the_checksum_covers_the_escaped_form():
    assert escape(b"a#b$c}d*e") == b"a}\x03b}\x04c}]d}\x0ae"
    framed = frame(b"M0,1:#")
    body = framed[1:framed.index(b"#", 2)]
    assert body == b"M0,1:}\x03"
    assert framed.endswith(b"#%02x" % checksum(body))


def test_decode_undoes_escaping():
    assert decode_body(escape(b"x#$}*y")) == b"x#$}*y"


def test_decode_expands_run_length_encoding():
    # '0*"' = '0' and 34 - 29 = 5 more: six zeros
    assert decode_body(b'0*"') == b"000000"
    assert decode_body(b"ab*!c") == b"abbbbbc"  # "!" = 33: 4 more
    assert decode_body(_run_length_encode(b"1" + b"0" * 200 + b"f")) == b"1" + b"0" * 200 + b"f"


@pytest.mark.parametrize("body", [b"*!", b"ab}", b"a*"])
def test_decode_rejects_malformed_bodies(body):
    with pytest.raises(RspError):
        decode_body(body)


def test_reader_splits_a_stream_fed_in_pieces_and_drops_acks():
    reader = PacketReader()
    stream = b"+" + frame(b"OK") + b"+" + frame(b"T05thread:p01.01;")
    for i in range(len(stream)):
        reader.feed(stream[i:i + 1])
    assert reader.next_packet() == b"OK"
    assert reader.next_packet() == b"T05thread:p01.01;"
    assert reader.next_packet() is None


def test_reader_rejects_a_bad_checksum():
    reader = PacketReader()
    reader.feed(b"$OK#00")
    with pytest.raises(RspError, match="checksum"):
        reader.next_packet()


def test_reader_reports_a_nak():
    reader = PacketReader()
    reader.feed(b"-")
    with pytest.raises(RspError, match="rejected"):
        reader.next_packet()


def test_stop_reply_with_thread_and_registers():
    stop = parse_stop_reply(b"T05thread:p01.01;06:0000000000000000;swbreak:;")
    assert (stop.kind, stop.code, stop.thread) == ("signal", 5, "p01.01")
    assert stop.info == {"06": "0000000000000000", "swbreak": ""}


@pytest.mark.parametrize("payload,kind,code", [
    (b"S02", "signal", 2), (b"W21", "exited", 0x21), (b"W00;process:1", "exited", 0),
    (b"X09", "killed", 9)])
def test_other_stop_replies(payload, kind, code):
    stop = parse_stop_reply(payload)
    assert (stop.kind, stop.code, stop.thread) == (kind, code, None)


@pytest.mark.parametrize("payload", [b"OK", b"", b"E14", b"Tzz"])
def test_non_stop_replies_are_rejected(payload):
    with pytest.raises(RspError, match="not a stop reply"):
        parse_stop_reply(payload)


def test_target_description_follows_includes_skips_comments_and_honours_regnum():
    files = {"target.xml": TARGET_XML, "core.xml": CORE_XML}
    layout = parse_target_description(files.__getitem__)
    assert layout.names()[:3] == ["rax", "rbx", "rcx"]
    assert "commented_out" not in layout.names()
    assert layout.register("rip").number == 16
    assert layout.register("eflags").number == 17
    assert layout.register("eflags").offset == 9 * 8
    assert layout.register("efer").number == 32
    assert layout.g_size == 11 * 8 + 4
    assert layout.pc_name == "rip"


def test_g_reply_of_the_wrong_size_is_an_error():
    layout = parse_target_description({"target.xml": TARGET_XML, "core.xml": CORE_XML}.get)
    with pytest.raises(RspError, match="target.xml describes"):
        layout.decode_g(b"00" * (layout.g_size - 4))
    with pytest.raises(RspError, match="no register 'cr9'"):
        RegisterLayout(layout.registers).register("cr9")


# --- client against the fake stub --------------------------------------------

@pytest.fixture
def stub(tmp_path):
    fake = FakeStub(tmp_path)
    yield fake
    fake.close()


@pytest.fixture
def client(stub):
    c = RspClient.connect(stub.path, timeout=STUB_WAIT)
    yield c
    c.close()


def test_handshake_reads_the_layout_and_features(client):
    assert client.ack_mode  # the stub does not offer QStartNoAckMode
    assert client.has_vcont and client.thread == "p01.01"
    assert client.packet_size == 0x1000
    assert client.layout.register("cr3").number == 29


def test_connect_to_a_missing_socket_times_out(tmp_path):
    with pytest.raises(RspTimeout, match="not accepting"):
        RspClient.connect(str(tmp_path / "nothing.sock"), timeout=0.2)


def test_registers_read_and_written(client, stub):
    stub.regs.update(rax=0x1122334455667788, cr3=0x5000, eflags=0x202)
    regs = client.read_registers()
    assert (regs["rax"], regs["cr3"], regs["eflags"]) == (0x1122334455667788, 0x5000, 0x202)
    client.write_register("rax", -1)
    assert stub.regs["rax"] == 0xFFFFFFFFFFFFFFFF
    assert client.read_register("rax") == 0xFFFFFFFFFFFFFFFF


def test_several_registers_are_written_in_one_g_packet_up_to_the_last_one(client, stub):
    stub.regs.update(rax=1, rbx=2, rsp=0x8000, rip=0x100, eflags=0x202)
    client.write_registers({"rip": 0x4242, "rsp": 0x8008})
    assert [p[:1] for p in stub.log[-2:]] == [b"g", b"G"]     # the others as they are
    assert (stub.regs["rip"], stub.regs["rsp"]) == (0x4242, 0x8008)
    assert (stub.regs["rax"], stub.regs["rbx"], stub.regs["eflags"]) == (1, 2, 0x202)
    sent = len(stub.log)
    assert client.read_register("rip") == 0x4242 and len(stub.log) == sent    # cached
    client.write_registers({"rsp": 0x9000})                    # known now: no `g` first
    assert stub.log[sent:][0][:1] == b"G" and len(stub.log) == sent + 1
    assert stub.regs["rsp"] == 0x9000 and stub.regs["rip"] == 0x4242


def test_a_g_packet_that_would_write_flags_or_control_registers_is_refused(client, stub):
    with pytest.raises(RspError, match="would also write eflags"):
        client.write_registers({"cr3": 0x2000})
    assert stub.regs["cr3"] == 0x1000 and not any(p[:1] == b"G" for p in stub.log)


def test_single_register_reads_use_p_packets(client, stub):
    stub.regs["efer"] = 0xD01
    assert client.read_register("efer") == 0xD01
    assert stub.log[-1] == b"p20"


def test_memory_in_bulk_is_chunked_and_run_length_decoded(client, stub):
    stub.virt[0x1000:0x1004] = b"\xde\xad\xbe\xef"
    data = client.read_memory(0x1000, 0x1800)
    assert data[:4] == b"\xde\xad\xbe\xef" and data[4:] == bytes(0x17FC)
    reads = [p for p in stub.log if p.startswith(b"m")]
    assert reads == [b"m1000,800", b"m1800,800", b"m2000,800"]
    client.write_memory(0x3000, bytes(range(256)) * 20)
    assert stub.virt[0x3000:0x3000 + 5120] == bytes(range(256)) * 20


def test_unmapped_memory_is_a_memory_error(client):
    with pytest.raises(RspMemoryError, match="virtual memory at 0xfff0"):
        client.read_memory(0xFFF0, 0x20)


def test_physical_memory_mode_is_switched_on_and_off(client, stub):
    stub.phys[0x20:0x24] = b"phys"
    stub.virt[0x20:0x24] = b"virt"
    with client.physical_memory():
        assert client.read_memory(0x20, 4) == b"phys"
        with client.physical_memory():  # nests without extra packets
            pass
        assert client.physical_mode
    assert client.read_memory(0x20, 4) == b"virt"
    modes = [p for p in stub.log if p.startswith(b"Qqemu.PhyMemMode")]
    assert modes == [b"Qqemu.PhyMemMode:1", b"Qqemu.PhyMemMode:0"]


def test_breakpoints_are_inserted_and_removed(client, stub):
    client.insert_breakpoint(0x400)
    client.insert_breakpoint(0x500, hardware=True)
    assert stub.breakpoints == {(0, 0x400), (1, 0x500)}
    client.remove_breakpoint(0x400)
    assert stub.breakpoints == {(1, 0x500)}
    assert client.breakpoints() == {(0x500, True)}


def test_continue_from_a_breakpoint_steps_over_it_in_place_where_a_step_passes_it(client,
                                                                                   stub):
    """QEMU's TCG: a single step from a breakpoint runs the instruction, so
    the breakpoint is not lifted and put back (two round trips)."""
    client.insert_breakpoint(0x400)
    client.resume()
    assert client.wait_stop(2).code == 5 and client.pc() == 0x400
    for _ in range(2):
        mark = len(stub.log)
        stub.regs["rip"] = 0x400
        client._registers = {}
        client.resume()
        assert client.wait_stop(2).kind == "signal" and client.pc() == 0x400
        sent = [p for p in stub.log[mark:] if not p.startswith(b"p")]
        assert sent == [b"vCont;s:p01.01", b"vCont;c"]
    assert client.step_passes_breakpoints is True
    assert stub.breakpoints == {(0, 0x400)}


def test_continue_from_a_breakpoint_lifts_it_where_a_step_reports_it_again(client, stub):
    """KVM: a step that starts on a breakpoint reports it and stays; the
    first resume finds out and lifts it, and so do the later ones."""
    stub.step_reports_breakpoints = True
    client.insert_breakpoint(0x400)
    client.resume()
    assert client.wait_stop(2).code == 5 and client.pc() == 0x400
    mark = len(stub.log)
    client.resume()
    assert client.wait_stop(2).kind == "signal" and client.pc() == 0x400
    sent = [p for p in stub.log[mark:] if not p.startswith(b"p")]
    assert sent == [b"vCont;s:p01.01", b"z0,400,1", b"vCont;s:p01.01", b"Z0,400,1",
                    b"vCont;c"]
    assert client.step_passes_breakpoints is False
    mark = len(stub.log)
    stub.regs["rip"] = 0x400
    client._registers = {}
    client.resume()
    assert client.wait_stop(2).kind == "signal"
    sent = [p for p in stub.log[mark:] if not p.startswith(b"p")]
    assert sent == [b"z0,400,1", b"vCont;s:p01.01", b"Z0,400,1", b"vCont;c"]
    assert stub.breakpoints == {(0, 0x400)}


def test_a_stopped_target_refuses_wait_and_a_running_one_refuses_requests(client, stub):
    with pytest.raises(RspError, match="stopped"):
        client.wait_stop(0.1)
    client.resume()  # no breakpoints: runs until interrupted
    with pytest.raises(RspError, match="running"):
        client.read_register("rip")
    assert client.wait_stop(0.05) is None
    assert client.halt().code == 2
    assert client.read_register("rip") == 0x100


def test_guest_exit_is_reported(client, stub):
    stub.exit_on_continue = True
    client.resume()
    stop = client.wait_stop(2)
    assert (stop.kind, stop.code) == ("exited", 0x21)


def test_unsupported_requests_are_errors(client):
    with pytest.raises(RspError, match="unsupported"):
        client._expect_ok(b"QNonsense")


def test_an_exit_packet_in_place_of_a_reply_is_the_target_gone(client, stub):
    """QEMU shutting down (the guest powered off just before the stop)
    sends W00 to the debugger, which then stands where the reply to the
    next request would: the target exited, not a malformed reply."""
    stub.exit_before_reply = True
    with pytest.raises(RspConnectionClosed, match=r"exited \(W00\).*'p"):
        client.read_register("rip")
