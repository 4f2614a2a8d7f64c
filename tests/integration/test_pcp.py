"""NAT-PMP (RFC 6886) and PCP (RFC 6887) server (--pcp-if).

NAT-PMP through the real client `natpmpc` (Debian package natpmpc); PCP and
the corner cases of both with requests built here with struct, sent from
the client namespace.
"""

import json
import os
import random
import re
import socket
import struct
import time

import pytest

from fcnat_util import recv_matching
from netns import (CLIENT2_ADDR, CLIENT6_ADDR, CLIENT_ADDR, EXT6_ADDRS, EXT_ADDRS, GW_LAN6_ADDR,
                   GW_LAN_ADDR, GW_WAN6_ADDR, GW_WAN_ADDR, nat64_addr, wait_until)

EXT2, EXT3, EXT4 = EXT_ADDRS
PCP_PORT = 5351

# PCP result codes (RFC 6887 §7.4)
SUCCESS, UNSUPP_VERSION, NOT_AUTHORIZED, MALFORMED_REQUEST, UNSUPP_OPCODE = 0, 1, 2, 3, 4
UNSUPP_OPTION, MALFORMED_OPTION, NETWORK_FAILURE, NO_RESOURCES, UNSUPP_PROTOCOL = 5, 6, 7, 8, 9
USER_EX_QUOTA, CANNOT_PROVIDE_EXTERNAL, ADDRESS_MISMATCH = 10, 11, 12
LONG_ERROR, SHORT_ERROR = 1800, 30

UDP, TCP = 17, 6


def mapped(addr):
    return b"\0" * 10 + b"\xff\xff" + socket.inet_aton(addr)


def pcp_header(opcode, lifetime, client=CLIENT_ADDR, version=2):
    return struct.pack("!BBHI", version, opcode, 0, lifetime) + mapped(client)


def pcp_map(nonce, proto, int_port, lifetime, suggested=0, sugg_addr=None, client=CLIENT_ADDR,
            options=b""):
    return (pcp_header(1, lifetime, client) + nonce + struct.pack("!B3xHH", proto, int_port, suggested)
            + (mapped(sugg_addr) if sugg_addr else b"\0" * 16) + options)


def pcp_peer(nonce, proto, int_port, lifetime, peer, peer_port, suggested=0, options=b""):
    return (pcp_header(2, lifetime) + nonce + struct.pack("!B3xHH", proto, int_port, suggested)
            + b"\0" * 16 + struct.pack("!H2x", peer_port) + mapped(peer) + options)


def option(code, data=b""):
    pad = (-len(data)) % 4
    return struct.pack("!BxH", code, len(data)) + data + b"\0" * pad


def parse_header(r):
    ver, op, _, result, lifetime, epoch = struct.unpack("!BBBBII", r[:12])
    return dict(version=ver, opcode=op, result=result, lifetime=lifetime, epoch=epoch,
                reserved=r[12:24])


def parse_map(r):
    h = parse_header(r)
    nonce = r[24:36]
    proto, int_port, ext_port = struct.unpack("!B3xHH", r[36:44])
    h.update(nonce=nonce, proto=proto, int_port=int_port, ext_port=ext_port,
             ext_addr=r[44:60], options=r[60:])
    return h


class Client:
    """A UDP socket of the client namespace talking to the gateway's 5351."""

    def __init__(self, topo, addr=CLIENT_ADDR, port=0, server=GW_LAN_ADDR):
        self.sock = topo.client.udp(addr, port)
        self.server = server

    def ask(self, payload, timeout=2.0):
        """The answer, or None. An answer is awaited as a PCP client does
        (RFC 6887 section 8.1.1): the request is sent again, waiting twice as
        long each time, so a busy machine does not lose it; a short timeout
        (a check that no answer comes) sends once."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recvfrom(2048)    # a late answer to an earlier request
        except BlockingIOError:
            pass
        for wait in ([timeout] if timeout < 2 else [timeout, 2 * timeout, 4 * timeout]):
            self.sock.sendto(payload, (self.server, PCP_PORT))
            self.sock.settimeout(wait)
            try:
                data, src = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            assert src[:2] == (self.server, PCP_PORT), src
            return data
        return None


def start(fcnat, bpffs, *extra):
    return fcnat("-i", "wan0", "--bpffs", bpffs, "--pcp-if", "lan0", *extra)


def natpmpc(topo, *args):
    r = topo.client.run(["natpmpc", "-g", GW_LAN_ADDR] + list(args), check=False, timeout=30)
    assert r.returncode == 0, r
    return r.stdout


def mappings(run_fcnat, bpffs):
    r = run_fcnat("show", "mappings", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)


def reaches(far, inside, port, payload, wait=1.0):
    """Does a datagram from the outside host to the gateway's port arrive inside?"""
    far.sendto(payload, (GW_WAN_ADDR, port))
    return recv_matching(inside, payload, wait) is not None


