// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel feature probes before the BPF objects load (kernel_features.h).
 *
 * What an object uses is read from its own code, not listed by hand: every
 * helper call in every executable section, so a helper added to bpf/ is
 * probed without anyone remembering to. The table below only names them and
 * says which Linux release added each; a unit test fails when an object
 * calls a helper the table lacks (tests/unit/test_features.c).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

#include "bpf_profile.h"
#include "kernel_features.h"
#include "log.h"

#define H(n, v)	{ BPF_FUNC_##n, "bpf_" #n, v }
/* Mainline release of each helper fcnat's objects call (and a few near
 * them), from the kernel's git history. */
static const struct fc_helper_info helpers[] = {
	H(map_lookup_elem, "3.19"),
	H(map_update_elem, "3.19"),
	H(map_delete_elem, "3.19"),
	H(ktime_get_ns, "4.1"),
	H(trace_printk, "4.1"),
	H(get_prandom_u32, "4.1"),
	H(skb_store_bytes, "4.1"),
	H(l3_csum_replace, "4.1"),
	H(l4_csum_replace, "4.1"),
	H(tail_call, "4.2"),
	H(clone_redirect, "4.2"),
	H(skb_vlan_push, "4.3"),
	H(skb_vlan_pop, "4.3"),
	H(redirect, "4.4"),
	H(skb_load_bytes, "4.5"),
	H(csum_diff, "4.6"),
	H(skb_change_proto, "4.8"),
	H(skb_change_tail, "4.9"),
	H(skb_pull_data, "4.9"),
	H(skb_change_head, "4.10"),
	H(xdp_adjust_head, "4.10"),
	H(skb_adjust_room, "4.13"),
	H(redirect_map, "4.14"),
	H(fib_lookup, "4.18"),
	H(xdp_adjust_tail, "4.18"),
	H(ringbuf_output, "5.8"),
	H(ringbuf_reserve, "5.8"),
	H(ringbuf_submit, "5.8"),
	H(ringbuf_discard, "5.8"),
	H(redirect_neigh, "5.10"),
	H(ktime_get_coarse_ns, "5.11"),
	H(check_mtu, "5.12"),
	H(loop, "5.17"),
	H(xdp_load_bytes, "5.18"),
	H(xdp_store_bytes, "5.18"),
};
#undef H

static const struct {
	enum bpf_map_type type;
	const char *since;
} map_types[] = {
	{ BPF_MAP_TYPE_HASH, "3.19" },
	{ BPF_MAP_TYPE_ARRAY, "3.19" },
	{ BPF_MAP_TYPE_PROG_ARRAY, "4.2" },
	{ BPF_MAP_TYPE_PERCPU_HASH, "4.6" },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, "4.6" },
	{ BPF_MAP_TYPE_LRU_HASH, "4.10" },
	{ BPF_MAP_TYPE_LPM_TRIE, "4.11" },
	{ BPF_MAP_TYPE_DEVMAP, "4.14" },
	{ BPF_MAP_TYPE_DEVMAP_HASH, "5.4" },
	{ BPF_MAP_TYPE_RINGBUF, "5.8" },
};

static const struct {
	enum bpf_prog_type type;
	const char *since;
} prog_types[] = {
	{ BPF_PROG_TYPE_SCHED_CLS, "4.1" },
	{ BPF_PROG_TYPE_XDP, "4.8" },
	{ BPF_PROG_TYPE_SYSCALL, "5.14" },
};

const struct fc_helper_info *features_helper(int id)
{
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (helpers[i].id == id)
			return &helpers[i];
	return NULL;
}

const char *features_map_type_since(enum bpf_map_type t)
{
	for (size_t i = 0; i < sizeof(map_types) / sizeof(map_types[0]); i++)
		if (map_types[i].type == t)
			return map_types[i].since;
	return NULL;
}

static const char *prog_type_since(enum bpf_prog_type t)
{
	for (size_t i = 0; i < sizeof(prog_types) / sizeof(prog_types[0]); i++)
		if (prog_types[i].type == t)
			return prog_types[i].since;
	return "?";
}

/* Helpers that take a subprogram as a callback. */
static bool takes_callback(int id)
{
	return id == BPF_FUNC_loop || id == BPF_FUNC_for_each_map_elem ||
	       id == BPF_FUNC_timer_set_callback || id == BPF_FUNC_find_vma;
}

