// SPDX-License-Identifier: GPL-2.0
/* Used to recognise our own programs left attached by a kept or interrupted
 * start: they are the ones working on this state's maps. */
#include <string.h>
#include <bpf/bpf.h>

#include "bpf_info.h"

__u32 bpf_map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

bool bpf_prog_uses_map(int fd, __u32 map_id)
{
	__u32 ids[64], len;
	struct bpf_prog_info info;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (!map_id || bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	for (__u32 i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] == map_id)
			return true;
	return false;
}
