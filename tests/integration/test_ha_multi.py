"""HA state sync with more than one peer (doc/ha.md): a master M and two
standbys S1 and S2, each syncing to the other two (--sync-peer twice).

    cli --+                       +-- ext (198.51.100.2)
          |  lansw (bridge)       |  wansw (bridge)
          +-- M  lan0 .11  wan0 .11 --+
          +-- S1 lan0 .12  wan0 .12 --+
          +-- S2 lan0 .13  wan0 .13 --+
              sync0 10.9.0.1, .2, .3 on a bridge of their own (syncsw)

No VRRP here: M is the client's gateway and the pool's next hop by address
(test_ha.py moves them with keepalived). What M makes, a UDP flow and a
NAT-PMP (published) mapping, must appear on both standbys; S2 restarted
while M keeps making mappings gets everything again, while S1 goes on
without a resync of its own. Under load: many mappings made on M at once
reach both standbys.
"""

import os
import socket
import struct
import threading
import time
import urllib.request

import pytest

from fcnat_util import FCNAT_BIN, recv_matching
from ha_pair import (LOAD_CLIENTS, LOAD_DET, LOAD_POOL, SYNC_PORT, address_gateways,
                     load_endpoint, make_load, start_synced, sync_status, two_gateways,
                     wait_sync_up)
from ha_pair import mappings as node_mappings
from netns import Topology, wait_until

POOL = "203.0.113.1"
CLIENT = "192.168.77.2"
FAR = "198.51.100.2"
STRANGER = "198.51.100.3"
NODES = {"m": ("192.168.77.11", "198.51.100.11", "10.9.0.1"),
         "s1": ("192.168.77.12", "198.51.100.12", "10.9.0.2"),
         "s2": ("192.168.77.13", "198.51.100.13", "10.9.0.3")}
METRICS = "127.0.0.1:9479"


class MultiTopology(Topology):
    cli = ext = None
    gw = None

    def build(self):
        try:
            self.cli = self.add_namespace("cli")
            self.ext = self.add_namespace("ext")
            sws = [self.add_namespace(r) for r in ("lsw", "wsw", "ssw")]
            self.gw = {n: self.add_namespace("gw" + n) for n in NODES}
            for sw in sws:
                sw.run(["ip", "link", "add", "br0", "type", "bridge"])
                sw.link_up("br0")
            self.veth(self.cli, "lan0", sws[0], "p-cli")
            self.veth(self.ext, "wan0", sws[1], "p-ext")
            ports = [["p-cli"], ["p-ext"], []]
            for n, ns in self.gw.items():
                for i, ifname in enumerate(("lan0", "wan0", "sync0")):
                    self.veth(ns, ifname, sws[i], "p-" + n)
                    ports[i].append("p-" + n)
            for sw, plist in zip(sws, ports):
                for p in plist:
                    sw.run(["ip", "link", "set", p, "master", "br0"])
            address_gateways(self, NODES, 24, CLIENT, (FAR, STRANGER), NODES["m"][0], POOL,
                             NODES["m"][1])
        except BaseException:
            self.teardown()
            raise
        return self


@pytest.fixture
def trio(tmp_path):
    yield from two_gateways(MultiTopology, "fcm", tmp_path, NODES)


def start(t, n, *extra, pool=(POOL,)):
    peers = [NODES[o][2] for o in NODES if o != n]
    return start_synced(t, n, t.gw[n], NODES[n][2], peers,
                        "--pool", *pool, "--ports", "1024-65535", *extra)


def mappings(t, n):
    return node_mappings(t.gw[n], t.bpffs[n])


def per_peer(t, n):
    """show sync's per-peer objects of node n, by the peer's node name."""
    by_addr = {"%s:%d" % (v[2], SYNC_PORT): k for k, v in NODES.items()}
    return {by_addr[p["peer"]]: p for p in sync_status(t.gw[n])["peers"]}


def wait_same(t, nodes, timeout, what):
    last = {}

    def same():
        ref = mappings(t, "m")
        for n in nodes:
            got = mappings(t, n)
            last[n] = (len(ref), len(got), sorted(ref - got)[:3], sorted(got - ref)[:3])
            if got != ref:
                return False
        return ref
    try:
        return wait_until(same, timeout, interval=0.5, desc=what)
    except AssertionError:
        raise AssertionError("%s: %s\nM: %s" % (what, last, sync_status(t.gw["m"])))


def natpmp_udp_map(t, int_port, lifetime=600):
    """A NAT-PMP UDP mapping asked of M (RFC 6886 3.3); its external port."""
    c = t.cli.udp(CLIENT, 0)
    req = struct.pack("!BBHHHI", 0, 1, 0, int_port, 0, lifetime)
    for _ in range(5):
        c.sendto(req, (NODES["m"][0], 5351))
        try:
            r = c.recv(64)
        except socket.timeout:
            continue
        ver, op, result, _, iport, eport, life = struct.unpack("!BBHIHHI", r[:16])
        assert (ver, op, result, iport) == (0, 129, 0, int_port), r
        c.close()
        return eport
    raise AssertionError("no NAT-PMP answer from M")


