// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the ctnetlink codec (src/ct_msg.c) and what `fcnat offload`
 * does with its results (src/offload_flows.c, on a table whose map
 * refuses every write; entries of other zones kept as shadows). The input
 * is one receive buffer: a dump's part or
 * an event batch. Every entry decoded is encoded again as the timeout
 * update the daemon would send, which must decode to the same tuple.
 * Seeds: tests/fuzz/corpus/ctnetlink (tests/fuzz/ct_corpus.py captures them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ct_msg.h"
#include "offload_flows.h"

struct ctx {
	struct fo_table *t;
	const struct ct_tuple *want;
	int seen;
};

static int same_tuple(const struct ct_entry *e, void *arg)
{
	struct ctx *c = arg;

	if (!e->has_orig || memcmp(&e->orig, c->want, sizeof(e->orig)) || !e->has_timeout ||
	    e->timeout != 42)
		abort();
	c->seen++;
	return 0;
}

static int check(const struct ct_entry *e, void *arg)
{
	struct ctx *c = arg;
	unsigned char buf[512];
	struct ctx again = { .want = &e->orig };
	size_t n;

	if ((e->has_orig || e->has_reply) && e->family != AF_INET && e->family != AF_INET6)
		abort();
	if ((e->has_orig && e->orig.family != e->family) ||
	    (e->has_reply && e->reply.family != e->family))
		abort();
	if (e->has_orig && e->orig.proto != IPPROTO_TCP && e->orig.proto != IPPROTO_UDP)
		abort();
	fo_table_apply(c->t, e);
	if (!e->has_orig)
		return 0;
	n = ct_build_update(buf, sizeof(buf), 1, &e->orig, e->zone, 42, e->orig.proto == IPPROTO_TCP);
	if (!n || ct_parse_batch(buf, n, same_tuple, &again) != 0 || again.seen != 1)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = { .t = fo_table_new(&(struct fo_table_cfg){
		.map_fd = -1, .map6_fd = -1, .max_flows = 4, .tcp_timeout = 100, .udp_timeout = 10,
		.buckets = 4 }) };
	unsigned char out[4096];
	uint8_t *buf = malloc(size ? size : 1);
	__u32 seq = 0;
	int r;

	if (!c.t || !buf)
		abort();
	/* A copy of exactly the batch: reading past it is an ASan report. */
	memcpy(buf, data, size);
	/* As the daemon reads a receive: its new flows queued, then written
	 * in batches (refused here). */
	fo_table_hold(c.t);
	r = ct_parse_batch(buf, size, check, &c);
	fo_table_flush(c.t);
	if (r > 1)
		abort();
	fo_table_tick(c.t, 1, out, sizeof(out), &seq);
	fo_table_pending(c.t, out, sizeof(out), &seq);
	fo_table_free(c.t);
	free(buf);
	return 0;
}
