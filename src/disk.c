/*
 * disk.c - disks/NAME.vhd: open, read, lseek and close of a disk restore
 * point's bytes, and the housekeeping of their grants.
 *
 * Why it is built this way:
 *  - One struct disk per disk restore point opened in this mount, kept
 *    until unmount (a few hundred bytes, plus its page list): it holds the
 *    grant (disk_grant.c), the allocated ranges, the counters shown in
 *    .rpfs/disks, and the disk's fetch workers.
 *  - The first open of a period of use gets the grant (ARM refuses here,
 *    before any byte: a copy still replicating, a disk that cannot be
 *    exported), then, once per disk, Get Page Ranges and the blob's size.
 *    Reads of unallocated ranges are zeros without a request, and
 *    SEEK_DATA / SEEK_HOLE answer from the same list.
 *  - Bytes move in blocks of DISK_BLOCK.  A block is fetched by one of the
 *    disk's workers (at most disk_conns, so at most disk_conns ranged GETs
 *    in flight per disk), with the allocated parts of the block only (at
 *    most DISK_PARTS GETs, joined over the smallest gaps).  The FUSE thread
 *    that needs a block queues it first in line and waits
 *    (blocking_begin(), so the FUSE loop reads on in another thread).
 *  - Read-ahead: when an open file is read sequentially, the blocks ahead
 *    are queued behind any demanded block, the window doubling from 2 to
 *    2 x disk_conns blocks; a random read resets it.  Read-ahead never
 *    pushes the block cache past its bound.
 *  - A housekeeping thread, once a second: renews the grant of a disk that
 *    is open before it expires, and ends it (endGetAccess) disk_idle
 *    seconds after its last close.  disks_stop() ends every grant at
 *    unmount and on SIGTERM.
 *
 * Lock order: ds->lock (the list of disks), then d->lock (a disk's
 * fields); the grant's and the block cache's locks are taken alone.  No
 * lock is held across a request or a thread join.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "blocking.h"
#include "cache.h"
#include "disk.h"
#include "disk_cache.h"
#include "disk_grant.h"
#include "log.h"

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
static long long now_ms(void)
{
	return blob_now_ms();
}

/* ---- allocated ranges ----------------------------------------------------- */

