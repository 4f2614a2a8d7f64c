"""--metrics ADDR:PORT: Prometheus text exposition, scraped with curl after real traffic."""

import re

import pytest

from fcnat_util import assert_nothing_attached, recv_matching
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR

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
    assert s[("fcnat_ports_total", wan)] == 10000
    udp = (("address", GW_WAN_ADDR), ("interface", "wan0"), ("proto", "udp"))
    tcp = (("address", GW_WAN_ADDR), ("interface", "wan0"), ("proto", "tcp"))
    assert s[("fcnat_ports_used", udp)] == 1 and s[("fcnat_ports_used", tcp)] == 0

    r = topo.gw.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                     "http://127.0.0.1:9477/other"])
    assert r.stdout == "404"


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
