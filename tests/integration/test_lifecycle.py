"""Start-up and shutdown of fcnat: what it attaches, and that it leaves nothing."""

import signal

import pytest

from fcnat_util import (assert_nothing_attached, bpf_filters, describe_wan, fc_progs,
                        in_range, recv_matching, udp_exchange, wan_state)
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR

EXT2, EXT3, EXT4 = EXT_ADDRS

USER_MATCH = "cb007163"      # 203.0.113.99, an address no test traffic uses


def _ping_ok(topo, count=2):
    r = topo.client.run(["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", EXT2],
                        check=False)
    return r.returncode == 0 and " 0% packet loss" in r.stdout


def _assert_attached(topo, fcnat, inst):
    st = wan_state(topo.gw)
    assert "clsact" in st["qdiscs"], describe_wan(topo.gw)
    ing, egr = bpf_filters(st["ingress"]), bpf_filters(st["egress"])
    assert ing and egr, "no bpf filter on wan0 ingress/egress:\n" + describe_wan(topo.gw)
    names = [f.get("options", {}).get("prog", {}).get("name", "") for f in ing + egr]
    assert all(n.startswith("fc_") for n in names if n), names
    new = set(fc_progs()) - set(fcnat.baseline)
    assert new, "no fc_ BPF program loaded while fcnat runs"
    assert inst.prog_ids, "could not find the BPF programs of fcnat (pid %d)" % inst.pid


def _user_filters(filters):
    return [f for f in filters if f.get("kind") == "u32"
            and f.get("options", {}).get("match", {}).get("value") == USER_MATCH]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_clean_exit_removes_qdisc_filters_and_programs(topo, fcnat, sig):
    assert "clsact" not in wan_state(topo.gw)["qdiscs"]
    inst = fcnat("-i", "wan0")
    _assert_attached(topo, fcnat, inst)
    assert _ping_ok(topo), "NAT not working while attached"

    rc = inst.stop(sig, timeout=5)
    assert rc == 0, "exit status %d after %s\nstderr:\n%s" % (rc, sig.name, inst.stderr())
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst.prog_ids)


def test_clean_exit_keeps_preexisting_clsact_and_user_filters(topo, fcnat):
    gw = topo.gw
    gw.run(["tc", "qdisc", "add", "dev", "wan0", "clsact"])
    for hook in ("ingress", "egress"):
        gw.run(["tc", "filter", "add", "dev", "wan0", hook, "protocol", "ip", "u32",
                "match", "ip", "dst", "203.0.113.99/32", "flowid", "1:1"])
    before = wan_state(gw)
    assert _user_filters(before["ingress"]) and _user_filters(before["egress"])

    inst = fcnat("-i", "wan0")
    _assert_attached(topo, fcnat, inst)
    assert _ping_ok(topo), "NAT not working next to the user's filters"

    rc = inst.stop(signal.SIGTERM, timeout=5)
    assert rc == 0, inst.stderr()
    assert_nothing_attached(gw, fcnat.baseline, user_clsact=True, prog_ids=inst.prog_ids)
    after = wan_state(gw)
    assert "clsact" in after["qdiscs"], "fcnat removed a clsact qdisc it did not create"
    assert _user_filters(after["ingress"]), "user's ingress filter gone:\n" + describe_wan(gw)
    assert _user_filters(after["egress"]), "user's egress filter gone:\n" + describe_wan(gw)
    kinds = sorted({f.get("kind") for f in after["ingress"] + after["egress"]})
    assert kinds == ["u32"], "unexpected filters left: %s\n%s" % (kinds, describe_wan(gw))


def test_restart_after_clean_exit(topo, fcnat):
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    for round_ in range(2):
        inst = fcnat("-i", "wan0")
        src = udp_exchange(c, srv, (EXT2, 7000), b"round-%d" % round_)
        assert src[0] == GW_WAN_ADDR and in_range(src[1])
        assert _ping_ok(topo)
        assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
        assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst.prog_ids)


def test_sigterm_under_load_exits_cleanly(topo, fcnat):
    inst = fcnat("-i", "wan0")
    topo.ext.start(["iperf3", "-s", "-1", "-B", EXT2, "-p", "5202"], name="iperf3s")
    topo.ext.wait_listening(5202)
    cl = topo.client.start(["iperf3", "-c", EXT2, "-p", "5202", "-t", "8",
                            "--connect-timeout", "3000"], name="iperf3c")
    # Wait until bulk data is flowing through the NAT (first interval line).
    cl.wait_output(lambda t: "/sec" in t, 10, stream="stdout", desc="iperf3 traffic")
    rc = inst.stop(signal.SIGTERM, timeout=5)
    assert rc == 0, inst.stderr()
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst.prog_ids)
    cl.stop()


def test_mapping_stops_forwarding_after_exit(topo, fcnat):
    """After fcnat exits, the old mapping must not forward anything."""
    inst = fcnat("-i", "wan0")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"m")
    stranger = topo.ext.udp(EXT4, 7100)
    stranger.sendto(b"before-exit", mapped)
    assert recv_matching(c, b"before-exit", 3) == (EXT4, 7100)
    assert inst.stop(signal.SIGTERM) == 0
    assert_nothing_attached(topo.gw, fcnat.baseline, prog_ids=inst.prog_ids)
    stranger.sendto(b"after-exit", mapped)
    assert recv_matching(c, b"after-exit", 1.0) is None, "packet reached the client with fcnat gone"