# ---- NAT-PMP with natpmpc ----------------------------------------------------------

def test_natpmpc_gets_the_public_address(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    out = natpmpc(topo)
    assert "Public IP address : %s" % GW_WAN_ADDR in out, out
    assert re.search(r"epoch = \d+", out), out


def test_natpmpc_udp_mapping_reached_from_outside_then_deleted(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs)
    inside = topo.client.udp(CLIENT_ADDR, 8080)
    out = natpmpc(topo, "-a", "25100", "8080", "udp", "3600")
    assert "Mapped public port 25100 protocol UDP to local port 8080 liftime 3600" in out, out

    far = topo.ext.udp(EXT3, 9000)
    far.sendto(b"through natpmp", (GW_WAN_ADDR, 25100))
    assert recv_matching(inside, b"through natpmp", 3) == (EXT3, 9000)
    inside.sendto(b"back", (EXT3, 9000))
    assert recv_matching(far, b"back", 3) == (GW_WAN_ADDR, 25100)
    m = [x for x in mappings(run_fcnat, bpffs) if x["external_port"] == 25100]
    assert len(m) == 1 and m[0]["static"] and m[0]["proto"] == "udp", m

    out = natpmpc(topo, "-a", "25100", "8080", "udp", "0")
    assert "Mapped public port 0 protocol UDP to local port 8080 liftime 0" in out, out
    assert not reaches(far, inside, 25100, b"after delete")
    assert not [x for x in mappings(run_fcnat, bpffs) if x["external_port"] == 25100]


def test_natpmpc_tcp_mapping_reached_from_outside_then_deleted(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    lst = topo.client.tcp(CLIENT_ADDR, 8081)
    lst.listen(4)
    out = natpmpc(topo, "-a", "25101", "8081", "tcp", "3600")
    assert "Mapped public port 25101 protocol TCP to local port 8081 liftime 3600" in out, out

    c = topo.ext.tcp(EXT2, 0)
    c.settimeout(3)
    c.connect((GW_WAN_ADDR, 25101))
    conn, peer = lst.accept()
    assert peer[0] == EXT2
    c.sendall(b"tcp through natpmp")
    assert conn.recv(100) == b"tcp through natpmp"
    conn.close()
    c.close()

    out = natpmpc(topo, "-a", "25101", "8081", "tcp", "0")
    assert "liftime 0" in out, out
    c2 = topo.ext.tcp(EXT2, 0)
    c2.settimeout(2)
    with pytest.raises(OSError):
        c2.connect((GW_WAN_ADDR, 25101))


def test_natpmp_mapping_expires_after_its_lifetime(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs, "--pcp-min-lifetime", "1")
    inside = topo.client.udp(CLIENT_ADDR, 8082)
    out = natpmpc(topo, "-a", "25102", "8082", "udp", "3")
    assert "Mapped public port 25102 protocol UDP to local port 8082 liftime 3" in out, out
    far = topo.ext.udp(EXT4, 9002)
    assert reaches(far, inside, 25102, b"while it lives")
    t0 = time.monotonic()
    wait_until(lambda: not [x for x in mappings(run_fcnat, bpffs) if x["external_port"] == 25102],
               10, interval=0.2, desc="the mapping to expire")
    assert time.monotonic() - t0 > 1.0
    assert not reaches(far, inside, 25102, b"after expiry")


def natpmp_map(c, op, int_port, suggested, lifetime):
    r = c.ask(struct.pack("!BBHHHI", 0, op, 0, int_port, suggested, lifetime))
    assert r is not None and len(r) == 16, r
    ver, rop, result, epoch, iport, eport, life = struct.unpack("!BBHIHHI", r)
    assert ver == 0 and rop == 128 + op and iport == int_port
    return result, eport, life, epoch


def test_natpmp_returns_the_existing_mapping_and_codes(topo, fcnat, bpffs):
    start(fcnat, bpffs, "--ports", "25000-25001")
    # A flow made a dynamic mapping: the request gets the same external port (EIM).
    s = topo.client.udp(CLIENT_ADDR, 8090)
    far = topo.ext.udp(EXT2, 9090)
    s.sendto(b"out first", (EXT2, 9090))
    src = recv_matching(far, b"out first", 3)
    assert src and src[0] == GW_WAN_ADDR
    c = Client(topo)
    result, eport, life, _ = natpmp_map(c, 1, 8090, 0, 600)
    assert (result, eport, life) == (0, src[1], 600)
    # Renewal: same port. The other port of the range goes to the next one,
    # then the range is exhausted: Out of resources (4).
    assert natpmp_map(c, 1, 8090, 0, 900)[:3] == (0, src[1], 900)
    result, eport2, _, _ = natpmp_map(c, 1, 8091, 0, 600)
    assert result == 0 and eport2 in (25000, 25001) and eport2 != src[1]
    assert natpmp_map(c, 1, 8092, 0, 600)[:3] == (4, 0, 0)
    # The TCP space is separate.
    assert natpmp_map(c, 2, 8092, 25001, 600)[:3] == (0, 25001, 600)
    # Delete everything of this host for UDP: internal port 0, lifetime 0.
    assert natpmp_map(c, 1, 0, 0, 0)[:3] == (0, 0, 0)
    assert natpmp_map(c, 1, 8092, 0, 600)[0] == 0


def test_natpmp_bad_requests(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    c = Client(topo)
    # Unsupported opcode: the request returned with the response bit, result 5.
    r = c.ask(struct.pack("!BBHHHI", 0, 3, 0, 1, 2, 3))
    assert r is not None and len(r) == 12
    assert struct.unpack("!BBH", r[:4]) == (0, 131, 5) and r[8:] == struct.pack("!I", 3)
    # Responses (opcode >= 128) and short mapping requests are ignored.
    assert c.ask(struct.pack("!BB", 0, 128), timeout=0.5) is None
    assert c.ask(struct.pack("!BBHH", 0, 1, 0, 8080), timeout=0.5) is None
    # Internal port 0 with a lifetime: "all ports" is refused (2).
    r = c.ask(struct.pack("!BBHHHI", 0, 1, 0, 0, 0, 60))
    assert struct.unpack("!BBH", r[:4]) == (0, 129, 2)
    # The epoch counts seconds since the server's state began.
    r1 = c.ask(b"\0\0")
    time.sleep(1.1)
    r2 = c.ask(b"\0\0")
    e1, e2 = struct.unpack("!I", r1[4:8])[0], struct.unpack("!I", r2[4:8])[0]
    assert r1[:4] == b"\0\x80\0\0" and e2 >= e1 + 1 and e1 < 10


def test_natpmp_refuses_deleting_a_static_forward(topo, fcnat, bpffs):
    start(fcnat, bpffs, "--forward", "udp:25050=%s:8080" % CLIENT_ADDR)
    c = Client(topo)
    assert natpmp_map(c, 1, 8080, 0, 600)[:3] == (0, 25050, 600)
    assert natpmp_map(c, 1, 8080, 0, 0)[0] == 2
    inside = topo.client.udp(CLIENT_ADDR, 8080)
    assert reaches(topo.ext.udp(EXT2, 9000), inside, 25050, b"forward stays")


# ---- PCP ----------------------------------------------------------------------------

def test_pcp_map_create_renew_reach_delete(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    c = Client(topo)
    inside = topo.client.udp(CLIENT_ADDR, 8080)
    nonce = os.urandom(12)
    r = c.ask(pcp_map(nonce, UDP, 8080, 3600, suggested=25200))
    assert r is not None and len(r) == 60
    m = parse_map(r)
    assert m["version"] == 2 and m["opcode"] == 0x81 and m["result"] == SUCCESS
    assert m["lifetime"] == 3600 and m["epoch"] < 10 and m["reserved"] == b"\0" * 12
    assert (m["nonce"], m["proto"], m["int_port"], m["ext_port"]) == (nonce, UDP, 8080, 25200)
    assert m["ext_addr"] == mapped(GW_WAN_ADDR)

    far = topo.ext.udp(EXT3, 9100)
    assert reaches(far, inside, 25200, b"pcp map")

    # Renewal with the same nonce: same port, new lifetime (clamped to the
    # minimum of 120 s).
    m = parse_map(c.ask(pcp_map(nonce, UDP, 8080, 30, suggested=0)))
    assert (m["result"], m["ext_port"], m["lifetime"]) == (SUCCESS, 25200, 120)
    # Another nonce may not touch it.
    m = parse_map(c.ask(pcp_map(os.urandom(12), UDP, 8080, 60)))
    assert (m["result"], m["lifetime"]) == (NOT_AUTHORIZED, LONG_ERROR)
    # Delete: lifetime 0, success, and the outside host is cut off.
    m = parse_map(c.ask(pcp_map(nonce, UDP, 8080, 0)))
    assert (m["result"], m["lifetime"], m["nonce"]) == (SUCCESS, 0, nonce)
    assert not reaches(far, inside, 25200, b"after pcp delete")


def test_pcp_map_tcp_and_prefer_failure(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    c = Client(topo)
    m = parse_map(c.ask(pcp_map(os.urandom(12), TCP, 8081, 600, suggested=25201)))
    assert (m["result"], m["ext_port"], m["proto"]) == (SUCCESS, 25201, TCP)
    # PREFER_FAILURE: the suggested port is taken, so no mapping at all.
    pf = option(2)
    m = parse_map(c.ask(pcp_map(os.urandom(12), TCP, 8082, 600, suggested=25201, options=pf)))
    assert (m["result"], m["lifetime"]) == (CANNOT_PROVIDE_EXTERNAL, SHORT_ERROR)
    # Free and in range: granted, and the option is echoed.
    r = c.ask(pcp_map(os.urandom(12), TCP, 8082, 600, suggested=25202, options=pf))
    m = parse_map(r)
    assert (m["result"], m["ext_port"], m["options"]) == (SUCCESS, 25202, pf)


def test_pcp_peer_answers_the_existing_mapping(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    s = topo.client.udp(CLIENT_ADDR, 8091)
    far = topo.ext.udp(EXT2, 9091)
    s.sendto(b"peer flow", (EXT2, 9091))
    src = recv_matching(far, b"peer flow", 3)
    assert src
    c = Client(topo)
    nonce = os.urandom(12)
    r = c.ask(pcp_peer(nonce, UDP, 8091, 600, EXT2, 9091))
    assert r is not None and len(r) == 80
    m = parse_map(r)
    assert (m["opcode"], m["result"], m["lifetime"]) == (0x82, SUCCESS, 600)
    assert (m["nonce"], m["int_port"], m["ext_port"]) == (nonce, 8091, src[1])
    assert m["ext_addr"] == mapped(GW_WAN_ADDR)
    assert r[60:] == struct.pack("!H2x", 9091) + mapped(EXT2)
    # PEER without a remote port is malformed.
    m = parse_map(c.ask(pcp_peer(nonce, UDP, 8091, 600, EXT2, 0)))
    assert m["result"] == MALFORMED_REQUEST


def test_pcp_announce(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    r = Client(topo).ask(pcp_header(0, 0))
    assert r is not None and len(r) == 24
    h = parse_header(r)
    assert (h["version"], h["opcode"], h["result"], h["lifetime"]) == (2, 0x80, SUCCESS, 0)
    assert h["epoch"] < 10 and h["reserved"] == b"\0" * 12


@pytest.mark.parametrize("name,payload,result,length", [
    ("version 3", pcp_header(0, 0, version=3), UNSUPP_VERSION, 24),
    ("version 1", pcp_header(1, 0, version=1)[:8], UNSUPP_VERSION, 24),
    ("short", pcp_header(1, 0)[:12], MALFORMED_REQUEST, 24),
    ("not a multiple of 4", pcp_header(0, 0) + b"\0\0", MALFORMED_REQUEST, 28),
    ("truncated MAP", pcp_header(1, 60) + b"\0" * 20, MALFORMED_REQUEST, 44),
    ("oversized", pcp_header(0, 0) + b"\0" * 1080, MALFORMED_REQUEST, 1100),
    ("foreign client address", pcp_map(b"n" * 12, UDP, 8080, 60, client=CLIENT2_ADDR),
     ADDRESS_MISMATCH, 60),
    ("unknown opcode", pcp_header(5, 0), UNSUPP_OPCODE, 24),
    ("THIRD_PARTY", pcp_map(b"n" * 12, UDP, 8080, 60, options=option(1, mapped(CLIENT2_ADDR))),
     NOT_AUTHORIZED, 80),
    ("FILTER", pcp_map(b"n" * 12, UDP, 8080, 60, options=option(3, b"\0" * 20)),
     UNSUPP_OPTION, 84),
    ("unknown mandatory option", pcp_map(b"n" * 12, UDP, 8080, 60, options=option(99)),
     UNSUPP_OPTION, 64),
    ("option overrunning the packet", pcp_map(b"n" * 12, UDP, 8080, 60) + b"\x01\0\0\x20",
     MALFORMED_OPTION, 64),
    ("protocol ICMP", pcp_map(b"n" * 12, 1, 8080, 60), UNSUPP_PROTOCOL, 60),
    ("protocol 0 with a port", pcp_map(b"n" * 12, 0, 8080, 60), MALFORMED_REQUEST, 60),
])
def test_pcp_errors(topo, fcnat, bpffs, name, payload, result, length):
    start(fcnat, bpffs)
    r = Client(topo).ask(payload)
    assert r is not None, "no answer to %s" % name
    h = parse_header(r)
    assert len(r) == length, (name, len(r))
    assert h["version"] == 2 and h["opcode"] == 0x80 | (payload[1] & 0x7f), (name, h)
    assert h["result"] == result, (name, h)
    assert h["lifetime"] == LONG_ERROR and h["reserved"] == b"\0" * 12, (name, h)
    # Error responses carry the request's own fields back.
    n = min(len(payload), 1100)
    if n > 24 and result != UNSUPP_VERSION:
        assert r[24:n] == payload[24:n], name


def test_pcp_silently_drops_responses_and_single_bytes(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    c = Client(topo)
    assert c.ask(b"\x02", timeout=0.5) is None
    assert c.ask(pcp_header(0x80, 0), timeout=0.5) is None
    assert c.ask(pcp_header(0, 0)) is not None


def test_pcp_third_party_when_configured(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs, "--pcp-third-party")
    c = Client(topo)
    tp = option(1, mapped(CLIENT2_ADDR))
    r = c.ask(pcp_map(b"t" * 12, UDP, 8085, 600, suggested=25205, options=tp))
    m = parse_map(r)
    assert (m["result"], m["ext_port"], m["options"]) == (SUCCESS, 25205, tp)
    got = [x for x in mappings(run_fcnat, bpffs) if x["external_port"] == 25205]
    assert got and got[0]["internal_addr"] == CLIENT2_ADDR, got
    # Not for an address outside the accepted subnets.
    r = c.ask(pcp_map(b"t" * 12, UDP, 8086, 600, options=option(1, mapped("10.1.2.3"))))
    assert parse_header(r)["result"] == NOT_AUTHORIZED


def test_pcp_no_resources_and_per_host_quota(topo, fcnat, bpffs):
    start(fcnat, bpffs, "--ports", "25000-25001", "--pcp-max-per-host", "2")
    c = Client(topo)
    for port in (8001, 8002):
        assert parse_map(c.ask(pcp_map(os.urandom(12), UDP, port, 600)))["result"] == SUCCESS
    m = parse_map(c.ask(pcp_map(os.urandom(12), UDP, 8003, 600)))
    assert (m["result"], m["lifetime"]) == (USER_EX_QUOTA, SHORT_ERROR)
    c2 = Client(topo, CLIENT2_ADDR)
    m = parse_map(c2.ask(pcp_map(os.urandom(12), UDP, 8003, 600, client=CLIENT2_ADDR)))
    assert (m["result"], m["lifetime"]) == (NO_RESOURCES, SHORT_ERROR)


def test_requests_from_elsewhere_are_ignored_unless_allowed(topo, fcnat, bpffs):
    # From the outside: nothing listens on wan0.
    start(fcnat, bpffs, "--pcp-allow", "10.9.9.0/24")
    far = topo.ext.udp(EXT2, 0)
    far.sendto(b"\0\0", (GW_WAN_ADDR, PCP_PORT))
    far.settimeout(0.5)
    with pytest.raises(socket.timeout):
        far.recvfrom(100)
    # An address on no subnet of lan0 is ignored, one in --pcp-allow answered.
    topo.client.run(["ip", "addr", "add", "10.9.9.9/32", "dev", "lan0"])
    topo.client.run(["ip", "addr", "add", "10.8.8.8/32", "dev", "lan0"])
    topo.gw.run(["ip", "route", "add", "10.9.9.0/24", "via", CLIENT_ADDR])
    topo.gw.run(["ip", "route", "add", "10.8.8.0/24", "via", CLIENT_ADDR])
    assert Client(topo, "10.8.8.8").ask(b"\0\0", timeout=0.5) is None
    r = Client(topo, "10.9.9.9").ask(b"\0\0")
    assert r is not None and r[:4] == b"\0\x80\0\0" and r[8:] == socket.inet_aton(GW_WAN_ADDR)


def test_requests_are_rate_limited_per_client(topo, fcnat, bpffs):
    start(fcnat, bpffs, "--pcp-rate", "5")
    c = Client(topo)
    c.sock.settimeout(0.3)
    t0 = time.monotonic()
    for _ in range(40):
        c.sock.sendto(b"\0\0", (GW_LAN_ADDR, PCP_PORT))
    answers = 0
    try:
        while True:
            c.sock.recvfrom(100)
            answers += 1
    except socket.timeout:
        pass
    # A burst of 10, plus 5 a second refilled while the requests were
    # coming in: bounded by how long that took here, not by a guess (a
    # loaded machine spreads the 40 out). Up to the last answer is an
    # over-estimate of that time, so the bound holds.
    spread = time.monotonic() - 0.3 - t0
    assert 10 <= answers <= 10 + 5 * spread + 1, (answers, spread)
    # Another client has its own budget; the first one's refills.
    assert Client(topo, CLIENT2_ADDR).ask(b"\0\0") is not None
    time.sleep(1.0)
    assert c.ask(b"\0\0") is not None


def test_random_packets_never_crash_the_daemon(topo, fcnat, bpffs):
    inst = start(fcnat, bpffs, "--pcp-rate", "100000", "--pcp-third-party")
    c = Client(topo)
    rnd = random.Random(6887)
    templates = [pcp_map(b"x" * 12, UDP, 8080, 60), pcp_peer(b"x" * 12, UDP, 8080, 60, EXT2, 1),
                 pcp_header(0, 0), struct.pack("!BBHHHI", 0, 1, 0, 8080, 25000, 60)]
    for i in range(1500):
        if i % 2:
            p = bytearray(rnd.choice(templates) + option(rnd.randrange(256),
                                                         os.urandom(rnd.randrange(24))))
            for _ in range(rnd.randrange(1, 6)):
                p[rnd.randrange(len(p))] = rnd.randrange(256)
            p = bytes(p[:rnd.randrange(1, len(p) + 1)])
        else:
            p = bytes([rnd.choice((0, 2, rnd.randrange(256)))]) + os.urandom(rnd.randrange(0, 1200))
        c.sock.sendto(p, (GW_LAN_ADDR, PCP_PORT))
        if i % 100 == 99:
            time.sleep(0.02)    # leave the socket buffers room
    assert inst.running()
    c2 = Client(topo, CLIENT2_ADDR)
    r = c2.ask(pcp_header(0, 0, client=CLIENT2_ADDR))
    assert r is not None and parse_header(r)["result"] == SUCCESS
    assert inst.running()


def test_address_change_is_announced_and_restarts_the_epoch(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    c = Client(topo)
    assert parse_map(c.ask(pcp_map(b"a" * 12, UDP, 8080, 600)))["result"] == SUCCESS
    time.sleep(2.1)
    assert parse_header(c.ask(pcp_header(0, 0)))["epoch"] >= 2
    listener = topo.client.socket(socket.AF_INET, socket.SOCK_DGRAM, bind=("0.0.0.0", 5350))
    topo.gw.run(["ip", "addr", "del", GW_WAN_ADDR + "/24", "dev", "wan0"])
    topo.gw.run(["ip", "addr", "add", "198.51.100.9/24", "dev", "wan0"])
    listener.settimeout(3)
    got = {}
    while len(got) < 2:
        data, src = listener.recvfrom(100)
        assert src[1] == PCP_PORT
        if len(data) == 12 and data[8:] == socket.inet_aton("198.51.100.9"):
            got["natpmp"] = data
        elif len(data) == 24:
            got["pcp"] = data
    assert got["natpmp"][:4] == b"\0\x80\0\0"
    assert struct.unpack("!I", got["natpmp"][4:8])[0] < 2
    h = parse_header(got["pcp"])
    assert (h["version"], h["opcode"], h["result"], h["lifetime"]) == (2, 0x80, 0, 0)
    assert h["epoch"] < 2
    # The old mappings are gone with the old address; a new request maps anew.
    m = parse_map(c.ask(pcp_map(b"a" * 12, UDP, 8080, 600)))
    assert m["result"] == SUCCESS and m["ext_addr"] == mapped("198.51.100.9")


@pytest.mark.parametrize("args,status,why", [
    (["--pcp-if", "wan0"], 2, "external interface"),
    (["--pcp-allow", "10.0.0.1/8"], 2, "invalid prefix"),
    (["--pcp-min-lifetime", "100", "--pcp-max-lifetime", "50"], 2, "above"),
    (["--pcp-if", "nosuch0"], 1, "no such interface"),
])
def test_bad_pcp_options(run_fcnat, args, status, why):
    r = run_fcnat("-i", "wan0", *args)
    assert r.returncode == status and why in r.stderr, repr(r)


def test_restart_leaves_pcp_mappings_to_their_idle_timeout(topo, fcnat, bpffs, run_fcnat):
    a = start(fcnat, bpffs, "--keep-state")
    c = Client(topo)
    assert parse_map(c.ask(pcp_map(b"r" * 12, UDP, 8080, 600, suggested=25210)))["ext_port"] == 25210
    assert a.stop() == 0
    # The new run has no lifetime for it: an ordinary mapping now, and a new
    # epoch tells the client to ask again.
    b = start(fcnat, bpffs)
    assert "1 NAT-PMP/PCP mapping(s) of the previous run" in b.stderr(), b.stderr()
    m = [x for x in mappings(run_fcnat, bpffs) if x["external_port"] == 25210]
    assert len(m) == 1 and not m[0]["static"] and m[0]["expires_in"] is not None, m
    h = parse_map(c.ask(pcp_map(b"r" * 12, UDP, 8080, 600)))
    assert (h["result"], h["ext_port"]) == (SUCCESS, 25210) and h["epoch"] < 5
    m = [x for x in mappings(run_fcnat, bpffs) if x["external_port"] == 25210]
    assert m[0]["static"], m


def test_pcp_from_the_config_file(topo, fcnat, bpffs, tmp_path):
    conf = tmp_path / "fcnat.conf"
    conf.write_text("[nat]\nifname = wan0\npcp-if = lan0\npcp-third-party = true\n"
                    "pcp-min-lifetime = 10\npcp-max-lifetime = 20\n")
    fcnat("-c", str(conf), "--bpffs", bpffs)
    c = Client(topo)
    assert parse_map(c.ask(pcp_map(b"c" * 12, UDP, 8080, 600)))["lifetime"] == 20
    tp = option(1, mapped(CLIENT2_ADDR))
    m = parse_map(c.ask(pcp_map(b"c" * 12, UDP, 8081, 5, options=tp)))
    assert (m["result"], m["lifetime"]) == (SUCCESS, 10)


# ---- PCP for NAT64's IPv6-only clients (RFC 6887 with RFC 6146) ----------------------

def pcp_map6(nonce, proto, int_port, lifetime, suggested=0, client=CLIENT6_ADDR,
             sugg_addr="::ffff:0.0.0.0"):
    """A MAP from an IPv6 host: its own address as the client's (RFC 6887
    section 7.1), asking for an IPv4 external address (::ffff:0.0.0.0:
    NAT64) or an IPv6 one (::, NAT66)."""
    return (struct.pack("!BBHI", 2, 1, 0, lifetime) + socket.inet_pton(socket.AF_INET6, client)
            + nonce + struct.pack("!B3xHH", proto, int_port, suggested)
            + socket.inet_pton(socket.AF_INET6, sugg_addr))


def test_rfc6887_nat64_ipv6_client_maps_a_port_of_the_ipv4_address(topo, fcnat, bpffs, run_fcnat):
    """An IPv6-only host asks over IPv6 (the gateway's LAN address, UDP
    5351) and gets a port of the IPv4 external address: any IPv4 host then
    reaches it there, seen under the NAT64 prefix; its answers leave from
    that port; deleted on request. NAT-PMP, IPv4's only, is not answered
    over IPv6."""
    topo.add_nat64()
    wait_until(lambda: topo.client.run(["ping", "-6", "-c", "1", "-W", "1", GW_LAN6_ADDR],
                                       check=False).returncode == 0, 10,
               desc="client reaches the gateway over IPv6")
    start(fcnat, bpffs, "--nat64", "--hairpin-if", "lan0")
    inside = topo.client.udp(CLIENT6_ADDR, 5353)
    c = Client(topo, CLIENT6_ADDR, server=GW_LAN6_ADDR)
    nonce = os.urandom(12)
    m = parse_map(c.ask(pcp_map6(nonce, UDP, 5353, 600, suggested=25353)))
    assert (m["opcode"], m["result"], m["nonce"], m["int_port"]) == (0x81, SUCCESS, nonce, 5353), m
    assert (m["ext_addr"], m["ext_port"]) == (mapped(GW_WAN_ADDR), 25353), m
    assert 0 < m["lifetime"] <= 600, m

    far = topo.ext.udp(EXT4, 7100)
    far.sendto(b"to the pcp mapping", (GW_WAN_ADDR, 25353))
    got = recv_matching(inside, b"to the pcp mapping", 3)
    assert got is not None and got[:2] == (nat64_addr(EXT4), 7100), got
    inside.sendto(b"back", (nat64_addr(EXT4), 7100))
    assert recv_matching(far, b"back", 3) == (GW_WAN_ADDR, 25353)
    rows = [x for x in mappings(run_fcnat, bpffs) if x["internal_addr"] == CLIENT6_ADDR]
    assert [(x["proto"], x["internal_port"], x["external_addr"], x["external_port"])
            for x in rows] == [("udp", 5353, GW_WAN_ADDR, 25353)], rows

    m = parse_map(c.ask(pcp_map6(nonce, UDP, 5353, 0)))
    assert (m["result"], m["lifetime"]) == (SUCCESS, 0), m
    assert not reaches(far, inside, 25353, b"after the delete")
    assert c.ask(b"\0\0", timeout=1.0) is None, "NAT-PMP over IPv6 answered"


def test_rfc6887_nat66_ipv6_client_maps_a_port_of_the_ipv6_address(topo, fcnat, bpffs, run_fcnat):
    """With --nat66, an IPv6 host that suggests an IPv6 external address
    (::, no preference) gets a port of the gateway's external IPv6 address:
    any IPv6 host outside reaches it there; its answers leave from that
    port; deleted on request."""
    topo.add_ipv6()
    wait_until(lambda: topo.client.run(["ping", "-6", "-c", "1", "-W", "1", GW_LAN6_ADDR],
                                       check=False).returncode == 0, 10,
               desc="client reaches the gateway over IPv6")
    start(fcnat, bpffs, "--nat66")
    inside = topo.client.udp(CLIENT6_ADDR, 5353)
    c = Client(topo, CLIENT6_ADDR, server=GW_LAN6_ADDR)
    nonce = os.urandom(12)
    m = parse_map(c.ask(pcp_map6(nonce, UDP, 5353, 600, suggested=25353, sugg_addr="::")))
    assert (m["result"], m["int_port"], m["ext_port"]) == (SUCCESS, 5353, 25353), m
    assert m["ext_addr"] == socket.inet_pton(socket.AF_INET6, GW_WAN6_ADDR), m

    far = topo.ext.udp(EXT6_ADDRS[2], 7100)
    far.sendto(b"to the nat66 mapping", (GW_WAN6_ADDR, 25353))
    got = recv_matching(inside, b"to the nat66 mapping", 3)
    assert got is not None and got[:2] == (EXT6_ADDRS[2], 7100), got
    inside.sendto(b"back", (EXT6_ADDRS[2], 7100))
    got = recv_matching(far, b"back", 3)
    assert got is not None and got[:2] == (GW_WAN6_ADDR, 25353), got

    m = parse_map(c.ask(pcp_map6(nonce, UDP, 5353, 0, sugg_addr="::")))
    assert (m["result"], m["lifetime"]) == (SUCCESS, 0), m
    far.sendto(b"after the delete", (GW_WAN6_ADDR, 25353))
    assert recv_matching(inside, b"after the delete", 1.0) is None
