"""--log-mappings: the mapping event log (creation from the datapath's ring
buffer, deletion from the sweeper), rate-limited, off by default."""

import re

from fcnat_util import udp_exchange
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2 = EXT_ADDRS[0]


def test_mapping_create_and_delete_are_logged(topo, fcnat):
    inst = fcnat("-i", "wan0", "--log-mappings", "--timeout-udp", "1")
    c = topo.client.udp(CLIENT_ADDR, 25700)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"x") == (GW_WAN_ADDR, 25700)
    created = "mapping created udp %s:25700 -> %s:25700" % (CLIENT_ADDR, GW_WAN_ADDR)
    deleted = "mapping deleted udp %s:25700 -> %s:25700" % (CLIENT_ADDR, GW_WAN_ADDR)
    wait_until(lambda: created in inst.stderr(), 5, desc="creation logged")
    wait_until(lambda: deleted in inst.stderr(), 10, desc="deletion logged after expiry")
    assert inst.stderr().index(created) < inst.stderr().index(deleted)


def test_event_log_is_rate_limited(topo, fcnat):
    inst = fcnat("-i", "wan0", "--log-mappings")
    srv = topo.ext.udp(EXT2, 7000)
    # Warm up neighbour entries, so the burst is not cut short by ARP.
    udp_exchange(topo.client.udp(CLIENT_ADDR, 0), srv, (EXT2, 7000), b"warm-up")
    socks = [topo.client.udp(CLIENT_ADDR, 0) for _ in range(300)]
    for s in socks:
        s.sendto(b"burst", (EXT2, 7000))
    wait_until(lambda: "events not shown" in inst.stderr(), 10,
               desc="the rate limit reports what it suppressed")
    shown = len(re.findall(r"mapping created udp", inst.stderr()))
    assert 100 <= shown < 300, shown


def test_no_event_log_by_default(topo, fcnat):
    inst = fcnat("-i", "wan0")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    udp_exchange(c, srv, (EXT2, 7000), b"x")
    assert "mapping created" not in inst.stderr()