/* Index of the first range whose end is at or after off (nranges if none). */
static size_t range_at(const struct disk *d, uint64_t off)
{
	size_t lo = 0, hi = d->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->ranges[mid].end < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1 when [off, off + len) holds an allocated byte. */
static int has_data(const struct disk *d, uint64_t off, uint64_t len)
{
	size_t i = range_at(d, off);

	return len && i < d->nranges && d->ranges[i].start < off + len;
}

struct part {
	uint64_t off, len;
};

/* The allocated parts of [off, off + len), at most DISK_PARTS, joined
 * over the smallest gaps.  Returns their number. */
static size_t block_parts(const struct disk *d, uint64_t off, uint64_t len, struct part *p)
{
	struct part all[DISK_PARTS + 1];
	size_t n = 0;

	for (size_t i = range_at(d, off); i < d->nranges && d->ranges[i].start < off + len; i++) {
		uint64_t s = d->ranges[i].start < off ? off : d->ranges[i].start;
		uint64_t e = d->ranges[i].end + 1 > off + len ? off + len : d->ranges[i].end + 1;

		all[n].off = s;
		all[n].len = e - s;
		if (++n > DISK_PARTS) {
			/* join the two neighbours with the smallest gap */
			size_t best = 0;
			uint64_t gap = UINT64_MAX;

			for (size_t k = 0; k + 1 < n; k++) {
				uint64_t g = all[k + 1].off - (all[k].off + all[k].len);

				if (g < gap) {
					gap = g;
					best = k;
				}
			}
			all[best].len = all[best + 1].off + all[best + 1].len - all[best].off;
			memmove(&all[best + 1], &all[best + 2], (n - best - 2) * sizeof(all[0]));
			n--;
		}
	}
	memcpy(p, all, n * sizeof(*p));
	return n;
}

/* ---- fetching --------------------------------------------------------------- */

/* Fill block b of disk d from the blob: its allocated parts only. */
static int fetch_block(struct disk *d, struct dblock *b)
{
	struct disks *ds = d->ds;
	uint64_t start = b->idx * (uint64_t)DISK_BLOCK;
	long long deadline = now_ms() + (long long)ds->cfg.op_timeout * 1000;
	struct part parts[DISK_PARTS];
	size_t n = block_parts(d, start, b->len, parts);
	struct blob_err err;
	unsigned gen = 0;
	char *sas = NULL;
	int rc = 0, renewed = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!sas) {
			rc = grant_sas(&ds->genv, &d->grant, renewed ? gen : 0, &sas, &gen);
			if (rc)
				break;
		}
		rc = blob_read(ds->blob, sas, parts[i].off, (size_t)parts[i].len,
			       b->data + (parts[i].off - start), deadline, &d->cnt, &err);
		if (rc == -EACCES && !renewed) {
			/* expired or revoked: one new grant, one more try */
			log_info("disk: %s: the blob refused the SAS (%s), renewing the grant",
				 d->id, err.code[0] ? err.code : "403");
			grant_sas_free(sas);
			sas = NULL;
			renewed = 1;
			rc = 0;
			i--;
		}
	}
	grant_sas_free(sas);
	if (rc == 0 && b->recycled) {
		/* another block's bytes: zero what no part covered */
		uint64_t pos = start;

		for (size_t i = 0; i <= n; i++) {
			uint64_t next = i < n ? parts[i].off : start + b->len;

			memset(b->data + (pos - start), 0, (size_t)(next - pos));
			if (i < n)
				pos = parts[i].off + parts[i].len;
		}
	}
	if (rc && d->ds->cfg.cache) {
		struct arm_err ae = {.status = err.status};

		snprintf(ae.code, sizeof(ae.code), "%s", err.code);
		snprintf(ae.message, sizeof(ae.message), "%s", err.message);
		snprintf(ae.request_id, sizeof(ae.request_id), "%s", err.request_id);
		cache_record_error(d->ds->cfg.cache, "Blob_Get", d->id, &ae, rc);
	}
	return rc;
}

