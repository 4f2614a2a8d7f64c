"""NAT44 behaviour of fcnat, checked end to end through network namespaces.

CLIENT (192.168.77.2/.3) -- GATEWAY (fcnat on wan0, 198.51.100.1) -- EXTERNAL
(198.51.100.2/.3/.4).  EXTERNAL has no route back to 192.168.77.0/24, so any
answer that reaches the client proves the traffic was translated.
"""

import hashlib
import json
import os
import time

import pytest

from fcnat_util import (DEFAULT_RANGE, drain, in_range, recv_matching, udp_exchange)
from netns import CLIENT2_ADDR, CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS


@pytest.fixture
def nat(fcnat, datapath):
    return fcnat("-i", "wan0", *datapath)


def udp_mapping(topo, client_sock, server_ip=EXT2, server_port=7000):
    """Send from client_sock to a server in EXTERNAL; return the source it saw."""
    srv = topo.ext.udp(server_ip, server_port)
    src = udp_exchange(client_sock, srv, (server_ip, server_port),
                       payload=b"map-%s-%d" % (server_ip.encode(), server_port))
    srv.close()
    return src


# --- UDP ---------------------------------------------------------------------

def test_rfc4787_req1_udp_eim_same_external_port(topo, nat):
    c = topo.client.udp(CLIENT_ADDR, 0)
    s2 = topo.ext.udp(EXT2, 7000)
    s3 = topo.ext.udp(EXT3, 7000)

    src2 = udp_exchange(c, s2, (EXT2, 7000), b"to-.2")
    src3 = udp_exchange(c, s3, (EXT3, 7000), b"to-.3")

    assert src2[0] == GW_WAN_ADDR, "source not translated to the external address: %r" % (src2,)
    assert in_range(src2[1]), "mapped port %d outside %r" % (src2[1], DEFAULT_RANGE)
    assert src2 == src3, ("endpoint-dependent mapping: %s:7000 saw %r, %s:7000 saw %r"
                          % (EXT2, src2, EXT3, src3))

    # Replies from both servers come back to the same client socket.
    s2.sendto(b"reply-.2", src2)
    assert recv_matching(c, b"reply-.2", 3) == (EXT2, 7000)
    s3.sendto(b"reply-.3", src3)
    assert recv_matching(c, b"reply-.3", 3) == (EXT3, 7000)


@pytest.mark.vm
def test_rfc4787_req8_udp_eif_unsolicited_host_reaches_client(topo, nat):
    c = topo.client.udp(CLIENT_ADDR, 0)
    src2 = udp_mapping(topo, c, EXT2, 7000)
    src3 = udp_mapping(topo, c, EXT3, 7000)
    assert src2 == src3
    mapped = src2

    # 198.51.100.4 never received anything from the client.
    stranger = topo.ext.udp(EXT4, 7100)
    stranger.sendto(b"unsolicited-from-.4", mapped)
    got = recv_matching(c, b"unsolicited-from-.4", 3)
    assert got == (EXT4, 7100), ("client did not receive the datagram %s:7100 sent to the "
                                 "mapping %r (got %r): filtering is not endpoint-independent"
                                 % (EXT4, mapped, got))

    # A new port of an already contacted host is also let through.
    other_port = topo.ext.udp(EXT2, 7001)
    other_port.sendto(b"from-.2-other-port", mapped)
    assert recv_matching(c, b"from-.2-other-port", 3) == (EXT2, 7001)

    # And the client can answer the stranger through the same mapping.
    c.sendto(b"answer-to-.4", (EXT4, 7100))
    assert recv_matching(stranger, b"answer-to-.4", 3) == mapped


def test_port_preservation_in_range(topo, nat):
    c = topo.client.udp(CLIENT_ADDR, 25000)
    src = udp_mapping(topo, c)
    assert src == (GW_WAN_ADDR, 25000), "in-range port 25000 not preserved: %r" % (src,)


def test_port_outside_range_is_mapped_into_range(topo, nat):
    c = topo.client.udp(CLIENT_ADDR, 40000)
    src = udp_mapping(topo, c)
    assert src[0] == GW_WAN_ADDR
    assert in_range(src[1]), "port 40000 mapped to %d, outside %r" % (src[1], DEFAULT_RANGE)


