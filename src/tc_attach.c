// SPDX-License-Identifier: GPL-2.0
/*
 * TCX links (tc_attach.h). libbpf 1.1 (Debian 12) predates TCX, and the UAPI
 * headers of 6.1 do not name it: the few constants are defined here and the
 * link is made with the bpf() syscall itself. Everything else (update,
 * detach, pin, query) goes through libbpf's generic calls. The loader's
 * side of TCX (choosing the attach, its programs on links) is at the end;
 * the clsact side is in tc_clsact.c.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "loader.h"
#include "log.h"
#include "tc_attach.h"

/* From the UAPI of Linux 6.6 (include/uapi/linux/bpf.h). */
#define FC_BPF_TCX_INGRESS	46
#define FC_BPF_TCX_EGRESS	47
#define FC_BPF_LINK_TYPE_TCX	11
#define FC_BPF_F_BEFORE		(1U << 3)

/* BPF_LINK_CREATE's attributes for a TCX link. */
struct tcx_create_attr {
	__u32 prog_fd;
	__u32 target_ifindex;
	__u32 attach_type;
	__u32 flags;
	__u32 relative_fd;	/* 0 with BPF_F_BEFORE: the very front */
	__u32 pad;
	__u64 expected_revision;
};

/* struct bpf_link_info as far as a TCX link's fields go. */
struct tcx_link_info {
	__u32 type;
	__u32 id;
	__u32 prog_id;
	__u32 pad;
	__u32 ifindex;
	__u32 attach_type;
	__u64 rest[6];		/* the union's other members' room */
};

static __u32 attach_type(bool ingress)
{
	return ingress ? FC_BPF_TCX_INGRESS : FC_BPF_TCX_EGRESS;
}

bool tcx_supported(int ifindex)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q);

	return bpf_prog_query_opts(ifindex, (enum bpf_attach_type)FC_BPF_TCX_INGRESS, &q) == 0;
}

const char *tc_attach_name(enum fc_tc_attach mode)
{
	return mode == FC_TC_ATTACH_TCX ? "tcx" : "clsact";
}

int tc_attach_choose(int ifindex, bool kept, bool kept_tcx, enum fc_tc_attach *mode)
{
	const char *want = getenv(FC_TC_ATTACH_ENV);
	bool have = tcx_supported(ifindex);

	if (!want || !*want)
		want = "auto";
	if (strcmp(want, "auto") && strcmp(want, "tcx") && strcmp(want, "clsact")) {
		fc_err("%s=%s: expected auto, tcx or clsact", FC_TC_ATTACH_ENV, want);
		return -EINVAL;
	}
	if (kept) {
		/* The kept datapath is taken over where it runs, in one step:
		 * changing the attach would leave a moment without it. */
		*mode = kept_tcx ? FC_TC_ATTACH_TCX : FC_TC_ATTACH_CLSACT;
		if (strcmp(want, "auto") && strcmp(want, tc_attach_name(*mode)))
			fc_warn("%s=%s ignored: the kept datapath runs from %s (fcnat --detach "
				"first to change it)", FC_TC_ATTACH_ENV, want, tc_attach_name(*mode));
		fc_info("TC attach: %s, as the kept datapath", tc_attach_name(*mode));
		return 0;
	}
	if (!strcmp(want, "tcx") && !have) {
		fc_err("%s=tcx: this kernel has no TCX (Linux 6.6 or later)", FC_TC_ATTACH_ENV);
		return -EOPNOTSUPP;
	}
	*mode = !strcmp(want, "clsact") || !have ? FC_TC_ATTACH_CLSACT : FC_TC_ATTACH_TCX;
	fc_info("TC attach: %s (%s)", tc_attach_name(*mode),
		!strcmp(want, "auto") ? (have ? "the kernel has TCX links"
					      : "no TCX in this kernel: clsact qdisc and filters")
				      : FC_TC_ATTACH_ENV);
	return 0;
}

