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

import os
import signal
import socket

import pytest

from fcnat_util import FCNAT_BIN, assert_nothing_attached, recv_matching, udp_exchange
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

L3_IF = "l3wan"
ISP_IF = "isp0"
GW_L3_ADDR = "100.64.0.1"
ISP_L3_ADDR = "100.64.0.2"
SERVERS = ("100.64.1.2", "100.64.1.3", "100.64.1.4")
CARRIER_PORT = 4789


def _link_up(ns, ifname):
    r = ns.run(["ip", "-br", "link", "show", ifname], check=False)
    return r.returncode == 0 and ("UP" in r.stdout or "UNKNOWN" in r.stdout)


@pytest.fixture
def l3_wan(topo):
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("no /dev/net/tun on this machine")
    tun = "TUN:%s/24,tun-name=%s,tun-type=tun,iff-no-pi,iff-up"
    isp_addr, gw_addr = EXT_ADDRS[0], GW_WAN_ADDR
    topo.ext.start(["socat", "-d", tun % (ISP_L3_ADDR, ISP_IF),
                    "UDP-DATAGRAM:%s:%d,bind=%s:%d" % (gw_addr, CARRIER_PORT, isp_addr,
                                                       CARRIER_PORT)], name="socat-isp")
    topo.gw.start(["socat", "-d", tun % (GW_L3_ADDR, L3_IF),
                   "UDP-DATAGRAM:%s:%d,bind=%s:%d" % (isp_addr, CARRIER_PORT, gw_addr,
                                                      CARRIER_PORT)], name="socat-gw")
    wait_until(lambda: _link_up(topo.ext, ISP_IF) and _link_up(topo.gw, L3_IF), 10,
               desc="both TUN ends up")
    # The servers sit behind the ISP's end; the gateway reaches them, and
    # nothing else, through the L3 link.
    for a in SERVERS:
        topo.ext.addr_add("lo", a + "/32")
    topo.gw.run(["ip", "route", "add", "100.64.1.0/24", "dev", L3_IF])
    return topo


def _lan_sources(dump):
    return [l for l in dump.stdout_text().splitlines() if "192.168.77." in l]


def _isp_capture(topo):
    dump = topo.ext.start(["tcpdump", "-n", "-l", "-i", ISP_IF], name="tcpdump-isp")
    dump.wait_output(lambda t: "listening on" in t, 10, desc="tcpdump to start")
    return dump


def _marker_seen(topo, dump, sock, dst):
    """A last datagram: once tcpdump shows it, it has shown all before."""
    sock.sendto(b"marker", dst)
    line = "%s.%d > %s.%d" % (GW_L3_ADDR, sock.getsockname()[1], dst[0], dst[1])
    dump.wait_output(lambda t: line in t, 10, stream="stdout", desc="tcpdump to show the marker")


def _stat(run_fcnat, bpffs, name):
    r = run_fcnat("stats", "-i", L3_IF, "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == name:
            return int(f[1])
    return 0


def test_l3_wan_translates_ping_udp_eim_eif_tcp(l3_wan, fcnat, run_fcnat, bpffs):
    topo = l3_wan
    srv1_addr, srv2_addr, stranger_addr = SERVERS
    dump = _isp_capture(topo)
    inst = fcnat("-i", L3_IF, "--bpffs", bpffs)
    assert "NAT44 on %s" % L3_IF in inst.stderr(), inst.stderr()

    # ICMP echo through the NAT.
    r = topo.client.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", srv1_addr], check=False)
    assert r.returncode == 0, r.stdout + r.stderr

    # UDP: one mapping for every destination (EIM) ...
    c = topo.client.udp(CLIENT_ADDR, 25100)
    srv1 = topo.ext.udp(srv1_addr, 7000)
    srv2 = topo.ext.udp(srv2_addr, 7000)
    mapped = udp_exchange(c, srv1, (srv1_addr, 7000), b"to-1")
    assert mapped == (GW_L3_ADDR, 25100), mapped
    assert udp_exchange(c, srv2, (srv2_addr, 7000), b"to-2") == mapped
    # ... and any outside host reaches it (EIF).
    stranger = topo.ext.udp(stranger_addr, 7100)
    stranger.sendto(b"unsolicited", mapped)
    assert recv_matching(c, b"unsolicited", 3) == (stranger_addr, 7100)

    # TCP: the server sees the gateway's L3 address; data both ways.
    listener = topo.ext.tcp(srv1_addr, 7200)
    listener.listen(1)
    conn = topo.client.tcp(CLIENT_ADDR, 0)
    conn.settimeout(5)
    conn.connect((srv1_addr, 7200))
    listener.settimeout(5)
    peer, addr = listener.accept()
    assert addr[0] == GW_L3_ADDR, addr
    conn.sendall(b"over-tcp")
    assert peer.recv(100) == b"over-tcp"
    peer.sendall(b"back")
    assert conn.recv(100) == b"back"
    peer.close()
    conn.close()

    _marker_seen(topo, dump, c, (srv2_addr, 7000))
    assert "%s > %s: ICMP echo request" % (GW_L3_ADDR, srv1_addr) in dump.stdout_text(), \
        dump.stdout_text()
    assert not _lan_sources(dump), "LAN addresses on the ISP side:\n%s" % "\n".join(
        _lan_sources(dump))
    # Read as IP, not as Ethernet frames: every packet above translated.
    assert _stat(run_fcnat, bpffs, "translated_out") >= 8
    assert _stat(run_fcnat, bpffs, "translated_in") >= 6


def test_l3_wan_unsolicited_dropped_and_private_source_never_leaves(l3_wan, fcnat):
    """A packet fcnat cannot translate (an unknown protocol) from a LAN host
    is dropped on its way out, not sent with its private source."""
    topo = l3_wan
    dump = _isp_capture(topo)
    fcnat("-i", L3_IF)
    raw = topo.client.socket(type=socket.SOCK_RAW, proto=253)
    raw.sendto(b"experimental", (SERVERS[0], 0))
    c = topo.client.udp(CLIENT_ADDR, 25300)
    srv = topo.ext.udp(SERVERS[1], 7000)
    assert udp_exchange(c, srv, (SERVERS[1], 7000), b"after") == (GW_L3_ADDR, 25300)
    _marker_seen(topo, dump, c, (SERVERS[1], 7000))
    assert not _lan_sources(dump), "\n".join(_lan_sources(dump))
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
    r = run_fcnat("-i", L3_IF, "--mode", "xdp", "--internal", "lan0")
    assert r.returncode == 1, repr(r)
    assert "%s: XDP mode needs an Ethernet link" % L3_IF in r.stderr, repr(r)
    assert "ready" not in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname=L3_IF)
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname="lan0")
