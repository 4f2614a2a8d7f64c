/* SPDX-License-Identifier: GPL-2.0 */
/*
 * einat's config.toml: converted to fcnat.conf by import_einat.py (Python's
 * tomllib reads the TOML; no parser of ours), installed beside the binary.
 */
#ifndef FC_IMPORT_EINAT_H
#define FC_IMPORT_EINAT_H

#include <stdbool.h>
#include <stdio.h>

/* fcnat --import-einat FILE [-o OUT]: argv holds the converter's
 * arguments. Replaces the process; returns only on failure (exit status). */
int import_einat_exec(int argc, char **argv);

/* Is path einat's TOML rather than an fcnat.conf (by its name)? */
bool import_einat_is_toml(const char *path);

/* The converted text of an einat file, to read as fcnat.conf; NULL with a
 * message on failure. import_einat_close() returns 0 if the conversion
 * succeeded. */
FILE *import_einat_open(const char *path);
int import_einat_close(FILE *f);

#endif
