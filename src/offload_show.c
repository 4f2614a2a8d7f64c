// SPDX-License-Identifier: GPL-2.0
/*
 * `fcnat show offloads [--json] [--bpffs DIR]`: the flows `fcnat offload`
 * carries in this network namespace and its counters, read from its
 * pinned maps (offload_pin.h) while it runs, or while a kept datapath
 * forwards without it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdlib.h>

#include <fcnat/offload.h>
#include "ct_sock.h"
#include "log.h"
#include "offload.h"
#include "offload_flows.h"
#include "offload_pin.h"

/* One direction as shown: the packet as it arrives and as it leaves. */
struct dir_view {
	char in_src[INET6_ADDRSTRLEN + 8], in_dst[INET6_ADDRSTRLEN + 8];
	char out_src[INET6_ADDRSTRLEN + 8], out_dst[INET6_ADDRSTRLEN + 8];
	__u8 proto;
	__u64 packets, bytes, last_seen_ns;
	bool has_ct;			/* conntrack's counters of this direction known */
	__u64 ct_packets, ct_bytes;	/* what the stack carried (conntrack's accounting) */
};

/*
 * Conntrack's own counters, by original tuple: ctnetlink cannot set them,
 * so the fast path's packets are not in them (doc/design/offload.md,
 * "Counters"); shown beside the fast path's, they give the whole.
 */
struct ct_count {
	struct ct_count *next;
	struct ct_tuple orig;
	__u64 packets[2], bytes[2];
};

struct ct_counts {
	struct ct_count **bucket;
	__u32 mask;
	unsigned long entries;		/* TCP/UDP entries the dump named */
	unsigned long counted;		/* of them, with counters */
	__u64 total_packets, total_bytes;	/* of the offloaded flows' entries */
};

static __u32 ct_hash(const struct ct_counts *c, const struct ct_tuple *t)
{
	return ct_tuple_hash(t) & c->mask;
}

static int ct_count_cb(const struct ct_entry *e, void *arg)
{
	struct ct_counts *c = arg;
	struct ct_count *n;
	__u32 h;

	if (!e->has_orig || e->event == CT_EV_DESTROY)
		return 0;
	c->entries++;
	if (!e->has_counters)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(&n->orig, 0, sizeof(n->orig));
	memcpy(&n->orig, &e->orig, sizeof(n->orig));
	memcpy(n->packets, e->packets, sizeof(n->packets));
	memcpy(n->bytes, e->bytes, sizeof(n->bytes));
	h = ct_hash(c, &n->orig);
	n->next = c->bucket[h];
	c->bucket[h] = n;
	c->counted++;
	return 0;
}

/* Read conntrack's table (every family); false if it cannot be. */
static bool ct_counts_read(struct ct_counts *c)
{
	char *buf = malloc(256 * 1024);
	int r;

	c->mask = (1u << 16) - 1;
	c->bucket = calloc(c->mask + 1, sizeof(*c->bucket));
	if (!buf || !c->bucket) {
		free(buf);
		return false;
	}
	r = ct_sock_dump(buf, 256 * 1024, (__u32)time(NULL), ct_count_cb, NULL, c);
	free(buf);
	if (r < 0)
		fc_warn("show offloads: conntrack's counters: %s", strerror(-r));
	return r >= 0;
}

static void ct_counts_free(struct ct_counts *c)
{
	for (__u32 i = 0; c->bucket && i <= c->mask; i++)
		while (c->bucket[i]) {
			struct ct_count *n = c->bucket[i];

			c->bucket[i] = n->next;
			free(n);
		}
	free(c->bucket);
	c->bucket = NULL;
}

/* The conntrack counters of the entry whose original tuple is orig. */
static const struct ct_count *ct_count_find(const struct ct_counts *c,
					    const struct ct_tuple *orig)
{
	if (!c || !c->bucket)
		return NULL;
	for (const struct ct_count *n = c->bucket[ct_hash(c, orig)]; n; n = n->next)
		if (!memcmp(&n->orig, orig, sizeof(*orig)))
			return n;
	return NULL;
}

static void endpoint(char *out, size_t len, int family, const void *addr, __be16 port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	snprintf(out, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, ntohs(port));
}

