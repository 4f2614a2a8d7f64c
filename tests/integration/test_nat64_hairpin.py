"""Hairpinning between IPv4 LAN hosts and NAT64 mappings (RFC 4787 REQ-9,
RFC 6146 §3.8), end to end through network namespaces with the real binary.

CLIENT is dual-stack here (192.168.77.2 and fd00:77::2 on lan0, default
routes via the gateway for both families): its IPv4 sockets play the LAN's
IPv4 hosts, its IPv6 ones the IPv6-only server. Neither family has a route
to the other, nor to the external address except through the gateway: a
packet that arrives was hairpinned, translated and sent back by fcnat
(counted as hairpin_translated). Every test runs on every datapath (TC,
the TC fast path, XDP: XDP hands these packets to the TC programs).
"""

import json

import pytest

from fcnat_util import in_range, recv_matching, udp_exchange
from netns import (CLIENT6_ADDR, CLIENT_ADDR, EXT_ADDRS, GW_LAN6_ADDR, GW_WAN_ADDR, nat64_addr,
                   wait_until)

EXT2 = EXT_ADDRS[0]


def _pings(ns, addr, family):
    return ns.run(["ping", family, "-c", "1", "-W", "1", addr], check=False).returncode == 0


@pytest.fixture
def topo46(topo):
    topo.add_ipv6()
    wait_until(lambda: _pings(topo.client, GW_LAN6_ADDR, "-6"), 10, desc="client reaches gateway")
    return topo


def _start(fcnat, datapath, bpffs, *extra):
    # --hairpin-if in TC mode; the other datapaths name lan0 themselves.
    internal = [] if datapath else ["--hairpin-if", "lan0"]
    return fcnat("-i", "wan0", "--nat64", "--bpffs", bpffs, *internal, *datapath, *extra)


def _counter(run_fcnat, bpffs, name):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)["counters"][name]


def test_rfc4787_req9_ipv4_host_reaches_ipv6_server_published_by_forward(
        topo46, fcnat, datapath, bpffs, run_fcnat):
    """An IPv6-only server published with --forward (a static NAT64
    mapping) is reached by an IPv4 LAN host at the external address, UDP
    and TCP: it sees the host's own external endpoint under the prefix
    (REQ-9a), and its answers come back from the published port."""
    _start(fcnat, datapath, bpffs, "--forward", "udp:25070=[%s]:8080" % CLIENT6_ADDR,
           "tcp:25070=[%s]:8081" % CLIENT6_ADDR)
    server = topo46.client.udp(CLIENT6_ADDR, 8080)
    lst = topo46.client.tcp(CLIENT6_ADDR, 8081)
    lst.listen(1)

    host4 = topo46.client.udp(CLIENT_ADDR, 0)
    src = udp_exchange(host4, server, (GW_WAN_ADDR, 25070), b"v4-to-v6-server")
    assert src is not None, "the IPv4 host's datagram never reached the IPv6 server"
    assert src[0] == nat64_addr(GW_WAN_ADDR) and in_range(src[1]), src
    server.sendto(b"answer-to-v4", src[:2])
    assert recv_matching(host4, b"answer-to-v4", 3) == (GW_WAN_ADDR, 25070)

    c = topo46.client.tcp(CLIENT_ADDR, 0)
    c.settimeout(5)
    c.connect((GW_WAN_ADDR, 25070))
    conn, peer = lst.accept()
    topo46.sockets.append(conn)
    assert peer[0] == nat64_addr(GW_WAN_ADDR) and in_range(peer[1]), peer
    c.sendall(b"hello over tcp")
    assert conn.recv(100) == b"hello over tcp"
    conn.sendall(b"and back")
    assert c.recv(100) == b"and back"
    assert _counter(run_fcnat, bpffs, "hairpin_translated") >= 4
    assert _counter(run_fcnat, bpffs, "nat64_drop_untranslatable") == 0


def test_rfc6146_s3_8_ipv6_host_reaches_ipv4_host_mapping_through_the_prefix(
        topo46, fcnat, datapath, bpffs, run_fcnat):
    """The reverse: an IPv4 LAN host's NAT44 mapping (made by its own
    traffic to an outside server) is reached by an IPv6 host at the
    external address under the prefix; the IPv4 host sees the IPv6 host's
    NAT64 mapping as source, and its answer to that reaches the IPv6 host
    from the NAT44 mapping under the prefix."""
    _start(fcnat, datapath, bpffs)
    host4 = topo46.client.udp(CLIENT_ADDR, 0)
    srv = topo46.ext.udp(EXT2, 7000)
    mapped4 = udp_exchange(host4, srv, (EXT2, 7000), b"open-v4")
    assert mapped4 is not None and mapped4[0] == GW_WAN_ADDR, mapped4

    host6 = topo46.client.udp(CLIENT6_ADDR, 0)
    got = udp_exchange(host6, host4, (nat64_addr(GW_WAN_ADDR), mapped4[1]), b"v6-to-v4")
    assert got is not None, "the IPv6 host's datagram never reached the IPv4 host"
    assert got[0] == GW_WAN_ADDR and in_range(got[1]), got
    host4.sendto(b"answer-to-v6", got[:2])
    got = recv_matching(host6, b"answer-to-v6", 3)
    assert got is not None and got[:2] == (nat64_addr(GW_WAN_ADDR), mapped4[1]), got
    assert _counter(run_fcnat, bpffs, "hairpin_translated") >= 2
