"""A WAN without an Ethernet header (PPP and PPPoE's pppX, TUN, WireGuard,
tunnels): frames start at the IP header. This kernel has TUN but no PPP, so
the L3 WAN is a TUN pair joined over UDP by socat (`TUN,iff-no-pi`), the
ISP's end in the EXTERNAL namespace, carried by the wan0 veth:

  client --lan0-- gw [l3wan 100.64.0.1] ~~udp over wan0~~ [isp0 100.64.0.2] ext
                                                           servers 100.64.1.2-4 (lo)

fcnat runs on l3wan in TC mode: ping, UDP (EIM and EIF, RFC 5780 style:
a second server and a stranger reach the mapping), TCP, never a LAN address
on the ISP's side, clean detach, restart keeping the mappings. XDP mode on
such a link is refused (README: Link types)."""

import ipaddress
import os
import signal
import socket

import pytest

from fcnat_util import FCNAT_BIN, assert_nothing_attached, recv_matching, udp_exchange
from linkcheck import WanCapture, check_wan, stat
from netns import (CLIENT6_ADDR, CLIENT_ADDR, CLIENT2_ADDR, EXT_ADDRS, GW_LAN6_ADDR,
                   GW_WAN_ADDR, wait_until)

L3_IF = "l3wan"
ISP_IF = "isp0"
GW_L3_ADDR = "100.64.0.1"
ISP_L3_ADDR = "100.64.0.2"
SERVERS = ("100.64.1.2", "100.64.1.3", "100.64.1.4")
CARRIER_PORT = 4789


def _link_up(ns, ifname):
    r = ns.run(["ip", "-br", "link", "show", ifname], check=False)
    return r.returncode == 0 and ("UP" in r.stdout or "UNKNOWN" in r.stdout)


TUN_ADDR = "TUN:%s/24,tun-name=%s,tun-type=tun,iff-no-pi,iff-up"


def _gw_end(topo):
    """The gateway's end of the link (pppd's ppp0), and its route."""
    proc = topo.gw.start(["socat", "-d", TUN_ADDR % (GW_L3_ADDR, L3_IF),
                          "UDP-DATAGRAM:%s:%d,bind=%s:%d" % (EXT_ADDRS[0], CARRIER_PORT,
                                                             GW_WAN_ADDR, CARRIER_PORT)],
                         name="socat-gw")
    wait_until(lambda: _link_up(topo.gw, L3_IF), 10, desc="the gateway's TUN end up")
    topo.gw.run(["ip", "route", "replace", "100.64.1.0/24", "dev", L3_IF])
    return proc


@pytest.fixture
def l3_wan(topo):
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("no /dev/net/tun on this machine")
    topo.ext.start(["socat", "-d", TUN_ADDR % (ISP_L3_ADDR, ISP_IF),
                    "UDP-DATAGRAM:%s:%d,bind=%s:%d" % (GW_WAN_ADDR, CARRIER_PORT, EXT_ADDRS[0],
                                                       CARRIER_PORT)], name="socat-isp")
    wait_until(lambda: _link_up(topo.ext, ISP_IF), 10, desc="the ISP's TUN end up")
    topo.l3_gw_end = _gw_end(topo)
    # The servers sit behind the ISP's end; the gateway reaches them, and
    # nothing else, through the L3 link.
    for a in SERVERS:
        topo.ext.addr_add("lo", a + "/32")
    return topo


def _isp_capture(topo):
    return WanCapture(topo.ext, ISP_IF)


def _stat(run_fcnat, bpffs, name):
    return stat(run_fcnat, bpffs, L3_IF, name)


@pytest.mark.vm
def test_l3_wan_translates_ping_udp_eim_eif_tcp(l3_wan, fcnat, run_fcnat, bpffs):
    topo = l3_wan
    cap = _isp_capture(topo)
    inst = fcnat("-i", L3_IF, "--bpffs", bpffs)
    assert "NAT44 on %s" % L3_IF in inst.stderr(), inst.stderr()
    check_wan(topo, GW_L3_ADDR, SERVERS, cap)
    assert "%s > %s: ICMP echo request" % (GW_L3_ADDR, SERVERS[0]) in cap.text(), cap.text()
    # Read as IP, not as Ethernet frames: every packet above translated.
    assert _stat(run_fcnat, bpffs, "translated_out") >= 8
    assert _stat(run_fcnat, bpffs, "translated_in") >= 6


