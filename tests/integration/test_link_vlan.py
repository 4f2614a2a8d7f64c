"""An 802.1Q VLAN sub-interface as the WAN (ISPs tag internet on VLAN 7, 10,
35...): fcnat on wan0.7 translates UDP (EIM and EIF), ICMP echo and TCP, and
nothing with a LAN address leaves on the tagged link.

The development VM's kernel has no 802.1Q: there the tests say skipped, with
the reason. `make vmtest` runs them on Debian's kernel (marked `vm`), which
loads 8021q. With `--steps pytest` (not in the smoke set): a restart keeping
a mapping, in TC, TC fast path and XDP mode (XDP's own translation tests on
wan0.7 are in test_link_vlan_tags.py)."""

import os
import signal

import pytest

from fcnat_util import FCNAT_BIN, assert_nothing_attached, recv_matching, udp_exchange
from linkcheck import WanCapture, check_wan
from netns import CLIENT_ADDR

VLAN_IF = "wan0.7"
GW_VLAN_ADDR = "10.7.0.1"
EXT_VLAN_ADDRS = ("10.7.0.2", "10.7.0.3", "10.7.0.4")


@pytest.fixture
def vlan_wan(topo):
    """wan0.7 on both ends of the gateway's WAN link, the outside hosts on it."""
    r = topo.gw.run(["ip", "link", "add", "link", "wan0", "name", VLAN_IF, "type", "vlan",
                     "id", "7"], check=False)
    if r.returncode != 0:
        pytest.skip("this kernel has no 802.1Q VLAN support (8021q): %s" % r.stderr.strip())
    topo.ext.run(["ip", "link", "add", "link", "wan0", "name", VLAN_IF, "type", "vlan",
                  "id", "7"])
    topo.gw.addr_add(VLAN_IF, GW_VLAN_ADDR + "/24")
    topo.gw.link_up(VLAN_IF)
    for a in EXT_VLAN_ADDRS:
        topo.ext.addr_add(VLAN_IF, a + "/24")
    topo.ext.link_up(VLAN_IF)
    return topo


@pytest.mark.vm
def test_vlan_wan_translates_udp_eim_eif_icmp_tcp(vlan_wan, fcnat):
    topo = vlan_wan
    # Everything on the tagged parent link, as the ISP sees it.
    cap = WanCapture(topo.ext, "wan0", "vlan", flags=("-e",))
    inst = fcnat("-i", VLAN_IF)
    assert "NAT44 on %s" % VLAN_IF in inst.stderr()
    check_wan(topo, GW_VLAN_ADDR, EXT_VLAN_ADDRS, cap)
    assert "vlan 7" in cap.text(), cap.text()


def test_vlan_wan_restart_keeps_mapping(vlan_wan, fcnat, bpffs, datapath):
    """A mapping made on wan0.7, fcnat stopped keeping its state and started
    again: a host that never talked to the client reaches it through the old
    mapping, the client goes on out of the same port, nothing with a LAN
    address on the tagged link; then --detach removes everything."""
    topo = vlan_wan
    cap = WanCapture(topo.ext, "wan0", "vlan", flags=("-e",))
    args = ("-i", VLAN_IF, "--bpffs", bpffs, "--keep-state", *datapath)
    inst = fcnat(*args)
    c = topo.client.udp(CLIENT_ADDR, 25800)
    srv = topo.ext.udp(EXT_VLAN_ADDRS[0], 7000)
    mapped = udp_exchange(c, srv, (EXT_VLAN_ADDRS[0], 7000), b"first")
    assert mapped == (GW_VLAN_ADDR, 25800), mapped
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()

    inst2 = fcnat(*args)
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    newcomer = topo.ext.udp(EXT_VLAN_ADDRS[2], 7400)
    newcomer.sendto(b"after-restart", mapped)
    assert recv_matching(c, b"after-restart", 3) == (EXT_VLAN_ADDRS[2], 7400)
    assert udp_exchange(c, srv, (EXT_VLAN_ADDRS[0], 7000), b"again") == mapped
    cap.assert_no_lan_sources(c, (EXT_VLAN_ADDRS[1], 7000), GW_VLAN_ADDR)
    assert "vlan 7" in cap.text(), cap.text()

    assert inst2.stop(signal.SIGTERM) == 0, inst2.stderr()
    r = topo.gw.run([FCNAT_BIN, "--detach", "-i", VLAN_IF, "--bpffs", bpffs], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    for ifname in (VLAN_IF, "wan0", "lan0"):
        assert_nothing_attached(topo.gw, fcnat.baseline, ifname=ifname)


def test_interface_name_with_a_dot_gets_its_state_directory(topo, fcnat, run_fcnat, bpffs):
    """VLAN sub-interfaces are named wan0.7, and bpffs refuses names with a
    '.': the state directory escapes it (wan0:7), and show/stats find it by
    the interface's own name, or as the only instance. (A veth named like a VLAN: runs on any kernel.)"""
    topo.gw.run(["ip", "link", "del", "wan0"])
    topo.veth(topo.gw, "wan0.7", topo.ext, "wan0")
    topo.gw.addr_add("wan0.7", "198.51.100.1/24")
    topo.ext.addr_add("wan0", EXT_VLAN_ADDRS[0] + "/24")
    fcnat("-i", "wan0.7", "--bpffs", bpffs)
    assert os.path.isdir(os.path.join(bpffs, "wan0:7")), os.listdir(bpffs)
    r = run_fcnat("stats", "-i", "wan0.7", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    r = run_fcnat("stats", "--bpffs", bpffs)
    assert r.returncode == 0 and "mappings 0" in r.stdout, repr(r)
