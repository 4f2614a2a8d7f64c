/* SPDX-License-Identifier: GPL-2.0 */
/* Address prefixes of either family, as bytes in network order. */
#ifndef FC_PREFIX_H
#define FC_PREFIX_H

#include <stdbool.h>
#include <string.h>

/* Do the first len bits of a and b agree? (len 0: always.) */
static inline bool prefix_match(const void *a, const void *b, unsigned int len)
{
	const unsigned char *x = a, *y = b;
	unsigned int whole = len / 8, rest = len % 8;

	return !memcmp(x, y, whole) && (!rest || !((x[whole] ^ y[whole]) & (0xff00 >> rest)));
}

#endif