def test_master_syncs_two_standbys_and_a_restarted_one_resyncs(trio):
    t = trio
    start(t, "m", "--pcp-if", "lan0", "--metrics", METRICS)
    for n in ("s1", "s2"):
        start(t, n)
    wait_sync_up(t.gw.values())
    # M's status: one object per peer, both up.
    peers = per_peer(t, "m")
    assert set(peers) == {"s1", "s2"} and all(p["peer_state"] == "up" for p in peers.values()), \
        peers

    # A UDP flow through M, and a published mapping (NAT-PMP) on M.
    far = t.ext.udp(FAR, 9000)
    cli = t.cli.udp(CLIENT, 40000)
    cli.sendto(b"flow", (FAR, 9000))
    src = recv_matching(far, b"flow", 5)
    assert src and src[0] == POOL, src
    eport = natpmp_udp_map(t, 40002)
    # The external address NAT-PMP gave (M's own here), as M lists it.
    pub_addr = [m[3] for m in mappings(t, "m") if m[2] == 40002 and m[4] == eport]
    assert len(pub_addr) == 1, mappings(t, "m")
    pub_addr = pub_addr[0]
    want = {("udp", CLIENT, 40000, POOL, src[1]), ("udp", CLIENT, 40002, pub_addr, eport)}
    ref = wait_same(t, ("s1", "s2"), 15, "both standbys to hold M's mappings")
    assert want <= ref, (want, ref)

    # Per peer in the metrics, the peer a label.
    with t.gw["m"].entered():
        text = urllib.request.urlopen("http://%s/metrics" % METRICS, timeout=5).read().decode()
    lines = dict(l.rsplit(" ", 1) for l in text.splitlines() if l.startswith("fcnat_sync_"))
    for n in ("s1", "s2"):
        lbl = '{interface="wan0",peer="%s:%d"}' % (NODES[n][2], SYNC_PORT)
        assert lines["fcnat_sync_peer_up" + lbl] == "1", lines
        assert int(lines["fcnat_sync_tx_records_total" + lbl]) >= 2, lines

    # M keeps making mappings (one new client port every few ms) while S2
    # is stopped and started again.
    stop = threading.Event()
    made = []

    def stream():
        port = 20000
        while not stop.is_set() and port < 30000:
            s = t.cli.udp(CLIENT, port)
            s.sendto(b"m", (FAR, 9000))
            s.close()
            made.append(port)
            port += 1
            time.sleep(0.005)
    before = per_peer(t, "m")
    th = threading.Thread(target=stream)
    th.start()
    try:
        wait_until(lambda: len(made) >= 200, 30, desc="mappings made before the restart")
        t.fcnat["s2"].stop(timeout=10)
        n_stop = len(made)
        wait_until(lambda: len(made) >= n_stop + 200, 30, desc="mappings made while S2 is away")
        # S1 keeps up meanwhile: what M made while S2 was away is on S1.
        lag = {"ms": 0, "records": 0}

        def s1_caught_up():
            p = per_peer(t, "m")["s1"]
            lag["ms"] = max(lag["ms"], p["lag_ms"])
            lag["records"] = max(lag["records"], p["lag_records"])
            got = {m[2] for m in mappings(t, "s1") if m[1] == CLIENT}
            return set(made[:n_stop + 200]) <= got
        wait_until(s1_caught_up, 20, interval=0.3, desc="S1 following M while S2 is away")
        start(t, "s2")
        n_back = len(made)
        wait_until(lambda: len(made) >= n_back + 200, 30, desc="mappings made after the restart")
    finally:
        stop.set()
        th.join()
    ref = wait_same(t, ("s1", "s2"), 30, "S2 resynced and S1 still equal to M")
    assert {m[2] for m in ref if m[1] == CLIENT} >= set(made), "M lacks some of its own"
    assert want <= ref

    after = per_peer(t, "m")
    # S2 rejoined (a new incarnation) and got a full resync; S1 did not.
    assert after["s2"]["peer_joins"] == before["s2"]["peer_joins"] + 1, (before, after)
    assert after["s2"]["resyncs_sent"] > before["s2"]["resyncs_sent"], (before, after)
    assert after["s1"]["resyncs_sent"] == before["s1"]["resyncs_sent"], (before, after)
    assert after["s1"]["peer_joins"] == before["s1"]["peer_joins"], (before, after)
    assert after["s1"]["tx_dropped"] == 0, after["s1"]
    assert all(p["peer_state"] == "up" for p in after.values()), after
    # The node's line: both peers named, both up, their counters added
    # (read later, so at least the sum).
    top = sync_status(t.gw["m"])
    assert top["peer"] == ",".join("%s:%d" % (NODES[n][2], SYNC_PORT) for n in ("s1", "s2"))
    assert top["peer_state"] == "up", top
    assert top["tx_records"] >= sum(p["tx_records"] for p in after.values()), (top, after)
    # The text form: the node's lines, then a block per peer.
    text = t.gw["m"].run([FCNAT_BIN, "show", "sync", "-i", "wan0"]).stdout.splitlines()
    assert ["peer_state", "up"] in [l.split() for l in text], text
    for n in ("s1", "s2"):
        i = text.index("peer %s:%d" % (NODES[n][2], SYNC_PORT))
        assert text[i + 1].split() == ["peer_state", "up"], text
    print("multi-peer sync: %d mappings streamed, S2 restarted mid-stream; S1's lag at M up "
          "to %d ms, %d records while S2 was away" % (len(made), lag["ms"], lag["records"]))

    # The published mapping still answers, on M, from a host that never
    # talked to the client (EIF).
    pub = t.cli.udp(CLIENT, 40002)
    stranger = t.ext.udp(STRANGER, 9002)
    stranger.sendto(b"to the published port", (pub_addr, eport))
    data, frm = pub.recvfrom(100)
    assert (data, frm[0]) == (b"to the published port", STRANGER)


