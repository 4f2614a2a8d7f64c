// SPDX-License-Identifier: GPL-2.0
/*
 * The IGD's actions on the shared mapping table (upnp_control.h). A UPnP
 * mapping is the same object as a NAT-PMP/PCP one (flagged
 * FC_BINDING_UPNP besides), under the same per-host limit, lifetime clamp
 * and owner rule; what differs is the vocabulary: UPnP names the external
 * port (AddPortMapping takes it or fails with 718, AddAnyPortMapping may
 * give another) and deletes by external port.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gc.h"
#include "log.h"
#include "pcp_table.h"
#include "upnp_control.h"

#define NS 1000000000ULL

enum upnp_err {
	E_INVALID_ACTION = 401,
	E_INVALID_ARGS = 402,
	E_ACTION_FAILED = 501,
	E_NOT_AUTHORIZED = 606,
	E_INDEX_INVALID = 713,
	E_NO_SUCH_ENTRY = 714,
	E_WILDCARD_EXT_PORT = 716,
	E_CONFLICT = 718,
	E_REMOTE_HOST_WILDCARD = 726,
	E_NO_PORT_MAPS = 728,
	E_NOT_FOUND = 730,
	E_WILDCARD_INT_PORT = 732,
	E_INCONSISTENT = 733,
};

static const char *err_name(int code)
{
	switch (code) {
	case E_INVALID_ACTION: return "Invalid Action";
	case E_INVALID_ARGS: return "Invalid Args";
	case E_NOT_AUTHORIZED: return "Action not authorized";
	case E_INDEX_INVALID: return "SpecifiedArrayIndexInvalid";
	case E_NO_SUCH_ENTRY: return "NoSuchEntryInArray";
	case E_WILDCARD_EXT_PORT: return "WildCardNotPermittedInExtPort";
	case E_CONFLICT: return "ConflictInMappingEntry";
	case E_REMOTE_HOST_WILDCARD: return "RemoteHostOnlySupportsWildcard";
	case E_NO_PORT_MAPS: return "NoPortMapsAvailable";
	case E_NOT_FOUND: return "PortMappingNotFound";
	case E_WILDCARD_INT_PORT: return "WildCardNotPermittedInIntPort";
	case E_INCONSISTENT: return "InconsistentParameters";
	default: return "Action Failed";
	}
}

/* ---- argument values (UDA 1.1 §2.5 data types) ---- */

static bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long n = 0;

	if (!s || !*s || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (*s - '0');
	}
	if (n > max)
		return false;
	*v = n;
	return true;
}

static bool parse_bool(const char *s, bool *v)
{
	if (!s)
		return false;
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		*v = true;
	else if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no"))
		*v = false;
	else
		return false;
	return true;
}

static bool parse_proto(const char *s, __u8 *proto)
{
	if (s && !strcasecmp(s, "TCP"))
		*proto = FC_PROTO_TCP;
	else if (s && !strcasecmp(s, "UDP"))
		*proto = FC_PROTO_UDP;
	else
		return false;
	return true;
}

/* ---- output ---- */

struct outs {
	unsigned int n;
	struct soap_arg a[9];
};

static void out_str(struct outs *o, const char *name, const char *value)
{
	snprintf(o->a[o->n].name, SOAP_NAME_MAX, "%s", name);
	snprintf(o->a[o->n].value, SOAP_VALUE_MAX, "%s", value);
	o->n++;
}

static void out_uint(struct outs *o, const char *name, unsigned long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lu", v);
	out_str(o, name, buf);
}

static const char *service_type(const struct upnp_ctl *x, char *buf, size_t len)
{
	if (x->svc == UPNP_SVC_CIF)
		return "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1";
	snprintf(buf, len, "urn:schemas-upnp-org:service:WANIPConnection:%d", x->v);
	return buf;
}

/* ---- the owner rule ---- */

/* May the control point map or delete for client? Its own address, or
 * with --pcp-third-party another that could ask itself (PCP's rule). */
static bool may_act_for(const struct upnp_ctl *x, const struct pcp_host *client)
{
	struct pcp_host self = pcp_host4(x->src);

	if (pcp_host_eq(client, &self))
		return true;
	return pcp_opts(x->pcp)->third_party && pcp_client_allowed(x->pcp, client, x->ifindex);
}

/* ---- actions ---- */

static void entry_out(const struct upnp_ctl *x, const struct pcp_mapping *m, bool with_key,
		      struct outs *o)
{
	__u64 now = gc_now_ns();
	char addr[INET6_ADDRSTRLEN];

	if (with_key) {
		out_str(o, "NewRemoteHost", "");
		out_uint(o, "NewExternalPort", m->ext_port);
		out_str(o, "NewProtocol", m->proto == FC_PROTO_TCP ? "TCP" : "UDP");
	}
	/* A NAT64 client's (PCP over IPv6) shows as its IPv6 address. */
	inet_ntop(m->host.family == FC_AF_INET6 ? AF_INET6 : AF_INET, &m->host.addr, addr,
		  sizeof(addr));
	out_uint(o, "NewInternalPort", m->int_port);
	out_str(o, "NewInternalClient", addr);
	out_str(o, "NewEnabled", "1");
	out_str(o, "NewPortMappingDescription", m->upnp ? m->desc : "NAT-PMP/PCP");
	out_uint(o, "NewLeaseDuration",
		 m->expires_ns > now ? (m->expires_ns - now + NS - 1) / NS : 0);
	(void)x;
}

