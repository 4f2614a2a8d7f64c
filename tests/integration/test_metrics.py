"""--metrics ADDR:PORT: Prometheus text exposition, scraped with curl after real traffic."""

import re
import select
import signal
import socket
import struct
import threading
import time

import pytest

from fcnat_util import assert_nothing_attached, recv_matching
from netns import CLIENT_ADDR, EXT_ADDRS, GW_LAN_ADDR, GW_WAN_ADDR, wait_until

EXT2 = EXT_ADDRS[0]
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def scrape(topo, url):
    r = topo.gw.run(["curl", "-sS", "--max-time", "5", "-D", "-", url])
    # (text mode: the CRLFs of the head arrive as plain newlines)
    head, _, body = r.stdout.partition("\n\n")
    return head, body


def parse(body):
    """{(name, labels): value}; checks every sample has HELP and TYPE before it."""
    samples, typed = {}, set()
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        assert m.group(1) in typed, "no # TYPE for %s" % m.group(1)
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def test_metrics_endpoint_counts_real_traffic(bpffs, topo, fcnat):
    fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", "127.0.0.1:9477")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    for i in range(5):
        c.sendto(b"out-%d" % i, (EXT2, 7000))
    for i in range(5):
        _, src = srv.recvfrom(100)
    for i in range(3):
        srv.sendto(b"in-%d" % i, src)
        assert recv_matching(c, b"in-%d" % i, 3) == (EXT2, 7000)

    head, body = scrape(topo, "http://127.0.0.1:9477/metrics")
    assert head.startswith("HTTP/1.0 200"), head
    assert "text/plain; version=0.0.4" in head, head
    s = parse(body)
    wan = (("interface", "wan0"),)
    assert s[("fcnat_translated_out_total", wan)] == 5, body
    assert s[("fcnat_translated_in_total", wan)] == 3
    assert s[("fcnat_mappings_created_total", wan)] == 1
    assert s[("fcnat_drop_unsolicited_total", wan)] == 0
    assert s[("fcnat_reloads_total", wan)] == 0
    assert s[("fcnat_mappings", wan)] == 1
    assert s[("fcnat_sessions", wan)] == 1
    for proto in ("tcp", "udp", "icmp"):
        assert s[("fcnat_ports_total", (("interface", "wan0"), ("proto", proto)))] == 10000
    udp = (("address", GW_WAN_ADDR), ("interface", "wan0"), ("proto", "udp"))
    tcp = (("address", GW_WAN_ADDR), ("interface", "wan0"), ("proto", "tcp"))
    assert s[("fcnat_ports_used", udp)] == 1 and s[("fcnat_ports_used", tcp)] == 0

    r = topo.gw.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                     "http://127.0.0.1:9477/other"])
    assert r.stdout == "404"


def test_metrics_head_answered_other_methods_405(bpffs, topo, fcnat):
    fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", "127.0.0.1:9477")
    r = topo.gw.run(["curl", "-sS", "-I", "--max-time", "5", "http://127.0.0.1:9477/metrics"])
    assert r.stdout.startswith("HTTP/1.0 200"), r.stdout
    assert "text/plain; version=0.0.4" in r.stdout, r.stdout
    r = topo.gw.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-X", "POST", "-d", "x=1",
                     "--max-time", "5", "http://127.0.0.1:9477/metrics"])
    assert r.stdout.startswith("HTTP/1.0 405"), r.stdout
    assert "Allow: GET, HEAD" in r.stdout, r.stdout


def test_metrics_off_by_default(bpffs, topo, fcnat):
    fcnat("-i", "wan0", "--bpffs", bpffs)
    out = topo.gw.run(["ss", "-Hltn"]).stdout
    assert out.strip() == "", "fcnat listens without --metrics:\n" + out


@pytest.mark.parametrize("spec", ["nonsense", "127.0.0.1", "127.0.0.1:0", "1.2.3:80",
                                  "[::1:9477"])
def test_metrics_bad_address_exits_2(bpffs, topo, run_fcnat, spec):
    r = run_fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", spec)
    assert r.returncode == 2, repr(r)
    assert spec in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_metrics_port_in_use_exits_1_attaching_nothing(bpffs, topo, run_fcnat):
    busy = topo.gw.tcp("127.0.0.1", 9478)
    busy.listen(1)
    r = run_fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", "127.0.0.1:9478")
    assert r.returncode == 1, repr(r)
    assert "9478" in r.stderr and "in use" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


