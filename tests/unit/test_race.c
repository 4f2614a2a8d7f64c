// SPDX-License-Identifier: GPL-2.0
/*
 * Two CPUs creating the same mapping at once (issue 11, races): two threads
 * pinned to different CPUs run the first packet of each new flow through
 * fc_tc_egress at the same moment. Each flow must end with one mapping, both
 * threads must see its packets leave with the same external port, and no
 * port may leak (bindings = 2 x flows).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "fixture.h"
#include "gc.h"
#include "harness.h"

#define RACE_FLOWS	8000	/* half UDP, half TCP */
#define RACE_ROUNDS	3	/* packets of each flow per thread, all at once */

struct racer {
	int cpu;
	int me;			/* 0 or 1: its gate in race_barrier */
	int ok;			/* pinned and every run succeeded */
	uint16_t *ext_port;	/* per flow, as seen in this thread's output */
};

static atomic_uint race_gate[2];

/* The first two CPUs this process may run on; -1 if it has only one (one
 * CPU online, or taskset or a cpuset narrowed it): no race to run. */
static int two_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpu[n++] = c;
	return n == 2 ? 0 : -1;
}

/* Both threads leave together: a spinning barrier, since a futex wake-up
 * takes longer than the test run it would line up. */
static void race_barrier(unsigned int round, int me)
{
	atomic_store(&race_gate[me], round);
	while (atomic_load(&race_gate[!me]) < round)
		;
}

static void race_flow(unsigned int i, struct pkt_spec *s, char *addr)
{
	/* 192.168.(1 + i / 250).(1 + i % 250); even flows keep an in-range
	 * port (both CPUs want the same preferred port), odd ones need a
	 * random port (both claim one, one must give it back). */
	snprintf(addr, 16, "192.168.%u.%u", 1 + i / 250, 1 + i % 250);
	memset(s, 0, sizeof(*s));
	s->proto = i < RACE_FLOWS / 2 ? IPPROTO_UDP : IPPROTO_TCP;
	s->saddr = addr;
	s->sport = i % 2 ? 40000 + i % 1000 : 20000 + i % 5000;
	s->daddr = SERVER_1;
	s->dport = 443;
	s->tcp_flags = 0x02;
	s->payload_len = 16;
}

static void *racer_main(void *arg)
{
	struct racer *rc = arg;
	int me = rc->me;
	cpu_set_t set;
	unsigned int round = 0;

	CPU_ZERO(&set);
	CPU_SET(rc->cpu, &set);
	rc->ok = !pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (unsigned int i = 0; i < RACE_FLOWS; i++) {
		struct pkt_spec s;
		struct run_result r;
		uint8_t buf[PKT_MAX];
		char addr[16];
		size_t len;

		race_flow(i, &s, addr);
		len = pkt_build(&s, buf);
		for (int k = 0; k < RACE_ROUNDS; k++) {
			race_barrier(++round, me);
			if (run_prog(fx.egress_fd, buf, len, &r) || r.ret != TC_ACT_OK) {
				rc->ok = 0;
				continue;
			}
			if (rc->ext_port[i] && rc->ext_port[i] != ((r.out[34] << 8) | r.out[35]))
				rc->ok = 0;	/* one thread saw two mappings */
			rc->ext_port[i] = (r.out[34] << 8) | r.out[35];
		}
	}
	race_barrier(~0u, me);
	return NULL;
}

struct race_check {
	unsigned long bad;
};

static int race_twin(void *ctx, const void *key, const void *value)
{
	struct race_check *c = ctx;
	const struct fc_endpoint_key *k = key;
	const struct fc_binding *b = value;
	/* NAT44 only: both sides IPv4, an internal key names IPv4's space. */
	struct fc_endpoint_key tk = { .side = !k->side, .family = k->family,
				      .ext_family = k->side == FC_SIDE_EXTERNAL ? FC_AF_INET : 0,
				      .proto = k->proto, .port = b->port, .addr = b->addr };
	struct fc_binding twin;

	if (bpf_map_lookup_elem(fx.bindings_fd, &tk, &twin) || twin.port != k->port ||
	    memcmp(&twin.addr, &k->addr, sizeof(k->addr)))
		c->bad++;
	return 0;
}

