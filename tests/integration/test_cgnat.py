"""Carrier-grade NAT: an address pool with paired pooling, per-subscriber
limits answered with ICMP admin-prohibited, the internal scope, and what
stats, show subscribers and the metrics report (doc/design/cgnat.md).

Many subscribers are addresses on the client namespace's lan0
(192.168.77.100 and up). The pool, 203.0.113.0/30, is routed to the
gateway's external address by the "upstream" (a route in the external
namespace), as an operator's upstream router would.
"""

import json
import os
import select
import socket
import struct
import time

import pytest

from fcnat_util import recv_matching, udp_exchange
from netns import EXT_ADDRS, GW_WAN_ADDR, wait_until
from test_metrics import parse, scrape
from test_pcp import Client, mapped, parse_map, pcp_map
from test_upnp import add_args, http_port, soap

EXT2, EXT3, EXT4 = EXT_ADDRS
POOL = "203.0.113.0/30"
POOL_ADDRS = {"203.0.113.%d" % i for i in range(4)}
IP_RECVERR = 11
SO_EE_ORIGIN_ICMP = 2


def subscribers(topo, n, first=100):
    addrs = ["192.168.77.%d" % (first + i) for i in range(n)]
    for a in addrs:
        topo.client.run(["ip", "addr", "add", a + "/24", "dev", "lan0"])
    return addrs


@pytest.fixture
def pool_route(topo):
    topo.ext.run(["ip", "route", "add", POOL, "via", GW_WAN_ADDR])


def stats_json(run_fcnat, bpffs):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)


def subscribers_json(run_fcnat, bpffs):
    r = run_fcnat("show", "subscribers", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return {s["internal_addr"]: s for s in json.loads(r.stdout)}


def tcp_source(topo, listener, src, dst):
    """Connect from src to dst; the source address the server sees."""
    c = topo.client.tcp(src, 0)
    c.connect(dst)
    conn, peer = listener.accept()
    c.sendall(b"t")
    assert conn.recv(1) == b"t"
    conn.close()
    c.close()
    return peer[0]


class PingSniffer:
    """A raw ICMP socket on the external host: the source of echo requests."""

    def __init__(self, topo):
        self.sock = topo.ext.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)

    def source_of_ping(self, topo, src, dst):
        topo.client.run(["ping", "-c", "1", "-W", "3", "-I", src, dst])
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data, _ = self.sock.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (data[0] & 0x0f) * 4
            if data[ihl] == 8:  # an echo request
                return socket.inet_ntoa(data[12:16])
        raise AssertionError("no echo request from %s reached %s" % (src, dst))


