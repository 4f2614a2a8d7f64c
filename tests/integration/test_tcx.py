"""TCX links (Linux 6.6+) and the clsact fallback.

fcnat attaches with TCX where the kernel has it: its programs take one place
in each hook's chain beside other TC users, ingress last and egress first
(src/tc_attach.h), pass packets on down the chain, never make a qdisc, and
are pinned so a restart takes the links over. Another program (build/tcx_peer
attaching tests/integration/tcx/tcx_count.bpf.c, which counts the packets
and those carrying the client's internal address) runs before and after
fcnat on each hook.

Kernels without TCX (the VM's 6.1) run the fallback tests here, marked vm.
"""

import json
import os
import signal

import pytest

from fcnat_util import (FCNAT_BIN, REPO_ROOT, in_range, kernel_has_tcx, recv_matching,
                        udp_exchange, xdp_args)
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, tc_json, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS
PEER = os.path.join(REPO_ROOT, "build", "tcx_peer")
PEER_OBJ = os.path.join(REPO_ROOT, "build", "tcx_count.bpf.o")
AUTO = {"FCNAT_TC_ATTACH": "auto"}

needs_tcx = pytest.mark.skipif(not kernel_has_tcx(), reason="this kernel has no TCX links "
                               "(Linux 6.6+); the fallback tests below cover it")


@pytest.fixture
def peer(topo, bpffs):
    """attach(ifname, hook, place) -> a handle with .count() (all, seen) and
    .prog_id; every attached peer is detached at teardown."""
    if not (os.access(PEER, os.X_OK) and os.path.isfile(PEER_OBJ)):
        pytest.fail("%s not built: make build/tcx_peer" % PEER, pytrace=False)
    made = []

    class Peer:
        def __init__(self, d, prog_id):
            self.dir = d
            self.prog_id = prog_id

        def count(self):
            out = topo.gw.run([PEER, "count", self.dir]).stdout.split()
            return int(out[0]), int(out[1])

    def attach(ifname, hook, place):
        d = os.path.join(bpffs, "peer%d" % len(made))
        os.mkdir(d)
        out = topo.gw.run([PEER, "attach", ifname, hook, place, CLIENT_ADDR, d, PEER_OBJ]).stdout
        p = Peer(d, int(out.split()[1]))
        made.append(p)
        return p

    yield attach
    for p in made:
        topo.gw.run([PEER, "detach", p.dir], check=False)


def chain(gw, ifname, hook):
    """[(prog_id, name)] on ifname's TCX hook, in the order they run."""
    out = gw.run([PEER, "list", ifname, hook]).stdout.split("\n")
    return [(int(l.split()[0]), l.split()[1]) for l in out if l.strip()]


def names(gw, ifname, hook):
    return [n for _, n in chain(gw, ifname, hook)]


def qdiscs(gw, ifname="wan0"):
    return [q.get("kind") for q in tc_json(gw, "qdisc", "show", "dev", ifname)]


def attach_of(run_fcnat, bpffs, ifname="wan0"):
    r = run_fcnat("stats", "-i", ifname, "--json", "--bpffs", bpffs)
    assert r.returncode == 0, r
    return json.loads(r.stdout)["attach"]


@needs_tcx
def test_other_programs_before_and_after_keep_running(topo, fcnat, bpffs, peer, run_fcnat):
    # Before fcnat starts: one program on each hook.
    a_in = peer("wan0", "ingress", "last")
    a_eg = peer("wan0", "egress", "last")
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, env=AUTO)
    assert "TC attach: tcx" in inst.stderr(), inst.stderr()
    # And after: ingress appended behind fcnat, egress put in front of it.
    b_in = peer("wan0", "ingress", "last")
    b_eg = peer("wan0", "egress", "first")
    # fcnat last on ingress and first on egress at its start (tc_attach.h).
    assert names(topo.gw, "wan0", "ingress") == ["peer_count_prog", "fc_tc_ingress",
                                                 "peer_count_prog"]
    assert names(topo.gw, "wan0", "egress") == ["peer_count_prog", "fc_tc_egress",
                                                "peer_count_prog"]
    assert [i for i, _ in chain(topo.gw, "wan0", "ingress")][::2] == [a_in.prog_id, b_in.prog_id]
    assert [i for i, _ in chain(topo.gw, "wan0", "egress")][::2] == [b_eg.prog_id, a_eg.prog_id]
    assert "clsact" not in qdiscs(topo.gw), qdiscs(topo.gw)
    assert attach_of(run_fcnat, bpffs) == "tcx"

    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"out")
    assert mapped[0] == GW_WAN_ADDR and in_range(mapped[1]), mapped
    srv.sendto(b"back", mapped)
    assert recv_matching(c, b"back", 3) == (EXT2, 7000)

    # Every program ran; the ones nearer the wire saw the wire's addresses
    # (no internal address), the ones on the stack side of fcnat the client's.
    for p, side in ((a_in, "wire"), (b_in, "stack"), (b_eg, "stack"), (a_eg, "wire")):
        everything, internal = p.count()
        assert everything > 0, (side, p.count())
        assert (internal > 0) == (side == "stack"), (side, p.count())

    # SIGTERM: exactly fcnat's programs go.
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    assert chain(topo.gw, "wan0", "ingress") == [(a_in.prog_id, "peer_count_prog"),
                                                 (b_in.prog_id, "peer_count_prog")]
    assert chain(topo.gw, "wan0", "egress") == [(b_eg.prog_id, "peer_count_prog"),
                                                (a_eg.prog_id, "peer_count_prog")]
    assert "clsact" not in qdiscs(topo.gw)
    assert not os.path.exists(os.path.join(bpffs, "wan0"))
    # The others keep running.
    before = a_in.count()[0]
    topo.ext.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", GW_WAN_ADDR], check=False)
    assert a_in.count()[0] > before


