"""PPPoE, the most common home WAN: a real pppoe-server in the EXTERNAL
namespace (the ISP's access concentrator) on the wan0 veth, pppd with its
kernel-mode PPPoE plugin in the gateway making ppp0, and fcnat on ppp0 in
TC mode (frames there start at the IP header):

  client --lan0-- gw [ppp0 100.64.9.2] =PPPoE session on wan0= [pppoe-server 100.64.9.1] ext
                                                                 servers 100.64.1.2-4 (lo)

Ping, UDP (EIM and EIF), TCP, and never a LAN address inside the PPPoE
session frames on the wire. Needs pppd, pppoe-server and the kernel's PPPoE
(the development machine's kernel has none: skipped there, with the reason);
`make vmtest` runs it on Debian's 6.1, which loads pppoe (marked `vm`)."""

import os
import shutil

import pytest

from linkcheck import WanCapture, check_wan
from netns import wait_until

ISP_PPP_ADDR = "100.64.9.1"
GW_PPP_ADDR = "100.64.9.2"
SERVERS = ("100.64.1.2", "100.64.1.3", "100.64.1.4")


def _ppp_addr(ns):
    r = ns.run(["ip", "-4", "-br", "addr", "show", "dev", "ppp0"], check=False)
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
                            "plugin", "pppoe.so", "nic-wan0", "ifname", "ppp0",
                            "user", "fcnat-test", "noipdefault", "nodefaultroute",
                            "mtu", "1492", "mru", "1492", "lcp-echo-interval", "0", "noccp",
                            "persist", "maxfail", "0", "holdoff", "1"], name="pppd")
    try:
        wait_until(lambda: _ppp_addr(topo.gw), 60, interval=0.5, desc="ppp0 up with its address")
    except AssertionError as e:
        log = tmp_path / "server-pppd.log"
        raise AssertionError("%s\n---- pppoe-server ----\n%s%s\n---- its pppd ----\n%s\n"
                             "---- pppd ----\n%s%s" % (
                                 e, server.stdout_text(), server.stderr_text(),
                                 log.read_text() if log.exists() else "(no log)",
                                 client.stdout_text(), client.stderr_text()[-3000:])) from None
    for a in SERVERS:
        topo.ext.addr_add("lo", a + "/32")
    topo.gw.run(["ip", "route", "replace", "100.64.1.0/24", "dev", "ppp0"])
    return topo


@pytest.mark.vm
def test_pppoe_wan_translates_ping_udp_eim_eif_tcp(pppoe_wan, fcnat):
    topo = pppoe_wan
    # The wire between the gateway and the access concentrator: PPPoE
    # session frames, which tcpdump decodes down to the IP inside.
    cap = WanCapture(topo.ext, "wan0", "pppoes")
    inst = fcnat("-i", "ppp0")
    assert "NAT44 on ppp0" in inst.stderr(), inst.stderr()
    check_wan(topo, GW_PPP_ADDR, SERVERS, cap)
