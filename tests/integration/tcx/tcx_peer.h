/* SPDX-License-Identifier: GPL-2.0 */
/* The counter slots of tcx_count.bpf.c. */
#ifndef FC_TCX_PEER_H
#define FC_TCX_PEER_H

enum {
	FC_PEER_ALL,	/* packets seen */
	FC_PEER_SEEN,	/* IPv4 packets with the watched address in them */
	FC_PEER_WATCH,	/* the watched IPv4 address (network order), 0: none */
	FC_PEER_SLOTS,
};

#endif
