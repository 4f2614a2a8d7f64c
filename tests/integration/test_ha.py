"""HA state sync and failover (doc/design/ha.md).

Two gateways A and B, each with a LAN, a WAN and a sync link:

    cli --+                      +-- ext (198.51.100.2, .3)
          |  lansw (bridge)      |  wansw (bridge)
          +-- A lan0 .11  wan0 .11 --+
          +-- B lan0 .12  wan0 .12 --+
              A sync0 10.9.0.1 <-> B sync0 10.9.0.2

The NAT's external address is a pool address, 203.0.113.1, that the
outside routes to the WAN's virtual address 198.51.100.1; keepalived
(VRRP) moves the virtual addresses of both sides (192.168.77.1 on the LAN,
198.51.100.1 on the WAN) to whichever gateway is master. Both run fcnat with
the same options, syncing to each other. The keepalived.conf written here is
the one doc/design/ha.md shows.
"""

import json
import os
import shutil
import signal
import socket
import time

import pytest

from fcnat_util import FCNAT_BIN, recv_matching
from ha_pair import (LOAD_CLIENTS, LOAD_DET, LOAD_POOL, SYNC_PORT, address_gateways,
                     load_endpoint, make_load, start_synced, sync_status, two_gateways,
                     wait_sync_up)
from ha_pair import mappings as node_mappings
from netns import Topology, wait_until

VIP_LAN = "192.168.77.1"
VIP_WAN = "198.51.100.1"
POOL = "203.0.113.1"
CLIENT = "192.168.77.2"
FAR = "198.51.100.2"
STRANGER = "198.51.100.3"
NODES = {"a": ("192.168.77.11", "198.51.100.11", "10.9.0.1", 150),
         "b": ("192.168.77.12", "198.51.100.12", "10.9.0.2", 100)}

KEEPALIVED_CONF = """\
global_defs {
    router_id fcnat-%(name)s
    vrrp_version 3
    vrrp_garp_master_delay 0
    vrrp_garp_master_repeat 2
}
vrrp_sync_group FCNAT {
    group {
        LAN
        WAN
    }
}
vrrp_instance LAN {
    state BACKUP
    interface lan0
    virtual_router_id 77
    priority %(prio)d
    advert_int 0.2
    nopreempt
    virtual_ipaddress {
        192.168.77.1/24 dev lan0
    }
}
vrrp_instance WAN {
    state BACKUP
    interface wan0
    virtual_router_id 51
    priority %(prio)d
    advert_int 0.2
    nopreempt
    virtual_ipaddress {
        198.51.100.1/24 dev wan0
    }
}
"""


class HaTopology(Topology):
    cli = ext = None
    gw = None

    def build(self):
        try:
            self.cli = self.add_namespace("cli")
            self.ext = self.add_namespace("ext")
            lansw = self.add_namespace("lsw")
            wansw = self.add_namespace("wsw")
            self.gw = {n: self.add_namespace("gw" + n) for n in NODES}
            for sw in (lansw, wansw):
                sw.run(["ip", "link", "add", "br0", "type", "bridge"])
                sw.link_up("br0")
            self.veth(self.cli, "lan0", lansw, "p-cli")
            self.veth(self.ext, "wan0", wansw, "p-ext")
            for n, ns in self.gw.items():
                self.veth(ns, "lan0", lansw, "p-" + n)
                self.veth(ns, "wan0", wansw, "p-" + n)
            for sw, ports in ((lansw, ["p-cli", "p-a", "p-b"]), (wansw, ["p-ext", "p-a", "p-b"])):
                for p in ports:
                    sw.run(["ip", "link", "set", p, "master", "br0"])
            self.veth(self.gw["a"], "sync0", self.gw["b"], "sync0")
            address_gateways(self, NODES, 30, CLIENT, (FAR, STRANGER), VIP_LAN, POOL, VIP_WAN)
        except BaseException:
            self.teardown()
            raise
        return self


@pytest.fixture
def ha(tmp_path):
    yield from two_gateways(HaTopology, "fcn", tmp_path, NODES)


