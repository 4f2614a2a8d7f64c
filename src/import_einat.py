#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""fcnat --import-einat: einat's config.toml (einat-ebpf 0.1.x) to fcnat.conf.

Usage: import-einat FILE [-o OUT] [--interface NAME]

The fcnat.conf goes to stdout (or OUT); every einat key with no fcnat
equivalent is named on stderr, one line each. fcnat runs one instance per
external interface: an einat file with several converts one of them (the
first, or --interface NAME) and names the others. Exit 0 on success, 2 when
the file cannot be read or is not einat's. fcnat also runs this itself for
`fcnat -c FILE.toml`, so einat's -c keeps working.

Only keys the file sets are written: where einat and fcnat defaults differ
(einat's ICMP ids 0-65535, fcnat's the --ports ranges), fcnat's apply.
"""

import re
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    sys.stderr.write("fcnat --import-einat: needs Python 3.11 or later (tomllib)\n")
    sys.exit(2)

PROG = "fcnat --import-einat"

# What fcnat does instead, for keys without an equivalent.
NO_EQUIVALENT = {
    "icmp_in_ranges": "fcnat maps ICMP queries outbound only, inbound echo requests "
                      "are the gateway's",
    "icmp_out_ranges": "ICMP ids come from icmp-ids, else ports",
    "ipv4_local_rule_pref": "fcnat hairpins in its BPF programs, with no ip rules",
    "ipv6_local_rule_pref": "fcnat hairpins in its BPF programs, with no ip rules",
    "ipv4_hairpin_rule_pref": "fcnat hairpins in its BPF programs, with no ip rules",
    "ipv6_hairpin_rule_pref": "fcnat hairpins in its BPF programs, with no ip rules",
    "ipv4_hairpin_table_id": "fcnat hairpins in its BPF programs, with no routing table",
    "ipv6_hairpin_table_id": "fcnat hairpins in its BPF programs, with no routing table",
    "bpf_fib_lookup_external": "fcnat translates to the interface's address, or the pool",
    "allow_inbound_icmpx": "inbound ICMP queries are never mapped by fcnat",
    "timeout_fragment": "fcnat's fragment tracking has a fixed lifetime",
    "timeout_pkt_min": "fcnat's per-protocol timeouts are [timeouts] udp and icmp",
    "hairpin_dests": "fcnat hairpins traffic to its external addresses by itself",
    "prefer_tcx": "fcnat chooses how it attaches",
    "ct_max_records": "see max-sessions",
}

RANGE_KEYS = (("tcp_ranges", "tcp-ports"), ("udp_ranges", "udp-ports"),
              ("icmp_ranges", "icmp-ids"))

UNITS = {"ns": 1e-9, "us": 1e-6, "Ms": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600,
         "d": 86400, "w": 604800}


class Converter:
    def __init__(self):
        self.notes = []
        self.nat = []        # (key, value) of [nat]
        self.timeouts = []   # (key, value) of [timeouts]

    def note(self, where, why):
        self.notes.append("%s: %s" % (where, why))

    def set(self, key, value, section=None):
        lst = self.timeouts if section == "timeouts" else self.nat
        for i, (k, _) in enumerate(lst):
            if k == key:
                lst[i] = (key, value)
                return
        lst.append((key, value))

    def ranges(self, where, key, value):
        """A list of "FIRST-LAST" strings; [] means that protocol's NAT is off."""
        if not isinstance(value, list):
            raise ValueError("%s: expected a list of \"FIRST-LAST\" strings" % where)
        if not value:
            return "none"
        out = []
        for r in value:
            m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", str(r))
            if not m or int(m.group(1)) > int(m.group(2)) or int(m.group(2)) > 65535:
                raise ValueError("%s: invalid range %r" % (where, r))
            first, last = int(m.group(1)), int(m.group(2))
            if first == 0:
                # Port (and id) 0 is never handed out by fcnat.
                if last == 0:
                    continue
                first = 1
            out.append("%d-%d" % (first, last))
        return " ".join(out) if out else "none"

    def seconds(self, where, value):
        if isinstance(value, int):
            return max(value, 1)
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        if not m or (m.group(2) and m.group(2) not in UNITS):
            raise ValueError("%s: invalid duration %r" % (where, value))
        s = float(m.group(1)) * UNITS.get(m.group(2) or "s")
        return max(int(round(s)), 1)

    def defaults(self, d):
        for key, value in d.items():
            where = "[defaults] " + key
            opt = dict(RANGE_KEYS).get(key)
            if opt:
                self.set(opt, self.ranges(where, key, value))
            elif key in NO_EQUIVALENT:
                self.note(where, "no equivalent: %s" % NO_EQUIVALENT[key])
            else:
                self.note(where, "unknown einat key, ignored")

    def interface(self, i, idx):
        where_if = "interfaces[%d]" % idx
        name = i.get("if_name")
        if name is None:
            raise ValueError("%s: no if_name (fcnat names interfaces; if_index alone "
                             "cannot be converted)" % where_if)
        self.set("ifname", name)
        hairpin = []
        for key, value in i.items():
            where = "%s (%s) %s" % (where_if, name, key)
            if key == "if_name":
                continue
            if key == "if_index":
                self.note(where, "no equivalent: fcnat uses if_name")
            elif key in ("nat44", "nat66"):
                self.set(key, "true" if value else "false")
            elif key == "bpf_log_level":
                self.set("bpf-log", str(int(value)))
            elif key == "bpf_loader":
                self.set("bpf-loader", str(value))
            elif key == "snat_internals":
                if value:
                    self.set("internal", " ".join(str(v) for v in value))
            elif key == "no_snat_dests":
                if value:
                    self.set("exclude", " ".join(str(v) for v in value))
            elif key == "timeout_pkt_default":
                self.set("udp", str(self.seconds(where, value)), "timeouts")
            elif key == "timeout_tcp_trans":
                self.set("tcp-trans", str(self.seconds(where, value)), "timeouts")
            elif key == "timeout_tcp_est":
                self.set("tcp-est", str(self.seconds(where, value)), "timeouts")
            elif key in ("ipv4_hairpin_route", "ipv6_hairpin_route"):
                self.hairpin_route(where, value, hairpin)
            elif key == "default_externals":
                if not value:
                    self.note(where, "no equivalent: fcnat always may use the interface's "
                                     "own address")
            elif key == "externals":
                self.externals(where, value)
            elif key in NO_EQUIVALENT:
                self.note(where, "no equivalent: %s" % NO_EQUIVALENT[key])
            else:
                self.note(where, "unknown einat key, ignored")
        if hairpin:
            self.set("hairpin-if", " ".join(hairpin))
        if not i.get("nat44") and not i.get("nat66"):
            self.note("%s (%s)" % (where_if, name),
                      "neither nat44 nor nat66 is true: einat translates nothing here, "
                      "fcnat translates IPv4 when neither is on")

    def hairpin_route(self, where, route, hairpin):
        if not isinstance(route, dict):
            raise ValueError("%s: expected a table" % where)
        on = route.get("enable")
        for key, value in route.items():
            if key == "internal_if_names":
                if on is not False:
                    for n in value:
                        if n not in hairpin:
                            hairpin.append(str(n))
            elif key == "enable":
                pass
            elif key in ("ip_rule_pref", "table_id", "ip_protocols"):
                self.note("%s.%s" % (where, key), "no equivalent: fcnat hairpins every "
                          "protocol in its BPF programs, with no ip rules")
            else:
                self.note("%s.%s" % (where, key), "unknown einat key, ignored")

    def externals(self, where, externals):
        statics = []
        for n, e in enumerate(externals):
            w = "%s[%d]" % (where, n)
            for key, value in e.items():
                if key == "address":
                    statics.append(str(value))
                elif key == "match_address":
                    if value not in ("0.0.0.0/0", "::/0"):
                        self.note(w + ".match_address", "no equivalent: fcnat uses the "
                                  "interface's first address, or the pool")
                elif key in ("no_snat", "no_hairpin"):
                    if value:
                        self.note("%s.%s" % (w, key), "no equivalent")
                elif key in dict(RANGE_KEYS):
                    # fcnat has one set of ranges per interface.
                    self.set(dict(RANGE_KEYS)[key], self.ranges(w + "." + key, key, value))
                    self.note("%s.%s" % (w, key), "applied to the whole interface "
                              "(fcnat's ranges are per interface)")
                elif key in NO_EQUIVALENT:
                    self.note("%s.%s" % (w, key), "no equivalent: %s" % NO_EQUIVALENT[key])
                else:
                    self.note("%s.%s" % (w, key), "unknown einat key, ignored")
        v4 = [a for a in statics if ":" not in a]
        if v4:
            # einat uses the first static address; fcnat's pool of one.
            self.set("pool", v4[0])
            self.note(where, "address %s written as pool: fcnat translates to it; like an "
                      "address of the interface, it must be routed to this gateway" % v4[0])
            for a in v4[1:]:
                self.note(where, "address %s: not used (einat takes the first one too)" % a)
        for a in statics:
            if ":" in a:
                self.note(where, "IPv6 address %s: fcnat's NAT66 uses the interface's "
                          "global address" % a)

    def text(self, source):
        lines = ["# fcnat.conf(5), converted from einat's %s by fcnat --import-einat" % source,
                 "[nat]"]
        # The interface first, as a reader looks for it.
        nat = sorted(self.nat, key=lambda kv: kv[0] != "ifname")
        lines += ["%s = %s" % kv for kv in nat]
        if self.timeouts:
            lines += ["", "[timeouts]"] + ["%s = %s" % kv for kv in self.timeouts]
        return "\n".join(lines) + "\n"


