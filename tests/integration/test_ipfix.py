"""--ipfix: NAT events as IPFIX (RFC 7011, RFC 8158 information elements),
received by the real nfcapd (Debian nfdump) in the external namespace and
read back with `nfdump -o json`; and the event ring buffer's overflow:
events lost are counted, the datapath keeps translating."""

import json
import os
import signal
import socket
import subprocess

from fcnat_util import udp_exchange
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2, COLLECTOR = EXT_ADDRS[0], EXT_ADDRS[2]
IPFIX_PORT = 4739

# RFC 8158 §4.3 natEvent values.
NAT44_BIB_CREATE, NAT44_BIB_DELETE = 8, 9


class Nfcapd:
    """nfcapd listening on COLLECTOR:port in the external namespace. It writes
    a file every 2 seconds (-t 2); records() decodes the finished ones."""

    def __init__(self, topo, port=IPFIX_PORT):
        self.dir = os.path.join(topo.workdir, "nfcapd-%d" % port)
        os.makedirs(self.dir, exist_ok=True)
        self.bg = topo.ext.start(["nfcapd", "-t", "2", "-S", "0", "-w", self.dir,
                                  "-b", COLLECTOR, "-p", str(port)], name="nfcapd")
        topo.ext.wait_listening(port, "udp", COLLECTOR)

    def records(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if not name.startswith("nfcapd.") or "current" in name:
                continue
            res = subprocess.run(["nfdump", "-r", os.path.join(self.dir, name), "-o", "json"],
                                 capture_output=True, text=True, check=True)
            # An empty file prints "No matching flows" inside the brackets.
            text = res.stdout.replace("No matching flows", "")
            if text.strip():
                out += json.loads(text)
        return out

    def nat_records(self, event=None):
        """(natEvent, proto, internal addr, port, external addr, port, time) tuples."""
        got = []
        for r in self.records():
            if "nat_event_id" not in r:
                continue
            if r["proto"] == 1:
                # nfdump reads an ICMP record's sourceTransportPort (the
                # echo identifier) as type and code: its high byte is
                # "icmp_code", its low byte "icmp_type".
                port = r["icmp_code"] << 8 | r["icmp_type"]
            else:
                port = r["src_port"]
            row = (int(r["nat_event_id"]), r["proto"], r.get("src4_addr"), port,
                   r.get("src4_xlt_ip"), int(r["src_xlt_port"]), r["t_event"])
            if event is None or row[0] == event:
                got.append(row)
        return got


def stats(run_fcnat, bpffs):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)["counters"]


def test_rfc8158_udp_tcp_icmp_create_and_delete_decoded_by_nfdump(topo, fcnat, run_fcnat, bpffs):
    collector = Nfcapd(topo)
    fcnat("-i", "wan0", "--bpffs", bpffs, "--ipfix", "%s:%d" % (COLLECTOR, IPFIX_PORT),
          "--ipfix-domain", "77",
          "--timeout-udp", "1", "--timeout-icmp", "1", "--timeout-tcp-trans", "1")

    # UDP: the port is in the range and free, so it is kept.
    u = topo.client.udp(CLIENT_ADDR, 25700)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(u, srv, (EXT2, 7000), b"u") == (GW_WAN_ADDR, 25700)
    # TCP: a whole connection, closed from both sides.
    lsock = topo.ext.tcp(EXT2, 7001)
    lsock.listen(1)
    t = topo.client.tcp(CLIENT_ADDR, 25701)
    t.connect((EXT2, 7001))
    conn, seen = lsock.accept()
    assert seen == (GW_WAN_ADDR, 25701)
    t.sendall(b"t")
    assert conn.recv(1) == b"t"
    # ICMP echo from a ping socket bound to 25702: that is its identifier,
    # in the range and free, so kept like a port.
    topo.client.sysctl("net.ipv4.ping_group_range", "0 0")
    p = topo.client.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP,
                           bind=(CLIENT_ADDR, 25702))
    p.sendto(bytes([8, 0, 0, 0, 0, 0, 0, 1]) + b"echo", (EXT2, 0))
    reply, _ = p.recvfrom(100)
    assert reply[0] == 0 and reply[8:] == b"echo", reply
    t.close()
    conn.close()

    want = {
        ("udp", 17, 25700, 25700),
        ("tcp", 6, 25701, 25701),
        ("icmp", 1, 25702, 25702),
    }

    def rows(event):
        return {(p, ip, iport, xip, xport) for (_, p, ip, iport, xip, xport, _)
                in collector.nat_records(event)}

    want_rows = {(proto, CLIENT_ADDR, iport, GW_WAN_ADDR, xport)
                 for (_, proto, iport, xport) in want}
    wait_until(lambda: rows(NAT44_BIB_CREATE) >= want_rows, 15,
               desc="NAT44 BIB create records for UDP, TCP and ICMP at the collector")
    # Short timeouts: the sweeper deletes them all, and says so.
    wait_until(lambda: rows(NAT44_BIB_DELETE) >= want_rows, 20,
               desc="NAT44 BIB delete records for UDP, TCP and ICMP at the collector")
    recs = collector.nat_records()
    assert rows(NAT44_BIB_CREATE) == want_rows, recs
    assert rows(NAT44_BIB_DELETE) == want_rows, recs
    # Each mapping's creation is stamped no later than its deletion.
    for (_, proto, iport, _) in want:
        times = {ev: ts for (ev, p, _, ip, _, _, ts) in recs if p == proto and ip == iport}
        assert times[NAT44_BIB_CREATE] <= times[NAT44_BIB_DELETE], recs
    cnt = stats(run_fcnat, bpffs)
    assert cnt["ipfix_messages_sent"] >= 2 and cnt["ipfix_messages_dropped"] == 0, cnt
    assert cnt["events_lost"] == 0, cnt


