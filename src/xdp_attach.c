// SPDX-License-Identifier: GPL-2.0
/*
 * XDP mode (loader.h): the XDP object is loaded on the TC object's maps, so
 * both datapaths work on one state, and attached natively where the driver
 * can (generic otherwise), replacing only a kept program of this state.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "bpf_info.h"
#include "bpf_profile.h"
#include "kernel_features.h"
#include "loader.h"
#include "log.h"

/*
 * The XDP object declares the same maps as the TC one (it is built from the
 * same headers): each is replaced by the TC object's before load, so both
 * datapaths work on one state. Its own devmap (fc_xdp_tx) stays its own.
 */
int loader_xdp_load(struct fc_loader *l, int ext_ifindex, const int *internal, unsigned int n)
{
	unsigned int max = sizeof(l->xskel->rodata->fc_xdp_ifs) / sizeof(__u32);
	struct bpf_map *map;
	const void *elf;
	size_t sz;
	int err;

	if (n + 1 > max)
		return -E2BIG;
	l->xskel = fcnat_xdp__open();
	if (!l->xskel) {
		err = -errno;
		fc_err("cannot open the XDP object: %s", strerror(-err));
		return err;
	}
	l->xskel->rodata->fc_cpu_tso = features_cpu_tso();
	err = bpf_profile_apply(l->xskel->obj, &l->xskel->rodata->fc_no_callbacks, "XDP");
	if (err)
		goto fail;
	l->xskel->rodata->fc_xdp_ifs[0] = ext_ifindex;
	for (unsigned int i = 0; i < n; i++)
		l->xskel->rodata->fc_xdp_ifs[i + 1] = internal[i];
	bpf_object__for_each_map(map, l->xskel->obj) {
		struct bpf_map *shared;

		if (bpf_map__is_internal(map))
			continue;
		shared = bpf_object__find_map_by_name(l->skel->obj, bpf_map__name(map));
		if (!shared)
			continue;
		err = bpf_map__reuse_fd(map, bpf_map__fd(shared));
		if (err) {
			fc_err("sharing map %s with the XDP programs: %s", bpf_map__name(map),
			       strerror(-err));
			goto fail;
		}
	}
	elf = fcnat_xdp__elf_bytes(&sz);
	err = features_check(l->xskel->obj, elf, sz, "XDP");
	if (err)
		goto fail;
	err = fcnat_xdp__load(l->xskel);
	if (err) {
		fc_err("loading the XDP programs failed: %s (the verifier's log is above)",
		       strerror(-err));
		goto fail;
	}
	return 0;
fail:
	fcnat_xdp__destroy(l->xskel);
	l->xskel = NULL;
	return err;
}


/*
 * The program attached in XDP mode `mode` on ifindex: 0 if none, else its
 * id; *ours tells whether it is an fcnat one, *kept whether it is one that
 * works on the state whose fc_bindings map has id bindings_id (a kept
 * datapath's, to take over).
 */
static __u32 xdp_attached(int ifindex, __u32 mode, __u32 bindings_id, bool *ours, bool *kept)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id = 0;
	int fd;

	*ours = *kept = false;
	if (bpf_xdp_query_id(ifindex, mode, &id) || !id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		*ours = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
			!strncmp(info.name, "fc_xdp_", 7);
		*kept = *ours && bpf_prog_uses_map(fd, bindings_id);
		close(fd);
	}
	return id;
}

/* Replace the kept program (id) attached in mode on ifindex by prog_fd in one
 * step: no frame meets an interface without a program. */
static int xdp_replace(int ifindex, __u32 id, int prog_fd, __u32 mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int old = bpf_prog_get_fd_by_id(id), err;

	if (old < 0)
		return -errno;
	opts.old_prog_fd = old;
	err = bpf_xdp_attach(ifindex, prog_fd, mode | XDP_FLAGS_REPLACE, &opts);
	close(old);
	return err;
}

int loader_xdp_remove_kept(int bindings_fd, int ifindex)
{
	static const __u32 modes[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	__u32 bindings_id = bpf_map_id(bindings_fd);
	int removed = 0;
	bool ours, kept;

	for (int i = 0; i < 2; i++) {
		__u32 id = xdp_attached(ifindex, modes[i], bindings_id, &ours, &kept);
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
		int fd;

		if (!id || !kept)
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		opts.old_prog_fd = fd;
		if (!bpf_xdp_detach(ifindex, modes[i], &opts))
			removed++;
		close(fd);
	}
	return removed;
}

static int xdp_attach_mode(int ifindex, int prog_fd, __u32 mode)
{
	/* UPDATE_IF_NOEXIST: never replace a program we did not see. */
	return bpf_xdp_attach(ifindex, prog_fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
}

/* veth needs its peer to take redirected frames (GRO on or an XDP program). */
static bool is_veth(int ifindex)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };
	bool veth = false;
	int fd;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		veth = !strcmp(info.driver, "veth");
	close(fd);
	return veth;
}

