"""Stateful NAT64 (RFC 6146) of fcnat, end to end through network namespaces.

CLIENT (IPv6 only: fd00:77::2/::3) -- GATEWAY (fcnat --nat64 on wan0,
198.51.100.1, translating on lan0's ingress) -- EXTERNAL (IPv4 servers
198.51.100.2/.3/.4, a router) -- FAR4 (192.0.2.2, on a 1400-byte link).
The client names IPv4 hosts as 64:ff9b::<IPv4> (RFC 6052 /96); nothing on
the IPv4 side has a route to fd00:77::/64 or any IPv6 at all in the path of
the test traffic, so an answer that reaches the client proves the packets
were translated both ways. Every test runs on every datapath (XDP mode
translates NAT64's established TCP, UDP and echo packets in XDP, and leaves
the rest to the TC programs behind it).
"""

import json
import re
import socket
import threading

import pytest

from fcnat_util import DEFAULT_RANGE, in_range, recv_matching, udp_exchange, xdp_args
from netns import (CLIENT6_2_ADDR, CLIENT6_ADDR, CLIENT_ADDR, EXT6_ADDRS, EXT_ADDRS, FAR4_ADDR,
                   GW_LAN6_ADDR, GW_WAN6_ADDR, GW_WAN_ADDR, nat64_addr, wait_until)

EXT2, EXT3, EXT4 = EXT_ADDRS
EXT6_2 = EXT6_ADDRS[0]
FAR4_MTU = 1400


def _pings(ns, addr, family="-6"):
    return ns.run(["ping", family, "-c", "1", "-W", "1", addr], check=False).returncode == 0


@pytest.fixture
def topo64(topo):
    topo.add_nat64(far4_mtu=FAR4_MTU)
    # Neighbours resolved on every link before a test's first packet.
    wait_until(lambda: _pings(topo.client, GW_LAN6_ADDR), 10, desc="client reaches gateway")
    wait_until(lambda: _pings(topo.gw, FAR4_ADDR, "-4"), 10, desc="gateway reaches FAR4")
    return topo


@pytest.fixture
def nat64(topo64, fcnat, datapath, bpffs):
    # The internal interface NAT64 translates on: --hairpin-if in TC mode,
    # --lan-if (part of the XDP datapath's arguments) in XDP mode.
    internal = [] if datapath else ["--hairpin-if", "lan0"]
    return fcnat("-i", "wan0", "--nat64", "--bpffs", bpffs, *internal, *datapath)


def counter(run_fcnat, bpffs, name):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)["counters"][name]


def test_nat64_ready_line_names_the_prefix(topo64, nat64):
    line = nat64.ready_line()
    assert "NAT64 for 64:ff9b::/96" in line and GW_WAN_ADDR in line, line


def test_nat64_with_nat66_only_still_has_its_ipv4_side(topo64, fcnat, bpffs):
    """--nat66 --nat64 (no NAT44): the external IPv4 address is still read,
    NAT64 works next to NAT66."""
    inst = fcnat("-i", "wan0", "--nat66", "--nat64", "--hairpin-if", "lan0", "--bpffs", bpffs)
    assert GW_WAN_ADDR in inst.ready_line(), inst.ready_line()
    r = topo64.client.run(["ping", "-6", "-c", "1", "-W", "2", nat64_addr(EXT2)], check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_nat64_client_is_ipv6_only(topo64):
    out = topo64.client.run(["ip", "-4", "addr", "show", "dev", "lan0"]).stdout
    assert "inet " not in out, out
    assert not _pings(topo64.client, nat64_addr(EXT2)), "reached IPv4 without fcnat?"


def test_rfc6146_ping6_to_ipv4_hosts(topo64, nat64, run_fcnat, bpffs):
    for addr in (EXT2, FAR4_ADDR):
        r = topo64.client.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", nat64_addr(addr)],
                              check=False)
        assert r.returncode == 0, "ping6 %s failed:\n%s%s" % (nat64_addr(addr), r.stdout, r.stderr)
    assert counter(run_fcnat, bpffs, "nat64_translated_out") >= 4
    assert counter(run_fcnat, bpffs, "nat64_translated_in") >= 4


