// SPDX-License-Identifier: GPL-2.0
/* Running the einat config converter (see import_einat.h). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "import_einat.h"
#include "log.h"

#ifndef FCNAT_LIBEXECDIR
#define FCNAT_LIBEXECDIR "/usr/local/libexec/fcnat"
#endif

static pid_t converter_pid = -1;

/* The installed converter (where make install put it, or beside the binary
 * in its tree: DESTDIR, another PREFIX), else the one in the source tree
 * next to a build/fcnat or build/san/fcnat; FCNAT_IMPORT_EINAT overrides
 * them all. */
static const char *converter_path(char *buf, size_t len)
{
	const char *env = getenv("FCNAT_IMPORT_EINAT");
	char self[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env)
		return env;
	snprintf(buf, len, "%s/import-einat", FCNAT_LIBEXECDIR);
	if (access(buf, X_OK) == 0)
		return buf;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = dirname(self);
		snprintf(buf, len, "%s/../libexec/fcnat/import-einat", dir);
		if (access(buf, X_OK) == 0)
			return buf;
		/* build/fcnat, or a variant one level down (build/san/fcnat). */
		static const char *const tree[] = { "..", "../.." };

		for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
			snprintf(buf, len, "%s/%s/src/import_einat.py", dir, tree[i]);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	snprintf(buf, len, "%s/import-einat", FCNAT_LIBEXECDIR);
	return buf;
}

int import_einat_exec(int argc, char **argv)
{
	char buf[PATH_MAX + 32];
	const char *path = converter_path(buf, sizeof(buf));
	char **args = calloc(argc + 2, sizeof(*args));
	int n = 0;

	if (!args)
		return 1;
	args[n++] = (char *)path;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--import-einat"))
			args[n++] = argv[i];
	execv(path, args);
	fc_err("--import-einat: cannot run the converter %s: %s (it needs python3 >= 3.11)",
	       path, strerror(errno));
	free(args);
	return 1;
}

bool import_einat_is_toml(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && !strcmp(path + n - 5, ".toml");
}

FILE *import_einat_open(const char *path)
{
	char buf[PATH_MAX + 32];
	const char *conv = converter_path(buf, sizeof(buf));
	int fds[2];
	FILE *f;

	if (pipe(fds)) {
		fc_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	converter_pid = fork();
	if (converter_pid < 0) {
		fc_err("%s: %s", path, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (converter_pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(conv, conv, path, (char *)NULL);
		fprintf(stderr, "fcnat: error: %s is einat's TOML, and its converter %s cannot "
			"run: %s (it needs python3 >= 3.11)\n", path, conv, strerror(errno));
		_exit(2);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f)
		close(fds[0]);
	return f;
}

int import_einat_close(FILE *f)
{
	int status = 0;

	fclose(f);
	if (converter_pid > 0 && waitpid(converter_pid, &status, 0) < 0)
		status = 1;
	converter_pid = -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
