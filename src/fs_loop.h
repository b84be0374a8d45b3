/*
 * fs_loop.h - the FUSE request loop of rpfs (see fs_loop.c).
 */
#ifndef RPFS_FS_LOOP_H
#define RPFS_FS_LOOP_H

struct fuse_session;

/* Threads answering requests at most (libfuse's loop: 10). */
#define FS_LOOP_THREADS 10

struct fs_loop_cfg {
	unsigned max_threads;  /* 1: one thread answers everything, in order */
	unsigned busy_poll_us; /* keep reading this long before sleeping; 0: sleep at once */
	int cpu_poll;	       /* keep idle CPUs polling while requests come (PM QoS) */
};

/* Serve se until it is unmounted or fuse_session_exit() (the signal
 * handlers) stops it.  0 then; -errno when /dev/fuse failed. */
int fs_loop_run(struct fuse_session *se, const struct fs_loop_cfg *cfg);

#endif
