/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mapping event log (--log-mappings): creations come from the datapath
 * through the fc_events ring buffer, deletions from the sweeper. One line
 * each on stderr, rate-limited so a flood cannot drown the log; what the
 * limit suppresses is counted and reported.
 */
#ifndef FC_EVENTS_H
#define FC_EVENTS_H

#include <fcnat/types.h>

struct fc_event_log;

/* NULL on failure (message logged). */
struct fc_event_log *event_log_open(int events_map_fd, unsigned int per_second);
void event_log_close(struct fc_event_log *l);
/* For poll(): readable when events wait. */
int event_log_fd(const struct fc_event_log *l);
/* Consume what waits; never blocks. */
void event_log_drain(struct fc_event_log *l);
/* Once a second: report how many events the rate limit suppressed. */
void event_log_tick(struct fc_event_log *l);
/* Log one event (also used for the sweeper's deletions). */
void event_log_write(struct fc_event_log *l, const struct fc_event *ev);

#endif
