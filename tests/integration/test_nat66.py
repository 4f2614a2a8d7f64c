"""NAT66 behaviour of fcnat, end to end through network namespaces.

CLIENT (fd00:77::2/::3) -- GATEWAY (fcnat --nat66 on wan0, 2001:db8:100::1)
-- EXTERNAL (2001:db8:100::2/::3/::4, a router) -- FAR (2001:db8:200::2, on
a 1280-byte link).  Neither EXTERNAL nor FAR has a route to fd00:77::/64, so
any answer that reaches the client proves the traffic was translated both
ways.  Every test runs on both datapaths (XDP mode leaves IPv6 to the TC
programs behind it).
"""

import json
import re
import socket

import pytest

from fcnat_util import DEFAULT_RANGE, in_range, recv_matching, udp_exchange
from netns import (CLIENT6_2_ADDR, CLIENT6_ADDR, EXT6_ADDRS, FAR6_ADDR,
                   GW_LAN6_ADDR, GW_WAN6_ADDR, wait_until)

EXT2, EXT3, EXT4 = EXT6_ADDRS
FAR_MTU = 1280


def _pings(ns, addr):
    return ns.run(["ping", "-6", "-c", "1", "-W", "1", addr], check=False).returncode == 0


@pytest.fixture
def topo6(topo):
    topo.add_ipv6(far=True, far_mtu=FAR_MTU)
    # Neighbours on every link resolved (and link-local addresses out of
    # duplicate address detection) before a test's first packet: the
    # client to the gateway, the gateway to FAR through EXTERNAL.
    wait_until(lambda: _pings(topo.client, GW_LAN6_ADDR), 10, desc="client reaches gateway")
    wait_until(lambda: _pings(topo.gw, FAR6_ADDR), 10, desc="gateway reaches FAR")
    return topo


@pytest.fixture
def nat66(topo6, fcnat, datapath, bpffs):
    return fcnat("-i", "wan0", "--nat66", "--bpffs", bpffs, *datapath)


def counter(run_fcnat, bpffs, name):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)["counters"][name]


def test_nat66_ready_line_names_the_ipv6_address(topo6, nat66):
    line = nat66.ready_line()
    assert "NAT66" in line and GW_WAN6_ADDR in line, line


def test_nat66_ping6_through(topo6, nat66):
    r = topo6.client.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", EXT2], check=False)
    assert r.returncode == 0, "ping6 through the NAT failed:\n%s%s" % (r.stdout, r.stderr)
    r = topo6.client.run(["ping", "-6", "-c", "1", "-W", "2", FAR6_ADDR], check=False)
    assert r.returncode == 0, "ping6 one router beyond failed:\n%s%s" % (r.stdout, r.stderr)


def test_rfc4787_req1_nat66_udp_eim_same_external_port(topo6, nat66):
    c = topo6.client.udp(CLIENT6_ADDR, 0)
    s2 = topo6.ext.udp(EXT2, 7000)
    s3 = topo6.ext.udp(EXT3, 7000)

    src2 = udp_exchange(c, s2, (EXT2, 7000), b"to-2")[:2]
    src3 = udp_exchange(c, s3, (EXT3, 7000), b"to-3")[:2]
    assert src2[0] == GW_WAN6_ADDR, "source not the external IPv6 address: %r" % (src2,)
    assert in_range(src2[1]), "mapped port %d outside %r" % (src2[1], DEFAULT_RANGE)
    assert src2 == src3, "endpoint-dependent mapping: %r vs %r" % (src2, src3)

    s2.sendto(b"reply-2", src2)
    assert recv_matching(c, b"reply-2", 3)[:2] == (EXT2, 7000)
    s3.sendto(b"reply-3", src3)
    assert recv_matching(c, b"reply-3", 3)[:2] == (EXT3, 7000)


def test_rfc4787_req8_nat66_udp_eif_stranger_reaches_client(topo6, nat66):
    c = topo6.client.udp(CLIENT6_ADDR, 0)
    srv = topo6.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"open")[:2]

    stranger = topo6.ext.udp(EXT4, 7100)
    stranger.sendto(b"unsolicited-from-4", mapped)
    got = recv_matching(c, b"unsolicited-from-4", 3)
    assert got is not None and got[:2] == (EXT4, 7100), (
        "a host the client never contacted did not reach it through %r (got %r)"
        % (mapped, got))
    c.sendto(b"answer", (EXT4, 7100))
    got = recv_matching(stranger, b"answer", 3)
    assert got is not None and got[:2] == mapped


