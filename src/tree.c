/*
 * tree.c - path and name to ARM resource, rendering of view files, listings.
 *
 * Why it is built this way:
 *  - The tree stores only what gives inode numbers their stability: one
 *    small node per region, resource group, collection and restore point,
 *    created the first time a name is resolved and kept for the life of
 *    the mount (FUSE forget is a no-op, numbers are never reused).  Files
 *    and fixed subdirectories are numbered (node << 7 | slot) and rendered
 *    on demand from the cached model, so a restore point costs one node.
 *  - What exists is always decided from the cache: region = physical
 *    locations plus any location a collection reports; resource groups and
 *    collections of a region = the ListAll answer; points and their files =
 *    the collection's $expand=restorePoints answer.  Nothing here copies
 *    ARM data, so a cache refresh is the only way the tree changes.
 *  - Lookups may fetch (that is where the kernel asks again after ttl);
 *    getattr and renders use whatever is cached, even expired, and fetch
 *    only when nothing is (SPEC §2: stat never waits when anything is known).
 *  - Directory listings stay in the kernel's cache (FOPEN_CACHE_DIR) until
 *    rpfs invalidates them: tree_expire() drops those older than ttl, and
 *    the cache listener drops those whose content changed.
 *
 *  - Mutations (mkdir, cp -r, rmdir, tags: SPEC §3) are the last section
 *    of this file; its own comment says how cp's calls become ARM requests.
 *    A directory that exists only in this mount (a pending collection or
 *    point, or one made under dry_run) is a node whose data comes from the
 *    node itself (its `local` fields) instead of the cache.
 *
 * Lock order: t->lock (rwlock over the node table and node fields), then
 * t->mlock (the mutation state: local nodes, .rpfs/ops, copies), then
 * whatever the notify callbacks take.  t->lock is never held across a
 * cache call.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache.h"
#include "log.h"
#include "tree.h"

enum nkind { N_ROOT, N_REGION, N_RG, N_RPC, N_RP };

enum { L_NONE, L_PENDING, L_DRY };

struct copy_rec; /* a copy started from this mount (mutations section) */
struct tnode;
struct op_err;	 /* a point's last failed operation (mutations section) */
static char *node_error(struct tree *t, const struct tnode *n);
struct dlist;

/* Slots of synthetic inodes, per directory kind. */
enum {
	S_DIR = 0,
	/* root */
	S_RPFS = 1,
	S_STATS,
	S_AUTH,
	S_CONFIG,
	S_ERRORS,
	S_OPS,
	S_COPIES,
	S_FLUSH,
	/* collection */
	S_C_JSON = 1,
	S_C_ID,
	S_C_STATE,
	S_C_SOURCE,
	S_C_ORIGIN,
	S_C_TAGS,
	/* restore point */
	S_P_JSON = 1,
	S_P_ID,
	S_P_STATE,
	S_P_CONS,
	S_P_CREATED,
	S_P_SOURCE,
	S_P_ORIGIN,
	S_P_PROGRESS,
	S_P_ERROR,
	S_P_DISKS,
	S_P_ABSORB = 15, /* disks/NAME.json written by cp that the point does not have */
	S_P_DISK0 = 16,
	S_MAX = 128
};
#define SLOT_BITS 7

struct tnode {
	struct tnode *parent;
	struct tnode *hnext;
	uint32_t idx;
	uint8_t kind;
	uint32_t listed_at; /* seconds since mount (+1) when the kernel got a listing */
	uint32_t aux;	    /* restore point: length of the last progress content */
	/* Under t->mlock: */
	uint8_t local;	     /* L_PENDING / L_DRY: exists only in this mount */
	uint8_t busy;	     /* a mutation of this node is being sent */
	uint32_t fresh_pid;  /* process that created this directory ... */
	uint32_t fresh_until; /* ... until then (mount seconds) */
	uint16_t made;	      /* view slots (< 16) that process has created here */
	char *src;	     /* local nodes: the source id, once known */
	char name[];
};

struct tree {
	struct cache *c;
	struct tree_cfg cfg;
	char *config_text;
	struct tree_notify nt;
	time_t mount_time;
	struct timespec t0;
	pthread_rwlock_t lock;
	struct tnode *root;
	struct tnode **nodes;
	size_t nnodes, cap;
	struct tnode **hash;
	size_t nhash;
	/* Mutations (tree_mut section): t->mlock protects the node fields
	 * marked so, the lists below, and is taken after t->lock. */
	pthread_mutex_t mlock;
	pthread_cond_t mcond; /* a node's busy flag dropped */
	struct tnode **locals;
	size_t nlocals, caplocals;
	char **ops; /* ring of .rpfs/ops lines */
	size_t ops_next, ops_count;
	struct copy_rec *copies;
	struct op_err *errs; /* the last failed operation on a point, per point */
};

struct fixed_name {
	int slot;
	const char *name;
};

static const struct fixed_name rpfs_files[] = {
    {S_STATS, "stats"}, {S_AUTH, "auth"},     {S_CONFIG, "config"}, {S_ERRORS, "errors"},
    {S_OPS, "ops"},	{S_COPIES, "copies"}, {S_FLUSH, "flush"},   {0, NULL}};
static const struct fixed_name coll_files[] = {{S_C_JSON, "collection.json"},
					       {S_C_ID, "id"},
					       {S_C_STATE, "state"},
					       {S_C_SOURCE, "source"},
					       {S_C_ORIGIN, "origin"},
					       {S_C_TAGS, "tags"},
					       {0, NULL}};
static const struct fixed_name point_files[] = {{S_P_JSON, "restorepoint.json"},
						{S_P_ID, "id"},
						{S_P_STATE, "state"},
						{S_P_CONS, "consistency"},
						{S_P_CREATED, "created"},
						{S_P_SOURCE, "source"},
						{S_P_ORIGIN, "origin"},
						{S_P_PROGRESS, "progress"},
						{S_P_ERROR, "error"},
						{S_P_DISKS, "disks"},
						{0, NULL}};

/* ---- inode numbers ---------------------------------------------------- */

/* Inode of slot in the directory of node idx. */
static uint64_t mkino(uint32_t idx, int slot)
{
	return (((uint64_t)idx << SLOT_BITS) | (uint64_t)slot) + 1;
}

/* Split an inode into node index and slot. */
static void splitino(uint64_t ino, uint32_t *idx, int *slot)
{
	ino -= 1;
	*idx = (uint32_t)(ino >> SLOT_BITS);
	*slot = (int)(ino & (S_MAX - 1));
}

/* Seconds since the mount (monotonic), at least 1. */
static uint32_t mount_secs(struct tree *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec - t->t0.tv_sec) + 1;
}

/* ---- node table ------------------------------------------------------- */