/* AddPortMapping (any: AddAnyPortMapping). 0 or an error code. */
static int add_mapping(const struct upnp_ctl *x, const struct soap_call *c, bool any,
		       __u16 *got)
{
	const char *rh = soap_arg(c, "NewRemoteHost"), *ic = soap_arg(c, "NewInternalClient");
	unsigned long ext, iport, lease;
	struct map_ans a = {};
	enum map_status st;
	struct pcp_host host;
	__be32 client;
	__u8 proto;
	bool enabled;

	if (!rh || !ic || !parse_proto(soap_arg(c, "NewProtocol"), &proto) ||
	    !parse_uint(soap_arg(c, "NewExternalPort"), 65535, &ext) ||
	    !parse_uint(soap_arg(c, "NewInternalPort"), 65535, &iport) ||
	    !parse_uint(soap_arg(c, "NewLeaseDuration"), 0xffffffffUL, &lease) ||
	    !parse_bool(soap_arg(c, "NewEnabled"), &enabled) ||
	    inet_pton(AF_INET, ic, &client) != 1)
		return E_INVALID_ARGS;
	/* Full cone: any remote host may use a mapping, so only the wildcard
	 * describes one truthfully. */
	if (*rh && strcmp(rh, "*"))
		return E_REMOTE_HOST_WILDCARD;
	if (!ext && !any)
		return E_WILDCARD_EXT_PORT;
	if (!iport)
		return x->v >= 2 ? E_WILDCARD_INT_PORT : E_INVALID_ARGS;
	/* A disabled mapping would be an entry that maps nothing: not kept. */
	if (!enabled)
		return E_INVALID_ARGS;
	if (x->v >= 2 && lease > UPNP_MAX_LEASE)
		return E_INVALID_ARGS;
	host = pcp_host4(client);
	if (!may_act_for(x, &host))
		return E_NOT_AUTHORIZED;
	/* Lease 0: v1's "permanent", v2's "the maximum". Both get the longest
	 * lifetime granted (--pcp-max-lifetime): nothing here is permanent,
	 * as a v2 IGD never makes static mappings. Non-zero leases are
	 * supported, so v1's 725 OnlyPermanentLeasesSupported never applies. */
	st = pcp_table_map(pcp_table_of(x->pcp), &(struct map_req){
		.proto = proto, .host = host, .int_port = iport, .suggested = ext,
		.lifetime = pcp_grant_lifetime(x->pcp, lease ? lease : UPNP_MAX_LEASE),
		.prefer_failure = !any, .origin = FC_BINDING_UPNP,
		.desc = soap_arg(c, "NewPortMappingDescription") ?: "",
	}, &a);
	switch (st) {
	case MAP_OK:
		if (!any && a.ext_port != ext)
			return E_CONFLICT;
		*got = a.ext_port;
		return 0;
	case MAP_PORT_UNAVAILABLE:
	case MAP_REFUSED:
		return E_CONFLICT;
	case MAP_QUOTA:
		return x->v >= 2 ? E_NO_PORT_MAPS : E_ACTION_FAILED;
	case MAP_NO_RESOURCES:
		return any ? E_NO_PORT_MAPS : E_CONFLICT;
	default:
		return E_ACTION_FAILED;
	}
}

static int delete_mapping(const struct upnp_ctl *x, const struct soap_call *c)
{
	const char *rh = soap_arg(c, "NewRemoteHost");
	struct pcp_table *t = pcp_table_of(x->pcp);
	struct pcp_host self = pcp_host4(x->src);
	struct pcp_mapping *m;
	unsigned long ext;
	__u8 proto;

	if (!rh || !parse_proto(soap_arg(c, "NewProtocol"), &proto) ||
	    !parse_uint(soap_arg(c, "NewExternalPort"), 65535, &ext))
		return E_INVALID_ARGS;
	m = pcp_table_find_ext(t, proto, pcp_table_ext_addr(t, &self), ext);
	if (!m)
		return E_NO_SUCH_ENTRY;
	if (!may_act_for(x, &m->host))
		return E_NOT_AUTHORIZED;
	if (pcp_table_unmap(t, proto, &m->host, FC_AF_INET, m->int_port, NULL) != MAP_OK)
		return E_NOT_AUTHORIZED;
	return 0;
}

