/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sessions: one per (mapping, remote endpoint). They carry the TCP state
 * that picks the idle timeout (RFC 5382 REQ-5, RFC 7857 §2.1) and keep their
 * mapping alive. The datapath only creates and refreshes them; the user-space
 * sweeper deletes expired ones (doc/design/expiry.md).
 */
#ifndef FC_BPF_SESSION_H
#define FC_BPF_SESSION_H

#include "maps.h"
#include "parse.h"
#include <fcnat/rules.h>

enum fc_dir {
	FC_DIR_OUT,
	FC_DIR_IN,
};

static __always_inline __u32 tcp_seen_bits(__u8 tcp_flags, int dir)
{
	__u32 bits = 0;

	if (tcp_flags & TCP_FLAG_SYN)
		bits |= dir == FC_DIR_OUT ? FC_TCP_SYN_OUT : FC_TCP_SYN_IN;
	else
		bits |= dir == FC_DIR_OUT ? FC_TCP_ACK_OUT : FC_TCP_ACK_IN;
	if (tcp_flags & TCP_FLAG_FIN)
		bits |= dir == FC_DIR_OUT ? FC_TCP_FIN_OUT : FC_TCP_FIN_IN;
	if (tcp_flags & TCP_FLAG_RST)
		bits |= FC_TCP_RST;
	return bits;
}

static __always_inline __u64 session_timeout(const struct fc_config *cfg, __u8 proto, __u32 seen)
{
	if (proto == FC_PROTO_UDP)
		return cfg->timeout_ns[FC_TIMEOUT_UDP];
	if (proto == FC_PROTO_ICMP)
		return cfg->timeout_ns[FC_TIMEOUT_ICMP];
	if ((seen & FC_TCP_RST) ||
	    ((seen & FC_TCP_FIN_OUT) && (seen & FC_TCP_FIN_IN)))
		return cfg->timeout_ns[FC_TIMEOUT_TCP_TRANS];
	/* Established: a SYN each way, or (state picked up mid-stream)
	 * segments each way. */
	if (((seen & FC_TCP_SYN_OUT) && (seen & FC_TCP_SYN_IN)) ||
	    ((seen & FC_TCP_ACK_OUT) && (seen & FC_TCP_ACK_IN)))
		return cfg->timeout_ns[FC_TIMEOUT_TCP_EST];
	return cfg->timeout_ns[FC_TIMEOUT_TCP_TRANS];
}

static __always_inline void session_key(struct fc_session_key *k, __u8 family, __u8 proto,
					const union fc_addr *ext_addr, __be16 ext_port,
					const union fc_addr *remote_addr, __be16 remote_port)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = proto;
	k->ext_port = ext_port;
	k->remote_port = remote_port;
	k->ext_addr = *ext_addr;
	k->remote_addr = *remote_addr;
}

/*
 * The live session for k, started (or restarted, if expired) when there is
 * none. NULL when the table is full: the caller refuses the packet.
 */
static __always_inline struct fc_session *session_get(const struct fc_session_key *k, __u64 now)
{
	struct fc_session *s = bpf_map_lookup_elem(&fc_sessions, k);
	struct fc_session fresh = { .expires_ns = now };

	if (s && s->expires_ns > now)
		return s;
	if (s) {
		/* Expired but not swept yet: start over in place. */
		s->tcp_seen = 0;
		return s;
	}
	/* BPF_NOEXIST: if another CPU starts it first, use theirs. */
	if (bpf_map_update_elem(&fc_sessions, k, &fresh, BPF_NOEXIST) == 0)
		stat_inc(FC_STAT_SESSION_CREATED);
	return bpf_map_lookup_elem(&fc_sessions, k);
}

/*
 * A bare SYN on a session whose connection was closed or reset starts a new
 * connection on the same addresses and ports (a reused source port): its
 * state starts over, so it can become established again (RFC 7857 §2).
 */
static __always_inline void tcp_restart_on_new_syn(struct fc_session *s, const struct fc_pkt *p)
{
	if (p->proto == IPPROTO_TCP &&
	    (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
	    (s->tcp_seen & (FC_TCP_RST | FC_TCP_FIN_OUT | FC_TCP_FIN_IN)))
		s->tcp_seen = 0;
}

/*
 * Merge what this packet shows into the session and push its expiry: to at
 * least now + timeout, written only when the stored expiry is outside
 * [now + timeout, now + timeout + grace] (rules.h fc_refresh_grace), and
 * then to the end of that window. Returns 1 if it wrote.
 */
static __always_inline int session_update(const struct fc_config *cfg, __u8 proto,
					  struct fc_session *s, __u32 bits, __u64 now)
{
	__u64 timeout, expires, cur = s->expires_ns;

	if ((s->tcp_seen & bits) != bits)
		__sync_fetch_and_or(&s->tcp_seen, bits);
	timeout = session_timeout(cfg, proto, s->tcp_seen | bits);
	expires = now + timeout;
	if (cur >= expires && cur <= expires + fc_refresh_grace(timeout))
		return 0;
	s->expires_ns = expires + fc_refresh_grace(timeout);
	return 1;
}

/* An outbound segment tells where the internal host's window is. */
static __always_inline void tcp_note_outbound(struct fc_session *s, const struct fc_pkt *p)
{
	if (p->tcp_flags & TCP_FLAG_SYN)
		s->wscale = p->tcp_wscale;
	if (!(p->tcp_flags & TCP_FLAG_ACK))
		return;
	s->rcv_next = p->tcp_ack;
	/* A SYN's own window is never scaled (RFC 7323 §2.2). */
	s->rcv_wnd = (p->tcp_flags & TCP_FLAG_SYN) ? p->tcp_win : (__u32)p->tcp_win << s->wscale;
	if (!(s->tcp_seen & FC_TCP_RCV_KNOWN))
		__sync_fetch_and_or(&s->tcp_seen, FC_TCP_RCV_KNOWN);
}

/*
 * Is an inbound RST acceptable? Only if its sequence number falls in the
 * internal host's receive window (RFC 5961 §3.2); blind resets outside it
 * must not shorten the session (RFC 7857 §2.1). Unknown window: accept.
 */
static __always_inline int tcp_rst_in_window(const struct fc_session *s, const struct fc_pkt *p)
{
	__u32 wnd = s->rcv_wnd ? s->rcv_wnd : 1;

	if (!(s->tcp_seen & FC_TCP_RCV_KNOWN))
		return 1;
	return p->tcp_seq - s->rcv_next < wnd;
}

#endif /* FC_BPF_SESSION_H */