def test_rfc4787_req3_nat66_two_clients_same_port_get_two_mappings(topo6, nat66):
    a = topo6.client.udp(CLIENT6_ADDR, 25555)
    b = topo6.client.udp(CLIENT6_2_ADDR, 25555)
    srv = topo6.ext.udp(EXT2, 7000)
    sa = udp_exchange(a, srv, (EXT2, 7000), b"from-a")[:2]
    sb = udp_exchange(b, srv, (EXT2, 7000), b"from-b")[:2]
    assert sa[0] == sb[0] == GW_WAN6_ADDR
    assert sa[1] != sb[1], "one external port for two internal endpoints"


def test_rfc5382_nat66_tcp(topo6, nat66):
    srv = topo6.ext.tcp(EXT2, 8080)
    srv.listen(1)
    c = topo6.client.tcp(family=socket.AF_INET6)
    c.connect((EXT2, 8080))
    conn, peer = srv.accept()
    topo6.sockets.append(conn)
    assert peer[0] == GW_WAN6_ADDR and in_range(peer[1]), "server saw %r" % (peer,)
    c.sendall(b"x" * 100000)
    got = b""
    conn.settimeout(5)
    while len(got) < 100000:
        chunk = conn.recv(65536)
        assert chunk, "connection closed early"
        got += chunk
    conn.sendall(b"done")
    assert c.recv(4) == b"done"


@pytest.mark.parametrize("method", ["udp", "icmp"])
def test_rfc5508_nat66_traceroute6_shows_the_hops(topo6, nat66, method):
    """Time exceeded from EXTERNAL and the final answer from FAR come back
    translated: every hop is named."""
    args = ["traceroute", "-6", "-n", "-q", "1", "-w", "2", "-m", "5"]
    if method == "icmp":
        args.append("-I")
    r = topo6.client.run(args + [FAR6_ADDR], check=False, timeout=40)
    hops = [h[1] for h in re.findall(r"^\s*(\d+)\s+(\S+)", r.stdout, re.M)]
    # EXTERNAL answers from one of its addresses on the link (source
    # address selection picks it).
    assert len(hops) == 3 and hops[0] == GW_LAN6_ADDR and hops[1] in EXT6_ADDRS and \
        hops[2] == FAR6_ADDR, "traceroute6 hops:\n%s%s" % (r.stdout, r.stderr)


def test_rfc5508_nat66_packet_too_big_reaches_the_client(topo6, nat66, run_fcnat, bpffs):
    """FAR's link takes 1280 bytes: EXTERNAL sends Packet Too Big to the
    gateway's address, the gateway translates it, and the client learns the
    path MTU (its route cache shows it) -- with the MTU unchanged."""
    r = topo6.client.run(["ping", "-6", "-M", "do", "-s", "1400", "-c", "1", "-W", "2", FAR6_ADDR],
                         check=False)
    assert r.returncode != 0, "a 1448-byte packet crossed a 1280-byte link?\n" + r.stdout

    def learnt():
        out = topo6.client.run(["ip", "-6", "route", "get", FAR6_ADDR]).stdout
        return re.search(r"\bmtu (\d+)", out) and out
    out = wait_until(learnt, 5, desc="a path MTU for %s in the client" % FAR6_ADDR)
    assert "mtu %d" % FAR_MTU in out, out
    # Now within the path MTU, the same ping goes through.
    r = topo6.client.run(["ping", "-6", "-M", "do", "-s", str(FAR_MTU - 48), "-c", "1", "-W", "2",
                          FAR6_ADDR], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert counter(run_fcnat, bpffs, "icmp_errors_translated") >= 1


def test_nat66_neighbour_discovery_unaffected(topo6, nat66, run_fcnat, bpffs):
    """NDP on the external link keeps working under fcnat: the neighbours
    are flushed and learnt again, link-local pings pass, nothing of it is
    translated."""
    topo6.gw.run(["ip", "-6", "neigh", "flush", "dev", "wan0"])
    topo6.ext.run(["ip", "-6", "neigh", "flush", "dev", "wan0"])
    r = topo6.client.run(["ping", "-6", "-c", "1", "-W", "2", EXT3], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    neigh = topo6.gw.run(["ip", "-6", "neigh", "show", "dev", "wan0"]).stdout
    assert EXT2 in neigh or EXT3 in neigh, neigh
    ll = topo6.ext.run(["ip", "-6", "-br", "addr", "show", "dev", "wan0"]).stdout
    ext_ll = re.search(r"(fe80::[0-9a-f:]+)/64", ll).group(1)
    r = topo6.gw.run(["ping", "-6", "-c", "1", "-W", "2", ext_ll + "%wan0"], check=False)
    assert r.returncode == 0, "link-local ping on the external link:\n" + r.stdout + r.stderr
    assert counter(run_fcnat, bpffs, "pass_ipv6_link_local") > 0


def test_nat66_and_nat44_together(topo6, fcnat):
    fcnat("-i", "wan0", "--nat44", "--nat66")
    r4 = topo6.client.run(["ping", "-4", "-c", "1", "-W", "2", "198.51.100.2"], check=False)
    r6 = topo6.client.run(["ping", "-6", "-c", "1", "-W", "2", EXT2], check=False)
    assert r4.returncode == 0 and r6.returncode == 0, r4.stdout + r6.stdout


def test_nat66_link_local_or_deprecated_is_not_an_external_address(topo, run_fcnat):
    """wan0 has its fe80:: address and a deprecated global one: no NAT66."""
    topo.gw.run(["ip", "addr", "add", "2001:db8:100::7/64", "dev", "wan0", "nodad",
                 "preferred_lft", "0"])
    r = run_fcnat("-i", "wan0", "--nat66")
    assert r.returncode == 1, r
    assert "no usable global IPv6 address" in r.stderr, r.stderr


def test_nat66_wait_for_address_starts_without_one_then_takes_it(topo6, fcnat):
    topo6.gw.run(["ip", "addr", "del", GW_WAN6_ADDR + "/64", "dev", "wan0"])
    inst = fcnat("-i", "wan0", "--nat66", "--wait-for-address")
    assert "external address none yet" in inst.stderr(), inst.stderr()
    topo6.gw.run(["ip", "addr", "add", GW_WAN6_ADDR + "/64", "dev", "wan0", "nodad"])
    wait_until(lambda: "none -> " + GW_WAN6_ADDR in inst.stderr(), 5,
               desc="fcnat taking the first IPv6 address")
    c = topo6.client.udp(CLIENT6_ADDR, 0)
    srv = topo6.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"first6")[0] == GW_WAN6_ADDR


def test_nat66_follows_the_address(topo6, fcnat):
    inst = fcnat("-i", "wan0", "--nat66")
    new = "2001:db8:100::99"
    topo6.gw.run(["ip", "addr", "add", new + "/64", "dev", "wan0", "nodad"])
    topo6.gw.run(["ip", "addr", "del", GW_WAN6_ADDR + "/64", "dev", "wan0"])
    wait_until(lambda: "-> " + new in inst.stderr(), 5, desc="fcnat following the new address")
    c = topo6.client.udp(CLIENT6_ADDR, 0)
    srv = topo6.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"after")[0] == new


