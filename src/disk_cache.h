/*
 * disk_cache.h - the blocks of disk content kept in memory, for the whole
 * mount: bounded (disk_cache MiB), least recently used first out, one
 * fetch per block (single flight).
 *
 * A block is identified by its owner (a disk) and its index.  The cache
 * knows nothing of how a block is fetched: dcache_get() creates a missing
 * block in the pending state and says so, the creator fills b->data and
 * calls dcache_done(), and everyone else waits with dcache_wait().  Block
 * memory is mapped anonymously, so it is zero when created, and goes back
 * to the system when the block is dropped; a block evicted to make room
 * for one of the same size hands its memory over instead (b->recycled).
 *
 * Thread-safe: one mutex over the table, the LRU list and the counters;
 * never held while a block is filled.  Memory: a block is referenced by
 * whoever got it (dcache_put drops it); only unreferenced ready blocks
 * are evicted.
 */
#ifndef RPFS_DISK_CACHE_H
#define RPFS_DISK_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct dcache;

enum dblock_state { DB_PENDING, DB_READY, DB_FAILED };

struct dblock {
	struct dblock *hnext;	    /* hash chain */
	struct dblock *prev, *next; /* LRU list (ready, unreferenced or not) */
	const void *owner;
	uint64_t idx;
	char *data; /* len bytes; zero-filled at creation unless recycled */
	size_t len, maplen;
	int state; /* enum dblock_state, under the cache lock */
	int err;   /* DB_FAILED: the errno */
	int refs;
	int hashed;   /* still findable (not dropped or failed) */
	int recycled; /* data is an evicted block's: the filler zeroes
			 what it does not write */
	/* The bytes a reader waits for first (set by the creator before the
	 * fill starts; want_hi 0: none), and, while pending, the bytes already
	 * good (under the cache lock; dcache_partial). */
	size_t want_lo, want_hi;
	size_t valid_lo, valid_hi;
};

struct dcache_stats {
	uint64_t used, cap; /* bytes of block memory, and the bound */
	uint64_t hits, misses, evictions;
};

/* A cache of at most cap bytes of blocks.  0, -ENOMEM. */
int dcache_new(uint64_t cap, struct dcache **out);
/* Free the cache; no block may be referenced any more. */
void dcache_free(struct dcache *dc);

enum dcache_mode {
	DC_LOOKUP,   /* only an existing block */
	DC_DEMAND,   /* create it if missing, even beyond the bound */
	DC_OPTIONAL, /* create it if missing and it fits (read-ahead) */
};
/* The block (owner, idx) of len bytes, referenced in *out.  1: created
 * (pending; the caller fills it and calls dcache_done), 0: found (ready,
 * pending or failed: dcache_wait), -ENOENT (DC_LOOKUP: absent), -ENOSPC
 * (DC_OPTIONAL: no room), -ENOMEM. */
int dcache_get(struct dcache *dc, const void *owner, uint64_t idx, size_t len,
	       enum dcache_mode mode, struct dblock **out);
/* Wait until a block is ready (0) or failed (its errno); -ETIMEDOUT at
 * deadline_ms (monotonic clock). */
int dcache_wait(struct dcache *dc, struct dblock *b, long long deadline_ms);
/* The same, also returning 0 as soon as bytes [lo, hi) of a pending block
 * are good (dcache_partial). */
int dcache_wait_range(struct dcache *dc, struct dblock *b, size_t lo, size_t hi,
		      long long deadline_ms);
/* The filler's report that bytes [lo, hi) of b are good already. */
void dcache_partial(struct dcache *dc, struct dblock *b, size_t lo, size_t hi);
/* The creator's report: rc 0 (ready) or a negative errno (the block is
 * forgotten at once, its waiters get rc). */
void dcache_done(struct dcache *dc, struct dblock *b, int rc);
/* One more reference to a block the caller holds. */
void dcache_hold(struct dcache *dc, struct dblock *b);
/* Drop a reference (NULL is fine). */
void dcache_put(struct dcache *dc, struct dblock *b);
/* Forget every block of owner (referenced ones go when dropped). */
void dcache_drop(struct dcache *dc, const void *owner);
void dcache_stats_get(struct dcache *dc, struct dcache_stats *out);

#endif
