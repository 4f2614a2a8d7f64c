# Cross builds: `make ARCH=arm64|s390x|mipsel|mips [SYSROOT=DIR]`
# (doc/portability.md). Included by the Makefile before its defaults, only when
# ARCH names another architecture; the host build (no ARCH) is untouched.
#
# The target's libraries come from a sysroot: a Debian root of that
# architecture with the -dev packages (tests/vm/vmtest --arch ARCH
# --prepare-only makes one in $(FCNAT_VM_CACHE)/roots/ARCH, the guest's own
# root, so what is linked is what runs). Without one, Debian's multiarch paths
# (`dpkg --add-architecture ARCH; apt-get install libbpf-dev:ARCH ...`): this
# works for arm64 only, as bookworm's security archive no longer carries s390x
# and mipsel, so their Multi-Arch: same libraries cannot match the host's.

CROSS_TRIPLET_arm64  := aarch64-linux-gnu
CROSS_TRIPLET_s390x  := s390x-linux-gnu
CROSS_TRIPLET_mipsel := mipsel-linux-gnu
CROSS_TRIPLET_mips   := mips-linux-gnu
# The BPF objects take the target's byte order: the kernel runs them in it.
CROSS_BPF_arm64  := bpfel
CROSS_BPF_s390x  := bpfeb
CROSS_BPF_mipsel := bpfel
CROSS_BPF_mips   := bpfeb

# MIPS's asm/byteorder.h asks the compiler's own macros, which clang's BPF
# target does not define.
CROSS_BPF_DEFS_mipsel := -D__MIPSEL__
CROSS_BPF_DEFS_mips   := -D__MIPSEB__

# MIPS has no unaligned access: its verifier checks every packet access's
# alignment (bpf/lib/hdr.h, doc/design/kernel-compat.md).
ifneq ($(filter mipsel mips,$(ARCH)),)
STRICT_ALIGN ?= 1
endif

TRIPLET := $(CROSS_TRIPLET_$(ARCH))
ifeq ($(TRIPLET),)
$(error ARCH=$(ARCH): cross builds know arm64, s390x, mipsel and mips)
endif
FCNAT_VM_CACHE ?= /var/cache/fcnat-vm
BUILD      ?= build/$(ARCH)$(if $(filter 1,$(STATIC)),-static)
BPF_TARGET := $(CROSS_BPF_$(ARCH))
BPF_ARCH_CFLAGS := $(CROSS_BPF_DEFS_$(ARCH))
# gcc 12 for 32-bit targets sees a possible truncation in src/options.c's
# snprintf of an interface name, and long against unsigned in src/pin.c's
# statfs check: kept warnings there, for their owners.
ifneq ($(filter mipsel mips,$(ARCH)),)
CFLAGS ?= -O2 -g -Wno-error=format-truncation -Wno-error=sign-compare
endif
# Debian's cross compiler (gcc-$(TRIPLET)), unless CC is given.
ifneq ($(filter default environment,$(origin CC)),)
CC := $(TRIPLET)-gcc
endif
# The VM's root of that architecture, else a sysroot of only the -dev
# packages (`make sysroot ARCH=...`, scripts/cross-sysroot.sh).
SYSROOT ?= $(firstword $(wildcard $(FCNAT_VM_CACHE)/roots/$(ARCH)/.fcnat-root $(FCNAT_VM_CACHE)/sysroot/$(ARCH)/usr))
SYSROOT := $(patsubst %/.fcnat-root,%,$(patsubst %/usr,%,$(SYSROOT)))
ifneq ($(SYSROOT),)
CC         += --sysroot=$(SYSROOT)
PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/$(TRIPLET)/pkgconfig:$(SYSROOT)/usr/share/pkgconfig pkg-config
ARCH_INC   := $(SYSROOT)/usr/include/$(TRIPLET)
else
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(TRIPLET)/pkgconfig:/usr/share/pkgconfig pkg-config
ARCH_INC   := /usr/include/$(TRIPLET)
endif

# Debian 12's bpftool cannot open an object of the other byte order: the
# skeletons of such a build come from a twin in the host's order
# (mk/cross-rules.mk), with the target's object put in by scripts/skel-elf.py.
HOST_BPF := $(if $(filter little,$(shell python3 -c 'import sys; print(sys.byteorder)' 2>/dev/null || echo little)),bpfel,bpfeb)
ifneq ($(BPF_TARGET),$(HOST_BPF))
SKEL_TWIN := $(BUILD)/twin/%.bpf.o
endif
