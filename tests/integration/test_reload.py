"""SIGHUP reloads the configuration in place; address changes followed through netlink."""

import json
import signal
import time

from fcnat_util import recv_matching, udp_exchange
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS
NEW_WAN_ADDR = "198.51.100.9"


def write_conf(path, bpffs, ports, udp=300, extra=""):
    path.write_text("[nat]\nifname = wan0\nbpffs = %s\nports = %s\n%s\n[timeouts]\nudp = %d\n"
                    % (bpffs, ports, extra, udp))
    return str(path)


def stats(run_fcnat, bpffs):
    r = run_fcnat("stats", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)


def mappings(run_fcnat, bpffs):
    r = run_fcnat("show", "mappings", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)


def hup_and_wait(inst, needle):
    n = inst.stderr().count(needle)
    inst.bg.send_signal(signal.SIGHUP)
    inst.bg.wait_output(lambda t: t.count(needle) > n, 5, desc=repr(needle))


def test_sighup_applies_ranges_and_timeouts_keeping_sessions(bpffs, topo, fcnat, run_fcnat,
                                                             tmp_path):
    conf = write_conf(tmp_path / "fcnat.conf", bpffs, "30500-30509")
    inst = fcnat("-c", conf)
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    mapped = udp_exchange(c, srv, (EXT2, 7000), b"before")
    assert 30500 <= mapped[1] <= 30509, mapped
    lsock = topo.ext.tcp(EXT3, 7300)
    lsock.listen(1)
    t = topo.client.tcp()
    t.connect((EXT3, 7300))
    conn, tpeer = lsock.accept()

    write_conf(tmp_path / "fcnat.conf", bpffs, "30500-30509 31000-31009", udp=200)
    hup_and_wait(inst, "fcnat: reloaded")
    assert inst.running()
    assert "20 ports in 2 range(s)" in inst.stderr() and "udp 200s" in inst.stderr()

    # Old mapping and TCP connection untouched.
    stranger = topo.ext.udp(EXT4, 7100)
    stranger.sendto(b"after-hup", mapped)
    assert recv_matching(c, b"after-hup", 3) == (EXT4, 7100)
    assert udp_exchange(c, srv, (EXT2, 7000), b"out-after-hup") == mapped
    t.sendall(b"tcp-after-hup")
    assert conn.recv(100) == b"tcp-after-hup"
    conn.sendall(b"back")
    assert t.recv(100) == b"back"
    assert conn.getpeername() == tpeer

    # The new range is in use (a port in it is preserved) with the new timeout.
    c2 = topo.client.udp(CLIENT_ADDR, 31005)
    assert udp_exchange(c2, srv, (EXT2, 7000), b"new-range") == (GW_WAN_ADDR, 31005)
    new = [m for m in mappings(run_fcnat, bpffs) if m["external_port"] == 31005]
    assert len(new) == 1 and 190 < new[0]["expires_in"] <= 200, new
    assert stats(run_fcnat, bpffs)["counters"]["reloads"] == 1


def test_sighup_with_bad_config_keeps_running_configuration(bpffs, topo, fcnat, run_fcnat,
                                                            tmp_path):
    path = tmp_path / "fcnat.conf"
    conf = write_conf(path, bpffs, "30500-30509")
    inst = fcnat("-c", conf)
    write_conf(path, bpffs, "30000-20000")
    hup_and_wait(inst, "reload failed")
    err = inst.stderr()
    assert "fcnat.conf:4" in err and "30000-20000" in err, err
    assert inst.running()
    c = topo.client.udp(CLIENT_ADDR, 0)
    src = udp_exchange(c, topo.ext.udp(EXT2, 7000), (EXT2, 7000), b"still-old-range")
    assert 30500 <= src[1] <= 30509, src
    assert stats(run_fcnat, bpffs)["counters"]["reloads"] == 0


