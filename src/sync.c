// SPDX-License-Identifier: GPL-2.0
/*
 * HA state sync, the daemon's side (doc/design/ha.md). For each peer, a
 * scan of the maps every SYNC_SCAN_MS finds what changed since that peer
 * was last told (sync_table.h) and queues records; the queue goes out in
 * datagrams of up to SYNC_MAX_DGRAM, a bounded burst per tick. Received records are
 * installed with ordinary map updates: the datapath needs nothing new, and
 * nothing here ever waits on it or on the peer (the socket never blocks).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include <fcnat/rules.h>
#include "gc.h"
#include "log.h"
#include "metrics.h"
#include "sync.h"
#include "sync_int.h"
#include "sync_table.h"
#include "sync_wire.h"

#define SYNC_HELLO_MS 1000	/* keepalive, and how soon a gap at the tail shows */
#define SYNC_DEAD_MS 3500	/* no fresh datagram for this long: peer down */
#define SYNC_SCAN_MS 200	/* at least; longer when scans take long */
#define SYNC_SCAN_SLICE 4096	/* entries a slice: ~10-20 ms here */
#define SYNC_WALK_BATCH 512	/* entries a batch lookup */
#define SYNC_FLUSH_MS 5		/* while records wait */
#define SYNC_BURST 64		/* datagrams per flush at most */
#define SYNC_BURST_MIN 2	/* ... and at least, however often the peer loses some */
#define SYNC_QUEUE_MAX (1u << 21)	/* records; past this they are dropped */
#define SYNC_ASK_MS 2000	/* between two resync requests */
#define SYNC_REFRESH_MAX_NS (30ULL * 1000000000ULL)

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool sync_peer_up(const struct sync_peer *s, __u64 now_ms)
{
	return s->peer_epoch && now_ms - s->last_fresh_ms < SYNC_DEAD_MS;
}

/* ---- outgoing ---- */

static void enqueue(struct sync_peer *s, const struct sync_rec *r, bool end)
{
	if (s->q_head + s->q_len == s->q_cap) {
		if (s->q_head) {
			memmove(s->q, s->q + s->q_head, s->q_len * sizeof(*s->q));
			s->q_head = 0;
		} else {
			size_t cap = s->q_cap ? s->q_cap * 2 : 4096;
			struct sync_qrec *q;

			if (cap > SYNC_QUEUE_MAX || !(q = realloc(s->q, cap * sizeof(*q)))) {
				/* No sequence number shows this loss to the
				 * peer: everything goes again once there is room. */
				s->st.tx_dropped++;
				s->full_due = true;
				return;
			}
			s->q = q;
			s->q_cap = cap;
		}
	}
	s->q[s->q_head + s->q_len].r = *r;
	s->q[s->q_head + s->q_len].end = end;
	s->q[s->q_head + s->q_len].t_ms = mono_ms();
	s->q_len++;
}

static void queue_clear(struct sync_peer *s)
{
	s->st.tx_dropped += s->q_len;
	s->q_head = s->q_len = 0;
}

static int send_dgram(struct sync_peer *s, struct sync_writer *w)
{
	size_t n = sync_finish(w, s->node->key, s->node->key_len);

	if (sendto(s->node->fd, w->buf, n, MSG_DONTWAIT, (struct sockaddr *)&s->peer, s->peer_len) < 0)
		return -errno;
	s->st.tx_datagrams++;
	return 0;
}

static void hdr_init(struct sync_peer *s, struct sync_hdr *h, __u8 type, __u16 flags)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->flags = flags;
	h->epoch = s->node->epoch;
	h->echo = s->peer_to_echo;
	h->seq = ++s->seq;
}

static void send_hello(struct sync_peer *s, bool resync)
{
	struct sync_writer w;
	struct sync_hdr h;
	int err;

	hdr_init(s, &h, SYNC_MSG_HELLO, resync ? SYNC_F_RESYNC : 0);
	sync_begin(&w, &h);
	err = send_dgram(s, &w);
	if (err && err != -EAGAIN && err != -ENOBUFS)
		s->st.tx_errors++;
	s->last_hello_ms = mono_ms();
	if (resync && !err)
		s->st.resyncs_asked++;
}

