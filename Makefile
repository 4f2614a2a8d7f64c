# fcnat build. `make` builds build/fcnat; see README.md for the rest.
# `make ARCH=arm64|s390x|mipsel|mips` cross-builds into build/ARCH (mk/cross.mk).
ARCH      ?=
ifneq ($(filter-out $(shell dpkg --print-architecture 2>/dev/null),$(ARCH)),)
include mk/cross.mk
endif
# `make STATIC=1`: no shared libraries (mk/static.mk).
ifeq ($(STATIC),1)
include mk/static.mk
endif
# `make STRICT_ALIGN=1`: BPF objects for CPUs without unaligned access
# (bpf/lib/hdr.h; mipsel and mips builds have it on), in build/strict-align.
STRICT_ALIGN ?= 0
ifeq ($(STRICT_ALIGN),1)
BUILD     ?= build/strict-align
endif
BUILD     ?= build
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
PKG_CONFIG ?= pkg-config
# The host's byte order unless a cross build picks bpfel or bpfeb.
BPF_TARGET ?= bpf
PYTHON    ?= /usr/bin/python3
VERSION   ?= 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/fcnat
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
LIBEXECDIR ?= $(PREFIX)/libexec/fcnat

ARCH_INC  ?= /usr/include/$(shell $(CC) -dumpmachine)
BPF_CFLAGS := -O2 -g -target $(BPF_TARGET) -mcpu=v3 -Wall -Werror \
	-Iinclude -Ibpf -I$(ARCH_INC) $(BPF_ARCH_CFLAGS) \
	$(if $(filter 1,$(STRICT_ALIGN)),-DFC_STRICT_ALIGN=1)
# METRICS_HTTP=0: no libmicrohttpd, --metrics refused (src/metrics.h);
# IPFIX=0: no libfixbuf (nor glib), --ipfix refused (src/ipfix.h).
METRICS_HTTP ?= 1
IPFIX     ?= 1
# Warnings and include paths of every user-space build (gcc, and clang with sanitizers).
BASE_CFLAGS := -Wall -Wextra -Wno-unused-parameter -Werror -std=gnu11 \
	-Iinclude -I$(BUILD) -Isrc -DFCNAT_VERSION='"$(VERSION)"' \
	$(if $(filter 1,$(IPFIX)),$(shell $(PKG_CONFIG) --cflags libfixbuf),-DFC_IPFIX=0) \
	$(if $(filter 0,$(METRICS_HTTP)),-DFC_METRICS_HTTP=0)
CFLAGS    ?= -O2 -g
CFLAGS    += $(BASE_CFLAGS)
PKG_LIBS  ?= --libs
LDLIBS    := -lbpf -lelf -lz -linih -ljson-c \
	$(if $(filter 1,$(IPFIX)),$(shell $(PKG_CONFIG) $(PKG_LIBS) libfixbuf)) \
	$(if $(filter 1,$(METRICS_HTTP)),$(shell $(PKG_CONFIG) $(PKG_LIBS) libmicrohttpd))

