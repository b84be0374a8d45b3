/*
 * cache_lru.c - the memory cap (cache_max): what the values in the table
 * cost, a least-recently-used list of the collection entries, and their
 * eviction when the total passes the cap (doc/DESIGN.md, The cache).
 *
 * Only collections (with their points, the big values) are evicted; the
 * ListAll answer, resource groups and negative answers stay.  An entry
 * that a thread fetches or waits on is never evicted.  Evicting drops the
 * cache's own reference only: a caller holding the value keeps it valid
 * until its cache_put(), and the next use of the collection fetches it
 * again.  All functions here run with c->lock held.
 */
#include "config.h"

#include <stddef.h>

#include "cache.h"
#include "cache_int.h"

/* Take e off the LRU list (if it is on it). */
void cache_lru_unlink(struct cache *c, struct centry *e)
{
	if (!e->lru_prev && c->lru_head != e)
		return;
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
	c->nlru--;
}

/* Put e at the head of the LRU list (most recently used). */
static void lru_push(struct cache *c, struct centry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
	c->nlru++;
}

/* 1 when a collection of the average cost (over-estimated: the other
 * values count too) would pass the cap: the prefetch pool then drops its
 * read-ahead, which would evict what a walk uses for what it may use. */
int cache_lru_full(const struct cache *c)
{
	return c->cfg.max_bytes && c->nlru && c->bytes + c->bytes / c->nlru > c->cfg.max_bytes;
}

/* e's value was used: it becomes the most recently used collection. */
void cache_lru_touch(struct cache *c, struct centry *e)
{
	if (!e->lru_prev && c->lru_head != e)
		return; /* not a collection */
	cache_lru_unlink(c, e);
	lru_push(c, e);
}

/* Make v the value of e (v may be NULL), counting its cost; the old value's
 * reference goes to the caller. */
struct cache_val *cache_entry_set(struct cache *c, struct centry *e, struct cache_val *v)
{
	struct cache_val *old = e->val;

	cache_lru_unlink(c, e);
	c->bytes -= e->bytes;
	e->bytes = 0;
	e->val = cache_ref(v);
	if (v) {
		if (!v->bytes)
			v->bytes = cache_val_bytes(v); /* a value folded from an answer */
		e->bytes = v->bytes;
		c->bytes += e->bytes;
		if (v->kind == CV_COLL)
			lru_push(c, e);
	}
	return old;
}

/* Evict least recently used collections while the cap is passed. */
void cache_evict(struct cache *c, const struct centry *keep)
{
	struct centry *e, *prev;

	if (!c->cfg.max_bytes)
		return;
	for (e = c->lru_tail; e && c->bytes > c->cfg.max_bytes; e = prev) {
		prev = e->lru_prev;
		if (e == keep || e->fetching || e->users)
			continue;
		cache_entry_drop(c, e);
		c->evictions++;
	}
}
