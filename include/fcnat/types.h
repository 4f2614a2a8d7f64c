/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by the BPF datapath and user space: map keys and values,
 * the run-time configuration and the counters. Everything here is part of
 * the pinned-map layout; change it only together with FC_LAYOUT_VERSION.
 */
#ifndef FCNAT_TYPES_H
#define FCNAT_TYPES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bumped whenever a key, value or map definition below changes shape. */
#define FC_LAYOUT_VERSION 10

/* Address of either family; an IPv4 address lives in v4 with the rest zero,
 * so keys compare equal byte for byte. */
union fc_addr {
	__be32 v4;
	__be32 v6w[4];
	__u8 v6[16];
};

enum fc_family {
	FC_AF_INET = 4,
	FC_AF_INET6 = 6,
};

/* NAT protocol classes: the IP protocol numbers of TCP, UDP and ICMP.
 * ICMPv6 echo is normalised to FC_PROTO_ICMP so NAT64 shares one space. */
enum fc_proto {
	FC_PROTO_ICMP = 1,
	FC_PROTO_TCP = 6,
	FC_PROTO_UDP = 17,
};

/* Which side of the NAT an endpoint key names. */
enum fc_side {
	FC_SIDE_INTERNAL = 0,	/* key: internal endpoint -> value: external */
	FC_SIDE_EXTERNAL = 1,	/* key: external endpoint -> value: internal */
};

/*
 * One endpoint: (protocol, address, port). For ICMP echo the port is the
 * query identifier. The bindings map holds each mapping twice, once per side,
 * so both directions are one hash lookup. The external entry is inserted
 * first with BPF_NOEXIST: that insert is what claims the port.
 *
 * An internal key also names the family of the external port space its
 * mapping is in (ext_family): an IPv6 endpoint may hold a NAT66 mapping and
 * a NAT64 one at once, two entries. An external key's family already is
 * that family; its ext_family is 0.
 */
struct fc_endpoint_key {
	__u8 side;		/* enum fc_side */
	__u8 family;		/* enum fc_family, of this endpoint */
	__u8 proto;		/* enum fc_proto */
	__u8 ext_family;	/* internal side: enum fc_family of the mapping's
				 * external endpoint; external side: 0 */
	__be16 port;
	__u16 pad1;
	union fc_addr addr;
};

enum fc_binding_flags {
	FC_BINDING_STATIC = 1 << 0,	/* configured forward: never expires */
	FC_BINDING_ROUTER = 1 << 1,	/* internal endpoint is the gateway itself */
	FC_BINDING_PCP = 1 << 2,	/* asked for by NAT-PMP/PCP: also STATIC, the daemon
					 * deletes it when its lifetime ends */
	FC_BINDING_COUNTED = 1 << 3,	/* counted in its subscriber's entry: whoever
					 * deletes it releases the count (fc_release) */
	FC_BINDING_UPNP = 1 << 4,	/* with FC_BINDING_PCP: asked for by UPnP IGD
					 * (same table, shown as its origin) */
};

/*
 * The fast path's route cache (bpf/lib/route.h; doc/design/xdp.md, "The
 * route cache"): where the FIB sent a mapping's last packet to or from
 * peer, reused for its next packets to the same peer for FC_HOP_TTL_NS,
 * unless fc_config.route_gen moved on. User space writes it only as zeros (a
 * binding value it writes has an empty hop).
 */
struct fc_hop {
	__u32 seq;		/* odd while a CPU writes the rest */
	__u32 gen;		/* fc_config.route_gen it was found under */
	__u64 expires_ns;
	__be32 peer;		/* the remote end of the packets it is for */
	__u32 in_ifindex;	/* ... received here ... */
	__u32 out_ifindex;	/* ... sent out here ... */
	__u16 ok_len;		/* ... the longest the FIB let through (0: GSO) */
	__u8 dmac[6];		/* ... to this next hop */
	__u8 smac[6];
	/* The session shortcut (bpf/lib/nat4.h, outbound UDP of NAT44): the
	 * session towards (peer, sess_rport) was refreshed until past
	 * sess_until + the timeout, so packets to it before sess_until (in
	 * FC_CLOCK_UNIT_SHIFT units of fc_now(), wrapping; 0: none) need not
	 * look it up. Written outside seq: a torn pair only costs a lookup or
	 * skips one for a session that a concurrent packet is refreshing. */
	__be16 sess_rport;
	__u32 sess_until;
};

