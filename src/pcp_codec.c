// SPDX-License-Identifier: GPL-2.0
/*
 * NAT-PMP (RFC 6886) and PCP (RFC 6887) messages: parsing requests and
 * building responses, byte by byte with explicit bounds. See pcp_codec.h
 * and doc/design/port-mapping.md ("Parsing").
 */
#include <string.h>
#include <fcnat/types.h>

#include "pcp_codec.h"

static __u16 get16(const __u8 *p)
{
	return (__u16)p[0] << 8 | p[1];
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* ::ffff:a.b.c.d, the form PCP carries IPv4 addresses in (RFC 6887 §5). */
static bool get_mapped4(const __u8 *p, __be32 *a)
{
	static const __u8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(p, prefix, sizeof(prefix)))
		return false;
	memcpy(a, p + 12, 4);
	return true;
}

static void put_mapped4(__u8 *p, __be32 a)
{
	memset(p, 0, 10);
	p[10] = p[11] = 0xff;
	memcpy(p + 12, &a, 4);
}

static bool all_zero(const __u8 *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* A 16-byte address field as a host of family: IPv4-mapped for IPv4, any
 * other for IPv6 (RFC 6887 §5). */
static bool get_host(const __u8 *p, __u8 family, struct pcp_host *h)
{
	__be32 a;
	bool mapped = get_mapped4(p, &a);

	if (family == FC_AF_INET) {
		if (!mapped)
			return false;
		*h = pcp_host4(a);
		return true;
	}
	if (mapped)
		return false;
	memset(h, 0, sizeof(*h));
	h->family = FC_AF_INET6;
	memcpy(h->addr.v6, p, 16);
	return true;
}

/* ---- parsing ---- */

static void natpmp_parse(const __u8 *in, size_t len, struct pcp_request *r)
{
	__u8 op = in[1];

	if (len > PCP_MAX_MSG)
		len = PCP_MAX_MSG;
	r->raw_len = len;
	r->opcode = op;
	if (op == 0) {
		r->kind = NATPMP_REQ_ADDRESS;
		return;
	}
	if (op != 1 && op != 2) {
		r->kind = NATPMP_REQ_BAD_OPCODE;
		return;
	}
	if (len < 12)
		return;		/* too short to be a mapping request: dropped */
	r->kind = NATPMP_REQ_MAP;
	r->proto = op == 1 ? FC_PROTO_UDP : FC_PROTO_TCP;
	r->int_port = get16(in + 4);
	r->suggested = get16(in + 6);
	r->lifetime = get32(in + 8);
}

/* Options after the opcode data: 0 or a result code (RFC 6887 §7.3). */
static __u8 pcp_parse_options(const __u8 *p, size_t len, struct pcp_request *r)
{
	size_t off = 0;

	while (off < len) {
		__u8 code;
		size_t olen, padded;

		if (len - off < 4)
			return PCP_MALFORMED_OPTION;
		code = p[off];
		olen = get16(p + off + 2);
		padded = (olen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return PCP_MALFORMED_OPTION;
		switch (code) {
		case PCP_OPT_THIRD_PARTY:
			if (r->opcode == PCP_OP_ANNOUNCE || olen != 16 || r->third_party)
				return PCP_MALFORMED_OPTION;
			/* Of the sender's family: a host on its side. */
			if (!get_host(p + off + 4, r->src.family, &r->third_party_host))
				return PCP_MALFORMED_OPTION;
			r->third_party = true;
			break;
		case PCP_OPT_PREFER_FAILURE:
			if (r->opcode != PCP_OP_MAP || olen != 0 || r->prefer_failure)
				return PCP_MALFORMED_OPTION;
			r->prefer_failure = true;
			break;
		default:
			/* FILTER (3) included: full cone has no per-mapping
			 * filter. 0-127 must be understood, 128-255 may be
			 * skipped (§7.3). */
			if (code < 128)
				return PCP_UNSUPP_OPTION;
			off += 4 + padded;
			continue;
		}
		/* Each of the two is here at most once: 20 + 4 bytes. */
		if (r->echo_len + 4 + padded > sizeof(r->echo))
			return PCP_MALFORMED_OPTION;
		memcpy(r->echo + r->echo_len, p + off, 4 + padded);
		r->echo_len += 4 + padded;
		off += 4 + padded;
	}
	return 0;
}

/* 0 or the error result of a PCP request. */
static __u8 pcp_check(const __u8 *in, size_t len, struct pcp_request *r)
{
	struct pcp_host client, peer;
	size_t body;
	__u8 err;

	if (in[0] != PCP_VERSION) {
		r->raw_len = len < PCP_HDR_LEN ? len : PCP_HDR_LEN;
		return PCP_UNSUPP_VERSION;
	}
	if (len < PCP_HDR_LEN || len > PCP_MAX_MSG || len % 4)
		return PCP_MALFORMED_REQUEST;
	if (!get_host(in + 8, r->src.family, &client) || !pcp_host_eq(&client, &r->src))
		return PCP_ADDRESS_MISMATCH;
	switch (r->opcode) {
	case PCP_OP_ANNOUNCE:
		body = 0;
		break;
	case PCP_OP_MAP:
		body = PCP_MAP_LEN;
		break;
	case PCP_OP_PEER:
		body = PCP_PEER_LEN;
		break;
	default:
		return PCP_UNSUPP_OPCODE;
	}
	if (len < PCP_HDR_LEN + body)
		return PCP_MALFORMED_REQUEST;
	err = pcp_parse_options(in + PCP_HDR_LEN + body, len - PCP_HDR_LEN - body, r);
	if (err)
		return err;
	r->lifetime = get32(in + 4);
	if (r->opcode == PCP_OP_ANNOUNCE)
		return 0;

	r->nonce = in + 24;
	r->proto = in[36];
	r->int_port = get16(in + 40);
	r->suggested = get16(in + 42);
	memcpy(r->sugg6, in + 44, 16);
	r->sugg_family = get_mapped4(in + 44, &r->sugg_addr) ? FC_AF_INET : FC_AF_INET6;
	if (r->sugg_family == FC_AF_INET6 && !all_zero(in + 44, 16))
		r->sugg_addr = 0xffffffffU;	/* IPv6: never an IPv4 mapping's */
	if (r->proto == 0 && r->int_port)
		return PCP_MALFORMED_REQUEST;
	if (r->opcode == PCP_OP_PEER) {
		/* The remote peer as the client sees it: an IPv6 client
		 * behind NAT64 names an IPv4 one under the prefix. */
		r->peer_port = get16(in + 60);
		if (!r->proto || !r->int_port || !r->peer_port ||
		    !get_host(in + 64, r->src.family, &peer) || all_zero(peer.addr.v6, 16))
			return PCP_MALFORMED_REQUEST;
	}
	if (r->proto != FC_PROTO_TCP && r->proto != FC_PROTO_UDP)
		return PCP_UNSUPP_PROTOCOL;
	return 0;
}

void pcp_parse(const __u8 *in, size_t len, const struct pcp_host *src, struct pcp_request *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = PCP_REQ_DROP;
	r->src = *src;
	r->raw = in;
	r->raw_len = len;
	/* Shorter than 2 bytes, or a response (R bit): dropped (RFC 6886
	 * §3.1, RFC 6887 §8.3). */
	if (len < 2 || (in[1] & 0x80))
		return;
	if (in[0] == NATPMP_VERSION) {
		if (src->family == FC_AF_INET)
			natpmp_parse(in, len, r);
		return;
	}
	r->opcode = in[1] & 0x7f;
	if (len > PCP_MAX_MSG)
		r->raw_len = PCP_MAX_MSG;
	r->error = pcp_check(in, len, r);
	r->kind = r->error ? PCP_REQ_ERROR : PCP_REQ;
}

/* ---- responses ---- */

size_t natpmp_build_address(__u8 *out, __u16 result, __u32 epoch, __be32 ext_addr)
{
	out[0] = NATPMP_VERSION;
	out[1] = 128;
	put16(out + 2, result);
	put32(out + 4, epoch);
	memcpy(out + 8, &ext_addr, 4);
	return 12;
}

size_t natpmp_build_map(__u8 *out, const struct pcp_request *r, __u16 result, __u32 epoch,
			__u16 ext_port, __u32 lifetime)
{
	out[0] = NATPMP_VERSION;
	out[1] = 128 + r->opcode;
	put16(out + 2, result);
	put32(out + 4, epoch);
	put16(out + 8, r->int_port);
	put16(out + 10, ext_port);
	put32(out + 12, lifetime);
	return 16;
}

size_t natpmp_build_bad_opcode(__u8 *out, const struct pcp_request *r, __u32 epoch)
{
	size_t len = r->raw_len > PCP_MAX_MSG ? PCP_MAX_MSG : r->raw_len;

	memset(out, 0, 8);
	memcpy(out, r->raw, len);
	out[1] |= 128;
	put16(out + 2, PMP_UNSUPP_OPCODE);
	put32(out + 4, epoch);
	return len < 8 ? 8 : len;
}

static bool error_is_long(__u8 result)
{
	return result != PCP_NETWORK_FAILURE && result != PCP_NO_RESOURCES &&
	       result != PCP_USER_EX_QUOTA && result != PCP_CANNOT_PROVIDE_EXTERNAL;
}

size_t pcp_build_error(__u8 *out, const struct pcp_request *r, __u8 result, __u32 epoch)
{
	size_t n = r->raw_len > PCP_MAX_MSG ? PCP_MAX_MSG : r->raw_len;

	memset(out, 0, PCP_MAX_MSG);
	memcpy(out, r->raw, n);
	if (n < PCP_HDR_LEN)
		n = PCP_HDR_LEN;
	n = (n + 3) & ~(size_t)3;
	if (n > PCP_MAX_MSG)
		n = PCP_MAX_MSG;
	out[0] = PCP_VERSION;
	out[1] = 0x80 | r->opcode;
	out[2] = 0;
	out[3] = result;
	put32(out + 4, error_is_long(result) ? PCP_LONG_ERROR_S : PCP_SHORT_ERROR_S);
	put32(out + 8, epoch);
	memset(out + 12, 0, 12);
	return n;
}

size_t pcp_build_success(__u8 *out, const struct pcp_request *r, __u32 epoch, __u32 lifetime,
			 __u16 ext_port, const struct pcp_host *ext)
{
	size_t body = r->opcode == PCP_OP_MAP ? PCP_MAP_LEN :
		      r->opcode == PCP_OP_PEER ? PCP_PEER_LEN : 0;

	memset(out, 0, PCP_HDR_LEN);
	out[0] = PCP_VERSION;
	out[1] = 0x80 | r->opcode;
	put32(out + 4, lifetime);
	put32(out + 8, epoch);
	memcpy(out + PCP_HDR_LEN, r->raw + PCP_HDR_LEN, body);
	memcpy(out + PCP_HDR_LEN + body, r->echo, r->echo_len);
	if (body && ext) {
		put16(out + 42, ext_port);
		if (ext->family == FC_AF_INET)
			put_mapped4(out + 44, ext->addr.v4);
		else
			memcpy(out + 44, ext->addr.v6, 16);
	}
	return PCP_HDR_LEN + body + r->echo_len;
}

size_t pcp_build_announce(__u8 *out, __u32 epoch)
{
	memset(out, 0, PCP_HDR_LEN);
	out[0] = PCP_VERSION;
	out[1] = 0x80 | PCP_OP_ANNOUNCE;
	put32(out + 8, epoch);
	return PCP_HDR_LEN;
}
