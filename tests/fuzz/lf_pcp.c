// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of the NAT-PMP/PCP codec (src/pcp_codec.c): every input
 * is one request datagram, parsed as if from the client it names and from
 * a stranger, then answered with every response the server could build for
 * what was parsed. Buffers are exact-size allocations, so AddressSanitizer
 * sees any byte read or written past them; the checks below are the
 * codec's promises (lengths, versions, R bit).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       tests/fuzz/lf_pcp.c src/pcp_codec.c -o lf_pcp
 *   ./lf_pcp -runs=1000000 tests/fuzz/corpus/pcp
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcp_codec.h"

#define STRANGER 0x010200c0U	/* 192.0.2.1 in network order */
#define OUT_LEN (PCP_MAX_MSG + 4)

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void check_pcp_response(const __u8 *out, size_t n, const struct pcp_request *r)
{
	CHECK(n >= PCP_HDR_LEN && n <= PCP_MAX_MSG && n % 4 == 0);
	CHECK(out[0] == PCP_VERSION && out[1] == (0x80 | r->opcode));
}

static void answer(const struct pcp_request *r, __u8 *out)
{
	size_t n;

	switch (r->kind) {
	case PCP_REQ_DROP:
		return;
	case NATPMP_REQ_ADDRESS:
		CHECK(r->src.family == FC_AF_INET);
		CHECK(natpmp_build_address(out, PMP_SUCCESS, 7, r->src.addr.v4) == 12);
		return;
	case NATPMP_REQ_BAD_OPCODE:
		CHECK(r->src.family == FC_AF_INET);	/* NAT-PMP: IPv4 only */
		n = natpmp_build_bad_opcode(out, r, 7);
		CHECK(n >= 8 && n <= PCP_MAX_MSG && (out[1] & 0x80));
		return;
	case NATPMP_REQ_MAP:
		CHECK(r->src.family == FC_AF_INET);
		CHECK(r->proto == 6 || r->proto == 17);
		CHECK(natpmp_build_map(out, r, PMP_SUCCESS, 7, r->suggested, r->lifetime) == 16);
		CHECK(natpmp_build_map(out, r, PMP_NO_RESOURCES, 7, 0, 0) == 16);
		return;
	case PCP_REQ_ERROR:
		CHECK(r->error != PCP_SUCCESS);
		check_pcp_response(out, pcp_build_error(out, r, r->error, 7), r);
		return;
	case PCP_REQ:
		CHECK(r->opcode <= PCP_OP_PEER && r->echo_len <= PCP_ECHO_MAX);
		CHECK(r->opcode == PCP_OP_ANNOUNCE || r->proto == 6 || r->proto == 17);
		n = pcp_build_success(out, r, 7, r->lifetime, r->suggested, &r->src);
		check_pcp_response(out, n, r);
		CHECK(n <= r->raw_len);
		check_pcp_response(out, pcp_build_success(out, r, 7, 0, 0, NULL), r);
		/* What policy may answer instead. */
		check_pcp_response(out, pcp_build_error(out, r, PCP_NOT_AUTHORIZED, 7), r);
		check_pcp_response(out, pcp_build_error(out, r, PCP_USER_EX_QUOTA, 7), r);
		return;
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcp_request r;
	__u8 *out = malloc(OUT_LEN);
	struct pcp_host client = pcp_host4(STRANGER), stranger = pcp_host4(~STRANGER);
	struct pcp_host client6 = { .family = FC_AF_INET6 };

	if (!out)
		return 0;
	/* As sent by the host its client address field names (PCP: bytes
	 * 20-23 of ::ffff:a.b.c.d, or all 16 from an IPv6 host), then by
	 * another one. */
	if (size >= PCP_HDR_LEN) {
		memcpy(&client.addr.v4, data + 20, 4);
		memcpy(client6.addr.v6, data + 8, 16);
	}
	pcp_parse(data, size, &client, &r);
	answer(&r, out);
	pcp_parse(data, size, &client6, &r);
	answer(&r, out);
	pcp_parse(data, size, &stranger, &r);
	answer(&r, out);
	CHECK(pcp_build_announce(out, 7) == PCP_HDR_LEN);
	free(out);
	return 0;
}
