// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the options (options_table.c declares them) from the command line
 * and a configuration file (INI, parsed by libinih), which sets the same
 * things; the command line wins. Then the checks across options.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "forward.h"
#include "import_einat.h"
#include "ipfix.h"
#include "deterministic.h"
#include "option_values.h"
#include "options_int.h"
#include "pin.h"
#include "ports.h"
#include "syslog_sink.h"
#include "sync.h"
#include "vlan.h"

#ifndef FCNAT_VERSION
#define FCNAT_VERSION "0.1.0"
#endif

/* RFC 4787 REQ-5, RFC 5382 REQ-5, RFC 5508 REQ-2 lower bounds. */
static const unsigned int timeout_min_s[FC_TIMEOUT_MAX] = {
	[FC_TIMEOUT_UDP] = 120,
	[FC_TIMEOUT_ICMP] = 60,
	[FC_TIMEOUT_TCP_EST] = 7440,
	[FC_TIMEOUT_TCP_TRANS] = 240,
};

static const char *const timeout_name[FC_TIMEOUT_MAX] = {
	[FC_TIMEOUT_UDP] = "udp",
	[FC_TIMEOUT_ICMP] = "icmp",
	[FC_TIMEOUT_TCP_EST] = "tcp-est",
	[FC_TIMEOUT_TCP_TRANS] = "tcp-trans",
};

void options_defaults(struct fc_options *o)
{
	memset(o, 0, sizeof(*o));
	o->nr_port_ranges = 1;
	o->port_ranges[0].first = 20000;
	o->port_ranges[0].last = 29999;
	o->timeout_s[FC_TIMEOUT_UDP] = 300;
	o->timeout_s[FC_TIMEOUT_ICMP] = 60;
	o->timeout_s[FC_TIMEOUT_TCP_EST] = 7440;
	o->timeout_s[FC_TIMEOUT_TCP_TRANS] = 240;
	o->max_mappings = 65536;
	o->max_sessions = 262144;
	snprintf(o->bpffs, sizeof(o->bpffs), "%s", FC_PIN_ROOT_DEFAULT);
	o->pcp.min_lifetime = 120;
	o->pcp.max_lifetime = 86400;
	o->pcp.rate = 10;
	o->pcp.max_per_host = 64;
	o->cgnat.refuse_icmp_rate = FC_REFUSE_ICMP_RATE_DEFAULT;
	snprintf(o->syslog_path, sizeof(o->syslog_path), "%s", FC_SYSLOG_DEFAULT_PATH);
	o->ipfix_domain = 1;
	o->ipfix_template_s = 60;
	o->event_ring_kb = 256;
	o->lookup_port = -1;
	o->nat64_tos = -1;
	nat64_xlat_defaults(o);
	nat64_pool_defaults(&o->nat64pool);
}

bool options_events_on(const struct fc_options *o)
{
	return o->log_mappings || o->syslog || o->ipfix[0];
}

/* "10.0.0.0/8" (host bits must be zero) or a single address. */
static int add_pcp_allow(struct fc_options *o, const char *spec, char *err, size_t errlen)
{
	if (o->pcp.nr_allow >= FC_MAX_PCP_ALLOW) {
		snprintf(err, errlen, "too many --pcp-allow prefixes (at most %d)", FC_MAX_PCP_ALLOW);
		return -1;
	}
	if (parse_prefix4(spec, &o->pcp.allow[o->pcp.nr_allow])) {
		snprintf(err, errlen, "invalid prefix '%s': expected ADDR/LEN, e.g. 10.1.0.0/16", spec);
		return -1;
	}
	o->pcp.nr_allow++;
	return 0;
}

static int add_internal(struct fc_options *o, const char *value, char *err, size_t errlen)
{
	char buf[512], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		if (add_ifname(o->internal_ifs, &o->nr_internal_ifs, "internal", tok, err, errlen))
			return -1;
	}
	return 0;
}

static int set_ifname(struct fc_options *o, const char *name, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "invalid interface name '%s'", name);
		return -1;
	}
	strcpy(o->ifname, name);
	return 0;
}

static int set_nat64(struct fc_options *o, const char *value, char *err, size_t errlen)
{
	bool on;

	/* The configuration file may say "nat64 = true" for the default. */
	if (!parse_bool(value, &on)) {
		o->nat64 = on;
		value = FC_NAT64_PREFIX_DEFAULT;
		if (!on)
			return 0;
	}
	if (parse_nat64_prefix(value, o->nat64_prefix, &o->nat64_prefix_len, err, errlen))
		return -1;
	o->nat64 = true;
	return 0;
}

