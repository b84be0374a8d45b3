/*
 * unit_cache.c - the cache's memory cap (cache_max) on a fake backend:
 * what a collection costs is counted, the least recently used collection
 * goes first, a value a caller holds stays valid after its eviction, an
 * entry being fetched is never evicted, the ListAll answer stays, an
 * evicted collection is fetched again when next used, and at the cap a
 * read-ahead is dropped.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arm.h"
#include "cache.h"
#include "unit.h"

#define SUB "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
#define NCOLL 8
#define NPTS 20

/* ---- fake backend ------------------------------------------------------ */

static pthread_mutex_t fk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fk_cond = PTHREAD_COND_INITIALIZER;
static int fk_gets[NCOLL]; /* GETs per collection "cN" */
static int fk_block = -1;  /* the GET of this collection waits for fk_release */
static int fk_blocked, fk_release;

static char *xs(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *s = malloc(n);

	if (!s)
		abort();
	snprintf(s, n, "%s%s", a, b);
	return s;
}

static int be_list(void *arg, struct arm_rpc ***out, size_t *n, unsigned *pages,
		   struct arm_err *err)
{
	(void)arg;
	(void)err;
	*out = calloc(1, sizeof(**out));
	*n = 0;
	*pages = 1;
	return *out ? 0 : -ENOMEM;
}

/* Collection "cN" with NPTS points of about 300 bytes each. */
static int be_coll(void *arg, const char *rg, const char *name, struct arm_rpc **out,
		   struct arm_err *err)
{
	struct arm_rpc *r;
	int k = name[0] == 'c' ? atoi(name + 1) : -1;

	(void)arg;
	(void)err;
	if (k < 0 || k >= NCOLL)
		return -ENOENT;
	pthread_mutex_lock(&fk_lock);
	fk_gets[k]++;
	if (k == fk_block) {
		fk_blocked = 1;
		pthread_cond_broadcast(&fk_cond);
		while (!fk_release)
			pthread_cond_wait(&fk_cond, &fk_lock);
	}
	pthread_mutex_unlock(&fk_lock);
	r = calloc(1, sizeof(*r));
	r->id = xs("/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Compute/"
		   "restorePointCollections/",
		   name);
	r->name = strdup(name);
	r->rg = strdup(rg);
	r->location = strdup("eastus");
	r->state = strdup("Succeeded");
	r->json = xs("{\"name\": ", name);
	r->has_points = 1;
	r->npoints = NPTS;
	r->points = calloc(NPTS, sizeof(*r->points));
	for (int i = 0; i < NPTS; i++) {
		struct arm_rp *p = &r->points[i];
		char pn[32];

		snprintf(pn, sizeof(pn), "rp-%02d", i);
		p->id = xs(r->id, "/restorePoints/rp");
		p->name = strdup(pn);
		p->state = strdup("Succeeded");
		p->time_created = strdup("2026-01-01T00:00:00Z");
		p->cjson = calloc(1, 201);
		memset(p->cjson, 'j', 200);
		p->ndisks = 1;
		p->disks = calloc(1, sizeof(*p->disks));
		p->disks[0].name = strdup("osdisk");
		p->disks[0].lun = -1;
		p->disks[0].json = strdup("{}\n");
	}
	*out = r;
	return 0;
}

static int be_rp(void *arg, const char *rg, const char *rpc, const char *rp, struct arm_rp **out,
		 struct arm_err *err)
{
	(void)arg, (void)rg, (void)rpc, (void)rp, (void)out, (void)err;
	return -ENOENT;
}

static int be_rg(void *arg, const char *rg, char **name_out, struct arm_err *err)
{
	(void)arg, (void)err;
	*name_out = strdup(rg);
	return 0;
}

static const struct cache_backend be = {
    .list_collections = be_list, .get_collection = be_coll, .get_rp_view = be_rp, .get_rg = be_rg};

/* ---- helpers ------------------------------------------------------------ */

/* A counter of .rpfs/stats. */
static unsigned long long stat_of(struct cache *c, const char *name)
{
	char *text = NULL, *p;
	size_t len, n = strlen(name);
	unsigned long long v = ~0ULL;

	if (cache_render_stats(c, &text, &len) < 0)
		return v;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			v = strtoull(p + n + 1, NULL, 10);
	free(text);
	return v;
}

static const char *cname(int k)
{
	static const char *names[NCOLL] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"};

	return names[k];
}

/* Read collection k (fetching it when missing); 0 or errno. */
static int use(struct cache *c, int k)
{
	struct cache_val *v = NULL;
	int rc = cache_coll(c, "rg", cname(k), CACHE_FETCH, &v);

	cache_put(v);
	return rc;
}

static struct cache *mk_cache(size_t max_bytes)
{
	struct cache_cfg cfg = {.subscription = SUB,
				.ttl = 600,
				.neg_ttl = 5,
				.busy_ttl = 5,
				.max_conns = 2,
				.op_timeout = 30,
				.max_bytes = max_bytes};
	struct cache *c = NULL;

	memset(fk_gets, 0, sizeof(fk_gets));
	CHECK(cache_new(&be, &cfg, &c) == 0);
	return c;
}

/* ---- tests -------------------------------------------------------------- */

