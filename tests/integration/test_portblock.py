"""Port-block allocation (RFC 7753 style): each subscriber takes its ports
from blocks of its own, a new block when they are full, up to a limit;
one log record per block, not per mapping; blocks no mapping uses are
freed by the sweeper (doc/design/cgnat.md).

Subscribers are addresses on the client namespace's lan0, translated to
the gateway's own address (no pool needed for blocks).
"""

import json
import re
import socket

from fcnat_util import udp_exchange
from netns import EXT_ADDRS, GW_WAN_ADDR, wait_until
from test_cgnat import IP_RECVERR, icmp_error, stats_json, subscribers, subscribers_json

EXT2 = EXT_ADDRS[0]
ALLOC = re.compile(r"port block allocated (\S+) -> (\S+) ports (\d+)-(\d+)")
FREED = re.compile(r"port block freed (\S+) -> (\S+) ports (\d+)-(\d+)")


def blocks(pattern, text):
    return [(m[0], m[1], int(m[2]), int(m[3])) for m in pattern.findall(text)]


def test_rfc7753_one_record_per_block_ports_inside_it(bpffs, topo, fcnat, run_fcnat, datapath):
    subs = subscribers(topo, 4)
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--log-mappings", "--ports", "20000-20255",
                 "--port-block-size", "16", "--max-port-blocks", "2", *datapath)
    srv = topo.ext.udp(EXT2, 7000)
    seen = {s: [] for s in subs}
    for s in subs:
        for i in range(3):
            c = topo.client.udp(s, 0)
            seen[s].append(udp_exchange(c, srv, (EXT2, 7000), b"%s/%d" % (s.encode(), i)))
    wait_until(lambda: len(re.findall("mapping created", inst.stderr())) >= 12, 5,
               desc="the mappings logged")
    got = blocks(ALLOC, inst.stderr())
    assert len(got) == 4, "not one record per block: %s" % got
    owner = {b[0]: b for b in got}
    assert set(owner) == set(subs)
    for s, srcs in seen.items():
        _, ext, first, last = owner[s]
        assert ext == GW_WAN_ADDR and last - first + 1 == 16, owner[s]
        for addr, port in srcs:
            assert addr == ext and first <= port <= last, (s, addr, port, owner[s])
    assert len({b[2] for b in got}) == 4, "two subscribers share a block"
    # The first subscriber fills its block: its 17th mapping opens a second.
    x = subs[0]
    for i in range(3, 17):
        seen[x].append(udp_exchange(topo.client.udp(x, 0), srv, (EXT2, 7000), b"more%d" % i))
    wait_until(lambda: len(blocks(ALLOC, inst.stderr())) == 5, 5, desc="a second block")
    mine = [b for b in blocks(ALLOC, inst.stderr()) if b[0] == x]
    assert len(mine) == 2 and mine[0][2] != mine[1][2], mine
    for addr, port in seen[x]:
        assert any(b[2] <= port <= b[3] for b in mine), (port, mine)
    assert len({p for _, p in seen[x]}) == 17
    # show subscribers and the counters agree.
    table = subscribers_json(run_fcnat, bpffs)
    assert sorted((r["first"], r["last"]) for r in table[x]["port_ranges"]) == \
        sorted((b[2], b[3]) for b in mine)
    counters = stats_json(run_fcnat, bpffs)["counters"]
    assert counters["port_blocks_allocated"] == 5, counters


def test_rfc7753_block_limit_refused_with_icmp_then_blocks_freed(bpffs, topo, fcnat, run_fcnat,
                                                                 datapath):
    x, y = subscribers(topo, 2)
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--log-mappings", "--ports", "20000-20255",
                 "--port-block-size", "4", "--max-port-blocks", "1", "--timeout-udp", "2",
                 *datapath)
    srv = topo.ext.udp(EXT2, 7000)
    for i in range(4):
        udp_exchange(topo.client.udp(x, 0), srv, (EXT2, 7000), b"x%d" % i)
    over = topo.client.udp(x, 0)
    over.setsockopt(socket.SOL_IP, IP_RECVERR, 1)
    over.sendto(b"over", (EXT2, 7000))
    assert icmp_error(over) == (3, 13), "no ICMP admin-prohibited at the block limit"
    # Another subscriber is unaffected.
    assert udp_exchange(topo.client.udp(y, 0), srv, (EXT2, 7000), b"y")[0] == GW_WAN_ADDR
    counters = stats_json(run_fcnat, bpffs)["counters"]
    assert counters["drop_port_block_limit"] >= 1, counters
    assert counters["refused_icmp_sent"] >= 1, counters
    # The mappings expire; the sweeper frees each block, one record each.
    wait_until(lambda: len(blocks(FREED, inst.stderr())) == 2, 15, interval=0.5,
               desc="both blocks freed")
    alloc = sorted(blocks(ALLOC, inst.stderr()))
    assert sorted(blocks(FREED, inst.stderr())) == alloc, inst.stderr()
    counters = stats_json(run_fcnat, bpffs)["counters"]
    assert counters["port_blocks_freed"] == 2, counters
    # x may take a block again.
    assert udp_exchange(over, srv, (EXT2, 7000), b"again")[0] == GW_WAN_ADDR


def test_port_block_options_rejected_with_exit_2(run_fcnat):
    for args, why in ((("--port-block-size", "0"), "invalid port block size"),
                      (("--port-block-size", "64", "--ports", "20000-20010"), "larger than"),
                      (("--port-block-size", "64", "--ports", "20000-20999", "30000-30999"),
                       "one port range"),
                      (("--max-port-blocks", "4"), "needs --port-block-size"),
                      (("--port-block-size", "64", "--max-port-blocks", "33"),
                       "invalid port block limit"),
                      (("--port-block-size", "64", "--pool", "203.0.113.0/30",
                        "--deterministic", "192.168.77.96/27"), "exclude each other")):
        r = run_fcnat("-i", "wan0", *args)
        assert r.returncode == 2, repr(r)
        assert why in r.stderr, (why, r.stderr)
