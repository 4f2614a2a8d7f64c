"""Tunnels as the WAN, the kernel's own devices: WireGuard, IP-in-IP,
point-to-point GRE and SIT (6in4). The tunnel runs over the wan0 veth (the
underlay), its far end in the EXTERNAL namespace, the servers behind it:

  client --lan0-- gw [tunnel 100.64.2.1] ==over wan0 198.51.100.1 > .2== [tunnel 100.64.2.2] ext
                                                               servers 100.64.1.2-4 (lo)

(SIT carries IPv6: 2001:db8:2::1 and ::2 on the tunnel, servers
2001:db8:1::2-4, the client fd00:77::2, fcnat --nat66: a tunnel broker's
6in4 WAN.) fcnat on the gateway's tunnel in TC mode, where frames start at
the IP header (README: Link types): XDP mode refused with its message, then
ping, UDP EIM and EIF, TCP, no LAN address on the ISP's side (on the
underlay, where the tunnel's packets are plain; inside WireGuard's, on its
far end), and a detach that leaves nothing (WireGuard and GRE in the VM
smoke set). Outside it: the TC fast path redirecting into the tunnel, and a
restart keeping a mapping.

The development machine's kernel has none of these modules: the tests say
skipped there, naming the module. `make vmtest` runs them on Debian's 6.1,
whose guest loads wireguard, ipip, ip_gre and sit (WireGuard and GRE
marked `vm`; the rest with `tests/vm/vmtest --steps pytest --pytest
tests/integration/test_link_tunnels.py`)."""

import shutil
import signal
import subprocess

import pytest

from fcnat_util import FCNAT_BIN, assert_nothing_attached, recv_matching, udp_exchange
from linkcheck import WanCapture, check_wan, stat
from netns import (CLIENT6_ADDR, CLIENT_ADDR, EXT_ADDRS, GW_LAN6_ADDR, GW_WAN_ADDR,
                   wait_until)

GW_TUN = {4: "100.64.2.1", 6: "2001:db8:2::1"}
ISP_TUN = {4: "100.64.2.2", 6: "2001:db8:2::2"}
SERVERS = {4: ("100.64.1.2", "100.64.1.3", "100.64.1.4"),
           6: ("2001:db8:1::2", "2001:db8:1::3", "2001:db8:1::4")}
SERVER_NET = {4: "100.64.1.0/24", 6: "2001:db8:1::/64"}
WG_PORT = 51820

# name: (device name, kernel module, IP version carried, capture filter on
# the underlay; None: capture on the far end of the tunnel).
TUNNELS = {
    "wireguard": ("wg1", "wireguard", 4, None),
    "ipip": ("ipip1", "ipip", 4, "ip proto 4"),
    "gre": ("gre1", "ip_gre", 4, "ip proto 47"),
    "sit": ("sit1", "sit", 6, "ip proto 41"),
}


class Tunnel:
    def __init__(self, kind):
        self.kind = kind
        self.ifname, self.module, self.family, self.underlay_filter = TUNNELS[kind]
        self.gw_addr = GW_TUN[self.family]
        self.servers = SERVERS[self.family]
        self.client_addr = CLIENT_ADDR if self.family == 4 else CLIENT6_ADDR


def _wg_keys():
    priv = subprocess.run(["wg", "genkey"], capture_output=True, text=True, check=True).stdout
    pub = subprocess.run(["wg", "pubkey"], input=priv, capture_output=True, text=True,
                         check=True).stdout
    return priv, pub.strip()


