"""NAT64 address mapping (--nat64-pool4, --nat64-static, --nat64-allow), end
to end through network namespaces: the topology of test_nat64.py (an
IPv6-only client behind the gateway, IPv4 servers on EXTERNAL), with the
pool's addresses routed to the gateway by EXTERNAL. Each IPv6 host is
mapped one-to-one onto an IPv4 address, ports and ICMP identifiers
untouched: the servers see the client's own port from its pool address.
Every test runs on both datapaths.
"""

import ipaddress
import json
import signal
import subprocess

import pytest

from fcnat_util import FCNAT_BIN, recv_matching, udp_exchange
from netns import (CLIENT6_2_ADDR, CLIENT6_ADDR, EXT_ADDRS, GW_LAN6_ADDR, GW_WAN_ADDR,
                   nat64_addr, wait_until)

EXT2, EXT3, EXT4 = EXT_ADDRS
POOL = "203.0.113.8/30"
POOL_ONE = "203.0.113.9"
STATIC_V4 = "203.0.113.20"


def _pings(ns, addr, family="-6"):
    return ns.run(["ping", family, "-c", "1", "-W", "1", addr], check=False).returncode == 0


@pytest.fixture
def topo64(topo):
    topo.add_nat64()
    # The pool and the static address are the gateway's to translate.
    for prefix in (POOL, STATIC_V4 + "/32"):
        topo.ext.run(["ip", "route", "add", prefix, "via", GW_WAN_ADDR])
    wait_until(lambda: _pings(topo.client, GW_LAN6_ADDR), 10, desc="client reaches gateway")
    return topo


@pytest.fixture
def start(topo64, fcnat, datapath, bpffs):
    internal = [] if datapath else ["--hairpin-if", "lan0"]

    def run(*extra):
        return fcnat("-i", "wan0", "--nat64", "--bpffs", bpffs, *internal, *datapath, *extra)
    return run


def counters(run_fcnat, bpffs):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)["counters"]


def mappings(run_fcnat, bpffs):
    r = run_fcnat("show", "mappings", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)


def in_pool(addr, pool=POOL):
    return ipaddress.ip_address(addr) in ipaddress.ip_network(pool)


def test_nat64_pool4_ping_udp_tcp_from_ipv6_only_client(topo64, start, run_fcnat, bpffs):
    start("--nat64-pool4", POOL)
    r = topo64.client.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "-I", CLIENT6_ADDR,
                           nat64_addr(EXT2)], check=False)
    assert r.returncode == 0, r.stdout + r.stderr

    c = topo64.client.udp(CLIENT6_ADDR, 34567)
    srv = topo64.ext.udp(EXT2, 7000)
    src = udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"pool-udp")[:2]
    assert in_pool(src[0]), "source %r not of the pool %s" % (src, POOL)
    assert src[1] == 34567, "port translated: %r" % (src,)
    srv.sendto(b"pool-reply", src)
    assert recv_matching(c, b"pool-reply", 3)[:2] == (nat64_addr(EXT2), 7000)

    listener = topo64.ext.tcp(EXT3, 8080)
    listener.listen(1)
    t = topo64.client.tcp(CLIENT6_ADDR, 34568)
    t.connect((nat64_addr(EXT3), 8080))
    conn, peer = listener.accept()
    assert peer == (src[0], 34568), "TCP peer %r, want %s:34568" % (peer, src[0])
    t.sendall(b"x" * 100000)
    got = b""
    while len(got) < 100000:
        chunk = conn.recv(65536)
        assert chunk, "connection closed early"
        got += chunk
    conn.sendall(b"done")
    assert t.recv(4) == b"done"

    rows = [m for m in mappings(run_fcnat, bpffs) if m["proto"] == "ip"]
    assert len(rows) == 1, rows
    assert rows[0]["internal_addr"] == CLIENT6_ADDR and rows[0]["external_addr"] == src[0], rows
    assert rows[0]["owner"] == "nat64-pool" and rows[0]["expires_in"] > 0, rows
    assert rows[0]["internal_port"] is None and rows[0]["external_port"] is None, rows
    n = counters(run_fcnat, bpffs)
    assert n["nat64_pool_mapped"] == 1, n
    text = run_fcnat("show", "mappings", "-i", "wan0", "--bpffs", bpffs)
    assert text.returncode == 0 and CLIENT6_ADDR in text.stdout and src[0] in text.stdout, (
        text.stdout)


def test_nat64_two_clients_two_pool_addresses(topo64, start):
    start("--nat64-pool4", POOL)
    a = topo64.client.udp(CLIENT6_ADDR, 25555)
    b = topo64.client.udp(CLIENT6_2_ADDR, 25555)
    srv = topo64.ext.udp(EXT2, 7000)
    sa = udp_exchange(a, srv, (nat64_addr(EXT2), 7000), b"from-a")[:2]
    sb = udp_exchange(b, srv, (nat64_addr(EXT2), 7000), b"from-b")[:2]
    assert in_pool(sa[0]) and in_pool(sb[0]) and sa[0] != sb[0], (sa, sb)
    assert sa[1] == sb[1] == 25555, (sa, sb)


