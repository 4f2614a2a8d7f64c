#!/usr/bin/python3
"""Capture ctnetlink seeds for tests/fuzz/lf_ctnetlink.c: what the kernel
really sends `fcnat offload`. In a fresh network namespace (root needed):
a UDP and a TCP flow through masquerade and a DNAT, then a dump of the
conntrack table and the events of the flows' life, each receive buffer
into tests/fuzz/corpus/ctnetlink/<name>. With --acct, conntrack's
accounting is on (net.netfilter.nf_conntrack_acct=1: the entries carry
CTA_COUNTERS_ORIG/REPLY) and the seeds are named acct-<name>.

    /usr/bin/python3 tests/fuzz/ct_corpus.py [--acct] [OUTDIR]
"""

import ctypes
import os
import socket
import struct
import subprocess
import sys
import time

NETLINK_NETFILTER = 12
IPCTNL_MSG_CT_GET = 1
NFNL_SUBSYS_CTNETLINK = 1
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
GROUPS = 0x7  # NFNLGRP_CONNTRACK_NEW | UPDATE | DESTROY

SETUP = """
set -e
ip link add a0 type veth peer name a1
ip link set a0 up; ip link set a1 up; ip link set lo up
ip addr add 10.0.0.1/24 dev a0
ip addr add 10.0.0.2/24 dev a1
nft -f - <<'NFT'
table ip t {
  chain post { type nat hook output priority 100; udp dport 9000 dnat to 10.0.0.2:9001; }
  chain out { type nat hook postrouting priority 100; oifname "a0" masquerade; }
}
NFT
"""


def main():
    args = sys.argv[1:]
    acct = "--acct" in args
    args = [a for a in args if a != "--acct"]
    prefix = "acct-" if acct else ""
    out = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "ctnetlink")
    os.makedirs(out, exist_ok=True)
    if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) != 0:  # CLONE_NEWNET
        sys.exit("unshare: %s" % os.strerror(ctypes.get_errno()))
    subprocess.run(["sh", "-c", SETUP], check=True)
    if acct:
        subprocess.run(["sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"], check=True)
    ev = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    ev.bind((0, GROUPS))
    # Traffic: a UDP exchange through the DNAT, a TCP connection and close.
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("10.0.0.2", 9001))
    cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cli.bind(("10.0.0.1", 0))
    cli.sendto(b"x", ("10.0.0.2", 9000))
    _, peer = srv.recvfrom(10)
    srv.sendto(b"y", peer)
    cli.recvfrom(10)
    ls = socket.socket()
    ls.bind(("10.0.0.2", 9100))
    ls.listen(1)
    c = socket.create_connection(("10.0.0.2", 9100))
    a, _ = ls.accept()
    c.sendall(b"z")
    a.recv(1)
    # The dump, while the TCP entry is established.
    d = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    req = struct.pack("=BBH", socket.AF_INET, 0, 0)
    hdr = struct.pack("=LHHLL", 16 + len(req), NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET,
                      NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    d.send(hdr + req)
    n = 0
    while True:
        buf = d.recv(65536)
        open(os.path.join(out, "%sdump-%d" % (prefix, n)), "wb").write(buf)
        n += 1
        if struct.unpack_from("=H", buf, 4)[0] == 3:  # NLMSG_DONE
            break
    c.close()
    a.close()
    subprocess.run(["conntrack", "-F"], capture_output=True)
    time.sleep(0.2)
    ev.setblocking(False)
    n = 0
    while True:
        try:
            buf = ev.recv(65536)
        except BlockingIOError:
            break
        open(os.path.join(out, "%sevent-%d" % (prefix, n)), "wb").write(buf)
        n += 1
    print("seeds in", out)


if __name__ == "__main__":
    main()
