// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of the state sync's wire codec (src/sync_wire.c). The
 * MAC would stop almost every input before the record parser, so each input
 * is parsed twice: as it is (the path an attacker without the key takes),
 * and with a valid MAC appended (the path of a peer that holds the key but
 * sends garbage). Whatever parses must re-encode to records that parse to
 * the same values. Buffers are exact-size allocations for ASan.
 *
 *   ./lf_sync -runs=1000000 tests/fuzz/corpus/sync
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync_hmac.h"
#include "sync_wire.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const char key[] = "fuzz";

static void walk(const __u8 *p, size_t len, const struct sync_hdr *h)
{
	struct sync_writer w;
	struct sync_hdr h2;
	struct sync_rec r, back;
	size_t off = SYNC_HDR_LEN, off2;
	unsigned int n = 0;

	sync_begin(&w, h);
	while (sync_next_record(p, len - SYNC_MAC_LEN, &off, &r) == 1) {
		CHECK(off <= len - SYNC_MAC_LEN);
		n++;
		if (sync_add(&w, &r))
			break;
	}
	CHECK(n <= h->count);
	sync_finish(&w, key, strlen(key));
	CHECK(w.len <= SYNC_MAX_DGRAM);
	CHECK(sync_parse(w.buf, w.len, key, strlen(key), &h2) == SYNC_OK);
	off = SYNC_HDR_LEN;
	off2 = SYNC_HDR_LEN;
	while (sync_next_record(w.buf, w.len - SYNC_MAC_LEN, &off2, &back) == 1) {
		CHECK(sync_next_record(p, len - SYNC_MAC_LEN, &off, &r) == 1);
		CHECK(back.type == r.type);
		CHECK(!memcmp(&back, &r, sizeof(r)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_hdr h;
	__u8 *p;

	p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	if (sync_parse(p, size, key, strlen(key), &h) == SYNC_OK)
		walk(p, size, &h);
	free(p);
	if (size < SYNC_HDR_LEN || size > SYNC_MAX_DGRAM - SYNC_MAC_LEN)
		return 0;
	p = malloc(size + SYNC_MAC_LEN);
	if (!p)
		return 0;
	memcpy(p, data, size);
	memcpy(p, SYNC_MAGIC, 4);
	p[4] = SYNC_VERSION;
	hmac_sha256(key, strlen(key), p, size, p + size);
	if (sync_parse(p, size + SYNC_MAC_LEN, key, strlen(key), &h) == SYNC_OK)
		walk(p, size + SYNC_MAC_LEN, &h);
	free(p);
	return 0;
}