int features_scan(const void *elf, size_t size, struct fc_obj_uses *u)
{
	Elf_Scn *scn = NULL;
	char *img;
	Elf *e;

	memset(u, 0, sizeof(*u));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	/* libelf wants a writable image. */
	img = malloc(size);
	if (!img)
		return -ENOMEM;
	memcpy(img, elf, size);
	e = elf_memory(img, size);
	if (!e) {
		free(img);
		return -EINVAL;
	}
	while ((scn = elf_nextscn(e, scn))) {
		const struct bpf_insn *in;
		Elf_Data *d;
		GElf_Shdr sh;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		/* The object is built for this CPU's byte order (the loader
		 * could not load it otherwise), so struct bpf_insn reads it. */
		in = d->d_buf;
		n = d->d_size / sizeof(*in);
		for (size_t i = 0; i < n; i++) {
			if (in[i].code == (BPF_LD | BPF_IMM | BPF_DW)) {
				i++;	/* its second half is no instruction */
				continue;
			}
			if (in[i].code != (BPF_JMP | BPF_CALL))
				continue;
			if (in[i].src_reg == BPF_PSEUDO_CALL) {
				u->bpf_calls = true;
				continue;
			}
			if (in[i].src_reg != 0)
				continue;	/* kfunc */
			if (takes_callback(in[i].imm))
				u->callbacks = true;
			bool seen = false;
			for (unsigned int k = 0; k < u->nr_helpers; k++)
				seen |= u->helpers[k] == in[i].imm;
			if (!seen && u->nr_helpers < sizeof(u->helpers) / sizeof(u->helpers[0]))
				u->helpers[u->nr_helpers++] = in[i].imm;
		}
	}
	elf_end(e);
	free(img);
	return 0;
}

/* ---- probes ------------------------------------------------------------- */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_IMM(d, i)	INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s)	INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i)	INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ST_MEM(sz, d, o, i)	INSN(BPF_ST | BPF_MEM | (sz), d, 0, o, i)
#define CALL_HELPER(id)	INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define CALL_SUB(rel)	INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, rel)
#define EXIT()		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The verifier's reason, into why: its last line but the statistics. */
static void last_line(const char *log, char *why, size_t len)
{
	const char *end = log + strlen(log), *p;

	for (;;) {
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		for (p = end; p > log && p[-1] != '\n'; p--)
			;
		if (p == log || (strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17)))
			break;
		end = p;
	}
	snprintf(why, len, "%.*s", (int)(end - p), p);
}

/*
 * Load insns as a TC program: its fd, or -errno with the verifier's reason
 * in why. funcs: the instruction index of each function after the first,
 * which then get BTF func_info (the verifier wants it for callbacks).
 */
static int probe_load(const struct bpf_insn *insns, size_t n, const int *funcs, int nr_funcs,
		      char *why, size_t len)
{
	static char log[8192];
	struct bpf_func_info fi[4];
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	struct btf *btf = NULL;
	int fd, err, proto;

	if (why && len)
		why[0] = 0;
	if (nr_funcs) {
		btf = btf__new_empty();
		if (!btf)
			return -ENOMEM;
		proto = btf__add_func_proto(btf, btf__add_int(btf, "int", 4, BTF_INT_SIGNED));
		fi[0] = (struct bpf_func_info){ 0, btf__add_func(btf, "probe", BTF_FUNC_STATIC, proto) };
		for (int i = 0; i < nr_funcs && i + 1 < 4; i++)
			fi[i + 1] = (struct bpf_func_info){
				funcs[i], btf__add_func(btf, "probe_sub", BTF_FUNC_STATIC, proto) };
		err = btf__load_into_kernel(btf);
		if (err) {
			btf__free(btf);
			return err;
		}
		opts.prog_btf_fd = btf__fd(btf);
		opts.func_info = fi;
		opts.func_info_cnt = nr_funcs + 1;
		opts.func_info_rec_size = sizeof(fi[0]);
	}
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "fc_probe", "GPL", insns, n, &opts);
	err = fd >= 0 ? 0 : -errno;
	if (fd < 0 && err != -EPERM && why) {
		/* Again with the verifier's log, for its reason. */
		log[0] = 0;
		opts.log_buf = log;
		opts.log_size = sizeof(log);
		opts.log_level = 1;
		fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "fc_probe", "GPL", insns, n, &opts);
		if (fd >= 0)
			close(fd);
		fd = err;
		last_line(log, why, len);
	}
	btf__free(btf);
	return fd >= 0 ? fd : err;
}

static int probe_result(int fd)
{
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return fd == -EPERM ? fd : 0;
}

int features_probe_bpf_calls(char *why, size_t len)
{
	const struct bpf_insn insns[] = {
		CALL_SUB(2),		/* to 3 */
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};

	return probe_result(probe_load(insns, sizeof(insns) / sizeof(insns[0]), NULL, 0,
				       why, len));
}

