/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SSDP (UPnP Device Architecture 1.1 §1) for the IGD: which of our
 * notification types a search asks for, and the datagrams that answer and
 * announce them. Pure: no I/O (tests/fuzz/lf_ssdp.c calls it alone).
 *
 * Two root devices are announced: InternetGatewayDevice:1 (WANIPConnection:1)
 * and :2 (WANIPConnection:2). A search for a version-1 type finds only the
 * first, so a client that knows only version 1 never reads a description
 * without the service it looks for.
 */
#ifndef FC_UPNP_SSDP_H
#define FC_UPNP_SSDP_H

#include <stdbool.h>
#include <stddef.h>

#define SSDP_PORT 1900
#define SSDP_GROUP "239.255.255.250"
#define SSDP_MAX_AGE 1800
#define SSDP_MSG_MAX 1024	/* every datagram we build fits */
#define SSDP_ST_MAX 160
#define UPNP_UUID_LEN 36

enum upnp_dev { UPNP_DEV_ROOT, UPNP_DEV_WAN, UPNP_DEV_CONN, UPNP_NR_DEVS };

/* The device UUIDs of both roots: [version - 1][device]. */
struct upnp_ids {
	char uuid[2][UPNP_NR_DEVS][UPNP_UUID_LEN + 1];
};

/* Notification types of one root: rootdevice, three uuids, three device
 * types, two service types. */
#define SSDP_NR_TYPES 9

struct ssdp_search {
	char st[SSDP_ST_MAX];
	unsigned int mx;	/* seconds, capped to 5 (UDA 1.1 §1.3.2) */
	bool has_mx;
};

/*
 * An M-SEARCH datagram of len bytes: true with s set when it is a
 * well-formed search ("M-SEARCH * HTTP/1.1", MAN "ssdp:discover", an ST,
 * MX a number 1..120 when multicast; absent MX is only for unicast).
 * Anything else (NOTIFY from other devices, responses, junk): false.
 */
bool ssdp_parse(const char *buf, size_t len, bool multicast, struct ssdp_search *s);

/* Whether root version v (1 or 2) has notification type i (0..SSDP_NR_TYPES)
 * the search st asks for ("ssdp:all" asks for all). */
bool ssdp_matches(const struct upnp_ids *ids, int v, int i, const char *st);

/* The NT (and ST of an answer) of type i of root v, and its USN. */
void ssdp_type(const struct upnp_ids *ids, int v, int i, char *nt, size_t ntlen, char *usn,
	       size_t usnlen);

/* The answer to a search (unicast, HTTP/1.1 200): written to out
 * (SSDP_MSG_MAX), its length. location: the root's description URL. */
size_t ssdp_build_answer(char *out, const char *st, const char *usn, const char *location,
			 unsigned int bootid);
/* A NOTIFY: alive (with LOCATION) or byebye. */
size_t ssdp_build_notify(char *out, bool alive, const char *nt, const char *usn,
			 const char *location, unsigned int bootid);

#endif
