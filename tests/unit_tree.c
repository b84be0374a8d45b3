/*
 * unit_tree.c - the tree and the cache on a fake backend (no network, no
 * mount): names, casing, inode stability, rendering, sizes, request
 * economy, negative entries, single flight, generations, stale answers,
 * the order of background fetches.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arm.h"
#include "armjson.h"
#include "cache.h"
#include "tree.h"
#include "unit.h"

#define SUB "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20"


/* ---- fake backend ------------------------------------------------------ */

struct fake {
	pthread_mutex_t lock;
	int n_list, n_coll, n_rp, n_rg;
	int fail;	 /* errno returned by every call when set */
	int delay_ms;	 /* each call sleeps */
	int extra_point; /* add a point "rp-new" to web01-rpc */
	int progress;	 /* completion percent of the copy */
	char order[8][32]; /* names of the collections fetched, in order */
	int norder;
};

static struct fake fk = {.lock = PTHREAD_MUTEX_INITIALIZER};

static char *xs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* malloc'ed printf. */
static char *xs(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* A collection of the fake subscription. */
static struct arm_rpc *mk_rpc(const char *rg, const char *name, const char *loc, const char *src)
{
	struct arm_rpc *r = calloc(1, sizeof(*r));

	r->id = xs("/subscriptions/" SUB "/resourceGroups/%s/providers/Microsoft.Compute/"
		   "restorePointCollections/%s",
		   rg, name);
	r->name = strdup(name);
	r->rg = strdup(rg);
	r->location = strdup(loc);
	r->state = strdup("Succeeded");
	r->source_id = strdup(src);
	r->json = xs("{\n  \"name\": \"%s\"\n}\n", name);
	r->ntags = 1;
	r->tags = calloc(1, sizeof(*r->tags));
	r->tags[0].key = strdup("env");
	r->tags[0].value = strdup("prod");
	return r;
}

/* A point of a collection. */
static void mk_rp(struct arm_rpc *r, const char *name, const char *state, const char *when,
		  const char *src)
{
	struct arm_rp *p;

	r->points = realloc(r->points, (r->npoints + 1) * sizeof(*r->points));
	p = &r->points[r->npoints++];
	memset(p, 0, sizeof(*p));
	p->id = xs("%s/restorePoints/%s", r->id, name);
	p->name = strdup(name);
	p->state = strdup(state);
	p->consistency = strdup("CrashConsistent");
	p->time_created = strdup(when);
	p->source_rp_id = src ? strdup(src) : NULL;
	p->cjson = xs("{\"name\":\"%s\",\"properties\":{\"sourceMetadata\":{\"storageProfile\":{"
		      "\"osDisk\":{\"name\":\"web01-os\"},"
		      "\"dataDisks\":[{\"lun\":0,\"name\":\"web01-data0\"}]}}}}",
		      name);
	p->json_len = armj_pretty(p->cjson, NULL);
	p->ndisks = 2;
	p->disks = calloc(2, sizeof(*p->disks));
	p->disks[0].name = strdup("web01-os");
	p->disks[1].name = strdup("web01-data0");
	p->disks[1].lun = 0;
	p->disks[0].lun = -1;
	/* The lengths as the parser gives them: of the rendered views. */
	{
		for (size_t i = 0; i < p->ndisks; i++)
			if (arm_rp_disk_json(p, i, &p->disks[i].json) == 0)
				p->disks[i].json_len = strlen(p->disks[i].json);
	}
}

#define VM                                                                                         \
	"/subscriptions/" SUB                                                                      \
	"/resourceGroups/RG1/providers/Microsoft.Compute/virtualMachines/web01"
#define SRC_RPC                                                                                    \
	"/subscriptions/" SUB                                                                      \
	"/resourceGroups/RG1/providers/Microsoft.Compute/restorePointCollections/web01-rpc"

/* The collection (rg, name) with its points, or NULL. */
static struct arm_rpc *model(const char *rg, const char *name)
{
	struct arm_rpc *r = NULL;

	if (!strcasecmp(rg, "RG1") && !strcasecmp(name, "web01-rpc")) {
		r = mk_rpc("RG1", "web01-rpc", "eastus", VM);
		mk_rp(r, "rp-1", "Succeeded", "2026-11-20T10:00:00.1234567+00:00", NULL);
		mk_rp(r, "rp-2", "Succeeded", "2026-11-25T10:00:00+00:00", NULL);
		mk_rp(r, "rp-gone", "Deleting", "2026-11-21T10:00:00+00:00", NULL);
		if (fk.extra_point)
			mk_rp(r, "rp-new", "Creating", "2026-11-26T10:00:00+00:00", NULL);
	} else if (!strcasecmp(rg, "rg1") && !strcasecmp(name, "web01-dr")) {
		r = mk_rpc("rg1", "web01-dr", "westus", SRC_RPC);
		mk_rp(r, "rp-1", "Succeeded", "2026-11-22T10:00:00Z",
		      SRC_RPC "/restorePoints/rp-1");
		mk_rp(r, "rp-bad", "Failed", "2026-11-23T10:00:00Z", SRC_RPC "/restorePoints/rp-2");
	} else if (!strcasecmp(rg, "other") && !strcasecmp(name, "db-rpc")) {
		r = mk_rpc("other", "db-rpc", "centralus", VM);
	}
	if (r)
		r->has_points = 1;
	return r;
}

/* Sleep the configured delay and count a call; returns the failure to inject. */
static int enter(int *counter)
{
	int fail;

	pthread_mutex_lock(&fk.lock);
	(*counter)++;
	fail = fk.fail;
	pthread_mutex_unlock(&fk.lock);
	if (fk.delay_ms)
		usleep((useconds_t)fk.delay_ms * 1000);
	return fail;
}

static int be_list(void *arg, struct arm_rpc ***out, size_t *n, unsigned *pages,
		   struct arm_err *err)
{
	const char *const names[][2] = {
	    {"RG1", "web01-rpc"}, {"rg1", "web01-dr"}, {"other", "db-rpc"}};
	int fail = enter(&fk.n_list);

	(void)arg;
	(void)err;
	if (fail)
		return -fail;
	*out = calloc(3, sizeof(**out));
	for (int i = 0; i < 3; i++) {
		(*out)[i] = model(names[i][0], names[i][1]);
		/* ListAll carries no points. */
		arm_rpc_free((*out)[i]);
		(*out)[i] = mk_rpc(names[i][0], names[i][1],
				   i == 0   ? "eastus"
				   : i == 1 ? "westus"
					    : "centralus",
				   i == 1 ? SRC_RPC : VM);
	}
	*n = 3;
	if (pages)
		*pages = 1;
	return 0;
}

static int be_coll(void *arg, const char *rg, const char *name, struct arm_rpc **out,
		   struct arm_err *err)
{
	int fail;

	pthread_mutex_lock(&fk.lock);
	if (fk.norder < 8)
		snprintf(fk.order[fk.norder++], sizeof(fk.order[0]), "%s", name);
	pthread_mutex_unlock(&fk.lock);
	fail = enter(&fk.n_coll);
	(void)arg;
	(void)err;
	if (fail)
		return -fail;
	*out = model(rg, name);
	return *out ? 0 : -ENOENT;
}

static int be_rp(void *arg, const char *rg, const char *rpc, const char *rp, struct arm_rp **out,
		 struct arm_err *err)
{
	struct arm_rp *p;
	int fail = enter(&fk.n_rp);

	(void)arg;
	(void)err;
	(void)rg;
	(void)rpc;
	if (fail)
		return -fail;
	p = calloc(1, sizeof(*p));
	p->name = strdup(rp);
	p->state = strdup("Succeeded");
	p->nprogress = 2;
	p->progress = calloc(2, sizeof(*p->progress));
	p->progress[0].name = strdup("web01-os");
	p->progress[0].percent = 100;
	p->progress[0].status = strdup("Succeeded");
	p->progress[1].name = strdup("web01-data0");
	p->progress[1].percent = fk.progress;
	p->progress[1].status = strdup(fk.progress == 100 ? "Succeeded" : "InProgress");
	p->has_instance_view = 1;
	*out = p;
	return 0;
}

static int be_rg(void *arg, const char *rg, char **name_out, struct arm_err *err)
{
	int fail = enter(&fk.n_rg);

	(void)arg;
	(void)err;
	if (fail)
		return -fail;
	if (strcasecmp(rg, "emptyrg"))
		return -ENOENT;
	*name_out = strdup("EmptyRG");
	return 0;
}

/* Mutations: the last one asked of the backend. */
static struct {
	int n;
	char op[16], rg[64], rpc[64], rp[64], loc[64], src[512], tags[128];
} mu;

/* Record a mutation call. */
static void mu_rec(const char *op, const char *rg, const char *rpc, const char *rp, const char *loc,
		   const char *src)
{
	mu.n++;
	snprintf(mu.op, sizeof(mu.op), "%s", op);
	snprintf(mu.rg, sizeof(mu.rg), "%s", rg ? rg : "");
	snprintf(mu.rpc, sizeof(mu.rpc), "%s", rpc ? rpc : "");
	snprintf(mu.rp, sizeof(mu.rp), "%s", rp ? rp : "");
	snprintf(mu.loc, sizeof(mu.loc), "%s", loc ? loc : "");
	snprintf(mu.src, sizeof(mu.src), "%s", src ? src : "");
}

static int be_put_rpc(void *arg, const char *rg, const char *name, const char *location,
		      const char *source_id, const struct arm_tag *tags, size_t ntags,
		      struct arm_rpc **out, struct arm_err *err)
{
	(void)arg, (void)tags, (void)ntags, (void)out;
	err->status = 201;
	mu_rec("put_rpc", rg, name, NULL, location, source_id);
	return 0;
}

static int be_put_rp(void *arg, const char *rg, const char *rpc, const char *rp,
		     const char *source_rp_id, const char *consistency, struct arm_rp **out,
		     struct arm_err *err)
{
	(void)arg, (void)out;
	err->status = 201;
	mu_rec("put_rp", rg, rpc, rp, consistency, source_rp_id);
	return 0;
}

static int be_del_rp(void *arg, const char *rg, const char *rpc, const char *rp,
		     struct arm_err *err)
{
	(void)arg;
	err->status = 202;
	mu_rec("del_rp", rg, rpc, rp, NULL, NULL);
	return 0;
}

static int be_patch(void *arg, const char *rg, const char *name, const struct arm_tag *tags,
		    size_t ntags, struct arm_err *err)
{
	(void)arg;
	err->status = 200;
	mu_rec("patch", rg, name, NULL, NULL, NULL);
	mu.tags[0] = '\0';
	for (size_t i = 0; i < ntags; i++)
		snprintf(mu.tags + strlen(mu.tags), sizeof(mu.tags) - strlen(mu.tags), "%s=%s;",
			 tags[i].key, tags[i].value);
	return 0;
}

/* ---- helpers ----------------------------------------------------------- */

static struct cache *C;
static struct tree *T;
static struct cache_dryrun *DRY; /* dry_run's decorator, when mcfg.dry_run */

static struct tree_cfg mcfg; /* mutation options of the next setup() */
static unsigned setup_conns; /* max_conns of the next setup() (0: 4) */

/* Make a fresh cache and tree with the given ttl. */
static void setup(unsigned ttl)
{
	struct cache_backend be = {.list_collections = be_list,
				   .get_collection = be_coll,
				   .get_rp_view = be_rp,
				   .get_rg = be_rg,
				   .put_collection = be_put_rpc,
				   .put_rp = be_put_rp,
				   .delete_rp = be_del_rp,
				   .patch_tags = be_patch};
	struct cache_cfg cc = {.subscription = SUB,
			       .ttl = ttl,
			       .neg_ttl = ttl,
			       .busy_ttl = 1,
			       .max_conns = setup_conns ? setup_conns : 4,
			       .op_timeout = 5};
	struct tree_cfg tc = {.ttl = ttl, .neg_ttl = ttl, .busy_ttl = 1, .config_text = "ttl=60\n"};

	tc.ro = mcfg.ro;
	tc.allow_delete = mcfg.allow_delete;
	tc.dry_run = mcfg.dry_run;
	tc.consistency = mcfg.consistency;
	memset(&mu, 0, sizeof(mu));
	tc.nlocations = 3;
	tc.locations = calloc(3, sizeof(*tc.locations));
	tc.locations[0].name = strdup("eastus");
	tc.locations[1].name = strdup("westus");
	tc.locations[2].name = strdup("centralus");
	if (mcfg.dry_run) { /* as main.c: the fake behind dry_run's decorator */
		struct cache_backend inner = be;

		if (cache_dryrun_new(&inner, SUB, &DRY, &be))
			abort();
	}
	if (cache_new(&be, &cc, &C) || tree_new(C, &tc, &T))
		abort();
	if (DRY)
		cache_dryrun_set_record(DRY, tree_ops_record, T);
	fk.n_list = fk.n_coll = fk.n_rp = fk.n_rg = 0;
	fk.fail = 0;
	fk.delay_ms = 0;
	fk.extra_point = 0;
	fk.norder = 0;
}

static void teardown(void)
{
	cache_stop(C);
	tree_free(T);
	cache_free(C);
	cache_dryrun_free(DRY);
	DRY = NULL;
}

/* Resolve a slash-separated path; returns the errno of the first failure. */
static int walk(const char *path, struct tree_attr *a)
{
	char buf[512], *save = NULL, *tok;
	uint64_t ino = TREE_ROOT_INO;
	int rc = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		rc = tree_lookup(T, ino, tok, a);
		if (rc < 0)
			return rc;
		ino = a->ino;
	}
	return rc;
}

