// SPDX-License-Identifier: GPL-2.0
/*
 * The state sync's pure parts: HMAC-SHA256 against RFC 4231's test
 * vectors, the datagram codec (round trip, forgery, truncation) and the
 * anti-replay window.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "gc.h"
#include "harness.h"
#include "sync_hmac.h"
#include "sync.h"
#include "sync_int.h"
#include "sync_table.h"
#include "sync_wire.h"

static void hex(const __u8 *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

TEST(sync_hmac_sha256_rfc4231_vectors)
{
	static __u8 k20b[20], kaa20[20], k25[25], k0c[20], kaa131[131], dd50[50], cd50[50];
	static const struct {
		const __u8 *key;
		size_t key_len;
		const void *data;
		size_t len;
		const char *want;	/* RFC 4231 §4.2-4.8; case 5 truncated to 128 bits */
	} v[] = {
		{ k20b, 20, "Hi There", 8,
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ (const __u8 *)"Jefe", 4, "what do ya want for nothing?", 28,
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ kaa20, 20, dd50, 50,
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ k25, 25, cd50, 50,
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ k0c, 20, "Test With Truncation", 20, "a3b6167473100ee06e0c796c2955552b" },
		{ kaa131, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ kaa131, 131, "This is a test using a larger than block-size key and a larger "
		  "than block-size data. The key needs to be hashed before being used by the "
		  "HMAC algorithm.", 152,
		  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	};
	__u8 mac[SHA256_LEN];
	static const char msg56[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char got[2 * SHA256_LEN + 1], what[32];
	struct sha256 s;

	memset(k20b, 0x0b, sizeof(k20b));
	memset(kaa20, 0xaa, sizeof(kaa20));
	memset(k0c, 0x0c, sizeof(k0c));
	memset(kaa131, 0xaa, sizeof(kaa131));
	memset(dd50, 0xdd, sizeof(dd50));
	memset(cd50, 0xcd, sizeof(cd50));
	for (int i = 0; i < 25; i++)
		k25[i] = i + 1;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].want) / 2;

		hmac_sha256(v[i].key, v[i].key_len, v[i].data, v[i].len, mac);
		hex(mac, n, got);
		snprintf(what, sizeof(what), "RFC 4231 test case %zu", i + 1);
		ASSERT_EQ(strcmp(got, v[i].want), 0, what);
	}
	/* FIPS 180-2 appendix B.1, and a message fed in pieces across blocks. */
	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_final(&s, mac);
	hex(mac, SHA256_LEN, got);
	ASSERT_EQ(strcmp(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
		  0, "sha256(abc)");
	sha256_init(&s);
	sha256_update(&s, msg56, 20);
	sha256_update(&s, &msg56[20], 36);
	sha256_final(&s, mac);
	hex(mac, SHA256_LEN, got);
	ASSERT_EQ(strcmp(got, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
		  0, "sha256 of the 56-byte message, in two pieces");
}

static const char key[] = "a shared secret of the pair";

static size_t build(__u8 *out, __u64 seq, int nrec, __u16 flags)
{
	struct sync_writer w;
	struct sync_hdr h = { .type = SYNC_MSG_DATA, .flags = flags, .epoch = 7, .echo = 9,
			      .seq = seq };
	struct sync_rec r = { .type = SYNC_REC_MAP };

	sync_begin(&w, &h);
	for (int i = 0; i < nrec; i++) {
		r.type = i % 2 ? SYNC_REC_SESSION : SYNC_REC_MAP;
		if (r.type == SYNC_REC_MAP) {
			memset(&r.m, 0, sizeof(r.m));
			r.m.proto = FC_PROTO_UDP;
			r.m.int_family = r.m.ext_family = FC_AF_INET;
			r.m.int_addr.v4 = htonl(0xc0a80002 + i);
			r.m.ext_addr.v4 = htonl(0xcb007101);
			r.m.int_port = 5000 + i;
			r.m.ext_port = 20000 + i;
			r.m.idle_ms = 1234;
		} else {
			memset(&r.s, 0, sizeof(r.s));
			r.s.family = FC_AF_INET;
			r.s.proto = FC_PROTO_TCP;
			r.s.ext_addr.v4 = htonl(0xcb007101);
			r.s.remote_addr.v4 = htonl(0xc6336402);
			r.s.ext_port = 20000 + i;
			r.s.remote_port = 443;
			r.s.tcp_seen = FC_TCP_SYN_OUT | FC_TCP_SYN_IN;
			r.s.rcv_next = 0xdeadbeef;
			r.s.wscale = 7;
		}
		if (sync_add(&w, &r))
			break;
	}
	sync_finish(&w, key, strlen(key));
	memcpy(out, w.buf, w.len);
	return w.len;
}

TEST(sync_codec_round_trip_and_rejections)
{
	__u8 p[SYNC_MAX_DGRAM];
	struct sync_hdr h;
	struct sync_rec r;
	size_t n = build(p, 42, 2, SYNC_F_FULL_END), off = SYNC_HDR_LEN;
	int recs = 0;

	ASSERT_EQ(sync_parse(p, n, key, strlen(key), &h), SYNC_OK, "parse");
	ASSERT_EQ(h.type, SYNC_MSG_DATA, "type");
	ASSERT_EQ(h.flags, SYNC_F_FULL_END, "flags");
	ASSERT_EQ(h.epoch, 7, "epoch");
	ASSERT_EQ(h.echo, 9, "echo");
	ASSERT_EQ(h.seq, 42, "seq");
	ASSERT_EQ(h.count, 2, "count");
	ASSERT_EQ(sync_next_record(p, n - SYNC_MAC_LEN, &off, &r), 1, "first record");
	ASSERT_EQ(r.type, SYNC_REC_MAP, "map");
	ASSERT_EQ(r.m.int_addr.v4, htonl(0xc0a80002), "internal address");
	ASSERT_EQ(r.m.ext_port, 20000, "external port");
	ASSERT_EQ(r.m.idle_ms, 1234, "idle");
	ASSERT_EQ(sync_next_record(p, n - SYNC_MAC_LEN, &off, &r), 1, "second record");
	ASSERT_EQ(r.type, SYNC_REC_SESSION, "session");
	ASSERT_EQ(r.s.rcv_next, 0xdeadbeef, "rcv_next");
	ASSERT_EQ(r.s.wscale, 7, "wscale");
	ASSERT_EQ(r.s.remote_port, 443, "remote port");
	ASSERT_EQ(sync_next_record(p, n - SYNC_MAC_LEN, &off, &r), 0, "end");

	/* Any flipped bit, a wrong key, a cut datagram: not authentic. */
	for (size_t i = 8; i < n; i += 7) {
		p[i] ^= 0x10;
		ASSERT_EQ(sync_parse(p, n, key, strlen(key), &h), SYNC_ERR_MAC, "flipped bit");
		p[i] ^= 0x10;
		recs++;
	}
	ASSERT_EQ(sync_parse(p, n, "other", 5, &h), SYNC_ERR_MAC, "other key");
	ASSERT_EQ(sync_parse(p, n - 1, key, strlen(key), &h), SYNC_ERR_MAC, "cut by one");
	ASSERT_EQ(sync_parse(p, 40, key, strlen(key), &h), SYNC_ERR_SHORT, "shorter than a header");
	p[4] = 2;
	ASSERT_EQ(sync_parse(p, n, key, strlen(key), &h), SYNC_ERR_VERSION, "version 2");
	p[0] = 'X';
	ASSERT_EQ(sync_parse(p, n, key, strlen(key), &h), SYNC_ERR_MAGIC, "magic");

	/* A full datagram holds as many records as fit, and says so. */
	n = build(p, 43, 1000, 0);
	ASSERT_TRUE(n <= SYNC_MAX_DGRAM, "fits");
	ASSERT_EQ(sync_parse(p, n, key, strlen(key), &h), SYNC_OK, "full datagram");
	/* 1332 bytes for records: 11 (map, session) pairs of 54 + 58, one map. */
	ASSERT_EQ(h.count, 23, "records in a full datagram");
}

TEST(sync_replay_window_rejects_replays_and_counts_gaps)
{
	struct sync_window w = { 0 };
	__u64 lost;

	ASSERT_EQ(sync_window_check(&w, 100, &lost), SYNC_SEQ_NEW, "first");
	ASSERT_EQ(sync_window_check(&w, 100, &lost), SYNC_SEQ_REPLAY, "same again");
	ASSERT_EQ(sync_window_check(&w, 101, &lost), SYNC_SEQ_NEW, "next");
	ASSERT_EQ(lost, 0, "no gap");
	ASSERT_EQ(sync_window_check(&w, 105, &lost), SYNC_SEQ_NEW, "ahead");
	ASSERT_EQ(lost, 3, "102-104 missing");
	ASSERT_EQ(sync_window_check(&w, 103, &lost), SYNC_SEQ_NEW, "late, in the window");
	ASSERT_EQ(sync_window_check(&w, 103, &lost), SYNC_SEQ_REPLAY, "late, again");
	ASSERT_EQ(sync_window_check(&w, 101, &lost), SYNC_SEQ_REPLAY, "old replay");
	ASSERT_EQ(sync_window_check(&w, 300, &lost), SYNC_SEQ_NEW, "far ahead");
	ASSERT_EQ(lost, 194, "the jump");
	ASSERT_EQ(sync_window_check(&w, 105, &lost), SYNC_SEQ_OLD, "below the window");
	ASSERT_EQ(sync_window_check(&w, 237, &lost), SYNC_SEQ_NEW, "bottom of the window");
	ASSERT_EQ(sync_window_check(&w, 236, &lost), SYNC_SEQ_OLD, "just below");
}

TEST(sync_table_keeps_every_key_through_deletions)
{
	static struct fc_session_key keys[4000];
	struct sync_table t = { 0 };
	bool made;

	for (unsigned int i = 0; i < 4000; i++) {
		memset(&keys[i], 0, sizeof(keys[i]));
		keys[i].family = FC_AF_INET;
		keys[i].proto = FC_PROTO_UDP;
		keys[i].ext_port = htons(i);
		keys[i].remote_addr.v4 = htonl(0xc6336400 + (i % 7));
		ASSERT_TRUE(sync_table_get(&t, SYNC_KIND_SESSION, &keys[i], &made) && made, "insert");
	}
	ASSERT_EQ(t.len, 4000, "entries");
	ASSERT_TRUE(sync_table_get(&t, SYNC_KIND_SESSION, &keys[17], &made) && !made, "present");
	/* The same bytes as another kind are another entry. */
	ASSERT_TRUE(!sync_table_find(&t, SYNC_KIND_MAP, &keys[17]), "kind is part of the key");
	/* Delete the odd ones in a scattered order (1237 is prime to 4000):
	 * backward-shift deletion must leave every other key findable. */
	for (unsigned int n = 0; n < 4000; n++) {
		unsigned int i = n * 1237 % 4000;
		struct sync_ent *e = sync_table_find(&t, SYNC_KIND_SESSION, &keys[i]);

		ASSERT_TRUE(e != NULL, "not yet deleted: found");
		if (i & 1)
			sync_table_del(&t, e);
	}
	ASSERT_EQ(t.len, 2000, "entries left");
	for (unsigned int i = 0; i < 4000; i++)
		ASSERT_EQ(sync_table_find(&t, SYNC_KIND_SESSION, &keys[i]) != NULL, !(i & 1),
			  "found exactly the kept keys");
	sync_table_free(&t);
}

/* One DATA (or HELLO) datagram from the peer into the receiver's socket. */
static void peer_send(int fd, const char *k, __u8 type, __u64 epoch, __u64 echo, __u64 seq,
		      const struct sync_rec *r, int nrec)
{
	struct sync_writer w;
	struct sync_hdr h = { .type = type, .epoch = epoch, .echo = echo, .seq = seq };

	sync_begin(&w, &h);
	for (int i = 0; i < nrec; i++)
		sync_add(&w, &r[i]);
	sync_finish(&w, k, strlen(k));
	if (send(fd, w.buf, w.len, 0) != (ssize_t)w.len)
		perror("send");
}

static struct sync_rec map_rec(__u8 type, __u32 int_addr, __u16 int_port, __u16 ext_port)
{
	struct sync_rec r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.m.proto = FC_PROTO_UDP;
	r.m.int_family = r.m.ext_family = FC_AF_INET;
	r.m.int_addr.v4 = htonl(int_addr);
	r.m.ext_addr.v4 = htonl(0xcb007101);	/* 203.0.113.1 */
	r.m.int_port = int_port;
	r.m.ext_port = ext_port;
	r.m.flags = FC_BINDING_COUNTED;		/* the sender's count, not ours */
	return r;
}

static bool binding(int fd, __u8 side, __u32 addr, __u16 port, struct fc_binding *v)
{
	struct fc_endpoint_key k;

	gc_endpoint_key4(&k, side, FC_PROTO_UDP, htonl(addr), port);
	return bpf_map_lookup_elem(fd, &k, v) == 0;
}

TEST(sync_receiver_accepts_fresh_new_authentic_datagrams_and_installs_them)
{
	static struct fc_sync s;
	struct sync_peer *p = &s.peers[0];
	struct fc_config cfg = { 0 };
	struct fc_binding v;
	struct sync_rec r[2];
	int sp[2];
	const char *k = "0123456789abcdef";

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp))
		FAIL("socketpair: %s", strerror(errno));
	memset(&s, 0, sizeof(s));
	s.npeers = 1;
	p->node = &s;
	s.fd = sp[0];
	s.status_fd = -1;
	s.bindings_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_bind", sizeof(struct fc_endpoint_key),
				       sizeof(struct fc_binding), 1024, NULL);
	s.sessions_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_sess", sizeof(struct fc_session_key),
				       sizeof(struct fc_session), 1024, NULL);
	if (s.bindings_fd < 0 || s.sessions_fd < 0)
		SKIP("cannot create BPF maps: %s", strerror(errno));
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		cfg.timeout_ns[t] = 300ULL * 1000000000ULL;
	s.cfg = &cfg;
	s.epoch = 1000;
	memcpy(s.key, k, strlen(k));
	s.key_len = strlen(k);

	/* The handshake's first half: authentic, not fresh; its epoch is learned. */
	r[0] = map_rec(SYNC_REC_MAP, 0xc0a80102, 5000, 20000);
	peer_send(sp[1], k, SYNC_MSG_DATA, 2000, 999, 1, r, 1);
	sync_rx(&s);
	ASSERT_EQ(p->st.rx_unfresh, 1, "not echoing our epoch");
	ASSERT_EQ(p->peer_to_echo, 2000, "the peer's epoch, to echo");
	ASSERT_TRUE(!binding(s.bindings_fd, FC_SIDE_EXTERNAL, 0xcb007101, 20000, &v), "nothing installed");

	/* Fresh: a join, and both halves of the mapping. */
	peer_send(sp[1], k, SYNC_MSG_DATA, 2000, 1000, 2, r, 1);
	sync_rx(&s);
	ASSERT_EQ(p->joins, 1, "joined");
	ASSERT_TRUE(p->full_due, "a full resync to the new peer");
	ASSERT_TRUE(binding(s.bindings_fd, FC_SIDE_EXTERNAL, 0xcb007101, 20000, &v), "external half");
	ASSERT_EQ(v.addr.v4, htonl(0xc0a80102), "external half: internal address");
	ASSERT_EQ(v.flags & FC_BINDING_COUNTED, 0, "not counted here");
	ASSERT_TRUE(binding(s.bindings_fd, FC_SIDE_INTERNAL, 0xc0a80102, 5000, &v), "internal half");
	ASSERT_EQ(ntohs(v.port), 20000, "internal half: external port");

	/* The same datagram again, an older incarnation, another key. */
	peer_send(sp[1], k, SYNC_MSG_DATA, 2000, 1000, 2, r, 1);
	peer_send(sp[1], k, SYNC_MSG_DATA, 1500, 1000, 9, r, 1);
	peer_send(sp[1], "another key of the right size", SYNC_MSG_DATA, 2000, 1000, 3, r, 1);
	sync_rx(&s);
	ASSERT_EQ(p->st.rx_replayed, 2, "replay and old incarnation");
	ASSERT_EQ(p->st.rx_auth_failed, 1, "wrong key");

	/* The peer reused external port 20000 for another host: the old
	 * internal half goes, nothing dangles. A skipped seq is a gap. */
	r[0] = map_rec(SYNC_REC_MAP, 0xc0a80103, 6000, 20000);
	peer_send(sp[1], k, SYNC_MSG_DATA, 2000, 1000, 5, r, 1);
	sync_rx(&s);
	ASSERT_EQ(p->st.rx_lost, 2, "seq 3 and 4 lost");
	ASSERT_TRUE(p->ask_resync, "a resync asked for");
	ASSERT_TRUE(!binding(s.bindings_fd, FC_SIDE_INTERNAL, 0xc0a80102, 5000, &v),
		    "the old internal half removed");
	ASSERT_TRUE(binding(s.bindings_fd, FC_SIDE_EXTERNAL, 0xcb007101, 20000, &v), "external half");
	ASSERT_EQ(v.addr.v4, htonl(0xc0a80103), "now the new host's");

	/* Its owner deleted it: both halves go. */
	r[0] = map_rec(SYNC_REC_UNMAP, 0xc0a80103, 6000, 20000);
	peer_send(sp[1], k, SYNC_MSG_DATA, 2000, 1000, 6, r, 1);
	sync_rx(&s);
	ASSERT_TRUE(!binding(s.bindings_fd, FC_SIDE_INTERNAL, 0xc0a80103, 6000, &v), "internal gone");
	ASSERT_TRUE(!binding(s.bindings_fd, FC_SIDE_EXTERNAL, 0xcb007101, 20000, &v), "external gone");
	ASSERT_EQ(p->st.rx_install_errors, 0, "no install errors");
	ASSERT_EQ(p->st.rx_datagrams, 3, "accepted datagrams");

	/* The peer lost datagrams and asks for everything: a full resync,
	 * sent at half the rate. */
	{
		struct sync_writer w;
		struct sync_hdr h = { .type = SYNC_MSG_HELLO, .flags = SYNC_F_RESYNC,
				      .epoch = 2000, .echo = 1000, .seq = 7 };

		p->burst = 64;
		p->full_due = false;
		sync_begin(&w, &h);
		sync_finish(&w, k, strlen(k));
		ASSERT_EQ(send(sp[1], w.buf, w.len, 0), (ssize_t)w.len, "send");
		sync_rx(&s);
		ASSERT_TRUE(p->full_due, "a full resync due");
		ASSERT_EQ(p->burst, 32, "at half the rate");
	}

	sync_table_free(&p->table);
	close(s.bindings_fd);
	close(s.sessions_fd);
	close(sp[0]);
	close(sp[1]);
}