static int delete_range(const struct upnp_ctl *x, const struct soap_call *c)
{
	struct pcp_table *t = pcp_table_of(x->pcp);
	struct pcp_host self = pcp_host4(x->src);
	unsigned long start, end;
	unsigned int n = 0;
	bool manage;
	__u8 proto;

	if (!parse_proto(soap_arg(c, "NewProtocol"), &proto) ||
	    !parse_uint(soap_arg(c, "NewStartPort"), 65535, &start) ||
	    !parse_uint(soap_arg(c, "NewEndPort"), 65535, &end) ||
	    !parse_bool(soap_arg(c, "NewManage"), &manage))
		return E_INVALID_ARGS;
	if (start > end)
		return E_INCONSISTENT;
	/* Manage asks for others' mappings too: granted only as far as the
	 * owner rule goes (third party), like every other delete. */
	for (unsigned int i = 0; i < t->nr_table;) {
		struct pcp_mapping *m = &t->table[i];
		unsigned int before = t->nr_table;

		if (m->proto == proto && m->ext.family == FC_AF_INET && m->ext_port >= start &&
		    m->ext_port <= end &&
		    (pcp_host_eq(&m->host, &self) || (manage && may_act_for(x, &m->host))) &&
		    pcp_table_unmap(t, proto, &m->host, FC_AF_INET, m->int_port, NULL) == MAP_OK) {
			n++;
			if (t->nr_table < before)
				continue;	/* slot i holds another entry now */
		}
		i++;
	}
	return n ? 0 : E_NOT_FOUND;
}

static int dispatch(const struct upnp_ctl *x, const struct soap_call *c, struct outs *o)
{
	struct pcp_table *t = pcp_table_of(x->pcp);
	const char *a = c->action;
	/* The control point's own (paired) address: its mappings' too. */
	struct pcp_host self = pcp_host4(x->src);
	__be32 ext = pcp_table_ext_addr(t, &self);
	char addr[INET_ADDRSTRLEN] = "";
	unsigned long v;
	int err;

	if (!upnp_desc_has_action(x->svc, x->v, a))
		return E_INVALID_ACTION;
	if (ext)
		inet_ntop(AF_INET, &ext, addr, sizeof(addr));
	if (!strcmp(a, "GetCommonLinkProperties")) {
		out_str(o, "NewWANAccessType", "Ethernet");
		out_uint(o, "NewLayer1UpstreamMaxBitRate", 0);
		out_uint(o, "NewLayer1DownstreamMaxBitRate", 0);
		out_str(o, "NewPhysicalLinkStatus", ext ? "Up" : "Down");
	} else if (!strcmp(a, "GetConnectionTypeInfo")) {
		out_str(o, "NewConnectionType", "IP_Routed");
		out_str(o, "NewPossibleConnectionTypes", "IP_Routed");
	} else if (!strcmp(a, "GetStatusInfo")) {
		out_str(o, "NewConnectionStatus", ext ? "Connected" : "Disconnected");
		out_str(o, "NewLastConnectionError", "ERROR_NONE");
		out_uint(o, "NewUptime", (gc_now_ns() - x->started_ns) / NS);
	} else if (!strcmp(a, "GetNATRSIPStatus")) {
		out_str(o, "NewRSIPAvailable", "0");
		out_str(o, "NewNATEnabled", "1");
	} else if (!strcmp(a, "GetExternalIPAddress")) {
		out_str(o, "NewExternalIPAddress", addr);
	} else if (!strcmp(a, "GetGenericPortMappingEntry")) {
		const struct pcp_mapping *m;

		if (!parse_uint(soap_arg(c, "NewPortMappingIndex"), 65535, &v))
			return E_INVALID_ARGS;
		m = pcp_table_nth4(t, v);
		if (!m)
			return E_INDEX_INVALID;
		entry_out(x, m, true, o);
	} else if (!strcmp(a, "GetSpecificPortMappingEntry")) {
		const struct pcp_mapping *m;
		__u8 proto;

		if (!soap_arg(c, "NewRemoteHost") ||
		    !parse_proto(soap_arg(c, "NewProtocol"), &proto) ||
		    !parse_uint(soap_arg(c, "NewExternalPort"), 65535, &v))
			return E_INVALID_ARGS;
		m = pcp_table_find_ext(t, proto, ext, v);
		if (!m)
			return E_NO_SUCH_ENTRY;
		entry_out(x, m, false, o);
	} else if (!strcmp(a, "AddPortMapping") || !strcmp(a, "AddAnyPortMapping")) {
		bool any = a[3] == 'A';
		__u16 port = 0;

		err = add_mapping(x, c, any, &port);
		if (err)
			return err;
		if (any)
			out_uint(o, "NewReservedPort", port);
	} else if (!strcmp(a, "DeletePortMapping")) {
		return delete_mapping(x, c);
	} else if (!strcmp(a, "DeletePortMappingRange")) {
		return delete_range(x, c);
	} else {
		return E_INVALID_ACTION;
	}
	return 0;
}

int upnp_control(const struct upnp_ctl *x, const struct soap_call *call, char *out, size_t cap,
		 size_t *len)
{
	struct outs o = { 0 };
	char st[SOAP_SERVICE_MAX];
	int err = dispatch(x, call, &o);

	if (err) {
		fc_debug("upnp: %s from %s: error %d %s", call->action,
			 inet_ntoa((struct in_addr){ x->src }), err, err_name(err));
		*len = soap_build_fault(out, cap, err, err_name(err));
		return 500;
	}
	*len = soap_build_response(out, cap, service_type(x, st, sizeof(st)), call->action, o.a,
				   o.n);
	return 200;
}