int main(void)
{
	struct cache *c = mk_cache(0);
	struct cache_val *list = NULL, *held = NULL, *v = NULL;
	unsigned long long one, base, cap;
	int g2;

	alarm(120); /* a wait that never ends fails the test */

	/* No cap: every collection stays; the cost is counted and flushed. */
	CHECK(cache_list(c, CACHE_FETCH, &list) == 0);
	cache_put(list);
	base = stat_of(c, "cache_bytes");
	CHECK(base > 0 && base < 4096);
	CHECK(use(c, 0) == 0);
	one = stat_of(c, "cache_bytes") - base;
	/* 20 points of ~300 bytes, packed: a few KiB, not less than the JSON */
	CHECK(one > NPTS * 200 && one < 64 * 1024);
	printf("ListAll (empty) %llu bytes, a collection of %d points %llu bytes\n", base, NPTS,
	       one);
	for (int k = 1; k < NCOLL; k++)
		CHECK(use(c, k) == 0);
	CHECK(stat_of(c, "cache_bytes") == base + NCOLL * one);
	CHECK(stat_of(c, "cache_evictions") == 0);
	cache_flush(c);
	CHECK(stat_of(c, "cache_bytes") == 0);
	cache_free(c);

	/* A cap of three collections and a half (besides the ListAll answer). */
	cap = base + 3 * one + one / 2;
	c = mk_cache(cap);
	CHECK(cache_list(c, CACHE_FETCH, &list) == 0);
	cache_put(list);
	for (int k = 0; k < 3; k++)
		CHECK(use(c, k) == 0);
	CHECK(stat_of(c, "cache_evictions") == 0);
	CHECK(use(c, 0) == 0); /* c0 used again: c1 is now the oldest */
	CHECK(fk_gets[0] == 1);
	CHECK(use(c, 3) == 0);
	CHECK(stat_of(c, "cache_evictions") == 1);
	CHECK(stat_of(c, "cache_bytes") <= cap);
	CHECK(!cache_fresh(c, "rg", "c1"));
	CHECK(cache_fresh(c, "rg", "c0") && cache_fresh(c, "rg", "c2") &&
	      cache_fresh(c, "rg", "c3"));
	CHECK(cache_coll(c, "rg", "c1", CACHE_NOFETCH, &v) == -EAGAIN);
	/* the ListAll answer is never evicted */
	CHECK(cache_list(c, CACHE_NOFETCH, &list) == 0);
	cache_put(list);

	/* An evicted collection is fetched again when next used (c2, the
	 * oldest now, makes room for it). */
	CHECK(use(c, 1) == 0);
	CHECK(fk_gets[1] == 2);
	CHECK(!cache_fresh(c, "rg", "c2"));
	CHECK(stat_of(c, "cache_evictions") == 2);

	/* A value a caller holds stays valid after its eviction: order is now
	 * c1 c3 c0 (newest first); hold c0, then use c3 and c1 after it. */
	CHECK(cache_coll(c, "rg", "c0", CACHE_FETCH, &held) == 0);
	CHECK(use(c, 3) == 0 && use(c, 1) == 0);
	CHECK(use(c, 4) == 0); /* evicts c0 */
	CHECK(!cache_fresh(c, "rg", "c0"));
	CHECK(held && held->rpc && held->rpc->npoints == NPTS);
	CHECK(held && !strcmp(held->rpc->points[NPTS - 1].name, "rp-19"));
	CHECK(held && held->rpc->points[0].cjson && strlen(held->rpc->points[0].cjson) == 200);
	cache_put(held);

	/* An entry being fetched is not evicted: c3 (now the oldest) is
	 * expired and its refresh waits in the backend while c5 and c6 come
	 * in; the others go, c3 keeps its value meanwhile. */
	cache_expire(c, "rg", "c3", 0);
	fk_block = 3;
	cache_prefetch_first(c, "rg", "c3");
	pthread_mutex_lock(&fk_lock);
	while (!fk_blocked)
		pthread_cond_wait(&fk_cond, &fk_lock);
	pthread_mutex_unlock(&fk_lock);
	CHECK(cache_pending(c, "rg", "c3"));
	CHECK(use(c, 5) == 0 && use(c, 6) == 0 && use(c, 7) == 0);
	CHECK(cache_coll(c, "rg", "c3", CACHE_NOFETCH, &v) == 0); /* kept, though the oldest */
	cache_put(v);
	pthread_mutex_lock(&fk_lock);
	fk_release = 1;
	pthread_cond_broadcast(&fk_cond);
	pthread_mutex_unlock(&fk_lock);
	while (cache_pending(c, "rg", "c3"))
		usleep(1000);
	CHECK(fk_gets[3] == 2);
	/* stored now: the cap holds again, at most one collection over it
	 * (the one just stored is never its own victim) */
	CHECK(stat_of(c, "cache_bytes") <= cap + one);
	CHECK(stat_of(c, "cache_evictions") == 6);

	/* At the cap, a read-ahead is dropped (it would evict what is used
	 * for what may be); what a listing waits for is fetched. */
	g2 = fk_gets[2];
	cache_prefetch(c, "rg", "c2");
	while (cache_pending(c, "rg", "c2"))
		usleep(1000);
	usleep(50 * 1000);
	CHECK(fk_gets[2] == g2 && !cache_fresh(c, "rg", "c2"));
	cache_prefetch_first(c, "rg", "c2");
	while (!cache_fresh(c, "rg", "c2"))
		usleep(1000);
	CHECK(fk_gets[2] == g2 + 1);
	cache_flush(c);
	CHECK(stat_of(c, "cache_bytes") == 0);
	cache_free(c);
	return unit_result("unit_cache");
}