/* Hash of (parent, lower-cased name). */
static size_t nhash(uint32_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ parent;

	for (; *name; name++) {
		h ^= (unsigned char)tolower((unsigned char)*name);
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* Child of parent named name (case-insensitive), NULL if none.  Lock held. */
static struct tnode *find_child(struct tree *t, const struct tnode *parent, const char *name)
{
	struct tnode *n = t->hash[nhash(parent->idx, name) % t->nhash];

	for (; n; n = n->hnext)
		if (n->parent == parent && !strcasecmp(n->name, name))
			return n;
	return NULL;
}

/* Insert into the hash, growing it when needed.  Write lock held. */
static void hash_insert(struct tree *t, struct tnode *n)
{
	size_t h;

	if (t->nnodes > t->nhash) {
		size_t nh = t->nhash * 2;
		struct tnode **b = calloc(nh, sizeof(*b));

		if (b) {
			for (size_t i = 0; i < t->nhash; i++) {
				struct tnode *x = t->hash[i], *next;

				for (; x; x = next) {
					next = x->hnext;
					h = nhash(x->parent->idx, x->name) % nh;
					x->hnext = b[h];
					b[h] = x;
				}
			}
			free(t->hash);
			t->hash = b;
			t->nhash = nh;
		}
	}
	h = nhash(n->parent->idx, n->name) % t->nhash;
	n->hnext = t->hash[h];
	t->hash[h] = n;
}

/* Allocate a node and give it the next index.  Write lock held. */
static struct tnode *node_alloc(struct tree *t, struct tnode *parent, const char *name, int kind)
{
	size_t len = strlen(name);
	struct tnode *n;

	if (t->nnodes == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		struct tnode **v = realloc(t->nodes, nc * sizeof(*v));

		if (!v)
			return NULL;
		t->nodes = v;
		t->cap = nc;
	}
	n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	memcpy(n->name, name, len + 1);
	n->parent = parent;
	n->kind = (uint8_t)kind;
	n->idx = (uint32_t)t->nnodes;
	t->nodes[t->nnodes++] = n;
	if (parent)
		hash_insert(t, n);
	return n;
}

/* The child node, created with this spelling if new. */
static struct tnode *node_get(struct tree *t, struct tnode *parent, const char *name, int kind)
{
	struct tnode *n;

	pthread_rwlock_wrlock(&t->lock);
	n = find_child(t, parent, name);
	if (!n)
		n = node_alloc(t, parent, name, kind);
	pthread_rwlock_unlock(&t->lock);
	return n;
}

/* Node and slot of an inode; NULL when unknown. */
static struct tnode *node_of(struct tree *t, uint64_t ino, int *slot)
{
	uint32_t idx;
	struct tnode *n = NULL;

	if (ino < 1)
		return NULL;
	splitino(ino, &idx, slot);
	pthread_rwlock_rdlock(&t->lock);
	if (idx < t->nnodes)
		n = t->nodes[idx];
	pthread_rwlock_unlock(&t->lock);
	return n;
}

/* The spelling already used for a resource group in any region, else name. */
static const char *rg_spelling(struct tree *t, const char *name)
{
	struct tnode *root = t->root;

	for (size_t i = 0; i < t->nnodes; i++) {
		struct tnode *n = t->nodes[i];

		if (n->kind == N_RG && n->parent->parent == root && !strcasecmp(n->name, name))
			return n->name;
	}
	return name;
}

/* The resource-group node of a region, created with a stable spelling. */
static struct tnode *rg_node_get(struct tree *t, struct tnode *region, const char *name)
{
	struct tnode *n;

	pthread_rwlock_wrlock(&t->lock);
	n = find_child(t, region, name);
	if (!n)
		n = node_alloc(t, region, rg_spelling(t, name), N_RG);
	pthread_rwlock_unlock(&t->lock);
	return n;
}

/* ---- small helpers ---------------------------------------------------- */

/* Parse an ISO 8601 time as ARM gives it ("2026-11-25T10:00:00.1234567+00:00"). */
int tree_parse_time(const char *iso, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, s, n = 0;
	const char *p;
	long off = 0;

	if (!iso || sscanf(iso, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
		return -EINVAL;
	p = iso + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-') {
		int oh = 0, om = 0;

		if (sscanf(p + 1, "%d:%d", &oh, &om) < 1)
			return -EINVAL;
		off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*out = timegm(&tm) - off;
	return 0;
}

/* malloc'ed printf. */
static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* "x\n" for a possibly NULL string. */
static char *line(const char *s)
{
	return xasprintf("%s\n", s ? s : "");
}

/* Case-insensitive equality of two possibly NULL strings. */
static int same(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

/* 1 when a physical location of the subscription has this name. */
static int is_location(struct tree *t, const char *name)
{
	for (size_t i = 0; i < t->cfg.nlocations; i++)
		if (same(t->cfg.locations[i].name, name))
			return 1;
	return 0;
}

/* Where a collection id points in the list: its location, or NULL. */
static const char *location_of_rpc(const struct cache_val *list, const char *rg, const char *name)
{
	const struct arm_rpc *r = cache_list_find(list, rg, name);

	return r ? r->location : NULL;
}

/* ---- data behind a node ------------------------------------------------ */

enum dmode { D_FETCH, D_CACHED };

/* What a collection or point node stands for (references held). */
struct dctx {
	struct cache_val *list;	   /* may be NULL */
	struct cache_val *coll;	   /* expanded collection, may be NULL */
	const struct arm_rpc *rpc; /* coll's, else the list's */
	const struct arm_rp *rp;
};

/* Drop the references of a dctx. */
static void dctx_done(struct dctx *d)
{
	cache_put(d->list);
	cache_put(d->coll);
	memset(d, 0, sizeof(*d));
}

/* The ListAll answer: D_CACHED takes any cached one, else fetches. */
static int get_list(struct tree *t, enum dmode m, struct cache_val **out)
{
	int rc = -EAGAIN;

	if (m == D_CACHED)
		rc = cache_list(t->c, CACHE_NOFETCH, out);
	if (rc == -EAGAIN)
		rc = cache_list(t->c, CACHE_FETCH, out);
	return rc;
}

/* A collection with its points, same modes. */
static int get_coll(struct tree *t, const char *rg, const char *name, enum dmode m,
		    struct cache_val **out)
{
	int rc = -EAGAIN;

	if (m == D_CACHED)
		rc = cache_coll(t->c, rg, name, CACHE_NOFETCH, out);
	if (rc == -EAGAIN)
		rc = cache_coll(t->c, rg, name, CACHE_FETCH, out);
	return rc;
}

/*
 * Resolve a collection node: it must be in the ListAll answer under its
 * region (that answer decides existence), and its points come from the
 * expanded GET.  need_points = 0 accepts the list's data alone.
 */
static int rpc_data(struct tree *t, const struct tnode *n, enum dmode m, int need_points,
		    struct dctx *d)
{
	const char *region = n->parent->parent->name, *rg = n->parent->name;
	const struct arm_rpc *base;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = get_list(t, m, &d->list);
	if (rc < 0)
		return rc;
	base = cache_list_find(d->list, rg, n->name);
	if (!base || !same(base->location, region) || same(base->state, "Deleting")) {
		dctx_done(d);
		return -ENOENT;
	}
	d->rpc = base;
	rc = get_coll(t, base->rg, base->name, need_points ? m : D_CACHED, &d->coll);
	if (rc == 0 && d->coll->rpc && same(d->coll->rpc->location, region)) {
		d->rpc = d->coll->rpc;
	} else if (rc == -ENOENT) {
		dctx_done(d);
		return -ENOENT;
	} else if (rc < 0 && need_points) {
		dctx_done(d);
		return rc;
	}
	return 0;
}

/* The point named name in a resolved collection (Deleting points are hidden). */
static const struct arm_rp *find_point(const struct dctx *d, const char *name)
{
	if (!d->coll || !d->coll->rpc)
		return NULL;
	for (size_t i = 0; i < d->coll->rpc->npoints; i++) {
		const struct arm_rp *p = &d->coll->rpc->points[i];

		if (same(p->name, name) && !same(p->state, "Deleting"))
			return p;
	}
	return NULL;
}

/* Resolve a point node. */
static int rp_data(struct tree *t, const struct tnode *n, enum dmode m, struct dctx *d)
{
	int rc = rpc_data(t, n->parent, m, 1, d);

	if (rc < 0)
		return rc;
	d->rp = find_point(d, n->name);
	if (!d->rp) {
		dctx_done(d);
		return -ENOENT;
	}
	return 0;
}

/* 1 when a collection is a copy (its source is another collection). */
static int rpc_is_copy(const struct arm_rpc *r)
{
	return r->source_id && strcasestr(r->source_id, "/restorePointCollections/") != NULL;
}

/* Newest timeCreated of a collection's points, else the mount time. */
static time_t rpc_mtime(struct tree *t, const struct dctx *d)
{
	time_t best = 0, x;

	if (d->coll && d->coll->rpc)
		for (size_t i = 0; i < d->coll->rpc->npoints; i++)
			if (tree_parse_time(d->coll->rpc->points[i].time_created, &x) == 0 &&
			    x > best)
				best = x;
	return best ? best : t->mount_time;
}

/* A point's mtime: its timeCreated. */
static time_t rp_mtime(struct tree *t, const struct arm_rp *p)
{
	time_t x;

	return tree_parse_time(p->time_created, &x) == 0 ? x : t->mount_time;
}

/* 1 when a point's subtree changes often (non-terminal state). */
static int rp_busy(const struct arm_rp *p)
{
	return cache_state_busy(p->state);
}

/* Relative symlink target from a collection to its source collection. */
static char *origin_rpc(const struct dctx *d)
{
	struct arm_id *id = NULL;
	const char *loc;
	char *s = NULL;

	if (!rpc_is_copy(d->rpc) || arm_id_parse(d->rpc->source_id, &id) < 0 || !id->rpc)
		goto out;
	loc = location_of_rpc(d->list, id->rg, id->rpc);
	if (!loc)
		loc = d->rpc->source_location;
	if (loc)
		s = xasprintf("../../../%s/%s/%s", loc, id->rg, id->rpc);
out:
	free(id);
	return s;
}

/* Relative symlink target from a point to its source point. */
static char *origin_rp(const struct dctx *d)
{
	struct arm_id *id = NULL;
	const char *loc;
	char *s = NULL;

	if (!d->rp->source_rp_id || arm_id_parse(d->rp->source_rp_id, &id) < 0 || !id->rpc ||
	    !id->rp)
		goto out;
	loc = location_of_rpc(d->list, id->rg, id->rpc);
	if (!loc)
		loc = d->rp->source_location ? d->rp->source_location : d->rpc->source_location;
	if (loc)
		s = xasprintf("../../../../%s/%s/%s/%s", loc, id->rg, id->rpc, id->rp);
out:
	free(id);
	return s;
}

/* tags: key=value lines. */
static char *render_tags(const struct arm_rpc *r)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < r->ntags; i++)
		len += strlen(r->tags[i].key ? r->tags[i].key : "") +
		       strlen(r->tags[i].value ? r->tags[i].value : "") + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	*p = '\0';
	for (size_t i = 0; i < r->ntags; i++)
		p += sprintf(p, "%s=%s\n", r->tags[i].key ? r->tags[i].key : "",
			     r->tags[i].value ? r->tags[i].value : "");
	return s;
}

/* progress: one line per disk, then the total (minimum over disks). */
static char *render_progress(const struct arm_rp *p)
{
	int min = 100;
	const char *st = NULL;
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < p->nprogress; i++) {
		const struct arm_disk_progress *d = &p->progress[i];
		const char *ds = d->status ? d->status : "Unknown";

		fprintf(f, "%s %d %s\n", d->name ? d->name : "disk", d->percent, ds);
		/* The total shows the status of the least advanced disk. */
		if (!st || d->percent < min || (d->percent == min && strcasecmp(ds, "Succeeded")))
			st = ds;
		if (d->percent < min)
			min = d->percent;
	}
	for (size_t i = 0; i < p->nprogress; i++)
		if (p->progress[i].status && !strcasecmp(p->progress[i].status, "Failed"))
			st = "Failed";
	if (!p->nprogress)
		min = 0;
	fprintf(f, "total %d %s\n", min, st ? st : (p->state ? p->state : "Unknown"));
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Render the file at slot of a collection. */
static int render_coll_file(struct tree *t, const struct dctx *d, int slot, char **out)
{
	const struct arm_rpc *r = d->rpc;
	char *s = NULL;

	switch (slot) {
	case S_C_JSON:
		s = strdup(r->json ? r->json : "{}\n");
		break;
	case S_C_ID:
		s = line(r->id);
		break;
	case S_C_STATE:
		s = line(r->state);
		break;
	case S_C_SOURCE:
		s = line(r->source_id);
		break;
	case S_C_ORIGIN:
		s = origin_rpc(d);
		if (!s)
			return -ENOENT;
		break;
	case S_C_TAGS:
		s = render_tags(r);
		break;
	default:
		return -ENOENT;
	}
	(void)t;
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

/* Render the file at slot of a point (progress excluded: it needs a request). */
static int render_point_file(const struct dctx *d, int slot, char **out)
{
	const struct arm_rp *p = d->rp;
	char *s = NULL;
	int copy = p->source_rp_id != NULL;

	switch (slot) {
	case S_P_JSON:
		s = strdup(p->json ? p->json : "{}\n");
		break;
	case S_P_ID:
		s = line(p->id);
		break;
	case S_P_STATE:
		s = line(p->state);
		break;
	case S_P_CONS:
		s = line(p->consistency);
		break;
	case S_P_CREATED:
		s = line(p->time_created);
		break;
	case S_P_SOURCE:
		if (!copy)
			return -ENOENT;
		s = line(p->source_rp_id);
		break;
	case S_P_ORIGIN:
		if (!copy)
			return -ENOENT;
		s = origin_rp(d);
		if (!s)
			return -ENOENT;
		break;
	case S_P_ERROR:
		if (!same(p->state, "Failed"))
			return -ENOENT;
		s = xasprintf("ProvisioningFailed: restore point %s is in state Failed\n",
			      p->name ? p->name : "");
		break;
	default:
		if (slot >= S_P_DISK0 && (size_t)(slot - S_P_DISK0) < p->ndisks) {
			const struct arm_disk *dk = &p->disks[slot - S_P_DISK0];

			s = strdup(dk->json ? dk->json : "{}\n");
			break;
		}
		return -ENOENT;
	}
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

static int render_ops(struct tree *t, char **out);
static int render_copies(struct tree *t, char **out);
static void copies_refresh(struct tree *t);
static void copies_free(struct tree *t);
#define OPS_MAX 1000

/* Render a .rpfs file. */
static int render_rpfs_file(struct tree *t, int slot, char **out)
{
	size_t len;
	int rc;

	switch (slot) {
	case S_STATS: {
		char *a = NULL, *s;

		rc = cache_render_stats(t->c, &a, &len);
		if (rc < 0)
			return rc;
		s = xasprintf("%stree_nodes %zu\n", a, tree_node_count(t));
		free(a);
		if (!s)
			return -ENOMEM;
		*out = s;
		return 0;
	}
	case S_AUTH:
		if (t->cfg.auth_text && t->cfg.auth_text(t->cfg.auth_arg, out) == 0)
			return 0;
		*out = strdup("source unknown\n");
		break;
	case S_CONFIG:
		*out = strdup(t->config_text ? t->config_text : "");
		break;
	case S_ERRORS:
		return cache_render_errors(t->c, out, &len);
	case S_OPS:
		return render_ops(t, out);
	case S_COPIES:
		return render_copies(t, out);
	case S_FLUSH:
		*out = strdup("");
		break;
	default:
		return -ENOENT;
	}
	return *out ? 0 : -ENOMEM;
}

/* ---- attributes ------------------------------------------------------- */

/* Attributes of a directory. */
static void dir_attr(struct tree_attr *a, uint64_t ino, time_t mtime, double ttl)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->type = TREE_DIR;
	a->perm = 0755;
	a->nlink = 2;
	a->size = 4096;
	a->mtime = mtime;
	a->attr_ttl = a->entry_ttl = ttl;
}

/* Attributes of a file whose content is s (freed here). */
static void file_attr(struct tree_attr *a, uint64_t ino, char *s, time_t mtime, double ttl,
		      enum tree_type type)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->type = type;
	a->perm = type == TREE_LNK ? 0777 : 0644;
	a->nlink = 1;
	a->size = s ? strlen(s) : 0;
	a->mtime = mtime;
	a->attr_ttl = a->entry_ttl = ttl;
	free(s);
}

/* Attributes of slot in a resolved collection. */
static int coll_slot_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			  struct tree_attr *a)
{
	char *s = NULL;
	int rc = render_coll_file(t, d, slot, &s);

	if (rc < 0)
		return rc;
	file_attr(a, mkino(n->idx, slot), s, rpc_mtime(t, d), t->cfg.ttl,
		  slot == S_C_ORIGIN ? TREE_LNK : TREE_REG);
	return 0;
}

/* Attributes of slot in a resolved point. */
static int point_slot_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			   struct tree_attr *a)
{
	double ttl = rp_busy(d->rp) ? t->cfg.busy_ttl : t->cfg.ttl;
	time_t mt = rp_mtime(t, d->rp);
	char *s = NULL;
	int rc;

	if (slot == S_P_DISKS) {
		dir_attr(a, mkino(n->idx, slot), mt, ttl);
		return 0;
	}
	if (slot == S_P_PROGRESS) {
		if (!d->rp->source_rp_id)
			return -ENOENT;
		file_attr(a, mkino(n->idx, slot), NULL, mt, 0, TREE_REG);
		pthread_rwlock_rdlock(&t->lock);
		a->size = n->aux;
		pthread_rwlock_unlock(&t->lock);
		a->entry_ttl = ttl;
		return 0;
	}
	if (slot == S_P_ERROR && (s = node_error(t, n)) != NULL)
		rc = 0;
	else
		rc = render_point_file(d, slot, &s);
	if (rc < 0)
		return rc;
	file_attr(a, mkino(n->idx, slot), s, mt, ttl, slot == S_P_ORIGIN ? TREE_LNK : TREE_REG);
	return 0;
}

/* Attributes of a .rpfs slot. */
static int rpfs_slot_attr(struct tree *t, int slot, struct tree_attr *a)
{
	char *s = NULL;
	int rc;

	if (slot == S_RPFS) {
		dir_attr(a, mkino(0, S_RPFS), t->mount_time, t->cfg.ttl);
		return 0;
	}
	rc = render_rpfs_file(t, slot, &s);
	if (rc < 0)
		return rc;
	file_attr(a, mkino(0, slot), s, time(NULL), 0, TREE_REG);
	a->entry_ttl = t->cfg.ttl;
	a->perm = slot == S_FLUSH ? 0200 : 0444;
	return 0;
}

static int node_local(struct tree *t, const struct tnode *n);
static int local_attr(struct tree *t, struct tnode *n, int slot, struct tree_attr *a);
static int render_local(struct tree *t, struct tnode *n, int slot, char **out);
static void list_locals(struct tree *t, struct tnode *parent, struct dlist *l);

/* Attributes of any inode, using data resolved in mode m. */
static int attr_of(struct tree *t, struct tnode *n, int slot, enum dmode m, struct tree_attr *a)
{
	struct dctx d;
	int rc = 0;

	switch (n->kind) {
	case N_ROOT:
		if (slot == S_DIR) {
			dir_attr(a, TREE_ROOT_INO, t->mount_time, t->cfg.ttl);
			return 0;
		}
		return rpfs_slot_attr(t, slot, a);
	case N_REGION:
	case N_RG:
		if (slot != S_DIR)
			return -ENOENT;
		dir_attr(a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		return 0;
	case N_RPC:
		if (node_local(t, n))
			return local_attr(t, n, slot, a);
		rc = rpc_data(t, n, m, 1, &d);
		if (rc < 0)
			return rc;
		if (slot == S_DIR)
			dir_attr(a, mkino(n->idx, 0), rpc_mtime(t, &d), t->cfg.ttl);
		else
			rc = coll_slot_attr(t, n, &d, slot, a);
		dctx_done(&d);
		return rc;
	case N_RP:
		if (node_local(t, n))
			return local_attr(t, n, slot, a);
		rc = rp_data(t, n, m, &d);
		if (rc < 0)
			return rc;
		if (slot == S_DIR)
			dir_attr(a, mkino(n->idx, 0), rp_mtime(t, d.rp),
				 rp_busy(d.rp) ? t->cfg.busy_ttl : t->cfg.ttl);
		else
			rc = point_slot_attr(t, n, &d, slot, a);
		dctx_done(&d);
		return rc;
	}
	return -ENOENT;
}

/* Attributes of a known inode (cached data, fetched only when none). */
int tree_getattr(struct tree *t, uint64_t ino, struct tree_attr *out)
{
	struct tree_attr dir;
	int slot, rc;
	struct tnode *n = node_of(t, ino, &slot);

	if (!n)
		return -ENOENT;
	rc = attr_of(t, n, slot, D_CACHED, out);
	if (rc == -ENOENT && slot != S_DIR && (n->kind == N_RPC || n->kind == N_RP) &&
	    attr_of(t, n, S_DIR, D_CACHED, &dir) == 0) {
		/* A file cp created that this view does not show (yet): empty. */
		file_attr(out, ino, NULL, dir.mtime, 0, TREE_REG);
		rc = 0;
	}
	return rc;
}

/* ---- lookup ----------------------------------------------------------- */

/* Slot of a fixed name in a table, or -1. */
static int fixed_slot(const struct fixed_name *tab, const char *name)
{
	for (; tab->name; tab++)
		if (!strcmp(tab->name, name))
			return tab->slot;
	return -1;
}

/* Look up a region under the root. */
static int lookup_region(struct tree *t, const char *name, struct tree_attr *out)
{
	struct cache_val *list = NULL;
	const char *spelled = NULL;
	struct tnode *n;
	int rc;

	for (size_t i = 0; i < t->cfg.nlocations; i++)
		if (same(t->cfg.locations[i].name, name))
			spelled = t->cfg.locations[i].name;
	if (!spelled) {
		rc = get_list(t, D_FETCH, &list);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < list->n && !spelled; i++)
			if (same(list->v[i]->location, name))
				spelled = list->v[i]->location;
		if (!spelled) {
			cache_put(list);
			return -ENOENT;
		}
	}
	n = node_get(t, t->root, spelled, N_REGION);
	cache_put(list);
	if (!n)
		return -ENOMEM;
	dir_attr(out, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
	return 0;
}

/* Look up a resource group in a region: listed ones, else the RG API. */
static int lookup_rg(struct tree *t, struct tnode *region, const char *name, struct tree_attr *out)
{
	struct cache_val *list = NULL, *rgv = NULL;
	const char *spelled = NULL;
	struct tnode *n;
	int rc;

	rc = get_list(t, D_FETCH, &list);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < list->n && !spelled; i++)
		if (same(list->v[i]->location, region->name) && same(list->v[i]->rg, name))
			spelled = list->v[i]->rg;
	if (!spelled) {
		/* Held nothing here: exists in the subscription? */
		for (size_t i = 0; i < list->n && !spelled; i++)
			if (same(list->v[i]->rg, name))
				spelled = list->v[i]->rg;
	}
	if (!spelled) {
		if (arm_rg_name_check(name) < 0) {
			rc = -ENOENT;
			goto out;
		}
		rc = cache_rg(t->c, name, CACHE_FETCH, &rgv);
		if (rc < 0)
			goto out;
		spelled = rgv->name ? rgv->name : name;
	}
	n = rg_node_get(t, region, spelled);
	if (!n) {
		rc = -ENOMEM;
		goto out;
	}
	dir_attr(out, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
	rc = 0;
out:
	cache_put(list);
	cache_put(rgv);
	return rc;
}

/* Look up a collection in a resource group of a region. */
static int lookup_rpc(struct tree *t, struct tnode *rgn, const char *name, struct tree_attr *out)
{
	struct cache_val *list = NULL;
	const struct arm_rpc *r;
	struct tnode *n;
	int rc;

	rc = get_list(t, D_FETCH, &list);
	if (rc < 0)
		return rc;
	r = cache_list_find(list, rgn->name, name);
	if (!r || !same(r->location, rgn->parent->name) || same(r->state, "Deleting")) {
		cache_put(list);
		return -ENOENT;
	}
	n = node_get(t, rgn, r->name, N_RPC);
	cache_put(list);
	if (!n)
		return -ENOMEM;
	return attr_of(t, n, S_DIR, D_FETCH, out);
}

static int fresh_for(struct tree *t, struct tnode *n, uint32_t pid);
static int made_here(struct tree *t, struct tnode *n, int slot);
static struct tnode *local_child(struct tree *t, struct tnode *parent, const char *name);

/* Resolve name in directory parent (may fetch). */
int tree_lookup(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	return tree_lookup_pid(t, parent, name, 0, out);
}

/* Resolve name for process pid (see tree.h). */
int tree_lookup_pid(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		    struct tree_attr *out)
{
	int slot, rc, s;
	struct tnode *n = node_of(t, parent, &slot), *child;
	struct dctx d;

	memset(out, 0, sizeof(*out));
	out->entry_ttl = t->cfg.neg_ttl;
	if (!n)
		return -ENOENT;
	if ((n->kind == N_RPC || n->kind == N_RP) && fresh_for(t, n, pid)) {
		/* cp creating the children of a directory it has just made. */
		int vs = slot == S_P_DISKS ? S_P_ABSORB
			 : n->kind == N_RPC ? fixed_slot(coll_files, name)
					    : fixed_slot(point_files, name);
		if (vs >= 0 && !(slot == S_DIR && made_here(t, n, vs))) {
			out->entry_ttl = 0;
			return -ENOENT;
		}
	}
	if ((n->kind == N_RG || n->kind == N_RPC) && slot == S_DIR &&
	    (child = local_child(t, n, name)) != NULL)
		return local_attr(t, child, S_DIR, out);
	if ((n->kind == N_RPC || n->kind == N_RP) && node_local(t, n)) {
		if (n->kind == N_RPC && slot == S_DIR)
			s = fixed_slot(coll_files, name);
		else if (n->kind == N_RP && slot == S_DIR)
			s = fixed_slot(point_files, name);
		else
			s = -1;
		rc = s < 0 ? -ENOENT : local_attr(t, n, s, out);
		if (rc == -ENOENT) {
			memset(out, 0, sizeof(*out));
			out->entry_ttl = 0;
		}
		return rc;
	}
	switch (n->kind) {
	case N_ROOT:
		if (slot == S_RPFS) {
			s = fixed_slot(rpfs_files, name);
			return s < 0 ? -ENOENT : rpfs_slot_attr(t, s, out);
		}
		if (slot != S_DIR)
			return -ENOTDIR;
		if (!strcmp(name, ".rpfs"))
			return rpfs_slot_attr(t, S_RPFS, out);
		rc = lookup_region(t, name, out);
		break;
	case N_REGION:
		if (slot != S_DIR)
			return -ENOTDIR;
		rc = lookup_rg(t, n, name, out);
		break;
	case N_RG:
		if (slot != S_DIR)
			return -ENOTDIR;
		rc = lookup_rpc(t, n, name, out);
		break;
	case N_RPC:
		if (slot != S_DIR)
			return -ENOTDIR;
		rc = rpc_data(t, n, D_FETCH, 1, &d);
		if (rc < 0)
			break;
		s = fixed_slot(coll_files, name);
		if (s >= 0) {
			rc = coll_slot_attr(t, n, &d, s, out);
		} else {
			const struct arm_rp *p = find_point(&d, name);

			rc = -ENOENT;
			if (p) {
				child = node_get(t, n, p->name, N_RP);
				if (!child) {
					rc = -ENOMEM;
				} else {
					dir_attr(out, mkino(child->idx, 0), rp_mtime(t, p),
						 rp_busy(p) ? t->cfg.busy_ttl : t->cfg.ttl);
					rc = 0;
				}
			}
		}
		dctx_done(&d);
		break;
	case N_RP:
		rc = rp_data(t, n, D_FETCH, &d);
		if (rc < 0)
			break;
		if (slot == S_DIR) {
			s = fixed_slot(point_files, name);
			rc = s < 0 ? -ENOENT : point_slot_attr(t, n, &d, s, out);
		} else if (slot == S_P_DISKS) {
			rc = -ENOENT;
			for (size_t i = 0; i < d.rp->ndisks && i < S_MAX - S_P_DISK0; i++) {
				char fn[300];

				snprintf(fn, sizeof(fn), "%s.json",
					 d.rp->disks[i].name ? d.rp->disks[i].name : "disk");
				if (!strcasecmp(fn, name)) {
					rc = point_slot_attr(t, n, &d, S_P_DISK0 + (int)i, out);
					break;
				}
			}
		} else {
			rc = -ENOTDIR;
		}
		dctx_done(&d);
		break;
	default:
		rc = -ENOENT;
	}
	if (rc == -ENOENT) {
		memset(out, 0, sizeof(*out));
		out->entry_ttl = t->cfg.neg_ttl;
	}
	return rc;
}

/* ---- listings --------------------------------------------------------- */

struct dlist {
	struct tree_dirent *v;
	size_t n, cap;
	int err;
};

/* Append an entry (name copied). */
static void dl_add(struct dlist *l, const char *name, const struct tree_attr *a)
{
	if (l->err)
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct tree_dirent *v = realloc(l->v, nc * sizeof(*v));

		if (!v) {
			l->err = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = nc;
	}
	l->v[l->n].name = strdup(name);
	if (!l->v[l->n].name) {
		l->err = -ENOMEM;
		return;
	}
	l->v[l->n].attr = *a;
	l->n++;
}

/* Order entries by name. */
static int cmp_dirent(const void *a, const void *b)
{
	return strcmp(((const struct tree_dirent *)a)->name, ((const struct tree_dirent *)b)->name);
}

/* Free a listing. */
void tree_dirents_free(struct tree_dirent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* Root: .rpfs and the regions (locations plus collections' locations). */
static int list_root(struct tree *t, enum dmode m, struct dlist *l)
{
	struct cache_val *list = NULL;
	struct tree_attr a;
	struct tnode *n;
	int rc;

	rpfs_slot_attr(t, S_RPFS, &a);
	dl_add(l, ".rpfs", &a);
	for (size_t i = 0; i < t->cfg.nlocations; i++) {
		n = node_get(t, t->root, t->cfg.locations[i].name, N_REGION);
		if (!n)
			return -ENOMEM;
		dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		dl_add(l, n->name, &a);
	}
	rc = get_list(t, m, &list);
	if (rc < 0)
		return 0; /* the physical locations are still worth showing */
	for (size_t i = 0; i < list->n; i++) {
		const char *loc = list->v[i]->location;
		int dup = 0;

		if (!loc || is_location(t, loc))
			continue;
		for (size_t j = 0; j < l->n && !dup; j++)
			dup = same(l->v[j].name, loc);
		if (dup)
			continue;
		n = node_get(t, t->root, loc, N_REGION);
		if (!n)
			break;
		dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		dl_add(l, n->name, &a);
	}
	cache_put(list);
	return 0;
}

/* Region: its resource groups; starts fetching its collections. */
static int list_region(struct tree *t, struct tnode *region, enum dmode m, struct dlist *l)
{
	struct cache_val *list = NULL;
	struct tree_attr a;
	int rc = get_list(t, m, &list);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < list->n; i++) {
		const struct arm_rpc *r = list->v[i];
		struct tnode *n;
		int dup = 0;

		if (!same(r->location, region->name) || !r->rg || same(r->state, "Deleting"))
			continue;
		if (m == D_FETCH)
			cache_prefetch(t->c, r->rg, r->name);
		for (size_t j = 0; j < l->n && !dup; j++)
			dup = same(l->v[j].name, r->rg);
		if (dup)
			continue;
		n = rg_node_get(t, region, r->rg);
		if (!n)
			break;
		dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		dl_add(l, n->name, &a);
	}
	cache_put(list);
	return 0;
}

/* Resource group: its collections in this region, with their points' mtimes. */
static int list_rg(struct tree *t, struct tnode *rgn, enum dmode m, struct dlist *l)
{
	struct cache_val *list = NULL;
	struct tree_attr a;
	int rc = get_list(t, m, &list);

	if (rc < 0)
		return rc;
	if (m == D_FETCH)
		for (size_t i = 0; i < list->n; i++)
			if (same(list->v[i]->location, rgn->parent->name) &&
			    same(list->v[i]->rg, rgn->name))
				cache_prefetch(t->c, list->v[i]->rg, list->v[i]->name);
	for (size_t i = 0; i < list->n; i++) {
		const struct arm_rpc *r = list->v[i];
		struct tnode *n;
		struct dctx d;

		if (!same(r->location, rgn->parent->name) || !same(r->rg, rgn->name) ||
		    same(r->state, "Deleting"))
			continue;
		n = node_get(t, rgn, r->name, N_RPC);
		if (!n)
			break;
		if (rpc_data(t, n, m, 1, &d) == 0) {
			dir_attr(&a, mkino(n->idx, 0), rpc_mtime(t, &d), t->cfg.ttl);
			dctx_done(&d);
		} else {
			dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.neg_ttl);
		}
		dl_add(l, n->name, &a);
	}
	cache_put(list);
	return 0;
}

/* Collection: its view files and its points. */
static int list_rpc(struct tree *t, struct tnode *n, enum dmode m, struct dlist *l)
{
	struct tree_attr a;
	struct dctx d;
	int rc = rpc_data(t, n, m, 1, &d);

	if (rc < 0)
		return rc;
	for (const struct fixed_name *f = coll_files; f->name; f++)
		if (coll_slot_attr(t, n, &d, f->slot, &a) == 0)
			dl_add(l, f->name, &a);
	for (size_t i = 0; d.coll && d.coll->rpc && i < d.coll->rpc->npoints; i++) {
		const struct arm_rp *p = &d.coll->rpc->points[i];
		struct tnode *c;

		if (!p->name || same(p->state, "Deleting"))
			continue;
		c = node_get(t, n, p->name, N_RP);
		if (!c)
			break;
		dir_attr(&a, mkino(c->idx, 0), rp_mtime(t, p),
			 rp_busy(p) ? t->cfg.busy_ttl : t->cfg.ttl);
		dl_add(l, c->name, &a);
	}
	dctx_done(&d);
	return 0;
}

/* Point (slot 0) or its disks/ (slot S_P_DISKS). */
static int list_rp(struct tree *t, struct tnode *n, int slot, enum dmode m, struct dlist *l)
{
	struct tree_attr a;
	struct dctx d;
	int rc = rp_data(t, n, m, &d);

	if (rc < 0)
		return rc;
	if (slot == S_DIR) {
		for (const struct fixed_name *f = point_files; f->name; f++)
			if (point_slot_attr(t, n, &d, f->slot, &a) == 0)
				dl_add(l, f->name, &a);
	} else {
		for (size_t i = 0; i < d.rp->ndisks && i < S_MAX - S_P_DISK0; i++) {
			char fn[300];

			snprintf(fn, sizeof(fn), "%s.json",
				 d.rp->disks[i].name ? d.rp->disks[i].name : "disk");
			if (point_slot_attr(t, n, &d, S_P_DISK0 + (int)i, &a) == 0)
				dl_add(l, fn, &a);
		}
	}
	dctx_done(&d);
	return 0;
}

/* A directory's entries. */
int tree_readdir(struct tree *t, uint64_t ino, int refresh, struct tree_dirent **out, size_t *n)
{
	int slot, rc;
	struct tnode *node = node_of(t, ino, &slot);
	struct dlist l = {0};
	enum dmode m = refresh ? D_FETCH : D_CACHED;
	struct tree_attr a;

	if (!node)
		return -ENOENT;
	switch (node->kind) {
	case N_ROOT:
		if (slot == S_DIR) {
			rc = list_root(t, m, &l);
		} else if (slot == S_RPFS) {
			rc = 0;
			for (const struct fixed_name *f = rpfs_files; f->name; f++)
				if (rpfs_slot_attr(t, f->slot, &a) == 0)
					dl_add(&l, f->name, &a);
		} else {
			rc = -ENOTDIR;
		}
		break;
	case N_REGION:
		rc = slot == S_DIR ? list_region(t, node, m, &l) : -ENOTDIR;
		break;
	case N_RG:
		rc = slot == S_DIR ? list_rg(t, node, m, &l) : -ENOTDIR;
		if (rc == 0)
			list_locals(t, node, &l);
		break;
	case N_RPC:
		if (node_local(t, node)) {
			rc = slot == S_DIR ? 0 : -ENOTDIR;
			for (const struct fixed_name *f = coll_files; rc == 0 && f->name; f++)
				if (local_attr(t, node, f->slot, &a) == 0)
					dl_add(&l, f->name, &a);
		} else {
			rc = slot == S_DIR ? list_rpc(t, node, m, &l) : -ENOTDIR;
		}
		if (rc == 0)
			list_locals(t, node, &l);
		break;
	case N_RP:
		if (node_local(t, node)) {
			rc = slot == S_DIR || slot == S_P_DISKS ? 0 : -ENOTDIR;
			for (const struct fixed_name *f = point_files; slot == S_DIR && f->name; f++)
				if (local_attr(t, node, f->slot, &a) == 0)
					dl_add(&l, f->name, &a);
			break;
		}
		rc =
		    (slot == S_DIR || slot == S_P_DISKS) ? list_rp(t, node, slot, m, &l) : -ENOTDIR;
		break;
	default:
		rc = -ENOENT;
	}
	if (rc == 0 && l.err)
		rc = l.err;
	if (rc < 0) {
		tree_dirents_free(l.v, l.n);
		return rc;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_dirent);
	if (slot == S_DIR) {
		pthread_rwlock_wrlock(&t->lock);
		node->listed_at = mount_secs(t);
		pthread_rwlock_unlock(&t->lock);
	}
	/* Somebody lists it: it is no longer being filled by cp. */
	pthread_mutex_lock(&t->mlock);
	node->fresh_pid = 0;
	pthread_mutex_unlock(&t->mlock);
	*out = l.v;
	*n = l.n;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

/* Target of a symlink (origin). */
int tree_readlink(struct tree *t, uint64_t ino, char **out)
{
	int slot, rc;
	struct tnode *n = node_of(t, ino, &slot);
	struct dctx d;

	if (!n)
		return -ENOENT;
	if (n->kind == N_RPC && slot == S_C_ORIGIN) {
		rc = rpc_data(t, n, D_CACHED, 0, &d);
		if (rc < 0)
			return rc;
		rc = render_coll_file(t, &d, slot, out);
	} else if (n->kind == N_RP && slot == S_P_ORIGIN) {
		rc = rp_data(t, n, D_CACHED, &d);
		if (rc < 0)
			return rc;
		rc = render_point_file(&d, slot, out);
	} else {
		return -EINVAL;
	}
	dctx_done(&d);
	return rc;
}

/* progress: a fresh $expand=instanceView request. */
static int open_progress(struct tree *t, struct tnode *n, struct tree_file *f)
{
	struct dctx d;
	struct cache_val *v = NULL;
	int rc = rp_data(t, n, D_CACHED, &d);

	if (rc < 0)
		return rc;
	if (!d.rp->source_rp_id) {
		dctx_done(&d);
		return -ENOENT;
	}
	rc = cache_rp_view(t->c, d.rpc->rg, d.rpc->name, d.rp->name, &v);
	dctx_done(&d);
	if (rc < 0)
		return rc;
	f->buf = render_progress(v->rp);
	cache_put(v);
	if (!f->buf)
		return -ENOMEM;
	f->len = strlen(f->buf);
	f->direct_io = 1;
	pthread_rwlock_wrlock(&t->lock);
	n->aux = (uint32_t)f->len;
	pthread_rwlock_unlock(&t->lock);
	return 0;
}

/* Open a file: render its content now. */
int tree_open(struct tree *t, uint64_t ino, int write, struct tree_file **out)
{
	int slot, rc;
	struct tnode *n = node_of(t, ino, &slot);
	struct tree_file *f;
	struct dctx d;

	if (!n)
		return -ENOENT;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (write && !(n->kind == N_ROOT && slot == S_FLUSH)) {
		if (t->cfg.ro || n->kind == N_ROOT || slot == S_DIR ||
		    (n->kind == N_RP && slot == S_P_DISKS)) {
			rc = tree_mutation_errno(t);
			goto out;
		}
		/* cp into an existing view directory: the write is absorbed. */
		f->absorb = 1;
		f->slot = slot;
		f->direct_io = 1;
		rc = 0;
		goto out;
	}
	switch (n->kind) {
	case N_ROOT:
		if (slot == S_DIR || slot == S_RPFS) {
			rc = -EISDIR;
			break;
		}
		if (slot == S_COPIES)
			copies_refresh(t);
		rc = render_rpfs_file(t, slot, &f->buf);
		f->direct_io = 1;
		f->control = slot == S_FLUSH;
		break;
	case N_RPC:
		if (slot == S_DIR) {
			rc = -EISDIR;
			break;
		}
		if (node_local(t, n)) {
			rc = render_local(t, n, slot, &f->buf);
			break;
		}
		rc = rpc_data(t, n, D_CACHED, 1, &d);
		if (rc < 0)
			break;
		rc = render_coll_file(t, &d, slot, &f->buf);
		dctx_done(&d);
		break;
	case N_RP:
		if (slot == S_DIR || slot == S_P_DISKS) {
			rc = -EISDIR;
			break;
		}
		if (node_local(t, n)) {
			rc = render_local(t, n, slot, &f->buf);
			break;
		}
		if (slot == S_P_PROGRESS) {
			rc = open_progress(t, n, f);
			break;
		}
		rc = rp_data(t, n, D_CACHED, &d);
		if (rc < 0)
			break;
		if (slot == S_P_ERROR && (f->buf = node_error(t, n)) != NULL)
			rc = 0;
		else
			rc = render_point_file(&d, slot, &f->buf);
		dctx_done(&d);
		break;
	default:
		rc = -EISDIR;
	}
out:
	if (rc < 0) {
		tree_file_free(f);
		return rc;
	}
	if (f->buf && !f->len)
		f->len = strlen(f->buf);
	*out = f;
	return 0;
}

/* Free an opened file. */
void tree_file_free(struct tree_file *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f->wbuf);
	free(f);
}

/* The errno of a refused mutation. */
int tree_mutation_errno(struct tree *t)
{
	return t->cfg.ro ? -EROFS : -EPERM;
}

static int absorb_act(struct tree *t, struct tnode *n, struct tree_file *f, int final);

/* A write: .rpfs/flush acts at once, view files keep the content. */
int tree_write(struct tree *t, uint64_t ino, struct tree_file *f, const char *buf, size_t len)
{
	int slot;
	struct tnode *n = node_of(t, ino, &slot);
	char *nb;

	if (!n)
		return -ENOENT;
	if (n->kind == N_ROOT && slot == S_FLUSH) {
		tree_flush(t);
		return 0;
	}
	if (!f || !f->absorb)
		return tree_mutation_errno(t);
	if (f->done)
		return f->rc;
	if (f->wlen + len > (1u << 20))
		return -EFBIG;
	nb = realloc(f->wbuf, f->wlen + len + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + f->wlen, buf, len);
	f->wbuf = nb;
	f->wlen += len;
	f->wbuf[f->wlen] = '\0';
	return absorb_act(t, n, f, 0);
}

/* close(): act on what was written. */
int tree_file_done(struct tree *t, uint64_t ino, struct tree_file *f)
{
	int slot;
	struct tnode *n = node_of(t, ino, &slot);

	if (!n || !f || !f->absorb)
		return 0;
	if (f->done)
		return f->rc;
	return absorb_act(t, n, f, 1);
}

/* Truncation: accepted on .rpfs/flush and (without effect) on view files. */
int tree_truncate(struct tree *t, uint64_t ino, uint64_t size)
{
	(void)size;
	return tree_setattr(t, ino, 0);
}

/* ---- invalidation ----------------------------------------------------- */

/* Ask the kernel to forget every file of a node.  Lock held. */
static void inval_node_files(struct tree *t, const struct tnode *n)
{
	int last = n->kind == N_RPC ? S_C_TAGS : n->kind == N_RP ? S_P_DISK0 + 8 : 0;

	if (!t->nt.inval_inode)
		return;
	for (int s = 0; s <= last; s++)
		t->nt.inval_inode(t->nt.arg, mkino(n->idx, s));
}

/* Drop every cached answer and everything the kernel keeps. */
void tree_flush(struct tree *t)
{
	cache_flush(t->c);
	pthread_rwlock_rdlock(&t->lock);
	for (size_t i = 0; i < t->nnodes; i++) {
		struct tnode *n = t->nodes[i];

		n->listed_at = 0;
		inval_node_files(t, n);
		if (n->parent && t->nt.inval_entry)
			t->nt.inval_entry(t->nt.arg, mkino(n->parent->idx, 0), n->name);
	}
	pthread_rwlock_unlock(&t->lock);
}

/* Drop kernel listings older than ttl. */
void tree_expire(struct tree *t)
{
	uint32_t now = mount_secs(t);

	if (!t->nt.inval_inode)
		return;
	pthread_rwlock_wrlock(&t->lock);
	for (size_t i = 0; i < t->nnodes; i++) {
		struct tnode *n = t->nodes[i];

		if (n->listed_at && now - n->listed_at >= t->cfg.ttl) {
			n->listed_at = 0;
			t->nt.inval_inode(t->nt.arg, mkino(n->idx, 0));
		}
	}
	pthread_rwlock_unlock(&t->lock);
}

/* The node for path region/rg/name if it exists.  Lock held. */
static struct tnode *find_path(struct tree *t, const char *region, const char *rg, const char *name)
{
	struct tnode *n = t->root;

	if (region)
		n = find_child(t, n, region);
	if (n && rg)
		n = find_child(t, n, rg);
	if (n && name)
		n = find_child(t, n, name);
	return n;
}

/* Invalidate what the kernel knows about one collection (and its group). */
static void inval_coll(struct tree *t, const struct arm_rpc *r)
{
	struct tnode *region, *rgn, *n;

	if (!r || !r->location || !r->rg || !r->name)
		return;
	region = find_path(t, r->location, NULL, NULL);
	rgn = region ? find_child(t, region, r->rg) : NULL;
	if (region) {
		t->nt.inval_inode(t->nt.arg, mkino(region->idx, 0));
		t->nt.inval_entry(t->nt.arg, mkino(region->idx, 0), r->rg);
	}
	if (rgn) {
		t->nt.inval_inode(t->nt.arg, mkino(rgn->idx, 0));
		t->nt.inval_entry(t->nt.arg, mkino(rgn->idx, 0), r->name);
		n = find_child(t, rgn, r->name);
		if (n)
			inval_node_files(t, n);
	}
}

/* Find a point by name in a collection, Deleting ones included. */
static const struct arm_rp *point_named(const struct arm_rpc *r, const char *name)
{
	for (size_t i = 0; r && i < r->npoints; i++)
		if (same(r->points[i].name, name))
			return &r->points[i];
	return NULL;
}

/* Compare two strings that may be NULL. */
static int differ(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

/* One point changed, appeared or vanished in collection node n. */
static void inval_point(struct tree *t, struct tnode *n, const char *name)
{
	struct tnode *p = find_child(t, n, name);

	t->nt.inval_entry(t->nt.arg, mkino(n->idx, 0), name);
	if (p) {
		inval_node_files(t, p);
		for (const struct fixed_name *f = point_files; f->name; f++)
			t->nt.inval_entry(t->nt.arg, mkino(p->idx, 0), f->name);
	}
}

/* Turn a refreshed collection into kernel invalidations. */
static void changed_coll(struct tree *t, const struct arm_rpc *o, const struct arm_rpc *nw)
{
	const struct arm_rpc *any = nw ? nw : o;
	struct tnode *n;
	int dirty = 0;

	if (!any)
		return;
	if (!nw || !o || differ(o->location, nw->location)) {
		inval_coll(t, o);
		inval_coll(t, nw);
		return;
	}
	n = find_path(t, any->location, any->rg, any->name);
	if (!n)
		return;
	if (differ(o->json, nw->json))
		dirty = 1;
	for (size_t i = 0; i < o->npoints; i++) {
		const struct arm_rp *a = &o->points[i], *b = point_named(nw, a->name);

		if (!b || differ(a->json, b->json) || differ(a->state, b->state)) {
			inval_point(t, n, a->name);
			dirty = 1;
		}
	}
	for (size_t i = 0; i < nw->npoints; i++)
		if (!point_named(o, nw->points[i].name)) {
			inval_point(t, n, nw->points[i].name);
			dirty = 1;
		}
	if (dirty)
		inval_node_files(t, n);
}

/* Turn a refreshed ListAll answer into kernel invalidations. */
static void changed_list(struct tree *t, const struct cache_val *o, const struct cache_val *nw)
{
	int any = 0;

	for (size_t i = 0; o && i < o->n; i++) {
		const struct arm_rpc *a = o->v[i], *b = cache_list_find(nw, a->rg, a->name);

		if (!b || differ(a->location, b->location)) {
			inval_coll(t, a);
			any = 1;
		}
	}
	for (size_t i = 0; nw && i < nw->n; i++) {
		const struct arm_rpc *b = nw->v[i], *a = cache_list_find(o, b->rg, b->name);

		if (!a || differ(a->location, b->location)) {
			inval_coll(t, b);
			any = 1;
		}
	}
	if (any)
		t->nt.inval_inode(t->nt.arg, TREE_ROOT_INO);
}

/* Cache listener: what changed in ARM becomes kernel invalidations. */
static void on_change(void *arg, const struct cache_val *o, const struct cache_val *nw)
{
	struct tree *t = arg;
	const struct cache_val *k = nw ? nw : o;

	if (!k || !t->nt.inval_inode || !t->nt.inval_entry)
		return;
	pthread_rwlock_rdlock(&t->lock);
	if (k->kind == CV_LIST && o)
		changed_list(t, o, nw);
	else if (k->kind == CV_COLL && o)
		changed_coll(t, o->rpc, nw ? nw->rpc : NULL);
	pthread_rwlock_unlock(&t->lock);
}

/* ---- mutations (SPEC §3) ----------------------------------------------
 *
 * How cp, mkdir and rmdir become ARM requests:
 *  - mkdir of a collection or point either sends its PUT at once (the
 *    source is known from the name) or leaves a *local* node: a directory
 *    that exists only in this mount (L_PENDING) until a write names its
 *    source.  With dry_run, a node whose PUT was only recorded stays local
 *    too (L_DRY), so that cp -r goes on and records every request.
 *  - cp creates the children of a directory it has just made with
 *    O_CREAT|O_EXCL and mkdir, which the kernel refuses by itself when the
 *    lookup finds the name.  So, for the process that made a directory
 *    (and until somebody lists it), its view names look absent: the create
 *    then reaches rpfs, which opens the view for an absorbed write.  Every
 *    other process sees the view as usual.
 *  - A written file acts only when its content names a source (the
 *    top-level "id" of a JSON view, else the first line): a collection id
 *    for a pending collection, a point id for a pending point (whose
 *    collection then gets the point's collection as source).  Other ids are
 *    absorbed, so the order in which cp writes files does not matter.
 *  - Checks that rpfs can make from what it knows are made before sending
 *    (errno as ARM's answer would give, reason logged and in .rpfs/ops);
 *    the rest comes from ARM's answer through arm_errno.
 *  - After each mutation the collection and the ListAll answer are fetched
 *    again: the cache listener turns the differences into kernel
 *    invalidations, so new and removed names show at once.
 */

#define FRESH_SECS 600

/* A copy started from this mount, until its progress reads 100 Succeeded. */
struct copy_rec {
	struct copy_rec *next;
	char *target, *source; /* ARM ids */
	char *rg, *rpc, *rp;   /* the target */
	int percent;	       /* last seen, -1 unknown */
};

/* Free one copy record. */
static void copy_rec_free(struct copy_rec *r)
{
	if (!r)
		return;
	free(r->target);
	free(r->source);
	free(r->rg);
	free(r->rpc);
	free(r->rp);
	free(r);
}

/* Free every copy record. */
static void copies_free(struct tree *t)
{
	struct copy_rec *r, *next;

	for (r = t->copies; r; r = next) {
		next = r->next;
		copy_rec_free(r);
	}
	t->copies = NULL;
}

/* The local state of a node (L_NONE when it is ARM's). */
static int node_local(struct tree *t, const struct tnode *n)
{
	int l;

	pthread_mutex_lock(&t->mlock);
	l = n->local;
	pthread_mutex_unlock(&t->mlock);
	return l;
}

/* 1 when pid made directory n a moment ago and nobody has listed it. */
static int fresh_for(struct tree *t, struct tnode *n, uint32_t pid)
{
	int r;

	if (!pid)
		return 0;
	pthread_mutex_lock(&t->mlock);
	r = n->fresh_pid == pid && mount_secs(t) < n->fresh_until;
	pthread_mutex_unlock(&t->mlock);
	return r;
}

/* 1 when the process filling n has already made view slot there. */
static int made_here(struct tree *t, struct tnode *n, int slot)
{
	int r;

	pthread_mutex_lock(&t->mlock);
	r = slot >= 0 && slot < 16 && (n->made & (1u << slot));
	pthread_mutex_unlock(&t->mlock);
	return r;
}

/* Remember that view slot of n was made (create, mkdir disks, symlink). */
static void set_made(struct tree *t, struct tnode *n, int slot)
{
	pthread_mutex_lock(&t->mlock);
	if (slot >= 0 && slot < 16)
		n->made |= (uint16_t)(1u << slot);
	pthread_mutex_unlock(&t->mlock);
}

/* Mark directory n as being filled by process pid. */
static void set_fresh(struct tree *t, struct tnode *n, uint32_t pid)
{
	pthread_mutex_lock(&t->mlock);
	n->fresh_pid = pid;
	n->fresh_until = mount_secs(t) + FRESH_SECS;
	n->made = 0;
	pthread_mutex_unlock(&t->mlock);
}

/* Make n local (kind l, source src may be NULL) or, with L_NONE, ARM's again. */
static int set_local(struct tree *t, struct tnode *n, int l, const char *src)
{
	int rc = 0;

	pthread_mutex_lock(&t->mlock);
	if (src) {
		char *s = strdup(src);

		if (!s) {
			rc = -ENOMEM;
			goto out;
		}
		free(n->src);
		n->src = s;
	}
	if (l && !n->local) {
		if (t->nlocals == t->caplocals) {
			size_t nc = t->caplocals ? t->caplocals * 2 : 16;
			struct tnode **v = realloc(t->locals, nc * sizeof(*v));

			if (!v) {
				rc = -ENOMEM;
				goto out;
			}
			t->locals = v;
			t->caplocals = nc;
		}
		t->locals[t->nlocals++] = n;
	} else if (!l && n->local) {
		for (size_t i = 0; i < t->nlocals; i++)
			if (t->locals[i] == n) {
				t->locals[i] = t->locals[--t->nlocals];
				break;
			}
		free(n->src);
		n->src = NULL;
	}
	n->local = (uint8_t)l;
out:
	pthread_mutex_unlock(&t->mlock);
	return rc;
}

/* The local child of parent named name, or NULL. */
static struct tnode *local_child(struct tree *t, struct tnode *parent, const char *name)
{
	struct tnode *c = NULL;

	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->nlocals; i++)
		if (t->locals[i]->parent == parent && !strcasecmp(t->locals[i]->name, name))
			c = t->locals[i];
	pthread_mutex_unlock(&t->mlock);
	return c;
}

/* 1 when parent has local children. */
static int has_local_children(struct tree *t, struct tnode *parent)
{
	int r = 0;

	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->nlocals && !r; i++)
		r = t->locals[i]->parent == parent;
	pthread_mutex_unlock(&t->mlock);
	return r;
}

/* Add the local children of parent to a listing. */
static void list_locals(struct tree *t, struct tnode *parent, struct dlist *l)
{
	struct tree_attr a;

	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->nlocals; i++) {
		struct tnode *c = t->locals[i];
		int dup = 0;

		if (c->parent != parent)
			continue;
		for (size_t j = 0; j < l->n && !dup; j++)
			dup = !strcasecmp(l->v[j].name, c->name);
		if (dup)
			continue;
		dir_attr(&a, mkino(c->idx, 0), t->mount_time, 1);
		dl_add(l, c->name, &a);
	}
	pthread_mutex_unlock(&t->mlock);
}

