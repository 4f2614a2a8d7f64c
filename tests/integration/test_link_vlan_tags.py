"""VLAN-tagged frames on an untagged parent (--vlan): the gateway's wan0 is,
to its own kernel, a plain Ethernet link, and on the wire every frame of the
internet service carries 802.1Q tag 7 (or QinQ: 802.1ad 100 outside, 802.1Q 7
inside), as an ISP delivers it to a router whose kernel has no VLAN device
for it. fcnat takes the tags off what arrives and puts them on what leaves.

This machine's kernel has no 8021q, no VLAN-filtering bridge and no tc vlan
action, so the ISP's side of the tagged link is a relay in the ISP's
namespace: raw sockets on its end of wan0 and on a veth into the ISP's own
stack (isp1 -> isp0, where the outside addresses live). Frames from the
gateway with exactly the expected tags lose them on their way to isp0, and
every frame from the ISP's stack gets them on its way to the gateway. The
relay logs the tags and IPv4 addresses of every frame the gateway sends:
the tests check that each carries the tags and that no LAN address appears,
with or without tag. Frames of another VLAN id, and untagged ones, are
injected by hand: they are not translated.

Runs in TC mode, TC mode with the fast path (--lan-if) and XDP mode (the
frames parsed, translated and re-tagged in XDP: fc_xdp_ext / fc_xdp_int),
and in each a restart keeping state (--keep-state, pins under a --bpffs of
the test's own) after which the old mapping still holds."""

import re
import signal
import socket
import struct

import pytest

from fcnat_util import FCNAT_BIN, assert_nothing_attached, recv_matching, udp_exchange, xdp_args
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR

RELAY = r"""
import select, socket, struct, sys
ETH_P_ALL, SOL_PACKET, PACKET_AUXDATA, PACKET_OUTGOING = 3, 263, 8, 4
VLAN_VALID, VLAN_TPID_VALID = 0x10, 0x40
wire, isp, spec = sys.argv[1], sys.argv[2], sys.argv[3]
want = [(int(t.split(":")[0], 16), int(t.split(":")[1])) for t in spec.split(",")]
tag_bytes = b"".join(struct.pack("!HH", tp, vid) for tp, vid in want)

def open_sock(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    return s

def frame(s):
    # A tag the kernel keeps out of the frame (VLAN offload) comes as
    # auxiliary data: put back where it was on the wire.
    data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(20))
    if addr[2] == PACKET_OUTGOING:
        return None
    for level, typ, c in anc:
        if level == SOL_PACKET and typ == PACKET_AUXDATA and len(c) >= 20:
            status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", c[:20])
            if status & VLAN_VALID:
                tpid = tpid if status & VLAN_TPID_VALID else 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data

def tags_of(d):
    tags, off = [], 12
    while off + 4 <= len(d) and struct.unpack("!H", d[off:off + 2])[0] in (0x8100, 0x88a8):
        tp, tci = struct.unpack("!HH", d[off:off + 4])
        tags.append((tp, tci & 0xfff))
        off += 4
    return tags, off

w, i = open_sock(wire), open_sock(isp)
print("relay ready", flush=True)
while True:
    ready, _, _ = select.select([w, i], [], [])
    if w in ready:
        d = frame(w)
        if d:
            tags, off = tags_of(d)
            etype = struct.unpack("!H", d[off:off + 2])[0] if off + 2 <= len(d) else 0
            ips = ""
            if etype == 0x0800 and len(d) >= off + 22:
                ip = d[off + 2:]
                ips = "%s>%s" % (socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]))
            print("gw-sent tags=%s type=%04x %s" % (
                "/".join("%x:%d" % t for t in tags) or "none", etype, ips), flush=True)
            if tags == want:
                i.send(d[:12] + d[off:])
    if i in ready:
        d = frame(i)
        if d:
            w.send(d[:12] + tag_bytes + d[12:])
"""

DOT1Q_7 = "8100:7"
QINQ_100_7 = "88a8:100,8100:7"


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def udp_frame(dmac, smac, tags, src, sport, dst, dport, payload):
    """An Ethernet frame with tags [(tpid, vid)] (outer first) holding an IPv4
    UDP datagram, checksums computed (RFC 791, RFC 768)."""
    udp_len = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = _csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0x4242, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    l2 = dmac + smac + b"".join(struct.pack("!HH", tp, vid) for tp, vid in tags)
    return l2 + struct.pack("!H", 0x0800) + ip + udp


