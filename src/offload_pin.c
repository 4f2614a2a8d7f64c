// SPDX-License-Identifier: GPL-2.0
/* `fcnat offload`'s pinned state and program takeover (offload_pin.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>

#include "log.h"
#include "offload_pin.h"

/* bpffs is one for all namespaces, interfaces are not: each namespace's
 * offload has a directory of its own, named by its nsfs inode (stable for
 * as long as the namespace lives, which is as long as its programs can). */
static void ns_dir(char *out, size_t len)
{
	struct stat self, init;

	/* pid 1's may be unreadable (a container): then by inode too. */
	if (stat("/proc/self/ns/net", &self) ||
	    (!stat("/proc/1/ns/net", &init) && self.st_ino == init.st_ino))
		snprintf(out, len, "init");
	else
		snprintf(out, len, "ino-%llu", (unsigned long long)self.st_ino);
}

int fo_pin_open(struct fc_pin *p, const char *root)
{
	char name[64];

	ns_dir(name, sizeof(name));
	return pin_open(p, root, name, false);
}

int fo_pin_detach(const char *root)
{
	char name[64];
	struct fc_pin p;
	int fd;

	ns_dir(name, sizeof(name));
	if (pin_open(&p, root, name, true))
		return 1;
	if (p.found) {
		int sfd = pin_map_fd(&p, "fo_stats");

		fd = pin_map_fd(&p, "fo_flows4");
		/* No interface of this start: every kept one is stale. */
		if (fd >= 0)
			fo_detach_stale(&p.meta, NULL, 0, fo_map_id(fd),
					sfd >= 0 ? fo_map_id(sfd) : 0);
		if (fd >= 0)
			close(fd);
		if (sfd >= 0)
			close(sfd);
		fc_info("offload: removed the kept state in %s", p.dir);
	}
	pin_remove(&p);
	pin_close(&p);
	return 0;
}

int fo_pin_open_ro(struct fc_pin *p, const char *root)
{
	char name[64];

	ns_dir(name, sizeof(name));
	return pin_open_ro(p, root, name);
}

bool fo_pin_present(const char *root)
{
	char name[64], dir[PATH_MAX], meta[PATH_MAX + sizeof(FC_META_NAME) + 1];
	struct stat st;

	ns_dir(name, sizeof(name));
	if (pin_dir_path(dir, sizeof(dir), root, name))
		return false;
	snprintf(meta, sizeof(meta), "%s/%s", dir, FC_META_NAME);
	return !stat(meta, &st);
}

__u32 fo_map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Is prog_id a program called name that works on the map flows_map_id? */
static bool prog_ours(__u32 prog_id, const char *name, __u32 flows_map_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[16];
	int fd = bpf_prog_get_fd_by_id(prog_id);
	bool ours = false;

	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name))
		for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
			ours |= ids[i] == flows_map_id;
	close(fd);
	return ours;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int fo_tc_ours_at(int ifindex, bool egress, const char *name, __u32 map_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = FO_TC_HANDLE, .priority = FO_TC_PRIORITY);
	libbpf_print_fn_t was = libbpf_set_print(quiet);
	int err;

	/* No filter there is the usual answer: not worth libbpf's warning. */
	err = bpf_tc_query(&hook, &q);
	libbpf_set_print(was);
	if (err)
		return 0;
	return prog_ours(q.prog_id, name, map_id) ? 1 : -EEXIST;
}

int fo_tc_ours(int ifindex, __u32 flows_map_id)
{
	return fo_tc_ours_at(ifindex, false, "fo_tc_ingress", flows_map_id);
}

