"""XDP mode: what it adds to the behaviour suites (which run on both
datapaths through the `datapath` fixture): attach and clean detach, the fast
path really forwarding, hairpin between two internal interfaces, the
fallbacks to the stack (these four for TC mode's fast path too: tc-fast),
generic mode, start-up failures.

  CLIENT (lan0) --+
                  +-- GATEWAY (fcnat --mode xdp) -- wan0 -- EXTERNAL
  CLIENT2 (lan1) -+        lan1 192.168.78.1/24, client2 192.168.78.2
"""

import glob
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from fcnat_util import assert_nothing_attached, recv_matching, udp_exchange, xdp_args
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2 = EXT_ADDRS[0]
LAN1_GW = "192.168.78.1"
CLIENT3_ADDR = "192.168.78.2"


def xdp_on(ns, ifname):
    """'xdp' (native), 'xdpgeneric' or None, from ip link."""
    out = ns.run(["ip", "link", "show", "dev", ifname]).stdout
    m = re.search(r"\b(xdpgeneric|xdp)\b", out.split("\n")[0]) or \
        re.search(r"prog/(xdp)\b", out)
    return m.group(1) if m else None


def counters(inst):
    assert inst.stop(signal.SIGTERM, 5) == 0
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^fcnat:\s+(\w+)\s+(\d+)$", inst.stderr(), re.M)}


@pytest.fixture
def second_lan(topo):
    """CLIENT2 behind the gateway's lan1."""
    ns = topo.add_namespace("cli2")
    topo.veth(ns, "lan1", topo.gw, "lan1")
    ns.addr_add("lan1", CLIENT3_ADDR + "/24")
    ns.run(["ip", "route", "add", "default", "via", LAN1_GW])
    topo.gw.addr_add("lan1", LAN1_GW + "/24")
    ns.run(["ethtool", "-K", "lan1", "gro", "on", "tx", "off"])
    for n, i in ((ns, "lan1"), (topo.gw, "lan1")):
        wait_until(lambda: "LOWER_UP" in n.run(["ip", "-br", "link", "show", i]).stdout, 5)
    return ns


@pytest.fixture(params=["xdp", "tc-fast"])
def fast_args(request, topo):
    """The fast path of either datapath: a function of the internal
    interfaces giving the fcnat arguments (tc-fast: TC mode with --lan-if,
    the TC programs forward NAT flows themselves, doc/design/xdp.md)."""
    def args(internal=("lan0",)):
        if request.param == "xdp":
            return xdp_args(topo, internal=internal)
        return [a for i in internal for a in ("--lan-if", i)]
    return args


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_xdp_attached_while_running_and_cleanly_detached(topo, fcnat, sig):
    inst = fcnat("-i", "wan0", *xdp_args(topo))
    assert xdp_on(topo.gw, "wan0") == "xdp" and xdp_on(topo.gw, "lan0") == "xdp", \
        topo.gw.run(["ip", "link"]).stdout
    assert "xdp mode (native)" in inst.ready_line()
    assert inst.stop(sig, 5) == 0, inst.stderr()
    for ifname in ("wan0", "lan0"):
        assert xdp_on(topo.gw, ifname) is None, "XDP left on %s after %s" % (ifname, sig.name)
        assert not topo.gw.run(["tc", "filter", "show", "dev", ifname, "ingress"]).stdout.strip()
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst.prog_ids)


@pytest.mark.vm
def test_xdp_fast_path_forwards_udp_both_ways(topo, fcnat, fast_args):
    inst = fcnat("-i", "wan0", *fast_args())
    c = topo.client.udp(CLIENT_ADDR, 25000)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"out")
    assert mapped == (GW_WAN_ADDR, 25000)
    for i in range(20):
        c.sendto(b"o%d" % i, (EXT2, 7000))
        assert recv_matching(srv, b"o%d" % i, 3) == mapped
        srv.sendto(b"i%d" % i, mapped)
        assert recv_matching(c, b"i%d" % i, 3) == (EXT2, 7000)
    n = counters(inst)
    # The first packets may wait for ARP in the stack; the rest go fast.
    assert n.get("fast_redirected", 0) >= 40, n
    assert n.get("translated_in", 0) >= 20 and n.get("translated_out", 0) >= 20, n


