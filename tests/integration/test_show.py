"""fcnat show mappings|sessions and fcnat stats, after real traffic through the NAT."""

import json
import signal

import pytest

from fcnat_util import in_range, recv_matching, udp_exchange
from netns import CLIENT2_ADDR, CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS


def show(run_fcnat, bpffs, *args):
    r = run_fcnat(*(list(args) + ["--bpffs", bpffs]))
    assert r.returncode == 0, repr(r)
    return r


def show_json(run_fcnat, bpffs, *args):
    return json.loads(show(run_fcnat, bpffs, *args, "--json").stdout)


@pytest.fixture
def traffic(bpffs, topo, fcnat):
    """Two UDP mappings (one with two remotes), one TCP connection."""
    fcnat("-i", "wan0", "--bpffs", bpffs)
    a = topo.client.udp(CLIENT_ADDR, 0)
    b = topo.client.udp(CLIENT2_ADDR, 25005)
    s2 = topo.ext.udp(EXT2, 7000)
    s3 = topo.ext.udp(EXT3, 7000)
    ma = udp_exchange(a, s2, (EXT2, 7000), b"a2")
    assert udp_exchange(a, s3, (EXT3, 7000), b"a3") == ma
    mb = udp_exchange(b, s2, (EXT2, 7000), b"b2")
    lsock = topo.ext.tcp(EXT4, 7300)
    lsock.listen(1)
    c = topo.client.tcp(CLIENT_ADDR, 0)
    c.connect((EXT4, 7300))
    conn, mt = lsock.accept()
    c.sendall(b"x")
    assert conn.recv(1) == b"x"
    conn.sendall(b"y")
    assert c.recv(1) == b"y"
    return {"a": (a.getsockname(), ma), "b": (b.getsockname(), mb),
            "tcp": (c.getsockname(), mt), "keep": (conn, lsock, c)}


def test_show_mappings_json_lists_every_live_mapping(bpffs, traffic, run_fcnat):
    got = show_json(run_fcnat, bpffs, "show", "mappings", "-i", "wan0")
    rows = {(m["proto"], m["internal_addr"], m["internal_port"], m["external_addr"],
             m["external_port"], m["sessions"]) for m in got}
    (ia, ma), (ib, mb), (it, mt) = traffic["a"], traffic["b"], traffic["tcp"]
    assert rows == {
        ("udp", ia[0], ia[1], GW_WAN_ADDR, ma[1], 2),
        ("udp", ib[0], ib[1], GW_WAN_ADDR, mb[1], 1),
        ("tcp", it[0], it[1], GW_WAN_ADDR, mt[1], 1),
    }
    for m in got:
        assert m["static"] is False
        assert 0 < m["expires_in"] <= 7440, m


def test_show_mappings_filters(bpffs, traffic, run_fcnat):
    (ia, ma), (ib, mb), (it, mt) = traffic["a"], traffic["b"], traffic["tcp"]
    udp = show_json(run_fcnat, bpffs, "show", "mappings", "--proto", "udp")
    assert sorted(m["external_port"] for m in udp) == sorted([ma[1], mb[1]])
    by_addr = show_json(run_fcnat, bpffs, "show", "mappings", "--internal", CLIENT2_ADDR)
    assert [(m["internal_addr"], m["internal_port"]) for m in by_addr] == [tuple(ib)]
    by_port = show_json(run_fcnat, bpffs, "show", "mappings", "--external", str(mt[1]))
    assert [(m["proto"], m["internal_port"]) for m in by_port] == [("tcp", it[1])]
    none = show_json(run_fcnat, bpffs, "show", "mappings", "--proto", "icmp")
    assert none == []


def test_show_sessions_json_and_tcp_state(bpffs, traffic, run_fcnat):
    got = show_json(run_fcnat, bpffs, "show", "sessions")
    rows = {(s["proto"], s["internal_addr"], s["internal_port"], s["external_port"],
             s["remote_addr"], s["remote_port"], s["state"]) for s in got}
    (ia, ma), (ib, mb), (it, mt) = traffic["a"], traffic["b"], traffic["tcp"]
    assert rows == {
        ("udp", ia[0], ia[1], ma[1], EXT2, 7000, "active"),
        ("udp", ia[0], ia[1], ma[1], EXT3, 7000, "active"),
        ("udp", ib[0], ib[1], mb[1], EXT2, 7000, "active"),
        ("tcp", it[0], it[1], mt[1], EXT4, 7300, "established"),
    }
    only = show_json(run_fcnat, bpffs, "show", "sessions", "--internal", CLIENT_ADDR,
                     "--proto", "udp")
    assert sorted(s["remote_addr"] for s in only) == [EXT2, EXT3]


