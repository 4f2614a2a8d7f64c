// SPDX-License-Identifier: GPL-2.0
/*
 * fcnat stats: an instance's counters, totals and external port usage per
 * address; and the same totals read from live maps for the metrics
 * (summary_read).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "gc.h"
#include "log.h"
#include "offload.h"
#include "offload_pin.h"
#include "show_int.h"
#include "stats.h"
#include "sync.h"

/* The external addresses: the interface's (if it has one), then the pool's
 * in pool order, each once. NULL on error; *n set. */
static struct fc_addr_usage *external_addrs(int pool_fd, const struct fc_config *cfg,
					    unsigned int *n)
{
	struct fc_addr_usage *v = calloc(cfg->nr_pool + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	if (cfg->ext_addr4)
		v[(*n)++].addr = cfg->ext_addr4;
	for (__u32 i = 0; pool_fd >= 0 && i < cfg->nr_pool && i < FC_POOL_MAX; i++) {
		__be32 a;

		if (bpf_map_lookup_elem(pool_fd, &i, &a) || a == cfg->ext_addr4)
			continue;
		v[(*n)++].addr = a;
	}
	return v;
}

const __u8 show_usage_protos[FC_SUMMARY_PROTOS] = { FC_PROTO_TCP, FC_PROTO_UDP, FC_PROTO_ICMP };

/* Fill each address's used ports from the collected mappings. */
static void usage_fill(const struct collect *c, struct fc_addr_usage *v, unsigned int n)
{
	for (unsigned int a = 0; a < n; a++) {
		/* Keys compare all 16 bytes: { .v4 = x } would leave 12 unspecified. */
		union fc_addr addr = {};

		addr.v4 = v[a].addr;
		for (int i = 0; i < FC_SUMMARY_PROTOS; i++) {
			struct fc_endpoint_key k;

			fc_ext_endpoint_key(&k, FC_AF_INET, show_usage_protos[i], &addr, 0);
			v[a].ports_used[i] = 0;
			epset_get(&c->ports_used, &k, &v[a].ports_used[i]);
		}
	}
}

/* Used ports per (address, protocol), in a fixed protocol order. */
static int port_usage(const struct collect *c, const struct instance *in, json_object *arr)
{
	unsigned int n;
	struct fc_addr_usage *v = external_addrs(in->pool_fd, &in->cfg, &n);
	char s[INET_ADDRSTRLEN];

	if (!v)
		return -ENOMEM;
	usage_fill(c, v, n);
	for (unsigned int a = 0; a < n; a++) {
		inet_ntop(AF_INET, &v[a].addr, s, sizeof(s));
		for (int i = 0; i < FC_SUMMARY_PROTOS; i++) {
			__u64 used = v[a].ports_used[i];
			__u32 total = in->cfg.ports[fc_proto_slot(show_usage_protos[i])].total;
			double pct = total ? 100.0 * used / total : 0;

			if (arr) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "address", json_object_new_string(s));
				json_object_object_add(o, "proto",
						       json_object_new_string(proto_name(show_usage_protos[i])));
				json_object_object_add(o, "used", json_object_new_int64(used));
				json_object_object_add(o, "total",
						       json_object_new_int64(total));
				json_object_object_add(o, "utilisation",
						       json_object_new_double(pct / 100));
				json_object_object_add(o, "pool", json_object_new_boolean(
						       v[a].addr != in->cfg.ext_addr4));
				json_object_array_add(arr, o);
			} else {
				printf("  %-15s %-4s %llu of %u (%.2f%%)\n", s,
				       proto_name(show_usage_protos[i]), (unsigned long long)used,
				       total, pct);
			}
		}
	}
	free(v);
	return 0;
}

static unsigned long count_entries(int fd, size_t ksz)
{
	char key[64], next[64];
	unsigned long n = 0;
	void *prev = NULL;

	while (fd >= 0 && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		n++;
	}
	return n;
}

/* How the datapath is attached: TCX links or clsact filters (tc_attach.h). */
static const char *attach_name(const struct instance *in)
{
	if (!(in->pin.meta.flags & FC_META_ATTACHED))
		return "none";
	return in->pin.meta.flags & FC_META_TCX ? "tcx" : "clsact";
}

/* The interface an instance is on: -i, else its state directory's name
 * (where ':' stands for a VLAN's '.'). */
static const char *instance_ifname(const struct instance *in, const struct fc_options *o,
				   char *out, size_t len)
{
	const char *base = strrchr(in->pin.dir, '/');

	const char *name = o->ifname[0] ? o->ifname : base ? base + 1 : in->pin.dir;
	size_t n = strnlen(name, len - 1);

	memcpy(out, name, n);
	out[n] = '\0';
	for (char *p = out; *p; p++)
		if (*p == ':')
			*p = '.';
	return out;
}

/* `fcnat offload` pins beside the NAT: the default roots are
 * FC_PIN_ROOT_DEFAULT and FO_PIN_ROOT_DEFAULT, and --bpffs DIR pairs with
 * DIR-offload. */