int features_probe_callbacks(char *why, size_t len)
{
	const struct bpf_insn insns[] = {
		MOV64_IMM(BPF_REG_1, 1),
		/* r2 = the callback at 8 (ld_imm64's imm: from the next insn) */
		INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_2, BPF_PSEUDO_FUNC, 0, 6),
		INSN(0, 0, 0, 0, 0),
		MOV64_IMM(BPF_REG_3, 0),
		MOV64_IMM(BPF_REG_4, 0),
		CALL_HELPER(BPF_FUNC_loop),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
		MOV64_IMM(BPF_REG_0, 0),	/* the callback: stop */
		EXIT(),
	};
	const int callback = 8;

	return probe_result(probe_load(insns, sizeof(insns) / sizeof(insns[0]), &callback, 1,
				       why, len));
}

int features_probe_fib_src(void)
{
	const int fib = -(int)sizeof(struct bpf_fib_lookup);
	const struct bpf_insn insns[] = {
		MOV64_REG(BPF_REG_6, BPF_REG_1),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 0, 0),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 8, 0),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 16, 0),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 24, 0),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 32, 0),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 40, 0),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 48, 0),
		ST_MEM(BPF_DW, BPF_REG_10, fib + 56, 0),
		ST_MEM(BPF_B, BPF_REG_10, fib + (int)offsetof(struct bpf_fib_lookup, family), AF_INET),
		ST_MEM(BPF_W, BPF_REG_10, fib + (int)offsetof(struct bpf_fib_lookup, ifindex), 1),
		MOV64_REG(BPF_REG_1, BPF_REG_6),
		MOV64_REG(BPF_REG_2, BPF_REG_10),
		ADD64_IMM(BPF_REG_2, fib),
		MOV64_IMM(BPF_REG_3, sizeof(struct bpf_fib_lookup)),
		MOV64_IMM(BPF_REG_4, BPF_FIB_LOOKUP_SRC),
		CALL_HELPER(BPF_FUNC_fib_lookup),
		EXIT(),
	};
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt));
	int fd, err;

	_Static_assert(sizeof(struct bpf_fib_lookup) == 64, "bpf_fib_lookup");
	fd = probe_load(insns, sizeof(insns) / sizeof(insns[0]), NULL, 0, NULL, 0);
	if (fd < 0)
		return fd;
	err = bpf_prog_test_run_opts(fd, &run);
	close(fd);
	if (err)
		return -errno;
	/* Kernels that do not know the flag refuse the call with -EINVAL
	 * before any lookup (ifindex 1, lo, exists in every namespace). */
	return (int)run.retval == -EINVAL ? 0 : 1;
}

/* ---- the check ---------------------------------------------------------- */

/* Answers kept for the life of the process: (program type, helper) -> r. */
static struct {
	enum bpf_prog_type type;
	int id;
	int r;
} helper_cache[128];
static unsigned int nr_helper_cache;

static int probe_helper(enum bpf_prog_type t, int id)
{
	int r;

	for (unsigned int i = 0; i < nr_helper_cache; i++)
		if (helper_cache[i].type == t && helper_cache[i].id == id)
			return helper_cache[i].r;
	r = libbpf_probe_bpf_helper(t, id, NULL);
	if (nr_helper_cache < sizeof(helper_cache) / sizeof(helper_cache[0]))
		helper_cache[nr_helper_cache++] = (typeof(helper_cache[0])){ t, id, r };
	return r;
}

static int cached_callbacks = 2, cached_bpf_calls = 2, cached_fib_src = 2;
static char callbacks_why[256], bpf_calls_why[256];

/* Kernels from 5.7 switch the JIT on by default with no sysctl to turn it
 * off (CONFIG_BPF_JIT_DEFAULT_ON); where it can be off, say so. */
static void jit_hint(void)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	if (v == 0)
		fc_err("the BPF JIT is off here: sysctl -w net.core.bpf_jit_enable=1");
	else
		fc_err("this CPU's BPF JIT cannot compile them (the MIPS JITs do not "
		       "BPF-to-BPF calls), and the interpreter refuses callbacks");
}

