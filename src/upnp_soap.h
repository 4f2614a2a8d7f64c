/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SOAP 1.1 as UPnP control uses it (UDA 1.1 §3): one action element with
 * flat string arguments in the envelope's body, answered by a response
 * element or a UPnPError fault. A reader of exactly that subset of XML
 * (no DTD, no CDATA, depth <= 5, the five entities and character
 * references), and the writers. Pure: no I/O (tests/fuzz/lf_soap.c).
 */
#ifndef FC_UPNP_SOAP_H
#define FC_UPNP_SOAP_H

#include <stdbool.h>
#include <stddef.h>

#define SOAP_NAME_MAX 64
#define SOAP_VALUE_MAX 256
#define SOAP_ARGS_MAX 12
#define SOAP_SERVICE_MAX 96

struct soap_arg {
	char name[SOAP_NAME_MAX];
	char value[SOAP_VALUE_MAX];	/* entities decoded, NUL-terminated */
};

struct soap_call {
	char action[SOAP_NAME_MAX];
	char service[SOAP_SERVICE_MAX];	/* the action element's namespace */
	unsigned int nr_args;
	struct soap_arg args[SOAP_ARGS_MAX];
};

/* Parse a control request's body. false: not an envelope holding one
 * action with at most SOAP_ARGS_MAX arguments within the caps (402 or 401
 * for the caller to pick; UPnP answers a bad envelope with 401). */
bool soap_parse(const char *body, size_t len, struct soap_call *c);

/* The SOAPACTION header's value: "service#action", quotes optional.
 * false: not of that form or over the caps. */
bool soap_action_header(const char *v, size_t len, char *service, size_t slen, char *action,
			size_t alen);

/* An argument's value by name, NULL: absent. */
const char *soap_arg(const struct soap_call *c, const char *name);

/* A response envelope for action of service with n output arguments
 * (values escaped here). Returns its length, 0: did not fit in cap. */
size_t soap_build_response(char *out, size_t cap, const char *service, const char *action,
			   const struct soap_arg *args, unsigned int n);
/* A UPnPError fault (sent with HTTP 500). */
size_t soap_build_fault(char *out, size_t cap, int code, const char *desc);

/* XML-escape s into out (cap bytes, NUL-terminated); the length, or
 * (size_t)-1 when it did not fit. */
size_t xml_escape(char *out, size_t cap, const char *s);

#endif
