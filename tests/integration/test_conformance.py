"""RFC conformance on the paths that break real applications: ICMP errors,
traceroute, path MTU, fragments, unsolicited and blind TCP segments.

The base topology gets a router behind EXTERNAL: EXTERNAL forwards to a FAR
namespace (203.0.113.0/24), so there is a hop past the NAT that answers with
ICMP errors about translated packets.

  CLIENT -- GATEWAY(fcnat) -- EXTERNAL(router 198.51.100.2) -- FAR 203.0.113.2
"""

import re
import signal
import socket
import subprocess

import pytest

from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS
FAR_ROUTER = "203.0.113.1"
FAR_HOST = "203.0.113.2"


@pytest.fixture
def far(topo):
    """Add FAR behind EXTERNAL; EXTERNAL routes, GATEWAY knows the way."""
    ns = topo.add_namespace("far")
    topo.veth(topo.ext, "far0", ns, "far0")
    topo.ext.addr_add("far0", FAR_ROUTER + "/24")
    topo.ext.link_up("far0")
    topo.ext.sysctl("net.ipv4.ip_forward", 1)
    ns.addr_add("far0", FAR_HOST + "/24")
    ns.link_up("far0")
    ns.run(["ip", "route", "add", "default", "via", FAR_ROUTER])
    topo.gw.run(["ip", "route", "add", "203.0.113.0/24", "via", EXT2])
    wait_until(lambda: "LOWER_UP" in ns.run(["ip", "-br", "link", "show", "far0"]).stdout,
               5, desc="far0 up")
    return ns


@pytest.fixture
def nat(fcnat, datapath):
    return fcnat("-i", "wan0", *datapath)


def stop_and_counters(inst):
    """SIGTERM fcnat and return the counters it prints on exit."""
    assert inst.stop(signal.SIGTERM, 5) == 0
    counters = {}
    for m in re.finditer(r"^fcnat:\s+(\w+)\s+(\d+)$", inst.stderr(), re.M):
        counters[m.group(1)] = int(m.group(2))
    return counters


def hops(output):
    """Addresses traceroute/tracepath printed, in order."""
    return re.findall(r"^\s*\d+\??:?\s+(\d+\.\d+\.\d+\.\d+)", output, re.M)


# --- ICMP errors and traceroute ---------------------------------------------

@pytest.mark.parametrize("mode", ["udp", "icmp"])
def test_rfc5508_traceroute_sees_every_hop_past_the_nat(topo, far, nat, mode):
    args = ["traceroute", "-n", "-q", "1", "-w", "2", "-m", "5"]
    if mode == "icmp":
        args.append("-I")
    out = topo.client.run(args + [FAR_HOST], timeout=60).stdout
    seen = hops(out)
    # Hop 1 is the gateway itself, hop 2 the router past the NAT (its time
    # exceeded is translated back), hop 3 the destination (port unreachable
    # or echo reply, translated back).
    assert seen[:3] == ["192.168.77.1", EXT2, FAR_HOST], out


def test_rfc5508_port_unreachable_reaches_the_client(topo, far, nat):
    c = topo.client.udp(CLIENT_ADDR, 0)
    c.connect((FAR_HOST, 9))		# nothing listens: FAR answers port unreachable
    c.send(b"anyone?")
    with pytest.raises(ConnectionRefusedError):
        # Linux reports the ICMP error on the next call of a connected socket.
        for _ in range(20):
            c.send(b"anyone?")
            try:
                c.recv(100)
            except socket.timeout:
                continue
    c.close()


def test_rfc5508_req4_client_port_unreachable_goes_out_translated(topo, nat):
    # The client opens a mapping, then closes its socket: a later datagram
    # from outside makes the client's kernel answer port unreachable, which
    # must leave with the external address and the mapped port quoted.
    c = topo.client.udp(CLIENT_ADDR, 25100)
    srv = topo.ext.udp(EXT2, 7000)
    c.sendto(b"hello", (EXT2, 7000))
    data, mapped = srv.recvfrom(100)
    assert mapped == (GW_WAN_ADDR, 25100)
    c.close()
    r = topo.ext.udp(EXT3, 7200)
    r.connect(mapped)
    with pytest.raises(ConnectionRefusedError):
        for _ in range(20):
            r.send(b"are you there?")
            try:
                r.recv(100)
            except socket.timeout:
                continue


# --- PMTU, MTU and fragments ----------------------------------------------

def tracepath_pmtu(ns, dst):
    out = ns.run(["tracepath", "-n", "-m", "5", dst], check=False, timeout=60).stdout
    m = re.findall(r"pmtu (\d+)", out)
    return (int(m[-1]) if m else None), out


def test_pmtu_smaller_mtu_past_the_nat_is_learned(topo, far, nat):
    # The link EXTERNAL -> FAR is narrower: EXTERNAL sends "fragmentation
    # needed" to the external address, fcnat delivers it to the client.
    topo.ext.run(["ip", "link", "set", "far0", "mtu", "1400"])
    far.run(["ip", "link", "set", "far0", "mtu", "1400"])
    pmtu, out = tracepath_pmtu(topo.client, FAR_HOST)
    assert pmtu == 1400, out


