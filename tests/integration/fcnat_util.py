"""fcnat-specific helpers shared by the integration tests (stdlib only)."""

import os
import signal
import socket
import subprocess
import time

from netns import WaitTimeout, bpf_progs, tc_json, wait_until

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# FCNAT_BIN in the environment overrides the binary under test (e.g. an
# installed one); the default is the freshly built build/fcnat.
FCNAT_BIN = os.environ.get("FCNAT_BIN") or os.path.join(REPO_ROOT, "build", "fcnat")

DEFAULT_RANGE = (20000, 29999)
READY_PREFIX = "fcnat: ready"
# FCNAT_READY_TIMEOUT: longer for slow machines (the VM harness, tests/vm, sets it
# under TCG emulation).
READY_TIMEOUT = float(os.environ.get("FCNAT_READY_TIMEOUT") or 10.0)
# A bound, not a measure: detaching and closing many maps can take seconds
# on a loaded 2-core machine (a 5 s bound once failed there).
EXIT_TIMEOUT = float(os.environ.get("FCNAT_EXIT_TIMEOUT") or 20.0)
# tc/BPF objects are released through RCU callbacks after the filter is
# deleted, so "nothing left" is polled for a short, bounded time.
CLEANUP_TIMEOUT = 5.0


def in_range(port, rng=DEFAULT_RANGE):
    return rng[0] <= port <= rng[1]


