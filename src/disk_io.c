/*
 * disk_io.c - the bytes of disks/NAME.vhd: reads through the block cache,
 * the fetch workers that fill it, and SEEK_DATA / SEEK_HOLE from the page
 * list (disk.c opens, closes and keeps the grants; see its top comment).
 *
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
 *  - A 403 from the blob (the SAS expired or was revoked) renews the grant
 *    once and the part is read again.
 *
 * Locks: see disk_int.h.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocking.h"
#include "cache.h"
#include "disk_int.h"
#include "log.h"

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

#define WANT_ALIGN (64u << 10) /* the bytes a random read waits for, rounded out */

/* The order in which to fetch the parts of block b (at start): when a
 * reader waits for a few bytes of it inside one part, those first (their
 * part cut in three), so a random read waits one round trip and a small
 * transfer, not the whole block.  Returns the number of pieces; *wanted
 * is set when the first one is what the reader waits for. */
static size_t fetch_order(const struct dblock *b, uint64_t start, const struct part *p, size_t n,
			  struct part *o, int *wanted)
{
	uint64_t lo = start + b->want_lo, hi = start + b->want_hi;
	size_t k = 0, w = n;

	*wanted = 0;
	for (size_t i = 0; b->want_hi > b->want_lo && i < n; i++)
		if (p[i].off <= lo && hi <= p[i].off + p[i].len)
			w = i;
	if (w == n) {
		memcpy(o, p, n * sizeof(*p));
		return n;
	}
	lo = start + (lo - start) / WANT_ALIGN * WANT_ALIGN;
	hi = start + (hi - start + WANT_ALIGN - 1) / WANT_ALIGN * WANT_ALIGN;
	if (lo < p[w].off)
		lo = p[w].off;
	if (hi > p[w].off + p[w].len)
		hi = p[w].off + p[w].len;
	*wanted = 1;
	o[k++] = (struct part){lo, hi - lo};
	if (lo > p[w].off)
		o[k++] = (struct part){p[w].off, lo - p[w].off};
	if (hi < p[w].off + p[w].len)
		o[k++] = (struct part){hi, p[w].off + p[w].len - hi};
	for (size_t i = 0; i < n; i++)
		if (i != w)
			o[k++] = p[i];
	return k;
}

/* Fill block b of disk d from the blob: its allocated parts only. */
static int fetch_block(struct disk *d, struct dblock *b)
{
	struct disks *ds = d->ds;
	uint64_t start = b->idx * (uint64_t)DISK_BLOCK;
	long long deadline = now_ms() + (long long)ds->cfg.op_timeout * 1000;
	struct part parts[DISK_PARTS], order[DISK_PARTS + 2];
	size_t n = block_parts(d, start, b->len, parts);
	struct blob_err err;
	unsigned gen = 0;
	char *sas = NULL;
	int rc = 0, renewed = 0, wanted;
	size_t no = fetch_order(b, start, parts, n, order, &wanted);

	for (size_t i = 0; i < no && rc == 0; i++) {
		if (!sas) {
			rc = grant_sas(&ds->genv, &d->grant, renewed ? gen : 0, &sas, &gen);
			if (rc)
				break;
		}
		rc = blob_read(ds->blob, sas, order[i].off, (size_t)order[i].len,
			       b->data + (order[i].off - start), deadline, &d->cnt, &err);
		if (rc == -EACCES && !renewed) {
			/* expired or revoked: one new grant, one more try */
			log_info("disk: %s: the blob refused the SAS (%s), renewing the grant",
				 d->id, err.code[0] ? err.code : "403");
			grant_sas_free(sas);
			sas = NULL;
			renewed = 1;
			rc = 0;
			i--;
		} else if (rc == 0 && i == 0 && wanted) {
			/* what the reader asked for: it goes on now */
			dcache_partial(ds->dc, b, (size_t)(order[0].off - start),
				       (size_t)(order[0].off + order[0].len - start));
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
	if (rc)
		disk_record_error(d, "Blob_Get", &err, rc);
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
void disk_quiesce(struct disk *d)
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

/* ---- read, lseek ------------------------------------------------------------ */

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
		if (rc == 1 && !ra_to && nb == 1) {
			/* a random read: its bytes first */
			blk[i]->want_lo = (size_t)(s - bstart);
			blk[i]->want_hi = (size_t)(e - bstart);
		}
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
			rc = dcache_wait_range(dc, blk[i], (size_t)(s - bstart),
					       (size_t)(e - bstart), deadline);
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
