"""`fcnat offload` (issue 19, doc/design/offload.md): conntrack flow offload
under a real nftables ruleset on the gateway.

    client 192.168.77.2 --lan0-- gw --wan0-- ext 198.51.100.2
    gw: forward policy drop; ct state established,related accept; UDP to
        port 7777 dropped; lan0 -> wan0 accepted; masquerade out of wan0;
        a DNAT port forward wan0:8080 -> client:8080 (TCP) and :8081 (UDP).

The firewall decides, conntrack is the truth: flows it established are
carried by the TC datapath (its counters prove it: a packet the stack
forwards never adds to `forwarded`), byte for byte, with the conntrack
timeouts kept up; a flow the ruleset drops is never offloaded; conntrack -D
and a flush after a rule change send the flow back through the stack.
"""

import hashlib
import json
import os
import re
import subprocess
import time

import pytest

from fcnat_util import prepare_xdp_peers
from netns import (CLIENT6_ADDR, CLIENT_ADDR, EXT6_ADDRS, EXT_ADDRS, GW_WAN6_ADDR, GW_WAN_ADDR,
                   wait_until)

RULESET = """
table inet fo_fw {
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "lan0" oifname "wan0" udp dport 7777 drop
        iifname "lan0" oifname "wan0" accept
        iifname "wan0" oifname "lan0" ct status dnat accept
    }
}
table ip fo_nat {
    chain prerouting {
        type nat hook prerouting priority -100;
        iifname "wan0" tcp dport 8080 dnat to 192.168.77.2:8080
        iifname "wan0" udp dport 8081 dnat to 192.168.77.2:8081
    }
    chain postrouting {
        type nat hook postrouting priority 100;
        oifname "wan0" masquerade
    }
}
"""

# IPv6 (topo.add_ipv6): the same forward chain (inet), masquerade66 out of
# the WAN and a DNAT66 port forward, as fw4 and nftables do them.
RULESET6 = """
table ip6 fo_nat6 {
    chain prerouting {
        type nat hook prerouting priority -100;
        iifname "wan0" tcp dport 8080 dnat to [fd00:77::2]:8080
    }
    chain postrouting {
        type nat hook postrouting priority 100;
        oifname "wan0" masquerade
    }
}
"""

SERVER = EXT_ADDRS[0]
# The UDP stream timeout of the timeout test: short, so it sees a refresh.
UDP_T = 10
SERVER6 = EXT6_ADDRS[0]


@pytest.fixture
def fw(topo, request):
    topo.gw.run(["nft", "-f", "-"], input=RULESET)
    # Conntrack follows every flow in the namespace from here on; the
    # offload reads the timeout at its start (after this).
    mark = request.node.get_closest_marker("udp_stream_timeout")
    topo.gw.sysctl("net.netfilter.nf_conntrack_udp_timeout_stream",
                   mark.args[0] if mark else 120)
    return topo


@pytest.fixture
def fw6(fw):
    fw.add_ipv6()
    fw.gw.run(["nft", "-f", "-"], input=RULESET6)
    return fw


@pytest.fixture(params=["tc", "xdp"])
def offload(request, fw, fcnat, tmp_path):
    """fcnat offload on lan0 and wan0, in TC or XDP (where the veth peers
    need GRO and full checksums: fcnat_util.prepare_xdp_peers)."""
    if request.param == "xdp":
        prepare_xdp_peers(fw)
    stats = tmp_path / "offload-stats.json"
    inst = fcnat("offload", "--mode", request.param, "-i", "lan0", "-i", "wan0",
                 "--stats-file", str(stats))
    wait_until(stats.exists, 5, desc="the first stats file")
    inst.stats_path = stats
    return inst


def stats(inst):
    with open(inst.stats_path) as f:
        return json.load(f)


def counter(inst, name):
    return stats(inst)["counters"][name]