/* The peer asked for everything again: what it lost was most likely lost
 * in its receive buffer, full because it installs slower than we send (a
 * full resync of 100 000 mappings, 8 700 datagrams, did not fit in 8 MiB).
 * Half the rate; it grows back by a quarter every SYNC_ASK_MS without an
 * ask (sync_tick), as TCP's window does. */
void sync_slow_down(struct sync_peer *s)
{
	s->burst = s->burst / 2 > SYNC_BURST_MIN ? s->burst / 2 : SYNC_BURST_MIN;
	s->last_slow_ms = mono_ms();
}

/* Up to s->burst datagrams of queued records. A datagram the socket
 * refuses for room is built again next tick with the same records. */
static void flush(struct sync_peer *s)
{
	s->last_flush_ms = mono_ms();
	for (unsigned int b = 0; b < s->burst && s->q_len; b++) {
		struct sync_writer w;
		struct sync_hdr h;
		size_t taken = 0;
		bool end = false;
		int err;

		hdr_init(s, &h, SYNC_MSG_DATA, 0);
		sync_begin(&w, &h);
		while (taken < s->q_len) {
			struct sync_qrec *q = &s->q[s->q_head + taken];

			if (q->end) {
				end = true;
				taken++;
				break;
			}
			if (sync_add(&w, &q->r))
				break;
			taken++;
		}
		if (end)	/* the flag is in the header, under the MAC */
			w.buf[7] |= SYNC_F_FULL_END;
		err = send_dgram(s, &w);
		if (err == -EAGAIN || err == -ENOBUFS) {
			s->seq--;
			return;
		}
		if (err) {
			s->st.tx_errors++;
			s->st.tx_dropped += w.count;
		} else {
			s->st.tx_records += w.count;
		}
		s->q_head += taken;
		s->q_len -= taken;
		if (!s->q_len)
			s->q_head = 0;
	}
}

/* ---- the scan ---- */

static __u64 refresh_ns(const struct sync_peer *s, __u8 proto)
{
	__u64 t = fc_mapping_base_timeout(s->node->cfg, proto) / 4;

	return t < SYNC_REFRESH_MAX_NS ? t : SYNC_REFRESH_MAX_NS;
}

static __u32 ms_between(__u64 from, __u64 to)
{
	__u64 d = to > from ? (to - from) / 1000000 : 0;

	return d > 0xffffffffULL ? 0xffffffffU : (__u32)d;
}

static int scan_mapping(void *ctx, const void *key, const void *value)
{
	struct sync_peer *s = ctx;
	const struct fc_endpoint_key *k = key;
	const struct fc_binding *v = value;
	struct sync_ent *e;
	struct sync_rec r = { .type = SYNC_REC_MAP };
	bool made, send;

	/* Forwards are configuration, the same on both; PCP's are state. */
	if (k->side != FC_SIDE_INTERNAL ||
	    ((v->flags & FC_BINDING_STATIC) && !(v->flags & FC_BINDING_PCP)))
		return 0;
	e = sync_table_get(&s->table, SYNC_KIND_MAP, k, &made);
	if (!e)
		return -ENOMEM;
	send = made || s->scan_full || memcmp(&e->ext, &v->addr, sizeof(v->addr)) ||
	       e->ext_port != v->port || v->last_out_ns > e->ts + refresh_ns(s, k->proto) ||
	       v->sessions_until_ns > e->ts2 + refresh_ns(s, k->proto);
	/* Installed from the peer and not used here since: the peer has it. */
	if (e->learned && !s->scan_full && !made && v->last_out_ns == e->ts &&
	    !memcmp(&e->ext, &v->addr, sizeof(v->addr)))
		send = false;
	e->gen = s->gen;
	if (!send)
		return 0;
	if (v->last_out_ns != e->ts || made)
		e->learned = false;
	e->ts = v->last_out_ns;
	e->ts2 = v->sessions_until_ns;
	e->ext = v->addr;
	e->ext_port = v->port;
	r.m.proto = k->proto;
	r.m.int_family = k->family;
	r.m.ext_family = v->family;
	r.m.flags = v->flags & ~FC_BINDING_COUNTED;
	r.m.int_addr = k->addr;
	r.m.ext_addr = v->addr;
	r.m.int_port = ntohs(k->port);
	r.m.ext_port = ntohs(v->port);
	r.m.idle_ms = ms_between(v->last_out_ns, s->now_ns);
	r.m.sessions_ms = ms_between(s->now_ns, v->sessions_until_ns);
	if (v->flags & FC_BINDING_PCP)
		r.m.pcp_s = v->pcp_expires_s > s->now_ns / 1000000000ULL ?
			    v->pcp_expires_s - (__u32)(s->now_ns / 1000000000ULL) : 0;
	enqueue(s, &r, false);
	return 0;
}

