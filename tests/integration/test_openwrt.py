"""packaging/openwrt/: the procd init script (syntax, shellcheck), the UCI
config turned into a command line that fcnat's own parser accepts, and the
feed Makefile built on this host against stand-ins of the OpenWrt SDK's
rules.mk/package.mk/bpf.mk (tests/integration/openwrt_stub/; the real SDK
is needed for the target's toolchain and .ipk, see packaging/openwrt/README.md)."""

import os
import re
import shlex
import shutil
import subprocess

import pytest

from fcnat_util import FCNAT_BIN, REPO_ROOT

PKG = os.path.join(REPO_ROOT, "packaging", "openwrt", "fcnat")
INIT = os.path.join(PKG, "files", "fcnat.init")
CONFIG = os.path.join(PKG, "files", "fcnat.config")
STUB = os.path.join(REPO_ROOT, "tests", "integration", "openwrt_stub")

# What OpenWrt's functions.sh and procd.sh provide to the init script,
# reduced to this test's needs: options come from CONFIG_<section>_<option>
# variables (as config_load sets them), the command line is printed.
SHELL_STUBS = r'''
config_load() { :; }
config_foreach() { local fn="$1" s; for s in $SECTIONS; do "$fn" "$s"; done; }
config_get() { eval "$1=\"\${CONFIG_$2_$3:-$4}\""; }
config_get_bool() {
	local v; eval "v=\"\${CONFIG_$2_$3:-$4}\""
	case "$v" in 1|on|true|yes|enabled) v=1 ;; *) v=0 ;; esac
	eval "$1=$v"
}
config_list_foreach() {
	local s="$1" o="$2" fn="$3" n i=1 item
	eval "n=\"\${CONFIG_${s}_${o}_LENGTH:-0}\""
	shift 3
	while [ "$i" -le "$n" ]; do
		eval "item=\"\${CONFIG_${s}_${o}_ITEM$i}\""; "$fn" "$item" "$@"; i=$((i + 1))
	done
}
procd_open_instance() { echo "--instance $1"; }
procd_set_param() { [ "$1" = command ] || return 0; shift; printf '%s\n' "$@"; }
procd_append_param() { [ "$1" = command ] || return 0; shift; printf '%s\n' "$@"; }
procd_close_instance() { :; }
'''


def parse_uci(text, uncomment=False):
    """[(section, {option: value or [items]})] of a UCI file."""
    sections = []
    for line in text.splitlines():
        line = line.strip()
        if uncomment and re.match(r"#(option|list) ", line):
            line = line[1:]
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        if words[0] == "config":
            sections.append((words[2], {}))
        elif words[0] == "option":
            sections[-1][1][words[1]] = words[2]
        elif words[0] == "list":
            sections[-1][1].setdefault(words[1], []).append(words[2])
    return sections


