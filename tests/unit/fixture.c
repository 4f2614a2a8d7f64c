// SPDX-License-Identifier: GPL-2.0
/* The loaded datapath the tests, the fuzzer and the scale test run packets
 * through: load, reset, configure, run one packet, read maps and counters. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fcnat_tc.skel.h"
#include "fcnat_xdp.skel.h"
#include "bpf_profile.h"
#include "fixture.h"
#include "nat64_pool.h"

struct fixture fx;

uint64_t now_ns(void)
{
	return gc_now_ns();	/* the datapath's clock */
}

int fixture_load(struct fixture *f, unsigned int max_mappings, unsigned int max_sessions)
{
	return fixture_load_prealloc(f, max_mappings, max_sessions, FC_PREALLOC_AUTO);
}

int fixture_load_prealloc(struct fixture *f, unsigned int max_mappings, unsigned int max_sessions,
			  enum fc_prealloc prealloc)
{
	memset(f, 0, sizeof(*f));
	gc_init(&f->gc);
	options_defaults(&f->opts);
	f->opts.nat44 = true;
	f->opts.prealloc_tables = prealloc;
	if (max_mappings)
		f->opts.max_mappings = max_mappings;
	if (max_sessions)
		f->opts.max_sessions = max_sessions;
	if (loader_load(&f->loader, &f->opts))
		return -1;
	f->egress_fd = bpf_program__fd(f->loader.skel->progs.fc_tc_egress);
	f->ingress_fd = bpf_program__fd(f->loader.skel->progs.fc_tc_ingress);
	f->lan_fd = bpf_program__fd(f->loader.skel->progs.fc_tc_lan_ingress);
	f->lo_fd = bpf_program__fd(f->loader.skel->progs.fc_tc_lo_ingress);
	f->bindings_fd = loader_bindings_fd(&f->loader);
	f->sessions_fd = loader_sessions_fd(&f->loader);
	f->stats_fd = loader_stats_fd(&f->loader);
	fixture_reset(f);
	return 0;
}

void fixture_unload(struct fixture *f)
{
	gc_free(&f->gc);
	loader_destroy(&f->loader);
}

int fixture_sweep(struct fixture *f, uint64_t now_ns, struct gc_result *res)
{
	f->gc.release_fd = loader_release_fd(&f->loader);
	f->gc.subscribers_fd = loader_subscribers_fd(&f->loader);
	f->gc.blocks_fd = loader_blocks_fd(&f->loader);
	f->gc.block_free_fd = loader_block_free_fd(&f->loader);
	return gc_sweep(&f->gc, f->bindings_fd, f->sessions_fd, &f->cfg, now_ns, res);
}

static struct fc_endpoint_key endpoint_key(int side, int family, int ext_family, int proto,
					  const char *addr, uint16_t port)
{
	struct fc_endpoint_key k;

	memset(&k, 0, sizeof(k));
	k.side = side;
	k.family = family;
	k.ext_family = ext_family;
	k.proto = proto;
	k.port = htons(port);
	if (family == FC_AF_INET6)
		ip6(addr, k.addr.v6);
	else
		k.addr.v4 = ip4(addr);
	return k;
}

struct fc_endpoint_key fx_int_key(int family, int ext_family, int proto, const char *addr,
				  uint16_t port)
{
	return endpoint_key(FC_SIDE_INTERNAL, family, ext_family, proto, addr, port);
}

struct fc_endpoint_key fx_ext_key(int family, int proto, const char *addr, uint16_t port)
{
	return endpoint_key(FC_SIDE_EXTERNAL, family, 0, proto, addr, port);
}

size_t nr_bindings(const struct fixture *f)
{
	return map_count(f->bindings_fd, sizeof(struct fc_endpoint_key));
}

size_t nr_sessions(const struct fixture *f)
{
	return map_count(f->sessions_fd, sizeof(struct fc_session_key));
}

void fixture_apply(struct fixture *f)
{
	loader_fill_config(&f->opts, ip4(EXT_ADDR), &f->cfg);
	ip6(EXT_ADDR6, f->cfg.ext_addr6.v6);	/* used only with opts.nat66 */
	if (loader_write_cgnat(&f->loader, &f->opts))
		fprintf(stderr, "writing pool and prefixes: %s\n", strerror(errno));
	nat64_pool_install(&f->loader, &f->opts);
	if (loader_write_config(&f->loader, &f->cfg))
		fprintf(stderr, "writing config: %s\n", strerror(errno));
}