@pytest.fixture
def nat66_hairpin(topo6, fcnat, datapath, bpffs):
    """NAT66 with hairpinning on lan0: named by --hairpin-if in plain TC
    mode; --lan-if lan0 (tc-fast, xdp) hairpins on it already."""
    extra = [] if "--lan-if" in datapath else ["--hairpin-if", "lan0"]
    return fcnat("-i", "wan0", "--nat66", "--bpffs", bpffs, *datapath, *extra)


def test_rfc4787_req9_nat66_udp_hairpin_both_ways(topo6, nat66_hairpin, run_fcnat, bpffs):
    # A's mapping, found by an external server, as a rendezvous would.
    a = topo6.client.udp(CLIENT6_ADDR, 0)
    srv = topo6.ext.udp(EXT2, 7000)
    a_ext = udp_exchange(a, srv, (EXT2, 7000), b"who-am-i")[:2]
    assert a_ext[0] == GW_WAN6_ADDR and in_range(a_ext[1]), a_ext

    # B reaches A at the gateway's external IPv6 address and A's port...
    b = topo6.client.udp(CLIENT6_2_ADDR, 0)
    b.sendto(b"hello-a", a_ext)
    got = recv_matching(a, b"hello-a", 3)
    assert got is not None, "B's datagram to A's mapping %r never reached A" % (a_ext,)
    b_ext = got[:2]
    # ... and A sees B's external endpoint, not B's internal one (REQ-9a).
    assert b_ext[0] == GW_WAN6_ADDR and in_range(b_ext[1]), (
        "A saw %r as source, not an external endpoint" % (b_ext,))

    # A answers that endpoint: B sees A's mapping as source.
    a.sendto(b"hello-b", b_ext)
    got = recv_matching(b, b"hello-b", 3)
    assert got is not None and got[:2] == a_ext, (
        "A's answer to %r reached B as %r, want %r" % (b_ext, got, a_ext))

    # B's external endpoint is its mapping outside too (EIM).
    assert udp_exchange(b, srv, (EXT2, 7000), b"b-out")[:2] == b_ext
    assert counter(run_fcnat, bpffs, "hairpin_translated") >= 2


