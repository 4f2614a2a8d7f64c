/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FC_LOG_H
#define FC_LOG_H

enum fc_log_level { FC_LOG_ERR, FC_LOG_WARN, FC_LOG_INFO, FC_LOG_DEBUG };

extern enum fc_log_level fc_log_level;

void fc_log_msg(enum fc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define fc_err(...)	fc_log_msg(FC_LOG_ERR, __VA_ARGS__)
#define fc_warn(...)	fc_log_msg(FC_LOG_WARN, __VA_ARGS__)
#define fc_info(...)	fc_log_msg(FC_LOG_INFO, __VA_ARGS__)
#define fc_debug(...)	fc_log_msg(FC_LOG_DEBUG, __VA_ARGS__)

/*
 * Fault injection for the tests (tests/integration/test_faults.py): with
 * FCNAT_FAULT_POINT=name in the environment fcnat kills itself with SIGKILL
 * at that point, deterministically, where a random kill would have to hit a
 * window of microseconds.
 */
void fc_fault_point(const char *name);

#endif