def test_xdp_hairpin_between_two_internal_interfaces(topo, fcnat, second_lan, fast_args):
    inst = fcnat("-i", "wan0", *fast_args(("lan0", "lan1")))
    a = topo.client.udp(CLIENT_ADDR, 25010)
    b = second_lan.udp(CLIENT3_ADDR, 25020)
    srv = topo.ext.udp(EXT2, 7000)
    ma = udp_exchange(a, srv, (EXT2, 7000), b"a")
    mb = udp_exchange(b, srv, (EXT2, 7000), b"b")
    # Each reaches the other at its external endpoint and sees the other's.
    for i in range(5):
        a.sendto(b"a-to-b%d" % i, mb)
        assert recv_matching(b, b"a-to-b%d" % i, 3) == ma
        b.sendto(b"b-to-a%d" % i, ma)
        assert recv_matching(a, b"b-to-a%d" % i, 3) == mb
    n = counters(inst)
    assert n.get("hairpin_translated", 0) >= 10, n


def test_xdp_no_neighbour_falls_back_to_the_stack_then_goes_fast(topo, fcnat, fast_args):
    inst = fcnat("-i", "wan0", *fast_args())
    topo.gw.run(["ip", "neigh", "flush", "all"])
    c = topo.client.udp(CLIENT_ADDR, 25030)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"first")
    for i in range(10):
        c.sendto(b"n%d" % i, (EXT2, 7000))
        assert recv_matching(srv, b"n%d" % i, 3) == mapped
    n = counters(inst)
    assert n.get("fast_pass_no_neighbour", 0) >= 1, n
    assert n.get("fast_redirected", 0) >= 5, n


def test_xdp_oversize_df_gets_frag_needed(topo, fcnat, fast_args):
    inst = fcnat("-i", "wan0", *fast_args())
    topo.gw.run(["ip", "link", "set", "wan0", "mtu", "1280"])
    r = topo.client.run(["ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1400", EXT2],
                        check=False)
    assert "mtu = 1280" in r.stdout + r.stderr or "Frag needed" in r.stdout + r.stderr, \
        r.stdout + r.stderr
    n = counters(inst)
    assert n.get("fast_pass_mtu", 0) >= 1, n


def test_tc_fast_gso_segments_too_big_for_the_route_left_to_the_stack(topo, fcnat):
    """TC fast path: the client sends with TSO, GSO packets of 1500-byte
    segments; the gateway's route to the server takes 1400. Each segment is
    checked against the route (not the whole packet, nor only the device):
    the fast path leaves the too-big ones to the stack (fast_pass_gso_mtu),
    which answers Fragmentation Needed 1400 as Linux's forwarding does; the
    client learns it and every byte arrives, the rest through the fast
    path. (XDP never sees GSO packets.)"""
    size = 4 * 1024 * 1024
    topo.client.run(["ethtool", "-K", "lan0", "tx", "on", "tso", "on", "gso", "on"])
    assert re.search(r"^tcp-segmentation-offload: on",
                     topo.client.run(["ethtool", "-k", "lan0"]).stdout, re.M)
    topo.gw.run(["ip", "route", "replace", EXT2 + "/32", "dev", "wan0", "mtu", "lock", "1400"])
    inst = fcnat("-i", "wan0", "--lan-if", "lan0")
    srv = topo.ext.tcp(EXT2, 8093)
    srv.listen(1)
    c = topo.client.tcp()
    c.connect((EXT2, 8093))
    conn, _ = srv.accept()
    topo.sockets.append(conn)
    conn.settimeout(15)
    sender = threading.Thread(target=c.sendall, args=(b"g" * size,))
    sender.start()
    got = 0
    while got < size:
        chunk = conn.recv(65536)
        assert chunk, "connection closed early"
        got += len(chunk)
    sender.join(15)
    assert not sender.is_alive()
    assert got == size
    out = topo.client.run(["ip", "route", "get", EXT2]).stdout
    assert re.search(r"\bmtu 1400\b", out), out
    n = counters(inst)
    assert n.get("fast_pass_gso_mtu", 0) >= 1, n
    assert n.get("fast_redirected", 0) >= 1, n


def live_counters(run_fcnat, bpffs):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["counters"]


def route_gen(bpffs):
    """fc_config.route_gen, read from the pinned map with bpftool."""
    paths = glob.glob(os.path.join(bpffs, "**", "fc_config"), recursive=True)
    assert len(paths) == 1, paths
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", paths[0]],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]["formatted"]["value"]["route_gen"]


