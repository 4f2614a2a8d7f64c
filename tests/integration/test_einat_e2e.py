"""einat's own end-to-end scenario (einat-ebpf tests/e2e.sh), with fcnat.

einat's script: a router with a bridge LAN (two devices) and two external
interfaces (a server network on each, two addresses per server), nftables
masquerade carrying traffic first (so conntrack holds entries when the NAT
starts), one NAT instance per external interface, then STUN's RFC 5780
test from both devices, with the same local port, to both servers.

Here the same namespaces and addresses, fcnat in TC mode (the einat
invocation: one `-i` per instance; separate --bpffs mounts so the two
instances' pinned state cannot collide), and instead of stunclient the
same checks made with sockets: EIM (the second server address sees the
mapping the first one saw) and EIF (a port the device never sent to
reaches the mapping), for UDP through each instance, TCP and ping through
each, no 192.168.1.x source ever seen on either external link (tcpdump),
and each instance detaching only what is its own.

Conntrack entries made beforehand: pings from both devices to both
servers through masquerade (einat's own checks), and a TCP and a UDP flow
set up through masquerade before fcnat starts, seen in `conntrack -L`. The
masquerade rule is then removed from its chain (the chain stays, so
conntrack's NAT bindings stay in force), as an admin switching to fcnat
would do. (einat's script runs `conntrack -F` at this point instead.) What
the test proves about those flows, as fcnat behaves today: fcnat takes the
next packet of each as a new flow of the device's (a mapping under the
device's address and port, to a port of its range); the UDP flow goes on
both ways from the new external port, the TCP connection does not survive
(the server resets the segment from the unknown port; the device gets the
reset, the connection ends rather than hangs).
"""

import json
import os
import shutil
import subprocess

import pytest

from fcnat_util import (FCNAT_BIN, assert_nothing_attached, attached_prog_ids, in_range,
                        recv_matching, udp_exchange)

LAN_ADDR = "192.168.1.1"
DEVICES = {"dev1": "192.168.1.100", "dev2": "192.168.1.200"}
# wan index -> (router address, the server's two addresses)
WANS = {0: ("10.0.1.100", ("10.0.1.1", "10.0.1.2")),
        1: ("10.0.2.100", ("10.0.2.1", "10.0.2.2"))}
STUN_PORT = 3478
LOCAL_PORT = 29999          # einat's stunclient --localport, on both devices
OLD_TCP_PORT = 40001        # flows of masquerade's, outside fcnat's range
OLD_UDP_PORT = 40002


def _need(tool):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed (scripts/deps.sh installs it)" % tool)


@pytest.fixture
def bpffs2(tmp_path):
    """Two bpffs mounts, one per instance."""
    dirs = []
    try:
        for i in (0, 1):
            d = tmp_path / ("bpffs%d" % i)
            d.mkdir()
            subprocess.run(["mount", "-t", "bpf", "bpf", str(d)], check=True,
                           capture_output=True)
            dirs.append(str(d))
        yield dirs
    finally:
        for d in dirs:
            subprocess.run(["umount", "-l", d], capture_output=True)


def build_einat_topology(topo):
    """einat's five namespaces, added to the test's topology (so deleted
    with it). Interfaces: router wan0/wan1 to server1/server2's eth0,
    br-lan over lan1/lan2 to device1/device2's eth0."""
    ns = {r: topo.add_namespace(r) for r in ("srv1", "srv2", "rtr", "dev1", "dev2")}
    rtr = ns["rtr"]
    for i, (raddr, saddrs) in WANS.items():
        srv = ns["srv%d" % (i + 1)]
        topo.veth(rtr, "wan%d" % i, srv, "eth0")
        rtr.addr_add("wan%d" % i, raddr + "/24")
        for a in saddrs:
            srv.addr_add("eth0", a + "/24")
    rtr.run(["ip", "link", "add", "br-lan", "type", "bridge"])
    for j, (role, addr) in enumerate(sorted(DEVICES.items()), 1):
        dev = ns[role]
        topo.veth(rtr, "lan%d" % j, dev, "eth0")
        rtr.run(["ip", "link", "set", "lan%d" % j, "master", "br-lan"])
        dev.addr_add("eth0", addr + "/24")
    rtr.addr_add("br-lan", LAN_ADDR + "/24")
    rtr.link_up("br-lan")
    for role in DEVICES:
        ns[role].run(["ip", "route", "add", "default", "via", LAN_ADDR])
    rtr.sysctl("net.ipv4.ip_forward", 1)
    return ns