static const char *proto_name(__u8 p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "?";
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static json_object *dir_json(const struct dir_view *d, __u64 now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "src", json_object_new_string(d->in_src));
	json_object_object_add(o, "dst", json_object_new_string(d->in_dst));
	json_object_object_add(o, "out_src", json_object_new_string(d->out_src));
	json_object_object_add(o, "out_dst", json_object_new_string(d->out_dst));
	json_object_object_add(o, "packets", json_object_new_uint64(d->packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(d->bytes));
	if (d->has_ct) {
		json_object_object_add(o, "conntrack_packets", json_object_new_uint64(d->ct_packets));
		json_object_object_add(o, "conntrack_bytes", json_object_new_uint64(d->ct_bytes));
		json_object_object_add(o, "total_packets",
				       json_object_new_uint64(d->packets + d->ct_packets));
		json_object_object_add(o, "total_bytes",
				       json_object_new_uint64(d->bytes + d->ct_bytes));
	}
	if (d->last_seen_ns)
		json_object_object_add(o, "idle_seconds",
				       json_object_new_double((now > d->last_seen_ns ?
							       now - d->last_seen_ns : 0) / 1e9));
	return o;
}

static void print_flow(json_object *arr, const struct dir_view *o, const struct dir_view *r,
		       __u64 now)
{
	if (arr) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "proto", json_object_new_string(proto_name(o->proto)));
		json_object_object_add(f, "original", dir_json(o, now));
		json_object_object_add(f, "reply", dir_json(r, now));
		json_object_array_add(arr, f);
		return;
	}
	printf("%-4s %s -> %s  as %s -> %s  %llu pkts %llu bytes | reply %llu pkts %llu bytes",
	       proto_name(o->proto), o->in_src, o->in_dst, o->out_src, o->out_dst,
	       (unsigned long long)o->packets, (unsigned long long)o->bytes,
	       (unsigned long long)r->packets, (unsigned long long)r->bytes);
	if (o->has_ct)
		printf("  (stack: %llu pkts %llu bytes | reply %llu pkts %llu bytes)",
		       (unsigned long long)o->ct_packets, (unsigned long long)o->ct_bytes,
		       (unsigned long long)r->ct_packets, (unsigned long long)r->ct_bytes);
	printf("\n");
}

static void view4(struct dir_view *d, const struct fo_key4 *k, const struct fo_flow4 *f)
{
	endpoint(d->in_src, sizeof(d->in_src), AF_INET, &k->saddr, k->sport);
	endpoint(d->in_dst, sizeof(d->in_dst), AF_INET, &k->daddr, k->dport);
	endpoint(d->out_src, sizeof(d->out_src), AF_INET, &f->saddr, f->sport);
	endpoint(d->out_dst, sizeof(d->out_dst), AF_INET, &f->daddr, f->dport);
	d->proto = k->proto;
	d->packets = f->packets;
	d->bytes = f->bytes;
	d->last_seen_ns = f->last_seen_ns;
}

static void view6(struct dir_view *d, const struct fo_key6 *k, const struct fo_flow6 *f)
{
	endpoint(d->in_src, sizeof(d->in_src), AF_INET6, k->saddr, k->sport);
	endpoint(d->in_dst, sizeof(d->in_dst), AF_INET6, k->daddr, k->dport);
	endpoint(d->out_src, sizeof(d->out_src), AF_INET6, f->saddr, f->sport);
	endpoint(d->out_dst, sizeof(d->out_dst), AF_INET6, f->daddr, f->dport);
	d->proto = k->proto;
	d->packets = f->packets;
	d->bytes = f->bytes;
	d->last_seen_ns = f->last_seen_ns;
}

/* The fast path's totals over the flows shown. */
struct fo_sums {
	__u64 packets, bytes;
};

/* The conntrack tuple of a map key (the packet as it arrives). */
static void key_tuple(struct ct_tuple *t, const void *key, bool v6)
{
	memset(t, 0, sizeof(*t));
	if (v6) {
		const struct fo_key6 *k = key;

		memcpy(t->src6, k->saddr, 16);
		memcpy(t->dst6, k->daddr, 16);
		t->sport = k->sport, t->dport = k->dport, t->proto = k->proto;
		t->family = AF_INET6;
	} else {
		const struct fo_key4 *k = key;

		t->src = k->saddr, t->dst = k->daddr;
		t->sport = k->sport, t->dport = k->dport, t->proto = k->proto;
		t->family = AF_INET;
	}
}