/* A fetch worker of disk d: blocks from the queue, demanded ones first. */
static void *worker_main(void *arg)
{
	struct disk *d = arg;
	struct dcache *dc = d->ds->dc;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct dblock *b;
		int rc;

		while (!d->stop && !d->qlen) {
			d->idle++;
			pthread_cond_wait(&d->cond, &d->lock);
			d->idle--;
		}
		if (d->stop)
			break;
		b = d->q[0];
		memmove(&d->q[0], &d->q[1], (d->qlen - 1) * sizeof(*d->q));
		d->qlen--;
		pthread_mutex_unlock(&d->lock);
		rc = fetch_block(d, b);
		dcache_done(dc, b, rc);
		dcache_put(dc, b);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Queue a pending block (its reference passes to the queue), first in
 * line when a reader waits for it; start a worker when none is free. */
static void enqueue(struct disk *d, struct dblock *b, int first)
{
	struct dcache *dc = d->ds->dc;
	int failed = 0;

	pthread_mutex_lock(&d->lock);
	if (d->stop) {
		failed = 1;
	} else if (d->qlen == d->qcap) {
		size_t nc = d->qcap ? d->qcap * 2 : 32;
		struct dblock **nq = realloc(d->q, nc * sizeof(*nq));

		if (nq) {
			d->q = nq;
			d->qcap = nc;
		} else {
			failed = 1;
		}
	}
	if (!failed) {
		if (first) {
			memmove(&d->q[1], &d->q[0], d->qlen * sizeof(*d->q));
			d->q[0] = b;
		} else {
			d->q[d->qlen] = b;
		}
		d->qlen++;
		if (d->idle < d->qlen && d->nworkers < d->ds->cfg.conns) {
			sigset_t all, old;
			int rc;

			/* Signals belong to the thread waiting in the FUSE loop. */
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, &old);
			rc = pthread_create(&d->th[d->nworkers], NULL, worker_main, d);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			if (rc == 0)
				d->nworkers++;
			else if (!d->nworkers)
				failed = 1;
			if (rc)
				log_warn("disk: cannot start a fetch thread: %s", strerror(rc));
			if (failed)
				d->qlen--;
		}
		pthread_cond_signal(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	if (failed) {
		dcache_done(dc, b, -EAGAIN);
		dcache_put(dc, b);
	}
}

/* Stop a disk's workers, failing what they had queued.  No lock held. */
static void quiesce(struct disk *d)
{
	struct dcache *dc = d->ds->dc;
	struct dblock **q;
	size_t n;
	unsigned nw;

	pthread_mutex_lock(&d->lock);
	d->stop = 1;
	q = d->q;
	n = d->qlen;
	d->q = NULL;
	d->qlen = d->qcap = 0;
	nw = d->nworkers;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < n; i++) {
		dcache_done(dc, q[i], -EIO);
		dcache_put(dc, q[i]);
	}
	free(q);
	for (unsigned i = 0; i < nw; i++)
		pthread_join(d->th[i], NULL);
	pthread_mutex_lock(&d->lock);
	d->nworkers = 0;
	d->stop = 0;
	pthread_mutex_unlock(&d->lock);
}

/* ---- open, read, lseek, close ------------------------------------------------ */

/* The disk of id, made on first use.  NULL on ENOMEM. */
static struct disk *disk_get(struct disks *ds, const char *id, uint64_t ino)
{
	struct disk *d;
	pthread_condattr_t ca;

	pthread_mutex_lock(&ds->lock);
	for (d = ds->list; d; d = d->next)
		if (!strcmp(d->id, id))
			break;
	if (!d && (d = calloc(1, sizeof(*d))) != NULL) {
		d->id = strdup(id);
		if (!d->id) {
			free(d);
			d = NULL;
		} else {
			d->ds = ds;
			d->ino = ino;
			pthread_mutex_init(&d->lock, NULL);
			pthread_condattr_init(&ca);
			pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
			pthread_cond_init(&d->cond, &ca);
			pthread_condattr_destroy(&ca);
			grant_init(&d->grant, d->id);
			d->next = ds->list;
			ds->list = d;
		}
	}
	pthread_mutex_unlock(&ds->lock);
	return d;
}

/* Wait on d->cond until deadline.  d->lock held.  -ETIMEDOUT when passed. */
static int disk_wait(struct disk *d, long long deadline)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline / 1000),
			      .tv_nsec = (long)(deadline % 1000) * 1000000L};

	if (now_ms() >= deadline)
		return -ETIMEDOUT;
	blocking_begin();
	pthread_cond_timedwait(&d->cond, &d->lock, &ts);
	return 0;
}

/* Once per disk: its allocated ranges and its size.  *first is set by
 * the call that learned them. */
static int disk_prepare(struct disk *d, int *first)
{
	struct disks *ds = d->ds;
	long long deadline = now_ms() + (long long)ds->cfg.op_timeout * 1000;
	struct blob_range *v = NULL;
	struct blob_err err;
	uint64_t size = 0;
	unsigned gen = 0, flight;
	size_t n = 0;
	char *sas = NULL;
	int rc = 0, blob_failed = 0;

	*first = 0;
	pthread_mutex_lock(&d->lock);
	flight = d->prep_flight;
	while (d->preparing && rc == 0)
		rc = disk_wait(d, deadline);
	if (rc || d->ready || d->prep_flight != flight) {
		rc = rc ? rc : d->ready ? 0 : d->prep_rc;
		pthread_mutex_unlock(&d->lock);
		return rc;
	}
	d->preparing = 1;
	pthread_mutex_unlock(&d->lock);

	memset(&err, 0, sizeof(err));
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = grant_sas(&ds->genv, &d->grant, attempt ? gen : 0, &sas, &gen);
		if (rc)
			break;
		rc = blob_page_ranges(ds->blob, sas, &v, &n, &size, deadline, &d->cnt, &err);
		if (rc == 0 && !size)
			rc = blob_size(ds->blob, sas, &size, deadline, &d->cnt, &err);
		blob_failed = rc != 0;
		grant_sas_free(sas);
		sas = NULL;
		if (rc != -EACCES)
			break;
		free(v);
		v = NULL;
	}
	if (rc && blob_failed && ds->cfg.cache) {
		struct arm_err ae = {.status = err.status};

		snprintf(ae.code, sizeof(ae.code), "%s", err.code);
		snprintf(ae.message, sizeof(ae.message), "%s", err.message);
		snprintf(ae.request_id, sizeof(ae.request_id), "%s", err.request_id);
		cache_record_error(ds->cfg.cache, "Blob_GetPageRanges", d->id, &ae, rc);
	}
	pthread_mutex_lock(&d->lock);
	if (rc == 0) {
		uint64_t alloc = 0;

		while (n && v[n - 1].start >= size)
			n--; /* past the end: not part of the disk */
		if (n && v[n - 1].end >= size)
			v[n - 1].end = size - 1;
		for (size_t i = 0; i < n; i++)
			alloc += v[i].end - v[i].start + 1;
		d->ranges = v;
		d->nranges = n;
		d->size = size;
		d->allocated = alloc;
		d->ready = 1;
		*first = 1;
		v = NULL;
	}
	d->preparing = 0;
	d->prep_rc = rc;
	d->prep_flight++;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	free(v);
	return rc;
}