#define FC_HOP_TTL_NS	(1000ULL * 1000 * 1000)

struct fc_binding {
	union fc_addr addr;	/* the endpoint on the other side */
	__be16 port;
	__u8 family;
	__u8 flags;		/* enum fc_binding_flags */
	/* FC_BINDING_PCP, internal side: when the granted lifetime ends, in
	 * seconds of the datapath clock (the daemon writes it, `show` reads
	 * it); 0 otherwise. */
	__u32 pcp_expires_s;
	/* Liveness, kept in the internal-side entry only:
	 * last_out_ns:      last outbound packet (datapath writes it),
	 * sessions_until_ns: latest expiry among its sessions (sweeper writes it).
	 * The mapping lives while either is in the future. */
	__u64 last_out_ns;
	__u64 sessions_until_ns;
	/* The route of the mapping's packets: outbound in the internal-side
	 * entry, inbound in the external-side one. */
	struct fc_hop hop;
};

/*
 * A session is one (mapping, remote endpoint) pair, keyed from the external
 * side so that inbound packets find it with the tuple they carry. It drives
 * TCP state and keeps its mapping alive.
 */
struct fc_session_key {
	__u8 family;		/* family of the external side */
	__u8 proto;
	__be16 ext_port;
	__be16 remote_port;
	__u16 pad0;
	union fc_addr ext_addr;
	union fc_addr remote_addr;
};

enum fc_tcp_seen {
	FC_TCP_SYN_OUT = 1 << 0,
	FC_TCP_SYN_IN = 1 << 1,
	FC_TCP_FIN_OUT = 1 << 2,
	FC_TCP_FIN_IN = 1 << 3,
	FC_TCP_RST = 1 << 4,
	FC_TCP_ACK_OUT = 1 << 5,	/* a non-SYN segment went out */
	FC_TCP_ACK_IN = 1 << 6,		/* a non-SYN segment came in */
	FC_TCP_RCV_KNOWN = 1 << 7,	/* rcv_next/rcv_wnd below are set */
};

struct fc_session {
	__u64 expires_ns;	/* CLOCK_MONOTONIC_COARSE (fc_now()) */
	__u32 tcp_seen;		/* enum fc_tcp_seen, updated with atomic or */
	/* The internal host's receive window, from its last ACK: an inbound
	 * RST counts only inside it (RFC 5961 §3, RFC 7857 §2.1). */
	__u32 rcv_next;		/* host order */
	__u32 rcv_wnd;		/* bytes, window scale applied */
	__u8 wscale;		/* the internal host's, from its SYN */
	__u8 pad0[3];
};

/*
 * An inbound fragment train: its non-first fragments carry no ports, so the
 * internal address found from the first fragment is kept here for them.
 */
struct fc_frag_key {
	__u8 family;
	__u8 proto;
	__u16 pad0;
	/* The datagram's identification: IPv4's 16-bit id as read from the
	 * header, widened (the low 16 bits of the value, on either byte
	 * order), IPv6's 32-bit one (fragment header). */
	__be32 frag_id;
	union fc_addr remote;
	union fc_addr ext_addr;
};

struct fc_frag {
	union fc_addr int_addr;
	__u64 expires_ns;
	__u8 int_family;	/* int_addr's: FC_AF_INET6 behind an IPv4 train is NAT64 */
	__u8 pad0[7];
};

/*
 * Carrier-grade NAT state (doc/design/cgnat.md). A subscriber is one
 * internal address of either family (NAT44 now, NAT64 later: the key holds
 * 16 bytes). Its entry is made with its first mapping while a pool or a
 * limit is configured, holds its paired external address and its mapping
 * counts, and is removed by the sweeper once it has had no mapping for two
 * sweeps.
 */
struct fc_subscriber_key {
	__u8 family;		/* enum fc_family */
	__u8 pad0[3];
	union fc_addr addr;
};

/* Per-protocol slots of the counts and limits. */
enum fc_sub_proto {
	FC_SUB_TCP,
	FC_SUB_UDP,
	FC_SUB_ICMP,
	FC_SUB_PROTOS,
};

