/*
 * tree.h - the tree (doc/DESIGN.md, The tree): names and inode numbers to ARM resources,
 * rendering of the view files, directory listings.  Knows nothing of FUSE:
 * fs.c translates requests into these calls, and the tree reports what the
 * kernel must forget through struct tree_notify.
 *
 * Inode numbers: every directory that stands for an ARM resource (region,
 * resource group, collection, restore point) is a node kept for the life of
 * the mount, numbered in creation order; files and fixed subdirectories
 * (collection.json, disks/, disks/NAME.json, .rpfs/...) get synthetic
 * numbers derived from their directory's (node << 8 | slot), so they cost
 * no memory and are stable too.  The root is inode 1.
 *
 * Mutations (doc/DESIGN.md, Mutations) go through the cache to ARM; their results and
 * refusals are recorded in .rpfs/ops.
 *
 * Thread-safe.  Errors: 0 or a negative errno of arm_errno (-ENOENT,
 * -EHOSTUNREACH, -ETIMEDOUT, -EIO, -EACCES, -EEXIST, -EBUSY, -EDQUOT, ...).  Memory returned
 * through out pointers belongs to the caller (free with the matching _free).
 */
#ifndef RPFS_TREE_H
#define RPFS_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cache;
struct arm_location;
struct tree;
struct disks;
struct disk_file;

#define TREE_ROOT_INO 1

enum tree_type { TREE_DIR, TREE_REG, TREE_LNK };

struct tree_attr {
	uint64_t ino;
	enum tree_type type;
	unsigned perm; /* permission bits */
	uint64_t size;
	time_t mtime;
	unsigned nlink;
	uint64_t blocks;  /* 512-byte blocks allocated, when blocks_set */
	int blocks_set;	  /* else derived from size */
	double attr_ttl;  /* how long the kernel may keep these attributes */
	double entry_ttl; /* how long the kernel may keep the name (also for -ENOENT) */
};

struct tree_dirent {
	char *name;
	struct tree_attr attr;
};

struct tree_cfg {
	unsigned ttl, neg_ttl, busy_ttl;
	unsigned op_timeout; /* seconds a system call may wait */
	/* Physical locations from start-up: owned by the tree afterwards. */
	struct arm_location *locations;
	size_t nlocations;
	const char *config_text;		 /* .rpfs/config (copied) */
	int (*auth_text)(void *arg, char **out); /* .rpfs/auth, may be NULL */
	void *auth_arg;
	int ro;			 /* mutations give EROFS */
	int allow_delete;	 /* rmdir sends DELETEs */
	int dry_run;		 /* mutations are recorded in .rpfs/ops, not sent */
	const char *consistency; /* consistencyMode of new points (copied), may be NULL */
	struct disks *disks;	 /* disks/NAME.vhd (borrowed), NULL: cannot be opened */
	int disk_read;		 /* 0: opening NAME.vhd is EACCES */
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
	int keep;      /* the kernel may keep the content across opens: rpfs
			* pushes an inode invalidation whenever it changes */
	int deferred;  /* content rendered at the first read (tree_file_fill) */
	int control;   /* .rpfs/flush: writes act */
	/* A view file opened for writing (cp into a view directory): the
	 * content is kept here, and acts only when it names a source. */
	int absorb;
	int slot;
	uint32_t pid;		/* process that opened it */
	struct disk_file *disk; /* NAME.vhd: reads go to the disk module */
	int hollow;		/* NAME.vhd opened by cp -r into this mount: no
				 * byte, all of its size one hole (SEEK_DATA) */
	int attr_changed;	/* the open learned the file's real size/blocks */
	char *wbuf;
	size_t wlen;
	int written; /* a write came (tags act at close only then) */
	int append;  /* O_APPEND: writes go to the end of the text, whatever
		      * offset the kernel computed from a size it may have
		      * cached before the last change */
	int done;    /* content acted upon (or found to name nothing) */
	int rc;	     /* its result, repeated to later writes and to close */
};

int tree_new(struct cache *c, struct tree_cfg *cfg, struct tree **out);
/* dry_run's recorder (cache_dryrun_set_record): line goes to .rpfs/ops. */
void tree_ops_record(void *tree, const char *line);

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
/* 1 when ino is disks/NAME.vhd of a point. */
int tree_is_disk(struct tree *t, uint64_t ino);
/* The inode of directory ino's parent (the root's own for the root). */
uint64_t tree_parent(struct tree *t, uint64_t ino);
void tree_dirents_free(struct tree_dirent *v, size_t n);
int tree_readlink(struct tree *t, uint64_t ino, char **out);
/* tree_open flags: 0 opens for reading. */
enum { TREE_O_WRITE = 1, TREE_O_READ = 2, TREE_O_TRUNC = 4, TREE_O_APPEND = 8 };
/* Open a file (flags: TREE_O_*). -EISDIR, -EROFS/-EPERM for writes other
 * than to .rpfs/flush.  A view file opened for writing reads its content
 * with TREE_O_READ (O_RDWR) unless TREE_O_TRUNC; tags opened for writing
 * without TREE_O_TRUNC start from the current text, which writes then edit
 * at their offsets. */