static int scan_session(void *ctx, const void *key, const void *value)
{
	struct sync_peer *s = ctx;
	const struct fc_session_key *k = key;
	const struct fc_session *v = value;
	struct sync_ent *e;
	struct sync_rec r = { .type = SYNC_REC_SESSION };
	bool made, send;

	if (v->expires_ns <= s->now_ns)
		return 0;	/* the sweeper's next */
	e = sync_table_get(&s->table, SYNC_KIND_SESSION, k, &made);
	if (!e)
		return -ENOMEM;
	send = made || s->scan_full || e->tcp_seen != v->tcp_seen ||
	       v->expires_ns > e->ts + refresh_ns(s, k->proto);
	if (e->learned && !s->scan_full && !made && v->expires_ns == e->ts &&
	    e->tcp_seen == v->tcp_seen)
		send = false;
	e->gen = s->gen;
	if (!send)
		return 0;
	if (v->expires_ns != e->ts || made)
		e->learned = false;
	e->ts = v->expires_ns;
	e->tcp_seen = v->tcp_seen;
	r.s.family = k->family;
	r.s.proto = k->proto;
	r.s.ext_addr = k->ext_addr;
	r.s.remote_addr = k->remote_addr;
	r.s.ext_port = ntohs(k->ext_port);
	r.s.remote_port = ntohs(k->remote_port);
	r.s.remaining_ms = ms_between(s->now_ns, v->expires_ns);
	r.s.tcp_seen = v->tcp_seen;
	r.s.rcv_next = v->rcv_next;
	r.s.rcv_wnd = v->rcv_wnd;
	r.s.wscale = v->wscale;
	enqueue(s, &r, false);
	return 0;
}

/* What the scan did not see any more is gone here: the peer is told,
 * unless it was the peer's to begin with (it expires there by itself). */
static void scan_gone(struct sync_peer *s)
{
	for (size_t i = 0; i < s->table.cap; i++) {
		struct sync_ent *e = &s->table.e[i];

		while (e->kind && e->gen != s->gen) {
			if (!e->learned) {
				struct sync_rec r;

				memset(&r, 0, sizeof(r));
				if (e->kind == SYNC_KIND_MAP) {
					const struct fc_endpoint_key *k = (const void *)e->key;

					r.type = SYNC_REC_UNMAP;
					r.m.proto = k->proto;
					r.m.int_family = k->family;
					r.m.ext_family = k->ext_family;
					r.m.int_addr = k->addr;
					r.m.int_port = ntohs(k->port);
					r.m.ext_addr = e->ext;
					r.m.ext_port = ntohs(e->ext_port);
				} else {
					const struct fc_session_key *k = (const void *)e->key;

					r.type = SYNC_REC_UNSESSION;
					r.s.family = k->family;
					r.s.proto = k->proto;
					r.s.ext_addr = k->ext_addr;
					r.s.remote_addr = k->remote_addr;
					r.s.ext_port = ntohs(k->ext_port);
					r.s.remote_port = ntohs(k->remote_port);
				}
				enqueue(s, &r, false);
			}
			/* Backward shift may bring another entry into this slot. */
			sync_table_del(&s->table, e);
		}
	}
}