/* Every record of the authentic datagrams waiting on fd, to fn. */
static void drain_records(int fd, const char *k, void (*fn)(const struct sync_rec *r, void *ctx),
			  void *ctx)
{
	__u8 buf[SYNC_MAX_DGRAM];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct sync_hdr h;
		struct sync_rec r;
		size_t off = SYNC_HDR_LEN;

		if (sync_parse(buf, n, k, strlen(k), &h) != SYNC_OK)
			continue;
		while (sync_next_record(buf, n, &off, &r) == 1)
			fn(&r, ctx);
	}
}

struct type_count {
	unsigned int *maps, *unmaps;
	__u8 *seen_port;
};

static void count_type(const struct sync_rec *r, void *ctx)
{
	struct type_count *c = ctx;

	if (r->type == SYNC_REC_MAP) {
		(*c->maps)++;
		c->seen_port[r->m.ext_port - 1024]++;
	} else if (r->type == SYNC_REC_UNMAP) {
		(*c->unmaps)++;
	}
}

/* Records of each type in what the sender wrote to its socket so far. */
static void drain_count(int fd, const char *k, unsigned int *maps, unsigned int *unmaps,
			__u8 *seen_port)
{
	struct type_count c = { maps, unmaps, seen_port };

	drain_records(fd, k, count_type, &c);
}

