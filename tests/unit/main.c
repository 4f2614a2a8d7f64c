// SPDX-License-Identifier: GPL-2.0
/* Test runner and fixture: `unit_tests [FILTER]` runs the tests whose name
 * contains FILTER. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fcnat_tc.skel.h"
#include "fixture.h"
#include "harness.h"
#include "log.h"

struct test_case test_cases[MAX_TESTS];
int nr_test_cases;
bool test_failed;
int assertions;
struct fixture fx;

bool pkt_equal(const void *got, size_t got_len, const void *want, size_t want_len,
	       const char *what)
{
	const uint8_t *g = got, *w = want;
	size_t n = got_len > want_len ? got_len : want_len;

	if (got_len == want_len && !memcmp(got, want, got_len))
		return true;
	fprintf(stderr, "    %s: packets differ (got %zu bytes, want %zu)\n", what, got_len, want_len);
	fprintf(stderr, "    offset  got want\n");
	for (size_t i = 0; i < n; i++) {
		int gi = i < got_len ? g[i] : -1, wi = i < want_len ? w[i] : -1;

		if (gi != wi)
			fprintf(stderr, "    %6zu   %02x   %02x\n", i, gi & 0xff, wi & 0xff);
	}
	return false;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int fixture_load(struct fixture *f, unsigned int max_mappings, unsigned int max_sessions)
{
	memset(f, 0, sizeof(*f));
	options_defaults(&f->opts);
	f->opts.nat44 = true;
	if (max_mappings)
		f->opts.max_mappings = max_mappings;
	if (max_sessions)
		f->opts.max_sessions = max_sessions;
	if (loader_load(&f->loader, &f->opts))
		return -1;
	f->egress_fd = bpf_program__fd(f->loader.skel->progs.fc_tc_egress);
	f->ingress_fd = bpf_program__fd(f->loader.skel->progs.fc_tc_ingress);
	f->bindings_fd = loader_bindings_fd(&f->loader);
	f->sessions_fd = loader_sessions_fd(&f->loader);
	f->stats_fd = loader_stats_fd(&f->loader);
	fixture_reset(f);
	return 0;
}

void fixture_unload(struct fixture *f)
{
	loader_destroy(&f->loader);
}

void fixture_apply(struct fixture *f)
{
	loader_fill_config(&f->opts, ip4(EXT_ADDR), &f->cfg);
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

void fixture_reset(struct fixture *f)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t zeros[ncpu];
	struct fc_options fresh;

	options_defaults(&fresh);
	fresh.nat44 = true;
	fresh.max_mappings = f->opts.max_mappings;
	fresh.max_sessions = f->opts.max_sessions;
	f->opts = fresh;
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_frags), sizeof(struct fc_frag_key));
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_frag_wait), sizeof(struct fc_frag_key));
	map_clear(bpf_map__fd(f->loader.skel->maps.fc_frag_held),
		  bpf_map__key_size(f->loader.skel->maps.fc_frag_held));
	map_clear(f->bindings_fd, sizeof(struct fc_endpoint_key));
	map_clear(f->sessions_fd, sizeof(struct fc_session_key));
	memset(zeros, 0, sizeof(zeros));
	for (uint32_t k = 0; k < FC_STAT_MAX; k++)
		bpf_map_update_elem(f->stats_fd, &k, zeros, BPF_ANY);
	fixture_apply(f);
}

int run_prog_from(int prog_fd, const uint8_t *in, size_t len, int ingress_ifindex,
		  struct run_result *r)
{
	struct __sk_buff ctx = { .ingress_ifindex = ingress_ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = r->out,
		.data_size_out = sizeof(r->out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	if (err)
		return -errno;
	r->ret = opts.retval;
	r->out_len = opts.data_size_out;
	return 0;
}

int run_prog(int prog_fd, const uint8_t *in, size_t len, struct run_result *r)
{
	return run_prog_from(prog_fd, in, len, FORWARDED_FROM, r);
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

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	fc_log_level = FC_LOG_WARN;
	loader_setup_libbpf_log(false);
	/* A private network namespace: packets the datapath re-injects
	 * (bpf_clone_redirect to the test skb's device, lo) stay in here. */
	if (unshare(CLONE_NEWNET) || system("ip link set lo up")) {
		fprintf(stderr, "cannot set up a private network namespace: %s\n", strerror(errno));
		return 1;
	}
	if (fixture_load(&fx, 0, 0)) {
		fprintf(stderr, "cannot load the datapath (are you root?)\n");
		return 1;
	}
	if (xdp_fixture_setup(&fx)) {
		fprintf(stderr, "cannot set up the XDP fixture\n");
		return 1;
	}
	for (int i = 0; i < nr_test_cases; i++) {
		if (filter && !strstr(test_cases[i].name, filter))
			continue;
		fixture_reset(&fx);
		test_failed = false;
		test_cases[i].fn();
		printf("%s %s\n", test_failed ? "FAIL" : "ok  ", test_cases[i].name);
		if (test_failed)
			failed++;
		else
			passed++;
	}
	fixture_unload(&fx);
	printf("\n%d passed, %d failed, %d assertions\n", passed, failed, assertions);
	return failed || !passed ? 1 : 0;
}