def start_fcnat(t, n, *extra, pool=(POOL,)):
    peer = NODES["b" if n == "a" else "a"][2]
    return start_synced(t, n, t.gw[n], NODES[n][2], peer,
                        "--pool", *pool, "--ports", "1024-65535", *extra)


def start_keepalived(t, n):
    if not shutil.which("keepalived"):
        pytest.skip("keepalived is not installed (make deps installs it)")
    conf = t.tmp / ("keepalived-%s.conf" % n)
    conf.write_text(KEEPALIVED_CONF % {"name": n, "prio": NODES[n][3]})
    run = t.tmp / ("ka-%s" % n)
    run.mkdir(exist_ok=True)
    return t.gw[n].start(["keepalived", "--dont-fork", "--log-console", "--vrrp",
                          "--use-file", str(conf), "--pid", str(run / "k.pid"),
                          "--vrrp_pid", str(run / "v.pid")], name="keepalived")


def has_vips(ns):
    addrs = ns.run(["ip", "-4", "-br", "addr"]).stdout.split()
    return VIP_LAN + "/24" in addrs and VIP_WAN + "/24" in addrs


def show_sync(t, n):
    return sync_status(t.gw[n])


def mappings(t, n):
    return node_mappings(t.gw[n], t.bpffs[n])


def wait_same_mappings(t, timeout, what):
    last = {}

    def same():
        a, b = mappings(t, "a"), mappings(t, "b")
        last.update(a=len(a), b=len(b), only_a=sorted(a - b)[:3], only_b=sorted(b - a)[:3])
        return a == b
    try:
        wait_until(same, timeout, interval=0.5, desc=what)
    except AssertionError:
        raise AssertionError("%s: %s\nA: %s\nB: %s" % (what, last, show_sync(t, "a"),
                                                        show_sync(t, "b")))


def wait_peer_up(t):
    wait_sync_up(t.gw.values())