def kernel_has_tcx():
    """Does the running kernel have TCX links (Linux 6.6+)? BPF_PROG_QUERY of
    lo's TCX ingress hook: answered there, refused (EINVAL) before."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 16)()
    attr[0] = 1       # target_ifindex: lo
    attr[1] = 46      # BPF_TCX_INGRESS
    nr_bpf = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine, 321)
    return libc.syscall(nr_bpf, 16, ctypes.byref(attr), ctypes.sizeof(attr)) == 0   # BPF_PROG_QUERY


def fc_progs():
    """{id: name} of loaded BPF programs whose name starts with fc_."""
    return {p["id"]: p.get("name", "") for p in bpf_progs()
            if p.get("name", "").startswith("fc_")}


def held_prog_ids(pids=None):
    """IDs of BPF programs that live processes hold open (from /proc/*/fdinfo).

    pids: restrict to these processes; default all.
    """
    ids = set()
    if pids is None:
        pids = [d for d in os.listdir("/proc") if d.isdigit()]
    for pid in pids:
        fddir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fddir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("%s/%s" % (fddir, fd)) != "anon_inode:bpf-prog":
                    continue
                with open("/proc/%s/fdinfo/%s" % (pid, fd)) as f:
                    for line in f:
                        if line.startswith("prog_id:"):
                            ids.add(int(line.split()[1]))
            except (OSError, ValueError):
                continue
    return ids


def attached_prog_ids(gw, ifname="wan0"):
    ids = set()
    for hook in ("ingress", "egress"):
        for f in tc_json(gw, "filter", "show", "dev", ifname, hook):
            pid = f.get("options", {}).get("prog", {}).get("id")
            if pid is not None:
                ids.add(int(pid))
    return ids


def leaked_fc_progs(baseline_progs, prog_ids=()):
    """fc_ programs that nobody holds any more but still exist.

    A program counts as leaked if it is one of prog_ids (the programs a
    stopped fcnat had loaded) or if it is a new fc_ program (not in
    baseline_progs) that no live process holds open -- so fcnat instances
    run concurrently by someone else (which hold their programs) do not
    make this check fail.
    """
    current = fc_progs()
    held = held_prog_ids()
    leaked = {}
    for pid, name in current.items():
        if pid in prog_ids:
            leaked[pid] = name
        elif pid not in baseline_progs and pid not in held:
            leaked[pid] = name
    return leaked


def wan_state(gw, ifname="wan0"):
    qdiscs = [q.get("kind") for q in tc_json(gw, "qdisc", "show", "dev", ifname)]
    ingress = tc_json(gw, "filter", "show", "dev", ifname, "ingress")
    egress = tc_json(gw, "filter", "show", "dev", ifname, "egress")
    return {"qdiscs": qdiscs, "ingress": ingress, "egress": egress}


def bpf_filters(filters):
    return [f for f in filters if f.get("kind") == "bpf"]


def describe_wan(gw, ifname="wan0"):
    q = gw.run(["tc", "qdisc", "show", "dev", ifname], check=False).stdout
    i = gw.run(["tc", "filter", "show", "dev", ifname, "ingress"], check=False).stdout
    e = gw.run(["tc", "filter", "show", "dev", ifname, "egress"], check=False).stdout
    return "tc qdisc show dev %s:\n%s\ningress filters:\n%s\negress filters:\n%s" % (
        ifname, q, i, e)


def assert_nothing_attached(gw, baseline_progs, ifname="wan0", user_clsact=False, prog_ids=()):
    """Poll (bounded) until wan0 carries nothing of fcnat's; fail with details.

    baseline_progs: fc_ program ids that existed before fcnat was started
    (BPF programs are global, not per namespace).
    user_clsact: a clsact qdisc with user filters existed before fcnat; it must
    still be there and no bpf filters may remain.
    prog_ids: programs the stopped fcnat had loaded (Fcnat.prog_ids); all must
    be gone.
    """
    def clean():
        st = wan_state(gw, ifname)
        if user_clsact:
            if "clsact" not in st["qdiscs"]:
                return False
            if bpf_filters(st["ingress"]) or bpf_filters(st["egress"]):
                return False
        else:
            if "clsact" in st["qdiscs"] or st["ingress"] or st["egress"]:
                return False
        return not leaked_fc_progs(baseline_progs, prog_ids)
    try:
        wait_until(clean, CLEANUP_TIMEOUT, interval=0.1, desc="wan0 to be clean")
    except WaitTimeout:
        leaked = leaked_fc_progs(baseline_progs, prog_ids)
        raise AssertionError("fcnat left state behind after %.0fs:\n%s\nleaked fc_ BPF programs: %s"
                             % (CLEANUP_TIMEOUT, describe_wan(gw, ifname), leaked or "none"))


class Fcnat:
    """A running build/fcnat process in the gateway namespace."""

    def __init__(self, bg, args, baseline_progs):
        self.bg = bg
        self.args = args
        self.baseline_progs = baseline_progs
        self.stopped = False
        self.prog_ids = set()

    @property
    def pid(self):
        return self.bg.pid

    def stderr(self):
        return self.bg.stderr_text()

    def stdout(self):
        return self.bg.stdout_text()

    def running(self):
        return self.bg.running()

    def ready_line(self):
        for line in self.stderr().splitlines():
            if line.startswith(READY_PREFIX):
                return line
        return None

    def wait_ready(self, timeout=READY_TIMEOUT):
        self.bg.wait_output(lambda t: any(l.startswith(READY_PREFIX) for l in t.splitlines()),
                            timeout, desc="a line starting with %r on fcnat's stderr" % READY_PREFIX)
        # Remember what this instance loaded/attached, to check it is all gone
        # after exit.
        self.prog_ids = held_prog_ids([self.bg.pid]) | attached_prog_ids(self.bg.ns)

    def stop(self, sig=signal.SIGTERM, timeout=EXIT_TIMEOUT):
        """Send sig to fcnat (only to it) and return its exit status.

        Fails if it does not exit within `timeout` seconds (it is then killed).
        """
        self.stopped = True
        if self.bg.running():
            os.kill(self.bg.pid, sig)
        t0 = time.monotonic()
        try:
            rc = self.bg.wait(timeout)
        except subprocess.TimeoutExpired:
            self.bg.kill()
            raise AssertionError("fcnat (pid %d) did not exit within %.0fs of %s\nstderr:\n%s"
                                 % (self.bg.pid, timeout, signal.Signals(sig).name, self.stderr()))
        self.exit_delay = time.monotonic() - t0
        return rc


def udp_exchange(client_sock, server_sock, dst, payload=b"probe", attempts=3, wait=1.0):
    """Send payload from client_sock to dst until server_sock receives it.

    Returns the (addr, port) source seen by the server.  Retries are bounded;
    every attempt uses the same client socket, so a retry never changes the
    mapping under test.
    """
    server_sock.settimeout(wait)
    last = None
    for _ in range(attempts):
        client_sock.sendto(payload, dst)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                data, src = server_sock.recvfrom(65535)
            except socket.timeout:
                break
            if data == payload:
                return src
            last = (data, src)
    raise AssertionError("server %s never received %r from client %s (last other datagram: %r)"
                         % (dst, payload, client_sock.getsockname(), last))


def recv_matching(sock, payload, timeout):
    """Wait up to `timeout` s for a datagram equal to payload; return its source or None."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, src = sock.recvfrom(65535)
        except socket.timeout:
            return None
        if data == payload:
            return src


def drain(sock):
    """Discard datagrams already queued on sock."""
    sock.setblocking(False)
    try:
        for _ in range(10000):
            try:
                sock.recvfrom(65535)
            except BlockingIOError:
                break
    finally:
        sock.setblocking(True)



def prepare_xdp_peers(topo):
    """What fcnat's XDP mode needs of the hosts on the other ends of veths.

    Frames the gateway redirects out of a veth in native XDP reach its peer
    only if that peer runs NAPI (GRO on, or an XDP program). And XDP cannot
    see that a frame from a local socket holds only a partial checksum
    (CHECKSUM_PARTIAL: the pseudo-header sum, left for the NIC to finish), so
    the peers send complete checksums, as every frame from a wire has
    (doc/design/xdp.md).
    """
    for ns, ifname in ((topo.client, "lan0"), (topo.ext, "wan0")):
        ns.run(["ethtool", "-K", ifname, "gro", "on", "tx", "off"])


def xdp_args(topo, internal=("lan0",), mode=None):
    prepare_xdp_peers(topo)
    args = ["--mode", "xdp"]
    for i in internal:
        args += ["--lan-if", i]
    if mode:
        args += ["--xdp-mode", mode]
    return args


def ini_items(text):
    """(section, key, value) of each setting of an INI-style text (fcnat.conf,
    systemd units) in order, stripped; blank and comment lines skipped."""
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        yield section, k.strip(), v.strip()
