/* SPDX-License-Identifier: GPL-2.0 */
/* The loaded datapath the unit tests, the fuzzer and the scale test run
 * packets through (tests/unit/fixture.c). */
#ifndef FC_TEST_FIXTURE_H
#define FC_TEST_FIXTURE_H

#include <stdint.h>
#include <stddef.h>

#include "bpf_profile.h"
#include "gc.h"
#include "loader.h"
#include "pkt.h"

#define EXT_ADDR	"198.51.100.1"
#define CLIENT_A	"192.168.77.2"
#define CLIENT_B	"192.168.77.3"
#define SERVER_1	"198.51.100.2"
#define SERVER_2	"198.51.100.3"
#define STRANGER	"198.51.100.4"
/* NAT66 (tests/unit/test_nat66.c): documentation prefix outside, ULA inside. */
#define EXT_ADDR6	"2001:db8:100::1"
#define CLIENT6_A	"fd00:77::2"
#define CLIENT6_B	"fd00:77::3"
#define SERVER6_1	"2001:db8:100::2"
#define SERVER6_2	"2001:db8:100::3"
#define STRANGER6	"2001:db8:100::4"

/* MACs of the private namespace's ext0 and int0 and of the clients behind
 * int0 (static neighbours, xdp_fixture_setup): frames the datapath sends
 * there carry them, from the FIB. */
extern const uint8_t FX_EXT0_MAC[6], FX_INT0_MAC[6], FX_CLIENT_A_MAC[6], FX_CLIENT_B_MAC[6];
/* SERVER_1's MAC, behind ext0. */
extern const uint8_t FX_SERVER1_MAC[6];
/* s as forwarded by the gateway: TTL one less, the next hop's MACs. */
struct pkt_spec fx_hop(struct pkt_spec s, const uint8_t *smac, const uint8_t *dmac);
/* CLIENT_A's or CLIENT_B's MAC. */
const uint8_t *fx_client_mac(const char *client);

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define TC_ACT_REDIRECT	7

#define FX_DEFERRED_MAX	4

struct fixture {
	struct fc_loader loader;
	struct fc_options opts;
	struct fc_config cfg;
	int egress_fd;
	int ingress_fd;
	int lan_fd;		/* fc_tc_lan_ingress (hairpin) */
	int lo_fd;		/* fc_tc_lo_ingress (hairpin from the gateway) */
	int bindings_fd;
	int sessions_fd;
	int stats_fd;
	/* XDP programs on the same maps, and the private namespace's veths
	 * their FIB lookups route through (tests/unit/test_xdp.c). */
	int xdp_ext_fd;
	int xdp_int_fd;
	int ext_ifindex;
	int int_ifindex;
	/* The TC programs once more, on the same maps, loaded as TC mode with
	 * --lan-if int0 loads them: the TC fast path (test_tc_fast.c). */
	struct fcnat_tc *tc_fast;
	int fast_int_fd;	/* fc_tc_int_ingress */
	int fast_ingress_fd;	/* fc_tc_ingress */
	int fast_egress_fd;	/* fc_tc_egress */
	struct gc_state gc;	/* the sweeper's memory, fresh for each test */
	/* Shell commands that undo what a test set up outside the maps
	 * (routes, addresses), run before the next test and at the end:
	 * they run even when the test stopped at a failed assertion. */
	char deferred[FX_DEFERRED_MAX][256];
	int nr_deferred;
};

extern struct fixture fx;

/* Load with the given table sizes (0: defaults). */
int fixture_load(struct fixture *f, unsigned int max_mappings, unsigned int max_sessions);
/* The same with the tables' allocation chosen (--prealloc-tables). */
int fixture_load_prealloc(struct fixture *f, unsigned int max_mappings, unsigned int max_sessions,
			  enum fc_prealloc prealloc);
void fixture_unload(struct fixture *f);
/* Empty all maps, default configuration, counters zero. */
void fixture_reset(struct fixture *f);
/* Run cmd (its failure ignored) before the next test, whatever this one's
 * outcome; fixture_run_deferred runs what is pending now. */