@pytest.mark.parametrize("failure", ["kill9", "link"])
def test_failover_keeps_udp_tcp_and_published_mapping(ha, failure):
    """kill9: A's fcnat and keepalived die (SIGKILL), then its links go down,
    as a dead box's do; link: A's LAN and WAN links are pulled, its daemons
    keep running (its keepalived goes to FAULT)."""
    t = ha
    if not shutil.which("tcpdump"):
        pytest.skip("tcpdump is not installed (make deps installs it)")
    # Whatever leaves the gateways with an internal source address.
    leak = t.ext.start(["tcpdump", "-l", "-n", "-i", "wan0", "src", "net", "192.168.77.0/24"],
                       name="tcpdump")
    leak.wait_output(lambda s: "listening on" in s, 10, desc="tcpdump listening")
    # A first, then B: both start as backups with nopreempt, so whichever
    # times out first stays master; B started first (or run late on a busy
    # machine) would keep the addresses. B joins as a node that comes back
    # does (doc/design/ha.md).
    ka = {"a": start_keepalived(t, "a")}
    wait_until(lambda: has_vips(t.gw["a"]), 10, desc="A master (virtual addresses on A)")
    ka["b"] = start_keepalived(t, "b")
    wait_until(lambda: has_vips(t.gw["a"]) and not has_vips(t.gw["b"]), 10,
               desc="A master, B backup (virtual addresses on A only)")
    for n in NODES:
        start_fcnat(t, n)
    wait_peer_up(t)

    # A UDP flow and a TCP connection through A.
    far_udp = t.ext.udp(FAR, 9000)
    cli_udp = t.cli.udp(CLIENT, 40000)
    cli_udp.sendto(b"before", (FAR, 9000))
    src = recv_matching(far_udp, b"before", 5)
    assert src and src[0] == POOL, "UDP not translated to the pool address: %s" % (src,)
    lst = t.ext.tcp(FAR, 9001)
    lst.listen(1)
    cli_tcp = t.cli.tcp(CLIENT, 40001)
    cli_tcp.connect((FAR, 9001))
    conn, tsrc = lst.accept()
    assert tsrc[0] == POOL, tsrc
    cli_tcp.sendall(b"t1")
    assert conn.recv(2) == b"t1"

    # B learns both mappings (same external ports) and the TCP session.
    want = {("udp", CLIENT, 40000, POOL, src[1]), ("tcp", CLIENT, 40001, POOL, tsrc[1])}
    wait_until(lambda: want <= mappings(t, "b"), 5, desc="B to hold A's mappings")
    r = t.gw["b"].run([FCNAT_BIN, "show", "sessions", "-i", "wan0", "--json", "--bpffs",
                       t.bpffs["b"]])
    assert any(s["proto"] == "tcp" and s["external_port"] == tsrc[1]
               for s in json.loads(r.stdout)), r.stdout

    # A dies: kill -9 of its daemons, then its links go (a dead box answers
    # nothing; its BPF datapath would otherwise keep forwarding).
    t0 = time.monotonic()
    if failure == "kill9":
        for p in (t.fcnat["a"], ka["a"]):
            os.kill(p.pid, signal.SIGKILL)
    for i in ("lan0", "wan0", "sync0") if failure == "kill9" else ("lan0", "wan0"):
        t.gw["a"].run(["ip", "link", "set", i, "down"])
    wait_until(lambda: has_vips(t.gw["b"]), 10, desc="B to take the virtual addresses")
    t_vrrp = time.monotonic() - t0

    # The same UDP flow, same external address and port, through B.
    def udp_through():
        cli_udp.sendto(b"after", (FAR, 9000))
        return recv_matching(far_udp, b"after", 0.3)
    got = wait_until(udp_through, 10, interval=0.05, desc="the UDP flow through B")
    t_udp = time.monotonic() - t0
    assert got == (POOL, src[1]), "external endpoint changed on failover: %s -> %s" % (src, got)

    # A host that never talked to the client reaches it on its published
    # (external) port: endpoint-independent filtering on B too.
    stranger = t.ext.udp(STRANGER, 9002)
    stranger.sendto(b"hello from outside", (POOL, src[1]))
    cli_udp.settimeout(3)
    data, frm = cli_udp.recvfrom(100)
    assert (data, frm[0]) == (b"hello from outside", STRANGER)

    # The TCP connection carries on both ways, no reset.
    cli_tcp.sendall(b"t2")
    conn.settimeout(5)
    assert conn.recv(2) == b"t2"
    conn.sendall(b"t3")
    cli_tcp.settimeout(5)
    assert cli_tcp.recv(2) == b"t3"
    print("failover (%s): VRRP moved the addresses in %.2f s, UDP flowed again after %.2f s"
          % (failure, t_vrrp, t_udp))
    for s in (cli_tcp, conn, lst):
        s.close()
    leak.stop(signal.SIGINT)
    assert not leak.stdout_text().strip(), "internal addresses leaked:\n" + leak.stdout_text()


def capture_sync_datagram(ns, ifname, port, timeout=5):
    """The UDP payload of one datagram to `port` seen on ifname (AF_PACKET)."""
    with ns.entered():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    try:
        s.bind((ifname, 0))
        s.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pkt = s.recv(2048)
            ihl = (pkt[0] & 15) * 4
            if pkt[9] == 17 and int.from_bytes(pkt[ihl + 2:ihl + 4], "big") == port:
                return pkt[ihl + 8:]
    finally:
        s.close()
    raise AssertionError("no sync datagram seen on %s" % ifname)


