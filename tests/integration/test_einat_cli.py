"""einat 0.1.11's command line, verbatim (issue 17), and per-protocol port
ranges: einat's tcp_ranges/udp_ranges/icmp_ranges, where an empty list
leaves a protocol to the stack's NAT ("mixed NAT" with nftables masquerade).

einat's options: -h -c -i --nat44 --nat66 --ports --hairpin-if
--internal <CIDR> --bpf-loader <aya|libbpf> --bpf-log -v. fcnat's own
internal interfaces are --lan-if.
"""

import json
import socket

import pytest

from fcnat_util import assert_nothing_attached, in_range, recv_matching, udp_exchange
from netns import CLIENT2_ADDR, CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR

EXT2 = EXT_ADDRS[0]


def stats(run_fcnat, bpffs):
    r = run_fcnat("stats", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)["counters"]


def test_help_names_every_einat_option_and_lan_if(run_fcnat):
    r = run_fcnat("--help")
    assert r.returncode == 0, repr(r)
    for opt in ("-h, --help", "-c, --config", "-i, --ifname", "--nat44", "--nat66", "--ports",
                "--hairpin-if", "--internal <CIDR>", "--bpf-loader", "-v, --version",
                "--lan-if", "--tcp-ports", "--udp-ports", "--icmp-ids", "--import-einat"):
        assert opt in r.stdout, (opt, r.stdout)
    assert "einat's --internal" in r.stdout, r.stdout


def test_internal_cidr_translates_only_those_networks(topo, fcnat):
    """einat -i extern0 --hairpin-if intern0 lo --internal 192.168.1.0/24,
    with this topology's addresses: the first client's /32 is NATed, the
    other address of the same host is not (routed with its own source)."""
    fcnat("-i", "wan0", "--hairpin-if", "lan0", "lo", "--internal", CLIENT_ADDR + "/32")
    srv = topo.ext.udp(EXT2, 7000)
    src = udp_exchange(topo.client.udp(CLIENT_ADDR, 0), srv, (EXT2, 7000), b"in")
    assert src[0] == GW_WAN_ADDR and in_range(src[1]), src
    c = topo.client.udp(CLIENT2_ADDR, 0)
    c.sendto(b"out", (EXT2, 7000))
    got = recv_matching(srv, b"out", 3)
    assert got is not None and got[0] == CLIENT2_ADDR, got


def test_internal_with_an_interface_name_says_lan_if(topo, run_fcnat):
    r = run_fcnat("-i", "wan0", "--internal", "lan0")
    assert r.returncode == 2, repr(r)
    assert "--lan-if" in r.stderr and "lan0" in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_bpf_loader_accepted_with_one_notice(topo, fcnat, run_fcnat):
    inst = fcnat("-i", "wan0", "--bpf-loader", "aya")
    notices = [l for l in inst.bg.stderr_text().splitlines() if "--bpf-loader" in l]
    assert len(notices) == 1 and "one BPF loader" in notices[0], notices
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(topo.client.udp(CLIENT_ADDR, 0), srv, (EXT2, 7000))[0] == GW_WAN_ADDR
    r = run_fcnat("-i", "wan1", "--bpf-loader", "ebpf-rs")
    assert r.returncode == 2 and "ebpf-rs" in r.stderr, repr(r)


@pytest.mark.parametrize("args,needle", [
    (["--udp-ports", "none", "20000-20010"], "none"),
    (["--tcp-ports", "none", "--udp-ports", "none", "--icmp-ids", "none"], "no protocol"),
    (["--udp-ports", "30000-20000"], "30000-20000"),
    (["--tcp-ports", "20000-20063", "--port-block-size", "64"], "--tcp-ports"),
    (["--udp-ports", "none", "--forward", "udp:25000=192.168.77.2:25000"], "udp:25000"),
], ids=["none-with-range", "all-none", "reversed", "with-port-blocks", "forward-off-proto"])
def test_per_protocol_port_errors_exit_2(topo, run_fcnat, args, needle):
    r = run_fcnat("-i", "wan0", *args)
    assert r.returncode == 2, repr(r)
    assert needle in r.stderr, repr(r)
    assert_nothing_attached(topo.gw, run_fcnat.baseline)