static __u64 now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A large table is scanned in slices, the loop getting control back
 * between them, and every mapping still goes exactly once; what left the
 * map between two scans goes as an UNMAP. */
TEST(sync_scan_goes_in_slices_and_sends_every_mapping_once)
{
	enum { N = 20000, GONE = 100 };
	static struct fc_sync s;
	struct sync_peer *p = &s.peers[0];
	static __u8 seen[N];
	struct fc_config cfg = { 0 };
	unsigned int maps = 0, unmaps = 0, ticks;
	const char *k = "0123456789abcdef";
	int sp[2], bfd, sfd;
	bool sliced = false;
	__u64 now = gc_now_ns();

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sp))
		FAIL("socketpair: %s", strerror(errno));
	bfd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_bind", sizeof(struct fc_endpoint_key),
			     sizeof(struct fc_binding), 2 * N, NULL);
	sfd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_sess", sizeof(struct fc_session_key),
			     sizeof(struct fc_session), 1024, NULL);
	if (bfd < 0 || sfd < 0)
		SKIP("cannot create BPF maps: %s", strerror(errno));
	for (unsigned int i = 0; i < N; i++) {
		struct fc_endpoint_key key;
		struct fc_binding v = { .family = FC_AF_INET, .last_out_ns = now };

		gc_endpoint_key4(&key, FC_SIDE_INTERNAL, FC_PROTO_UDP, htonl(0x0a000000 + i / 1000),
				 10000 + i % 1000);
		v.addr.v4 = htonl(0xcb007101);
		v.port = htons(1024 + i);
		if (bpf_map_update_elem(bfd, &key, &v, BPF_NOEXIST))
			FAIL("map update: %s", strerror(errno));
	}
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		cfg.timeout_ns[t] = 300ULL * 1000000000ULL;
	memset(&s, 0, sizeof(s));
	s.npeers = 1;
	p->node = &s;
	s.fd = sp[0];
	s.status_fd = -1;
	p->peer_len = 0;		/* the socketpair's other end */
	s.epoch = 1000;
	p->peer_epoch = p->peer_to_echo = 2000;
	memcpy(s.key, k, strlen(k));
	s.key_len = strlen(k);
	sync_attach_maps(&s, bfd, sfd, &cfg);

	for (ticks = 0; ticks < 100000 && !(p->st.scans == 1 && !p->q_len); ticks++) {
		p->last_fresh_ms = now_mono_ms();	/* the peer stays up */
		sync_tick(&s);
		if (p->scan_phase != SYNC_SCAN_IDLE && p->table.len < N)
			sliced = true;	/* control came back mid-scan */
		drain_count(sp[1], k, &maps, &unmaps, seen);
	}
	ASSERT_EQ(p->st.scans, 1, "one scan complete");
	ASSERT_TRUE(sliced, "the loop had control back before the scan ended");
	ASSERT_TRUE(p->scan_slices > 1, "more than one slice");
	ASSERT_EQ(p->table.len, N, "every mapping tracked");
	ASSERT_EQ(maps, N, "every mapping sent");
	ASSERT_EQ(unmaps, 0, "nothing gone");
	for (unsigned int i = 0; i < N; i++)
		if (seen[i] != 1)
			FAIL("mapping %u sent %u times", i, seen[i]);
	ASSERT_EQ(p->st.tx_dropped, 0, "nothing dropped");

	/* 100 mappings expire; the next scan tells the peer, and only that. */
	for (unsigned int i = 0; i < GONE; i++) {
		struct fc_endpoint_key key;

		gc_endpoint_key4(&key, FC_SIDE_INTERNAL, FC_PROTO_UDP, htonl(0x0a000000 + i / 1000),
				 10000 + i % 1000);
		if (bpf_map_delete_elem(bfd, &key))
			FAIL("map delete: %s", strerror(errno));
	}
	maps = 0;
	p->next_scan_ms = 0;
	for (ticks = 0; ticks < 100000 && !(p->st.scans == 2 && !p->q_len); ticks++) {
		p->last_fresh_ms = now_mono_ms();
		sync_tick(&s);
		drain_count(sp[1], k, &maps, &unmaps, seen);
	}
	ASSERT_EQ(p->st.scans, 2, "second scan complete");
	ASSERT_EQ(unmaps, GONE, "the expired ones as UNMAP");
	ASSERT_EQ(maps, 0, "nothing else");
	ASSERT_EQ(p->table.len, N - GONE, "tracked");

	sync_table_free(&p->table);
	free(p->q);
	close(bfd);
	close(sfd);
	close(sp[0]);
	close(sp[1]);
}