/* The ARM id a local node will have. */
static char *local_id(struct tree *t, const struct tnode *n)
{
	const char *sub = cache_subscription(t->c);

	if (n->kind == N_RPC)
		return arm_path_rpc(sub, n->parent->name, n->name);
	return arm_path_rp(sub, n->parent->parent->name, n->parent->name, n->name);
}

/* Content of a file of a local node: state, source, and (dry_run) id. */
static int render_local(struct tree *t, struct tnode *n, int slot, char **out)
{
	int l, coll = n->kind == N_RPC;
	char *s = NULL, *id;

	pthread_mutex_lock(&t->mlock);
	l = n->local;
	if (slot == (coll ? S_C_STATE : S_P_STATE))
		s = strdup(l == L_DRY ? "dry_run\n" : "pending\n");
	else if (slot == (coll ? S_C_SOURCE : S_P_SOURCE))
		s = n->src ? line(n->src) : strdup("");
	else if (slot == (coll ? S_C_ID : S_P_ID) && l == L_DRY) {
		id = local_id(t, n);
		s = id ? line(id) : NULL;
		free(id);
	} else {
		pthread_mutex_unlock(&t->mlock);
		return -ENOENT;
	}
	pthread_mutex_unlock(&t->mlock);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

/* Attributes in a local node. */
static int local_attr(struct tree *t, struct tnode *n, int slot, struct tree_attr *a)
{
	char *s = NULL;
	int rc;

	if (slot == S_DIR || (n->kind == N_RP && slot == S_P_DISKS)) {
		dir_attr(a, mkino(n->idx, slot), t->mount_time, 1);
		return 0;
	}
	rc = render_local(t, n, slot, &s);
	if (rc < 0)
		return rc;
	file_attr(a, mkino(n->idx, slot), s, t->mount_time, 0, TREE_REG);
	a->entry_ttl = 1;
	return 0;
}

/* ---- .rpfs/ops -------------------------------------------------------- */

/* Name of an errno as the tests and scripts expect to read it. */
static const char *errname(int rc)
{
	switch (-rc) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case EEXIST:
		return "EEXIST";
	case EBUSY:
		return "EBUSY";
	case EDQUOT:
		return "EDQUOT";
	case ENOENT:
		return "ENOENT";
	case EACCES:
		return "EACCES";
	case EAGAIN:
		return "EAGAIN";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENOTEMPTY:
		return "ENOTEMPTY";
	case EPERM:
		return "EPERM";
	default:
		return "EIO";
	}
}

