/*
 * cache.c - ARM answers kept for ttl, so that a warm `ls -lR` costs nothing.
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
 *  - Prefetch: a fixed pool of max_conns threads takes collection names
 *    from a queue and runs the same single-flight fetch.
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
#include "log.h"

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
	int users;		    /* threads waiting on it: not freed meanwhile */
	uint64_t done_seq;	    /* bumped when a fetch ends */
	int last_rc;		    /* result of the last fetch, for waiters */
	struct cache_val *last_val; /* its value (one reference), for waiters */
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

/* Monotonic clock in seconds. */
static double now_mono(void)
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
	if (v->rpc && v->pack)
		for (size_t i = 0; i < v->rpc->npoints; i++) {
			/* Its strings and disks are in v->pack. */
			struct arm_rp *p = &v->rpc->points[i];

			p->id = p->name = p->state = p->consistency = p->time_created = NULL;
			p->source_rp_id = p->source_location = p->cjson = NULL;
			p->disks = NULL;
			p->ndisks = 0;
		}
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
static struct cache_val *val_new(enum cache_kind kind)
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
static int cmp_rpc(const void *a, const void *b)
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

/* Find or create the entry for key.  Lock held. */
static struct centry *entry_get(struct cache *c, const char *key)
{
	size_t h = hash_key(key) % c->nbuckets;
	struct centry *e;
	size_t klen = strlen(key);