/* Port blocks one subscriber may hold at most (--max-port-blocks). */
#define FC_MAX_PORT_BLOCKS 32

struct fc_subscriber {
	__be32 ext_addr4;	/* paired pool address (0: not chosen yet) */
	__u32 flags;		/* none yet */
	/* Live mappings with FC_BINDING_COUNTED: the datapath adds with an
	 * atomic, the sweeper takes away through fc_release (compare-and-swap,
	 * clamped at 0). */
	__u32 mappings[FC_SUB_PROTOS];
	/* Port blocks (FC_CFG_PORT_BLOCKS): how many it holds or is taking
	 * (reserved with an atomic add before a block is looked for), and
	 * which, as block index + 1 in any slot (0: free; set and cleared
	 * with compare-and-swap). */
	__u32 port_blocks;
	__u64 refused;		/* new flows refused at the limit */
	__u64 first_ns;		/* when the entry was made (CLOCK_MONOTONIC_COARSE) */
	__u32 blocks[FC_MAX_PORT_BLOCKS];
};

/*
 * A port block (RFC 7753 style): ports [first + index * size, + size - 1]
 * of one external address, held by one subscriber. Claimed with a
 * BPF_NOEXIST insert; freed by the sweeper (fc_block_free) once no mapping
 * uses it.
 */
struct fc_block_key {
	__be32 ext_addr4;
	__u32 index;
};

struct fc_block {
	struct fc_subscriber_key owner;
	__u64 alloc_ns;
};

/* What the sweeper asks of fc_block_free (BPF_PROG_TEST_RUN ctx). */
struct fc_block_free_args {
	struct fc_block_key key;
	__u64 now_ns;		/* the sweeper's clock: blocks younger than 1 s stay */
	__u32 result;		/* out: enum fc_block_free_result */
	__u32 pad0;
};

enum fc_block_free_result {
	FC_BLOCK_FREED = 1,
	FC_BLOCK_IN_USE = 2,	/* a mapping uses one of its ports */
	FC_BLOCK_BUSY = 3,	/* not (yet, or any more) in its owner's slots */
	FC_BLOCK_GONE = 4,	/* no such block */
};

/* Prefixes of the internal scope and the excluded destinations, one LPM
 * trie: prefixlen counts the kind, family and pad bytes too (32 bits). */
enum fc_scope_kind {
	FC_SCOPE_INTERNAL = 1,	/* --internal-prefix: sources that are translated */
	FC_SCOPE_EXCLUDE = 2,	/* --exclude: destinations that are not */
};

struct fc_scope_key {
	__u32 prefixlen;	/* 32 + the prefix length */
	__u8 kind;		/* enum fc_scope_kind */
	__u8 family;
	__u16 pad0;
	union fc_addr addr;
};

#define FC_SCOPE_KEY_BITS 32	/* kind, family, pad0 */
#define FC_POOL_MAX 4096	/* external addresses in the pool */
#define FC_SCOPE_MAX 1024	/* internal and excluded prefixes together */

/* What user space asks of the fc_release program (BPF_PROG_TEST_RUN, ctx):
 * add delta to one protocol's count of a subscriber, never going below 0. */
struct fc_release_args {
	struct fc_subscriber_key key;
	__u8 proto;		/* enum fc_proto */
	__u8 pad0[3];
	__s32 delta;
	__u32 result;		/* out: the count after the change */
};


/*
 * What the datapath (and the sweeper) report: the NAT event log (RFC 6888
 * REQ-12), read from the fc_events ring buffer and written as text, syslog
 * lines and IPFIX records (RFC 8158, doc/design/event-log.md).
 */
enum fc_event_type {
	FC_EVENT_MAPPING_CREATE = 1,	/* a mapping (BIB entry) was made */
	FC_EVENT_MAPPING_DELETE = 2,	/* ... and removed */
	FC_EVENT_BLOCK_ALLOC = 3,	/* ports [ext_port, ext_port_last] of ext_addr given to int_addr */
	FC_EVENT_BLOCK_FREE = 4,	/* ... and taken back */
	FC_EVENT_QUOTA_EXCEEDED = 5,	/* a limit (quota, limit) refused a new mapping */
	FC_EVENT_PORTS_EXHAUSTED = 6,	/* no free port of proto on ext_addr */
};