/*
 * One setting, from either source. name is the long option name (also the
 * configuration file key). Returns 0, or -1 with a message in err.
 */
static int apply_setting(struct fc_options *o, int id, const char *value, char *err, size_t errlen)
{
	unsigned int v;
	int t = -1;

	switch (id) {
	case OPT_IFNAME:
		return set_ifname(o, value, err, errlen);
	case OPT_PORTS:
		return parse_port_ranges(value, o->port_ranges, &o->nr_port_ranges, err, errlen);
	case OPT_NAT64:
		return set_nat64(o, value, err, errlen);
	case OPT_NAT64_POOL4:
	case OPT_NAT64_ALLOW:
	case OPT_NAT64_STATIC:
	case OPT_NAT64_POOL4_TIMEOUT:
		return nat64_pool_option(&o->nat64pool, id == OPT_NAT64_POOL4 ? FC_NAT64_OPT_POOL4 :
					 id == OPT_NAT64_ALLOW ? FC_NAT64_OPT_ALLOW :
					 id == OPT_NAT64_STATIC ? FC_NAT64_OPT_STATIC :
					 FC_NAT64_OPT_TIMEOUT, value, err, errlen);
	case OPT_NAT64_LOWEST_MTU:
	case OPT_NAT64_UDP_ZERO_CSUM:
	case OPT_FRAGMENT_HOLD:
		return nat64_xlat_option(o, id, value, err, errlen);
	case OPT_NAT64_TOS:
		if (!strcmp(value, "copy")) {
			o->nat64_tos = -1;
			return 0;
		}
		if (parse_uint(value, 0, 255, &v)) {
			snprintf(err, errlen, "invalid TOS '%s': expected 0 to 255 or copy", value);
			return -1;
		}
		o->nat64_tos = (int)v;
		return 0;
	case OPT_FORWARD: {
		char buf[512], *tok, *save;

		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
			if (o->nr_forwards >= FC_MAX_FORWARDS) {
				snprintf(err, errlen, "too many forwards (at most %d)", FC_MAX_FORWARDS);
				return -1;
			}
			if (forward_parse(tok, &o->forwards[o->nr_forwards], err, errlen))
				return -1;
			o->nr_forwards++;
		}
		return 0;
	}
	case OPT_INTERNAL:
		if (o->cmd != FC_CMD_RUN && o->cmd != FC_CMD_CHECK_CONFIG && o->cmd != FC_CMD_LOOKUP) {
			/* show: the internal network whose mappings are listed */
			if (parse_prefix4(value, &o->filter_internal)) {
				snprintf(err, errlen, "invalid internal address '%s': expected IPv4 "
					 "ADDR or ADDR/LEN", value);
				return -1;
			}
			o->filter_internal_set = true;
			return 0;
		}
		id = OPT_INTERNAL_PREFIX;	/* einat's meaning: the networks NATed */
		/* fallthrough */
	case OPT_POOL:
	case OPT_INTERNAL_PREFIX:
	case OPT_EXCLUDE: {
		char buf[1024], *tok, *save;

		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save))
			if (add_cgnat_prefix(o, id, tok, err, errlen))
				return -1;
		return 0;
	}
	case OPT_TCP_PORTS:
	case OPT_UDP_PORTS:
	case OPT_ICMP_IDS:
		return ports_parse_proto(o, id == OPT_TCP_PORTS ? FC_SUB_TCP :
					 id == OPT_UDP_PORTS ? FC_SUB_UDP : FC_SUB_ICMP,
					 value, err, errlen);
	case OPT_BPF_LOADER:
		if (strcmp(value, "aya") && strcmp(value, "libbpf") && strcmp(value, "libbpf-skel")) {
			snprintf(err, errlen, "invalid BPF loader '%s': expected aya or libbpf", value);
			return -1;
		}
		fc_info("--bpf-loader %s: accepted for einat compatibility; fcnat has one BPF "
			"loader (libbpf)", value);
		return 0;
	case OPT_IMPORT_EINAT:
		snprintf(err, errlen, "--import-einat is a command of its own: fcnat --import-einat "
			 "<file> [-o <out>]");
		return -1;
	case OPT_MAX_PER_SUBSCRIBER:
		return parse_sub_limit(o, value, err, errlen);
	case OPT_PORT_BLOCK_SIZE:
		if (parse_uint(value, 1, 32768, &o->cgnat.block_size)) {
			snprintf(err, errlen, "invalid port block size '%s': expected 1 to 32768", value);
			return -1;
		}
		return 0;
	case OPT_MAX_PORT_BLOCKS:
		if (parse_uint(value, 1, FC_MAX_PORT_BLOCKS, &o->cgnat.max_blocks)) {
			snprintf(err, errlen, "invalid port block limit '%s': expected 1 to %d", value,
				 FC_MAX_PORT_BLOCKS);
			return -1;
		}
		return 0;
	case OPT_DETERMINISTIC:
		if (parse_prefix4(value, &o->cgnat.det) || !o->cgnat.det.addr ||
		    o->cgnat.det.len < 1) {
			snprintf(err, errlen, "invalid deterministic prefix '%s': expected ADDR/LEN "
				 "with the host bits zero, e.g. 100.64.0.0/22", value);
			return -1;
		}
		o->cgnat.det_on = true;
		return 0;
	case OPT_REFUSED_ICMP_RATE:
		if (parse_uint(value, 0, 100000, &o->cgnat.refuse_icmp_rate)) {
			snprintf(err, errlen, "invalid rate '%s': expected 0 to 100000", value);
			return -1;
		}
		return 0;
	case OPT_LAN_IF:
		return add_internal(o, value, err, errlen);
	case OPT_VLAN:
		return vlan_parse(value, &o->vlan, err, errlen);
	case OPT_HAIRPIN_IF:
	case OPT_PCP_IF:
	case OPT_UPNP_IF:
	case OPT_PCP_ALLOW: {
		char buf[512], *tok, *save;

		snprintf(buf, sizeof(buf), "%s", value);
		for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save))
			if (id == OPT_HAIRPIN_IF ? add_ifname(o->hairpin_ifs, &o->nr_hairpin_ifs,
							      "hairpin", tok, err, errlen) :
			    id == OPT_PCP_IF ? add_ifname(o->pcp.ifs, &o->pcp.nr_ifs, "PCP", tok,
							  err, errlen) :
			    id == OPT_UPNP_IF ? add_ifname(o->pcp.upnp_ifs, &o->pcp.nr_upnp_ifs,
							   "UPnP", tok, err, errlen) :
			    add_pcp_allow(o, tok, err, errlen))
				return -1;
		return 0;
	}
	case OPT_PCP_MIN_LIFETIME:
	case OPT_PCP_MAX_LIFETIME:
		if (parse_uint(value, 1, 30 * 24 * 3600, &v)) {
			snprintf(err, errlen, "invalid lifetime '%s': expected seconds, 1 to %u", value,
				 30 * 24 * 3600);
			return -1;
		}
		*(id == OPT_PCP_MIN_LIFETIME ? &o->pcp.min_lifetime : &o->pcp.max_lifetime) = v;
		return 0;
	case OPT_PCP_RATE:
		if (parse_uint(value, 1, 100000, &o->pcp.rate)) {
			snprintf(err, errlen, "invalid rate '%s': expected 1 to 100000", value);
			return -1;
		}
		return 0;
	case OPT_PCP_MAX_PER_HOST:
		if (parse_uint(value, 1, 4096, &o->pcp.max_per_host)) {
			snprintf(err, errlen, "invalid mapping limit '%s': expected 1 to 4096", value);
			return -1;
		}
		return 0;
	case OPT_BPFFS:
		if (value[0] != '/' || strlen(value) >= sizeof(o->bpffs) - IF_NAMESIZE - 16) {
			snprintf(err, errlen, "invalid bpffs directory '%s': expected an absolute path",
				 value);
			return -1;
		}
		snprintf(o->bpffs, sizeof(o->bpffs), "%s", value);
		return 0;
	case OPT_METRICS: {
		struct sockaddr_storage ss;
		socklen_t len;

		if (!FC_METRICS_HTTP) {
			snprintf(err, errlen, "--metrics: %s", METRICS_HTTP_MISSING);
			return -1;
		}
		if (strlen(value) >= sizeof(o->metrics) || metrics_parse_addr(value, &ss, &len)) {
			snprintf(err, errlen, "invalid metrics address '%s': expected ADDR:PORT, "
				 "[ADDR6]:PORT or :PORT", value);
			return -1;
		}
		snprintf(o->metrics, sizeof(o->metrics), "%s", value);
		return 0;
	}
	case OPT_SYNC_PEER:
	case OPT_SYNC_LISTEN:
	case OPT_SYNC_KEY:
		return sync_opts_apply(&o->sync, id, value, false, err, errlen);
	case OPT_IPFIX: {
		struct sockaddr_storage ss;
		socklen_t len;

		if (!FC_IPFIX) {
			snprintf(err, errlen, "--ipfix: %s", IPFIX_MISSING);
			return -1;
		}
		if (strlen(value) >= sizeof(o->ipfix) || ipfix_parse_addr(value, &ss, &len)) {
			snprintf(err, errlen, "invalid IPFIX collector '%s': expected ADDR:PORT or "
				 "[ADDR6]:PORT", value);
			return -1;
		}
		snprintf(o->ipfix, sizeof(o->ipfix), "%s", value);
		return 0;
	}
	case OPT_IPFIX_DOMAIN:
		if (parse_uint(value, 0, UINT32_MAX, &o->ipfix_domain)) {
			snprintf(err, errlen, "invalid observation domain '%s': expected 0 to %u",
				 value, UINT32_MAX);
			return -1;
		}
		return 0;
	case OPT_IPFIX_TEMPLATE_INTERVAL:
		if (parse_uint(value, 1, 3600, &o->ipfix_template_s)) {
			snprintf(err, errlen, "invalid template interval '%s': expected seconds, "
				 "1 to 3600", value);
			return -1;
		}
		return 0;
	case OPT_SYSLOG_SOCKET:
		if (value[0] != '/' || strlen(value) >= sizeof(o->syslog_path)) {
			snprintf(err, errlen, "invalid syslog socket '%s': expected an absolute path "
				 "of at most %zu characters", value, sizeof(o->syslog_path) - 1);
			return -1;
		}
		snprintf(o->syslog_path, sizeof(o->syslog_path), "%s", value);
		return 0;
	case OPT_EVENT_RING_KB:
		if (parse_uint(value, 4, 65536, &v) || (v & (v - 1))) {
			snprintf(err, errlen, "invalid event ring size '%s': expected a power of two, "
				 "4 to 65536 (KiB)", value);
			return -1;
		}
		o->event_ring_kb = v;
		return 0;
	case OPT_PROTO:
		if (!strcmp(value, "tcp"))
			o->filter_proto = FC_PROTO_TCP;
		else if (!strcmp(value, "udp"))
			o->filter_proto = FC_PROTO_UDP;
		else if (!strcmp(value, "icmp"))
			o->filter_proto = FC_PROTO_ICMP;
		else {
			snprintf(err, errlen, "invalid protocol '%s': expected tcp, udp or icmp", value);
			return -1;
		}
		return 0;
	case OPT_MODE:
		if (!strcmp(value, "tc"))
			o->mode = FC_MODE_TC;
		else if (!strcmp(value, "xdp"))
			o->mode = FC_MODE_XDP;
		else {
			snprintf(err, errlen, "invalid mode '%s': expected tc or xdp", value);
			return -1;
		}
		return 0;
	case OPT_XDP_MODE:
		if (!strcmp(value, "auto"))
			o->xdp_mode = FC_XDP_AUTO;
		else if (!strcmp(value, "native"))
			o->xdp_mode = FC_XDP_NATIVE;
		else if (!strcmp(value, "generic"))
			o->xdp_mode = FC_XDP_GENERIC;
		else {
			snprintf(err, errlen, "invalid XDP mode '%s': expected native, generic or auto",
				 value);
			return -1;
		}
		return 0;
	case OPT_EXTERNAL:
		if (parse_uint(value, 1, 65535, &o->filter_external)) {
			snprintf(err, errlen, "invalid external port '%s': expected 1 to 65535", value);
			return -1;
		}
		return 0;
	case OPT_BPF_LOG:
		if (parse_uint(value, 0, 5, &o->bpf_log)) {
			snprintf(err, errlen, "invalid BPF log level '%s': expected 0 to 5", value);
			return -1;
		}
		return 0;
	case OPT_TIMEOUT_UDP:
		t = FC_TIMEOUT_UDP;
		break;
	case OPT_TIMEOUT_ICMP:
		t = FC_TIMEOUT_ICMP;
		break;
	case OPT_TIMEOUT_TCP_EST:
		t = FC_TIMEOUT_TCP_EST;
		break;
	case OPT_TIMEOUT_TCP_TRANS:
		t = FC_TIMEOUT_TCP_TRANS;
		break;
	case OPT_MAX_MAPPINGS:
	case OPT_MAX_SESSIONS:
		if (parse_uint(value, 16, 1U << 26, &v)) {
			snprintf(err, errlen, "invalid table size '%s': expected 16 to %u", value, 1U << 26);
			return -1;
		}
		*(id == OPT_MAX_MAPPINGS ? &o->max_mappings : &o->max_sessions) = v;
		return 0;
	case OPT_PREALLOC_TABLES:
		if (!strcmp(value, "auto"))
			o->prealloc_tables = FC_PREALLOC_AUTO;
		else if (!strcmp(value, "yes"))
			o->prealloc_tables = FC_PREALLOC_YES;
		else if (!strcmp(value, "no"))
			o->prealloc_tables = FC_PREALLOC_NO;
		else {
			snprintf(err, errlen, "invalid prealloc-tables '%s': expected auto, yes or no", value);
			return -1;
		}
		return 0;
	default:
		snprintf(err, errlen, "internal: unhandled option %d", id);
		return -1;
	}

	if (parse_uint(value, 1, 30 * 24 * 3600, &v)) {
		snprintf(err, errlen, "invalid %s timeout '%s': expected seconds, 1 to %u",
			 timeout_name[t], value, 30 * 24 * 3600);
		return -1;
	}
	o->timeout_s[t] = v;
	return 0;
}