def icmp_error(sock, timeout=5.0):
    """(type, code) of the first ICMP error queued on sock (IP_RECVERR)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        select.select([], [], [sock], max(deadline - time.monotonic(), 0.01))
        try:
            _, anc, _, _ = sock.recvmsg(512, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        for level, kind, data in anc:
            if level == socket.SOL_IP and kind == IP_RECVERR:
                _, origin, etype, code = struct.unpack_from("=IBBB", data)
                if origin == SO_EE_ORIGIN_ICMP:
                    return etype, code
    return None


def test_rfc6888_req2_paired_pooling_across_udp_tcp_icmp(topo, fcnat, datapath, pool_route):
    subs = subscribers(topo, 8)
    fcnat("-i", "wan0", "--pool", POOL, *datapath)
    srv = topo.ext.udp(EXT2, 7000)
    lst = topo.ext.tcp(EXT3, 7300)
    lst.listen(16)
    sniff = PingSniffer(topo)
    seen = {}
    for s in subs:
        c = topo.client.udp(s, 0)
        udp_src = udp_exchange(c, srv, (EXT2, 7000), b"u" + s.encode())[0]
        tcp_src = tcp_source(topo, lst, s, (EXT3, 7300))
        icmp_src = sniff.source_of_ping(topo, s, EXT4)
        assert udp_src in POOL_ADDRS, (s, udp_src)
        assert tcp_src == udp_src and icmp_src == udp_src, \
            "%s: udp %s, tcp %s, icmp %s: not paired" % (s, udp_src, tcp_src, icmp_src)
        seen[s] = udp_src
    # The answer comes back through the pool address.
    c = topo.client.udp(subs[0], 0)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"again")
    srv.sendto(b"back", mapped)
    assert recv_matching(c, b"back", 3) == (EXT2, 7000)


def test_rfc6888_req2_pool_spreads_subscribers(bpffs, topo, fcnat, run_fcnat, pool_route):
    subs = subscribers(topo, 32)
    fcnat("-i", "wan0", "--pool", POOL, "--bpffs", bpffs, "--metrics", "127.0.0.1:9479")
    srv = topo.ext.udp(EXT2, 7000)
    used = {}
    for s in subs:
        c = topo.client.udp(s, 0)
        src = udp_exchange(c, srv, (EXT2, 7000), b"s" + s.encode())[0]
        used.setdefault(src, []).append(s)
    assert set(used) == POOL_ADDRS, "not every pool address used: %s" % used
    # The subscriber table agrees with what the server saw.
    table = subscribers_json(run_fcnat, bpffs)
    for src, ss in used.items():
        for s in ss:
            assert table[s]["external_addr"] == src
            assert table[s]["mappings"]["udp"] == 1
    st = stats_json(run_fcnat, bpffs)
    assert st["subscribers"] == 32
    udp_use = {p["address"]: p["used"] for p in st["ports"] if p["proto"] == "udp"}
    for a in POOL_ADDRS:
        assert udp_use[a] == len(used[a]), (a, udp_use, used)
    _, body = scrape(topo, "http://127.0.0.1:9479/metrics")
    m = parse(body)
    for a in POOL_ADDRS:
        key = ("fcnat_ports_used", (("address", a), ("interface", "wan0"), ("proto", "udp")))
        assert m[key] == len(used[a]), (a, key)
    assert m[("fcnat_subscribers", (("interface", "wan0"),))] == 32


def test_rfc6888_req2_pcp_and_natpmp_map_on_the_paired_pool_address(bpffs, topo, fcnat,
                                                                    pool_route):
    """RFC 4787 REQ-2, RFC 6888 REQ-2, RFC 6887 section 11.3: a host's
    NAT-PMP and PCP mappings sit on the pool address its traffic leaves with,
    the NAT-PMP address answer names it, and outsiders reach them there."""
    sub, = subscribers(topo, 1)
    fcnat("-i", "wan0", "--pool", POOL, "--bpffs", bpffs, "--pcp-if", "lan0")
    srv = topo.ext.udp(EXT2, 7000)
    paired = udp_exchange(topo.client.udp(sub, 0), srv, (EXT2, 7000), b"out")[0]
    assert paired in POOL_ADDRS, paired
    ask = Client(topo, sub)
    r = ask.ask(b"\0\0")
    assert r is not None and len(r) == 12 and r[1] == 128, r
    assert struct.unpack("!H", r[2:4])[0] == 0 and socket.inet_ntoa(r[8:12]) == paired, r
    r = ask.ask(struct.pack("!BBHHHI", 0, 1, 0, 9100, 0, 600))
    assert r is not None and len(r) == 16 and r[1] == 129, r
    result, _, int_port, pmp_port, life = struct.unpack("!HIHHI", r[2:])
    assert (result, int_port, life) == (0, 9100, 600), r
    r = ask.ask(pcp_map(os.urandom(12), 17, 9101, 600, client=sub))
    assert r is not None, "no PCP answer"
    m = parse_map(r)
    assert m["result"] == 0, m
    assert m["ext_addr"] == mapped(paired), (socket.inet_ntoa(m["ext_addr"][12:]), paired)
    # Endpoint-independent filtering: a host never contacted reaches both
    # mappings on the pool address.
    far = topo.ext.udp(EXT3, 0)
    for int_port, ext_port in ((9100, pmp_port), (9101, m["ext_port"])):
        inside = topo.client.udp(sub, int_port)
        payload = b"to %d" % int_port
        far.sendto(payload, (paired, ext_port))
        assert recv_matching(inside, payload, 3) is not None, (paired, ext_port)


def test_rfc6888_req2_upnp_igd_on_the_paired_pool_address(bpffs, topo, fcnat, pool_route):
    """The UPnP IGD tells a control point its own paired pool address and
    maps, finds and deletes its ports there."""
    sub, = subscribers(topo, 1)
    fcnat("-i", "wan0", "--pool", POOL, "--bpffs", bpffs, "--upnp-if", "lan0")
    srv = topo.ext.udp(EXT2, 7000)
    paired = udp_exchange(topo.client.udp(sub, 0), srv, (EXT2, 7000), b"out")[0]
    assert paired in POOL_ADDRS, paired
    port = http_port(topo)
    st, r = soap(topo, port, "GetExternalIPAddress", src=sub)
    assert st == 200 and r["NewExternalIPAddress"] == paired, (st, r)
    st, r = soap(topo, port, "AddPortMapping", add_args(26100, 9200, client=sub), src=sub)
    assert st == 200, (st, r)
    key = [("NewRemoteHost", ""), ("NewExternalPort", 26100), ("NewProtocol", "UDP")]
    st, r = soap(topo, port, "GetSpecificPortMappingEntry", key, src=sub)
    assert st == 200 and r["NewInternalClient"] == sub, (st, r)
    inside = topo.client.udp(sub, 9200)
    topo.ext.udp(EXT3, 0).sendto(b"igd", (paired, 26100))
    assert recv_matching(inside, b"igd", 3) is not None, "not reached on %s" % paired
    assert soap(topo, port, "DeletePortMapping", key, src=sub)[0] == 200


def test_rfc6888_req4_limit_answered_with_icmp_admin_prohibited(bpffs, topo, fcnat, run_fcnat,
                                                                 datapath):
    x, y = subscribers(topo, 2)
    fcnat("-i", "wan0", "--max-mappings-per-subscriber", "udp=3", "--bpffs", bpffs, *datapath)
    srv = topo.ext.udp(EXT2, 7000)
    socks = []
    for i in range(3):
        c = topo.client.udp(x, 0)
        udp_exchange(c, srv, (EXT2, 7000), b"x%d" % i)
        socks.append(c)
    # The fourth flow of x: refused, and x is told so.
    over = topo.client.udp(x, 0)
    over.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    over.sendto(b"over", (EXT2, 7000))
    assert icmp_error(over) == (3, 13), "no ICMP admin-prohibited for the refused flow"
    assert recv_matching(srv, b"over", 0.5) is None, "the refused flow got through"
    # x's existing flows, and another subscriber, are unaffected.
    for i, c in enumerate(socks):
        c.sendto(b"still%d" % i, (EXT2, 7000))
        src = recv_matching(srv, b"still%d" % i, 3)
        assert src is not None and src[0] == GW_WAN_ADDR
        srv.sendto(b"r%d" % i, src)
        assert recv_matching(c, b"r%d" % i, 3) == (EXT2, 7000)
    for i in range(3):
        c = topo.client.udp(y, 0)
        assert udp_exchange(c, srv, (EXT2, 7000), b"y%d" % i)[0] == GW_WAN_ADDR
    # Counted, and shown.
    counters = stats_json(run_fcnat, bpffs)["counters"]
    assert counters["drop_subscriber_limit"] >= 1, counters
    assert counters["refused_icmp_sent"] >= 1, counters
    table = subscribers_json(run_fcnat, bpffs)
    assert table[x]["mappings"]["udp"] == 3 and table[x]["refused"] >= 1, table[x]
    assert table[y]["mappings"]["udp"] == 3 and table[y]["refused"] == 0, table[y]


def test_rfc6888_req4_count_goes_down_when_mappings_expire(bpffs, topo, fcnat, run_fcnat):
    (x,) = subscribers(topo, 1)
    fcnat("-i", "wan0", "--max-mappings-per-subscriber", "udp=1", "--timeout-udp", "2",
          "--bpffs", bpffs)
    srv = topo.ext.udp(EXT2, 7000)
    first = topo.client.udp(x, 0)
    udp_exchange(first, srv, (EXT2, 7000), b"one")
    second = topo.client.udp(x, 0)
    second.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    second.sendto(b"two", (EXT2, 7000))
    assert icmp_error(second) == (3, 13)
    # The sweeper expires the first mapping and gives its count back.
    wait_until(lambda: subscribers_json(run_fcnat, bpffs).get(x, {"mappings": {"udp": 0}})
               ["mappings"]["udp"] == 0, 10, interval=0.5, desc="the count to go down")
    assert udp_exchange(second, srv, (EXT2, 7000), b"two again")[0] == GW_WAN_ADDR


def test_internal_prefix_other_sources_pass_untouched(topo, fcnat, datapath):
    inside, outside = subscribers(topo, 2)
    fcnat("-i", "wan0", "--internal-prefix", inside + "/32", *datapath)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(topo.client.udp(inside, 0), srv, (EXT2, 7000), b"in")[0] == GW_WAN_ADDR
    # Not the NAT's business: routed with its own source (the operator's
    # routing decides where such packets may go).
    c = topo.client.udp(outside, 0)
    c.sendto(b"out", (EXT2, 7000))
    src = recv_matching(srv, b"out", 3)
    assert src is not None and src[0] == outside, src


def test_pool_options_rejected_with_exit_2(topo, run_fcnat):
    for args in (["--pool", "203.0.113.1/24"], ["--pool", "nonsense"],
                 ["--pool", "10.0.0.0/8"], ["--internal-prefix", "300.1.1.1"],
                 ["--max-mappings-per-subscriber", "tcp=x"],
                 ["--max-mappings-per-subscriber", "sctp=4"],
                 ["--refused-icmp-rate", "-1"]):
        r = run_fcnat("-i", "wan0", *args)
        assert r.returncode == 2, repr(r)
        assert "error" in r.stderr, repr(r)


def test_restart_with_kept_state_keeps_counts_and_pairing(bpffs, topo, fcnat, run_fcnat,
                                                          pool_route):
    (x,) = subscribers(topo, 1)
    args = ("-i", "wan0", "--pool", POOL, "--max-mappings-per-subscriber", "udp=2",
            "--bpffs", bpffs, "--keep-state")
    inst = fcnat(*args)
    srv = topo.ext.udp(EXT2, 7000)
    socks = [topo.client.udp(x, 0) for _ in range(2)]
    srcs = {udp_exchange(c, srv, (EXT2, 7000), b"k%d" % i)[0] for i, c in enumerate(socks)}
    assert len(srcs) == 1 and srcs <= POOL_ADDRS, srcs
    assert inst.stop() == 0
    fcnat(*args)
    # The pinned table came back with its counts: still at the limit.
    assert subscribers_json(run_fcnat, bpffs)[x]["mappings"]["udp"] == 2
    over = topo.client.udp(x, 0)
    over.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    over.sendto(b"over", (EXT2, 7000))
    assert icmp_error(over) == (3, 13)
    for i, c in enumerate(socks):
        c.sendto(b"again%d" % i, (EXT2, 7000))
        assert recv_matching(srv, b"again%d" % i, 3)[0] in srcs