/* Add one line (time first) to .rpfs/ops. */
static void ops_add(struct tree *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ops_add(struct tree *t, const char *fmt, ...)
{
	char ts[32], *body = NULL, *s;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		body = NULL;
	va_end(ap);
	if (!body)
		return;
	s = xasprintf("%s %s\n", ts, body);
	free(body);
	if (!s)
		return;
	pthread_mutex_lock(&t->mlock);
	free(t->ops[t->ops_next]);
	t->ops[t->ops_next] = s;
	t->ops_next = (t->ops_next + 1) % OPS_MAX;
	if (t->ops_count < OPS_MAX)
		t->ops_count++;
	pthread_mutex_unlock(&t->mlock);
}

/* .rpfs/ops: oldest first. */
static int render_ops(struct tree *t, char **out)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->ops_count; i++) {
		size_t k = (t->ops_next + OPS_MAX - t->ops_count + i) % OPS_MAX;

		fputs(t->ops[k], f);
	}
	pthread_mutex_unlock(&t->mlock);
	if (fclose(f) != 0) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

/* A mutation refused before sending: log and .rpfs/ops. */
static int refuse_op(struct tree *t, const char *verb, const char *what, int rc, const char *why)
{
	log_warn("%s %s: %s: %s (nothing sent)", verb, what, strerror(-rc), why);
	ops_add(t, "%s %s - %s refused: %s", verb, what, errname(rc), why);
	return rc;
}

