"""Pinned state and network namespaces: two fcnat instances on interfaces
with the same name in two namespaces never share (or take over) one state.

Run through nsenter --net (no private mount namespace, unlike `ip netns
exec`), both instances see the host's /sys/fs/bpf: the default state
directory must then differ per namespace. With one explicit --bpffs shared
by both, a kept state is refused to the other namespace while its own is
alive, with a clear message and nothing attached.
"""

import os
import signal
import subprocess

from fcnat_util import FCNAT_BIN, READY_PREFIX, READY_TIMEOUT, EXIT_TIMEOUT
from netns import tc_json, wait_until

DEFAULT_ROOT = "/sys/fs/bpf/fcnat"


def second_gateway(topo):
    """A namespace with its own wan0 (one end of a veth pair, no modules
    needed), with an address."""
    ns = topo.add_namespace("gw2")
    topo.veth(ns, "wan0", ns, "wan0peer")
    ns.addr_add("wan0", "203.0.113.1/24")
    return ns


class Nsenter:
    """fcnat started with nsenter --net: the host's mounts, the namespace's links."""

    def __init__(self, ns, tmp_path, *args):
        self.err_path = tmp_path / ("%s.stderr" % ns.name)
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(
            ["nsenter", "--net=/run/netns/" + ns.name, FCNAT_BIN] + list(args),
            stdout=subprocess.DEVNULL, stderr=self.err, start_new_session=True)

    def stderr(self):
        return self.err_path.read_text(errors="replace")

    def wait_ready(self):
        wait_until(lambda: READY_PREFIX in self.stderr() or self.proc.poll() is not None,
                   READY_TIMEOUT, desc="fcnat ready")
        assert self.proc.poll() is None, self.stderr()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(EXIT_TIMEOUT)
        finally:
            self.err.close()


def state_dir(ns):
    return os.path.join(DEFAULT_ROOT, "netns", ns.name, "wan0")


def test_same_ifname_in_two_namespaces_keeps_two_states(topo, tmp_path):
    gw2 = second_gateway(topo)
    a = Nsenter(topo.gw, tmp_path, "-i", "wan0")
    b = None
    try:
        a.wait_ready()
        b = Nsenter(gw2, tmp_path, "-i", "wan0")
        b.wait_ready()
        for ns in (topo.gw, gw2):
            assert os.path.exists(os.path.join(state_dir(ns), "fc_meta")), \
                "no state of %s in %s" % (ns.name, state_dir(ns))
        # Each namespace's filters are its own instance's.
        for ns in (topo.gw, gw2):
            assert tc_json(ns, "filter", "show", "dev", "wan0", "ingress"), ns.name
    finally:
        rc_b = b.stop() if b else 0
        rc_a = a.stop()
    assert rc_a == 0, a.stderr()
    assert rc_b == 0, b.stderr()
    # A plain stop removes each instance's own state, and only that.
    for ns in (topo.gw, gw2):
        assert not os.path.exists(state_dir(ns)), os.listdir(os.path.dirname(state_dir(ns)))


def test_kept_state_is_refused_to_another_live_namespace(topo, fcnat, run_fcnat, bpffs):
    gw2 = second_gateway(topo)
    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--keep-state")
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()
    # The kept datapath still runs in the gateway namespace on these maps.
    assert tc_json(topo.gw, "filter", "show", "dev", "wan0", "ingress")

    argv = ["ip", "netns", "exec", gw2.name, FCNAT_BIN, "-i", "wan0", "--bpffs", bpffs]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert "belongs to fcnat in another network namespace" in r.stderr, r.stderr
    assert "--bpffs" in r.stderr, r.stderr
    assert not tc_json(gw2, "filter", "show", "dev", "wan0", "ingress"), "attached anyway"
    assert not tc_json(gw2, "filter", "show", "dev", "wan0", "egress"), "attached anyway"

    # Its own namespace still owns it: --detach there removes everything.
    r = run_fcnat("--detach", "-i", "wan0", "--bpffs", bpffs)
    assert r.returncode == 0, r
    assert not tc_json(topo.gw, "filter", "show", "dev", "wan0", "ingress")
