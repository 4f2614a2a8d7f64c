"""fcnat --import-einat: einat's config.toml to fcnat.conf, and einat's
`-c config.toml` read through the same converter (issue 17).

The sample (data/einat-sample.toml) holds every key of einat 0.1.11's
config.sample.toml. The converted file must pass fcnat's own validation
(--check-config) and carry the expected keys; every einat key without an
equivalent is named on stderr.
"""

import os
import subprocess

from fcnat_util import REPO_ROOT, ini_items, udp_exchange
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR

FCNAT = os.path.join(REPO_ROOT, "build", "fcnat")
SAMPLE = os.path.join(os.path.dirname(__file__), "data", "einat-sample.toml")
EXT2 = EXT_ADDRS[0]


def run(*args):
    return subprocess.run([FCNAT] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30)


def keys(text):
    """{(section, key): value} of an INI text."""
    return {(sec, k): v for sec, k, v in ini_items(text)}


def test_sample_converts_to_a_valid_config_with_the_expected_keys(tmp_path):
    out = tmp_path / "fcnat.conf"
    r = run("--import-einat", SAMPLE, "-o", out)
    assert r.returncode == 0, repr(r)
    k = keys(out.read_text())
    assert k == {
        ("nat", "ifname"): "eth0",
        ("nat", "tcp-ports"): "20000-29999",
        ("nat", "udp-ports"): "20000-29999",
        ("nat", "icmp-ids"): "1-65535",     # einat's 0-65535: id 0 is never handed out
        ("nat", "nat44"): "true",
        ("nat", "nat66"): "false",
        ("nat", "bpf-log"): "0",
        ("nat", "bpf-loader"): "aya",
        ("nat", "internal"): "192.168.1.0/24",
        ("nat", "exclude"): "192.168.0.0/16",
        ("nat", "pool"): "192.168.4.2",
        ("nat", "hairpin-if"): "lo br-lan",
        ("timeouts", "udp"): "300",         # timeout_pkt_default = "5m"
        ("timeouts", "tcp-trans"): "240",   # "4m"
        ("timeouts", "tcp-est"): "7440",    # "124m"
    }, k
    # Every key without an equivalent is named, once, on stderr.
    for key in ("ipv4_local_rule_pref", "ipv6_hairpin_table_id", "icmp_in_ranges",
                "icmp_out_ranges", "if_index", "prefer_tcx", "bpf_fib_lookup_external",
                "allow_inbound_icmpx", "timeout_fragment", "timeout_pkt_min",
                "hairpin_dests", "ipv4_hairpin_route.ip_rule_pref",
                "externals[1].match_address"):
        hits = [l for l in r.stderr.splitlines() if (" " + key + ":") in l]
        assert len(hits) == 1 and "no equivalent" in hits[0], (key, r.stderr)
    assert "interfaces[1] (eth1): not converted" in r.stderr, r.stderr
    assert not r.stdout, r.stdout
    c = run("--check-config", out)
    assert c.returncode == 0 and "configuration is valid" in c.stdout, repr(c)


def test_empty_range_turns_that_protocol_off_and_interface_is_chosen(tmp_path):
    toml = tmp_path / "einat.toml"
    toml.write_text('[defaults]\nudp_ranges = []\n\n'
                    '[[interfaces]]\nif_name = "eth0"\nnat44 = true\n\n'
                    '[[interfaces]]\nif_name = "pppoe-wan"\nnat44 = true\n'
                    'tcp_ranges = ["10000-19999", "30000-39999"]\n')
    r = run("--import-einat", toml, "--interface", "pppoe-wan")
    assert r.returncode == 0, repr(r)
    k = keys(r.stdout)
    assert k[("nat", "ifname")] == "pppoe-wan" and k[("nat", "udp-ports")] == "none", k
    assert "interfaces[0] (eth0): not converted" in r.stderr, r.stderr
    assert "tcp_ranges: unknown einat key" in r.stderr, r.stderr   # not an interface key
    out = tmp_path / "fcnat.conf"
    out.write_text(r.stdout)
    c = run("--check-config", out)
    assert c.returncode == 0, repr(c)


def test_bad_input_exits_2_with_a_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[interfaces]\nif_name = \n")
    r = run("--import-einat", bad)
    assert r.returncode == 2 and "bad.toml" in r.stderr, repr(r)
    r = run("--import-einat", tmp_path / "missing.toml")
    assert r.returncode == 2 and "missing.toml" in r.stderr, repr(r)
    noif = tmp_path / "noif.toml"
    noif.write_text('[defaults]\ntcp_ranges = ["20000-29999"]\n')
    r = run("--import-einat", noif)
    assert r.returncode == 2 and "no [[interfaces]]" in r.stderr, repr(r)
    rng = tmp_path / "range.toml"
    rng.write_text('[defaults]\ntcp_ranges = ["30000-20000"]\n[[interfaces]]\nif_name = "x"\n')
    r = run("--import-einat", rng)
    assert r.returncode == 2 and "30000-20000" in r.stderr, repr(r)
    r = run("--import-einat")
    assert r.returncode == 2 and "Usage" in r.stderr, repr(r)


def test_einat_dash_c_with_its_toml_runs_the_gateway(tmp_path, topo, fcnat):
    """`einat -c config.toml`, unchanged, with fcnat."""
    toml = tmp_path / "einat.toml"
    toml.write_text('[defaults]\nudp_ranges = ["22000-22099"]\n\n'
                    '[[interfaces]]\nif_name = "wan0"\nnat44 = true\n'
                    'snat_internals = ["192.168.77.0/24"]\n'
                    '[interfaces.ipv4_hairpin_route]\ninternal_if_names = ["lan0"]\n')
    inst = fcnat("-c", str(toml))
    assert "hairpin on 1 interface" in inst.ready_line(), inst.ready_line()
    srv = topo.ext.udp(EXT2, 7000)
    src = udp_exchange(topo.client.udp(CLIENT_ADDR, 0), srv, (EXT2, 7000))
    assert src[0] == GW_WAN_ADDR and 22000 <= src[1] <= 22099, src
