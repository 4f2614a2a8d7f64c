// SPDX-License-Identifier: GPL-2.0
/*
 * Device and service descriptions of the IGD (upnp_desc.h). The SCPDs are
 * generated from one table of actions, arguments and state variables, so
 * what is described is what upnp_control.c answers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "upnp_desc.h"

struct out {
	char *p;
	size_t cap, n;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->n)
		o->full = true;
	else
		o->n += n;
}

size_t upnp_desc_root(char *out, size_t cap, int v, const struct upnp_ids *ids)
{
	struct out o = { out, cap, 0, false };
	const char (*u)[UPNP_UUID_LEN + 1] = ids->uuid[v - 1];

	put(&o, "<?xml version=\"1.0\"?>\r\n"
		"<root xmlns=\"urn:schemas-upnp-org:device-1-0\"%s>\r\n"
		"<specVersion><major>1</major><minor>%d</minor></specVersion>\r\n",
	    v == 2 ? " configId=\"1\"" : "", v == 2 ? 1 : 0);
	put(&o, "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:%d</deviceType>"
		"<friendlyName>fcnat gateway</friendlyName><manufacturer>fcnat</manufacturer>"
		"<modelName>fcnat</modelName><modelNumber>%d</modelNumber>"
		"<UDN>uuid:%s</UDN>\r\n<deviceList>", v, v, u[UPNP_DEV_ROOT]);
	put(&o, "<device><deviceType>urn:schemas-upnp-org:device:WANDevice:%d</deviceType>"
		"<friendlyName>WAN device</friendlyName><manufacturer>fcnat</manufacturer>"
		"<modelName>fcnat</modelName><UDN>uuid:%s</UDN>\r\n"
		"<serviceList><service>"
		"<serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType>"
		"<serviceId>urn:upnp-org:serviceId:WANCommonIFC1</serviceId>"
		"<SCPDURL>/WANCfg.xml</SCPDURL><controlURL>/ctl/CmnIfCfg%d</controlURL>"
		"<eventSubURL>/evt/CmnIfCfg%d</eventSubURL></service></serviceList>\r\n<deviceList>",
	    v, u[UPNP_DEV_WAN], v, v);
	put(&o, "<device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:%d</deviceType>"
		"<friendlyName>WAN connection</friendlyName><manufacturer>fcnat</manufacturer>"
		"<modelName>fcnat</modelName><UDN>uuid:%s</UDN>\r\n"
		"<serviceList><service>"
		"<serviceType>urn:schemas-upnp-org:service:WANIPConnection:%d</serviceType>"
		"<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>"
		"<SCPDURL>/WANIPCn%d.xml</SCPDURL><controlURL>/ctl/IPConn%d</controlURL>"
		"<eventSubURL>/evt/IPConn%d</eventSubURL></service></serviceList>\r\n"
		"</device></deviceList></device></deviceList></device>\r\n</root>\r\n",
	    v, u[UPNP_DEV_CONN], v, v, v, v);
	return o.full ? 0 : o.n;
}

struct arg {
	const char *name;
	const char *var;
	bool out;
};

struct action {
	const char *name;
	enum upnp_svc svc;
	int min_v;
	struct arg args[9];
};

static const struct action actions[] = {
	{ "GetCommonLinkProperties", UPNP_SVC_CIF, 1, {
		{ "NewWANAccessType", "WANAccessType", true },
		{ "NewLayer1UpstreamMaxBitRate", "Layer1UpstreamMaxBitRate", true },
		{ "NewLayer1DownstreamMaxBitRate", "Layer1DownstreamMaxBitRate", true },
		{ "NewPhysicalLinkStatus", "PhysicalLinkStatus", true } } },
	{ "GetConnectionTypeInfo", UPNP_SVC_IPCONN, 1, {
		{ "NewConnectionType", "ConnectionType", true },
		{ "NewPossibleConnectionTypes", "PossibleConnectionTypes", true } } },
	{ "GetStatusInfo", UPNP_SVC_IPCONN, 1, {
		{ "NewConnectionStatus", "ConnectionStatus", true },
		{ "NewLastConnectionError", "LastConnectionError", true },
		{ "NewUptime", "Uptime", true } } },
	{ "GetNATRSIPStatus", UPNP_SVC_IPCONN, 1, {
		{ "NewRSIPAvailable", "RSIPAvailable", true },
		{ "NewNATEnabled", "NATEnabled", true } } },
	{ "GetExternalIPAddress", UPNP_SVC_IPCONN, 1, {
		{ "NewExternalIPAddress", "ExternalIPAddress", true } } },
	{ "GetGenericPortMappingEntry", UPNP_SVC_IPCONN, 1, {
		{ "NewPortMappingIndex", "PortMappingNumberOfEntries", false },
		{ "NewRemoteHost", "RemoteHost", true },
		{ "NewExternalPort", "ExternalPort", true },
		{ "NewProtocol", "PortMappingProtocol", true },
		{ "NewInternalPort", "InternalPort", true },
		{ "NewInternalClient", "InternalClient", true },
		{ "NewEnabled", "PortMappingEnabled", true },
		{ "NewPortMappingDescription", "PortMappingDescription", true },
		{ "NewLeaseDuration", "PortMappingLeaseDuration", true } } },
	{ "GetSpecificPortMappingEntry", UPNP_SVC_IPCONN, 1, {
		{ "NewRemoteHost", "RemoteHost", false },
		{ "NewExternalPort", "ExternalPort", false },
		{ "NewProtocol", "PortMappingProtocol", false },
		{ "NewInternalPort", "InternalPort", true },
		{ "NewInternalClient", "InternalClient", true },
		{ "NewEnabled", "PortMappingEnabled", true },
		{ "NewPortMappingDescription", "PortMappingDescription", true },
		{ "NewLeaseDuration", "PortMappingLeaseDuration", true } } },
	{ "AddPortMapping", UPNP_SVC_IPCONN, 1, {
		{ "NewRemoteHost", "RemoteHost", false },
		{ "NewExternalPort", "ExternalPort", false },
		{ "NewProtocol", "PortMappingProtocol", false },
		{ "NewInternalPort", "InternalPort", false },
		{ "NewInternalClient", "InternalClient", false },
		{ "NewEnabled", "PortMappingEnabled", false },
		{ "NewPortMappingDescription", "PortMappingDescription", false },
		{ "NewLeaseDuration", "PortMappingLeaseDuration", false } } },
	{ "AddAnyPortMapping", UPNP_SVC_IPCONN, 2, {
		{ "NewRemoteHost", "RemoteHost", false },
		{ "NewExternalPort", "ExternalPort", false },
		{ "NewProtocol", "PortMappingProtocol", false },
		{ "NewInternalPort", "InternalPort", false },
		{ "NewInternalClient", "InternalClient", false },
		{ "NewEnabled", "PortMappingEnabled", false },
		{ "NewPortMappingDescription", "PortMappingDescription", false },
		{ "NewLeaseDuration", "PortMappingLeaseDuration", false },
		{ "NewReservedPort", "ExternalPort", true } } },
	{ "DeletePortMapping", UPNP_SVC_IPCONN, 1, {
		{ "NewRemoteHost", "RemoteHost", false },
		{ "NewExternalPort", "ExternalPort", false },
		{ "NewProtocol", "PortMappingProtocol", false } } },
	{ "DeletePortMappingRange", UPNP_SVC_IPCONN, 2, {
		{ "NewStartPort", "ExternalPort", false },
		{ "NewEndPort", "ExternalPort", false },
		{ "NewProtocol", "PortMappingProtocol", false },
		{ "NewManage", "A_ARG_TYPE_Manage", false } } },
};

struct var {
	const char *name;
	const char *type;
	enum upnp_svc svc;
	bool events;
	const char *allowed;	/* space-separated allowedValueList, NULL: none */
};