def _wireguard(topo, t, tmp_path):
    """Both ends, each the other's peer for every address (allowed-ips
    0.0.0.0/0 on the far end too: a LAN source that leaked would be taken in
    and seen there, where a narrower list would drop it unseen)."""
    keys = {"gw": _wg_keys(), "ext": _wg_keys()}
    ends = ((topo.gw, "gw", "ext", WG_PORT + 1, EXT_ADDRS[0], WG_PORT),
            (topo.ext, "ext", "gw", WG_PORT, GW_WAN_ADDR, WG_PORT + 1))
    for ns, me, peer, port, peer_addr, peer_port in ends:
        key = tmp_path / ("wg-%s.key" % me)
        key.write_text(keys[me][0])
        key.chmod(0o600)
        if ns is not topo.gw:
            ns.run(_link_add(t, None, None))
        ns.run(["wg", "set", t.ifname, "private-key", str(key), "listen-port", str(port),
                "peer", keys[peer][1], "endpoint", "%s:%d" % (peer_addr, peer_port),
                "allowed-ips", "0.0.0.0/0"])


def _link_add(t, local, remote):
    """The command that makes one end (WireGuard's keys come after)."""
    cmd = ["ip", "link", "add", t.ifname, "type", t.kind]
    if t.kind == "wireguard":
        return cmd
    # A fixed remote: a point-to-point device (a GRE without one builds an
    # outer header as its link-layer header, and fcnat refuses it).
    cmd += ["local", local, "remote", remote, "ttl", "64"]
    return cmd + (["mode", "ip6ip"] if t.kind == "sit" else [])


def _pings(ns, addr):
    return ns.run(["ping", "-n", "-c", "1", "-W", "1", addr], check=False).returncode == 0


# In the VM's smoke set: a tunnel of each way fcnat tells bare IP links
# apart (an ARPHRD type of its own; GRE only with IFF_POINTOPOINT). ipip and
# SIT run with `--steps pytest` (each costs about a minute under TCG).
SMOKE = [pytest.param("wireguard", marks=pytest.mark.vm), pytest.param("gre", marks=pytest.mark.vm),
         "ipip", "sit"]


@pytest.fixture
def tunnel_wan(request, topo, tmp_path):
    t = Tunnel(request.param)
    if t.kind == "wireguard" and not shutil.which("wg"):
        pytest.skip("wg is not installed (Debian package wireguard-tools)")
    # The gateway's end first: where the kernel has no such device, skip.
    r = topo.gw.run(_link_add(t, GW_WAN_ADDR, EXT_ADDRS[0]), check=False)
    if r.returncode != 0:
        pytest.skip("this kernel has no %s (module %s): %s"
                    % (t.kind, t.module, r.stderr.strip()))
    if t.kind == "wireguard":
        _wireguard(topo, t, tmp_path)
    else:
        topo.ext.run(_link_add(t, EXT_ADDRS[0], GW_WAN_ADDR))
    nodad = ["nodad"] if t.family == 6 else []
    plen = "/64" if t.family == 6 else "/24"
    for ns, addr in ((topo.gw, GW_TUN[t.family]), (topo.ext, ISP_TUN[t.family])):
        ns.addr_add(t.ifname, addr + plen, *nodad)
        ns.link_up(t.ifname)
    for a in t.servers:
        topo.ext.addr_add("lo", a + ("/128" if t.family == 6 else "/32"), *nodad)
    # The gateway reaches the servers, and nothing else, through the tunnel.
    topo.gw.run(["ip", "route", "replace", SERVER_NET[t.family], "dev", t.ifname])
    if t.family == 6:
        topo.client.addr_add("lan0", CLIENT6_ADDR + "/64", "nodad")
        topo.client.run(["ip", "-6", "route", "add", "default", "via", GW_LAN6_ADDR])
        topo.gw.addr_add("lan0", GW_LAN6_ADDR + "/64", "nodad")
        topo.gw.sysctl("net.ipv6.conf.all.forwarding", 1)
    # Up end to end (WireGuard's handshake done) before fcnat starts.
    wait_until(lambda: _pings(topo.gw, ISP_TUN[t.family]), 20, interval=0.5,
               desc="the gateway reaching the far end of the %s tunnel" % t.kind)
    return topo, t


