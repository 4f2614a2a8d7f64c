"""pytest fixtures for the fcnat namespace integration tests.

Run as root:  /usr/bin/python3 -m pytest -v tests/integration

Fixtures
  topo       a fresh CLIENT / GATEWAY / EXTERNAL topology (see netns.NatTopology)
             with namespace names unique to this test; always torn down.
  fcnat      factory: fcnat("-i", "wan0", ...) starts build/fcnat in the gateway
             namespace, waits for "fcnat: ready" and returns an fcnat_util.Fcnat.
             At teardown every still-running instance gets SIGTERM and must
             exit 0 within 5 s.
  datapath   parametrised over "tc", "tc-fast" and "xdp": extra fcnat arguments
             (the behaviour suites' `nat` fixtures use it, so they run on all).
  run_fcnat  run build/fcnat to completion in the gateway namespace (for CLI
             error cases); returns an object with returncode/stdout/stderr.

Both fail the test when fcnat's stderr holds a sanitizer report (an ASan or
UBSan build: FCNAT_BIN=build/san/fcnat). FCNAT_SAN_SUBSET=1 runs only the
first test of each file that starts fcnat (`make san-integration-test`).
"""

import itertools
import os
import re
import signal
import subprocess

import pytest

from fcnat_util import (EXIT_TIMEOUT, FCNAT_BIN, READY_TIMEOUT, Fcnat, fc_progs, kernel_has_tcx,
                        xdp_args)
from netns import NatTopology

# The suites look at what fcnat attached through tc's clsact filters: on a
# kernel with TCX links they run on the clsact fallback, and test_tcx.py
# covers TCX (FCNAT_TC_ATTACH=auto runs them on TCX). Where the kernel has no
# TCX (the VM's 6.1) nothing is forced: fcnat's own probe picks clsact.
if "FCNAT_TC_ATTACH" not in os.environ and kernel_has_tcx():
    os.environ["FCNAT_TC_ATTACH"] = "clsact"

_counter = itertools.count(1)
_NS_RE = re.compile(r"^fcn(\d+)n\d+-")
# Sanitizer reports, and libbpf refusing options whose unused bytes are not
# zero (what a clang build showed: uninitialised padding).
_SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error: "
                           r"|libbpf: \S+ has non-zero extra bytes")


def sanitizer_report(stderr):
    """The report in a stderr text from its first line, or None."""
    m = _SANITIZER_RE.search(stderr)
    if not m:
        return None
    return stderr[stderr.rfind("\n", 0, m.start()) + 1:]


def pytest_collection_modifyitems(config, items):
    """FCNAT_SAN_SUBSET=1: per file, the first test that runs fcnat."""
    if os.environ.get("FCNAT_SAN_SUBSET") != "1":
        return
    kept, dropped, files = [], [], set()
    for item in items:
        path = str(item.fspath)
        uses = {"fcnat", "run_fcnat"} & set(getattr(item, "fixturenames", ()))
        if uses and path not in files:
            files.add(path)
            kept.append(item)
        else:
            dropped.append(item)
    config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def _require_root():
    if os.geteuid() != 0:
        pytest.fail("the fcnat integration tests need root (network namespaces, tc, BPF)",
                    pytrace=False)


def _require_binary():
    if not (os.path.isfile(FCNAT_BIN) and os.access(FCNAT_BIN, os.X_OK)):
        pytest.fail("fcnat binary not found or not executable at %s -- build it first "
                    "with `make` in the repository root" % FCNAT_BIN, pytrace=False)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "vm: the smoke subset (ping, UDP, TCP, EIM, EIF) that `make vmtest` runs in a "
        "VM on another kernel (tests/vm); select with -m vm")
    config.addinivalue_line(
        "markers", "udp_stream_timeout(seconds): the gateway's conntrack UDP stream timeout "
        "(test_offload.py's fw fixture; default 120)")


