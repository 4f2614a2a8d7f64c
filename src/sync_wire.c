// SPDX-License-Identifier: GPL-2.0
/* The state sync's datagram codec and replay window (sync_wire.h). */
#include <string.h>

#include "sync_hmac.h"
#include "sync_wire.h"

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8, p[1] = v;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static void put64(__u8 *p, __u64 v)
{
	put32(p, v >> 32);
	put32(p + 4, (__u32)v);
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

static __u64 get64(const __u8 *p)
{
	return (__u64)get32(p) << 32 | get32(p + 4);
}

void sync_begin(struct sync_writer *w, const struct sync_hdr *h)
{
	memset(w->buf, 0, SYNC_HDR_LEN);
	memcpy(w->buf, SYNC_MAGIC, 4);
	w->buf[4] = SYNC_VERSION;
	w->buf[5] = h->type;
	put16(w->buf + 6, h->flags);
	put64(w->buf + 8, h->epoch);
	put64(w->buf + 16, h->echo);
	put64(w->buf + 24, h->seq);
	w->len = SYNC_HDR_LEN;
	w->count = 0;
}

static size_t body_len(__u8 type)
{
	switch (type) {
	case SYNC_REC_MAP:
	case SYNC_REC_UNMAP:
		return SYNC_MAP_BODY;
	case SYNC_REC_SESSION:
	case SYNC_REC_UNSESSION:
		return SYNC_SESSION_BODY;
	}
	return 0;
}

int sync_add(struct sync_writer *w, const struct sync_rec *r)
{
	size_t n = body_len(r->type);
	__u8 *p = w->buf + w->len;

	if (!n || w->len + 2 + n + SYNC_MAC_LEN > SYNC_MAX_DGRAM || w->count == 0xffff)
		return -1;
	memset(p, 0, 2 + n);
	p[0] = r->type;
	p[1] = n;
	p += 2;
	if (n == SYNC_MAP_BODY) {
		const struct sync_map *m = &r->m;

		p[0] = m->proto, p[1] = m->int_family, p[2] = m->ext_family, p[3] = m->flags;
		memcpy(p + 4, m->int_addr.v6, 16);
		memcpy(p + 20, m->ext_addr.v6, 16);
		put16(p + 36, m->int_port);
		put16(p + 38, m->ext_port);
		put32(p + 40, m->idle_ms);
		put32(p + 44, m->sessions_ms);
		put32(p + 48, m->pcp_s);
	} else {
		const struct sync_session *s = &r->s;

		p[0] = s->family, p[1] = s->proto, p[2] = s->wscale;
		memcpy(p + 4, s->ext_addr.v6, 16);
		memcpy(p + 20, s->remote_addr.v6, 16);
		put16(p + 36, s->ext_port);
		put16(p + 38, s->remote_port);
		put32(p + 40, s->remaining_ms);
		put32(p + 44, s->tcp_seen);
		put32(p + 48, s->rcv_next);
		put32(p + 52, s->rcv_wnd);
	}
	w->len += 2 + n;
	w->count++;
	return 0;
}

size_t sync_finish(struct sync_writer *w, const void *key, size_t key_len)
{
	put16(w->buf + 32, w->count);
	hmac_sha256(key, key_len, w->buf, w->len, w->buf + w->len);
	w->len += SYNC_MAC_LEN;
	return w->len;
}

static bool family_ok(__u8 f)
{
	return f == FC_AF_INET || f == FC_AF_INET6;
}

static bool proto_ok(__u8 p)
{
	return p == FC_PROTO_TCP || p == FC_PROTO_UDP || p == FC_PROTO_ICMP;
}

/* An IPv4 address is held in v4 with the rest zero (types.h): a record
 * with bits past it would make keys that never match. */
static bool addr_ok(__u8 family, const __u8 *a)
{
	static const __u8 zero[12];

	return family == FC_AF_INET6 || !memcmp(a + 4, zero, 12);
}

int sync_next_record(const __u8 *p, size_t len, size_t *off, struct sync_rec *r)
{
	size_t n;
	const __u8 *b;
	__u8 type;

	/* Records of a later version's types are skipped. */
	do {
		if (*off == len)
			return 0;
		if (len - *off < 2)
			return -1;
		type = p[*off];
		n = p[*off + 1];
		if (len - *off - 2 < n)
			return -1;
		b = p + *off + 2;
		*off += 2 + n;
	} while (!body_len(type));
	if (n != body_len(type))
		return -1;
	memset(r, 0, sizeof(*r));
	r->type = type;
	if (n == SYNC_MAP_BODY) {
		struct sync_map *m = &r->m;

		m->proto = b[0], m->int_family = b[1], m->ext_family = b[2], m->flags = b[3];
		memcpy(m->int_addr.v6, b + 4, 16);
		memcpy(m->ext_addr.v6, b + 20, 16);
		m->int_port = get16(b + 36);
		m->ext_port = get16(b + 38);
		m->idle_ms = get32(b + 40);
		m->sessions_ms = get32(b + 44);
		m->pcp_s = get32(b + 48);
		if (!proto_ok(m->proto) || !family_ok(m->int_family) || !family_ok(m->ext_family) ||
		    !addr_ok(m->int_family, b + 4) || !addr_ok(m->ext_family, b + 20))
			return -1;
	} else {
		struct sync_session *s = &r->s;

		s->family = b[0], s->proto = b[1], s->wscale = b[2];
		memcpy(s->ext_addr.v6, b + 4, 16);
		memcpy(s->remote_addr.v6, b + 20, 16);
		s->ext_port = get16(b + 36);
		s->remote_port = get16(b + 38);
		s->remaining_ms = get32(b + 40);
		s->tcp_seen = get32(b + 44);
		s->rcv_next = get32(b + 48);
		s->rcv_wnd = get32(b + 52);
		if (!proto_ok(s->proto) || !family_ok(s->family) || s->wscale > 14 ||
		    !addr_ok(s->family, b + 4) || !addr_ok(s->family, b + 20))
			return -1;
	}
	return 1;
}

enum sync_parse_result sync_parse(const __u8 *p, size_t len, const void *key, size_t key_len,
				  struct sync_hdr *h)
{
	__u8 mac[SHA256_LEN];
	struct sync_rec r;
	size_t off = SYNC_HDR_LEN, end;
	unsigned int n = 0;
	int got;

	if (len < SYNC_HDR_LEN + SYNC_MAC_LEN)
		return SYNC_ERR_SHORT;
	if (memcmp(p, SYNC_MAGIC, 4))
		return SYNC_ERR_MAGIC;
	if (p[4] != SYNC_VERSION)
		return SYNC_ERR_VERSION;
	end = len - SYNC_MAC_LEN;
	/* Nothing past the header is read before the MAC says who sent it. */
	hmac_sha256(key, key_len, p, end, mac);
	if (!mac_equal(mac, p + end, SYNC_MAC_LEN))
		return SYNC_ERR_MAC;
	h->type = p[5];
	h->flags = get16(p + 6);
	h->epoch = get64(p + 8);
	h->echo = get64(p + 16);
	h->seq = get64(p + 24);
	h->count = get16(p + 32);
	if (h->type != SYNC_MSG_HELLO && h->type != SYNC_MSG_DATA)
		return SYNC_ERR_FORMAT;
	while ((got = sync_next_record(p, end, &off, &r)) == 1)
		n++;
	if (got < 0 || n > h->count || (h->type == SYNC_MSG_HELLO && h->count))
		return SYNC_ERR_FORMAT;
	return SYNC_OK;
}

const char *sync_parse_error(enum sync_parse_result r)
{
	switch (r) {
	case SYNC_OK: return "ok";
	case SYNC_ERR_SHORT: return "too short";
	case SYNC_ERR_MAGIC: return "not a sync datagram";
	case SYNC_ERR_VERSION: return "unknown version";
	case SYNC_ERR_MAC: return "authentication failed";
	case SYNC_ERR_FORMAT: return "malformed";
	}
	return "?";
}

enum sync_seq_verdict sync_window_check(struct sync_window *w, __u64 seq, __u64 *lost)
{
	*lost = 0;
	if (!w->init) {
		w->init = true;
		w->top = seq;
		w->bits = 1;
		return SYNC_SEQ_NEW;
	}
	if (seq > w->top) {
		__u64 shift = seq - w->top;

		*lost = shift - 1;
		w->bits = shift >= 64 ? 0 : w->bits << shift;
		w->bits |= 1;
		w->top = seq;
		return SYNC_SEQ_NEW;
	}
	if (w->top - seq >= 64)
		return SYNC_SEQ_OLD;
	if (w->bits & (1ULL << (w->top - seq)))
		return SYNC_SEQ_REPLAY;
	w->bits |= 1ULL << (w->top - seq);
	return SYNC_SEQ_NEW;
}