/* Which limit a FC_EVENT_QUOTA_EXCEEDED hit: the values of RFC 8158's
 * natQuotaExceededEvent, so they go to IPFIX unchanged. */
enum fc_quota {
	FC_QUOTA_SESSIONS = 1,		/* the session table */
	FC_QUOTA_MAPPINGS = 2,		/* the mapping (BIB) table */
	FC_QUOTA_PER_SUBSCRIBER = 3,	/* mappings of one internal address (int_addr) */
};

struct fc_event {
	__u64 time_ns;		/* CLOCK_MONOTONIC_COARSE; 0: when user space reads it */
	__u8 type;		/* enum fc_event_type */
	__u8 family;		/* of the internal side (int_addr) */
	__u8 proto;		/* enum fc_proto; 0 if the event has none */
	__u8 flags;		/* enum fc_binding_flags */
	__be16 int_port;
	__be16 ext_port;	/* mapping: the external port; block: its first port */
	union fc_addr int_addr;
	union fc_addr ext_addr;
	__be16 ext_port_last;	/* block: its last port */
	__u8 ext_family;	/* of the external side (ext_addr) */
	__u8 quota;		/* QUOTA_EXCEEDED: enum fc_quota */
	__u32 limit;		/* QUOTA_EXCEEDED: the limit that was reached */
};

enum fc_timeout {
	FC_TIMEOUT_UDP,
	FC_TIMEOUT_ICMP,
	FC_TIMEOUT_TCP_EST,
	FC_TIMEOUT_TCP_TRANS,
	FC_TIMEOUT_MAX,
};

#define FC_MAX_PORT_RANGES 8

/* Inclusive, host byte order. */
struct fc_port_range {
	__u16 first;
	__u16 last;
};

/* One protocol's external ports (ICMP: query identifiers): nr ranges,
 * total ports in them. nr 0: the protocol is not translated at all but
 * left to the stack (einat's empty tcp_ranges: "mixed NAT", where nftables
 * masquerade takes it). */
struct fc_port_set {
	__u32 nr;
	__u32 total;
	struct fc_port_range r[FC_MAX_PORT_RANGES];
};

enum fc_config_flags {
	FC_CFG_NAT44 = 1 << 0,
	FC_CFG_NAT66 = 1 << 1,
	FC_CFG_NAT64 = 1 << 2,
	FC_CFG_PRESERVE_LOW_PORTS = 1 << 3,	/* keep ports < 1024 if in range */
	FC_CFG_HAIRPIN_LO = 1 << 4,	/* hairpinning on lo: accept_local is set there */
	FC_CFG_EVENTS = 1 << 5,		/* report mapping creation in fc_events */
	FC_CFG_SUBSCRIBERS = 1 << 6,	/* keep fc_subscribers (a pool or a limit is set) */
	FC_CFG_SCOPE = 1 << 7,		/* only sources in the internal prefixes are translated */
	FC_CFG_EXCLUDE = 1 << 8,	/* destinations in excluded prefixes are not */
	FC_CFG_DETERMINISTIC = 1 << 9,	/* deterministic NAT (RFC 7422): det_* below */
	FC_CFG_PORT_BLOCKS = 1 << 10,	/* port-block allocation: block_* below */
	/* NAT64 address mapping (include/fcnat/nat64_pool.h): */
	FC_CFG_NAT64_ADDRMAP = 1 << 11,	/* look IPv6 sources and IPv4 destinations up in
					 * fc_p64_out/fc_p64_in (a pool or static entries) */
	FC_CFG_NAT64_POOL4 = 1 << 12,	/* allocate from nat64_pool4/len for other sources */
	FC_CFG_NAT64_ALLOW = 1 << 13,	/* only sources in fc_p64_allow are translated */
	/* RFC 7915 §4.5: whole IPv4 UDP datagrams without checksum dropped
	 * (--nat64-udp-zero-checksum drop), not given one. */
	FC_CFG_NAT64_UDP0_DROP = 1 << 14,
};

/* struct fc_config nat64_tos: the field is overridden, not copied. */
#define FC_NAT64_TOS_SET	0x100

