// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of the UPnP IGD's HTTP reading (src/upnp_http.c) and
 * the GENA header values (src/upnp_gena.c): every input is the bytes a
 * connection delivered, read as a request over TCP, as a datagram, and at
 * every split a slow client could make (a prefix must never be judged
 * complete with a length past it); then each header value is read as a
 * CALLBACK and a TIMEOUT. Exact-size buffers: ASan sees any over-read.
 *
 * Checked: a request that parses has a token method, a target without
 * blanks, at most UPNP_HDRS_MAX headers inside the buffer, a head within
 * UPNP_HEAD_MAX and a body within UPNP_BODY_MAX and the input; a prefix of
 * a complete request is never "bad" when the request is OK... unless the
 * cut leaves a line the reader must refuse; a callback is an IPv4 literal
 * with a port 1..65535 and a printable path starting with '/'; a timeout
 * is within [300, 1800].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upnp_gena.h"
#include "upnp_http.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static bool inside(const char *buf, size_t len, struct upnp_str s)
{
	return s.p >= buf && s.p + s.n <= buf + len;
}

static void check_head(const char *buf, size_t len, const struct upnp_head *h)
{
	CHECK(h->method.n > 0 && inside(buf, len, h->method));
	CHECK(h->target.n > 0 && inside(buf, len, h->target));
	CHECK(!memchr(h->target.p, ' ', h->target.n));
	CHECK(h->nr_hdrs <= UPNP_HDRS_MAX);
	CHECK(h->head_len <= len);
	for (unsigned int i = 0; i < h->nr_hdrs; i++) {
		CHECK(h->hdrs[i].name.n > 0 && inside(buf, len, h->hdrs[i].name));
		CHECK(inside(buf, len, h->hdrs[i].value));
		CHECK(!memchr(h->hdrs[i].name.p, ':', h->hdrs[i].name.n));
	}
}

static void values(const struct upnp_head *h)
{
	for (unsigned int i = 0; i < h->nr_hdrs; i++) {
		const struct upnp_str *v = &h->hdrs[i].value;
		char path[GENA_PATH_MAX];
		unsigned int t = gena_parse_timeout(v);
		__be32 addr;
		__u16 port;

		CHECK(t >= 300 && t <= 1800);
		if (gena_parse_callback(v->p, v->n, &addr, &port, path)) {
			CHECK(port >= 1);
			CHECK(path[0] == '/' && strlen(path) < GENA_PATH_MAX);
			for (const char *c = path; *c; c++)
				CHECK(*c > 0x20 && *c < 0x7f);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct upnp_head h;
	size_t body = 0, total = 0;
	enum upnp_parse r;

	memcpy(buf, data, size);
	r = upnp_request_parse(buf, size, &h, &body, &total);
	if (r == UPNP_OK) {
		check_head(buf, size, &h);
		CHECK(h.head_len <= UPNP_HEAD_MAX && body <= UPNP_BODY_MAX);
		CHECK(total == h.head_len + body && total <= size);
		values(&h);
		/* Every shorter prefix that still holds the whole head waits
		 * for the rest of the body. */
		for (size_t cut = h.head_len; cut < total; cut++) {
			char *p = malloc(cut ? cut : 1);
			size_t b2, t2;

			memcpy(p, buf, cut);
			CHECK(upnp_request_parse(p, cut, &h, &b2, &t2) == UPNP_MORE);
			free(p);
		}
	} else {
		CHECK(r == UPNP_MORE || r == UPNP_BAD || r == UPNP_TOO_BIG || r == UPNP_UNSUPPORTED);
		CHECK(r != UPNP_MORE || size <= UPNP_HEAD_MAX + UPNP_BODY_MAX);
	}
	if (upnp_head_parse(buf, size, true, &h) == UPNP_OK) {
		check_head(buf, size, &h);
		values(&h);
	}
	free(buf);
	return 0;
}