def test_config_file_keys_internal_lan_if_and_protocol_ports(tmp_path, run_fcnat):
    conf = tmp_path / "fcnat.conf"
    conf.write_text("[nat]\nifname = wan0\ninternal = 192.168.77.0/24\nlan-if = lan0\n"
                    "tcp-ports = 20000-24999\nudp-ports = none\nicmp-ids = 1000-1999\n"
                    "bpf-loader = libbpf\n")
    r = run_fcnat("--check-config", str(conf))
    assert r.returncode == 0 and "configuration is valid" in r.stdout, repr(r)


def test_each_protocol_takes_ports_of_its_own_range(bpffs, topo, fcnat, run_fcnat):
    fcnat("-i", "wan0", "--bpffs", bpffs, "--tcp-ports", "21000-21099",
          "--udp-ports", "22000-22099", "--icmp-ids", "23000-23099")
    srv = topo.ext.udp(EXT2, 7000)
    src = udp_exchange(topo.client.udp(CLIENT_ADDR, 0), srv, (EXT2, 7000))
    assert src[0] == GW_WAN_ADDR and 22000 <= src[1] <= 22099, src
    lst = topo.ext.tcp(EXT2, 8000, reuse=True)
    lst.listen(4)
    c = topo.client.tcp(CLIENT_ADDR, 0)
    c.connect((EXT2, 8000))
    peer, addr = lst.accept()
    assert addr[0] == GW_WAN_ADDR and 21000 <= addr[1] <= 21099, addr
    c.sendall(b"x")
    assert peer.recv(8) == b"x"
    for s in (peer, c, lst):
        s.close()
    # show's --internal is a network too (one meaning: these internal hosts).
    for net, want in (("192.168.77.0/24", {"tcp", "udp"}), (CLIENT_ADDR, {"tcp", "udp"}),
                      ("10.0.0.0/8", set())):
        r = run_fcnat("show", "mappings", "-i", "wan0", "--json", "--bpffs", bpffs,
                      "--internal", net)
        assert r.returncode == 0, repr(r)
        assert {m["proto"] for m in json.loads(r.stdout)} == want, (net, r.stdout)


def _nft_masquerade_udp(gw):
    """nftables masquerade for UDP leaving wan0: the protocol fcnat leaves."""
    r = gw.run(["nft", "-f", "-"], check=False, input=(
        "table ip fcnat_mixed {\n"
        "  chain post {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    oifname \"wan0\" meta l4proto udp masquerade to :40000-40099\n"
        "  }\n"
        "}\n"))
    if r.returncode != 0:
        pytest.skip("this kernel has no nftables masquerade (nft_masq/nft_nat): %s"
                    % r.stderr.strip())


def test_mixed_nat_masquerade_takes_udp_fcnat_takes_tcp(bpffs, topo, fcnat, run_fcnat):
    """einat's "mixed NAT": udp_ranges = [] leaves UDP to nftables
    masquerade (its ports, 40000-40099 here, conntrack's translation both
    ways), while TCP stays full-cone in fcnat's range."""
    _nft_masquerade_udp(topo.gw)
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--udp-ports", "none")
    assert "10000 ports in 1 range(s), udp none," in inst.ready_line(), inst.ready_line()
    before = stats(run_fcnat, bpffs)
    srv = topo.ext.udp(EXT2, 7000)
    c = topo.client.udp(CLIENT_ADDR, 0)
    src = udp_exchange(c, srv, (EXT2, 7000), b"masq")
    assert src[0] == GW_WAN_ADDR and 40000 <= src[1] <= 40099, src
    # The reply comes back through conntrack, not a mapping of fcnat's.
    srv.sendto(b"back", src)
    assert recv_matching(c, b"back", 3) == (EXT2, 7000)

    lst = topo.ext.tcp(EXT2, 8000, reuse=True)
    lst.listen(4)
    t = topo.client.tcp(CLIENT_ADDR, 0)
    t.connect((EXT2, 8000))
    peer, addr = lst.accept()
    assert addr[0] == GW_WAN_ADDR and in_range(addr[1]), addr
    t.sendall(b"tcp")
    assert peer.recv(8) == b"tcp"
    for s in (peer, t, lst):
        s.close()

    after = stats(run_fcnat, bpffs)
    assert after["pass_protocol"] - before["pass_protocol"] >= 2, (before, after)
    r = run_fcnat("show", "mappings", "-i", "wan0", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    protos = {m["proto"] for m in json.loads(r.stdout)}
    assert protos == {"tcp"}, r.stdout