/* Any translation at all: a configuration without these passes everything. */
#define FC_CFG_NAT_ANY (FC_CFG_NAT44 | FC_CFG_NAT66 | FC_CFG_NAT64)

/* Run-time configuration: element 0 of the config array map. User space
 * rewrites it on address change or reload; programs never cache it. */
struct fc_config {
	__u32 flags;		/* enum fc_config_flags */
	__u32 log_level;	/* 0 = off ... 5 = trace (bpf_printk) */
	__be32 ext_addr4;	/* 0: no external address, translate nothing */
	/* External ports per protocol, indexed by fc_proto_slot() (FC_SUB_*);
	 * port blocks and deterministic NAT have one range, the same for all. */
	struct fc_port_set ports[FC_SUB_PROTOS];
	/* NAT64 (RFC 7915 §4.1, §5.1): 0, the TOS and traffic class copied;
	 * FC_NAT64_TOS_SET | tos: IPv4 packets leave with that TOS, IPv6
	 * ones with traffic class 0 (--nat64-tos). */
	__u32 nat64_tos;
	__u64 timeout_ns[FC_TIMEOUT_MAX];
	/* NAT66: the external interface's global IPv6 address; all zero:
	 * none, translate no IPv6. */
	union fc_addr ext_addr6;
	/* NAT64 (FC_CFG_NAT64): the RFC 6052 prefix IPv4 hosts are seen under
	 * from the IPv6 side, its length one of 32, 40, 48, 56, 64, 96; the
	 * bits past the length are zero. */
	__u8 nat64_prefix[16];
	__u32 nat64_prefix_len;
	/* Carrier-grade NAT (doc/design/cgnat.md). */
	__u32 nr_pool;		/* addresses in fc_pool; 0: ext_addr4 for everyone */
	__u32 sub_limit[FC_SUB_PROTOS];	/* mappings per subscriber, 0 = no limit */
	__u32 refuse_icmp_rate;	/* ICMP errors for refused flows, per second and CPU;
				 * 0: refuse silently */
	/* Deterministic NAT (FC_CFG_DETERMINISTIC, doc/design/cgnat.md): the
	 * i-th address of the internal prefix det_base/len (det_count
	 * addresses) uses pool address fc_pool[i % nr_pool] and the det_ports
	 * ports from det_first + (i / nr_pool) * det_ports on. */
	__be32 det_base;
	__u32 det_count;
	__u32 det_ports;	/* ports per subscriber, >= 1 */
	__u32 det_first;	/* first port of the (single) port range */
	/* Port blocks (FC_CFG_PORT_BLOCKS): block_count blocks of block_size
	 * ports per external address from ports[FC_SUB_TCP].r[0].first on; a
	 * subscriber holds up to block_max of them. */
	__u32 block_size;
	__u32 block_count;
	__u32 block_max;
	/* Moved on by user space when a route or link changes: every hop
	 * cached under another value is stale (struct fc_hop). */
	__u32 route_gen;
	/* NAT64 address mapping (FC_CFG_NAT64_POOL4): the IPv4 prefix hosts
	 * are mapped onto (len 16..32, host bits zero), and how long a
	 * dynamic mapping lives unused. */
	__be32 nat64_pool4;
	__u32 nat64_pool4_len;
	__u64 nat64_pool_timeout_ns;
	/* NAT64 (RFC 7915 §4.1): lowest-ipv6-mtu, 1280..65535
	 * (--nat64-lowest-mtu; 0 means 1280): a DF-clear IPv4 packet larger
	 * than this as IPv6 is split into fragments of at most this. */
	__u32 nat64_lowest_mtu;
	__u32 pad0;
	/* How long a fragment that came before its first fragment is held
	 * (RFC 6146 §3.4 FRAGMENT_MIN; --fragment-hold; 0 means 2 s). */
	__u64 frag_hold_ns;
};

/* Counters, one per-CPU slot each; the string table is in src/stats.c.
 * Every packet that is not translated is counted under why. */
