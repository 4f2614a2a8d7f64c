#!/bin/sh
# Installs the Debian 12 packages fcnat's build, tests and demo need
# (only what is missing; apt-get update only when something is).
set -eu
# --cross (or FCNAT_DEPS_CROSS=1): also the cross builds' and the other
# architectures' VM tests' tools (make ARCH=..., make vmtest ARCH=...;
# doc/portability.md); not needed by make test.
CROSS=${FCNAT_DEPS_CROSS:-0}
[ "${1:-}" = --cross ] && CROSS=1
PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config
 libmnl-dev libinih-dev libjson-c-dev iproute2 iputils-ping traceroute iputils-tracepath
 ethtool tcpdump socat netcat-openbsd conntrack iperf3 nftables tayga python3 python3-pytest ppp pppoe
 wireguard-tools keepalived bird2
 python3-scapy scdoc natpmpc miniupnpc transmission-daemon libfixbuf-dev nfdump libmicrohttpd-dev
 qemu-system-x86 cpio kmod"
# --packaging: also what `make deb` and its test need (not installed for CI).
[ "${1:-}" = "--packaging" ] && PKGS="$PKGS dpkg-dev debhelper fakeroot lintian"
[ "$CROSS" = 1 ] && PKGS="$PKGS gcc-aarch64-linux-gnu gcc-s390x-linux-gnu gcc-mipsel-linux-gnu
 qemu-system-arm qemu-system-misc qemu-system-mips qemu-user-static mmdebstrap arch-test e2fsprogs"
# make vmtest's initramfs runs busybox: busybox-static, unless Debian's
# (dynamically linked) busybox is there already (the two conflict).
dpkg-query -W -f='${Status}' busybox 2>/dev/null | grep -q "ok installed" ||
	PKGS="$PKGS busybox-static"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "fcnat: installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "fcnat: run as root to install packages" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
	# tayga (for make bench, which runs its own in a namespace): Debian's
	# package starts its service once on install, with the sample
	# /etc/tayga.conf (a "nat64" TUN device and a MASQUERADE rule on this
	# host). Stop what the install started.
	case " $missing " in
	*" tayga "*) invoke-rc.d tayga stop >/dev/null 2>&1 || true ;;
	esac
	# transmission-daemon (test_upnp.py runs its own in a namespace, as
	# the BitTorrent client): its service would seed on this host; off.
	case " $missing " in
	*" transmission-daemon "*)
		invoke-rc.d transmission-daemon stop >/dev/null 2>&1 || true
		update-rc.d transmission-daemon disable >/dev/null 2>&1 || true ;;
	esac
fi