def start_capture(srv):
    """tcpdump of every IPv4 packet on a server's link, line-buffered."""
    p = srv.start(["tcpdump", "-n", "-l", "-i", "eth0", "ip"], name="tcpdump")
    p.wait_output(lambda t: "listening on" in t, 10, desc="tcpdump listening")
    return p


def mappings(rtr, bpffs, wan):
    r = rtr.run([FCNAT_BIN, "show", "mappings", "-i", wan, "--json", "--bpffs", bpffs])
    return json.loads(r.stdout)


def ping(dev, dst):
    r = dev.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", dst], check=False)
    assert r.returncode == 0, (dev.name, dst, r.stdout, r.stderr)


def tcp_roundtrip(dev, srv, dst, port, src_port=0):
    """Connect from dev to dst:port; data both ways; returns the address the
    server saw and the open pair (client, server side)."""
    lst = srv.tcp(dst, port, reuse=True)
    lst.listen(4)
    c = dev.tcp("0.0.0.0", src_port, reuse=True)
    c.connect((dst, port))
    peer, addr = lst.accept()
    peer.settimeout(5)
    lst.close()
    c.sendall(b"up")
    assert peer.recv(8) == b"up"
    peer.sendall(b"down")
    assert c.recv(8) == b"down"
    return addr, c, peer


