"""Scale-out: three fcnat nodes behind ECMP, routes announced by BIRD (BGP),
deterministic NAT (RFC 7422), state sync between every two nodes (doc/ha.md).

          acc (subscribers 100.64.0.0/27 on lo, BIRD AS 64501)
     lan 10.1.1.0/30 | 10.1.2.0/30 | 10.1.3.0/30
             node A  |  node B     |  node C   (AS 64510; sync0 10.9.0.1, .2, .3
     wan 10.2.1.0/30 | 10.2.2.0/30 | 10.2.3.0/30   on a bridge of their own)
          up (far hosts 192.0.2.10, .11 on lo, BIRD AS 64500)

Each node announces the pool 203.0.113.0/30 to the upstream router and a
default route to the access router; both routers install the three as one
ECMP route (BIRD's `merge paths`) and hash flows over them by their ports,
so a flow's packets out and its replies may take different nodes. Every
node runs the same deterministic plan and syncs to the other two
(--sync-peer twice), so the node a reply reaches knows the mapping. When A
fails, both routers withdraw its path and its flows run through B and C on
the same external address and port. The BIRD configurations written here
are the ones doc/ha.md shows.
"""

import json
import os
import shutil
import signal
import threading
import time

import pytest

from fcnat_util import FCNAT_BIN
from ha_pair import (SYNC_PORT, mappings, start_synced, two_gateways, wait_carrier,
                     wait_sync_up)
from netns import Topology, wait_until

POOL_PREFIX = "203.0.113.0/30"
POOL = ("203.0.113.0", "203.0.113.1", "203.0.113.2", "203.0.113.3")
DET_PREFIX = "100.64.0.0/27"
FAR = "192.0.2.10"
STRANGER = "192.0.2.11"
# name: (router id = WAN address, LAN address, access router's, upstream's, sync)
NODES = {"a": ("10.2.1.1", "10.1.1.2", "10.1.1.1", "10.2.1.2", "10.9.0.1"),
         "b": ("10.2.2.1", "10.1.2.2", "10.1.2.1", "10.2.2.2", "10.9.0.2"),
         "c": ("10.2.3.1", "10.1.3.2", "10.1.3.1", "10.2.3.2", "10.9.0.3")}
# The fcnat options of every node (plus --sync-* and -i wan0): the pool's
# four addresses, 32 subscribers, 8064 ports each (RFC 7422: K = 8 a pool
# address, S = 64512 / 8).
FCNAT_OPTS = ("--pool", POOL_PREFIX, "--deterministic", DET_PREFIX, "--ports", "1024-65535")

BIRD_NODE_CONF = """\
router id %(wan)s;
protocol device {
    scan time 1;
}
# Announced, never installed here (no kernel protocol): the pool is
# translated at the WAN's TC hook, the default route is the kernel's own.
protocol static {
    ipv4;
    route 203.0.113.0/30 blackhole;
    route 0.0.0.0/0 blackhole;
}
template bgp peer {
    local as 64510;
    hold time 3;
    keepalive time 1;
    connect retry time 1;
}
protocol bgp upstream from peer {
    neighbor %(up)s as 64500;
    ipv4 {
        import none;
        export where net = 203.0.113.0/30;
    };
}
protocol bgp access from peer {
    neighbor %(acc)s as 64501;
    ipv4 {
        import none;
        export where net = 0.0.0.0/0;
    };
}
"""

BIRD_UP_CONF = """\
router id 10.2.1.2;
protocol device {
    scan time 1;
}
protocol kernel {
    ipv4 {
        export all;
    };
    merge paths on;
}
template bgp fcnat {
    local as 64500;
    hold time 3;
    keepalive time 1;
    connect retry time 1;
    ipv4 {
        import where net = 203.0.113.0/30;
        export none;
    };
}
protocol bgp node_a from fcnat {
    neighbor 10.2.1.1 as 64510;
}
protocol bgp node_b from fcnat {
    neighbor 10.2.2.1 as 64510;
}
protocol bgp node_c from fcnat {
    neighbor 10.2.3.1 as 64510;
}
"""

# The access router is the upstream's mirror: a default route from each.
BIRD_ACC_CONF = (BIRD_UP_CONF.replace("10.2.1.2;", "10.1.1.1;")
                 .replace("64500", "64501")
                 .replace("203.0.113.0/30", "0.0.0.0/0")
                 .replace("10.2.1.1", "10.1.1.2").replace("10.2.2.1", "10.1.2.2")
                 .replace("10.2.3.1", "10.1.3.2"))