/* A JSON body on one line (the views are pretty-printed). */
static void one_line(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '\n') {
			while (r[1] == ' ' || r[1] == '\t')
				r++;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
}

/* The last failed operation on a point, shown in its `error` file. */
struct op_err {
	struct op_err *next;
	const struct tnode *n;
	char *text;
};

/* The `error` text of point n from this mount, or NULL. */
static char *node_error(struct tree *t, const struct tnode *n)
{
	char *s = NULL;

	pthread_mutex_lock(&t->mlock);
	for (struct op_err *e = t->errs; e && !s; e = e->next)
		if (e->n == n)
			s = strdup(e->text);
	pthread_mutex_unlock(&t->mlock);
	return s;
}

/* Remember (text) or forget (NULL) the last failed operation on point n. */
static void set_node_error(struct tree *t, const struct tnode *n, char *text)
{
	struct op_err **pp, *e;

	pthread_mutex_lock(&t->mlock);
	for (pp = &t->errs; *pp; pp = &(*pp)->next)
		if ((*pp)->n == n) {
			e = *pp;
			*pp = e->next;
			free(e->text);
			free(e);
			break;
		}
	if (text && (e = calloc(1, sizeof(*e))) != NULL) {
		e->n = n;
		e->text = text;
		e->next = t->errs;
		t->errs = e;
		text = NULL;
	}
	pthread_mutex_unlock(&t->mlock);
	free(text);
}

/* Free every remembered error. */
static void errs_free(struct tree *t)
{
	struct op_err *e, *next;

	for (e = t->errs; e; e = next) {
		next = e->next;
		free(e->text);
		free(e);
	}
	t->errs = NULL;
}

static int send_mut_on(struct tree *t, const struct cache_mut *m, const struct tnode *pn);

/* Send one mutation (or, with dry_run, record it).  Returns ARM's errno. */
static int send_mut(struct tree *t, const struct cache_mut *m)
{
	return send_mut_on(t, m, NULL);
}

/* send_mut for an existing point pn, whose `error` file then tells how
 * the operation ended. */