BPF_HDRS  := $(wildcard bpf/lib/*.h) $(wildcard include/fcnat/*.h)
# Everything of user space but main.c: the tests link it too.
LIB_SRCS  := src/options.c src/options_table.c src/option_values.c src/options_cgnat.c src/options_sync.c src/options_nat64.c src/log.c src/netlink.c src/daemon.c src/loader.c src/tc_clsact.c src/xdp_attach.c src/bpf_info.c src/gc.c \
	src/epset.c src/deterministic.c src/stats.c src/forward.c src/events.c src/ipfix.c src/syslog_sink.c src/pin.c src/show.c src/show_stats.c src/show_subscribers.c src/metrics.c \
	src/metrics_http.c src/pcp.c src/pcp_access.c src/pcp_codec.c src/pcp_table.c src/link.c src/kernel_features.c src/bpf_profile.c \
	src/ports.c src/import_einat.c src/tc_attach.c src/vlan.c \
	src/upnp.c src/upnp_http.c src/upnp_ssdp.c src/upnp_soap.c src/upnp_desc.c src/upnp_control.c src/upnp_gena.c \
	src/sync_hmac.c src/sync_wire.c src/sync_table.c src/sync.c src/sync_rx.c src/sync_status.c \
	src/ct_msg.c src/ct_sock.c src/offload.c src/offload_opts.c src/offload_flows.c src/offload_pin.c src/offload_show.c src/offload_nh.c \
	src/nat64_pool.c src/ext_addr.c
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/%.o)
SKELS     := $(BUILD)/fcnat_tc.skel.h $(BUILD)/fcnat_xdp.skel.h $(BUILD)/fcnat_offload.skel.h $(BUILD)/fcnat_offload_xdp.skel.h
UNIT_SRCS := $(filter-out %.bpf.c,$(wildcard tests/unit/*.c))
# Test-only BPF programs (probes of single lib functions).
UNIT_SKELS := $(BUILD)/parse_probe.skel.h $(BUILD)/xlat_probe.skel.h $(BUILD)/xlat_probe_xdp.skel.h
# What the fuzzer and the scale test share with the unit tests.
FIXTURE_SRCS := tests/unit/fixture.c tests/unit/pkt.c

# ASan+UBSan and libFuzzer builds (clang).
# Any UB report is fatal.
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer $(SAN_FLAGS) $(BASE_CFLAGS)
SAN_OBJS   := $(LIB_SRCS:src/%.c=$(BUILD)/san/%.o)
# Every tests/fuzz/lf_NAME.c (it defines LLVMFuzzerTestOneInput) becomes
# $(BUILD)/lf/lf_NAME over a coverage-instrumented build of LIB_SRCS; seeds
# are read from tests/fuzz/corpus/NAME/, new inputs go to $(BUILD)/lf/corpus/NAME/.
LF_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined $(BASE_CFLAGS)
LF_OBJS    := $(LIB_SRCS:src/%.c=$(BUILD)/lf/obj/%.o)
LF_NAMES   := $(patsubst tests/fuzz/lf_%.c,%,$(wildcard tests/fuzz/lf_*.c))
LF_BINS    := $(LF_NAMES:%=$(BUILD)/lf/lf_%)
# Executions per harness and the time limit of each (seconds): reaching the
# limit first is a failure.
LF_RUNS       ?= 1000000
LF_TIME       ?= 3600
LF_SHORT_RUNS ?= 30000
LF_SHORT_TIME ?= 120

.PHONY: all clean sysroot test bpf-check unit-test strict-align-unit-test integration-test vmtest demo bench deps man install uninstall \
	fuzz fuzz-short scale lf san-unit-test san-integration-test
.DELETE_ON_ERROR:
# Kept between runs: the sanitized and fuzzing objects take minutes to build.
.SECONDARY: $(SAN_OBJS) $(LF_OBJS)

all: $(BUILD)/fcnat

$(BUILD):
	mkdir -p $@

# Every program's deepest chain of BPF functions must fit the stack as
# kernels before 6.9 count it (Debian 12's 6.1 refuses it otherwise).
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(PYTHON) scripts/bpf-stack-depth.py -q $@
	$(if $(BPF_STRIP),$(BPF_STRIP) $@)

$(BUILD)/%.bpf.o: bench/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: tests/unit/%.bpf.c tests/unit/%.h $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -Itests/unit -c $< -o $@

# The XDP build of the xlat probe is its TC source over ctx_xdp.h.
$(BUILD)/xlat_probe_xdp.bpf.o: tests/unit/xlat_probe.bpf.c tests/unit/xlat_probe.h

# A cross build of the other byte order makes the skeleton from its
# host-order twin and embeds its own object (mk/cross.mk, scripts/skel-elf.py).
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o $(SKEL_TWIN)
	$(if $(SKEL_TWIN),$(BPFTOOL) gen skeleton $(word 2,$^) name $* > $@.twin && \
		$(PYTHON) scripts/skel-elf.py $< < $@.twin > $@ && rm -f $@.twin,$(BPFTOOL) gen skeleton $< name $* > $@)

# --import-einat runs the converter installed by `make install`.
$(BUILD)/import_einat.o: CFLAGS += -DFCNAT_LIBEXECDIR='"$(LIBEXECDIR)"'
$(BUILD)/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/fcnat/*.h) $(SKELS) | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/fcnat: $(BUILD)/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_SRCS) $(wildcard tests/unit/*.h) $(wildcard include/fcnat/*.h) $(LIB_OBJS) $(SKELS) $(UNIT_SKELS)
	$(CC) $(CFLAGS) -Itests/unit -DFC_SOURCE_DIR='"$(CURDIR)"' $(UNIT_SRCS) $(LIB_OBJS) -o $@ $(LDLIBS)

# test_tcx.py's other TC user: a counting program and what attaches it (TCX).
$(BUILD)/tcx_count.bpf.o: tests/integration/tcx/tcx_count.bpf.c tests/integration/tcx/tcx_peer.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -Itests/integration/tcx -c $< -o $@

$(BUILD)/tcx_peer: tests/integration/tcx/tcx_peer.c tests/integration/tcx/tcx_peer.h $(BUILD)/tcx_count.bpf.o
	$(CC) $(CFLAGS) -Itests/integration/tcx $< -o $@ -lbpf -lelf -lz

MANPAGES  := $(BUILD)/fcnat.8 $(BUILD)/fcnat.conf.5

$(BUILD)/%: doc/%.scd | $(BUILD)
	scdoc < $< > $@

man: $(MANPAGES)

# `make install PREFIX=/usr DESTDIR=/tmp/pkg`: binary, man pages, systemd unit,
# bash completion, example configuration.
install: $(BUILD)/fcnat $(MANPAGES)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		packaging/fcnat.service > $(BUILD)/fcnat.service
	install -Dm755 $(BUILD)/fcnat $(DESTDIR)$(SBINDIR)/fcnat
	install -Dm644 $(BUILD)/fcnat.8 $(DESTDIR)$(MANDIR)/man8/fcnat.8
	install -Dm644 $(BUILD)/fcnat.conf.5 $(DESTDIR)$(MANDIR)/man5/fcnat.conf.5
	install -Dm644 $(BUILD)/fcnat.service $(DESTDIR)$(UNITDIR)/fcnat.service
	install -Dm644 packaging/fcnat.bash-completion $(DESTDIR)$(BASHCOMPDIR)/fcnat
	install -Dm644 packaging/fcnat.conf.example $(DESTDIR)$(DOCDIR)/fcnat.conf.example
	install -Dm755 src/import_einat.py $(DESTDIR)$(LIBEXECDIR)/import-einat

# Debian package (debian/): dpkg-buildpackage writes to the parent
# directory; the results are moved to $(BUILD)/deb/.
.PHONY: deb
deb:
	dpkg-buildpackage -us -uc -b
	mkdir -p $(BUILD)/deb
	mv ../fcnat_$(VERSION)_*.deb ../fcnat_$(VERSION)_*.buildinfo ../fcnat_$(VERSION)_*.changes $(BUILD)/deb/
	-mv ../fcnat-dbgsym_$(VERSION)_*.deb $(BUILD)/deb/ 2>/dev/null

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fcnat $(DESTDIR)$(MANDIR)/man8/fcnat.8 \
		$(DESTDIR)$(MANDIR)/man5/fcnat.conf.5 $(DESTDIR)$(UNITDIR)/fcnat.service \
		$(DESTDIR)$(BASHCOMPDIR)/fcnat $(DESTDIR)$(DOCDIR)/fcnat.conf.example \
		$(DESTDIR)$(LIBEXECDIR)/import-einat

# Every BPF object, datapath, test probes and benchmarks: none may need kernel
# BTF (zero CO-RE relocations), and the headers must have wire layout when
# built for either byte order (the datapath is built for both, into
# $(BUILD)/endian/). bpf/lib/hdr.h, doc/design/kernel-compat.md.
BPF_OBJS := $(BUILD)/fcnat_tc.bpf.o $(BUILD)/fcnat_xdp.bpf.o $(BUILD)/fcnat_offload.bpf.o $(BUILD)/fcnat_offload_xdp.bpf.o $(UNIT_SKELS:.skel.h=.bpf.o) \
	$(BUILD)/bench_tc.bpf.o $(BUILD)/bench_xdp.bpf.o
bpf-check: $(BPF_OBJS)
	$(PYTHON) scripts/bpf-core-relocs.py $^
	$(PYTHON) scripts/bpf-layout-check.py --clang $(CLANG) --outdir $(BUILD)/endian \
		--also bpf/fcnat_tc.bpf.c bpf/fcnat_xdp.bpf.c bpf/fcnat_offload.bpf.c bpf/fcnat_offload_xdp.bpf.c -- $(BPF_CFLAGS)
	$(PYTHON) scripts/bpf-core-relocs.py $(BUILD)/endian/*/*.bpf.o

# Twice: the profile this kernel gets, then the portable one (bounded loops,
# no kernel BTF) that interpreter-only kernels get (src/bpf_profile.h).
unit-test: $(BUILD)/unit_tests
	$(BUILD)/unit_tests
	FCNAT_BPF_PROFILE=bounded-loops,no-kernel-btf $(BUILD)/unit_tests

# The objects of the strict-alignment build (bpf/lib/hdr.h: what mipsel and
# mips get) under the verifier's checks of a CPU without unaligned access,
# on this CPU: a header read through a struct instead of its pkt_ view fails
# here, not first on a router.
strict-align-unit-test:
	$(MAKE) STRICT_ALIGN=1 BUILD=$(BUILD)/strict-align $(BUILD)/strict-align/unit_tests
	FCNAT_BPF_PROFILE=strict-align $(BUILD)/strict-align/unit_tests

# --durations: the slowest tests named in every log, to watch CI's time.
integration-test: $(BUILD)/fcnat $(BUILD)/tcx_peer
	$(PYTHON) -m pytest -v --durations=25 tests/integration

# The unit tests and the smoke tests in a VM on Debian 12's stock kernel (6.1):
# tests/vm/vmtest, doc/design/vmtest.md. As root; the first run downloads the
# kernel package (cached in /var/cache/fcnat-vm). FCNAT_VMTEST=0 skips it, saying
# so; VMTEST_ARGS passes options (e.g. VMTEST_ARGS='--steps selftest').
# `make vmtest ARCH=arm64|s390x|mipsel`: that architecture's Debian 12 kernel
# and root (made first), the cross build (with a sysroot, made when missing),
# build/ARCH's binaries in the VM (doc/portability.md). Not in `make test`.
VMTEST_ARGS ?=
ifeq ($(TRIPLET),)
# Then a kernel below the floor (Debian 11's 5.10, doc/design/kernel-compat.md)
# must be refused cleanly; skipped, and said so, when it cannot be fetched.
vmtest: $(BUILD)/fcnat $(BUILD)/unit_tests
	@if [ "$(FCNAT_VMTEST)" = 0 ]; then echo "vmtest: SKIPPED (FCNAT_VMTEST=0)"; \
	else tests/vm/vmtest $(VMTEST_ARGS) && \
	{ tests/vm/vmtest --kernel debian11-amd64 --prepare-only; rc=$$?; \
	  if [ $$rc = 2 ]; then echo "vmtest: floor refusal SKIPPED (Debian 11's kernel cannot be fetched, see above)"; \
	  elif [ $$rc = 0 ]; then tests/vm/vmtest --kernel debian11-amd64 --steps refuse --timeout 600; \
	  else exit $$rc; fi; }; fi
else
vmtest:
	tests/vm/vmtest --arch $(ARCH) --prepare-only
	$(if $(SYSROOT),,$(MAKE) sysroot ARCH=$(ARCH))
	$(MAKE) ARCH=$(ARCH) $(BUILD)/fcnat $(BUILD)/unit_tests
	tests/vm/vmtest --arch $(ARCH) $(VMTEST_ARGS)
endif

test: man bpf-check unit-test strict-align-unit-test san-unit-test vmtest fuzz-short integration-test san-integration-test

FUZZ_SRCS := tests/fuzz/fuzz.c tests/fuzz/fuzz_ipv6.c
$(BUILD)/fuzz: $(FUZZ_SRCS) tests/fuzz/fuzz.h $(FIXTURE_SRCS) $(wildcard tests/unit/*.h) $(LIB_OBJS) $(SKELS)
	$(CC) $(CFLAGS) -Itests/unit $(FUZZ_SRCS) $(FIXTURE_SRCS) $(LIB_OBJS) -o $@ $(LDLIBS)

# FUZZ_SEED picks the packet stream; the same seed gives the same packets.
FUZZ_SEED ?= 1
fuzz: $(BUILD)/fuzz $(LF_BINS)
	$(BUILD)/fuzz -n 10000000 -t 600 -s $(FUZZ_SEED) -v
	tests/fuzz/lf_run.sh $(BUILD)/lf $(LF_RUNS) $(LF_TIME) $(LF_NAMES)

# A million sessions through the datapath: memory, sweeper, latency (doc/scale.md).
$(BUILD)/scale: tests/scale/scale.c $(FIXTURE_SRCS) $(wildcard tests/unit/*.h) $(LIB_OBJS) $(SKELS) $(BUILD)/bench_tc.skel.h
	$(CC) $(CFLAGS) -Itests/unit tests/scale/scale.c $(FIXTURE_SRCS) $(LIB_OBJS) -o $@ $(LDLIBS)

scale: $(BUILD)/scale
	$(BUILD)/scale

fuzz-short: $(BUILD)/fuzz $(LF_BINS)
	$(BUILD)/fuzz -n 200000 -t 120 -s $(FUZZ_SEED)
	tests/fuzz/lf_run.sh $(BUILD)/lf $(LF_SHORT_RUNS) $(LF_SHORT_TIME) $(LF_NAMES)

# ---- ASan+UBSan builds and libFuzzer harnesses (doc/security.md) ----------
$(BUILD)/san/%.o: src/%.c $(wildcard src/*.h) include/fcnat/types.h $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(SAN_CFLAGS) -c $< -o $@

$(BUILD)/lf/obj/%.o: src/%.c $(wildcard src/*.h) include/fcnat/types.h $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(LF_CFLAGS) -c $< -o $@

$(BUILD)/lf/lf_%: tests/fuzz/lf_%.c $(wildcard tests/fuzz/*.h) $(wildcard src/*.h) $(LF_OBJS)
	$(CLANG) $(LF_CFLAGS) -fsanitize=fuzzer -Itests/fuzz $< $(LF_OBJS) -o $@ $(LDLIBS)

lf: $(LF_BINS)

$(BUILD)/san/fcnat: $(BUILD)/san/main.o $(SAN_OBJS)
	$(CLANG) $(SAN_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/san/unit_tests: $(UNIT_SRCS) $(wildcard tests/unit/*.h) $(SAN_OBJS) $(SKELS) $(UNIT_SKELS)
	$(CLANG) $(SAN_CFLAGS) -Itests/unit -DFC_SOURCE_DIR='"$(CURDIR)"' $(UNIT_SRCS) $(SAN_OBJS) -o $@ $(LDLIBS)

# A leak, an ASan error or any UB report ends the run with a non-zero status.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LSAN_OPTIONS=exitcode=86

san-unit-test: $(BUILD)/san/unit_tests
	$(SAN_ENV) $(BUILD)/san/unit_tests

# The first daemon test of every integration file, with the ASan+UBSan daemon
# (conftest.py: FCNAT_SAN_SUBSET; a sanitizer report on its stderr fails the test).
san-integration-test: $(BUILD)/san/fcnat $(BUILD)/tcx_peer
	$(SAN_ENV) FCNAT_BIN=$(abspath $(BUILD)/san/fcnat) FCNAT_SAN_SUBSET=1 \
		$(PYTHON) -m pytest -v tests/integration

# Installs what is missing (Debian), builds, and runs the namespace demo.
demo:
	scripts/deps.sh
	$(MAKE) all
	scripts/demo.sh

# `make sysroot ARCH=...`: the target's libraries for a cross build, without a VM root.
sysroot:
	scripts/cross-sysroot.sh $(ARCH) $(FCNAT_VM_CACHE)/sysroot/$(ARCH)

# `make deps ARCH=...` also installs the cross compilers, qemu and mmdebstrap.
deps:
	scripts/deps.sh $(if $(TRIPLET),--cross)

$(BUILD)/microbench: bench/microbench.c tests/unit/pkt.c $(LIB_OBJS) $(BUILD)/bench_tc.skel.h
	$(CC) $(CFLAGS) -Itests/unit bench/microbench.c tests/unit/pkt.c $(LIB_OBJS) -o $@ $(LDLIBS)

FWDBENCH_COMMON := bench/fwdbench_common.c bench/fwdbench.h tests/unit/pkt.c $(BUILD)/bench_xdp.skel.h

$(BUILD)/fwdbench: bench/fwdbench.c bench/zipf.c bench/zipf.h $(FWDBENCH_COMMON)
	$(CC) $(CFLAGS) -Itests/unit bench/fwdbench.c bench/zipf.c $(filter %.c,$(FWDBENCH_COMMON)) -o $@ $(LDLIBS) -lm

# The cost of a packet to fc_xdp_int and to one or two plain hash lookups
# cycling through 1 to 1M flows, BPF_PROG_TEST_RUN only (doc/benchmarks.md).
$(BUILD)/costprobe: bench/costprobe.c bench/zipf.c bench/zipf.h $(FIXTURE_SRCS) $(wildcard tests/unit/*.h) $(LIB_OBJS) $(SKELS) $(BUILD)/bench_xdp.skel.h
	$(CC) $(CFLAGS) -Itests/unit bench/costprobe.c bench/zipf.c $(FIXTURE_SRCS) $(LIB_OBJS) -o $@ $(LDLIBS) -lm

$(BUILD)/fwdbench_offload: bench/fwdbench_offload.c $(FWDBENCH_COMMON)
	$(CC) $(CFLAGS) -Itests/unit bench/fwdbench_offload.c $(filter %.c,$(FWDBENCH_COMMON)) -o $@ $(LDLIBS)

# Flows installed per second, one at a time and batched (doc/design/offload.md).
$(BUILD)/offload_install: bench/offload_install.c $(BUILD)/ct_msg.o $(BUILD)/offload_flows.o $(BUILD)/log.o $(BUILD)/fcnat_offload.skel.h
	$(CC) $(CFLAGS) bench/offload_install.c $(BUILD)/ct_msg.o $(BUILD)/offload_flows.o $(BUILD)/log.o -o $@ $(LDLIBS)

$(BUILD)/loadtime: bench/loadtime.c $(LIB_OBJS) $(SKELS)
	$(CC) $(CFLAGS) bench/loadtime.c $(LIB_OBJS) -o $@ $(LDLIBS)

# Not part of `make test` (as root, about 5 min): per-packet cost, cost per packet
# cycling through 1 to 1M flows against plain lookups (costprobe), program load time,
# then forwarding rates side by side for 1, 10 000 and 1M flows, new flows/s, hit/miss
# ns, then the conntrack offload lines (fwdbench_offload) (doc/benchmarks.md).
bench: $(BUILD)/microbench $(BUILD)/costprobe $(BUILD)/loadtime $(BUILD)/fwdbench $(BUILD)/fwdbench_offload $(BUILD)/fcnat
	$(BUILD)/microbench
	$(BUILD)/costprobe
	$(BUILD)/loadtime
	$(BUILD)/fwdbench $(BUILD)/fcnat
	$(BUILD)/fwdbench_offload $(BUILD)/fcnat

clean:
	rm -rf $(BUILD)

ifneq ($(SKEL_TWIN),)
include mk/cross-rules.mk
endif