struct ini_state {
	struct fc_options *o;
	const char *path;
	FILE *file;
	int lineno;	/* counted by ini_read_line: this inih has no line numbers */
	int failed;
};

static char *ini_read_line(char *buf, int size, void *stream)
{
	struct ini_state *st = stream;
	char *line = fgets(buf, size, st->file);

	if (line)
		st->lineno++;
	return line;
}

/* Configuration file keys are the long option names, in section [nat]
 * (or [timeouts] with keys udp, icmp, tcp-est, tcp-trans). */
static int ini_setting(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	int lineno = st->lineno;
	const struct option_desc *d = NULL;
	char err[256], key[64];
	bool b, *flag;

	if (!strcmp(section, "timeouts")) {
		snprintf(key, sizeof(key), "timeout-%s", name);
		d = option_by_name(key);
	} else if (!strcmp(section, "nat") || !*section) {
		d = option_by_name(name);
		if (d && (d->ctx & CTX_NO_FILE))
			d = NULL;
	} else {
		fc_err("%s:%d: unknown section [%s]", st->path, lineno, section);
		st->failed = 1;
		return 0;
	}
	if (!d) {
		fc_err("%s:%d: unknown key '%s' in [%s]", st->path, lineno, name, section);
		st->failed = 1;
		return 0;
	}
	if (!d->arg) {	/* flags take a boolean */
		if (parse_bool(value, &b)) {
			fc_err("%s:%d: %s: expected true or false, got '%s'", st->path, lineno, name, value);
			st->failed = 1;
			return 0;
		}
		flag = option_flag(st->o, d->id);
		if (flag)
			*flag = b;
		return 1;
	}
	if (d->id == OPT_PORTS)
		st->o->nr_port_ranges = 0;	/* the file's list replaces the default */
	if (d->id == OPT_TCP_PORTS || d->id == OPT_UDP_PORTS || d->id == OPT_ICMP_IDS)
		memset(&st->o->proto_ports[d->id == OPT_TCP_PORTS ? FC_SUB_TCP :
					   d->id == OPT_UDP_PORTS ? FC_SUB_UDP : FC_SUB_ICMP], 0,
		       sizeof(st->o->proto_ports[0]));
	if (apply_setting(st->o, d->id, value, err, sizeof(err))) {
		fc_err("%s:%d: %s: %s", st->path, lineno, name, err);
		st->failed = 1;
		return 0;
	}
	return 1;
}