enum fc_stat {
	FC_STAT_OUT_TRANSLATED,
	FC_STAT_IN_TRANSLATED,
	FC_STAT_MAPPING_CREATED,
	FC_STAT_SESSION_CREATED,
	FC_STAT_PASS_NOT_IPV4,
	FC_STAT_PASS_NOT_OURS,		/* not to/from our external address */
	FC_STAT_PASS_OUT_OF_RANGE,	/* external port outside the ranges */
	FC_STAT_PASS_PROTO,		/* protocol we leave to the stack (or whose
					 * NAT is off: no port range) */
	FC_STAT_DROP_MALFORMED,
	FC_STAT_DROP_PORTS_EXHAUSTED,
	FC_STAT_DROP_TABLE_FULL,
	FC_STAT_DROP_UNSUPPORTED_PROTO,	/* internal source, no translation */
	FC_STAT_DROP_FRAGMENT,		/* non-first fragment from inside */
	FC_STAT_DROP_ICMP_UNSUPPORTED,	/* internal ICMP we cannot translate */
	FC_STAT_DROP_NO_EXT_ADDR,	/* internal source, no external address */
	FC_STAT_ICMP_ERROR_TRANSLATED,	/* quote rewritten, either way */
	FC_STAT_DROP_ICMP_NO_MAPPING,	/* ICMP error about no flow of ours */
	FC_STAT_DROP_UNSOLICITED,	/* inbound to a port of the range, no live mapping */
	FC_STAT_TCP_RST_IGNORED,	/* inbound RST outside the window: state kept */
	FC_STAT_FRAGMENT_TRANSLATED,	/* non-first fragment */
	FC_STAT_PASS_FRAGMENT,		/* inbound non-first fragment, no known train */
	FC_STAT_FRAGMENT_HELD,		/* copy kept until its first fragment comes */
	FC_STAT_FRAGMENT_REINJECTED,	/* held copy sent on after its first fragment */
	FC_STAT_DROP_FRAGMENT_HOLD,	/* could not hold: too big, train too long, full */
	FC_STAT_HAIRPIN_TRANSLATED,	/* inside to a mapping, turned around */
	FC_STAT_HAIRPIN_TO_GATEWAY,	/* inside answering the gateway through its mapping */
	FC_STAT_DROP_HAIRPIN_NO_ROUTE,	/* no usable route to the mapped host */
	FC_STAT_EVENTS_LOST,		/* fc_events ring buffer full */
	/* The fast path (XDP, and TC mode with --lan-if): translated and
	 * sent straight out, or left to the stack (and the TC programs)
	 * because: */
	FC_STAT_FAST_REDIRECTED,	/* translated and redirected by the fast path */
	FC_STAT_FAST_PASS_NOT_IPV4,	/* not IPv4 */
	FC_STAT_FAST_PASS_NOT_NAT,	/* not a NAT flow: other destination or egress */
	FC_STAT_FAST_PASS_SLOW_PATH,	/* fragment, ICMP error, malformed, other protocol, marked */
	FC_STAT_FAST_PASS_TO_GATEWAY,	/* for the gateway itself (port outside the range, local route) */
	FC_STAT_FAST_PASS_TTL,		/* TTL expires here: the stack sends time exceeded */
	FC_STAT_FAST_PASS_NO_NEIGH,	/* next hop's MAC not known yet: the stack resolves it */
	FC_STAT_FAST_PASS_MTU,		/* too big for the egress: fragment or frag-needed */
	FC_STAT_FAST_PASS_GSO_MTU,	/* GSO packet whose segments are too big for the egress */
	FC_STAT_FAST_PASS_NO_ROUTE,	/* FIB: unreachable, blackhole, forwarding off */
	FC_STAT_FAST_PASS_UNMANAGED_IF,	/* egress is not an interface fcnat sends to */
	FC_STAT_FAST_FIB_LOOKUP,	/* route from the FIB, not a mapping's cached hop */
	/* NAT66: IPv6 that is never translated: link-local or multicast
	 * addresses, neighbour discovery, MLD, router renumbering. */
	FC_STAT_PASS_IPV6_LINK,
	/* Carrier-grade NAT. */
	FC_STAT_DROP_SUBSCRIBER_LIMIT,	/* new flow refused: the subscriber is at its limit */
	FC_STAT_REFUSED_ICMP_SENT,	/* refused flow answered with ICMP admin-prohibited */
	FC_STAT_REFUSED_ICMP_RATELIMITED,	/* ... not answered: over the rate */
	FC_STAT_PASS_OUT_OF_SCOPE,	/* source outside the internal prefixes */
	FC_STAT_PASS_EXCLUDED,		/* destination in an excluded prefix */
	FC_STAT_DROP_POOL_UNMAPPED,	/* to a pool address, nothing of ours */
	/* NAT64 (RFC 6146): translated either way (ICMP errors are also
	 * counted as icmp_errors_translated, non-first fragments either
	 * way as fragments_translated), or refused: */
	FC_STAT_NAT64_OUT,		/* IPv6 -> IPv4, sent out */
	FC_STAT_NAT64_IN,		/* IPv4 -> IPv6, to the stack */
	FC_STAT_NAT64_DROP_UNTRANSLATABLE, /* RFC 7915 says no (type, header, source scope) */
	FC_STAT_NAT64_DROP_NO_ROOM,	/* resizing the packet failed */
	FC_STAT_NAT64_DROP_NO_ROUTE,	/* no IPv4 route for the translated packet */
	FC_STAT_NAT64_DROP_TO_GATEWAY,	/* IPv4 destination is the gateway itself */
	FC_STAT_NAT64_DROP_MTU,		/* translated packet too big for the IPv4 egress */
	FC_STAT_NAT64_DROP_FRAGMENT,	/* 4->6 fragment the layer refuses (ICMP, UDP without checksum) */
	FC_STAT_NAT64_PASS_HOP_LIMIT,	/* hop limit expires here: the stack's */
	FC_STAT_DROP_NOT_DETERMINISTIC,	/* deterministic NAT: source outside its prefix */
	FC_STAT_PORT_BLOCK_ALLOC,	/* port block given to a subscriber */
	FC_STAT_PORT_BLOCK_FREED,	/* ... and taken back by the sweeper */
	FC_STAT_DROP_PORT_BLOCK_LIMIT,	/* new flow refused: its blocks full, at --max-port-blocks */
	/* NAT64 too big after translation (each also nat64_drop_mtu): */
	FC_STAT_NAT64_DROP_MTU_DF_CLEAR,	/* 4->6, DF clear or a fragment: not fragmented here */
	FC_STAT_NAT64_FRAG_NEEDED_SENT,	/* ICMPv4 3/4 sent to the IPv4 sender (4->6) */
	FC_STAT_NAT64_PTB_SENT,		/* ICMPv6 Packet Too Big sent to the IPv6 sender (6->4) */
	FC_STAT_NAT64_ICMP_RATELIMITED,	/* either not sent: --refused-icmp-rate's bucket empty */
	FC_STAT_NAT64_SPLIT,		/* 4->6, DF clear over 1280 as IPv6: split into IPv4 fragments */
	FC_STAT_HAIRPIN_TIME_EXCEEDED,	/* hairpinned IPv6 with hop limit 1: ICMPv6 time exceeded sent */
	/* NAT64 discards answered (RFC 7915 §4.4/§5.4, RFC 6146; nat64_discard.h): */
	FC_STAT_NAT64_DISCARD_ICMP_SENT,	/* ICMP error sent about a packet NAT64 discards */
	FC_STAT_NAT64_DROP_TTL,		/* 4->6, TTL expires here: Time Exceeded to the sender */
	/* NAT64 address mapping (nat64_pool.h): */
	FC_STAT_NAT64_POOL_MAPPED,	/* an IPv6 host got an address of --nat64-pool4 */
	FC_STAT_NAT64_POOL_EXHAUSTED,	/* ... or none was free: ICMPv6 1/3 to the host */
	FC_STAT_NAT64_DROP_NOT_ALLOWED,	/* IPv6 source outside --nat64-allow */
	FC_STAT_NAT64_DROP_UDP_ZERO_CSUM,	/* 4->6 UDP without checksum, --nat64-udp-zero-checksum drop */
	/* NAT64 translated and redirected by the fast path (XDP), never
	 * seen by the stack or TC (each also nat64_out or nat64_in): */
	FC_STAT_FAST_NAT64_OUT,		/* IPv6 -> IPv4, out of the external interface */
	FC_STAT_FAST_NAT64_IN,		/* IPv4 -> IPv6, to the host */
	FC_STAT_MAX,
};

#endif /* FCNAT_TYPES_H */
