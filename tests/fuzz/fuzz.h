/* SPDX-License-Identifier: GPL-2.0 */
/* What the fuzzer's IPv4 core (fuzz.c) shares with its IPv6 part
 * (fuzz_ipv6.c): jobs, the seeded random stream, checksum sums, reports. */
#ifndef FC_FUZZ_H
#define FC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "fixture.h"

#define TC_ACT_REDIRECT	7

struct job {
	uint8_t in[PKT_MAX];
	size_t len;
	int prog;		/* enum prog */
	int ifindex;		/* ingress_ifindex: 0 = local origin */
	int flow;		/* index of an outbound flow packet to learn from, or -1 */
	const char *kind;
	int v6;			/* made by fuzz_ipv6.c: flow indexes its flows */
};

/* The four TC programs of TC mode (P_MAX of them), then the fast path's:
 * the XDP programs on the external and internal interfaces, and TC mode's
 * with --lan-if (fc_tc_int_ingress, fc_tc_ingress redirecting inside). */
enum prog { P_EGRESS, P_INGRESS, P_LAN, P_LO, P_MAX,
	    P_XDP_EXT = P_MAX, P_XDP_INT, P_FAST_INT, P_FAST_IN, P_ALL };

/* XDP verdicts (the UAPI's values, without its header here). */
#define XDP_ABORTED_	0
#define XDP_DROP_	1
#define XDP_PASS_	2
#define XDP_TX_		3
#define XDP_REDIRECT_	4

static inline int prog_is_xdp(int prog)
{
	return prog == P_XDP_EXT || prog == P_XDP_INT;
}

/* The seeded stream: the same seed gives the same packets. */
uint64_t rnd(void);
uint32_t rn(uint32_t n);
int chance(uint32_t percent);

uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum);
uint32_t fold_sum(uint32_t sum);

static inline uint16_t be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

extern unsigned long long violations, packets, tested, runs_failed, refused;
extern unsigned long long leak_checked, quote_checked, changed, l4_checked;
void violation(const struct job *j, const struct run_result *r, const char *what);
void hexdump(const char *what, const uint8_t *p, size_t len);

/* fuzz_ipv6.c: IPv6 jobs (NAT66 traffic, extension header chains,
 * neighbour discovery, ICMPv6 errors) and their checks. */
void fuzz6_init(int nat66, const char *ext6);
void fuzz6_populate(void);
void fuzz6_generate(struct job *j);
void fuzz6_mutate(struct job *j);
void fuzz6_fix_checksums(uint8_t *f, size_t len);
void fuzz6_check(const struct job *j, struct run_result *r);
void fuzz6_learn(const struct job *j, const struct run_result *r);
/* NAT64 jobs (made among the IPv6 ones once fuzz64_init ran) and checks:
 * fuzz64_check says whether it judged the result. */
void fuzz64_init(const char *ext4);
/* The address-mapped internal host (--nat64-static) and its address. */
#define FUZZ64_STATIC_HOST	"fd00:0:0:1::1"
#define FUZZ64_STATIC_V4	"203.0.113.251"
int fuzz64_check(const struct job *j, struct run_result *r);
/* The same for the XDP programs' NAT64 (fwd64.h). */
int fuzz64_check_xdp(const struct job *j, struct run_result *r);
void fuzz64_report(void);
/* Hairpin targets across the families: a learnt NAT64 mapping's port (0:
 * none; *proto set), a NAT44 flow's external port of proto (or any). */
uint16_t fuzz64_mapped_port(uint8_t *proto);
uint16_t fuzz_nat44_port(uint8_t proto);

#endif