def test_unauthenticated_and_replayed_datagrams_are_rejected(ha):
    t = ha
    start_fcnat(t, "a")
    start_fcnat(t, "b", "--metrics", "127.0.0.1:9479")
    wait_peer_up(t)
    b_sync = NODES["b"][2]
    dgram = capture_sync_datagram(t.gw["b"], "sync0", SYNC_PORT)
    assert dgram[:4] == b"FCSY"
    before = show_sync(t, "b")
    sender = t.gw["b"].udp(b_sync, 0)

    # The same datagram again: authentic, but seen already.
    sender.sendto(dgram, (b_sync, SYNC_PORT))
    wait_until(lambda: show_sync(t, "b")["rx_replayed"] > before["rx_replayed"], 5,
               desc="the replay counted")
    # Altered (one bit of the sequence number), or signed with another key.
    forged = bytearray(dgram)
    forged[31] ^= 1
    sender.sendto(bytes(forged), (b_sync, SYNC_PORT))
    wait_until(lambda: show_sync(t, "b")["rx_auth_failed"] == before["rx_auth_failed"] + 1, 5,
               desc="the forgery counted")
    after = show_sync(t, "b")
    assert after["peer_state"] == "up"
    # The metrics say the same.
    import urllib.request
    with t.gw["b"].entered():
        text = urllib.request.urlopen("http://127.0.0.1:9479/metrics", timeout=5).read().decode()
    lines = dict(l.rsplit(" ", 1) for l in text.splitlines() if l.startswith("fcnat_sync_"))
    lbl = '{interface="wan0",peer="%s:%d"}' % (NODES["a"][2], SYNC_PORT)
    assert lines['fcnat_sync_peer_up' + lbl] == "1", lines
    assert int(lines['fcnat_sync_rx_replayed_total' + lbl]) >= 1, lines
    assert int(lines['fcnat_sync_rx_auth_failed_total' + lbl]) >= 1, lines
    # fcnat stats has it too.
    r = t.gw["b"].run([FCNAT_BIN, "stats", "--json", "--bpffs", t.bpffs["b"]])
    assert json.loads(r.stdout)["sync"]["rx_auth_failed"] >= 1, r.stdout
    # The text form, the only instance found without -i.
    text = t.gw["b"].run([FCNAT_BIN, "show", "sync"]).stdout
    assert any(l.split() == ["peer_state", "up"] for l in text.splitlines()), text
    assert after["rx_lost"] == before["rx_lost"], "a rejected datagram moved the window"


# The figure. FCNAT_HA_MAPPINGS=10000 for a quick run; the times
# measured are in doc/ha.md.
N_MAPPINGS = int(os.environ.get("FCNAT_HA_MAPPINGS") or 100000)
CLIENT2 = LOAD_CLIENTS[1]