static int load_config_file(const char *path, struct fc_options *o)
{
	struct ini_state st = { .o = o, .path = path };
	int ret;

	/* einat's -c takes its TOML: read it converted (import_einat.py). */
	bool toml = import_einat_is_toml(path);

	st.file = toml ? import_einat_open(path) : fopen(path, "r");
	if (!st.file) {
		fc_err("cannot open config file %s: %s", path, strerror(errno));
		return -1;
	}
	ret = ini_parse_stream(ini_read_line, &st, ini_setting, &st);
	if (toml ? import_einat_close(st.file) : fclose(st.file)) {
		if (toml)	/* the converter said why */
			return -1;
	}
	if (ret > 0 && !st.failed)
		fc_err("%s:%d: syntax error", path, ret);
	return ret || st.failed ? -1 : 0;
}

/* Values following a multi-value option up to the next option. */
static int take_more_values(int argc, char **argv, struct fc_options *o, int id,
			    char *err, size_t errlen)
{
	while (optind < argc && argv[optind][0] != '-') {
		if (apply_setting(o, id, argv[optind], err, errlen))
			return -1;
		optind++;
	}
	return 0;
}

/* "show mappings", "show sessions", "stats": how many words they take. */
static int parse_command(int argc, char **argv, struct fc_options *o)
{
	if (argc < 2)
		return 0;
	if (!strcmp(argv[1], "stats")) {
		o->cmd = FC_CMD_STATS;
		return 1;
	}
	if (!strcmp(argv[1], "lookup")) {
		unsigned int port;

		o->cmd = FC_CMD_LOOKUP;
		if (argc < 3 || argv[2][0] == '-') {
			fprintf(stderr, "fcnat: error: 'lookup' needs an internal address, or an "
				"external address and port\n");
			return -1;
		}
		snprintf(o->lookup_addr, sizeof(o->lookup_addr), "%s", argv[2]);
		if (argc < 4 || argv[3][0] == '-')
			return 2;
		if (parse_uint(argv[3], 0, 65535, &port)) {
			fprintf(stderr, "fcnat: error: lookup: invalid port '%s': expected 0 to 65535\n",
				argv[3]);
			return -1;
		}
		o->lookup_port = port;
		return 3;
	}
	if (strcmp(argv[1], "show"))
		return 0;
	if (argc < 3) {
		fprintf(stderr, "fcnat: error: 'show' needs what to show: mappings, sessions or "
			"subscribers\n");
		return -1;
	}
	if (!strcmp(argv[2], "mappings"))
		o->cmd = FC_CMD_SHOW_MAPPINGS;
	else if (!strcmp(argv[2], "sessions"))
		o->cmd = FC_CMD_SHOW_SESSIONS;
	else if (!strcmp(argv[2], "subscribers"))
		o->cmd = FC_CMD_SHOW_SUBSCRIBERS;
	else if (!strcmp(argv[2], "sync"))
		o->cmd = FC_CMD_SHOW_SYNC;
	else {
		fprintf(stderr, "fcnat: error: cannot show '%s': expected mappings, sessions or "
			"subscribers\n", argv[2]);
		return -1;
	}
	return 2;
}