# ---- hostile clients (issue 16) -------------------------------------------------------
# The endpoint's bounds, as src/metrics.c sets them (doc/security.md, "metrics").
DEADLINE_S = 10             # whole exchange, from accept to close
PER_IP_LIMIT = 4            # connections open at once from one address
CONNECTION_LIMIT = 16       # connections open at once in all
REQUEST = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n"
# 4096 pool addresses, three ports_used lines each: an answer of about 1 MB,
# more than the socket buffers hold, so the daemon is still writing it.
BIG_POOL = "198.18.0.0/20"


def metrics_client(topo, port, src="127.0.0.1", timeout=5.0):
    s = topo.gw.tcp(src, 0, timeout=timeout)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, wait):
    """True if the server closes or resets s within `wait` s (what it sends is dropped)."""
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return False
        try:
            if not s.recv(65536):
                return True
        except OSError:
            return True


def scrape_code(topo, port, src=None, max_time=5):
    """curl's HTTP status for one scrape ("000": no answer within max_time)."""
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", str(max_time)]
    if src:
        cmd += ["--interface", src]
    return topo.gw.run(cmd + ["http://127.0.0.1:%d/metrics" % port], check=False).stdout


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_metrics_survives_scrapers_that_reset_mid_answer(bpffs, topo, fcnat):
    """A request, then an RST while the daemon writes a 1 MB answer: no SIGPIPE."""
    d = fcnat("-i", "wan0", "--bpffs", bpffs, "--pool", BIG_POOL, "--metrics", "127.0.0.1:9477")
    for i in range(100):
        s = metrics_client(topo, 9477)
        s.sendall(REQUEST)
        if i % 2:
            s.recv(1)       # half of them once the answer has started
        reset(s)
    assert d.running(), "fcnat died (status %s):\n%s" % (d.bg.returncode, d.stderr())
    assert scrape_code(topo, 9477) == "200"


class Trickler(threading.Thread):
    """A client sending its request head one byte every 50 ms, never finishing it,
    for up to `limit` s; `cut_after` is when the server closed it (None: not yet)."""

    def __init__(self, topo, port, limit=60.0):
        super().__init__(daemon=True)
        self.sock = metrics_client(topo, port)
        self.limit = limit
        self.cut_after = None

    def run(self):
        t0 = time.monotonic()
        self.sock.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
        while time.monotonic() - t0 < self.limit:
            try:
                self.sock.send(b"a")
            except OSError:
                self.cut_after = time.monotonic() - t0
                return
            if closed_by_server(self.sock, 0.05):
                self.cut_after = time.monotonic() - t0
                return


def natpmp_address_answered(topo, wait):
    """A NAT-PMP public address request from the client, answered within `wait` s."""
    c = topo.client.udp(CLIENT_ADDR, 0, timeout=wait)
    c.sendto(b"\x00\x00", (GW_LAN_ADDR, 5351))
    try:
        return len(c.recvfrom(64)[0]) == 12
    except socket.timeout:
        return False


def test_metrics_trickling_client_is_cut_and_stalls_nothing(bpffs, topo, fcnat):
    """While one client trickles its request, scrapes and NAT-PMP are answered at
    once; the trickler is cut at its deadline, not after its minute."""
    fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", "127.0.0.1:9477", "--pcp-if", "lan0")
    slow = Trickler(topo, 9477)
    slow.start()
    time.sleep(1)
    for _ in range(3):
        assert scrape_code(topo, 9477) == "200", "a scrape waited on the trickling client"
        assert natpmp_address_answered(topo, 3), "NAT-PMP waited on the trickling client"
    slow.join(DEADLINE_S + 30)
    assert slow.cut_after is not None, "the trickling client was never cut"
    assert DEADLINE_S - 1 <= slow.cut_after <= DEADLINE_S + 20, slow.cut_after