def test_fast_path_caches_the_route_and_drops_it_when_routes_change(
        topo, fcnat, run_fcnat, bpffs, fast_args):
    """A mapping's packets reuse the FIB's answer (bpf/lib/route.h), and a
    route change the daemon hears of makes the next packet ask again."""
    fcnat("-i", "wan0", "--bpffs", bpffs, *fast_args())
    c = topo.client.udp(CLIENT_ADDR, 25040)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"first")

    def round_trip(tag):
        c.sendto(b"o" + tag, (EXT2, 7000))
        assert recv_matching(srv, b"o" + tag, 3) == mapped
        srv.sendto(b"i" + tag, mapped)
        assert recv_matching(c, b"i" + tag, 3) == (EXT2, 7000)

    for i in range(3):      # each direction's hop gets kept
        round_trip(b"%d" % i)
    before = live_counters(run_fcnat, bpffs)
    t0 = time.monotonic()
    for i in range(10):
        round_trip(b"c%d" % i)
    elapsed = time.monotonic() - t0
    after = live_counters(run_fcnat, bpffs)
    assert after["fast_redirected"] - before["fast_redirected"] == 20, (before, after)
    # A hop is asked for again once a second (FC_HOP_TTL_NS) per direction,
    # and when it would expire between two reads of the counters.
    lookups = after["fast_fib_lookups"] - before["fast_fib_lookups"]
    assert lookups <= 2 * (int(elapsed) + 2), (lookups, elapsed)

    gen = route_gen(bpffs)
    topo.gw.run(["ip", "route", "add", "blackhole", EXT2 + "/32"])
    try:
        wait_until(lambda: route_gen(bpffs) != gen, 5, desc="route_gen moved on")
        c.sendto(b"after", (EXT2, 7000))
        assert recv_matching(srv, b"after", 1) is None, "sent on by a stale hop"
        n = live_counters(run_fcnat, bpffs)
        assert n["fast_pass_no_route"] >= 1, n
    finally:
        topo.gw.run(["ip", "route", "del", "blackhole", EXT2 + "/32"])
    wait_until(lambda: (c.sendto(b"back", (EXT2, 7000)),
                        recv_matching(srv, b"back", 0.2))[1] == mapped, 5,
               desc="flow back after the route is gone")


def test_xdp_generic_mode(topo, fcnat):
    inst = fcnat("-i", "wan0", *xdp_args(topo, mode="generic"))
    assert xdp_on(topo.gw, "wan0") == "xdpgeneric"
    assert "xdp mode (generic)" in inst.ready_line()
    c = topo.client.udp(CLIENT_ADDR, 25040)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"g")
    srv.sendto(b"back", mapped)
    assert recv_matching(c, b"back", 3) == (EXT2, 7000)
    assert counters(inst).get("fast_redirected", 0) >= 1
    assert xdp_on(topo.gw, "wan0") is None


def test_xdp_startup_failure_leaves_nothing(topo, run_fcnat):
    r = run_fcnat("-i", "wan0", "--mode", "xdp", "--lan-if", "lan0", "--lan-if", "nosuch0")
    assert r.returncode == 1 and "nosuch0" in r.stderr, repr(r)
    r = run_fcnat("-i", "wan0", "--mode", "xdp")
    assert r.returncode == 2 and "--lan-if" in r.stderr, repr(r)
    r = run_fcnat("-i", "wan0", "--mode", "xdp", "--lan-if", "lan0", "--xdp-mode", "fast")
    assert r.returncode == 2, repr(r)
    for ifname in ("wan0", "lan0"):
        assert xdp_on(topo.gw, ifname) is None
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_xdp_program_already_attached_is_not_replaced(topo, fcnat, run_fcnat):
    # Each `ip netns exec` has its own bpffs, so the second instance does not
    # see the first one's pinned lock: XDP itself must refuse it.
    first = fcnat("-i", "wan0", *xdp_args(topo))
    r = run_fcnat("-i", "wan0", "--mode", "xdp", "--lan-if", "lan0")
    assert r.returncode == 1 and "already has" in r.stderr, repr(r)
    assert xdp_on(topo.gw, "wan0") == "xdp", "a refused start removed the running XDP program"
    c = topo.client.udp(CLIENT_ADDR, 25050)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"still") == (GW_WAN_ADDR, 25050)
    assert first.running()
