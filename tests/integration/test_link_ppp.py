"""PPPoE, the most common home WAN: a real pppoe-server in the EXTERNAL
namespace (the ISP's access concentrator) on the wan0 veth, pppd with its
kernel-mode PPPoE plugin in the gateway making pppoe-wan (OpenWrt's name
for it, the one einat's recipe gives), and fcnat on it in TC mode (frames
there start at the IP header):

  client --lan0-- gw [pppoe-wan 100.64.9.2] =PPPoE session on wan0= [pppoe-server 100.64.9.1] ext
                                                                 servers 100.64.1.2-4 (lo)

Ping, UDP (EIM and EIF), TCP, and never a LAN address inside the PPPoE
session frames on the wire (in the VM's smoke set). With `--steps pytest`:
einat's OpenWrt invocation verbatim (`fcnat -i pppoe-wan --hairpin-if lo
br-lan`, lan0 then a port of the bridge br-lan), hairpinning on br-lan, a
clean stop, and a restart keeping a mapping. Needs pppd, pppoe-server and the kernel's PPPoE
(the development machine's kernel has none: skipped there, with the reason);
`make vmtest` runs it on Debian's 6.1, which loads pppoe (marked `vm`)."""

import os
import shutil
import signal

import pytest

from fcnat_util import FCNAT_BIN, assert_nothing_attached, recv_matching, udp_exchange
from linkcheck import WanCapture, check_wan
from netns import CLIENT2_ADDR, CLIENT_ADDR, GW_LAN_ADDR, wait_until

ISP_PPP_ADDR = "100.64.9.1"
GW_PPP_ADDR = "100.64.9.2"
SERVERS = ("100.64.1.2", "100.64.1.3", "100.64.1.4")
PPP_IF = "pppoe-wan"


def _ppp_addr(ns):
    r = ns.run(["ip", "-4", "-br", "addr", "show", "dev", PPP_IF], check=False)
    return r.returncode == 0 and GW_PPP_ADDR in r.stdout


