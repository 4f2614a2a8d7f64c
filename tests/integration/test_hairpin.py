"""Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8), checked end to end.

The standard topology (CLIENT 192.168.77.2/.3 on lan0 -- GATEWAY -- EXTERNAL)
gets, where a test needs it, a second internal interface lan1 on the gateway
(192.168.78.1/24) with a second client namespace CLIENT2 (192.168.78.2).

A host B behind the NAT opens a mapping by talking to EXTERNAL; a host A
behind the same NAT (or a process on the gateway, with lo in --hairpin-if)
then sends to 198.51.100.1:<B's external port>.  B must see A's *external*
endpoint as source, and A must see B's external endpoint on the answers.
"""

import hashlib
import os
import re
import signal
import socket
import struct
import threading
import time

import pytest

from fcnat_util import (CLEANUP_TIMEOUT, assert_nothing_attached, drain, in_range,
                        recv_matching, udp_exchange)
from netns import (CLIENT2_ADDR, CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, WaitTimeout, tc_json,
                   wait_until)

EXT2, EXT3, EXT4 = EXT_ADDRS

LAN1_GW_ADDR = "192.168.78.1"
LAN1_CLIENT_ADDR = "192.168.78.2"

IP_TTL = 2          # linux/in.h
IP_RECVTTL = 12

LO_ACCEPT_LOCAL = "net.ipv4.conf.lo.accept_local"


# --- fixtures and helpers -----------------------------------------------------

@pytest.fixture
def lan1(topo):
    """A second internal interface: gateway lan1 192.168.78.1/24 -- CLIENT2 .2."""
    ns = topo.add_namespace("cli2")
    topo.veth(ns, "lan1", topo.gw, "lan1")
    ns.addr_add("lan1", LAN1_CLIENT_ADDR + "/24")
    ns.run(["ip", "route", "add", "default", "via", LAN1_GW_ADDR])
    topo.gw.addr_add("lan1", LAN1_GW_ADDR + "/24")
    for n in (ns, topo.gw):
        wait_until(lambda: "LOWER_UP" in n.run(["ip", "-br", "link", "show", "lan1"]).stdout,
                   5, desc="%s lan1 up" % n.name)
    return ns


def fcnat_args(*hairpin_ifs, extra=()):
    args = ["-i", "wan0"]
    if hairpin_ifs:
        args += ["--hairpin-if"] + list(hairpin_ifs)
    return tuple(args) + tuple(extra)


def external_view(topo, sock, server_ip=EXT2, server_port=7000, tag=b"map"):
    """Send from sock to a server in EXTERNAL; return the source the server saw."""
    srv = topo.ext.udp(server_ip, server_port)
    try:
        return udp_exchange(sock, srv, (server_ip, server_port),
                            payload=b"%s-%s-%d" % (tag, server_ip.encode(), server_port))
    finally:
        srv.close()


def open_udp_mapping(topo, sock, server_port=7000):
    mapped = external_view(topo, sock, EXT2, server_port, tag=b"open")
    assert mapped[0] == GW_WAN_ADDR and in_range(mapped[1]), (
        "%r got no proper mapping: the outside saw %r" % (sock.getsockname(), mapped))
    return mapped


def hairpin_send(sender, receiver, dst, payload, attempts=3, wait=1.0):
    """udp_exchange with a clearer message: sender -> dst must reach receiver."""
    try:
        return udp_exchange(sender, receiver, dst, payload=payload, attempts=attempts, wait=wait)
    except AssertionError as e:
        raise AssertionError("hairpin failed: %r -> %r never reached %r\n%s"
                             % (sender.getsockname(), dst, receiver.getsockname(), e))


def stop_and_counters(inst):
    """SIGTERM fcnat, check it exits 0, return the counters it prints on exit."""
    rc = inst.stop(signal.SIGTERM)
    assert rc == 0, "fcnat exited with %s after SIGTERM\n%s" % (rc, inst.stderr())
    counters = {}
    for m in re.finditer(r"^fcnat:\s+(\w+)\s+(\d+)$", inst.stderr(), re.M):
        counters[m.group(1)] = int(m.group(2))
    assert "fcnat: counters:" in inst.stderr(), inst.stderr()
    return counters