def test_einat_e2e_two_wans_two_instances_bridge_lan(topo, fcnat, bpffs2):
    for tool in ("nft", "conntrack", "tcpdump", "ping"):
        _need(tool)
    ns = build_einat_topology(topo)
    rtr = ns["rtr"]
    srvs = [ns["srv1"], ns["srv2"]]
    devs = {role: ns[role] for role in DEVICES}

    # Masquerade first, as einat's script sets up.
    r = rtr.run(["nft", "-f", "-"], check=False, input=(
        "table inet nat {\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    iifname \"br-lan\" oifname { \"wan0\", \"wan1\" } masquerade\n"
        "  }\n"
        "}\n"))
    if r.returncode != 0:
        pytest.skip("this kernel has no nftables masquerade (nft_masq/nft_nat): %s"
                    % r.stderr.strip())
    caps = [start_capture(s) for s in srvs]

    # einat's connectivity checks: router to servers, devices to router and
    # (masqueraded) to both servers.
    for i, (_, saddrs) in WANS.items():
        ping(rtr, saddrs[0])
    for role, dev in devs.items():
        ping(dev, LAN_ADDR)
        for _, saddrs in WANS.values():
            ping(dev, saddrs[0])

    # Flows made before fcnat: TCP dev1 -> server1, UDP dev2 -> server2.
    old_addr, old_c, old_peer = tcp_roundtrip(devs["dev1"], srvs[0], WANS[0][1][0], 8000,
                                              OLD_TCP_PORT)
    assert old_addr == (WANS[0][0], OLD_TCP_PORT), old_addr
    old_u = devs["dev2"].udp(DEVICES["dev2"], OLD_UDP_PORT)
    old_us = srvs[1].udp(WANS[1][1][0], 7000)
    old_usrc = udp_exchange(old_u, old_us, (WANS[1][1][0], 7000), b"old")
    assert old_usrc == (WANS[1][0], OLD_UDP_PORT), old_usrc
    old_us.sendto(b"old-back", old_usrc)
    assert recv_matching(old_u, b"old-back", 3) == (WANS[1][1][0], 7000)
    ct = rtr.run(["conntrack", "-L"], check=False)
    listing = ct.stdout + ct.stderr
    for sport, dst in ((OLD_TCP_PORT, WANS[0][1][0]), (OLD_UDP_PORT, WANS[1][1][0])):
        assert any("sport=%d" % sport in l and "dst=%s" % dst in l for l in listing.splitlines()), \
            listing
    # Switch to fcnat: the rule goes, the chain (and so the bindings of the
    # entries above) stays.
    rtr.run(["nft", "flush", "chain", "inet", "nat", "postrouting"])

    insts = []
    for i in (0, 1):
        args = ["-i", "wan%d" % i, "--bpffs", bpffs2[i]]
        if i == 1:
            args += ["--internal", "192.168.1.0/24"]   # einat's --internal <CIDR>
        insts.append(fcnat(*args, ns=rtr))
    # Each instance holds its own programs on its own interface.
    own = [attached_prog_ids(rtr, "wan%d" % i) for i in (0, 1)]
    assert own[0] and own[1] and not (own[0] & own[1]), own

    # The flows made beforehand. Masquerade's rule is gone but its
    # conntrack bindings stay; fcnat nevertheless takes the next packet of
    # each flow as a new one of the device's and maps it to a port of its
    # range (a mapping under the device's address and port).
    # UDP goes on both ways, from the new external port.
    m_old = udp_exchange(old_u, old_us, (WANS[1][1][0], 7000), b"old2")
    assert m_old[0] == WANS[1][0] and in_range(m_old[1]), m_old
    old_us.sendto(b"old-back2", m_old)
    assert recv_matching(old_u, b"old-back2", 3) == (WANS[1][1][0], 7000)
    rows = {(m["proto"], m["internal_addr"], m["internal_port"], m["external_port"])
            for m in mappings(rtr, bpffs2[1], "wan1")}
    assert ("udp", DEVICES["dev2"], OLD_UDP_PORT, m_old[1]) in rows, rows
    # TCP does not survive: the server sees the next segment come from
    # another port and resets it; the device gets the reset (through fcnat
    # and conntrack), the connection ends rather than hangs.
    old_c.settimeout(5)
    old_c.sendall(b"again")
    with pytest.raises(ConnectionResetError):
        old_c.recv(8)
    rows = {(m["proto"], m["internal_addr"], m["internal_port"])
            for m in mappings(rtr, bpffs2[0], "wan0")}
    assert ("tcp", DEVICES["dev1"], OLD_TCP_PORT) in rows, rows
    old_peer.close()

    # New flows through each instance: UDP EIM + EIF from both devices with
    # the same local port (einat's stunclient --localport 29999), TCP, ping.
    # One socket per device for both instances (one internal endpoint).
    socks = {role: dev.udp(DEVICES[role], LOCAL_PORT) for role, dev in devs.items()}
    for i, (raddr, (s_a, s_b)) in WANS.items():
        srv = srvs[i]
        primary = srv.udp(s_a, STUN_PORT)
        alt = srv.udp(s_b, STUN_PORT)
        seen = {}
        for role, dev in devs.items():
            c = socks[role]
            m = udp_exchange(c, primary, (s_a, STUN_PORT), b"bind-" + role.encode())
            assert m[0] == raddr and in_range(m[1]), (i, role, m)
            # EIM: the other address of the server sees the same mapping.
            assert udp_exchange(c, alt, (s_b, STUN_PORT), b"alt-" + role.encode()) == m, \
                (i, role)
            # EIF: an address and port the device never sent to gets in.
            other = srv.udp(s_b, 5000 + len(seen))
            other.sendto(b"unsolicited", m)
            assert recv_matching(c, b"unsolicited", 3) == (s_b, 5000 + len(seen)), (i, role)
            seen[role] = m
        assert seen["dev1"][1] != seen["dev2"][1], seen
        for role, dev in devs.items():
            addr, c, peer = tcp_roundtrip(dev, srv, s_a, 8100 + i)
            assert addr[0] == raddr and in_range(addr[1]), (i, role, addr)
            c.close()
            peer.close()
            ping(dev, s_a)
        protos = {(m["proto"], m["internal_addr"]) for m in mappings(rtr, bpffs2[i], "wan%d" % i)}
        for role in DEVICES:
            for proto in ("udp", "tcp", "icmp"):
                assert (proto, DEVICES[role]) in protos, (i, role, proto, protos)
    # No internal address on either external link, from the first
    # masqueraded ping to here; and the capture did see the traffic.
    for i, cap in enumerate(caps):
        cap.stop()
        lines = cap.stdout_text().splitlines()
        leaked = [l for l in lines if "192.168.1." in l]
        assert not leaked, (i, leaked[:5])
        assert any("%s > %s: ICMP echo request" % (WANS[i][0], WANS[i][1][0]) in l
                   for l in lines), (i, lines[-20:])
        assert any(" %s." % WANS[i][0] in l and ": UDP" in l for l in lines), (i, lines[-20:])

    # Detach: the first instance's stop removes only its own; the second
    # keeps translating until it stops.
    assert insts[0].stop() == 0
    assert_nothing_attached(rtr, fcnat.baseline, "wan0", prog_ids=own[0])
    assert attached_prog_ids(rtr, "wan1") == own[1]
    c = devs["dev1"].udp(DEVICES["dev1"], 0)
    m = udp_exchange(c, srvs[1].udp(WANS[1][1][0], 7100), (WANS[1][1][0], 7100), b"after")
    assert m[0] == WANS[1][0] and in_range(m[1]), m
    assert insts[1].stop() == 0
    assert_nothing_attached(rtr, fcnat.baseline, "wan1", prog_ids=own[1])
    for d in bpffs2:
        # progs.debug and maps.debug are the kernel's own in every bpffs.
        left = [e for e in os.listdir(d) if not e.endswith(".debug")]
        assert left == [], (d, left)
