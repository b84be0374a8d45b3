/*
 * tree.h - the tree of SPEC §2: names and inode numbers to ARM resources,
 * rendering of the view files, directory listings.  Knows nothing of FUSE:
 * fs.c translates requests into these calls, and the tree reports what the
 * kernel must forget through struct tree_notify.
 *
 * Inode numbers: every directory that stands for an ARM resource (region,
 * resource group, collection, restore point) is a node kept for the life of
 * the mount, numbered in creation order; files and fixed subdirectories
 * (collection.json, disks/, disks/NAME.json, .rpfs/...) get synthetic
 * numbers derived from their directory's (node << 7 | slot), so they cost
 * no memory and are stable too.  The root is inode 1.
 *
 * Thread-safe.  Errors: 0 or a negative errno of SPEC §5 (-ENOENT,
 * -EHOSTUNREACH, -ETIMEDOUT, -EIO, -EACCES, ...).  Memory returned through
 * out pointers belongs to the caller (free with the matching _free).
 */
#ifndef RPFS_TREE_H
#define RPFS_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cache;
struct arm_location;
struct tree;

#define TREE_ROOT_INO 1

enum tree_type { TREE_DIR, TREE_REG, TREE_LNK };

struct tree_attr {
	uint64_t ino;
	enum tree_type type;
	unsigned perm; /* permission bits */
	uint64_t size;
	time_t mtime;
	unsigned nlink;
	double attr_ttl;  /* how long the kernel may keep these attributes */
	double entry_ttl; /* how long the kernel may keep the name (also for -ENOENT) */
};

struct tree_dirent {
	char *name;
	struct tree_attr attr;
};

struct tree_cfg {
	unsigned ttl, neg_ttl, busy_ttl;
	/* Physical locations from start-up: owned by the tree afterwards. */
	struct arm_location *locations;
	size_t nlocations;
	const char *config_text;		 /* .rpfs/config (copied) */
	int (*auth_text)(void *arg, char **out); /* .rpfs/auth, may be NULL */
	void *auth_arg;
	int ro; /* mutations give EROFS, else EPERM */
};

/* How the tree tells the FUSE layer what the kernel must drop.  Called
 * with the tree's lock held: implementations only queue the work. */
struct tree_notify {
	void (*inval_inode)(void *arg, uint64_t ino);
	void (*inval_entry)(void *arg, uint64_t parent, const char *name);
	void *arg;
};

/* An opened file: its content at open time. */
struct tree_file {
	char *buf;
	size_t len;
	int direct_io; /* content changes without notice: bypass the page cache */
	int control;   /* .rpfs/flush: writes act */
};

int tree_new(struct cache *c, struct tree_cfg *cfg, struct tree **out);
void tree_free(struct tree *t);
void tree_set_notify(struct tree *t, const struct tree_notify *n);

/* Resolve name in directory parent (may fetch).  On -ENOENT, out->entry_ttl
 * says how long the kernel may remember the absence. */
int tree_lookup(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out);
/* Attributes of a known inode; never waits on the network when anything is cached. */
int tree_getattr(struct tree *t, uint64_t ino, struct tree_attr *out);
/* A directory's entries (without "." and ".."), sorted.  refresh = 1 at the
 * start of a listing: expired answers are fetched again. */
int tree_readdir(struct tree *t, uint64_t ino, int refresh, struct tree_dirent **out, size_t *n);
void tree_dirents_free(struct tree_dirent *v, size_t n);
int tree_readlink(struct tree *t, uint64_t ino, char **out);
/* Open a file (write = opened for writing). -EISDIR, -EROFS/-EPERM for writes
 * other than to .rpfs/flush. */
int tree_open(struct tree *t, uint64_t ino, int write, struct tree_file **out);
void tree_file_free(struct tree_file *f);
/* A write to an opened file (only .rpfs/flush acts: drops every cached answer). */
int tree_write(struct tree *t, uint64_t ino, const char *buf, size_t len);
/* Truncate (O_TRUNC): accepted on .rpfs/flush, refused elsewhere. */
int tree_truncate(struct tree *t, uint64_t ino, uint64_t size);
/* The errno for a mutation this build does not do: -EROFS with ro, else -EPERM. */
int tree_mutation_errno(struct tree *t);
/* Drop every cached answer and ask the kernel to forget everything. */
void tree_flush(struct tree *t);
/* Called about once a second: ask the kernel to drop directory listings it
 * has kept longer than ttl, so the next `ls` asks rpfs again. */
void tree_expire(struct tree *t);
/* The text of .rpfs/stats (for SIGUSR1); caller frees. */
int tree_render_stats(struct tree *t, char **out);
/* Number of nodes (for stats and tests). */
size_t tree_node_count(struct tree *t);

/* Helpers exposed for unit tests. */
int tree_parse_time(const char *iso, time_t *out);

#endif
