// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of the SOAP reader and writers (src/upnp_soap.c):
 * every input is a control request's body, and, split at its first NUL,
 * a SOAPACTION header value. A call that parses is answered with its own
 * arguments as outputs, and the answer parsed again must give them back;
 * a fault is built for it too. Exact-size buffers: ASan sees any over-read.
 *
 * Checked: the action and every argument's name and value are
 * NUL-terminated within their caps, at most SOAP_ARGS_MAX arguments (a
 * value may hold '<' from "&lt;"); the response round-trips (values escaped and decoded
 * back); an escaped string has no raw '<', '>', '&', '"' or '\''.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upnp_soap.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define OUT_CAP 16384

static void roundtrip(const struct soap_call *c)
{
	char *out = malloc(OUT_CAP), act[SOAP_NAME_MAX + 8];
	struct soap_call *back = malloc(sizeof(*back));
	size_t n = soap_build_response(out, OUT_CAP, "urn:x-test:service:T:1", c->action, c->args,
				       c->nr_args);
	bool plain = !strchr(c->action, ':');

	for (unsigned int i = 0; i < c->nr_args; i++)
		plain &= !strchr(c->args[i].name, ':');
	snprintf(act, sizeof(act), "%sResponse", c->action);
	if (n && plain && strlen(act) < SOAP_NAME_MAX) {
		char *exact = malloc(n);

		memcpy(exact, out, n);
		CHECK(soap_parse(exact, n, back));
		CHECK(!strcmp(back->action, act));
		CHECK(!strcmp(back->service, "urn:x-test:service:T:1"));
		CHECK(back->nr_args == c->nr_args);
		for (unsigned int i = 0; i < c->nr_args; i++) {
			CHECK(!strcmp(back->args[i].name, c->args[i].name));
			CHECK(!strcmp(back->args[i].value, c->args[i].value));
		}
		free(exact);
	}
	CHECK(soap_build_fault(out, OUT_CAP, 718, "ConflictInMappingEntry") > 0);
	free(back);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t hl = nul ? (size_t)(nul - data) : 0, bl = nul ? size - hl - 1 : size;
	char *hdr = malloc(hl ? hl : 1), *body = malloc(bl ? bl : 1);
	char svc[SOAP_SERVICE_MAX], act[SOAP_NAME_MAX], esc[64];
	struct soap_call *c = malloc(sizeof(*c));

	memcpy(hdr, data, hl);
	memcpy(body, nul ? nul + 1 : data, bl);
	if (soap_action_header(hdr, hl, svc, sizeof(svc), act, sizeof(act)))
		CHECK(strlen(svc) > 0 && strlen(act) > 0 && !strchr(svc, '"'));
	if (soap_parse(body, bl, c)) {
		CHECK(strnlen(c->action, SOAP_NAME_MAX) < SOAP_NAME_MAX && c->action[0]);
		CHECK(strnlen(c->service, SOAP_SERVICE_MAX) < SOAP_SERVICE_MAX);
		CHECK(c->nr_args <= SOAP_ARGS_MAX);
		for (unsigned int i = 0; i < c->nr_args; i++) {
			CHECK(strnlen(c->args[i].name, SOAP_NAME_MAX) < SOAP_NAME_MAX);
			CHECK(strnlen(c->args[i].value, SOAP_VALUE_MAX) < SOAP_VALUE_MAX);
		}
		roundtrip(c);
	}
	/* Escaping: whatever the input (up to its first NUL), into a small
	 * buffer: the result or a refusal, never an overflow. */
	{
		char *s = malloc(bl + 1);
		size_t n;

		memcpy(s, body, bl);
		s[bl] = '\0';
		n = xml_escape(esc, sizeof(esc), s);
		if (n != (size_t)-1) {
			CHECK(n == strlen(esc) && n < sizeof(esc));
			CHECK(!strpbrk(esc, "<>\"'"));
		}
		free(s);
	}
	free(c);
	free(body);
	free(hdr);
	return 0;
}
