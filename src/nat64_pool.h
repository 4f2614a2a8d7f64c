/* SPDX-License-Identifier: GPL-2.0 */
/* NAT64 address mapping: its options, the maps' contents it writes, the
 * sweeper of idle mappings and the walk `show` lists them with
 * (include/fcnat/nat64_pool.h, bpf/lib/nat64_pool.h). */
#ifndef FC_NAT64_POOL_USER_H
#define FC_NAT64_POOL_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <fcnat/nat64_pool.h>

#define FC_NAT64_STATIC_MAX	1024
#define FC_NAT64_POOL_TIMEOUT_DEFAULT	7200	/* seconds, tayga's dynamic pool's order */

enum fc_nat64_pool_opt {
	FC_NAT64_OPT_POOL4,	/* --nat64-pool4 PREFIX */
	FC_NAT64_OPT_ALLOW,	/* --nat64-allow PREFIX ... */
	FC_NAT64_OPT_STATIC,	/* --nat64-static V6=V4 ... */
	FC_NAT64_OPT_TIMEOUT,	/* --nat64-pool4-timeout SECONDS */
};

struct fc_nat64_prefix6 {
	__u8 addr[16];
	unsigned int len;
};

struct fc_nat64_static {
	__u8 v6[16];
	__be32 v4;
};

struct fc_nat64_pool_opts {
	bool pool_set;
	__be32 pool4;			/* host bits zero */
	unsigned int pool4_len;		/* FC_NAT64_POOL_MIN_LEN..32 */
	unsigned int timeout_s;
	unsigned int nr_allow;
	struct fc_nat64_prefix6 allow[FC_NAT64_ALLOW_MAX];
	unsigned int nr_static;
	struct fc_nat64_static statics[FC_NAT64_STATIC_MAX];
};

struct fc_config;

void nat64_pool_defaults(struct fc_nat64_pool_opts *p);
/* One value of an option (lists: whitespace or comma separated); 0, or -1
 * with a message in err. */
int nat64_pool_option(struct fc_nat64_pool_opts *p, enum fc_nat64_pool_opt which,
		      const char *value, char *err, size_t errlen);
/* After all options: needs --nat64; addresses unique. */
int nat64_pool_check(const struct fc_nat64_pool_opts *p, bool nat64, char *err, size_t errlen);
bool nat64_pool_on(const struct fc_nat64_pool_opts *p);
/* May v6 use NAT64 (no --nat64-allow, or under one of its prefixes)? */
bool nat64_pool_allows(const struct fc_nat64_pool_opts *p, const __u8 v6[16]);
/* Is v6 published by --nat64-static? */
bool nat64_pool_is_static(const struct fc_nat64_pool_opts *p, const __u8 v6[16]);
/* Why the port-translating NAT64 does not port-map host v6 (a pool or a
 * static entry address-maps it, or --nat64-allow leaves it out), as a
 * message; NULL: it does (its ports can be forwarded or PCP-mapped). */
const char *nat64_pool_not_port_mapped(const struct fc_nat64_pool_opts *p, const __u8 v6[16]);
void nat64_pool_fill_config(const struct fc_nat64_pool_opts *p, struct fc_config *cfg);
/* The static entries and the allowed prefixes into the maps; what a kept
 * state holds that is no longer configured goes. 0 or -errno. */
int nat64_pool_write(int out_fd, int in_fd, int allow_fd, const struct fc_nat64_pool_opts *p);

struct nat64_pool_sweep_result {
	unsigned long live, expired;
};
/* Remove dynamic mappings idle for cfg->nat64_pool_timeout_ns (and those
 * outside the pool configured now), as of now_ns. 0 or -errno. */
int nat64_pool_sweep(int out_fd, int in_fd, const struct fc_config *cfg, __u64 now_ns,
		     struct nat64_pool_sweep_result *res);

/* One mapping as `show` lists it. */
struct nat64_pool_row {
	__u8 v6[16];
	__be32 v4;
	bool is_static;
	__u64 expires_ns;	/* CLOCK_MONOTONIC_COARSE; static: 0 */
};
typedef int (*nat64_pool_row_fn)(void *ctx, const struct nat64_pool_row *row);
/* Every live mapping; fn's non-zero return stops the walk and is returned. */
int nat64_pool_walk(int out_fd, int in_fd, const struct fc_config *cfg, __u64 now_ns,
		    nat64_pool_row_fn fn, void *ctx);

struct fc_loader;
struct fc_options;
/* The daemon's: nat64_pool_write and nat64_pool_sweep on the loader's maps
 * (errors logged). */
int nat64_pool_install(struct fc_loader *l, const struct fc_options *o);
void nat64_pool_sweep_loader(struct fc_loader *l, const struct fc_config *cfg);

#endif /* FC_NAT64_POOL_USER_H */