void fixture_defer(struct fixture *f, const char *cmd);
void fixture_run_deferred(struct fixture *f);
/* Apply f->opts (port ranges, timeouts) to the datapath. */
void fixture_apply(struct fixture *f);

struct run_result {
	int ret;		/* TC verdict */
	uint8_t out[PKT_MAX];
	size_t out_len;
};

/* Packets run as if forwarded from this interface; LOCAL_ORIGIN as if sent
 * by the gateway itself. */
#define FORWARDED_FROM	2
#define LOCAL_ORIGIN	0

/* BPF_PROG_TEST_RUN one packet; returns 0 or -errno of the syscall. */
int run_prog(int prog_fd, const uint8_t *in, size_t len, struct run_result *r);
int run_prog_from(int prog_fd, const uint8_t *in, size_t len, int ingress_ifindex,
		  struct run_result *r);
/* With a whole context: ifindex is the device the packet is on; ctx gets
 * the context the program left (mark). */
int run_prog_ctx(int prog_fd, const uint8_t *in, size_t len, struct __sk_buff *ctx,
		 struct run_result *r);
/* The packet pkt_build makes of in, through run_prog(_from). */
int run_spec(int prog_fd, const struct pkt_spec *in, struct run_result *r);
int run_spec_from(int prog_fd, const struct pkt_spec *in, int from, struct run_result *r);
/* Run in (as forwarded from `from`) and require exactly want out, with
 * verdict (needs harness.h). */
#define EXPECT_SPEC_FROM(prog_fd, in, from, want, verdict, what)	\
	do {								\
		struct run_result _r;					\
		uint8_t _w[PKT_MAX];					\
		size_t _wl = pkt_build(want, _w);			\
		ASSERT_EQ(run_spec_from(prog_fd, in, from, &_r), 0, what ": test run"); \
		ASSERT_EQ(_r.ret, verdict, what ": verdict");		\
		ASSERT_PKT_EQ(_r.out, _r.out_len, _w, _wl, what);	\
	} while (0)
/* XDP: run with ingress_ifindex; r->ret is the XDP verdict. */
int run_xdp(int prog_fd, const uint8_t *in, size_t len, int ingress_ifindex,
	    struct run_result *r);
/* Veths, addresses, neighbours, forwarding; load the XDP programs. */
int xdp_fixture_setup(struct fixture *f);
/* After xdp_fixture_setup: load the TC fast path's programs. */
int tc_fast_fixture_setup(struct fixture *f);
void tc_fast_fixture_unload(struct fixture *f);
size_t map_count(int fd, size_t key_size);
/* One pass of the real sweeper over the fixture's maps, as of now_ns. */
int fixture_sweep(struct fixture *f, uint64_t now_ns, struct gc_result *res);
size_t nr_bindings(const struct fixture *f);
/* fc_bindings keys, addr in text of its family: an internal endpoint whose
 * mapping is in ext_family's port space (NAT44: 4, 4; NAT66: 6, 6; NAT64:
 * 6, 4), or an external endpoint. */
struct fc_endpoint_key fx_int_key(int family, int ext_family, int proto, const char *addr,
				  uint16_t port);
struct fc_endpoint_key fx_ext_key(int family, int proto, const char *addr, uint16_t port);
size_t nr_sessions(const struct fixture *f);
uint64_t stat_get(const struct fixture *f, int stat);
uint64_t now_ns(void);

/*
 * skel__open_and_load() in the profile this kernel gets (src/bpf_profile.h):
 * every object built from bpf/lib has .rodata's fc_no_callbacks. NULL on
 * failure, as the skeleton's own.
 */
#define FC_OPEN_AND_LOAD(name, what) ({						\
	struct name *s_ = name##__open();					\
										\
	if (s_ && (bpf_profile_apply(s_->obj, &s_->rodata->fc_no_callbacks, what) ||	\
		   name##__load(s_))) {						\
		name##__destroy(s_);						\
		s_ = NULL;							\
	}									\
	s_;									\
})

#endif
