# Sourced by tests/vm/vmtest for a profile of another architecture (one that
# sets VM_ROOT): the host's root holds amd64 binaries, so such a guest boots
# into a Debian root of its own architecture, made once by mmdebstrap (its
# maintainer scripts run under qemu-user through binfmt_misc) and cached in
# $CACHE/roots/<arch>. The same root is the sysroot of the cross build
# (mk/cross.mk), so the guest runs what fcnat was linked against.
# doc/portability.md says how to use it; doc/design/vmtest.md how it works.

# What the guest runs: the libraries of the build (they hold the -dev
# packages the cross build links against), the tools of guest.sh and of the
# smoke tests. Changing it rebuilds the root on the next run.
ARCH_ROOT_PKGS="libc6-dev,libbpf-dev,libelf-dev,zlib1g-dev,libmnl-dev,libinih-dev,libjson-c-dev,libfixbuf-dev,libmicrohttpd-dev,iproute2,iputils-ping,ethtool,tcpdump,socat,netcat-openbsd,nftables,python3,python3-pytest,python3-scapy,kmod,procps,wireguard-tools,ppp,pppoe"

# FCNAT_VM_ROOT=min (the default; full: the mmdebstrap root above, for the
# smoke step, tens of minutes to make and not yet run to the end here):
# a root unpacked on the host (dpkg-deb -x, no maintainer
# scripts, no emulation: a minute instead of tens) of what the unit and load
# and smoke steps need (python3, pytest and scapy run unpacked, uncompiled).
# Cached apart ($CACHE/roots/<arch>-min).
# (libglib2.0-0: Debian 12's libfixbuf9 uses it without depending on it.)
ARCH_MIN_PKGS="libbpf1 libelf1 zlib1g libmnl0 libinih1 libjson-c5 libfixbuf9 libglib2.0-0 libmicrohttpd12
 iproute2 kmod ethtool dash bash coreutils grep sed mawk mount util-linux procps findutils
 gzip iputils-ping libc-bin socat netcat-openbsd tcpdump nftables python3 python3-pytest python3-scapy bpftool
 wireguard-tools ppp pppoe"
ROOT_MODE=${FCNAT_VM_ROOT:-min}

# The archive the host's apt uses (deb822 or one-line sources).
arch_mirror() {
	m=$(grep -h -m1 -E '^URIs: .*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}')
	[ -n "$m" ] || m=$(grep -h -m1 -E '^deb .*/debian/? ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}')
	echo "${m:-http://deb.debian.org/debian}"
}

# apt for another architecture: lists of its own under $CACHE/apt-<arch>,
# the host's sources (apt_own_lists in tests/vm/vmtest).
arch_apt_init() {
	apt_own_lists "$CACHE/apt-$VM_DEB_ARCH"
}