def test_pmtu_lowered_external_mtu_is_honoured(topo, far, nat):
    # Users of other eBPF NATs report this being ignored.
    topo.gw.run(["ip", "link", "set", "wan0", "mtu", "1300"])
    pmtu, out = tracepath_pmtu(topo.client, FAR_HOST)
    assert pmtu == 1300, out
    # And a DF packet bigger than that never leaves: the sender is told.
    c = topo.client.udp(CLIENT_ADDR, 0)
    c.setsockopt(socket.IPPROTO_IP, 10, 2)	# IP_MTU_DISCOVER = IP_PMTUDISC_DO
    c.connect((FAR_HOST, 9))
    with pytest.raises(OSError):		# EMSGSIZE once the PMTU is known
        for _ in range(3):
            c.send(b"x" * 1400)


def test_rfc4787_req13_fragmented_udp_both_ways(topo, nat):
    # DF clear and bigger than the MTU: the gateway fragments outbound, the
    # server's kernel fragments inbound; both trains are translated.
    topo.gw.run(["ip", "link", "set", "wan0", "mtu", "1280"])
    topo.ext.run(["ip", "link", "set", "wan0", "mtu", "1280"])
    c = topo.client.udp(CLIENT_ADDR, 0)
    c.setsockopt(socket.IPPROTO_IP, 10, 0)	# IP_PMTUDISC_DONT
    srv = topo.ext.udp(EXT2, 7300)
    srv.setsockopt(socket.IPPROTO_IP, 10, 0)
    payload = bytes(range(256)) * 12		# 3072 bytes: three fragments
    c.sendto(payload, (EXT2, 7300))
    data, src = srv.recvfrom(65535)
    assert data == payload and src[0] == GW_WAN_ADDR
    srv.sendto(payload[::-1], src)
    data, back = c.recvfrom(65535)
    assert data == payload[::-1] and back == (EXT2, 7300)


# --- TCP --------------------------------------------------------------------

def test_rfc5382_req4_unsolicited_syn_is_dropped_silently(topo, nat):
    s = topo.ext.tcp(EXT2, 0, timeout=2.0)
    # No mapping for 25555: no RST comes back (that would be "refused"),
    # the SYN is dropped and the connect times out.
    with pytest.raises(socket.timeout):
        s.connect((GW_WAN_ADDR, 25555))
    counters = stop_and_counters(nat)
    assert counters.get("drop_unsolicited", 0) >= 1, counters


SCAPY_RST = r"""
import sys
from scapy.all import IP, TCP, send
dst, dport, sport, seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
send(IP(src="%s", dst=dst) / TCP(sport=sport, dport=dport, flags="R", seq=seq), verbose=0)
"""


def test_rfc7857_blind_rst_outside_window_does_not_kill_the_session(topo, nat):
    srv = topo.ext.tcp(EXT2, 8500, reuse=True)
    srv.listen(1)
    c = topo.client.tcp(CLIENT_ADDR, 0)
    c.connect((EXT2, 8500))
    conn, peer = srv.accept()
    c.sendall(b"ping")
    assert conn.recv(4) == b"ping"
    # A blind RST far outside the client's window, from the server's address.
    topo.ext.run(["/usr/bin/python3", "-c", SCAPY_RST % EXT2, GW_WAN_ADDR,
                  str(peer[1]), "8500", str(123456789)])
    conn.sendall(b"still here")
    assert c.recv(100) == b"still here"
    c.sendall(b"and back")
    assert conn.recv(100) == b"and back"
    counters = stop_and_counters(nat)
    assert counters.get("tcp_rst_out_of_window", 0) == 1, counters


SCAPY_FRAGMENTS_REVERSED = r"""
import sys
from scapy.all import IP, UDP, Raw, fragment, send
src, dst, sport, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
payload = bytes(range(256)) * 12
frags = fragment(IP(src=src, dst=dst, id=0x7777) / UDP(sport=sport, dport=dport) / Raw(payload),
                 fragsize=1000)
assert len(frags) >= 3
for f in reversed(frags):           # the first fragment last
    send(f, verbose=0)
"""


def test_rfc4787_req14_out_of_order_inbound_fragments_delivered(topo, nat):
    c = topo.client.udp(CLIENT_ADDR, 25200)
    srv = topo.ext.udp(EXT2, 7400)
    c.sendto(b"open", (EXT2, 7400))
    _, mapped = srv.recvfrom(100)
    assert mapped == (GW_WAN_ADDR, 25200)
    topo.ext.run(["/usr/bin/python3", "-c", SCAPY_FRAGMENTS_REVERSED, EXT2, GW_WAN_ADDR,
                  "7400", "25200"], timeout=60)
    data, src = c.recvfrom(65535)
    assert src == (EXT2, 7400)
    assert data == bytes(range(256)) * 12
    counters = stop_and_counters(nat)
    assert counters.get("fragments_held", 0) >= 2, counters
    assert counters.get("fragments_reinjected", 0) >= 2, counters