def send_frame(ns, ifname, frame):
    """Put a whole Ethernet frame on ifname in namespace ns, as it is."""
    with ns.entered():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        try:
            s.bind((ifname, 0))
            s.send(frame)
        finally:
            s.close()


def _mac(ns, ifname):
    return bytes.fromhex(ns.run(["cat", "/sys/class/net/%s/address" % ifname]).stdout.strip()
                         .replace(":", ""))


def tagged_isp(topo, spec):
    """Move the outside addresses behind the relay; start it."""
    topo.ext.run(["ip", "link", "add", "isp0", "type", "veth", "peer", "name", "isp1"])
    topo.ext.run(["ip", "addr", "flush", "dev", "wan0"])
    for a in EXT_ADDRS:
        topo.ext.addr_add("isp0", a + "/24")
    for ifname in ("isp0", "isp1"):
        topo.ext.link_up(ifname)
    # Raw sockets pass a partial checksum (left for the NIC) as it is: every
    # sender computes its checksums in full.
    for ns, ifname in ((topo.ext, "isp0"), (topo.ext, "isp1"), (topo.ext, "wan0"),
                       (topo.client, "lan0"), (topo.gw, "lan0"), (topo.gw, "wan0")):
        ns.run(["ethtool", "-K", ifname, "tx", "off"])
    relay = topo.ext.start(["/usr/bin/python3", "-c", RELAY, "wan0", "isp1", spec], name="relay")
    relay.wait_output(lambda t: "relay ready" in t, 10, stream="stdout", desc="the relay")
    return relay


def _sent_lines(relay):
    return [l for l in relay.stdout_text().splitlines() if l.startswith("gw-sent ")]


def _check_wire(relay, spec, marker_src, since):
    """Every frame the gateway sent since fcnat was ready (the line count
    since) carried the tags; no LAN address on the wire ever, tagged or
    not."""
    want = "tags=" + spec.replace(",", "/")
    lan = [l for l in _sent_lines(relay) if "192.168.77." in l]
    assert not lan, "LAN addresses on the tagged link:\n" + "\n".join(lan)
    lines = _sent_lines(relay)[since:]
    assert any(marker_src in l for l in lines), "\n".join(lines[-20:])
    untagged = [l for l in lines if want + " " not in l]
    assert not untagged, "frames without the tags:\n" + "\n".join(untagged)


def _translate_udp_eim_eif(topo, port):
    ext1, ext2, stranger_addr = EXT_ADDRS
    c = topo.client.udp(CLIENT_ADDR, port)
    srv1 = topo.ext.udp(ext1, 7000)
    srv2 = topo.ext.udp(ext2, 7000)
    mapped = udp_exchange(c, srv1, (ext1, 7000), b"to-1")
    assert mapped == (GW_WAN_ADDR, port), mapped
    assert udp_exchange(c, srv2, (ext2, 7000), b"to-2") == mapped   # EIM
    stranger = topo.ext.udp(stranger_addr, 7100)
    stranger.sendto(b"unsolicited", mapped)                          # EIF
    assert recv_matching(c, b"unsolicited", 3) == (stranger_addr, 7100)
    return c, mapped


@pytest.mark.parametrize("spec,vlan", [(DOT1Q_7, "7"), (QINQ_100_7, "100.7")],
                         ids=["dot1q", "qinq"])
def test_tagged_wan_translates_and_keeps_tags(topo, fcnat, datapath, spec, vlan):
    relay = tagged_isp(topo, spec)
    inst = fcnat("-i", "wan0", "--vlan", vlan, *datapath)
    since = len(_sent_lines(relay))
    assert "--vlan: wan0's frames carry" in inst.stderr()
    ext1 = EXT_ADDRS[0]

    c, mapped = _translate_udp_eim_eif(topo, 25100)

    r = topo.client.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", ext1], check=False)
    assert r.returncode == 0, r.stdout + r.stderr

    listener = topo.ext.tcp(ext1, 7200)
    listener.listen(1)
    conn = topo.client.tcp(CLIENT_ADDR, 0)
    conn.settimeout(5)
    conn.connect((ext1, 7200))
    listener.settimeout(5)
    peer, addr = listener.accept()
    assert addr[0] == GW_WAN_ADDR, addr
    conn.sendall(b"over-tcp")
    assert peer.recv(100) == b"over-tcp"
    peer.sendall(b"back")
    assert conn.recv(100) == b"back"
    peer.close()
    conn.close()

    # The last datagram: once the relay logged it, it logged all before.
    srv = topo.ext.udp(EXT_ADDRS[1], 7001)
    assert udp_exchange(c, srv, (EXT_ADDRS[1], 7001), b"marker") == mapped
    _check_wire(relay, spec, "%s>%s" % (GW_WAN_ADDR, EXT_ADDRS[1]), since)