class EcmpTopology(Topology):
    def build(self):
        self.bird = {}  # which -> (process, control socket)
        try:
            self.acc = self.add_namespace("acc")
            self.up = self.add_namespace("up")
            ssw = self.add_namespace("ssw")
            ssw.run(["ip", "link", "add", "br0", "type", "bridge"])
            ssw.link_up("br0")
            self.node = {n: self.add_namespace("n" + n) for n in NODES}
            for n, (wan, lan, acc, up, sync) in NODES.items():
                ns = self.node[n]
                self.veth(self.acc, "to-" + n, ns, "lan0")
                self.veth(self.up, "to-" + n, ns, "wan0")
                # The sync link: one bridge for the full mesh.
                self.veth(ns, "sync0", ssw, "p-" + n)
                ssw.run(["ip", "link", "set", "p-" + n, "master", "br0"])
                self.acc.addr_add("to-" + n, acc + "/30")
                self.up.addr_add("to-" + n, up + "/30")
                ns.addr_add("lan0", lan + "/30")
                ns.addr_add("wan0", wan + "/30")
                ns.addr_add("sync0", sync + "/24")
                ns.run(["ip", "route", "add", "default", "via", up])
                ns.run(["ip", "route", "add", "100.64.0.0/24", "via", acc])
                ns.sysctl("net.ipv4.ip_forward", 1)
            for r in (self.acc, self.up):
                r.sysctl("net.ipv4.ip_forward", 1)
                # Flows spread by their ports, not only by addresses.
                r.sysctl("net.ipv4.fib_multipath_hash_policy", 1)
            for a in (FAR, STRANGER):
                self.up.addr_add("lo", a + "/32")
            wait_carrier([(r, "to-" + n) for n in NODES for r in (self.acc, self.up)] +
                         [(self.node[n], "sync0") for n in NODES])
        except BaseException:
            self.teardown()
            raise
        return self


@pytest.fixture
def ecmp(tmp_path):
    if not shutil.which("bird") or not shutil.which("birdc"):
        pytest.skip("BIRD is not installed (make deps installs bird2)")
    if not shutil.which("tcpdump"):
        pytest.skip("tcpdump is not installed (make deps installs it)")
    yield from two_gateways(EcmpTopology, "fce", tmp_path, NODES)


def bird_conf(which):
    if which in NODES:
        wan, lan, acc, up, _ = NODES[which]
        return BIRD_NODE_CONF % {"wan": wan, "acc": acc, "up": up}
    return BIRD_UP_CONF if which == "up" else BIRD_ACC_CONF


def start_bird(t, which, ns):
    conf = t.tmp / ("bird-%s.conf" % which)
    conf.write_text(bird_conf(which))
    sock = str(t.tmp / ("bird-%s.ctl" % which))
    p = ns.start(["bird", "-f", "-c", str(conf), "-s", sock,
                  "-P", str(t.tmp / ("bird-%s.pid" % which))], name="bird")
    t.bird[which] = (p, sock)
    return p


def birdc(t, which, *cmd):
    ns = t.node[which] if which in NODES else getattr(t, which)
    return ns.run(["birdc", "-s", t.bird[which][1]] + list(cmd), check=False).stdout


def nexthops(ns, prefix):
    """The gateways of the kernel's route to prefix (one, or ECMP's several)."""
    out = ns.run(["ip", "-j", "route", "show", prefix]).stdout
    routes = json.loads(out or "[]")
    hops = set()
    for r in routes:
        if "gateway" in r:
            hops.add(r["gateway"])
        for h in r.get("nexthops", []):
            hops.add(h["gateway"])
    return hops


def start_fcnat(t, n):
    """fcnat on node n, every other node its sync peer (a full mesh)."""
    peers = [NODES[o][4] for o in NODES if o != n]
    return start_synced(t, n, t.node[n], NODES[n][4], peers, *FCNAT_OPTS)


def created(t, n):
    """Mappings node n's datapath made (sync installs are not counted)."""
    r = t.node[n].run([FCNAT_BIN, "stats", "-i", "wan0", "--json", "--bpffs", t.bpffs[n]])
    return json.loads(r.stdout)["counters"]["mappings_created"]


def lookup(t, internal):
    r = t.acc.run([FCNAT_BIN, "lookup", internal, *FCNAT_OPTS, "--json"])
    return json.loads(r.stdout)