def test_rfc4787_req1_nat64_udp_eim_same_external_port(topo64, nat64):
    c = topo64.client.udp(CLIENT6_ADDR, 0)
    s2 = topo64.ext.udp(EXT2, 7000)
    s3 = topo64.ext.udp(EXT3, 7000)

    src2 = udp_exchange(c, s2, (nat64_addr(EXT2), 7000), b"to-2")[:2]
    src3 = udp_exchange(c, s3, (nat64_addr(EXT3), 7000), b"to-3")[:2]
    assert src2[0] == GW_WAN_ADDR, "source not the external IPv4 address: %r" % (src2,)
    assert in_range(src2[1]), "mapped port %d outside %r" % (src2[1], DEFAULT_RANGE)
    assert src2 == src3, "endpoint-dependent mapping: %r vs %r" % (src2, src3)

    s2.sendto(b"reply-2", src2)
    assert recv_matching(c, b"reply-2", 3)[:2] == (nat64_addr(EXT2), 7000)
    s3.sendto(b"reply-3", src3)
    assert recv_matching(c, b"reply-3", 3)[:2] == (nat64_addr(EXT3), 7000)


def test_rfc4787_req8_nat64_udp_eif_unsolicited_ipv4_host_reaches_client(topo64, nat64):
    c = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"open")[:2]

    stranger = topo64.ext.udp(EXT4, 7100)
    stranger.sendto(b"unsolicited-from-4", mapped)
    got = recv_matching(c, b"unsolicited-from-4", 3)
    assert got is not None and got[:2] == (nat64_addr(EXT4), 7100), (
        "a host the client never contacted did not reach it through %r (got %r)"
        % (mapped, got))
    c.sendto(b"answer", (nat64_addr(EXT4), 7100))
    got = recv_matching(stranger, b"answer", 3)
    assert got is not None and got[:2] == mapped


def test_rfc6146_two_clients_same_port_two_mappings(topo64, nat64):
    a = topo64.client.udp(CLIENT6_ADDR, 25555)
    b = topo64.client.udp(CLIENT6_2_ADDR, 25555)
    srv = topo64.ext.udp(EXT2, 7000)
    sa = udp_exchange(a, srv, (nat64_addr(EXT2), 7000), b"from-a")[:2]
    sb = udp_exchange(b, srv, (nat64_addr(EXT2), 7000), b"from-b")[:2]
    assert sa[0] == sb[0] == GW_WAN_ADDR
    assert sa[1] != sb[1], "one external port for two internal endpoints"


def test_rfc6146_nat44_and_nat64_share_the_port_space(topo64, fcnat, bpffs):
    """An IPv4 client (its address given back for this test) and an IPv6
    one, both on source port 25555: two mappings, two external ports."""
    topo64.client.addr_add("lan0", CLIENT_ADDR + "/24")
    topo64.client.run(["ip", "route", "add", "default", "via", "192.168.77.1"])
    fcnat("-i", "wan0", "--nat44", "--nat64", "--hairpin-if", "lan0", "--bpffs", bpffs)
    v4 = topo64.client.udp(CLIENT_ADDR, 25555)
    v6 = topo64.client.udp(CLIENT6_ADDR, 25555)
    srv = topo64.ext.udp(EXT2, 7000)
    s4 = udp_exchange(v4, srv, (EXT2, 7000), b"from-v4")[:2]
    s6 = udp_exchange(v6, srv, (nat64_addr(EXT2), 7000), b"from-v6")[:2]
    assert s4[0] == s6[0] == GW_WAN_ADDR
    assert s4[1] != s6[1], "NAT44 and NAT64 handed out the same external port"
    srv.sendto(b"back-6", s6)
    assert recv_matching(v6, b"back-6", 3) is not None
    srv.sendto(b"back-4", s4)
    assert recv_matching(v4, b"back-4", 3) is not None


