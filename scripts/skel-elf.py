#!/usr/bin/env python3
"""Put another BPF object into a libbpf skeleton: skel-elf.py OBJ < SKEL > SKEL2.

Debian 12's bpftool (libbpf 1.1) refuses to open an object of the other byte
order ("Endian mismatch"), so a big-endian cross build (make ARCH=s390x)
makes its skeletons from the little-endian build of the same sources and
embeds its own big-endian object instead: the names of maps, programs and
variables and the sizes of the data sections do not depend on byte order
(the skeleton's _Static_asserts check the sizes with the target's compiler),
only the object's bytes do. mk/cross.mk.
"""
import re
import sys


def c_string(data):
    """The object as bpftool writes it: a string literal, "\\xNN" escapes,
    continued lines of 78 columns."""
    out = ['"\\\n']
    line = ""
    for b in data:
        line += "\\x%02x" % b
        if len(line) >= 76:
            out.append(line + "\\\n")
            line = ""
    out.append(line + '"')
    return "".join(out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    obj = open(sys.argv[1], "rb").read()
    if obj[:4] != b"\x7fELF":
        sys.exit("skel-elf.py: %s is not an ELF object" % sys.argv[1])
    skel = sys.stdin.read()
    # static inline const void *NAME__elf_bytes(size_t *sz)
    # {
    # 	*sz = N;
    # 	return (const void *)"\
    # ...";
    # }
    pat = re.compile(r'(__elf_bytes\(size_t \*sz\)\n\{\n\t\*sz = )(\d+)(;\n\treturn \(const void \*\))'
                     r'"\\\n.*?";\n\}', re.S)
    found = pat.findall(skel)
    if len(found) != 1:
        sys.exit("skel-elf.py: no single embedded object in the skeleton (bpftool's format changed?)")
    new = pat.sub(lambda m: m.group(1) + str(len(obj)) + m.group(3) + c_string(obj) + ";\n}", skel)
    sys.stdout.write(new)


if __name__ == "__main__":
    main()
