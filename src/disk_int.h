/*
 * disk_int.h - what disk.c (open, close, grants, housekeeping, views) and
 * disk_io.c (the page list, fetching blocks, read, lseek) share.  Not a
 * public header: the tree and the FUSE layer see disk.h only.
 *
 * Lock order: ds->lock (the list of disks), then d->lock (a disk's
 * fields); the grant's and the block cache's locks are taken alone.  No
 * lock is held across a request or a thread join.
 */
#ifndef RPFS_DISK_INT_H
#define RPFS_DISK_INT_H

#include <pthread.h>
#include <stdint.h>

#include "blob.h"
#include "disk.h"
#include "disk_cache.h"
#include "disk_grant.h"

#ifndef DISK_BLOCK
#define DISK_BLOCK (2u << 20) /* bytes per block (a build may set another) */
#endif
#define DISK_PARTS 4 /* ranged GETs per block at most */
#define DISK_MAX_CONNS 64
#define DISK_SEC_MS 1000

struct disk {
	struct disk *next;
	struct disks *ds;
	char *id;
	uint64_t ino;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* queue, readiness and ending changes */
	struct disk_grant grant;
	/* Once per disk: the page list and the size (immutable once ready). */
	int ready, preparing, prep_rc;
	unsigned prep_flight;
	uint64_t size, allocated;
	struct blob_range *ranges;
	size_t nranges;
	/* Use. */
	unsigned opens;
	long long last_close_ms;
	int ending; /* the housekeeping thread is ending the grant */
	/* Fetch queue and workers. */
	struct dblock **q;
	size_t qlen, qcap;
	pthread_t th[DISK_MAX_CONNS];
	unsigned nworkers, idle;
	int stop;
	struct blob_count cnt;
};

struct disks {
	struct disks_cfg cfg;
	char *api;
	struct grant_env genv;
	struct blob *blob;
	struct dcache *dc;
	pthread_mutex_t lock;
	pthread_cond_t hk_cond;
	struct disk *list;
	pthread_t hk;
	int hk_running, stopping, stopped;
};

struct disk_file {
	struct disk *d;
	uint64_t last_idx; /* last block read */
	uint64_t ra_next;  /* first block not yet queued for read-ahead */
	unsigned ra;	   /* read-ahead window, blocks */
	int started;
};

/* Milliseconds of the monotonic clock. */
static inline long long now_ms(void)
{
	return blob_now_ms();
}

/* ---- disk.c ---- */
/* Record a failed blob request of d (op: its operationId) in .rpfs/errors. */
void disk_record_error(struct disk *d, const char *op, const struct blob_err *err, int rc);

/* ---- disk_io.c ---- */
/* Stop a disk's workers, failing what they had queued.  No lock held. */
void disk_quiesce(struct disk *d);
/* Wait on d->cond until deadline.  d->lock held.  -ETIMEDOUT when passed. */
int disk_wait(struct disk *d, long long deadline);

#endif