def test_sync_of_many_mappings_and_resync_after_peer_restart(ha):
    """100 000 UDP mappings made on A while it syncs; B holds the same set;
    B restarted while A makes 2000 more resyncs to the same set. Prints the
    times and the scan's cost (no timing is asserted)."""
    t = ha
    # No VRRP here: A is the LAN's and the WAN's gateway by address.
    t.gw["a"].addr_add("lan0", VIP_LAN + "/24")
    t.gw["a"].addr_add("wan0", VIP_WAN + "/24")
    t.cli.addr_add("lan0", CLIENT2 + "/24")
    t.ext.run(["ip", "route", "add", LOAD_POOL[1] + "/32", "via", VIP_WAN])
    opts = ("--max-mappings", 262144, "--max-sessions", 524288) + LOAD_DET
    for n in NODES:
        start_fcnat(t, n, *opts, pool=LOAD_POOL)
    wait_peer_up(t)
    sink = t.ext.udp(FAR, 9000)
    # The gateway's neighbour entry first: raw bursts would overflow the
    # queue of an unresolved one.
    for c in (CLIENT, CLIENT2):
        u = t.cli.udp(c, 0)
        u.sendto(b"arp", (FAR, 9000))
        u.close()
    wait_until(lambda: len(mappings(t, "a")) >= 2, 10, desc="the first mappings on A")
    want_int = {("udp",) + load_endpoint(i) for i in range(N_MAPPINGS)}

    def make(first, count):
        make_load(t.cli, t.gw["a"], t.bpffs["a"], first, count, FAR, 9000)

    lag = {"records": 0, "ms": 0, "bound_ms": 0}

    def same_watching_lag():
        st = show_sync(t, "a")
        for k in lag:
            lag[k] = max(lag[k], st["lag_" + k])
        a, b = mappings(t, "a"), mappings(t, "b")
        return a == b and len(a) >= N_MAPPINGS - 2000

    t0 = time.monotonic()
    make(0, N_MAPPINGS - 2000)
    t_made = time.monotonic() - t0
    wait_until(same_watching_lag, 120, interval=0.5, desc="B's mappings equal to A's")
    took = time.monotonic() - t0
    a = mappings(t, "a")
    # Every source port kept, on the client's own pool address.
    assert all(m[4] == m[2] and m[3] == LOAD_POOL[m[1] == CLIENT2] for m in a), sorted(a)[:3]
    st = show_sync(t, "a")
    print("sync: %d mappings made on A in %.1f s, equal on B after %.1f s; lag seen up to "
          "%d records queued, %d ms queued, a scan bound of %d ms; A's last scan %d ms "
          "in %d slices over %d ms"
          % (N_MAPPINGS - 2000, t_made, took, lag["records"], lag["ms"], lag["bound_ms"],
             st["last_scan_ms"], st["last_scan_slices"], st["last_scan_wall_ms"]))
    assert st["tx_records"] >= N_MAPPINGS - 2000 and st["tx_dropped"] == 0, st
    assert lag["bound_ms"] >= 200, "the lag bound is one scan interval at least: %s" % st
    assert show_sync(t, "b")["rx_install_errors"] == 0

    # B restarts; A makes 2000 more while B is away; B gets all of them.
    t.fcnat["b"].stop(signal.SIGTERM, timeout=10)
    make(N_MAPPINGS - 2000, 2000)
    t1 = time.monotonic()
    start_fcnat(t, "b", *opts, pool=LOAD_POOL)
    wait_same_mappings(t, 120, "B resynced to A's mappings")
    b = mappings(t, "b")
    assert {m[:3] for m in b} >= want_int, "B lacks %d" % len(want_int - {m[:3] for m in b})
    stb = show_sync(t, "b")
    print("sync: %d resynced after B's restart in %.1f s (B: %d datagrams lost, %d resyncs "
          "asked)" % (len(b), time.monotonic() - t1, stb["rx_lost"], stb["resyncs_asked"]))
    assert show_sync(t, "a")["resyncs_sent"] >= 2
    sink.close()