int loader_xdp_attach(struct fc_loader *l, int ifindex, bool ext, enum fc_xdp_mode mode)
{
	const struct bpf_program *prog = ext ? l->xskel->progs.fc_xdp_ext : l->xskel->progs.fc_xdp_int;
	int fd = bpf_program__fd(prog), err = -EOPNOTSUPP;
	static const __u32 modes[2] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };
	__u32 key = ifindex, val = ifindex, used = 0, kept_id = 0, kept_mode = 0;
	char name[IF_NAMESIZE] = "?";
	bool ours, kept;

	if_indextoname(ifindex, name);
	if (l->nr_xdp >= sizeof(l->xdp) / sizeof(l->xdp[0]))
		return -E2BIG;
	/* Never replace a program, unless it is a kept datapath's that works
	 * on the very state this start took over (its fc_bindings map): it
	 * may be another running fcnat's. */
	for (int i = 0; i < 2; i++) {
		__u32 id = xdp_attached(ifindex, modes[i],
					bpf_map_id(bpf_map__fd(l->skel->maps.fc_bindings)), &ours, &kept);

		if (!id)
			continue;
		if (kept) {
			kept_id = id;
			kept_mode = modes[i];
			continue;
		}
		if (ours)
			fc_err("%s already has an fcnat XDP program (id %u) of another fcnat "
			       "(remove it with: ip link set dev %s xdp off)", name, id, name);
		else
			fc_err("%s already has an XDP program (id %u) that is not fcnat's: "
			       "not replacing it", name, id);
		return -EBUSY;
	}
	if (bpf_map_update_elem(bpf_map__fd(l->xskel->maps.fc_xdp_tx), &key, &val, BPF_ANY)) {
		err = -errno;
		fc_err("%s cannot take redirected frames (devmap): %s", name, strerror(-err));
		return err;
	}
	if (kept_id && (mode == FC_XDP_AUTO ||
			(mode == FC_XDP_NATIVE) == (kept_mode == XDP_FLAGS_DRV_MODE))) {
		/* Take the kept datapath's place in its mode, in one step. */
		err = xdp_replace(ifindex, kept_id, fd, kept_mode);
		if (err) {
			fc_err("replacing the kept XDP program on %s: %s", name, strerror(-err));
			bpf_map_delete_elem(bpf_map__fd(l->xskel->maps.fc_xdp_tx), &key);
			return err;
		}
		used = kept_mode;
		fc_debug("XDP program on %s (id %u) replaced in place", name, kept_id);
	} else if (kept_id) {
		/* Another mode asked for: out with the old one first. */
		fc_info("%s: the kept XDP program is in another mode: replacing it, not in "
			"one step", name);
		loader_xdp_remove_kept(bpf_map__fd(l->skel->maps.fc_bindings), ifindex);
	}
	if (!used && mode != FC_XDP_GENERIC) {
		err = xdp_attach_mode(ifindex, fd, XDP_FLAGS_DRV_MODE);
		if (!err)
			used = XDP_FLAGS_DRV_MODE;
		else if (mode == FC_XDP_NATIVE)
			fc_err("attaching XDP to %s in native mode: %s", name, strerror(-err));
		else
			fc_warn("%s: native XDP not available (%s): using generic XDP, which is "
				"slower", name, strerror(-err));
	}
	if (!used && mode != FC_XDP_NATIVE) {
		err = xdp_attach_mode(ifindex, fd, XDP_FLAGS_SKB_MODE);
		if (!err)
			used = XDP_FLAGS_SKB_MODE;
		else
			fc_err("attaching XDP to %s in generic mode: %s", name, strerror(-err));
	}
	if (!used) {
		bpf_map_delete_elem(bpf_map__fd(l->xskel->maps.fc_xdp_tx), &key);
		return err;
	}
	if (used == XDP_FLAGS_DRV_MODE && is_veth(ifindex))
		fc_info("%s is a veth: frames fcnat redirects out of it reach its peer only if "
			"the peer has GRO on (ethtool -K PEER gro on) or an XDP program", name);
	l->xdp[l->nr_xdp++] = (struct fc_xdp_link){ .ifindex = ifindex, .mode = used, .prog_fd = fd };
	fc_debug("XDP program %s attached to %s in %s mode", bpf_program__name(prog), name,
		 used == XDP_FLAGS_DRV_MODE ? "native" : "generic");
	return 0;
}

void loader_xdp_detach(struct fc_loader *l)
{
	for (unsigned int i = l->nr_xdp; i-- > 0;) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = l->xdp[i].prog_fd);
		int err = bpf_xdp_detach(l->xdp[i].ifindex, l->xdp[i].mode, &opts);

		/* Gone with its interface, or not ours any more: nothing to do. */
		if (err && err != -ENODEV && err != -EEXIST && err != -ENOENT)
			fc_warn("detaching XDP from ifindex %d: %s", l->xdp[i].ifindex,
				strerror(-err));
	}
	l->nr_xdp = 0;
}
