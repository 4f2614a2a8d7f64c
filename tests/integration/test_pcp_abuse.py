"""NAT-PMP/PCP under abuse: many hosts at their limits, external address
flaps in the middle of renewal storms, deletes, malformed and spoofed
requests, floods past --pcp-rate.

After each: the daemon is up, the limits hold exactly, and every mapping
`fcnat show mappings` lists has an owner and an expiry (nothing orphaned).
Every loop is bounded in count, every wait in time; rates are checked by
counting answers against what the token bucket can give, never by timing.
"""

import os
import socket
import struct
import time

from netns import CLIENT6_ADDR, CLIENT_ADDR, GW_LAN6_ADDR, GW_LAN_ADDR, GW_WAN_ADDR, wait_until
from test_pcp import (MALFORMED_OPTION, NO_RESOURCES, NOT_AUTHORIZED, PCP_PORT, SUCCESS, UDP,
                      TCP, UNSUPP_VERSION, USER_EX_QUOTA, Client, mapped, mappings, option,
                      parse_header, parse_map, pcp_header, pcp_map, pcp_map6)

PCP_TABLE_MAX = 4096        # src/pcp.h
ADDR_EVENT = "external address of wan0 changed"


def start(fcnat, bpffs, *extra):
    # A rate no test here reaches unless it means to.
    return fcnat("-i", "wan0", "--bpffs", bpffs, "--pcp-if", "lan0", "--pcp-rate", "100000",
                 *extra)


def host_addr(i):
    return "192.168.77.%d" % (10 + i)


def add_hosts(topo, n):
    """n more addresses on the client's lan0 (192.168.77.10 and up), one
    PCP client socket each."""
    batch = "".join("addr add %s/24 dev lan0\n" % host_addr(i) for i in range(n))
    topo.client.run(["ip", "-batch", "-"], input=batch)
    return [Client(topo, host_addr(i)) for i in range(n)]


def ask_map(c, addr, nonce, port, lifetime=600):
    r = c.ask(pcp_map(nonce, UDP, port, lifetime, client=addr))
    assert r is not None, "no answer to %s:%d" % (addr, port)
    return parse_map(r)


def owner(m):
    # Builds before `owner` listed NAT-PMP/PCP mappings as static.
    return m.get("owner", "pcp" if m["static"] else "traffic")


def census(run_fcnat, bpffs):
    """{internal address: mappings the PCP server owns}; fails on any
    mapping without an owner or an expiry."""
    ours = {}
    for m in mappings(run_fcnat, bpffs):
        assert owner(m) in ("pcp", "traffic"), m      # no forwards in these tests
        assert m["expires_in"] is not None, "a mapping nobody will end: %r" % m
        if owner(m) == "pcp":
            ours[m["internal_addr"]] = ours.get(m["internal_addr"], 0) + 1
    return ours


def flap(topo, inst, addr=GW_WAN_ADDR):
    """The external address goes and comes back; returns once the daemon
    logged both events."""
    seen = inst.stderr().count(ADDR_EVENT)
    topo.gw.run(["ip", "addr", "del", addr + "/24", "dev", "wan0"])
    wait_until(lambda: inst.stderr().count(ADDR_EVENT) >= seen + 1, 10,
               desc="the daemon to see the address go")
    topo.gw.run(["ip", "addr", "add", addr + "/24", "dev", "wan0"])
    wait_until(lambda: inst.stderr().count(ADDR_EVENT) >= seen + 2, 10,
               desc="the daemon to see the address back")


def test_hosts_at_their_limit_flaps_and_renewal_storms_keep_every_limit(topo, fcnat, bpffs,
                                                                         run_fcnat):
    limit = 3
    inst = start(fcnat, bpffs, "--pcp-max-per-host", str(limit))
    hosts = add_hosts(topo, 12)
    nonces = [os.urandom(12) for _ in hosts]
    for i, c in enumerate(hosts):
        for port in range(5000, 5000 + limit):
            assert ask_map(c, host_addr(i), nonces[i], port)["result"] == SUCCESS
        m = ask_map(c, host_addr(i), nonces[i], 5000 + limit)
        assert m["result"] == USER_EX_QUOTA, m
    assert census(run_fcnat, bpffs) == {host_addr(i): limit for i in range(len(hosts))}

    # Three rounds: a flap, then every host renews its old ports and asks
    # for as many new ones (old first in odd rounds, new first in even).
    for rnd in range(3):
        flap(topo, inst)
        granted = {}
        for i, c in enumerate(hosts):
            old = list(range(5000, 5000 + limit))
            new = list(range(6000 + 10 * rnd, 6000 + 10 * rnd + limit))
            for port in (old + new if rnd % 2 else new + old):
                m = ask_map(c, host_addr(i), nonces[i], port)
                assert m["result"] in (SUCCESS, USER_EX_QUOTA), m
                granted[host_addr(i)] = granted.get(host_addr(i), 0) + (m["result"] == SUCCESS)
        assert granted == {host_addr(i): limit for i in range(len(hosts))}, rnd
        assert census(run_fcnat, bpffs) == granted, rnd
        assert inst.running()


