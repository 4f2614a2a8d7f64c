#!/bin/sh
# A cross build's sysroot without emulation: the target architecture's -dev
# packages fcnat links against, with their dependencies, downloaded by name
# from Debian's archive and unpacked (dpkg-deb -x), in a minute. apt runs with
# a private state (no dpkg --add-architecture on the host). mk/cross.mk uses
# it when there is no VM root of that architecture (tests/vm/arch.sh), whose
# packages are the same ones, installed.
# usage: scripts/cross-sysroot.sh ARCH DIR
set -eu
[ $# = 2 ] || { echo "usage: $0 ARCH DIR" >&2; exit 2; }
A=$1 DIR=$2
CACHE=${FCNAT_VM_CACHE:-/var/cache/fcnat-vm}
D=$CACHE/apt-$A
mkdir -p "$D/lists/partial" "$D/archives/partial"
[ -f "$D/status" ] || : > "$D/status"
O="-o APT::Architecture=$A -o APT::Architectures=$A -o Dir::State::Lists=$D/lists
 -o Dir::State::status=$D/status -o Dir::Cache=$D -o Acquire::Languages=none"
# shellcheck disable=SC2086
[ -n "$(find "$D/lists" -maxdepth 1 -name '*Packages*' -mtime -1)" ] || apt-get -q $O update >/dev/null
# shellcheck disable=SC2086
PKGS=$(apt-cache $O depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
	--no-replaces --no-enhances libc6-dev libbpf-dev libelf-dev zlib1g-dev \
	libinih-dev libjson-c-dev libfixbuf-dev libmicrohttpd-dev | grep -v -e '^ ' -e '^<' | sort -u)
NEW=$DIR.new
rm -rf "$NEW" && mkdir -p "$NEW/.debs"
chmod 755 "$NEW/.debs"   # apt-get download drops to _apt when it can
# shellcheck disable=SC2086
( cd "$NEW/.debs" && apt-get -q $O download $PKGS ) > "$NEW/.download.log" 2>&1 ||
	{ tail -n 5 "$NEW/.download.log"; exit 1; }
for d in "$NEW"/.debs/*.deb; do dpkg-deb -x "$d" "$NEW"; done
rm -rf "$NEW/.debs" "$DIR" && mv "$NEW" "$DIR"
echo "sysroot: $DIR ($(echo "$PKGS" | wc -l) packages of $A)"
