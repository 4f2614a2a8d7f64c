#!/usr/bin/env python3
"""Deepest BPF stack per program, as kernels before 6.9 count it.

Those kernels (Debian 12's 6.1 among them) round every frame of a call
chain (programs, BPF-to-BPF calls, bpf_loop callbacks) up to 32 bytes, an
empty frame counting 32, and refuse a chain over 512 bytes ("combined stack
size of N calls is M. Too large"); newer kernels round JITed frames to 16.
This reads the object with llvm-objdump and prints each program's deepest
chain, so a build can fail before any kernel sees it.
usage: bpf-stack-depth.py [-q] [--max 512] OBJ...   (exit 1 when a chain is over;
       -q: print only those)
"""
import re
import subprocess
import sys

LIMIT = 512


def functions(obj):
    """name -> (section, offset, size) for every function symbol."""
    out = subprocess.run(["llvm-objdump", "-t", obj], capture_output=True, text=True,
                         check=True).stdout
    funcs = {}
    for line in out.splitlines():
        m = re.match(r"([0-9a-f]+)\s+([lg])\s+F\s+(\S+)\s+([0-9a-f]+)\s+(\S+)$", line)
        if m:
            funcs[m.group(5)] = (m.group(3), int(m.group(1), 16), int(m.group(4), 16))
    return funcs


def scan(obj, funcs):
    """name -> (stack bytes, set of callees)"""
    out = subprocess.run(["llvm-objdump", "-dr", "--no-show-raw-insn", obj],
                         capture_output=True, text=True, check=True).stdout
    by_start = {}
    for name, (sec, off, _size) in funcs.items():
        by_start[(sec, off)] = name
    info = {name: [0, set()] for name in funcs}
    section = None
    cur = None
    last_insn = None
    fp_copies = set()
    for line in out.splitlines():
        m = re.match(r"Disassembly of section (\S+):", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"([0-9a-f]+) <(\S+)>:", line)
        if m and m.group(2) in funcs:
            cur = m.group(2)
            continue
        if cur is None:
            continue
        # (A relocation's offset may be all decimal digits: not an insn.)
        m = re.match(r"\s*(\d+):\s+(.*)$", line)
        if m and "R_BPF_" not in line:
            idx, text = int(m.group(1)), m.group(2)
            last_insn = (idx, text)
            for d in re.findall(r"r10 - (\d+)", text):
                info[cur][0] = max(info[cur][0], int(d))
            # Stack buffers passed to helpers: rX = r10; rX += -N.
            m2 = re.match(r"(r\d+) = r10$", text.strip())
            if m2:
                fp_copies.add(m2.group(1))
            m2 = re.match(r"(r\d+) \+= -(\d+)$", text.strip())
            if m2 and m2.group(1) in fp_copies:
                info[cur][0] = max(info[cur][0], int(m2.group(2)))
                fp_copies.discard(m2.group(1))
            c = re.match(r"call (-?\d+)$", text.strip())
            if c and c.group(1) != "-1":
                # A pc-relative call with no relocation: same section.
                target = (section, (idx + int(c.group(1)) + 1) * 8)
                if target in by_start:
                    info[cur][1].add(by_start[target])
            continue
        r = re.match(r"\s*[0-9a-f]+:\s+R_BPF_64_(32|64)\s+(\S+)", line)
        if r and last_insn:
            sym = r.group(2)
            c = re.match(r"call (-?\d+)$", last_insn[1].strip())
            if r.group(1) == "32" and sym in funcs:
                info[cur][1].add(sym)
            elif r.group(1) == "32" and sym.startswith(".text") and c:
                # A static function of .text called from another section:
                # the immediate is its instruction index there, minus one.
                target = (".text", (int(c.group(1)) + 1) * 8)
                if target in by_start:
                    info[cur][1].add(by_start[target])
            elif r.group(1) == "64":
                imm = re.search(r"= (-?\d+) ll", last_insn[1])
                if sym in funcs and funcs[sym][0] == ".text" and imm is None:
                    info[cur][1].add(sym)
                elif sym.startswith(".text") and imm:
                    target = (".text", int(imm.group(1)))
                    if target in by_start:     # a bpf_loop callback
                        info[cur][1].add(by_start[target])
    return info


def frame(n):
    return (max(n, 1) + 31) // 32 * 32


def deepest(name, info, seen=()):
    stack, callees = info[name]
    best, chain = 0, []
    for c in callees:
        if c in seen:
            continue
        d, ch = deepest(c, info, seen + (name,))
        if d > best:
            best, chain = d, ch
    return frame(stack) + best, ["%s(%d)" % (name, frame(stack))] + chain


def main(argv):
    limit = LIMIT
    quiet = argv[:1] == ["-q"]
    if quiet:
        argv = argv[1:]
    if argv[:1] == ["--max"]:
        limit, argv = int(argv[1]), argv[2:]
    bad = 0
    for obj in argv:
        funcs = functions(obj)
        info = scan(obj, funcs)
        for name, (sec, _off, _size) in sorted(funcs.items()):
            if sec == ".text":
                continue
            depth, chain = deepest(name, info)
            over = depth > limit
            bad |= over
            if quiet and not over:
                continue
            print("%s %s: %d bytes%s  %s" % (obj, name, depth, "  OVER %d" % limit if over else "",
                                             " > ".join(chain)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