def wait_stat(inst, cond, desc, timeout=5):
    """Counters are written each second: wait for cond(stats) to hold."""
    def check():
        s = stats(inst)
        return s if cond(s) else None
    return wait_until(check, timeout, desc=desc)


def fresh(inst):
    """Counters that include every packet sent before the call: the file
    is rewritten each second, so two writes on, one began after it."""
    s0 = stats(inst)["seq"]
    return wait_stat(inst, lambda s: s["seq"] >= s0 + 2, "fresh counters")


def ct_entries(ns, *args):
    """conntrack -L lines of the gateway (with their timeouts)."""
    res = ns.run(["conntrack", "-L"] + list(args), check=False)
    return [l for l in res.stdout.splitlines() if l.strip()]


def ct_timeout(line):
    # "udp      17 118 src=..."  (protocol, number, seconds left)
    return int(line.split()[2])


def udp_roundtrip(client, server, dst, payload):
    client.sendto(payload, dst)
    data, peer = server.recvfrom(4096)
    assert data == payload, "the server got the datagram as sent"
    server.sendto(data[::-1], peer)
    back, _ = client.recvfrom(4096)
    assert back == payload[::-1], "the client got the reply as sent"
    return peer


def establish_udp(inst, client, server, dst, n=1):
    """Exchange datagrams until the flow is offloaded: conntrack makes a UDP
    entry ASSURED only when it is still answered two seconds after it was
    made (a stream, not a probe), and only ASSURED entries are offloaded."""
    wait_until(lambda: udp_roundtrip(client, server, dst, b"open") and
               stats(inst)["offloaded_flows"] == n, 10, interval=0.25,
               desc="the UDP flow offloaded")


@pytest.mark.udp_stream_timeout(UDP_T)
def test_udp_masquerade_offloaded_byte_exact_timeouts_refreshed(offload, fw):
    topo = fw
    server = topo.ext.udp(SERVER, 7000)
    client = topo.client.udp(CLIENT_ADDR, 0)
    # The first exchange goes through the stack: conntrack makes the entry
    # (SNAT to the WAN address) and an answer makes it ASSURED.
    peer = udp_roundtrip(client, server, (SERVER, 7000), b"hello")
    assert peer[0] == GW_WAN_ADDR, "masqueraded to the gateway's WAN address"
    establish_udp(offload, client, server, (SERVER, 7000))
    before = fresh(offload)["counters"]

    n = 50
    for i in range(n):
        payload = os.urandom(64 + i * 13)
        udp_roundtrip(client, server, (SERVER, 7000), payload)
    after = fresh(offload)["counters"]
    assert after["forwarded"] == before["forwarded"] + 2 * n, \
        "the fast path carried exactly the flow's packets"
    assert after["pass_not_offloaded"] == before["pass_not_offloaded"], \
        "none of them went through the stack"

    # Conntrack still has the flow with its NAT.
    lines = ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", "7000")
    assert len(lines) == 1 and "ASSURED" in lines[0], lines
    assert "src=%s" % SERVER in lines[0] and "dst=%s" % GW_WAN_ADDR in lines[0], lines

    # Its timeout is kept up from the offload's last-seen times (the rule
    # of doc/design/offload.md: written when less than min(30 s, half the
    # timeout) is left, from the last packet). With a 10 s timeout, the
    # flow kept busy in the fast path for longer than that: the entry the
    # stack last timed out lives on, its timeout seen to rise again.
    fwd = fresh(offload)["counters"]["forwarded"]
    prev, rose, sent = None, False, 0
    end = time.monotonic() + UDP_T + 3
    while time.monotonic() < end:
        udp_roundtrip(client, server, (SERVER, 7000), b"keepalive")
        sent += 1
        lines = ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", "7000")
        assert len(lines) == 1, "the entry lives while the offload carries the flow"
        t = ct_timeout(lines[0])
        rose = rose or (prev is not None and t > prev)
        prev = t
        time.sleep(0.5)
    last = time.monotonic()
    assert rose, "the conntrack timeout refreshed from the offload (it rose)"
    assert fresh(offload)["counters"]["forwarded"] == fwd + 2 * sent, \
        "the keepalives went through the fast path"

    # Idle now: the entry expires on its own timeout from the last packet
    # (not before it; at most a second late, with room for a loaded host).
    wait_until(lambda: not ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", "7000"),
               UDP_T + 5, interval=0.25, desc="the idle flow's entry expired")
    assert time.monotonic() - last >= UDP_T - 1, \
        "the entry lived its timeout from the last offloaded packet"


