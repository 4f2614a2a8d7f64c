"""`make STATIC=1`: an fcnat that needs no shared library (mk/static.mk).

Builds build/static/fcnat for this machine, checks that its dynamic section
asks for nothing (no libbpf, libelf, libz, libc: fully static), runs it, and
puts it through a NAT smoke test in namespaces (UDP out and the answer back).
The metrics endpoint and IPFIX export are left out of that build
(METRICS_HTTP=0, IPFIX=0): --metrics and --ipfix must be refused with a
message, not ignored.
"""

import os
import signal
import subprocess

import pytest

from fcnat_util import REPO_ROOT, EXIT_TIMEOUT, Fcnat, assert_nothing_attached, fc_progs, \
    in_range, recv_matching, udp_exchange
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR

STATIC_BIN = os.path.join(REPO_ROOT, "build", "static", "fcnat")
# What a static link takes from Debian's -dev packages (mk/static.mk).
ARCHIVES = ("libbpf.a", "libelf.a", "libz.a", "libc.a", "libinih.a", "libjson-c.a")


@pytest.fixture(scope="module")
def static_bin():
    cc = os.environ.get("CC", "gcc")
    missing = []
    for a in ARCHIVES:
        r = subprocess.run([cc, "-print-file-name=" + a], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.isabs(r.stdout.strip()):
            missing.append(a)
    if missing:
        pytest.skip("no static archive for %s (scripts/deps.sh installs the -dev packages)"
                    % ", ".join(missing))
    r = subprocess.run(["make", "-j2", "STATIC=1", "build/static/fcnat"], cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, "make STATIC=1 failed:\n%s" % r.stderr[-4000:]
    return STATIC_BIN


def test_static_binary_needs_no_shared_library(static_bin):
    r = subprocess.run(["readelf", "-d", static_bin], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    needed = [l for l in r.stdout.splitlines() if "(NEEDED)" in l]
    assert needed == [], "a STATIC=1 build still needs:\n" + "\n".join(needed)
    r = subprocess.run(["readelf", "-l", static_bin], capture_output=True, text=True)
    assert "INTERP" not in r.stdout, "a program interpreter (dynamic loader) is requested"


def test_static_binary_runs(static_bin):
    r = subprocess.run([static_bin, "--version"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("fcnat "), r.stdout


@pytest.mark.parametrize("option,value,words", [
    ("--metrics", ":9477", "built without the metrics HTTP server"),
    ("--ipfix", "198.51.100.2:4739", "built without IPFIX export"),
])
def test_static_binary_refuses_what_it_left_out(static_bin, topo, option, value, words):
    r = topo.gw.run([static_bin, "-i", "wan0", option, value], check=False, timeout=10)
    assert r.returncode != 0, "%s accepted by a build without it" % option
    assert words in r.stderr, r.stderr


def test_static_binary_translates_udp(static_bin, topo):
    baseline = fc_progs()
    args = ["-i", "wan0"]
    inst = Fcnat(topo.gw.start([static_bin] + args, name="fcnat-static"), args, baseline)
    try:
        inst.wait_ready()
        c = topo.client.udp(CLIENT_ADDR, 0)
        srv = topo.ext.udp(EXT_ADDRS[0], 7000)
        src = udp_exchange(c, srv, (EXT_ADDRS[0], 7000), b"static-out")
        assert src[0] == GW_WAN_ADDR and in_range(src[1]), "not translated: %r" % (src,)
        srv.sendto(b"static-back", src)
        assert recv_matching(c, b"static-back", 3) == (EXT_ADDRS[0], 7000), \
            "the answer did not reach the client"
        assert inst.stop(signal.SIGTERM, EXIT_TIMEOUT) == 0, inst.stderr()
        assert_nothing_attached(topo.gw, baseline, prog_ids=inst.prog_ids)
    finally:
        if inst.running():
            inst.bg.kill()
        print("---- static fcnat stderr ----\n" + inst.stderr())