static __u64 mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Up to *budget entries of one map from where the last slice stopped (the
 * kernel's batch token: whole hash buckets, so an entry present throughout
 * is seen exactly once however the map changes between slices). 1: the map
 * is done, 0: the budget is, <0: an error. */
static int walk_slice(struct sync_peer *s, int fd, size_t ksz, size_t vsz, map_walk_fn fn,
		      unsigned int *budget)
{
	static char keys[SYNC_WALK_BATCH * sizeof(struct fc_session_key)];
	static char values[SYNC_WALK_BATCH * (sizeof(struct fc_binding) > sizeof(struct fc_session) ?
					     sizeof(struct fc_binding) : sizeof(struct fc_session))];

	while (*budget) {
		__u32 count = SYNC_WALK_BATCH, out;
		int err = bpf_map_lookup_batch(fd, s->scan_tok_valid ? &s->scan_tok : NULL, &out,
					       keys, values, &count, NULL);

		if (err && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < count; i++) {
			int ret = fn(s, keys + i * ksz, values + i * vsz);

			if (ret)
				return ret;
		}
		*budget -= count < *budget ? count : *budget;
		if (err) {
			s->scan_tok_valid = false;
			return 1;
		}
		s->scan_tok = out;
		s->scan_tok_valid = true;
	}
	return 0;
}

static void scan_begin(struct sync_peer *s)
{
	s->gen++;
	s->scan_full = s->full_due;
	s->full_due = false;
	s->scan_phase = SYNC_SCAN_MAPPINGS;
	s->scan_tok_valid = false;
	s->scan_us = 0;
	s->scan_slices = 0;
	s->scan_begin_ms = mono_ms();
}

/* One slice of the scan: SYNC_SCAN_SLICE entries at most, then back to the
 * loop (the socket, `show sync`, the other services wait no longer than
 * that); true when the scan is complete. What changes between two slices
 * is seen by this scan or the next, as with a scan in one go. */
static bool scan_step(struct sync_peer *s)
{
	__u64 t0 = mono_us();
	unsigned int budget = SYNC_SCAN_SLICE;
	int r = 0;

	s->now_ns = gc_now_ns();
	if (s->scan_phase == SYNC_SCAN_MAPPINGS) {
		r = walk_slice(s, s->node->bindings_fd, sizeof(struct fc_endpoint_key),
			       sizeof(struct fc_binding), scan_mapping, &budget);
		if (r == 1) {
			s->scan_phase = SYNC_SCAN_SESSIONS;
			r = 0;
		}
	}
	if (!r && budget && s->scan_phase == SYNC_SCAN_SESSIONS)
		r = walk_slice(s, s->node->sessions_fd, sizeof(struct fc_session_key),
			       sizeof(struct fc_session), scan_session, &budget);
	s->scan_us += mono_us() - t0;
	s->scan_slices++;
	if (r < 0) {
		/* Half a scan: the next one finds the rest; nothing is "gone". */
		fc_warn("sync: reading the maps: %s", strerror(-r));
		s->full_due |= s->scan_full;
		s->scan_phase = SYNC_SCAN_IDLE;
		s->scan_tok_valid = false;
		return true;
	}
	if (r != 1)
		return false;
	t0 = mono_us();
	scan_gone(s);
	if (s->scan_full) {
		struct sync_rec none = { 0 };

		enqueue(s, &none, true);
		s->st.resyncs_sent++;
	}
	s->scan_us += mono_us() - t0;
	s->scan_ms = (s->scan_us + 999) / 1000;
	s->scan_phase = SYNC_SCAN_IDLE;
	s->st.scans++;
	return true;
}

/* ---- the loop ---- */

/* Datagrams from the peers go before the next slice of a scan, which can
 * wait: a full resync arrives faster than the scan slices and the installs
 * together get through, and what the socket cannot hold is lost. */
