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

#include <fcnat/offload.h>
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
};

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
	printf("%-4s %s -> %s  as %s -> %s  %llu pkts %llu bytes | reply %llu pkts %llu bytes\n",
	       proto_name(o->proto), o->in_src, o->in_dst, o->out_src, o->out_dst,
	       (unsigned long long)o->packets, (unsigned long long)o->bytes,
	       (unsigned long long)r->packets, (unsigned long long)r->bytes);
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

/* Each flow once, from its original direction's entry; flows counted, and
 * listed (into arr, or as text) if list. */
static unsigned long walk(int fd, bool v6, bool list, json_object *arr, __u64 now)
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
		struct dir_view o, r;

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
	n = walk(v.fd4, false, false, NULL, 0) + walk(v.fd6, true, false, NULL, 0);
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
	struct fo_view v;
	unsigned long n;
	bool json = false;
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
	n = walk(v.fd4, false, true, arr, mono_ns());
	n += walk(v.fd6, true, true, arr, mono_ns());
	if (json) {
		json_totals(top, &v, n, arr);
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	} else {
		printf("%lu flows offloaded\n", n);
		for (int i = 0; i < FO_STAT_MAX; i++)
			printf("  %-20s %llu\n", offload_stat_name(i), (unsigned long long)v.sum[i]);
	}
	view_close(&v);
	return 0;
}

void offload_metrics(FILE *f, const char *label, void *arg)
{
	const struct fo_metrics_ctx *m = arg;
	__u64 sum[FO_STAT_MAX];

	fprintf(f, "# HELP fcnat_offload_flows Flows offloaded now.\n"
		   "# TYPE fcnat_offload_flows gauge\n"
		   "fcnat_offload_flows %lu\n", fo_table_offloaded(m->table));
	fprintf(f, "# HELP fcnat_offload_handed_back_total Flows handed back by FIN or RST.\n"
		   "# TYPE fcnat_offload_handed_back_total counter\n"
		   "fcnat_offload_handed_back_total %lu\n", fo_table_handed_back(m->table));
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
