// SPDX-License-Identifier: GPL-2.0
/*
 * Pinned state under bpffs. Order matters for crash safety: the maps are
 * pinned first and fc_meta last, so a directory without fc_meta is the
 * debris of an interrupted first start (no filter uses it) and is cleared;
 * a directory with fc_meta is live state and is only ever reused after
 * every map in it matched what this build expects, or removed on request
 * (fcnat --detach).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <fcnat/types.h>
#include "log.h"
#include "pin.h"

#define BPFFS_MOUNT "/sys/fs/bpf"
#define META_HEADER_SIZE offsetof(struct fc_meta, maps)

#define NETNS_RUN_DIR "/run/netns"

static __u64 ns_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (__u64)st.st_ino;
}

/* The calling thread's network namespace. */
static __u64 self_netns(void)
{
	return ns_inode("/proc/self/ns/net");
}

/* The name `ip netns add` gave the namespace with inode ino, if any. */
static bool netns_name(__u64 ino, char *out, size_t len)
{
	struct dirent *e;
	char path[PATH_MAX];
	bool found = false;
	DIR *d = opendir(NETNS_RUN_DIR);

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, e->d_name);
		if (ns_inode(path) == ino) {
			snprintf(out, len, "%s", e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/*
 * bpffs refuses names with a '.' in them (EPERM), and a VLAN sub-interface
 * is named wan0.7: a '.' is written ':' there, which no interface name can
 * hold. from, escaped, into out; and back.
 */
static void bpffs_name(char *out, size_t len, const char *from)
{
	snprintf(out, len, "%s", from);
	for (char *c = out; *c; c++)
		if (*c == '.')
			*c = ':';
}

static void bpffs_name_unescape(char *name)
{
	for (char *c = name; *c; c++)
		if (*c == ':')
			*c = '.';
}

int pin_dir_path(char *out, size_t len, const char *root, const char *ifname)
{
	__u64 self = self_netns(), init = ns_inode("/proc/1/ns/net");
	char name[NAME_MAX + 1], ns[NAME_MAX + 1], dir[IF_NAMESIZE + 1];
	int n;

	bpffs_name(dir, sizeof(dir), ifname);
	if (strcmp(root, FC_PIN_ROOT_DEFAULT) || !self || self == init) {
		n = snprintf(out, len, "%s/%s", root, dir);
	} else {
		if (!netns_name(self, name, sizeof(name)))
			snprintf(name, sizeof(name), "ino-%llu", (unsigned long long)self);
		bpffs_name(ns, sizeof(ns), name);
		n = snprintf(out, len, "%s/netns/%s/%s", root, ns, dir);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Is a network namespace with this inode still held by a process or an
 * `ip netns` name? */
static bool netns_alive(__u64 ino)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	struct dirent *e;
	bool alive = netns_name(ino, name, sizeof(name));
	DIR *d = alive ? NULL : opendir("/proc");

	while (d && !alive && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", e->d_name);
		alive = ns_inode(path) == ino;
	}
	if (d)
		closedir(d);
	return alive;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static bool under_default_mount(const char *root)
{
	size_t n = strlen(BPFFS_MOUNT);

	return !strncmp(root, BPFFS_MOUNT, n) && (root[n] == '/' || !root[n]);
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int ensure_bpffs(const char *root)
{
	int err;

	if (under_default_mount(root) && !on_bpffs(BPFFS_MOUNT)) {
		if (mount("bpf", BPFFS_MOUNT, "bpf", 0, "mode=0700")) {
			err = -errno;
			fc_err("cannot mount bpffs on %s to pin the NAT state: %s "
			       "(mount -t bpf bpf %s)", BPFFS_MOUNT, strerror(-err), BPFFS_MOUNT);
			return err;
		}
		fc_info("mounted bpffs on %s", BPFFS_MOUNT);
	}
	err = mkdir_p(root);
	if (err) {
		fc_err("cannot create the state directory %s: %s", root, strerror(-err));
		return err;
	}
	if (!on_bpffs(root)) {
		fc_err("state directory %s is not on a bpf filesystem "
		       "(mount -t bpf bpf DIR, or choose one with --bpffs)", root);
		return -ENOTSUP;
	}
	return 0;
}

static void path_of(char *out, size_t len, const struct fc_pin *p, const char *name)
{
	snprintf(out, len, "%s/%s", p->dir, name);
}

static void layout_refused(const struct fc_pin *p, const char *why)
{
	const char *dir = strrchr(p->dir, '/');
	char ifname[sizeof(p->dir)];

	snprintf(ifname, sizeof(ifname), "%s", dir ? dir + 1 : p->dir);
	bpffs_name_unescape(ifname);
	fc_err("refusing to reuse the pinned state in %s: %s. Run the fcnat that made it, "
	       "or remove it with 'fcnat --detach -i %s' (this drops every mapping)",
	       p->dir, why, ifname);
}

/* Read element 0 of fc_meta. strict: it must be this build's layout. */
static int meta_read(struct fc_pin *p, int fd, bool strict)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	char why[160];
	char *buf;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		fc_err("reading %s/%s: %s", p->dir, FC_META_NAME, strerror(-err));
		return err;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
	    info.value_size < META_HEADER_SIZE) {
		layout_refused(p, FC_META_NAME " is not fcnat's metadata map");
		return -EPROTO;
	}
	buf = calloc(1, info.value_size);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, buf)) {
		err = -errno;
		free(buf);
		fc_err("reading %s/%s: %s", p->dir, FC_META_NAME, strerror(-err));
		return err;
	}
	memset(&p->meta, 0, sizeof(p->meta));
	memcpy(&p->meta, buf, info.value_size < sizeof(p->meta) ? info.value_size : sizeof(p->meta));
	free(buf);
	if (p->meta.magic != FC_META_MAGIC) {
		layout_refused(p, FC_META_NAME " is not fcnat's metadata map");
		return -EPROTO;
	}
	if (!strict)
		return 0;
	if (p->meta.layout_version != FC_LAYOUT_VERSION) {
		snprintf(why, sizeof(why), "its map layout is version %u, this fcnat uses %u",
			 p->meta.layout_version, FC_LAYOUT_VERSION);
		layout_refused(p, why);
		return -EPROTO;
	}
	if (info.value_size != sizeof(struct fc_meta) || p->meta.nr_maps > FC_META_MAX_MAPS) {
		layout_refused(p, "its metadata has another size");
		return -EPROTO;
	}
	return 0;
}

/* Remove every pin in the directory (all ours: nothing else goes there). */
static void clear_dir(struct fc_pin *p)
{
	int fd = openat(p->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && unlinkat(p->dirfd, e->d_name, 0) && errno != ENOENT)
			fc_warn("removing %s/%s: %s", p->dir, e->d_name, strerror(errno));
	closedir(d);
}

static bool dir_has_entries(struct fc_pin *p)
{
	int fd = openat(p->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	bool any = false;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

int pin_open(struct fc_pin *p, const char *root, const char *ifname, bool any_layout)
{
	char path[PATH_MAX];
	int err;

	memset(p, 0, sizeof(*p));
	p->dirfd = p->meta_fd = -1;
	if (pin_dir_path(p->dir, sizeof(p->dir), root, ifname)) {
		fc_err("state directory name too long: %s/%s", root, ifname);
		return -ENAMETOOLONG;
	}
	err = ensure_bpffs(root);
	if (err)
		return err;
	err = mkdir_p(p->dir);
	if (err) {
		fc_err("cannot create the state directory %s: %s", p->dir, strerror(-err));
		return err;
	}
	p->dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		err = -errno;
		fc_err("cannot open the state directory %s: %s", p->dir, strerror(-err));
		return err;
	}
	if (flock(p->dirfd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EWOULDBLOCK)
			fc_err("another fcnat is already running on %s (its state is in %s)",
			       ifname, p->dir);
		else
			fc_err("locking %s: %s", p->dir, strerror(-err));
		pin_close(p);
		return err == -EWOULDBLOCK ? -EBUSY : err;
	}

	path_of(path, sizeof(path), p, FC_META_NAME);
	p->meta_fd = bpf_obj_get(path);
	if (p->meta_fd < 0) {
		if (errno != ENOENT) {
			err = -errno;
			fc_err("opening %s: %s", path, strerror(-err));
			pin_close(p);
			return err;
		}
		if (dir_has_entries(p)) {
			fc_warn("removing incomplete state in %s (left by an interrupted start)", p->dir);
			clear_dir(p);
		}
		return 0;
	}
	err = meta_read(p, p->meta_fd, !any_layout);
	if (err) {
		pin_close(p);
		return err;
	}
	if (p->meta.netns_ino && p->meta.netns_ino != self_netns() &&
	    netns_alive(p->meta.netns_ino)) {
		/* Its filters run in that namespace on these very maps: taking
		 * them over from here would make two datapaths share one state,
		 * and --detach would remove filters by another namespace's
		 * interface index. */
		fc_err("the state in %s belongs to fcnat in another network namespace "
		       "(net:[%llu]), which still exists; give this instance its own --bpffs",
		       p->dir, (unsigned long long)p->meta.netns_ino);
		pin_close(p);
		return -EBUSY;
	}
	p->found = true;
	return 0;
}

static const struct fc_meta_map *meta_find(const struct fc_meta *m, const char *name)
{
	for (__u32 i = 0; i < m->nr_maps && i < FC_META_MAX_MAPS; i++)
		if (!strncmp(m->maps[i].name, name, sizeof(m->maps[i].name)))
			return &m->maps[i];
	return NULL;
}

static int reuse_one(struct fc_pin *p, struct bpf_map *map)
{
	const char *name = bpf_map__name(map);
	const struct fc_meta_map *rec = meta_find(&p->meta, name);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX], why[256];
	int fd, err;

	if (!rec) {
		snprintf(why, sizeof(why), "map %s is not in it", name);
		layout_refused(p, why);
		return -EPROTO;
	}
	path_of(path, sizeof(path), p, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		snprintf(why, sizeof(why), "map %s is missing (%s)", name, strerror(errno));
		layout_refused(p, why);
		return -EPROTO;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		fc_err("reading %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	/* Preallocation (--prealloc-tables) is the kept table's, as its size. */
	if ((info.map_flags ^ bpf_map__map_flags(map)) == BPF_F_NO_PREALLOC) {
		fc_warn("%s: keeping the pinned table's allocation (%s); a change takes "
			"effect after 'fcnat --detach'", name,
			info.map_flags & BPF_F_NO_PREALLOC ? "on demand" : "preallocated");
		bpf_map__set_map_flags(map, info.map_flags);
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.map_flags != bpf_map__map_flags(map) || info.type != rec->type ||
	    info.key_size != rec->key_size || info.value_size != rec->value_size) {
		snprintf(why, sizeof(why), "map %s has type %u, key %u and value %u bytes, "
			 "this fcnat needs type %u, key %u and value %u bytes", name,
			 info.type, info.key_size, info.value_size, bpf_map__type(map),
			 bpf_map__key_size(map), bpf_map__value_size(map));
		layout_refused(p, why);
		close(fd);
		return -EPROTO;
	}
	if (info.max_entries != bpf_map__max_entries(map))
		fc_warn("%s: keeping the pinned table size %u (asked for %u); "
			"a new size takes effect after 'fcnat --detach'",
			name, info.max_entries, bpf_map__max_entries(map));
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	if (err) {
		fc_err("reusing pinned map %s: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

int pin_reuse_maps(struct fc_pin *p, struct bpf_object *obj)
{
	struct bpf_map *map;
	__u32 n = 0;
	int err;

	if (!p->found)
		return 0;
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		err = reuse_one(p, map);
		if (err)
			return err;
		n++;
	}
	if (n != p->meta.nr_maps) {
		layout_refused(p, "it has maps this fcnat does not know");
		return -EPROTO;
	}
	return 0;
}

int pin_commit(struct fc_pin *p, struct bpf_object *obj)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	__u32 zero = 0;
	int err = 0, fd;

	p->meta.pid = getpid();
	p->meta.netns_ino = self_netns();
	if (p->found)
		return 0;
	memset(&p->meta, 0, sizeof(p->meta));
	p->meta.magic = FC_META_MAGIC;
	p->meta.layout_version = FC_LAYOUT_VERSION;
	p->meta.pid = getpid();
	p->meta.netns_ino = self_netns();
	bpf_object__for_each_map(map, obj) {
		struct fc_meta_map *rec;

		if (bpf_map__is_internal(map))
			continue;
		if (p->meta.nr_maps >= FC_META_MAX_MAPS) {
			fc_err("internal: more than %d maps to pin", FC_META_MAX_MAPS);
			err = -E2BIG;
			goto fail;
		}
		rec = &p->meta.maps[p->meta.nr_maps++];
		snprintf(rec->name, sizeof(rec->name), "%s", bpf_map__name(map));
		rec->type = bpf_map__type(map);
		rec->key_size = bpf_map__key_size(map);
		rec->value_size = bpf_map__value_size(map);
		rec->max_entries = bpf_map__max_entries(map);
		rec->map_flags = bpf_map__map_flags(map);
		path_of(path, sizeof(path), p, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err) {
			fc_err("pinning %s: %s", path, strerror(-err));
			goto fail;
		}
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, FC_META_NAME, sizeof(__u32),
			    sizeof(struct fc_meta), 1, NULL);
	if (fd < 0) {
		err = -errno;
		fc_err("creating the %s map: %s", FC_META_NAME, strerror(-err));
		goto fail;
	}
	p->meta_fd = fd;
	path_of(path, sizeof(path), p, FC_META_NAME);
	if (bpf_map_update_elem(fd, &zero, &p->meta, BPF_ANY) || bpf_obj_pin(fd, path)) {
		err = -errno;
		fc_err("pinning %s: %s", path, strerror(-err));
		goto fail;
	}
	p->pinned = true;
	return 0;
fail:
	clear_dir(p);
	return err;
}

int pin_save_meta(struct fc_pin *p)
{
	__u32 zero = 0;

	if (p->meta_fd < 0)
		return -EBADF;
	if (bpf_map_update_elem(p->meta_fd, &zero, &p->meta, BPF_ANY))
		return -errno;
	return 0;
}

void pin_remove(struct fc_pin *p)
{
	char root[PATH_MAX], *slash;

	if (p->dirfd < 0)
		return;
	clear_dir(p);
	if (rmdir(p->dir) && errno != ENOENT)
		fc_warn("removing %s: %s", p->dir, strerror(errno));
	/* The per-interface root too, when it was the last one. */
	snprintf(root, sizeof(root), "%s", p->dir);
	slash = strrchr(root, '/');
	if (slash && slash != root) {
		*slash = '\0';
		rmdir(root);
	}
	p->pinned = p->found = false;
}

void pin_close(struct fc_pin *p)
{
	if (p->meta_fd >= 0)
		close(p->meta_fd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->meta_fd = p->dirfd = -1;
}

/* The only instance under root, for show/stats without -i. */
static int find_only_instance(const char *root, char *ifname, size_t len)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char meta[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(meta, sizeof(meta), "%s/%s/%s", root, e->d_name, FC_META_NAME);
		if (stat(meta, &st))
			continue;
		if (n++ == 0) {
			snprintf(ifname, len, "%s", e->d_name);
			bpffs_name_unescape(ifname);
		}
	}
	closedir(d);
	return n == 1 ? 0 : n == 0 ? -ENOENT : -EEXIST;
}

int pin_open_ro(struct fc_pin *p, const char *root, const char *ifname)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	int err;

	memset(p, 0, sizeof(*p));
	p->dirfd = p->meta_fd = -1;
	if (!ifname || !*ifname) {
		err = find_only_instance(root, name, sizeof(name));
		if (err == -EEXIST) {
			fc_err("several fcnat instances have state in %s: choose one with -i", root);
			return -EINVAL;
		}
		if (err) {
			fc_err("no fcnat state in %s: is fcnat running? (or see --bpffs)", root);
			return -ENOENT;
		}
		ifname = name;
	}
	if (pin_dir_path(p->dir, sizeof(p->dir), root, ifname))
		return -ENAMETOOLONG;
	path_of(path, sizeof(path), p, FC_META_NAME);
	p->meta_fd = bpf_obj_get(path);
	if (p->meta_fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			fc_err("no fcnat state for %s in %s: is fcnat running on it? (or see --bpffs)",
			       ifname, root);
		else
			fc_err("opening %s: %s", path, strerror(-err));
		return err;
	}
	err = meta_read(p, p->meta_fd, true);
	if (err) {
		pin_close(p);
		return err;
	}
	p->found = true;
	return 0;
}

bool pin_ro_exists(const char *root, const char *ifname)
{
	char name[NAME_MAX + 1], dir[PATH_MAX], meta[PATH_MAX + sizeof(FC_META_NAME) + 1];
	struct stat st;

	if (!ifname || !*ifname)
		return find_only_instance(root, name, sizeof(name)) != -ENOENT;
	if (pin_dir_path(dir, sizeof(dir), root, ifname))
		return true;
	snprintf(meta, sizeof(meta), "%s/%s", dir, FC_META_NAME);
	return !stat(meta, &st) || errno != ENOENT;
}

int pin_map_fd(const struct fc_pin *p, const char *name)
{
	char path[PATH_MAX];
	int fd;

	path_of(path, sizeof(path), p, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}