def test_show_text_output(bpffs, traffic, run_fcnat):
    (ia, ma) = traffic["a"]
    out = show(run_fcnat, bpffs, "show", "mappings").stdout.splitlines()
    assert out[0].split() == ["PROTO", "INTERNAL", "EXTERNAL", "SESSIONS", "EXPIRES"]
    want = ["udp", "%s:%d" % ia, "%s:%d" % (GW_WAN_ADDR, ma[1]), "2"]
    assert any(l.split()[:4] == want for l in out[1:]), out
    out = show(run_fcnat, bpffs, "show", "sessions", "--proto", "tcp").stdout.splitlines()
    assert len(out) == 2 and out[1].split()[4] == "established", out


def test_stats_json_counts_real_traffic(bpffs, topo, fcnat, run_fcnat):
    fcnat("-i", "wan0", "--bpffs", bpffs, "--ports", "30000-30099")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    got = []
    for i in range(5):
        c.sendto(b"out-%d" % i, (EXT2, 7000))
    for i in range(5):
        data, src = srv.recvfrom(100)
        got.append(data)
    assert sorted(got) == [b"out-%d" % i for i in range(5)]
    for i in range(3):
        srv.sendto(b"in-%d" % i, src)
        assert recv_matching(c, b"in-%d" % i, 3) == (EXT2, 7000)

    st = show_json(run_fcnat, bpffs, "stats", "-i", "wan0")
    cnt = st["counters"]
    assert cnt["translated_out"] == 5, cnt
    assert cnt["translated_in"] == 3, cnt
    assert cnt["mappings_created"] == 1 and cnt["sessions_created"] == 1, cnt
    assert cnt["drop_unsolicited"] == 0, cnt
    assert st["mappings"] == 1 and st["sessions"] == 1, st
    ports = {p["proto"]: p for p in st["ports"]}
    assert ports["udp"] == {"address": GW_WAN_ADDR, "proto": "udp", "used": 1, "total": 100,
                            "utilisation": 0.01, "pool": False}, ports
    assert ports["tcp"]["used"] == 0 and ports["icmp"]["used"] == 0, ports

    # A datagram to a port of the range with no mapping is dropped and counted.
    topo.ext.udp(EXT3, 7001).sendto(b"unsolicited", (GW_WAN_ADDR, 30099 if src[1] != 30099
                                                      else 30098))
    wait_until(lambda: show_json(run_fcnat, bpffs, "stats")["counters"]["drop_unsolicited"] == 1,
               3, desc="drop_unsolicited to count the stray datagram")

    text = show(run_fcnat, bpffs, "stats").stdout
    assert "translated_out" in text and "mappings 1" in text, text


def test_stats_of_a_kept_instance_while_fcnat_is_down(bpffs, topo, fcnat, run_fcnat):
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--keep-state")
    c = topo.client.udp(CLIENT_ADDR, 0)
    mapped = udp_exchange(c, topo.ext.udp(EXT2, 7000), (EXT2, 7000), b"m")
    assert inst.stop(signal.SIGTERM) == 0
    got = show_json(run_fcnat, bpffs, "show", "mappings")
    assert [(m["internal_port"], m["external_port"]) for m in got] == \
        [(c.getsockname()[1], mapped[1])]
    assert in_range(mapped[1])


@pytest.mark.parametrize("args,status,needle", [
    (["show"], 2, "mappings, sessions or subscribers"),
    (["show", "bogus"], 2, "bogus"),
    (["show", "mappings", "--ports", "1"], 2, "--ports"),
    (["show", "mappings", "--proto", "sctp"], 2, "sctp"),
    (["show", "sessions", "--internal", "nope"], 2, "nope"),
    (["stats", "--keep-state"], 2, "--keep-state"),
    (["show", "mappings", "-i", "wan0"], 1, "no fcnat state"),
    (["stats"], 1, "no fcnat state"),
], ids=["no-what", "bad-what", "daemon-option", "bad-proto", "bad-addr", "stats-daemon-option",
        "not-running", "stats-not-running"])
def test_show_errors(bpffs, topo, run_fcnat, args, status, needle):
    r = run_fcnat(*(args + ["--bpffs", bpffs]))
    assert r.returncode == status, repr(r)
    assert needle in r.stderr, repr(r)
    assert len([l for l in r.stderr.splitlines() if l.strip()]) <= 2, r.stderr
