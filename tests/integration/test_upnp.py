"""UPnP IGD (--upnp-if): SSDP, descriptions, SOAP control and GENA events.

The real client is Debian's miniupnpc `upnpc`, run in the client namespace;
the second host's requests, the IGD:2 actions upnpc does not offer on a
version-1 device, and malformed input are sent with sockets from there.
Mappings are the NAT-PMP/PCP table's: same limits, same listing.

The lab's external address (198.51.100.1, TEST-NET-2) is a reserved one,
which miniupnpc 2.2 reports as "Found a (not connected?) IGD" and then
refuses to use without -i: every upnpc call here passes -i, and
test_upnpc_status shows the same client calling the IGD valid once the
address is a public one.
"""

import json
import re
import shutil
import signal
import socket
import struct
import time

import pytest

from fcnat_util import recv_matching
from netns import CLIENT2_ADDR, CLIENT_ADDR, EXT_ADDRS, GW_LAN_ADDR, GW_WAN_ADDR, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS
SSDP = ("239.255.255.250", 1900)
IPCONN = "urn:schemas-upnp-org:service:WANIPConnection:%d"


def start(fcnat, bpffs, *extra):
    return fcnat("-i", "wan0", "--bpffs", bpffs, "--upnp-if", "lan0", *extra)


def upnpc(topo, *args, ok=True):
    r = topo.client.run(["upnpc", "-m", "lan0", "-i"] + [str(a) for a in args], check=False,
                        timeout=60)
    out = r.stdout + r.stderr
    if ok:
        assert r.returncode == 0, out
    return out


def mappings(run_fcnat, bpffs):
    r = run_fcnat("show", "mappings", "--json", "--bpffs", bpffs)
    assert r.returncode == 0, repr(r)
    return json.loads(r.stdout)


def mapping_at(run_fcnat, bpffs, port):
    return [m for m in mappings(run_fcnat, bpffs) if m["external_port"] == port]


def reaches(far, inside, port, payload, wait=1.0):
    far.sendto(payload, (GW_WAN_ADDR, port))
    return recv_matching(inside, payload, wait) is not None


def msearch(topo, st, mx=1, src=CLIENT_ADDR, wait=None, raw=None):
    """Send an M-SEARCH from src; every answer (text) until the wait ends."""
    s = topo.client.udp(src, 0)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
    msg = raw if raw is not None else (
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
        "MX: %d\r\nST: %s\r\n\r\n" % (mx, st)).encode()
    s.sendto(msg, SSDP)
    out = []
    deadline = time.monotonic() + (wait if wait is not None else mx + 0.5)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, _ = s.recvfrom(4096)
        except socket.timeout:
            break
        out.append(data.decode())
    s.close()
    return out


def header(msg, name):
    m = re.search(r"^%s:[ \t]*(.*?)\r$" % re.escape(name), msg, re.M | re.I)
    return m.group(1) if m else None


def http_port(topo):
    """The description server's port, from an SSDP answer."""
    def found():
        ans = msearch(topo, "upnp:rootdevice", wait=1.5)
        return ans and ans[0]
    loc = header(wait_until(found, 10, desc="an SSDP answer"), "LOCATION")
    m = re.match(r"http://%s:(\d+)/rootDesc\d\.xml$" % re.escape(GW_LAN_ADDR), loc)
    assert m, loc
    return int(m.group(1))


def http(topo, port, data, src=CLIENT_ADDR, timeout=5.0):
    """Send raw bytes to the IGD's HTTP port; the whole answer (b"" if closed)."""
    c = topo.client.tcp(src, 0)
    c.settimeout(timeout)
    c.connect((GW_LAN_ADDR, port))
    try:
        c.sendall(data)
    except OSError:
        pass
    chunks = []
    while True:
        try:
            b = c.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not b:
            break
        chunks.append(b)
    c.close()
    return b"".join(chunks)


