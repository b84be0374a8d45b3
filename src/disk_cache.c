/*
 * disk_cache.c - blocks of disk content in memory, least recently used out.
 *
 * Why it is built this way: reading a disk through rpfs must cost each
 * byte once (a benchmark figure: bytes fetched close to bytes allocated)
 * and must not grow with the disk: a 4 GiB `cat` runs in disk_cache MiB.
 * So every block has one entry, found by (owner, index) in a hash table,
 * and the ready ones sit on one LRU list for the whole mount.  A block
 * being fetched is in the table too (pending), so a second reader waits
 * for it instead of fetching it again; a failed fetch is removed at once,
 * so the next read tries again.
 *
 * The bound counts every block's mapped size, pending ones included.  A
 * read that needs a block gets it even past the bound (DC_DEMAND: at most
 * one or two per FUSE thread), read-ahead does not (DC_OPTIONAL).
 * Blocks are mmap()ed: glibc would keep freed megabytes in its arenas.
 *
 * Lock: dc->lock over everything here; dc->cond is broadcast when any
 * block ends its fetch.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "blocking.h"
#include "disk_cache.h"

struct dcache {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct dblock **hash;
	size_t nhash;
	struct dblock lru; /* sentinel: lru.next is the most recently used */
	uint64_t used, cap;
	uint64_t hits, misses, evictions;
};

