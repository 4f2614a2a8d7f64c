/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP/1.x message head the UPnP IGD reads: SSDP datagrams (HTTPU) and
 * the description/control requests over TCP share it. Pure: a function of
 * the bytes only, no I/O, fuzzed alone (tests/fuzz/lf_upnp_http.c). Every
 * field points into the caller's buffer; nothing is copied or allocated.
 */
#ifndef FC_UPNP_HTTP_H
#define FC_UPNP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define UPNP_HEAD_MAX 4096	/* request line and headers */
#define UPNP_BODY_MAX 8192	/* a SOAP request with 8 short arguments needs ~1 KiB */
#define UPNP_HDRS_MAX 32

struct upnp_str {
	const char *p;
	size_t n;
};

struct upnp_hdr {
	struct upnp_str name, value;	/* value without surrounding blanks */
};

struct upnp_head {
	struct upnp_str method, target;
	unsigned int nr_hdrs;
	struct upnp_hdr hdrs[UPNP_HDRS_MAX];
	size_t head_len;	/* bytes up to and including the blank line */
};

enum upnp_parse {
	UPNP_OK,
	UPNP_MORE,		/* incomplete: read more */
	UPNP_BAD,		/* malformed: 400 */
	UPNP_TOO_BIG,		/* head or body over its cap, too many headers: 431/413 */
	UPNP_UNSUPPORTED,	/* a transfer coding: 501 */
};

/*
 * Parse the head of one request in buf[0..len). datagram: the buffer is
 * all there is (SSDP): a missing blank line ends the head at len instead
 * of asking for more. Lines end in CRLF or a bare LF. Rejected: a request
 * line that is not "METHOD SP TARGET SP HTTP/1.x", a header name that is
 * not a token, a control character (but tab) or NUL anywhere, folded lines.
 */
enum upnp_parse upnp_head_parse(const char *buf, size_t len, bool datagram, struct upnp_head *h);

/* The first header called name (case-insensitive), NULL: none. */
const struct upnp_str *upnp_head_get(const struct upnp_head *h, const char *name);

/* Does s equal the NUL-terminated lit (case-insensitive when nocase)? */
bool upnp_str_eq(struct upnp_str s, const char *lit, bool nocase);

/*
 * A whole request over TCP: the head, then Content-Length bytes of body
 * (at most UPNP_BODY_MAX; absent: none; several that differ, or not all
 * digits: UPNP_BAD). Transfer-Encoding: UPNP_UNSUPPORTED. On UPNP_OK,
 * *total is head and body's length and *body_len the body's.
 */
enum upnp_parse upnp_request_parse(const char *buf, size_t len, struct upnp_head *h,
				   size_t *body_len, size_t *total);

#endif
