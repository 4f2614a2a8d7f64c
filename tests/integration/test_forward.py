"""Static forwards (--forward): permanent, endpoint-independent mappings."""

import json
import socket

import pytest

from fcnat_util import recv_matching
from netns import CLIENT_ADDR, EXT_ADDRS, GW_WAN_ADDR, wait_until

EXT2, EXT3, EXT4 = EXT_ADDRS


def test_static_udp_and_tcp_forwards_reach_internal_listeners(topo, fcnat, bpffs, run_fcnat,
                                                             datapath):
    fcnat("-i", "wan0", "--bpffs", bpffs, "--timeout-udp", "1", "--timeout-tcp-trans", "1",
          *datapath,
          "--forward", "udp:25050=%s:8080" % CLIENT_ADDR, "tcp:25050=%s:8081" % CLIENT_ADDR)  # TCP and UDP: separate spaces
    u = topo.client.udp(CLIENT_ADDR, 8080)
    lst = topo.client.tcp(CLIENT_ADDR, 8081)
    lst.listen(1)

    # Any outside host reaches the UDP listener, with no outbound packet first.
    far = topo.ext.udp(EXT4, 9000)
    far.sendto(b"to the forward", (GW_WAN_ADDR, 25050))
    assert recv_matching(u, b"to the forward", 3) == (EXT4, 9000)
    # The answer leaves through the same external port (EIM).
    u.sendto(b"answer", (EXT4, 9000))
    assert recv_matching(far, b"answer", 3) == (GW_WAN_ADDR, 25050)

    # TCP too.
    c = topo.ext.tcp(EXT3, 0)
    c.connect((GW_WAN_ADDR, 25050))
    conn, peer = lst.accept()
    assert peer[0] == EXT3
    c.sendall(b"hello over tcp")
    assert conn.recv(100) == b"hello over tcp"
    conn.sendall(b"and back")
    assert c.recv(100) == b"and back"

    # Listed as static, and never expired: timeouts are 1 s, the sweeper
    # runs every second; poll until its sessions are gone, the mapping stays.
    def mappings():
        r = run_fcnat("show", "mappings", "--json", "--bpffs", bpffs)
        assert r.returncode == 0, repr(r)
        return json.loads(r.stdout)

    def sessions():
        r = run_fcnat("show", "sessions", "--proto", "udp", "--json", "--bpffs", bpffs)
        assert r.returncode == 0, repr(r)
        return json.loads(r.stdout)

    statics = {(m["proto"], m["external_port"], m["internal_port"]) for m in mappings()
               if m["static"]}
    assert statics == {("udp", 25050, 8080), ("tcp", 25050, 8081)}
    wait_until(lambda: not sessions(), 15, desc="UDP sessions of the forward expire")
    far2 = topo.ext.udp(EXT2, 9001)
    far2.sendto(b"still there", (GW_WAN_ADDR, 25050))
    assert recv_matching(u, b"still there", 3) == (EXT2, 9001)


@pytest.mark.parametrize("spec,why", [
    ("udp:30000=192.168.77.2:80", "outside"),
    ("sctp:25000=192.168.77.2:80", "invalid forward"),
    ("udp:25000=192.168.77.2", "invalid forward"),
    ("udp:25010-25000=192.168.77.2:80", "invalid forward"),
    ("udp:25000=[192.168.77.2]:80", "invalid forward"),
    ("udp:25000=fd00:77::2:80", "invalid forward"),
    ("udp:25000=[::]:80", "invalid forward"),
])
def test_bad_forward_is_a_usage_error(run_fcnat, spec, why):
    r = run_fcnat("-i", "wan0", "--forward", spec)
    assert r.returncode == 2, repr(r)
    assert why in r.stderr and spec.split("=")[0] in r.stderr, r.stderr


@pytest.mark.parametrize("args,why", [
    ([], "needs --nat64"),
    (["--nat64", "--hairpin-if", "lan0", "--nat64-pool4", "203.0.113.8/30"],
     "not port-mapped with --nat64-pool4"),
    (["--nat64", "--hairpin-if", "lan0", "--nat64-static", "fd00:77::2=203.0.113.20"],
     "already published by --nat64-static"),
    (["--nat64", "--hairpin-if", "lan0", "--nat64-allow", "fd00:78::/64"],
     "outside --nat64-allow"),
])
def test_forward_to_an_ipv6_server_refused_where_nat64_cannot_port_map_it(run_fcnat, args, why):
    r = run_fcnat("-i", "wan0", "--forward", "udp:25000=[fd00:77::2]:80", *args)
    assert r.returncode == 2, repr(r)
    assert why in r.stderr and "udp:25000" in r.stderr, r.stderr


def test_forward_to_an_address_under_the_nat64_prefix_refused(run_fcnat):
    r = run_fcnat("-i", "wan0", "--nat64", "--hairpin-if", "lan0",
                  "--forward", "udp:25000=[64:ff9b::c000:202]:80")
    assert r.returncode == 2 and "under the NAT64 prefix" in r.stderr, repr(r)


def test_colliding_forwards_are_refused(run_fcnat):
    r = run_fcnat("-i", "wan0", "--forward", "udp:25000-25002=192.168.77.2:80",
                  "udp:25002=192.168.77.3:80")
    assert r.returncode == 2 and "same external port" in r.stderr, repr(r)
    r = run_fcnat("-i", "wan0", "--forward", "udp:25000=192.168.77.2:80",
                  "udp:25001=192.168.77.2:80")
    assert r.returncode == 2 and "same internal endpoint" in r.stderr, repr(r)
