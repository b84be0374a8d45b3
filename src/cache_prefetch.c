/*
 * cache_prefetch.c - the prefetch pool: up to max_conns threads take
 * collections (and the ListAll answer, and the resource groups list) from
 * a queue and fetch them through the cache's single-flight lookup, so a
 * walk finds them cached (doc/DESIGN.md, The cache).  With cache_max, a
 * read-ahead (cache_prefetch) taken while the cache is at its cap is
 * dropped; what a listing waits for (cache_prefetch_first) is fetched.
 */
#include "config.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "cache_int.h"

/* Prefetch worker: fetch queued collections until the cache stops. */
static void *pf_main(void *arg)
{
	struct cache *c = arg;

	for (;;) {
		struct pf_job *j;
		struct cache_val *v = NULL;
		int last, full;

		pthread_mutex_lock(&c->lock);
		while (!c->q_head && !c->stopping)
			pthread_cond_wait(&c->q_cond, &c->lock);
		if (c->stopping) {
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		j = c->q_head;
		c->q_head = j->next;
		if (!c->q_head)
			c->q_tail = NULL;
		c->prefetched++;
		/* at the cap, a read-ahead would evict what is being used for
		 * what may be: only what a listing waits for is fetched */
		full = j->ahead && cache_lru_full(c);
		pthread_mutex_unlock(&c->lock);
		if (!full && (j->rg	? cache_coll(c, j->rg, j->name, CACHE_FETCH, &v)
			      : j->name ? cache_rgs(c, CACHE_FETCH, &v) /* RGS_KEY */
					: cache_list(c, CACHE_FETCH, &v)) == 0)
			cache_put(v);
		free(j->rg);
		free(j->name);
		free(j);
		/* The burst is over: give back the pages its parse trees used
		 * (freed, but resident: memory per point is a benchmark figure). */
		pthread_mutex_lock(&c->lock);
		last = !c->q_head && ++c->pf_done == c->prefetched;
		pthread_mutex_unlock(&c->lock);
		if (last)
			malloc_trim(0);
	}
}

/* Take the queued job for collection rg/name out of the queue, or NULL;
 * c->lock held. */
static struct pf_job *queue_take(struct cache *c, const char *rg, const char *name)
{
	struct pf_job **pp, *prev = NULL;

	for (pp = &c->q_head; *pp; prev = *pp, pp = &(*pp)->next) {
		struct pf_job *j = *pp;

		if (!j->rg || strcasecmp(j->rg, rg) || strcasecmp(j->name, name))
			continue;
		*pp = j->next;
		if (c->q_tail == j)
			c->q_tail = prev;
		j->next = NULL;
		return j;
	}
	return NULL;
}

/* Queue a background fetch of a collection (rg NULL: of the ListAll
 * answer) unless it is fresh or in flight: at the end of the queue, or
 * with first at its head (moved there if it was queued already). */
static void prefetch(struct cache *c, const char *rg, const char *name, int first)
{
	char key[KEY_MAX];
	struct centry *e;
	struct pf_job *j;

	if (cache_coll_key(c, key, sizeof(key), rg, name) < 0)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->stopping)
		goto out;
	e = cache_entry_get(c, key);
	if (!e || e->fetching || ((e->val || e->neg) && cache_now() < e->expires))
		goto out;
	if (!c->threads) {
		c->threads = calloc(c->cfg.max_conns ? c->cfg.max_conns : 1, sizeof(pthread_t));
		if (!c->threads)
			goto out;
		for (size_t i = 0; i < (c->cfg.max_conns ? c->cfg.max_conns : 1); i++) {
			if (pthread_create(&c->threads[i], NULL, pf_main, c) != 0)
				break;
			c->nthreads++;
		}
	}
	j = first && rg ? queue_take(c, rg, name) : NULL;
	if (j) {
		j->ahead = 0;
		goto enqueue;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		goto out;
	j->ahead = !first;
	if (rg) {
		j->rg = strdup(rg);
		j->name = strdup(name);
	} else if (name) {
		j->name = strdup(name);
	}
	if ((rg && !j->rg) || (name && !j->name)) {
		free(j->rg);
		free(j->name);
		free(j);
		goto out;
	}
enqueue:
	if (first) {
		j->next = c->q_head;
		c->q_head = j;
		if (!c->q_tail)
			c->q_tail = j;
	} else {
		if (c->q_tail)
			c->q_tail->next = j;
		else
			c->q_head = j;
		c->q_tail = j;
	}
	pthread_cond_signal(&c->q_cond);
out:
	pthread_mutex_unlock(&c->lock);
}

void cache_prefetch(struct cache *c, const char *rg, const char *name)
{
	prefetch(c, rg, name, 0);
}

void cache_prefetch_first(struct cache *c, const char *rg, const char *name)
{
	prefetch(c, rg, name, 1);
}

/* Fetch the resource groups list in the background (ahead of the queue). */
void cache_prefetch_rgs(struct cache *c)
{
	if (c->be.list_rgs)
		prefetch(c, NULL, RGS_KEY, 1);
}

/* 1 while collection rg/name is being fetched or waits in the prefetch
 * queue. */
int cache_pending(struct cache *c, const char *rg, const char *name)
{
	char key[KEY_MAX];
	int r = 0;

	struct centry *e;

	if (cache_coll_key(c, key, sizeof(key), rg, name) < 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	e = cache_entry_find(c, key);
	r = e && e->fetching;
	for (struct pf_job *j = c->q_head; j && !r; j = j->next)
		r = j->rg && !strcasecmp(j->rg, rg) && !strcasecmp(j->name, name);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Empty the queue, handing its jobs to the caller.  Lock held. */
struct pf_job *cache_pf_take_all(struct cache *c)
{
	struct pf_job *q = c->q_head;

	c->q_head = c->q_tail = NULL;
	return q;
}

/* Free a list of jobs. */
void cache_pf_free(struct pf_job *q)
{
	struct pf_job *next;

	for (; q; q = next) {
		next = q->next;
		free(q->rg);
		free(q->name);
		free(q);
	}
}

/* Stop the prefetch pool: waits for the requests in flight (idempotent). */
void cache_stop(struct cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_broadcast(&c->q_cond);
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < c->nthreads; i++)
		pthread_join(c->threads[i], NULL);
	c->nthreads = 0;
	free(c->threads);
	c->threads = NULL;
	cache_pf_free(cache_pf_take_all(c));
}