enum fc_parse_result options_parse(int argc, char **argv, struct fc_options *o)
{
	struct option longopts[fc_nr_options + 1];
	char shortopts[32] = "+:";	/* +: values of --ports stay in order; :: report missing values */
	bool ports_on_cli = false, lists_on_cli[3] = { false, false, false };
	bool proto_on_cli[FC_SUB_PROTOS] = { false, false, false };
	char err[256];
	int c, skip, mode;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < fc_nr_options; i++) {
		const struct option_desc *d = &fc_option_table[i];

		longopts[i].name = d->name;
		longopts[i].has_arg = !d->arg ? no_argument :
				      d->arg[0] == '[' ? optional_argument : required_argument;
		longopts[i].val = d->id;
		if (d->id < 256) {
			size_t n = strlen(shortopts);

			shortopts[n] = d->id;
			if (d->arg)
				shortopts[++n] = ':';
			shortopts[n + 1] = '\0';
		}
	}

	/* The configuration file first, so that the command line wins. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *path = NULL;

		if ((!strcmp(a, "-c") || !strcmp(a, "--config") || !strcmp(a, "--check-config")) &&
		    i + 1 < argc)
			path = argv[i + 1];
		else if (!strncmp(a, "--config=", 9))
			path = a + 9;
		else if (!strncmp(a, "--check-config=", 15))
			path = a + 15;
		else if (!strncmp(a, "-c", 2) && a[2])
			path = a + 2;
		if (path) {
			snprintf(o->config_path, sizeof(o->config_path), "%s", path);
			if (load_config_file(path, o))
				return FC_OPTS_USAGE;
			break;
		}
	}

	skip = parse_command(argc, argv, o);
	if (skip < 0)
		goto usage;
	/* lookup takes the daemon's options (the plan is in them) and --json. */
	mode = o->cmd == FC_CMD_RUN || o->cmd == FC_CMD_LOOKUP ? CTX_RUN : CTX_SHOW;
	/* getopt sees the command's last word as its argv[0]. */
	argc -= skip;
	argv += skip;

	opterr = 0;
	optind = 0;	/* glibc: start afresh, so a reload can parse again */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct option_desc *d = option_by_id(c);
		bool *flag;

		if (d && !(d->ctx & mode) && !(o->cmd == FC_CMD_LOOKUP && c == OPT_JSON)) {
			fprintf(stderr, "fcnat: error: option '--%s' does not apply to '%s'\n",
				d->name, o->cmd == FC_CMD_LOOKUP ? "fcnat lookup" :
				skip == 1 ? "fcnat stats" : "fcnat show");
			goto usage;
		}
		flag = option_flag(o, c);
		if (flag) {
			*flag = true;
			continue;
		}
		switch (c) {
		case OPT_HELP:
			options_usage(stdout);
			return FC_OPTS_EXIT_OK;
		case OPT_VERSION:
			printf("fcnat %s (layout %d)\n", FCNAT_VERSION, FC_LAYOUT_VERSION);
			return FC_OPTS_EXIT_OK;
		case OPT_CONFIG:
			break;	/* read above */
		case OPT_NAT64:
			/* --nat64, --nat64=PREFIX or --nat64 PREFIX */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			if (set_nat64(o, optarg ? optarg : FC_NAT64_PREFIX_DEFAULT, err, sizeof(err)))
				goto bad;
			break;
		case OPT_DETACH:
			o->cmd = FC_CMD_DETACH;
			break;
		case OPT_CHECK_CONFIG:
			o->cmd = FC_CMD_CHECK_CONFIG;	/* the file was read above */
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_PORTS:
			if (!ports_on_cli) {	/* the command line replaces the list */
				o->nr_port_ranges = 0;
				ports_on_cli = true;
			}
			/* fallthrough */
		case OPT_TCP_PORTS:
		case OPT_UDP_PORTS:
		case OPT_ICMP_IDS:
			if (c == OPT_TCP_PORTS || c == OPT_UDP_PORTS || c == OPT_ICMP_IDS) {
				int ps = c == OPT_TCP_PORTS ? FC_SUB_TCP :
					 c == OPT_UDP_PORTS ? FC_SUB_UDP : FC_SUB_ICMP;

				if (!proto_on_cli[ps]) {
					memset(&o->proto_ports[ps], 0, sizeof(o->proto_ports[ps]));
					proto_on_cli[ps] = true;
				}
			}
			/* fallthrough */
		case OPT_POOL:
		case OPT_INTERNAL:
		case OPT_INTERNAL_PREFIX:
		case OPT_EXCLUDE:
			if (c == OPT_POOL || c == OPT_INTERNAL_PREFIX || c == OPT_EXCLUDE ||
			    (c == OPT_INTERNAL && (o->cmd == FC_CMD_RUN || o->cmd == FC_CMD_CHECK_CONFIG ||
						   o->cmd == FC_CMD_LOOKUP))) {
				/* The command line's list replaces the file's. */
				int l = c == OPT_POOL ? 0 : c == OPT_EXCLUDE ? 2 : 1;

				if (!lists_on_cli[l]) {
					*(l == 0 ? &o->cgnat.nr_pool : l == 1 ? &o->cgnat.nr_internal
									    : &o->cgnat.nr_exclude) = 0;
					lists_on_cli[l] = true;
				}
			}
			/* fallthrough */
		case OPT_HAIRPIN_IF:
		case OPT_NAT64_ALLOW:
		case OPT_NAT64_STATIC:
		case OPT_FORWARD:
		case OPT_PCP_IF:
		case OPT_UPNP_IF:
		case OPT_PCP_ALLOW:
		case OPT_LAN_IF:
			if (c == OPT_INTERNAL && o->cmd != FC_CMD_RUN && o->cmd != FC_CMD_CHECK_CONFIG &&
			    o->cmd != FC_CMD_LOOKUP) {
				if (apply_setting(o, c, optarg, err, sizeof(err)))
					goto bad;
				break;
			}
			if (apply_setting(o, c, optarg, err, sizeof(err)) ||
			    take_more_values(argc, argv, o, c, err, sizeof(err)))
				goto bad;
			break;
		case OPT_SYNC_PEER:
			if (sync_opts_apply(&o->sync, c, optarg, true, err, sizeof(err)))
				goto bad;
			break;
		case '?':
			if (optopt)
				fprintf(stderr, "fcnat: error: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "fcnat: error: unknown option '%s'\n", argv[optind - 1]);
			goto usage;
		case ':':
			fprintf(stderr, "fcnat: error: option '%s' needs a value\n", argv[optind - 1]);
			goto usage;
		default:
			if (apply_setting(o, c, optarg, err, sizeof(err)))
				goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fcnat: error: unexpected argument '%s'\n", argv[optind]);
		goto usage;
	}
	if (!o->nat44 && !o->nat66)
		o->nat44 = true;
	if (mode == CTX_SHOW || o->cmd == FC_CMD_LOOKUP)
		return FC_OPTS_RUN;	/* -i is optional: the only instance is found */
	if (!o->ifname[0]) {
		fprintf(stderr, "fcnat: error: no external interface: use -i/--ifname or a config file\n");
		goto usage;
	}
	if (forwards_check(o, err, sizeof(err)) ||
	    nat64_pool_check(&o->nat64pool, o->nat64, err, sizeof(err)))
		goto bad;
	if (o->pcp.min_lifetime > o->pcp.max_lifetime) {
		snprintf(err, sizeof(err), "--pcp-min-lifetime %u is above --pcp-max-lifetime %u",
			 o->pcp.min_lifetime, o->pcp.max_lifetime);
		goto bad;
	}
	for (unsigned int i = 0; i < o->pcp.nr_ifs; i++) {
		if (!strcmp(o->pcp.ifs[i], o->ifname)) {
			snprintf(err, sizeof(err), "--pcp-if: %s is the external interface", o->ifname);
			goto bad;
		}
	}
	for (unsigned int i = 0; i < o->pcp.nr_upnp_ifs; i++) {
		if (!strcmp(o->pcp.upnp_ifs[i], o->ifname)) {
			snprintf(err, sizeof(err), "--upnp-if: %s is the external interface", o->ifname);
			goto bad;
		}
	}
	if ((o->sync.nr_peers || o->sync.listen[0] || o->sync.key_path[0]) &&
	    !(o->sync.nr_peers && o->sync.listen[0] && o->sync.key_path[0])) {
		snprintf(err, sizeof(err), "HA state sync needs all of --sync-peer, --sync-listen "
			 "and --sync-key");
		goto bad;
	}
	if (o->mode == FC_MODE_XDP && !o->nr_internal_ifs && o->cmd == FC_CMD_RUN) {
		fprintf(stderr, "fcnat: error: --mode xdp needs the internal interfaces: "
			"--lan-if <name> ...\n");
		goto usage;
	}
	if (o->cgnat.nr_pool) {
		static __be32 addrs[FC_POOL_MAX];

		if (pool_addresses(&o->cgnat, addrs, FC_POOL_MAX) < 0) {
			snprintf(err, sizeof(err), "--pool: more than %d addresses", FC_POOL_MAX);
			goto bad;
		}
	}
	if (port_blocks_check(o, err, sizeof(err)) || ports_check(o, err, sizeof(err)) ||
	    nat64_pool_vs_pool_check(o, err, sizeof(err)))
		goto bad;
	if (o->cgnat.det_on) {
		static struct fc_det_plan plan;

		if (det_plan(o, &plan, err, sizeof(err)))
			goto bad;
	}
	for (int t = 0; t < FC_TIMEOUT_MAX; t++)
		if (o->timeout_s[t] < timeout_min_s[t])
			fc_warn("%s timeout %us is below the RFC minimum of %us",
				timeout_name[t], o->timeout_s[t], timeout_min_s[t]);
	return FC_OPTS_RUN;

bad:
	fprintf(stderr, "fcnat: error: %s\n", err);
usage:
	fprintf(stderr, "Try 'fcnat --help' for more information.\n");
	return FC_OPTS_USAGE;
}
