"""An 802.1Q VLAN sub-interface as the WAN (ISPs tag internet on VLAN 7, 10,
35...): fcnat on wan0.7 translates UDP (EIM and EIF), ICMP echo and TCP, and
nothing with a LAN address leaves on the tagged link.

The development VM's kernel has no 802.1Q: there the tests say skipped, with
the reason. `make vmtest` runs them on Debian's kernel (marked `vm`), which
loads 8021q. TC mode only: XDP mode on a VLAN WAN is not tested yet (README:
Link types)."""

import os

import pytest

from fcnat_util import recv_matching, udp_exchange
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


def _lan_sources_seen(topo, dump):
    return [l for l in dump.stdout_text().splitlines() if "192.168.77." in l]


@pytest.mark.vm
def test_vlan_wan_translates_udp_eim_eif_icmp_tcp(vlan_wan, fcnat):
    topo = vlan_wan
    ext1, ext2, stranger_addr = EXT_VLAN_ADDRS
    # Everything on the tagged parent link, as the ISP sees it.
    dump = topo.ext.start(["tcpdump", "-n", "-l", "-e", "-i", "wan0", "vlan"], name="tcpdump")
    dump.wait_output(lambda t: "listening on" in t, 10, desc="tcpdump to start")
    inst = fcnat("-i", VLAN_IF)
    assert "NAT44 on %s" % VLAN_IF in inst.stderr()

    # UDP: one mapping for every destination (EIM) ...
    c = topo.client.udp(CLIENT_ADDR, 25100)
    srv1 = topo.ext.udp(ext1, 7000)
    srv2 = topo.ext.udp(ext2, 7000)
    mapped = udp_exchange(c, srv1, (ext1, 7000), b"to-1")
    assert mapped == (GW_VLAN_ADDR, 25100), mapped
    assert udp_exchange(c, srv2, (ext2, 7000), b"to-2") == mapped
    # ... and any outside host reaches it (EIF).
    stranger = topo.ext.udp(stranger_addr, 7100)
    stranger.sendto(b"unsolicited", mapped)
    assert recv_matching(c, b"unsolicited", 3) == (stranger_addr, 7100)

    # ICMP echo through the NAT.
    r = topo.client.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", ext1], check=False)
    assert r.returncode == 0, r.stdout + r.stderr

    # TCP: the server sees the gateway's VLAN address.
    listener = topo.ext.tcp(ext1, 7200)
    listener.listen(1)
    conn = topo.client.tcp(CLIENT_ADDR, 0)
    conn.settimeout(5)
    conn.connect((ext1, 7200))
    listener.settimeout(5)
    peer, addr = listener.accept()
    assert addr[0] == GW_VLAN_ADDR, addr
    conn.sendall(b"over-tcp")
    assert peer.recv(100) == b"over-tcp"
    peer.close()
    conn.close()

    # A last marker datagram: once tcpdump shows it, it has shown all before.
    c.sendto(b"marker", (ext2, 7000))
    dump.wait_output(lambda t: "%s.25100 > %s.7000" % (GW_VLAN_ADDR, ext2) in t and
                     t.count("%s.25100 > %s.7000" % (GW_VLAN_ADDR, ext2)) >= 2, 10,
                     stream="stdout", desc="tcpdump to show the marker")
    assert "vlan 7" in dump.stdout_text(), dump.stdout_text()
    assert not _lan_sources_seen(topo, dump), (
        "LAN addresses on the tagged link:\n%s" % "\n".join(_lan_sources_seen(topo, dump)))


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