def test_table_bound_holds_through_a_flap_and_a_storm_from_many_hosts(topo, fcnat, bpffs,
                                                                      run_fcnat):
    per_host, nhosts = 64, 70            # 4480 requests: more than the table
    inst = start(fcnat, bpffs, "--pcp-max-per-host", str(per_host))
    hosts = add_hosts(topo, nhosts)

    def storm(base):
        results = {}
        for i, c in enumerate(hosts):
            for port in range(base, base + per_host):
                r = ask_map(c, host_addr(i), b"s" * 12, port)["result"]
                results[r] = results.get(r, 0) + 1
        return results

    # The first 64 hosts fill the table; the other 6 find it full.
    over = per_host * nhosts - PCP_TABLE_MAX
    assert storm(5000) == {SUCCESS: PCP_TABLE_MAX, NO_RESOURCES: over}
    assert sum(census(run_fcnat, bpffs).values()) == PCP_TABLE_MAX
    flap(topo, inst)
    # A new epoch: new ports first, then every old one again, refused by
    # the host's limit or the table's.
    assert storm(8000) == {SUCCESS: PCP_TABLE_MAX, NO_RESOURCES: over}
    assert storm(5000) == {USER_EX_QUOTA: PCP_TABLE_MAX, NO_RESOURCES: over}
    ours = census(run_fcnat, bpffs)
    assert sum(ours.values()) == PCP_TABLE_MAX and max(ours.values()) <= per_host
    assert inst.running()


def test_deletes_and_expiry_through_a_flap_leave_nothing_behind(topo, fcnat, bpffs, run_fcnat):
    inst = start(fcnat, bpffs, "--pcp-min-lifetime", "1")
    c = Client(topo)
    nonce = os.urandom(12)
    for port in range(7000, 7010):
        assert ask_map(c, CLIENT_ADDR, nonce, port, lifetime=600)["result"] == SUCCESS
    tcp = parse_map(c.ask(pcp_map(nonce, TCP, 7100, 600)))
    assert tcp["result"] == SUCCESS
    # Two deleted by PCP lifetime 0, two by NAT-PMP lifetime 0.
    for port in (7000, 7001):
        m = ask_map(c, CLIENT_ADDR, nonce, port, lifetime=0)
        assert (m["result"], m["lifetime"]) == (SUCCESS, 0)
    for port in (7002, 7003):
        r = c.ask(struct.pack("!BBHHHI", 0, 1, 0, port, 0, 0))
        assert r is not None and struct.unpack("!BBH", r[:4]) == (0, 129, 0)
    assert census(run_fcnat, bpffs) == {CLIENT_ADDR: 7}
    # Every UDP one at once: internal port 0, lifetime 0.
    assert parse_map(c.ask(pcp_map(nonce, UDP, 0, 0)))["result"] == SUCCESS
    assert census(run_fcnat, bpffs) == {CLIENT_ADDR: 1}
    flap(topo, inst)
    assert census(run_fcnat, bpffs) == {}, "the flap released them all"
    for port in range(7004, 7010):
        assert ask_map(c, CLIENT_ADDR, nonce, port, lifetime=3)["result"] == SUCCESS
    assert census(run_fcnat, bpffs) == {CLIENT_ADDR: 6}
    wait_until(lambda: census(run_fcnat, bpffs) == {}, 20, interval=0.5,
               desc="every renewed mapping to expire")
    assert inst.running()