static int send_mut_on(struct tree *t, const struct cache_mut *m, const struct tnode *pn)
{
	static const char *const verbs[] = {[CM_PUT_RPC] = "PUT",
					    [CM_PUT_RP] = "PUT",
					    [CM_DELETE_RP] = "DELETE",
					    [CM_DELETE_RPC] = "DELETE",
					    [CM_PATCH_TAGS] = "PATCH"};
	const char *sub = cache_subscription(t->c);
	char *id = m->rp ? arm_path_rp(sub, m->rg, m->rpc, m->rp) : arm_path_rpc(sub, m->rg, m->rpc);
	struct arm_err err;
	int rc;

	if (!id)
		return -ENOMEM;
	if (t->cfg.dry_run) {
		char *body = NULL, *path;

		if (m->op == CM_PUT_RPC)
			body = arm_body_put_collection(m->location, m->source_id, NULL, 0);
		else if (m->op == CM_PUT_RP)
			body = arm_body_put_rp(m->source_rp_id, m->consistency);
		else if (m->op == CM_PATCH_TAGS)
			body = arm_body_patch_tags(m->tags, m->ntags);
		path = m->rp ? arm_url_path_rp(sub, m->rg, m->rpc, m->rp)
			     : arm_url_path_rpc(sub, m->rg, m->rpc);
		if (body)
			one_line(body);
		ops_add(t, "dry_run %s %s %s", verbs[m->op], path ? path : id, body ? body : "-");
		log_info("dry_run: %s %s (not sent)", verbs[m->op], id);
		free(body);
		free(path);
		free(id);
		return 0;
	}
	rc = cache_mutate(t->c, m, &err);
	ops_add(t, "%s %s %d %s %s", verbs[m->op], id, err.status, errname(rc),
		err.request_id[0] ? err.request_id : "-");
	if (pn)
		set_node_error(t, pn,
			       rc < 0 ? xasprintf("%s: %s: %s (HTTP %d, x-ms-request-id %s)\n",
						  verbs[m->op], err.code[0] ? err.code : errname(rc),
						  err.message[0] ? err.message : strerror(-rc),
						  err.status, err.request_id[0] ? err.request_id : "-")
				      : NULL);
	if (rc == 0)
		log_info("%s %s: %d (x-ms-request-id %s)", verbs[m->op], id, err.status,
			 err.request_id[0] ? err.request_id : "-");
	free(id);
	return rc;
}

/* Fetch a collection and, with list, the ListAll answer again (after a
 * mutation): the cache listener turns the differences into kernel
 * invalidations. */
static void refresh_coll(struct tree *t, const char *rg, const char *rpc, int list)
{
	struct cache_val *v = NULL;

	if (list && cache_list(t->c, CACHE_FETCH, &v) == 0)
		cache_put(v);
	v = NULL;
	if (rpc && cache_coll(t->c, rg, rpc, CACHE_FETCH, &v) == 0)
		cache_put(v);
}

/* Wait until no mutation of n is in flight, then mark one.  0, or
 * -EALREADY when n stopped being pending meanwhile. */
static void node_busy(struct tree *t, struct tnode *n)
{
	pthread_mutex_lock(&t->mlock);
	while (n->busy)
		pthread_cond_wait(&t->mcond, &t->mlock);
	n->busy = 1;
	pthread_mutex_unlock(&t->mlock);
}

/* End of node_busy. */
static void node_idle(struct tree *t, struct tnode *n)
{
	pthread_mutex_lock(&t->mlock);
	n->busy = 0;
	pthread_cond_broadcast(&t->mcond);
	pthread_mutex_unlock(&t->mlock);
}

/* ---- collections ------------------------------------------------------ */

/* PUT collection node n (region/rg/name) as a copy of src (a collection). */
static int put_collection(struct tree *t, struct tnode *n, const struct arm_rpc *src)
{
	const char *region = n->parent->parent->name, *rg = n->parent->name;
	struct cache_mut m = {.op = CM_PUT_RPC,
			      .rg = rg,
			      .rpc = n->name,
			      .location = region,
			      .source_id = src->id};
	char what[600];
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s", region, rg, n->name);
	if (same(src->location, region))
		return refuse_op(t, "PUT", what, -EINVAL,
				 "the source collection is in the same region");
	if (rpc_is_copy(src))
		return refuse_op(t, "PUT", what, -EINVAL,
				 "the source collection is itself a copy (no copy of a copy)");
	rc = send_mut(t, &m);
	if (rc == 0 && t->cfg.dry_run)
		return set_local(t, n, L_DRY, src->id);
	if (rc == -EEXIST || rc == 0) {
		struct cache_val *list = NULL;
		const struct arm_rpc *r;
		int ok = 0;

		refresh_coll(t, rg, n->name, 1);
		/* A retried PUT that met what it created is a success. */
		if (rc == -EEXIST && get_list(t, D_FETCH, &list) == 0) {
			r = cache_list_find(list, rg, n->name);
			ok = r && same(r->location, region) && same(r->source_id, src->id);
			cache_put(list);
			if (ok)
				rc = 0;
		}
	}
	if (rc == 0)
		set_local(t, n, L_NONE, NULL);
	return rc;
}

/* A pending collection gets its source (a collection id): PUT it. */
static int resolve_collection(struct tree *t, struct tnode *n, const char *src_id)
{
	struct arm_id *id = NULL;
	struct cache_val *list = NULL;
	const struct arm_rpc *src;
	int rc;

	if (arm_id_parse(src_id, &id) < 0 || !id->rpc || id->rp) {
		free(id);
		return -EINVAL;
	}
	node_busy(t, n);
	if (node_local(t, n) != L_PENDING) {
		rc = 0; /* resolved meanwhile: absorbed */
		goto out;
	}
	rc = get_list(t, D_FETCH, &list);
	if (rc < 0)
		goto out;
	src = cache_list_find(list, id->rg, id->rpc);
	if (!src) {
		rc = refuse_op(t, "PUT", src_id, -ENOENT, "no such source collection");
		goto out;
	}
	rc = put_collection(t, n, src);
out:
	node_idle(t, n);
	cache_put(list);
	free(id);
	return rc;
}

/* mkdir REGION/RG/NAME (SPEC §3.1). */
static int mkdir_collection(struct tree *t, struct tnode *rgn, const char *name, uint32_t pid,
			    struct tree_attr *out)
{
	const char *region = rgn->parent->name;
	struct cache_val *list = NULL;
	const struct arm_rpc *cand = NULL;
	struct tnode *n;
	int rc, ncand = 0;

	rc = get_list(t, D_FETCH, &list);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < list->n; i++) {
		const struct arm_rpc *r = list->v[i];

		if (!same(r->name, name))
			continue;
		if (same(r->rg, rgn->name)) {
			log_warn("mkdir %s/%s/%s: resource group %s already holds a collection %s "
				 "(in %s)",
				 region, rgn->name, name, r->rg, r->name, r->location);
			rc = -EEXIST;
			goto out;
		}
		if (!same(r->location, region)) {
			cand = r;
			ncand++;
		}
	}
	if (local_child(t, rgn, name)) {
		rc = -EEXIST;
		goto out;
	}
	n = node_get(t, rgn, name, N_RPC);
	if (!n) {
		rc = -ENOMEM;
		goto out;
	}
	if (ncand == 1) {
		node_busy(t, n);
		rc = put_collection(t, n, cand);
		node_idle(t, n);
	} else {
		rc = set_local(t, n, L_PENDING, NULL);
		log_info("mkdir %s/%s/%s: pending until a source collection is named", region,
			 rgn->name, name);
	}
	if (rc == 0) {
		set_fresh(t, n, pid);
		dir_attr(out, mkino(n->idx, 0), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
	}
out:
	cache_put(list);
	return rc;
}

/* ---- restore points --------------------------------------------------- */

/* 1 when point src_id (of collection src_coll) already has a copy in
 * region: the copies of src_coll there are read (cached, else fetched). */
static int copied_to(struct tree *t, const char *region, const char *src_coll, const char *src_id)
{
	struct cache_val *list = NULL, *cv;
	int found = 0;

	if (get_list(t, D_CACHED, &list) < 0)
		return 0;
	for (size_t i = 0; i < list->n && !found; i++) {
		const struct arm_rpc *r = list->v[i];

		if (!same(r->location, region) || !rpc_is_copy(r) || !same(r->source_id, src_coll))
			continue;
		cv = NULL;
		if (get_coll(t, r->rg, r->name, D_CACHED, &cv) < 0)
			continue;
		for (size_t k = 0; cv->rpc && k < cv->rpc->npoints && !found; k++)
			found = same(cv->rpc->points[k].source_rp_id, src_id) &&
				!same(cv->rpc->points[k].state, "Deleting");
		cache_put(cv);
	}
	cache_put(list);
	return found;
}

/* Remember a copy started from this mount (for .rpfs/copies and EBUSY). */
static void copy_add(struct tree *t, const char *target, const char *source, const char *rg,
		     const char *rpc, const char *rp)
{
	struct copy_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->target = strdup(target);
	r->source = strdup(source);
	r->rg = strdup(rg);
	r->rpc = strdup(rpc);
	r->rp = strdup(rp);
	r->percent = -1;
	if (!r->target || !r->source || !r->rg || !r->rpc || !r->rp) {
		copy_rec_free(r);
		return;
	}
	pthread_mutex_lock(&t->mlock);
	r->next = t->copies;
	t->copies = r;
	pthread_mutex_unlock(&t->mlock);
}

/* PUT point node pn as a copy of point p of collection sc (prechecks first). */
static int copy_point(struct tree *t, struct tnode *pn, const struct arm_rpc *sc,
		      const struct arm_rp *p)
{
	struct tnode *cn = pn->parent;
	const char *region = cn->parent->parent->name, *rg = cn->parent->name;
	struct cache_mut m = {
	    .op = CM_PUT_RP, .rg = rg, .rpc = cn->name, .rp = pn->name, .source_rp_id = p->id};
	char what[900];
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s/%s", region, rg, cn->name, pn->name);
	if (p->source_rp_id)
		return refuse_op(t, "PUT", what, -EINVAL,
				 "the source point is itself a copy (no copy of a copy)");
	if (same(sc->location, region))
		return refuse_op(t, "PUT", what, -EINVAL, "the source point is in the same region");
	if (!same(p->state, "Succeeded"))
		return refuse_op(t, "PUT", what, -EBUSY,
				 "the source point is not Succeeded; only a Succeeded point "
				 "can be copied");
	if (copied_to(t, region, sc->id, p->id))
		return refuse_op(t, "PUT", what, -EEXIST,
				 "the source point already has a copy in this region (one copy "
				 "per source point per region)");
	rc = send_mut(t, &m);
	if (rc == 0 && t->cfg.dry_run)
		return set_local(t, pn, L_DRY, p->id);
	if (rc == 0 || rc == -EEXIST) {
		struct cache_val *cv = NULL;

		refresh_coll(t, rg, cn->name, 0);
		if (rc == -EEXIST && cache_coll(t->c, rg, cn->name, CACHE_NOFETCH, &cv) == 0) {
			const struct arm_rp *q = point_named(cv->rpc, pn->name);

			if (q && same(q->source_rp_id, p->id))
				rc = 0;
			cache_put(cv);
		}
	}
	if (rc == 0) {
		char *tid = arm_path_rp(cache_subscription(t->c), rg, cn->name, pn->name);

		if (tid)
			copy_add(t, tid, p->id, rg, cn->name, pn->name);
		free(tid);
		set_local(t, pn, L_NONE, NULL);
	}
	return rc;
}

/* The source collection id of collection node cn (a copy), or NULL. */
static char *coll_source(struct tree *t, struct tnode *cn)
{
	struct dctx d;
	char *s = NULL;

	if (node_local(t, cn) == L_DRY) {
		pthread_mutex_lock(&t->mlock);
		s = cn->src ? strdup(cn->src) : NULL;
		pthread_mutex_unlock(&t->mlock);
		return s;
	}
	if (rpc_data(t, cn, D_FETCH, 0, &d) < 0)
		return NULL;
	if (rpc_is_copy(d.rpc))
		s = strdup(d.rpc->source_id);
	dctx_done(&d);
	return s;
}

/* Copy point src_id (an id) into point node pn. */
static int copy_into(struct tree *t, struct tnode *pn, const char *src_id)
{
	struct tnode *cn = pn->parent;
	struct arm_id *sp = NULL, *cs = NULL;
	struct cache_val *sc = NULL;
	char *csrc = coll_source(t, cn);
	const struct arm_rp *p;
	int rc = -EINVAL;

	if (!csrc) {
		rc = refuse_op(t, "PUT", pn->name, -EINVAL,
			       "the collection is not a copy of another collection");
		goto out;
	}
	if (arm_id_parse(src_id, &sp) < 0 || !sp->rp || arm_id_parse(csrc, &cs) < 0 ||
	    !cs->rpc || !same(sp->rg, cs->rg) || !same(sp->rpc, cs->rpc)) {
		rc = refuse_op(t, "PUT", src_id, -EINVAL,
			       "the source point is not in the collection's source collection");
		goto out;
	}
	rc = get_coll(t, sp->rg, sp->rpc, D_FETCH, &sc);
	if (rc < 0)
		goto out;
	p = point_named(sc->rpc, sp->rp);
	if (!p || same(p->state, "Deleting")) {
		rc = refuse_op(t, "PUT", src_id, -ENOENT, "no such source point");
		goto out;
	}
	rc = copy_point(t, pn, sc->rpc, p);
out:
	cache_put(sc);
	free(sp);
	free(cs);
	free(csrc);
	return rc;
}

