"""The checks every WAN link type's tests make (test_link_*.py): ping, UDP
with endpoint-independent mapping and filtering (RFC 4787 REQ-1 and REQ-8,
probed as RFC 5780 does: a second server sees the same mapping, a third host
that was never contacted reaches it), TCP, and no LAN address ever seen on
the ISP's side of the link."""

from fcnat_util import recv_matching, udp_exchange
from netns import CLIENT_ADDR, LAN6_PREFIX, LAN_PREFIX

# The LAN's prefixes as tcpdump prints addresses in them.
LAN_NETS = (LAN_PREFIX.rsplit(".", 1)[0] + ".", LAN6_PREFIX.split("::")[0] + ":")
# The last datagram of a check, told apart in tcpdump's lines by its length
# (every other payload of these tests is shorter).
MARKER = b"m" * 123


class WanCapture:
    """tcpdump on one interface of the ISP's side (the underlay, or the far
    end of a tunnel), as text: what left the gateway."""

    def __init__(self, ns, ifname, *pcap_filter, flags=()):
        # -q: "UDP, length N" whatever the port (7000 would be decoded as AFS).
        self.dump = ns.start(["tcpdump", "-q", "-n", "-l", *flags, "-i", ifname, *pcap_filter],
                             name="tcpdump-" + ifname)
        self.dump.wait_output(lambda t: "listening on" in t, 10, desc="tcpdump to start")

    def text(self):
        return self.dump.stdout_text()

    def flush(self, sock, dst, wan_addr):
        """Send MARKER from sock to dst and wait until tcpdump shows it
        leaving from wan_addr: it has then printed every packet before it."""
        sock.sendto(MARKER, dst)
        line = "%s.%d > %s.%d: UDP, length %d" % (wan_addr, sock.getsockname()[1], dst[0],
                                                 dst[1], len(MARKER))
        try:
            self.dump.wait_output(lambda t: line in t, 10, stream="stdout",
                                  desc="tcpdump to show the marker %r" % line)
        except AssertionError as e:
            raise AssertionError("%s\ntcpdump's last lines:\n%s"
                                 % (e, "\n".join(self.text().splitlines()[-20:]))) from None

    def lan_lines(self):
        return [l for l in self.text().splitlines() if any(n in l for n in LAN_NETS)]

    def assert_no_lan_sources(self, sock, dst, wan_addr):
        """After flush(): no line names a LAN address."""
        self.flush(sock, dst, wan_addr)
        lan = self.lan_lines()
        assert not lan, "LAN addresses on the ISP's side:\n%s" % "\n".join(lan)


def check_ping(topo, dst):
    r = topo.client.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", dst], check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def check_udp_eim_eif(topo, wan_addr, servers, port=25100, client_addr=CLIENT_ADDR):
    """One mapping for two servers (EIM), reached by a third host (EIF).
    servers: three addresses in the EXTERNAL namespace. Returns the client's
    socket and the mapping (address and port: IPv6 sources have four fields)."""
    srv1_addr, srv2_addr, stranger_addr = servers
    c = topo.client.udp(client_addr, port)
    srv1 = topo.ext.udp(srv1_addr, 7000)
    srv2 = topo.ext.udp(srv2_addr, 7000)
    mapped = udp_exchange(c, srv1, (srv1_addr, 7000), b"to-1")[:2]
    assert mapped == (wan_addr, port), mapped
    assert udp_exchange(c, srv2, (srv2_addr, 7000), b"to-2")[:2] == mapped
    stranger = topo.ext.udp(stranger_addr, 7100)
    stranger.sendto(b"unsolicited", mapped)
    got = recv_matching(c, b"unsolicited", 3)
    assert got is not None and got[:2] == (stranger_addr, 7100), got
    return c, mapped


def check_tcp(topo, wan_addr, server, port=7200, client_addr=CLIENT_ADDR):
    """A connection from the client: the server sees wan_addr; data both ways."""
    listener = topo.ext.tcp(server, port)
    listener.listen(1)
    conn = topo.client.tcp(client_addr, 0)
    conn.settimeout(5)
    conn.connect((server, port))
    listener.settimeout(5)
    peer, addr = listener.accept()
    try:
        assert addr[0] == wan_addr, addr
        conn.sendall(b"over-tcp")
        assert peer.recv(100) == b"over-tcp"
        peer.sendall(b"back")
        assert conn.recv(100) == b"back"
    finally:
        peer.close()
        conn.close()


def check_wan(topo, wan_addr, servers, capture, client_addr=CLIENT_ADDR):
    """Ping, UDP EIM+EIF and TCP from client_addr through fcnat on the WAN
    whose address is wan_addr (IPv4 or IPv6), then nothing with a LAN
    address in capture. Returns the UDP client's socket and its mapping."""
    check_ping(topo, servers[0])
    c, mapped = check_udp_eim_eif(topo, wan_addr, servers, client_addr=client_addr)
    check_tcp(topo, wan_addr, servers[0], client_addr=client_addr)
    capture.assert_no_lan_sources(c, (servers[1], 7000), wan_addr)
    return c, mapped


def stat(run_fcnat, bpffs, ifname, name):
    """One of `fcnat stats`'s counters of the instance on ifname (0 when it
    is not listed: counters at zero are not)."""
    r = run_fcnat("stats", "-i", ifname, "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == name:
            return int(f[1])
    return 0