def test_tcp_masquerade_byte_exact_and_fin_hands_back(offload, fw, tmp_path):
    topo = fw
    data = os.urandom(2 * 1024 * 1024)
    src = tmp_path / "src.bin"
    dst = tmp_path / "dst.bin"
    src.write_bytes(data)
    topo.ext.start(["socat", "-u", "TCP-LISTEN:7001,bind=%s,reuseaddr" % SERVER,
                    "CREATE:%s" % dst], name="sink")
    topo.ext.wait_listening(7001)
    before = counter(offload, "forwarded")
    # socat sends after the handshake; the entry is ESTABLISHED and
    # ASSURED by the third packet, and the rest of the stream is offloaded
    # as soon as the event is read.
    topo.client.run(["socat", "-u", "OPEN:%s" % src,
                     "TCP:%s:7001,sourceport=41001" % SERVER], timeout=60)
    wait_until(lambda: dst.exists() and dst.stat().st_size == len(data), 10,
               desc="the whole stream received")
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest(), \
        "byte for byte"
    s = wait_stat(offload, lambda s: s["counters"]["pass_fin_rst"] >= 1 and
                  s["offloaded_flows"] == 0, "FIN handed the flow back")
    assert s["counters"]["forwarded"] > before, "the fast path carried part of the stream"


def test_tcp_dnat_port_forward_offloaded(offload, fw):
    topo = fw
    # An echo server on the client, reached from outside through the DNAT.
    topo.client.start(["socat", "TCP-LISTEN:8080,reuseaddr,fork", "EXEC:cat"], name="echo")
    topo.client.wait_listening(8080)
    sock = topo.ext.tcp(SERVER, 0)
    sock.connect((GW_WAN_ADDR, 8080))
    sock.sendall(b"first")
    assert sock.recv(100) == b"first"
    wait_stat(offload, lambda s: s["offloaded_flows"] == 1, "the forwarded flow offloaded")
    before = counter(offload, "forwarded")
    total = b""
    for i in range(20):
        chunk = os.urandom(1000 + i)
        sock.sendall(chunk)
        got = b""
        while len(got) < len(chunk):
            got += sock.recv(65536)
        assert got == chunk, "echoed byte for byte through the port forward"
        total += got
    wait_stat(offload, lambda s: s["counters"]["forwarded"] >= before + 40,
              "both directions carried by the fast path")
    lines = ct_entries(topo.gw, "-p", "tcp", "--orig-port-dst", "8080")
    assert len(lines) == 1 and "ESTABLISHED" in lines[0] and "ASSURED" in lines[0], lines
    sock.close()


def test_dropped_flow_never_offloaded(offload, fw):
    topo = fw
    server = topo.ext.udp(SERVER, 7777, timeout=0.5)
    client = topo.client.udp(CLIENT_ADDR, 0)
    for _ in range(20):
        client.sendto(b"x" * 64, (SERVER, 7777))
    with pytest.raises(OSError):
        server.recvfrom(100)
    s = fresh(offload)
    assert s["counters"]["pass_not_offloaded"] >= 20, "the datapath saw them, the stack had them"
    assert s["offloaded_flows"] == 0, "the ruleset's drop is never offloaded"
    assert s["counters"]["forwarded"] == 0
    assert not [l for l in ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", "7777")
                if "ASSURED" in l], "no established entry for it"