def soap(topo, port, action, args=(), v=1, src=CLIENT_ADDR, svc=None, path=None):
    """Call action on WANIPConnection:v; (HTTP status, {name: value} or errorCode)."""
    svc = svc or IPCONN % v
    body = ('<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
            'envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            '<u:%s xmlns:u="%s">%s</u:%s></s:Body></s:Envelope>\r\n'
            % (action, svc, "".join("<%s>%s</%s>" % (k, v_, k) for k, v_ in args), action))
    req = ("POST %s HTTP/1.1\r\nHOST: %s:%d\r\nCONTENT-TYPE: text/xml; charset=\"utf-8\"\r\n"
           "SOAPACTION: \"%s#%s\"\r\nCONTENT-LENGTH: %d\r\n\r\n%s"
           % (path or "/ctl/IPConn%d" % v, GW_LAN_ADDR, port, svc, action, len(body), body))
    ans = http(topo, port, req.encode(), src=src).decode()
    status = int(ans.split(" ", 2)[1])
    if status == 500:
        m = re.search(r"<errorCode>(\d+)</errorCode>", ans)
        assert m, ans
        return status, int(m.group(1))
    return status, dict(re.findall(r"<(New\w+)>([^<]*)</\1>", ans))


def add_args(ext, int_port, proto="UDP", client=CLIENT_ADDR, lease=3600, desc="test",
             remote=""):
    return [("NewRemoteHost", remote), ("NewExternalPort", ext), ("NewProtocol", proto),
            ("NewInternalPort", int_port), ("NewInternalClient", client), ("NewEnabled", 1),
            ("NewPortMappingDescription", desc), ("NewLeaseDuration", lease)]


def daemon_serves(topo, fc, port):
    assert fc.running()
    st, r = soap(topo, port, "GetExternalIPAddress")
    return st == 200 and r["NewExternalIPAddress"] == GW_WAN_ADDR


# ---- upnpc ---------------------------------------------------------------------------

