/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pinned state: the datapath's maps live under bpffs in one directory per
 * interface (<root>/<ifname>/), so a restarted fcnat picks up every mapping
 * and session. A metadata map, fc_meta, pinned last, records the layout the
 * maps were made with and where the TC filters were attached; it is checked
 * before anything is reused (doc/design/restart.md).
 */
#ifndef FC_PIN_H
#define FC_PIN_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

struct bpf_object;

#define FC_PIN_ROOT_DEFAULT "/sys/fs/bpf/fcnat"
#define FC_META_NAME "fc_meta"
#define FC_META_MAGIC 0x54414e46	/* "FNAT" */
#define FC_META_MAX_MAPS 24

enum fc_meta_flags {
	FC_META_CREATED_QDISC = 1 << 0,	/* the clsact qdisc is fcnat's to remove */
	FC_META_ATTACHED = 1 << 1,	/* the filter fields below are set */
	FC_META_TCX = 1 << 2,		/* TCX links (pinned in the directory), no filters */
};

/* The daemon's own counters, kept in fc_meta so they outlive a restart. */
enum fc_dstat {
	FC_DSTAT_RELOADS,		/* SIGHUP reloads applied */
	FC_DSTAT_ADDR_CHANGES,		/* external address changes followed */
	FC_DSTAT_FLUSHED_MAPPINGS,	/* mappings of a vanished address removed */
	FC_DSTAT_FLUSHED_SESSIONS,	/* sessions of a vanished address removed */
	FC_DSTAT_IPFIX_SENT,		/* IPFIX messages sent */
	FC_DSTAT_IPFIX_DROPPED,		/* IPFIX messages not sent: socket error, queue full */
	FC_DSTAT_SYSLOG_DROPPED,	/* event lines the syslog socket did not take */
	FC_DSTAT_NR,
	FC_DSTAT_MAX = 8,
};

#define FC_META_MAX_HAIRPIN 16

/* A hairpin filter on an internal interface (or lo). */
struct fc_meta_filter {
	__u32 ifindex;
	__u32 handle;
	__u32 priority;
	__u32 flags;		/* FC_META_CREATED_QDISC */
};

struct fc_meta_map {
	char name[16];
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 pad0;
};

/*
 * Element 0 of the pinned fc_meta array. The fields up to maps[] never move,
 * whatever the layout version, so any fcnat can tell what made the state and
 * detach its filters.
 */
struct fc_meta {
	__u32 magic;
	__u32 layout_version;	/* FC_LAYOUT_VERSION of the fcnat that made the maps */
	__u32 flags;		/* enum fc_meta_flags */
	__u32 ifindex;		/* where the filters are */
	__u32 ingress_handle;
	__u32 ingress_priority;
	__u32 egress_handle;
	__u32 egress_priority;
	__u32 pid;		/* last daemon that attached */
	__u32 nr_maps;
	struct fc_meta_map maps[FC_META_MAX_MAPS];
	__u64 counters[FC_DSTAT_MAX];	/* enum fc_dstat */
	__u32 nr_hairpin;
	__u32 lo_accept_local;	/* lo's accept_local to restore, plus one; 0: untouched */
	struct fc_meta_filter hairpin[FC_META_MAX_HAIRPIN];
	/* The network namespace the filters are in (its nsfs inode): state is
	 * never taken over from a namespace that is still alive. */
	__u64 netns_ino;
};

struct fc_pin {
	char dir[512];		/* <root>/<ifname> */
	int dirfd;		/* held with an exclusive flock while we own the state */
	bool found;		/* fc_meta was there: the maps were reused */
	bool pinned;		/* we pinned the maps in this start */
	int meta_fd;
	struct fc_meta meta;
};

/*
 * Directory of ifname's state under root; no side effects. Under the
 * default root, an instance outside the initial network namespace keeps its
 * state in <root>/netns/<name>/<ifname> (the `ip netns` name, else
 * "ino-<inode>"), so equal interface names in two namespaces never share it.
 */
int pin_dir_path(char *out, size_t len, const char *root, const char *ifname);

/*
 * Mount bpffs on /sys/fs/bpf if root lives there and it is not mounted,
 * create <root>/<ifname>, lock it (one fcnat per interface), and read and
 * check fc_meta if present (any_layout: only its fixed header, for
 * --detach). Returns 0, or -errno with one message logged.
 */
int pin_open(struct fc_pin *p, const char *root, const char *ifname, bool any_layout);

/* Before load: hand the pinned maps to obj, after checking each against
 * what obj expects. No-op if nothing was pinned. */
int pin_reuse_maps(struct fc_pin *p, struct bpf_object *obj);

/* After load, for fresh state: pin every map, then fc_meta last. On failure
 * nothing stays pinned. */
int pin_commit(struct fc_pin *p, struct bpf_object *obj);

/* Record where the filters are (after attach). */
int pin_save_meta(struct fc_pin *p);

/* Unpin everything under the directory and remove it. */
void pin_remove(struct fc_pin *p);

/* Drop the lock and close; the pins stay. */
void pin_close(struct fc_pin *p);

/*
 * Open another instance's state read-only (show, stats): no lock, no
 * mount. Fills meta (header checked) and returns 0, or -errno with a
 * message logged.
 */
int pin_open_ro(struct fc_pin *p, const char *root, const char *ifname);
/* Would pin_open_ro() find an instance (or have an error to tell)? Quiet:
 * for a caller with something else to show when there is none. */
bool pin_ro_exists(const char *root, const char *ifname);

/* fd of a pinned map by name (caller closes), -errno if absent. */
int pin_map_fd(const struct fc_pin *p, const char *name);

#endif