@pytest.fixture
def pppoe_wan(topo, tmp_path):
    for tool in ("pppd", "pppoe-server", "pppoe"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            pytest.skip("%s is not installed (Debian packages ppp, pppoe)" % tool)
    if topo.gw.run(["test", "-e", "/proc/net/pppoe"], check=False).returncode != 0:
        pytest.skip("this kernel has no PPPoE (pppoe module)")
    opts = tmp_path / "pppoe-server-options"
    opts.write_text("noauth\nlcp-echo-interval 0\nnoipdefault\nnodefaultroute\n"
                    "mtu 1492\nmru 1492\ndebug\nlogfile %s\n" % (tmp_path / "server-pppd.log"))
    # The server runs pppd on a pty per session (user-mode PPPoE, the
    # ppp_async line discipline): the VM guest has no devpts mounted, so
    # this process's mount namespace (its own, from ip netns exec) gets one.
    server = topo.ext.start(
        ["sh", "-c", "mkdir -p /dev/pts; mountpoint -q /dev/pts || "
         "mount -t devpts devpts /dev/pts; exec pppoe-server -F -I wan0 -L %s -R %s -N 4 -O %s"
         % (ISP_PPP_ADDR, GW_PPP_ADDR, opts)], name="pppoe-server")
    # The gateway: pppd with its kernel-mode PPPoE plugin, as OpenWrt's
    # pppoe-wan, logging to stderr.
    client = topo.gw.start(["pppd", "debug", "logfd", "2", "nodetach", "noauth",
                            "plugin", "pppoe.so", "nic-wan0", "ifname", PPP_IF,
                            "user", "fcnat-test", "noipdefault", "nodefaultroute",
                            "mtu", "1492", "mru", "1492", "lcp-echo-interval", "0", "noccp",
                            "persist", "maxfail", "0", "holdoff", "1"], name="pppd")
    try:
        wait_until(lambda: _ppp_addr(topo.gw), 60, interval=0.5, desc="%s up with its address" % PPP_IF)
    except AssertionError as e:
        log = tmp_path / "server-pppd.log"
        raise AssertionError("%s\n---- pppoe-server ----\n%s%s\n---- its pppd ----\n%s\n"
                             "---- pppd ----\n%s%s" % (
                                 e, server.stdout_text(), server.stderr_text(),
                                 log.read_text() if log.exists() else "(no log)",
                                 client.stdout_text(), client.stderr_text()[-3000:])) from None
    for a in SERVERS:
        topo.ext.addr_add("lo", a + "/32")
    topo.gw.run(["ip", "route", "replace", "100.64.1.0/24", "dev", PPP_IF])
    return topo


@pytest.mark.vm
def test_pppoe_wan_translates_ping_udp_eim_eif_tcp(pppoe_wan, fcnat):
    topo = pppoe_wan
    # The wire between the gateway and the access concentrator: PPPoE
    # session frames, which tcpdump decodes down to the IP inside.
    cap = WanCapture(topo.ext, "wan0", "pppoes")
    inst = fcnat("-i", PPP_IF)
    assert "NAT44 on %s" % PPP_IF in inst.stderr(), inst.stderr()
    check_wan(topo, GW_PPP_ADDR, SERVERS, cap)


def _bridge_lan(gw):
    """OpenWrt's LAN: the gateway's address on br-lan, lan0 a port of it."""
    r = gw.run(["ip", "link", "add", "br-lan", "type", "bridge"], check=False)
    if r.returncode != 0:
        pytest.skip("this kernel has no bridge (module bridge): %s" % r.stderr.strip())
    gw.run(["ip", "addr", "flush", "dev", "lan0"])
    gw.run(["ip", "link", "set", "lan0", "master", "br-lan"])
    gw.addr_add("br-lan", GW_LAN_ADDR + "/24")
    gw.link_up("br-lan")


# Not in the smoke set (each PPPoE session costs about a minute under TCG):
# `tests/vm/vmtest --steps pytest --pytest tests/integration/test_link_ppp.py`.
def test_pppoe_wan_einat_openwrt_invocation_and_restart_keeps_mapping(pppoe_wan, fcnat, bpffs):
    topo = pppoe_wan
    _bridge_lan(topo.gw)
    cap = WanCapture(topo.ext, "wan0", "pppoes")
    # einat's OpenWrt recipe, word for word.
    inst = fcnat("-i", PPP_IF, "--hairpin-if", "lo", "br-lan")
    assert "NAT44 on %s" % PPP_IF in inst.stderr(), inst.stderr()
    c, mapped = check_wan(topo, GW_PPP_ADDR, SERVERS, cap)
    # Hairpin on br-lan: the second LAN address reaches the first's mapping
    # and sees the external address as the sender.
    c2 = topo.client.udp(CLIENT2_ADDR, 25600)
    c2.sendto(b"hairpin", mapped)
    got = recv_matching(c, b"hairpin", 3)
    assert got is not None and got[:2] == (GW_PPP_ADDR, 25600), got
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    for ifname in (PPP_IF, "br-lan", "lo"):
        assert_nothing_attached(topo.gw, fcnat.baseline, ifname=ifname, prog_ids=inst.prog_ids)

    # The same, keeping state across a restart.
    args = ("-i", PPP_IF, "--hairpin-if", "lo", "br-lan", "--bpffs", bpffs, "--keep-state")
    inst = fcnat(*args)
    c = topo.client.udp(CLIENT_ADDR, 25700)
    srv = topo.ext.udp(SERVERS[0], 7300)
    mapped = udp_exchange(c, srv, (SERVERS[0], 7300), b"first")[:2]
    assert mapped == (GW_PPP_ADDR, 25700), mapped
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    inst2 = fcnat(*args)
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    # A host that never talked to the client reaches it through the old
    # mapping; the client goes on out of the same port.
    newcomer = topo.ext.udp(SERVERS[2], 7400)
    newcomer.sendto(b"after-restart", mapped)
    got = recv_matching(c, b"after-restart", 3)
    assert got is not None and got[:2] == (SERVERS[2], 7400), got
    assert udp_exchange(c, srv, (SERVERS[0], 7300), b"again")[:2] == mapped
    cap.assert_no_lan_sources(c, (SERVERS[1], 7000), GW_PPP_ADDR)
    assert inst2.stop(signal.SIGTERM) == 0, inst2.stderr()
    r = topo.gw.run([FCNAT_BIN, "--detach", "-i", PPP_IF, "--bpffs", bpffs], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    for ifname in (PPP_IF, "br-lan", "lo"):
        assert_nothing_attached(topo.gw, fcnat.baseline, ifname=ifname)
