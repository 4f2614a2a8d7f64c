// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the configuration file (`-c FILE`, inih). The input is the
 * file; its first byte picks how fcnat is invoked with it. Through the
 * real path: fcnat opens it by name (a memfd's /proc/self/fd entry). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "options.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fd = memfd_create("lf_config", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fc_log_level = FC_LOG_ERR;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *run[] = { "fcnat", "-c", path, NULL };
	char *check[] = { "fcnat", "--check-config", path, NULL };
	char *cli[] = { "fcnat", "-c", path, "-i", "wan1", "--ports", "40000-40099", NULL };
	char *lookup[] = { "fcnat", "lookup", "192.168.77.100", "-c", path, NULL };
	char *const *argvs[] = { run, check, cli, lookup };
	static struct fc_options o;
	char **argv;
	int argc = 0;

	if (size < 1)
		return 0;
	argv = (char **)argvs[data[0] % 4];
	while (argv[argc])
		argc++;
	if (ftruncate(fd, 0) || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
		abort();
	options_defaults(&o);
	if (options_parse(argc, argv, &o) == FC_OPTS_RUN && o.cmd != FC_CMD_LOOKUP &&
	    !o.ifname[0])
		abort();	/* accepted without an interface */
	return 0;
}
