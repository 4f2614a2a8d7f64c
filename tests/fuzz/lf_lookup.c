// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: `fcnat lookup` (deterministic NAT, RFC 7422). The first byte
 * picks the form of the input:
 *  even: the rest, split on NUL, are the arguments after "fcnat lookup";
 *  odd:  the rest are numbers a plan is written from (prefix, pool, ports,
 *        an address and port to look up) as the text arguments a user
 *        would give. Then, besides lookup_main(), the two directions must
 *        agree: the ends and middle of a subscriber's range map back to it
 *        and the ports beside it do not, and
 *        whatever owns a port has that port in its range.
 */
#include <arpa/inet.h>

#include "deterministic.h"
#include "lf_args.h"
#include "log.h"
#include "options.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	lf_scratch_enter();
	fc_log_level = FC_LOG_ERR;
	return 0;
}

static const uint8_t *cur, *end;

static uint32_t take(int bytes)
{
	uint32_t v = 0;

	while (bytes-- > 0)
		v = v << 8 | (cur < end ? *cur++ : 0);
	return v;
}

static void ip(char *buf, size_t len, uint32_t host_order)
{
	struct in_addr a = { .s_addr = htonl(host_order) };

	inet_ntop(AF_INET, &a, buf, len);
}

/* Both directions of the plan agree (aborts when they do not). */
static void check_plan(const struct fc_options *o, uint32_t q_addr, uint16_t q_port)
{
	static struct fc_det_plan p;
	struct fc_det_entry e, back;
	char err[512];

	if (det_plan(o, &p, err, sizeof(err)))
		return;
	if (!det_forward(&p, htonl(q_addr), &e)) {
		if (e.first < p.first || e.last > p.last || e.last - e.first + 1 != p.ports)
			abort();
		/* Its first, middle and last port are its own; the neighbours
		 * of the range are not. */
		for (unsigned int port = e.first; port <= e.last;
		     port += port == e.last ? 1 : (e.last - e.first + 1) / 2 ?: 1) {
			if (det_reverse(&p, e.external, port, &back) || back.internal != e.internal)
				abort();
			if (port == e.last)
				break;
		}
		if (e.first > 0 && !det_reverse(&p, e.external, e.first - 1, &back) &&
		    back.internal == e.internal)
			abort();
		if (e.last < 65535 && !det_reverse(&p, e.external, e.last + 1, &back) &&
		    back.internal == e.internal)
			abort();
	}
	if (!det_reverse(&p, htonl(q_addr), q_port, &e)) {
		if (det_forward(&p, e.internal, &back) || back.external != htonl(q_addr) ||
		    q_port < back.first || q_port > back.last)
			abort();
	}
}

static void structured(const uint8_t *data, size_t size)
{
	char det[32], pool[4][32], ports[16], addr[INET_ADDRSTRLEN], port[8];
	const char *args[20];
	static struct fc_options o;
	struct lf_argv a;
	uint32_t base, q_addr;
	unsigned int len, nr_pool, first, last, n = 0;
	uint16_t q_port;

	cur = data;
	end = data + size;
	len = 1 + take(1) % 32;
	base = take(4) & (len == 32 ? ~0U : ~(0xffffffffU >> len));
	ip(addr, sizeof(addr), base);
	snprintf(det, sizeof(det), "%s/%u", addr, len);
	nr_pool = 1 + take(1) % 4;
	for (unsigned int i = 0; i < nr_pool; i++) {
		unsigned int plen = 20 + take(1) % 13;
		uint32_t pa = take(4) & (plen == 32 ? ~0U : ~(0xffffffffU >> plen));

		ip(addr, sizeof(addr), pa);
		snprintf(pool[i], sizeof(pool[i]), "%s/%u", addr, plen);
	}
	first = take(2);
	last = take(2);
	snprintf(ports, sizeof(ports), "%u-%u", first, last);
	/* Mostly an address inside the prefix, so that the formula runs. */
	q_addr = take(1) & 1 ? base + take(4) % (len == 32 ? 1 : 1U << (32 - len)) : take(4);
	q_port = take(2);
	ip(addr, sizeof(addr), q_addr);
	snprintf(port, sizeof(port), "%u", q_port);

	args[n++] = "fcnat";
	args[n++] = "lookup";
	args[n++] = addr;
	if (take(1) & 1)
		args[n++] = port;
	args[n++] = "--pool";
	for (unsigned int i = 0; i < nr_pool; i++)
		args[n++] = pool[i];
	args[n++] = "--deterministic";
	args[n++] = det;
	args[n++] = "--ports";
	args[n++] = ports;
	lf_argv_make(&a, args, n, NULL, 0);
	options_defaults(&o);
	if (options_parse(a.argc, a.argv, &o) == FC_OPTS_RUN && o.cmd == FC_CMD_LOOKUP) {
		lookup_main(&o);
		check_plan(&o, q_addr, q_port);
	}
	lf_argv_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const head[] = { "fcnat", "lookup" };
	static struct fc_options o;
	struct lf_argv a;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		structured(data + 1, size - 1);
		return 0;
	}
	lf_argv_make(&a, head, 2, data + 1, size - 1);
	if (lf_argv_local(&a)) {
		options_defaults(&o);
		if (options_parse(a.argc, a.argv, &o) == FC_OPTS_RUN && o.cmd == FC_CMD_LOOKUP)
			lookup_main(&o);
	}
	lf_argv_free(&a);
	return 0;
}