def test_frames_of_another_vlan_or_untagged_are_not_translated(topo, fcnat, datapath):
    relay = tagged_isp(topo, DOT1Q_7)
    fcnat("-i", "wan0", "--vlan", "7", *datapath)
    since = len(_sent_lines(relay))
    c, mapped = _translate_udp_eim_eif(topo, 25300)
    gw_mac, isp_mac = _mac(topo.gw, "wan0"), _mac(topo.ext, "wan0")
    stranger = EXT_ADDRS[2]

    def inject(tags, payload):
        send_frame(topo.ext, "wan0", udp_frame(gw_mac, isp_mac, tags, stranger, 7300,
                                               GW_WAN_ADDR, mapped[1], payload))

    # VLAN 8, QinQ around 7, and no tag at all: to the mapping's port, never
    # translated to the LAN host ...
    inject([(0x8100, 8)], b"vlan-8")
    inject([(0x88a8, 100), (0x8100, 7)], b"qinq-100-7")
    inject([], b"untagged")
    # ... while the same frame on VLAN 7 is.
    inject([(0x8100, 7)], b"vlan-7")
    assert recv_matching(c, b"vlan-7", 3) == (stranger, 7300)
    got = []
    c.settimeout(0.5)
    try:
        while True:
            got.append(c.recvfrom(100)[0])
    except socket.timeout:
        pass
    assert not {b"vlan-8", b"qinq-100-7", b"untagged"} & set(got), got
    srv = topo.ext.udp(EXT_ADDRS[1], 7001)
    assert udp_exchange(c, srv, (EXT_ADDRS[1], 7001), b"marker") == mapped
    _check_wire(relay, DOT1Q_7, "%s>%s" % (GW_WAN_ADDR, EXT_ADDRS[1]), since)


@pytest.mark.parametrize("spec,vlan", [(DOT1Q_7, "7"), (QINQ_100_7, "100.7")],
                         ids=["dot1q", "qinq"])