@needs_tcx
def test_kill9_leaves_no_qdisc_and_restart_takes_the_links_over(topo, fcnat, bpffs, peer):
    first = peer("wan0", "ingress", "last")
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, env=AUTO)
    after = peer("wan0", "ingress", "last")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"first")
    old_in = chain(topo.gw, "wan0", "ingress")
    old_eg = chain(topo.gw, "wan0", "egress")

    assert inst.stop(signal.SIGKILL) == -signal.SIGKILL
    # No qdisc was ever made; the pinned links keep the datapath working.
    assert "clsact" not in qdiscs(topo.gw), qdiscs(topo.gw)
    assert {"tcx_ingress", "tcx_egress"} <= set(os.listdir(os.path.join(bpffs, "wan0")))
    assert chain(topo.gw, "wan0", "ingress") == old_in
    stranger = topo.ext.udp(EXT3, 7100)
    stranger.sendto(b"while-down", mapped)
    assert recv_matching(c, b"while-down", 3) == (EXT3, 7100)

    inst2 = fcnat("-i", "wan0", "--bpffs", bpffs, env={"FCNAT_TC_ATTACH": "clsact"})
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    assert "TC attach: tcx, as the kept datapath" in inst2.stderr(), inst2.stderr()
    new_in = chain(topo.gw, "wan0", "ingress")
    new_eg = chain(topo.gw, "wan0", "egress")
    # The same places, fcnat's programs swapped in them, the others untouched.
    assert [n for _, n in new_in] == [n for _, n in old_in]
    assert [n for _, n in new_eg] == [n for _, n in old_eg] == ["fc_tc_egress"]
    assert new_in[0] == old_in[0] == (first.prog_id, "peer_count_prog")
    assert new_in[2] == old_in[2] == (after.prog_id, "peer_count_prog")
    assert new_in[1][0] != old_in[1][0] and new_eg[0][0] != old_eg[0][0]
    assert "clsact" not in qdiscs(topo.gw)

    stranger = topo.ext.udp(EXT4, 7200)
    stranger.sendto(b"after-restart", mapped)
    assert recv_matching(c, b"after-restart", 3) == (EXT4, 7200)
    assert udp_exchange(c, srv, (EXT2, 7000), b"again") == mapped

    assert inst2.stop(signal.SIGTERM) == 0, inst2.stderr()
    assert names(topo.gw, "wan0", "ingress") == ["peer_count_prog", "peer_count_prog"]
    assert names(topo.gw, "wan0", "egress") == []


@needs_tcx
def test_keep_state_then_detach_removes_only_fcnat(topo, fcnat, bpffs, peer, run_fcnat):
    other = peer("wan0", "egress", "last")
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--keep-state", env=AUTO)
    assert names(topo.gw, "wan0", "egress") == ["fc_tc_egress", "peer_count_prog"]
    assert inst.stop(signal.SIGTERM) == 0
    assert names(topo.gw, "wan0", "egress") == ["fc_tc_egress", "peer_count_prog"]
    assert attach_of(run_fcnat, bpffs) == "tcx"
    r = run_fcnat("--detach", "-i", "wan0", "--bpffs", bpffs)
    assert r.returncode == 0, r
    assert "2 filter(s)" in r.stderr, r.stderr
    assert chain(topo.gw, "wan0", "egress") == [(other.prog_id, "peer_count_prog")]
    assert names(topo.gw, "wan0", "ingress") == []
    assert "clsact" not in qdiscs(topo.gw)


