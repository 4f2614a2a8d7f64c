// SPDX-License-Identifier: GPL-2.0
/*
 * The SOAP subset of UPnP control (upnp_soap.h). The reader walks the
 * bytes once with a depth counter; it knows the shape it wants (Envelope,
 * optional Header, Body, one action, flat arguments) and refuses the rest,
 * so no general XML (entities beyond the five, DTDs, CDATA) is reached.
 */
#include <stdio.h>
#include <string.h>

#include "upnp_soap.h"

#define DEPTH_MAX 5	/* Envelope, Body, action, argument; Header's subtree is skipped */

struct xr {
	const char *p, *end;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == ':';
}

/* The part of a qualified name after its prefix. */
static void local_name(const char *q, size_t n, const char **l, size_t *ln)
{
	const char *c = memchr(q, ':', n);

	*l = c ? c + 1 : q;
	*ln = c ? n - (c + 1 - q) : n;
}

static bool lname_is(const char *q, size_t n, const char *want)
{
	const char *l;
	size_t ln;

	local_name(q, n, &l, &ln);
	return ln == strlen(want) && !memcmp(l, want, ln);
}

/* Skip past the first occurrence of lit. */
static bool skip_past(struct xr *x, const char *lit)
{
	size_t n = strlen(lit);

	for (; x->p + n <= x->end; x->p++)
		if (!memcmp(x->p, lit, n)) {
			x->p += n;
			return true;
		}
	return false;
}

/* Decode text (entities, character references) into out; false on a bad
 * entity, a non-ASCII-safe reference or overflow. */