@pytest.mark.parametrize("tunnel_wan", SMOKE, indirect=True)
def test_tunnel_wan_xdp_refused_tc_translates_and_detaches(tunnel_wan, fcnat, run_fcnat, bpffs):
    topo, t = tunnel_wan
    nat = ["--nat66"] if t.family == 6 else []
    r = run_fcnat("-i", t.ifname, "--mode", "xdp", "--lan-if", "lan0", *nat)
    assert r.returncode == 1, repr(r)
    assert "%s: XDP mode needs an Ethernet link" % t.ifname in r.stderr, repr(r)
    assert "ready" not in r.stderr, repr(r)
    for ifname in (t.ifname, "lan0"):
        assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname=ifname)

    if t.underlay_filter:
        cap = WanCapture(topo.ext, "wan0", t.underlay_filter)
    else:
        cap = WanCapture(topo.ext, t.ifname)
    inst = fcnat("-i", t.ifname, "--bpffs", bpffs, *nat)
    assert "NAT%s on %s" % ("44" if t.family == 4 else "66", t.ifname) in inst.stderr(), \
        inst.stderr()
    check_wan(topo, t.gw_addr, t.servers, cap, client_addr=t.client_addr)
    echo = "ICMP echo request" if t.family == 4 else "ICMP6, echo request"
    assert "%s > %s: %s" % (t.gw_addr, t.servers[0], echo) in cap.text(), cap.text()
    # Read as IP, not as Ethernet frames: every packet above translated
    # (out: ping 2, UDP 3, TCP 4 or more; in: ping 2, UDP 1, TCP 3 or more).
    out, back = (stat(run_fcnat, bpffs, t.ifname, n) for n in ("translated_out", "translated_in"))
    assert out >= 9 and back >= 6, (out, back)

    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    assert_nothing_attached(topo.gw, fcnat.baseline, ifname=t.ifname, prog_ids=inst.prog_ids)


@pytest.mark.parametrize("tunnel_wan", sorted(TUNNELS), indirect=True)
def test_tunnel_wan_tc_fast_path_and_restart_keeps_mapping(tunnel_wan, fcnat, run_fcnat, bpffs):
    """TC mode with --lan-if: lan0's ingress program translates and
    redirects straight into the tunnel (an Ethernet frame to a device
    without a MAC header; IPv4 only: NAT66 has no fast path, so SIT's
    packets take the stack); then a restart keeping state, after which a
    host that never talked to the client reaches it through the old
    mapping, and --detach removes everything."""
    topo, t = tunnel_wan
    nat = ["--nat66"] if t.family == 6 else []
    cap = WanCapture(topo.ext, t.ifname)
    args = ("-i", t.ifname, "--lan-if", "lan0", "--bpffs", bpffs, "--keep-state", *nat)
    inst = fcnat(*args)
    c = topo.client.udp(t.client_addr, 25500)
    srv = topo.ext.udp(t.servers[0], 7000)
    mapped = udp_exchange(c, srv, (t.servers[0], 7000), b"first")[:2]
    assert mapped == (t.gw_addr, 25500), mapped
    if t.family == 4:
        # The first packets meet no neighbour entry yet and take the stack.
        def fast():
            udp_exchange(c, srv, (t.servers[0], 7000), b"more")
            return stat(run_fcnat, bpffs, t.ifname, "fast_redirected")
        wait_until(fast, 10, desc="a packet redirected into the tunnel by the TC fast path")
    cap.assert_no_lan_sources(c, (t.servers[0], 7000), t.gw_addr)

    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    inst2 = fcnat(*args)
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    stranger = topo.ext.udp(t.servers[2], 7200)
    stranger.sendto(b"after-restart", mapped)
    got = recv_matching(c, b"after-restart", 3)
    assert got is not None and got[:2] == (t.servers[2], 7200), got
    assert udp_exchange(c, srv, (t.servers[0], 7000), b"again")[:2] == mapped
    assert inst2.stop(signal.SIGTERM) == 0, inst2.stderr()
    r = topo.gw.run([FCNAT_BIN, "--detach", "-i", t.ifname, "--bpffs", bpffs], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    for ifname in (t.ifname, "lan0"):
        assert_nothing_attached(topo.gw, fcnat.baseline, ifname=ifname)