def test_rfc7011_templates_resent_for_a_late_collector(topo, fcnat, run_fcnat, bpffs):
    """UDP export (RFC 7011 §8.4): a collector that missed the templates
    decodes records once they come again, with no restart of fcnat."""
    fcnat("-i", "wan0", "--bpffs", bpffs, "--ipfix", "%s:%d" % (COLLECTOR, IPFIX_PORT),
          "--ipfix-template-interval", "1")
    srv = topo.ext.udp(EXT2, 7000)
    early = topo.client.udp(CLIENT_ADDR, 25710)
    assert udp_exchange(early, srv, (EXT2, 7000), b"early") == (GW_WAN_ADDR, 25710)
    # Nobody listened: that record and the first templates are gone.
    wait_until(lambda: stats(run_fcnat, bpffs)["ipfix_messages_sent"] >= 2, 10,
               desc="the first IPFIX messages sent")
    collector = Nfcapd(topo)
    # Two more messages after the collector listens: one at least is a
    # template refresh that reached it.
    sent = stats(run_fcnat, bpffs)["ipfix_messages_sent"]
    wait_until(lambda: stats(run_fcnat, bpffs)["ipfix_messages_sent"] >= sent + 2, 10,
               desc="the templates sent again")
    late = topo.client.udp(CLIENT_ADDR, 25711)
    assert udp_exchange(late, srv, (EXT2, 7000), b"late") == (GW_WAN_ADDR, 25711)
    wait_until(lambda: any(r[3] == 25711 for r in collector.nat_records(NAT44_BIB_CREATE)), 15,
               desc="the later mapping decoded by the late collector")
    assert not any(r[3] == 25710 for r in collector.nat_records()), collector.nat_records()


def test_event_ring_overflow_counted_datapath_unaffected(topo, fcnat, run_fcnat, bpffs):
    """A tiny ring (4 KiB: 64 events of 56 bytes and an 8-byte header) and a
    daemon that does not read it (SIGSTOP): new flows keep being translated,
    the events that did not fit are counted, and the collector gets exactly
    the others."""
    collector = Nfcapd(topo)
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--ipfix", "%s:%d" % (COLLECTOR, IPFIX_PORT),
                 "--event-ring-kb", "4")
    srv = topo.ext.udp(EXT2, 7000)
    # Neighbours resolved first, so the burst below is not cut short by ARP.
    # From a port of the range that it keeps: an ephemeral one would get a
    # random external port, one time in 50 among the burst's 26000-26199.
    udp_exchange(topo.client.udp(CLIENT_ADDR, 25999), srv, (EXT2, 7000), b"warm-up")
    wait_until(lambda: len(collector.nat_records(NAT44_BIB_CREATE)) == 1, 15,
               desc="the warm-up mapping exported")
    before = stats(run_fcnat, bpffs)
    n = 200
    os.kill(inst.pid, signal.SIGSTOP)
    try:
        socks = [topo.client.udp(CLIENT_ADDR, 26000 + i) for i in range(n)]
        for i, s in enumerate(socks):
            s.sendto(b"flow-%d" % i, (EXT2, 7000))
        seen = {}
        for _ in range(n):
            data, src = srv.recvfrom(100)
            seen[int(data.split(b"-")[1])] = src
        # Every flow translated, and the replies come back through it.
        assert seen == {i: (GW_WAN_ADDR, 26000 + i) for i in range(n)}
        for i in range(n):
            srv.sendto(b"back-%d" % i, seen[i])
        for i, s in enumerate(socks):
            assert s.recvfrom(100) == (b"back-%d" % i, (EXT2, 7000))
        during = stats(run_fcnat, bpffs)
    finally:
        os.kill(inst.pid, signal.SIGCONT)
    created = during["mappings_created"] - before["mappings_created"]
    lost = during["events_lost"] - before["events_lost"]
    assert created == n, during
    assert lost >= n - 64, during
    # What fit in the ring reaches the collector once the daemon reads again.
    wait_until(lambda: len([r for r in collector.nat_records(NAT44_BIB_CREATE)
                            if 26000 <= r[3] < 26000 + n]) == n - lost, 15,
               desc="the events that fitted in the ring exported")
