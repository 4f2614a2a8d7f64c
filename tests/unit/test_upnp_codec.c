// SPDX-License-Identifier: GPL-2.0
/*
 * The UPnP IGD's pure parts: HTTP heads (src/upnp_http.c), SSDP searches
 * and types (src/upnp_ssdp.c), SOAP envelopes (src/upnp_soap.c), GENA
 * header values (src/upnp_gena.c) and the descriptions (src/upnp_desc.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "upnp_desc.h"
#include "upnp_gena.h"
#include "upnp_http.h"
#include "upnp_soap.h"
#include "upnp_ssdp.h"

#define S(lit) lit, sizeof(lit) - 1

TEST(upnp_http_head_complete_partial_and_bad)
{
	struct upnp_head h;
	size_t body = 0, total = 0;
	const struct upnp_str *v;

	ASSERT_EQ(upnp_request_parse(S("POST /ctl/IPConn1 HTTP/1.1\r\nContent-Length: 3\r\n"
				       "SOAPAction: \"x#y\"\r\n\r\nabc"), &h, &body, &total),
		  UPNP_OK, "whole request");
	ASSERT_EQ(body, 3, "body length");
	ASSERT_EQ(total, h.head_len + 3, "total");
	ASSERT_TRUE(upnp_str_eq(h.method, "POST", false), "method");
	ASSERT_TRUE(upnp_str_eq(h.target, "/ctl/IPConn1", false), "target");
	v = upnp_head_get(&h, "soapaction");
	ASSERT_TRUE(v && upnp_str_eq(*v, "\"x#y\"", false), "header names case-insensitive");
	ASSERT_EQ(upnp_request_parse(S("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab"), &h, &body,
				     &total), UPNP_MORE, "body not all there");
	ASSERT_EQ(upnp_request_parse(S("GET / HTTP/1.1\r\nHost: x\r\n"), &h, &body, &total),
		  UPNP_MORE, "head not ended");
	ASSERT_EQ(upnp_request_parse(S("GET / HTTP/2\r\n\r\n"), &h, &body, &total), UPNP_BAD,
		  "HTTP/2");
	ASSERT_EQ(upnp_request_parse(S("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), &h, &body, &total),
		  UPNP_BAD, "folded line");
	ASSERT_EQ(upnp_request_parse(S("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"), &h, &body, &total),
		  UPNP_BAD, "control character");
	ASSERT_EQ(upnp_request_parse(S("GET / HTTP/1.1\r\nBad Name: b\r\n\r\n"), &h, &body, &total),
		  UPNP_BAD, "blank in a header name");
	ASSERT_EQ(upnp_request_parse(S("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2"
				       "\r\n\r\nab"), &h, &body, &total), UPNP_BAD, "two lengths");
	ASSERT_EQ(upnp_request_parse(S("POST / HTTP/1.1\r\nContent-Length: 9000\r\n\r\n"), &h, &body,
				     &total), UPNP_TOO_BIG, "body over 8 KiB");
	ASSERT_EQ(upnp_request_parse(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), &h,
				     &body, &total), UPNP_UNSUPPORTED, "chunked");
}

TEST(upnp_http_head_over_its_caps_is_too_big)
{
	static char buf[UPNP_HEAD_MAX + 100];
	struct upnp_head h;
	size_t body, total, n = 0;

	n += snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
	for (int i = 0; i < UPNP_HDRS_MAX + 1; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "X%d: y\r\n", i);
	n += snprintf(buf + n, sizeof(buf) - n, "\r\n");
	ASSERT_EQ(upnp_request_parse(buf, n, &h, &body, &total), UPNP_TOO_BIG, "33 headers");
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
	ASSERT_EQ(upnp_request_parse(buf, sizeof(buf), &h, &body, &total), UPNP_TOO_BIG,
		  "a head past 4 KiB without its end");
}

static const struct upnp_ids ids = { .uuid = {
	{ "00000000-0000-4000-8000-000000000010", "00000000-0000-4000-8000-000000000011",
	  "00000000-0000-4000-8000-000000000012" },
	{ "00000000-0000-4000-8000-000000000020", "00000000-0000-4000-8000-000000000021",
	  "00000000-0000-4000-8000-000000000022" } } };

TEST(upnp_ssdp_search_parsed_and_matched_per_version)
{
	struct ssdp_search q;
	int n1 = 0, n2 = 0;

	ASSERT_TRUE(ssdp_parse(S("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
				 "MAN: \"ssdp:discover\"\r\nMX: 9\r\nST: urn:schemas-upnp-org:"
				 "device:InternetGatewayDevice:1\r\n\r\n"), true, &q), "search");
	ASSERT_EQ(q.mx, 5, "MX over 5 counts as 5");
	for (int i = 0; i < SSDP_NR_TYPES; i++) {
		n1 += ssdp_matches(&ids, 1, i, q.st);
		n2 += ssdp_matches(&ids, 2, i, q.st);
	}
	ASSERT_EQ(n1, 1, "the v1 root answers an IGD:1 search");
	ASSERT_EQ(n2, 0, "the v2 root does not (v1-only clients)");
	ASSERT_TRUE(ssdp_matches(&ids, 2, 2, "uuid:00000000-0000-4000-8000-000000000021"),
		    "an embedded device's uuid");
	ASSERT_TRUE(!ssdp_parse(S("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n"
				  "ST: ssdp:all\r\n\r\n"), true, &q), "multicast without MX");
	ASSERT_TRUE(ssdp_parse(S("M-SEARCH * HTTP/1.1\nMAN: \"ssdp:discover\"\nST: ssdp:all"),
			       false, &q), "unicast, bare LF, no blank line");
	ASSERT_TRUE(!ssdp_parse(S("M-SEARCH * HTTP/1.1\r\nMAN: ssdp:discover\r\nMX: 1\r\n"
				  "ST: ssdp:all\r\n\r\n"), true, &q), "MAN unquoted");
	ASSERT_TRUE(!ssdp_parse(S("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n"), true, &q),
		    "a NOTIFY is not a search");
}

TEST(upnp_ssdp_answer_and_notify_carry_type_and_usn)
{
	char nt[SSDP_ST_MAX], usn[2 * SSDP_ST_MAX], msg[SSDP_MSG_MAX];
	size_t n;

	ssdp_type(&ids, 2, 8, nt, sizeof(nt), usn, sizeof(usn));
	ASSERT_TRUE(!strcmp(nt, "urn:schemas-upnp-org:service:WANIPConnection:2"), nt);
	ASSERT_TRUE(!strcmp(usn, "uuid:00000000-0000-4000-8000-000000000022::"
			    "urn:schemas-upnp-org:service:WANIPConnection:2"), usn);
	n = ssdp_build_answer(msg, nt, usn, "http://192.0.2.1:5000/rootDesc2.xml", 3);
	ASSERT_TRUE(n && strstr(msg, "\r\nST: urn:schemas-upnp-org:service:WANIPConnection:2\r\n"),
		    msg);
	ASSERT_TRUE(strstr(msg, "\r\nEXT:\r\n") && strstr(msg, "LOCATION: http://192.0.2.1:5000/"),
		    msg);
	n = ssdp_build_notify(msg, false, nt, usn, NULL, 3);
	ASSERT_TRUE(n && strstr(msg, "NTS: ssdp:byebye") && !strstr(msg, "LOCATION"), msg);
}

TEST(upnp_soap_envelope_arguments_entities_and_header)
{
	struct soap_call c;
	static const char body[] =
		"<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/"
		"envelope/\"><s:Header><x><y a='1'/></x></s:Header><!-- c --><s:Body>"
		"<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
		"<NewRemoteHost/><NewExternalPort>26000</NewExternalPort>"
		"<NewPortMappingDescription>a &amp; b &lt;&#65;&#x42;&gt;</NewPortMappingDescription>"
		"</u:AddPortMapping></s:Body></s:Envelope>";

	ASSERT_TRUE(soap_parse(S(body), &c), "parsed");
	ASSERT_TRUE(!strcmp(c.action, "AddPortMapping"), c.action);
	ASSERT_TRUE(!strcmp(c.service, "urn:schemas-upnp-org:service:WANIPConnection:1"), c.service);
	ASSERT_EQ(c.nr_args, 3, "arguments");
	ASSERT_TRUE(soap_arg(&c, "NewRemoteHost") && !*soap_arg(&c, "NewRemoteHost"), "empty");
	ASSERT_TRUE(!strcmp(soap_arg(&c, "NewExternalPort"), "26000"), "port");
	ASSERT_TRUE(!strcmp(soap_arg(&c, "NewPortMappingDescription"), "a & b <AB>"), "entities");
}

TEST(upnp_soap_refuses_what_upnp_does_not_send)
{
	struct soap_call c;

	ASSERT_TRUE(!soap_parse(S("<!DOCTYPE a [<!ENTITY x \"y\">]><s:Envelope><s:Body><A/>"
				  "</s:Body></s:Envelope>"), &c), "a DTD");
	ASSERT_TRUE(!soap_parse(S("<s:Envelope><s:Body><A><B><C>x</C></B></A></s:Body>"
				  "</s:Envelope>"), &c), "nesting in an argument");
	ASSERT_TRUE(!soap_parse(S("<s:Envelope><s:Body><A/><B/></s:Body></s:Envelope>"), &c),
		    "two actions");
	ASSERT_TRUE(!soap_parse(S("<s:Envelope><s:Body><A><B>&foo;</B></A></s:Body></s:Envelope>"),
				&c), "an unknown entity");
	ASSERT_TRUE(!soap_parse(S("<s:Envelope><s:Body><A><B>&#0;</B></A></s:Body></s:Envelope>"),
				&c), "a NUL reference");
	ASSERT_TRUE(!soap_parse(S("<s:Envelope><s:Body><A><B>x</C></A></s:Body></s:Envelope>"), &c),
		    "mismatched end tag");
	ASSERT_TRUE(!soap_parse(S("<s:Envelope><s:Body><A><![CDATA[x]]></A></s:Body></s:Envelope>"),
				&c), "CDATA");
	ASSERT_TRUE(!soap_parse(S("<s:Envelope><s:Body><A>"), &c), "cut short");
	ASSERT_TRUE(soap_parse(S("<s:Envelope><s:Body><A/></s:Body></s:Envelope>"), &c),
		    "the smallest call");
}

TEST(upnp_soap_response_round_trips_and_action_header)
{
	struct soap_arg a[2] = { { "NewX", "1 < 2 & \"q\"" }, { "NewY", "" } };
	char out[2048], svc[SOAP_SERVICE_MAX], act[SOAP_NAME_MAX];
	struct soap_call c;
	size_t n = soap_build_response(out, sizeof(out), "urn:x:service:T:1", "Get", a, 2);

	ASSERT_TRUE(n && soap_parse(out, n, &c), out);
	ASSERT_TRUE(!strcmp(c.action, "GetResponse") && !strcmp(c.service, "urn:x:service:T:1"),
		    c.action);
	ASSERT_TRUE(!strcmp(soap_arg(&c, "NewX"), "1 < 2 & \"q\""), "escaped and back");
	ASSERT_EQ(soap_build_response(out, 100, "urn:x:service:T:1", "Get", a, 2), 0,
		  "too small: 0, not a cut envelope");
	ASSERT_TRUE(soap_action_header(S("\"urn:a:service:B:1#C\""), svc, sizeof(svc), act,
				       sizeof(act)) && !strcmp(svc, "urn:a:service:B:1") &&
		    !strcmp(act, "C"), "quoted");
	ASSERT_TRUE(!soap_action_header(S("urn:a:service:B:1"), svc, sizeof(svc), act, sizeof(act)),
		    "no #");
}

TEST(upnp_gena_callback_and_timeout)
{
	char path[GENA_PATH_MAX];
	struct upnp_str t;
	__be32 addr;
	__u16 port;

	ASSERT_TRUE(gena_parse_callback(S("<http://192.168.1.2:4000/ev/1>"), &addr, &port, path),
		    "callback");
	ASSERT_EQ(addr, htonl(0xc0a80102), "address");
	ASSERT_EQ(port, 4000, "port");
	ASSERT_TRUE(!strcmp(path, "/ev/1"), path);
	ASSERT_TRUE(gena_parse_callback(S("<http://10.0.0.1>"), &addr, &port, path) && port == 80 &&
		    !strcmp(path, "/"), "no port, no path");
	ASSERT_TRUE(!gena_parse_callback(S("<http://host.example/x>"), &addr, &port, path),
		    "a name, not an address");
	ASSERT_TRUE(!gena_parse_callback(S("<http://10.0.0.1:0/x>"), &addr, &port, path), "port 0");
	ASSERT_TRUE(!gena_parse_callback(S("http://10.0.0.1/x"), &addr, &port, path), "no <>");
	t = (struct upnp_str){ S("Second-60") };
	ASSERT_EQ(gena_parse_timeout(&t), 300, "at least 300");
	t = (struct upnp_str){ S("Second-infinite") };
	ASSERT_EQ(gena_parse_timeout(&t), 1800, "infinite is 1800");
	ASSERT_EQ(gena_parse_timeout(NULL), 1800, "absent");
}

TEST(upnp_desc_lists_the_actions_control_answers)
{
	static char doc[UPNP_DESC_MAX];
	size_t n = upnp_desc_scpd(doc, sizeof(doc), UPNP_SVC_IPCONN, 1);

	ASSERT_TRUE(n && strstr(doc, "<name>AddPortMapping</name>"), "v1 AddPortMapping");
	ASSERT_TRUE(!strstr(doc, "AddAnyPortMapping"), "v1 has no AddAnyPortMapping");
	ASSERT_TRUE(upnp_desc_has_action(UPNP_SVC_IPCONN, 2, "AddAnyPortMapping"), "v2 has it");
	ASSERT_TRUE(!upnp_desc_has_action(UPNP_SVC_IPCONN, 1, "AddAnyPortMapping"), "v1 not");
	n = upnp_desc_scpd(doc, sizeof(doc), UPNP_SVC_IPCONN, 2);
	ASSERT_TRUE(n && strstr(doc, "<name>DeletePortMappingRange</name>"), "v2 range delete");
	n = upnp_desc_root(doc, sizeof(doc), 2, &ids);
	ASSERT_TRUE(n && strstr(doc, "<UDN>uuid:00000000-0000-4000-8000-000000000022</UDN>") &&
		    strstr(doc, "<controlURL>/ctl/IPConn2</controlURL>"), doc);
	ASSERT_EQ(upnp_desc_root(doc, 64, 1, &ids), 0, "too small: 0");
}