def test_metrics_trickling_client_does_not_delay_sigterm(bpffs, topo, fcnat):
    d = fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", "127.0.0.1:9477")
    slow = Trickler(topo, 9477)
    slow.start()
    time.sleep(1)
    assert slow.cut_after is None, "the trickling client was cut before its deadline"
    assert d.stop(signal.SIGTERM, timeout=5) == 0, d.stderr()
    assert "detached from wan0" in d.stderr()


def test_metrics_connections_over_the_limits_are_closed(bpffs, topo, fcnat):
    """Idle connections: PER_IP_LIMIT kept from one address, the rest closed at once;
    CONNECTION_LIMIT in all; another address still scrapes while one is at its limit."""
    d = fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", "0.0.0.0:9477")
    first = [metrics_client(topo, 9477) for _ in range(PER_IP_LIMIT + 6)]
    time.sleep(1.5)
    closed = [s for s in first if closed_by_server(s, 0.05)]
    assert len(closed) == 6, "%d of %d closed" % (len(closed), len(first))
    assert scrape_code(topo, 9477, src="127.0.0.2") == "200"

    others = [metrics_client(topo, 9477, src="127.0.1.%d" % (i // PER_IP_LIMIT + 1))
              for i in range(CONNECTION_LIMIT)]
    time.sleep(1.5)
    kept = [s for s in others if not closed_by_server(s, 0.05)]
    assert len(kept) == CONNECTION_LIMIT - PER_IP_LIMIT, len(kept)
    for s in first + others:
        s.close()
    assert d.running()
    # Gone connections free their places (the daemon notices the closes).
    wait_until(lambda: scrape_code(topo, 9477) == "200", 10, desc="a scrape after the flood")


def test_metrics_oversized_request_gets_4xx(bpffs, topo, fcnat):
    """A request head within the cap is served; a 64 KiB one is answered 4xx."""
    d = fcnat("-i", "wan0", "--bpffs", bpffs, "--metrics", "127.0.0.1:9477")
    s = metrics_client(topo, 9477)
    s.sendall(REQUEST[:-2] + b"X-Fill: " + b"f" * 3000 + b"\r\n\r\n")
    assert s.recv(64).startswith(b"HTTP/1.0 200"), "a 3 KB request head refused"
    s.close()
    s = metrics_client(topo, 9477)
    try:
        s.sendall(REQUEST[:-2] + b"X-Fill: " + b"f" * 65536 + b"\r\n\r\n")
    except OSError:
        pass        # closed while we sent: read what it answered first
    status = s.recv(64)
    assert re.match(rb"HTTP/1\.[01] 4\d\d ", status), status
    s.close()
    assert d.running()
    assert scrape_code(topo, 9477) == "200"


def test_metrics_slow_reader_is_cut_and_stalls_nothing(bpffs, topo, fcnat):
    """A client reading its 1 MB answer 4 KB every 50 ms (about 14 s): scrapes are
    answered meanwhile and the reader is cut at its deadline."""
    # 8 KB send buffers in the gateway's namespace (gone with it): the kernel cannot
    # take the answer off the daemon's hands, which must keep writing as it is read.
    topo.gw.sysctl("net.ipv4.tcp_wmem", "4096 8192 8192")
    fcnat("-i", "wan0", "--bpffs", bpffs, "--pool", BIG_POOL, "--metrics", "127.0.0.1:9477")
    s = metrics_client(topo, 9477)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(REQUEST)
    t0, got, cut_after = time.monotonic(), 0, None

    def read_slowly():
        nonlocal got, cut_after
        while time.monotonic() - t0 < 60:
            try:
                b = s.recv(4096)
            except OSError:
                b = b""
            if not b:
                cut_after = time.monotonic() - t0
                return
            got += len(b)
            time.sleep(0.05)

    reader = threading.Thread(target=read_slowly, daemon=True)
    reader.start()
    time.sleep(1)
    for _ in range(3):
        assert scrape_code(topo, 9477) == "200", "a scrape waited on the slow reader"
    reader.join(DEADLINE_S + 30)
    assert cut_after is not None, "the slow reader was never cut"
    assert DEADLINE_S - 1 <= cut_after <= DEADLINE_S + 20, (cut_after, got)
    assert got < 1000000, "the whole answer was read (%d bytes): not slow enough" % got
