"""--log-mappings: the mapping event log (creation from the datapath's ring
buffer, deletion from the sweeper), rate-limited, off by default."""

import json
import re
import socket

import pytest

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

    # Counted, not timed: every one of the 301 creations (warm-up + burst)
    # is either shown or in a "N events not shown" report, however slowly
    # a loaded machine hands them over.
    def accounted():
        err = inst.stderr()
        shown = len(re.findall(r"mapping created udp", err))
        hidden = sum(int(n) for n in re.findall(r"(\d+) events not shown", err))
        return (shown, hidden) if shown + hidden >= 301 else None

    shown, hidden = wait_until(accounted, 30, desc="every creation shown or reported suppressed")
    assert shown + hidden == 301, (shown, hidden)
    assert shown >= 100, "the first second's 100 are shown: %d" % shown
    assert hidden > 0, "301 creations in a burst, none suppressed"


def test_no_event_log_by_default(topo, fcnat):
    inst = fcnat("-i", "wan0")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    udp_exchange(c, srv, (EXT2, 7000), b"x")
    assert "mapping created" not in inst.stderr()


SYSLOG_LINE = re.compile(
    r"^<30>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d fcnat\[(\d+)\]: "
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (.*)$")


def syslog_listener(topo, tmp_path):
    """A unix datagram socket standing in for /dev/log (the daemon reaches
    it by path, whatever its network namespace)."""
    path = str(tmp_path / "log.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    topo.sockets.append(s)
    s.bind(path)
    s.settimeout(5)
    return path, s


def test_syslog_lines_from_the_config_file(topo, fcnat, tmp_path, bpffs):
    path, log = syslog_listener(topo, tmp_path)
    conf = tmp_path / "fcnat.conf"
    conf.write_text("[nat]\nifname = wan0\nbpffs = %s\nsyslog = true\nsyslog-socket = %s\n"
                    "[timeouts]\nudp = 1\n" % (bpffs, path))
    inst = fcnat("-c", str(conf))
    c = topo.client.udp(CLIENT_ADDR, 25720)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"x") == (GW_WAN_ADDR, 25720)
    lines = []
    for _ in range(2):
        m = SYSLOG_LINE.match(log.recv(1024).decode())
        assert m, lines
        assert int(m.group(1)) == inst.pid
        lines.append(m.group(2))
    assert lines == ["mapping created udp %s:25720 -> %s:25720" % (CLIENT_ADDR, GW_WAN_ADDR),
                     "mapping deleted udp %s:25720 -> %s:25720" % (CLIENT_ADDR, GW_WAN_ADDR)]
    # Not on stderr: that is --log-mappings.
    assert "mapping created" not in inst.stderr()


def test_syslog_never_blocks_the_daemon(topo, fcnat, run_fcnat, bpffs, tmp_path):
    """A syslog daemon that reads nothing: its socket fills, the lines it
    cannot take are counted, translation and the daemon go on."""
    path, log = syslog_listener(topo, tmp_path)
    fcnat("-i", "wan0", "--bpffs", bpffs, "--syslog", "--syslog-socket", path)
    srv = topo.ext.udp(EXT2, 7000)
    # From a port of the range that it keeps: an ephemeral one would get a
    # random external port, one time in 100 among the burst's 27000-27099.
    udp_exchange(topo.client.udp(CLIENT_ADDR, 26999), srv, (EXT2, 7000), b"warm-up")
    n = 100
    socks = [topo.client.udp(CLIENT_ADDR, 27000 + i) for i in range(n)]
    for i, s in enumerate(socks):
        s.sendto(b"flow-%d" % i, (EXT2, 7000))
    got = {srv.recvfrom(100) for _ in range(n)}
    assert got == {(b"flow-%d" % i, (GW_WAN_ADDR, 27000 + i)) for i in range(n)}

    def counters():
        r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
        assert r.returncode == 0, repr(r)
        return json.loads(r.stdout)["counters"]
    wait_until(lambda: counters()["syslog_records_dropped"] > 0, 10,
               desc="syslog lines dropped and counted")
    log.setblocking(False)
    received = 0
    while True:
        try:
            log.recv(1024)
        except BlockingIOError:
            break
        received += 1
    # Every creation either reached the socket or was counted.
    assert received + counters()["syslog_records_dropped"] == n + 1


@pytest.mark.parametrize("args,needle", [
    (["--ipfix", "collector:4739"], "invalid IPFIX collector"),
    (["--ipfix", "192.0.2.9"], "invalid IPFIX collector"),
    (["--ipfix", ":4739"], "invalid IPFIX collector"),
    (["--ipfix-domain", "-1"], "invalid observation domain"),
    (["--ipfix-template-interval", "0"], "invalid template interval"),
    (["--event-ring-kb", "5"], "invalid event ring size"),
    (["--event-ring-kb", "131072"], "invalid event ring size"),
    (["--syslog-socket", "dev/log"], "invalid syslog socket"),
])
def test_event_log_option_errors(run_fcnat, args, needle):
    r = run_fcnat("-i", "wan0", *args)
    assert r.returncode == 2, repr(r)
    assert needle in r.stderr, repr(r)
