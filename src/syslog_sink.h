/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT event records to the local syslog daemon (--syslog): the datagram
 * protocol syslog(3) speaks on /dev/log, but on a non-blocking socket of our
 * own, so a slow or stopped syslog daemon costs records (counted), never the
 * daemon loop. syslog(3) itself would block in send().
 */
#ifndef FC_SYSLOG_SINK_H
#define FC_SYSLOG_SINK_H

#define FC_SYSLOG_DEFAULT_PATH "/dev/log"

struct fc_syslog;

/* NULL only when out of memory; an absent socket is retried on each write. */
struct fc_syslog *syslog_sink_open(const char *path);
void syslog_sink_close(struct fc_syslog *s);
/* One record, "<PRI>TIMESTAMP fcnat[PID]: line" at daemon.info. */
void syslog_sink_write(struct fc_syslog *s, const char *line);
/* Records that could not be handed to the syslog daemon. */
unsigned long long syslog_sink_dropped(const struct fc_syslog *s);

#endif