int fo_xdp_ours(int ifindex, __u32 flows_map_id, __u32 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 id;
	int fd;

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (q.attach_mode == XDP_ATTACHED_DRV) {
		id = q.drv_prog_id;
		*mode = XDP_FLAGS_DRV_MODE;
	} else if (q.attach_mode == XDP_ATTACHED_SKB) {
		id = q.skb_prog_id;
		*mode = XDP_FLAGS_SKB_MODE;
	} else {
		return q.attach_mode == XDP_ATTACHED_NONE ? 0 : -EEXIST;
	}
	if (!prog_ours(id, "fo_xdp", flows_map_id))
		return -EEXIST;
	fd = bpf_prog_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

/* The record of ifindex in a kept instance's fc_meta. */
static const struct fc_meta_filter *meta_if(const struct fc_meta *meta, int ifindex)
{
	for (__u32 k = 0; meta && k < meta->nr_hairpin && k < FC_META_MAX_HAIRPIN; k++)
		if (meta->hairpin[k].ifindex == (__u32)ifindex)
			return &meta->hairpin[k];
	return NULL;
}

int fo_attach_tc(struct fo_iface *i, int prog_fd, __u32 flows_map_id, const struct fc_meta *meta)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex, .attach_point = BPF_TC_INGRESS);
	/* Priority 1: before any other filter that would act on the packet
	 * the fast path is about to carry past the stack. */
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = FO_TC_HANDLE,
		    .priority = FO_TC_PRIORITY);
	const struct fc_meta_filter *rec = meta_if(meta, i->ifindex);
	int err, ours;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	i->hook_created = !err;
	ours = fo_tc_ours(i->ifindex, flows_map_id);
	if (ours < 0) {
		err = ours;
		goto fail;
	}
	/* The kernel swaps the program of the kept filter: no packet meets
	 * the hook without one. */
	if (ours)
		opts.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		goto fail;
	i->took_over = ours;
	if (ours && rec && (rec->flags & FC_META_CREATED_QDISC))
		i->hook_created = true;
	return 0;
fail:
	if (i->hook_created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err;
}

int fo_attach_xdp(struct fo_iface *i, const char *name, int prog_fd, __u32 mode,
		  __u32 flows_map_id)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	__u32 flags = XDP_FLAGS_UPDATE_IF_NOEXIST, kept_mode = 0;
	int err, old = fo_xdp_ours(i->ifindex, flows_map_id, &kept_mode);

	if (old < 0)
		return old;
	if (old > 0) {
		/* In the mode it runs in, swapped atomically for the old one. */
		opts.old_prog_fd = old;
		err = bpf_xdp_attach(i->ifindex, prog_fd, XDP_FLAGS_REPLACE | kept_mode, &opts);
		close(old);
		if (!err) {
			i->xdp_flags = kept_mode;
			i->took_over = true;
		}
		return err;
	}
	err = bpf_xdp_attach(i->ifindex, prog_fd, flags | (mode ? mode : XDP_FLAGS_DRV_MODE), NULL);
	if (err && !mode && err != -EBUSY && err != -EEXIST) {
		fc_warn("offload: %s: no native XDP (%s): generic XDP, slower", name, strerror(-err));
		mode = XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach(i->ifindex, prog_fd, flags | mode, NULL);
	}
	if (!err)
		i->xdp_flags = mode ? mode : XDP_FLAGS_DRV_MODE;
	return err;
}

static void tc_detach_at(int ifindex, bool egress)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FO_TC_HANDLE, .priority = FO_TC_PRIORITY);

	bpf_tc_detach(&hook, &opts);
}

void fo_detach(const struct fo_iface *i)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

	if (i->xdp_flags)
		bpf_xdp_detach(i->ifindex, i->xdp_flags, NULL);
	/* TC's ingress filter: the offload's, or behind XDP --vlan's. */
	if (!i->xdp_flags || i->vlan)
		tc_detach_at(i->ifindex, false);
	if (i->vlan)
		tc_detach_at(i->ifindex, true);
	if (i->hook_created && (!i->xdp_flags || i->vlan))
		bpf_tc_hook_destroy(&hook);
}

/* One TC filter of --vlan at its place, replacing a kept one of ours. */
static int vlan_attach_at(struct fo_iface *i, bool egress, int prog_fd, const char *name,
			  __u32 stats_map_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = FO_TC_HANDLE,
		    .priority = FO_TC_PRIORITY);
	int ours = fo_tc_ours_at(i->ifindex, egress, name, stats_map_id);

	if (ours < 0)
		return ours;
	if (ours)
		opts.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&hook, &opts);
}