static void count_port(const struct sync_rec *r, void *ctx)
{
	unsigned int *count = ctx;

	if (r->type == SYNC_REC_MAP && r->m.int_port >= 5000 && r->m.int_port < 5008)
		count[r->m.int_port - 5000]++;
}

/* MAP records per internal port 5000-5007 in what a peer's socket got. */
static void drain_ports(int fd, const char *k, unsigned int *count)
{
	drain_records(fd, k, count_port, count);
}

static int udp_local(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) ||
	    getsockname(fd, (struct sockaddr *)a, &len))
		return -1;
	return fd;
}

/* Until both peers have done `scans` scans and sent what they queued. */
static void tick_until_scanned(struct fc_sync *s, __u64 scans)
{
	for (int i = 0; i < 5000; i++) {
		bool done = true;

		for (unsigned int j = 0; j < s->npeers; j++) {
			s->peers[j].last_fresh_ms = now_mono_ms();	/* up */
			done &= s->peers[j].st.scans >= scans && !s->peers[j].q_len;
		}
		if (done)
			return;
		sync_tick(s);
		usleep(1000);
	}
}

/* Two peers on one socket: each datagram is the peer's it comes from (its
 * own incarnation, window and counters), one from elsewhere is nobody's,
 * one peer's datagram replayed from the other's address is refused, and
 * what a peer sent is not passed on to the other; this node's own
 * mapping goes to both. */