	for (e = c->buckets[h]; e; e = e->next)
		if (!strcmp(e->key, key))
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

/* 1 for the errnos that mean "ARM did not answer properly" (or not yet:
 * -EAGAIN, throttled past op_timeout, serves the cached answer too). */
static int is_network_error(int rc)
{
	return rc == -EHOSTUNREACH || rc == -ETIMEDOUT || rc == -EIO || rc == -EAGAIN;
}

/* Keep a failure for .rpfs/errors and log it once. */
void cache_record_error(struct cache *c, const char *op, const char *path,
			const struct arm_err *err, int rc)
{
	struct err_rec *r;
	struct arm_err none = {0};

	if (!err)
		err = &none;
	log_warn("%s %s: %s (HTTP %d%s%s%s%s, x-ms-request-id %s)", op, path, strerror(-rc),
		 err->status, err->code[0] ? ", " : "", err->code, err->message[0] ? ": " : "",
		 err->message, err->request_id[0] ? err->request_id : "-");
	pthread_mutex_lock(&c->lock);
	r = &c->ring[c->ring_next];
	r->t = time(NULL);
	snprintf(r->op, sizeof(r->op), "%s", op);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->e = *err;
	r->rc = rc;
	c->ring_next = (c->ring_next + 1) % ERR_RING;
	if (c->ring_count < ERR_RING)
		c->ring_count++;
	c->fetch_errors++;
	pthread_mutex_unlock(&c->lock);
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

/* Drop the parts of a collection's points that only their rendered views
 * use (memory per cached point is a benchmark figure): a disk keeps its
 * name, lun and view length; its NAME.json is rendered again from the
 * point's compact JSON when opened (arm_rp_disk_json). */
static void compact_coll(struct arm_rpc *r)
{
	for (size_t i = 0; r && i < r->npoints; i++) {
		if (!r->points[i].cjson)
			continue;
		for (size_t j = 0; j < r->points[i].ndisks; j++) {
			struct arm_disk *d = &r->points[i].disks[j];

			free(d->caching);
			free(d->storage_type);
			free(d->disk_id);
			free(d->disk_rp_id);
			free(d->encryption_type);
			free(d->json);
			d->caching = d->storage_type = d->disk_id = d->disk_rp_id = NULL;
			d->encryption_type = d->json = NULL;
		}
	}
}

/* Bytes of s with its NUL, 0 for NULL. */
static size_t pk_len(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Move string *s into the pack at *cur. */
static void pk_move(char **s, char **cur)
{
	size_t n = pk_len(*s);

	if (!*s)
		return;
	memcpy(*cur, *s, n);
	free(*s);
	*s = *cur;
	*cur += n;
}

/* Pack what a collection value's points keep into one block (v->pack):
 * their strings are allocated while json-c's parse tree is, so, left
 * where they are, they would pin the freed tree's pages (most of the
 * resident size of a cached point).  Compacts first; all or nothing. */
static void pack_coll(struct cache_val *v)
{
	struct arm_rpc *r = v->rpc;
	size_t total = 0;
	char *block, *cur;

	if (!r || v->pack)
		return;
	compact_coll(r);
	for (size_t i = 0; i < r->npoints; i++) {
		struct arm_rp *p = &r->points[i];

		if (p->progress || p->nprogress)
			return; /* not a collection's point: leave it */
		total += (p->ndisks * sizeof(*p->disks) + 7) & ~(size_t)7;
		total += pk_len(p->id) + pk_len(p->name) + pk_len(p->state) +
			 pk_len(p->consistency) + pk_len(p->time_created) +
			 pk_len(p->source_rp_id) + pk_len(p->source_location) + pk_len(p->cjson);
		for (size_t j = 0; j < p->ndisks; j++) {
			if (p->disks[j].caching || p->disks[j].storage_type ||
			    p->disks[j].disk_id || p->disks[j].disk_rp_id ||
			    p->disks[j].encryption_type || p->disks[j].json)
				return; /* not compacted */
			total += pk_len(p->disks[j].name);
		}
	}
	if (!total || !(block = malloc(total)))
		return;
	cur = block;
	for (size_t i = 0; i < r->npoints; i++) {
		struct arm_rp *p = &r->points[i];

		if (p->ndisks) {
			struct arm_disk *d = (struct arm_disk *)(void *)cur;

			memcpy(d, p->disks, p->ndisks * sizeof(*d));
			free(p->disks);
			p->disks = d;
			cur += (p->ndisks * sizeof(*d) + 7) & ~(size_t)7;
		}
	}
	for (size_t i = 0; i < r->npoints; i++) {
		struct arm_rp *p = &r->points[i];

		pk_move(&p->id, &cur);
		pk_move(&p->name, &cur);
		pk_move(&p->state, &cur);
		pk_move(&p->consistency, &cur);
		pk_move(&p->time_created, &cur);
		pk_move(&p->source_rp_id, &cur);
		pk_move(&p->source_location, &cur);
		pk_move(&p->cjson, &cur);
		for (size_t j = 0; j < p->ndisks; j++)
			pk_move(&p->disks[j].name, &cur);
	}
	v->pack = block;
}

/* Call the backend (no lock held).  Returns 0 with *out, or an errno. */
static int backend_fetch(struct cache *c, const struct fetch_req *fr, struct cache_val **out,
			 struct arm_err *err)
{
	struct cache_val *v = val_new(fr->kind);
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
			qsort(v->sorted, v->n, sizeof(*v->sorted), cmp_rpc);
		}
		break;
	case CV_COLL:
		rc = c->be.get_collection(c->be.arg, fr->rg, fr->name, &v->rpc, err);
		if (rc == 0)
			pack_coll(v);
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
	e = entry_get(c, key);
	if (!e) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	for (;;) {
		t = now_mono();
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
	t = now_mono();
	if (rc == 0) {
		if (store && gen == c->gen) {
			oldv = e->val;
			e->val = cache_ref(v);
			e->neg = 0;
			e->expires = t + val_ttl(c, v);
			changed = 1;
		}
	} else if (rc == -ENOENT) {
		if (store && gen == c->gen) {
			oldv = e->val;
			e->val = NULL;
			e->neg = -ENOENT;
			e->expires = t + c->cfg.neg_ttl;
			changed = oldv != NULL;
		}
	} else if (is_network_error(rc) && e->val && store) {
		/* ARM unreachable: serve what we have, retry after neg_ttl. */
		v = cache_ref(e->val);
		c->stale++;
		e->expires = t + (c->cfg.neg_ttl ? c->cfg.neg_ttl : 1);
		rc = 0;
	}
	cache_put(e->last_val);
	e->last_val = v ? cache_ref(v) : NULL;
	e->last_rc = rc;
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
	rc = make_key(key, sizeof(key), "%s", fr.path);
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

/* Prefetch worker: fetch queued collections until the cache stops. */
static void *pf_main(void *arg)
{
	struct cache *c = arg;

	for (;;) {
		struct pf_job *j;
		struct cache_val *v = NULL;
		int last;

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
		pthread_mutex_unlock(&c->lock);
		if ((j->rg     ? cache_coll(c, j->rg, j->name, CACHE_FETCH, &v)
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

	if (!rg)
		snprintf(key, sizeof(key), "%s", name ? RGS_KEY : LIST_KEY);
	else if (make_key(key, sizeof(key),
			  "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			  "restorePointCollections/%s",
			  c->sub, rg, name) < 0)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->stopping)
		goto out;
	e = entry_get(c, key);
	if (!e || e->fetching || ((e->val || e->neg) && now_mono() < e->expires))
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
	if (j)
		goto enqueue;
	j = calloc(1, sizeof(*j));
	if (!j)
		goto out;
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

/* 1 when the collection (rg NULL: the ListAll answer) has a cached value
 * that has not expired, so reading it now serves what a fetch would. */
int cache_fresh(struct cache *c, const char *rg, const char *name)
{
	char key[KEY_MAX];
	struct centry *e;
	int r = 0;

	if (!rg)
		snprintf(key, sizeof(key), "%s", name ? RGS_KEY : LIST_KEY);
	else if (make_key(key, sizeof(key),
			  "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			  "restorePointCollections/%s",
			  c->sub, rg, name) < 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	e = entry_get(c, key);
	r = e && e->val && now_mono() < e->expires;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* 1 while collection rg/name is being fetched or waits in the prefetch
 * queue. */
int cache_pending(struct cache *c, const char *rg, const char *name)
{
	char key[KEY_MAX];
	int r = 0;

	if (make_key(key, sizeof(key),
		     "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
		     "restorePointCollections/%s",
		     c->sub, rg, name) < 0)
		return 0;
	pthread_mutex_lock(&c->lock);
	for (struct centry *e = c->buckets[hash_key(key) % c->nbuckets]; e && !r; e = e->next)
		r = e->fetching && !strcmp(e->key, key);
	for (struct pf_job *j = c->q_head; j && !r; j = j->next)
		r = j->rg && !strcasecmp(j->rg, rg) && !strcasecmp(j->name, name);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Free the entries nobody fetches or waits on that hold nothing worth
 * keeping: with all, every one; else those without a value whose negative
 * answer, if any, has expired.  Lock held. */
static void sweep_locked(struct cache *c, int all)
{
	double t = now_mono();

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct centry **pp = &c->buckets[i], *e;

		while ((e = *pp) != NULL) {
			if (e->fetching || e->users ||
			    (!all && (e->val || (e->neg && t < e->expires)))) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			cache_put(e->val);
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
	double t = now_mono();

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
	struct pf_job *q, *next;

	pthread_mutex_lock(&c->lock);
	q = c->q_head;
	c->q_head = c->q_tail = NULL;
	c->gen++;
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct centry *e = c->buckets[i]; e; e = e->next) {
			cache_put(e->val);
			e->val = NULL;
			e->neg = 0;
			e->expires = 0;
			if (!e->fetching) {
				cache_put(e->last_val);
				e->last_val = NULL;
			}
		}
	sweep_locked(c, 1);
	pthread_mutex_unlock(&c->lock);
	for (; q; q = next) {
		next = q->next;
		free(q->rg);
		free(q->name);
		free(q);
	}
	if (c->be.flush)
		c->be.flush(c->be.arg);
	log_info("cache flushed");
}

/* Mark one entry expired (kept, so a refresh reports the change).  Lock held. */
static void expire_key(struct cache *c, const char *key)
{
	size_t h = hash_key(key) % c->nbuckets;

	for (struct centry *e = c->buckets[h]; e; e = e->next)
		if (!strcmp(e->key, key)) {
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
	int ok = rg && name &&
		 make_key(key, sizeof(key),
			  "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			  "restorePointCollections/%s",
			  c->sub, rg, name) == 0;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	if (list)
		expire_key(c, LIST_KEY);
	if (ok)
		expire_key(c, key);
	pthread_mutex_unlock(&c->lock);
}

/* strdup of a possibly NULL string into *dst; 0 or -ENOMEM. */
static int dup_str(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* Deep copy of a point (the instance view's progress is not copied: a
 * collection's points have none). */
static int dup_rp(struct arm_rp *d, const struct arm_rp *s)
{
	int rc = 0;

	*d = *s;
	d->progress = NULL;
	d->nprogress = 0;
	d->disks = NULL;
	d->ndisks = 0;
	rc |= dup_str(&d->id, s->id) | dup_str(&d->name, s->name) | dup_str(&d->state, s->state);
	rc |= dup_str(&d->consistency, s->consistency) | dup_str(&d->time_created, s->time_created);
	rc |= dup_str(&d->source_rp_id, s->source_rp_id) |
	      dup_str(&d->source_location, s->source_location) | dup_str(&d->cjson, s->cjson);
	if (!rc && s->ndisks) {
		d->disks = calloc(s->ndisks, sizeof(*d->disks));
		rc = d->disks ? 0 : -ENOMEM;
		for (size_t i = 0; !rc && i < s->ndisks; i++) {
			const struct arm_disk *a = &s->disks[i];
			struct arm_disk *b = &d->disks[i];

			*b = *a;
			b->caching = b->storage_type = b->disk_id = b->disk_rp_id = NULL;
			b->encryption_type = b->json = NULL;
			d->ndisks++;
			rc |= dup_str(&b->name, a->name) | dup_str(&b->caching, a->caching) |
			      dup_str(&b->storage_type, a->storage_type) |
			      dup_str(&b->disk_id, a->disk_id) |
			      dup_str(&b->disk_rp_id, a->disk_rp_id) |
			      dup_str(&b->encryption_type, a->encryption_type) |
			      dup_str(&b->json, a->json);
		}
	}
	if (rc) {
		arm_rp_clear(d);
		return -ENOMEM;
	}
	return 0;
}

/* Copy of collection s; with p, point p (moved out of *p) is added, or
 * put in place of the point of the same name. */
static struct arm_rpc *rpc_with_point(const struct arm_rpc *s, struct arm_rp *p)
{
	struct arm_rpc *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (!d)
		return NULL;
	*d = *s;
	d->tags = NULL;
	d->ntags = 0;
	d->points = calloc(s->npoints + 1, sizeof(*d->points));
	d->npoints = 0;
	rc |= dup_str(&d->id, s->id) | dup_str(&d->name, s->name) | dup_str(&d->rg, s->rg);
	rc |= dup_str(&d->location, s->location) | dup_str(&d->state, s->state);
	rc |= dup_str(&d->source_id, s->source_id) |
	      dup_str(&d->source_location, s->source_location) | dup_str(&d->json, s->json);
	if (!d->points)
		rc = -ENOMEM;
	if (!rc && s->ntags) {
		d->tags = calloc(s->ntags, sizeof(*d->tags));
		rc = d->tags ? 0 : -ENOMEM;
		for (size_t i = 0; !rc && i < s->ntags; i++) {
			d->ntags++;
			rc |= dup_str(&d->tags[i].key, s->tags[i].key) |
			      dup_str(&d->tags[i].value, s->tags[i].value);
		}
	}
	for (size_t i = 0; !rc && i < s->npoints; i++) {
		if (p && s->points[i].name && p->name && !strcasecmp(s->points[i].name, p->name))
			continue;
		rc = dup_rp(&d->points[d->npoints], &s->points[i]);
		if (!rc)
			d->npoints++;
	}
	if (rc) {
		arm_rpc_free(d);
		return NULL;
	}
	if (p) {
		d->points[d->npoints++] = *p;
		memset(p, 0, sizeof(*p));
		d->has_points = 1;
	}
	compact_coll(d);
	return d;
}

/* A new ListAll value: the entries of cur (copied) with r in place of
 * the entry of the same group and name, or added. */
static struct cache_val *list_with(const struct cache_val *cur, const struct arm_rpc *r)
{
	struct cache_val *v = val_new(CV_LIST);
	size_t n = 0;

	if (!v)
		return NULL;
	v->v = calloc(cur->n + 1, sizeof(*v->v));
	v->sorted = calloc(cur->n + 1, sizeof(*v->sorted));
	v->pages = cur->pages;
	if (!v->v || !v->sorted)
		goto fail;
	for (size_t i = 0; i < cur->n; i++) {
		const struct arm_rpc *a = cur->v[i];

		if (a->rg && a->name && !strcasecmp(a->rg, r->rg) && !strcasecmp(a->name, r->name))
			continue;
		if (!(v->v[n] = rpc_with_point(a, NULL)))
			goto fail;
		v->n = ++n;
	}
	if (!(v->v[n] = rpc_with_point(r, NULL)))
		goto fail;
	v->n = ++n;
	memcpy(v->sorted, v->v, n * sizeof(*v->sorted));
	qsort(v->sorted, n, sizeof(*v->sorted), cmp_rpc);
	return v;
fail:
	cache_put(v);
	return NULL;
}

/* Store nv as the value of key when it still holds cur (or nothing, with
 * cur NULL) and no fetch or flush came between (gen); tells the listener. */
static int store_if(struct cache *c, const char *key, struct cache_val *cur, struct cache_val *nv,
		    uint64_t gen)
{
	struct cache_val *oldv = NULL;
	struct centry *e;
	int stored = 0;

	pthread_mutex_lock(&c->lock);
	e = entry_get(c, key);
	if (e && nv && gen == c->gen && e->val == cur && !e->fetching) {
		oldv = e->val;
		e->val = cache_ref(nv);
		e->neg = 0;
		e->expires = now_mono() + val_ttl(c, nv);
		stored = 1;
	}
	pthread_mutex_unlock(&c->lock);
	if (stored && c->listener && (oldv || nv->kind == CV_COLL))
		c->listener(c->listener_arg, oldv, nv);
	cache_put(oldv);
	return stored ? 0 : -ENOENT;
}

/* Put a new collection (ARM's 201 answer to its PUT) into the cache: its
 * own entry (no points yet) and the ListAll answer.  0 when both are
 * updated; else the caller expires them instead. */
static int fold_collection(struct cache *c, const struct arm_rpc *r)
{
	char key[KEY_MAX];
	struct cache_val *list = NULL, *nl = NULL, *nc = NULL;
	struct centry *e;
	uint64_t gen;
	int rc = -ENOENT;

	if (!r->rg || !r->name || !r->location ||
	    make_key(key, sizeof(key),
		     "/subscriptions/%s/resourceGroups/%s/providers/"
		     "Microsoft.Compute/restorePointCollections/%s",
		     c->sub, r->rg, r->name) < 0)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	c->gen++;
	e = entry_get(c, LIST_KEY);
	if (e && e->val && !e->fetching)
		list = cache_ref(e->val);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	if (!list)
		return -ENOENT;
	nl = list_with(list, r);
	nc = val_new(CV_COLL);
	if (nc && (nc->rpc = rpc_with_point(r, NULL)) != NULL)
		nc->rpc->has_points = 1; /* just created: no points */
	if (nl && nc && nc->rpc) {
		struct cache_val *curc = NULL;

		pthread_mutex_lock(&c->lock);
		e = entry_get(c, key);
		curc = e && e->val ? cache_ref(e->val) : NULL;
		pthread_mutex_unlock(&c->lock);
		if (store_if(c, LIST_KEY, list, nl, gen) == 0 &&
		    store_if(c, key, curc, nc, gen) == 0)
			rc = 0;
		cache_put(curc);
	}
	cache_put(list);
	cache_put(nl);
	cache_put(nc);
	return rc;
}

/* Put point p (ARM's answer to its PUT; moved) into the cached value of
 * its collection rg/name.  0, or -ENOENT when there is no value to update
 * (or one is being fetched): the caller expires the entry instead. */
static int fold_point(struct cache *c, const char *rg, const char *name, struct arm_rp *p)
{
	char key[KEY_MAX];
	struct centry *e;
	struct cache_val *cur = NULL, *nv = NULL, *oldv = NULL;
	uint64_t gen;
	int stored = 0;

	if (!p->name || make_key(key, sizeof(key),
				 "/subscriptions/%s/resourceGroups/%s/providers/"
				 "Microsoft.Compute/restorePointCollections/%s",
				 c->sub, rg, name) < 0)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	c->gen++; /* a fetch begun before the PUT must not be stored */
	e = entry_get(c, key);
	if (e && e->val && !e->fetching && e->val->rpc && e->val->rpc->has_points)
		cur = cache_ref(e->val);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	if (!cur)
		return -ENOENT;
	nv = val_new(CV_COLL);
	if (nv) {
		nv->rpc = rpc_with_point(cur->rpc, p);
		pack_coll(nv);
	}
	pthread_mutex_lock(&c->lock);
	e = entry_get(c, key); /* a sweep may have freed it meanwhile */
	if (e && nv && nv->rpc && gen == c->gen && e->val == cur && !e->fetching) {
		oldv = e->val;
		e->val = cache_ref(nv);
		e->neg = 0;
		e->expires = now_mono() + val_ttl(c, nv);
		stored = 1;
	}
	pthread_mutex_unlock(&c->lock);
	if (stored && c->listener)
		c->listener(c->listener_arg, oldv, nv);
	cache_put(oldv);
	cache_put(cur);
	cache_put(nv);
	return stored ? 0 : -ENOENT;
}

/* Send one mutation through the backend and expire what it changes. */
int cache_mutate(struct cache *c, const struct cache_mut *m, struct arm_err *err)
{
	static const char *const ops[] = {[CM_PUT_RPC] = "RestorePointCollections_CreateOrUpdate",
					  [CM_PUT_RP] = "RestorePoints_Create",
					  [CM_DELETE_RP] = "RestorePoints_Delete",
					  [CM_DELETE_RPC] = "RestorePointCollections_Delete",
					  [CM_PATCH_TAGS] = "RestorePointCollections_Update"};
	char path[KEY_MAX];
	int rc = -EPERM, folded = 0;

	memset(err, 0, sizeof(*err));
	switch (m->op) {
	case CM_PUT_RPC:
		if (c->be.put_collection_answer || c->be.put_collection_tagged) {
			struct arm_rpc *ans = NULL;

			if (c->be.put_collection_tagged)
				rc = c->be.put_collection_tagged(c->be.arg, m->rg, m->rpc,
								 m->location, m->source_id, m->tags,
								 m->ntags, &ans, err);
			else
				rc = c->be.put_collection_answer(
				    c->be.arg, m->rg, m->rpc, m->location, m->source_id, &ans, err);
			if (rc == 0 && ans && err->status == 201 && fold_collection(c, ans) == 0)
				folded = 1;
			if (ans)
				arm_rpc_free(ans);
		} else if (c->be.put_collection)
			rc = c->be.put_collection(c->be.arg, m->rg, m->rpc, m->location,
						  m->source_id, err);
		break;
	case CM_PUT_RP:
		if (c->be.put_rp_answer) {
			struct arm_rp *ans = NULL;

			rc = c->be.put_rp_answer(c->be.arg, m->rg, m->rpc, m->rp, m->source_rp_id,
						 m->consistency, &ans, err);
			if (rc == 0 && ans && fold_point(c, m->rg, m->rpc, ans) == 0)
				folded = 1;
			if (ans)
				arm_rp_free(ans);
		} else if (c->be.put_rp) {
			rc = c->be.put_rp(c->be.arg, m->rg, m->rpc, m->rp, m->source_rp_id,
					  m->consistency, err);
		}
		break;
	case CM_DELETE_RP:
		if (c->be.delete_rp)
			rc = c->be.delete_rp(c->be.arg, m->rg, m->rpc, m->rp, err);
		break;
	case CM_DELETE_RPC:
		if (c->be.delete_collection)
			rc = c->be.delete_collection(c->be.arg, m->rg, m->rpc, err);
		break;
	case CM_PATCH_TAGS:
		if (c->be.patch_tags)
			rc = c->be.patch_tags(c->be.arg, m->rg, m->rpc, m->tags, m->ntags, err);
		break;
	}
	/* A point changes its collection only; the ListAll answer holds the
	 * collections with their tags. */
	if (!folded)
		cache_expire(c, m->rg, m->rpc,
			     m->op == CM_PUT_RPC || m->op == CM_DELETE_RPC ||
				 m->op == CM_PATCH_TAGS);
	if (m->folded)
		*m->folded = folded;
	if (rc < 0) {
		snprintf(path, sizeof(path),
			 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			 "restorePointCollections/%s%s%s",
			 c->sub, m->rg ? m->rg : "", m->rpc ? m->rpc : "",
			 m->rp ? "/restorePoints/" : "", m->rp ? m->rp : "");
		cache_record_error(c, ops[m->op], path, err, rc);
	}
	return rc;
}

/* The subscription id. */
const char *cache_subscription(const struct cache *c)
{
	return c->sub;
}

/* The current generation (bumped by every flush). */
uint64_t cache_generation(struct cache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->gen;
	pthread_mutex_unlock(&c->lock);
	return g;
}

/* Register the function told about refreshed values. */
void cache_set_listener(struct cache *c, cache_change_fn fn, void *arg)
{
	c->listener = fn;
	c->listener_arg = arg;
}

/* A growable string for renderings. */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

/* Append printf-style to a sbuf (capped at 1 MiB). */
static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		if (b->cap > (1u << 20)) {
			b->err = -EFBIG;
			return;
		}
		size_t nc = b->cap ? b->cap * 2 : 1024;
		while (nc < b->len + (size_t)n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
}

/* Finish a sbuf into out and len. */
static int sb_done(struct sbuf *b, char **out, size_t *len)
{
	if (b->err) {
		free(b->p);
		return b->err;
	}
	if (!b->p) {
		b->p = strdup("");
		if (!b->p)
			return -ENOMEM;
	}
	*out = b->p;
	*len = b->len;
	return 0;
}

/* .rpfs/stats: ARM requests by operation, cache counters, throttling. */
int cache_render_stats(struct cache *c, char **out, size_t *len)
{
	struct sbuf b = {0};
	struct arm_stats s;
	uint64_t hits, misses, neg, stale, joined, errs, pf;
	size_t entries;

	memset(&s, 0, sizeof(s));
	s.remaining_reads = s.remaining_writes = s.remaining_deletes = -1;
	if (c->be.stats)
		c->be.stats(c->be.arg, &s);
	pthread_mutex_lock(&c->lock);
	hits = c->hits;
	misses = c->misses;
	neg = c->neg_hits;
	stale = c->stale;
	joined = c->joined;
	errs = c->fetch_errors;
	pf = c->prefetched;
	entries = c->nentries;
	pthread_mutex_unlock(&c->lock);
	sb_add(&b, "requests %llu\n", (unsigned long long)s.requests);
	for (int i = 0; i < ARM_OP_COUNT && i < 16; i++)
		if (s.by_op[i])
			sb_add(&b, "requests.%s %llu\n", arm_op_name((enum arm_op)i),
			       (unsigned long long)s.by_op[i]);
	sb_add(&b, "retries %llu\n", (unsigned long long)s.retries);
	sb_add(&b, "throttled_429 %llu\n", (unsigned long long)s.throttled);
	sb_add(&b, "throttle_pause_s %lld\n", (s.pause_ms + 999) / 1000);
	sb_add(&b, "errors %llu\n", (unsigned long long)s.errors);
	sb_add(&b, "bytes_in %llu\n", (unsigned long long)s.bytes_in);
	sb_add(&b, "remaining_reads %ld\n", s.remaining_reads);
	sb_add(&b, "remaining_writes %ld\n", s.remaining_writes);
	sb_add(&b, "remaining_deletes %ld\n", s.remaining_deletes);
	sb_add(&b, "cache_hits %llu\n", (unsigned long long)hits);
	sb_add(&b, "cache_misses %llu\n", (unsigned long long)misses);
	sb_add(&b, "cache_negative_hits %llu\n", (unsigned long long)neg);
	sb_add(&b, "cache_stale_served %llu\n", (unsigned long long)stale);
	sb_add(&b, "cache_joined_fetches %llu\n", (unsigned long long)joined);
	sb_add(&b, "cache_fetch_errors %llu\n", (unsigned long long)errs);
	sb_add(&b, "cache_prefetches %llu\n", (unsigned long long)pf);
	sb_add(&b, "cache_entries %zu\n", entries);
	return sb_done(&b, out, len);
}

/* .rpfs/errors: the last 100 failures, oldest first, one per line. */
int cache_render_errors(struct cache *c, char **out, size_t *len)
{
	struct sbuf b = {0};
	struct err_rec *copy;
	size_t n, start;

	copy = malloc(sizeof(*copy) * ERR_RING);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&c->lock);
	n = c->ring_count;
	start = (c->ring_next + ERR_RING - n) % ERR_RING;
	for (size_t i = 0; i < n; i++)
		copy[i] = c->ring[(start + i) % ERR_RING];
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		struct tm tm;
		char ts[32];

		gmtime_r(&copy[i].t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		sb_add(&b, "%s %s %s status=%d errno=%s code=%s message=\"%s\" request_id=%s\n", ts,
		       copy[i].op, copy[i].path, copy[i].e.status, strerror(-copy[i].rc),
		       copy[i].e.code[0] ? copy[i].e.code : "-", copy[i].e.message,
		       copy[i].e.request_id[0] ? copy[i].e.request_id : "-");
	}
	free(copy);
	return sb_done(&b, out, len);
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

/* Stop the prefetch pool: waits for the requests in flight (idempotent). */
void cache_stop(struct cache *c)
{
	struct pf_job *j, *next;

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
	for (j = c->q_head; j; j = next) {
		next = j->next;
		free(j->rg);
		free(j->name);
		free(j);
	}
	c->q_head = c->q_tail = NULL;
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
			cache_put(e->val);
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
