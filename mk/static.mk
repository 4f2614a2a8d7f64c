# `make STATIC=1 [ARCH=arm64|s390x|mipsel|mips]`: one fcnat binary that needs
# no shared library at all (glibc linked in too), for routers without
# Debian's libraries (doc/portability.md). Included by the Makefile after
# mk/cross.mk; objects go to build/static (build/ARCH-static when crossing),
# so the normal build is untouched.
#
# Every library has its .a in Debian 12 but libmicrohttpd's: it is built
# with GnuTLS, whose libunistring and p11-kit ship no static archives, so
# the metrics endpoint is left out (METRICS_HTTP=0, --metrics refused).
# glib (under libfixbuf, IPFIX) links statically with warnings about
# getpwuid/getaddrinfo needing NSS at run time: fcnat never calls them
# (its IPFIX socket is its own; doc/portability.md).
METRICS_HTTP ?= 0
BUILD        ?= build/static
PKG_LIBS     := --static --libs
LDFLAGS      += -static