/* Conntrack's counters of the flow (o: its original direction) into o, r. */
static void add_ct(struct ct_counts *cc, const void *key, bool v6, struct dir_view *o,
		   struct dir_view *r)
{
	struct ct_tuple t;
	const struct ct_count *c;

	key_tuple(&t, key, v6);
	c = ct_count_find(cc, &t);
	if (!c)
		return;
	o->has_ct = r->has_ct = true;
	o->ct_packets = c->packets[0], o->ct_bytes = c->bytes[0];
	r->ct_packets = c->packets[1], r->ct_bytes = c->bytes[1];
	cc->total_packets += c->packets[0] + c->packets[1];
	cc->total_bytes += c->bytes[0] + c->bytes[1];
}

/* Each flow once, from its original direction's entry; flows counted, and
 * listed (into arr, or as text) if list. */
static unsigned long walk(int fd, bool v6, bool list, json_object *arr, __u64 now,
			  struct ct_counts *cc, struct fo_sums *sums)
{
	union {
		struct fo_key4 k4;
		struct fo_key6 k6;
	} key, next;
	union {
		struct fo_flow4 f4;
		struct fo_flow6 f6;
	} a, b;
	unsigned long n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		/* Zeroed: has_ct stays false when conntrack has no counts. */
		struct dir_view o = { 0 }, r = { 0 };

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &a))
			continue;
		if ((v6 ? a.f6.dir : a.f4.dir) != FO_DIR_ORIG)
			continue;
		if (!list) {
			n++;
			continue;
		}
		/* The reply direction: its counters (gone: a FIN just now). */
		if (bpf_map_lookup_elem(fd, v6 ? (void *)&a.f6.rev : (void *)&a.f4.rev, &b))
			continue;
		if (v6) {
			view6(&o, &key.k6, &a.f6);
			view6(&r, &a.f6.rev, &b.f6);
		} else {
			view4(&o, &key.k4, &a.f4);
			view4(&r, &a.f4.rev, &b.f4);
		}
		add_ct(cc, &key, v6, &o, &r);
		sums->packets += o.packets + r.packets;
		sums->bytes += o.bytes + r.bytes;
		print_flow(arr, &o, &r, now);
		n++;
	}
	return n;
}

