/* SPDX-License-Identifier: GPL-2.0 */
/* What the command-line harnesses (lf_cli.c, lf_lookup.c) share: an argv
 * made of the fuzz input split on NUL, and a scratch directory to run in so
 * that configuration files named in the input are only those made here. */
#ifndef FC_LF_ARGS_H
#define FC_LF_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LF_MAX_ARGS 64

struct lf_argv {
	int argc;
	char *argv[LF_MAX_ARGS + 1];
};

/* head[0..nhead) then the NUL-separated pieces of data; every string its
 * own allocation, so that reading past one is an ASan report. */
static inline void lf_argv_make(struct lf_argv *a, const char *const *head, int nhead,
				const uint8_t *data, size_t size)
{
	size_t i = 0;

	a->argc = 0;
	for (int h = 0; h < nhead; h++)
		a->argv[a->argc++] = strdup(head[h]);
	while (i < size && a->argc < LF_MAX_ARGS) {
		const uint8_t *nul = memchr(data + i, 0, size - i);
		size_t n = nul ? (size_t)(nul - (data + i)) : size - i;
		char *s = malloc(n + 1);

		memcpy(s, data + i, n);
		s[n] = '\0';
		a->argv[a->argc++] = s;
		i += n + 1;
	}
	a->argv[a->argc] = NULL;
}

static inline void lf_argv_free(struct lf_argv *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
}

/* Only configuration files are opened (options_parse: -c, --config,
 * --check-config, as it finds them). One named with a '/' could be outside
 * the scratch directory: a FIFO or /dev/zero would block or never end.
 * Such inputs are not run. */
static inline bool lf_argv_local(const struct lf_argv *a)
{
	for (int i = 1; i < a->argc; i++) {
		const char *s = a->argv[i], *path = NULL;

		if ((!strcmp(s, "-c") || !strcmp(s, "--config") || !strcmp(s, "--check-config")) &&
		    i + 1 < a->argc)
			path = a->argv[i + 1];
		else if (!strncmp(s, "--config=", 9))
			path = s + 9;
		else if (!strncmp(s, "--check-config=", 15))
			path = s + 15;
		else if (!strncmp(s, "-c", 2))
			path = s + 2;
		/* einat's TOML goes to a converter process (Python's tomllib,
		 * not a parser of ours): not run from here. */
		if (path && (strchr(path, '/') ||
			     (strlen(path) > 5 && !strcmp(path + strlen(path) - 5, ".toml"))))
			return false;
	}
	return true;
}

static char lf_dir[64];

static void lf_scratch_remove(void)
{
	static const char *const names[] = { "fcnat.conf", "det.conf" };
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", lf_dir, names[i]);
		unlink(path);
	}
	rmdir(lf_dir);
}

/* A fresh directory holding fcnat.conf (the packaged example's settings)
 * and det.conf (a deterministic NAT plan), made the working directory. */
static inline void lf_scratch_enter(void)
{
	static const char conf[] = "[nat]\nifname = wan0\nports = 20000-29999\n"
				   "[timeouts]\nudp = 300\nicmp = 60\ntcp-est = 7440\n"
				   "tcp-trans = 240\n";
	static const char det[] = "[nat]\nifname = wan0\npool = 203.0.113.0/30\n"
				  "deterministic = 192.168.77.96/27\nports = 20000-20255\n";
	FILE *f;

	snprintf(lf_dir, sizeof(lf_dir), "/tmp/fcnat-lf-XXXXXX");
	if (!mkdtemp(lf_dir) || chdir(lf_dir)) {
		perror("lf: scratch directory");
		abort();
	}
	atexit(lf_scratch_remove);
	f = fopen("fcnat.conf", "w");
	if (!f || fputs(conf, f) < 0 || fclose(f))
		abort();
	f = fopen("det.conf", "w");
	if (!f || fputs(det, f) < 0 || fclose(f))
		abort();
}

#endif