def pytest_sessionstart(session):
    """Remove namespaces left by an earlier run that was killed (dead pid only)."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for name in names:
        m = _NS_RE.match(name)
        if not m:
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or os.path.exists("/proc/%d" % pid):
            continue
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def topo(tmp_path):
    _require_root()
    prefix = "fcn%dn%d-" % (os.getpid(), next(_counter))
    t = NatTopology(prefix, tmp_path / "topo")
    t.build()
    try:
        yield t
    finally:
        errors = t.teardown()
    if errors:
        pytest.fail("topology teardown problems:\n" + "\n".join(errors))


@pytest.fixture(params=["tc", "tc-fast", "xdp"])
def datapath(request, topo):
    """The behaviour suites run on every datapath: the fcnat arguments for
    this one (tc: the stack forwards; tc-fast: TC mode with --lan-if lan0,
    the TC programs forward NAT flows themselves; xdp: forwarding in XDP
    from lan0 and wan0, TC behind it)."""
    if request.param == "xdp":
        return xdp_args(topo)
    if request.param == "tc-fast":
        return ["--lan-if", "lan0"]
    return []


@pytest.fixture
def fcnat(topo):
    _require_binary()
    started = []
    baseline = fc_progs()

    def start(*args, wait_ready=True, ns=None, env=None):
        # env: {name: value} for this fcnat (through env(1), which execs it).
        argv = ["env"] + ["%s=%s" % kv for kv in (env or {}).items()] if env else []
        argv += [FCNAT_BIN] + [str(a) for a in args]
        bg = (ns or topo.gw).start(argv, name="fcnat")
        inst = Fcnat(bg, list(args), baseline)
        started.append(inst)
        if wait_ready:
            inst.wait_ready(READY_TIMEOUT)
        return inst

    start.baseline = baseline
    yield start

    failures = []
    for inst in started:
        if not inst.stopped:
            if not inst.running():
                failures.append("fcnat %s exited during the test with status %s"
                                % (" ".join(inst.args), inst.bg.returncode))
            else:
                try:
                    rc = inst.stop(signal.SIGTERM, EXIT_TIMEOUT)
                    if rc != 0:
                        failures.append("fcnat %s exited with status %s after SIGTERM "
                                        "(expected 0)" % (" ".join(inst.args), rc))
                except AssertionError as e:
                    failures.append(str(e))
        report = sanitizer_report(inst.stderr())
        if report:
            failures.append("fcnat %s: sanitizer report on stderr:\n%s"
                            % (" ".join(inst.args), report))
        # Shown by pytest only when the test fails.
        print("---- fcnat %s (pid %d) stderr ----\n%s" % (" ".join(inst.args), inst.pid,
                                                         inst.stderr()))
    if failures:
        pytest.fail("\n".join(failures))


class RunResult:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return "fcnat %s -> status %s\nstdout: %s\nstderr: %s" % (
            " ".join(self.argv), self.returncode, self.stdout, self.stderr)


@pytest.fixture
def run_fcnat(topo):
    """Run build/fcnat to completion (bounded) in the gateway namespace."""
    _require_binary()

    def run(*args, timeout=None):
        # As long as a start may take: a one-shot command (show, stats)
        # opens the pinned maps, slow on an emulated CPU (tests/vm).
        timeout = READY_TIMEOUT if timeout is None else timeout
        argv = [str(a) for a in args]
        bg = topo.gw.start([FCNAT_BIN] + argv, name="fcnat")
        try:
            rc = bg.wait(timeout)
        except subprocess.TimeoutExpired:
            # It kept running: stop it gracefully so it can clean up.
            bg.send_signal(signal.SIGTERM)
            try:
                bg.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                bg.kill()
            raise AssertionError("fcnat %s did not exit within %.0fs (expected it to fail "
                                 "at once)\nstderr:\n%s" % (" ".join(argv), timeout,
                                                           bg.stderr_text()))
        report = sanitizer_report(bg.stderr_text())
        if report:
            raise AssertionError("fcnat %s: sanitizer report on stderr:\n%s"
                                 % (" ".join(argv), report))
        return RunResult(argv, rc, bg.stdout_text(), bg.stderr_text())

    run.baseline = fc_progs()
    return run


@pytest.fixture
def bpffs(tmp_path):
    _require_root()
    d = tmp_path / "bpffs"
    d.mkdir()
    subprocess.run(["mount", "-t", "bpf", "bpf", str(d)], check=True, capture_output=True)
    try:
        yield str(d)
    finally:
        # Lazy: a process still inside it (in its own mount namespace) keeps it.
        subprocess.run(["umount", "-l", str(d)], capture_output=True)