def test_rfc4787_req3_no_port_overloading_two_clients_same_port(topo, nat):
    ca = topo.client.udp(CLIENT_ADDR, 25001)
    cb = topo.client.udp(CLIENT2_ADDR, 25001)
    srv = topo.ext.udp(EXT2, 7000)
    src_a = udp_exchange(ca, srv, (EXT2, 7000), b"from-a")
    src_b = udp_exchange(cb, srv, (EXT2, 7000), b"from-b")

    assert src_a[0] == GW_WAN_ADDR and src_b[0] == GW_WAN_ADDR
    assert in_range(src_a[1]) and in_range(src_b[1]), (src_a, src_b)
    assert src_a[1] != src_b[1], ("two internal endpoints share external port %d "
                                  "(port overloading)" % src_a[1])
    assert 25001 in (src_a[1], src_b[1]), "neither client kept its free port 25001"

    # Each mapping leads back to its own client.
    srv.sendto(b"to-a", src_a)
    srv.sendto(b"to-b", src_b)
    assert recv_matching(ca, b"to-a", 3) == (EXT2, 7000)
    assert recv_matching(cb, b"to-b", 3) == (EXT2, 7000)


def test_ports_option_custom_range(topo, fcnat):
    fcnat("-i", "wan0", "--ports", "30000-30009")
    # 30005 first: later sockets get random ports and could take it.
    for local in (30005, 0, 25000):
        c = topo.client.udp(CLIENT_ADDR, local)
        src = udp_mapping(topo, c)
        assert src[0] == GW_WAN_ADDR
        assert 30000 <= src[1] <= 30009, ("local port %d mapped to %d, outside --ports "
                                          "30000-30009" % (c.getsockname()[1], src[1]))
        if local == 30005:
            assert src[1] == 30005, "free in-range port 30005 not preserved: %r" % (src,)


def test_ports_option_single_port(topo, fcnat):
    fcnat("-i", "wan0", "--ports", "30100")
    c = topo.client.udp(CLIENT_ADDR, 0)
    src = udp_mapping(topo, c)
    assert src == (GW_WAN_ADDR, 30100)


def test_ports_option_several_ranges(topo, fcnat):
    fcnat("-i", "wan0", "--ports", "30200-30201", "30300")
    seen = set()
    socks = [topo.client.udp(CLIENT_ADDR, 0) for _ in range(3)]
    srv = topo.ext.udp(EXT2, 7000)
    for i, c in enumerate(socks):
        src = udp_exchange(c, srv, (EXT2, 7000), b"multi-%d" % i)
        assert src[0] == GW_WAN_ADDR
        seen.add(src[1])
    assert seen == {30200, 30201, 30300}, ("3 clients over 3 available ports got %r"
                                           % sorted(seen))


def test_udp_traffic_outside_range_untouched(topo, nat):
    # A UDP service of the gateway itself on 198.51.100.1:5300 (outside the range).
    svc = topo.gw.udp(GW_WAN_ADDR, 5300)
    peer = topo.ext.udp(EXT3, 5301)
    src = udp_exchange(peer, svc, (GW_WAN_ADDR, 5300), b"query")
    assert src == (EXT3, 5301)
    svc.sendto(b"answer", src)
    assert recv_matching(peer, b"answer", 3) == (GW_WAN_ADDR, 5300)


# --- TCP ---------------------------------------------------------------------

def _tcp_server(ns, addr, port):
    s = ns.tcp(addr, port, reuse=True)
    s.listen(8)
    return s


def _echo_check(a, b, tag):
    a.sendall(b"ping-" + tag)
    assert b.recv(64) == b"ping-" + tag
    b.sendall(b"pong-" + tag)
    assert a.recv(64) == b"pong-" + tag


@pytest.mark.vm
def test_rfc5382_req1_req3_tcp_eim_eif(topo, nat):
    srv2 = _tcp_server(topo.ext, EXT2, 8000)
    srv3 = _tcp_server(topo.ext, EXT3, 8000)

    c1 = topo.client.tcp(CLIENT_ADDR, 0, reuse=True)
    local_port = c1.getsockname()[1]
    c1.connect((EXT2, 8000))
    a2, peer2 = srv2.accept()
    c2 = topo.client.tcp(CLIENT_ADDR, local_port, reuse=True)
    c2.connect((EXT3, 8000))
    a3, peer3 = srv3.accept()

    assert peer2[0] == GW_WAN_ADDR, "TCP source not translated: %r" % (peer2,)
    assert in_range(peer2[1]), "TCP mapped port %d outside range" % peer2[1]
    assert peer2 == peer3, ("endpoint-dependent TCP mapping: %s saw %r, %s saw %r"
                            % (EXT2, peer2, EXT3, peer3))
    _echo_check(c1, a2, b"2")
    _echo_check(c2, a3, b"3")

    # EIF: the client listens on the same local port; a host it never talked
    # to connects to the mapping and is accepted.
    lst = topo.client.tcp(CLIENT_ADDR, local_port, reuse=True)
    lst.listen(4)
    h4 = topo.ext.tcp(EXT4, 0)
    try:
        h4.connect(peer2)
    except OSError as e:
        pytest.fail("%s could not connect to the live mapping %r: %s (TCP filtering is not "
                    "endpoint-independent)" % (EXT4, peer2, e))
    acc, accpeer = lst.accept()
    assert accpeer == h4.getsockname(), "accepted %r, expected %r" % (accpeer, h4.getsockname())
    _echo_check(h4, acc, b"4")
    # The earlier connections still work.
    _echo_check(c1, a2, b"2b")