def test_conntrack_delete_sends_next_packet_through_stack(offload, fw):
    topo = fw
    server = topo.ext.udp(SERVER, 7002)
    client = topo.client.udp(CLIENT_ADDR, 0)
    establish_udp(offload, client, server, (SERVER, 7002))
    fwd = fresh(offload)["counters"]["forwarded"]
    udp_roundtrip(client, server, (SERVER, 7002), b"fast")
    assert fresh(offload)["counters"]["forwarded"] == fwd + 2, "carried by the fast path"
    fwd += 2

    topo.gw.run(["conntrack", "-D", "-p", "udp", "--orig-port-dst", "7002"])
    wait_stat(offload, lambda s: s["offloaded_flows"] == 0, "the offload stopped", timeout=3)
    stack = fresh(offload)["counters"]["pass_not_offloaded"]
    client.sendto(b"after", (SERVER, 7002))
    data, _ = server.recvfrom(100)
    assert data == b"after"
    s = fresh(offload)
    assert s["counters"]["pass_not_offloaded"] > stack, "the next packet through the stack"
    assert s["counters"]["forwarded"] == fwd, "not carried by the fast path"
    # The stack made the entry anew (and the firewall decided again).
    lines = ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", "7002")
    assert len(lines) == 1 and "ASSURED" not in lines[0], lines


def test_rule_change_and_flush_stop_the_flow(offload, fw):
    topo = fw
    server = topo.ext.udp(SERVER, 7003, timeout=0.5)
    client = topo.client.udp(CLIENT_ADDR, 0)
    establish_udp(offload, client, server, (SERVER, 7003))
    topo.gw.run(["nft", "insert", "rule", "inet", "fo_fw", "forward",
                 "udp", "dport", "7003", "drop"])
    topo.gw.run(["conntrack", "-F"])
    wait_stat(offload, lambda s: s["offloaded_flows"] == 0, "the flush seen", timeout=3)
    fwd = fresh(offload)["counters"]["forwarded"]
    for _ in range(5):
        client.sendto(b"blocked", (SERVER, 7003))
    with pytest.raises(OSError):
        server.recvfrom(100)
    assert fresh(offload)["counters"]["forwarded"] == fwd, "nothing carried against the new rule"


def test_ct_mark_filter_offloads_only_marked_flows(fw, fcnat, tmp_path):
    """--ct-mark: a firewall rule picks what is offloaded (as flow add @ft)."""
    topo = fw
    topo.gw.run(["nft", "insert", "rule", "inet", "fo_fw", "forward",
                 "udp", "dport", "7004", "ct", "mark", "set", "0x10"])
    stats_path = tmp_path / "st.json"
    inst = fcnat("offload", "-i", "lan0", "-i", "wan0", "--ct-mark", "0x10/0xf0",
                 "--stats-file", str(stats_path))
    inst.stats_path = stats_path
    wait_until(stats_path.exists, 5, desc="the first stats file")
    marked_srv = topo.ext.udp(SERVER, 7004)
    other_srv = topo.ext.udp(SERVER, 7005)
    client = topo.client.udp(CLIENT_ADDR, 0)
    establish_udp(inst, client, marked_srv, (SERVER, 7004))
    # The unmarked flow, assured as well (answered for over 2 s), stays
    # with the stack.
    wait_until(lambda: udp_roundtrip(client, other_srv, (SERVER, 7005), b"x") and
               [l for l in ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", "7005")
                if "ASSURED" in l], 10, interval=0.25, desc="the other flow assured")
    s = fresh(inst)
    assert s["offloaded_flows"] == 1, "only the marked flow"


ZONE_RULES = """
table ip fo_zone {
    chain raw {
        type filter hook prerouting priority -300;
        udp dport 7006 ct zone set 5
        udp sport 7006 ct zone set 5
    }
}
"""


