// SPDX-License-Identifier: GPL-2.0
/* The HA state sync's options (doc/ha.md): --sync-peer (repeatable, up to
 * FC_SYNC_PEERS_MAX), --sync-listen, --sync-key. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"
#include "options_int.h"
#include "sync.h"

static int parse_sync_addr(const char *value, size_t max, struct sockaddr_storage *ss,
			   socklen_t *len, char *err, size_t errlen)
{
	if (strlen(value) >= max || sync_parse_addr(value) || metrics_parse_addr(value, ss, len)) {
		snprintf(err, errlen, "invalid sync address '%s': expected ADDR:PORT or "
			 "[ADDR6]:PORT", value);
		return -1;
	}
	return 0;
}

/* One peer; the same address twice would get every record twice. */
static int add_peer(struct fc_sync_opts *so, const char *value, char *err, size_t errlen)
{
	struct sockaddr_storage ss, other;
	socklen_t len, olen;

	if (parse_sync_addr(value, sizeof(so->peers[0]), &ss, &len, err, errlen))
		return -1;
	for (unsigned int i = 0; i < so->nr_peers; i++) {
		if (!metrics_parse_addr(so->peers[i], &other, &olen) && olen == len &&
		    !memcmp(&other, &ss, len)) {
			snprintf(err, errlen, "--sync-peer %s: given twice (as %s)", value,
				 so->peers[i]);
			return -1;
		}
	}
	if (so->nr_peers == FC_SYNC_PEERS_MAX) {
		snprintf(err, errlen, "--sync-peer %s: at most %d peers", value, FC_SYNC_PEERS_MAX);
		return -1;
	}
	snprintf(so->peers[so->nr_peers++], sizeof(so->peers[0]), "%s", value);
	return 0;
}

int sync_opts_apply(struct fc_sync_opts *so, int id, const char *value, bool from_cli,
		    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[1024], *tok, *save;

	switch (id) {
	case OPT_SYNC_PEER:
		if (from_cli && !so->peers_cli) {
			so->nr_peers = 0;	/* the command line's list replaces the file's */
			so->peers_cli = true;
		}
		if (strlen(value) >= sizeof(buf)) {
			snprintf(err, errlen, "invalid --sync-peer: too long");
			return -1;
		}
		/* A list, as the file's other lists: spaces or commas between. */
		snprintf(buf, sizeof(buf), "%s", value);
		tok = strtok_r(buf, " ,\t", &save);
		if (!tok)
			return parse_sync_addr(value, 1, &ss, &len, err, errlen);
		for (; tok; tok = strtok_r(NULL, " ,\t", &save))
			if (add_peer(so, tok, err, errlen))
				return -1;
		return 0;
	case OPT_SYNC_LISTEN:
		if (parse_sync_addr(value, sizeof(so->listen), &ss, &len, err, errlen))
			return -1;
		snprintf(so->listen, sizeof(so->listen), "%s", value);
		return 0;
	case OPT_SYNC_KEY:
		if (!value[0] || strlen(value) >= sizeof(so->key_path)) {
			snprintf(err, errlen, "invalid --sync-key '%s'", value);
			return -1;
		}
		snprintf(so->key_path, sizeof(so->key_path), "%s", value);
		return 0;
	}
	return -1;
}
