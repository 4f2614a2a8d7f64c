// SPDX-License-Identifier: GPL-2.0
/*
 * SSDP search parsing and the answers and announcements of the IGD's two
 * root devices (upnp_ssdp.h).
 */
#include <stdio.h>
#include <string.h>

#include "upnp_http.h"
#include "upnp_ssdp.h"

#define SERVER_STRING "Linux UPnP/1.1 fcnat/1"

bool ssdp_parse(const char *buf, size_t len, bool multicast, struct ssdp_search *s)
{
	struct upnp_head h;
	const struct upnp_str *man, *st, *mx;
	unsigned int v = 0;

	memset(s, 0, sizeof(*s));
	if (upnp_head_parse(buf, len, true, &h) != UPNP_OK)
		return false;
	if (!upnp_str_eq(h.method, "M-SEARCH", false) || !upnp_str_eq(h.target, "*", false))
		return false;
	man = upnp_head_get(&h, "MAN");
	st = upnp_head_get(&h, "ST");
	mx = upnp_head_get(&h, "MX");
	if (!man || !upnp_str_eq(*man, "\"ssdp:discover\"", false))
		return false;
	if (!st || !st->n || st->n >= sizeof(s->st))
		return false;
	if (mx) {
		if (!mx->n || mx->n > 3)
			return false;
		for (size_t i = 0; i < mx->n; i++) {
			if (mx->p[i] < '0' || mx->p[i] > '9')
				return false;
			v = v * 10 + (mx->p[i] - '0');
		}
		/* UDA 1.1: MX 1..5, larger treated as 5; 0 is not valid. */
		if (!v || v > 120)
			return false;
		s->mx = v > 5 ? 5 : v;
		s->has_mx = true;
	} else if (multicast) {
		return false;
	}
	memcpy(s->st, st->p, st->n);
	s->st[st->n] = '\0';
	return true;
}

/* Type i of root v: the NT and the device whose UUID makes its USN. */
static const char *type_name(int v, int i, int *dev, char *buf, size_t len)
{
	static const char *const devs[] = { "InternetGatewayDevice", "WANDevice",
					    "WANConnectionDevice" };

	switch (i) {
	case 0:
		*dev = UPNP_DEV_ROOT;
		return "upnp:rootdevice";
	case 1: case 2: case 3:
		*dev = i - 1;
		return NULL;	/* the UUID itself */
	case 4: case 5: case 6:
		*dev = i - 4;
		snprintf(buf, len, "urn:schemas-upnp-org:device:%s:%d", devs[i - 4], v);
		return buf;
	case 7:
		*dev = UPNP_DEV_WAN;
		return "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1";
	default:
		*dev = UPNP_DEV_CONN;
		snprintf(buf, len, "urn:schemas-upnp-org:service:WANIPConnection:%d", v);
		return buf;
	}
}

void ssdp_type(const struct upnp_ids *ids, int v, int i, char *nt, size_t ntlen, char *usn,
	       size_t usnlen)
{
	char buf[96];
	int dev;
	const char *name = type_name(v, i, &dev, buf, sizeof(buf));
	const char *uuid = ids->uuid[v - 1][dev];

	if (!name) {
		snprintf(nt, ntlen, "uuid:%s", uuid);
		snprintf(usn, usnlen, "uuid:%s", uuid);
		return;
	}
	snprintf(nt, ntlen, "%s", name);
	snprintf(usn, usnlen, "uuid:%s::%s", uuid, name);
}

bool ssdp_matches(const struct upnp_ids *ids, int v, int i, const char *st)
{
	char nt[SSDP_ST_MAX], usn[SSDP_ST_MAX * 2];

	if (!strcmp(st, "ssdp:all"))
		return true;
	ssdp_type(ids, v, i, nt, sizeof(nt), usn, sizeof(usn));
	return !strcmp(st, nt);
}

size_t ssdp_build_answer(char *out, const char *st, const char *usn, const char *location,
			 unsigned int bootid)
{
	int n = snprintf(out, SSDP_MSG_MAX,
			 "HTTP/1.1 200 OK\r\n"
			 "CACHE-CONTROL: max-age=%d\r\n"
			 "EXT:\r\n"
			 "LOCATION: %s\r\n"
			 "SERVER: " SERVER_STRING "\r\n"
			 "ST: %s\r\n"
			 "USN: %s\r\n"
			 "BOOTID.UPNP.ORG: %u\r\n"
			 "CONFIGID.UPNP.ORG: 1\r\n"
			 "\r\n",
			 SSDP_MAX_AGE, location, st, usn, bootid);

	return n > 0 && n < SSDP_MSG_MAX ? (size_t)n : 0;
}

size_t ssdp_build_notify(char *out, bool alive, const char *nt, const char *usn,
			 const char *location, unsigned int bootid)
{
	int n;

	if (alive)
		n = snprintf(out, SSDP_MSG_MAX,
			     "NOTIFY * HTTP/1.1\r\n"
			     "HOST: " SSDP_GROUP ":1900\r\n"
			     "CACHE-CONTROL: max-age=%d\r\n"
			     "LOCATION: %s\r\n"
			     "NT: %s\r\n"
			     "NTS: ssdp:alive\r\n"
			     "SERVER: " SERVER_STRING "\r\n"
			     "USN: %s\r\n"
			     "BOOTID.UPNP.ORG: %u\r\n"
			     "CONFIGID.UPNP.ORG: 1\r\n"
			     "\r\n",
			     SSDP_MAX_AGE, location, nt, usn, bootid);
	else
		n = snprintf(out, SSDP_MSG_MAX,
			     "NOTIFY * HTTP/1.1\r\n"
			     "HOST: " SSDP_GROUP ":1900\r\n"
			     "NT: %s\r\n"
			     "NTS: ssdp:byebye\r\n"
			     "USN: %s\r\n"
			     "BOOTID.UPNP.ORG: %u\r\n"
			     "CONFIGID.UPNP.ORG: 1\r\n"
			     "\r\n",
			     nt, usn, bootid);
	return n > 0 && n < SSDP_MSG_MAX ? (size_t)n : 0;
}
