#!/usr/bin/env python3
"""Check that the datapath's packet headers have wire layout in both byte orders.

Compiles tests/bpf/hdr_layout.bpf.c (globals initialised through the
bitfields of bpf/lib/hdr.h) for bpfel and bpfeb and compares each global's
bytes in .data with the bytes RFC 791/8200/9293/792/4443 put on the wire.
A bitfield declared in the host's order instead of the target's shows as a
swapped nibble (0x54 where IPv4 needs 0x45), with no big-endian machine.
With --also SRC..., those sources are built for both orders too (into
OUTDIR), so a change that builds only for the host's order is caught.
usage: bpf-layout-check.py [--clang CLANG] [--outdir DIR] [--also SRC...] -- CFLAGS...
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "..", "tests", "bpf", "hdr_layout.bpf.c")


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


# symbol -> the bytes it must hold (IPv6 and TCP carry their ports and
# lengths too, so a wrong bpf_htons shows as well).
WANT = {
    "lay_ip": h("45 00 1234 0000 0000 40 01 0000 00000000 00000000"),
    "lay_ip6": h("6a 000000 0102 3a 00") + bytes(32),
    "lay_tcp_syn_ack": h("0050 0000 01020304 00000000 50 12 0000 0000 0000"),
    "lay_tcp_fin_rst_psh": h("0000 0000 00000000 00000000 f1 0d 0000 0000 0000"),
    "lay_tcp_urg_ece_cwr": h("0000 0000 00000000 00000000 60 e0 0000 0000 0000"),
    "lay_icmp": h("03 04 0000 0000 05c8"),
    "lay_icmp6": h("80 00 0000 beef 0000"),
}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(" ".join(cmd) + "\n" + r.stderr)
    return r.stdout


def symbols(obj):
    """name -> (offset, size) of the .data objects."""
    out = {}
    for line in run(["llvm-objdump", "-t", obj]).splitlines():
        f = line.split()
        if len(f) == 6 and f[2] == "O" and f[3] == ".data":
            out[f[5]] = (int(f[0], 16), int(f[4], 16))
    return out


def data(obj, tmp):
    path = os.path.join(tmp, "data.bin")
    run(["llvm-objcopy", "--dump-section", ".data=" + path, obj, os.path.join(tmp, "x.o")])
    with open(path, "rb") as f:
        return f.read()


def main(argv):
    clang, outdir, also = "clang", None, []
    while argv and argv[0] != "--":
        if argv[0] == "--clang":
            clang, argv = argv[1], argv[2:]
        elif argv[0] == "--outdir":
            outdir, argv = argv[1], argv[2:]
        elif argv[0] == "--also":
            argv = argv[1:]
            while argv and not argv[0].startswith("--"):
                also.append(argv[0])
                argv = argv[1:]
        else:
            print(__doc__.strip().splitlines()[-1], file=sys.stderr)
            return 2
    cflags = argv[1:]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for target in ("bpfel", "bpfeb"):
            obj = os.path.join(tmp, f"layout_{target}.o")
            # The last -target wins, whatever CFLAGS carried.
            run([clang] + cflags + ["-target", target, "-c", PROBE, "-o", obj])
            syms, raw = symbols(obj), data(obj, tmp)
            wrong = 0
            for name, want in WANT.items():
                off, size = syms[name]
                got = raw[off:off + size]
                if got != want:
                    wrong += 1
                    print(f"{target}: {name}: got {got.hex(' ')}, want {want.hex(' ')}")
            print(f"{target}: header layouts {'WRONG' if wrong else 'ok'}")
            bad += wrong
            for src in also:
                if outdir is None:
                    raise SystemExit("--also needs --outdir")
                os.makedirs(os.path.join(outdir, target), exist_ok=True)
                out = os.path.join(outdir, target,
                                   os.path.basename(src).replace(".bpf.c", ".bpf.o"))
                run([clang] + cflags + ["-target", target, "-c", src, "-o", out])
                print(f"{target}: built {out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
