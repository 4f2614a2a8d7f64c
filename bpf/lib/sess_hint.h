/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The session shortcut: one hash lookup for an established outbound NAT44
 * UDP packet instead of two. A session's expiry is pushed a grace ahead of
 * what its last packet needs (session.h, rules.h fc_refresh_grace), so
 * until the grace runs out the next packets to the same remote need not
 * find it: the mapping's entry, which the fast path reads anyway, says
 * which session was refreshed until when (struct fc_hop's sess_rport and
 * sess_until, beside the cached route to that remote host). A packet to
 * another remote, after the grace, without a live cached route, or of
 * another protocol or family, looks its session up as before.
 */
#ifndef FC_BPF_SESS_HINT_H
#define FC_BPF_SESS_HINT_H

#include "maps.h"
#include <fcnat/rules.h>

/* fc_now() in the hint's units, wrapping at 32 bits (about 52 days). */
static __always_inline __u32 sess_hint_clock(__u64 ns)
{
	return (__u32)(ns >> FC_CLOCK_UNIT_SHIFT);
}

/* Is the hint's time ahead of now, and by at most a grace? (A hint left
 * from 52 days ago wraps; it must not come back to life.) */
static __always_inline int sess_hint_live(const struct fc_hop *h, __u64 now)
{
	__u32 until = h->sess_until;
	__s32 left = (__s32)(until - sess_hint_clock(now));

	return until && left > 0 && left <= (FC_REFRESH_MAX_NS >> FC_CLOCK_UNIT_SHIFT) + 1;
}

/* Was the session towards (peer, rport) refreshed far enough ahead for a
 * packet at now? Also needs the hop it rides in live and for this peer. */
static __always_inline int sess_hint_ok(const struct fc_binding *b, __be32 peer, __be16 rport,
					__u64 now)
{
	const struct fc_hop *h = &b->hop;

	return sess_hint_live(h, now) && h->peer == peer && h->sess_rport == rport &&
	       h->expires_ns > now;
}

/*
 * The session towards (peer, rport) is kept until expires_ns: packets
 * before expires_ns - timeout may skip it. Written only when it changes,
 * only into a hop for this peer (the hop is one peer's at a time), and not
 * over a live hint for another port: a mapping that talks to many ports of
 * one host keeps one hint until it runs out, as it keeps one hop, instead
 * of rewriting a line per packet.
 */
static __always_inline void sess_hint_put(struct fc_binding *b, __be32 peer, __be16 rport,
					  __u64 expires_ns, __u64 timeout, __u64 now)
{
	struct fc_hop *h = &b->hop;
	__u32 until = sess_hint_clock(expires_ns - timeout);

	if (h->peer != peer || (h->sess_rport == rport && h->sess_until == until))
		return;
	if (h->sess_rport != rport && sess_hint_live(h, now))
		return;
	h->sess_rport = rport;
	h->sess_until = until;
}

#endif /* FC_BPF_SESS_HINT_H */
