/*
 * cache_int.h - what the cache's files share: the table's entry, struct
 * cache, and the few functions one part calls in another (see
 * doc/DESIGN.md, The cache).  Not for use outside src/cache*.c.
 *
 *   cache.c           the table: entries, TTLs, negatives, single flight,
 *                     stale-on-error, flush, expiry
 *   cache_lru.c       the memory cap (cache_max): bytes, LRU, eviction
 *   cache_pack.c      what a collection value keeps of its points, and
 *                     what a value costs in memory
 *   cache_prefetch.c  the prefetch pool: threads and queue
 *   cache_mutate.c    mutations, and ARM's answers folded into the values
 *   cache_report.c    the error ring, .rpfs/errors and .rpfs/stats
 *   cache_arm.c       the ARM client as a backend
 *
 * Lock order: c->lock only (the listener and the backend run without it).
 */
#ifndef RPFS_CACHE_INT_H
#define RPFS_CACHE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache.h"

#define LIST_KEY "@listall"
#define RGS_KEY "@resourcegroups"
#define ERR_RING 100
#define KEY_MAX 1024

struct centry {
	struct centry *next;
	struct cache_val *val; /* NULL when none */
	int neg;	       /* negative errno cached (-ENOENT), 0 when none */
	double expires;	       /* monotonic seconds */
	int fetching;
	int users;			    /* threads waiting on it: not freed meanwhile */
	uint64_t done_seq;		    /* bumped when a fetch ends */
	int last_rc;			    /* result of the last fetch, for waiters */
	struct cache_val *last_val;	    /* its value (one reference), for waiters */
	size_t bytes;			    /* val's cost, counted in c->bytes */
	struct centry *lru_prev, *lru_next; /* on c's LRU while val is a collection */
	char key[];
};

struct err_rec {
	time_t t;
	char op[40];
	char path[256];
	struct arm_err e;
	int rc;
};

struct pf_job {
	struct pf_job *next;
	char *rg, *name;
	int ahead; /* a read-ahead (cache_prefetch), not waited for */
};

struct cache {
	struct cache_backend be;
	struct cache_cfg cfg;
	char *sub;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* fetch ended */
	struct centry **buckets;
	size_t nbuckets, nentries;
	double next_sweep; /* monotonic seconds of the next cache_sweep pass */
	uint64_t gen;
	cache_change_fn listener;
	void *listener_arg;
	/* counters */
	uint64_t hits, misses, neg_hits, stale, joined, fetch_errors, prefetched;
	uint64_t pf_done; /* prefetch jobs ended (all ended: a burst is over) */
	/* memory cap (cache_lru.c) */
	size_t bytes;			    /* cost of the values in the table */
	uint64_t evictions;		    /* collections dropped for the cap */
	struct centry *lru_head, *lru_tail; /* most recently used first */
	size_t nlru;			    /* entries on it */
	/* errors ring */
	struct err_rec ring[ERR_RING];
	size_t ring_next, ring_count;
	/* prefetch pool */
	pthread_t *threads;
	size_t nthreads;
	struct pf_job *q_head, *q_tail;
	pthread_cond_t q_cond;
	int stopping;
};

/* cache.c */
double cache_now(void); /* monotonic seconds */
/* The table key of collection rg/name (its ARM id, lower-cased), or with
 * rg NULL the synthetic key of the ListAll answer (name NULL) or of the
 * resource groups list (name non-NULL).  0 or -ENAMETOOLONG. */
int cache_coll_key(const struct cache *c, char *buf, size_t len, const char *rg, const char *name);
struct centry *cache_entry_get(struct cache *c, const char *key);  /* creates; lock held */
struct centry *cache_entry_find(struct cache *c, const char *key); /* lock held */
/* Take e out of the table and free it (nobody fetches or waits on it). */
void cache_entry_drop(struct cache *c, struct centry *e); /* lock held */
struct cache_val *cache_val_new(enum cache_kind kind);
int cache_cmp_rpc(const void *a, const void *b); /* (rg, name), case-insensitive */
/* Store nv as the value of key when it still holds cur (or nothing, with
 * cur NULL) and no fetch or flush came between (gen); tells the listener.
 * 0, or -ENOENT when not stored. */
int cache_store_if(struct cache *c, const char *key, struct cache_val *cur, struct cache_val *nv,
		   uint64_t gen);

/* cache_lru.c (lock held) */
/* Make v (one more reference taken) the value of e, with its cost counted
 * and, for a collection, e made the most recently used; returns the
 * reference to the old value (the caller drops it). */
struct cache_val *cache_entry_set(struct cache *c, struct centry *e, struct cache_val *v);
void cache_lru_touch(struct cache *c, struct centry *e);  /* e was used */
void cache_lru_unlink(struct cache *c, struct centry *e); /* e is being freed */
/* 1 when one more collection (of the average cost) would pass the cap. */
int cache_lru_full(const struct cache *c);
/* While the values pass cfg.max_bytes, free the least recently used
 * collection entries nobody fetches or waits on, never keep itself. */
void cache_evict(struct cache *c, const struct centry *keep);

/* cache_pack.c */
void cache_compact_coll(struct arm_rpc *r);
void cache_pack_coll(struct cache_val *v);
void cache_pack_detach(struct cache_val *v); /* before freeing v->rpc and v->pack */
size_t cache_val_bytes(const struct cache_val *v);

/* cache_prefetch.c */
struct pf_job *cache_pf_take_all(struct cache *c); /* the queue, emptied; lock held */
void cache_pf_free(struct pf_job *q);

#endif