/* The counters by reason, summed over CPUs; false if unreadable. */
bool offload_counters(int stats_fd, __u64 *sum)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return false;
	for (__u32 i = 0; i < FO_STAT_MAX; i++) {
		__u64 v[ncpu];

		sum[i] = 0;
		if (bpf_map_lookup_elem(stats_fd, &i, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum[i] += v[c];
	}
	return true;
}

/* This namespace's offload state under root, opened read-only. */
struct fo_view {
	struct fc_pin pin;
	int fd4, fd6, sfd;
	__u64 sum[FO_STAT_MAX];
};

static void view_close(struct fo_view *v)
{
	if (v->fd4 >= 0)
		close(v->fd4);
	if (v->fd6 >= 0)
		close(v->fd6);
	if (v->sfd >= 0)
		close(v->sfd);
	pin_close(&v->pin);
}

/* 0, or -1 with the reason logged and v closed. */
static int view_open(struct fo_view *v, const char *root)
{
	v->fd4 = v->fd6 = v->sfd = -1;
	if (fo_pin_open_ro(&v->pin, root))
		return -1;
	v->fd4 = pin_map_fd(&v->pin, "fo_flows4");
	v->fd6 = pin_map_fd(&v->pin, "fo_flows6");
	v->sfd = pin_map_fd(&v->pin, "fo_stats");
	if (v->fd4 < 0 || v->fd6 < 0 || v->sfd < 0 || !offload_counters(v->sfd, v->sum)) {
		fc_err("offload state in %s is incomplete", v->pin.dir);
		view_close(v);
		return -1;
	}
	return 0;
}

/* What both `show offloads` and `stats` give in JSON; flows: the list, or
 * NULL (stats). */
static void json_totals(json_object *top, const struct fo_view *v, unsigned long n,
			json_object *flows)
{
	json_object *cnt = json_object_new_object();

	json_object_object_add(top, "pid", json_object_new_int64(v->pin.meta.pid));
	json_object_object_add(top, "offloaded_flows", json_object_new_uint64(n));
	if (flows)
		json_object_object_add(top, "flows", flows);
	for (int i = 0; i < FO_STAT_MAX; i++)
		json_object_object_add(cnt, offload_stat_name(i), json_object_new_uint64(v->sum[i]));
	json_object_object_add(top, "counters", cnt);
}

int offload_stats(const char *root, json_object *into)
{
	struct fo_view v;
	unsigned long n;

	if (!fo_pin_present(root))
		return 0;
	if (view_open(&v, root))
		return -1;
	n = walk(v.fd4, false, false, NULL, 0, NULL, NULL) +
	    walk(v.fd6, true, false, NULL, 0, NULL, NULL);
	if (into) {
		json_object *top = json_object_new_object();

		json_totals(top, &v, n, NULL);
		json_object_object_add(into, "offload", top);
	} else {
		/* As the NAT's counters above it. */
		printf("offload:\n  %-28s %lu\n", "offloaded_flows", n);
		for (int i = 0; i < FO_STAT_MAX; i++)
			printf("  %-28s %llu\n", offload_stat_name(i), (unsigned long long)v.sum[i]);
	}
	view_close(&v);
	return 1;
}

/* The whole of the offloaded flows' traffic: the fast path's counters,
 * conntrack's (the stack's part: their first packets, and whatever the
 * fast path passed to it) and both; conntrack's null when it counts
 * nothing (nf_conntrack_acct=0). */
static json_object *traffic_json(const struct fo_sums *s, const struct ct_counts *cc, bool acct)
{
	json_object *t = json_object_new_object(), *f = json_object_new_object();

	json_object_object_add(f, "packets", json_object_new_uint64(s->packets));
	json_object_object_add(f, "bytes", json_object_new_uint64(s->bytes));
	json_object_object_add(t, "fast_path", f);
	if (!acct) {
		json_object_object_add(t, "conntrack", NULL);
		json_object_object_add(t, "total", NULL);
		return t;
	}
	f = json_object_new_object();
	json_object_object_add(f, "packets", json_object_new_uint64(cc->total_packets));
	json_object_object_add(f, "bytes", json_object_new_uint64(cc->total_bytes));
	json_object_object_add(t, "conntrack", f);
	f = json_object_new_object();
	json_object_object_add(f, "packets",
			       json_object_new_uint64(s->packets + cc->total_packets));
	json_object_object_add(f, "bytes", json_object_new_uint64(s->bytes + cc->total_bytes));
	json_object_object_add(t, "total", f);
	return t;
}

int offload_show_main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *root = FO_PIN_ROOT_DEFAULT;
	json_object *top = NULL, *arr = NULL;
	struct ct_counts cc = {};
	struct fo_sums sums = {};
	struct fo_view v;
	unsigned long n;
	bool json = false, ct_ok, acct;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'b':
			root = optarg;
			break;
		case 'h':
			printf("usage: fcnat show offloads [--json] [--bpffs DIR]\n");
			return 0;
		default:
			fprintf(stderr, "usage: fcnat show offloads [--json] [--bpffs DIR]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: fcnat show offloads [--json] [--bpffs DIR]\n");
		return 2;
	}
	if (view_open(&v, root))
		return 1;
	if (json) {
		top = json_object_new_object();
		arr = json_object_new_array();
	}
	ct_ok = ct_counts_read(&cc);
	n = walk(v.fd4, false, true, arr, mono_ns(), &cc, &sums);
	n += walk(v.fd6, true, true, arr, mono_ns(), &cc, &sums);
	/* No entry with counters in a table that has entries: accounting off. */
	acct = ct_ok && (cc.counted || !cc.entries);
	if (json) {
		json_totals(top, &v, n, arr);
		json_object_object_add(top, "traffic", traffic_json(&sums, &cc, acct));
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	} else {
		printf("%lu flows offloaded\n", n);
		printf("  fast path: %llu pkts %llu bytes", (unsigned long long)sums.packets,
		       (unsigned long long)sums.bytes);
		if (acct)
			printf("; stack (conntrack's counters): %llu pkts %llu bytes; together %llu "
			       "pkts %llu bytes\n", (unsigned long long)cc.total_packets,
			       (unsigned long long)cc.total_bytes,
			       (unsigned long long)(sums.packets + cc.total_packets),
			       (unsigned long long)(sums.bytes + cc.total_bytes));
		else
			printf("; the stack's part unknown: %s\n", ct_ok ?
			       "conntrack counts nothing (net.netfilter.nf_conntrack_acct=0)" :
			       "conntrack unreadable");
		for (int i = 0; i < FO_STAT_MAX; i++)
			printf("  %-20s %llu\n", offload_stat_name(i), (unsigned long long)v.sum[i]);
	}
	ct_counts_free(&cc);
	view_close(&v);
	return 0;
}