def exchange(cli, far, msg, timeout):
    """A datagram out and the far host's answer back, again until both
    made it: a reply that reaches the node which has not learned the
    mapping yet (within one sync scan) is dropped there. Returns the
    external endpoint the far host saw."""
    def once():
        cli.sendto(msg, (FAR, 9000))
        far.settimeout(0.3)
        try:
            while True:
                data, src = far.recvfrom(100)
                if data == msg:
                    break
        except OSError:
            return None
        far.sendto(b"re:" + msg, src)
        cli.settimeout(0.3)
        try:
            while True:
                data, _ = cli.recvfrom(100)
                if data == b"re:" + msg:
                    return src
        except OSError:
            return None
    return wait_until(once, timeout, interval=0.05, desc="%r out and back" % msg)


def via(ns, dst, src, sport, dport):
    """The next hop ns's kernel takes for this UDP 5-tuple (the ECMP hash)."""
    out = ns.run(["ip", "-j", "route", "get", dst, "from", src, "ipproto", "udp",
                  "sport", str(sport), "dport", str(dport)]).stdout
    return json.loads(out)[0].get("gateway")


class Probe(threading.Thread):
    """A datagram each way every 10 ms over one UDP flow, until stopped:
    cli -> far (the far host's socket, the flow's remote) and far -> the
    flow's external endpoint. Each carries its send time; gap(way) is the
    longest time between two that arrived, the flow's outage that way."""

    def __init__(self, cli, far, far_addr, ext):
        super().__init__(daemon=True)
        self.cli, self.far, self.far_addr, self.ext = cli, far, far_addr, ext
        self.internal = cli.getsockname()
        self.done = threading.Event()
        self.got = {"out": [], "in": []}

    def run(self):
        try:
            self._run()
        except OSError:
            pass  # the sockets closed under it: the test ended early

    def _run(self):
        for s in (self.cli, self.far):
            s.setblocking(False)
        while not self.done.is_set():
            msg = b"probe %.6f" % time.monotonic()
            self.cli.sendto(msg, self.far_addr)
            self.far.sendto(msg, self.ext)
            for way, s in (("out", self.far), ("in", self.cli)):
                while True:
                    try:
                        data = s.recv(100)
                    except BlockingIOError:
                        break
                    if data.startswith(b"probe "):
                        self.got[way].append(float(data[6:]))
            self.done.wait(0.01)

    def stop(self):
        self.done.set()
        self.join(5)

    def gap(self, way):
        ts = sorted(self.got[way])
        return max((b - a for a, b in zip(ts, ts[1:])), default=None)


def start_probe(t, plan_of):
    """A probe (see Probe) over a flow both routers hash to A both ways:
    the source port and the far port picked by asking their kernels."""
    sub = "100.64.0.25"
    t.acc.addr_add("lo", sub + "/32")
    plan = plan_of(sub)
    for far_port in range(9100, 9200):
        for sport in range(plan["port_first"], plan["port_first"] + 10):
            if (via(t.acc, FAR, sub, sport, far_port) == NODES["a"][1] and
                    via(t.up, plan["external"], FAR, far_port, sport) == NODES["a"][0]):
                p = Probe(t.acc.udp(sub, sport), t.up.udp(FAR, far_port), (FAR, far_port),
                          (plan["external"], sport))
                p.start()
                return p
    raise AssertionError("no flow of %s hashed to A both ways" % sub)


FAILURES = {
    # A's daemons die (SIGKILL), its links stay up: its kernel closes the
    # BGP sessions, both routers withdraw A's path at once. A's BPF
    # programs stay attached (nothing reaches them once the path is gone).
    "kill9": "fcnat and BIRD killed",
    # A's LAN and WAN links pulled, its daemons keep running (and its sync
    # link, so A still hears B and C): BGP drops with the link.
    "link": "LAN and WAN links pulled",
    # A's fcnat killed, its BIRD stopped (SIGSTOP), links up: nothing
    # closes the BGP sessions, the routers withdraw A's path when the hold
    # time (3 s) runs out; A's datapath carries its flows until then.
    "hung": "fcnat killed, BIRD stopped",
}
# 24 subscribers with a UDP flow each and one with a TCP connection: 25
# flows leave all three nodes some (one gets none about once in 8000: the
# kernel's hash key is random at boot).
N_SUBS = 24
TCP_SUB = "100.64.0.30"