static void map_clear(int fd, size_t key_size)
{
	uint8_t key[64], next[64];

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

void fixture_defer(struct fixture *f, const char *cmd)
{
	if (f->nr_deferred >= FX_DEFERRED_MAX) {
		fprintf(stderr, "fixture_defer: more than %d commands, running now: %s\n",
			FX_DEFERRED_MAX, cmd);
		if (system(cmd)) { /* its failure is not the test's */ }
		return;
	}
	snprintf(f->deferred[f->nr_deferred++], sizeof(f->deferred[0]), "%s", cmd);
}

void fixture_run_deferred(struct fixture *f)
{
	/* Last set up, first undone. */
	while (f->nr_deferred > 0)
		if (system(f->deferred[--f->nr_deferred])) { /* already undone by the test */ }
}

void fixture_reset(struct fixture *f)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t zeros[ncpu];
	struct fc_options fresh;

	fixture_run_deferred(f);

	options_defaults(&fresh);
	fresh.nat44 = true;
	fresh.max_mappings = f->opts.max_mappings;
	fresh.max_sessions = f->opts.max_sessions;
	f->opts = fresh;
	gc_free(&f->gc);
	gc_init(&f->gc);
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_frags), sizeof(struct fc_frag_key));
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_frag_wait), sizeof(struct fc_frag_key));
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_frag_held),
		  bpf_map__key_size(f->loader.skel->maps.fc_frag_held));
	map_clear(f->bindings_fd, sizeof(struct fc_endpoint_key));
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_p64_out), sizeof(union fc_addr));
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_p64_in), sizeof(__be32));
	map_clear(loader_subscribers_fd(&f->loader), sizeof(struct fc_subscriber_key));
	map_clear(loader_blocks_fd(&f->loader), sizeof(struct fc_block_key));
	{
		/* The refusal token buckets: full again on every CPU. */
		int fd = bpf_map__fd(f->loader.skel->maps.fc_refuse_state);
		size_t sz = bpf_map__value_size(f->loader.skel->maps.fc_refuse_state);
		void *blank = calloc(ncpu, (sz + 7) & ~7UL);
		uint32_t zero = 0;

		if (blank && bpf_map_update_elem(fd, &zero, blank, BPF_ANY))
			fprintf(stderr, "clearing fc_refuse_state: %s\n", strerror(errno));
		free(blank);
	}
	map_clear(f->sessions_fd, sizeof(struct fc_session_key));
	memset(zeros, 0, sizeof(zeros));
	for (uint32_t k = 0; k < FC_STAT_MAX; k++)
		bpf_map_update_elem(f->stats_fd, &k, zeros, BPF_ANY);
	/* Every link Ethernet again (tests/unit/test_link_l3.c lists lo). */
	loader_set_l3_links(&f->loader, NULL, 0);
	{
		struct fc_vlan_spec none = { 0 };

		vlan_write(&f->loader, 0, &none);
	}
	fixture_apply(f);
}

int run_prog_from(int prog_fd, const uint8_t *in, size_t len, int ingress_ifindex,
		  struct run_result *r)
{
	struct __sk_buff ctx = { .ingress_ifindex = ingress_ifindex };

	return run_prog_ctx(prog_fd, in, len, &ctx, r);
}

int run_prog_ctx(int prog_fd, const uint8_t *in, size_t len, struct __sk_buff *ctx,
		 struct run_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = r->out,
		.data_size_out = sizeof(r->out),
		.ctx_in = ctx,
		.ctx_size_in = sizeof(*ctx),
		.ctx_out = ctx,		/* the mark, as the program left it */
		.ctx_size_out = sizeof(*ctx),
		.repeat = 1,
	);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return -errno;
	r->ret = opts.retval;
	r->out_len = opts.data_size_out;
	return 0;
}

int run_xdp(int prog_fd, const uint8_t *in, size_t len, int ingress_ifindex,
	    struct run_result *r)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ingress_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = r->out,
		.data_size_out = sizeof(r->out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	r->ret = opts.retval;
	r->out_len = opts.data_size_out;
	return 0;
}

int run_prog(int prog_fd, const uint8_t *in, size_t len, struct run_result *r)
{
	return run_prog_from(prog_fd, in, len, FORWARDED_FROM, r);
}

int run_spec_from(int prog_fd, const struct pkt_spec *in, int from, struct run_result *r)
{
	uint8_t buf[PKT_MAX];

	return run_prog_from(prog_fd, buf, pkt_build(in, buf), from, r);
}

int run_spec(int prog_fd, const struct pkt_spec *in, struct run_result *r)
{
	return run_spec_from(prog_fd, in, FORWARDED_FROM, r);
}

size_t map_count(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	size_t n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

uint64_t stat_get(const struct fixture *f, int stat)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[ncpu], sum = 0;
	uint32_t k = stat;

	if (bpf_map_lookup_elem(f->stats_fd, &k, v))
		return ~0ULL;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}