int tree_open(struct tree *t, uint64_t ino, int flags, struct tree_file **out);
/* A read-only open that renders nothing yet when the file is a view of
 * ARM's data the kernel may keep (f->keep, f->buf NULL: the kernel reads a
 * kept file once, later opens are served from its page cache); else as
 * tree_open.  tree_file_fill renders it at the first read. */
int tree_open_deferred(struct tree *t, uint64_t ino, struct tree_file **out);
/* Open ino for process pid: as tree_open_deferred for reading, tree_open
 * for writing, and for disks/NAME.vhd the disk itself (f->disk; -EACCES
 * with disk_read=0 or for writing, -EROFS for writing with ro, and the
 * disk module's errnos: -EBUSY, -EACCES, ...). */
int tree_open_as(struct tree *t, uint64_t ino, int flags, uint32_t pid, struct tree_file **out);
/* Render a deferred file's content into f (f->buf, f->len). */
int tree_file_fill(struct tree *t, uint64_t ino, struct tree_file *f);
void tree_file_free(struct tree_file *f);
/* A write to an opened file: .rpfs/flush drops every cached answer; a
 * write to a view file is kept in f and acts when it names a source
 * (a pending collection's or point's) or, for tags, at tree_file_done. */
int tree_write(struct tree *t, uint64_t ino, struct tree_file *f, const char *buf, size_t len,
	       uint64_t off);
/* ftruncate (or O_TRUNC) of an opened file: a tags text being edited is
 * cut to size. */
void tree_file_truncate(struct tree_file *f, uint64_t size);
/* close() of an opened file: what the written content asks is done now
 * (tags PATCH, a source id that arrived without a newline); its errno. */
int tree_file_done(struct tree *t, uint64_t ino, struct tree_file *f);

/* ---- mutations; pid = the calling process, 0 when unknown ------------ */

/* Lookup as tree_lookup, for process pid: in a directory pid has just
 * created, view names look absent (entry_ttl 0) so that cp's
 * O_CREAT|O_EXCL and mkdir reach tree_create/tree_mkdir. */
int tree_lookup_pid(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		    struct tree_attr *out);
/* mkdir: a collection (in a resource group), a point (in a collection),
 * or disks/ in a point.  -EINVAL bad name, -EEXIST, -EPERM, -EROFS, ARM's errno. */
int tree_mkdir(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
	       struct tree_attr *out);
/* create: a view file name in a collection or point is opened for an
 * absorbed write; other names -EPERM. */
int tree_create(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		struct tree_attr *out, struct tree_file **f);
/* symlink of origin in a view directory: accepted without effect. */
int tree_symlink(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out);
/* unlink of a view file: accepted without effect. */
int tree_unlink(struct tree *t, uint64_t parent, const char *name);
/* rmdir: DELETE with allow_delete (else -EPERM), -ENOTEMPTY, -EBUSY. */
int tree_rmdir(struct tree *t, uint64_t parent, const char *name);
/* chmod/chown/utimens on a view node: accepted without effect (0), or the
 * refusal errno.  size >= 0 is a truncation. */
int tree_setattr(struct tree *t, uint64_t ino, int64_t size);
/* setxattr: user.rpfs.source names a pending directory's source; others
 * are accepted without effect. */
int tree_setxattr(struct tree *t, uint64_t ino, const char *name, const char *value, size_t len);
/* Extended attributes of a collection or point directory: user.rpfs.NAME
 * for its one-line view files (tree_xattr.c).  getxattr: the value
 * (caller frees), -ENODATA for another user.* name or a file the directory
 * lacks, -EOPNOTSUPP outside the user namespace;
 * listxattr: the names, each NUL-terminated, *len bytes (caller frees). */
int tree_getxattr(struct tree *t, uint64_t ino, const char *name, char **out);
int tree_listxattr(struct tree *t, uint64_t ino, char **out, size_t *len);
/* Truncate (O_TRUNC): accepted on .rpfs/flush, refused elsewhere. */
int tree_truncate(struct tree *t, uint64_t ino, uint64_t size);
/* Record a refusal decided above the tree (ino's directory, then name if
 * not NULL) in the log and .rpfs/errors: op, errno rc, why (what to do
 * instead). */
void tree_refuse(struct tree *t, uint64_t ino, const char *name, const char *op, int rc,
		 const char *why);
/* The errno for a mutation this build does not do: -EROFS with ro, else -EPERM. */
int tree_mutation_errno(struct tree *t);
/* Drop every cached answer and ask the kernel to forget everything. */
void tree_flush(struct tree *t);
/* Called about once a second: ask the kernel to drop directory listings it
 * has kept longer than ttl, so the next `ls` asks rpfs again; the cache
 * frees its expired "does not exist" answers (cache_sweep). */
void tree_expire(struct tree *t);
/* The text of .rpfs/stats (for SIGUSR1); caller frees. */
int tree_render_stats(struct tree *t, char **out);
/* Number of nodes (for stats and tests). */
size_t tree_node_count(struct tree *t);

/* Helpers exposed for unit tests. */
int tree_parse_time(const char *iso, time_t *out);

#endif
