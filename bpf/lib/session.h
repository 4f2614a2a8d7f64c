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

/* Refresh a live session with what this packet shows. */
static __always_inline __u64 session_refresh(const struct fc_config *cfg, __u8 proto,
					     struct fc_session *s, __u32 bits, __u64 now)
{
	__u64 expires;

	if ((s->tcp_seen & bits) != bits)
		__sync_fetch_and_or(&s->tcp_seen, bits);
	expires = now + session_timeout(cfg, proto, s->tcp_seen | bits);
	if (s->expires_ns != expires)
		s->expires_ns = expires;
	return expires;
}

/*
 * Start a session (or restart an expired one) with what this packet shows.
 * Returns its expiry, or 0 if the table is full.
 */
static __always_inline __u64 session_start(const struct fc_config *cfg,
					   const struct fc_session_key *k, __u32 bits, __u64 now)
{
	struct fc_session val = {
		.expires_ns = now + session_timeout(cfg, k->proto, bits),
		.tcp_seen = bits,
	};
	struct fc_session *s;

	if (bpf_map_update_elem(&fc_sessions, k, &val, BPF_NOEXIST) == 0) {
		stat_inc(FC_STAT_SESSION_CREATED);
		return val.expires_ns;
	}
	/* Another CPU created it first, or an expired one is still there. */
	s = bpf_map_lookup_elem(&fc_sessions, k);
	if (!s)
		return 0;
	if (s->expires_ns <= now)
		s->tcp_seen = 0;
	return session_refresh(cfg, k->proto, s, bits, now);
}

/* Outbound: find or start the session; returns its expiry (0 = refused). */
static __always_inline __u64 session_touch(const struct fc_config *cfg,
					   const struct fc_session_key *k, __u32 bits, __u64 now)
{
	struct fc_session *s = bpf_map_lookup_elem(&fc_sessions, k);

	if (s && s->expires_ns > now)
		return session_refresh(cfg, k->proto, s, bits, now);
	return session_start(cfg, k, bits, now);
}

#endif /* FC_BPF_SESSION_H */