def test_bad_versions_lengths_and_opcodes_are_answered_by_the_rules_or_dropped(topo, fcnat,
                                                                                bpffs, run_fcnat):
    inst = start(fcnat, bpffs)
    c = Client(topo)
    probe = b"\0\0"     # NAT-PMP: the external address
    answered = dropped = 0

    def exchange(payload):
        """The answer to payload, or None if it got none: the probe sent
        right after it is answered first (one socket, answered in order)."""
        c.sock.sendto(payload, (GW_LAN_ADDR, PCP_PORT))
        c.sock.sendto(probe, (GW_LAN_ADDR, PCP_PORT))
        c.sock.settimeout(3)
        first = c.sock.recvfrom(2048)[0]
        is_probe = payload[:2] == probe    # a NAT-PMP address request itself
        if len(first) == 12 and first[:4] == b"\0\x80\0\0" and not is_probe:
            return None
        c.sock.recvfrom(2048)    # the probe's answer
        return first

    lengths = (0, 1, 2, 3, 8, 11, 12, 23, 24, 25, 28, 60, 64, 1100, 1104, 1500)
    for version in range(256):
        for opcode in (0, 1, 2, 3, 0x7f, 0x80):
            for n in lengths:
                if (version + opcode + n) % 7:    # a spread sample: ~2600 requests
                    continue
                # 0xff after the client address: no protocol, option or
                # port that could make a valid mapping.
                body = (struct.pack("!BBHI", version, opcode, 0, 600) + mapped(CLIENT_ADDR)
                        + b"\xff" * 1500)[:n]
                r = exchange(body)
                drop = n < 2 or opcode & 0x80 or (version == 0 and opcode in (1, 2) and n < 12)
                assert (r is None) == bool(drop), (version, opcode, n, r and r[:4])
                if r is None:
                    dropped += 1
                    continue
                answered += 1
                assert r[1] & 0x80, (version, opcode, n, r[:4])
                if version == 0:
                    assert r[0] == 0
                else:
                    h = parse_header(r)
                    assert h["version"] == 2 and len(r) % 4 == 0 and len(r) <= 1100
                    if version != 2:
                        assert h["result"] == UNSUPP_VERSION and len(r) == 24
    assert answered > 1000 and dropped > 50, (answered, dropped)
    assert inst.running()
    assert census(run_fcnat, bpffs) == {}    # nothing above asked for a valid mapping