# Sync under load with two peers (test_ha.py makes the 100 000 with
# one): FCNAT_HA_MAPPINGS sets the size here too; the default keeps this
# test near a minute on a loaded 2-core machine.
N_LOAD = int(os.environ.get("FCNAT_HA_MAPPINGS") or 50000)


def test_many_mappings_on_the_master_reach_both_standbys(trio):
    """N_LOAD UDP mappings made on M as fast as a raw socket sends while M
    syncs to S1 and S2; both standbys end with M's set (`show mappings
    --json`). Prints the times and the lag M reported per peer (no timing
    is asserted)."""
    t = trio
    assert CLIENT == LOAD_CLIENTS[0] and POOL == LOAD_POOL[0]
    t.cli.addr_add("lan0", LOAD_CLIENTS[1] + "/24")
    t.ext.run(["ip", "route", "add", LOAD_POOL[1] + "/32", "via", NODES["m"][1]])
    opts = ("--max-mappings", 262144, "--max-sessions", 524288) + LOAD_DET
    for n in NODES:
        start(t, n, *opts, pool=LOAD_POOL)
    wait_sync_up(t.gw.values())
    sink = t.ext.udp(FAR, 9000)
    # The gateway's neighbour entry first: raw bursts would overflow the
    # queue of an unresolved one.
    for c in LOAD_CLIENTS:
        u = t.cli.udp(c, 0)
        u.sendto(b"arp", (FAR, 9000))
        u.close()
    wait_until(lambda: len(mappings(t, "m")) >= 2, 10, desc="the first mappings on M")
    want_int = {("udp",) + load_endpoint(i) for i in range(N_LOAD)}

    lag = {n: {"records": 0, "ms": 0, "bound_ms": 0} for n in ("s1", "s2")}
    equal_at = {}
    last = {}

    def both_equal():
        for n, p in per_peer(t, "m").items():
            for k in lag[n]:
                lag[n][k] = max(lag[n][k], p["lag_" + k])
        ref = mappings(t, "m")
        if len(ref) < N_LOAD:
            return False
        for n in ("s1", "s2"):
            got = mappings(t, n)
            last[n] = (len(ref), len(got), sorted(ref - got)[:3], sorted(got - ref)[:3])
            if got == ref:
                equal_at.setdefault(n, time.monotonic() - t0)
            else:
                equal_at.pop(n, None)
        return len(equal_at) == 2

    t0 = time.monotonic()
    make_load(t.cli, t.gw["m"], t.bpffs["m"], 0, N_LOAD, FAR, 9000)
    t_made = time.monotonic() - t0
    try:
        wait_until(both_equal, 120, interval=0.5, desc="S1's and S2's mappings equal to M's")
    except AssertionError:
        raise AssertionError("standbys not equal to M: %s\nM: %s" % (last, sync_status(t.gw["m"])))
    ref = mappings(t, "m")
    assert {m[:3] for m in ref} >= want_int, "M lacks %d" % len(want_int - {m[:3] for m in ref})
    # Every source port kept, on the client's own pool address.
    assert all(m[4] == m[2] and m[3] == LOAD_POOL[m[1] == LOAD_CLIENTS[1]] for m in ref), \
        sorted(ref)[:3]
    peers = per_peer(t, "m")
    for n in ("s1", "s2"):
        assert peers[n]["tx_records"] >= N_LOAD and peers[n]["tx_dropped"] == 0, peers[n]
        st = sync_status(t.gw[n])
        assert st["rx_install_errors"] == 0 and st["rx_records"] >= N_LOAD, st
    print("sync under load, two peers: %d mappings made on M in %.1f s; S1 equal after %.1f s, "
          "S2 after %.1f s; M's lag to S1 up to %d records, %d ms queued, bound %d ms; "
          "to S2 up to %d records, %d ms, bound %d ms; M's last scan %d ms in %d slices"
          % (N_LOAD, t_made, equal_at["s1"], equal_at["s2"],
             lag["s1"]["records"], lag["s1"]["ms"], lag["s1"]["bound_ms"],
             lag["s2"]["records"], lag["s2"]["ms"], lag["s2"]["bound_ms"],
             peers["s1"]["last_scan_ms"], peers["s1"]["last_scan_slices"]))
    sink.close()
