"""Command line of fcnat: exit codes, messages, and that failures attach nothing.

Contract: usage errors exit 2, run-time errors exit 1, each with a message on
stderr naming the problem; in every failure case wan0 carries no clsact qdisc,
no filter, and no fc_ BPF program is left loaded.
"""

import re

import pytest

from fcnat_util import assert_nothing_attached, in_range, udp_exchange
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR

EXT2 = EXT_ADDRS[0]

USAGE_ERRORS = [
    # (id, args, text the message must contain)
    ("unknown-flag", ["-i", "wan0", "--bogus-flag"], "--bogus-flag"),
    ("range-reversed", ["-i", "wan0", "--ports", "30000-20000"], "30000-20000"),
    ("range-out-of-bounds", ["-i", "wan0", "--ports", "0-70000"], "0-70000"),
    ("range-not-a-number", ["-i", "wan0", "--ports", "abc"], "abc"),
    ("range-second-bad", ["-i", "wan0", "--ports", "20000-29999", "40000-30000"], "40000-30000"),
    ("timeout-not-a-number", ["-i", "wan0", "--timeout-udp", "abc"], "abc"),
    ("ifname-without-value", ["-i"], None),
]


def _mapped(topo, local_port=0):
    c = topo.client.udp(CLIENT_ADDR, local_port)
    srv = topo.ext.udp(EXT2, 7000)
    return udp_exchange(c, srv, (EXT2, 7000), b"cli-probe")


@pytest.mark.parametrize("args,needle", [(a, n) for _, a, n in USAGE_ERRORS],
                         ids=[i for i, _, _ in USAGE_ERRORS])
def test_usage_error_exits_2_and_attaches_nothing(topo, run_fcnat, args, needle):
    r = run_fcnat(*args)
    assert r.returncode == 2, repr(r)
    assert r.stderr.strip(), "no message on stderr: %r" % r
    if needle:
        assert needle in r.stderr, "message does not mention %r: %r" % (needle, r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_missing_ifname_exits_2(topo, run_fcnat):
    r = run_fcnat("--ports", "20000-29999")
    assert r.returncode == 2, repr(r)
    assert re.search(r"(-i\b|--ifname|interface)", r.stderr, re.I), \
        "message does not say the interface is missing: %r" % r
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_nat66_without_ipv6_address_exits_1_attaching_nothing(topo, run_fcnat):
    r = run_fcnat("-i", "wan0", "--nat66")
    assert r.returncode == 1, repr(r)
    assert "no usable global IPv6 address" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_no_such_interface_exits_1(topo, run_fcnat):
    r = run_fcnat("-i", "nosuch0")
    assert r.returncode == 1, repr(r)
    assert "nosuch0" in r.stderr, "message does not name the interface: %r" % r
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def _add_noaddr(topo):
    # (this kernel has no dummy driver; a veth pair does as well)
    topo.gw.run(["ip", "link", "add", "noaddr0", "type", "veth", "peer", "name", "noaddr1"])
    topo.gw.link_up("noaddr0")


def test_interface_without_ipv4_exits_1(topo, run_fcnat):
    _add_noaddr(topo)
    r = run_fcnat("-i", "noaddr0")
    assert r.returncode == 1, repr(r)
    assert "noaddr0" in r.stderr, "message does not name the interface: %r" % r
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname="noaddr0")
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname="wan0")


@pytest.mark.parametrize("ifname", ["nosuch0", "noaddr0"])
def test_runtime_error_message_is_one_clear_line(topo, run_fcnat, ifname):
    if ifname == "noaddr0":
        _add_noaddr(topo)
    r = run_fcnat("-i", ifname)
    assert r.returncode == 1, repr(r)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, "expected one error line, got:\n%s" % r.stderr


