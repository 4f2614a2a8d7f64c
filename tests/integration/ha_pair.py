"""What the HA tests share (test_ha.py: VRRP failover; test_ha_ecmp.py:
ECMP scale-out; test_ha_multi.py: a master and two standbys): gateways
whose fcnat sync to each other (doc/ha.md),
each pinning under a bpffs of its own, and a teardown that checks every
fcnat stopped cleanly; the load the sync-at-scale tests make."""

import json
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import sanitizer_report
from fcnat_util import FCNAT_BIN, READY_TIMEOUT
from netns import wait_until

SYNC_PORT = 7600
KEY = b"0123456789abcdef-a-test-only-key\n"


def two_gateways(topology_cls, tag, tmp_path, nodes):
    """A fixture's body (`yield from` it): topology_cls (a netns.Topology)
    built under a prefix of its own (tag, pid, time: parallel runs do not
    collide), yielded with keyfile (the sync key of both), bpffs[n] for
    each node n, fcnat (n -> the running fcnat, filled by start_synced) and
    tmp. Afterwards every fcnat still running gets SIGTERM and must exit 0
    with no sanitizer report (FCNAT_BIN=build/san/fcnat); problems in the
    teardown fail the test."""
    if os.geteuid() != 0:
        pytest.fail("needs root", pytrace=False)
    prefix = "%s%dn%d-" % (tag, os.getpid(), int(time.monotonic() * 1000) % 100000)
    t = topology_cls(prefix, tmp_path / "topo")
    t.build()
    t.tmp = tmp_path
    t.keyfile = str(tmp_path / "sync.key")
    t.fcnat = {}
    # One bpffs each: `ip netns exec` gives every command its own /sys, so
    # show finds the daemon's pinned maps only under an explicit --bpffs.
    t.bpffs = {}
    errors = []
    try:
        with open(t.keyfile, "wb") as f:
            f.write(KEY)
        os.chmod(t.keyfile, 0o600)
        for n in nodes:
            d = tmp_path / ("bpffs-" + n)
            d.mkdir()
            subprocess.run(["mount", "-t", "bpf", "bpf", str(d)], check=True,
                           capture_output=True)
            t.bpffs[n] = str(d)
        yield t
    finally:
        for n, inst in t.fcnat.items():
            if inst.running():
                inst.send_signal(signal.SIGTERM)
                try:
                    if inst.wait(10) != 0:
                        errors.append("fcnat on %s exited with %s" % (n, inst.returncode))
                except Exception:
                    inst.kill()
                    errors.append("fcnat on %s did not exit on SIGTERM" % n)
            report = sanitizer_report(inst.stderr_text())
            if report:
                errors.append("fcnat on %s:\n%s" % (n, report))
        errors += t.teardown()
        for d in t.bpffs.values():
            subprocess.run(["umount", "-l", d], capture_output=True)
    if errors:
        pytest.fail("topology teardown problems:\n" + "\n".join(errors))


def start_synced(t, n, ns, listen, peer, *opts):
    """fcnat -i wan0 OPTS on node n (namespace ns), syncing from its address
    listen to the peer's (peer: an address, or a list of them, one
    --sync-peer each); returns once it is ready."""
    peers = [peer] if isinstance(peer, str) else list(peer)
    args = [FCNAT_BIN, "-i", "wan0", *opts,
            "--sync-listen", "%s:%d" % (listen, SYNC_PORT)]
    for p in peers:
        args += ["--sync-peer", "%s:%d" % (p, SYNC_PORT)]
    args += ["--sync-key", t.keyfile, "--bpffs", t.bpffs[n]]
    p = ns.start(args, name="fcnat")
    t.fcnat[n] = p
    p.wait_output(lambda s: "fcnat: ready" in s, READY_TIMEOUT, desc="fcnat ready on " + n)
    return p


def sync_status(ns):
    """`fcnat show sync --json` of the fcnat on wan0 in ns."""
    r = ns.run([FCNAT_BIN, "show", "sync", "-i", "wan0", "--json"])
    return json.loads(r.stdout)


def wait_sync_up(namespaces):
    for ns in namespaces:
        wait_until(lambda: sync_status(ns)["peer_state"] == "up", 10,
                   desc="sync peer of %s up" % ns.name)


def wait_carrier(links):
    """Each (namespace, interface) of links has its carrier."""
    for ns, ifname in links:
        wait_until(lambda: "LOWER_UP" in ns.run(["ip", "-br", "link", "show",
                                                  ifname]).stdout,
                   5, desc="%s %s up" % (ns.name, ifname))


