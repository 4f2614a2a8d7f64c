"""--nat64 [PREFIX] and the configuration file key `nat64`: the prefix is
validated (RFC 6052 section 2.2: lengths 32, 40, 48, 56, 64, 96, no bits past
the length, the "u" octet zero), every bad one is a usage error naming it; a
good one without an internal interface (--hairpin-if / --lan-if, where
NAT64 translates) is refused with a message saying so (IPv6 to the prefix
would go untranslated). Nothing is attached on refusal."""

import pytest

from fcnat_util import assert_nothing_attached

NOT_WIRED = "--nat64 needs the internal interfaces"

BAD_PREFIXES = [
    # (id, prefix, text the message must contain)
    ("no-length", "64:ff9b::", "expected IPV6-PREFIX/LENGTH"),
    ("not-ipv6", "zz::/96", "is not an IPv6 address"),
    ("ipv4", "192.0.2.0/24", "is not an IPv6 address"),
    ("length-33", "2001:db8::/33", "32, 40, 48, 56, 64 or 96"),
    ("length-128", "2001:db8::/128", "32, 40, 48, 56, 64 or 96"),
    ("length-junk", "2001:db8::/6x", "32, 40, 48, 56, 64 or 96"),
    ("host-bits", "2001:db8::1/64", "bits set past /64"),
    ("host-bits-32", "2001:db8:1::/32", "bits set past /32"),
    ("u-octet", "64:ff9b:0:0:ff00::/96", "u\" octet"),
]

GOOD_PREFIXES = ["2001:db8::/32", "2001:db8:100::/40", "2001:db8:122::/48",
                 "2001:db8:122:300::/56", "2001:db8:122:344::/64", "64:ff9b::/96",
                 "64:ff9b:1::/96"]


@pytest.mark.parametrize("prefix,needle", [(p, n) for _, p, n in BAD_PREFIXES],
                         ids=[i for i, _, _ in BAD_PREFIXES])
def test_rfc6052_bad_prefix_is_a_usage_error(topo, run_fcnat, prefix, needle):
    for args in (["--nat64", prefix], ["--nat64=" + prefix]):
        r = run_fcnat("-i", "wan0", *args)
        assert r.returncode == 2, repr(r)
        assert prefix in r.stderr and needle in r.stderr, repr(r)
        assert NOT_WIRED not in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


@pytest.mark.parametrize("args", [["--nat64"]] + [["--nat64", p] for p in GOOD_PREFIXES],
                         ids=["default"] + GOOD_PREFIXES)
def test_good_prefix_refused_without_internal_interface(topo, run_fcnat, args):
    r = run_fcnat("-i", "wan0", *args)
    assert r.returncode == 2, repr(r)
    assert NOT_WIRED in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_nat64_followed_by_an_option(topo, run_fcnat):
    """--nat64 without a prefix does not swallow the next option."""
    r = run_fcnat("--nat64", "-i", "wan0")
    assert r.returncode == 2 and NOT_WIRED in r.stderr, repr(r)


