/*
 * cache.c - the table of ARM answers, kept for ttl, so that a warm `ls -lR`
 * costs nothing: entries, TTLs, negative answers, single flight and
 * stale-on-error.  Its neighbours (cache_int.h lists them) cap its memory,
 * pack collections, prefetch, fold mutations and render its reports.
 *
 * Why it is built this way:
 *  - One table of entries keyed by ARM id (lower-cased, as ARM compares ids
 *    case-insensitively); the ListAll answer uses the synthetic key
 *    "@listall".  An entry holds either a value (reference-counted and
 *    immutable, so readers never hold the lock while they render) or a
 *    negative answer (-ENOENT for neg_ttl).
 *  - Single flight: the first thread to miss marks the entry "fetching" and
 *    calls the backend with the lock released; threads that miss the same
 *    entry meanwhile wait on a condition variable and take the answer that
 *    fetch produced (done_seq tells them it is new), so 16 concurrent cold
 *    walks send one request per URL.
 *  - A generation counter is read before each fetch; cache_flush() bumps
 *    it, and a fetch that finishes under an older generation is handed to
 *    its caller but not stored (the sshfs write-counter trick).
 *  - A refresh that fails with a network error (-EHOSTUNREACH, -ETIMEDOUT,
 *    -EIO), or is throttled past op_timeout (-EAGAIN), while an older
 *    value exists serves that value (marked stale) and retries only after
 *    neg_ttl, so an unreachable ARM leaves the cached tree readable and
 *    fast.
 *  - Negative answers ("does not exist") are freed by a sweep every few
 *    seconds once expired, and a flush frees every entry, so stats of many
 *    names that do not exist cannot grow the table without bound.  An
 *    entry is never freed while a thread fetches it or waits on it.
 *  - Prefetch (cache_prefetch.c): a fixed pool of max_conns threads takes
 *    collection names from a queue and runs the same single-flight fetch.
 *  - With cache_max, collections are evicted least recently used first
 *    (cache_lru.c); an evicted one is fetched again when next used.
 *
 * Lock order: c->lock only (the listener and the backend run without it).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "blocking.h"
#include "cache.h"
#include "cache_int.h"
#include "log.h"

/* Monotonic clock in seconds. */
double cache_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* FNV-1a of a key. */
static size_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* 1 when the state is not terminal. */
int cache_state_busy(const char *state)
{
	if (!state)
		return 0;
	return strcasecmp(state, "Succeeded") && strcasecmp(state, "Failed");
}