@needs_tcx
@pytest.mark.parametrize("internal", [False, True], ids=["hairpin", "tc-fast"])
def test_internal_interface_links(topo, fcnat, bpffs, peer, internal):
    """Hairpin (and, with --lan-if, the TC fast path and NAT64's hook) on
    lan0's ingress: a TCX link there too, beside another program."""
    other = peer("lan0", "ingress", "last")
    opt = "--lan-if" if internal else "--hairpin-if"
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, opt, "lan0", env=AUTO)
    # Program names are cut to 15 characters (BPF_OBJ_NAME_LEN).
    prog = ("fc_tc_int_ingress" if internal else "fc_tc_lan_ingress")[:15]
    assert names(topo.gw, "lan0", "ingress") == ["peer_count_prog", prog]
    assert "clsact" not in qdiscs(topo.gw, "lan0")
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"out")
    assert mapped[0] == GW_WAN_ADDR, mapped
    assert other.count()[1] > 0
    assert inst.stop(signal.SIGTERM) == 0
    assert chain(topo.gw, "lan0", "ingress") == [(other.prog_id, "peer_count_prog")]


@needs_tcx
def test_xdp_mode_tc_programs_on_tcx_links(topo, fcnat, bpffs, peer):
    """XDP mode: the TC programs behind XDP (what XDP passes to the stack)
    are on TCX links too, beside another program; SIGTERM takes them and
    the XDP programs, and leaves the other."""
    other = peer("wan0", "ingress", "last")
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, *xdp_args(topo), env=AUTO)
    assert names(topo.gw, "wan0", "ingress") == ["peer_count_prog", "fc_tc_ingress"]
    assert names(topo.gw, "wan0", "egress") == ["fc_tc_egress"]
    assert "clsact" not in qdiscs(topo.gw)
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"out")
    assert mapped[0] == GW_WAN_ADDR and in_range(mapped[1]), mapped
    srv.sendto(b"back", mapped)
    assert recv_matching(c, b"back", 3) == (EXT2, 7000)
    assert inst.stop(signal.SIGTERM) == 0
    assert chain(topo.gw, "wan0", "ingress") == [(other.prog_id, "peer_count_prog")]
    assert names(topo.gw, "wan0", "egress") == []
    assert "xdp" not in topo.gw.run(["ip", "link", "show", "wan0"]).stdout


@needs_tcx
def test_interface_gone_and_back_attaches_new_links(topo, fcnat, bpffs):
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, env=AUTO)
    c = topo.client.udp(CLIENT_ADDR, 25600)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"before") == (GW_WAN_ADDR, 25600)
    topo.gw.run(["ip", "link", "del", "wan0"])
    wait_until(lambda: "is gone" in inst.stderr(), 5, desc="fcnat notices wan0 is gone")
    topo.veth(topo.gw, "wan0", topo.ext, "wan0")
    wait_until(lambda: names(topo.gw, "wan0", "ingress") == ["fc_tc_ingress"] and
               names(topo.gw, "wan0", "egress") == ["fc_tc_egress"], 5,
               desc="fcnat's TCX links on the new wan0")
    assert "clsact" not in qdiscs(topo.gw)
    topo.gw.addr_add("wan0", GW_WAN_ADDR + "/24")
    for a in EXT_ADDRS:
        topo.ext.addr_add("wan0", a + "/24")
    wait_until(lambda: "-> %s" % GW_WAN_ADDR in inst.stderr(), 5,
               desc="fcnat follows the address back")
    wait_until(lambda: "LOWER_UP" in topo.ext.run(["ip", "-br", "link", "show", "wan0"]).stdout,
               5, desc="link up")
    stranger = topo.ext.udp(EXT4, 7100)
    stranger.sendto(b"after", (GW_WAN_ADDR, 25600))
    assert recv_matching(c, b"after", 3) == (EXT4, 7100)
    assert inst.stop(signal.SIGTERM) == 0
    assert names(topo.gw, "wan0", "ingress") == [] and names(topo.gw, "wan0", "egress") == []


# ---- the clsact fallback -------------------------------------------------------

def _clsact_datapath_works(topo, inst, run_fcnat, bpffs):
    assert "clsact" in qdiscs(topo.gw), qdiscs(topo.gw)
    for hook in ("ingress", "egress"):
        f = [x for x in tc_json(topo.gw, "filter", "show", "dev", "wan0", hook)
             if x.get("kind") == "bpf"]
        assert [x["options"]["prog"]["name"] for x in f if "options" in x] == ["fc_tc_" + hook]
    assert attach_of(run_fcnat, bpffs) == "clsact"
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"out")
    assert mapped[0] == GW_WAN_ADDR and in_range(mapped[1]), mapped
    assert inst.stop(signal.SIGTERM) == 0
    assert "clsact" not in qdiscs(topo.gw)