@pytest.mark.parametrize("zone_opt", [None, "5"], ids=["default", "ct-zone-5"])
def test_ct_zone_offloads_the_zone_given_only(fw, fcnat, tmp_path, zone_opt):
    """A ruleset that puts a flow in conntrack zone 5 (ct zone set, before
    conntrack): the datapath's key has no zone, so the offload follows one
    zone, 0 unless --ct-zone says another; the other zone's flows stay
    with the stack."""
    topo = fw
    topo.gw.run(["nft", "-f", "-"], input=ZONE_RULES)
    stats_path = tmp_path / "st.json"
    args = ["--ct-zone", zone_opt] if zone_opt else []
    inst = fcnat("offload", "-i", "lan0", "-i", "wan0", "--stats-file", str(stats_path), *args)
    inst.stats_path = stats_path
    wait_until(stats_path.exists, 5, desc="the first stats file")
    zoned_srv = topo.ext.udp(SERVER, 7006)
    plain_srv = topo.ext.udp(SERVER, 7007)
    client = topo.client.udp(CLIENT_ADDR, 0)
    first, second = (plain_srv, 7007), (zoned_srv, 7006)
    if zone_opt:
        first, second = second, first
    establish_udp(inst, client, first[0], (SERVER, first[1]))
    # The other one, assured as well, stays with the stack.
    wait_until(lambda: udp_roundtrip(client, second[0], (SERVER, second[1]), b"x") and
               [l for l in ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", str(second[1]))
                if "ASSURED" in l], 10, interval=0.25, desc="the other flow assured")
    zoned = ct_entries(topo.gw, "-p", "udp", "--orig-port-dst", "7006")
    assert len(zoned) == 1 and "zone=5" in zoned[0], zoned
    before = fresh(inst)
    assert before["offloaded_flows"] == 1, "only the zone's flow"
    for _ in range(5):
        udp_roundtrip(client, second[0], (SERVER, second[1]), b"y")
    after = fresh(inst)["counters"]
    assert after["forwarded"] == before["counters"]["forwarded"], "the other zone's: the stack's"
    assert after["pass_not_offloaded"] >= before["counters"]["pass_not_offloaded"] + 10