/* A pending point gets its source (a point id): its collection first. */
static int resolve_point(struct tree *t, struct tnode *pn, const char *src_id)
{
	struct tnode *cn = pn->parent;
	struct arm_id *sp = NULL;
	char *cid = NULL;
	int rc;

	if (arm_id_parse(src_id, &sp) < 0 || !sp->rp) {
		free(sp);
		return -EINVAL;
	}
	if (node_local(t, cn) == L_PENDING) {
		cid = arm_path_rpc(sp->sub, sp->rg, sp->rpc);
		rc = cid ? resolve_collection(t, cn, cid) : -ENOMEM;
		if (rc < 0)
			goto out;
	}
	node_busy(t, pn);
	rc = node_local(t, pn) == L_PENDING ? copy_into(t, pn, src_id) : 0;
	node_idle(t, pn);
out:
	free(sp);
	free(cid);
	return rc;
}

/* mkdir COLLECTION/NAME (SPEC §3.2). */
static int mkdir_point(struct tree *t, struct tnode *cn, const char *name, uint32_t pid,
		       struct tree_attr *out)
{
	const char *region = cn->parent->parent->name, *rg = cn->parent->name;
	int l = node_local(t, cn), rc;
	struct tnode *pn;
	struct dctx d;
	char *csrc = NULL;