void tcx_pin_path(char *out, size_t len, const char *dir, int ifindex, bool ingress,
		  bool hairpin)
{
	if (hairpin)
		snprintf(out, len, "%s/tcx_hairpin_%d", dir, ifindex);
	else
		snprintf(out, len, "%s/tcx_%s", dir, ingress ? "ingress" : "egress");
}

static int link_info(int fd, struct tcx_link_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/* A link pinned at pin on ifindex's hook: its fd, else -1 (a pin of
 * anything else there is unpinned, detached first if it is a link). */
static int take_pinned(const char *pin, int ifindex, bool ingress)
{
	struct tcx_link_info info;
	int fd = bpf_obj_get(pin);

	if (fd < 0)
		return -1;
	if (!link_info(fd, &info) && info.type == FC_BPF_LINK_TYPE_TCX &&
	    info.ifindex == (__u32)ifindex && info.attach_type == attach_type(ingress))
		return fd;
	/* On an interface that is gone (ifindex 0) or was re-created. */
	bpf_link_detach(fd);
	close(fd);
	unlink(pin);
	return -1;
}

static int link_create(int ifindex, bool ingress, int prog_fd)
{
	struct tcx_create_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = prog_fd;
	a.target_ifindex = ifindex;
	a.attach_type = attach_type(ingress);
	/* Ingress: appended (flags 0); egress: the very front. */
	a.flags = ingress ? 0 : FC_BPF_F_BEFORE;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : (int)fd;
}

int tcx_attach(struct fc_tcx_link *t, int ifindex, bool ingress, int prog_fd, const char *pin)
{
	struct tcx_link_info info;
	int fd, err;

	if (t->held)
		tcx_release(t);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	snprintf(t->pin, sizeof(t->pin), "%s", pin);
	fd = take_pinned(pin, ifindex, ingress);
	if (fd >= 0) {
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		if (!err) {
			t->taken_over = true;
			goto done;
		}
		/* Defunct (ENOLINK: its interface went away meanwhile). */
		fc_debug("taking over the TCX link pinned at %s: %s; attaching anew", pin,
			 strerror(-err));
		bpf_link_detach(fd);
		close(fd);
		unlink(pin);
	}
	fd = link_create(ifindex, ingress, prog_fd);
	if (fd < 0)
		return fd;
	if (bpf_obj_pin(fd, pin)) {
		err = -errno;
		fc_err("pinning the TCX link at %s: %s", pin, strerror(-err));
		close(fd);	/* unpinned: closing it detaches it */
		return err;
	}
done:
	t->held = true;
	t->fd = fd;
	t->ifindex = ifindex;
	t->ingress = ingress;
	if (!link_info(fd, &info))
		t->link_id = info.id;
	return 0;
}

void tcx_detach(struct fc_tcx_link *t)
{
	if (!t->held)
		return;
	/* ENOLINK: the interface went away, taking the attachment along. */
	if (bpf_link_detach(t->fd) && errno != ENOLINK && errno != ENOENT)
		fc_warn("detaching the TCX link %u: %s", t->link_id, strerror(errno));
	if (t->pin[0] && unlink(t->pin) && errno != ENOENT)
		fc_warn("removing %s: %s", t->pin, strerror(errno));
	tcx_release(t);
}

void tcx_release(struct fc_tcx_link *t)
{
	if (t->held)
		close(t->fd);
	t->held = false;
	t->fd = -1;
}

int tcx_detach_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[1024];
		int fd;

		if (strncmp(e->d_name, "tcx_", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			/* A defunct link (its interface gone) detaches nothing. */
			if (!bpf_link_detach(fd))
				n++;
			close(fd);
		}
		unlink(path);
	}
	closedir(d);
	return n;
}

int tcx_prog_ids(int ifindex, bool ingress, __u32 *ids, __u32 max)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = max);

	if (bpf_prog_query_opts(ifindex, (enum bpf_attach_type)attach_type(ingress), &q))
		return -errno;
	return q.prog_cnt < max ? (int)q.prog_cnt : (int)max;
}