# The guest root: $CACHE/roots/<arch>, keyed by the package list.
# Removes a half-made root. A killed mmdebstrap leaves the host's /proc, /sys,
# /dev/pts and /dev/shm mounted in it: those first, and never across a mount.
arch_clear() {  # arch_clear DIR
	[ -d "$1" ] || return 0
	for m in $(awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	rm -rf --one-file-system "$1"
}

# The minimal root: the packages and their dependencies, unpacked.
arch_min_root() {  # arch_min_root DIR
	# shellcheck disable=SC2086
	pkgs=$(apt-cache $APT_OPTS depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $ARCH_MIN_PKGS 2>/dev/null | grep -v -e '^ ' -e '^<' | sort -u)
	arch_clear "$1"; mkdir -p "$1/.debs" && chmod 755 "$1/.debs" || die 2 "cannot write $1"
	# shellcheck disable=SC2086
	( cd "$1/.debs" && apt-get download -q $APT_OPTS $pkgs ) > "$1.log" 2>&1 ||
		{ tail -n 5 "$1.log"; die 2 "apt-get download for the $VM_DEB_ARCH root failed"; }
	for d in "$1"/.debs/*.deb; do dpkg-deb -x "$d" "$1" || die 2 "cannot unpack $d"; done
	rm -rf "$1/.debs"
	# What maintainer scripts (update-alternatives) would have linked.
	[ -e "$1/bin/sh" ] || ln -s dash "$1/bin/sh"
	[ -e "$1/usr/bin/awk" ] || ln -s mawk "$1/usr/bin/awk"
	arch_min_users "$1"
}

# The users maintainer scripts would have made: root, and tcpdump's (it
# drops to it, and refuses to start without it).
arch_min_users() {  # arch_min_users DIR
	[ -f "$1/etc/passwd" ] || echo 'root:x:0:0:root:/root:/bin/sh' > "$1/etc/passwd"
	[ -f "$1/etc/group" ] || echo 'root:x:0:' > "$1/etc/group"
	grep -q '^tcpdump:' "$1/etc/passwd" ||
		echo 'tcpdump:x:101:101::/nonexistent:/usr/sbin/nologin' >> "$1/etc/passwd"
	grep -q '^tcpdump:' "$1/etc/group" || echo 'tcpdump:x:101:' >> "$1/etc/group"
}

arch_root() {
	if [ "$ROOT_MODE" = min ]; then
		ROOTDIR=$CACHE/roots/$VM_DEB_ARCH-min
		ROOT_PKGS=$ARCH_MIN_PKGS
	else
		ROOTDIR=$CACHE/roots/$VM_DEB_ARCH
		ROOT_PKGS=$ARCH_ROOT_PKGS
	fi
	mkdir -p "$CACHE/roots" || die 2 "cannot create $CACHE/roots"
	exec 8>"$CACHE/roots/.$VM_DEB_ARCH.lock"
	flock 8
	if [ "$ROOT_MODE" = min ] && [ "$(cat "$ROOTDIR/.fcnat-root" 2>/dev/null)" != "$ROOT_PKGS" ]; then
		t0=$(date +%s)
		arch_min_root "$ROOTDIR.new"
		printf '%s\n' "$ROOT_PKGS" > "$ROOTDIR.new/.fcnat-root"
		rm -rf "$ROOTDIR" "$ROOTDIR.ext4"
		mv "$ROOTDIR.new" "$ROOTDIR" || die 2 "cannot move the root into place"
		say "unpacked the minimal $VM_DEB_ARCH root in $(( $(date +%s) - t0 ))s"
	elif [ "$(cat "$ROOTDIR/.fcnat-root" 2>/dev/null)" != "$ROOT_PKGS" ]; then
		for t in mmdebstrap arch-test; do
			command -v $t >/dev/null || die 2 "$t is missing (scripts/deps.sh --cross installs it)"
		done
		# Foreign maintainer scripts run under qemu-user: binfmt_misc must know it.
		[ -f /proc/sys/fs/binfmt_misc/register ] ||
			mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
		if ! arch-test "$VM_DEB_ARCH" >/dev/null 2>&1; then
			for c in /usr/lib/binfmt.d/qemu-$VM_QEMU_USER.conf; do
				[ -f "$c" ] && grep -v '^#' "$c" > /proc/sys/fs/binfmt_misc/register 2>/dev/null
			done
			arch-test "$VM_DEB_ARCH" >/dev/null 2>&1 ||
				die 2 "this host cannot run $VM_DEB_ARCH binaries (qemu-user-static, binfmt_misc)"
		fi
		t0=$(date +%s)
		say "making the $VM_DEB_ARCH root with mmdebstrap into $ROOTDIR (minutes: emulated maintainer scripts)"
		arch_clear "$ROOTDIR.new"
		# The system's python3 for mmtarfilter, once per package: a pyenv
		# shim first in PATH costs a second a call.
		PATH=/usr/sbin:/usr/bin:/sbin:/bin mmdebstrap --arch="$VM_DEB_ARCH" --variant=apt --include="$ARCH_ROOT_PKGS" \
			--aptopt='Acquire::Languages "none"' \
			--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' \
			bookworm "$ROOTDIR.new" "$(arch_mirror)" > "$CACHE/roots/$VM_DEB_ARCH.log" 2>&1 ||
			{ tail -n 20 "$CACHE/roots/$VM_DEB_ARCH.log"; arch_clear "$ROOTDIR.new"; die 2 "mmdebstrap failed"; }
		printf '%s\n' "$ARCH_ROOT_PKGS" > "$ROOTDIR.new/.fcnat-root"
		rm -rf "$ROOTDIR" "$CACHE/roots/$VM_DEB_ARCH.ext4"
		mv "$ROOTDIR.new" "$ROOTDIR" || die 2 "cannot move the root into place"
		say "made the $VM_DEB_ARCH root in $(( $(date +%s) - t0 ))s"
	fi
	# The guest mounts the checkout and the kernel's modules at their host
	# paths (guest.sh); a read-only 9p root needs the mount points made here
	# (the ext4 root is written through a snapshot: the guest makes them).
	mkdir -p "$ROOTDIR$REPO" "$ROOTDIR$ENTRY/root" 2>/dev/null
	if [ "$VM_ROOT" = ext4 ]; then
		# A disk image of the root, for guests whose 9p cannot run
		# executables; made again when the root is newer.
		IMG=$ROOTDIR.ext4
		if [ ! -f "$IMG" ] || [ "$ROOTDIR/.fcnat-root" -nt "$IMG" ]; then
			command -v mke2fs >/dev/null || die 2 "mke2fs is missing (e2fsprogs)"
			mb=$(( $(du -sm "$ROOTDIR" | cut -f1) * 5 / 4 + 256 ))
			rm -f "$IMG" && mke2fs -q -t ext4 -d "$ROOTDIR" -L fcnatroot "$IMG" "${mb}M" ||
				{ rm -f "$IMG"; die 2 "mke2fs -d $ROOTDIR failed"; }
			say "made the $VM_DEB_ARCH root image ($mb MiB)"
		fi
	fi
	flock -u 8
}

# Static busybox of the guest's architecture, for its initramfs.
arch_busybox() {  # arch_busybox DESTDIR -> DESTDIR/busybox
	( cd "$1" && apt-get download -q $APT_OPTS busybox-static ) > "$1/busybox.log" 2>&1 ||
		{ cat "$1/busybox.log"; die 2 "apt-get download busybox-static:$VM_DEB_ARCH failed"; }
	dpkg-deb -x "$1"/busybox-static_*.deb "$1/bb" && cp "$1/bb/bin/busybox" "$1/busybox" ||
		die 2 "no busybox in busybox-static:$VM_DEB_ARCH"
	rm -rf "$1/bb" "$1"/busybox-static_*.deb
}
