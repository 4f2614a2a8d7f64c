"""Deterministic NAT (RFC 7422): every internal address of a prefix has a
fixed pool address and port range, computed from the configuration;
`fcnat lookup` answers both ways without the daemon, and what it says
must be what the servers see (doc/design/cgnat.md).

Subscribers are addresses on the client namespace's lan0; the pool is
routed to the gateway by the "upstream", as in test_cgnat.py.
"""

import json

from fcnat_util import udp_exchange
from netns import EXT_ADDRS
from test_cgnat import POOL, POOL_ADDRS, pool_route, stats_json, subscribers  # noqa: F401

EXT2 = EXT_ADDRS[0]
# 192.168.77.96/27: 32 addresses over 4 pool addresses, K = 8 per address;
# ports 20000-20255 (256): 32 ports each.
DET_ARGS = ("--pool", POOL, "--deterministic", "192.168.77.96/27", "--ports", "20000-20255")


def lookup(run_fcnat, *args):
    r = run_fcnat("lookup", *args, "--json")
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)


def test_rfc7422_lookup_both_ways_agrees_with_what_the_server_sees(
        bpffs, topo, fcnat, run_fcnat, datapath, pool_route, tmp_path):
    subs = subscribers(topo, 12)  # 192.168.77.100-111, inside the prefix
    fcnat("-i", "wan0", "--bpffs", bpffs, *DET_ARGS, *datapath)
    # lookup reads the same plan from a configuration file, too.
    conf = tmp_path / "det.conf"
    conf.write_text("[nat]\nifname = wan0\npool = %s\ndeterministic = 192.168.77.96/27\n"
                    "ports = 20000-20255\n" % POOL)
    srv = topo.ext.udp(EXT2, 7000)
    seen = {}
    for s in subs:
        for i in range(2):
            c = topo.client.udp(s, 0)
            seen.setdefault(s, []).append(udp_exchange(c, srv, (EXT2, 7000),
                                                       b"%s/%d" % (s.encode(), i)))
    owners = set()
    for s, srcs in seen.items():
        fwd = lookup(run_fcnat, s, *DET_ARGS)
        assert fwd == lookup(run_fcnat, s, "-c", str(conf)), "file and options disagree"
        assert fwd["internal"] == s
        assert fwd["port_last"] - fwd["port_first"] + 1 == 32, fwd
        for addr, port in srcs:
            assert addr == fwd["external"], (s, addr, fwd)
            assert fwd["port_first"] <= port <= fwd["port_last"], (s, port, fwd)
            back = lookup(run_fcnat, addr, str(port), *DET_ARGS)
            assert back["internal"] == s, (addr, port, back)
        owners.add((fwd["external"], fwd["port_first"]))
    assert len(owners) == len(subs), "two subscribers share a range"
    assert {o[0] for o in owners} == POOL_ADDRS, "the subscribers spread over the pool"
    # show subscribers names the same ranges.
    r = run_fcnat("show", "subscribers", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    for row in json.loads(r.stdout):
        fwd = lookup(run_fcnat, row["internal_addr"], *DET_ARGS)
        assert row["external_addr"] == fwd["external"]
        assert row["port_ranges"] == [{"first": fwd["port_first"], "last": fwd["port_last"]}]


def test_rfc7422_source_outside_prefix_not_translated(bpffs, topo, fcnat, run_fcnat, pool_route):
    (outside,) = subscribers(topo, 1, first=200)
    fcnat("-i", "wan0", "--bpffs", bpffs, *DET_ARGS)
    srv = topo.ext.udp(EXT2, 7000)
    c = topo.client.udp(outside, 0)
    c.sendto(b"nope", (EXT2, 7000))
    srv.settimeout(1.0)
    try:
        data = srv.recvfrom(2048)
    except OSError:
        data = None
    assert data is None, "a source outside the deterministic prefix got out: %r" % (data,)
    assert stats_json(run_fcnat, bpffs)["counters"]["drop_not_deterministic"] >= 1


def test_lookup_text_and_errors(run_fcnat):
    r = run_fcnat("lookup", "192.168.77.100", *DET_ARGS)
    assert r.returncode == 0, repr(r)
    # i = 4: 203.0.113.(4 % 4), slot 4 / 4 = 1: ports 20032-20063.
    assert r.stdout == "192.168.77.100: external 203.0.113.0 ports 20032-20063\n", r.stdout
    r = run_fcnat("lookup", "203.0.113.0", "20040", *DET_ARGS)
    assert r.returncode == 0, repr(r)
    assert r.stdout.startswith("203.0.113.0 port 20040: internal 192.168.77.100 "), r.stdout
    # No subscriber owns it, or it is outside: said, exit 1.
    for args in (("192.168.78.1",), ("203.0.113.9", "20040"), ("203.0.113.0", "30000")):
        r = run_fcnat("lookup", *args, *DET_ARGS)
        assert r.returncode == 1 and r.stderr, repr(r)
    # Plans that cannot hold, and bad input: exit 2 with the reason.
    for args, why in ((("192.168.77.100", "--pool", "203.0.113.0", "--deterministic",
                        "10.0.0.0/8"), "do not fit"),
                      (("192.168.77.100", "--deterministic", "192.168.77.96/27"), "--pool"),
                      (("192.168.77.100", *DET_ARGS, "--ports", "1-2", "5-6"), "one port range"),
                      (("192.168.77.100",), "--deterministic"),
                      (("not-an-address", *DET_ARGS), "invalid"),
                      (("203.0.113.0", "70000", *DET_ARGS), "invalid port")):
        r = run_fcnat("lookup", *args)
        assert r.returncode == 2, repr(r)
        assert why in r.stderr, (why, r.stderr)
    # The daemon refuses the same plan at start.
    r = run_fcnat("-i", "wan0", "--pool", "203.0.113.0", "--deterministic", "10.0.0.0/8")
    assert r.returncode == 2 and "do not fit" in r.stderr, repr(r)