def raw_udp(src, dst, sport, dport, payload):
    """An IPv4/UDP datagram with any source (IP_HDRINCL: the kernel fills
    the length and header checksum; UDP checksum 0: none)."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip + struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def test_spoofed_and_off_subnet_sources_get_no_mapping(topo, fcnat, bpffs, run_fcnat):
    inst = start(fcnat, bpffs, "--pcp-third-party")
    # Let forged sources reach the daemon's socket: no reverse-path
    # filter, our own address accepted from outside (this test's own
    # namespace: gone with it).
    for key in ("all", "lan0"):
        topo.gw.sysctl("net.ipv4.conf.%s.rp_filter" % key, 0)
    topo.gw.sysctl("net.ipv4.conf.lan0.accept_local", 1)
    raw = topo.client.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    forged = ["10.66.0.5", "172.16.1.1", GW_LAN_ADDR, "192.168.77.0", "192.168.77.255",
              GW_WAN_ADDR, "198.51.100.2", "224.0.0.1"]
    for rnd in range(20):
        for src in forged:
            for payload in (pcp_map(b"f" * 12, UDP, 9000 + rnd, 600, client=src),
                            struct.pack("!BBHHHI", 0, 1, 0, 9000 + rnd, 0, 600)):
                raw.sendto(raw_udp(src, GW_LAN_ADDR, 5350, PCP_PORT, payload), (GW_LAN_ADDR, 0))
    # A real off-subnet host (routed, can receive) gets no answer either.
    topo.client.run(["ip", "addr", "add", "10.66.0.5/32", "dev", "lan0"])
    topo.gw.run(["ip", "route", "add", "10.66.0.0/24", "via", CLIENT_ADDR])
    assert Client(topo, "10.66.0.5").ask(pcp_map(b"o" * 12, UDP, 9100, 600, client="10.66.0.5"),
                                         timeout=1.0) is None
    # THIRD_PARTY may not name such an address either.
    c = Client(topo)
    for third in ("10.66.0.5", GW_LAN_ADDR, "192.168.77.255", "192.168.77.0"):
        m = parse_map(c.ask(pcp_map(b"t" * 12, UDP, 9200, 600,
                                    options=option(1, mapped(third)))))
        assert m["result"] == NOT_AUTHORIZED, third
    # The legitimate client is still served; nothing was mapped for the rest.
    assert ask_map(c, CLIENT_ADDR, b"l" * 12, 9300)["result"] == SUCCESS
    assert census(run_fcnat, bpffs) == {CLIENT_ADDR: 1}
    assert inst.running()


def test_floods_past_the_rate_are_bounded_and_do_not_starve_others(topo, fcnat, bpffs, run_fcnat):
    rate, sent = 20, 3000
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--pcp-if", "lan0", "--pcp-rate", str(rate),
                 "--pcp-max-per-host", "5")
    flooder = Client(topo)
    flooder.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    t0 = time.monotonic()
    for i in range(sent):
        flooder.sock.sendto(pcp_map(b"f" * 12, UDP, 10000 + i, 600),
                            (GW_LAN_ADDR, PCP_PORT))
        if i % 200 == 199:
            time.sleep(0.01)    # leave the socket buffers room
    answers = {}
    flooder.sock.settimeout(1.0)
    try:
        for _ in range(sent):
            r = parse_header(flooder.sock.recvfrom(2048)[0])["result"]
            answers[r] = answers.get(r, 0) + 1
    except socket.timeout:
        pass
    elapsed = time.monotonic() - t0
    # The bucket: a burst of twice the rate, then the rate.
    assert sum(answers.values()) <= 2 * rate + rate * (elapsed + 1), (answers, elapsed)
    assert answers.get(SUCCESS) == 5 and answers.get(USER_EX_QUOTA, 0) >= 1, answers
    # Another host has its own bucket, during or right after the flood.
    other = Client(topo, "192.168.77.3")
    r = other.ask(pcp_header(0, 0, client="192.168.77.3"))
    assert r is not None and parse_header(r)["result"] == SUCCESS
    assert census(run_fcnat, bpffs) == {CLIENT_ADDR: 5}
    assert inst.running()


def test_nat64_ipv6_clients_keep_their_limits_and_strangers_get_nothing(topo, fcnat, bpffs,
                                                                        run_fcnat):
    """PCP over IPv6 (NAT64's clients): twenty more hosts of the /64 each at
    --pcp-max-per-host exactly; an off-link source, a link-local one and a
    THIRD_PARTY naming another host (not allowed, or of the wrong family)
    get no mapping; the IPv4 client is still served."""
    topo.add_nat64()
    topo.client.addr_add("lan0", CLIENT_ADDR + "/24")      # back, for the last check
    wait_until(lambda: topo.client.run(["ping", "-6", "-c", "1", "-W", "1", GW_LAN6_ADDR],
                                       check=False).returncode == 0, 10,
               desc="client reaches the gateway over IPv6")
    inst = start(fcnat, bpffs, "--nat64", "--hairpin-if", "lan0", "--pcp-max-per-host", "3")
    hosts = ["fd00:77::%x" % (0x100 + i) for i in range(20)]
    topo.client.run(["ip", "-batch", "-"],
                    input="".join("addr add %s/64 dev lan0 nodad\n" % h for h in hosts))
    for h in hosts:
        c = Client(topo, h, server=GW_LAN6_ADDR)
        got = [parse_map(c.ask(pcp_map6(b"q" * 12, UDP, 7000 + p, 600, client=h)))["result"]
               for p in range(5)]
        assert got == [SUCCESS] * 3 + [USER_EX_QUOTA] * 2, (h, got)

    # Off-link: routed to the gateway, but not on lan0's prefix.
    topo.client.addr_add("lan0", "fd00:99::5/128", "nodad")
    topo.gw.run(["ip", "-6", "route", "add", "fd00:99::/64", "via", CLIENT6_ADDR])
    assert Client(topo, "fd00:99::5", server=GW_LAN6_ADDR).ask(
        pcp_map6(b"o" * 12, UDP, 9100, 600, client="fd00:99::5"), timeout=1.0) is None
    # Link-local: NAT64 never translates it, so no mapping is made for it.
    gw_ll = topo.gw.run(["ip", "-6", "-o", "addr", "show", "dev", "lan0", "scope", "link"]
                        ).stdout.split()[3].split("/")[0]
    cl_ll = topo.client.run(["ip", "-6", "-o", "addr", "show", "dev", "lan0", "scope", "link"]
                            ).stdout.split()[3].split("/")[0]
    ll = topo.client.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    with topo.client.entered():
        ifindex = socket.if_nametoindex("lan0")
    ll.bind((cl_ll, 0, 0, ifindex))
    ll.settimeout(1.0)
    ll.sendto(pcp_map6(b"l" * 12, UDP, 9150, 600, client=cl_ll), (gw_ll, PCP_PORT, 0, ifindex))
    try:
        answer = ll.recvfrom(2048)
    except socket.timeout:
        answer = None
    assert answer is None, answer
    # THIRD_PARTY: not allowed without --pcp-third-party; an IPv4 host named
    # by an IPv6 client is malformed (the sender's family only).
    c = Client(topo, CLIENT6_ADDR, server=GW_LAN6_ADDR)
    other6 = socket.inet_pton(socket.AF_INET6, hosts[0])
    m = parse_map(c.ask(pcp_map6(b"t" * 12, UDP, 9200, 600) + option(1, other6)))
    assert m["result"] == NOT_AUTHORIZED, m
    m = parse_map(c.ask(pcp_map6(b"t" * 12, UDP, 9200, 600) + option(1, mapped(CLIENT_ADDR))))
    assert m["result"] == MALFORMED_OPTION, m

    want = {h: 3 for h in hosts}
    assert census(run_fcnat, bpffs) == want
    assert ask_map(Client(topo), CLIENT_ADDR, b"4" * 12, 9300)["result"] == SUCCESS
    want[CLIENT_ADDR] = 1
    assert census(run_fcnat, bpffs) == want
    assert inst.running()