def test_sync_options_refused(topo, run_fcnat, tmp_path):
    from fcnat_util import assert_nothing_attached
    r = run_fcnat("-i", "wan0", "--sync-peer", "192.0.2.1:7600")
    assert r.returncode == 2 and "needs all of" in r.stderr, repr(r)
    r = run_fcnat("-i", "wan0", "--sync-peer", "nonsense", "--sync-listen", ":1")
    assert r.returncode == 2 and "invalid sync address" in r.stderr, repr(r)
    short = tmp_path / "short.key"
    short.write_bytes(b"too short\n")
    r = run_fcnat("-i", "wan0", "--sync-peer", "192.0.2.1:7600", "--sync-listen",
                  "127.0.0.1:7600", "--sync-key", str(short))
    assert r.returncode == 1 and "shorter than 16 bytes" in r.stderr, repr(r)
    # Up to 8 peers: a 9th is refused, and so is one peer given twice
    # (the same address spelt otherwise too).
    key = tmp_path / "good.key"
    key.write_bytes(b"0123456789abcdef-a-test-only-key\n")
    base = ["-i", "wan0", "--sync-listen", "127.0.0.1:7600", "--sync-key", str(key)]
    peers = []
    for i in range(9):
        peers += ["--sync-peer", "192.0.2.%d:7600" % (i + 1)]
    r = run_fcnat(*base, *peers)
    assert r.returncode == 2 and "--sync-peer 192.0.2.9:7600: at most 8 peers" in r.stderr, \
        repr(r)
    r = run_fcnat(*base, "--sync-peer", "192.0.2.1:7600", "--sync-peer", "192.0.2.2:7600",
                  "--sync-peer", "192.0.2.1:7600")
    assert r.returncode == 2 and "--sync-peer 192.0.2.1:7600: given twice" in r.stderr, repr(r)
    r = run_fcnat(*base, "--sync-peer", "[2001:db8::1]:7600,[2001:db8:0::1]:7600")
    assert r.returncode == 2 and "given twice (as [2001:db8::1]:7600)" in r.stderr, repr(r)
    # The file's list (spaces or commas, the key repeated), checked alone:
    # 8 accepted, a 9th (line 9) refused with its line number.
    conf = tmp_path / "peers.conf"
    lines = "".join("sync-peer = 192.0.2.%d:7600, 192.0.2.%d:7600\n" % (2 * i + 1, 2 * i + 2)
                    for i in range(4))
    conf.write_text("[nat]\nifname = wan0\nsync-listen = 127.0.0.1:7600\nsync-key = %s\n%s"
                    % (key, lines))
    r = run_fcnat("--check-config", str(conf))
    assert r.returncode == 0 and "configuration is valid" in r.stdout, repr(r)
    conf.write_text(conf.read_text() + "sync-peer = 192.0.2.100:7600\n")
    r = run_fcnat("--check-config", str(conf))
    assert r.returncode == 2 and "%s:9" % conf in r.stderr and "at most 8 peers" in r.stderr, \
        repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_lost_datagrams_are_seen_and_resynced(ha):
    t = ha
    if not shutil.which("nft"):
        pytest.skip("nft is not installed (make deps installs it)")
    t.gw["a"].addr_add("lan0", VIP_LAN + "/24")
    t.gw["a"].addr_add("wan0", VIP_WAN + "/24")
    for n in NODES:
        start_fcnat(t, n)
    wait_peer_up(t)
    # A quarter of what reaches B's sync port is lost on the way.
    t.gw["b"].run(["nft", "-f", "-"], input=(
        "table inet fcnat_ha_loss {\n"
        "  chain in {\n"
        "    type filter hook input priority 0; policy accept;\n"
        "    udp dport %d numgen random mod 4 == 0 drop\n"
        "  }\n"
        "}\n" % SYNC_PORT))
    sink = t.ext.udp(FAR, 9000)
    with t.cli.entered():
        for port in range(10000, 13000):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((CLIENT, port))
            s.sendto(b"m", (FAR, 9000))
            s.close()
    wait_until(lambda: (lambda st: st["rx_lost"] > 0 and st["resyncs_asked"] > 0)(
        show_sync(t, "b")), 20, interval=0.2, desc="B to see a gap and ask for a resync")
    t.gw["b"].run(["nft", "delete", "table", "inet", "fcnat_ha_loss"])
    wait_same_mappings(t, 30, "B's mappings equal to A's after the losses")
    assert len(mappings(t, "b")) >= 3000
    assert show_sync(t, "a")["resyncs_sent"] >= 2, show_sync(t, "a")
    sink.close()


@pytest.mark.parametrize("page", ["ha.md", "design/ha.md"])
def test_doc_shows_the_keepalived_conf_the_tests_run(page):
    from fcnat_util import REPO_ROOT
    with open(os.path.join(REPO_ROOT, "doc", page)) as f:
        doc = f.read()
    want = KEEPALIVED_CONF % {"name": "a", "prio": NODES["a"][3]}
    indented = "".join("    " + l if l.strip() else l for l in want.splitlines(True))
    assert indented in doc, "doc/%s does not show test_ha.py's keepalived.conf" % page
    # And A's fcnat options, as start_fcnat gives them (less --bpffs).
    cmd = ("    fcnat -i wan0 --pool %s --ports 1024-65535 \\\n"
           "        --sync-listen %s:%d --sync-peer %s:%d --sync-key /etc/fcnat/sync.key\n"
           % (POOL, NODES["a"][2], SYNC_PORT, NODES["b"][2], SYNC_PORT))
    assert cmd in doc, "doc/%s does not show test_ha.py's fcnat options" % page