def address_gateways(t, nodes, sync_len, client, far_hosts, lan_gw, pool, wan_gw):
    """The gateways' addresses (nodes: name -> (lan, wan, sync, ...)) and
    forwarding; the client behind lan_gw, the far hosts with the pool routed
    to wan_gw; then every link's carrier."""
    for n, (lan, wan, sync, *_) in nodes.items():
        ns = t.gw[n]
        ns.addr_add("lan0", lan + "/24")
        ns.addr_add("wan0", wan + "/24")
        ns.addr_add("sync0", "%s/%d" % (sync, sync_len))
        ns.sysctl("net.ipv4.ip_forward", 1)
    t.cli.addr_add("lan0", client + "/24")
    t.cli.run(["ip", "route", "add", "default", "via", lan_gw])
    for a in far_hosts:
        t.ext.addr_add("wan0", a + "/24")
    t.ext.run(["ip", "route", "add", pool + "/32", "via", wan_gw])
    wait_carrier([(t.cli, "lan0"), (t.ext, "wan0")] +
                 [(g, i) for g in t.gw.values() for i in ("lan0", "wan0", "sync0")])


def mappings(ns, bpffs):
    """`fcnat show mappings` of the fcnat on wan0 in ns: a set of (proto,
    internal address, internal port, external address, external port)."""
    r = ns.run([FCNAT_BIN, "show", "mappings", "-i", "wan0", "--json", "--bpffs", bpffs],
               timeout=60)
    return {(m["proto"], m["internal_addr"], m["internal_port"], m["external_addr"],
             m["external_port"]) for m in json.loads(r.stdout)}


# The sync-at-scale load: 50 000 source ports from each of two clients.
# 100 000 mappings need two external addresses (64 512 ports each);
# deterministic NAT (RFC 7422) gives each client its own pool address and
# the whole range, so every source port is kept: the external endpoints are
# known in advance, and no run depends on a hash's pairing.
LOAD_CLIENTS = ("192.168.77.2", "192.168.77.3")
LOAD_POOL = ("203.0.113.1", "203.0.113.2")
LOAD_DET = ("--deterministic", "192.168.77.2/31")
LOAD_PER_CLIENT = 50000


def load_endpoint(i):
    """The i-th internal endpoint of the load."""
    return LOAD_CLIENTS[i >= LOAD_PER_CLIENT], 10000 + i % LOAD_PER_CLIENT


def raw_udp_burst(ns, endpoints, dst, dport):
    """One UDP datagram from each (address, port) with no socket bound there:
    IP_HDRINCL lets one socket speak for 100 000 endpoints, hundreds of times
    faster than a socket each. The kernel fills in the IP checksum, length
    and id; the UDP checksum is computed here."""
    def fold(x):
        while x >> 16:
            x = (x & 0xffff) + (x >> 16)
        return x
    d = socket.inet_aton(dst)
    with ns.entered():
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        payload = b"m\0"
        ulen = 8 + len(payload)
        for addr, port in endpoints:
            a = socket.inet_aton(addr)
            words = a + d + struct.pack("!BBHHHH", 0, 17, ulen, port, dport, ulen) + payload
            c = (~fold(sum(struct.unpack("!%dH" % (len(words) // 2), words)))) & 0xffff
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, 17, 0, a, d)
            udp = struct.pack("!HHHH", port, dport, ulen, c or 0xffff) + payload
            while True:
                try:
                    s.sendto(ip + udp, (dst, 0))
                    break
                except BlockingIOError:
                    time.sleep(0.001)
                except OSError as e:
                    if e.errno != 105:  # ENOBUFS: the qdisc is full, wait
                        raise
                    time.sleep(0.001)
    finally:
        s.close()


def make_load(cli, node_ns, bpffs, first, count, dst, dport):
    """Sends from the load's endpoints [first, first + count) in cli until
    the node (its namespace, its bpffs) maps every one: a datagram lost on
    a full veth queue is sent again."""
    todo = [load_endpoint(i) for i in range(first, first + count)]
    for _ in range(6):
        raw_udp_burst(cli, todo, dst, dport)
        got = {(m[1], m[2]) for m in mappings(node_ns, bpffs)}
        todo = [e for e in todo if e not in got]
        if not todo:
            return
    raise AssertionError("%d endpoints never mapped, e.g. %s" % (len(todo), todo[:3]))
