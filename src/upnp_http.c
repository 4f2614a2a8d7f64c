// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP/1.x request heads for the UPnP IGD (upnp_http.h): a small strict
 * reader rather than a general one, because every byte comes from a host
 * we do not trust and only a handful of headers matter.
 */
#include <string.h>
#include <strings.h>

#include "upnp_http.h"

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool upnp_str_eq(struct upnp_str s, const char *lit, bool nocase)
{
	size_t n = strlen(lit);

	if (s.n != n)
		return false;
	return nocase ? !strncasecmp(s.p, lit, n) : !memcmp(s.p, lit, n);
}

const struct upnp_str *upnp_head_get(const struct upnp_head *h, const char *name)
{
	for (unsigned int i = 0; i < h->nr_hdrs; i++)
		if (upnp_str_eq(h->hdrs[i].name, name, true))
			return &h->hdrs[i].value;
	return NULL;
}

/* One line from *pos: its content without CRLF/LF. false: no line end
 * before len. */
static bool next_line(const char *buf, size_t len, size_t *pos, struct upnp_str *line)
{
	const char *nl = memchr(buf + *pos, '\n', len - *pos);
	size_t end;

	if (!nl)
		return false;
	end = nl - buf;
	line->p = buf + *pos;
	line->n = end - *pos;
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	*pos = end + 1;
	return true;
}

static bool parse_request_line(struct upnp_str l, struct upnp_head *h)
{
	const char *sp1 = memchr(l.p, ' ', l.n), *sp2;
	struct upnp_str ver;

	if (!sp1 || sp1 == l.p)
		return false;
	h->method = (struct upnp_str){ l.p, sp1 - l.p };
	for (size_t i = 0; i < h->method.n; i++)
		if (!is_tchar(h->method.p[i]))
			return false;
	sp2 = memchr(sp1 + 1, ' ', l.p + l.n - (sp1 + 1));
	if (!sp2 || sp2 == sp1 + 1)
		return false;
	h->target = (struct upnp_str){ sp1 + 1, sp2 - (sp1 + 1) };
	ver = (struct upnp_str){ sp2 + 1, l.p + l.n - (sp2 + 1) };
	return upnp_str_eq(ver, "HTTP/1.1", false) || upnp_str_eq(ver, "HTTP/1.0", false);
}

static bool parse_header(struct upnp_str l, struct upnp_hdr *hd)
{
	const char *colon = memchr(l.p, ':', l.n);
	const char *v, *e;

	if (!colon || colon == l.p)
		return false;
	for (const char *c = l.p; c < colon; c++)
		if (!is_tchar(*c))
			return false;
	hd->name = (struct upnp_str){ l.p, colon - l.p };
	v = colon + 1;
	e = l.p + l.n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	hd->value = (struct upnp_str){ v, e - v };
	return true;
}

enum upnp_parse upnp_head_parse(const char *buf, size_t len, bool datagram, struct upnp_head *h)
{
	size_t pos = 0, scan = len < UPNP_HEAD_MAX ? len : UPNP_HEAD_MAX;
	struct upnp_str line;
	bool first = true;

	memset(h, 0, sizeof(*h));
	/* Controls (but CR, LF, tab) and NUL are refused in the head; the
	 * check runs on what the head may span, so a body is not judged. */
	for (;;) {
		if (!next_line(buf, scan, &pos, &line)) {
			if (len > UPNP_HEAD_MAX)
				return UPNP_TOO_BIG;
			if (!datagram)
				return UPNP_MORE;
			if (pos >= len)
				break;	/* the datagram ended after a line */
			line = (struct upnp_str){ buf + pos, len - pos };
			pos = len;
			if (line.n && line.p[line.n - 1] == '\r')
				line.n--;
		}
		for (size_t i = 0; i < line.n; i++) {
			unsigned char c = line.p[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return UPNP_BAD;
		}
		if (!line.n) {
			if (first)
				return UPNP_BAD;
			break;	/* the blank line: end of the head */
		}
		if (first) {
			if (!parse_request_line(line, h))
				return UPNP_BAD;
			first = false;
		} else {
			if (line.p[0] == ' ' || line.p[0] == '\t')
				return UPNP_BAD;	/* obsolete folding */
			if (h->nr_hdrs >= UPNP_HDRS_MAX)
				return UPNP_TOO_BIG;
			if (!parse_header(line, &h->hdrs[h->nr_hdrs]))
				return UPNP_BAD;
			h->nr_hdrs++;
		}
		if (pos >= len && datagram)
			break;
	}
	if (first)
		return datagram ? UPNP_BAD : UPNP_MORE;
	h->head_len = pos;
	return UPNP_OK;
}

enum upnp_parse upnp_request_parse(const char *buf, size_t len, struct upnp_head *h,
				   size_t *body_len, size_t *total)
{
	enum upnp_parse r = upnp_head_parse(buf, len, false, h);
	bool have = false;
	size_t cl = 0;

	if (r != UPNP_OK)
		return r;
	for (unsigned int i = 0; i < h->nr_hdrs; i++) {
		const struct upnp_hdr *hd = &h->hdrs[i];
		size_t v = 0;

		if (upnp_str_eq(hd->name, "Transfer-Encoding", true))
			return UPNP_UNSUPPORTED;
		if (!upnp_str_eq(hd->name, "Content-Length", true))
			continue;
		if (!hd->value.n || hd->value.n > 9)
			return hd->value.n ? UPNP_TOO_BIG : UPNP_BAD;
		for (size_t k = 0; k < hd->value.n; k++) {
			if (hd->value.p[k] < '0' || hd->value.p[k] > '9')
				return UPNP_BAD;
			v = v * 10 + (hd->value.p[k] - '0');
		}
		if (have && v != cl)
			return UPNP_BAD;
		have = true;
		cl = v;
	}
	if (cl > UPNP_BODY_MAX)
		return UPNP_TOO_BIG;
	if (len - h->head_len < cl)
		return UPNP_MORE;
	*body_len = cl;
	*total = h->head_len + cl;
	return UPNP_OK;
}