def test_clsact_forced(topo, fcnat, bpffs, run_fcnat):
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, env={"FCNAT_TC_ATTACH": "clsact"})
    assert "TC attach: clsact (FCNAT_TC_ATTACH)" in inst.stderr(), inst.stderr()
    if kernel_has_tcx():
        assert names(topo.gw, "wan0", "ingress") == [] and names(topo.gw, "wan0", "egress") == []
    _clsact_datapath_works(topo, inst, run_fcnat, bpffs)


@pytest.mark.vm
@pytest.mark.skipif(kernel_has_tcx(), reason="this kernel has TCX: the fallback is taken "
                    "only without it (test_clsact_forced covers clsact here)")
def test_no_tcx_falls_back_to_clsact(topo, fcnat, bpffs, run_fcnat):
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, env=AUTO)
    assert "TC attach: clsact (no TCX in this kernel" in inst.stderr(), inst.stderr()
    _clsact_datapath_works(topo, inst, run_fcnat, bpffs)


@pytest.mark.vm
@pytest.mark.skipif(kernel_has_tcx(), reason="this kernel has TCX")
def test_tcx_asked_for_without_tcx_is_refused(topo, fcnat):
    inst = fcnat("-i", "wan0", wait_ready=False, env={"FCNAT_TC_ATTACH": "tcx"})
    wait_until(lambda: not inst.running(), 10, desc="fcnat to exit")
    inst.stopped = True
    assert inst.bg.returncode != 0
    assert "this kernel has no TCX" in inst.stderr(), inst.stderr()
    assert "clsact" not in qdiscs(topo.gw)


def test_bad_attach_value_is_refused(topo, fcnat):
    inst = fcnat("-i", "wan0", wait_ready=False, env={"FCNAT_TC_ATTACH": "bogus"})
    wait_until(lambda: not inst.running(), 10, desc="fcnat to exit")
    inst.stopped = True
    assert inst.bg.returncode != 0
    assert "expected auto, tcx or clsact" in inst.stderr(), inst.stderr()


@needs_tcx
@pytest.mark.parametrize("point", ["attached-ingress", "attached-tc", "attached-hairpin",
                                   "attached"])
def test_first_start_killed_half_way_leaves_links_the_next_start_takes_over(
        topo, fcnat, bpffs, point):
    """A first start killed between its attaches (FCNAT_FAULT_POINT): no qdisc,
    the links it pinned stay (inert), and the next start takes them over
    rather than adding a second set."""
    bg = topo.gw.start(["env", "FCNAT_FAULT_POINT=" + point, "FCNAT_TC_ATTACH=auto",
                        FCNAT_BIN, "-i", "wan0", "--hairpin-if", "lan0", "--bpffs", bpffs,
                        "--keep-state"], name="fcnat-fault")
    assert bg.wait(10) == -signal.SIGKILL, bg.stderr_text()
    assert "clsact" not in qdiscs(topo.gw) and "clsact" not in qdiscs(topo.gw, "lan0")
    assert names(topo.gw, "wan0", "ingress") == ["fc_tc_ingress"]

    inst = fcnat("-i", "wan0", "--hairpin-if", "lan0", "--bpffs", bpffs, env=AUTO)
    assert "TC attach: tcx" in inst.stderr(), inst.stderr()
    assert names(topo.gw, "wan0", "ingress") == ["fc_tc_ingress"]
    assert names(topo.gw, "wan0", "egress") == ["fc_tc_egress"]
    assert names(topo.gw, "lan0", "ingress") == ["fc_tc_lan_ingress"[:15]]
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"out")
    assert mapped[0] == GW_WAN_ADDR, mapped
    srv.sendto(b"back", mapped)
    assert recv_matching(c, b"back", 3) == (EXT2, 7000)
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    for ifname, hook in (("wan0", "ingress"), ("wan0", "egress"), ("lan0", "ingress")):
        assert names(topo.gw, ifname, hook) == [], (ifname, hook)
    assert not os.path.exists(os.path.join(bpffs, "wan0"))


@needs_tcx
def test_restart_without_a_hairpin_interface_drops_its_kept_link(topo, fcnat, bpffs, peer):
    other = peer("lan0", "ingress", "last")
    inst = fcnat("-i", "wan0", "--hairpin-if", "lan0", "--bpffs", bpffs, "--keep-state",
                 env=AUTO)
    assert inst.stop(signal.SIGTERM) == 0
    assert names(topo.gw, "lan0", "ingress") == ["peer_count_prog", "fc_tc_lan_ingress"[:15]]
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, env=AUTO)
    assert "TCX link(s) of the kept datapath" in inst.stderr(), inst.stderr()
    assert chain(topo.gw, "lan0", "ingress") == [(other.prog_id, "peer_count_prog")]
    assert names(topo.gw, "wan0", "ingress") == ["fc_tc_ingress"]
