/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NAT-PMP (RFC 6886) and PCP (RFC 6887) wire format: a request datagram
 * parsed into a struct, responses built from one. Pure: no I/O, no maps, no
 * globals, so fuzzers and unit tests call it alone (tests/fuzz/lf_pcp.c).
 * What a request may do is decided in pcp.c.
 */
#ifndef FC_PCP_CODEC_H
#define FC_PCP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include <fcnat/types.h>

#define PCP_MAX_MSG 1100	/* RFC 6887 §7 */
#define PCP_HDR_LEN 24
#define PCP_MAP_LEN 36
#define PCP_PEER_LEN 56
#define PCP_VERSION 2
#define NATPMP_VERSION 0
#define PCP_NONCE_LEN 12
/* The options a success response repeats: THIRD_PARTY (20 bytes) and
 * PREFER_FAILURE (4), each at most once. */
#define PCP_ECHO_MAX 24

enum pcp_opcode { PCP_OP_ANNOUNCE = 0, PCP_OP_MAP = 1, PCP_OP_PEER = 2 };

enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
};

enum pcp_option { PCP_OPT_THIRD_PARTY = 1, PCP_OPT_PREFER_FAILURE = 2, PCP_OPT_FILTER = 3 };

enum natpmp_result {
	PMP_SUCCESS = 0,
	PMP_UNSUPP_VERSION = 1,
	PMP_REFUSED = 2,
	PMP_NETWORK_FAILURE = 3,
	PMP_NO_RESOURCES = 4,
	PMP_UNSUPP_OPCODE = 5,
};

/* How long a client should take an error as lasting (RFC 6887 §7.4:
 * "long" and "short" lifetime errors). */
#define PCP_LONG_ERROR_S 1800
#define PCP_SHORT_ERROR_S 30

/* A client: the sender of a request, or the host a THIRD_PARTY option
 * names. IPv4 (NAT44), or IPv6 (NAT64: its mappings are on the IPv4
 * external address). The bytes past an IPv4 address are zero, so hosts
 * compare whole (pcp_host_eq). */
struct pcp_host {
	__u8 family;		/* FC_AF_INET or FC_AF_INET6 */
	union fc_addr addr;
};

static inline struct pcp_host pcp_host4(__be32 a)
{
	struct pcp_host h;

	memset(&h, 0, sizeof(h));
	h.family = FC_AF_INET;
	h.addr.v4 = a;
	return h;
}

static inline bool pcp_host_eq(const struct pcp_host *a, const struct pcp_host *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

enum pcp_kind {
	PCP_REQ_DROP,		/* no answer at all */
	NATPMP_REQ_ADDRESS,	/* NAT-PMP opcode 0 */
	NATPMP_REQ_MAP,		/* NAT-PMP opcode 1 (UDP) or 2 (TCP) */
	NATPMP_REQ_BAD_OPCODE,	/* answered with the request and result 5 */
	PCP_REQ_ERROR,		/* answered with pcp_build_error(error) */
	PCP_REQ,		/* a well-formed PCP request: opcode says which */
};

struct pcp_request {
	enum pcp_kind kind;
	__u8 opcode;		/* without the R bit */
	__u8 error;		/* PCP_REQ_ERROR: the result to answer with */
	__u8 proto;		/* FC_PROTO_UDP/TCP; PCP: the request's, checked */
	__u16 int_port;		/* host order */
	__u16 suggested;	/* suggested external port, 0: none */
	__u32 lifetime;		/* requested, seconds */
	/* PCP MAP and PEER */
	const __u8 *nonce;	/* PCP_NONCE_LEN bytes inside the request */
	/* The suggested external address field (§11.1): its family
	 * (IPv4-mapped, ::ffff:0.0.0.0 included, or IPv6, :: included) asks
	 * for a mapping of that family (an IPv6 host: NAT64 or NAT66). As
	 * IPv4: 0 none (all-zeros of either family), 255.255.255.255 an IPv6
	 * address (never an IPv4 mapping's); sugg6: the field itself. */
	__u8 sugg_family;
	__be32 sugg_addr;
	__u8 sugg6[16];
	__u16 peer_port;	/* PEER */
	bool third_party;
	bool prefer_failure;
	struct pcp_host third_party_host;	/* of the sender's family */
	__u8 echo_len;		/* the options to repeat in a success response */
	__u8 echo[PCP_ECHO_MAX];
	struct pcp_host src;	/* the sender, as given to pcp_parse */
	/* The datagram, for responses that copy it. */
	const __u8 *raw;
	size_t raw_len;
};

/*
 * Parse one datagram of len bytes (readable; len may exceed PCP_MAX_MSG,
 * which makes a PCP request malformed) from src. Sets every field of r;
 * r->kind says what to answer. Checks everything the wire format decides
 * (RFC 6886 §3, RFC 6887 §7-§13): versions, lengths, opcodes, options, the
 * client address field against src, protocols; nothing that needs the
 * server's state or policy. NAT-PMP is IPv4's only (RFC 6886): from an
 * IPv6 src it is dropped.
 */
void pcp_parse(const __u8 *in, size_t len, const struct pcp_host *src, struct pcp_request *r);

/* Responses, written to out (at least PCP_MAX_MSG + 4 bytes); each
 * returns its length. epoch: seconds since the server's state began. */

/* NAT-PMP external address: 12 bytes (also the unsolicited announcement). */
size_t natpmp_build_address(__u8 *out, __u16 result, __u32 epoch, __be32 ext_addr);
/* NAT-PMP mapping response: 16 bytes; ext_port and lifetime 0 on errors. */
size_t natpmp_build_map(__u8 *out, const struct pcp_request *r, __u16 result, __u32 epoch,
			__u16 ext_port, __u32 lifetime);
/* NAT-PMP unsupported opcode: the request back, R bit and result 5. */
size_t natpmp_build_bad_opcode(__u8 *out, const struct pcp_request *r, __u32 epoch);
/* PCP error: the request copied (up to 1100 bytes, padded to a multiple
 * of 4), the header's server fields set (RFC 6887 §7.2). */
size_t pcp_build_error(__u8 *out, const struct pcp_request *r, __u8 result, __u32 epoch);
/* PCP success: header, the request's opcode data, the options acted on.
 * ext_port and ext (IPv4-mapped, or IPv6) replace the suggested external
 * endpoint unless ext is NULL (a delete answers with the request's own
 * fields). */
size_t pcp_build_success(__u8 *out, const struct pcp_request *r, __u32 epoch, __u32 lifetime,
			 __u16 ext_port, const struct pcp_host *ext);
/* PCP unsolicited ANNOUNCE response: 24 bytes. */
size_t pcp_build_announce(__u8 *out, __u32 epoch);

#endif