static const struct var vars[] = {
	{ "WANAccessType", "string", UPNP_SVC_CIF, false, "Ethernet" },
	{ "Layer1UpstreamMaxBitRate", "ui4", UPNP_SVC_CIF, false, NULL },
	{ "Layer1DownstreamMaxBitRate", "ui4", UPNP_SVC_CIF, false, NULL },
	{ "PhysicalLinkStatus", "string", UPNP_SVC_CIF, true, "Up Down" },
	{ "ConnectionType", "string", UPNP_SVC_IPCONN, false, NULL },
	{ "PossibleConnectionTypes", "string", UPNP_SVC_IPCONN, true, "IP_Routed" },
	{ "ConnectionStatus", "string", UPNP_SVC_IPCONN, true, "Connected Disconnected" },
	{ "Uptime", "ui4", UPNP_SVC_IPCONN, false, NULL },
	{ "LastConnectionError", "string", UPNP_SVC_IPCONN, false, "ERROR_NONE" },
	{ "RSIPAvailable", "boolean", UPNP_SVC_IPCONN, false, NULL },
	{ "NATEnabled", "boolean", UPNP_SVC_IPCONN, false, NULL },
	{ "ExternalIPAddress", "string", UPNP_SVC_IPCONN, true, NULL },
	{ "PortMappingNumberOfEntries", "ui2", UPNP_SVC_IPCONN, true, NULL },
	{ "PortMappingEnabled", "boolean", UPNP_SVC_IPCONN, false, NULL },
	{ "PortMappingLeaseDuration", "ui4", UPNP_SVC_IPCONN, false, NULL },
	{ "RemoteHost", "string", UPNP_SVC_IPCONN, false, NULL },
	{ "ExternalPort", "ui2", UPNP_SVC_IPCONN, false, NULL },
	{ "InternalPort", "ui2", UPNP_SVC_IPCONN, false, NULL },
	{ "PortMappingProtocol", "string", UPNP_SVC_IPCONN, false, "TCP UDP" },
	{ "InternalClient", "string", UPNP_SVC_IPCONN, false, NULL },
	{ "PortMappingDescription", "string", UPNP_SVC_IPCONN, false, NULL },
	{ "A_ARG_TYPE_Manage", "boolean", UPNP_SVC_IPCONN, false, NULL },
};