/* Open a disk restore point. */
int disk_open(struct disks *ds, const char *id, uint64_t ino, uint64_t size_hint,
	      struct disk_file **out, int *changed)
{
	long long deadline = now_ms() + (long long)ds->cfg.op_timeout * 1000;
	struct disk_file *f;
	struct disk *d;
	unsigned gen;
	char *sas = NULL;
	int rc = 0, first = 0;

	*out = NULL;
	*changed = 0;
	if (ds->stopping)
		return -ESHUTDOWN;
	f = calloc(1, sizeof(*f));
	d = f ? disk_get(ds, id, ino) : NULL;
	if (!d) {
		free(f);
		return -ENOMEM;
	}
	pthread_mutex_lock(&d->lock);
	while (d->ending && rc == 0)
		rc = disk_wait(d, deadline);
	if (rc == 0)
		d->opens++;
	pthread_mutex_unlock(&d->lock);
	if (rc) {
		free(f);
		return rc;
	}
	/* The grant first: ARM refuses here, before any byte. */
	rc = grant_sas(&ds->genv, &d->grant, 0, &sas, &gen);
	grant_sas_free(sas);
	if (rc == 0)
		rc = disk_prepare(d, &first);
	if (rc) {
		pthread_mutex_lock(&d->lock);
		if (--d->opens == 0)
			d->last_close_ms = now_ms();
		pthread_mutex_unlock(&d->lock);
		free(f);
		return rc;
	}
	if (first) {
		if (d->size != size_hint)
			log_info("disk: %s is %" PRIu64 " bytes, not %" PRIu64
				 " as its diskSizeGB says",
				 d->id, d->size, size_hint);
		*changed = 1; /* size, and the blocks actually allocated */
	}
	f->d = d;
	*out = f;
	return 0;
}

/* Queue the read-ahead of f after block last (d->lock not held). */
static void read_ahead(struct disk_file *f, uint64_t from, uint64_t to)
{
	struct disk *d = f->d;
	uint64_t nblocks = (d->size + DISK_BLOCK - 1) / DISK_BLOCK;

	for (uint64_t idx = from; idx < to && idx < nblocks; idx++) {
		uint64_t start = idx * (uint64_t)DISK_BLOCK;
		size_t len = (size_t)(d->size - start < DISK_BLOCK ? d->size - start : DISK_BLOCK);
		struct dblock *b;
		int rc;

		if (!has_data(d, start, len))
			continue;
		rc = dcache_get(d->ds->dc, d, idx, len, DC_OPTIONAL, &b);
		if (rc == 1)
			enqueue(d, b, 0);
		else if (rc == 0)
			dcache_put(d->ds->dc, b);
		else
			break; /* no room: the reader catches up first */
	}
}

