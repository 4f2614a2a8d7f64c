"""`fcnat offload -i wan0 --vlan 7` (doc/design/offload.md, "VLAN tags
without a VLAN device"): the gateway's wan0 is, to its kernel, a plain
Ethernet link, and on the wire its frames carry 802.1Q tag 7 (or QinQ:
802.1ad 100 around 802.1Q 7). This machine's kernel has no 8021q, so the
ISP's side is test_link_vlan_tags.py's tagging relay: frames from the
gateway with exactly the expected tags lose them on their way into the
ISP's stack, and every frame from it gets them on its way to the gateway.

Under test_offload.py's nftables ruleset (masquerade out of wan0): the
first packets of a UDP flow go through the stack (the offload's TC
programs take the tags off what arrives and put them on what leaves), the
flow is offloaded once conntrack has it ASSURED, and then the fast path
carries it both ways, tagged on the wire, untagged on the LAN; every frame
the gateway sent carried the tags and no LAN address. Frames of VLAN 8 and
untagged ones to the same flow are not the fast path's. TC and XDP.
"""

import os
import socket

import pytest

from fcnat_util import prepare_xdp_peers
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until
from test_link_vlan_tags import DOT1Q_7, QINQ_100_7, _check_wire, _mac, _sent_lines, \
    send_frame, tagged_isp, udp_frame
from test_offload import RULESET, establish_udp, fresh, udp_roundtrip

SERVER = EXT_ADDRS[0]


def _start(topo, fcnat, tmp_path, mode, vlan):
    topo.gw.run(["nft", "-f", "-"], input=RULESET)
    if mode == "xdp":
        prepare_xdp_peers(topo)
    stats = tmp_path / "offload-stats.json"
    inst = fcnat("offload", "--mode", mode, "-i", "lan0", "-i", "wan0", "--vlan", vlan,
                 "--stats-file", str(stats))
    wait_until(stats.exists, 5, desc="the first stats file")
    inst.stats_path = stats
    return inst


@pytest.mark.parametrize("mode", ["tc", "xdp"])
@pytest.mark.parametrize("spec,vlan", [(DOT1Q_7, "7"), (QINQ_100_7, "100.7")],
                         ids=["dot1q", "qinq"])
def test_offload_on_a_tagged_link_without_a_vlan_device(topo, fcnat, tmp_path, mode, spec,
                                                        vlan):
    relay = tagged_isp(topo, spec)
    inst = _start(topo, fcnat, tmp_path, mode, vlan)
    since = len(_sent_lines(relay))
    server = topo.ext.udp(SERVER, 7000)
    client = topo.client.udp(CLIENT_ADDR, 0)
    # Through the stack first: tags off, masquerade, tags on.
    peer = udp_roundtrip(client, server, (SERVER, 7000), b"hello")
    assert peer[0] == GW_WAN_ADDR, "masqueraded to the gateway's WAN address"
    establish_udp(inst, client, server, (SERVER, 7000))
    before = fresh(inst)["counters"]

    n = 40
    for i in range(n):
        udp_roundtrip(client, server, (SERVER, 7000), os.urandom(64 + i * 11))
    after = fresh(inst)["counters"]
    assert after["forwarded"] == before["forwarded"] + 2 * n, \
        "the fast path carried exactly the flow's packets, both ways"
    assert after["pass_not_offloaded"] == before["pass_not_offloaded"], \
        "none of them went through the stack"
    _check_wire(relay, spec, "%s>%s" % (GW_WAN_ADDR, SERVER), since)

    # The same flow's reply on VLAN 8, and untagged: not the fast path's.
    gw_mac, isp_mac = _mac(topo.gw, "wan0"), _mac(topo.ext, "wan0")

    def inject(tags, payload):
        send_frame(topo.ext, "wan0", udp_frame(gw_mac, isp_mac, tags, SERVER, 7000,
                                               GW_WAN_ADDR, peer[1], payload))

    inject([(0x8100, 8)], b"vlan-8")
    inject([], b"untagged")
    # The untagged one is the stack's (wan0 is an untagged link to it: its
    # conntrack may well pass it on); VLAN 8's reaches nobody.
    got = []
    client.settimeout(0.5)
    try:
        while True:
            got.append(client.recvfrom(100)[0])
    except socket.timeout:
        pass
    client.settimeout(None)
    assert b"vlan-8" not in got, got
    udp_roundtrip(client, server, (SERVER, 7000), b"marker")
    last = fresh(inst)["counters"]
    assert last["forwarded"] == after["forwarded"] + 2, \
        "neither was the fast path's: only the marker's two packets"
    assert last["pass_not_ip"] >= after["pass_not_ip"] + 2, \
        "the other VLAN's frame and the untagged one passed as not the offload's"


@pytest.mark.parametrize("mode", ["tc", "xdp"])
def test_offload_vlan_exit_removes_what_it_added(topo, fcnat, tmp_path, mode):
    """The egress filter (and behind XDP the TC ingress one) on the tagged
    link, and the clsact qdisc fcnat made for them, go at exit."""
    inst = _start(topo, fcnat, tmp_path, mode, "7")
    out = topo.gw.run(["tc", "filter", "show", "dev", "wan0", "egress"]).stdout
    assert "fo_tc_egress" in out, out
    out = topo.gw.run(["tc", "filter", "show", "dev", "wan0", "ingress"]).stdout
    assert ("fo_tc_vlan_in" if mode == "xdp" else "fo_tc_ingress") in out, out
    assert inst.stop() == 0
    for dev in ("lan0", "wan0"):
        for hook in ("ingress", "egress"):
            out = topo.gw.run(["tc", "filter", "show", "dev", dev, hook]).stdout
            assert "fo_" not in out, (dev, hook, out)
        assert "xdp" not in topo.gw.run(["ip", "link", "show", "dev", dev]).stdout, dev
    assert "clsact" not in topo.gw.run(["tc", "qdisc", "show"]).stdout


def test_offload_vlan_option_checked(run_fcnat):
    r = run_fcnat("offload", "--vlan", "7", "-i", "wan0")
    assert r.returncode == 2 and "after the -i it tags" in r.stderr, r
    r = run_fcnat("offload", "-i", "wan0", "--vlan", "4095")
    assert r.returncode == 2 and "invalid VLAN" in r.stderr, r
