"""Small network-namespace topology library for the fcnat integration tests.

Python 3 standard library only.  Everything here needs root (CAP_NET_ADMIN and
CAP_SYS_ADMIN).

Main pieces:

* wait_until(cond, timeout)  -- poll a condition; the only synchronisation
  primitive the tests use (no bare sleeps).
* Namespace                  -- one named network namespace: run commands in
  it (``ip netns exec``), start background processes, and create Python
  sockets that live in it (via setns(2) on the calling thread, restored
  afterwards).
* Topology                   -- a set of namespaces plus everything started in
  them; ``teardown()`` kills the processes, closes the sockets and deletes the
  namespaces, and is safe to call more than once.
* build_nat_topology()       -- the CLIENT / GATEWAY / EXTERNAL topology used by
  the tests and (in shell form) by scripts/demo.sh.
"""

import contextlib
import ctypes
import ipaddress
import json
import os
import shlex
import signal
import socket
import subprocess
import time

CLONE_NEWNET = 0x40000000

# Addresses of the standard topology.
LAN_PREFIX = "192.168.77.0/24"
GW_LAN_ADDR = "192.168.77.1"
CLIENT_ADDR = "192.168.77.2"
CLIENT2_ADDR = "192.168.77.3"
GW_WAN_ADDR = "198.51.100.1"
EXT_ADDRS = ("198.51.100.2", "198.51.100.3", "198.51.100.4")

# IPv6 (NatTopology.add_ipv6): ULA inside, documentation prefix outside; FAR
# is a network one router further (the EXTERNAL namespace routes to it).
LAN6_PREFIX = "fd00:77::/64"
GW_LAN6_ADDR = "fd00:77::1"
CLIENT6_ADDR = "fd00:77::2"
CLIENT6_2_ADDR = "fd00:77::3"
GW_WAN6_ADDR = "2001:db8:100::1"
EXT6_ADDRS = ("2001:db8:100::2", "2001:db8:100::3", "2001:db8:100::4")
EXT_FAR6_ADDR = "2001:db8:200::1"
FAR6_ADDR = "2001:db8:200::2"

# NAT64 (NatTopology.add_nat64): the IPv4 hosts seen from the IPv6-only
# client under the well-known prefix (RFC 6052 /96); FAR4 is an IPv4 network
# one router further (EXTERNAL routes to it) on a link of far4_mtu bytes;
# a global-looking range: RFC 6052 §3.1 drops private ones under the WKP.
NAT64_PREFIX = "64:ff9b::"
EXT_FAR4_ADDR = "192.0.2.1"
FAR4_ADDR = "192.0.2.2"


def nat64_addr(v4):
    """The RFC 6052 /96 address of an IPv4 address under NAT64_PREFIX, in
    the text form sockets and tools print (64:ff9b::c633:6402)."""
    return str(ipaddress.IPv6Address(NAT64_PREFIX + v4))


_libc = ctypes.CDLL(None, use_errno=True)


class WaitTimeout(AssertionError):
    """Raised by wait_until when the condition did not become true in time."""


