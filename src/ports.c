// SPDX-License-Identifier: GPL-2.0
/* External port ranges per protocol (see ports.h). */
#include <string.h>

#include <fcnat/rules.h>

#include "ports.h"

static const char *const slot_names[FC_SUB_PROTOS] = {
	[FC_SUB_TCP] = "tcp", [FC_SUB_UDP] = "udp", [FC_SUB_ICMP] = "icmp",
};

static const char *const slot_options[FC_SUB_PROTOS] = {
	[FC_SUB_TCP] = "--tcp-ports", [FC_SUB_UDP] = "--udp-ports", [FC_SUB_ICMP] = "--icmp-ids",
};

const char *ports_slot_name(unsigned int slot)
{
	return slot < FC_SUB_PROTOS ? slot_names[slot] : "?";
}

const char *ports_slot_option(unsigned int slot)
{
	return slot < FC_SUB_PROTOS ? slot_options[slot] : "?";
}

const struct fc_port_range *ports_of(const struct fc_options *o, unsigned int slot,
				     unsigned int *nr)
{
	if (slot < FC_SUB_PROTOS && o->proto_ports[slot].set) {
		*nr = o->proto_ports[slot].nr;
		return o->proto_ports[slot].r;
	}
	*nr = o->nr_port_ranges;
	return o->port_ranges;
}

const struct fc_port_range *ports_of_proto(const struct fc_options *o, __u8 proto,
					   unsigned int *nr)
{
	return ports_of(o, fc_proto_slot(proto), nr);
}

void ports_fill(const struct fc_options *o, struct fc_port_set sets[FC_SUB_PROTOS])
{
	for (unsigned int s = 0; s < FC_SUB_PROTOS; s++) {
		unsigned int nr;
		const struct fc_port_range *r = ports_of(o, s, &nr);

		memset(&sets[s], 0, sizeof(sets[s]));
		sets[s].nr = nr;
		for (unsigned int i = 0; i < nr && i < FC_MAX_PORT_RANGES; i++) {
			sets[s].r[i] = r[i];
			sets[s].total += r[i].last - r[i].first + 1;
		}
	}
}

int ports_parse_proto(struct fc_options *o, unsigned int slot, const char *value,
		      char *err, size_t errlen)
{
	struct fc_proto_ports *p = &o->proto_ports[slot];
	bool none = !*value || !strcmp(value, "none");

	/* "none" stands alone: mixed with ranges it would be a typo. */
	if (p->set && (none || p->off)) {
		snprintf(err, errlen, "'none' (no NAT for %s) cannot be combined with ranges",
			 slot_names[slot]);
		return -1;
	}
	p->set = true;
	if (none) {
		p->off = true;
		p->nr = 0;
		return 0;
	}
	return parse_port_ranges(value, p->r, &p->nr, err, errlen);
}

int ports_check(const struct fc_options *o, char *err, size_t errlen)
{
	bool any = false;

	for (unsigned int s = 0; s < FC_SUB_PROTOS; s++) {
		unsigned int nr;

		ports_of(o, s, &nr);
		any |= nr != 0;
		/* Port blocks and deterministic NAT hand out one range to
		 * every protocol alike. */
		if (o->proto_ports[s].set && (o->cgnat.block_size || o->cgnat.det_on)) {
			snprintf(err, errlen, "%s cannot be used with --port-block-size or "
				 "--deterministic (they use the one --ports range for every "
				 "protocol)", slot_options[s]);
			return -1;
		}
	}
	if (!any) {
		snprintf(err, errlen, "no protocol has ports: --tcp-ports, --udp-ports and "
			 "--icmp-ids are all 'none'");
		return -1;
	}
	return 0;
}

unsigned int ports_total(const struct fc_port_range *ranges, unsigned int nr)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr; i++)
		n += ranges[i].last - ranges[i].first + 1;
	return n;
}

void ports_describe(const struct fc_options *o, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned int s = 0; s < FC_SUB_PROTOS && at < len; s++) {
		const struct fc_proto_ports *p = &o->proto_ports[s];

		if (!p->set)
			continue;
		if (p->off)
			at += snprintf(buf + at, len - at, ", %s none", slot_names[s]);
		else
			at += snprintf(buf + at, len - at, ", %s %u in %u range(s)", slot_names[s],
				       ports_total(p->r, p->nr), p->nr);
	}
}