/* Read from a disk. */
int disk_read(struct disk_file *f, char *buf, size_t size, uint64_t off, size_t *got)
{
	struct disk *d = f->d;
	struct dcache *dc = d->ds->dc;
	long long deadline = now_ms() + (long long)d->ds->cfg.op_timeout * 1000;
	struct dblock *small[8], **blk = small;
	uint64_t end, first, last, ra_from = 0, ra_to = 0;
	size_t nb, pos;
	int rc = 0;

	*got = 0;
	if (off >= d->size || !size)
		return 0;
	end = off + size > d->size ? d->size : off + size;
	first = off / DISK_BLOCK;
	last = (end - 1) / DISK_BLOCK;
	nb = (size_t)(last - first + 1);
	if (nb > sizeof(small) / sizeof(small[0])) {
		blk = calloc(nb, sizeof(*blk));
		if (!blk)
			return -ENOMEM;
	}
	memset(blk, 0, nb * sizeof(*blk));

	/* Sequential or not: grow or reset the read-ahead window. */
	pthread_mutex_lock(&d->lock);
	if (f->started && (first == f->last_idx || first == f->last_idx + 1)) {
		if (last > f->last_idx || !f->ra) {
			unsigned max = 2 * d->ds->cfg.conns;

			f->ra = f->ra ? (f->ra * 2 > max ? max : f->ra * 2) : 2;
		}
	} else if (!f->started && off == 0) {
		f->ra = 2;
	} else {
		f->ra = 0;
		f->ra_next = 0;
	}
	f->started = 1;
	f->last_idx = last;
	if (f->ra) {
		ra_from = f->ra_next > last + 1 ? f->ra_next : last + 1;
		ra_to = last + 1 + f->ra;
		if (ra_to > f->ra_next)
			f->ra_next = ra_to;
	}
	pthread_mutex_unlock(&d->lock);

	/* The blocks this read needs, queued first. */
	for (size_t i = 0; i < nb; i++) {
		uint64_t bstart = (first + i) * (uint64_t)DISK_BLOCK;
		uint64_t s = off > bstart ? off : bstart;
		uint64_t e = end < bstart + DISK_BLOCK ? end : bstart + DISK_BLOCK;
		size_t blen =
		    (size_t)(d->size - bstart < DISK_BLOCK ? d->size - bstart : DISK_BLOCK);

		if (!has_data(d, s, e - s))
			continue; /* zeros, no request */
		rc = dcache_get(dc, d, first + i, blen, DC_DEMAND, &blk[i]);
		if (rc == 1) {
			dcache_hold(dc, blk[i]); /* the queue's reference */
			enqueue(d, blk[i], 1);
			rc = 0;
		}
		if (rc < 0)
			goto out;
	}
	if (ra_to > ra_from)
		read_ahead(f, ra_from, ra_to);

	pos = 0;
	for (size_t i = 0; i < nb; i++) {
		uint64_t bstart = (first + i) * (uint64_t)DISK_BLOCK;
		uint64_t s = off > bstart ? off : bstart;
		uint64_t e = end < bstart + DISK_BLOCK ? end : bstart + DISK_BLOCK;

		if (!blk[i]) {
			memset(buf + pos, 0, (size_t)(e - s));
		} else {
			rc = dcache_wait(dc, blk[i], deadline);
			if (rc)
				goto out;
			memcpy(buf + pos, blk[i]->data + (s - bstart), (size_t)(e - s));
		}
		pos += (size_t)(e - s);
	}
	*got = pos;
out:
	for (size_t i = 0; i < nb; i++)
		dcache_put(dc, blk[i]);
	if (blk != small)
		free(blk);
	if (rc == -EAGAIN)
		rc = -EIO;
	return rc;
}

/* lseek SEEK_DATA / SEEK_HOLE from the allocated ranges. */
int disk_lseek(struct disk_file *f, uint64_t off, int whence, uint64_t *out)
{
	struct disk *d = f->d;
	size_t i;

	if (off >= d->size)
		return -ENXIO;
	i = range_at(d, off);
	if (whence == SEEK_DATA) {
		if (i >= d->nranges)
			return -ENXIO;
		*out = d->ranges[i].start > off ? d->ranges[i].start : off;
		return 0;
	}
	if (whence != SEEK_HOLE)
		return -EINVAL;
	if (i >= d->nranges || d->ranges[i].start > off)
		*out = off;
	else
		*out = d->ranges[i].end + 1 < d->size ? d->ranges[i].end + 1 : d->size;
	return 0;
}