/* Create a cache of at most cap bytes. */
int dcache_new(uint64_t cap, struct dcache **out)
{
	struct dcache *dc = calloc(1, sizeof(*dc));
	pthread_condattr_t ca;

	if (!dc)
		return -ENOMEM;
	dc->nhash = 4096;
	dc->hash = calloc(dc->nhash, sizeof(*dc->hash));
	if (!dc->hash) {
		free(dc);
		return -ENOMEM;
	}
	dc->cap = cap;
	dc->lru.prev = dc->lru.next = &dc->lru;
	pthread_mutex_init(&dc->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dc->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = dc;
	return 0;
}

/* Give a block's memory back. */
static void block_free(struct dblock *b)
{
	if (b->data)
		munmap(b->data, b->maplen);
	free(b);
}

/* Free the cache and every block left in it. */
void dcache_free(struct dcache *dc)
{
	if (!dc)
		return;
	for (size_t i = 0; i < dc->nhash; i++) {
		struct dblock *b = dc->hash[i], *next;

		for (; b; b = next) {
			next = b->hnext;
			block_free(b);
		}
	}
	free(dc->hash);
	pthread_cond_destroy(&dc->cond);
	pthread_mutex_destroy(&dc->lock);
	free(dc);
}

/* Hash bucket of (owner, idx). */
static size_t slot_of(const struct dcache *dc, const void *owner, uint64_t idx)
{
	uint64_t h =
	    (uint64_t)(uintptr_t)owner * 0x9e3779b97f4a7c15ULL ^ (idx * 0xbf58476d1ce4e5b9ULL);

	return (size_t)((h ^ (h >> 29)) % dc->nhash);
}

/* Take a block off the LRU list (when it is on it).  Lock held. */
static void lru_unlink(struct dblock *b)
{
	if (b->prev) {
		b->prev->next = b->next;
		b->next->prev = b->prev;
		b->prev = b->next = NULL;
	}
}

/* Put a block first on the LRU list.  Lock held. */
static void lru_front(struct dcache *dc, struct dblock *b)
{
	lru_unlink(b);
	b->next = dc->lru.next;
	b->prev = &dc->lru;
	dc->lru.next->prev = b;
	dc->lru.next = b;
}

/* Remove a block from the table.  Lock held. */
static void unhash(struct dcache *dc, struct dblock *b)
{
	struct dblock **pp;

	if (!b->hashed)
		return;
	for (pp = &dc->hash[slot_of(dc, b->owner, b->idx)]; *pp; pp = &(*pp)->hnext)
		if (*pp == b) {
			*pp = b->hnext;
			break;
		}
	b->hashed = 0;
	b->hnext = NULL;
	lru_unlink(b);
}

/* Evict unreferenced ready blocks, oldest first, until need more bytes
 * fit; the memory of one of exactly need bytes is kept in *spare (when
 * spare is not NULL and holds none yet).  Lock held.  1 when they fit. */
static int make_room(struct dcache *dc, size_t need, char **spare)
{
	struct dblock *b = dc->lru.prev, *prev;

	for (; dc->used + need > dc->cap && b != &dc->lru; b = prev) {
		prev = b->prev;
		if (b->refs)
			continue;
		unhash(dc, b);
		dc->used -= b->maplen;
		dc->evictions++;
		if (spare && !*spare && b->maplen == need) {
			*spare = b->data; /* faulted in already: no new mapping */
			b->data = NULL;
		}
		block_free(b);
	}
	return dc->used + need <= dc->cap;
}

/* The block (owner, idx), created when missing as mode allows. */
int dcache_get(struct dcache *dc, const void *owner, uint64_t idx, size_t len,
	       enum dcache_mode mode, struct dblock **out)
{
	size_t maplen = (len + 4095) & ~(size_t)4095;
	struct dblock *b;
	char *spare = NULL;
	size_t h;

	*out = NULL;
	pthread_mutex_lock(&dc->lock);
	h = slot_of(dc, owner, idx);
	for (b = dc->hash[h]; b; b = b->hnext)
		if (b->owner == owner && b->idx == idx)
			break;
	if (b) {
		b->refs++;
		if (b->state == DB_READY) {
			lru_front(dc, b);
			dc->hits++;
		}
		pthread_mutex_unlock(&dc->lock);
		*out = b;
		return 0;
	}
	if (mode == DC_LOOKUP) {
		pthread_mutex_unlock(&dc->lock);
		return -ENOENT;
	}
	if (!make_room(dc, maplen, &spare) && mode == DC_OPTIONAL) {
		pthread_mutex_unlock(&dc->lock);
		if (spare)
			munmap(spare, maplen);
		return -ENOSPC;
	}
	b = calloc(1, sizeof(*b));
	if (b && spare) {
		b->data = spare;
		b->recycled = 1;
		spare = NULL;
	} else if (b) {
		/* populated at once: one call instead of a fault per page */
		b->data = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (b->data == MAP_FAILED) {
			free(b);
			b = NULL;
		}
	}
	if (!b) {
		pthread_mutex_unlock(&dc->lock);
		if (spare)
			munmap(spare, maplen);
		return -ENOMEM;
	}
	b->owner = owner;
	b->idx = idx;
	b->len = len;
	b->maplen = maplen;
	b->state = DB_PENDING;
	b->refs = 1;
	b->hashed = 1;
	b->hnext = dc->hash[h];
	dc->hash[h] = b;
	dc->used += maplen;
	dc->misses++;
	pthread_mutex_unlock(&dc->lock);
	*out = b;
	return 1;
}

/* 1 when a reader of [lo, hi) of b need not wait any more.  Lock held. */
static int range_done(const struct dblock *b, size_t lo, size_t hi)
{
	return b->state != DB_PENDING ||
	       (hi > lo && b->valid_hi > b->valid_lo && lo >= b->valid_lo && hi <= b->valid_hi);
}

/* Wait for a block's fetch to end. */
int dcache_wait(struct dcache *dc, struct dblock *b, long long deadline_ms)
{
	return dcache_wait_range(dc, b, 0, 0, deadline_ms);
}

/* Wait for a block's fetch to end, or for bytes [lo, hi) of it. */
int dcache_wait_range(struct dcache *dc, struct dblock *b, size_t lo, size_t hi,
		      long long deadline_ms)
{
	int rc = 0;

	pthread_mutex_lock(&dc->lock);
	if (!range_done(b, lo, hi))
		blocking_begin();
	while (!range_done(b, lo, hi)) {
		struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
				      .tv_nsec = (long)(deadline_ms % 1000) * 1000000L};

		if (pthread_cond_timedwait(&dc->cond, &dc->lock, &ts) == ETIMEDOUT &&
		    !range_done(b, lo, hi)) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (!rc && b->state == DB_FAILED)
		rc = b->err;
	pthread_mutex_unlock(&dc->lock);
	return rc;
}

/* Part of a fetch is done: its readers may go on. */
void dcache_partial(struct dcache *dc, struct dblock *b, size_t lo, size_t hi)
{
	pthread_mutex_lock(&dc->lock);
	b->valid_lo = lo;
	b->valid_hi = hi;
	pthread_cond_broadcast(&dc->cond);
	pthread_mutex_unlock(&dc->lock);
}

/* A fetch ended. */
void dcache_done(struct dcache *dc, struct dblock *b, int rc)
{
	pthread_mutex_lock(&dc->lock);
	if (rc == 0) {
		b->state = DB_READY;
		if (b->hashed)
			lru_front(dc, b);
	} else {
		b->state = DB_FAILED;
		b->err = rc;
		if (b->hashed) {
			unhash(dc, b);
			dc->used -= b->maplen;
			b->hashed = -1; /* no longer counted in used */
		}
	}
	pthread_cond_broadcast(&dc->cond);
	pthread_mutex_unlock(&dc->lock);
}

/* One more reference to a held block. */
void dcache_hold(struct dcache *dc, struct dblock *b)
{
	pthread_mutex_lock(&dc->lock);
	b->refs++;
	pthread_mutex_unlock(&dc->lock);
}

/* Drop a reference; a block no longer in the table goes with its last. */
void dcache_put(struct dcache *dc, struct dblock *b)
{
	int gone;

	if (!b)
		return;
	pthread_mutex_lock(&dc->lock);
	gone = --b->refs == 0 && b->hashed <= 0;
	if (gone && b->hashed == 0)
		dc->used -= b->maplen;
	pthread_mutex_unlock(&dc->lock);
	if (gone)
		block_free(b);
}

/* Forget every block of owner. */
void dcache_drop(struct dcache *dc, const void *owner)
{
	struct dblock *dead = NULL;

	pthread_mutex_lock(&dc->lock);
	for (size_t i = 0; i < dc->nhash; i++) {
		struct dblock **pp = &dc->hash[i];

		while (*pp) {
			struct dblock *b = *pp;

			if (b->owner != owner) {
				pp = &b->hnext;
				continue;
			}
			*pp = b->hnext;
			b->hashed = 0;
			b->hnext = NULL;
			lru_unlink(b);
			if (!b->refs) {
				dc->used -= b->maplen;
				b->hnext = dead;
				dead = b;
			}
		}
	}
	pthread_mutex_unlock(&dc->lock);
	while (dead) {
		struct dblock *next = dead->hnext;

		block_free(dead);
		dead = next;
	}
}

/* Counters for .rpfs/stats and the tests. */
void dcache_stats_get(struct dcache *dc, struct dcache_stats *out)
{
	pthread_mutex_lock(&dc->lock);
	out->used = dc->used;
	out->cap = dc->cap;
	out->hits = dc->hits;
	out->misses = dc->misses;
	out->evictions = dc->evictions;
	pthread_mutex_unlock(&dc->lock);
}