/* Content of a file at path ("" when it cannot be read). */
static char *cat(const char *path)
{
	struct tree_attr a;
	struct tree_file *f;
	char *s;

	if (walk(path, &a) < 0 || tree_open(T, a.ino, 0, &f) < 0)
		return strdup("");
	s = strndup(f->buf, f->len);
	tree_file_free(f);
	return s;
}

/* 1 when the listing of path holds name. */
static int listed(const char *path, const char *name)
{
	struct tree_attr a;
	struct tree_dirent *v;
	size_t n;
	int found = 0;

	if (walk(path, &a) < 0 || tree_readdir(T, a.ino, 1, &v, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(v[i].name, name);
	tree_dirents_free(v, n);
	return found;
}

/* Recursive listing: counts directories and files, checks every size. */
static void walk_all(uint64_t ino, int *dirs, int *files)
{
	struct tree_dirent *v;
	size_t n;

	if (tree_readdir(T, ino, 1, &v, &n) < 0) {
		CHECK(!"readdir failed");
		return;
	}
	(*dirs)++;
	for (size_t i = 0; i < n; i++) {
		struct tree_attr a;

		CHECK(tree_getattr(T, v[i].attr.ino, &a) == 0);
		CHECK(a.ino == v[i].attr.ino);
		if (v[i].attr.type == TREE_DIR) {
			walk_all(v[i].attr.ino, dirs, files);
		} else if (v[i].attr.type == TREE_REG && strcmp(v[i].name, "progress") &&
			   strcmp(v[i].name, "flush")) {
			struct tree_file *f;

			(*files)++;
			if (tree_open(T, v[i].attr.ino, 0, &f) == 0) {
				if (!f->direct_io)
					CHECK(f->len == v[i].attr.size);
				CHECK(f->len == 0 || f->buf[f->len - 1] == '\n');
				tree_file_free(f);
			} else {
				CHECK(!"open failed");
			}
		}
	}
	tree_dirents_free(v, n);
}

/* ---- tests ------------------------------------------------------------- */

static void test_time(void)
{
	time_t t;

	CHECK(tree_parse_time("2026-11-25T10:00:00.1234567+00:00", &t) == 0 && t == 1795600800);
	CHECK(tree_parse_time("2026-11-25T10:00:00Z", &t) == 0 && t == 1795600800);
	CHECK(tree_parse_time("2026-11-25T12:00:00+02:00", &t) == 0 && t == 1795600800);
	CHECK(tree_parse_time("garbage", &t) == -EINVAL);
}

static void test_names(void)
{
	struct tree_attr a, b;
	char *s;

	setup(60);
	CHECK(listed("", "eastus") && listed("", "westus") && listed("", "centralus"));
	CHECK(listed("", ".rpfs"));
	CHECK(listed("eastus", "RG1") && !listed("eastus", "other"));
	CHECK(listed("westus", "RG1")); /* one spelling for RG1 / rg1 across regions */
	CHECK(!listed("westus", "rg1"));
	CHECK(listed("eastus/RG1", "web01-rpc") && !listed("eastus/RG1", "web01-dr"));
	CHECK(listed("eastus/rg1/web01-rpc", "rp-1") && listed("eastus/rg1/web01-rpc", "rp-2"));
	CHECK(!listed("eastus/rg1/web01-rpc", "rp-gone"));
	CHECK(walk("eastus/rg1/web01-rpc/rp-gone", &a) == -ENOENT);
	CHECK(!listed("eastus/rg1/web01-rpc", "origin"));
	CHECK(listed("westus/rg1/web01-dr", "origin"));
	CHECK(listed("westus/rg1/web01-dr/rp-bad", "error"));
	CHECK(!listed("westus/rg1/web01-dr/rp-1", "error"));
	CHECK(listed("westus/rg1/web01-dr/rp-1", "progress"));
	CHECK(!listed("eastus/rg1/web01-rpc/rp-1", "progress"));
	CHECK(listed("eastus/rg1/web01-rpc/rp-1/disks", "web01-data0.json"));

	/* Case-insensitive lookup, same inode whatever the casing. */
	CHECK(walk("EASTUS/rg1/WEB01-RPC/RP-1", &a) == 0);
	CHECK(walk("eastus/RG1/web01-rpc/rp-1", &b) == 0);
	CHECK(a.ino == b.ino && a.type == TREE_DIR);
	CHECK(a.mtime == 1795600800 - 5 * 86400);
	CHECK(walk("eastus/RG1/web01-rpc", &a) == 0 && a.mtime == 1795600800);
	CHECK(walk("eastus/RG1/web01-rpc/id", &a) == 0 &&
	      walk("eastus/RG1/web01-rpc/id", &b) == 0 && a.ino == b.ino && a.type == TREE_REG);
	CHECK(walk("nowhere", &a) == -ENOENT && a.entry_ttl == 60);
	CHECK(walk("westus/rg1/web01-rpc", &a) == -ENOENT); /* only under its own region */

	s = cat("eastus/RG1/web01-rpc/id");
	CHECK(!strcmp(s, SRC_RPC "\n"));
	free(s);
	s = cat("eastus/RG1/web01-rpc/tags");
	CHECK(!strcmp(s, "env=prod\n"));
	free(s);
	s = cat("eastus/RG1/web01-rpc/rp-1/created");
	CHECK(!strcmp(s, "2026-11-20T10:00:00.1234567+00:00\n"));
	free(s);
	s = cat("westus/rg1/web01-dr/rp-1/source");
	CHECK(!strcmp(s, SRC_RPC "/restorePoints/rp-1\n"));
	free(s);
	CHECK(walk("westus/rg1/web01-dr/origin", &a) == 0 && a.type == TREE_LNK);
	CHECK(tree_readlink(T, a.ino, &s) == 0 && !strcmp(s, "../../../eastus/RG1/web01-rpc"));
	free(s);
	CHECK(walk("westus/rg1/web01-dr/rp-1/origin", &a) == 0);
	CHECK(tree_readlink(T, a.ino, &s) == 0 &&
	      !strcmp(s, "../../../../eastus/RG1/web01-rpc/rp-1"));
	free(s);

	/* progress: its own request, size 0 before the first read. */
	fk.progress = 40;
	CHECK(walk("westus/rg1/web01-dr/rp-1/progress", &a) == 0 && a.size == 0);
	s = cat("westus/rg1/web01-dr/rp-1/progress");
	CHECK(
	    !strcmp(s, "web01-os 100 Succeeded\nweb01-data0 40 InProgress\ntotal 40 InProgress\n"));
	CHECK(walk("westus/rg1/web01-dr/rp-1/progress", &a) == 0 && a.size == strlen(s));
	free(s);
	fk.progress = 100;
	s = cat("westus/rg1/web01-dr/rp-1/progress");
	CHECK(strstr(s, "total 100 Succeeded\n") != NULL);
	free(s);
	teardown();
}

static void test_economy(void)
{
	int dirs = 0, files = 0;
	struct tree_attr a;

	setup(60);
	walk_all(TREE_ROOT_INO, &dirs, &files);
	CHECK(fk.n_list == 1);
	CHECK(fk.n_coll == 3);
	CHECK(dirs > 10 && files > 20);
	fk.n_list = fk.n_coll = 0;
	dirs = files = 0;
	walk_all(TREE_ROOT_INO, &dirs, &files);
	CHECK(fk.n_list == 0 && fk.n_coll == 0);

	/* A resource group without a collection here: looked up, negative-cached. */
	CHECK(walk("eastus/emptyrg", &a) == 0 && fk.n_rg == 1);
	CHECK(!listed("eastus", "EmptyRG"));
	CHECK(walk("eastus/other", &a) == 0 && fk.n_rg == 1); /* known from ListAll */
	CHECK(walk("eastus/nosuchrg", &a) == -ENOENT && fk.n_rg == 2);
	CHECK(walk("eastus/NOSUCHRG", &a) == -ENOENT && fk.n_rg == 2);
	CHECK(walk("eastus/bad:name", &a) == -ENOENT && fk.n_rg == 2);
	teardown();
}

struct thr {
	int rc;
};

static void *coll_thread(void *arg)
{
	struct thr *t = arg;
	struct cache_val *v = NULL;

	t->rc = cache_coll(C, "RG1", "web01-rpc", CACHE_FETCH, &v);
	cache_put(v);
	return NULL;
}

static void test_single_flight(void)
{
	pthread_t th[8];
	struct thr r[8];

	setup(60);
	fk.delay_ms = 100;
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, coll_thread, &r[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK(r[i].rc == 0);
	}
	CHECK(fk.n_coll == 1);
	teardown();
}

/* Background fetches go in queue order; cache_prefetch_first() puts a
 * queued one ahead of the rest. */
static void test_prefetch_order(void)
{
	int n = 0;

	setup_conns = 1;
	setup(60);
	setup_conns = 0;
	fk.delay_ms = 300; /* the others are queued while the first is fetched */
	cache_prefetch(C, "RG1", "web01-rpc"); /* the one thread takes it at once */
	for (int i = 0; i < 500 && n < 1; i++) { /* until its fetch has begun */
		usleep(10 * 1000);
		pthread_mutex_lock(&fk.lock);
		n = fk.norder;
		pthread_mutex_unlock(&fk.lock);
	}
	CHECK(n == 1);
	cache_prefetch(C, "rg1", "web01-dr");
	cache_prefetch(C, "other", "db-rpc");
	cache_prefetch_first(C, "OTHER", "db-rpc"); /* names match as ARM's do */
	for (int i = 0; i < 100 && n < 3; i++) {
		usleep(20 * 1000);
		pthread_mutex_lock(&fk.lock);
		n = fk.norder;
		pthread_mutex_unlock(&fk.lock);
	}
	usleep(150 * 1000); /* a duplicate fetch would show up by now */
	pthread_mutex_lock(&fk.lock);
	CHECK(fk.norder == 3);
	CHECK(!strcmp(fk.order[0], "web01-rpc"));
	CHECK(!strcmp(fk.order[1], "db-rpc"));
	CHECK(!strcmp(fk.order[2], "web01-dr"));
	pthread_mutex_unlock(&fk.lock);
	fk.delay_ms = 0;
	teardown();
}

static void *flush_later(void *arg)
{
	usleep(50 * 1000);
	tree_flush(arg);
	return NULL;
}

static void test_generation_and_stale(void)
{
	pthread_t th;
	struct cache_val *v = NULL;
	struct tree_attr a;

	/* A fetch that raced a flush is not stored. */
	setup(60);
	fk.delay_ms = 150;
	pthread_create(&th, NULL, flush_later, T);
	CHECK(cache_coll(C, "RG1", "web01-rpc", CACHE_FETCH, &v) == 0);
	cache_put(v);
	pthread_join(th, NULL);
	fk.delay_ms = 0;
	CHECK(cache_coll(C, "RG1", "web01-rpc", CACHE_NOFETCH, &v) == -EAGAIN);
	teardown();

	/* Staleness, then stale answers while ARM is unreachable. */
	setup(1);
	CHECK(walk("eastus/RG1/web01-rpc/rp-2", &a) == 0);
	CHECK(walk("eastus/RG1/web01-rpc/rp-new", &a) == -ENOENT);
	fk.extra_point = 1;
	CHECK(walk("eastus/RG1/web01-rpc/rp-new", &a) == -ENOENT); /* within ttl */
	usleep(1100 * 1000);
	CHECK(walk("eastus/RG1/web01-rpc/rp-new", &a) == 0);
	CHECK(a.entry_ttl == 1); /* busy point: busy_ttl */
	usleep(1100 * 1000);
	fk.fail = EHOSTUNREACH;
	CHECK(walk("eastus/RG1/web01-rpc/rp-2/id", &a) == 0);
	CHECK(walk("eastus/RG1/web01-rpc/nothere", &a) == -ENOENT);
	CHECK(walk("westus/rg1/web01-dr", &a) == -EHOSTUNREACH); /* never fetched */
	fk.fail = 0;
	CHECK(walk("westus/rg1/web01-dr", &a) == 0);
	teardown();
}

static void test_rpfs(void)
{
	struct tree_attr a;
	struct tree_file *f;
	char *s;

	setup(60);
	CHECK(walk(".rpfs/config", &a) == 0);
	s = cat(".rpfs/config");
	CHECK(!strcmp(s, "ttl=60\n") && a.size == strlen(s));
	free(s);
	s = cat(".rpfs/stats");
	CHECK(strstr(s, "cache_misses") != NULL);
	free(s);
	CHECK(walk(".rpfs/flush", &a) == 0);
	CHECK(tree_open(T, a.ino, 1, &f) == 0 && f->control);
	CHECK(tree_write(T, a.ino, f, "1\n", 2, 0) == 0);
	tree_file_free(f);
	CHECK(walk("eastus/RG1/web01-rpc/id", &a) == 0);
	/* A write to a view file (cp into an existing collection) is absorbed. */
	CHECK(tree_open(T, a.ino, 1, &f) == 0 && f->absorb);
	CHECK(tree_write(T, a.ino, f, "x\n", 2, 0) == 0);
	CHECK(tree_file_done(T, a.ino, f) == 0);
	tree_file_free(f);
	CHECK(tree_truncate(T, a.ino, 0) == 0);
	teardown();
}

/* mkdir in the directory at path. */
static int mk(const char *dir, const char *name)
{
	struct tree_attr a, out;
	int rc = walk(dir, &a);

	return rc < 0 ? rc : tree_mkdir(T, a.ino, name, 0, &out);
}

/* Write text to the view file at path, then close it; the first errno. */
static int put_text(const char *path, const char *text)
{
	struct tree_attr a;
	struct tree_file *f = NULL;
	int rc = walk(path, &a), rc2;

	if (rc < 0) {
		/* A file cp creates: create it in its directory. */
		char dir[512], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		*slash = '\0';
		rc = walk(dir, &a);
		if (rc < 0)
			return rc;
		rc = tree_create(T, a.ino, slash + 1, 0, &a, &f);
	} else {
		rc = tree_open(T, a.ino, TREE_O_WRITE | TREE_O_TRUNC, &f);
	}
	if (rc < 0)
		return rc;
	rc = tree_write(T, a.ino, f, text, strlen(text), 0);
	rc2 = tree_file_done(T, a.ino, f);
	tree_file_free(f);
	return rc < 0 ? rc : rc2;
}

/* mkdir, pending directories, copies, checks before sending, tags, rmdir. */
static void test_mutations(void)
{
	char *s;

	memset(&mcfg, 0, sizeof(mcfg));
	setup(60);
	/* Bad names: EINVAL, nothing sent. */
	CHECK(mk("westus/other", "a<b") == -EINVAL);
	CHECK(mk("westus/other", "trailing.") == -EINVAL);
	CHECK(mk("eastus/RG1/web01-rpc", "a:b") == -EINVAL);
	CHECK(mu.n == 0);
	/* The group holds the name (in eastus): EEXIST. */
	CHECK(mk("westus/RG1", "web01-rpc") == -EEXIST);
	/* Every point of the source has a copy in westus already: a copy
	 * there would stay empty, EEXIST before any request. */
	CHECK(mk("westus/other", "web01-rpc") == -EEXIST);
	CHECK(mu.n == 0);
	/* Exactly one collection of that name in another region: PUT at once. */
	CHECK(mk("centralus/other", "web01-rpc") == 0);
	CHECK(mu.n == 1 && !strcmp(mu.op, "put_rpc") && !strcmp(mu.rg, "other") &&
	      !strcmp(mu.rpc, "web01-rpc") && !strcmp(mu.loc, "centralus") &&
	      !strcmp(mu.src, SRC_RPC));
	/* Otherwise pending, resolved by a write of a collection id to source. */
	CHECK(mk("westus/other", "newc") == 0);
	CHECK(mu.n == 1);
	s = cat("westus/other/newc/state");
	CHECK(!strcmp(s, "pending\n"));
	free(s);
	CHECK(listed("westus/other", "newc"));
	CHECK(put_text("westus/other/newc/source", VM "\n") == 0); /* a VM id: absorbed */
	CHECK(mu.n == 1);
	CHECK(put_text("westus/other/newc/source", SRC_RPC "\n") == 0);
	CHECK(mu.n == 2 && !strcmp(mu.rpc, "newc") && !strcmp(mu.src, SRC_RPC));
	/* A path inside the mount names it too; JSON: the top-level id. */
	CHECK(mk("westus/other", "byjson") == 0);
	CHECK(put_text("westus/other/byjson/collection.json",
		       "{\n  \"properties\": {\"source\": {\"id\": \"" VM "\"}},\n"
		       "  \"id\": \"" SRC_RPC "\"\n}\n") == 0);
	CHECK(mu.n == 3 && !strcmp(mu.rpc, "byjson") && !strcmp(mu.src, SRC_RPC));
	CHECK(mk("westus/other", "bypath") == 0);
	CHECK(put_text("westus/other/bypath/source", "/mnt/x/eastus/RG1/web01-rpc\n") == 0);
	CHECK(mu.n == 4 && !strcmp(mu.rpc, "bypath"));
	/* A source in the same region, a copy of a copy: EINVAL, nothing sent. */
	CHECK(mk("eastus/other", "same") == 0);
	CHECK(put_text("eastus/other/same/source", SRC_RPC "\n") == -EINVAL);
	CHECK(mk("centralus/other", "cc") == 0);
	CHECK(put_text("centralus/other/cc/source",
		       "/subscriptions/" SUB "/resourceGroups/rg1/providers/Microsoft.Compute/"
		       "restorePointCollections/web01-dr\n") == -EINVAL);
	CHECK(mu.n == 4);
	/* A stray name in a collection: EPERM. */
	{
		struct tree_attr a;
		struct tree_file *f = NULL;

		CHECK(walk("eastus/RG1/web01-rpc", &a) == 0);
		CHECK(tree_create(T, a.ino, "notes.txt", 0, &a, &f) == -EPERM);
	}
	/* A new point of the VM. */
	CHECK(mk("eastus/RG1/web01-rpc", "rp-3") == 0);
	CHECK(mu.n == 5 && !strcmp(mu.op, "put_rp") && !strcmp(mu.rp, "rp-3") && !mu.src[0]);
	/* A copy of a point that already has a copy in westus (rp-bad): EEXIST. */
	CHECK(mk("westus/rg1/web01-dr", "rp-2") == -EEXIST);
	/* A renamed point: pending, the copied restorepoint.json names it;
	 * rp-new is still Creating: EBUSY, nothing sent. */
	fk.extra_point = 1;
	tree_flush(T);
	CHECK(mk("westus/rg1/web01-dr", "renamed") == 0);
	CHECK(put_text("westus/rg1/web01-dr/renamed/restorepoint.json",
		       "{\"properties\": {\"id\": \"x\"}, \"id\": \"" SRC_RPC
		       "/restorePoints/rp-new\"}\n") == -EBUSY);
	CHECK(mu.n == 5);
	/* tags: a PATCH replacing them; the same tags again send nothing. */
	CHECK(put_text("eastus/RG1/web01-rpc/tags", "a=b\nc=d\n") == 0);
	CHECK(mu.n == 6 && !strcmp(mu.op, "patch") && !strcmp(mu.tags, "a=b;c=d;"));
	CHECK(put_text("eastus/RG1/web01-rpc/tags", "env=prod\n") == 0);
	CHECK(mu.n == 6);
	CHECK(put_text("eastus/RG1/web01-rpc/tags", "no equals sign\n") == -EINVAL);
	/* rmdir needs allow_delete; pending directories go locally. */
	{
		struct tree_attr a;

		CHECK(walk("eastus/RG1/web01-rpc", &a) == 0);
		CHECK(tree_rmdir(T, a.ino, "rp-1") == -EPERM);
		CHECK(walk("westus/rg1/web01-dr", &a) == 0);
		CHECK(tree_rmdir(T, a.ino, "renamed") == 0);
	}
	CHECK(!listed("westus/rg1/web01-dr", "renamed"));
	s = cat(".rpfs/ops");
	CHECK(strstr(s, " PUT /subscriptions/" SUB "/resourceGroups/other/providers/"
			"Microsoft.Compute/restorePointCollections/web01-rpc 201 ok") != NULL);
	CHECK(strstr(s, " EBUSY refused: ") != NULL);
	free(s);
	fk.extra_point = 0;
	teardown();

	/* allow_delete: a DELETE. */
	mcfg.allow_delete = 1;
	setup(60);
	{
		struct tree_attr a;

		CHECK(walk("eastus/RG1/web01-rpc", &a) == 0);
		CHECK(tree_rmdir(T, a.ino, "rp-1") == 0);
		CHECK(mu.n == 1 && !strcmp(mu.op, "del_rp") && !strcmp(mu.rp, "rp-1"));
		CHECK(walk("eastus", &a) == 0);
		CHECK(tree_rmdir(T, a.ino, "RG1") == -ENOTEMPTY);
	}
	teardown();

	/* dry_run: recorded, nothing sent; ro: EROFS. */
	memset(&mcfg, 0, sizeof(mcfg));
	mcfg.dry_run = 1;
	mcfg.consistency = "CrashConsistent";
	setup(60);
	CHECK(mk("centralus/other", "web01-rpc") == 0);
	CHECK(mk("eastus/RG1/web01-rpc", "rp-9") == 0);
	CHECK(mu.n == 0);
	s = cat("centralus/other/web01-rpc/state");
	CHECK(!strcmp(s, "dry_run\n"));
	free(s);
	s = cat(".rpfs/ops");
	CHECK(strstr(s, " dry_run PUT /subscriptions/" SUB "/resourceGroups/other/providers/"
			"Microsoft.Compute/restorePointCollections/web01-rpc {") != NULL);
	CHECK(strstr(s, "rp-9 {\"properties\":{\"consistencyMode\":\"CrashConsistent\"}}") != NULL);
	{ /* only the recorded lines: no result line of a request sent */
		int puts = 0, dry = 0;

		for (const char *p = s; (p = strstr(p, "PUT ")); p++, puts++)
			;
		for (const char *p = s; (p = strstr(p, "dry_run PUT ")); p++, dry++)
			;
		CHECK(puts == 2 && dry == 2);
	}
	free(s);
	{ /* nothing changed at ARM, so nothing cached was expired */
		int n = fk.n_coll, l = fk.n_list;

		s = cat("eastus/RG1/web01-rpc/id");
		free(s);
		CHECK(fk.n_coll == n && fk.n_list == l);
	}
	teardown();
	memset(&mcfg, 0, sizeof(mcfg));
	mcfg.ro = 1;
	setup(60);
	CHECK(mk("westus/other", "x") == -EROFS);
	CHECK(put_text("eastus/RG1/web01-rpc/tags", "a=b\n") == -EROFS);
	teardown();
	memset(&mcfg, 0, sizeof(mcfg));
}

int main(void)
{
	test_time();
	test_names();
	test_economy();
	test_single_flight();
	test_prefetch_order();
	test_generation_and_stale();
	test_rpfs();
	test_mutations();
	return unit_result("unit_tree");
}
