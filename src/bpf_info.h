/* SPDX-License-Identifier: GPL-2.0 */
/* What the kernel says about a loaded map or program (by fd). */
#ifndef FC_BPF_INFO_H
#define FC_BPF_INFO_H

#include <stdbool.h>
#include <linux/types.h>

/* The id of the map behind fd, 0 if fd is not one (or < 0). */
__u32 bpf_map_id(int fd);
/* Does the program behind fd use the map with id map_id (0: no)? */
bool bpf_prog_uses_map(int fd, __u32 map_id);

#endif