def test_config_file_nat64_key(topo, run_fcnat, tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[nat]\nifname = wan0\nnat64 = 2001:db8::/31\n")
    r = run_fcnat("-c", str(bad))
    assert r.returncode == 2, repr(r)
    assert "%s:3" % bad in r.stderr and "2001:db8::/31" in r.stderr, repr(r)
    for value in ("true", "64:ff9b::/96"):
        good = tmp_path / "good.conf"
        good.write_text("[nat]\nifname = wan0\nnat64 = %s\n" % value)
        for args in (["-c", str(good)], ["--check-config", str(good)]):
            r = run_fcnat(*args)
            assert r.returncode == 2 and NOT_WIRED in r.stderr, repr(r)
        good.write_text("[nat]\nifname = wan0\nhairpin-if = lan0\nnat64 = %s\n" % value)
        r = run_fcnat("--check-config", str(good))
        assert r.returncode == 0 and "configuration is valid" in r.stdout, repr(r)
    off = tmp_path / "off.conf"
    off.write_text("[nat]\nifname = wan0\nnat64 = false\n")
    r = run_fcnat("--check-config", str(off))
    assert r.returncode == 0 and "configuration is valid" in r.stdout, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


@pytest.mark.parametrize("value", ["256", "-1", "x", ""])
def test_rfc7915_nat64_tos_bad_value_is_a_usage_error(topo, run_fcnat, value):
    r = run_fcnat("-i", "wan0", "--nat64", "--hairpin-if", "lan0", "--nat64-tos", value)
    assert r.returncode == 2, repr(r)
    assert "invalid TOS" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_rfc7915_nat64_tos_config_key(topo, run_fcnat, tmp_path):
    """RFC 7915 §4.1/§5.1 SHOULD: the TOS / traffic class override is an
    option (a number 0-255 or copy) in the configuration file too."""
    for value in ("32", "0", "255", "copy"):
        good = tmp_path / "good.conf"
        good.write_text("[nat]\nifname = wan0\nhairpin-if = lan0\nnat64 = true\n"
                        "nat64-tos = %s\n" % value)
        r = run_fcnat("--check-config", str(good))
        assert r.returncode == 0 and "configuration is valid" in r.stdout, repr(r)
    bad = tmp_path / "bad.conf"
    bad.write_text("[nat]\nifname = wan0\nhairpin-if = lan0\nnat64 = true\nnat64-tos = 300\n")
    r = run_fcnat("--check-config", str(bad))
    assert r.returncode == 2 and "invalid TOS" in r.stderr, repr(r)


@pytest.mark.parametrize("value", ["1279", "65536", "0", "x", ""])
def test_rfc7915_nat64_lowest_mtu_bad_value_is_a_usage_error(topo, run_fcnat, value):
    """RFC 7915 §4: lowest-ipv6-mtu is user-defined, never below the IPv6
    minimum MTU (1280), at most an IPv4 packet's size."""
    r = run_fcnat("-i", "wan0", "--nat64", "--hairpin-if", "lan0", "--nat64-lowest-mtu", value)
    assert r.returncode == 2, repr(r)
    assert "invalid NAT64 lowest IPv6 MTU" in r.stderr and "1280 to 65535" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


@pytest.mark.parametrize("value", ["0", "1", "31", "x"])
def test_fragment_hold_below_fragment_min_is_a_usage_error(topo, run_fcnat, value):
    """RFC 6146 §3.4: fragments may arrive over at least FRAGMENT_MIN, 2 s."""
    r = run_fcnat("-i", "wan0", "--fragment-hold", value)
    assert r.returncode == 2, repr(r)
    assert "invalid fragment hold" in r.stderr and "2 to 30" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_rfc7915_nat64_translation_config_keys(topo, run_fcnat, tmp_path):
    """The RFC 7915 choices in the configuration file: nat64-lowest-mtu,
    nat64-udp-zero-checksum (compute or drop) and fragment-hold; bad values
    name the file's line."""
    good = tmp_path / "good.conf"
    for mtu, udp0, hold in (("1280", "compute", "2"), ("1500", "drop", "30"),
                            ("65535", "compute", "10")):
        good.write_text("[nat]\nifname = wan0\nhairpin-if = lan0\nnat64 = true\n"
                        "nat64-lowest-mtu = %s\nnat64-udp-zero-checksum = %s\n"
                        "fragment-hold = %s\n" % (mtu, udp0, hold))
        r = run_fcnat("--check-config", str(good))
        assert r.returncode == 0 and "configuration is valid" in r.stdout, repr(r)
    for key, value, needle in (("nat64-lowest-mtu", "1000", "invalid NAT64 lowest IPv6 MTU"),
                               ("nat64-udp-zero-checksum", "keep", "expected compute or drop"),
                               ("fragment-hold", "1", "invalid fragment hold")):
        bad = tmp_path / "bad.conf"
        bad.write_text("[nat]\nifname = wan0\nhairpin-if = lan0\nnat64 = true\n%s = %s\n"
                       % (key, value))
        r = run_fcnat("--check-config", str(bad))
        assert r.returncode == 2 and needle in r.stderr and "%s:5" % bad in r.stderr, repr(r)
    r = run_fcnat("-i", "wan0", "--nat64", "--hairpin-if", "lan0",
                  "--nat64-udp-zero-checksum", "keep")
    assert r.returncode == 2 and "expected compute or drop" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)