/* Close a disk file. */
void disk_close(struct disk_file *f)
{
	struct disk *d;

	if (!f)
		return;
	d = f->d;
	pthread_mutex_lock(&d->lock);
	if (--d->opens == 0)
		d->last_close_ms = now_ms();
	pthread_mutex_unlock(&d->lock);
	free(f);
}

/* ---- housekeeping ------------------------------------------------------------- */

/* End a disk's grant when it has been closed disk_idle seconds; renew it
 * while it is open. */
static void housekeep(struct disks *ds, struct disk *d)
{
	unsigned dur = ds->cfg.sas_duration;
	unsigned margin = dur / 3 > 300 ? 300 : dur / 3 < 2 ? 2 : dur / 3;
	int end = 0, open;

	pthread_mutex_lock(&d->lock);
	open = d->opens > 0;
	if (!open && d->last_close_ms &&
	    now_ms() - d->last_close_ms >= (long long)ds->cfg.disk_idle * DISK_SEC_MS &&
	    grant_active(&d->grant, NULL)) {
		d->ending = 1;
		end = 1;
	}
	pthread_mutex_unlock(&d->lock);
	if (open) {
		grant_renew(&ds->genv, &d->grant, margin);
		return;
	}
	if (!end)
		return;
	quiesce(d);
	grant_end(&ds->genv, &d->grant, ds->cfg.op_timeout, 1);
	pthread_mutex_lock(&d->lock);
	d->ending = 0;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* The housekeeping thread: a look at every disk once a second. */
static void *hk_main(void *arg)
{
	struct disks *ds = arg;

	pthread_mutex_lock(&ds->lock);
	while (!ds->stopping) {
		struct timespec ts;
		struct disk *d;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&ds->hk_cond, &ds->lock, &ts);
		if (ds->stopping)
			break;
		d = ds->list;
		pthread_mutex_unlock(&ds->lock);
		/* Disks are never freed before the thread stops, and new ones
		 * go in front: this walk is safe without the lock. */
		for (; d; d = d->next)
			housekeep(ds, d);
		pthread_mutex_lock(&ds->lock);
	}
	pthread_mutex_unlock(&ds->lock);
	return NULL;
}

/* ---- life cycle ---------------------------------------------------------------- */

/* Create the disk module. */
int disks_new(const struct disks_cfg *cfg, struct disks **out)
{
	struct disks *ds = calloc(1, sizeof(*ds));
	struct blob_cfg bc = {.cafile = cfg->cafile, .retries = cfg->retries};
	pthread_condattr_t ca;
	int rc;

	if (!ds)
		return -ENOMEM;
	ds->cfg = *cfg;
	if (ds->cfg.conns < 1)
		ds->cfg.conns = 1;
	if (ds->cfg.conns > DISK_MAX_CONNS)
		ds->cfg.conns = DISK_MAX_CONNS;
	if (!ds->cfg.op_timeout)
		ds->cfg.op_timeout = 30;
	ds->api = strdup(cfg->api_version ? cfg->api_version : "2025-01-02");
	bc.max_conns = ds->cfg.conns * 4;
	if (!ds->api) {
		free(ds);
		return -ENOMEM;
	}
	rc = blob_new(&bc, &ds->blob);
	if (rc == 0)
		rc = dcache_new((uint64_t)cfg->cache_mib << 20, &ds->dc);
	if (rc) {
		blob_free(ds->blob);
		free(ds->api);
		free(ds);
		return rc;
	}
	ds->genv.arm = cfg->arm;
	ds->genv.cache = cfg->cache;
	ds->genv.api = ds->api;
	ds->genv.duration = cfg->sas_duration;
	ds->genv.op_timeout = ds->cfg.op_timeout;
	pthread_mutex_init(&ds->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ds->hk_cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = ds;
	return 0;
}

/* Start the housekeeping thread. */
int disks_start(struct disks *ds)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&ds->hk, NULL, hk_main, ds);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	ds->hk_running = 1;
	return 0;
}