def test_tcp_traffic_outside_range_untouched(topo, nat):
    svc = _tcp_server(topo.gw, GW_WAN_ADDR, 8080)
    cl = topo.ext.tcp(EXT2, 0)
    cl.connect((GW_WAN_ADDR, 8080))
    acc, peer = svc.accept()
    assert peer == cl.getsockname()
    _echo_check(cl, acc, b"gw")


# --- ICMP --------------------------------------------------------------------

def test_icmp_echo_translated(topo, fcnat):
    assert "192.168.77." not in topo.ext.routes(), "EXTERNAL must not route to the LAN"
    # Without fcnat the echo request leaves with its private source and the
    # reply has nowhere to go.
    r = topo.client.run(["ping", "-n", "-c", "1", "-W", "1", EXT2], check=False)
    assert r.returncode != 0, "ping succeeded without NAT; the topology proves nothing"

    fcnat("-i", "wan0")
    dump = topo.ext.start(["tcpdump", "-n", "-l", "-i", "wan0", "-c", "1",
                           "icmp[icmptype] == icmp-echo"], name="tcpdump")
    dump.wait_output(lambda t: "listening on" in t, 10, desc="tcpdump to start")
    r = topo.client.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", EXT2], check=False)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + r.stderr
    wait_until(lambda: dump.poll() is not None, 10, desc="tcpdump to capture one echo request")
    line = dump.stdout_text().strip()
    assert ("IP %s > %s: ICMP echo request" % (GW_WAN_ADDR, EXT2)) in line, \
        "EXTERNAL saw: %r" % line


@pytest.mark.vm
def test_icmp_echo_two_clients_concurrently(topo, nat):
    """Two internal hosts ping the same server at once; both get their replies."""
    p1 = topo.client.start(["ping", "-n", "-c", "5", "-i", "0.2", "-W", "2",
                            "-I", CLIENT_ADDR, EXT2], name="ping1")
    p2 = topo.client.start(["ping", "-n", "-c", "5", "-i", "0.2", "-W", "2",
                            "-I", CLIENT2_ADDR, EXT2], name="ping2")
    wait_until(lambda: p1.poll() is not None and p2.poll() is not None, 15,
               desc="both pings to finish")
    for p in (p1, p2):
        assert p.returncode == 0 and " 0% packet loss" in p.stdout_text(), p.stdout_text()


# --- bulk TCP with offloads --------------------------------------------------

OFFLOAD_MODES = ["default", "gro"]


def _set_offloads(topo, mode):
    # veth defaults: tx checksum offload + TSO on (CHECKSUM_PARTIAL / GSO
    # packets cross the TC hooks), GRO off.  "gro" additionally turns GRO on
    # on every veth end so aggregated packets hit fcnat's ingress/egress.
    out = topo.gw.run(["ethtool", "-k", "wan0"]).stdout
    assert "tx-checksumming: on" in out and "tcp-segmentation-offload: on" in out, out
    if mode == "gro":
        for ns in (topo.client, topo.gw, topo.ext):
            for ifname in (("lan0", "wan0") if ns is topo.gw else
                           ("lan0",) if ns is topo.client else ("wan0",)):
                ns.run(["ethtool", "-K", ifname, "gro", "on"])
                k = ns.run(["ethtool", "-k", ifname]).stdout
                assert "generic-receive-offload: on" in k, "%s %s: GRO did not turn on" % (
                    ns.name, ifname)


