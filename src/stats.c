// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "stats.h"

static const char *const stat_names[FC_STAT_MAX] = {
	[FC_STAT_OUT_TRANSLATED] = "translated_out",
	[FC_STAT_IN_TRANSLATED] = "translated_in",
	[FC_STAT_MAPPING_CREATED] = "mappings_created",
	[FC_STAT_SESSION_CREATED] = "sessions_created",
	[FC_STAT_PASS_NOT_IPV4] = "pass_not_ipv4",
	[FC_STAT_PASS_NOT_OURS] = "pass_not_ours",
	[FC_STAT_PASS_OUT_OF_RANGE] = "pass_port_out_of_range",
	[FC_STAT_PASS_PROTO] = "pass_protocol",
	[FC_STAT_DROP_MALFORMED] = "drop_malformed",
	[FC_STAT_DROP_PORTS_EXHAUSTED] = "drop_ports_exhausted",
	[FC_STAT_DROP_TABLE_FULL] = "drop_table_full",
	[FC_STAT_DROP_UNSUPPORTED_PROTO] = "drop_unsupported_protocol",
	[FC_STAT_DROP_FRAGMENT] = "drop_fragment",
	[FC_STAT_DROP_ICMP_UNSUPPORTED] = "drop_icmp_unsupported",
	[FC_STAT_DROP_NO_EXT_ADDR] = "drop_no_external_address",
	[FC_STAT_ICMP_ERROR_TRANSLATED] = "icmp_errors_translated",
	[FC_STAT_DROP_ICMP_NO_MAPPING] = "drop_icmp_error_no_mapping",
	[FC_STAT_DROP_UNSOLICITED] = "drop_unsolicited",
	[FC_STAT_TCP_RST_IGNORED] = "tcp_rst_out_of_window",
	[FC_STAT_FRAGMENT_TRANSLATED] = "fragments_translated",
	[FC_STAT_PASS_FRAGMENT] = "pass_fragment_unknown",
	[FC_STAT_FRAGMENT_HELD] = "fragments_held",
	[FC_STAT_FRAGMENT_REINJECTED] = "fragments_reinjected",
	[FC_STAT_DROP_FRAGMENT_HOLD] = "fragments_not_held",
	[FC_STAT_HAIRPIN_TRANSLATED] = "hairpin_translated",
	[FC_STAT_HAIRPIN_TO_GATEWAY] = "hairpin_to_gateway",
	[FC_STAT_DROP_HAIRPIN_NO_ROUTE] = "drop_hairpin_no_route",
	[FC_STAT_EVENTS_LOST] = "events_lost",
	[FC_STAT_FAST_REDIRECTED] = "fast_redirected",
	[FC_STAT_FAST_PASS_NOT_IPV4] = "fast_pass_not_ipv4",
	[FC_STAT_FAST_PASS_NOT_NAT] = "fast_pass_not_nat",
	[FC_STAT_FAST_PASS_SLOW_PATH] = "fast_pass_slow_path",
	[FC_STAT_FAST_PASS_TO_GATEWAY] = "fast_pass_to_gateway",
	[FC_STAT_FAST_PASS_TTL] = "fast_pass_ttl",
	[FC_STAT_FAST_PASS_NO_NEIGH] = "fast_pass_no_neighbour",
	[FC_STAT_FAST_PASS_MTU] = "fast_pass_mtu",
	[FC_STAT_FAST_PASS_GSO_MTU] = "fast_pass_gso_mtu",
	[FC_STAT_FAST_PASS_NO_ROUTE] = "fast_pass_no_route",
	[FC_STAT_FAST_PASS_UNMANAGED_IF] = "fast_pass_unmanaged_interface",
	[FC_STAT_FAST_FIB_LOOKUP] = "fast_fib_lookups",
	[FC_STAT_PASS_IPV6_LINK] = "pass_ipv6_link_local",
	[FC_STAT_DROP_SUBSCRIBER_LIMIT] = "drop_subscriber_limit",
	[FC_STAT_REFUSED_ICMP_SENT] = "refused_icmp_sent",
	[FC_STAT_REFUSED_ICMP_RATELIMITED] = "refused_icmp_ratelimited",
	[FC_STAT_PASS_OUT_OF_SCOPE] = "pass_source_out_of_scope",
	[FC_STAT_PASS_EXCLUDED] = "pass_destination_excluded",
	[FC_STAT_DROP_POOL_UNMAPPED] = "drop_pool_unmapped",
	[FC_STAT_NAT64_OUT] = "nat64_translated_out",
	[FC_STAT_NAT64_IN] = "nat64_translated_in",
	[FC_STAT_NAT64_DROP_UNTRANSLATABLE] = "nat64_drop_untranslatable",
	[FC_STAT_NAT64_DROP_NO_ROOM] = "nat64_drop_no_room",
	[FC_STAT_NAT64_DROP_NO_ROUTE] = "nat64_drop_no_route",
	[FC_STAT_NAT64_DROP_TO_GATEWAY] = "nat64_drop_to_gateway",
	[FC_STAT_NAT64_DROP_MTU] = "nat64_drop_mtu",
	[FC_STAT_NAT64_DROP_FRAGMENT] = "nat64_drop_fragment",
	[FC_STAT_NAT64_PASS_HOP_LIMIT] = "nat64_pass_hop_limit",
	[FC_STAT_DROP_NOT_DETERMINISTIC] = "drop_not_deterministic",
	[FC_STAT_PORT_BLOCK_ALLOC] = "port_blocks_allocated",
	[FC_STAT_PORT_BLOCK_FREED] = "port_blocks_freed",
	[FC_STAT_DROP_PORT_BLOCK_LIMIT] = "drop_port_block_limit",
	[FC_STAT_NAT64_DROP_MTU_DF_CLEAR] = "nat64_drop_mtu_df_clear",
	[FC_STAT_NAT64_FRAG_NEEDED_SENT] = "nat64_frag_needed_sent",
	[FC_STAT_NAT64_PTB_SENT] = "nat64_packet_too_big_sent",
	[FC_STAT_NAT64_ICMP_RATELIMITED] = "nat64_icmp_ratelimited",
	[FC_STAT_NAT64_SPLIT] = "nat64_split",
	[FC_STAT_HAIRPIN_TIME_EXCEEDED] = "hairpin_time_exceeded_sent",
	[FC_STAT_NAT64_DISCARD_ICMP_SENT] = "nat64_discard_icmp_sent",
	[FC_STAT_NAT64_DROP_TTL] = "nat64_drop_ttl",
	[FC_STAT_NAT64_POOL_MAPPED] = "nat64_pool_mapped",
	[FC_STAT_NAT64_POOL_EXHAUSTED] = "nat64_pool_exhausted",
	[FC_STAT_NAT64_DROP_NOT_ALLOWED] = "nat64_drop_not_allowed",
	[FC_STAT_NAT64_DROP_UDP_ZERO_CSUM] = "nat64_drop_udp_zero_checksum",
	[FC_STAT_FAST_NAT64_OUT] = "fast_nat64_out",
	[FC_STAT_FAST_NAT64_IN] = "fast_nat64_in",
};

