#!/usr/bin/env python3
"""Writes the PCP seeds of tests/fuzz/corpus/pcp/ (RFC 6887 §7, §11-§13).

The natpmpc-* seeds beside them are what the real `natpmpc` sent, captured
on a loopback socket; these are PCP requests built field by field:
    python3 tests/fuzz/pcp_corpus.py tests/fuzz/corpus/pcp
"""
import socket
import struct
import sys
import os

CLIENT = "192.168.77.2"
UDP, TCP = 17, 6


def mapped(addr):
    return b"\0" * 10 + b"\xff\xff" + socket.inet_aton(addr)


def header(opcode, lifetime, version=2):
    return struct.pack("!BBHI", version, opcode, 0, lifetime) + mapped(CLIENT)


def option(code, data=b""):
    return struct.pack("!BxH", code, len(data)) + data + b"\0" * (-len(data) % 4)


def map_req(proto, port, lifetime, suggested=0, sugg_addr=None, options=b""):
    return (header(1, lifetime) + b"N" * 12 + struct.pack("!B3xHH", proto, port, suggested)
            + (mapped(sugg_addr) if sugg_addr else b"\0" * 16) + options)


def peer_req(proto, port, lifetime, peer, peer_port, options=b""):
    return (header(2, lifetime) + b"P" * 12 + struct.pack("!B3xHH", proto, port, 0)
            + b"\0" * 16 + struct.pack("!H2x", peer_port) + mapped(peer) + options)


SEEDS = {
    "pcp-announce": header(0, 0),
    "pcp-map-udp": map_req(UDP, 8080, 3600, 25200),
    "pcp-map-tcp-suggested-addr": map_req(TCP, 8081, 600, 25201, "198.51.100.1"),
    "pcp-map-delete": map_req(UDP, 8080, 0),
    "pcp-map-delete-all": map_req(0, 0, 0),
    "pcp-map-third-party": map_req(UDP, 8085, 600, options=option(1, mapped("192.168.77.3"))),
    "pcp-map-prefer-failure": map_req(TCP, 8082, 600, 25202, options=option(2)),
    "pcp-map-filter": map_req(UDP, 8080, 600, options=option(3, struct.pack("!xBH", 32, 9000)
                                                             + mapped("198.51.100.2"))),
    "pcp-map-all-options": map_req(UDP, 8086, 600, 25206, options=option(1, mapped("192.168.77.3"))
                                   + option(2) + option(200, b"skip me")),
    "pcp-peer": peer_req(UDP, 8091, 600, "198.51.100.2", 9091),
    "pcp-peer-third-party": peer_req(TCP, 8092, 0, "198.51.100.3", 443,
                                     option(1, mapped("192.168.77.3"))),
    "pcp-version-1": header(1, 0, version=1)[:8],
    # What a read of an oversized datagram hands the parser: 1104 bytes.
    "pcp-oversized": header(0, 0) + b"\0" * 1080,
    "natpmp-oversized-bad-opcode": b"\0\x03" + b"\0" * 1102,
}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                             "corpus", "pcp")
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