@pytest.mark.parametrize("failure", list(FAILURES))
def test_ecmp_node_failure_moves_flows_with_their_ports(ecmp, failure):
    """Flows of 24 subscribers spread over three nodes; A fails (see
    FAILURES); every flow, A's among them, runs on through B and C with
    the same external address and port, reached from a host that never
    talked to it; the TCP connection goes on both ways; nothing with an
    internal source reaches the upstream. Prints the failover times."""
    t = ecmp
    # Whatever reaches the upstream with a subscriber's address.
    leak = t.up.start(["tcpdump", "-l", "-n", "-i", "any", "src", "net", "100.64.0.0/24"],
                      name="tcpdump")
    leak.wait_output(lambda s: "listening on" in s, 10, desc="tcpdump listening")
    for n in NODES:
        start_fcnat(t, n)
    start_bird(t, "up", t.up)
    start_bird(t, "acc", t.acc)
    for n in NODES:
        start_bird(t, n, t.node[n])
    hops_up = {NODES[n][0] for n in NODES}
    hops_acc = {NODES[n][1] for n in NODES}
    wait_until(lambda: nexthops(t.up, POOL_PREFIX) == hops_up, 30, interval=0.2,
               desc="the upstream's ECMP route to the pool via every node")
    wait_until(lambda: nexthops(t.acc, "default") == hops_acc, 30, interval=0.2,
               desc="the access router's ECMP default route via every node")
    wait_sync_up(t.node.values())

    # A TCP connection from one more subscriber, its source port in range.
    t.acc.addr_add("lo", TCP_SUB + "/32")
    lst = t.up.tcp(FAR, 9001)
    lst.listen(1)
    tplan = lookup(t, TCP_SUB)
    tcli = t.acc.tcp(TCP_SUB, tplan["port_first"] + 1)
    tcli.settimeout(10)
    tcli.connect((FAR, 9001))
    lst.settimeout(10)
    conn, tsrc = lst.accept()
    assert tsrc == (tplan["external"], tplan["port_first"] + 1), (tsrc, tplan)
    tcli.sendall(b"t1")
    conn.settimeout(5)
    assert conn.recv(2) == b"t1"
    conn.sendall(b"t2")
    tcli.settimeout(5)
    assert tcli.recv(2) == b"t2"

    # One UDP flow a subscriber: ports spread the flows over the nodes.
    # Even subscribers use a source port inside their RFC 7422 range
    # (kept: the external port is the source port), odd ones a port outside
    # it (a port of the range picked at random by the node the first packet
    # took: only sync tells the other nodes which).
    far = t.up.udp(FAR, 9000)
    subs = ["100.64.0.%d" % i for i in range(1, N_SUBS + 1)]
    for s in subs:
        t.acc.addr_add("lo", s + "/32")
    flows = []
    for i, s in enumerate(subs):
        plan = lookup(t, s)
        sport = plan["port_first"] + 7 if i % 2 == 0 else (
            plan["port_first"] - 1 if plan["port_first"] > 1024 else plan["port_last"] + 1)
        cli = t.acc.udp(s, sport)
        ext = exchange(cli, far, b"before %d" % i, 10)
        assert ext[0] == plan["external"], (s, ext, plan)
        assert plan["port_first"] <= ext[1] <= plan["port_last"], (s, ext, plan)
        if i % 2 == 0:
            assert ext[1] == sport, (s, ext, sport)
        flows.append((s, sport, cli, ext))
    # A flow that takes A both ways, probed every 10 ms from here on: its
    # outage each way when A fails.
    a_before = created(t, "a")
    probe = start_probe(t, lambda s: lookup(t, s))
    wait_until(lambda: probe.got["out"] and probe.got["in"], 10,
               desc="the probe's datagrams through A both ways")
    assert created(t, "a") == a_before + 1, "the probe's mapping not made by A"
    # Spread: the node each flow's packets out take (the access router's
    # hash of its 5-tuple, as its kernel tells).
    by_hop = {NODES[n][1]: n for n in NODES}
    out_via = {s: by_hop[via(t.acc, FAR, s, sport, 9000)] for s, sport, _, _ in flows}
    out_via[TCP_SUB] = by_hop[via(t.acc, FAR, TCP_SUB, tplan["port_first"] + 1, 9001)]
    assert set(out_via.values()) == set(NODES), out_via
    # Every flow made a mapping on some node. Not per node: the access
    # router's route is read after the first packets, and a route that bird
    # re-installed in between (seen once under load: a node with fewer
    # mappings than flows now routed through it) sends a flow on through a
    # node that has its mapping by sync, as it should.
    made = {n: created(t, n) for n in NODES}
    assert sum(made.values()) >= len(out_via), (made, out_via)
    # Each node holds every flow's mapping (its own and the others'): the
    # UDP flows, the TCP connection's, the probe's.
    want = {("udp", s, sport) + ext for s, sport, _, ext in flows}
    want.add(("tcp", TCP_SUB, tplan["port_first"] + 1) + tsrc)
    want.add(("udp",) + probe.internal + probe.ext)
    for n in NODES:
        wait_until(lambda: want <= mappings(t.node[n], t.bpffs[n]), 10,
                   desc="node %s to hold every flow's mapping" % n)

    # A fails.
    rest = [n for n in NODES if n != "a"]
    t0 = time.monotonic()
    if failure in ("kill9", "hung"):
        os.kill(t.fcnat["a"].pid, signal.SIGKILL)
        os.kill(t.bird["a"][0].pid, signal.SIGKILL if failure == "kill9" else signal.SIGSTOP)
    else:
        for i in ("lan0", "wan0"):
            t.node["a"].run(["ip", "link", "set", i, "down"])
    wait_until(lambda: nexthops(t.up, POOL_PREFIX) == {NODES[n][0] for n in rest}, 15,
               interval=0.05, desc="A's path to the pool withdrawn")
    wait_until(lambda: nexthops(t.acc, "default") == {NODES[n][1] for n in rest}, 15,
               interval=0.05, desc="A's default route withdrawn")
    t_route = time.monotonic() - t0
    if failure == "hung":
        t.bird["a"][0].kill()

    # Every flow through B or C, same external address and port; a host
    # that never talked to a subscriber reaches it on its published
    # endpoint.
    stranger = t.up.udp(STRANGER, 9001)
    for i, (s, _, cli, ext) in enumerate(flows):
        got = exchange(cli, far, b"after %d" % i, 10)
        assert got == ext, "%s: external endpoint changed from %s to %s" % (s, ext, got)
        stranger.sendto(b"hello %d" % i, ext)
        cli.settimeout(3)
        data, frm = cli.recvfrom(100)
        assert (data, frm[0]) == (b"hello %d" % i, STRANGER), (s, data, frm)
    # The TCP connection carries on both ways (a reset would fail these).
    tcli.sendall(b"t3")
    assert conn.recv(2) == b"t3"
    conn.sendall(b"t4")
    assert tcli.recv(2) == b"t4"
    t_flows = time.monotonic() - t0
    # The probe goes on through B or C, both ways.
    n_probe = {w: len(probe.got[w]) for w in probe.got}
    wait_until(lambda: all(len(probe.got[w]) > n_probe[w] + 10 for w in probe.got), 10,
               desc="the probe's datagrams after the failover, both ways")
    probe.stop()
    assert all(max(probe.got[w]) > t0 + t_route for w in probe.got)
    # B and C carried A's flows on the mappings A had synced: neither made
    # a mapping of its own for them.
    after = {n: created(t, n) for n in rest}
    assert all(after[n] == made[n] for n in rest), (made, after)
    print("ecmp (%s, %s): routes withdrawn after %.2f s; A's probed flow's longest gap "
          "%.3f s out, %.3f s in; all %d flows (%d of them A's) on the same external "
          "endpoints through B and C, TCP kept, checked after %.2f s"
          % (failure, FAILURES[failure], t_route, probe.gap("out"), probe.gap("in"),
             len(flows) + 1, list(out_via.values()).count("a"), t_flows))
    for n in rest:
        assert "Established" in birdc(t, "up", "show", "protocols", "node_" + n)
    leak.stop(signal.SIGINT)
    assert not leak.stdout_text().strip(), "internal addresses leaked:\n" + leak.stdout_text()


def test_doc_shows_the_bird_confs_the_test_runs():
    from fcnat_util import REPO_ROOT
    with open(os.path.join(REPO_ROOT, "doc", "ha.md")) as f:
        doc = f.read()
    for which in ("a", "up", "acc"):
        want = bird_conf(which)
        indented = "".join("    " + l if l.strip() else l for l in want.splitlines(True))
        assert indented in doc, "doc/ha.md does not show test_ha_ecmp.py's BIRD conf of " + which
    # And node A's fcnat options, as start_fcnat gives them (less --bpffs).
    cmd = ("    fcnat -i wan0 %s \\\n"
           "        --sync-listen %s:%d --sync-peer %s:%d --sync-peer %s:%d \\\n"
           "        --sync-key /etc/fcnat/sync.key\n"
           % (" ".join(FCNAT_OPTS), NODES["a"][4], SYNC_PORT, NODES["b"][4], SYNC_PORT,
              NODES["c"][4], SYNC_PORT))
    assert cmd in doc, "doc/ha.md does not show test_ha_ecmp.py's fcnat options"