def usage(msg=None):
    if msg:
        sys.stderr.write("%s: error: %s\n" % (PROG, msg))
    sys.stderr.write("Usage: fcnat --import-einat <config.toml> [-o <fcnat.conf>] "
                     "[--interface <name>]\n")
    sys.exit(2)


def main(argv):
    src = out = want = None
    it = iter(argv)
    for a in it:
        if a in ("-o", "--output"):
            out = next(it, None) or usage("-o needs a file")
        elif a == "--interface":
            want = next(it, None) or usage("--interface needs a name")
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        elif a.startswith("-") or src:
            usage("unexpected argument '%s'" % a)
        else:
            src = a
    if not src:
        usage("no einat configuration file given")
    try:
        with open(src, "rb") as f:
            cfg = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        sys.stderr.write("%s: error: %s: %s\n" % (PROG, src, e))
        return 2

    c = Converter()
    try:
        for key, value in cfg.items():
            if key == "defaults":
                c.defaults(value)
            elif key not in ("interfaces", "version"):
                c.note(key, "unknown einat key, ignored")
        ifs = cfg.get("interfaces", [])
        if not ifs:
            raise ValueError("no [[interfaces]]: nothing to convert")
        names = [i.get("if_name") for i in ifs]
        pick = names.index(want) if want in names else 0
        if want and want not in names:
            raise ValueError("no interface %s in the file (it has %s)"
                             % (want, ", ".join(str(n) for n in names)))
        c.interface(ifs[pick], pick)
        for n, i in enumerate(ifs):
            if n != pick:
                c.note("interfaces[%d] (%s)" % (n, i.get("if_name")),
                       "not converted: fcnat runs one instance per external interface "
                       "(convert it with --interface %s)" % i.get("if_name"))
    except ValueError as e:
        sys.stderr.write("%s: error: %s: %s\n" % (PROG, src, e))
        return 2

    text = c.text(src)
    if out:
        with open(out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    for n in c.notes:
        sys.stderr.write("%s: %s\n" % (PROG, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
