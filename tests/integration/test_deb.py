"""make deb (debian/): dpkg-buildpackage builds fcnat_*.deb with the binary, man
pages, systemd unit (enabled by the maintainer scripts) and the einat converter;
the package unpacks into a throwaway root and its binary runs from there.

Builds in a copy of the tree (the build writes to the parent directory and
into debian/), about a minute on two cores."""

import glob
import os
import shutil
import subprocess

import pytest

from fcnat_util import REPO_ROOT

# Left out of the copy: build outputs of the checkout itself.
SKIP_TOP = {"build", ".git", ".pytest_cache"}


def _ignore(src, names):
    if os.path.abspath(src) == os.path.abspath(REPO_ROOT):
        return [n for n in names if n in SKIP_TOP]
    if os.path.abspath(src) == os.path.join(os.path.abspath(REPO_ROOT), "debian"):
        return [n for n in names if n in ("build", "fcnat", ".debhelper")]
    return [n for n in names if n == "__pycache__"]


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    for tool in ("dpkg-buildpackage", "dh", "dpkg-deb"):
        if shutil.which(tool) is None:
            pytest.skip("%s not installed (apt-get install dpkg-dev debhelper; "
                        "scripts/deps.sh --packaging)" % tool)
    r = subprocess.run(["dpkg-checkbuilddeps", os.path.join(REPO_ROOT, "debian/control")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("build dependencies missing: " + r.stderr.strip())
    top = tmp_path_factory.mktemp("deb")
    src = os.path.join(str(top), "fcnat")
    shutil.copytree(REPO_ROOT, src, ignore=_ignore, symlinks=True)
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2 noddebs")
    r = subprocess.run(["make", "-C", src, "deb"], capture_output=True, text=True,
                       timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    debs = glob.glob(os.path.join(src, "build", "deb", "fcnat_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def deb_files(path):
    """{path in the package: mode string} from dpkg-deb -c."""
    out = subprocess.run(["dpkg-deb", "-c", path], capture_output=True, text=True,
                         check=True).stdout
    files = {}
    for line in out.splitlines():
        fields = line.split()
        name = fields[5].lstrip(".")
        files[name.rstrip("/") or "/"] = fields[0]
    return files


def test_deb_holds_binary_man_pages_unit_and_converter(deb):
    files = deb_files(deb)
    for path in ("/usr/sbin/fcnat", "/usr/libexec/fcnat/import-einat"):
        assert files.get(path, "").startswith("-rwxr-xr-x"), (path, files.get(path))
    for path in ("/usr/share/man/man8/fcnat.8.gz", "/usr/share/man/man5/fcnat.conf.5.gz",
                 "/lib/systemd/system/fcnat.service",
                 "/usr/share/bash-completion/completions/fcnat",
                 "/usr/share/doc/fcnat/fcnat.conf.example",
                 "/usr/share/doc/fcnat/copyright"):
        assert files.get(path, "").startswith("-rw-r--r--"), (path, files.get(path))
    # No configuration is shipped: the unit starts once the admin writes it.
    assert "/etc/fcnat" in files and not any(p.startswith("/etc/fcnat/") for p in files)
    # Nothing of the build host leaks in.
    assert not any(p.startswith(("/usr/local", "/tmp", "/root")) for p in files)


def test_deb_control_and_maintainer_scripts_enable_the_unit(deb, tmp_path):
    info = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Depends", "Version"],
                          capture_output=True, text=True, check=True).stdout
    assert "Package: fcnat" in info
    depends = info.split("Depends:", 1)[1].splitlines()[0]
    for lib in ("libbpf1", "libelf1", "python3"):
        assert lib in depends, depends
    ctl = str(tmp_path / "control")
    subprocess.run(["dpkg-deb", "-e", deb, ctl], check=True)
    with open(os.path.join(ctl, "postinst")) as f:
        postinst = f.read()
    assert "deb-systemd-helper" in postinst and "fcnat.service" in postinst
    assert "enable" in postinst
    with open(os.path.join(ctl, "prerm")) as f:
        prerm = f.read()
    assert "fcnat.service" in prerm


def test_deb_unpacks_into_a_throwaway_root_and_runs(deb, tmp_path):
    root = str(tmp_path / "root")
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    binary = os.path.join(root, "usr/sbin/fcnat")
    r = subprocess.run([binary, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("fcnat 0."), r
    with open(os.path.join(root, "lib/systemd/system/fcnat.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/sbin/fcnat --keep-state --wait-for-address -c /etc/fcnat/fcnat.conf" in unit
    assert "@" not in unit.split("[Unit]", 1)[1]
    conv = os.path.join(root, "usr/libexec/fcnat/import-einat")
    r = subprocess.run([conv, "--help"], capture_output=True, text=True)
    assert r.returncode == 0, r


def test_deb_is_lintian_clean(deb):
    """Every remaining tag is overridden with its reason in debian/fcnat.lintian-overrides."""
    if shutil.which("lintian") is None:
        pytest.skip("lintian not installed (scripts/deps.sh --packaging)")
    r = subprocess.run(["lintian", "--fail-on", "error,warning", deb],
                       capture_output=True, text=True, timeout=300)
    tags = [l for l in r.stdout.splitlines() if l[:2] in ("E:", "W:")]
    assert r.returncode == 0 and not tags, r.stdout + r.stderr
