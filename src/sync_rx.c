// SPDX-License-Identifier: GPL-2.0
/*
 * The state sync's receiving side: which datagrams are accepted (MAC,
 * freshness, replay window; doc/design/ha.md) and how records become
 * entries of this node's maps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include <fcnat/rules.h>
#include "gc.h"
#include "log.h"
#include "sync_int.h"

#define SYNC_RX_BURST 256	/* datagrams per call: the loop stays responsive */

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Installed from one peer: no peer is sent it back by this node's scans
 * (each hears it from where it was made) until this node's own traffic
 * uses it; a resync sends it regardless. */
static void mark_learned(struct sync_peer *s, __u8 kind, const void *key, __u64 ts,
			 const union fc_addr *ext, __be16 ext_port, __u32 tcp_seen)
{
	struct fc_sync *n = s->node;

	for (unsigned int i = 0; i < n->npeers; i++) {
		struct sync_peer *p = &n->peers[i];
		bool made;
		struct sync_ent *e = sync_table_get(&p->table, kind, key, &made);

		if (!e)
			continue;
		e->learned = true;
		e->gen = p->gen;	/* not "gone" at the next scan */
		e->ts = ts;
		if (ext)
			e->ext = *ext;
		e->ext_port = ext_port;
		e->tcp_seen = tcp_seen;
	}
}

/* Removed as the peer said: no peer is told again by this node. */
static void forget(struct sync_peer *s, __u8 kind, const void *key)
{
	struct fc_sync *n = s->node;

	for (unsigned int i = 0; i < n->npeers; i++) {
		struct sync_ent *e = sync_table_find(&n->peers[i].table, kind, key);

		if (e)
			sync_table_del(&n->peers[i].table, e);
	}
}

/* The other half of a mapping that is about to be replaced, if it still
 * points back at `back` (endpoint key of the half that goes). */
static void drop_other_half(int fd, const struct fc_endpoint_key *k,
			    const struct fc_endpoint_key *back)
{
	struct fc_binding v;

	if (bpf_map_lookup_elem(fd, k, &v) == 0 && v.port == back->port &&
	    !memcmp(&v.addr, &back->addr, sizeof(v.addr)))
		bpf_map_delete_elem(fd, k);
}

static int install_map(struct sync_peer *s, const struct sync_map *m, __u64 now)
{
	struct fc_endpoint_key ik = { 0 }, ek = { 0 }, other;
	struct fc_binding iv = { 0 }, ev = { 0 }, cur;
	int fd = s->node->bindings_fd;
	__u64 idle_out;
	__u8 flags;

	fc_int_endpoint_key(&ik, m->int_family, m->ext_family, m->proto, &m->int_addr, htons(m->int_port));
	fc_ext_endpoint_key(&ek, m->ext_family, m->proto, &m->ext_addr, htons(m->ext_port));

	/* The peer's view wins: an external port here held by another
	 * internal endpoint (the peer reused it), or this endpoint on
	 * another port, lose their other half first. */
	if (bpf_map_lookup_elem(fd, &ek, &cur) == 0 &&
	    (cur.port != ik.port || memcmp(&cur.addr, &ik.addr, sizeof(ik.addr)))) {
		fc_int_endpoint_key(&other, cur.family, m->ext_family, m->proto, &cur.addr, cur.port);
		drop_other_half(fd, &other, &ek);
	}
	if (bpf_map_lookup_elem(fd, &ik, &cur) == 0) {
		if (cur.port != ek.port || memcmp(&cur.addr, &ek.addr, sizeof(ek.addr))) {
			fc_ext_endpoint_key(&other, cur.family, m->proto, &cur.addr, cur.port);
			drop_other_half(fd, &other, &ik);
		} else if (cur.last_out_ns > now - (__u64)m->idle_ms * 1000000ULL) {
			/* Used here more lately than there: keep the later time. */
			iv.last_out_ns = cur.last_out_ns;
		}
	}
	/* A NAT-PMP/PCP mapping: this node's server has no lifetime record of
	 * it, so it becomes an ordinary mapping that lives as long as its
	 * granted lifetime (as pcp_release_leftovers does after a restart);
	 * its client renews with whichever node is master then. */
	flags = m->flags & ~FC_BINDING_COUNTED;
	if (flags & FC_BINDING_PCP) {
		__u64 until = now + (__u64)m->pcp_s * 1000000000ULL;
		__u64 base = fc_mapping_base_timeout(s->node->cfg, m->proto);

		flags &= ~(FC_BINDING_PCP | FC_BINDING_STATIC);
		if (until > base && until - base > iv.last_out_ns)
			iv.last_out_ns = until - base;
	}
	ev.addr = m->int_addr;
	ev.port = ik.port;
	ev.family = m->int_family;
	ev.flags = flags;
	if (gc_binding_write(fd, &ek, &ev, BPF_ANY))
		return -errno;
	iv.addr = m->ext_addr;
	iv.port = ek.port;
	iv.family = m->ext_family;
	iv.flags = flags;
	idle_out = now > (__u64)m->idle_ms * 1000000ULL ? now - (__u64)m->idle_ms * 1000000ULL : 0;
	if (idle_out > iv.last_out_ns)
		iv.last_out_ns = idle_out;
	if (m->sessions_ms)
		iv.sessions_until_ns = now + (__u64)m->sessions_ms * 1000000ULL;
	if (gc_binding_write(fd, &ik, &iv, BPF_ANY)) {
		int err = -errno;

		bpf_map_delete_elem(fd, &ek);
		return err;
	}
	mark_learned(s, SYNC_KIND_MAP, &ik, iv.last_out_ns, &iv.addr, iv.port, 0);
	return 0;
}

