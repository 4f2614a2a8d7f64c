// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "loader.h"
#include "log.h"
#include "netlink.h"
#include "vlan.h"

#define TPID_8021Q	0x8100
#define TPID_8021AD	0x88a8

static int parse_vid(const char *s, const char *end, unsigned int *vid)
{
	char *stop;
	unsigned long v;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &stop, 10);
	if (errno || stop != end || v < 1 || v > 4094)
		return -1;
	*vid = v;
	return 0;
}

int vlan_parse(const char *spec, struct fc_vlan_spec *v, char *err, size_t errlen)
{
	const char *dot = strchr(spec, '.'), *end = spec + strlen(spec);
	unsigned int outer, inner;

	memset(v, 0, sizeof(*v));
	if (!dot) {
		if (parse_vid(spec, end, &outer))
			goto bad;
		v->n = 1;
		v->tag[0] = (__u32)TPID_8021Q << 16 | outer;
		return 0;
	}
	if (parse_vid(spec, dot, &outer) || parse_vid(dot + 1, end, &inner))
		goto bad;
	/* IEEE 802.1ad: the provider's S-tag outside, the customer's C-tag in. */
	v->n = 2;
	v->tag[0] = (__u32)TPID_8021AD << 16 | outer;
	v->tag[1] = (__u32)TPID_8021Q << 16 | inner;
	return 0;
bad:
	memset(v, 0, sizeof(*v));
	snprintf(err, errlen, "invalid VLAN '%s': expected an 802.1Q VLAN id 1-4094 (e.g. 7), "
		 "or OUTER.INNER for QinQ (802.1ad outer, 802.1Q inner, e.g. 100.7)", spec);
	return -1;
}

const char *vlan_str(const struct fc_vlan_spec *v, char *buf, size_t len)
{
	if (v->n == 2)
		snprintf(buf, len, "802.1ad %u + 802.1Q %u", v->tag[0] & 0xfff, v->tag[1] & 0xfff);
	else if (v->n == 1)
		snprintf(buf, len, "802.1Q %u", v->tag[0] & 0xfff);
	else
		snprintf(buf, len, "none");
	return buf;
}

void vlan_write(struct fc_loader *l, int ifindex, const struct fc_vlan_spec *v)
{
	/* The tags before the index: a packet reading the new index finds
	 * the tags it goes with (x86 keeps stores in order; on a change of
	 * interface the programs are not attached yet anyway). */
	for (unsigned int i = 0; i < FC_VLAN_TAGS; i++) {
		__u32 t = i < v->n ? v->tag[i] : 0;

		l->skel->bss->fc_vlan_tags[i] = t;
		if (l->xskel)
			l->xskel->bss->fc_vlan_tags[i] = t;
	}
	l->skel->bss->fc_vlan_ifindex = v->n ? (__u32)ifindex : 0;
	if (l->xskel)
		l->xskel->bss->fc_vlan_ifindex = v->n ? (__u32)ifindex : 0;
}

/* ---- XDP on a VLAN sub-interface (-i wan0.7 --mode xdp) ------------------ */

int vlan_xdp_ext(struct fc_loader *l, int ext_ifindex, const struct fc_vlan_spec *given)
{
	struct nl_vlan_link v;
	char name[IF_NAMESIZE] = "?", lower[IF_NAMESIZE] = "?";
	__u32 tag;

	if (given->n || nl_get_vlan(ext_ifindex, &v) || !v.vlan || !v.lower || !v.id)
		return ext_ifindex;
	if (v.proto != TPID_8021Q && v.proto != TPID_8021AD)
		v.proto = TPID_8021Q;
	if_indextoname(ext_ifindex, name);
	if_indextoname(v.lower, lower);
	tag = (__u32)v.proto << 16 | v.id;
	/* Its tagged frames are read on the real device (XDP runs before the
	 * kernel hands them to the VLAN device), and sent from it. The TC
	 * programs stay on the VLAN device, where the frames are untagged. */
	l->xskel->bss->fc_vlan_tags[0] = tag;
	l->xskel->bss->fc_vlan_tags[1] = 0;
	l->xskel->bss->fc_vlan_ifindex = v.lower;
	l->xskel->bss->fc_xdp_vlan_tag[0] = tag;
	l->xskel->bss->fc_xdp_vlan_lower[0] = v.lower;
	l->xskel->bss->fc_xdp_vlan_dev[0] = ext_ifindex;
	fc_info("%s is VLAN %u (%s) on %s: the XDP program reads and sends its tagged frames "
		"on %s", name, v.id, v.proto == TPID_8021AD ? "802.1ad" : "802.1Q", lower, lower);
	return v.lower;
}