static bool decode(const char *s, size_t n, char *out, size_t cap)
{
	static const struct { const char *e; char c; } ents[] = {
		{ "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' }, { "quot;", '"' }, { "apos;", '\'' },
	};
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		char c = s[i];

		if (c == '<' || c == '\0')
			return false;
		if (c == '&') {
			size_t k;
			bool ok = false;

			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
				size_t el = strlen(ents[k].e);

				if (n - i - 1 >= el && !memcmp(s + i + 1, ents[k].e, el)) {
					c = ents[k].c;
					i += 1 + el;
					ok = true;
					break;
				}
			}
			if (!ok && n - i > 2 && s[i + 1] == '#') {
				unsigned long v = 0;
				size_t j = i + 2;
				bool hex = j < n && s[j] == 'x';
				size_t digits = 0;

				j += hex;
				for (; j < n && s[j] != ';' && digits < 8; j++, digits++) {
					char d = s[j];
					int dv = d >= '0' && d <= '9' ? d - '0' :
						 hex && d >= 'a' && d <= 'f' ? d - 'a' + 10 :
						 hex && d >= 'A' && d <= 'F' ? d - 'A' + 10 : -1;

					if (dv < 0)
						return false;
					v = v * (hex ? 16 : 10) + dv;
				}
				/* Printable ASCII and tab/newline only: arguments are
				 * numbers, addresses, protocol names, descriptions. */
				if (!digits || j >= n || s[j] != ';' || v > 0x7e ||
				    (v < 0x20 && v != '\t' && v != '\n' && v != '\r'))
					return false;
				c = (char)v;
				i = j + 1;
				ok = true;
			}
			if (!ok)
				return false;
		} else {
			i++;
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* Inside a tag after its name: attributes up to '>' or '/>'. For the
 * action element, the namespace bound to prefix (pn bytes; 0: default). */
static bool read_attrs(struct xr *x, bool *empty, const char *prefix, size_t pn, char *ns,
		       size_t nscap)
{
	for (;;) {
		const char *an, *v;
		size_t anl;
		char q;

		while (x->p < x->end && is_space(*x->p))
			x->p++;
		if (x->p >= x->end)
			return false;
		if (*x->p == '>') {
			x->p++;
			*empty = false;
			return true;
		}
		if (*x->p == '/') {
			if (x->p + 1 >= x->end || x->p[1] != '>')
				return false;
			x->p += 2;
			*empty = true;
			return true;
		}
		an = x->p;
		while (x->p < x->end && is_name_char(*x->p))
			x->p++;
		anl = x->p - an;
		if (!anl)
			return false;
		while (x->p < x->end && is_space(*x->p))
			x->p++;
		if (x->p >= x->end || *x->p != '=')
			return false;
		x->p++;
		while (x->p < x->end && is_space(*x->p))
			x->p++;
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return false;
		q = *x->p++;
		v = x->p;
		while (x->p < x->end && *x->p != q && *x->p != '<')
			x->p++;
		if (x->p >= x->end || *x->p != q)
			return false;
		if (ns && ((pn && anl == 6 + pn && !memcmp(an, "xmlns:", 6) &&
			    !memcmp(an + 6, prefix, pn)) ||
			   (!pn && anl == 5 && !memcmp(an, "xmlns", 5)))) {
			if (!decode(v, x->p - v, ns, nscap))
				return false;
		}
		x->p++;
	}
}

bool soap_parse(const char *body, size_t len, struct soap_call *c)
{
	struct xr x = { body, body + len };
	struct { const char *n; size_t l; } stack[DEPTH_MAX];
	int depth = 0, skip_from = 0;	/* skip_from: depth of a Header being skipped */
	bool seen_env = false, seen_body = false, seen_action = false;
	const char *text = NULL;

	memset(c, 0, sizeof(*c));
	while (x.p < x.end) {
		const char *q;
		size_t ql;
		bool empty;

		if (*x.p != '<') {
			const char *t = x.p;

			while (x.p < x.end && *x.p != '<')
				x.p++;
			if (depth == 4 && !skip_from) {
				text = t;	/* an argument's value, decoded at its end tag */
				continue;
			}
			if (skip_from)
				continue;
			for (; t < x.p; t++)
				if (!is_space(*t))
					return false;
			continue;
		}
		if (x.end - x.p >= 4 && !memcmp(x.p, "<!--", 4)) {
			if (!skip_past(&x, "-->"))
				return false;
			continue;
		}
		if (x.end - x.p >= 2 && x.p[1] == '?') {
			if (depth || !skip_past(&x, "?>"))
				return false;
			continue;
		}
		if (x.end - x.p >= 2 && x.p[1] == '!')
			return false;	/* DOCTYPE, CDATA: not in a UPnP request */
		if (x.end - x.p >= 2 && x.p[1] == '/') {
			const char *etag = x.p;

			x.p += 2;
			q = x.p;
			while (x.p < x.end && is_name_char(*x.p))
				x.p++;
			ql = x.p - q;
			while (x.p < x.end && is_space(*x.p))
				x.p++;
			if (x.p >= x.end || *x.p != '>' || !depth)
				return false;
			x.p++;
			if (skip_from && depth > skip_from) {
				depth--;
				continue;
			}
			if (ql != stack[depth - 1].l || memcmp(q, stack[depth - 1].n, ql))
				return false;
			if (depth == 4) {
				struct soap_arg *a = &c->args[c->nr_args - 1];

				if (text && !decode(text, etag - text, a->value, SOAP_VALUE_MAX))
					return false;
				text = NULL;
			}
			if (skip_from == depth)
				skip_from = 0;
			depth--;
			continue;
		}
		/* A start tag. */
		x.p++;
		q = x.p;
		while (x.p < x.end && is_name_char(*x.p))
			x.p++;
		ql = x.p - q;
		if (!ql)
			return false;
		if (skip_from) {
			if (!read_attrs(&x, &empty, NULL, 0, NULL, 0))
				return false;
			if (!empty && ++depth > 64)
				return false;
			continue;
		}
		if (depth >= DEPTH_MAX - 1)
			return false;	/* nothing nests inside an argument */
		if (depth == 0) {
			if (seen_env || !lname_is(q, ql, "Envelope"))
				return false;
			seen_env = true;
		} else if (depth == 1) {
			if (lname_is(q, ql, "Header") && !seen_body) {
				skip_from = depth + 1;
			} else if (lname_is(q, ql, "Body") && !seen_body) {
				seen_body = true;
			} else {
				return false;
			}
		} else if (depth == 2) {
			const char *l, *colon = memchr(q, ':', ql);
			size_t ln;

			if (seen_action)
				return false;
			seen_action = true;
			local_name(q, ql, &l, &ln);
			if (!ln || ln >= SOAP_NAME_MAX)
				return false;
			memcpy(c->action, l, ln);
			if (!read_attrs(&x, &empty, q, colon ? (size_t)(colon - q) : 0, c->service,
					sizeof(c->service)))
				return false;
			goto pushed;
		} else {	/* depth 3: an argument */
			const char *l;
			size_t ln;

			if (c->nr_args >= SOAP_ARGS_MAX)
				return false;
			local_name(q, ql, &l, &ln);
			if (!ln || ln >= SOAP_NAME_MAX)
				return false;
			memcpy(c->args[c->nr_args].name, l, ln);
			c->nr_args++;
			text = NULL;
		}
		if (!read_attrs(&x, &empty, NULL, 0, NULL, 0))
			return false;
pushed:
		if (empty) {
			if (skip_from == depth + 1)
				skip_from = 0;
			continue;
		}
		stack[depth].n = q;
		stack[depth].l = ql;
		depth++;
	}
	return !depth && seen_env && seen_body && seen_action;
}

bool soap_action_header(const char *v, size_t len, char *service, size_t slen, char *action,
			size_t alen)
{
	const char *hash;
	size_t sl, al;

	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	hash = memchr(v, '#', len);
	if (!hash)
		return false;
	sl = hash - v;
	al = len - sl - 1;
	if (!sl || !al || sl >= slen || al >= alen)
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] == '"' || (unsigned char)v[i] < 0x21)
			return false;
	memcpy(service, v, sl);
	service[sl] = '\0';
	memcpy(action, hash + 1, al);
	action[al] = '\0';
	return true;
}