void offload_metrics(FILE *f, const char *label, void *arg)
{
	const struct fo_metrics_ctx *m = arg;
	__u64 sum[FO_STAT_MAX], fp_pkts, fp_bytes;

	fprintf(f, "# HELP fcnat_offload_flows Flows offloaded now.\n"
		   "# TYPE fcnat_offload_flows gauge\n"
		   "fcnat_offload_flows %lu\n", fo_table_offloaded(m->table));
	fprintf(f, "# HELP fcnat_offload_handed_back_total Flows handed back by FIN or RST.\n"
		   "# TYPE fcnat_offload_handed_back_total counter\n"
		   "fcnat_offload_handed_back_total %lu\n", fo_table_handed_back(m->table));
	fo_table_fast_path(m->table, &fp_pkts, &fp_bytes);
	fprintf(f, "# HELP fcnat_offload_fast_path_packets_total Packets of offloaded flows the "
		   "fast path carried (as of the last refresh round; conntrack's own counters "
		   "have the rest).\n"
		   "# TYPE fcnat_offload_fast_path_packets_total counter\n"
		   "fcnat_offload_fast_path_packets_total %llu\n"
		   "# HELP fcnat_offload_fast_path_bytes_total Their bytes (IP header and payload, "
		   "as conntrack counts).\n"
		   "# TYPE fcnat_offload_fast_path_bytes_total counter\n"
		   "fcnat_offload_fast_path_bytes_total %llu\n",
		(unsigned long long)fp_pkts, (unsigned long long)fp_bytes);
	fprintf(f, "# HELP fcnat_offload_zone_clashes Flows kept with the stack: a tuple of "
		   "theirs is another conntrack zone's too.\n"
		   "# TYPE fcnat_offload_zone_clashes gauge\n"
		   "fcnat_offload_zone_clashes %lu\n", fo_table_zone_clashes(m->table));
	if (!offload_counters(m->stats_fd, sum))
		return;
	/* One family, the reason a label: what was forwarded and why the
	 * rest went to the stack. */
	fprintf(f, "# HELP fcnat_offload_packets_total Packets the offload datapath saw, by "
		   "outcome (forwarded, or the reason it passed them to the stack).\n"
		   "# TYPE fcnat_offload_packets_total counter\n");
	for (int i = 0; i < FO_STAT_MAX; i++)
		if (i != FO_STAT_FORWARDED6 && i != FO_STAT_NH_CACHED)	/* parts of forwarded */
			fprintf(f, "fcnat_offload_packets_total{reason=\"%s\"} %llu\n",
				offload_stat_name(i), (unsigned long long)sum[i]);
	fprintf(f, "# HELP fcnat_offload_forwarded_ipv6_packets_total Of the forwarded "
		   "packets, the IPv6 ones.\n"
		   "# TYPE fcnat_offload_forwarded_ipv6_packets_total counter\n"
		   "fcnat_offload_forwarded_ipv6_packets_total %llu\n",
		(unsigned long long)sum[FO_STAT_FORWARDED6]);
	fprintf(f, "# HELP fcnat_offload_nh_cached_packets_total Of the forwarded packets, "
		   "those sent to the next hop cached for their flow (no FIB lookup).\n"
		   "# TYPE fcnat_offload_nh_cached_packets_total counter\n"
		   "fcnat_offload_nh_cached_packets_total %llu\n",
		(unsigned long long)sum[FO_STAT_NH_CACHED]);
}