def test_rfc6146_one_socket_nat66_and_nat64_mappings_at_once(topo64, fcnat, datapath, bpffs,
                                                             run_fcnat):
    """A dual-stack gateway (--nat66 --nat64): one client socket, one source
    port, talks to an IPv6 server (NAT66) and to an IPv4 one under the
    prefix (NAT64). The endpoint gets a mapping in each family, both replies
    arrive, each mapping admits strangers (full cone), and show lists both."""
    internal = [] if datapath else ["--hairpin-if", "lan0"]
    fcnat("-i", "wan0", "--nat66", "--nat64", "--bpffs", bpffs, *internal, *datapath)
    c = topo64.client.udp(CLIENT6_ADDR, 25777)
    srv6 = topo64.ext.udp(EXT6_2, 7000)
    srv4 = topo64.ext.udp(EXT2, 7000)

    m6 = udp_exchange(c, srv6, (EXT6_2, 7000), b"to-v6")[:2]
    m4 = udp_exchange(c, srv4, (nat64_addr(EXT2), 7000), b"to-v4")[:2]
    assert m6[0] == GW_WAN6_ADDR and in_range(m6[1]), m6
    assert m4[0] == GW_WAN_ADDR and in_range(m4[1]), m4
    # Again, in the other order: each family keeps its own mapping.
    assert udp_exchange(c, srv4, (nat64_addr(EXT2), 7000), b"to-v4-again")[:2] == m4
    assert udp_exchange(c, srv6, (EXT6_2, 7000), b"to-v6-again")[:2] == m6

    srv6.sendto(b"back-6", m6)
    assert recv_matching(c, b"back-6", 3)[:2] == (EXT6_2, 7000)
    srv4.sendto(b"back-4", m4)
    assert recv_matching(c, b"back-4", 3)[:2] == (nat64_addr(EXT2), 7000)
    stranger6 = topo64.ext.udp(EXT6_ADDRS[2], 7100)
    stranger6.sendto(b"stranger-6", m6)
    assert recv_matching(c, b"stranger-6", 3)[:2] == (EXT6_ADDRS[2], 7100)
    stranger4 = topo64.ext.udp(EXT4, 7100)
    stranger4.sendto(b"stranger-4", m4)
    assert recv_matching(c, b"stranger-4", 3)[:2] == (nat64_addr(EXT4), 7100)

    r = run_fcnat("show", "mappings", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    rows = {(m["proto"], m["internal_addr"], m["internal_port"], m["external_addr"],
             m["external_port"], m["sessions"]) for m in json.loads(r.stdout)}
    assert rows == {
        ("udp", CLIENT6_ADDR, 25777, GW_WAN6_ADDR, m6[1], 2),
        ("udp", CLIENT6_ADDR, 25777, GW_WAN_ADDR, m4[1], 2),
    }, rows
    r = run_fcnat("show", "sessions", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    rows = {(s["internal_addr"], s["internal_port"], s["external_addr"], s["external_port"],
             s["remote_addr"], s["remote_port"]) for s in json.loads(r.stdout)}
    assert rows == {
        (CLIENT6_ADDR, 25777, GW_WAN6_ADDR, m6[1], EXT6_2, 7000),
        (CLIENT6_ADDR, 25777, GW_WAN6_ADDR, m6[1], EXT6_ADDRS[2], 7100),
        (CLIENT6_ADDR, 25777, GW_WAN_ADDR, m4[1], EXT2, 7000),
        (CLIENT6_ADDR, 25777, GW_WAN_ADDR, m4[1], EXT4, 7100),
    }, rows
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert "drop_mapped_in_other_family" not in json.loads(r.stdout)["counters"]


def test_rfc6146_tcp_transfer(topo64, nat64):
    srv = topo64.ext.tcp(EXT2, 8080)
    srv.listen(1)
    c = topo64.client.tcp(family=socket.AF_INET6)
    c.connect((nat64_addr(EXT2), 8080))
    conn, peer = srv.accept()
    topo64.sockets.append(conn)
    assert peer[0] == GW_WAN_ADDR and in_range(peer[1]), "server saw %r" % (peer,)
    # The server reads while the client writes (a thread), so a megabyte
    # crosses whatever the socket buffers hold.
    sender = threading.Thread(target=c.sendall, args=(b"x" * 1000000,))
    sender.start()
    got = 0
    conn.settimeout(10)
    while got < 1000000:
        chunk = conn.recv(65536)
        assert chunk, "connection closed early"
        got += len(chunk)
    sender.join(10)
    assert not sender.is_alive()
    conn.sendall(b"y" * 100000 + b"done")
    back = b""
    c.settimeout(10)
    while not back.endswith(b"done"):
        chunk = c.recv(65536)
        assert chunk, "connection closed early"
        back += chunk
    assert len(back) == 100004


@pytest.mark.parametrize("method", ["udp", "icmp"])
def test_rfc6146_traceroute6_shows_the_ipv4_hops_under_the_prefix(topo64, nat64, method):
    """The gateway itself (hop limit 1: the stack's Time Exceeded), then
    EXTERNAL's Time Exceeded and FAR4's answer, translated with their IPv4
    sources under the prefix."""
    args = ["traceroute", "-6", "-n", "-q", "1", "-w", "2", "-m", "5"]
    if method == "icmp":
        args.append("-I")
    r = topo64.client.run(args + [nat64_addr(FAR4_ADDR)], check=False, timeout=40)
    hops = [h[1] for h in re.findall(r"^\s*(\d+)\s+(\S+)", r.stdout, re.M)]
    # EXTERNAL answers from its address on the link towards the gateway.
    assert hops == [GW_LAN6_ADDR, nat64_addr(EXT2), nat64_addr(FAR4_ADDR)], \
        "traceroute6 hops:\n%s%s" % (r.stdout, r.stderr)


def test_rfc7915_fragmentation_needed_becomes_packet_too_big(topo64, nat64, run_fcnat, bpffs):
    """FAR4's link takes 1400 bytes: EXTERNAL answers a DF packet with
    Fragmentation Needed (MTU 1400), the gateway translates it to Packet
    Too Big with 1420 (RFC 7915 section 4.2: MTU + 20), and the client
    learns that path MTU."""
    dst = nat64_addr(FAR4_ADDR)
    r = topo64.client.run(["ping", "-6", "-M", "do", "-s", "1420", "-c", "1", "-W", "2", dst],
                          check=False)
    assert r.returncode != 0, "a 1468-byte IPv6 packet crossed a 1400-byte IPv4 link?\n" + r.stdout

    def learnt():
        out = topo64.client.run(["ip", "-6", "route", "get", dst]).stdout
        return re.search(r"\bmtu (\d+)", out) and out
    out = wait_until(learnt, 5, desc="a path MTU for %s in the client" % dst)
    assert "mtu %d" % (FAR4_MTU + 20) in out, out
    # Within the path MTU, the same ping goes through.
    r = topo64.client.run(["ping", "-6", "-M", "do", "-s", str(FAR4_MTU + 20 - 48), "-c", "1",
                           "-W", "2", dst], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert counter(run_fcnat, bpffs, "icmp_errors_translated") >= 1


def test_rfc6146_ipv6_outside_the_prefix_not_translated(topo64, nat64, run_fcnat, bpffs):
    """IPv6 elsewhere is routed as IPv6 (here to EXTERNAL's IPv6 address,
    which has no route back: no answer), never translated."""
    before = counter(run_fcnat, bpffs, "nat64_translated_out")
    c = topo64.client.udp(CLIENT6_ADDR, 0)
    c.sendto(b"plain-ipv6", ("2001:db8:100::2", 7000))
    assert counter(run_fcnat, bpffs, "nat64_translated_out") == before


def _route_mtu(ns, dst, family="-4"):
    out = ns.run(["ip", family, "route", "get", dst]).stdout
    m = re.search(r"\bmtu (\d+)", out)
    return int(m.group(1)) if m else None


def test_rfc7915_s4_1_fragmented_ipv4_datagram_reaches_ipv6_client_intact(
        topo64, nat64, run_fcnat, bpffs):
    """A 3000-byte UDP reply leaves the IPv4 server in fragments of 1500
    bytes (DF clear). As IPv6 with a fragment header each would be 1528
    bytes: the gateway splits them into IPv4 fragments of 1232 payload
    bytes (RFC 7915 section 4.1: none over 1280 as IPv6), each becomes IPv6
    with a fragment header (the first through the mapping, the others
    through the fragment table), and the client reassembles the datagram
    intact, the first time, with no error sent back."""
    c = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"open")[:2]
    big = bytes((i * 7 + 3) & 0xff for i in range(3000))
    srv.sendto(big, mapped)
    got = recv_matching(c, big, 5)
    assert got is not None and got[:2] == (nat64_addr(EXT2), 7000), \
        "the fragmented datagram never arrived whole"
    # Two 1500-byte fragments split in two each, the 68-byte last one not:
    # five IPv6 fragments, one through the mapping.
    assert counter(run_fcnat, bpffs, "nat64_split") == 2
    assert counter(run_fcnat, bpffs, "fragments_translated") == 4
    assert counter(run_fcnat, bpffs, "nat64_frag_needed_sent") == 0
    assert _route_mtu(topo64.ext, GW_WAN_ADDR) is None, "the server was told to go smaller"


def test_rfc7915_s4_1_s4_5_udp_without_checksum_split_reaches_ipv6_client_intact(
        topo64, nat64, run_fcnat, bpffs):
    """A 1400-byte UDP datagram the IPv4 server sends without checksum
    (SO_NO_CHECK) and with DF clear is 1448 bytes as IPv6, over 1280: the
    gateway gives it its checksum (RFC 7915 section 4.5) and splits it
    (section 4.1) into two IPv6 fragments. The client's kernel, which drops
    IPv6 UDP without a correct checksum, reassembles and delivers it."""
    c = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    srv.setsockopt(socket.SOL_SOCKET, 11, 1)	# SO_NO_CHECK: checksum 0
    srv.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_MTU_DISCOVER = IP_PMTUDISC_DONT: DF clear
    mapped = udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"open")[:2]
    data = bytes((i * 13 + 5) & 0xff for i in range(1400))
    srv.sendto(data, mapped)
    got = recv_matching(c, data, 5)
    assert got is not None and got[:2] == (nat64_addr(EXT2), 7000), \
        "the datagram without checksum never arrived whole"
    assert counter(run_fcnat, bpffs, "nat64_split") == 1
    assert counter(run_fcnat, bpffs, "fragments_translated") == 1
    assert counter(run_fcnat, bpffs, "nat64_frag_needed_sent") == 0


def test_rfc7915_s4_df_packet_too_big_for_ipv6_side_gets_frag_needed(
        topo64, nat64, run_fcnat, bpffs):
    """A 1500-byte IPv4 datagram with DF set becomes 1520 bytes of IPv6, too
    big for the client's link: the server is told Fragmentation Needed with
    1500 - 20 and learns it; a datagram of that size gets through."""
    c = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    srv.setsockopt(socket.IPPROTO_IP, 10, 2)	# IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF
    mapped = udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"open")[:2]
    srv.sendto(b"d" * (1500 - 28), mapped)
    wait_until(lambda: _route_mtu(topo64.ext, GW_WAN_ADDR) is not None, 5,
               desc="a path MTU for the gateway in the server")
    assert _route_mtu(topo64.ext, GW_WAN_ADDR) == 1500 - 20
    assert counter(run_fcnat, bpffs, "nat64_frag_needed_sent") == 1
    assert counter(run_fcnat, bpffs, "nat64_drop_mtu_df_clear") == 0
    fits = b"f" * (1500 - 20 - 28)
    srv.sendto(fits, mapped)
    assert recv_matching(c, fits, 3) is not None, "a datagram within the path MTU was lost"