@pytest.mark.parametrize("offload", OFFLOAD_MODES)
def test_tcp_bulk_iperf3(topo, nat, offload):
    _set_offloads(topo, offload)
    srv = topo.ext.start(["iperf3", "-s", "-1", "-B", EXT2, "-p", "5201"], name="iperf3s")
    topo.ext.wait_listening(5201)
    r = topo.client.run(["iperf3", "-c", EXT2, "-p", "5201", "-t", "2", "-J",
                         "--connect-timeout", "3000"],
                        check=False, timeout=30)
    assert r.returncode == 0, "iperf3 client failed:\n%s\n%s" % (r.stdout[-2000:], r.stderr)
    res = json.loads(r.stdout)
    sent = res["end"]["sum_sent"]["bytes"]
    received = res["end"]["sum_received"]["bytes"]
    assert sent > 0 and received > 0, (sent, received)
    wait_until(lambda: srv.poll() is not None, 10, desc="iperf3 server to finish")


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.parametrize("offload", OFFLOAD_MODES)
@pytest.mark.parametrize("direction", ["upload", "download"])
def test_tcp_bulk_20mb_sha256(topo, nat, tmp_path, direction, offload):
    _set_offloads(topo, offload)
    src = tmp_path / "payload.bin"
    dst = tmp_path / "received.bin"
    with open(src, "wb") as f:
        for _ in range(20):
            f.write(os.urandom(1 << 20))
    port = 9000
    listen = "TCP-LISTEN:%d,bind=%s,reuseaddr" % (port, EXT2)
    connect = "TCP:%s:%d,connect-timeout=5" % (EXT2, port)
    if direction == "upload":   # client -> outside
        server = topo.ext.start(["socat", "-u", listen, "CREATE:%s" % dst], name="socat-srv")
        topo.ext.wait_listening(port)
        r = topo.client.run(["socat", "-u", "OPEN:%s" % src, connect], check=False, timeout=60)
    else:                       # outside -> client
        server = topo.ext.start(["socat", "-u", "OPEN:%s" % src, listen], name="socat-srv")
        topo.ext.wait_listening(port)
        r = topo.client.run(["socat", "-u", connect, "CREATE:%s" % dst], check=False, timeout=60)
    assert r.returncode == 0, "client socat failed: %s" % r.stderr
    wait_until(lambda: server.poll() is not None, 30, desc="socat server to finish")
    assert server.returncode == 0, server.stderr_text()
    assert dst.stat().st_size == src.stat().st_size, (
        "%s: received %d of %d bytes" % (direction, dst.stat().st_size, src.stat().st_size))
    assert _sha256(dst) == _sha256(src), "%s: sha256 mismatch" % direction


# --- expiry ------------------------------------------------------------------

def test_rfc4787_req5_udp_mapping_expires_after_idle_timeout(topo, fcnat):
    timeout = 2.0
    fcnat("-i", "wan0", "--timeout-udp", "2")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"create")
    t_last_out = time.monotonic()          # the last outbound packet of the test
    assert mapped[0] == GW_WAN_ADDR

    stranger = topo.ext.udp(EXT4, 7100)
    stranger.sendto(b"eif-check", mapped)
    assert recv_matching(c, b"eif-check", 1.5) == (EXT4, 7100), "EIF did not work before expiry"

    # Probe from 198.51.100.4 with growing gaps: even if fcnat lets inbound
    # packets refresh the mapping (RFC 4787 REQ-6 allows it), gaps larger than
    # the timeout let it expire.  The client sends nothing from now on.
    offsets = [1.0, 1.6, 2.6, 5.0, 8.5, 13.0]
    results = []
    expired_at = None
    for i, off in enumerate(offsets):
        delay = t_last_out + off - time.monotonic()
        if delay > 0:
            time.sleep(delay)   # the idle period is what is being tested
        probe = b"probe-%d" % i
        t_probe = time.monotonic() - t_last_out
        stranger.sendto(probe, mapped)
        # Long enough that a probe a loaded machine delivers late is not
        # taken for a dropped one (which would say "expired" too early).
        got = recv_matching(c, probe, 2.0)
        results.append((round(t_probe, 2), got is not None))
        if got is None:
            expired_at = t_probe
            break
    assert expired_at is not None, ("mapping %r still forwarded inbound packets %.1fs after the "
                                     "last outbound one (--timeout-udp 2); probes: %r"
                                     % (mapped, results[-1][0], results))
    assert expired_at >= timeout * 0.9, ("mapping expired only %.2fs after the last outbound "
                                         "packet (--timeout-udp 2); probes: %r"
                                         % (expired_at, results))
    drain(c)

    # fcnat still works afterwards: a fresh outbound packet creates a mapping.
    again = udp_exchange(c, srv, (EXT2, 7000), b"again")
    assert again[0] == GW_WAN_ADDR and in_range(again[1])
    stranger.sendto(b"after-renew", again)
    assert recv_matching(c, b"after-renew", 3) == (EXT4, 7100)


def test_rfc4787_req3a_low_ports_kept_only_with_preserve_low_ports(topo, fcnat):
    # Ports below 1024 are mapped into the range like any other by default...
    inst = fcnat("-i", "wan0", "--ports", "500-600")
    c = topo.client.udp(CLIENT_ADDR, 510)
    src = udp_mapping(topo, c)
    assert src[0] == GW_WAN_ADDR and 500 <= src[1] <= 600
    c.close()
    inst.stop()
    # ... and kept, when free and in the range, with --preserve-low-ports.
    fcnat("-i", "wan0", "--ports", "500-600", "--preserve-low-ports")
    c = topo.client.udp(CLIENT_ADDR, 511)
    assert udp_mapping(topo, c) == (GW_WAN_ADDR, 511)