TEST(sync_two_peers_are_told_apart_and_learned_state_is_not_relayed)
{
	static struct fc_sync s;
	struct fc_config cfg = { 0 };
	struct sockaddr_in node, pa, pb, ps;
	struct fc_binding v;
	struct sync_rec r[1];
	unsigned int got_a[8] = { 0 }, got_b[8] = { 0 };
	const char *k = "0123456789abcdef";
	int fa, fb, fs, bfd, sfd;
	__u8 buf[SYNC_MAX_DGRAM];
	ssize_t n;

	memset(&s, 0, sizeof(s));
	s.fd = udp_local(&node);
	fa = udp_local(&pa);
	fb = udp_local(&pb);
	fs = udp_local(&ps);
	if (s.fd < 0 || fa < 0 || fb < 0 || fs < 0)
		SKIP("no loopback UDP: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		if (connect((int[]){ fa, fb, fs }[i], (struct sockaddr *)&node, sizeof(node)))
			FAIL("connect: %s", strerror(errno));
	bfd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_bind", sizeof(struct fc_endpoint_key),
			     sizeof(struct fc_binding), 1024, NULL);
	sfd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_sess", sizeof(struct fc_session_key),
			     sizeof(struct fc_session), 1024, NULL);
	if (bfd < 0 || sfd < 0)
		SKIP("cannot create BPF maps: %s", strerror(errno));
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		cfg.timeout_ns[t] = 300ULL * 1000000000ULL;
	s.status_fd = -1;
	s.epoch = 1000;
	memcpy(s.key, k, strlen(k));
	s.key_len = strlen(k);
	s.npeers = 2;
	memcpy(&s.peers[0].peer, &pa, sizeof(pa));
	memcpy(&s.peers[1].peer, &pb, sizeof(pb));
	for (int i = 0; i < 2; i++) {
		s.peers[i].node = &s;
		s.peers[i].peer_len = sizeof(pa);
	}
	sync_attach_maps(&s, bfd, sfd, &cfg);

	/* A (incarnation 2000) sends a mapping; B (3000) a hello. */
	r[0] = map_rec(SYNC_REC_MAP, 0xc0a80102, 5001, 20001);
	peer_send(fa, k, SYNC_MSG_DATA, 2000, 1000, 1, r, 1);
	peer_send(fb, k, SYNC_MSG_HELLO, 3000, 1000, 1, NULL, 0);
	sync_rx(&s);
	ASSERT_EQ(s.peers[0].joins, 1, "A joined");
	ASSERT_EQ(s.peers[1].joins, 1, "B joined");
	ASSERT_EQ(s.peers[0].st.rx_datagrams, 1, "A's datagram is A's");
	ASSERT_EQ(s.peers[1].st.rx_datagrams, 1, "B's datagram is B's");
	ASSERT_EQ(s.peers[0].st.rx_records, 1, "A's record installed");
	ASSERT_TRUE(binding(bfd, FC_SIDE_INTERNAL, 0xc0a80102, 5001, &v), "A's mapping here");

	/* From an address that is no peer's: authentic or not, not applied. */
	r[0] = map_rec(SYNC_REC_MAP, 0xc0a80102, 5002, 20002);
	peer_send(fs, k, SYNC_MSG_DATA, 2000, 1000, 2, r, 1);
	peer_send(fs, "another key of the right size", SYNC_MSG_DATA, 2000, 1000, 3, r, 1);
	/* A's next datagram, replayed from B's address: not B's incarnation. */
	peer_send(fb, k, SYNC_MSG_DATA, 2000, 1000, 2, r, 1);
	sync_rx(&s);
	ASSERT_EQ(s.other.rx_unknown_peer, 1, "authentic, from no peer");
	ASSERT_EQ(s.other.rx_auth_failed, 1, "forged, from no peer");
	ASSERT_EQ(s.peers[1].st.rx_replayed, 1, "A's datagram from B's address refused");
	ASSERT_EQ(s.peers[0].st.rx_datagrams, 1, "nothing more of A's");
	ASSERT_TRUE(!binding(bfd, FC_SIDE_INTERNAL, 0xc0a80102, 5002, &v), "none installed");

	/* Both joined, so both get a full resync (everything, A's too). */
	tick_until_scanned(&s, 1);
	ASSERT_EQ(s.peers[0].st.resyncs_sent, 1, "A's resync");
	ASSERT_EQ(s.peers[1].st.resyncs_sent, 1, "B's resync");
	drain_ports(fa, k, got_a);
	drain_ports(fb, k, got_b);
	ASSERT_EQ(got_b[1], 1, "the resync has what A sent");

	/* This node's own mapping, and one more from A, then a scan each. */
	{
		struct fc_endpoint_key key;
		struct fc_binding own = { .family = FC_AF_INET, .last_out_ns = gc_now_ns() };

		gc_endpoint_key4(&key, FC_SIDE_INTERNAL, FC_PROTO_UDP, htonl(0xc0a80102), 5003);
		own.addr.v4 = htonl(0xcb007101);
		own.port = htons(20003);
		if (bpf_map_update_elem(bfd, &key, &own, BPF_NOEXIST))
			FAIL("map update: %s", strerror(errno));
	}
	r[0] = map_rec(SYNC_REC_MAP, 0xc0a80102, 5004, 20004);
	peer_send(fa, k, SYNC_MSG_DATA, 2000, 1000, 3, r, 1);
	sync_rx(&s);
	ASSERT_TRUE(binding(bfd, FC_SIDE_INTERNAL, 0xc0a80102, 5004, &v), "A's second here");
	memset(got_a, 0, sizeof(got_a));
	memset(got_b, 0, sizeof(got_b));
	tick_until_scanned(&s, 2);
	drain_ports(fa, k, got_a);
	drain_ports(fb, k, got_b);
	ASSERT_EQ(got_a[3], 1, "our own mapping to A");
	ASSERT_EQ(got_b[3], 1, "our own mapping to B");
	ASSERT_EQ(got_b[4], 0, "A's mapping not relayed to B");
	ASSERT_EQ(got_a[4], 0, "nor echoed to A");
	ASSERT_EQ(got_b[1], 0, "A's first not sent again");

	/* Nothing was sent to the stranger. */
	n = recv(fs, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_TRUE(n < 0, "nothing to an address that is no peer's");
	for (int i = 0; i < 2; i++) {
		sync_table_free(&s.peers[i].table);
		free(s.peers[i].q);
	}
	close(bfd);
	close(sfd);
	close(s.fd);
	close(fa);
	close(fb);
	close(fs);
}