def test_rfc7915_s5_1_ipv6_client_too_big_for_ipv4_route_gets_packet_too_big(
        topo64, nat64, run_fcnat, bpffs):
    """The gateway's own IPv4 route to FAR4 takes 1300 bytes: a 1448-byte
    IPv6 ping (1428 as IPv4, DF) is answered by the gateway with Packet Too
    Big carrying 1300 + 20; the client learns it and the next ping of that
    size gets through."""
    topo64.gw.run(["ip", "route", "replace", "192.0.2.0/24", "via", EXT_ADDRS[0],
                   "mtu", "lock", "1300"])
    dst = nat64_addr(FAR4_ADDR)
    r = topo64.client.run(["ping", "-6", "-M", "do", "-s", "1400", "-c", "1", "-W", "2", dst],
                          check=False)
    assert r.returncode != 0, "a 1428-byte IPv4 packet took a 1300-byte route?\n" + r.stdout
    wait_until(lambda: _route_mtu(topo64.client, dst, "-6") is not None, 5,
               desc="a path MTU for %s in the client" % dst)
    assert _route_mtu(topo64.client, dst, "-6") == 1300 + 20
    assert counter(run_fcnat, bpffs, "nat64_packet_too_big_sent") >= 1
    r = topo64.client.run(["ping", "-6", "-M", "do", "-s", str(1320 - 48), "-c", "1",
                           "-W", "2", dst], check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_rfc7915_s5_1_gso_tcp_too_big_for_ipv4_route_gets_packet_too_big(
        topo64, nat64, run_fcnat, bpffs, datapath):
    """A TCP sender with TSO (the client's veth offloads on) hands the
    gateway GSO packets whose 1500-byte segments are 1480 bytes as IPv4;
    the gateway's IPv4 route to EXT2 takes 1400 (the link itself 1500, so
    nothing further on would complain). The gateway checks each segment
    against the route and answers with Packet Too Big 1420; the client
    learns it, its segments shrink to 1420 bytes (1400 as IPv4: the
    translation keeps gso_size, so an IPv4 segment is its IPv6 one less 20)
    and 4 MB arrive whole. The gateway's lan0 computes checksums itself (tx
    checksumming off), so an error that kept the GSO packet's
    CHECKSUM_PARTIAL would reach the client with a TCP checksum written
    into its quote, be dropped, and the transfer would stall. In XDP mode
    the client's veth cannot offload (its peer runs an XDP program without
    multi-buffer support: TSO fixed off; and XDP needs complete checksums,
    prepare_xdp_peers): there the same transfer checks the non-GSO path."""
    size = 4 * 1024 * 1024
    if "xdp" not in datapath:
        topo64.client.run(["ethtool", "-K", "lan0", "tx", "on", "tso", "on", "gso", "on"])
        assert re.search(r"^tcp-segmentation-offload: on",
                         topo64.client.run(["ethtool", "-k", "lan0"]).stdout, re.M)
    topo64.gw.run(["ethtool", "-K", "lan0", "tx", "off"])
    topo64.gw.run(["ip", "route", "replace", EXT2 + "/32", "dev", "wan0", "mtu", "lock", "1400"])
    srv = topo64.ext.tcp(EXT2, 8090)
    srv.listen(1)
    c = topo64.client.tcp(family=socket.AF_INET6)
    c.connect((nat64_addr(EXT2), 8090))
    conn, _ = srv.accept()
    topo64.sockets.append(conn)
    sender = threading.Thread(target=c.sendall, args=(b"g" * size,))
    sender.start()
    got = 0
    conn.settimeout(15)
    while got < size:
        chunk = conn.recv(65536)
        assert chunk, "connection closed early"
        got += len(chunk)
    sender.join(15)
    assert not sender.is_alive()
    assert got == size
    assert _route_mtu(topo64.client, nat64_addr(EXT2), "-6") == 1400 + 20
    assert counter(run_fcnat, bpffs, "nat64_packet_too_big_sent") >= 1
    assert counter(run_fcnat, bpffs, "nat64_drop_mtu") >= 1


def test_rfc7915_s4_1_gso_tcp_too_big_for_ipv6_route_gets_frag_needed(
        topo64, nat64, run_fcnat, bpffs, datapath):
    """The other way: the IPv4 server sends with TSO, segments of 1480
    bytes (MSS 1428 and timestamps) that are 1500 bytes as IPv6; the
    gateway's IPv6 route to the client takes 1400 from the middle of the
    transfer on, when the server sends GSO bursts (a large window). Each
    segment is checked: Fragmentation Needed 1380 to the server (from the
    gateway's wan0, which computes checksums itself, tx checksumming off,
    so a leftover CHECKSUM_PARTIAL would corrupt it); the server learns it
    and all the bytes reach the client whole. XDP mode: the server's veth
    cannot offload there (see the test above)."""
    if "xdp" not in datapath:
        topo64.ext.run(["ethtool", "-K", "wan0", "tx", "on", "tso", "on", "gso", "on"])
        assert re.search(r"^tcp-segmentation-offload: on",
                         topo64.ext.run(["ethtool", "-k", "wan0"]).stdout, re.M)
    topo64.gw.run(["ethtool", "-K", "wan0", "tx", "off"])
    srv = topo64.ext.tcp(EXT2, 8092)
    srv.listen(1)
    # Bound: the route below is CLIENT6_ADDR's, and the client's other
    # address (::3, added last) is the one it would pick.
    c = topo64.client.tcp(CLIENT6_ADDR, 0)
    c.connect((nat64_addr(EXT2), 8092))
    conn, _ = srv.accept()
    topo64.sockets.append(conn)
    c.settimeout(15)

    def transfer(size):
        sender = threading.Thread(target=conn.sendall, args=(b"h" * size,))
        sender.start()
        got = 0
        while got < size:
            chunk = c.recv(65536)
            assert chunk, "connection closed early"
            got += len(chunk)
        sender.join(15)
        assert not sender.is_alive()
        assert got == size

    transfer(1024 * 1024)
    assert counter(run_fcnat, bpffs, "nat64_frag_needed_sent") == 0
    topo64.gw.run(["ip", "-6", "route", "replace", CLIENT6_ADDR + "/128", "dev", "lan0",
                   "mtu", "lock", "1400"])
    transfer(4 * 1024 * 1024)
    assert _route_mtu(topo64.ext, GW_WAN_ADDR) == 1400 - 20
    assert counter(run_fcnat, bpffs, "nat64_frag_needed_sent") >= 1


def test_rfc6146_s3_8_hairpinning_between_two_ipv6_clients(topo64, nat64, run_fcnat, bpffs):
    """One IPv6 client reaches another's NAT64 mapping through the prefix
    and the external address: it arrives from the sender's own mapping
    under the prefix, and the answer to that goes back the same way."""
    a = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    mapped_a = udp_exchange(a, srv, (nat64_addr(EXT2), 7000), b"open-a")[:2]
    b = topo64.client.udp(CLIENT6_2_ADDR, 0)
    b.sendto(b"hairpin-b-to-a", (nat64_addr(mapped_a[0]), mapped_a[1]))
    got = recv_matching(a, b"hairpin-b-to-a", 3)
    assert got is not None, "B's packet to A's mapping %r never reached A" % (mapped_a,)
    from_b = got[:2]
    assert from_b[0] == nat64_addr(GW_WAN_ADDR) and in_range(from_b[1]), from_b
    a.sendto(b"hairpin-a-to-b", from_b)
    got = recv_matching(b, b"hairpin-a-to-b", 3)
    assert got is not None, "A's answer to B's mapping %r never reached B" % (from_b,)
    assert got[:2] == (nat64_addr(GW_WAN_ADDR), mapped_a[1]), got
    assert counter(run_fcnat, bpffs, "hairpin_translated") >= 2


def test_rfc7915_s4_1_ttl_1_to_a_mapping_answered_with_time_exceeded(topo64, nat64, run_fcnat,
                                                                      bpffs):
    """An IPv4 packet to a NAT64 mapping with TTL 1 expires at the
    translator: the IPv4 sender gets ICMP Time Exceeded (11/0) from the
    gateway, the client gets nothing; TTL 2 goes through."""
    from test_cgnat import IP_RECVERR, icmp_error

    c = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"open")[:2]
    srv.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    srv.setsockopt(socket.SOL_IP, socket.IP_TTL, 1)
    srv.sendto(b"ttl-1", mapped)
    err = icmp_error(srv)
    assert err == (11, 0), "expected ICMP time exceeded, got %r" % (err,)
    assert recv_matching(c, b"ttl-1", 1) is None, "an expired packet reached the client"
    assert counter(run_fcnat, bpffs, "nat64_drop_ttl") == 1
    srv.setsockopt(socket.SOL_IP, socket.IP_TTL, 2)
    srv.sendto(b"ttl-2", mapped)
    assert recv_matching(c, b"ttl-2", 3) is not None, "TTL 2 did not reach the client"