int features_check(struct bpf_object *obj, const void *elf, size_t size, const char *what)
{
	enum bpf_prog_type main_type = BPF_PROG_TYPE_UNSPEC;
	enum bpf_prog_type seen_types[8];
	unsigned int nr_types = 0;
	struct bpf_program *prog;
	struct fc_bpf_profile profile;
	struct fc_obj_uses u;
	struct bpf_map *map;
	int missing = 0;

	if (features_scan(elf, size, &u)) {
		fc_debug("cannot read the %s object's code: its features are not probed", what);
		return 0;
	}
	bpf_object__for_each_program(prog, obj) {
		enum bpf_prog_type t = bpf_program__type(prog);
		bool seen = false;

		if (!bpf_program__autoload(prog))
			continue;
		if (main_type == BPF_PROG_TYPE_UNSPEC && t != BPF_PROG_TYPE_SYSCALL)
			main_type = t;
		for (unsigned int i = 0; i < nr_types; i++)
			seen |= seen_types[i] == t;
		if (seen || nr_types == sizeof(seen_types) / sizeof(seen_types[0]))
			continue;
		seen_types[nr_types++] = t;
		if (libbpf_probe_bpf_prog_type(t, NULL) == 0) {
			fc_err("this kernel has no BPF programs of type %s (Linux %s)",
			       libbpf_bpf_prog_type_str(t), prog_type_since(t));
			missing++;
		}
	}
	if (missing)
		goto out;
	/* Helpers are asked for the object's hook: its syscall programs
	 * call none the hook lacks (map access, ring buffer, bpf_loop). */
	for (unsigned int i = 0; i < u.nr_helpers && main_type != BPF_PROG_TYPE_UNSPEC; i++) {
		const struct fc_helper_info *h = features_helper(u.helpers[i]);

		if (probe_helper(main_type, u.helpers[i]) != 0)
			continue;
		if (h)
			fc_err("this kernel has no %s (Linux %s), which fcnat's %s programs call",
			       h->name, h->since, what);
		else
			fc_err("this kernel has no BPF helper %d, which fcnat's %s programs call",
			       u.helpers[i], what);
		missing++;
	}
	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type t = bpf_map__type(map);
		const char *since = features_map_type_since(t);

		if (libbpf_probe_bpf_map_type(t, NULL) != 0)
			continue;
		fc_err("this kernel has no BPF maps of type %s (Linux %s), which fcnat's %s "
		       "programs use (%s)", libbpf_bpf_map_type_str(t), since ? since : "?",
		       what, bpf_map__name(map));
		missing++;
	}
	if (missing)
		goto out;
	if (u.bpf_calls && cached_bpf_calls == 2)
		cached_bpf_calls = features_probe_bpf_calls(bpf_calls_why, sizeof(bpf_calls_why));
	if (u.bpf_calls && cached_bpf_calls == 0) {
		fc_err("this kernel cannot load BPF-to-BPF calls, which fcnat's %s programs "
		       "make (the verifier: %s)", what, bpf_calls_why);
		jit_hint();
		missing++;
	} else if (u.callbacks && !(bpf_profile_get(&profile) == 0 && profile.bounded_loops)) {
		if (cached_callbacks == 2)
			cached_callbacks = features_probe_callbacks(callbacks_why,
								    sizeof(callbacks_why));
		if (cached_callbacks == 0) {
			fc_err("this kernel cannot load bpf_loop() callbacks, which fcnat's %s "
			       "programs use (the verifier: %s)", what, callbacks_why);
			jit_hint();
			missing++;
		}
	}
	for (unsigned int i = 0; i < u.nr_helpers && !missing; i++) {
		if (u.helpers[i] != BPF_FUNC_fib_lookup || main_type != BPF_PROG_TYPE_SCHED_CLS)
			continue;
		if (cached_fib_src == 2)
			cached_fib_src = features_probe_fib_src();
		/* Not a refusal: only the errors fcnat sends itself lack it. */
		if (cached_fib_src == 0)
			fc_warn("this kernel's bpf_fib_lookup() has no BPF_FIB_LOOKUP_SRC (Linux "
				"6.7, Debian 12's 6.1.0-57): the ICMP errors fcnat makes itself "
				"(refusals by --refused-icmp-rate, NAT64's Packet Too Big and "
				"Fragmentation Needed) leave from the external address (IPv4) "
				"or the refused packet's destination (IPv6), not the route's "
				"source address");
		cached_fib_src = cached_fib_src == 0 ? -1 : cached_fib_src;	/* warn once */
	}
out:
	if (!missing)
		return 0;
	fc_err("fcnat needs Linux " FC_MIN_KERNEL " or later (5.17 in TC mode alone) with "
	       "CONFIG_BPF_SYSCALL, CONFIG_NET_CLS_BPF, CONFIG_NET_CLS_ACT and a BPF JIT; "
	       "kernel BTF is not needed (doc/design/kernel-compat.md)");
	return -EOPNOTSUPP;
}
