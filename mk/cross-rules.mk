# The host-order twins of a cross build's BPF objects (mk/cross.mk): the same
# sources and flags, the host's byte order; bpftool reads only their names
# and section sizes.
$(BUILD)/twin/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -target $(HOST_BPF) -c $< -o $@

$(BUILD)/twin/%.bpf.o: bench/%.bpf.c $(BPF_HDRS) | $(BUILD)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -target $(HOST_BPF) -c $< -o $@

$(BUILD)/twin/%.bpf.o: tests/unit/%.bpf.c tests/unit/%.h $(BPF_HDRS) | $(BUILD)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -target $(HOST_BPF) -Itests/unit -c $< -o $@

$(BUILD)/twin/xlat_probe_xdp.bpf.o: tests/unit/xlat_probe.bpf.c tests/unit/xlat_probe.h

.PRECIOUS: $(BUILD)/twin/%.bpf.o