static const char *const dstat_names[FC_DSTAT_NR] = {
	[FC_DSTAT_RELOADS] = "reloads",
	[FC_DSTAT_ADDR_CHANGES] = "address_changes",
	[FC_DSTAT_FLUSHED_MAPPINGS] = "mappings_flushed",
	[FC_DSTAT_FLUSHED_SESSIONS] = "sessions_flushed",
	[FC_DSTAT_IPFIX_SENT] = "ipfix_messages_sent",
	[FC_DSTAT_IPFIX_DROPPED] = "ipfix_messages_dropped",
	[FC_DSTAT_SYSLOG_DROPPED] = "syslog_records_dropped",
};

const char *dstat_name(enum fc_dstat s)
{
	return s < FC_DSTAT_NR && dstat_names[s] ? dstat_names[s] : "unknown";
}

const char *proto_name(__u8 proto)
{
	switch (proto) {
	case FC_PROTO_TCP: return "tcp";
	case FC_PROTO_UDP: return "udp";
	case FC_PROTO_ICMP: return "icmp";
	default: return "?";
	}
}

const char *stat_name(enum fc_stat s)
{
	return s < FC_STAT_MAX && stat_names[s] ? stat_names[s] : "unknown";
}

int stats_read(int stats_fd, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *percpu;

	if (ncpu <= 0)
		return -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 k = 0; k < FC_STAT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(stats_fd, &k, percpu))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += percpu[c];
	}
	free(percpu);
	return 0;
}

void stats_print(FILE *f, const __u64 *v)
{
	for (int k = 0; k < FC_STAT_MAX; k++)
		if (v[k])
			fprintf(f, "fcnat:   %-28s %llu\n", stat_name(k), (unsigned long long)v[k]);
}