const uint8_t FX_EXT0_MAC[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
const uint8_t FX_SERVER1_MAC[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
const uint8_t FX_INT0_MAC[6] = { 0x02, 0, 0, 0, 0x02, 0x01 };
const uint8_t FX_CLIENT_A_MAC[6] = { 0x02, 0, 0, 0, 0x02, 0x02 };
const uint8_t FX_CLIENT_B_MAC[6] = { 0x02, 0, 0, 0, 0x02, 0x03 };

const uint8_t *fx_client_mac(const char *client)
{
	return strcmp(client, CLIENT_B) ? FX_CLIENT_A_MAC : FX_CLIENT_B_MAC;
}

/*
 * The private namespace's veths the fast path's FIB lookups route through
 * (tests/unit/test_xdp.c, test_tc_fast.c, the fuzzer):
 *
 *   ext0 198.51.100.1/24 (EXT_ADDR)   SERVER_1, SERVER_2 known; STRANGER not
 *   int0 192.168.77.1/24              CLIENT_A, CLIENT_B known
 */
int xdp_fixture_setup(struct fixture *f)
{
	static const char *const script =
		"set -e\n"
		"ip link add ext0 address 02:00:00:00:01:01 type veth peer name ext0p\n"
		"ip link add int0 address 02:00:00:00:02:01 type veth peer name int0p\n"
		"for i in ext0 ext0p int0 int0p; do ip link set $i up; done\n"
		"ip addr add " EXT_ADDR "/24 dev ext0\n"
		"ip addr add 192.168.77.1/24 dev int0\n"
		"ip neigh add " SERVER_1 " lladdr 02:00:00:00:01:02 dev ext0 nud permanent\n"
		"ip neigh add " SERVER_2 " lladdr 02:00:00:00:01:03 dev ext0 nud permanent\n"
		"ip neigh add " CLIENT_A " lladdr 02:00:00:00:02:02 dev int0 nud permanent\n"
		"ip neigh add " CLIENT_B " lladdr 02:00:00:00:02:03 dev int0 nud permanent\n"
		"sysctl -qw net.ipv4.ip_forward=1\n";
	__u32 idx[2];
	int fd;

	if (system(script))
		return -1;
	f->ext_ifindex = if_nametoindex("ext0");
	f->int_ifindex = if_nametoindex("int0");
	if (!f->ext_ifindex || !f->int_ifindex ||
	    loader_xdp_load(&f->loader, f->ext_ifindex, &f->int_ifindex, 1))
		return -1;
	f->xdp_ext_fd = bpf_program__fd(f->loader.xskel->progs.fc_xdp_ext);
	f->xdp_int_fd = bpf_program__fd(f->loader.xskel->progs.fc_xdp_int);
	/* What loader_xdp_attach does, without attaching. */
	fd = bpf_map__fd(f->loader.xskel->maps.fc_xdp_tx);
	idx[0] = f->ext_ifindex;
	idx[1] = f->int_ifindex;
	for (int i = 0; i < 2; i++)
		if (bpf_map_update_elem(fd, &idx[i], &idx[i], BPF_ANY))
			return -1;
	return 0;
}

int tc_fast_fixture_setup(struct fixture *f)
{
	struct fcnat_tc *skel = fcnat_tc__open();
	int internal = f->int_ifindex;
	struct bpf_map *map;

	if (!skel)
		return -1;
	if (bpf_profile_apply(skel->obj, &skel->rodata->fc_no_callbacks, "TC"))
		goto fail;
	/* The fixture's maps, as loader_xdp_load shares them with XDP. */
	bpf_object__for_each_map(map, skel->obj) {
		struct bpf_map *shared;

		if (bpf_map__is_internal(map))
			continue;
		shared = bpf_object__find_map_by_name(f->loader.skel->obj, bpf_map__name(map));
		if (!shared || bpf_map__reuse_fd(map, bpf_map__fd(shared)))
			goto fail;
	}
	f->tc_fast = skel;
	{
		/* What main.c does in TC mode with --lan-if int0. */
		struct fc_loader l = { .skel = skel };

		if (loader_set_tc_fast(&l, f->ext_ifindex, &internal, 1))
			goto fail;
	}
	if (fcnat_tc__load(skel))
		goto fail;
	f->fast_int_fd = bpf_program__fd(skel->progs.fc_tc_int_ingress);
	f->fast_ingress_fd = bpf_program__fd(skel->progs.fc_tc_ingress);
	f->fast_egress_fd = bpf_program__fd(skel->progs.fc_tc_egress);
	return 0;
fail:
	fcnat_tc__destroy(skel);
	f->tc_fast = NULL;
	return -1;
}

void tc_fast_fixture_unload(struct fixture *f)
{
	if (f->tc_fast)
		fcnat_tc__destroy(f->tc_fast);
	f->tc_fast = NULL;
}


struct pkt_spec fx_hop(struct pkt_spec s, const uint8_t *smac, const uint8_t *dmac)
{
	s.smac = smac;
	s.dmac = dmac;
	s.ttl = 63;
	return s;
}
