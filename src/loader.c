// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "loader.h"
#include "log.h"

static bool libbpf_verbose;

/* libbpf's own lines start with "libbpf: "; its debug output (every
 * relocation) is only for --verbose. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	fputs("fcnat: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void loader_setup_libbpf_log(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

int loader_load(struct fc_loader *l, const struct fc_options *o)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->lo_accept_local = -1;
	l->skel = fcnat_tc__open();
	if (!l->skel) {
		err = -errno;
		fc_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	/* Each mapping is two entries, one per side. */
	bpf_map__set_max_entries(l->skel->maps.fc_bindings, o->max_mappings * 2);
	bpf_map__set_max_entries(l->skel->maps.fc_sessions, o->max_sessions);

	err = fcnat_tc__load(l->skel);
	if (err) {
		if (err == -EPERM)
			fc_err("loading BPF programs: permission denied "
			       "(run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)");
		else if (err == -EACCES || err == -EINVAL)
			fc_err("the kernel's verifier rejected the BPF programs "
			       "(its log is above): %s", strerror(-err));
		else
			fc_err("loading BPF programs failed: %s (the verifier's log is above)",
			       strerror(-err));
		fcnat_tc__destroy(l->skel);
		l->skel = NULL;
		return err;
	}
	return 0;
}

void loader_fill_config(const struct fc_options *o, __be32 ext_addr4, struct fc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (o->nat44)
		cfg->flags |= FC_CFG_NAT44;
	if (o->preserve_low_ports)
		cfg->flags |= FC_CFG_PRESERVE_LOW_PORTS;
	cfg->log_level = o->bpf_log;
	cfg->ext_addr4 = ext_addr4;
	cfg->nr_port_ranges = o->nr_port_ranges;
	for (unsigned int i = 0; i < o->nr_port_ranges; i++) {
		cfg->port_ranges[i] = o->port_ranges[i];
		cfg->port_total += o->port_ranges[i].last - o->port_ranges[i].first + 1;
	}
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		cfg->timeout_ns[t] = (__u64)o->timeout_s[t] * 1000000000ULL;
}

int loader_write_config(struct fc_loader *l, const struct fc_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.fc_config), &zero, cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int tc_attach_one(struct fc_tc_link *t, int ifindex, enum bpf_tc_attach_point point,
			 const struct bpf_program *prog)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->hook.sz = sizeof(t->hook);
	t->hook.ifindex = ifindex;
	t->hook.attach_point = point;
	t->opts.sz = sizeof(t->opts);
	t->opts.prog_fd = bpf_program__fd(prog);
	/* Handle and priority 0: the kernel picks free ones, ahead of
	 * filters that were already there, so nothing of the user's clashes. */
	err = bpf_tc_attach(&t->hook, &t->opts);
	if (err)
		return err;
	t->attached = true;
	return 0;
}

static void tc_detach_one(struct fc_tc_link *t)
{
	struct bpf_tc_opts o = {
		.sz = sizeof(o),
		.handle = t->opts.handle,
		.priority = t->opts.priority,
	};
	int err;

	if (!t->attached)
		return;
	err = bpf_tc_detach(&t->hook, &o);
	if (err && err != -ENOENT)
		fc_warn("detaching TC filter (handle %u, priority %u): %s",
			o.handle, o.priority, strerror(-err));
	t->attached = false;
}

/* Make sure ifindex has a clsact qdisc; *created says whether we made it. */
static int clsact_ensure(int ifindex, bool *created)
{
	struct bpf_tc_hook hook = {
		.sz = sizeof(hook),
		.ifindex = ifindex,
		.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS,
	};
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	*created = !err;
	return 0;
}

static void clsact_remove(int ifindex, bool *created)
{
	struct bpf_tc_hook hook = {
		.sz = sizeof(hook),
		.ifindex = ifindex,
		.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS,
	};
	int err;

	if (!*created)
		return;
	err = bpf_tc_hook_destroy(&hook);
	/* The interface may be gone already, taking the qdisc along. */
	if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
		fc_warn("removing the clsact qdisc of ifindex %d: %s", ifindex, strerror(-err));
	*created = false;
}