/* ---- the loader's TC programs on TCX links ---------------------------------- */

int loader_choose_attach(struct fc_loader *l, int ifindex, const struct fc_pin *pin)
{
	char path[600];
	bool kept = pin->found && (pin->meta.flags & (FC_META_ATTACHED | FC_META_CREATED_QDISC));
	bool kept_tcx = pin->found && (pin->meta.flags & FC_META_TCX);
	int err;

	/* Links a start killed before recording them left pinned are a kept
	 * TCX datapath too (inert, but attached). */
	tcx_pin_path(path, sizeof(path), pin->dir, ifindex, true, false);
	if (pin->found && !access(path, F_OK))
		kept = kept_tcx = true;
	err = tc_attach_choose(ifindex, kept, kept_tcx, &l->attach);
	if (err)
		return err;
	snprintf(l->pin_dir, sizeof(l->pin_dir), "%s", pin->dir);
	l->skel->rodata->fc_tc_chain = l->attach == FC_TC_ATTACH_TCX;
	return 0;
}

int tcx_attach_ext(struct fc_loader *l, int ifindex)
{
	char pin[600];
	int err;

	l->ifindex = ifindex;
	l->created_qdisc = l->made_qdisc_now = false;
	loader_detach_orphans_on(l, ifindex);
	tcx_pin_path(pin, sizeof(pin), l->pin_dir, ifindex, true, false);
	err = tcx_attach(&l->tcx_ingress, ifindex, true,
			 bpf_program__fd(l->skel->progs.fc_tc_ingress), pin);
	if (err) {
		fc_err("attaching the TC ingress program (TCX link): %s", strerror(-err));
		return err;
	}
	fc_fault_point("attached-ingress");
	tcx_pin_path(pin, sizeof(pin), l->pin_dir, ifindex, false, false);
	err = tcx_attach(&l->tcx_egress, ifindex, false,
			 bpf_program__fd(l->skel->progs.fc_tc_egress), pin);
	if (err) {
		fc_err("attaching the TC egress program (TCX link): %s", strerror(-err));
		/* A taken-over link carries on the kept datapath's work. */
		if (l->tcx_ingress.taken_over)
			tcx_release(&l->tcx_ingress);
		else
			tcx_detach(&l->tcx_ingress);
		return err;
	}
	fc_debug("TCX links %u (ingress, last) and %u (egress, first) on ifindex %d%s",
		 l->tcx_ingress.link_id, l->tcx_egress.link_id, ifindex,
		 l->tcx_ingress.taken_over ? ", taken over" : "");
	return 0;
}

int tcx_attach_hairpin(struct fc_loader *l, int ifindex, int prog_fd)
{
	struct fc_hairpin_if *h = &l->hairpin[l->nr_hairpin];
	char pin[600];
	int err;

	memset(h, 0, sizeof(*h));
	h->ifindex = ifindex;
	tcx_pin_path(pin, sizeof(pin), l->pin_dir, ifindex, true, true);
	err = tcx_attach(&h->tcx, ifindex, true, prog_fd, pin);
	if (err)
		return err;
	l->nr_hairpin++;
	return 0;
}

int tcx_drop_unused(const struct fc_loader *l)
{
	DIR *d = l->attach == FC_TC_ATTACH_TCX ? opendir(l->pin_dir) : NULL;
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char path[1024];
		bool used = false;
		int ifindex, fd;

		if (sscanf(e->d_name, "tcx_hairpin_%d", &ifindex) != 1)
			continue;
		for (unsigned int i = 0; i < l->nr_hairpin; i++)
			used |= l->hairpin[i].ifindex == ifindex && l->hairpin[i].tcx.held;
		if (used)
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->pin_dir, e->d_name);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(path);
		n++;
	}
	if (d)
		closedir(d);
	if (n)
		fc_info("removed %d TCX link(s) of the kept datapath on interfaces this start "
			"does not hairpin on", n);
	return n;
}
