"""Restart without losing sessions: pinned maps, --keep-state, kill -9, the layout guard.

Every test pins into its own bpffs (the `bpffs` fixture) with --bpffs.
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from fcnat_util import (assert_nothing_attached, fc_progs, in_range, recv_matching,
                        udp_exchange, xdp_args)
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, tc_json, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS


def bpf_filters(gw, ifname="wan0"):
    """{hook: [(pref, handle, prog_id, prog_name)]} of the bpf filters on ifname."""
    out = {}
    for hook in ("ingress", "egress"):
        out[hook] = [(f.get("pref"), f["options"].get("handle"),
                      f["options"].get("prog", {}).get("id"),
                      f["options"].get("prog", {}).get("name"))
                     for f in tc_json(gw, "filter", "show", "dev", ifname, hook)
                     if f.get("kind") == "bpf" and "options" in f]
    return out


def state_dir(bpffs, ifname="wan0"):
    return os.path.join(bpffs, ifname)


def pins(bpffs, ifname="wan0"):
    try:
        return sorted(os.listdir(state_dir(bpffs, ifname)))
    except FileNotFoundError:
        return []


def assert_one_fcnat_filter_each_way(gw):
    f = bpf_filters(gw)
    for hook in ("ingress", "egress"):
        assert len(f[hook]) == 1, "expected one fcnat filter on %s, got %r" % (hook, f)
        assert f[hook][0][3] == "fc_tc_" + hook, f
    return f


def start_args(bpffs, *extra):
    return ("-i", "wan0", "--bpffs", bpffs) + extra


def reaches_client(topo, client, mapped, src_addr, src_port, payload):
    s = topo.ext.udp(src_addr, src_port)
    s.sendto(payload, mapped)
    got = recv_matching(client, payload, 3)
    s.close()
    return got


@pytest.mark.parametrize("how", ["sigterm-keep-state", "kill9", "kill9-keep-state"])
def test_restart_keeps_mapping_and_external_port(bpffs, topo, fcnat, how):
    keep = how.endswith("keep-state")
    extra = ("--keep-state",) if keep else ()
    inst = fcnat(*start_args(bpffs, *extra))
    before = assert_one_fcnat_filter_each_way(topo.gw)
    assert "fc_meta" in pins(bpffs) and "fc_bindings" in pins(bpffs), pins(bpffs)

    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"first")
    assert mapped[0] == GW_WAN_ADDR and in_range(mapped[1]), mapped

    sig = signal.SIGTERM if how == "sigterm-keep-state" else signal.SIGKILL
    rc = inst.stop(sig)
    assert rc == (0 if sig == signal.SIGTERM else -signal.SIGKILL), inst.stderr()
    # The datapath stays: same filters, same pins.
    assert bpf_filters(topo.gw) == before, "filters changed while fcnat is down"
    assert "fc_meta" in pins(bpffs), pins(bpffs)

    # Traffic keeps flowing while fcnat is down, both ways, on the same port.
    assert reaches_client(topo, c, mapped, EXT3, 7100, b"while-down") == (EXT3, 7100)
    assert udp_exchange(c, srv, (EXT2, 7000), b"out-while-down") == mapped

    inst2 = fcnat(*start_args(bpffs, *extra))
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    after = assert_one_fcnat_filter_each_way(topo.gw)
    for hook in ("ingress", "egress"):
        # Replaced in place: same priority and handle, a new program.
        assert after[hook][0][:2] == before[hook][0][:2], (before, after)
        assert after[hook][0][2] != before[hook][0][2], (before, after)
    old_ids = {before[h][0][2] for h in before}
    wait_until(lambda: not (old_ids & set(fc_progs())), 5,
               desc="the replaced programs to be freed")

    # A host that never talked to the client reaches it through the old mapping,
    # and the client still goes out on the same external port.
    assert reaches_client(topo, c, mapped, EXT4, 7200, b"after-restart") == (EXT4, 7200)
    assert udp_exchange(c, srv, (EXT2, 7000), b"out-after-restart") == mapped

    # The restarted instance (default mode unless keep-state) cleans up fully.
    if not keep:
        assert inst2.stop(signal.SIGTERM) == 0, inst2.stderr()
        assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst2.prog_ids)
        assert not os.path.exists(state_dir(bpffs)), pins(bpffs)


def test_tcp_connection_survives_kill9_and_restart(bpffs, topo, fcnat):
    inst = fcnat(*start_args(bpffs))
    lsock = topo.ext.tcp(EXT2, 7300)
    lsock.listen(1)
    c = topo.client.tcp()
    c.connect((EXT2, 7300))
    conn, peer = lsock.accept()
    assert peer[0] == GW_WAN_ADDR and in_range(peer[1]), peer

    def roundtrip(tag):
        c.sendall(b"ping-" + tag)
        assert conn.recv(100) == b"ping-" + tag
        conn.sendall(b"pong-" + tag)
        assert c.recv(100) == b"pong-" + tag

    roundtrip(b"1")
    inst.stop(signal.SIGKILL)
    roundtrip(b"2")
    fcnat(*start_args(bpffs))
    roundtrip(b"3")
    # Still the same connection, hence the same external port.
    assert conn.getpeername() == peer


@pytest.mark.parametrize("mode", ["tc", "xdp"])
def test_no_packet_lost_across_keep_state_restart(bpffs, topo, fcnat, mode):
    """A steady UDP stream across stop + start: every datagram arrives, translated
    (in XDP mode: the XDP programs stay while fcnat is down and are replaced
    in one step by the next start)."""
    extra = ("--keep-state",) + (tuple(xdp_args(topo)) if mode == "xdp" else ())
    inst = fcnat(*start_args(bpffs, *extra))
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7400)
    mapped = udp_exchange(c, srv, (EXT2, 7400), b"warm-up")
    srv.settimeout(0.2)
    received, sources = [], set()
    stop = threading.Event()

    def receive():
        while not stop.is_set():
            try:
                data, src = srv.recvfrom(100)
            except socket.timeout:
                continue
            received.append(data)
            sources.add(src)

    t = threading.Thread(target=receive)
    t.start()
    sent = 0
    try:
        def send_some(n):
            nonlocal sent
            for _ in range(n):
                c.sendto(b"seq-%d" % sent, (EXT2, 7400))
                sent += 1
                time.sleep(0.002)

        send_some(50)
        inst.stop(signal.SIGTERM)
        send_some(50)
        inst2 = fcnat(*start_args(bpffs, *extra), wait_ready=False)
        while "fcnat: ready" not in inst2.stderr():
            send_some(5)
            assert inst2.running() or "fcnat: ready" in inst2.stderr(), inst2.stderr()
            assert sent < 20000, "fcnat did not get ready"
        inst2.wait_ready()
        send_some(50)
        wait_until(lambda: len(received) >= sent, 3, desc="all datagrams to arrive")
    finally:
        stop.set()
        t.join()
    assert len(received) == sent, "lost %d of %d datagrams" % (sent - len(received), sent)
    assert sources == {mapped}, sources


def xdp_prog(gw, ifname):
    """(id, name) of the XDP program on ifname, or None."""
    link = json.loads(gw.run(["ip", "-j", "-d", "link", "show", "dev", ifname]).stdout)[0]
    prog = link.get("xdp", {}).get("prog")
    if not prog:
        return None
    return prog["id"], fc_progs().get(prog["id"], "")


def counters_at_stop(inst):
    assert inst.stop(signal.SIGTERM, 5) == 0, inst.stderr()
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^fcnat:\s+(\w+)\s+(\d+)$", inst.stderr(), re.M)}


@pytest.mark.parametrize("how", ["sigterm-keep-state", "kill9"])
def test_xdp_mode_restart_keeps_sessions_and_replaces_xdp_in_place(bpffs, topo, fcnat, how):
    args = start_args(bpffs, *xdp_args(topo)) + \
        (("--keep-state",) if how == "sigterm-keep-state" else ())
    inst = fcnat(*args)
    before = {i: xdp_prog(topo.gw, i) for i in ("wan0", "lan0")}
    assert before["wan0"][1] == "fc_xdp_ext" and before["lan0"][1] == "fc_xdp_int", before
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"first")
    assert mapped[0] == GW_WAN_ADDR and in_range(mapped[1]), mapped

    inst.stop(signal.SIGTERM if how == "sigterm-keep-state" else signal.SIGKILL)
    # The whole datapath stays, XDP included, and keeps forwarding.
    assert {i: xdp_prog(topo.gw, i) for i in ("wan0", "lan0")} == before
    assert reaches_client(topo, c, mapped, EXT3, 7100, b"while-down") == (EXT3, 7100)
    assert udp_exchange(c, srv, (EXT2, 7000), b"out-while-down") == mapped

    # Without --keep-state this time: its stop must remove everything.
    inst2 = fcnat(*start_args(bpffs, *xdp_args(topo)))
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    after = {i: xdp_prog(topo.gw, i) for i in ("wan0", "lan0")}
    for i in ("wan0", "lan0"):
        assert after[i] is not None and after[i][1] == before[i][1], (before, after)
        assert after[i][0] != before[i][0], "not replaced: %r %r" % (before, after)
    wait_until(lambda: not ({before[i][0] for i in before} & set(fc_progs())), 5,
               desc="the replaced XDP programs to be freed")
    # Same session, same external port, from a new host too, by the fast path.
    for n in range(10):
        assert udp_exchange(c, srv, (EXT2, 7000), b"after-%d" % n) == mapped
    assert reaches_client(topo, c, mapped, EXT4, 7200, b"after-restart") == (EXT4, 7200)
    n = counters_at_stop(inst2)
    assert n.get("fast_redirected", 0) >= 10, n
    # A plain stop of the restarted instance removes everything.
    for i in ("wan0", "lan0"):
        assert xdp_prog(topo.gw, i) is None, i
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst2.prog_ids)


def test_xdp_mode_kept_then_tc_mode_or_detach_removes_xdp(bpffs, topo, fcnat, run_fcnat):
    inst = fcnat(*start_args(bpffs, "--keep-state", *xdp_args(topo)))
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"first")
    inst.stop(signal.SIGTERM)
    assert xdp_prog(topo.gw, "lan0") is not None
    # A TC-mode start takes over the state and removes the XDP programs.
    inst2 = fcnat(*start_args(bpffs, "--keep-state", "--lan-if", "lan0"))
    assert xdp_prog(topo.gw, "wan0") is None and xdp_prog(topo.gw, "lan0") is None
    assert udp_exchange(c, srv, (EXT2, 7000), b"tc") == mapped
    inst2.stop(signal.SIGTERM)
    # Kept again in XDP mode, then --detach removes it all.
    inst3 = fcnat(*start_args(bpffs, "--keep-state", *xdp_args(topo)))
    assert udp_exchange(c, srv, (EXT2, 7000), b"xdp") == mapped
    inst3.stop(signal.SIGTERM)
    assert xdp_prog(topo.gw, "wan0") is not None
    r = run_fcnat("--detach", "-i", "wan0", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    assert xdp_prog(topo.gw, "wan0") is None and xdp_prog(topo.gw, "lan0") is None
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst3.prog_ids)


def _meta_value(path):
    r = subprocess.run(["bpftool", "-j", "map", "lookup", "pinned", path, "key", "0", "0", "0", "0"],
                       capture_output=True, text=True, check=True)
    return [int(b, 16) for b in json.loads(r.stdout)["value"]]


def _meta_write(path, value):
    subprocess.run(["bpftool", "map", "update", "pinned", path, "key", "0", "0", "0", "0",
                    "value"] + [str(b) for b in value], capture_output=True, text=True,
                   check=True)


# 4: the layout before internal keys named their external family (an old
# state's internal entries would all be missed); 99: any other build.
@pytest.mark.parametrize("other_layout", [4, 99])
def test_layout_mismatch_refused_then_detach(bpffs, topo, fcnat, run_fcnat, other_layout):
    inst = fcnat(*start_args(bpffs, "--keep-state"))
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"m")
    assert inst.stop(signal.SIGTERM) == 0
    kept = bpf_filters(topo.gw)

    # Pretend another build with another map layout made this state.
    meta = os.path.join(state_dir(bpffs), "fc_meta")
    value = _meta_value(meta)
    assert value[0:4] == [0x46, 0x4e, 0x41, 0x54], value[:8]     # magic "FNAT"
    value[4:8] = [other_layout, 0, 0, 0]
    _meta_write(meta, value)

    r = run_fcnat(*start_args(bpffs))
    assert r.returncode == 1, repr(r)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert ("layout is version %d" % other_layout in r.stderr and "--detach" in r.stderr), r.stderr
    # Nothing touched: the kept datapath still runs on its state.
    assert bpf_filters(topo.gw) == kept
    assert "fc_bindings" in pins(bpffs)
    assert reaches_client(topo, c, mapped, EXT4, 7100, b"still-kept") == (EXT4, 7100)

    # --detach removes it whatever its layout.
    r = run_fcnat("--detach", *start_args(bpffs))
    assert r.returncode == 0, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline, prog_ids={k[2] for h in kept.values()
                                                                      for k in h})
    assert not os.path.exists(state_dir(bpffs)), pins(bpffs)
    assert reaches_client(topo, c, mapped, EXT3, 7101, b"after-detach") is None


def test_default_sigterm_removes_pins(bpffs, topo, fcnat):
    inst = fcnat(*start_args(bpffs))
    assert {"fc_meta", "fc_bindings", "fc_sessions", "fc_config", "fc_stats"} <= set(pins(bpffs))
    assert inst.stop(signal.SIGTERM) == 0
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst.prog_ids)
    assert not os.path.exists(state_dir(bpffs)), pins(bpffs)


def test_second_instance_on_same_interface_refused(bpffs, topo, fcnat, run_fcnat):
    fcnat(*start_args(bpffs))
    before = bpf_filters(topo.gw)
    for args in (start_args(bpffs), ("--detach",) + start_args(bpffs)):
        r = run_fcnat(*args)
        assert r.returncode == 1, repr(r)
        assert "already running" in r.stderr, repr(r)
    assert bpf_filters(topo.gw) == before
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"still-works")[0] == GW_WAN_ADDR


def test_detach_without_state_is_a_no_op(bpffs, topo, run_fcnat):
    r = run_fcnat("--detach", *start_args(bpffs))
    assert r.returncode == 0, repr(r)
    assert "nothing to detach" in r.stderr, repr(r)
    assert not os.path.exists(state_dir(bpffs))


def test_kept_state_with_other_table_size_keeps_pinned_size(bpffs, topo, fcnat):
    inst = fcnat(*start_args(bpffs, "--keep-state", "--max-mappings", "1024"))
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"m")
    assert inst.stop(signal.SIGTERM) == 0
    inst2 = fcnat(*start_args(bpffs, "--max-mappings", "2048"))
    assert "keeping the pinned table size 2048" in inst2.stderr(), inst2.stderr()
    assert udp_exchange(c, srv, (EXT2, 7000), b"m2") == mapped