static void remove_map(struct sync_peer *s, const struct sync_map *m)
{
	struct fc_endpoint_key ik = { 0 }, ek;
	struct fc_binding cur;
	struct sync_ent *e;
	int fd = s->node->bindings_fd;

	fc_int_endpoint_key(&ik, m->int_family, m->ext_family, m->proto, &m->int_addr, htons(m->int_port));
	e = sync_table_find(&s->table, SYNC_KIND_MAP, &ik);
	/* Only what came from the peer and was not used here since: a
	 * mapping this node's own traffic keeps is this node's. */
	if (!e || !e->learned || bpf_map_lookup_elem(fd, &ik, &cur) ||
	    cur.last_out_ns != e->ts || (cur.flags & FC_BINDING_STATIC &&
					 !(cur.flags & FC_BINDING_PCP)))
		return;
	fc_ext_endpoint_key(&ek, cur.family, m->proto, &cur.addr, cur.port);
	drop_other_half(fd, &ek, &ik);
	bpf_map_delete_elem(fd, &ik);
	forget(s, SYNC_KIND_MAP, &ik);
}

static void session_key(struct fc_session_key *k, const struct sync_session *x)
{
	memset(k, 0, sizeof(*k));
	k->family = x->family;
	k->proto = x->proto;
	k->ext_port = htons(x->ext_port);
	k->remote_port = htons(x->remote_port);
	k->ext_addr = x->ext_addr;
	k->remote_addr = x->remote_addr;
}

static int install_session(struct sync_peer *s, const struct sync_session *x, __u64 now)
{
	struct fc_session_key k;
	struct fc_session v = { 0 }, cur;

	session_key(&k, x);
	v.expires_ns = now + (__u64)x->remaining_ms * 1000000ULL;
	v.tcp_seen = x->tcp_seen;
	v.rcv_next = x->rcv_next;
	v.rcv_wnd = x->rcv_wnd;
	v.wscale = x->wscale;
	if (bpf_map_lookup_elem(s->node->sessions_fd, &k, &cur) == 0 && cur.expires_ns > v.expires_ns)
		return 0;	/* live here, and later */
	if (bpf_map_update_elem(s->node->sessions_fd, &k, &v, BPF_ANY))
		return -errno;
	mark_learned(s, SYNC_KIND_SESSION, &k, v.expires_ns, NULL, 0, v.tcp_seen);
	return 0;
}

static void remove_session(struct sync_peer *s, const struct sync_session *x)
{
	struct fc_session_key k;
	struct fc_session cur;
	struct sync_ent *e;

	session_key(&k, x);
	e = sync_table_find(&s->table, SYNC_KIND_SESSION, &k);
	if (!e || !e->learned || bpf_map_lookup_elem(s->node->sessions_fd, &k, &cur) ||
	    cur.expires_ns != e->ts)
		return;
	bpf_map_delete_elem(s->node->sessions_fd, &k);
	forget(s, SYNC_KIND_SESSION, &k);
}