def command_lines(tmp_path, sections, enable):
    """{instance: argv} the init script gives procd for these sections."""
    lib = tmp_path / "lib" / "functions"
    lib.mkdir(parents=True)
    (lib / "network.sh").write_text(
        'network_get_device() { [ "$2" = wan ] && eval "$1=pppoe-wan"; }\n')
    env = ["SECTIONS=%s" % shlex.quote(" ".join(s for s, _ in sections))]
    for name, opts in sections:
        if enable:
            opts = dict(opts, enabled="1")
        for key, value in opts.items():
            var = "CONFIG_%s_%s" % (name, key)
            if isinstance(value, list):
                env.append("%s=%s" % (var, shlex.quote(" ".join(value))))
                env.append("%s_LENGTH=%d" % (var, len(value)))
                for i, item in enumerate(value, 1):
                    env.append("%s_ITEM%d=%s" % (var, i, shlex.quote(item)))
            else:
                env.append("%s=%s" % (var, shlex.quote(value)))
    script = SHELL_STUBS + "\n".join(env) + "\n. %s\nstart_service\n" % shlex.quote(INIT)
    r = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                       env=dict(os.environ, IPKG_INSTROOT=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    out, current = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("--instance "):
            current = line.split(" ", 1)[1]
            out[current] = []
        else:
            out[current].append(line)
    return out


def test_init_script_is_valid_sh():
    r = subprocess.run(["sh", "-n", INIT], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_init_script_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed")
    r = subprocess.run(["shellcheck", INIT], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_shipped_config_starts_nothing_until_enabled(tmp_path):
    with open(CONFIG) as f:
        sections = parse_uci(f.read())
    assert [s for s, _ in sections] == ["wan"]
    assert command_lines(tmp_path, sections, enable=False) == {}


def check_with_fcnat(argv, tmp_path):
    if not os.access(FCNAT_BIN, os.X_OK):
        pytest.skip("%s not built (make)" % FCNAT_BIN)
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    r = subprocess.run([FCNAT_BIN] + argv[1:] + ["--check-config", str(empty)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (argv, r.stdout, r.stderr)


def test_enabled_config_maps_to_options_fcnat_accepts(tmp_path):
    with open(CONFIG) as f:
        sections = parse_uci(f.read())
    argv = command_lines(tmp_path, sections, enable=True)["wan"]
    assert argv[:3] == ["/usr/sbin/fcnat", "-i", "pppoe-wan"], argv
    joined = " ".join(argv)
    for part in ("--mode tc", "--lan-if br-lan", "--hairpin-if br-lan",
                 "--ports 20000-29999", "--nat44", "--keep-state", "--wait-for-address",
                 "--timeout-udp 300"):
        assert part in joined, (part, argv)
    assert "--nat66" not in argv and "--syslog" not in argv
    check_with_fcnat(argv, tmp_path)


def test_every_documented_option_maps_to_an_accepted_option(tmp_path):
    """The commented-out examples of fcnat.config, all switched on."""
    with open(CONFIG) as f:
        sections = parse_uci(f.read(), uncomment=True)
    opts = sections[0][1]
    for key in ("tcp_ports", "udp_ports", "icmp_ids"):
        opts.pop(key)   # each replaces --ports: tried on their own below
    argv = command_lines(tmp_path, sections, enable=True)["wan"]
    assert argv[:3] == ["/usr/sbin/fcnat", "-i", "eth1"], argv   # device wins over network
    for flag in ("--nat64", "--internal", "--exclude", "--forward", "--max-mappings",
                 "--max-sessions", "--prealloc-tables", "--pcp-if", "--upnp-if", "--ipfix", "--metrics"):
        assert flag in argv, (flag, argv)
    check_with_fcnat(argv, tmp_path)
    sections = [("wan", {"device": "eth1", "tcp_ports": ["20000-24999"],
                         "udp_ports": ["25000-29999"], "icmp_ids": ["1000-1999"]})]
    argv = command_lines(tmp_path / "split", sections, enable=True)["wan"]
    assert "--tcp-ports" in argv and "--udp-ports" in argv and "--icmp-ids" in argv
    check_with_fcnat(argv, tmp_path)


def test_feed_makefile_builds_and_installs_with_sdk_stand_ins(tmp_path):
    for tool in ("clang", "bpftool", "gcc"):
        if shutil.which(tool) is None:
            pytest.skip("%s not installed (make deps)" % tool)
    toolchain = tmp_path / "toolchain"
    toolchain.mkdir()
    triple = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True,
                            check=True).stdout.strip()
    os.symlink("/usr/include/" + triple, str(toolchain / "include"))
    args = ["make", "-C", PKG, "TOPDIR=" + STUB, "BUILD_DIR=%s" % (tmp_path / "build"),
            "TOOLCHAIN_DIR=%s" % toolchain, "DEST=%s" % (tmp_path / "root")]
    r = subprocess.run(args + ["compile"], capture_output=True, text=True, timeout=900,
                       env=dict(os.environ, MAKEFLAGS="-j2"))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r = subprocess.run(args + ["install"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    root = tmp_path / "root"
    assert os.access(str(root / "usr/sbin/fcnat"), os.X_OK)
    assert os.access(str(root / "etc/init.d/fcnat"), os.X_OK)
    assert (root / "etc/config/fcnat").read_text() == open(CONFIG).read()
    r = subprocess.run([str(root / "usr/sbin/fcnat"), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("fcnat 0.1.0"), r