static bool rx_waiting(const struct fc_sync *n)
{
	struct pollfd p = { .fd = n->fd, .events = POLLIN };

	return n->fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static __u64 peer_due_ms(const struct sync_peer *s, __u64 now)
{
	__u64 due = s->last_hello_ms + SYNC_HELLO_MS;

	if (s->hello_now)
		due = now;
	if (sync_peer_up(s, now) && (s->scan_phase ? now : s->next_scan_ms) < due)
		due = s->scan_phase ? now : s->next_scan_ms;
	if (sync_peer_up(s, now) && s->q_len && s->last_flush_ms + SYNC_FLUSH_MS < due)
		due = s->last_flush_ms + SYNC_FLUSH_MS;
	return due;
}

int sync_timeout_ms(const struct fc_sync *n)
{
	__u64 now = mono_ms(), due = ~0ULL;

	if (!n)
		return -1;
	for (unsigned int i = 0; i < n->npeers; i++) {
		__u64 d = peer_due_ms(&n->peers[i], now);

		if (d < due)
			due = d;
	}
	if (due == ~0ULL)
		return -1;
	return due > now ? (int)(due - now) : 0;
}

static void peer_tick(struct sync_peer *s)
{
	__u64 now = mono_ms();
	bool up;

	up = sync_peer_up(s, now);
	if (s->was_up && !up) {
		fc_warn("sync: peer %s silent for %u ms: down", s->peer_str, SYNC_DEAD_MS);
		/* What it missed is sent in full when it answers again. */
		queue_clear(s);
		s->full_due = true;
		s->next_scan_ms = 0;
	}
	s->was_up = up;
	if (s->hello_now || now - s->last_hello_ms >= SYNC_HELLO_MS) {
		bool ask = s->ask_resync && now - s->last_ask_ms >= SYNC_ASK_MS;

		send_hello(s, ask);
		if (ask) {
			s->last_ask_ms = now;
			s->ask_resync = false;
		}
		s->hello_now = false;
	}
	if (!up)
		return;
	if (s->burst < SYNC_BURST && now - s->last_slow_ms >= SYNC_ASK_MS) {
		s->burst += s->burst / 4 + 1;
		if (s->burst > SYNC_BURST)
			s->burst = SYNC_BURST;
		s->last_slow_ms = now;
	}
	if ((s->scan_phase || now >= s->next_scan_ms) && !rx_waiting(s->node)) {
		if (!s->scan_phase)
			scan_begin(s);
		if (scan_step(s)) {
			now = mono_ms();
			/* A long scan (a large table) rests four times as long;
			 * a peer that joined meanwhile gets its full one now. */
			s->scan_rest_ms = 4 * s->scan_ms > SYNC_SCAN_MS ? 4 * s->scan_ms : SYNC_SCAN_MS;
			s->scan_wall_ms = now - s->scan_begin_ms;
			s->next_scan_ms = s->full_due ? now : now + s->scan_rest_ms;
		}
	}
	flush(s);
}

void sync_tick(struct fc_sync *n)
{
	__u64 now = mono_ms();

	if (!n || n->bindings_fd < 0)
		return;
	/* Only the peers that are due: one peer's scan slice is no reason to
	 * run the others' early. */
	for (unsigned int i = 0; i < n->npeers; i++)
		if (peer_due_ms(&n->peers[i], now) <= now)
			peer_tick(&n->peers[i]);
}

void sync_attach_maps(struct fc_sync *n, int bindings_fd, int sessions_fd,
		      const struct fc_config *cfg)
{
	if (!n)
		return;
	n->bindings_fd = bindings_fd;
	n->sessions_fd = sessions_fd;
	n->cfg = cfg;
	for (unsigned int i = 0; i < n->npeers; i++) {
		n->peers[i].hello_now = true;
		if (!n->peers[i].burst)
			n->peers[i].burst = SYNC_BURST;
	}
}

int sync_poll_fds(const struct fc_sync *s, int *fds, int max)
{
	int n = 0;

	if (!s)
		return 0;
	if (n < max)
		fds[n++] = s->fd;
	if (n < max && s->status_fd >= 0)
		fds[n++] = s->status_fd;
	return n;
}

void sync_receive(struct fc_sync *s, int fd)
{
	if (fd == s->status_fd)
		sync_status_answer(s);
	else if (s->bindings_fd >= 0)
		sync_rx(s);
}

static int read_key_file(const char *path, __u8 *key, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	__u8 extra;

	if (fd < 0) {
		snprintf(err, errlen, "--sync-key %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, key, SYNC_MAX_KEY);
	if (n == SYNC_MAX_KEY && read(fd, &extra, 1) > 0)
		n = -2;
	close(fd);
	/* A trailing newline is the editor's, not the key's: both ends agree. */
	while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
		n--;
	if (n < 16) {
		snprintf(err, errlen, "--sync-key %s: %s", path, n == -2 ?
			 "longer than 256 bytes" : n < 0 ? strerror(errno) :
			 "shorter than 16 bytes; use e.g. `head -c 32 /dev/urandom | base64`");
		return -1;
	}
	*len = n;
	return 0;
}

int sync_parse_addr(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return !spec || spec[0] == ':' || metrics_parse_addr(spec, &ss, &len) ? -1 : 0;
}

struct fc_sync *sync_open(const struct fc_sync_opts *so, const char *ifname)
{
	struct fc_sync *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ls;
	socklen_t llen;
	struct timespec ts;
	char err[512];
	int big = 32 << 20;	/* a full resync of 100 000 mappings: 8 700 datagrams */

	if (!s)
		return NULL;
	s->fd = s->status_fd = s->bindings_fd = s->sessions_fd = -1;
	snprintf(s->listen_str, sizeof(s->listen_str), "%s", so->listen);
	if (read_key_file(so->key_path, s->key, &s->key_len, err, sizeof(err))) {
		fc_err("%s", err);
		goto fail;
	}
	for (unsigned int i = 0; i < so->nr_peers && i < FC_SYNC_PEERS_MAX; i++) {
		struct sync_peer *p = &s->peers[s->npeers++];

		p->node = s;
		snprintf(p->peer_str, sizeof(p->peer_str), "%s", so->peers[i]);
		if (metrics_parse_addr(so->peers[i], &p->peer, &p->peer_len)) {
			fc_err("sync: invalid --sync-peer %s", so->peers[i]);
			goto fail;
		}
	}
	if (!s->npeers || metrics_parse_addr(so->listen, &ls, &llen)) {
		fc_err("sync: invalid --sync-peer or --sync-listen");
		goto fail;
	}
	s->fd = socket(ls.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* The sync link's address may come up after fcnat (boot order). */
	if (s->fd >= 0 && ls.ss_family == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_FREEBIND, &(int){ 1 }, sizeof(int));
	else if (s->fd >= 0)
		setsockopt(s->fd, IPPROTO_IP, IP_FREEBIND, &(int){ 1 }, sizeof(int));
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&ls, llen)) {
		fc_err("sync: listening on %s: %s", so->listen, strerror(errno));
		goto fail;
	}
	/* Room for a full resync's bursts; FORCE past rmem_max as root. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)))
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	/* The incarnation: later than any earlier run's on a sane clock, so a
	 * peer refuses the datagrams of an earlier run replayed to it. */
	clock_gettime(CLOCK_REALTIME, &ts);
	s->epoch = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	s->status_fd = sync_status_listen(ifname);
	for (unsigned int i = 0; i < s->npeers; i++)
		fc_info("sync: listening on %s, peer %s", so->listen, s->peers[i].peer_str);
	return s;
fail:
	sync_close(s);
	return NULL;
}

void sync_close(struct fc_sync *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->status_fd >= 0)
		close(s->status_fd);
	for (unsigned int i = 0; i < s->npeers; i++) {
		sync_table_free(&s->peers[i].table);
		free(s->peers[i].q);
	}
	memset(s->key, 0, sizeof(s->key));
	free(s);
}