def test_l3_wan_unsolicited_dropped_and_private_source_never_leaves(l3_wan, fcnat):
    """A packet fcnat cannot translate (an unknown protocol) from a LAN host
    is dropped on its way out, not sent with its private source."""
    topo = l3_wan
    cap = _isp_capture(topo)
    fcnat("-i", L3_IF)
    raw = topo.client.socket(type=socket.SOCK_RAW, proto=253)
    raw.sendto(b"experimental", (SERVERS[0], 0))
    c = topo.client.udp(CLIENT_ADDR, 25300)
    srv = topo.ext.udp(SERVERS[1], 7000)
    assert udp_exchange(c, srv, (SERVERS[1], 7000), b"after") == (GW_L3_ADDR, 25300)
    cap.assert_no_lan_sources(c, (SERVERS[1], 7000), GW_L3_ADDR)
    # Unsolicited to a port of the range: dropped, the client hears nothing.
    s = topo.ext.udp(SERVERS[2], 7300)
    s.sendto(b"nobody", (GW_L3_ADDR, 25999))
    assert recv_matching(c, b"nobody", 1) is None


def test_l3_wan_clean_detach(l3_wan, fcnat):
    topo = l3_wan
    inst = fcnat("-i", L3_IF)
    c = topo.client.udp(CLIENT_ADDR, 25400)
    srv = topo.ext.udp(SERVERS[0], 7000)
    assert udp_exchange(c, srv, (SERVERS[0], 7000), b"x") == (GW_L3_ADDR, 25400)
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    assert_nothing_attached(topo.gw, fcnat.baseline, ifname=L3_IF, prog_ids=inst.prog_ids)


def test_l3_wan_restart_keeps_mapping(l3_wan, fcnat, bpffs):
    topo = l3_wan
    args = ("-i", L3_IF, "--bpffs", bpffs, "--keep-state")
    inst = fcnat(*args)
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(SERVERS[0], 7000)
    mapped = udp_exchange(c, srv, (SERVERS[0], 7000), b"first")
    assert mapped[0] == GW_L3_ADDR, mapped
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    inst2 = fcnat(*args)
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    # A host that never talked to the client reaches it through the old
    # mapping; the client goes out on the same port.
    s = topo.ext.udp(SERVERS[2], 7200)
    s.sendto(b"after-restart", mapped)
    assert recv_matching(c, b"after-restart", 3) == (SERVERS[2], 7200)
    assert udp_exchange(c, srv, (SERVERS[0], 7000), b"again") == mapped
    # Kept once more, then removed with --detach: everything goes.
    assert inst2.stop(signal.SIGTERM) == 0, inst2.stderr()
    r = topo.gw.run([FCNAT_BIN, "--detach", "-i", L3_IF, "--bpffs", bpffs], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert_nothing_attached(topo.gw, fcnat.baseline, ifname=L3_IF)


def test_xdp_mode_on_l3_link_refused(l3_wan, run_fcnat):
    topo = l3_wan
    r = run_fcnat("-i", L3_IF, "--mode", "xdp", "--lan-if", "lan0")
    assert r.returncode == 1, repr(r)
    assert "%s: XDP mode needs an Ethernet link" % L3_IF in r.stderr, repr(r)
    assert "ready" not in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname=L3_IF)
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname="lan0")


def test_l3_wan_tc_fast_path_and_hairpin(l3_wan, fcnat, run_fcnat, bpffs):
    """TC mode with --lan-if: the LAN's ingress program translates and
    redirects straight out of the L3 WAN (an Ethernet frame to a device
    without a MAC header); hairpinning between two LAN hosts on the L3
    WAN's external address."""
    topo = l3_wan
    cap = _isp_capture(topo)
    fcnat("-i", L3_IF, "--lan-if", "lan0", "--bpffs", bpffs)
    c = topo.client.udp(CLIENT_ADDR, 25500)
    srv = topo.ext.udp(SERVERS[0], 7000)
    for i in range(5):
        assert udp_exchange(c, srv, (SERVERS[0], 7000), b"fast-%d" % i) == (GW_L3_ADDR, 25500)
    # The first packets meet no neighbour entry yet and take the stack.
    wait_until(lambda: _stat(run_fcnat, bpffs, "fast_redirected") > 0 or
               udp_exchange(c, srv, (SERVERS[0], 7000), b"more") is None, 5,
               desc="a packet redirected by the TC fast path")
    # Hairpin: the second LAN address reaches the first's mapping.
    c2 = topo.client.udp(CLIENT2_ADDR, 25600)
    c2.sendto(b"hairpin", (GW_L3_ADDR, 25500))
    assert recv_matching(c, b"hairpin", 3) == (GW_L3_ADDR, 25600)
    cap.assert_no_lan_sources(c, (SERVERS[0], 7000), GW_L3_ADDR)