def ingress_filters(ns, ifname):
    """[(kind, pref, handle, prog_id, prog_name)] on ifname's ingress hook."""
    out = []
    for f in tc_json(ns, "filter", "show", "dev", ifname, "ingress"):
        if "options" not in f:      # the per-protocol/pref header entries
            continue
        prog = f["options"].get("prog", {})
        out.append((f.get("kind"), f.get("pref"), f["options"].get("handle"),
                    prog.get("id"), prog.get("name")))
    return out


def fc_filters(ns, ifname):
    return [f for f in ingress_filters(ns, ifname)
            if f[0] == "bpf" and (f[4] or "").startswith("fc_")]


def qdisc_kinds(ns, ifname):
    return [q.get("kind") for q in tc_json(ns, "qdisc", "show", "dev", ifname)]


def describe_tc(ns, ifname):
    q = ns.run(["tc", "qdisc", "show", "dev", ifname], check=False).stdout
    f = ns.run(["tc", "filter", "show", "dev", ifname, "ingress"], check=False).stdout
    return "tc qdisc show dev %s:\n%s\ntc filter show dev %s ingress:\n%s" % (ifname, q, ifname, f)


def assert_hairpin_filter(ns, ifname, prog_name="fc_tc_lan_ingress"):
    f = fc_filters(ns, ifname)
    # The kernel keeps 15 characters of a program's name.
    assert len(f) == 1 and f[0][4] == prog_name[:15], (
        "expected exactly one %s filter on %s ingress\n%s" % (prog_name, ifname,
                                                              describe_tc(ns, ifname)))
    return f[0]


def wait_interface_clean(ns, ifname, user_filters=None):
    """Poll until ifname carries nothing of fcnat's.

    user_filters: `tc -j filter show dev <ifname> ingress` as a user left it
    before fcnat started (then their clsact and exactly these filters must
    stay); None: no clsact at all.
    """
    def clean():
        if user_filters is None:
            return ("clsact" not in qdisc_kinds(ns, ifname)
                    and not tc_json(ns, "filter", "show", "dev", ifname, "ingress")
                    and not tc_json(ns, "filter", "show", "dev", ifname, "egress"))
        return ("clsact" in qdisc_kinds(ns, ifname)
                and tc_json(ns, "filter", "show", "dev", ifname, "ingress") == user_filters)
    try:
        wait_until(clean, CLEANUP_TIMEOUT, interval=0.1, desc="%s to be clean" % ifname)
    except WaitTimeout:
        raise AssertionError("fcnat left state on %s after exit (expected %s):\n%s"
                             % (ifname, "the user's filters %r" % (user_filters,)
                                if user_filters is not None else "no clsact, no filters",
                                describe_tc(ns, ifname)))


def sysctl_get(ns, key):
    return ns.run(["sysctl", "-n", key]).stdout.strip()


