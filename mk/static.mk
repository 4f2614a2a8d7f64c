# `make STATIC=1 [ARCH=arm64|s390x|mipsel|mips]`: one fcnat binary that needs
# no shared library at all (glibc linked in too), for routers without
# Debian's libraries (doc/portability.md). Included by the Makefile after
# mk/cross.mk; objects go to build/static (build/ARCH-static when crossing),
# so the normal build is untouched.
#
# Left out by default, each refused with a message when asked for:
# - the metrics endpoint (METRICS_HTTP=0): Debian's libmicrohttpd is built
#   with GnuTLS, whose libunistring and p11-kit ship no static archives;
# - IPFIX export (IPFIX=0): libfixbuf brings glib, 1 MB of the 3.5 MB, and
#   glib's and libfixbuf's getpwuid/getaddrinfo would want glibc's NSS
#   libraries at run time. `make STATIC=1 IPFIX=1` links them anyway (the
#   linker warns; fcnat never calls those functions: its socket is its own).
METRICS_HTTP ?= 0
IPFIX        ?= 0
BUILD        ?= build/static
PKG_LIBS     := --static --libs
LDFLAGS      += -static
# The datapath objects are embedded in the binary: their DWARF goes (BTF and
# its line info stay, for libbpf and the verifier's messages), 0.5 MB.
BPF_STRIP    ?= llvm-strip -g
