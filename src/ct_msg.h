/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctnetlink (conntrack over netlink) messages as `fcnat offload` reads and
 * writes them: a pure codec, no socket, so tests/fuzz/lf_ctnetlink.c and
 * the unit tests call it alone. IPv4 and IPv6 TCP and UDP entries are
 * decoded; any other entry is reported with family/proto set and no
 * tuples, for the caller to skip.
 */
#ifndef FC_CT_MSG_H
#define FC_CT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* One direction's tuple as conntrack keeps it (network order). An IPv4
 * address is src/dst with the rest of src6/dst6 zero. */
struct ct_tuple {
	union {
		__be32 src;
		__be32 src6[4];
	};
	union {
		__be32 dst;
		__be32 dst6[4];
	};
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;		/* AF_INET or AF_INET6 */
};

enum ct_event {
	CT_EV_NEW,	/* a new entry, or one of a dump */
	CT_EV_UPDATE,
	CT_EV_DESTROY,
};

struct ct_entry {
	enum ct_event event;
	__u8 family;		/* AF_INET, AF_INET6, ... (nfgenmsg) */
	bool has_orig, has_reply;	/* TCP/UDP tuples of IPv4 or IPv6 decoded */
	struct ct_tuple orig, reply;
	bool has_status, has_timeout, has_tcp_state, has_mark, has_id;
	bool has_helper;	/* CTA_HELP: a helper (FTP, SIP) must see the packets */
	__u32 status;		/* IPS_* */
	__u32 timeout;		/* seconds left */
	__u8 tcp_state;		/* TCP_CONNTRACK_* */
	__u32 mark;
	__u32 id;
	__u16 zone;
	/* CTA_COUNTERS_ORIG/REPLY (net.netfilter.nf_conntrack_acct=1):
	 * what the stack counted per direction (index FO_DIR_*: 0 original,
	 * 1 reply); in dumps and DESTROY events only. */
	bool has_counters;
	__u64 packets[2], bytes[2];
};

/* A hash of every field of a tuple (the zone is not in it), for user
 * space's tables of conntrack entries. */
__u32 ct_tuple_hash(const struct ct_tuple *t);

/*
 * Walk one recv()'s worth of netlink messages and call cb for each
 * conntrack message (cb's nonzero return stops the walk and is returned).
 * Returns 0 when all were read, 1 at NLMSG_DONE (a dump's end), the
 * negative errno of an NLMSG_ERROR that carries one, or -EBADMSG for a
 * malformed batch (the messages before it were reported).
 */
int ct_parse_batch(const void *buf, size_t len,
		   int (*cb)(const struct ct_entry *e, void *arg), void *arg);

/* A dump request of family's conntrack table (AF_UNSPEC: every
 * family's) into buf; its length, 0 if
 * buf is too small. */
size_t ct_build_dump(void *buf, size_t len, __u32 seq, __u8 family);

/* An update of the entry with tuple orig (of its family) in zone: its timeout set to
 * timeout seconds, and with liberal (TCP) both directions' window checks
 * relaxed, since conntrack no longer sees the sequence numbers move
 * (IP_CT_TCP_FLAG_BE_LIBERAL, as the kernel's flowtable does). NLM_F_ACK
 * unset: only errors come back. Its length, 0 if buf is too small. */
size_t ct_build_update(void *buf, size_t len, __u32 seq, const struct ct_tuple *orig,
		       __u16 zone, __u32 timeout, bool liberal);

#endif