def test_tagged_wan_restart_keeps_mapping(topo, fcnat, bpffs, datapath, spec, vlan):
    """A mapping made, fcnat stopped keeping its state, started again: a
    host that never talked to the client reaches it through the old mapping
    (EIF), the client goes on out of the same port, every frame sent after
    the restart still carries the tags; then --detach removes everything."""
    relay = tagged_isp(topo, spec)
    args = ("-i", "wan0", "--vlan", vlan, "--bpffs", bpffs, "--keep-state", *datapath)
    inst = fcnat(*args)
    c, mapped = _translate_udp_eim_eif(topo, 25600)
    assert inst.stop(signal.SIGTERM) == 0, inst.stderr()

    inst2 = fcnat(*args)
    assert "took over the pinned state" in inst2.stderr(), inst2.stderr()
    since = len(_sent_lines(relay))
    newcomer = topo.ext.udp(EXT_ADDRS[2], 7400)
    newcomer.sendto(b"after-restart", mapped)
    assert recv_matching(c, b"after-restart", 3) == (EXT_ADDRS[2], 7400)
    srv = topo.ext.udp(EXT_ADDRS[1], 7001)
    assert udp_exchange(c, srv, (EXT_ADDRS[1], 7001), b"again") == mapped
    _check_wire(relay, spec, "%s>%s" % (GW_WAN_ADDR, EXT_ADDRS[1]), since)

    # Kept once more, then removed with --detach: nothing left on either side.
    assert inst2.stop(signal.SIGTERM) == 0, inst2.stderr()
    r = topo.gw.run([FCNAT_BIN, "--detach", "-i", "wan0", "--bpffs", bpffs], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    for ifname in ("wan0", "lan0"):
        assert_nothing_attached(topo.gw, fcnat.baseline, ifname=ifname)


def test_vlan_option_checked(run_fcnat):
    for bad in ("0", "4095", "7.", "x", "1.2.3", "-1"):
        r = run_fcnat("-i", "wan0", "--vlan", bad)
        assert r.returncode == 2, (bad, r)
        assert "invalid VLAN '%s'" % bad in r.stderr, (bad, r.stderr)


# --- XDP on a real VLAN sub-interface (8021q: make vmtest) ----------------------

VLAN_IF = "wan0.7"
GW_VLAN_ADDR = "10.7.0.1"
EXT_VLAN_ADDRS = ("10.7.0.2", "10.7.0.3", "10.7.0.4")


def _counters(inst):
    assert inst.stop(signal.SIGTERM, 5) == 0
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^fcnat:\s+(\w+)\s+(\d+)$", inst.stderr(), re.M)}


@pytest.mark.vm
def test_vlan_subinterface_in_xdp_mode(topo, fcnat):
    """-i wan0.7 --mode xdp: the FIB names wan0.7; XDP reads the tagged
    frames on wan0 and sends them from it with the tag pushed."""
    r = topo.gw.run(["ip", "link", "add", "link", "wan0", "name", VLAN_IF, "type", "vlan",
                     "id", "7"], check=False)
    if r.returncode != 0:
        pytest.skip("this kernel has no 802.1Q VLAN support (8021q): %s" % r.stderr.strip())
    topo.ext.run(["ip", "link", "add", "link", "wan0", "name", VLAN_IF, "type", "vlan",
                  "id", "7"])
    topo.gw.addr_add(VLAN_IF, GW_VLAN_ADDR + "/24")
    topo.gw.link_up(VLAN_IF)
    for a in EXT_VLAN_ADDRS:
        topo.ext.addr_add(VLAN_IF, a + "/24")
    topo.ext.link_up(VLAN_IF)
    dump = topo.ext.start(["tcpdump", "-n", "-l", "-e", "-i", "wan0"], name="tcpdump")
    dump.wait_output(lambda t: "listening on" in t, 10, desc="tcpdump to start")
    inst = fcnat("-i", VLAN_IF, *xdp_args(topo))
    assert "wan0.7 is VLAN 7 (802.1Q) on wan0" in inst.stderr(), inst.stderr()

    ext1, ext2, stranger_addr = EXT_VLAN_ADDRS
    c = topo.client.udp(CLIENT_ADDR, 25400)
    srv1 = topo.ext.udp(ext1, 7000)
    srv2 = topo.ext.udp(ext2, 7000)
    mapped = udp_exchange(c, srv1, (ext1, 7000), b"to-1")
    assert mapped == (GW_VLAN_ADDR, 25400), mapped
    for i in range(5):
        assert udp_exchange(c, srv2, (ext2, 7000), b"to-2-%d" % i) == mapped
    stranger = topo.ext.udp(stranger_addr, 7100)
    for i in range(5):
        stranger.sendto(b"unsolicited-%d" % i, mapped)
        assert recv_matching(c, b"unsolicited-%d" % i, 3) == (stranger_addr, 7100)
    r = topo.client.run(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", ext1], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    listener = topo.ext.tcp(ext1, 7200)
    listener.listen(1)
    conn = topo.client.tcp(CLIENT_ADDR, 0)
    conn.settimeout(5)
    conn.connect((ext1, 7200))
    listener.settimeout(5)
    peer, addr = listener.accept()
    assert addr[0] == GW_VLAN_ADDR, addr
    conn.sendall(b"over-tcp")
    assert peer.recv(100) == b"over-tcp"
    peer.close()
    conn.close()
    c.sendto(b"marker", (ext2, 7000))
    dump.wait_output(lambda t: "%s.25400 > %s.7000" % (GW_VLAN_ADDR, ext2) in t and
                     t.count("%s.25400 > %s.7000" % (GW_VLAN_ADDR, ext2)) >= 6, 10,
                     stream="stdout", desc="tcpdump to show the marker")
    text = dump.stdout_text()
    assert "vlan 7" in text, text
    assert "192.168.77." not in text, text
    counters = _counters(inst)
    # Translated and sent in XDP both ways (the first packets of a flow may
    # go through the stack while the neighbours are resolved).
    assert counters.get("fast_redirected", 0) >= 8, counters