def recv_with_ttl(sock, payload, timeout):
    """Like recv_matching, but returns (source, ttl); sock must have IP_RECVTTL."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, None
        sock.settimeout(left)
        try:
            data, anc, _flags, src = sock.recvmsg(65535, socket.CMSG_SPACE(4))
        except socket.timeout:
            return None, None
        if data != payload:
            continue
        ttl = None
        for level, typ, cdata in anc:
            if level == socket.IPPROTO_IP and typ == IP_TTL:
                ttl = struct.unpack("i", cdata[:4])[0]
        return src, ttl


# --- UDP ---------------------------------------------------------------------

def test_rfc4787_req9_udp_hairpin_same_interface(topo, fcnat):
    inst = fcnat(*fcnat_args("lan0"))
    b = topo.client.udp(CLIENT2_ADDR, 0)
    b_ext = open_udp_mapping(topo, b)

    # A has no mapping yet: the hairpinned packet makes one.
    a = topo.client.udp(CLIENT_ADDR, 0)
    b.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    a.sendto(b"a-to-b", b_ext)
    seen_by_b, ttl = recv_with_ttl(b, b"a-to-b", 3)
    assert seen_by_b is not None, ("B %r never received A's datagram sent to B's mapping %r"
                                   % (b.getsockname(), b_ext))
    assert seen_by_b[0] == GW_WAN_ADDR, (
        "B saw A's private source %r instead of A's external endpoint" % (seen_by_b,))
    assert in_range(seen_by_b[1]), "A's external port %d outside the range" % seen_by_b[1]
    assert ttl == 63, "hairpinned packet arrived with TTL %r (sent with 64): not decremented" % ttl

    # That is the same mapping the outside sees for A's socket.
    a_ext = external_view(topo, a, EXT3, 7001, tag=b"a-out")
    assert a_ext == seen_by_b, ("B saw A as %r, the outside sees A as %r"
                                % (seen_by_b, a_ext))

    # B answers to what it saw; A sees B's external endpoint.
    b.sendto(b"b-answers", seen_by_b)
    got = recv_matching(a, b"b-answers", 3)
    assert got == b_ext, "A received B's answer from %r, expected B's mapping %r" % (got, b_ext)

    # Several rounds both ways keep the same endpoints.
    for i in range(3):
        assert hairpin_send(a, b, b_ext, b"again-%d" % i) == seen_by_b
        assert hairpin_send(b, a, seen_by_b, b"back-%d" % i) == b_ext

    counters = stop_and_counters(inst)
    assert counters.get("hairpin_translated", 0) >= 8, counters
    assert counters.get("drop_hairpin_no_route", 0) == 0, counters


@pytest.mark.parametrize("a_side", ["a_on_lan1", "a_on_lan0"])
def test_rfc4787_req9_udp_hairpin_across_interfaces(topo, lan1, fcnat, a_side):
    inst = fcnat(*fcnat_args("lan0", "lan1"))
    if a_side == "a_on_lan1":
        a = lan1.udp(LAN1_CLIENT_ADDR, 0)
        b = topo.client.udp(CLIENT2_ADDR, 0)
    else:
        a = topo.client.udp(CLIENT_ADDR, 0)
        b = lan1.udp(LAN1_CLIENT_ADDR, 0)
    b_ext = open_udp_mapping(topo, b)
    # Here A's mapping exists before the hairpin: it must be reused.
    a_ext = open_udp_mapping(topo, a, server_port=7002)
    assert a_ext != b_ext

    seen_by_b = hairpin_send(a, b, b_ext, b"a-to-b")
    assert seen_by_b == a_ext, ("B saw %r, A's external endpoint is %r" % (seen_by_b, a_ext))
    seen_by_a = hairpin_send(b, a, seen_by_b, b"b-to-a")
    assert seen_by_a == b_ext, ("A saw %r, B's external endpoint is %r" % (seen_by_a, b_ext))

    # Both mappings still serve the outside afterwards.
    assert external_view(topo, a, EXT4, 7003) == a_ext
    assert external_view(topo, b, EXT4, 7003) == b_ext

    counters = stop_and_counters(inst)
    assert counters.get("hairpin_translated", 0) >= 2, counters


def test_hairpin_not_done_without_hairpin_if(topo, fcnat):
    """Hairpinning is opt-in per interface: without --hairpin-if nothing is hairpinned."""
    inst = fcnat(*fcnat_args())
    assert not ingress_filters(topo.gw, "lan0"), describe_tc(topo.gw, "lan0")
    b = topo.client.udp(CLIENT2_ADDR, 0)
    b_ext = open_udp_mapping(topo, b)
    a = topo.client.udp(CLIENT_ADDR, 0)
    for i in range(3):
        a.sendto(b"should-not-arrive", b_ext)
    got = recv_matching(b, b"should-not-arrive", 1.5)
    assert got is None, "B received A's datagram from %r without --hairpin-if" % (got,)

    # fcnat is healthy: still running, B's mapping still serves the outside
    # both ways, A still gets translated.
    assert inst.running(), inst.stderr()
    stranger = topo.ext.udp(EXT4, 7100)
    stranger.sendto(b"from-outside", b_ext)
    assert recv_matching(b, b"from-outside", 3) == (EXT4, 7100)
    a_ext = external_view(topo, a, EXT3, 7000)
    assert a_ext[0] == GW_WAN_ADDR and in_range(a_ext[1]) and a_ext != b_ext, a_ext
    counters = stop_and_counters(inst)
    assert counters.get("hairpin_translated", 0) == 0, counters


# --- TCP ---------------------------------------------------------------------

def _recv_all(sock, out):
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    out["len"] = n
    out["sha256"] = h.hexdigest()


def _transfer(src, dst, data):
    """Send data on src (then shut down writing); dst reads to EOF. Returns (len, sha256)."""
    result = {}
    errors = []

    def reader():
        try:
            _recv_all(dst, result)
        except Exception as e:      # reported below
            errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        src.sendall(data)
        src.shutdown(socket.SHUT_WR)
    finally:
        t.join(30)
    assert not t.is_alive(), "reader did not finish"
    assert not errors, "receiving failed: %r" % errors
    return result["len"], result["sha256"]


@pytest.mark.parametrize("a_side", ["same_interface", "a_on_lan1"])
def test_rfc5382_req8_tcp_hairpin(topo, lan1, fcnat, a_side):
    fcnat(*fcnat_args("lan0", "lan1"))
    # B connects out from its port (that makes the mapping), and listens on
    # the same port.
    srv = topo.ext.tcp(EXT2, 8000, reuse=True)
    srv.listen(4)
    b_out = topo.client.tcp(CLIENT2_ADDR, 0, reuse=True, timeout=10)
    b_port = b_out.getsockname()[1]
    b_out.connect((EXT2, 8000))
    srv_conn, b_ext = srv.accept()
    assert b_ext[0] == GW_WAN_ADDR and in_range(b_ext[1]), b_ext
    b_lst = topo.client.tcp(CLIENT2_ADDR, b_port, reuse=True, timeout=10)
    b_lst.listen(4)

    a_ns, a_addr = ((topo.client, CLIENT_ADDR) if a_side == "same_interface"
                    else (lan1, LAN1_CLIENT_ADDR))
    a = a_ns.tcp(a_addr, 0, reuse=True, timeout=10)
    a_port = a.getsockname()[1]
    try:
        a.connect(b_ext)
    except OSError as e:
        pytest.fail("A could not connect to B's mapping %r: %s" % (b_ext, e))
    b_conn, seen_by_b = b_lst.accept()
    assert seen_by_b[0] == GW_WAN_ADDR and in_range(seen_by_b[1]), (
        "B accepted a connection from %r, expected A's external endpoint" % (seen_by_b,))
    assert a.getpeername() == b_ext

    # The outside sees A's port on the same mapping (EIM).
    srv2 = topo.ext.tcp(EXT3, 8001, reuse=True)
    srv2.listen(1)
    a_out = a_ns.tcp(a_addr, a_port, reuse=True, timeout=10)
    a_out.connect((EXT3, 8001))
    _, a_ext = srv2.accept()
    assert a_ext == seen_by_b, "B saw A as %r, the outside sees A as %r" % (seen_by_b, a_ext)

    # 1 MB each way over the hairpinned connection.
    up = os.urandom(1 << 20)
    down = os.urandom(1 << 20)
    b_conn.settimeout(10)
    n, digest = _transfer(a, b_conn, up)
    assert (n, digest) == (len(up), hashlib.sha256(up).hexdigest()), (
        "A -> B: received %d of %d bytes, sha256 %s" % (n, len(up), digest))
    n, digest = _transfer(b_conn, a, down)
    assert (n, digest) == (len(down), hashlib.sha256(down).hexdigest()), (
        "B -> A: received %d of %d bytes, sha256 %s" % (n, len(down), digest))

    # B's outbound connection is unaffected.
    b_out.sendall(b"still-up")
    assert srv_conn.recv(100) == b"still-up"


# --- ICMP --------------------------------------------------------------------

def test_icmp_echo_to_external_address_answered_by_gateway(topo, fcnat):
    inst = fcnat(*fcnat_args("lan0"))
    # B has an ICMP query mapping of its own; A's echo is still not hairpinned.
    r = topo.client.run(["ping", "-n", "-c", "1", "-W", "2", "-I", CLIENT2_ADDR, EXT2],
                        check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    dump = topo.client.start(["tcpdump", "-n", "-l", "-i", "lan0",
                              "icmp and dst host %s" % CLIENT2_ADDR], name="tcpdump")
    dump.wait_output(lambda t: "listening on" in t, 10, desc="tcpdump to start")
    r = topo.client.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-I", CLIENT_ADDR,
                         GW_WAN_ADDR], check=False)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + r.stderr
    replies = re.findall(r"bytes from (\S+): icmp_seq=\d+ ttl=(\d+)", r.stdout)
    assert len(replies) == 3 and all(src == GW_WAN_ADDR for src, _ in replies), r.stdout
    # Answered by the gateway itself: TTL 64, no hop behind it.
    assert all(ttl == "64" for _, ttl in replies), r.stdout
    # A marker after A's pings: B pings outside; once tcpdump shows the
    # reply to B it has processed everything captured before.
    r = topo.client.run(["ping", "-n", "-c", "1", "-W", "2", "-I", CLIENT2_ADDR, EXT3],
                        check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    dump.wait_output(lambda t: ("%s > %s: ICMP echo reply" % (EXT3, CLIENT2_ADDR)) in t, 10,
                     stream="stdout", desc="tcpdump to show the reply to B's marker ping")
    assert "ICMP echo request" not in dump.stdout_text(), (
        "an echo request reached B:\n%s" % dump.stdout_text())
    counters = stop_and_counters(inst)
    assert counters.get("hairpin_translated", 0) == 0, counters


# --- no routing changes -----------------------------------------------------

def routing_state(ns):
    return {cmd: ns.run(cmd.split()).stdout
            for cmd in ("ip rule show", "ip route show table all", "ip -6 rule show")}


def ipv6_settled(ns):
    """No address still in duplicate address detection: its local route
    appears when DAD ends, which must not fall between two snapshots."""
    return ns.run(["ip", "-6", "addr", "show", "tentative"]).stdout.strip() == ""


def test_no_rule_or_route_changes(topo, lan1, fcnat):
    wait_until(lambda: ipv6_settled(topo.gw), 10, desc="IPv6 addresses past DAD")
    before = routing_state(topo.gw)
    inst = fcnat(*fcnat_args("lan0", "lan1", "lo"))

    b = topo.client.udp(CLIENT2_ADDR, 0)
    b_ext = open_udp_mapping(topo, b)
    a = lan1.udp(LAN1_CLIENT_ADDR, 0)
    a_ext = hairpin_send(a, b, b_ext, b"a-to-b")
    assert hairpin_send(b, a, a_ext, b"b-to-a") == b_ext
    a2 = topo.client.udp(CLIENT_ADDR, 0)
    a2_ext = hairpin_send(a2, b, b_ext, b"a2-to-b")
    assert hairpin_send(b, a2, a2_ext, b"b-to-a2") == b_ext

    during = routing_state(topo.gw)
    for cmd in before:
        assert during[cmd] == before[cmd], ("`%s` changed while fcnat runs:\nbefore:\n%s\n"
                                            "during:\n%s" % (cmd, before[cmd], during[cmd]))
    stop_and_counters(inst)
    after = routing_state(topo.gw)
    for cmd in before:
        assert after[cmd] == before[cmd], ("`%s` changed after fcnat exited:\nbefore:\n%s\n"
                                           "after:\n%s" % (cmd, before[cmd], after[cmd]))


# --- a process on the gateway -------------------------------------------------

@pytest.mark.parametrize("gw_port", [40000, 25500], ids=["port_outside_range", "port_in_range"])
def test_gateway_process_reaches_internal_host_through_lo(topo, fcnat, gw_port):
    assert sysctl_get(topo.gw, LO_ACCEPT_LOCAL) == "0"
    inst = fcnat(*fcnat_args("lan0", "lo"))
    assert sysctl_get(topo.gw, LO_ACCEPT_LOCAL) == "1", "fcnat did not set lo accept_local"
    assert_hairpin_filter(topo.gw, "lo", "fc_tc_lo_ingress")

    b = topo.client.udp(CLIENT2_ADDR, 0)
    b_ext = open_udp_mapping(topo, b)

    # The test process itself, in the gateway's namespace.
    p = topo.gw.udp("0.0.0.0", gw_port)
    seen_by_b = hairpin_send(p, b, b_ext, b"gw-to-b")
    assert seen_by_b[0] == GW_WAN_ADDR, "B saw the gateway process as %r" % (seen_by_b,)
    if in_range(gw_port):
        # The process's mapping: the same endpoint the outside sees.
        assert in_range(seen_by_b[1]), seen_by_b
        assert external_view(topo, p, EXT3, 7001, tag=b"gw-out") == seen_by_b
    else:
        assert seen_by_b[1] == gw_port, ("B saw the gateway process as %r, expected its own "
                                         "port %d" % (seen_by_b, gw_port))

    seen_by_p = hairpin_send(b, p, seen_by_b, b"b-to-gw")
    assert seen_by_p == b_ext, ("the gateway process received B's answer from %r, expected "
                                "B's mapping %r" % (seen_by_p, b_ext))
    # A few more rounds.
    for i in range(2):
        assert hairpin_send(p, b, b_ext, b"gw-%d" % i) == seen_by_b
        assert hairpin_send(b, p, seen_by_b, b"b-%d" % i) == b_ext

    counters = stop_and_counters(inst)
    assert sysctl_get(topo.gw, LO_ACCEPT_LOCAL) == "0", "lo accept_local not restored on exit"
    wait_interface_clean(topo.gw, "lo")
    assert counters.get("hairpin_translated", 0) >= 3, counters


# --- clean exit ---------------------------------------------------------------

@pytest.mark.parametrize("user_clsact", [False, True], ids=["no_user_qdisc", "user_u32_on_lan0"])
def test_clean_exit_removes_hairpin_filters(topo, lan1, fcnat, user_clsact):
    user = None
    if user_clsact:
        topo.gw.run(["tc", "qdisc", "add", "dev", "lan0", "clsact"])
        topo.gw.run(["tc", "filter", "add", "dev", "lan0", "ingress", "pref", "10",
                     "protocol", "ip", "u32", "match", "ip", "dst", "203.0.113.99/32",
                     "flowid", "1:1"])
        user = tc_json(topo.gw, "filter", "show", "dev", "lan0", "ingress")
        assert user and all(f.get("kind") == "u32" for f in user), user
    for ifname in ("lan1", "lo"):
        assert "clsact" not in qdisc_kinds(topo.gw, ifname)

    inst = fcnat(*fcnat_args("lan0", "lan1", "lo"))
    assert_hairpin_filter(topo.gw, "lan0")
    assert_hairpin_filter(topo.gw, "lan1")
    assert_hairpin_filter(topo.gw, "lo", "fc_tc_lo_ingress")
    if user_clsact:
        # The user's filter is still there next to ours.
        now = tc_json(topo.gw, "filter", "show", "dev", "lan0", "ingress")
        assert [f for f in now if f.get("kind") == "u32"] == user, describe_tc(topo.gw, "lan0")

    b = topo.client.udp(CLIENT2_ADDR, 0)
    b_ext = open_udp_mapping(topo, b)
    a = lan1.udp(LAN1_CLIENT_ADDR, 0)
    a_ext = hairpin_send(a, b, b_ext, b"a-to-b")
    assert hairpin_send(b, a, a_ext, b"b-to-a") == b_ext

    stop_and_counters(inst)
    wait_interface_clean(topo.gw, "lan0", user)
    wait_interface_clean(topo.gw, "lan1")
    wait_interface_clean(topo.gw, "lo")
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst.prog_ids)

    # Nothing hairpins any more.
    drain(b)
    a.sendto(b"after-exit", b_ext)
    assert recv_matching(b, b"after-exit", 1.0) is None


# --- keep-state restart -------------------------------------------------------

@pytest.mark.parametrize("with_lo", [False, True], ids=["lan0", "lan0_lo"])
def test_keep_state_restart_replaces_hairpin_filter_in_place(bpffs, topo, fcnat, run_fcnat,
                                                             with_lo):
    ifs = ("lan0", "lo") if with_lo else ("lan0",)
    args = fcnat_args(*ifs, extra=("--keep-state", "--bpffs", bpffs))
    inst = fcnat(*args)
    first = assert_hairpin_filter(topo.gw, "lan0")
    first_lo = assert_hairpin_filter(topo.gw, "lo", "fc_tc_lo_ingress") if with_lo else None
    if with_lo:
        assert sysctl_get(topo.gw, LO_ACCEPT_LOCAL) == "1"

    b = topo.client.udp(CLIENT2_ADDR, 0)
    b_ext = open_udp_mapping(topo, b)
    a = topo.client.udp(CLIENT_ADDR, 0)
    a_ext = hairpin_send(a, b, b_ext, b"first")
    assert hairpin_send(b, a, a_ext, b"first-back") == b_ext

    stop_and_counters(inst)
    # The datapath stays, hairpin included.
    assert fc_filters(topo.gw, "lan0") == [first], describe_tc(topo.gw, "lan0")
    assert hairpin_send(a, b, b_ext, b"while-down") == a_ext
    assert hairpin_send(b, a, a_ext, b"while-down-back") == b_ext
    if with_lo:
        assert fc_filters(topo.gw, "lo") == [first_lo], describe_tc(topo.gw, "lo")
        assert sysctl_get(topo.gw, LO_ACCEPT_LOCAL) == "1", "accept_local dropped while kept"

    inst2 = fcnat(*args)
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    second = assert_hairpin_filter(topo.gw, "lan0")
    assert second[1:3] == first[1:3], ("hairpin filter not replaced in place: was %r, now %r"
                                       % (first, second))
    assert second[3] != first[3], "same program id after restart: %r" % (second,)
    assert len(ingress_filters(topo.gw, "lan0")) == 1, describe_tc(topo.gw, "lan0")
    if with_lo:
        second_lo = assert_hairpin_filter(topo.gw, "lo", "fc_tc_lo_ingress")
        assert second_lo[1:3] == first_lo[1:3], (first_lo, second_lo)
        assert len(ingress_filters(topo.gw, "lo")) == 1, describe_tc(topo.gw, "lo")

    # Hairpin still works, on the kept mappings.
    assert hairpin_send(a, b, b_ext, b"after-restart") == a_ext
    assert hairpin_send(b, a, a_ext, b"after-restart-back") == b_ext
    if with_lo:
        p = topo.gw.udp("0.0.0.0", 40000)
        assert hairpin_send(p, b, b_ext, b"gw-after-restart") == (GW_WAN_ADDR, 40000)
        assert hairpin_send(b, p, (GW_WAN_ADDR, 40000), b"gw-back") == b_ext

    stop_and_counters(inst2)
    assert fc_filters(topo.gw, "lan0") == [second], describe_tc(topo.gw, "lan0")

    r = run_fcnat("--detach", "-i", "wan0", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    wait_interface_clean(topo.gw, "lan0")
    prog_ids = {first[3], second[3]}
    if with_lo:
        wait_interface_clean(topo.gw, "lo")
        assert sysctl_get(topo.gw, LO_ACCEPT_LOCAL) == "0", "--detach did not restore accept_local"
        prog_ids |= {first_lo[3], second_lo[3]}
    assert_nothing_attached(topo.gw, run_fcnat.baseline, prog_ids=prog_ids | inst2.prog_ids)
    assert not os.path.exists(os.path.join(bpffs, "wan0")), os.listdir(bpffs)
    drain(b)
    a.sendto(b"after-detach", b_ext)
    assert recv_matching(b, b"after-detach", 1.0) is None
