/* SPDX-License-Identifier: GPL-2.0 */
/* Value parsers of the option reader (option_values.c). Those used beyond
 * it (port ranges, prefixes) are declared in options.h. */
#ifndef FC_OPTION_VALUES_H
#define FC_OPTION_VALUES_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* A decimal from min to max, nothing else (no sign, no trailing text). */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out);
/* true/yes/on/1 or false/no/off/0. */
int parse_bool(const char *s, bool *out);
/* One interface name into a list of at most FC_MAX_IFACES; what names the
 * list in the message. */
int add_ifname(char (*list)[IF_NAMESIZE], unsigned int *nr, const char *what,
	       const char *name, char *err, size_t errlen);

#endif