	if (local_child(t, cn, name))
		return -EEXIST;
	if (l == L_NONE) {
		rc = rpc_data(t, cn, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		if (find_point(&d, name)) {
			dctx_done(&d);
			return -EEXIST;
		}
		if (!rpc_is_copy(d.rpc)) {
			/* A new restore point of the collection's VM. */
			struct cache_mut m = {.op = CM_PUT_RP,
					      .rg = d.rpc->rg,
					      .rpc = d.rpc->name,
					      .rp = name,
					      .consistency = t->cfg.consistency};

			dctx_done(&d);
			pn = node_get(t, cn, name, N_RP);
			if (!pn)
				return -ENOMEM;
			rc = send_mut(t, &m);
			if (rc < 0)
				return rc;
			if (t->cfg.dry_run)
				rc = set_local(t, pn, L_DRY, NULL);
			else
				refresh_coll(t, rg, cn->name, 0);
			goto done;
		}
		dctx_done(&d);
	}
	pn = node_get(t, cn, name, N_RP);
	if (!pn)
		return -ENOMEM;
	rc = 0;
	if (l != L_PENDING)
		csrc = coll_source(t, cn);
	if (csrc) {
		/* A copy collection: is there a point of this name to copy? */
		struct arm_id *cs = NULL;
		struct cache_val *sc = NULL;
		const struct arm_rp *p = NULL;
		int copied = 0;

		if (arm_id_parse(csrc, &cs) == 0 && cs->rpc &&
		    get_coll(t, cs->rg, cs->rpc, D_FETCH, &sc) == 0)
			p = point_named(sc->rpc, name);
		if (p && !same(p->state, "Deleting")) {
			node_busy(t, pn);
			rc = copy_point(t, pn, sc->rpc, p);
			node_idle(t, pn);
			copied = 1;
		}
		cache_put(sc);
		free(cs);
		free(csrc);
		if (copied)
			goto done;
	}
	rc = set_local(t, pn, L_PENDING, NULL);
	log_info("mkdir %s/%s/%s/%s: pending until a source point is named", region, rg, cn->name,
		 name);
done:
	if (rc == 0) {
		set_fresh(t, pn, pid);
		dir_attr(out, mkino(pn->idx, 0), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
	}
	return rc;
}

/* mkdir (see tree.h). */
int tree_mkdir(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
	       struct tree_attr *out)
{
	int slot;
	struct tnode *n = node_of(t, parent, &slot);

	memset(out, 0, sizeof(*out));
	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks")) {
		/* cp making the view subdirectory. */
		dir_attr(out, mkino(n->idx, S_P_DISKS), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
		set_made(t, n, S_P_DISKS);
		return 0;
	}
	if (slot != S_DIR || (n->kind != N_RG && n->kind != N_RPC)) {
		log_warn("mkdir %s: only collections and restore points can be made", name);
		return -EPERM;
	}
	if (arm_name_check(name) < 0) {
		log_warn("mkdir: name '%.300s' is not a valid ARM name (at most 260 characters, "
			 "none of <>%%&:\\?/ or control characters, not ending in '.' or space)",
			 name);
		return -EINVAL;
	}
	if (n->kind == N_RG)
		return mkdir_collection(t, n, name, pid, out);
	return mkdir_point(t, n, name, pid, out);
}

/* ---- what cp writes --------------------------------------------------- */

/* The id a written file names: the top-level "id" of a JSON object, else
 * its first line.  NULL while incomplete (unless final) or when none. */
static char *written_id(const char *buf, size_t len, int final)
{
	size_t i = 0, s, e;
	int depth = 0;

	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && buf[i] == '{') {
		for (; i < len; i++) {
			char ch = buf[i];

			if (ch == '{' || ch == '[') {
				depth++;
			} else if (ch == '}' || ch == ']') {
				depth--;
			} else if (ch == '"') {
				s = ++i;
				while (i < len && buf[i] != '"')
					i += buf[i] == '\\' ? 2 : 1;
				if (i >= len)
					return NULL;
				if (depth == 1 && i - s == 2 && !memcmp(buf + s, "id", 2)) {
					size_t j = i + 1;

					while (j < len && isspace((unsigned char)buf[j]))
						j++;
					if (j >= len || buf[j] != ':')
						continue;
					for (j++; j < len && isspace((unsigned char)buf[j]); j++)
						;
					if (j >= len || buf[j] != '"')
						continue;
					s = ++j;
					while (j < len && buf[j] != '"')
						j++;
					return j < len ? strndup(buf + s, j - s) : NULL;
				}
			}
		}
		return NULL;
	}
	s = i;
	while (i < len && buf[i] != '\n')
		i++;
	if (i >= len && !final)
		return NULL;
	for (e = i; e > s && isspace((unsigned char)buf[e - 1]); e--)
		;
	return e > s ? strndup(buf + s, e - s) : NULL;
}

/* A path inside the mount (…/REGION/RG/NAME[/POINT]) to an ARM id. */
static char *path_to_id(struct tree *t, const char *path)
{
	char buf[2048], *seg[64], *save = NULL, *p;
	struct cache_val *list = NULL;
	const struct arm_rpc *r;
	char *id = NULL;
	int n = 0;

	if (strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	for (p = strtok_r(buf, "/", &save); p && n < 64; p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	if (get_list(t, D_FETCH, &list) < 0)
		return NULL;
	/* A point: REGION/RG/NAME/POINT; a collection: REGION/RG/NAME. */
	for (int k = 4; k >= 3 && !id; k--) {
		if (n < k)
			continue;
		r = cache_list_find(list, seg[n - k + 1], seg[n - k + 2]);
		if (!r || !same(r->location, seg[n - k]))
			continue;
		id = k == 4 ? arm_path_rp(cache_subscription(t->c), r->rg, r->name, seg[n - 1])
			    : strdup(r->id);
	}
	cache_put(list);
	return id;
}

/* key=value lines to tags; -EINVAL for a line without '='. */
static int parse_tags(const char *buf, size_t len, struct arm_tag **out, size_t *n)
{
	struct arm_tag *v = NULL;
	size_t cnt = 0;
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct arm_tag *nv;

		while (l && (p[l - 1] == '\r' || p[l - 1] == ' '))
			l--;
		if (l) {
			eq = memchr(p, '=', l);
			if (!eq || eq == p || cnt >= 50)
				goto bad;
			nv = realloc(v, (cnt + 1) * sizeof(*v));
			if (!nv)
				goto bad;
			v = nv;
			v[cnt].key = strndup(p, (size_t)(eq - p));
			v[cnt].value = strndup(eq + 1, l - (size_t)(eq - p) - 1);
			cnt++;
		}
		p = nl ? nl + 1 : end;
	}
	*out = v;
	*n = cnt;
	return 0;
bad:
	for (size_t i = 0; i < cnt; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
	return -EINVAL;
}

/* Free parsed tags. */
static void tags_free(struct arm_tag *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

/* 1 when two tag sets are equal (any order). */
static int tags_equal(const struct arm_tag *a, size_t na, const struct arm_tag *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		int found = 0;

		for (size_t j = 0; j < nb && !found; j++)
			found = same(a[i].key, b[j].key) && !differ(a[i].value, b[j].value);
		if (!found)
			return 0;
	}
	return 1;
}

/* A write to tags: PATCH when it changes them (SPEC §3.5). */
static int write_tags(struct tree *t, struct tnode *n, struct tree_file *f)
{
	struct arm_tag *tags = NULL;
	size_t ntags = 0;
	struct dctx d;
	int rc;

	if (node_local(t, n) || fresh_for(t, n, f->pid))
		return 0; /* cp copying a collection: its tags are a view */
	rc = parse_tags(f->wbuf ? f->wbuf : "", f->wlen, &tags, &ntags);
	if (rc < 0) {
		log_warn("tags of %s: each line must be key=value", n->name);
		return rc;
	}
	rc = rpc_data(t, n, D_FETCH, 0, &d);
	if (rc == 0) {
		const struct arm_rpc *src = NULL;
		struct arm_id *sid = NULL;

		/* cp -r run again over a copy writes the source's tags: a view. */
		if (rpc_is_copy(d.rpc) && arm_id_parse(d.rpc->source_id, &sid) == 0 && sid->rpc)
			src = cache_list_find(d.list, sid->rg, sid->rpc);
		free(sid);
		if (src && tags_equal(tags, ntags, src->tags, src->ntags)) {
			log_info("tags of %s: the source collection's tags, absorbed", n->name);
		} else if (!tags_equal(tags, ntags, d.rpc->tags, d.rpc->ntags)) {
			struct cache_mut m = {.op = CM_PATCH_TAGS,
					      .rg = d.rpc->rg,
					      .rpc = d.rpc->name,
					      .tags = tags,
					      .ntags = ntags};

			rc = send_mut(t, &m);
			if (rc == 0 && !t->cfg.dry_run)
				refresh_coll(t, d.rpc->rg, d.rpc->name, 1);
		}
		dctx_done(&d);
	}
	tags_free(tags, ntags);
	return rc;
}

/* A source named for local node n (a write, or user.rpfs.source). */
static int name_source(struct tree *t, struct tnode *n, const char *text, int is_source_file)
{
	struct arm_id *id = NULL;
	char *byp = NULL;
	int rc = 0;

	if (arm_id_parse(text, &id) < 0) {
		if (!is_source_file)
			return 0;
		byp = path_to_id(t, text);
		if (!byp || arm_id_parse(byp, &id) < 0) {
			log_warn("source of %s: '%.300s' is neither an ARM id nor a path to a "
				 "collection in this mount",
				 n->name, text);
			free(byp);
			return -EINVAL;
		}
		text = byp;
	}
	if (id->vm) {
		rc = 0; /* a VM id (cp of a collection's source): absorbed */
	} else if (n->kind == N_RPC) {
		if (id->rp) {
			char *cid = arm_path_rpc(id->sub, id->rg, id->rpc);

			rc = cid ? resolve_collection(t, n, cid) : -ENOMEM;
			free(cid);
		} else {
			rc = resolve_collection(t, n, text);
		}
	} else if (n->kind == N_RP && id->rp) {
		rc = resolve_point(t, n, text);
	} else if (n->kind == N_RP && is_source_file) {
		rc = refuse_op(t, "PUT", n->name, -EINVAL, "the source of a point is a point");
	}
	free(id);
	free(byp);
	return rc;
}

/* Act on a view file's written content (final: at close). */
static int absorb_act(struct tree *t, struct tnode *n, struct tree_file *f, int final)
{
	int is_src, names, l;
	char *id;

	/* close() comes for every descriptor of the file (a shell's dup2
	 * closes one before writing): nothing is final while nothing is written. */
	if (n->kind == N_RPC && f->slot == S_C_TAGS) {
		if (!final || !f->wlen)
			return 0;
		f->done = 1;
		return f->rc = write_tags(t, n, f);
	}
	is_src = f->slot == (n->kind == N_RPC ? S_C_SOURCE : S_P_SOURCE);
	names = n->kind == N_RPC ? (f->slot == S_C_ID || f->slot == S_C_JSON || is_src)
		: n->kind == N_RP ? (f->slot == S_P_ID || f->slot == S_P_JSON || is_src)
				  : 0;
	l = node_local(t, n);
	if (!names || l != L_PENDING)
		return 0; /* a view: absorbed */
	/* cp copying a copy writes the source's own source there: what is
	 * being copied is named by id and the JSON view, so whatever order cp
	 * writes in, its `source` is a view (another process may name it). */
	if (is_src && fresh_for(t, n, f->pid))
		return 0;
	id = written_id(f->wbuf ? f->wbuf : "", f->wlen, final);
	if (!id)
		return 0;
	f->done = 1;
	f->rc = name_source(t, n, id, is_src);
	free(id);
	return f->rc;
}

/* create (see tree.h). */
int tree_create(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		struct tree_attr *out, struct tree_file **fo)
{
	int slot, s = -1;
	struct tnode *n = node_of(t, parent, &slot);
	struct tree_file *f;

	memset(out, 0, sizeof(*out));
	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_ROOT && slot == S_RPFS && !strcmp(name, "flush")) {
		s = S_FLUSH;
	} else if (n->kind == N_RPC && slot == S_DIR) {
		s = fixed_slot(coll_files, name);
		if (s == S_C_ORIGIN)
			s = -1;
	} else if (n->kind == N_RP && slot == S_DIR) {
		s = fixed_slot(point_files, name);
		if (s == S_P_ORIGIN || s == S_P_DISKS)
			s = -1;
	} else if (n->kind == N_RP && slot == S_P_DISKS) {
		size_t l = strlen(name);

		if (l > 5 && !strcmp(name + l - 5, ".json"))
			s = S_P_ABSORB;
	}
	if (s < 0) {
		log_warn("create %s: not a file of this view (rpfs stores no data)", name);
		return -EPERM;
	}
	if (s == S_P_ABSORB || attr_of(t, n, s, D_CACHED, out) < 0)
		file_attr(out, mkino(n->idx, s), NULL, t->mount_time, 0, TREE_REG);
	/* The kernel keeps the name: a later lookup by the same cp (cp -a
	 * setting times) must not meet the absent view again. */
	out->entry_ttl = t->cfg.ttl;
	if (n->kind != N_ROOT && slot == S_DIR)
		set_made(t, n, s);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (n->kind == N_ROOT) {
		f->control = 1;
	} else {
		f->absorb = 1;
		f->slot = s;
		f->pid = pid;
	}
	f->direct_io = 1;
	*fo = f;
	return 0;
}

/* symlink (see tree.h). */
int tree_symlink(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	int slot;
	struct tnode *n = node_of(t, parent, &slot);

	memset(out, 0, sizeof(*out));
	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (slot != S_DIR || strcmp(name, "origin") || (n->kind != N_RPC && n->kind != N_RP)) {
		log_warn("symlink %s: not a link of this view", name);
		return -EPERM;
	}
	if (attr_of(t, n, n->kind == N_RPC ? S_C_ORIGIN : S_P_ORIGIN, D_CACHED, out) < 0)
		file_attr(out, mkino(n->idx, n->kind == N_RPC ? S_C_ORIGIN : S_P_ORIGIN), NULL,
			  t->mount_time, 0, TREE_LNK);
	out->entry_ttl = t->cfg.ttl;
	set_made(t, n, n->kind == N_RPC ? S_C_ORIGIN : S_P_ORIGIN);
	return 0;
}

/* unlink (see tree.h). */
int tree_unlink(struct tree *t, uint64_t parent, const char *name)
{
	int slot;
	struct tnode *n = node_of(t, parent, &slot);

	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if ((n->kind == N_RPC && slot == S_DIR && fixed_slot(coll_files, name) >= 0) ||
	    (n->kind == N_RP && slot == S_DIR && fixed_slot(point_files, name) >= 0) ||
	    (n->kind == N_RP && slot == S_P_DISKS))
		return 0;
	return -EPERM;
}

/* 1 when a copy whose source is src_id is still running (asks ARM). */
static int copy_running(struct tree *t, const char *src_id)
{
	for (;;) {
		char *rg = NULL, *rpc = NULL, *rp = NULL;
		struct cache_val *v = NULL;
		int done = 0, pct = 100;

		pthread_mutex_lock(&t->mlock);
		for (struct copy_rec *r = t->copies; r && !rg; r = r->next)
			if (same(r->source, src_id)) {
				rg = strdup(r->rg);
				rpc = strdup(r->rpc);
				rp = strdup(r->rp);
			}
		pthread_mutex_unlock(&t->mlock);
		if (!rg || !rpc || !rp) {
			free(rg);
			free(rpc);
			free(rp);
			return 0;
		}
		if (cache_rp_view(t->c, rg, rpc, rp, &v) == 0) {
			done = 1;
			for (size_t i = 0; i < v->rp->nprogress; i++)
				if (v->rp->progress[i].percent < pct)
					pct = v->rp->progress[i].percent;
			for (size_t i = 0; i < v->rp->nprogress; i++)
				if (pct < 100 || differ(v->rp->progress[i].status, "Succeeded"))
					done = 0;
			if (!v->rp->nprogress && !same(v->rp->state, "Failed"))
				done = 0;
			if (same(v->rp->state, "Failed"))
				done = 1;
		} else {
			done = 1; /* the copy is gone */
		}
		cache_put(v);
		if (!done) {
			free(rg);
			free(rpc);
			free(rp);
			return 1;
		}
		/* Finished: forget it and look at the next one. */
		pthread_mutex_lock(&t->mlock);
		for (struct copy_rec **pp = &t->copies; *pp; pp = &(*pp)->next)
			if (same((*pp)->source, src_id) && same((*pp)->rg, rg) &&
			    same((*pp)->rpc, rpc) && same((*pp)->rp, rp)) {
				struct copy_rec *r = *pp;

				*pp = r->next;
				copy_rec_free(r);
				break;
			}
		pthread_mutex_unlock(&t->mlock);
		free(rg);
		free(rpc);
		free(rp);
	}
}

/* rmdir (see tree.h). */
int tree_rmdir(struct tree *t, uint64_t parent, const char *name)
{
	int slot, rc;
	struct tnode *n = node_of(t, parent, &slot), *c;
	struct dctx d;

	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (slot == S_DIR && (c = local_child(t, n, name)) != NULL) {
		if (has_local_children(t, c))
			return -ENOTEMPTY;
		/* Exists only here: removed locally, nothing sent. */
		return set_local(t, c, L_NONE, NULL);
	}
	if (!t->cfg.allow_delete) {
		log_warn("rmdir %s: refused: deleting needs the mount option -o allow_delete", name);
		return -EPERM;
	}
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks"))
		return 0;
	if (slot != S_DIR)
		return -ENOTDIR;
	if (n->kind == N_RPC) {
		/* A restore point. */
		const struct arm_rp *p;
		char *pid = NULL;
		struct cache_mut m = {.op = CM_DELETE_RP};

		rc = rpc_data(t, n, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		p = find_point(&d, name);
		if (!p) {
			dctx_done(&d);
			return -ENOENT;
		}
		pid = strdup(p->id ? p->id : "");
		m.rg = d.rpc->rg;
		m.rpc = d.rpc->name;
		m.rp = p->name;
		if (pid && copy_running(t, pid)) {
			rc = refuse_op(t, "DELETE", pid, -EBUSY,
				       "the point is the source of a copy still running from this "
				       "mount");
		} else {
			pthread_rwlock_rdlock(&t->lock);
			c = find_child(t, n, p->name);
			pthread_rwlock_unlock(&t->lock);
			rc = send_mut_on(t, &m, c);
			if (rc == 0 && !t->cfg.dry_run)
				refresh_coll(t, d.rpc->rg, d.rpc->name, 0);
		}
		free(pid);
		dctx_done(&d);
		return rc;
	}
	if (n->kind == N_RG) {
		/* A collection: only when empty, as POSIX says. */
		struct cache_mut m = {.op = CM_DELETE_RPC};
		struct tree_attr a;

		rc = tree_lookup(t, mkino(n->idx, 0), name, &a);
		if (rc < 0)
			return rc;
		c = node_of(t, a.ino, &slot);
		if (!c || c->kind != N_RPC)
			return -ENOTDIR;
		if (has_local_children(t, c))
			return -ENOTEMPTY;
		rc = rpc_data(t, c, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		for (size_t i = 0; d.coll && d.coll->rpc && i < d.coll->rpc->npoints; i++)
			if (!same(d.coll->rpc->points[i].state, "Deleting"))
				rc = -ENOTEMPTY;
		if (rc == 0) {
			m.rg = d.rpc->rg;
			m.rpc = d.rpc->name;
			rc = send_mut(t, &m);
			if (rc == 0 && !t->cfg.dry_run)
				refresh_coll(t, d.rpc->rg, d.rpc->name, 1);
		}
		dctx_done(&d);
		return rc;
	}
	if (n->kind == N_REGION) {
		/* A resource group directory: nothing to delete in ARM; gone when empty. */
		struct cache_val *list = NULL;

		rc = get_list(t, D_FETCH, &list);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < list->n && rc == 0; i++)
			if (same(list->v[i]->location, n->name) && same(list->v[i]->rg, name))
				rc = -ENOTEMPTY;
		cache_put(list);
		return rc;
	}
	return -EPERM;
}

/* setattr (see tree.h). */
int tree_setattr(struct tree *t, uint64_t ino, int64_t size)
{
	int slot;
	struct tnode *n = node_of(t, ino, &slot);

	if (!n)
		return -ENOENT;
	if (n->kind == N_ROOT && slot == S_FLUSH && size >= 0)
		return 0;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_ROOT && slot != S_DIR)
		return -EPERM;
	if (size >= 0 && slot == S_DIR)
		return -EISDIR;
	return 0; /* views: modes, owners, times and sizes do not change */
}

/* setxattr (see tree.h). */
int tree_setxattr(struct tree *t, uint64_t ino, const char *name, const char *value, size_t len)
{
	int slot, rc;
	struct tnode *n = node_of(t, ino, &slot);
	char *v;

	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_ROOT && slot != S_DIR)
		return -EPERM;
	if (strcmp(name, "user.rpfs.source"))
		return 0; /* cp -a: ACLs and other attributes of a view */
	if ((n->kind != N_RPC && n->kind != N_RP) || slot != S_DIR)
		return -EPERM;
	if (node_local(t, n) != L_PENDING)
		return 0;
	v = strndup(value, len);
	if (!v)
		return -ENOMEM;
	while (len && isspace((unsigned char)v[len - 1]))
		v[--len] = '\0';
	rc = name_source(t, n, v, 1);
	free(v);
	return rc;
}

/* Refresh the percentages of the copies started here, dropping finished ones. */
static void copies_refresh(struct tree *t)
{
	size_t n = 0;
	struct copy_rec *r;
	char **keys;

	pthread_mutex_lock(&t->mlock);
	for (r = t->copies; r; r = r->next)
		n++;
	keys = calloc(n * 3 + 1, sizeof(*keys));
	n = 0;
	for (r = t->copies; keys && r; r = r->next) {
		keys[n++] = strdup(r->rg);
		keys[n++] = strdup(r->rpc);
		keys[n++] = strdup(r->rp);
	}
	pthread_mutex_unlock(&t->mlock);
	for (size_t i = 0; keys && i + 2 < n; i += 3) {
		struct cache_val *v = NULL;
		int pct = -1, done = 0;

		if (!keys[i] || !keys[i + 1] || !keys[i + 2])
			continue;
		if (cache_rp_view(t->c, keys[i], keys[i + 1], keys[i + 2], &v) == 0) {
			pct = 100;
			done = v->rp->nprogress > 0;
			for (size_t k = 0; k < v->rp->nprogress; k++) {
				if (v->rp->progress[k].percent < pct)
					pct = v->rp->progress[k].percent;
				if (differ(v->rp->progress[k].status, "Succeeded"))
					done = 0;
			}
			if (!v->rp->nprogress)
				pct = 0;
			if (pct < 100)
				done = 0;
			if (same(v->rp->state, "Failed"))
				done = 1;
		} else {
			done = 1;
		}
		cache_put(v);
		pthread_mutex_lock(&t->mlock);
		for (struct copy_rec **pp = &t->copies; *pp; pp = &(*pp)->next) {
			r = *pp;
			if (same(r->rg, keys[i]) && same(r->rpc, keys[i + 1]) &&
			    same(r->rp, keys[i + 2])) {
				r->percent = pct;
				if (done) {
					*pp = r->next;
					copy_rec_free(r);
				}
				break;
			}
		}
		pthread_mutex_unlock(&t->mlock);
	}
	for (size_t i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
}

/* .rpfs/copies: target id, source id, percent (as last seen). */
static int render_copies(struct tree *t, char **out)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&t->mlock);
	for (struct copy_rec *r = t->copies; r; r = r->next) {
		if (r->percent >= 0)
			fprintf(f, "%s %s %d\n", r->target, r->source, r->percent);
		else
			fprintf(f, "%s %s ?\n", r->target, r->source);
	}
	pthread_mutex_unlock(&t->mlock);
	if (fclose(f) != 0) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

/* ---- life cycle ------------------------------------------------------- */

/* Register the FUSE layer's invalidation functions. */
void tree_set_notify(struct tree *t, const struct tree_notify *n)
{
	pthread_rwlock_wrlock(&t->lock);
	t->nt = *n;
	pthread_rwlock_unlock(&t->lock);
}

/* The text of .rpfs/stats. */
int tree_render_stats(struct tree *t, char **out)
{
	return render_rpfs_file(t, S_STATS, out);
}

/* Number of nodes. */
size_t tree_node_count(struct tree *t)
{
	size_t n;

	pthread_rwlock_rdlock(&t->lock);
	n = t->nnodes;
	pthread_rwlock_unlock(&t->lock);
	return n;
}

/* Create the tree over a cache (takes cfg->locations). */
int tree_new(struct cache *c, struct tree_cfg *cfg, struct tree **out)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->c = c;
	t->cfg = *cfg;
	cfg->locations = NULL;
	cfg->nlocations = 0;
	if (!t->cfg.ttl)
		t->cfg.ttl = 1;
	t->config_text = strdup(cfg->config_text ? cfg->config_text : "");
	t->mount_time = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t->t0);
	t->nhash = 1024;
	t->hash = calloc(t->nhash, sizeof(*t->hash));
	pthread_rwlock_init(&t->lock, NULL);
	pthread_mutex_init(&t->mlock, NULL);
	pthread_cond_init(&t->mcond, NULL);
	t->cfg.consistency = cfg->consistency ? strdup(cfg->consistency) : NULL;
	t->ops = calloc(OPS_MAX, sizeof(*t->ops));
	if (t->config_text && t->hash && t->ops)
		t->root = node_alloc(t, NULL, "", N_ROOT);
	if (!t->root) {
		tree_free(t);
		return -ENOMEM;
	}
	cache_set_listener(c, on_change, t);
	*out = t;
	return 0;
}

/* Free the tree (the cache is not freed). */
void tree_free(struct tree *t)
{
	if (!t)
		return;
	if (t->c)
		cache_set_listener(t->c, NULL, NULL);
	for (size_t i = 0; i < t->nnodes; i++) {
		free(t->nodes[i]->src);
		free(t->nodes[i]);
	}
	free(t->nodes);
	free(t->locals);
	for (size_t i = 0; t->ops && i < OPS_MAX; i++)
		free(t->ops[i]);
	free(t->ops);
	copies_free(t);
	errs_free(t);
	free((char *)t->cfg.consistency);
	pthread_mutex_destroy(&t->mlock);
	pthread_cond_destroy(&t->mcond);
	free(t->hash);
	if (t->cfg.locations)
		arm_locations_free(t->cfg.locations, t->cfg.nlocations);
	free(t->config_text);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}
