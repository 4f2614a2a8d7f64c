// SPDX-License-Identifier: GPL-2.0
/*
 * The other TC user of test_tcx.py: puts tcx_count.bpf.c on an interface's
 * TCX hook, first or last in its chain, and reads its counters; lists a
 * hook's programs in order. libbpf 1.1 has no TCX call: the link is made
 * with the bpf() syscall (the constants are Linux 6.6's UAPI).
 *
 *   tcx_peer attach IFNAME ingress|egress first|last WATCH_IPV4 DIR OBJ
 *            prints "LINK_ID PROG_ID"; the link and counters pinned in DIR
 *   tcx_peer count DIR          prints "ALL SEEN"
 *   tcx_peer list IFNAME ingress|egress   one "PROG_ID NAME" line per program
 *   tcx_peer detach DIR
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcx_peer.h"

#define TCX_INGRESS	46
#define TCX_EGRESS	47
#define F_BEFORE	(1U << 3)

struct tcx_create_attr {
	__u32 prog_fd, target_ifindex, attach_type, flags, relative_fd, pad;
	__u64 expected_revision;
};

static int usage(void)
{
	fprintf(stderr, "usage: tcx_peer attach IF ingress|egress first|last WATCH DIR OBJ | "
		"count DIR | list IF ingress|egress | detach DIR\n");
	return 2;
}

static int hook(const char *s)
{
	return !strcmp(s, "ingress") ? TCX_INGRESS : !strcmp(s, "egress") ? TCX_EGRESS : -1;
}

static int attach(char **a)
{
	int ifindex = if_nametoindex(a[0]), type = hook(a[1]);
	char path[1024];
	struct in_addr w;
	struct tcx_create_attr attr = {};
	struct bpf_object *obj;
	struct bpf_prog_info pi = {};
	struct bpf_link_info li = {};
	__u32 plen = sizeof(pi), llen = sizeof(li), slot = FC_PEER_WATCH;
	__u64 watch;
	int map, link;

	if (!ifindex || type < 0 || inet_pton(AF_INET, a[3], &w) != 1)
		return usage();
	obj = bpf_object__open_file(a[5], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "loading %s failed\n", a[5]);
		return 1;
	}
	map = bpf_map__fd(bpf_object__find_map_by_name(obj, "peer_count"));
	watch = w.s_addr;
	if (bpf_map_update_elem(map, &slot, &watch, BPF_ANY))
		return perror("watch"), 1;
	attr.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "peer_count_prog"));
	attr.target_ifindex = ifindex;
	attr.attach_type = type;
	attr.flags = !strcmp(a[2], "first") ? F_BEFORE : 0;
	link = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (link < 0)
		return perror("BPF_LINK_CREATE"), 1;
	snprintf(path, sizeof(path), "%s/link", a[4]);
	if (bpf_obj_pin(link, path))
		return perror(path), 1;
	snprintf(path, sizeof(path), "%s/count", a[4]);
	if (bpf_obj_pin(map, path))
		return perror(path), 1;
	bpf_obj_get_info_by_fd(attr.prog_fd, &pi, &plen);
	bpf_obj_get_info_by_fd(link, &li, &llen);
	printf("%u %u\n", li.id, pi.id);
	return 0;
}

static int count(const char *dir)
{
	char path[1024];
	__u64 v[2] = {};
	int fd;

	snprintf(path, sizeof(path), "%s/count", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return perror(path), 1;
	for (__u32 k = 0; k < 2; k++)
		if (bpf_map_lookup_elem(fd, &k, &v[k]))
			return perror("lookup"), 1;
	printf("%llu %llu\n", (unsigned long long)v[0], (unsigned long long)v[1]);
	return 0;
}

static int list(char **a)
{
	int ifindex = if_nametoindex(a[0]), type = hook(a[1]);
	__u32 ids[64];
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = 64);

	if (!ifindex || type < 0)
		return usage();
	if (bpf_prog_query_opts(ifindex, type, &q))
		return perror("BPF_PROG_QUERY"), 1;
	for (__u32 i = 0; i < q.prog_cnt; i++) {
		struct bpf_prog_info pi = {};
		__u32 len = sizeof(pi);
		int fd = bpf_prog_get_fd_by_id(ids[i]);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &pi, &len))
			printf("%u %s\n", ids[i], pi.name);
		else
			printf("%u ?\n", ids[i]);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static int detach(const char *dir)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/link", dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/count", dir);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 8 && !strcmp(argv[1], "attach"))
		return attach(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "count"))
		return count(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "list"))
		return list(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return detach(argv[2]);
	return usage();
}