/* End every grant and stop every thread. */
void disks_stop(struct disks *ds)
{
	struct disk *d;
	unsigned t;

	if (!ds || ds->stopped)
		return;
	pthread_mutex_lock(&ds->lock);
	ds->stopping = 1;
	pthread_cond_broadcast(&ds->hk_cond);
	pthread_mutex_unlock(&ds->lock);
	if (ds->hk_running)
		pthread_join(ds->hk, NULL);
	ds->hk_running = 0;
	t = ds->cfg.op_timeout < 10 ? ds->cfg.op_timeout : 10;
	for (d = ds->list; d; d = d->next) {
		quiesce(d);
		grant_end(&ds->genv, &d->grant, t, 0); /* ARM revokes at the POST */
	}
	ds->stopped = 1;
}

/* Free the module (stopping it first). */
void disks_free(struct disks *ds)
{
	struct disk *d, *next;

	if (!ds)
		return;
	disks_stop(ds);
	for (d = ds->list; d; d = next) {
		next = d->next;
		dcache_drop(ds->dc, d);
		grant_destroy(&d->grant);
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->lock);
		free(d->ranges);
		free(d->q);
		free(d->id);
		free(d);
	}
	dcache_free(ds->dc);
	blob_free(ds->blob);
	pthread_cond_destroy(&ds->hk_cond);
	pthread_mutex_destroy(&ds->lock);
	free(ds->api);
	free(ds);
}

/* ---- views ---------------------------------------------------------------------- */

/* Size and allocated bytes of the disk shown at ino, once known. */
int disks_attr(struct disks *ds, uint64_t ino, uint64_t *size, uint64_t *allocated)
{
	struct disk *d;
	int rc = -ENOENT;

	if (!ds)
		return -ENOENT;
	pthread_mutex_lock(&ds->lock);
	for (d = ds->list; d; d = d->next) {
		if (d->ino != ino)
			continue;
		pthread_mutex_lock(&d->lock);
		if (d->ready) {
			*size = d->size;
			*allocated = d->allocated;
			rc = 0;
		}
		pthread_mutex_unlock(&d->lock);
		break;
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

/* .rpfs/disks. */
int disks_render(struct disks *ds, char **out)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp;

	*out = NULL;
	fp = open_memstream(&s, &len);
	if (!fp)
		return -ENOMEM;
	pthread_mutex_lock(&ds->lock);
	for (struct disk *d = ds->list; d; d = d->next) {
		char when[32] = "-";
		time_t exp;

		if (grant_active(&d->grant, &exp)) {
			struct tm tm;

			gmtime_r(&exp, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		}
		fprintf(fp, "%s %s %" PRIu64 " %" PRIu64 "\n", d->id, when,
			__atomic_load_n(&d->cnt.bytes, __ATOMIC_RELAXED),
			__atomic_load_n(&d->cnt.requests, __ATOMIC_RELAXED));
	}
	pthread_mutex_unlock(&ds->lock);
	if (fclose(fp) != 0) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

/* Block cache lines for .rpfs/stats. */
int disks_render_stats(struct disks *ds, char **out)
{
	struct dcache_stats st;
	char *s = NULL;
	size_t len = 0;
	FILE *fp;

	*out = NULL;
	dcache_stats_get(ds->dc, &st);
	fp = open_memstream(&s, &len);
	if (!fp)
		return -ENOMEM;
	fprintf(fp, "disk_cache_bytes %" PRIu64 "\ndisk_cache_limit %" PRIu64 "\n", st.used,
		st.cap);
	fprintf(fp, "disk_cache_hits %" PRIu64 "\ndisk_cache_misses %" PRIu64 "\n", st.hits,
		st.misses);
	fprintf(fp, "disk_cache_evictions %" PRIu64 "\n", st.evictions);
	if (fclose(fp) != 0) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}
