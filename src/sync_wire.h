/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state sync's wire format (doc/design/ha.md): one UDP datagram is a
 * header, records, and an HMAC-SHA256 over everything before it. Pure
 * codec, no I/O, so the fuzzer (tests/fuzz/lf_sync.c) and the unit tests
 * call it alone. All integers are big-endian on the wire.
 *
 *   0  "FCSY"        4  version     5  type       6  flags (16)
 *   8  epoch (64): the sender's start, its incarnation
 *  16  echo (64): the receiver's epoch as the sender last heard it
 *  24  seq (64): per sender incarnation, one per datagram
 *  32  count (16)   34  reserved (16)
 *  36  records: type (8), body length (8), body
 *  end - 32: HMAC-SHA256(key, bytes 0 .. end - 33)
 */
#ifndef FC_SYNC_WIRE_H
#define FC_SYNC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <fcnat/types.h>

#define SYNC_MAGIC "FCSY"
#define SYNC_VERSION 1
#define SYNC_HDR_LEN 36
#define SYNC_MAC_LEN 32
/* Fits a 1500-byte link's MTU with IPv6 and UDP headers. */
#define SYNC_MAX_DGRAM 1400
#define SYNC_MAX_KEY 256

enum sync_msg_type {
	SYNC_MSG_HELLO = 1,	/* keepalive and handshake; no records */
	SYNC_MSG_DATA = 2,
};

enum sync_msg_flags {
	SYNC_F_RESYNC = 1 << 0,	/* HELLO: send me everything (a gap, or a join) */
	SYNC_F_FULL_END = 1 << 1,	/* DATA: the last datagram of a full resync */
};

enum sync_rec_type {
	SYNC_REC_MAP = 1,	/* a mapping, made or refreshed */
	SYNC_REC_UNMAP = 2,	/* ... deleted by its owner */
	SYNC_REC_SESSION = 3,	/* a session, made or refreshed */
	SYNC_REC_UNSESSION = 4,	/* ... deleted */
};

#define SYNC_MAP_BODY 52
#define SYNC_SESSION_BODY 56

struct sync_hdr {
	__u8 type;		/* enum sync_msg_type */
	__u16 flags;		/* enum sync_msg_flags */
	__u64 epoch;
	__u64 echo;
	__u64 seq;
	__u16 count;		/* records */
};

/* A mapping: its internal and external endpoints; times relative to the
 * sender's clock, so two hosts' clocks need not agree. Ports host order. */
struct sync_map {
	__u8 proto;		/* enum fc_proto */
	__u8 int_family;	/* enum fc_family */
	__u8 ext_family;
	__u8 flags;		/* enum fc_binding_flags */
	union fc_addr int_addr;
	union fc_addr ext_addr;
	__u16 int_port;
	__u16 ext_port;
	__u32 idle_ms;		/* since its last outbound packet */
	__u32 sessions_ms;	/* until its latest session expires (0: none) */
	__u32 pcp_s;		/* FC_BINDING_PCP: lifetime left */
};

/* A session (struct fc_session_key and the TCP state that matters). */
struct sync_session {
	__u8 family;
	__u8 proto;
	__u8 wscale;
	union fc_addr ext_addr;
	union fc_addr remote_addr;
	__u16 ext_port;
	__u16 remote_port;
	__u32 remaining_ms;
	__u32 tcp_seen;
	__u32 rcv_next;
	__u32 rcv_wnd;
};

struct sync_rec {
	__u8 type;		/* enum sync_rec_type */
	union {
		struct sync_map m;	/* MAP, UNMAP */
		struct sync_session s;	/* SESSION, UNSESSION */
	};
};

enum sync_parse_result {
	SYNC_OK = 0,
	SYNC_ERR_SHORT,		/* shorter than header and MAC */
	SYNC_ERR_MAGIC,
	SYNC_ERR_VERSION,
	SYNC_ERR_MAC,		/* not from a holder of the key */
	SYNC_ERR_FORMAT,	/* authenticated but malformed records */
};

/* Builds one datagram: sync_begin, sync_add until it says full, sync_finish. */
struct sync_writer {
	__u8 buf[SYNC_MAX_DGRAM];
	size_t len;
	__u16 count;
};

void sync_begin(struct sync_writer *w, const struct sync_hdr *h);
/* 0, or -1 if the record does not fit (the datagram is unchanged). */
int sync_add(struct sync_writer *w, const struct sync_rec *r);
/* Writes count and the MAC; returns the datagram's length. */
size_t sync_finish(struct sync_writer *w, const void *key, size_t key_len);

/* Checks magic, version, MAC and every record; fills h. Records are then
 * read with sync_next_record from offset SYNC_HDR_LEN. */
enum sync_parse_result sync_parse(const __u8 *p, size_t len, const void *key, size_t key_len,
				  struct sync_hdr *h);
/* 1 and *r: a record; 0: no more; -1: malformed (never after sync_parse
 * said SYNC_OK). Records of unknown types are skipped. */
int sync_next_record(const __u8 *p, size_t len, size_t *off, struct sync_rec *r);

const char *sync_parse_error(enum sync_parse_result r);

/*
 * The anti-replay window of one sender incarnation (after RFC 4303 §3.4.3):
 * the highest sequence number seen and which of the 64 below it were.
 */
struct sync_window {
	__u64 top;
	__u64 bits;		/* bit i: top - i was seen */
	bool init;
};

enum sync_seq_verdict {
	SYNC_SEQ_NEW,		/* accepted; *lost says how many were skipped */
	SYNC_SEQ_REPLAY,	/* seen already */
	SYNC_SEQ_OLD,		/* below the window */
};

enum sync_seq_verdict sync_window_check(struct sync_window *w, __u64 seq, __u64 *lost);

#endif