def test_address_replaced_followed_and_old_mappings_flushed(bpffs, topo, fcnat, run_fcnat):
    inst = fcnat("-i", "wan0", "--bpffs", bpffs)
    c = topo.client.udp(CLIENT_ADDR, 0)
    srv = topo.ext.udp(EXT2, 7000)
    assert udp_exchange(c, srv, (EXT2, 7000), b"old")[0] == GW_WAN_ADDR

    topo.gw.run(["ip", "addr", "del", GW_WAN_ADDR + "/24", "dev", "wan0"])
    topo.gw.run(["ip", "addr", "add", NEW_WAN_ADDR + "/24", "dev", "wan0"])
    t0 = time.monotonic()
    c2 = topo.client.udp(CLIENT_ADDR, 0)
    srv.settimeout(0.02)
    seen = []

    def new_address_used():
        c2.sendto(b"probe", (EXT2, 7000))
        try:
            data, src = srv.recvfrom(100)
        except OSError:
            return False
        seen.append(src)
        return src[0] == NEW_WAN_ADDR and src

    # Followed from a netlink event, not by polling: at once on an idle
    # machine (tens of ms), so 5 s is a margin for a loaded one.
    src = wait_until(new_address_used, 5.0, interval=0.01,
                     desc="new flows to leave from %s (seen %r)" % (NEW_WAN_ADDR, seen))
    assert time.monotonic() - t0 < 5.0
    srv.sendto(b"reply-new", src)
    assert recv_matching(c2, b"reply-new", 3) == (EXT2, 7000)

    wait_until(lambda: "flushed 1 mappings and 1 sessions of %s" % GW_WAN_ADDR in inst.stderr(),
               3, desc="the flush to be logged")
    cnt = stats(run_fcnat, bpffs)["counters"]
    assert cnt["mappings_flushed"] == 1 and cnt["sessions_flushed"] == 1, cnt
    assert cnt["address_changes"] >= 1, cnt
    ext = {(m["external_addr"], m["internal_port"]) for m in mappings(run_fcnat, bpffs)}
    assert ext == {(NEW_WAN_ADDR, c2.getsockname()[1])}, ext


def test_wait_for_address_starts_without_one_then_translates_to_the_first(
        bpffs, topo, fcnat, run_fcnat):
    """A WAN whose DHCP or PPPoE is not up yet: refused without the option
    (naming it); with --wait-for-address fcnat starts, drops what would
    leave untranslated, and takes the first address with its forwards."""
    topo.gw.run(["ip", "addr", "del", GW_WAN_ADDR + "/24", "dev", "wan0"])
    r = run_fcnat("-i", "wan0", "--bpffs", bpffs)
    assert r.returncode == 1, repr(r)
    assert "has no IPv4 address" in r.stderr and "--wait-for-address" in r.stderr, repr(r)

    inst = fcnat("-i", "wan0", "--bpffs", bpffs, "--wait-for-address",
                 "--ports", "20000-20999", "--forward", "udp:20400=%s:7401" % CLIENT_ADDR)
    assert "external address none yet" in inst.stderr(), inst.stderr()
    srv = topo.ext.udp(EXT2, 7000)
    srv.settimeout(0.5)
    c = topo.client.udp(CLIENT_ADDR, 0)
    # No address on the WAN, but a route out of it: nothing leaves with
    # the LAN's source address.
    topo.gw.run(["ip", "route", "add", "198.51.100.0/24", "dev", "wan0"])
    for _ in range(3):
        c.sendto(b"too-early", (EXT2, 7000))
    try:
        data, src = srv.recvfrom(100)
        leaked = (data, src)
    except OSError:
        leaked = None
    topo.gw.run(["ip", "route", "del", "198.51.100.0/24", "dev", "wan0"])
    assert leaked is None, leaked
    assert stats(run_fcnat, bpffs)["counters"]["drop_no_external_address"] >= 3

    topo.gw.run(["ip", "addr", "add", NEW_WAN_ADDR + "/24", "dev", "wan0"])
    wait_until(lambda: "changed: none -> %s" % NEW_WAN_ADDR in inst.stderr(), 5,
               desc="the first address to be taken")
    assert udp_exchange(c, srv, (EXT2, 7000), b"first")[0] == NEW_WAN_ADDR
    # The forward was placed on the address when it came.
    fwd = topo.client.udp(CLIENT_ADDR, 7401)
    stranger = topo.ext.udp(EXT3, 7100)
    stranger.sendto(b"via-forward", (NEW_WAN_ADDR, 20400))
    assert recv_matching(fwd, b"via-forward", 3) == (EXT3, 7100)