const char *soap_arg(const struct soap_call *c, const char *name)
{
	for (unsigned int i = 0; i < c->nr_args; i++)
		if (!strcmp(c->args[i].name, name))
			return c->args[i].value;
	return NULL;
}

size_t xml_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s; s++) {
		const char *r = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" :
				*s == '"' ? "&quot;" : *s == '\'' ? "&apos;" : NULL;
		size_t n = r ? strlen(r) : 1;

		if (o + n >= cap)
			return (size_t)-1;
		memcpy(out + o, r ? r : s, n);
		o += n;
	}
	if (o >= cap)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}

#define ENV_OPEN "<?xml version=\"1.0\"?>\r\n<s:Envelope " \
	"xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" " \
	"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
#define ENV_CLOSE "</s:Body></s:Envelope>\r\n"

/* Append s to out at *o; false when it did not fit. */
static bool put(char *out, size_t cap, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n >= cap)
		return false;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return true;
}

size_t soap_build_response(char *out, size_t cap, const char *service, const char *action,
			   const struct soap_arg *args, unsigned int n)
{
	char esc[SOAP_VALUE_MAX * 6];
	size_t o = 0;

	if (!put(out, cap, &o, ENV_OPEN "<u:") || !put(out, cap, &o, action) ||
	    !put(out, cap, &o, "Response xmlns:u=\"") || !put(out, cap, &o, service) ||
	    !put(out, cap, &o, "\">"))
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		if (xml_escape(esc, sizeof(esc), args[i].value) == (size_t)-1)
			return 0;
		if (!put(out, cap, &o, "<") || !put(out, cap, &o, args[i].name) ||
		    !put(out, cap, &o, ">") || !put(out, cap, &o, esc) ||
		    !put(out, cap, &o, "</") || !put(out, cap, &o, args[i].name) ||
		    !put(out, cap, &o, ">"))
			return 0;
	}
	if (!put(out, cap, &o, "</u:") || !put(out, cap, &o, action) ||
	    !put(out, cap, &o, "Response>" ENV_CLOSE))
		return 0;
	return o;
}

size_t soap_build_fault(char *out, size_t cap, int code, const char *desc)
{
	int n = snprintf(out, cap,
			 ENV_OPEN "<s:Fault><faultcode>s:Client</faultcode>"
			 "<faultstring>UPnPError</faultstring><detail>"
			 "<UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
			 "<errorCode>%d</errorCode><errorDescription>%s</errorDescription>"
			 "</UPnPError></detail></s:Fault>" ENV_CLOSE,
			 code, desc);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
