"""The external interface disappearing and coming back (a PPPoE or USB link,
a veth re-created) is survived: fcnat attaches again, the mappings stay."""

import pytest

from fcnat_util import recv_matching, udp_exchange
from test_cli import ARPHRD_INFINIBAND, add_tun_of_type
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS


def bpf_filters(ns, dev, hook):
    r = ns.run(["tc", "filter", "show", "dev", dev, hook], check=False)
    return r.returncode == 0 and "fc_tc_" in r.stdout


def test_interface_gone_and_back_is_survived(topo, fcnat):
    inst = fcnat("-i", "wan0")
    c = topo.client.udp(CLIENT_ADDR, 25600)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"before") == (GW_WAN_ADDR, 25600)

    # The link goes away (with its filters) and comes back under a new index.
    topo.gw.run(["ip", "link", "del", "wan0"])
    wait_until(lambda: "is gone" in inst.stderr(), 5, desc="fcnat notices wan0 is gone")
    assert inst.running()
    topo.veth(topo.gw, "wan0", topo.ext, "wan0")
    # fcnat attaches as soon as the link is back, before it has an address
    # again: the mappings of the old address must outlive that moment.
    wait_until(lambda: bpf_filters(topo.gw, "wan0", "ingress") and
               bpf_filters(topo.gw, "wan0", "egress"), 5, desc="fcnat attached again")
    topo.gw.addr_add("wan0", GW_WAN_ADDR + "/24")
    for a in EXT_ADDRS:
        topo.ext.addr_add("wan0", a + "/24")
    wait_until(lambda: "-> %s" % GW_WAN_ADDR in inst.stderr(), 5,
               desc="fcnat follows the address back")
    wait_until(lambda: "LOWER_UP" in topo.ext.run(["ip", "-br", "link", "show", "wan0"]).stdout,
               5, desc="link up")

    # The old mapping is still there: a never-contacted host reaches the client.
    stranger = topo.ext.udp(EXT4, 7100)
    stranger.sendto(b"after", (GW_WAN_ADDR, 25600))
    assert recv_matching(c, b"after", 3) == (EXT4, 7100)
    srv2 = topo.ext.udp(EXT3, 7000)
    assert udp_exchange(c, srv2, (EXT3, 7000), b"again") == (GW_WAN_ADDR, 25600)


def test_interface_back_of_unknown_type_not_attached_then_tun_attached(topo, fcnat):
    """wan0 comes back as a link whose header the datapath does not know
    (InfiniBand, through TUNSETLINK): fcnat says so once and does not
    attach. A TUN wan0 (no link-layer header, as PPP after pppd reconnects)
    is attached, and so is an Ethernet one after it."""
    inst = fcnat("-i", "wan0")
    topo.gw.run(["ip", "link", "del", "wan0"])
    wait_until(lambda: "is gone" in inst.stderr(), 5, desc="fcnat notices wan0 is gone")
    add_tun_of_type(topo.gw, "wan0", ARPHRD_INFINIBAND)
    topo.gw.link_up("wan0")
    wait_until(lambda: "wan0: link type not supported: InfiniBand" in inst.stderr(), 5,
               desc="fcnat refuses the InfiniBand wan0")
    assert inst.running()
    assert not bpf_filters(topo.gw, "wan0", "ingress")
    assert not bpf_filters(topo.gw, "wan0", "egress")
    assert inst.stderr().count("link type not supported") == 1, "said once"

    topo.gw.run(["ip", "link", "del", "wan0"])
    topo.gw.run(["ip", "tuntap", "add", "mode", "tun", "dev", "wan0"])
    topo.gw.link_up("wan0")
    wait_until(lambda: bpf_filters(topo.gw, "wan0", "ingress") and
               bpf_filters(topo.gw, "wan0", "egress"), 5, desc="fcnat attached to the TUN wan0")

    topo.gw.run(["ip", "link", "del", "wan0"])
    wait_until(lambda: inst.stderr().count("is gone") == 2, 5, desc="the TUN wan0 gone")
    topo.veth(topo.gw, "wan0", topo.ext, "wan0")
    wait_until(lambda: bpf_filters(topo.gw, "wan0", "ingress") and
               bpf_filters(topo.gw, "wan0", "egress"), 5, desc="fcnat attached again")
