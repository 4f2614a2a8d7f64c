/* SPDX-License-Identifier: GPL-2.0 */
/* The datapath's profile for the running kernel (bpf_profile.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>

#include "bpf_profile.h"
#include "kernel_features.h"
#include "log.h"

static struct fc_bpf_profile chosen;
static int chosen_state;	/* 0: not yet; 1: chosen; <0: bad setting */

static int parse_forced(const char *s, struct fc_bpf_profile *p)
{
	char buf[128], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "bounded-loops"))
			p->bounded_loops = true;
		else if (!strcmp(w, "no-kernel-btf"))
			p->static_ctx_funcs = true;
		else if (!strcmp(w, "strict-align"))
			p->strict_align = true;
		else
			return -EINVAL;
	}
	return 0;
}

int bpf_profile_get(struct fc_bpf_profile *p)
{
	const char *forced = getenv("FCNAT_BPF_PROFILE");
	char why[256] = "";

	if (chosen_state == 0) {
		if (forced && *forced && strcmp(forced, "auto")) {
			if (parse_forced(forced, &chosen)) {
				fc_err("FCNAT_BPF_PROFILE=%s: expected auto, or a comma list of "
				       "bounded-loops, no-kernel-btf and strict-align", forced);
				chosen_state = -EINVAL;
				return chosen_state;
			}
		} else {
			/* A probe that cannot run (no privilege) is no answer:
			 * the full profile, and the load says what is wrong. */
			chosen.bounded_loops = features_probe_callbacks(why, sizeof(why)) == 0;
			chosen.static_ctx_funcs = access("/sys/kernel/btf/vmlinux", R_OK) != 0;
		}
		chosen_state = 1;
		if (chosen.bounded_loops)
			fc_info("this kernel runs no bpf_loop() callbacks%s%s: the datapath's loops "
				"are bounded ones (port searches try at most 1024 ports)",
				*why ? ": " : "", why);
		if (chosen.static_ctx_funcs)
			fc_info("this kernel has no BTF of its own: the datapath's functions that "
				"take the packet are checked with each caller");
	}
	if (chosen_state < 0)
		return chosen_state;
	*p = chosen;
	return 0;
}

static bool is_ctx_struct(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const char *name;

	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_struct(t))
		return false;
	name = btf__name_by_offset(btf, t->name_off);
	return name && (!strcmp(name, "__sk_buff") || !strcmp(name, "xdp_md"));
}

/* Global functions taking the context become static (the linkage is the
 * FUNC type's vlen). Done in the object's BTF, which libbpf loads next. */
static int make_ctx_funcs_static(struct bpf_object *obj, const char *what)
{
	struct btf *btf = bpf_object__btf(obj);
	unsigned int n, changed = 0;

	if (!btf)
		return 0;
	n = btf__type_cnt(btf);
	for (unsigned int id = 1; id < n; id++) {
		struct btf_type *t = (struct btf_type *)btf__type_by_id(btf, id);

		if (!t || !btf_is_func(t) || btf_vlen(t) != BTF_FUNC_GLOBAL ||
		    !bpf_profile_is_ctx_func(btf, t))
			continue;
		t->info = (t->info & ~0xffffU) | BTF_FUNC_STATIC;
		changed++;
	}
	fc_debug("%s object: %u global functions taking the context made static", what, changed);
	return 0;
}

int bpf_profile_apply_this(struct bpf_object *obj, volatile unsigned char *no_callbacks,
			   const char *what, const struct fc_bpf_profile *p)
{
	*no_callbacks = p->bounded_loops;
	if (p->strict_align) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, obj)
			bpf_program__set_flags(prog, bpf_program__flags(prog) | BPF_F_STRICT_ALIGNMENT);
	}
	return p->static_ctx_funcs ? make_ctx_funcs_static(obj, what) : 0;
}

int bpf_profile_apply(struct bpf_object *obj, volatile unsigned char *no_callbacks, const char *what)
{
	struct fc_bpf_profile p;
	int err = bpf_profile_get(&p);

	return err ? err : bpf_profile_apply_this(obj, no_callbacks, what, &p);
}

bool bpf_profile_is_ctx_func(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_type *proto = btf__type_by_id(btf, t->type);
	const struct btf_param *params;

	if (!proto || !btf_is_func_proto(proto))
		return false;
	params = btf_params(proto);
	for (unsigned int i = 0; i < btf_vlen(proto); i++)
		if (is_ctx_struct(btf, params[i].type))
			return true;
	return false;
}