int loader_attach(struct fc_loader *l, int ifindex)
{
	int err;

	l->ifindex = ifindex;
	err = clsact_ensure(ifindex, &l->created_qdisc);
	if (err) {
		fc_err("creating the clsact qdisc: %s", strerror(-err));
		return err;
	}
	err = tc_attach_one(&l->ingress, ifindex, BPF_TC_INGRESS, l->skel->progs.fc_tc_ingress);
	if (err) {
		fc_err("attaching the TC ingress program: %s", strerror(-err));
		goto undo;
	}
	err = tc_attach_one(&l->egress, ifindex, BPF_TC_EGRESS, l->skel->progs.fc_tc_egress);
	if (err) {
		fc_err("attaching the TC egress program: %s", strerror(-err));
		goto undo;
	}
	return 0;
undo:
	loader_detach(l);
	return err;
}

#define LO_ACCEPT_LOCAL "/proc/sys/net/ipv4/conf/lo/accept_local"

static int sysctl_read(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int sysctl_write(const char *path, int v)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%d\n", v) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/*
 * The answer of an internal host to a gateway process comes in through lo
 * with the host's mapping, one of our addresses, as source; Linux takes a
 * local source for a martian unless accept_local is set on the interface.
 * Set it on lo only, and only while fcnat hairpins there.
 */
static int lo_accept_local_enable(struct fc_loader *l)
{
	int old = sysctl_read(LO_ACCEPT_LOCAL), err;

	if (old < 0)
		return -ENOENT;
	if (old == 1)
		return 0;
	err = sysctl_write(LO_ACCEPT_LOCAL, 1);
	if (err)
		return err;
	l->lo_accept_local = old;
	return 0;
}

static void lo_accept_local_restore(struct fc_loader *l)
{
	if (l->lo_accept_local < 0)
		return;
	if (sysctl_write(LO_ACCEPT_LOCAL, l->lo_accept_local))
		fc_warn("restoring %s to %d failed", LO_ACCEPT_LOCAL, l->lo_accept_local);
	l->lo_accept_local = -1;
}

int loader_attach_hairpin(struct fc_loader *l, int ifindex, bool loopback)
{
	struct fc_hairpin_if *h;
	int err;

	if (loopback) {
		err = lo_accept_local_enable(l);
		if (err)
			return err;
	}

	if (l->nr_hairpin >= FC_MAX_IFACES)
		return -E2BIG;
	h = &l->hairpin[l->nr_hairpin];
	memset(h, 0, sizeof(*h));
	h->ifindex = ifindex;
	err = clsact_ensure(ifindex, &h->created_qdisc);
	if (err)
		return err;
	l->nr_hairpin++;	/* from here on, detach cleans it up */
	return tc_attach_one(&h->ingress, ifindex, BPF_TC_INGRESS,
			     loopback ? l->skel->progs.fc_tc_lo_ingress
				      : l->skel->progs.fc_tc_lan_ingress);
}

void loader_detach(struct fc_loader *l)
{
	for (unsigned int i = 0; i < l->nr_hairpin; i++) {
		tc_detach_one(&l->hairpin[i].ingress);
		clsact_remove(l->hairpin[i].ifindex, &l->hairpin[i].created_qdisc);
	}
	l->nr_hairpin = 0;
	lo_accept_local_restore(l);
	tc_detach_one(&l->egress);
	tc_detach_one(&l->ingress);
	clsact_remove(l->ifindex, &l->created_qdisc);
}

void loader_destroy(struct fc_loader *l)
{
	if (l->skel)
		fcnat_tc__destroy(l->skel);
	l->skel = NULL;
}

int loader_bindings_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_bindings);
}

int loader_sessions_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_sessions);
}

int loader_stats_fd(const struct fc_loader *l)
{
	return bpf_map__fd(l->skel->maps.fc_stats);
}
