#!/usr/bin/env python3
"""Count the CO-RE relocations of BPF objects; fail when any has one.

A CO-RE relocation (a field offset, type size or enum value clang left for
libbpf to fix from the running kernel's BTF) makes the object need
/sys/kernel/btf/vmlinux on the target: OpenWrt's kernels and many router
kernels have none. fcnat's datapath uses UAPI layouts only, so its objects
must carry zero. The count is read from the .BTF.ext section's CO-RE
relocation table (header: magic 0xeB9F, version, flags, hdr_len, func_info
off/len, line_info off/len, then core_relo off/len when hdr_len >= 32), in
the object's own byte order, so big-endian (bpfeb) objects read right too.
usage: bpf-core-relocs.py [--max N] OBJ...   (exit 1 when an object has more
       than N, default 0; prints one line per object)
"""
import os
import struct
import subprocess
import sys
import tempfile


def btf_ext(obj):
    """The raw .BTF.ext section of obj, or None when it has none."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "btf.ext")
        r = subprocess.run(["llvm-objcopy", "--dump-section", ".BTF.ext=" + out, obj,
                            os.path.join(tmp, "obj")], capture_output=True, text=True)
        if r.returncode != 0:
            if "not found" in r.stderr:
                return None
            raise RuntimeError(f"{obj}: llvm-objcopy: {r.stderr.strip()}")
        with open(out, "rb") as f:
            return f.read()


def core_relos(data):
    """Number of CO-RE relocation records in a .BTF.ext section."""
    if len(data) < 8:
        raise ValueError("short .BTF.ext")
    for order in ("<", ">"):
        if struct.unpack_from(order + "H", data, 0)[0] == 0xEB9F:
            break
    else:
        raise ValueError("bad .BTF.ext magic")
    hdr_len = struct.unpack_from(order + "I", data, 4)[0]
    if hdr_len < 32:
        return 0  # written before CO-RE existed: no table
    relo_off, relo_len = struct.unpack_from(order + "II", data, 24)
    if relo_len == 0:
        return 0
    pos = hdr_len + relo_off
    end = pos + relo_len
    rec_size = struct.unpack_from(order + "I", data, pos)[0]
    pos += 4
    count = 0
    while pos < end:
        _sec, n = struct.unpack_from(order + "II", data, pos)
        pos += 8 + n * rec_size
        count += n
    if pos != end:
        raise ValueError("malformed CO-RE relocation table")
    return count


def main(argv):
    limit = 0
    if len(argv) > 1 and argv[0] == "--max":
        limit = int(argv[1])
        argv = argv[2:]
    if not argv:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    bad = 0
    for obj in argv:
        data = btf_ext(obj)
        n = core_relos(data) if data is not None else 0
        verdict = "ok" if n <= limit else "FAIL"
        print(f"{obj}: {n} CO-RE relocations {verdict}")
        if n > limit:
            bad += 1
    if bad:
        print(f"bpf-core-relocs: {bad} object(s) need kernel BTF (CO-RE); "
              "use UAPI layouts (bpf/lib/hdr.h), not preserve_access_index",
              file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