@pytest.mark.parametrize("flag", ["-v", "--version"])
def test_version_exits_0(topo, run_fcnat, flag):
    r = run_fcnat(flag)
    assert r.returncode == 0, repr(r)
    assert re.search(r"\d+\.\d+", r.stdout + r.stderr), repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_exits_0_and_shows_usage(topo, run_fcnat, flag):
    r = run_fcnat(flag)
    assert r.returncode == 0, repr(r)
    for word in ("--ifname", "--ports"):
        assert word in r.stdout, "%s missing from the usage on stdout: %r" % (word, r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_einat_compatible_flags_accepted(topo, fcnat):
    fcnat("--ifname", "wan0", "--nat44", "--ports", "20000-24999", "26000", "--bpf-log", "0")
    src = _mapped(topo)
    assert src[0] == GW_WAN_ADDR
    assert 20000 <= src[1] <= 24999 or src[1] == 26000, src


def test_timeouts_below_rfc_minimum_accepted_with_warning(topo, fcnat):
    inst = fcnat("-i", "wan0", "--timeout-udp", "2", "--timeout-icmp", "2",
                 "--timeout-tcp-est", "3", "--timeout-tcp-trans", "2")
    assert re.search(r"warn", inst.stderr(), re.I), \
        "no warning for timeouts below the RFC minimum:\n%s" % inst.stderr()
    src = _mapped(topo)
    assert src[0] == GW_WAN_ADDR and in_range(src[1])


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_config_file(topo, fcnat, tmp_path):
    conf = _write(tmp_path, "fcnat.conf",
                  "# test\n[nat]\nifname = wan0\nports = 30500-30509\n\n[timeouts]\nudp = 300\n")
    fcnat("-c", conf)
    src = _mapped(topo)
    assert src[0] == GW_WAN_ADDR and 30500 <= src[1] <= 30509, src


def test_command_line_overrides_config_file(topo, fcnat, tmp_path):
    conf = _write(tmp_path, "fcnat.conf", "[nat]\nifname = wan0\nports = 30500-30509\n")
    fcnat("-c", conf, "--ports", "30600")
    assert _mapped(topo) == (GW_WAN_ADDR, 30600)


def test_config_file_unknown_key_exits_2(topo, run_fcnat, tmp_path):
    conf = _write(tmp_path, "bad.conf", "[nat]\nifname = wan0\nbogus-key = 1\n")
    r = run_fcnat("-c", conf)
    assert r.returncode == 2, repr(r)
    assert "bogus-key" in r.stderr and "bad.conf" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_config_file_bad_ports_exits_2(topo, run_fcnat, tmp_path):
    conf = _write(tmp_path, "badports.conf", "[nat]\nifname = wan0\nports = 30000-20000\n")
    r = run_fcnat("-c", conf)
    assert r.returncode == 2, repr(r)
    assert "30000-20000" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_check_config_validates_without_attaching(topo, run_fcnat, tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("[nat]\nifname = wan0\nports = 25000-25999\n"
                    "forward = udp:25050=192.168.77.2:8080\n[timeouts]\nudp = 200\n")
    r = run_fcnat("--check-config", str(good))
    assert r.returncode == 0 and "configuration is valid" in r.stdout, repr(r)
    bad = tmp_path / "bad.conf"
    bad.write_text("[nat]\nifname = wan0\n\n[timeouts]\nudpp = 200\n")
    r = run_fcnat("--check-config", str(bad))
    assert r.returncode == 2 and "%s:5" % bad in r.stderr and "udpp" in r.stderr, repr(r)
    # Nothing was attached by either.
    out = topo.gw.run(["tc", "qdisc", "show", "dev", "wan0"]).stdout
    assert "clsact" not in out, out


def _add_tun(topo, name="tun0"):
    # A link with no Ethernet header, as PPP (pppoe-wan), WireGuard and
    # tunnels are: TC mode reads it (test_link_l3.py), XDP mode does not.
    topo.gw.run(["ip", "tuntap", "add", "mode", "tun", "dev", name])
    topo.gw.addr_add(name, "10.77.0.1/24")
    topo.gw.link_up(name)


def add_tun_of_type(ns, name, arphrd):
    """A TUN device that says it is of link type arphrd (TUNSETLINK): how a
    test gets a link type this kernel has no driver for."""
    ns.run(["python3", "-c",
            "import fcntl, os, struct\n"
            "fd = os.open('/dev/net/tun', os.O_RDWR)\n"
            "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH22x', b'%s', 0x1001))\n"  # TUNSETIFF
            "fcntl.ioctl(fd, 0x400454cd, %d)\n"  # TUNSETLINK
            "fcntl.ioctl(fd, 0x400454cb, 1)\n" % (name, arphrd)])  # TUNSETPERSIST


ARPHRD_INFINIBAND = 32


@pytest.mark.parametrize("args", [["-i", "ib0"],
                                  ["-i", "wan0", "--hairpin-if", "ib0"],
                                  ["-i", "wan0", "--lan-if", "ib0"]],
                         ids=["external", "hairpin-if", "lan-if"])
def test_link_of_unknown_type_refused_exits_1(topo, run_fcnat, args):
    """Issue 17: never "ready" on a link whose header the datapath does not
    know (it would send LAN addresses out untranslated): the message names
    the type."""
    add_tun_of_type(topo.gw, "ib0", ARPHRD_INFINIBAND)
    topo.gw.link_up("ib0")
    r = run_fcnat(*args)
    assert r.returncode == 1, repr(r)
    assert "ib0: link type not supported: InfiniBand" in r.stderr, repr(r)
    assert "ready" not in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname="wan0")
    assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname="ib0")


@pytest.mark.parametrize("args", [["-i", "tun0", "--mode", "xdp", "--lan-if", "lan0"],
                                  ["-i", "wan0", "--mode", "xdp", "--lan-if", "tun0"]],
                         ids=["external", "internal"])
def test_xdp_mode_on_link_without_ethernet_header_refused_exits_1(topo, run_fcnat, args):
    """XDP reads Ethernet frames only: on a bare-IP link it is refused, never
    attached to lose the traffic silently."""
    _add_tun(topo)
    r = run_fcnat(*args)
    assert r.returncode == 1, repr(r)
    assert "tun0: XDP mode needs an Ethernet link" in r.stderr, repr(r)
    assert "ready" not in r.stderr, repr(r)
    for ifname in ("wan0", "tun0", "lan0"):
        assert_nothing_attached(topo.gw, run_fcnat.baseline, ifname=ifname)


@pytest.mark.parametrize("args", [["-i", "tun0"],
                                  ["-i", "wan0", "--hairpin-if", "tun0"],
                                  ["-i", "wan0", "--lan-if", "tun0"]],
                         ids=["external", "hairpin-if", "lan-if"])
def test_link_without_ethernet_header_accepted_in_tc_mode(topo, fcnat, args):
    """PPP, TUN, WireGuard, tunnels: TC mode reads them (frames start at the
    IP header); the datapath is attached there."""
    _add_tun(topo)
    inst = fcnat(*args)
    assert "ready" in inst.stderr(), inst.stderr()
    r = topo.gw.run(["tc", "filter", "show", "dev", "tun0", "ingress"])
    assert "fc_tc_" in r.stdout, r.stdout
