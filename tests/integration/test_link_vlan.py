"""An 802.1Q VLAN sub-interface as the WAN (ISPs tag internet on VLAN 7, 10,
35...): fcnat on wan0.7 translates UDP (EIM and EIF), ICMP echo and TCP, and
nothing with a LAN address leaves on the tagged link.

The development VM's kernel has no 802.1Q: there the tests say skipped, with
the reason. `make vmtest` runs them on Debian's kernel (marked `vm`), which
loads 8021q. TC mode only: XDP mode on a VLAN WAN is not tested yet (README:
Link types)."""

import os

import pytest

from linkcheck import WanCapture, check_wan

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