static void offload_root(const struct fc_options *o, char *out, size_t len)
{
	if (!strcmp(o->bpffs, FC_PIN_ROOT_DEFAULT))
		snprintf(out, len, "%s", FO_PIN_ROOT_DEFAULT);
	else
		snprintf(out, len, "%s-offload", o->bpffs);
}

int show_stats_offload_only(const struct fc_options *o)
{
	json_object *root = o->json ? json_object_new_object() : NULL;
	char dir[PATH_MAX];
	int shown;

	offload_root(o, dir, sizeof(dir));
	shown = offload_stats(dir, root);
	if (root && shown > 0)
		show_print_json(root);
	else
		json_object_put(root);
	return shown;
}

int show_stats(const struct instance *in, const struct fc_options *o)
{
	char ifname[IF_NAMESIZE + 1], offload[PATH_MAX];
	json_object *sync;
	__u64 counters[FC_STAT_MAX];
	struct collect c;
	int err;

	err = stats_read(in->stats_fd, counters);
	if (err) {
		fc_err("reading the counters in %s: %s", in->pin.dir, strerror(-err));
		return err;
	}
	err = show_collect(&c, in, o, false);
	if (err)
		return err;
	sync = sync_status_query(instance_ifname(in, o, ifname, sizeof(ifname)));
	offload_root(o, offload, sizeof(offload));
	if (o->json) {
		json_object *root = json_object_new_object();
		json_object *cnt = json_object_new_object();
		json_object *ports = json_object_new_array();

		for (int k = 0; k < FC_STAT_MAX; k++)
			json_object_object_add(cnt, stat_name(k), json_object_new_int64(counters[k]));
		for (int k = 0; k < FC_DSTAT_NR; k++)
			json_object_object_add(cnt, dstat_name(k),
					       json_object_new_int64(in->pin.meta.counters[k]));
		json_object_object_add(root, "counters", cnt);
		json_object_object_add(root, "attach", json_object_new_string(attach_name(in)));
		json_object_object_add(root, "mappings", json_object_new_int64(c.mappings));
		json_object_object_add(root, "sessions", json_object_new_int64(c.sessions));
		json_object_object_add(root, "subscribers", json_object_new_int64(
			count_entries(in->subscribers_fd, sizeof(struct fc_subscriber_key))));
		port_usage(&c, in, ports);
		json_object_object_add(root, "ports", ports);
		if (sync)
			json_object_object_add(root, "sync", sync);
		if (offload_stats(offload, root) < 0)
			err = -EIO;
		show_print_json(root);
	} else {
		printf("attach %s\n", attach_name(in));
		printf("mappings %lu\nsessions %lu\nsubscribers %lu\nports in use:\n", c.mappings,
		       c.sessions, count_entries(in->subscribers_fd, sizeof(struct fc_subscriber_key)));
		port_usage(&c, in, NULL);
		printf("counters:\n");
		for (int k = 0; k < FC_STAT_MAX; k++)
			printf("  %-28s %llu\n", stat_name(k), (unsigned long long)counters[k]);
		for (int k = 0; k < FC_DSTAT_NR; k++)
			printf("  %-28s %llu\n", dstat_name(k),
			       (unsigned long long)in->pin.meta.counters[k]);
		if (sync) {
			/* HA state sync: the daemon's, asked over its socket. */
			printf("sync:\n");
			json_object_object_foreach(sync, key, val)
				printf("  %-28s %s\n", key, val ? json_object_get_string(val) : "-");
			json_object_put(sync);
		}
		if (offload_stats(offload, NULL) < 0)
			err = -EIO;
	}
	show_collect_free(&c);
	return err;
}

int summary_read(int bindings_fd, int sessions_fd, int pool_fd, int subscribers_fd,
		 const struct fc_config *cfg, struct fc_summary *out)
{
	struct instance in = {
		.bindings_fd = bindings_fd, .sessions_fd = sessions_fd, .cfg = *cfg,
		.now = gc_now_ns(), .p64_out_fd = -1, .p64_in_fd = -1,	/* port mappings only */
	};
	struct fc_options none;
	struct collect c;
	int err;

	memset(&none, 0, sizeof(none));
	memset(out, 0, sizeof(*out));
	snprintf(in.pin.dir, sizeof(in.pin.dir), "(live maps)");
	err = show_collect(&c, &in, &none, false);
	if (err)
		return err;
	out->mappings = c.mappings;
	out->sessions = c.sessions;
	out->subscribers = count_entries(subscribers_fd, sizeof(struct fc_subscriber_key));
	out->addrs = external_addrs(pool_fd, cfg, &out->nr_addrs);
	if (out->addrs)
		usage_fill(&c, out->addrs, out->nr_addrs);
	show_collect_free(&c);
	return out->addrs ? 0 : -ENOMEM;
}

void summary_free(struct fc_summary *s)
{
	free(s->addrs);
	s->addrs = NULL;
	s->nr_addrs = 0;
}

const char *summary_proto_name(int i)
{
	static const char *const names[FC_SUMMARY_PROTOS] = { "tcp", "udp", "icmp" };

	return i >= 0 && i < FC_SUMMARY_PROTOS ? names[i] : "?";
}