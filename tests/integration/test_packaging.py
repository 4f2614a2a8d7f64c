"""make install (PREFIX, DESTDIR): binary, man pages, systemd unit, bash completion."""

import os
import subprocess

import pytest

from fcnat_util import REPO_ROOT, ini_items


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("destdir")
    r = subprocess.run(["make", "-C", REPO_ROOT, "install", "PREFIX=/usr", "DESTDIR=%s" % dest],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return str(dest)


def unit_settings(path):
    """{(section, key): [values]} of a systemd unit file."""
    out = {}
    with open(path) as f:
        for section, key, value in ini_items(f.read()):
            out.setdefault((section, key), []).append(value)
    return out


def test_make_install_puts_every_file_under_destdir(installed):
    for rel in ("usr/sbin/fcnat", "usr/share/man/man8/fcnat.8", "usr/share/man/man5/fcnat.conf.5",
                "usr/lib/systemd/system/fcnat.service",
                "usr/share/bash-completion/completions/fcnat",
                "usr/share/doc/fcnat/fcnat.conf.example", "usr/libexec/fcnat/import-einat"):
        assert os.path.isfile(os.path.join(installed, rel)), rel
    binary = os.path.join(installed, "usr/sbin/fcnat")
    assert os.access(binary, os.X_OK)
    r = subprocess.run([binary, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("fcnat "), r
    with open(os.path.join(installed, "usr/share/man/man8/fcnat.8")) as f:
        man = f.read()
    assert "keep-state" in man and "SIGHUP" in man and "show" in man


def test_systemd_unit_keeps_state_with_the_needed_capabilities(installed):
    u = unit_settings(os.path.join(installed, "usr/lib/systemd/system/fcnat.service"))
    assert u[("Service", "ExecStart")] == ["/usr/sbin/fcnat --keep-state --wait-for-address -c /etc/fcnat/fcnat.conf"]
    assert u[("Service", "ExecReload")] == ["/bin/kill -HUP $MAINPID"]
    caps = set(u[("Service", "CapabilityBoundingSet")][0].split())
    assert {"CAP_BPF", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_PERFMON"} <= caps, caps
    assert u[("Install", "WantedBy")] == ["multi-user.target"]
    assert not any("@" in v for vals in u.values() for v in vals if "MAINPID" not in v), u


def test_example_config_is_valid(installed, tmp_path):
    """The example parses (--help after it: parse only, no attach)."""
    example = os.path.join(installed, "usr/share/doc/fcnat/fcnat.conf.example")
    r = subprocess.run([os.path.join(installed, "usr/sbin/fcnat"), "-c", example, "--help"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r


def _complete(installed, *words):
    script = os.path.join(installed, "usr/share/bash-completion/completions/fcnat")
    binary = os.path.join(installed, "usr/sbin/fcnat")
    line = " ".join([binary] + list(words))
    r = subprocess.run(["bash", "-c", 'source "$1"; COMP_WORDS=(%s); COMP_CWORD=%d; _fcnat; '
                        'printf "%%s\\n" "${COMPREPLY[@]}"' % (line, len(words)), "x", script],
                       capture_output=True, text=True)
    assert r.returncode == 0, r
    return sorted(filter(None, r.stdout.splitlines()))


def test_bash_completion(installed):
    assert _complete(installed, "--timeout-") == ["--timeout-icmp", "--timeout-tcp-est",
                                                  "--timeout-tcp-trans", "--timeout-udp"]
    assert _complete(installed, "--keep") == ["--keep-state"]
    assert _complete(installed, "") == ["show", "stats"]
    assert _complete(installed, "show", "") == ["mappings", "sessions", "subscribers"]
    assert _complete(installed, "show", "mappings", "--proto", "") == ["icmp", "tcp", "udp"]


def test_installed_binary_runs_the_installed_einat_converter(installed, tmp_path):
    toml = tmp_path / "einat.toml"
    toml.write_text('[[interfaces]]\nif_name = "wan0"\nnat44 = true\n'
                    'snat_internals = ["192.168.1.0/24"]\n')
    binary = os.path.join(installed, "usr/sbin/fcnat")
    r = subprocess.run([binary, "--import-einat", str(toml)], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert r.returncode == 0, r
    assert "ifname = wan0" in r.stdout and "internal = 192.168.1.0/24" in r.stdout, r.stdout