/* Take one more reference. */
struct cache_val *cache_ref(struct cache_val *v)
{
	if (v)
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

/* Drop a reference; the last one frees the value. */
void cache_put(struct cache_val *v)
{
	if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (v->v)
		arm_rpc_array_free(v->v, v->n);
	free(v->sorted);
	cache_pack_detach(v);
	if (v->rpc)
		arm_rpc_free(v->rpc);
	free(v->pack);
	if (v->rp)
		arm_rp_free(v->rp);
	free(v->name);
	if (v->names)
		arm_strings_free(v->names, v->nnames);
	free(v);
}

/* A new value with one reference. */
struct cache_val *cache_val_new(enum cache_kind kind)
{
	struct cache_val *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->refs = 1;
	v->kind = kind;
	v->fetched = time(NULL);
	return v;
}

/* Order collections by (rg, name), case-insensitive. */
int cache_cmp_rpc(const void *a, const void *b)
{
	const struct arm_rpc *x = *(const struct arm_rpc *const *)a;
	const struct arm_rpc *y = *(const struct arm_rpc *const *)b;
	int r = strcasecmp(x->rg ? x->rg : "", y->rg ? y->rg : "");

	return r ? r : strcasecmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Find a collection in a ListAll answer by binary search. */
const struct arm_rpc *cache_list_find(const struct cache_val *list, const char *rg,
				      const char *name)
{
	size_t lo = 0, hi;

	if (!list || list->kind != CV_LIST || !list->sorted)
		return NULL;
	hi = list->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct arm_rpc *x = list->sorted[mid];
		int r = strcasecmp(rg, x->rg ? x->rg : "");

		if (!r)
			r = strcasecmp(name, x->name ? x->name : "");
		if (!r)
			return x;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Lower-cased copy of an ARM id built from its parts. */
static int make_key(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int make_key(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* The table key of collection rg/name, of the ListAll answer (rg and name
 * NULL) or of the resource groups list (rg NULL, name not). */
int cache_coll_key(const struct cache *c, char *buf, size_t len, const char *rg, const char *name)
{
	if (!rg)
		return make_key(buf, len, "%s", name ? RGS_KEY : LIST_KEY);
	return make_key(buf, len,
			"/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			"restorePointCollections/%s",
			c->sub, rg, name);
}

/* Grow the bucket array when the table gets crowded.  Lock held. */
static void maybe_grow(struct cache *c)
{
	size_t nb = c->nbuckets * 2;
	struct centry **b;

	if (c->nentries < c->nbuckets * 2)
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct centry *e = c->buckets[i], *next;

		for (; e; e = next) {
			size_t h = hash_key(e->key) % nb;

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

/* The entry for key, or NULL.  Lock held. */
struct centry *cache_entry_find(struct cache *c, const char *key)
{
	struct centry *e = c->buckets[hash_key(key) % c->nbuckets];

	while (e && strcmp(e->key, key))
		e = e->next;
	return e;
}

/* Find or create the entry for key.  Lock held. */
struct centry *cache_entry_get(struct cache *c, const char *key)
{
	size_t h = hash_key(key) % c->nbuckets;
	struct centry *e = cache_entry_find(c, key);
	size_t klen = strlen(key);

	if (e)
		return e;
	e = calloc(1, sizeof(*e) + klen + 1);
	if (!e)
		return NULL;
	memcpy(e->key, key, klen + 1);
	e->next = c->buckets[h];
	c->buckets[h] = e;
	c->nentries++;
	maybe_grow(c);
	return e;
}

/* Take e out of the table and free it (nobody fetches or waits on it).
 * Lock held. */
void cache_entry_drop(struct cache *c, struct centry *e)
{
	struct centry **pp = &c->buckets[hash_key(e->key) % c->nbuckets];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	cache_put(cache_entry_set(c, e, NULL));
	cache_put(e->last_val);
	free(e);
	c->nentries--;
}

/* 1 for the errnos that mean "ARM did not answer properly" (or not yet:
 * -EAGAIN, throttled past op_timeout, serves the cached answer too). */
static int is_network_error(int rc)
{
	return rc == -EHOSTUNREACH || rc == -ETIMEDOUT || rc == -EIO || rc == -EAGAIN;
}

/* What a fetch needs to know: the backend call and its arguments. */
struct fetch_req {
	enum cache_kind kind;
	const char *rg, *name, *rp;
	const char *op; /* for errors */
	char path[KEY_MAX];
};

/* Lifetime of a freshly fetched value. */
static double val_ttl(struct cache *c, const struct cache_val *v)
{
	if (v->kind == CV_COLL && v->rpc) {
		if (cache_state_busy(v->rpc->state))
			return c->cfg.busy_ttl;
		for (size_t i = 0; i < v->rpc->npoints; i++)
			if (cache_state_busy(v->rpc->points[i].state))
				return c->cfg.busy_ttl;
	}
	if (v->kind == CV_RP)
		return 0;
	return c->cfg.ttl;
}

/* Call the backend (no lock held).  Returns 0 with *out, or an errno. */
static int backend_fetch(struct cache *c, const struct fetch_req *fr, struct cache_val **out,
			 struct arm_err *err)
{
	struct cache_val *v = cache_val_new(fr->kind);
	int rc = -ENOSYS;

	if (!v)
		return -ENOMEM;
	switch (fr->kind) {
	case CV_LIST:
		rc = c->be.list_collections(c->be.arg, &v->v, &v->n, &v->pages, err);
		if (rc == 0 && v->n) {
			v->sorted = malloc(v->n * sizeof(*v->sorted));
			if (!v->sorted) {
				rc = -ENOMEM;
				break;
			}
			memcpy(v->sorted, v->v, v->n * sizeof(*v->sorted));
			qsort(v->sorted, v->n, sizeof(*v->sorted), cache_cmp_rpc);
		}
		break;
	case CV_COLL:
		rc = c->be.get_collection(c->be.arg, fr->rg, fr->name, &v->rpc, err);
		if (rc == 0)
			cache_pack_coll(v);
		break;
	case CV_RP:
		rc = c->be.get_rp_view(c->be.arg, fr->rg, fr->name, fr->rp, &v->rp, err);
		break;
	case CV_RG:
		rc = c->be.get_rg(c->be.arg, fr->rg, &v->name, err);
		break;
	case CV_RGS:
		rc = c->be.list_rgs ? c->be.list_rgs(c->be.arg, &v->names, &v->nnames, err)
				    : -ENOSYS;
		break;
	}
	if (rc < 0) {
		cache_put(v);
		return rc;
	}
	v->bytes = cache_val_bytes(v);
	*out = v;
	return 0;
}

/*
 * The heart of the cache: return the entry's value, fetching it once for
 * everybody when it is missing or expired (see the comment at the top).
 * store = 0 for answers that must always be fresh (instance views).
 */
static int lookup(struct cache *c, const char *key, const struct fetch_req *fr,
		  enum cache_mode mode, int store, struct cache_val **out)
{
	struct centry *e;
	struct cache_val *v = NULL, *oldv = NULL;
	struct arm_err err;
	uint64_t gen, seen_seq = 0;
	int waited = 0, changed = 0, rc;
	double t;

	pthread_mutex_lock(&c->lock);
	e = cache_entry_get(c, key);
	if (!e) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	for (;;) {
		t = cache_now();
		if (waited && e->done_seq != seen_seq) {
			/* A fetch we waited for has ended: share its answer. */
			c->joined++;
			rc = e->last_rc;
			if (rc == 0 && e->last_val) {
				*out = cache_ref(e->last_val);
				pthread_mutex_unlock(&c->lock);
				return 0;
			}
			if (rc < 0 && (rc != -EINTR || blocking_cancelled())) {
				pthread_mutex_unlock(&c->lock);
				return rc;
			}
			/* the fetcher's caller gave up, not ours: fetch again */
		}
		if (store && (e->val || e->neg) && (t < e->expires || mode == CACHE_NOFETCH)) {
			if (e->neg) {
				c->neg_hits++;
				rc = e->neg;
				pthread_mutex_unlock(&c->lock);
				return rc;
			}
			c->hits++;
			cache_lru_touch(c, e);
			*out = cache_ref(e->val);
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
		if (mode == CACHE_NOFETCH) {
			pthread_mutex_unlock(&c->lock);
			return -EAGAIN;
		}
		if (!e->fetching)
			break;
		/* Someone is fetching it: wait for that answer. */
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += c->cfg.op_timeout + 5;
			blocking_begin();
			seen_seq = e->done_seq;
			waited = 1;
			e->users++;
			while (e->fetching && e->done_seq == seen_seq) {
				struct timespec slice;
				int r;

				/* in slices, so that a caller who gave up is let go */
				clock_gettime(CLOCK_REALTIME, &slice);
				slice.tv_nsec += 100 * 1000000L;
				if (slice.tv_nsec >= 1000000000L) {
					slice.tv_sec++;
					slice.tv_nsec -= 1000000000L;
				}
				if (slice.tv_sec > ts.tv_sec ||
				    (slice.tv_sec == ts.tv_sec && slice.tv_nsec > ts.tv_nsec))
					slice = ts;
				r = pthread_cond_timedwait(&c->cond, &c->lock, &slice);
				if ((r == ETIMEDOUT && slice.tv_sec == ts.tv_sec &&
				     slice.tv_nsec == ts.tv_nsec) ||
				    blocking_cancelled()) {
					e->users--;
					pthread_mutex_unlock(&c->lock);
					return blocking_cancelled() ? -EINTR : -ETIMEDOUT;
				}
			}
			e->users--;
		}
	}
	e->fetching = 1;
	gen = c->gen;
	c->misses++;
	pthread_mutex_unlock(&c->lock);

	memset(&err, 0, sizeof(err));
	rc = backend_fetch(c, fr, &v, &err);
	if (rc < 0 && rc != -ENOENT && rc != -EINTR)
		cache_record_error(c, fr->op, fr->path, &err, rc);

	pthread_mutex_lock(&c->lock);
	e->fetching = 0;
	e->done_seq++;
	t = cache_now();
	if (rc == 0) {
		if (store && gen == c->gen) {
			oldv = cache_entry_set(c, e, v);
			e->neg = 0;
			e->expires = t + val_ttl(c, v);
			changed = 1;
		}
	} else if (rc == -ENOENT) {
		if (store && gen == c->gen) {
			oldv = cache_entry_set(c, e, NULL);
			e->neg = -ENOENT;
			e->expires = t + c->cfg.neg_ttl;
			changed = oldv != NULL;
		}
	} else if (is_network_error(rc) && e->val && store) {
		/* ARM unreachable: serve what we have, retry after neg_ttl. */
		v = cache_ref(e->val);
		cache_lru_touch(c, e);
		c->stale++;
		e->expires = t + (c->cfg.neg_ttl ? c->cfg.neg_ttl : 1);
		rc = 0;
	}
	cache_put(e->last_val);
	e->last_val = v ? cache_ref(v) : NULL;
	e->last_rc = rc;
	if (changed)
		cache_evict(c, e);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);

	/* Tell the tree what changed (a vanished value comes as newv NULL). */
	if (changed && c->listener)
		c->listener(c->listener_arg, oldv, rc == 0 ? v : NULL);
	cache_put(oldv);
	if (rc < 0)
		return rc;
	*out = v;
	return 0;
}

/* All collections of the subscription (RestorePointCollections_ListAll). */
int cache_list(struct cache *c, enum cache_mode mode, struct cache_val **out)
{
	struct fetch_req fr = {.kind = CV_LIST, .op = "RestorePointCollections_ListAll"};

	snprintf(fr.path, sizeof(fr.path),
		 "/subscriptions/%s/providers/Microsoft.Compute/restorePointCollections", c->sub);
	return lookup(c, LIST_KEY, &fr, mode, 1, out);
}

/* One collection with its points. */
int cache_coll(struct cache *c, const char *rg, const char *name, enum cache_mode mode,
	       struct cache_val **out)
{
	struct fetch_req fr = {
	    .kind = CV_COLL, .rg = rg, .name = name, .op = "RestorePointCollections_Get"};
	char key[KEY_MAX];
	int rc;

	snprintf(fr.path, sizeof(fr.path),
		 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
		 "restorePointCollections/%s",
		 c->sub, rg, name);
	rc = cache_coll_key(c, key, sizeof(key), rg, name);
	if (rc < 0)
		return rc;
	return lookup(c, key, &fr, mode, 1, out);
}

/* A resource group's existence and spelling. */
int cache_rg(struct cache *c, const char *rg, enum cache_mode mode, struct cache_val **out)
{
	struct fetch_req fr = {.kind = CV_RG, .rg = rg, .op = "ResourceGroups_Get"};
	char key[KEY_MAX];
	int rc;

	snprintf(fr.path, sizeof(fr.path), "/subscriptions/%s/resourceGroups/%s", c->sub, rg);
	rc = make_key(key, sizeof(key), "%s", fr.path);
	if (rc < 0)
		return rc;
	return lookup(c, key, &fr, mode, 1, out);
}

/* The resource groups as their API spells them. */
int cache_rgs(struct cache *c, enum cache_mode mode, struct cache_val **out)
{
	struct fetch_req fr = {.kind = CV_RGS, .op = "ResourceGroups_List"};

	if (!c->be.list_rgs)
		return -ENOSYS;
	snprintf(fr.path, sizeof(fr.path), "/subscriptions/%s/resourcegroups", c->sub);
	return lookup(c, RGS_KEY, &fr, mode, 1, out);
}

/* The resource groups API's spelling of rg, from the cached list. */
char *cache_rg_spelling(struct cache *c, const char *rg)
{
	struct cache_val *v = NULL;
	char *r = NULL;

	if (cache_rgs(c, CACHE_NOFETCH, &v) < 0)
		return NULL;
	for (size_t i = 0; i < v->nnames && !r; i++)
		if (v->names[i] && !strcasecmp(v->names[i], rg))
			r = strdup(v->names[i]);
	cache_put(v);
	return r;
}

/* A point with its instance view, fetched fresh (shared by concurrent callers). */
int cache_rp_view(struct cache *c, const char *rg, const char *rpc, const char *rp,
		  struct cache_val **out)
{
	struct fetch_req fr = {
	    .kind = CV_RP, .rg = rg, .name = rpc, .rp = rp, .op = "RestorePoints_Get"};
	char key[KEY_MAX];
	int rc;

	snprintf(fr.path, sizeof(fr.path),
		 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
		 "restorePointCollections/%s/restorePoints/%s?$expand=instanceView",
		 c->sub, rg, rpc, rp);
	rc = make_key(key, sizeof(key), "%s", fr.path);
	if (rc < 0)
		return rc;
	return lookup(c, key, &fr, CACHE_FETCH, 0, out);
}

/* 1 when the collection (rg NULL: the ListAll answer) has a cached value
 * that has not expired, so reading it now serves what a fetch would. */
int cache_fresh(struct cache *c, const char *rg, const char *name)
{
	char key[KEY_MAX];
	struct centry *e;
	int r = 0;

	if (cache_coll_key(c, key, sizeof(key), rg, name) < 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	e = cache_entry_get(c, key);
	r = e && e->val && cache_now() < e->expires;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Free the entries nobody fetches or waits on that hold nothing worth
 * keeping: with all, every one; else those without a value whose negative
 * answer, if any, has expired.  Lock held. */
static void sweep_locked(struct cache *c, int all)
{
	double t = cache_now();

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct centry **pp = &c->buckets[i], *e;

		while ((e = *pp) != NULL) {
			if (e->fetching || e->users ||
			    (!all && (e->val || (e->neg && t < e->expires)))) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			cache_put(cache_entry_set(c, e, NULL));
			cache_put(e->last_val);
			free(e);
			c->nentries--;
		}
	}
}

/* Every few seconds, free the expired "does not exist" answers (and empty
 * entries), so that misses of many names do not pile up. */
void cache_sweep(struct cache *c)
{
	double t = cache_now();

	pthread_mutex_lock(&c->lock);
	if (t >= c->next_sweep) {
		c->next_sweep = t + 5;
		sweep_locked(c, 0);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Drop every cached answer, and the fetches queued for them. */
void cache_flush(struct cache *c)
{
	struct pf_job *q;

	pthread_mutex_lock(&c->lock);
	q = cache_pf_take_all(c);
	c->gen++;
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct centry *e = c->buckets[i]; e; e = e->next) {
			cache_put(cache_entry_set(c, e, NULL));
			e->neg = 0;
			e->expires = 0;
			if (!e->fetching) {
				cache_put(e->last_val);
				e->last_val = NULL;
			}
		}
	sweep_locked(c, 1);
	pthread_mutex_unlock(&c->lock);
	cache_pf_free(q);
	if (c->be.flush)
		c->be.flush(c->be.arg);
	log_info("cache flushed");
}

/* Mark one entry expired (kept, so a refresh reports the change).  Lock held. */
static void expire_key(struct cache *c, const char *key)
{
	struct centry *e = cache_entry_find(c, key);

	if (e) {
		e->expires = 0;
		if (e->neg)
			e->neg = 0;
	}
}

/* Mark one collection (and with list, the ListAll answer) expired; a
 * fetch in flight (started before the change) is not stored. */
void cache_expire(struct cache *c, const char *rg, const char *name, int list)
{
	char key[KEY_MAX];
	int ok = rg && name && cache_coll_key(c, key, sizeof(key), rg, name) == 0;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	if (list)
		expire_key(c, LIST_KEY);
	if (ok)
		expire_key(c, key);
	pthread_mutex_unlock(&c->lock);
}

/* Store nv as the value of key when it still holds cur (or nothing, with
 * cur NULL) and no fetch or flush came between (gen); tells the listener. */
int cache_store_if(struct cache *c, const char *key, struct cache_val *cur, struct cache_val *nv,
		   uint64_t gen)
{
	struct cache_val *oldv = NULL;
	struct centry *e;
	int stored = 0;

	pthread_mutex_lock(&c->lock);
	e = cache_entry_get(c, key);
	if (e && nv && gen == c->gen && e->val == cur && !e->fetching) {
		oldv = cache_entry_set(c, e, nv);
		e->neg = 0;
		e->expires = cache_now() + val_ttl(c, nv);
		stored = 1;
		cache_evict(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	if (stored && c->listener && (oldv || nv->kind == CV_COLL))
		c->listener(c->listener_arg, oldv, nv);
	cache_put(oldv);
	return stored ? 0 : -ENOENT;
}

/* The subscription id. */
const char *cache_subscription(const struct cache *c)
{
	return c->sub;
}

/* Register the function told about refreshed values. */
void cache_set_listener(struct cache *c, cache_change_fn fn, void *arg)
{
	c->listener = fn;
	c->listener_arg = arg;
}

/* Create a cache over a backend. */
int cache_new(const struct cache_backend *be, const struct cache_cfg *cfg, struct cache **out)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	/* Big blocks (answer bodies, a large collection's pack) straight from
	 * the kernel and back to it when freed: glibc's sliding threshold
	 * would put them in the heap, where the small long-lived values
	 * allocated between them keep the freed ones resident. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	c->be = *be;
	c->cfg = *cfg;
	c->sub = strdup(cfg->subscription ? cfg->subscription : "");
	c->nbuckets = 256;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->sub || !c->buckets) {
		free(c->sub);
		free(c->buckets);
		free(c);
		return -ENOMEM;
	}
	c->cfg.subscription = c->sub;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	pthread_cond_init(&c->q_cond, NULL);
	*out = c;
	return 0;
}

/* Stop the prefetch pool, then free every entry. */
void cache_free(struct cache *c)
{
	if (!c)
		return;
	cache_stop(c);
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct centry *e = c->buckets[i], *enext;

		for (; e; e = enext) {
			enext = e->next;
			cache_put(cache_entry_set(c, e, NULL));
			cache_put(e->last_val);
			free(e);
		}
	}
	free(c->buckets);
	free(c->sub);
	pthread_cond_destroy(&c->q_cond);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
