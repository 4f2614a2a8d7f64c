// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "syslog_sink.h"

struct fc_syslog {
	struct sockaddr_un addr;
	int fd;			/* -1: not connected */
	bool failing;		/* said so once; say when it works again */
	unsigned long long dropped;
};

static int sink_connect(struct fc_syslog *s)
{
	if (s->fd >= 0)
		return 0;
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (connect(s->fd, (struct sockaddr *)&s->addr, sizeof(s->addr))) {
		int err = -errno;

		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

struct fc_syslog *syslog_sink_open(const char *path)
{
	struct fc_syslog *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->fd = -1;
	s->addr.sun_family = AF_UNIX;
	snprintf(s->addr.sun_path, sizeof(s->addr.sun_path), "%s", path);
	err = sink_connect(s);
	if (err) {
		fc_warn("syslog socket %s: %s (records are dropped and counted until it works)",
			path, strerror(-err));
		s->failing = true;
	}
	return s;
}

void syslog_sink_close(struct fc_syslog *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static void dropped(struct fc_syslog *s, int err)
{
	s->dropped++;
	if (!s->failing)
		fc_warn("syslog socket %s: %s (records are dropped and counted until it works)",
			s->addr.sun_path, strerror(err));
	s->failing = true;
}

void syslog_sink_write(struct fc_syslog *s, const char *line)
{
	char msg[512], stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int len;
	ssize_t n;

	if (!s)
		return;
	/* RFC 3164 header, as syslog(3) writes it: local time, no host
	 * (the local daemon adds it). */
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	len = snprintf(msg, sizeof(msg), "<%d>%s fcnat[%d]: %s", LOG_DAEMON | LOG_INFO, stamp,
		       (int)getpid(), line);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(msg))
		len = sizeof(msg) - 1;
	for (int attempt = 0; attempt < 2; attempt++) {
		int err = sink_connect(s);

		if (err) {
			dropped(s, -err);
			return;
		}
		n = send(s->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			if (s->failing)
				fc_info("syslog socket %s: writing again", s->addr.sun_path);
			s->failing = false;
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			dropped(s, errno);	/* the daemon is behind: never wait for it */
			return;
		}
		/* The syslog daemon restarted (new socket) or went away:
		 * connect afresh once. */
		close(s->fd);
		s->fd = -1;
	}
	dropped(s, errno);
}

unsigned long long syslog_sink_dropped(const struct fc_syslog *s)
{
	return s ? s->dropped : 0;
}
