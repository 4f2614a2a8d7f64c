/* SPDX-License-Identifier: GPL-2.0 */
/* The state sync's insides, shared by sync.c (scan, send), sync_rx.c
 * (receive, install) and sync_status.c (show sync, metrics). */
#ifndef FC_SYNC_INT_H
#define FC_SYNC_INT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <fcnat/types.h>
#include "options.h"
#include "sync_table.h"
#include "sync_wire.h"

struct sync_stats {
	__u64 tx_datagrams;
	__u64 tx_records;
	__u64 tx_errors;	/* sendto failed for another reason than room */
	__u64 tx_dropped;	/* records never sent: queue full, peer down, error */
	__u64 rx_datagrams;	/* accepted */
	__u64 rx_records;	/* installed or removed */
	__u64 rx_install_errors;	/* a map update failed (table full...) */
	__u64 rx_auth_failed;	/* MAC wrong: no key, or altered */
	__u64 rx_replayed;	/* seen already, below the window, or an older incarnation */
	__u64 rx_unfresh;	/* authentic, but not (yet) echoing our incarnation */
	__u64 rx_malformed;	/* not a sync datagram, or bad records */
	__u64 rx_lost;		/* sequence numbers skipped: datagrams lost on the way */
	__u64 resyncs_sent;	/* full resyncs sent to the peer */
	__u64 resyncs_asked;	/* full resyncs asked of the peer (gaps) */
	__u64 scans;
	__u64 rx_unknown_peer;	/* authentic, from an address that is no peer's */
};

struct sync_qrec {
	struct sync_rec r;
	__u64 t_ms;		/* when queued: the lag */
	bool end;		/* marker: the last record of a full resync was before it */
};

/* One peer: what it was told, what it sent, its own pace (sync.c). */
struct sync_peer {
	struct fc_sync *node;	/* the socket, key and maps shared by all peers */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_str[128];

	__u64 seq;		/* last sent to it */
	__u64 peer_epoch;	/* the incarnation whose datagrams are accepted, 0: none */
	__u64 peer_to_echo;	/* the latest incarnation heard of, echoed to it */
	struct sync_window win;
	__u64 last_heard_ms;	/* any authentic datagram */
	__u64 last_fresh_ms;	/* an accepted one */
	__u64 last_hello_ms;
	__u64 last_ask_ms;
	__u64 last_flush_ms;
	__u64 joins;		/* incarnations of the peer adopted */
	bool hello_now;
	bool ask_resync;	/* a gap: ask for everything */
	bool full_due;		/* send everything at the next scan */
	bool was_up;
	unsigned int burst;	/* datagrams a flush: halved when the peer loses some */
	__u64 last_slow_ms;	/* the rate last changed */

	struct sync_qrec *q;
	size_t q_head, q_len, q_cap;
	/* Each peer has its own table and scan: peers join, lose datagrams
	 * and resync at their own times, and one slow peer holds no other back. */
	struct sync_table table;
	__u32 gen;
	bool scan_full;
	__u64 now_ns;		/* the datapath clock at the scan */
	__u64 next_scan_ms;
	__u64 scan_ms;		/* how long the last scan took, its slices summed */
	/* A scan goes in slices (sync.c: scan_step) so a large table never
	 * holds up the loop; where the current one stands: */
	__u8 scan_phase;	/* SYNC_SCAN_IDLE, _MAPPINGS, _SESSIONS */
	bool scan_tok_valid;	/* scan_tok continues the map's batch walk */
	__u32 scan_tok;
	__u64 scan_us;		/* the current scan's slices so far */
	__u32 scan_slices;	/* of the last scan */
	__u64 scan_begin_ms;	/* when the current (or last) scan began */
	__u64 scan_wall_ms;	/* the last scan, first slice to last */
	__u64 scan_rest_ms;	/* the rest after it */
	struct sync_stats st;
};

struct fc_sync {
	int fd;			/* UDP, bound to --sync-listen */
	int status_fd;		/* abstract unix socket for `show sync`, -1: none */
	char listen_str[128];
	__u8 key[SYNC_MAX_KEY];
	size_t key_len;
	int bindings_fd;	/* -1: not attached yet */
	int sessions_fd;
	const struct fc_config *cfg;
	__u64 epoch;		/* this incarnation */
	unsigned int npeers;
	struct sync_peer peers[FC_SYNC_PEERS_MAX];
	/* Datagrams from no peer's address (with several peers): only the
	 * rx_auth_failed, rx_malformed and rx_unknown_peer counts move. */
	struct sync_stats other;
};

enum { SYNC_SCAN_IDLE, SYNC_SCAN_MAPPINGS, SYNC_SCAN_SESSIONS };

bool sync_peer_up(const struct sync_peer *s, __u64 now_ms);
void sync_slow_down(struct sync_peer *s);
/* How long a change may wait before a scan queues it: a scan's rest and
 * the next scan's length, the last ones standing for them. */
static inline __u64 sync_lag_bound_ms(const struct sync_peer *s)
{
	return s->scan_wall_ms + s->scan_rest_ms;
}
void sync_rx(struct fc_sync *s);
int sync_status_listen(const char *ifname);
void sync_status_answer(struct fc_sync *s);

#endif
