// SPDX-License-Identifier: GPL-2.0
/* ctnetlink sockets (ct_sock.h). */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "ct_sock.h"

int ct_sock_open(unsigned int groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
	int size = 8 << 20;

	if (fd < 0)
		return -1;
	/* Events come in bursts (a flush, many new flows): room for them. */
	if (groups && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* The dump's answer: 0 at its end, -errno. */
static int dump_read(int fd, char *buf, size_t buflen,
		     int (*cb)(const struct ct_entry *e, void *arg),
		     void (*recv_hook)(void *arg, bool after), void *arg)
{
	int r = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t len;

		if (poll(&p, 1, 5000) <= 0)
			return -ETIMEDOUT;
		len = recv(fd, buf, buflen, 0);
		if (len < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (recv_hook)
			recv_hook(arg, false);
		r = ct_parse_batch(buf, len, cb, arg);
		if (recv_hook)
			recv_hook(arg, true);
		if (r)
			break;
	}
	return r < 0 ? r : 0;
}

int ct_sock_dump(char *buf, size_t buflen, __u32 seq,
		 int (*cb)(const struct ct_entry *e, void *arg),
		 void (*recv_hook)(void *arg, bool after), void *arg)
{
	size_t n = ct_build_dump(buf, buflen, seq, AF_UNSPEC);
	int fd = ct_sock_open(0), r;

	if (fd < 0)
		return -errno;
	if (send(fd, buf, n, 0) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = dump_read(fd, buf, buflen, cb, recv_hook, arg);
	close(fd);
	return r;
}
