/*
 * fs.h - the FUSE layer: libfuse3's low-level operations translated into
 * tree_* calls, plus the thread that pushes kernel invalidations.
 *
 * Only fs.c, fs_loop.c and main.c include the libfuse headers (opts.c
 * uses fuse_opt.h for parsing).  Thread-safe.
 */
#ifndef RPFS_FS_H
#define RPFS_FS_H

#include <stddef.h>
#include <sys/types.h>

struct tree;
struct fs;
struct fuse_session;
struct fuse_lowlevel_ops;

struct fs_cfg {
	uid_t uid; /* owner shown on every file */
	gid_t gid;
	unsigned umask;		 /* applied to every mode */
	uid_t owner;		 /* the mounting user: with root, the only one who may
				  * change anything (README "Other users") */
	int default_permissions; /* the kernel checks modes: other users may
				  * change what uid/gid/umask let them, but
				  * never delete */
};

/* Create the FUSE layer over a tree (borrowed). Returns 0 or -ENOMEM. */
int fs_new(struct tree *t, const struct fs_cfg *cfg, struct fs **out);
/* The operations to give fuse_session_new() with the fs as userdata. */
const struct fuse_lowlevel_ops *fs_ops(size_t *size);
/* Start the invalidation thread (after daemonizing). Returns 0 or -errno. */
int fs_start(struct fs *f, struct fuse_session *se);
/* Stop it (before the session is destroyed); waits for the thread. */
void fs_stop(struct fs *f);
void fs_free(struct fs *f);

/* Async-signal-safe requests served by the invalidation thread:
 * SIGHUP (drop every cached answer, reopen the log), SIGUSR1 (stats to log). */
void fs_signal_flush(struct fs *f);
void fs_signal_stats(struct fs *f);

#endif
