"""`fcnat offload` across restarts (doc/design/offload.md, "Restart") and
`fcnat show offloads`: the maps are pinned, so kill -9 and --keep-state
leave the datapath forwarding the offloaded flows; a new start takes the
maps and programs over in place and drops what conntrack dropped
meanwhile; a plain stop removes everything. Each test pins under a
bpffs of its own (the `bpffs` fixture)."""

import json
import os
import signal

import pytest

from netns import CLIENT_ADDR, GW_WAN_ADDR, wait_until
from test_offload import (SERVER, ct_entries, establish_udp, fresh, fw,  # noqa: F401
                          udp_roundtrip)
from fcnat_util import prepare_xdp_peers


def start(fcnat, mode, bpffs, stats, *extra):
    inst = fcnat("offload", "--mode", mode, "-i", "lan0", "-i", "wan0", "--bpffs", bpffs,
                 "--stats-file", str(stats), *extra)
    wait_until(stats.exists, 5, desc="the first stats file")
    inst.stats_path = stats
    return inst


def show(run_fcnat, bpffs):
    r = run_fcnat("show", "offloads", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, r
    return json.loads(r.stdout)


def forwarded_by_show(run_fcnat, bpffs):
    return show(run_fcnat, bpffs)["counters"]["forwarded"]


@pytest.mark.parametrize("mode", ["tc", "xdp"])
@pytest.mark.parametrize("how", ["kill", "keep-state"])
def test_datapath_outlives_the_daemon_and_a_restart_takes_over(fw, fcnat, run_fcnat, bpffs,
                                                               tmp_path, mode, how):
    topo = fw
    if mode == "xdp":
        prepare_xdp_peers(topo)
    extra = ("--keep-state",) if how == "keep-state" else ()
    inst = start(fcnat, mode, bpffs, tmp_path / "a.json", *extra)
    server = topo.ext.udp(SERVER, 7020)
    client = topo.client.udp(CLIENT_ADDR, 0)
    udp_roundtrip(client, server, (SERVER, 7020), b"hello")
    establish_udp(inst, client, server, (SERVER, 7020))

    s = show(run_fcnat, bpffs)
    assert s["offloaded_flows"] == 1, s
    (flow,) = s["flows"]
    assert flow["proto"] == "udp"
    assert flow["original"]["src"].startswith(CLIENT_ADDR + ":"), flow
    assert flow["original"]["out_src"].startswith(GW_WAN_ADDR + ":"), "masqueraded"
    assert flow["original"]["dst"] == "%s:7020" % SERVER
    assert flow["original"]["packets"] >= 0 and flow["reply"]["dst"] == flow["original"]["out_src"]

    rc = inst.stop(signal.SIGTERM if how == "keep-state" else signal.SIGKILL)
    assert rc == (0 if how == "keep-state" else -signal.SIGKILL), inst.stderr()
    # No daemon: the kept programs and pinned maps forward the flow.
    fwd = forwarded_by_show(run_fcnat, bpffs)
    for i in range(10):
        udp_roundtrip(client, server, (SERVER, 7020), b"alone %d" % i)
    assert forwarded_by_show(run_fcnat, bpffs) == fwd + 20, \
        "the fast path carried the flow with no daemon running"

    # A restart takes the maps and programs over in place.
    again = start(fcnat, mode, bpffs, tmp_path / "b.json")
    assert "taking over the kept state" in again.stderr(), again.stderr()
    s = fresh(again)
    assert s["offloaded_flows"] == 1, "the flow conntrack still has, offloaded again"
    fwd = s["counters"]["forwarded"]
    assert fwd >= 20, "the counters kept across the restart"
    for i in range(5):
        udp_roundtrip(client, server, (SERVER, 7020), b"again %d" % i)
    assert fresh(again)["counters"]["forwarded"] == fwd + 10, "carried after the takeover"
    if mode == "tc":
        out = topo.gw.run(["tc", "filter", "show", "dev", "lan0", "ingress"]).stdout
        assert out.count("handle 0xf0 fo_tc_ingress") == 1, \
            "replaced in place, not a second filter: " + out

    # A plain stop removes everything: programs, pins.
    assert again.stop() == 0
    r = run_fcnat("show", "offloads", "--bpffs", bpffs)
    assert r.returncode != 0, "no state left to show"
    for dev in ("lan0", "wan0"):
        link = topo.gw.run(["ip", "link", "show", "dev", dev]).stdout
        tc = topo.gw.run(["tc", "filter", "show", "dev", dev, "ingress"]).stdout
        assert "xdp" not in link and "fo_tc_ingress" not in tc, (dev, link, tc)


def test_restart_drops_flows_conntrack_dropped_meanwhile(fw, fcnat, run_fcnat, bpffs, tmp_path):
    topo = fw
    inst = start(fcnat, "tc", bpffs, tmp_path / "a.json")
    server = topo.ext.udp(SERVER, 7021)
    client = topo.client.udp(CLIENT_ADDR, 0)
    udp_roundtrip(client, server, (SERVER, 7021), b"hello")
    establish_udp(inst, client, server, (SERVER, 7021))
    assert inst.stop(signal.SIGKILL) == -signal.SIGKILL
    # While no daemon follows conntrack, the entry goes: nobody removes
    # the flow from the datapath until the next start.
    topo.gw.run(["conntrack", "-D", "-p", "udp", "--orig-port-dst", "7021"])
    assert show(run_fcnat, bpffs)["offloaded_flows"] == 1, "still in the kept maps"
    again = start(fcnat, "tc", bpffs, tmp_path / "b.json")
    assert "conntrack no longer has removed" in again.stderr(), again.stderr()
    s = fresh(again)
    assert s["offloaded_flows"] == 0
    assert show(run_fcnat, bpffs)["offloaded_flows"] == 0, "gone from the datapath"
    stack = s["counters"]["pass_not_offloaded"]
    client.sendto(b"after", (SERVER, 7021))
    assert server.recvfrom(100)[0] == b"after"
    assert fresh(again)["counters"]["pass_not_offloaded"] > stack, "through the stack"


def test_show_offloads_text_and_without_state(fw, fcnat, run_fcnat, bpffs, tmp_path):
    r = run_fcnat("show", "offloads", "--bpffs", bpffs)
    assert r.returncode == 1 and "no fcnat state" in r.stderr, r
    start(fcnat, "tc", bpffs, tmp_path / "a.json")
    r = run_fcnat("show", "offloads", "--bpffs", bpffs)
    assert r.returncode == 0 and "0 flows offloaded" in r.stdout, r
    assert "pass_not_offloaded" in r.stdout and "forwarded_ipv6" in r.stdout, r.stdout


def offloaded_udp_flow(topo, inst, port, packets):
    """A UDP flow from the client to SERVER:port, offloaded, then `packets`
    round trips through the fast path."""
    server = topo.ext.udp(SERVER, port)
    client = topo.client.udp(CLIENT_ADDR, 0)
    udp_roundtrip(client, server, (SERVER, port), b"hello")
    establish_udp(inst, client, server, (SERVER, port))
    for i in range(packets):
        udp_roundtrip(client, server, (SERVER, port), b"r %d" % i)


def test_prometheus_counters_by_reason(fw, fcnat, bpffs, tmp_path):
    topo = fw
    port = 19000 + os.getpid() % 1000
    inst = start(fcnat, "tc", bpffs, tmp_path / "a.json", "--metrics", "127.0.0.1:%d" % port)
    offloaded_udp_flow(topo, inst, 7022, 5)
    s = fresh(inst)

    def scrape():
        r = topo.gw.run(["curl", "-sS", "--max-time", "5",
                         "http://127.0.0.1:%d/metrics" % port])
        return {l.rsplit(" ", 1)[0]: int(l.rsplit(" ", 1)[1])
                for l in r.stdout.splitlines() if l and not l.startswith("#")}
    m = scrape()
    # (The scrape's own TCP connection, local to the gateway, is an
    # established entry too: offloaded, though its packets never pass.)
    assert m["fcnat_offload_flows"] >= 1, m
    fwd = m['fcnat_offload_packets_total{reason="forwarded"}']
    assert fwd >= s["counters"]["forwarded"] >= 10, (m, s)
    assert m['fcnat_offload_packets_total{reason="pass_not_offloaded"}'] >= 1, m
    assert "fcnat_offload_forwarded_ipv6_packets_total" in m
    assert not [k for k in m if k.startswith("fcnat_mappings")], "no NAT-mode lines"


def stats_json(run_fcnat, root):
    r = run_fcnat("stats", "--json", "--bpffs", root)
    assert r.returncode == 0, r
    return json.loads(r.stdout)


def test_fcnat_stats_shows_the_offload_counters(fw, fcnat, run_fcnat, bpffs, tmp_path):
    """`fcnat stats --bpffs DIR` reads the offload pinned under DIR-offload
    (the defaults pair the same way): alone, and after the counters of a
    NAT instance running beside it on another interface."""
    topo = fw
    nat_root, off_root = os.path.join(bpffs, "fcnat"), os.path.join(bpffs, "fcnat-offload")
    r = run_fcnat("stats", "--bpffs", nat_root)
    assert r.returncode == 1 and "no fcnat state" in r.stderr and not r.stdout, r
    inst = start(fcnat, "tc", off_root, tmp_path / "a.json")
    offloaded_udp_flow(topo, inst, 7023, 10)

    st = stats_json(run_fcnat, nat_root)
    assert list(st) == ["offload"], "no NAT instance: the offload's alone"
    off = st["offload"]
    assert off["offloaded_flows"] == 1, off
    assert off["counters"]["forwarded"] >= 20, off
    assert off["counters"]["pass_not_offloaded"] >= 1, "the first exchange took the stack"
    assert off["counters"] == show(run_fcnat, off_root)["counters"], "as show offloads reads"
    assert {"pass_fin_rst", "pass_no_neigh", "pass_mtu", "forwarded_ipv6"} <= set(off["counters"])
    r = run_fcnat("stats", "--bpffs", nat_root)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[:2] == ["offload:", "  %-28s 1" % "offloaded_flows"], r.stdout
    text = dict(l.split() for l in lines[1:])
    assert int(text["forwarded"]) == off["counters"]["forwarded"], r.stdout
    assert text["pass_fin_rst"] == "0", r.stdout

    # A NAT instance beside it (on an interface of its own): its output
    # first, then the offload's.
    # (A veth pair inside the gateway: this kernel may lack dummy links;
    # the namespace goes with the topology, and the pair with it.)
    topo.gw.run(["ip", "link", "add", "nat0", "type", "veth", "peer", "name", "nat0p"])
    topo.gw.addr_add("nat0", "10.77.0.1/24")
    topo.gw.link_up("nat0")
    topo.gw.link_up("nat0p")
    fcnat("-i", "nat0", "--bpffs", nat_root)
    st = stats_json(run_fcnat, nat_root)
    assert "counters" in st and "mappings" in st, st
    assert st["offload"]["counters"]["forwarded"] >= off["counters"]["forwarded"], st
    r = run_fcnat("stats", "--bpffs", nat_root)
    assert r.returncode == 0, r
    assert r.stdout.startswith("attach ") and "\noffload:\n" in r.stdout, r.stdout
    assert r.stdout.index("counters:") < r.stdout.index("offload:"), r.stdout


@pytest.mark.parametrize("mode", ["tc", "xdp"])
def test_detach_removes_a_kept_instance(fw, fcnat, run_fcnat, bpffs, tmp_path, mode):
    topo = fw
    if mode == "xdp":
        prepare_xdp_peers(topo)
    # Someone else's clsact on wan0 stays; the one on lan0 is the offload's.
    topo.gw.run(["tc", "qdisc", "add", "dev", "wan0", "clsact"])
    inst = start(fcnat, mode, bpffs, tmp_path / "a.json", "--keep-state")
    assert inst.stop() == 0
    assert show(run_fcnat, bpffs)["offloaded_flows"] == 0, "kept"
    r = run_fcnat("offload", "--detach", "--bpffs", bpffs)
    assert r.returncode == 0, r
    r = run_fcnat("show", "offloads", "--bpffs", bpffs)
    assert r.returncode != 0, "no state left"
    for dev in ("lan0", "wan0"):
        link = topo.gw.run(["ip", "link", "show", "dev", dev]).stdout
        tc = topo.gw.run(["tc", "filter", "show", "dev", dev, "ingress"]).stdout
        assert "xdp" not in link and "fo_tc_ingress" not in tc, (dev, link, tc)
    qdiscs = topo.gw.run(["tc", "qdisc", "show"]).stdout
    clsact = [l.split(" dev ")[1].split()[0] for l in qdiscs.splitlines() if "clsact" in l]
    assert clsact == ["wan0"], "the offload's removed, the other kept: %s" % clsact