def test_upnpc_status(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    out = upnpc(topo, "-s")
    assert "ExternalIPAddress = %s" % GW_WAN_ADDR in out, out
    assert "Connection Type : IP_Routed" in out, out
    assert "Status : Connected" in out, out
    # A reserved address: miniupnpc keeps the IGD at arm's length ...
    assert "Found a (not connected?) IGD" in out, out
    # ... and a public one makes it a valid IGD (fcnat follows the address).
    topo.gw.addr_add("wan0", "11.1.1.1/24")
    topo.gw.ip("addr", "del", GW_WAN_ADDR + "/24", "dev", "wan0")
    out = wait_until(lambda: (lambda o: "ExternalIPAddress = 11.1.1.1" in o and o)(
        upnpc(topo, "-s")), 15, desc="the new address")
    assert "Found valid IGD" in out, out


def test_upnpc_udp_mapping_reached_listed_then_deleted(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs)
    inside = topo.client.udp(CLIENT_ADDR, 8080)
    far = topo.ext.udp(EXT3, 9000)
    # The outside host has never talked to the client: only the mapping lets it in.
    assert not reaches(far, inside, 26000, b"before")
    out = upnpc(topo, "-e", "torrent client", "-a", CLIENT_ADDR, 8080, 26000, "UDP", 3600)
    assert "external %s:26000 UDP is redirected to internal %s:8080" % (GW_WAN_ADDR, CLIENT_ADDR) \
        in out, out
    far.sendto(b"through upnp", (GW_WAN_ADDR, 26000))
    assert recv_matching(inside, b"through upnp", 3) == (EXT3, 9000)
    inside.sendto(b"back", (EXT3, 9000))
    assert recv_matching(far, b"back", 3) == (GW_WAN_ADDR, 26000)

    m = mapping_at(run_fcnat, bpffs, 26000)
    assert len(m) == 1 and m[0]["owner"] == "upnp" and m[0]["proto"] == "udp", m
    assert m[0]["internal_addr"] == CLIENT_ADDR and m[0]["internal_port"] == 8080, m
    assert 3500 < m[0]["expires_in"] <= 3601, m  # whole seconds, rounded up

    out = upnpc(topo, "-l")
    assert re.search(r"UDP\s+26000->%s:8080\s+'torrent client'" % re.escape(CLIENT_ADDR), out), out

    out = upnpc(topo, "-d", 26000, "UDP")
    assert "UPNP_DeletePortMapping() returned : 0" in out, out
    assert not reaches(far, inside, 26000, b"after delete")
    assert not mapping_at(run_fcnat, bpffs, 26000)
    assert "26000->" not in upnpc(topo, "-l")


def test_upnpc_tcp_mapping_reached_then_deleted(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    lst = topo.client.tcp(CLIENT_ADDR, 8081)
    lst.listen(4)
    out = upnpc(topo, "-a", CLIENT_ADDR, 8081, 26001, "TCP", 3600)
    assert "external %s:26001 TCP is redirected" % GW_WAN_ADDR in out, out
    c = topo.ext.tcp(EXT2, 0)
    c.settimeout(3)
    c.connect((GW_WAN_ADDR, 26001))
    conn, peer = lst.accept()
    assert peer[0] == EXT2
    c.sendall(b"tcp through upnp")
    assert conn.recv(100) == b"tcp through upnp"
    conn.close()
    c.close()
    upnpc(topo, "-d", 26001, "TCP")
    c2 = topo.ext.tcp(EXT2, 0)
    c2.settimeout(2)
    with pytest.raises(OSError):
        c2.connect((GW_WAN_ADDR, 26001))


def test_upnpc_r_maps_several_ports_for_this_host(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs)
    # Without an external port, -r asks for the internal one (inside --ports here).
    out = upnpc(topo, "-r", 8090, 26090, "UDP", 8091, 26091, "TCP", 26092, "UDP")
    listed = upnpc(topo, "-l")
    for proto, ext, port in (("UDP", 26090, 8090), ("TCP", 26091, 8091), ("UDP", 26092, 26092)):
        assert re.search(r"%s\s+%d->%s:%d" % (proto, ext, re.escape(CLIENT_ADDR), port), listed), \
            out + listed
        m = mapping_at(run_fcnat, bpffs, ext)
        assert len(m) == 1 and m[0]["owner"] == "upnp", m
    inside = topo.client.udp(CLIENT_ADDR, 8090)
    far = topo.ext.udp(EXT4, 9004)
    assert reaches(far, inside, 26090, b"ranged", 3)


def test_conflicting_request_of_a_second_host_is_718(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs)
    upnpc(topo, "-a", CLIENT_ADDR, 8080, 26010, "UDP", 3600)
    port = http_port(topo)
    st, err = soap(topo, port, "AddPortMapping", add_args(26010, 9090, client=CLIENT2_ADDR),
                   src=CLIENT2_ADDR)
    assert (st, err) == (500, 718)
    # Nor may the second host delete the first one's mapping, or the first
    # map for the second (no third party without --pcp-third-party).
    st, err = soap(topo, port, "DeletePortMapping",
                   [("NewRemoteHost", ""), ("NewExternalPort", 26010), ("NewProtocol", "UDP")],
                   src=CLIENT2_ADDR)
    assert (st, err) == (500, 606)
    out = upnpc(topo, "-a", CLIENT2_ADDR, 9090, 26011, "UDP", 3600, ok=False)
    assert "606" in out, out
    m = mapping_at(run_fcnat, bpffs, 26010)
    assert len(m) == 1 and m[0]["internal_addr"] == CLIENT_ADDR, m
    assert not mapping_at(run_fcnat, bpffs, 26011)
    # The second host gets a free port of its own.
    st, r = soap(topo, port, "AddPortMapping", add_args(26012, 9090, client=CLIENT2_ADDR),
                 src=CLIENT2_ADDR)
    assert st == 200, r


def test_third_party_with_pcp_third_party(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs, "--pcp-third-party")
    upnpc(topo, "-a", CLIENT2_ADDR, 9091, 26013, "UDP", 3600)
    m = mapping_at(run_fcnat, bpffs, 26013)
    assert len(m) == 1 and m[0]["internal_addr"] == CLIENT2_ADDR, m


def test_lease_expires_and_cuts_off(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs, "--pcp-min-lifetime", "1")
    inside = topo.client.udp(CLIENT_ADDR, 8083)
    far = topo.ext.udp(EXT4, 9003)
    upnpc(topo, "-a", CLIENT_ADDR, 8083, 26003, "UDP", 3)
    m = mapping_at(run_fcnat, bpffs, 26003)
    assert len(m) == 1 and m[0]["expires_in"] <= 4, m
    wait_until(lambda: not mapping_at(run_fcnat, bpffs, 26003), 15, desc="the lease to end")
    assert not reaches(far, inside, 26003, b"after expiry")
    assert "26003->" not in upnpc(topo, "-l")


def test_lease_rules_v1_and_v2(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs, "--pcp-max-lifetime", "7200")
    port = http_port(topo)

    def lease(ext, v):
        st, r = soap(topo, port, "GetSpecificPortMappingEntry",
                     [("NewRemoteHost", ""), ("NewExternalPort", ext), ("NewProtocol", "UDP")], v=v)
        assert st == 200, r
        return int(r["NewLeaseDuration"])

    # v1: 0 asked a permanent mapping; non-zero leases are supported, so
    # 725 OnlyPermanentLeasesSupported never comes; 0 gets the maximum.
    assert soap(topo, port, "AddPortMapping", add_args(26020, 8020, lease=0))[0] == 200
    assert 7100 < lease(26020, 1) <= 7200
    assert soap(topo, port, "AddPortMapping", add_args(26021, 8021, lease=100000))[0] == 200
    assert 7100 < lease(26021, 1) <= 7200
    # v2: 0 is the maximum; above 604800 is invalid; AddPortMapping on v1's
    # URL does not know AddAnyPortMapping.
    assert soap(topo, port, "AddPortMapping", add_args(26022, 8022, lease=0), v=2)[0] == 200
    assert 7100 < lease(26022, 2) <= 7200
    assert soap(topo, port, "AddPortMapping", add_args(26023, 8023, lease=604801), v=2) == \
        (500, 402)
    assert soap(topo, port, "AddAnyPortMapping", add_args(26024, 8024)) == (500, 401)
    # AddAnyPortMapping: a taken port gives another one.
    st, r = soap(topo, port, "AddAnyPortMapping", add_args(26020, 8025, lease=60), v=2)
    assert st == 200 and int(r["NewReservedPort"]) != 26020, r
    # The same internal endpoint again: its mapping renewed, same port.
    st, r = soap(topo, port, "AddAnyPortMapping", add_args(0, 8025, lease=60), v=2)
    assert st == 200 and mapping_at(run_fcnat, bpffs, int(r["NewReservedPort"])), r
    # Wildcards: external port 0 for AddPortMapping, a remote host.
    assert soap(topo, port, "AddPortMapping", add_args(0, 8026)) == (500, 716)
    assert soap(topo, port, "AddPortMapping", add_args(26026, 8026, remote=EXT2)) == (500, 726)


def test_delete_range_v2(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs)
    port = http_port(topo)
    desc2 = "http://%s:%d/rootDesc2.xml" % (GW_LAN_ADDR, port)
    for i in range(3):
        out = upnpc(topo, "-u", desc2, "-a", CLIENT_ADDR, 8040 + i, 26040 + i, "UDP", 600)
        assert "is redirected" in out, out
    out = upnpc(topo, "-u", desc2, "-N", 26040, 26041, "UDP")
    assert "returned : 0" in out, out
    assert not mapping_at(run_fcnat, bpffs, 26040) and not mapping_at(run_fcnat, bpffs, 26041)
    assert mapping_at(run_fcnat, bpffs, 26042)
    args = [("NewStartPort", 26040), ("NewEndPort", 26041), ("NewProtocol", "UDP"),
            ("NewManage", 0)]
    assert soap(topo, port, "DeletePortMappingRange", args, v=2) == (500, 730)
    args[0] = ("NewStartPort", 26050)
    assert soap(topo, port, "DeletePortMappingRange", args, v=2) == (500, 733)


def test_shares_the_per_host_limit_with_natpmp(topo, fcnat, bpffs, run_fcnat):
    start(fcnat, bpffs, "--pcp-if", "lan0", "--pcp-max-per-host", "2")
    r = topo.client.run(["natpmpc", "-g", GW_LAN_ADDR, "-a", "26060", "8060", "udp", "600"],
                        check=False, timeout=30)
    assert r.returncode == 0, r
    port = http_port(topo)
    assert soap(topo, port, "AddPortMapping", add_args(26061, 8061))[0] == 200
    assert soap(topo, port, "AddPortMapping", add_args(26062, 8062), v=2) == (500, 728)
    owners = {m["external_port"]: m["owner"] for m in mappings(run_fcnat, bpffs)}
    assert owners.get(26060) == "pcp" and owners.get(26061) == "upnp", owners
    assert 26062 not in owners
    # The NAT-PMP mapping is in the same table: listed, and deleted by UPnP.
    st, r = soap(topo, port, "GetSpecificPortMappingEntry",
                 [("NewRemoteHost", ""), ("NewExternalPort", 26060), ("NewProtocol", "UDP")])
    assert st == 200 and r["NewInternalPort"] == "8060", r
    assert soap(topo, port, "DeletePortMapping",
                [("NewRemoteHost", ""), ("NewExternalPort", 26060), ("NewProtocol", "UDP")]) \
        == (200, {})
    assert 26060 not in {m["external_port"] for m in mappings(run_fcnat, bpffs)}


def test_transmission_forwards_its_peer_port(topo, fcnat, bpffs, run_fcnat, tmp_path):
    """A BitTorrent client as users run it: Debian's transmission-daemon
    (miniupnpc inside) with port forwarding on. It maps only through an IGD
    miniupnpc calls valid, so the gateway gets a public-looking address."""
    if not shutil.which("transmission-daemon"):
        pytest.skip("transmission-daemon is not installed (scripts/deps.sh installs it)")
    topo.gw.addr_add("wan0", "11.1.1.1/24")
    topo.gw.ip("addr", "del", GW_WAN_ADDR + "/24", "dev", "wan0")
    topo.ext.addr_add("wan0", "11.1.1.2/24")
    start(fcnat, bpffs)
    tr = topo.client.start(["transmission-daemon", "-f", "-g", str(tmp_path / "tr"), "-P", "25413",
                            "-m", "--log-info"], name="transmission")

    def forwarded():
        owners = {(m["proto"], m["external_port"]): (m["owner"], m["internal_addr"],
                                                     m["internal_port"])
                  for m in mappings(run_fcnat, bpffs)}
        return all(owners.get((p, 25413)) == ("upnp", CLIENT_ADDR, 25413) for p in ("tcp", "udp"))
    wait_until(forwarded, 30, interval=0.5, desc="transmission's UPnP mappings")
    # A peer outside, which the client never contacted, connects to it.
    c = topo.ext.tcp("11.1.1.2", 0)
    c.settimeout(5)
    c.connect(("11.1.1.1", 25413))
    c.close()
    # At shutdown transmission deletes what it mapped.
    tr.send_signal(signal.SIGTERM)
    wait_until(lambda: not [m for m in mappings(run_fcnat, bpffs) if m["owner"] == "upnp"], 30,
               interval=0.5, desc="the mappings deleted at transmission's exit")


# ---- SSDP ------------------------------------------------------------------------------

def test_ssdp_answers_and_announcements(topo, fcnat, bpffs):
    lst = topo.client.socket(socket.AF_INET, socket.SOCK_DGRAM, bind=("0.0.0.0", 1900),
                             reuse=True)
    mreq = struct.pack("4s4s", socket.inet_aton(SSDP[0]), socket.inet_aton(CLIENT_ADDR))
    lst.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    fc = start(fcnat, bpffs)

    def notifies(nts, want):
        got = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not want <= got:
            lst.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = lst.recv(4096).decode()
            except socket.timeout:
                break
            if data.startswith("NOTIFY") and header(data, "NTS") == nts:
                got.add(header(data, "NT"))
        return got

    want = {"upnp:rootdevice", "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
            "urn:schemas-upnp-org:device:InternetGatewayDevice:2", IPCONN % 1, IPCONN % 2,
            "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"}
    assert want <= notifies("ssdp:alive", want)

    every = msearch(topo, "ssdp:all", mx=1)
    sts = {header(a, "ST") for a in every}
    assert want <= sts, sts
    assert len(every) == 18, every	# 9 types of each root
    for a in every:
        assert a.startswith("HTTP/1.1 200 OK\r\n") and header(a, "EXT") == "", a
        assert header(a, "USN").startswith("uuid:"), a
    v1 = msearch(topo, "urn:schemas-upnp-org:device:InternetGatewayDevice:1")
    assert len(v1) == 1 and header(v1[0], "LOCATION").endswith("/rootDesc1.xml"), v1
    assert header(v1[0], "USN").endswith("::urn:schemas-upnp-org:device:InternetGatewayDevice:1")
    v2 = msearch(topo, IPCONN % 2)
    assert len(v2) == 1 and header(v2[0], "LOCATION").endswith("/rootDesc2.xml"), v2
    assert msearch(topo, "urn:schemas-upnp-org:device:Printer:1") == []

    # The descriptions name the services the control URLs serve.
    port = http_port(topo)
    for path, needle in (("/rootDesc1.xml", "<serviceType>%s</serviceType>" % IPCONN % 1),
                         ("/rootDesc2.xml", "<serviceType>%s</serviceType>" % IPCONN % 2),
                         ("/WANIPCn2.xml", "<name>AddAnyPortMapping</name>"),
                         ("/WANCfg.xml", "<name>GetCommonLinkProperties</name>")):
        ans = http(topo, port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode()).decode()
        assert ans.startswith("HTTP/1.1 200 OK") and needle in ans, (path, ans[:300])
    assert "AddAnyPortMapping" not in http(topo, port, b"GET /WANIPCn1.xml HTTP/1.1\r\n\r\n").decode()
    head, _, body = http(topo, port, b"HEAD /rootDesc1.xml HTTP/1.1\r\n\r\n").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and int(header(head.decode() + "\r\n",
                                                               "Content-Length")) > 500, head
    assert body == b"", body

    fc.stop()
    assert "upnp:rootdevice" in notifies("ssdp:byebye", {"upnp:rootdevice"})


def test_ssdp_from_outside_the_lan_gets_silence(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    # A unicast search to the gateway's external address: nothing listens there.
    s = topo.ext.udp(EXT2, 0)
    s.sendto(b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nMX: 1\r\n\r\n",
             (GW_WAN_ADDR, 1900))
    s.settimeout(1.5)
    with pytest.raises(socket.timeout):
        s.recvfrom(4096)


# ---- hostile input ---------------------------------------------------------------------

def test_malformed_requests_get_errors_or_silence(topo, fcnat, bpffs):
    fc = start(fcnat, bpffs)
    port = http_port(topo)
    bad_ssdp = [b"", b"\x00" * 100, b"M-SEARCH * HTTP/1.1\r\n" + b"X: " + b"a" * 3000 + b"\r\n\r\n",
                b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMX: 1\r\n\r\n",        # no MAN
                b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nMX: x\r\n\r\n",
                b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\n\r\n",  # no MX
                b"NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n",
                bytes(range(256)) * 4]
    for raw in bad_ssdp:
        assert msearch(topo, None, raw=raw, wait=0.7) == [], raw[:60]

    def status(ans):
        return int(ans.split(b" ", 2)[1]) if ans else None

    big = b"GET /rootDesc1.xml HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"y" * 100)
                                                       for i in range(60)) + b"\r\n"
    assert status(http(topo, port, big)) in (413, 431)
    assert status(http(topo, port, b"GET /rootDesc1.xml HTTP/1.1\r\nX: " + b"z" * 20000)) == 431
    assert status(http(topo, port, b"garbage\r\n\r\n")) == 400
    assert status(http(topo, port, b"GET / HTTP/1.1\r\n folded\r\n\r\n")) == 400
    assert status(http(topo, port, b"GET /nothing HTTP/1.1\r\n\r\n")) == 404
    assert status(http(topo, port, b"DELETE /rootDesc1.xml HTTP/1.1\r\n\r\n")) == 405
    assert status(http(topo, port, b"POST /ctl/IPConn1 HTTP/1.1\r\nContent-Length: 99999\r\n\r\n")) == 413
    assert status(http(topo, port, b"POST /ctl/IPConn1 HTTP/1.1\r\nTransfer-Encoding: chunked"
                                   b"\r\n\r\n0\r\n\r\n")) == 501
    # SOAP: bad XML, a DTD (no entity expansion), a wrong action, a header
    # that disagrees with the body, bad argument values.
    for body in (b"<s:Envelope><s:Body><u:GetStatusInfo", b"not xml at all",
                 b'<!DOCTYPE x [<!ENTITY a "aaaa">]><s:Envelope xmlns:s="x"><s:Body>'
                 b'<u:GetStatusInfo xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"/>'
                 b'</s:Body></s:Envelope>',
                 b"<a>" * 100 + b"</a>" * 100):
        req = (b"POST /ctl/IPConn1 HTTP/1.1\r\nSOAPACTION: \"urn:schemas-upnp-org:service:"
               b"WANIPConnection:1#GetStatusInfo\"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        ans = http(topo, port, req)
        assert status(ans) == 500 and b"<errorCode>401</errorCode>" in ans, ans
    assert soap(topo, port, "Reboot") == (500, 401)
    assert soap(topo, port, "GetStatusInfo", svc=IPCONN % 2) == (500, 401)  # v2 on v1's URL
    assert soap(topo, port, "AddPortMapping", add_args("70000", 8080)) == (500, 402)
    assert soap(topo, port, "AddPortMapping", add_args(26070, 8080, proto="ICMP")) == (500, 402)
    assert soap(topo, port, "AddPortMapping", add_args(26070, 8080, client="not-an-ip")) == (500, 402)
    assert soap(topo, port, "AddPortMapping", add_args(26070, 8080, desc="&#0;")) == (500, 401)
    assert soap(topo, port, "GetGenericPortMappingEntry", [("NewPortMappingIndex", 5)]) == (500, 713)
    assert daemon_serves(topo, fc, port)


def test_connection_caps_and_slow_clients(topo, fcnat, bpffs):
    fc = start(fcnat, bpffs)
    port = http_port(topo)
    # Four connections per host: a fifth is closed unanswered.
    held = []
    for _ in range(4):
        c = topo.client.tcp(CLIENT_ADDR, 0)
        c.connect((GW_LAN_ADDR, port))
        c.sendall(b"GET /rootDesc1.xml HTTP/1.1\r\n")    # never finished
        held.append(c)
    assert http(topo, port, b"GET /rootDesc1.xml HTTP/1.1\r\n\r\n") == b""
    # Another host is not held up by them.
    ans = http(topo, port, b"GET /rootDesc1.xml HTTP/1.1\r\n\r\n", src=CLIENT2_ADDR)
    assert ans.startswith(b"HTTP/1.1 200 OK"), ans
    # The slow ones are closed by the server after its timeout.
    for c in held:
        c.settimeout(15)
        assert c.recv(100) == b""
        c.close()
    assert daemon_serves(topo, fc, port)


# ---- GENA ------------------------------------------------------------------------------

def receive_event(lst, timeout=10):
    """Accept one NOTIFY on lst; its headers (lower-case names) and body."""
    lst.settimeout(timeout)
    conn, _ = lst.accept()
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        b = conn.recv(4096)
        assert b, data
        data += b
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    while len(body) < int(hdrs["content-length"]):
        body += conn.recv(4096)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    conn.close()
    return lines[0], hdrs, body.decode()


def subscribe(topo, port, path, callback=None, sid=None, src=CLIENT_ADDR):
    hdr = "SID: %s\r\n" % sid if sid else \
        "CALLBACK: <%s>\r\nNT: upnp:event\r\n" % callback
    ans = http(topo, port, ("SUBSCRIBE %s HTTP/1.1\r\nHOST: %s:%d\r\n%sTIMEOUT: Second-600\r\n\r\n"
                            % (path, GW_LAN_ADDR, port, hdr)).encode(), src=src).decode()
    return int(ans.split(" ", 2)[1]), header(ans, "SID"), header(ans, "TIMEOUT")


def test_gena_events_of_mappings_and_the_external_address(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    port = http_port(topo)
    lst = topo.client.tcp(CLIENT_ADDR, 4700)
    lst.listen(4)
    st, sid, timeout = subscribe(topo, port, "/evt/IPConn1", "http://%s:4700/ev" % CLIENT_ADDR)
    assert st == 200 and sid.startswith("uuid:") and timeout == "Second-600", (st, sid)
    line, h, body = receive_event(lst)
    assert line == "NOTIFY /ev HTTP/1.1" and h["sid"] == sid and h["seq"] == "0", (line, h)
    assert h["nt"] == "upnp:event" and h["nts"] == "upnp:propchange", h
    assert "<ExternalIPAddress>%s</ExternalIPAddress>" % GW_WAN_ADDR in body, body
    assert "<PortMappingNumberOfEntries>0<" in body, body

    upnpc(topo, "-a", CLIENT_ADDR, 8085, 26085, "UDP", 600)
    _, h, body = receive_event(lst)
    assert h["seq"] == "1" and "<PortMappingNumberOfEntries>1<" in body, (h, body)

    # A new external address is announced, as NAT-PMP/PCP announce theirs.
    topo.gw.addr_add("wan0", "11.1.1.1/24")
    topo.gw.ip("addr", "del", GW_WAN_ADDR + "/24", "dev", "wan0")
    _, h, body = receive_event(lst, timeout=15)
    assert "<ExternalIPAddress>11.1.1.1</ExternalIPAddress>" in body, body

    # Renewal keeps the SID; unsubscribing ends it; an unknown SID is 412.
    assert subscribe(topo, port, "/evt/IPConn1", sid=sid)[:2] == (200, sid)
    ans = http(topo, port, ("UNSUBSCRIBE /evt/IPConn1 HTTP/1.1\r\nSID: %s\r\n\r\n" % sid).encode())
    assert ans.startswith(b"HTTP/1.1 200"), ans
    assert subscribe(topo, port, "/evt/IPConn1", sid=sid)[0] == 412


def test_gena_callback_only_to_the_subscriber(topo, fcnat, bpffs):
    start(fcnat, bpffs)
    port = http_port(topo)
    # The gateway never connects to another host for a client (no SSRF).
    assert subscribe(topo, port, "/evt/IPConn1", "http://%s:80/x" % EXT2)[0] == 412
    assert subscribe(topo, port, "/evt/IPConn1", "http://%s:80/x" % CLIENT2_ADDR)[0] == 412
    assert subscribe(topo, port, "/evt/IPConn1", "ftp://%s/x" % CLIENT_ADDR)[0] == 412
    assert subscribe(topo, port, "/evt/Nothing", "http://%s:80/x" % CLIENT_ADDR)[0] == 404
    # Four subscriptions per host.
    codes = [subscribe(topo, port, "/evt/IPConn2", "http://%s:9/x" % CLIENT_ADDR)[0]
             for _ in range(5)]
    assert codes == [200] * 4 + [503], codes


# ---- command line ----------------------------------------------------------------------

def test_upnp_if_errors_attach_nothing(topo, run_fcnat, bpffs):
    r = run_fcnat("-i", "wan0", "--bpffs", bpffs, "--upnp-if", "nosuch0")
    assert r.returncode == 1 and "--upnp-if: no such interface: nosuch0" in r.stderr, r
    r = run_fcnat("-i", "wan0", "--bpffs", bpffs, "--upnp-if", "wan0")
    assert r.returncode == 2 and "--upnp-if: wan0 is the external interface" in r.stderr, r
    assert "fcnat" not in topo.gw.run(["tc", "filter", "show", "dev", "wan0", "ingress"]).stdout
    assert not topo.gw.listening(1900, proto="udp")
