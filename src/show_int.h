/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of `fcnat show` and `fcnat stats` share (private to
 * show.c, show_stats.c, show_subscribers.c): the opened instance and the
 * collected mappings and sessions.
 */
#ifndef FC_SHOW_INT_H
#define FC_SHOW_INT_H

#include <stdbool.h>
#include <json-c/json.h>

#include "epset.h"
#include "pin.h"
#include "show.h"

/* A running (or kept) instance's pinned maps, opened read-only. */
struct instance {
	struct fc_pin pin;
	int bindings_fd, sessions_fd, stats_fd, config_fd, pool_fd, subscribers_fd;
	int p64_out_fd, p64_in_fd;	/* NAT64 address mapping */
	struct fc_config cfg;
	__u64 now;
};

/* One line of `show mappings` or `show sessions`. */
struct row {
	/* int_family: the internal endpoint's; ext_family: the external
	 * endpoint's and the remote's (NAT64: IPv6 inside, IPv4 outside). */
	__u8 proto, int_family, ext_family, has_internal;
	__u16 int_port, ext_port, remote_port;
	union fc_addr int_addr, ext_addr, remote_addr;
	__u64 expires_ns;
	__u64 sessions;		/* mappings */
	__u32 tcp_seen;		/* sessions */
	__u8 flags;		/* mappings: enum fc_binding_flags */
	__u8 addr_only;		/* a NAT64 address mapping: no ports, proto "ip" */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

struct collect {
	const struct instance *in;
	const struct fc_options *o;
	struct epset per_mapping;	/* external endpoint -> live sessions */
	struct rows rows;
	unsigned long mappings, sessions;
	/* stats: external ports in use per (address, protocol) */
	struct epset ports_used;
};

/* Walk the instance's maps: the live mappings (sessions false) or sessions
 * matching o's filters as sorted rows, and the totals. show_collect_free()
 * after, on success. */
int show_collect(struct collect *c, const struct instance *in, const struct fc_options *o,
		 bool sessions);
void show_collect_free(struct collect *c);

void show_addr_str(const union fc_addr *a, __u8 family, char *out, size_t len);
/* Is a (network order) in prefix p (--internal's filter)? */
bool show_in_prefix(const struct fc_prefix4 *p, __be32 a);
/* Print root pretty and release it. */
void show_print_json(json_object *root);

/* The protocols of port usage and per-subscriber counts, in their order. */
extern const __u8 show_usage_protos[FC_SUMMARY_PROTOS];

int show_stats(const struct instance *in, const struct fc_options *o);
/* stats where no NAT instance is: `fcnat offload`'s alone. 1 when shown,
 * 0 when there is none either, -1 on an error (logged). */
int show_stats_offload_only(const struct fc_options *o);
int show_subscribers(const struct instance *in, const struct fc_options *o);

#endif