def wait_until(cond, timeout, interval=0.05, desc=None):
    """Call cond() until it returns a truthy value or `timeout` seconds pass.

    Returns the truthy value.  Raises WaitTimeout (an AssertionError, so
    pytest reports it as a test failure) on timeout; exceptions raised by
    cond() propagate.  cond() is always evaluated at least once, and once
    more after the deadline so that a slow last poll is not lost.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        now = time.monotonic()
        if now >= deadline:
            break
        time.sleep(min(interval, deadline - now))
    value = cond()
    if value:
        return value
    raise WaitTimeout("timed out after %.1fs waiting for %s"
                      % (timeout, desc or getattr(cond, "__name__", "condition")))


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


def _argv(cmd):
    if isinstance(cmd, str):
        return shlex.split(cmd)
    return [str(c) for c in cmd]


class CommandError(AssertionError):
    pass


class BgProcess:
    """A background process started in a namespace.

    stdout and stderr go to files (so a chatty process can never block on a
    full pipe); read them with .stdout_text() / .stderr_text().
    """

    def __init__(self, ns, argv, stdout_path, stderr_path, stdin=None):
        self.ns = ns
        self.argv = argv
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self._out = open(stdout_path, "wb")
        self._err = open(stderr_path, "wb")
        full = ["ip", "netns", "exec", ns.name] + argv
        # `ip netns exec` execs the command, so self.proc.pid is the command's
        # pid.  New session -> own process group, killable as a whole.
        self.proc = subprocess.Popen(
            full, stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=self._out, stderr=self._err, start_new_session=True)
        self.pid = self.proc.pid

    def __repr__(self):
        return "<BgProcess %s in %s pid=%d>" % (" ".join(self.argv), self.ns.name, self.pid)

    @staticmethod
    def _read(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stdout_text(self):
        return self._read(self.stdout_path)

    def stderr_text(self):
        return self._read(self.stderr_path)

    def poll(self):
        return self.proc.poll()

    @property
    def returncode(self):
        return self.proc.returncode

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout):
        """Wait for exit; returns the exit status or raises subprocess.TimeoutExpired."""
        rc = self.proc.wait(timeout=timeout)
        self._close_files()
        return rc

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait_output(self, predicate, timeout, stream="stderr", desc=None):
        """Poll the output file until predicate(text) is truthy.

        Fails early (with the output in the message) if the process exits
        before the predicate becomes true.
        """
        reader = self.stderr_text if stream == "stderr" else self.stdout_text

        def cond():
            text = reader()
            if predicate(text):
                return True
            if self.proc.poll() is not None:
                text = reader()
                if predicate(text):
                    return True
                raise CommandError(
                    "%r exited with status %s before %s\n--- stdout ---\n%s\n--- stderr ---\n%s"
                    % (" ".join(self.argv), self.proc.returncode, desc or "expected output",
                       self.stdout_text(), self.stderr_text()))
            return False
        return wait_until(cond, timeout, desc=desc or ("output of %s" % self.argv[0]))

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Signal the process group, escalate to SIGKILL; returns the exit status."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_files()
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._close_files()

    def _close_files(self):
        for f in (self._out, self._err):
            if not f.closed:
                f.close()


class Namespace:
    """A named network namespace (/run/netns/<name>)."""

    def __init__(self, topo, name):
        self.topo = topo
        self.name = name

    def __repr__(self):
        return "<Namespace %s>" % self.name

    # -- commands -------------------------------------------------------
    def run(self, cmd, check=True, timeout=30, input=None):
        """Run cmd (list or shell-like string, no shell) in the namespace.

        Returns a CompletedProcess with text stdout/stderr.  With check=True a
        non-zero exit raises CommandError showing the command and its output.
        """
        argv = _argv(cmd)
        full = ["ip", "netns", "exec", self.name] + argv
        try:
            res = subprocess.run(full, input=input, capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise CommandError("command timed out after %ss in %s: %s\nstdout: %s\nstderr: %s"
                               % (timeout, self.name, " ".join(argv), e.stdout, e.stderr))
        if check and res.returncode != 0:
            raise CommandError("command failed (status %d) in %s: %s\nstdout: %s\nstderr: %s"
                               % (res.returncode, self.name, " ".join(argv),
                                  res.stdout, res.stderr))
        return res

    def sh(self, script, check=True, timeout=30):
        """Run a /bin/sh script in the namespace."""
        return self.run(["sh", "-c", script], check=check, timeout=timeout)

    def start(self, cmd, name=None, stdin=None):
        """Start a background process; it is killed at topology teardown."""
        argv = _argv(cmd)
        tag = name or os.path.basename(argv[0])
        n = self.topo._next_id()
        base = os.path.join(self.topo.workdir, "%s-%s-%d" % (self.name, tag, n))
        p = BgProcess(self, argv, base + ".out", base + ".err", stdin=stdin)
        self.topo.processes.append(p)
        return p

    # -- configuration helpers -------------------------------------------
    def ip(self, *args):
        return self.run(["ip"] + list(args))

    def addr_add(self, ifname, cidr, *flags):
        self.run(["ip", "addr", "add", cidr, "dev", ifname] + list(flags))

    def link_up(self, ifname):
        self.run(["ip", "link", "set", ifname, "up"])

    def sysctl(self, key, value):
        self.run(["sysctl", "-qw", "%s=%s" % (key, value)])

    def routes(self):
        return self.run(["ip", "-4", "route", "show"]).stdout

    def listening(self, port, proto="tcp", addr=None):
        """True if a socket listens (tcp) / is bound (udp) on port in this ns."""
        flag = "-Hltn" if proto == "tcp" else "-Hlun"
        out = self.run(["ss", flag], check=False).stdout
        for line in out.splitlines():
            fields = line.split()
            if len(fields) < 4:
                continue
            local = fields[3]
            host, _, p = local.rpartition(":")
            if p == str(port) and (addr is None or host in (addr, "*", "0.0.0.0")):
                return True
        return False

    def wait_listening(self, port, proto="tcp", addr=None, timeout=10):
        return wait_until(lambda: self.listening(port, proto, addr), timeout,
                          desc="%s port %s listening in %s" % (proto, port, self.name))

    # -- in-process sockets -------------------------------------------------
    @contextlib.contextmanager
    def entered(self):
        """Run the with-block on this thread inside the namespace."""
        orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            target = os.open("/run/netns/" + self.name, os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield self
            finally:
                _setns(orig)
        finally:
            os.close(orig)

    def socket(self, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0,
               bind=None, reuse=False, timeout=5.0):
        """Create a socket that belongs to this namespace.

        bind: optional (addr, port).  reuse: set SO_REUSEADDR and SO_REUSEPORT
        before binding.  The socket is closed at topology teardown.
        """
        with self.entered():
            s = socket.socket(family, type, proto)
        self.topo.sockets.append(s)
        try:
            if reuse:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if bind is not None:
                s.bind(bind)
            s.settimeout(timeout)
        except BaseException:
            s.close()
            raise
        return s

    def udp(self, addr, port=0, **kw):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        return self.socket(family, socket.SOCK_DGRAM, bind=(addr, port), **kw)

    def tcp(self, addr=None, port=0, family=None, **kw):
        bind = (addr, port) if addr is not None else None
        if family is None:
            family = socket.AF_INET6 if addr is not None and ":" in addr else socket.AF_INET
        return self.socket(family, socket.SOCK_STREAM, bind=bind, **kw)


class Topology:
    """A group of namespaces and the processes / sockets living in them."""

    def __init__(self, prefix, workdir):
        self.prefix = prefix
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.namespaces = []
        self.processes = []
        self.sockets = []
        self._n = 0

    def _next_id(self):
        self._n += 1
        return self._n

    def add_namespace(self, role):
        name = self.prefix + role
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        ns = Namespace(self, name)
        self.namespaces.append(ns)
        ns.link_up("lo")
        return ns

    def veth(self, ns_a, if_a, ns_b, if_b):
        """Create a veth pair directly inside two namespaces, both ends up."""
        ns_a.run(["ip", "link", "add", if_a, "type", "veth", "peer", "name", if_b,
                  "netns", ns_b.name])
        ns_a.link_up(if_a)
        ns_b.link_up(if_b)

    def teardown(self):
        """Kill processes, close sockets, delete namespaces. Idempotent."""
        errors = []
        for p in reversed(self.processes):
            try:
                p.stop(signal.SIGTERM, timeout=2.0)
            except Exception as e:  # keep tearing down
                errors.append("stopping %r: %s" % (p, e))
        self.processes = []
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass
        self.sockets = []
        for ns in reversed(self.namespaces):
            res = subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, text=True)
            if res.returncode != 0 and os.path.exists("/run/netns/" + ns.name):
                errors.append("deleting netns %s: %s" % (ns.name, res.stderr.strip()))
        self.namespaces = []
        return errors

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False


class NatTopology(Topology):
    """CLIENT --lan0-- GATEWAY --wan0-- EXTERNAL.

    client: lan0 192.168.77.2/24 (optionally .3), default via 192.168.77.1
    gw:     lan0 192.168.77.1/24, wan0 198.51.100.1/24, ip_forward=1
    ext:    wan0 198.51.100.2/.3/.4 /24, no route to 192.168.77.0/24
    """

    client = gw = ext = None

    def build(self, second_client_addr=True):
        try:
            self.client = self.add_namespace("cli")
            self.gw = self.add_namespace("gw")
            self.ext = self.add_namespace("ext")
            self.veth(self.client, "lan0", self.gw, "lan0")
            self.veth(self.gw, "wan0", self.ext, "wan0")
            self.client.addr_add("lan0", CLIENT_ADDR + "/24")
            if second_client_addr:
                self.client.addr_add("lan0", CLIENT2_ADDR + "/24")
            self.client.run(["ip", "route", "add", "default", "via", GW_LAN_ADDR])
            self.gw.addr_add("lan0", GW_LAN_ADDR + "/24")
            self.gw.addr_add("wan0", GW_WAN_ADDR + "/24")
            self.gw.sysctl("net.ipv4.ip_forward", 1)
            for a in EXT_ADDRS:
                self.ext.addr_add("wan0", a + "/24")
            # Addresses are usable at once (no DAD for IPv4), but wait for the
            # links to be operationally up so the first packet is not lost.
            for ns, ifname in ((self.client, "lan0"), (self.gw, "lan0"),
                               (self.gw, "wan0"), (self.ext, "wan0")):
                wait_until(lambda: "LOWER_UP" in ns.run(["ip", "-br", "link", "show", ifname]).stdout,
                           5, desc="%s %s up" % (ns.name, ifname))
        except BaseException:
            self.teardown()
            raise
        return self


    far = None

    def add_ipv6(self, far=False, far_mtu=None):
        """IPv6 on the same links (tests/integration/test_nat66.py).

        client: lan0 fd00:77::2/64 (and ::3), default via fd00:77::1
        gw:     lan0 fd00:77::1/64, wan0 2001:db8:100::1/64, forwarding on,
                default via 2001:db8:100::2
        ext:    wan0 2001:db8:100::2/.3/.4 /64, no route to fd00:77::/64
        far:    (far=True) far0 2001:db8:200::2/64 behind ext (2001:db8:200::1),
                a link of far_mtu bytes: one router beyond the gateway
        Addresses skip duplicate address detection (nodad): usable at once.
        """
        try:
            self.client.addr_add("lan0", CLIENT6_ADDR + "/64", "nodad")
            self.client.addr_add("lan0", CLIENT6_2_ADDR + "/64", "nodad")
            self.client.run(["ip", "-6", "route", "add", "default", "via", GW_LAN6_ADDR])
            self.gw.addr_add("lan0", GW_LAN6_ADDR + "/64", "nodad")
            self.gw.addr_add("wan0", GW_WAN6_ADDR + "/64", "nodad")
            self.gw.sysctl("net.ipv6.conf.all.forwarding", 1)
            self.gw.run(["ip", "-6", "route", "add", "default", "via", EXT6_ADDRS[0]])
            for a in EXT6_ADDRS:
                self.ext.addr_add("wan0", a + "/64", "nodad")
            # Every ICMPv6 error of a test goes to the one external address:
            # no rate limit, so traceroute6 gets each hop at once.
            self.ext.sysctl("net.ipv6.icmp.ratelimit", 0)
            if far:
                self.far = self.add_namespace("far")
                self.veth(self.ext, "far0", self.far, "far0")
                if far_mtu:
                    for ns in (self.ext, self.far):
                        ns.run(["ip", "link", "set", "far0", "mtu", str(far_mtu)])
                self.ext.addr_add("far0", EXT_FAR6_ADDR + "/64", "nodad")
                self.ext.sysctl("net.ipv6.conf.all.forwarding", 1)
                self.far.addr_add("far0", FAR6_ADDR + "/64", "nodad")
                self.far.sysctl("net.ipv6.icmp.ratelimit", 0)
                self.far.run(["ip", "-6", "route", "add", "default", "via", EXT_FAR6_ADDR])
                wait_until(lambda: "LOWER_UP" in self.far.run(
                    ["ip", "-br", "link", "show", "far0"]).stdout, 5, desc="far0 up")
        except BaseException:
            self.teardown()
            raise
        return self


    far4 = None

    def add_nat64(self, far4_mtu=None):
        """An IPv6-only client for NAT64 (tests/integration/test_nat64.py):
        add_ipv6(), then the client's IPv4 addresses and route removed, and
        an IPv4 host one router beyond EXTERNAL.

        client: lan0 fd00:77::2/64 (and ::3) only, default via fd00:77::1
        ext:    an IPv4 router: far0 192.0.2.1/24 (far4_mtu bytes)
        far4:   far0 192.0.2.2/24, default via 192.0.2.1
        gw:     192.0.2.0/24 via 198.51.100.2
        """
        self.add_ipv6()
        try:
            self.client.run(["ip", "-4", "route", "flush", "dev", "lan0"])
            self.client.run(["ip", "-4", "addr", "flush", "dev", "lan0"])
            self.far4 = self.add_namespace("far4")
            self.veth(self.ext, "far0", self.far4, "far0")
            if far4_mtu:
                for ns in (self.ext, self.far4):
                    ns.run(["ip", "link", "set", "far0", "mtu", str(far4_mtu)])
            self.ext.addr_add("far0", EXT_FAR4_ADDR + "/24")
            self.ext.sysctl("net.ipv4.ip_forward", 1)
            # Every ICMP error of a test goes to the one external address:
            # no rate limit, so traceroute6 gets each hop at once.
            self.ext.sysctl("net.ipv4.icmp_ratelimit", 0)
            self.far4.addr_add("far0", FAR4_ADDR + "/24")
            self.far4.sysctl("net.ipv4.icmp_ratelimit", 0)
            self.far4.run(["ip", "route", "add", "default", "via", EXT_FAR4_ADDR])
            self.gw.run(["ip", "route", "add", "192.0.2.0/24", "via", EXT_ADDRS[0]])
            wait_until(lambda: "LOWER_UP" in self.far4.run(
                ["ip", "-br", "link", "show", "far0"]).stdout, 5, desc="far0 up")
        except BaseException:
            self.teardown()
            raise
        return self


def build_nat_topology(prefix, workdir, second_client_addr=True):
    return NatTopology(prefix, workdir).build(second_client_addr)


# -- inspection helpers used by the tests --------------------------------------

def tc_json(ns, *args):
    res = ns.run(["tc", "-j"] + list(args), check=False)
    out = res.stdout.strip()
    if res.returncode != 0 or not out:
        return []
    return json.loads(out)


def bpf_progs():
    """All loaded BPF programs (global, not per namespace) as dicts."""
    res = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         timeout=30)
    if res.returncode != 0:
        raise CommandError("bpftool prog show failed: %s" % res.stderr)
    out = res.stdout.strip()
    return json.loads(out) if out else []
