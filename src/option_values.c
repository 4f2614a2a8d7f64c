// SPDX-License-Identifier: GPL-2.0
/* Values of options and configuration keys (option_values.h): strict, every
 * character checked, since a typo in a NAT's configuration must not pass. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "option_values.h"

int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_one_range(const char *tok, struct fc_port_range *r)
{
	char buf[32], *dash;
	unsigned int a, b;

	if (strlen(tok) >= sizeof(buf))
		return -1;
	strcpy(buf, tok);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_uint(buf, 1, 65535, &a))
		return -1;
	if (dash ? parse_uint(dash + 1, 1, 65535, &b) : (b = a, 0))
		return -1;
	if (a > b)
		return -1;
	r->first = a;
	r->last = b;
	return 0;
}

int parse_port_ranges(const char *spec, struct fc_port_range *ranges,
		      unsigned int *nr, char *err, size_t errlen)
{
	char buf[512], *tok, *save;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "port range list too long");
		return -1;
	}
	strcpy(buf, spec);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		struct fc_port_range r;

		if (parse_one_range(tok, &r)) {
			snprintf(err, errlen, "invalid port range '%s': expected FIRST-LAST "
				 "with 1 <= FIRST <= LAST <= 65535", tok);
			return -1;
		}
		if (*nr >= FC_MAX_PORT_RANGES) {
			snprintf(err, errlen, "too many port ranges (at most %d)", FC_MAX_PORT_RANGES);
			return -1;
		}
		for (unsigned int i = 0; i < *nr; i++) {
			if (r.first <= ranges[i].last && ranges[i].first <= r.last) {
				snprintf(err, errlen, "port range '%s' overlaps %u-%u", tok,
					 ranges[i].first, ranges[i].last);
				return -1;
			}
		}
		ranges[(*nr)++] = r;
	}
	if (*nr == 0) {
		snprintf(err, errlen, "empty port range list");
		return -1;
	}
	return 0;
}

int add_ifname(char (*list)[IF_NAMESIZE], unsigned int *nr, const char *what,
	       const char *name, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "invalid interface name '%s'", name);
		return -1;
	}
	if (*nr >= FC_MAX_IFACES) {
		snprintf(err, errlen, "too many %s interfaces (at most %d)", what, FC_MAX_IFACES);
		return -1;
	}
	strcpy(list[(*nr)++], name);
	return 0;
}

int parse_prefix4(const char *spec, struct fc_prefix4 *out)
{
	char buf[32], *slash;
	unsigned int len = 32;
	struct in_addr a;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (parse_uint(slash, 0, 32, &len))
			return -1;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	if (len < 32 && (ntohl(a.s_addr) & (0xffffffffU >> len)))
		return -1;
	out->addr = a.s_addr;
	out->len = len;
	return 0;
}

/* RFC 6052 §2.2: the prefix lengths with a defined address format. */
static bool nat64_len_valid(unsigned int len)
{
	return len == 32 || len == 40 || len == 48 || len == 56 || len == 64 || len == 96;
}

int parse_nat64_prefix(const char *spec, __u8 prefix[16], unsigned int *len,
		       char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	struct in6_addr a;
	unsigned int l;

	if (strlen(spec) >= sizeof(buf) || !(slash = strchr(strcpy(buf, spec), '/'))) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': expected IPV6-PREFIX/LENGTH, "
			 "e.g. " FC_NAT64_PREFIX_DEFAULT, spec);
		return -1;
	}
	*slash++ = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': '%s' is not an IPv6 address",
			 spec, buf);
		return -1;
	}
	if (parse_uint(slash, 0, 128, &l) || !nat64_len_valid(l)) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': the length must be one RFC 6052 "
			 "defines: 32, 40, 48, 56, 64 or 96", spec);
		return -1;
	}
	for (unsigned int bit = l; bit < 128; bit++) {
		if (a.s6_addr[bit / 8] & (0x80 >> (bit % 8))) {
			snprintf(err, errlen, "invalid NAT64 prefix '%s': bits set past /%u", spec, l);
			return -1;
		}
	}
	/* Bits 64-71 of an IPv4-embedded address are zero (RFC 6052 §2.2):
	 * only a /96 has them inside the prefix. */
	if (a.s6_addr[8]) {
		snprintf(err, errlen, "invalid NAT64 prefix '%s': bits 64-71 (the \"u\" octet) "
			 "must be zero (RFC 6052 section 2.2)", spec);
		return -1;
	}
	memcpy(prefix, a.s6_addr, 16);
	*len = l;
	return 0;
}
