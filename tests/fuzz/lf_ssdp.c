// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of SSDP search parsing (src/upnp_ssdp.c): every input
 * is one datagram, parsed as multicast and as unicast (the first byte of
 * the input is part of the datagram too). A search that parses is matched
 * against every notification type of both roots and answered; the answer
 * is parsed back as HTTP. Exact-size buffers: ASan sees any over-read.
 *
 * Checked: a search has a NUL-terminated ST without CR, LF or NUL, shorter
 * than SSDP_ST_MAX; MX 1..5 when given, always given for multicast; an
 * answer fits SSDP_MSG_MAX and carries the ST; "ssdp:all" matches all
 * types and an ST equal to a type's NT matches it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upnp_http.h"
#include "upnp_ssdp.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static struct upnp_ids ids = { .uuid = {
	{ "fc0a7e00-1d10-4001-8000-020000000001", "fc0a7e00-1d11-4001-8001-020000000001",
	  "fc0a7e00-1d12-4001-8002-020000000001" },
	{ "fc0a7e00-1d20-4002-8000-020000000001", "fc0a7e00-1d21-4002-8001-020000000001",
	  "fc0a7e00-1d22-4002-8002-020000000001" } } };

static void answer(const struct ssdp_search *q)
{
	char nt[SSDP_ST_MAX], usn[2 * SSDP_ST_MAX], msg[SSDP_MSG_MAX];
	struct upnp_head h;
	bool all = !strcmp(q->st, "ssdp:all");

	for (int v = 1; v <= 2; v++)
		for (int i = 0; i < SSDP_NR_TYPES; i++) {
			bool m = ssdp_matches(&ids, v, i, q->st);
			size_t n;

			ssdp_type(&ids, v, i, nt, sizeof(nt), usn, sizeof(usn));
			CHECK(!all || m);
			CHECK(m == (all || !strcmp(q->st, nt)));
			n = ssdp_build_answer(msg, q->st, usn, "http://192.168.1.1:5000/rootDesc1.xml",
					      7);
			CHECK(n > 0 && n < SSDP_MSG_MAX && strlen(msg) == n);
			/* The answer reads back as a message with our ST. */
			{
				char *exact = malloc(n);
				const struct upnp_str *st;

				memcpy(exact, msg, n);
				/* A response's status line is not a request line:
				 * swap it for one to reuse the request reader. */
				memcpy(exact, "NOTIFY * HTTP/1.1", 17);
				CHECK(upnp_head_parse(exact, n, true, &h) == UPNP_BAD ||
				      ((st = upnp_head_get(&h, "ST")) && upnp_str_eq(*st, q->st, false)));
				free(exact);
			}
		}
}

static void one(const uint8_t *data, size_t size, bool multicast)
{
	struct ssdp_search q;
	char *buf = malloc(size ? size : 1);

	memcpy(buf, data, size);
	if (ssdp_parse(buf, size, multicast, &q)) {
		size_t n = strnlen(q.st, sizeof(q.st));

		CHECK(n > 0 && n < sizeof(q.st));
		CHECK(!strpbrk(q.st, "\r\n"));
		CHECK(!q.has_mx || (q.mx >= 1 && q.mx <= 5));
		CHECK(!multicast || q.has_mx);
		answer(&q);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, true);
	one(data, size, false);
	return 0;
}