static void apply(struct sync_peer *s, const __u8 *p, size_t len)
{
	size_t off = SYNC_HDR_LEN;
	struct sync_rec r;
	__u64 now = gc_now_ns();
	int err = 0;

	while (sync_next_record(p, len - SYNC_MAC_LEN, &off, &r) == 1) {
		switch (r.type) {
		case SYNC_REC_MAP:
			err = install_map(s, &r.m, now);
			break;
		case SYNC_REC_UNMAP:
			remove_map(s, &r.m);
			break;
		case SYNC_REC_SESSION:
			err = install_session(s, &r.s, now);
			break;
		case SYNC_REC_UNSESSION:
			remove_session(s, &r.s);
			break;
		}
		if (err) {
			s->st.rx_install_errors++;
			err = 0;
		} else {
			s->st.rx_records++;
		}
	}
}

/* One authentic datagram: is it fresh, and new? */
static void accept_dgram(struct sync_peer *s, const __u8 *p, size_t len, const struct sync_hdr *h)
{
	__u64 now = mono_ms(), lost;

	s->last_heard_ms = now;
	if (h->epoch < s->peer_to_echo) {
		s->st.rx_replayed++;	/* an earlier incarnation's */
		return;
	}
	if (h->epoch > s->peer_to_echo) {
		/* A new incarnation of the peer: answer at once, echoing it. */
		s->peer_to_echo = h->epoch;
		s->hello_now = true;
	}
	if (h->echo != s->node->epoch) {
		/* Not proof that it was sent after we started: the handshake's
		 * first half, or a replay of a datagram older than us. */
		s->st.rx_unfresh++;
		return;
	}
	if (h->epoch != s->peer_epoch) {
		fc_info("sync: peer %s joined (incarnation %llu): sending it everything",
			s->peer_str, (unsigned long long)h->epoch);
		s->peer_epoch = h->epoch;
		memset(&s->win, 0, sizeof(s->win));
		s->full_due = true;
		s->ask_resync = false;
		s->joins++;
		s->next_scan_ms = 0;
	}
	switch (sync_window_check(&s->win, h->seq, &lost)) {
	case SYNC_SEQ_NEW:
		break;
	case SYNC_SEQ_REPLAY:
	case SYNC_SEQ_OLD:
		s->st.rx_replayed++;
		return;
	}
	if (lost) {
		s->st.rx_lost += lost;
		s->ask_resync = true;
		s->hello_now = true;
	}
	s->last_fresh_ms = now;
	s->st.rx_datagrams++;
	if (h->type == SYNC_MSG_HELLO && (h->flags & SYNC_F_RESYNC)) {
		sync_slow_down(s);
		s->full_due = true;
		s->next_scan_ms = 0;
	}
	if (h->type == SYNC_MSG_DATA)
		apply(s, p, len);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
		      bool port)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr &&
		       (!port || x->sin_port == y->sin_port);
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) &&
		       (!port || x->sin6_port == y->sin6_port);
	}
	return false;
}

/* Whose datagram: the peer at that address and port (peers send from
 * their --sync-listen, which is what --sync-peer names), else the only one
 * at that address; a lone peer takes all, as before there were several
 * (the incarnation echo, not the address, proves who sent it). */
static struct sync_peer *peer_of(struct fc_sync *n, const struct sockaddr_storage *from)
{
	struct sync_peer *by_addr = NULL;
	unsigned int hits = 0;

	if (n->npeers == 1)
		return &n->peers[0];
	for (unsigned int i = 0; i < n->npeers; i++) {
		if (same_addr(&n->peers[i].peer, from, true))
			return &n->peers[i];
		if (same_addr(&n->peers[i].peer, from, false)) {
			by_addr = &n->peers[i];
			hits++;
		}
	}
	return hits == 1 ? by_addr : NULL;
}

void sync_rx(struct fc_sync *n)
{
	__u8 buf[SYNC_MAX_DGRAM + 1];

	for (int i = 0; i < SYNC_RX_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t len = recvfrom(n->fd, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &flen);
		struct sync_peer *s;
		struct sync_stats *st;
		struct sync_hdr h;

		if (len < 0)
			return;
		s = peer_of(n, &from);
		st = s ? &s->st : &n->other;
		switch (len > SYNC_MAX_DGRAM ? SYNC_ERR_FORMAT :
			sync_parse(buf, len, n->key, n->key_len, &h)) {
		case SYNC_OK:
			if (s)
				accept_dgram(s, buf, len, &h);
			else
				st->rx_unknown_peer++;
			break;
		case SYNC_ERR_MAC:
			st->rx_auth_failed++;
			break;
		default:
			st->rx_malformed++;
			break;
		}
	}
}
