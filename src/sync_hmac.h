/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for the state sync's
 * datagram authentication: small, no library, checked against RFC 4231's
 * vectors in tests/unit/test_sync.c.
 */
#ifndef FC_SYNC_HMAC_H
#define FC_SYNC_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;		/* hashed so far */
	uint8_t buf[SHA256_BLOCK];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);

void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 uint8_t out[SHA256_LEN]);

/* Equal in time independent of where the first difference is. */
int mac_equal(const uint8_t *a, const uint8_t *b, size_t len);

#endif