def test_nat64_static_reached_inbound_first(topo64, start, run_fcnat, bpffs):
    """An IPv4 host reaches the static address before the IPv6 host ever
    sent a packet: UDP and ping."""
    start("--nat64-static", "%s=%s" % (CLIENT6_2_ADDR, STATIC_V4))
    server6 = topo64.client.udp(CLIENT6_2_ADDR, 5353)
    peer = topo64.ext.udp(EXT4, 7100)
    peer.sendto(b"inbound-first", (STATIC_V4, 5353))
    got = recv_matching(server6, b"inbound-first", 3)
    assert got is not None and got[:2] == (nat64_addr(EXT4), 7100), got
    server6.sendto(b"answer", (nat64_addr(EXT4), 7100))
    got = recv_matching(peer, b"answer", 3)
    assert got is not None and got[:2] == (STATIC_V4, 5353), got
    r = topo64.ext.run(["ping", "-4", "-c", "2", "-i", "0.2", "-W", "2", STATIC_V4], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [m for m in mappings(run_fcnat, bpffs) if m["proto"] == "ip"]
    assert rows == [dict(rows[0], internal_addr=CLIENT6_2_ADDR, external_addr=STATIC_V4,
                         owner="nat64-static", expires_in=None, static=True)], rows


def test_nat64_allow_denied_source_dropped_and_counted(topo64, start, run_fcnat, bpffs):
    start("--nat64-pool4", POOL, "--nat64-allow", CLIENT6_ADDR + "/128")
    srv = topo64.ext.udp(EXT2, 7000)
    denied = topo64.client.udp(CLIENT6_2_ADDR, 0)
    for _ in range(3):
        denied.sendto(b"denied", (nat64_addr(EXT2), 7000))
    allowed = topo64.client.udp(CLIENT6_ADDR, 0)
    src = udp_exchange(allowed, srv, (nat64_addr(EXT2), 7000), b"allowed")[:2]
    assert in_pool(src[0]), src
    assert recv_matching(srv, b"denied", 0.5) is None, "a denied source got through"
    n = counters(run_fcnat, bpffs)
    assert n["nat64_drop_not_allowed"] >= 3, n
    assert n["nat64_pool_mapped"] == 1, n


def test_nat64_pool4_exhausted_refused_address_unreachable(topo64, start, run_fcnat, bpffs):
    """A /32 pool: the first host takes its address, the second is refused
    with ICMPv6 Destination Unreachable, Address Unreachable (RFC 6146
    §3.5.1.1), counted."""
    start("--nat64-pool4", POOL_ONE + "/32")
    srv = topo64.ext.udp(EXT2, 7000)
    first = topo64.client.udp(CLIENT6_ADDR, 0)
    assert udp_exchange(first, srv, (nat64_addr(EXT2), 7000), b"first")[0] == POOL_ONE
    r = topo64.client.run(["ping", "-6", "-c", "1", "-W", "2", "-I", CLIENT6_2_ADDR,
                           nat64_addr(EXT2)], check=False)
    assert r.returncode != 0, r.stdout
    assert "Address unreachable" in r.stdout, r.stdout + r.stderr
    n = counters(run_fcnat, bpffs)
    assert n["nat64_pool_exhausted"] >= 1 and n["nat64_pool_mapped"] == 1, n


def test_nat64_pool_config_file_keys(topo64, fcnat, bpffs, tmp_path):
    """The options as configuration file keys (fcnat.conf(5))."""
    conf = tmp_path / "fcnat.conf"
    conf.write_text("ifname = wan0\nnat64 = true\nhairpin-if = lan0\n"
                    "nat64-pool4 = %s\nnat64-pool4-timeout = 600\n"
                    "nat64-static = %s=%s\nnat64-allow = fd00:77::/64\n"
                    % (POOL, CLIENT6_2_ADDR, STATIC_V4))
    fcnat("-c", str(conf), "--bpffs", bpffs)
    c = topo64.client.udp(CLIENT6_ADDR, 0)
    srv = topo64.ext.udp(EXT2, 7000)
    assert in_pool(udp_exchange(c, srv, (nat64_addr(EXT2), 7000), b"conf")[0])
    c2 = topo64.client.udp(CLIENT6_2_ADDR, 0)
    assert udp_exchange(c2, srv, (nat64_addr(EXT2), 7000), b"conf2")[0] == STATIC_V4


def test_nat64_static_and_allow_follow_sighup(topo64, fcnat, run_fcnat, bpffs, tmp_path):
    """SIGHUP: a static entry moved to another host, the allowed prefixes
    replaced; the old entry is gone from the maps and `show`."""
    conf = tmp_path / "fcnat.conf"
    base = "ifname = wan0\nnat64 = true\nhairpin-if = lan0\n"
    conf.write_text(base + "nat64-static = %s=%s\nnat64-allow = %s/128\n"
                    % (CLIENT6_ADDR, STATIC_V4, CLIENT6_ADDR))
    inst = fcnat("-c", str(conf), "--bpffs", bpffs)
    srv = topo64.ext.udp(EXT2, 7000)
    a = topo64.client.udp(CLIENT6_ADDR, 0)
    assert udp_exchange(a, srv, (nat64_addr(EXT2), 7000), b"before")[0] == STATIC_V4

    conf.write_text(base + "nat64-static = %s=%s\nnat64-allow = %s/128\n"
                    % (CLIENT6_2_ADDR, STATIC_V4, CLIENT6_2_ADDR))
    n = inst.stderr().count("fcnat: reloaded")
    inst.bg.send_signal(signal.SIGHUP)
    inst.bg.wait_output(lambda t: t.count("fcnat: reloaded") > n, 5, desc="reloaded")
    b = topo64.client.udp(CLIENT6_2_ADDR, 0)
    assert udp_exchange(b, srv, (nat64_addr(EXT2), 7000), b"after")[0] == STATIC_V4
    a.sendto(b"now-denied", (nat64_addr(EXT2), 7000))
    assert recv_matching(srv, b"now-denied", 0.5) is None, "the old host still allowed"
    rows = [m for m in mappings(run_fcnat, bpffs) if m["proto"] == "ip"]
    assert [(r["internal_addr"], r["external_addr"]) for r in rows] == [
        (CLIENT6_2_ADDR, STATIC_V4)], rows


@pytest.mark.parametrize("args, message", [
    (["--nat64-pool4", POOL], "need --nat64"),
    (["--nat64", "--nat64-pool4", "203.0.113.9/30"], "--nat64-pool4: invalid"),
    (["--nat64", "--nat64-pool4", "10.0.0.0/8"], "--nat64-pool4: invalid"),
    (["--nat64", "--nat64-static", "fd00::1"], "--nat64-static: invalid"),
    (["--nat64", "--nat64-allow", "fd00::1/8"], "--nat64-allow: invalid"),
    (["--nat64", "--nat64-static", "fd00::1=203.0.113.5", "fd00::2=203.0.113.5"], "repeats"),
    (["--nat64", "--pool", "203.0.113.0/28", "--nat64-pool4", "203.0.113.8/29"],
     "--nat64-pool4 203.0.113.8/29 overlaps --pool 203.0.113.0/28"),
    (["--nat64", "--pool", "203.0.113.0/28", "--nat64-static", "fd00::1=203.0.113.5"],
     "--nat64-static: 203.0.113.5 is in --pool 203.0.113.0/28"),
])
def test_nat64_pool_options_refused_with_usage_error(args, message):
    r = subprocess.run([FCNAT_BIN, "-i", "wan0", "--hairpin-if", "lan0", *args],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr, r.stderr


def test_rfc6146_s3_8_hairpin_between_address_mapped_hosts_udp_and_ping(topo64, start,
                                                                        run_fcnat, bpffs):
    """RFC 6146 §3.8 to an address-mapped host: the client (mapped onto the
    pool's one address by its first packet) reaches the static host at its
    address under the prefix; the static host sees it from the pool address
    under the prefix, port kept, and its answer comes back the same way.
    ping6 too (RFC 7857 §12: identifiers kept, both halves hairpinned)."""
    start("--nat64-pool4", POOL_ONE + "/32", "--nat64-static",
          "%s=%s" % (CLIENT6_2_ADDR, STATIC_V4))
    a = topo64.client.udp(CLIENT6_ADDR, 34000)
    b = topo64.client.udp(CLIENT6_2_ADDR, 5353)
    a.sendto(b"to-static", (nat64_addr(STATIC_V4), 5353))
    got = recv_matching(b, b"to-static", 3)
    assert got is not None and got[:2] == (nat64_addr(POOL_ONE), 34000), got
    b.sendto(b"back", (nat64_addr(POOL_ONE), 34000))
    got = recv_matching(a, b"back", 3)
    assert got is not None and got[:2] == (nat64_addr(STATIC_V4), 5353), got
    r = topo64.client.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "-I", CLIENT6_ADDR,
                           nat64_addr(STATIC_V4)], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert counters(run_fcnat, bpffs)["hairpin_translated"] >= 6


def test_rfc6146_s3_8_napt64_host_reaches_static_host_and_back(topo64, start, run_fcnat, bpffs):
    """A port-translated (NAPT64) client to the static host's address: the
    static host sees the client's mapping on the external address under the
    prefix, and its answer to that mapping reaches the client from the
    static address under the prefix."""
    start("--nat64-static", "%s=%s" % (CLIENT6_2_ADDR, STATIC_V4))
    a = topo64.client.udp(CLIENT6_ADDR, 34001)
    b = topo64.client.udp(CLIENT6_2_ADDR, 5354)
    a.sendto(b"to-static", (nat64_addr(STATIC_V4), 5354))
    got = recv_matching(b, b"to-static", 3)
    assert got is not None and got[0] == nat64_addr(GW_WAN_ADDR), got
    b.sendto(b"back", got[:2])
    got = recv_matching(a, b"back", 3)
    assert got is not None and got[:2] == (nat64_addr(STATIC_V4), 5354), got
    assert counters(run_fcnat, bpffs)["hairpin_translated"] >= 2