int fo_attach_vlan(struct fo_iface *i, int egress_fd, int vlan_in_fd, __u32 stats_map_id,
		   const struct fc_meta *meta)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex, .attach_point = BPF_TC_INGRESS);
	const struct fc_meta_filter *rec = meta_if(meta, i->ifindex);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	if (!err)
		i->hook_created = true;
	else if (i->xdp_flags && rec && (rec->flags & FC_META_CREATED_QDISC))
		i->hook_created = true;	/* a kept instance's, behind its XDP */
	err = i->xdp_flags ? vlan_attach_at(i, false, vlan_in_fd, "fo_tc_vlan_in", stats_map_id)
			   : 0;
	if (!err)
		err = vlan_attach_at(i, true, egress_fd, "fo_tc_egress", stats_map_id);
	if (err) {
		if (i->xdp_flags)
			tc_detach_at(i->ifindex, false);
		if (i->hook_created && i->xdp_flags) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
			i->hook_created = false;
		}
		return err;
	}
	i->vlan = true;
	return 0;
}

void fo_meta_record(struct fc_meta *meta, const struct fo_iface *ifs, int n)
{
	meta->nr_hairpin = 0;
	for (int k = 0; k < n && k < FC_META_MAX_HAIRPIN; k++) {
		struct fc_meta_filter *f = &meta->hairpin[meta->nr_hairpin++];

		*f = (struct fc_meta_filter){ .ifindex = ifs[k].ifindex, .handle = FO_TC_HANDLE,
					      .priority = FO_TC_PRIORITY };
		f->flags = (ifs[k].hook_created ? FC_META_CREATED_QDISC : 0) |
			   (ifs[k].xdp_flags == XDP_FLAGS_DRV_MODE ? FO_META_XDP_DRV : 0) |
			   (ifs[k].xdp_flags == XDP_FLAGS_SKB_MODE ? FO_META_XDP_SKB : 0) |
			   (ifs[k].vlan ? FO_META_VLAN : 0);
	}
	meta->flags |= FC_META_ATTACHED;
}

void fo_detach_stale(const struct fc_meta *meta, const struct fo_iface *ifs, int n,
		     __u32 flows_map_id, __u32 stats_map_id)
{
	for (__u32 k = 0; k < meta->nr_hairpin && k < FC_META_MAX_HAIRPIN; k++) {
		const struct fc_meta_filter *f = &meta->hairpin[k];
		struct fo_iface old = { .ifindex = f->ifindex,
					.hook_created = f->flags & FC_META_CREATED_QDISC };
		const struct fo_iface *now = NULL;
		bool ours_tc;
		__u32 mode;
		int fd;

		for (int j = 0; j < n; j++)
			if (ifs[j].ifindex == (int)f->ifindex)
				now = &ifs[j];
		if (now) {
			/* Still used: only --vlan's filters, if this start has none. */
			if ((f->flags & FO_META_VLAN) && !now->vlan) {
				if (fo_tc_ours_at(old.ifindex, true, "fo_tc_egress", stats_map_id) > 0)
					tc_detach_at(old.ifindex, true);
				if (now->xdp_flags &&
				    fo_tc_ours_at(old.ifindex, false, "fo_tc_vlan_in", stats_map_id) > 0)
					tc_detach_at(old.ifindex, false);
			}
			continue;
		}
		/* Each of the old hooks, if it still runs our program. */
		fd = fo_xdp_ours(old.ifindex, flows_map_id, &mode);
		if (fd > 0) {
			close(fd);
			bpf_xdp_detach(old.ifindex, mode, NULL);
		}
		ours_tc = fo_tc_ours(old.ifindex, flows_map_id) > 0 ||
			  fo_tc_ours_at(old.ifindex, false, "fo_tc_vlan_in", stats_map_id) > 0;
		if (ours_tc)
			tc_detach_at(old.ifindex, false);
		if (fo_tc_ours_at(old.ifindex, true, "fo_tc_egress", stats_map_id) > 0) {
			tc_detach_at(old.ifindex, true);
			ours_tc = true;
		}
		/* The qdisc it made, if its filters there were still ours. */
		if (old.hook_created && ours_tc) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = old.ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

			bpf_tc_hook_destroy(&hook);
		}
	}
}