def test_show_offloads_gives_conntrack_and_fast_path_counters(fw, fcnat, run_fcnat, bpffs,
                                                              tmp_path):
    """ctnetlink cannot write an entry's counters, so conntrack counts only
    what the stack carried (the flow's first packets): `show offloads`
    gives both, and together they are every packet and byte of the flow."""
    topo = fw
    topo.gw.sysctl("net.netfilter.nf_conntrack_acct", 1)
    stats_path = tmp_path / "st.json"
    inst = fcnat("offload", "-i", "lan0", "-i", "wan0", "--stats-file", str(stats_path),
                 "--bpffs", bpffs)
    inst.stats_path = stats_path
    wait_until(stats_path.exists, 5, desc="the first stats file")
    server = topo.ext.udp(SERVER, 7008)
    client = topo.client.udp(CLIENT_ADDR, 0)
    sent, nbytes = 0, 0

    def exchange(payload):
        nonlocal sent, nbytes
        udp_roundtrip(client, server, (SERVER, 7008), payload)
        sent += 1
        nbytes += 28 + len(payload)     # RFC 791's 20 bytes, RFC 768's 8
        return True

    wait_until(lambda: exchange(b"open") and stats(inst)["offloaded_flows"] == 1, 10,
               interval=0.25, desc="the UDP flow offloaded")
    for i in range(30):
        exchange(os.urandom(40 + i))
    s = fresh(inst)
    assert s["fast_path"]["packets"] >= 60, s
    r = run_fcnat("show", "offloads", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, r.stderr
    top = json.loads(r.stdout)
    flows = [f for f in top["flows"] if f["original"]["dst"].endswith(":7008")]
    assert len(flows) == 1, top
    for d in ("original", "reply"):
        v = flows[0][d]
        assert v["packets"] >= 30, "the fast path carried the later packets"
        assert v["conntrack_packets"] >= 1, "the stack the first ones"
        assert v["total_packets"] == sent, (d, v, sent)
        assert v["total_bytes"] == nbytes, (d, v, nbytes)
    t = top["traffic"]
    assert t["total"]["packets"] == 2 * sent and t["total"]["bytes"] == 2 * nbytes, t
    text = run_fcnat("show", "offloads", "--bpffs", bpffs).stdout
    assert "together %d pkts %d bytes" % (2 * sent, 2 * nbytes) in text, text


def test_udp6_masquerade_offloaded_byte_exact_and_delete(fw6, offload):
    topo = fw6
    server = topo.ext.udp(SERVER6, 7010)
    client = topo.client.udp(CLIENT6_ADDR, 0)
    peer = udp_roundtrip(client, server, (SERVER6, 7010), b"hello")
    assert peer[0] == GW_WAN6_ADDR, "masqueraded to the gateway's WAN address"
    establish_udp(offload, client, server, (SERVER6, 7010))
    before = fresh(offload)["counters"]

    n = 50
    for i in range(n):
        payload = os.urandom(64 + i * 13)
        udp_roundtrip(client, server, (SERVER6, 7010), payload)
    after = fresh(offload)["counters"]
    assert after["forwarded_ipv6"] == before["forwarded_ipv6"] + 2 * n, \
        "the fast path carried exactly the flow's packets, as IPv6"
    assert after["pass_not_offloaded"] == before["pass_not_offloaded"], \
        "none of them went through the stack"
    lines = ct_entries(topo.gw, "-f", "ipv6", "-p", "udp", "--orig-port-dst", "7010")
    assert len(lines) == 1 and "ASSURED" in lines[0], lines
    assert "dst=%s" % GW_WAN6_ADDR in lines[0], lines

    # conntrack -D: the next packet through the stack.
    topo.gw.run(["conntrack", "-D", "-f", "ipv6", "-p", "udp", "--orig-port-dst", "7010"])
    wait_stat(offload, lambda s: s["offloaded_flows"] == 0, "the offload stopped", timeout=3)
    s = fresh(offload)["counters"]
    client.sendto(b"after", (SERVER6, 7010))
    data, _ = server.recvfrom(100)
    assert data == b"after"
    s2 = fresh(offload)["counters"]
    assert s2["pass_not_offloaded"] > s["pass_not_offloaded"], "the next packet through the stack"
    assert s2["forwarded_ipv6"] == s["forwarded_ipv6"], "not carried by the fast path"


def test_tcp6_dnat_port_forward_offloaded(fw6, offload):
    topo = fw6
    topo.client.start(["socat", "TCP6-LISTEN:8080,reuseaddr,fork", "EXEC:cat"], name="echo6")
    topo.client.wait_listening(8080)
    sock = topo.ext.tcp(SERVER6, 0)
    sock.connect((GW_WAN6_ADDR, 8080))
    sock.sendall(b"first")
    assert sock.recv(100) == b"first"
    wait_stat(offload, lambda s: s["offloaded_flows"] == 1, "the forwarded flow offloaded")
    before = counter(offload, "forwarded_ipv6")
    for i in range(20):
        chunk = os.urandom(1000 + i)
        sock.sendall(chunk)
        got = b""
        while len(got) < len(chunk):
            got += sock.recv(65536)
        assert got == chunk, "echoed byte for byte through the port forward"
    wait_stat(offload, lambda s: s["counters"]["forwarded_ipv6"] >= before + 40,
              "both directions carried by the fast path")
    lines = ct_entries(topo.gw, "-f", "ipv6", "-p", "tcp", "--orig-port-dst", "8080")
    assert len(lines) == 1 and "ESTABLISHED" in lines[0], lines
    assert "src=%s" % CLIENT6_ADDR in lines[0], "the reply tuple names the DNAT's target"
    sock.close()


def test_cli_refuses_bad_arguments(run_fcnat):
    r = run_fcnat("offload", "--mode", "dpdk", "-i", "lan0")
    assert r.returncode == 2 and "tc or xdp" in r.stderr, r
    r = run_fcnat("offload", "-i", "nosuch0")
    assert r.returncode == 1 and "no such interface" in r.stderr, r
    r = run_fcnat("offload")
    assert r.returncode == 2 and "usage" in r.stderr, r


def test_exit_removes_what_it_added_xdp(fw, fcnat):
    topo = fw
    inst = fcnat("offload", "--mode", "xdp", "-i", "lan0", "-i", "wan0")
    for dev in ("lan0", "wan0"):
        assert "xdp" in topo.gw.run(["ip", "link", "show", "dev", dev]).stdout, dev
    assert inst.stop() == 0
    for dev in ("lan0", "wan0"):
        assert "xdp" not in topo.gw.run(["ip", "link", "show", "dev", dev]).stdout, dev


def test_exit_removes_what_it_added(fw, fcnat):
    topo = fw
    # A clsact qdisc of someone else's on wan0 stays; the one on lan0 is ours.
    topo.gw.run(["tc", "qdisc", "add", "dev", "wan0", "clsact"])
    inst = fcnat("offload", "-i", "lan0", "-i", "wan0")
    for dev in ("lan0", "wan0"):
        out = topo.gw.run(["tc", "filter", "show", "dev", dev, "ingress"]).stdout
        assert "fo_tc_ingress" in out, (dev, out)
    assert inst.stop() == 0
    for dev in ("lan0", "wan0"):
        out = topo.gw.run(["tc", "filter", "show", "dev", dev, "ingress"]).stdout
        assert "fo_tc_ingress" not in out, (dev, out)
    clsact = [l.split(" dev ")[1].split()[0]
              for l in topo.gw.run(["tc", "qdisc", "show"]).stdout.splitlines() if "clsact" in l]
    assert clsact == ["wan0"], "ours on lan0 removed, the other one kept: %s" % clsact


@pytest.mark.parametrize("mode", ["tc", "xdp"])
def test_loads_in_the_portable_profile(fw, fcnat, mode):
    """Bounded loops, no kernel BTF (OpenWrt kernels, src/bpf_profile.c):
    the kernel's verifier takes the datapath in that profile too."""
    inst = fcnat("offload", "--mode", mode, "-i", "lan0", "-i", "wan0",
                 env={"FCNAT_BPF_PROFILE": "bounded-loops,no-kernel-btf"})
    assert inst.running()
    assert inst.stop() == 0


VLAN_IF = "wan0.7"
GW_VLAN_ADDR = "10.7.0.1"
EXT_VLAN_ADDR = "10.7.0.2"


@pytest.fixture
def vlan_fw(fw):
    """wan0.7 (802.1Q) on both ends of the WAN link, masqueraded as wan0 is."""
    topo = fw
    r = topo.gw.run(["ip", "link", "add", "link", "wan0", "name", VLAN_IF, "type", "vlan",
                     "id", "7"], check=False)
    if r.returncode != 0:
        pytest.skip("this kernel has no 802.1Q VLAN support (8021q): %s" % r.stderr.strip())
    topo.ext.run(["ip", "link", "add", "link", "wan0", "name", VLAN_IF, "type", "vlan",
                  "id", "7"])
    topo.gw.addr_add(VLAN_IF, GW_VLAN_ADDR + "/24")
    topo.gw.link_up(VLAN_IF)
    topo.ext.addr_add(VLAN_IF, EXT_VLAN_ADDR + "/24")
    topo.ext.link_up(VLAN_IF)
    topo.gw.run(["nft", "add", "rule", "inet", "fo_fw", "forward", "iifname", "lan0",
                 "oifname", VLAN_IF, "accept"])
    topo.gw.run(["nft", "add", "rule", "ip", "fo_nat", "postrouting", "oifname", VLAN_IF,
                 "masquerade"])
    return topo


def rx_packets(ns, ifname):
    return int(ns.run(["cat", "/sys/class/net/%s/statistics/rx_packets" % ifname]).stdout)


@pytest.mark.parametrize("mode", ["tc", "xdp"])
def test_vlan_wan_udp_masquerade_offloaded(vlan_fw, fcnat, tmp_path, mode):
    """-i wan0.7: the sub-interface's hook sees the frames untagged and a
    redirect to it tags them (XDP: generic, the only XDP a VLAN device has)."""
    topo = vlan_fw
    if mode == "xdp":
        prepare_xdp_peers(topo)
    stats_path = tmp_path / "st.json"
    inst = fcnat("offload", "--mode", mode, "-i", "lan0", "-i", VLAN_IF,
                 "--stats-file", str(stats_path))
    inst.stats_path = stats_path
    wait_until(stats_path.exists, 5, desc="the first stats file")
    server = topo.ext.udp(EXT_VLAN_ADDR, 7030)
    client = topo.client.udp(CLIENT_ADDR, 0)
    peer = udp_roundtrip(client, server, (EXT_VLAN_ADDR, 7030), b"hello")
    assert peer[0] == GW_VLAN_ADDR, "masqueraded to the VLAN's address"
    establish_udp(inst, client, server, (EXT_VLAN_ADDR, 7030))
    before = fresh(inst)["counters"]
    tagged = rx_packets(topo.ext, VLAN_IF)
    n = 30
    for i in range(n):
        payload = os.urandom(64 + i * 17)
        udp_roundtrip(client, server, (EXT_VLAN_ADDR, 7030), payload)
    after = fresh(inst)["counters"]
    assert after["forwarded"] == before["forwarded"] + 2 * n, "both ways in the fast path"
    assert after["pass_not_offloaded"] == before["pass_not_offloaded"]
    assert rx_packets(topo.ext, VLAN_IF) >= tagged + n, "arrived tagged, on VLAN 7"


def test_next_hop_cached_and_a_neighbour_change_followed(offload, fw):
    """The next hop is cached per flow (no FIB lookup per packet) and
    dropped when the neighbour changes: frames go to the new MAC."""
    topo = fw
    server = topo.ext.udp(SERVER, 7040, timeout=0.3)
    client = topo.client.udp(CLIENT_ADDR, 0)
    establish_udp(offload, client, server, (SERVER, 7040))
    before = fresh(offload)["counters"]["forwarded_nh_cached"]
    for i in range(10):
        udp_roundtrip(client, server, (SERVER, 7040), b"c %d" % i)
    assert fresh(offload)["counters"]["forwarded_nh_cached"] > before, "the cache carried some"

    real = topo.ext.run(["cat", "/sys/class/net/wan0/address"]).stdout.strip()
    topo.gw.run(["ip", "neigh", "replace", SERVER, "lladdr", "02:00:00:00:00:99", "dev", "wan0",
                 "nud", "permanent"])

    def lost():
        client.sendto(b"to the wrong MAC?", (SERVER, 7040))
        try:
            server.recvfrom(100)
            return False
        except OSError:
            return True
    wait_until(lost, 3, interval=0.1, desc="frames sent to the neighbour's new MAC")
    topo.gw.run(["ip", "neigh", "replace", SERVER, "lladdr", real, "dev", "wan0",
                 "nud", "permanent"])

    def back():
        try:
            udp_roundtrip(client, server, (SERVER, 7040), b"back")
            return True
        except OSError:
            return False
    wait_until(back, 3, interval=0.1, desc="and to the right one again")