def test_l3_wan_comes_back_with_a_new_index(l3_wan, fcnat):
    """pppd reconnecting: ppp0 goes away and a new one (a new index) comes.
    fcnat attaches to it, tells the datapath its layout again, and the
    mappings made before still hold."""
    topo = l3_wan
    inst = fcnat("-i", L3_IF)
    c = topo.client.udp(CLIENT_ADDR, 25700)
    srv = topo.ext.udp(SERVERS[0], 7000)
    mapped = udp_exchange(c, srv, (SERVERS[0], 7000), b"before")
    assert mapped == (GW_L3_ADDR, 25700), mapped
    topo.l3_gw_end.stop()
    wait_until(lambda: "is gone" in inst.stderr(), 10, desc="fcnat notices l3wan is gone")
    cap = _isp_capture(topo)
    topo.l3_gw_end = _gw_end(topo)
    wait_until(lambda: "%s is back" % L3_IF in inst.stderr(), 10, desc="fcnat attaches again")
    stranger = topo.ext.udp(SERVERS[2], 7100)
    wait_until(lambda: udp_exchange(c, srv, (SERVERS[0], 7000), b"after") == mapped, 10,
               desc="the old mapping out of the new link")
    stranger.sendto(b"unsolicited", mapped)
    assert recv_matching(c, b"unsolicited", 3) == (SERVERS[2], 7100)
    cap.assert_no_lan_sources(c, (SERVERS[0], 7000), GW_L3_ADDR)


NSP64 = "64:ff9b:1::"


def _nsp64(v4):
    return str(ipaddress.IPv6Address(NSP64 + v4))


def test_l3_wan_nat64(l3_wan, fcnat):
    """NAT64 out of and into a link without an Ethernet header: the IPv4
    answer arriving bare becomes IPv6 there (no Ethernet type written into
    it) and reaches the IPv6 client. The servers are in 100.64/10, which
    the Well-Known Prefix may not carry (RFC 6052 §3.1): a network-specific
    prefix (under RFC 8215's local-use 64:ff9b:1::/48) does."""
    topo = l3_wan
    topo.client.addr_add("lan0", CLIENT6_ADDR + "/64", "nodad")
    topo.client.run(["ip", "-6", "route", "add", "default", "via", GW_LAN6_ADDR])
    topo.gw.addr_add("lan0", GW_LAN6_ADDR + "/64", "nodad")
    topo.gw.sysctl("net.ipv6.conf.all.forwarding", 1)
    cap = _isp_capture(topo)
    fcnat("-i", L3_IF, "--nat64", NSP64 + "/96", "--hairpin-if", "lan0")
    c = topo.client.udp(CLIENT6_ADDR, 25800)
    srv = topo.ext.udp(SERVERS[0], 7000)
    c.sendto(b"six-to-four", (_nsp64(SERVERS[0]), 7000))
    srv.settimeout(5)
    data, peer = srv.recvfrom(100)
    assert data == b"six-to-four" and peer[0] == GW_L3_ADDR, (data, peer)
    srv.sendto(b"four-to-six", peer)
    got = recv_matching(c, b"four-to-six", 3)
    assert got is not None and got[:2] == (_nsp64(SERVERS[0]), 7000), got
    r = topo.client.run(["ping", "-6", "-n", "-c", "2", "-i", "0.2", "-W", "2",
                         _nsp64(SERVERS[1])], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    # A last IPv6 datagram: once tcpdump shows it (as IPv4), all before are.
    c.sendto(b"marker", (_nsp64(SERVERS[0]), 7000))
    line = "%s.%d > %s.7000" % (GW_L3_ADDR, peer[1], SERVERS[0])
    cap.dump.wait_output(lambda t: t.count(line) >= 2, 10, stream="stdout",
                         desc="tcpdump to show the marker")
    assert "fd00:77" not in cap.text() and not cap.lan_lines(), cap.text()


def test_l3_wan_refusal_answered_with_icmp_to_the_lan_host(l3_wan, fcnat):
    """A flow over a per-subscriber limit, refused on the L3 WAN's egress:
    the ICMP admin-prohibited fcnat builds there (at offset 0, then given an
    Ethernet header for the redirect to lan0) reaches the LAN host, and the
    refused flow never leaves."""
    from test_cgnat import IP_RECVERR, icmp_error
    topo = l3_wan
    cap = _isp_capture(topo)
    fcnat("-i", L3_IF, "--max-mappings-per-subscriber", "udp=1")
    srv = topo.ext.udp(SERVERS[0], 7000)
    first = topo.client.udp(CLIENT_ADDR, 25900)
    assert udp_exchange(first, srv, (SERVERS[0], 7000), b"one")[0] == GW_L3_ADDR
    over = topo.client.udp(CLIENT_ADDR, 25901)
    over.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    over.sendto(b"over", (SERVERS[0], 7000))
    assert icmp_error(over) == (3, 13), "no ICMP admin-prohibited for the refused flow"
    assert recv_matching(srv, b"over", 0.5) is None, "the refused flow got through"
    cap.assert_no_lan_sources(first, (SERVERS[0], 7000), GW_L3_ADDR)