def test_rfc6052_s3_1_private_ipv4_under_the_wkp_not_translated(topo64, nat64, run_fcnat,
                                                                  bpffs):
    """RFC 6052 §3.1: under the Well-Known Prefix a private IPv4 host is not
    reached even though the gateway routes to it (and reaches it itself);
    the packets are dropped and counted. The global host next to it is."""
    priv = "10.99.0.2"
    topo64.ext.addr_add("far0", "10.99.0.1/24")
    topo64.far4.addr_add("far0", priv + "/24")
    topo64.gw.run(["ip", "route", "replace", "10.99.0.0/24", "via", EXT2])
    wait_until(lambda: _pings(topo64.gw, priv, "-4"), 10, desc="gateway reaches the private host")
    before = counter(run_fcnat, bpffs, "nat64_drop_untranslatable")
    assert not _pings(topo64.client, nat64_addr(priv))
    assert counter(run_fcnat, bpffs, "nat64_drop_untranslatable") > before
    assert _pings(topo64.client, nat64_addr(FAR4_ADDR))


def test_rfc6146_static_forward_publishes_an_ipv6_server_on_the_ipv4_side(
        topo64, fcnat, datapath, bpffs, run_fcnat):
    """--forward to a bracketed IPv6 address: a static NAT64 mapping (a
    static BIB entry, RFC 6146 §3.5.1). Any IPv4 host reaches the IPv6-only
    server on the external address and port, seeing it there; the server's
    own packets leave from that port (EIM); TCP too; listed as static."""
    internal = [] if datapath else ["--hairpin-if", "lan0"]
    fcnat("-i", "wan0", "--nat64", "--bpffs", bpffs, *internal, *datapath,
          "--forward", "udp:25060=[%s]:8080" % CLIENT6_ADDR,
          "tcp:25060=[%s]:8081" % CLIENT6_ADDR)
    server = topo64.client.udp(CLIENT6_ADDR, 8080)
    lst = topo64.client.tcp(CLIENT6_ADDR, 8081)
    lst.listen(1)

    peer = topo64.ext.udp(EXT4, 7100)
    peer.sendto(b"inbound-first", (GW_WAN_ADDR, 25060))
    got = recv_matching(server, b"inbound-first", 3)
    assert got is not None and got[:2] == (nat64_addr(EXT4), 7100), got
    server.sendto(b"answer", (nat64_addr(EXT4), 7100))
    assert recv_matching(peer, b"answer", 3) == (GW_WAN_ADDR, 25060)
    # Another IPv4 host, first contacted by the server: the same port.
    other = topo64.ext.udp(EXT2, 7000)
    server.sendto(b"outbound", (nat64_addr(EXT2), 7000))
    assert recv_matching(other, b"outbound", 3) == (GW_WAN_ADDR, 25060)

    c = topo64.ext.tcp(EXT3, 0)
    c.connect((GW_WAN_ADDR, 25060))
    conn, src = lst.accept()
    topo64.sockets.append(conn)
    assert src[:2] == (nat64_addr(EXT3), c.getsockname()[1])
    c.sendall(b"hello over tcp")
    assert conn.recv(100) == b"hello over tcp"
    conn.sendall(b"and back")
    assert c.recv(100) == b"and back"

    r = run_fcnat("show", "mappings", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    statics = {(m["proto"], m["internal_addr"], m["internal_port"], m["external_addr"],
                m["external_port"]) for m in json.loads(r.stdout) if m["static"]}
    assert statics == {("udp", CLIENT6_ADDR, 8080, GW_WAN_ADDR, 25060),
                       ("tcp", CLIENT6_ADDR, 8081, GW_WAN_ADDR, 25060)}, statics


def test_static_forward_to_an_ipv6_server_with_nat64_and_nat66_on_both_addresses(
        topo64, fcnat, bpffs):
    """With --nat64 and --nat66 one forward publishes the IPv6 server on
    both external addresses: IPv4 hosts through NAT64, IPv6 hosts through
    NAT66, the same port."""
    fcnat("-i", "wan0", "--nat64", "--nat66", "--hairpin-if", "lan0", "--bpffs", bpffs,
          "--forward", "udp:25090=[%s]:8080" % CLIENT6_ADDR)
    server = topo64.client.udp(CLIENT6_ADDR, 8080)
    peer4 = topo64.ext.udp(EXT4, 7100)
    peer4.sendto(b"over ipv4", (GW_WAN_ADDR, 25090))
    got = recv_matching(server, b"over ipv4", 3)
    assert got is not None and got[:2] == (nat64_addr(EXT4), 7100), got
    peer6 = topo64.ext.udp(EXT6_ADDRS[2], 7100)
    peer6.sendto(b"over ipv6", (GW_WAN6_ADDR, 25090))
    got = recv_matching(server, b"over ipv6", 3)
    assert got is not None and got[:2] == (EXT6_ADDRS[2], 7100), got


def test_xdp_nat64_ping_udp_tcp_translated_in_xdp_both_ways(topo64, fcnat, run_fcnat, bpffs):
    """XDP mode: NAT64's established packets are translated and redirected
    by the XDP programs both ways (fast_nat64_out, fast_nat64_in), not by
    TC. A flow's first packets may still go through the stack and TC (a
    neighbour not resolved yet, or being confirmed): the counts are lower
    bounds."""
    fcnat("-i", "wan0", "--nat64", "--bpffs", bpffs, *xdp_args(topo64))

    def fast():
        return (counter(run_fcnat, bpffs, "fast_nat64_out"),
                counter(run_fcnat, bpffs, "fast_nat64_in"))

    r = topo64.client.run(["ping", "-6", "-c", "6", "-i", "0.2", "-W", "2", nat64_addr(EXT2)],
                          check=False)
    assert r.returncode == 0, "ping6 failed:\n%s%s" % (r.stdout, r.stderr)
    out0, in0 = fast()
    assert out0 >= 4 and in0 >= 4, "echo in XDP: out %d, in %d" % (out0, in0)

    c = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"open")[:2]
    assert mapped[0] == GW_WAN_ADDR, mapped
    for i in range(10):
        tag = b"u%d" % i
        c.sendto(tag, (nat64_addr(EXT2), 7000))
        assert recv_matching(srv, tag, 3) is not None, "UDP %r lost out" % tag
        srv.sendto(tag + b"-back", mapped)
        got = recv_matching(c, tag + b"-back", 3)
        assert got is not None and got[:2] == (nat64_addr(EXT2), 7000), got
    out1, in1 = fast()
    assert out1 - out0 >= 8 and in1 - in0 >= 8, "UDP in XDP: out +%d, in +%d" % (
        out1 - out0, in1 - in0)

    tsrv = topo64.ext.tcp(EXT2, 8080)
    tsrv.listen(1)
    t = topo64.client.tcp(family=socket.AF_INET6)
    t.connect((nat64_addr(EXT2), 8080))
    conn, peer = tsrv.accept()
    topo64.sockets.append(conn)
    assert peer[0] == GW_WAN_ADDR and in_range(peer[1]), "server saw %r" % (peer,)
    t.sendall(b"x" * 200000)
    got = 0
    conn.settimeout(10)
    while got < 200000:
        chunk = conn.recv(65536)
        assert chunk, "connection closed early"
        got += len(chunk)
    conn.sendall(b"y" * 50000 + b"done")
    back = b""
    t.settimeout(10)
    while not back.endswith(b"done"):
        chunk = t.recv(65536)
        assert chunk, "connection closed early"
        back += chunk
    assert len(back) == 50004
    out2, in2 = fast()
    assert out2 - out1 >= 20 and in2 - in1 >= 20, "TCP in XDP: out +%d, in +%d" % (
        out2 - out1, in2 - in1)
    # Whatever XDP translated TC did not translate again.
    assert counter(run_fcnat, bpffs, "nat64_translated_out") >= out2