size_t upnp_desc_scpd(char *out, size_t cap, enum upnp_svc svc, int v)
{
	struct out o = { out, cap, 0, false };

	put(&o, "<?xml version=\"1.0\"?>\r\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">"
		"<specVersion><major>1</major><minor>%d</minor></specVersion>\r\n<actionList>",
	    v == 2 ? 1 : 0);
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		const struct action *a = &actions[i];

		if (a->svc != svc || a->min_v > v)
			continue;
		put(&o, "<action><name>%s</name><argumentList>", a->name);
		for (const struct arg *g = a->args; g < a->args + 9 && g->name; g++)
			put(&o, "<argument><name>%s</name><direction>%s</direction>"
				"<relatedStateVariable>%s</relatedStateVariable></argument>",
			    g->name, g->out ? "out" : "in", g->var);
		put(&o, "</argumentList></action>\r\n");
	}
	put(&o, "</actionList>\r\n<serviceStateTable>");
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const struct var *s = &vars[i];

		if (s->svc != svc || (!strcmp(s->name, "A_ARG_TYPE_Manage") && v < 2))
			continue;
		put(&o, "<stateVariable sendEvents=\"%s\"><name>%s</name><dataType>%s</dataType>",
		    s->events ? "yes" : "no", s->name, s->type);
		if (s->allowed) {
			char buf[64];
			const char *p = s->allowed;

			put(&o, "<allowedValueList>");
			while (*p) {
				size_t n = strcspn(p, " ");

				snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
				put(&o, "<allowedValue>%s</allowedValue>", buf);
				p += n + (p[n] == ' ');
			}
			put(&o, "</allowedValueList>");
		}
		put(&o, "</stateVariable>\r\n");
	}
	put(&o, "</serviceStateTable></scpd>\r\n");
	return o.full ? 0 : o.n;
}

bool upnp_desc_has_action(enum upnp_svc svc, int v, const char *action)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (actions[i].svc == svc && actions[i].min_v <= v &&
		    !strcmp(actions[i].name, action))
			return true;
	return false;
}