def test_rfc5382_req8_nat66_tcp_hairpin(topo6, nat66_hairpin):
    # A's TCP mapping, found by an external server; the connection stays
    # open (the mapping alive) while A listens on the same endpoint.
    ext_srv = topo6.ext.tcp(EXT2, 8080)
    ext_srv.listen(1)
    a_out = topo6.client.tcp(family=socket.AF_INET6)
    a_out.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    a_out.bind((CLIENT6_ADDR, 0))
    a_port = a_out.getsockname()[1]
    a_out.connect((EXT2, 8080))
    conn, a_ext = ext_srv.accept()
    topo6.sockets.append(conn)
    a_ext = a_ext[:2]
    assert a_ext[0] == GW_WAN6_ADDR, a_ext

    # The same internal endpoint listens: B connects to its mapping.
    lst = topo6.client.tcp(family=socket.AF_INET6)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((CLIENT6_ADDR, a_port))
    lst.listen(1)
    b = topo6.client.tcp(family=socket.AF_INET6)
    b.bind((CLIENT6_2_ADDR, 0))
    b.settimeout(5)
    b.connect(a_ext)
    lst.settimeout(5)
    peer, b_seen = lst.accept()
    assert b_seen[0] == GW_WAN6_ADDR and in_range(b_seen[1]), (
        "A's listener saw %r, not B's external endpoint" % (b_seen[:2],))
    b.sendall(b"ping-over-hairpin")
    peer.settimeout(5)
    assert peer.recv(64) == b"ping-over-hairpin"
    peer.sendall(b"pong")
    assert b.recv(64) == b"pong"
    peer.close()
    b.close()
    lst.close()


def test_nat66_static_forward_publishes_an_ipv6_server_on_the_external_ipv6_address(
        topo6, fcnat, datapath, bpffs, run_fcnat):
    """--forward to a bracketed IPv6 address with --nat66: a static NAT66
    mapping on the external IPv6 address. Any IPv6 host reaches the server
    there (UDP and TCP); the server's own packets leave from that port
    (EIM); listed as static."""
    fcnat("-i", "wan0", "--nat66", "--bpffs", bpffs, *datapath,
          "--forward", "udp:25080=[%s]:8080" % CLIENT6_ADDR, "tcp:25080=[%s]:8081" % CLIENT6_ADDR)
    server = topo6.client.udp(CLIENT6_ADDR, 8080)
    lst = topo6.client.tcp(CLIENT6_ADDR, 8081)
    lst.listen(1)
    peer = topo6.ext.udp(EXT3, 7100)
    peer.sendto(b"inbound-first", (GW_WAN6_ADDR, 25080))
    got = recv_matching(server, b"inbound-first", 3)
    assert got is not None and got[:2] == (EXT3, 7100), got
    other = topo6.ext.udp(EXT2, 7000)
    server.sendto(b"outbound", (EXT2, 7000))
    got = recv_matching(other, b"outbound", 3)
    assert got is not None and got[:2] == (GW_WAN6_ADDR, 25080), got

    c = topo6.ext.tcp(EXT3, 0, family=socket.AF_INET6)
    c.connect((GW_WAN6_ADDR, 25080))
    conn, src = lst.accept()
    topo6.sockets.append(conn)
    assert src[0] == EXT3, src
    c.sendall(b"hello over tcp")
    assert conn.recv(100) == b"hello over tcp"

    r = run_fcnat("show", "mappings", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    statics = {(m["proto"], m["internal_addr"], m["internal_port"], m["external_addr"],
                m["external_port"]) for m in json.loads(r.stdout) if m["static"]}
    assert statics == {("udp", CLIENT6_ADDR, 8080, GW_WAN6_ADDR, 25080),
                       ("tcp", CLIENT6_ADDR, 8081, GW_WAN6_ADDR, 25080)}, statics


def test_nat66_static_forward_moves_with_the_external_ipv6_address(topo6, fcnat, bpffs):
    """Renumbering (a new delegated prefix): the forward leaves the old
    address with its other mappings and is on the new one at once."""
    inst = fcnat("-i", "wan0", "--nat66", "--bpffs", bpffs,
                 "--forward", "udp:25085=[%s]:8080" % CLIENT6_ADDR)
    server = topo6.client.udp(CLIENT6_ADDR, 8080)
    peer = topo6.ext.udp(EXT3, 7100)
    peer.sendto(b"before", (GW_WAN6_ADDR, 25085))
    assert recv_matching(server, b"before", 3) is not None
    new = "2001:db8:100::99"
    topo6.gw.run(["ip", "-6", "addr", "del", GW_WAN6_ADDR + "/64", "dev", "wan0"])
    topo6.gw.addr_add("wan0", new + "/64", "nodad")
    wait_until(lambda: "-> %s" % new in inst.stderr(), 5, desc="fcnat follows the new address")
    wait_until(lambda: "flushed" in inst.stderr(), 5, desc="the old address's mappings flushed")
    peer.sendto(b"after", (new, 25085))
    got = recv_matching(server, b"after", 3)
    assert got is not None and got[:2] == (EXT3, 7100), got