TEST(race_two_cpus_same_new_flow_one_mapping_no_leaked_port)
{
	static uint16_t ports[2][RACE_FLOWS];
	struct racer rc[2] = { { .me = 0, .ext_port = ports[0] }, { .me = 1, .ext_port = ports[1] } };
	pthread_t th[2];
	struct race_check c = {};
	unsigned long differ = 0;
	int cpu[2];

	if (two_cpus(cpu))
		SKIP("fewer than two CPUs to run on, no race");
	rc[0].cpu = cpu[0];
	rc[1].cpu = cpu[1];
	memset(ports, 0, sizeof(ports));
	atomic_store(&race_gate[0], 0);
	atomic_store(&race_gate[1], 0);
	for (int t = 0; t < 2; t++)
		ASSERT_EQ(pthread_create(&th[t], NULL, racer_main, &rc[t]), 0, "thread");
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	ASSERT_TRUE(rc[0].ok && rc[1].ok, "pinned, every packet translated, one port per thread");
	for (int i = 0; i < RACE_FLOWS; i++)
		differ += ports[0][i] != ports[1][i];
	ASSERT_EQ(differ, 0, "flows whose packets left with two different external ports");
	ASSERT_EQ(stat_get(&fx, FC_STAT_MAPPING_CREATED), RACE_FLOWS, "mappings created");
	ASSERT_EQ(map_count(fx.bindings_fd, sizeof(struct fc_endpoint_key)), 2 * RACE_FLOWS,
		  "bindings: two per flow, no leaked port");
	map_walk(fx.bindings_fd, sizeof(struct fc_endpoint_key), sizeof(struct fc_binding),
		 race_twin, &c);
	ASSERT_EQ(c.bad, 0, "bindings without a twin pointing back");
	ASSERT_EQ(map_count(fx.sessions_fd, sizeof(struct fc_session_key)), RACE_FLOWS,
		  "one session per flow");
}

/*
 * The sweeper's release (fc_release) from two CPUs at once, over and over
 * at the edge: a subscriber holding 1 UDP mapping, both CPUs take one at
 * the same moment. The count must end each round at 0 and neither CPU may
 * see it wrap (a clamp read, then added separately, lets both subtract:
 * 1 - 2 = 2^32 - 1). A stress check, not a proof: that window is a few
 * instructions wide, and the old read-then-add passed 3 x 20 000 rounds
 * here; compare-and-swap closes it by construction.
 */
#define RELEASE_ROUNDS	20000

struct releaser {
	int cpu;
	int me;			/* 0 or 1: its gate; 0 also resets the count */
	int release_fd;
	int ok;			/* pinned, every count seen 0 */
	long bad;		/* the first count or error that was not */
};

static struct fc_subscriber_key release_key = { .family = FC_AF_INET };

static void *releaser_main(void *arg)
{
	struct releaser *rl = arg;
	int subs_fd = loader_subscribers_fd(&fx.loader), me = rl->me;
	struct fc_subscriber sub = { .mappings[FC_SUB_UDP] = 1 };
	unsigned int round = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(rl->cpu, &set);
	rl->ok = !pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (int i = 0; i < RELEASE_ROUNDS; i++) {
		long left;

		if (me == 0 && bpf_map_update_elem(subs_fd, &release_key, &sub, BPF_ANY))
			rl->ok = 0;
		race_barrier(++round, me);
		do
			left = gc_release(rl->release_fd, release_key.family, &release_key.addr,
					  IPPROTO_UDP, -1);
		while (left == -EAGAIN);	/* lost every compare-and-swap: try again */
		if (left != 0 && rl->ok) {
			rl->ok = 0;
			rl->bad = left;
		}
		race_barrier(++round, me);
	}
	race_barrier(~0u, me);
	return NULL;
}

TEST(race_two_cpus_release_at_one_never_wraps_below_zero)
{
	int fd = loader_release_fd(&fx.loader);
	struct releaser rl[2] = { { .me = 0, .release_fd = fd }, { .me = 1, .release_fd = fd } };
	struct fc_subscriber sub;
	pthread_t th[2];
	int cpu[2];

	if (two_cpus(cpu))
		SKIP("fewer than two CPUs to run on, no race");
	rl[0].cpu = cpu[0];
	rl[1].cpu = cpu[1];
	release_key.addr.v4 = ip4(CLIENT_A);
	atomic_store(&race_gate[0], 0);
	atomic_store(&race_gate[1], 0);
	for (int t = 0; t < 2; t++)
		ASSERT_EQ(pthread_create(&th[t], NULL, releaser_main, &rl[t]), 0, "thread");
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	ASSERT_EQ(rl[0].bad, 0, "CPU 0: a count other than 0");
	ASSERT_EQ(rl[1].bad, 0, "CPU 1: a count other than 0");
	ASSERT_TRUE(rl[0].ok && rl[1].ok, "pinned, every entry written");
	ASSERT_EQ(bpf_map_lookup_elem(loader_subscribers_fd(&fx.loader), &release_key, &sub), 0,
		  "entry");
	ASSERT_EQ(sub.mappings[FC_SUB_UDP], 0, "ends at exactly zero");
}
