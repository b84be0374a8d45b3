/*
 * tree.c - path and name to ARM resource, rendering of view files, listings.
 *
 * Why it is built this way:
 *  - The tree stores only what gives inode numbers their stability: one
 *    small node per region, resource group, collection and restore point,
 *    created the first time a name is resolved and kept for the life of
 *    the mount (FUSE forget is a no-op, numbers are never reused).  Files
 *    and fixed subdirectories are numbered (node << 8 | slot) and rendered
 *    on demand from the cached model, so a restore point costs one node.
 *  - What exists is always decided from the cache: region = physical
 *    locations plus any location a collection reports; resource groups and
 *    collections of a region = the ListAll answer; points and their files =
 *    the collection's $expand=restorePoints answer.  Nothing here copies
 *    ARM data, so a cache refresh is the only way the tree changes.
 *  - Lookups may fetch (that is where the kernel asks again after ttl);
 *    getattr and renders use whatever is cached, even expired, and fetch
 *    only when nothing is (stat never waits when anything is known).
 *  - Directory listings stay in the kernel's cache (FOPEN_CACHE_DIR) until
 *    rpfs invalidates them: tree_expire() drops those older than ttl, and
 *    the cache listener drops those whose content changed.
 *
 *  - Read-ahead of a recursive walk.  Listing a region prefetches its
 *    collections (in the background); a person looking at one region costs no more.
 *    But `ls -lR`, find, du, tar or cp -r of the whole mount would then wait
 *    for one burst of GETs per region, with the local work of the region
 *    before in between.  So when a walk of the whole mount is evident, every
 *    collection is queued at once, in walk order (region, resource group,
 *    name; max_conns workers).  Evident means a chain of fresh listings
 *    each started within WALK_GAP_MS of the previous one's end: the root,
 *    then a region (other regions, empty ones, may come between), then a
 *    resource group of that region.  Only a program goes that fast (typing
 *    or tab completion takes longer), a walk below one region never lists
 *    the root, and a plain `ls` of the mount lists nothing below it.  Each
 *    collection is still fetched once, so a cold `ls -lR` costs 1 + pages +
 *    collections requests.
 *
 *  - Mutations (mkdir, cp -r, rmdir, tags) are in tree_mut.c,
 *    whose top comment says how cp's calls become ARM requests.
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

#include "blocking.h"
#include "cache.h"
#include "disk.h"
#include "log.h"
#include "tags.h"
#include "tree.h"
#include "tree_int.h"

static const struct fixed_name rpfs_files[] = {
    {S_STATS, "stats"},	  {S_AUTH, "auth"},   {S_CONFIG, "config"},
    {S_ERRORS, "errors"}, {S_OPS, "ops"},     {S_COPIES, "copies"},
    {S_FLUSH, "flush"},	  {S_DISKS, "disks"}, {0, NULL}};
const struct fixed_name tree_coll_files[] = {{S_C_JSON, "collection.json"},
					     {S_C_ID, "id"},
					     {S_C_STATE, "state"},
					     {S_C_SOURCE, "source"},
					     {S_C_ORIGIN, "origin"},
					     {S_C_TAGS, "tags"},
					     {0, NULL}};
const struct fixed_name tree_point_files[] = {{S_P_JSON, "restorepoint.json"},
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

/* Split an inode into node index and slot. */
static void splitino(uint64_t ino, uint32_t *idx, int *slot)
{
	ino -= 1;
	*idx = (uint32_t)(ino >> SLOT_BITS);
	*slot = (int)(ino & (S_MAX - 1));
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
struct tnode *tree_find_child(struct tree *t, const struct tnode *parent, const char *name)
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
struct tnode *tree_node_get(struct tree *t, struct tnode *parent, const char *name, int kind)
{
	struct tnode *n;

	pthread_rwlock_wrlock(&t->lock);
	n = tree_find_child(t, parent, name);
	if (!n)
		n = node_alloc(t, parent, name, kind);
	pthread_rwlock_unlock(&t->lock);
	return n;
}

/* Node and slot of an inode; NULL when unknown. */
struct tnode *tree_node_of(struct tree *t, uint64_t ino, int *slot)
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

/* 1 when ino is a disk's bytes (disks/NAME.vhd). */
int tree_is_disk(struct tree *t, uint64_t ino)
{
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);

	return n && n->kind == N_RP && slot >= S_P_VHD0;
}

/* The inode of a directory's parent (the root's is the root). */
uint64_t tree_parent(struct tree *t, uint64_t ino)
{
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);

	if (!n)
		return TREE_ROOT_INO;
	if (slot != S_DIR) /* disks/, .rpfs/: inside the node's directory */
		return mkino(n->idx, S_DIR);
	return n->parent ? mkino(n->parent->idx, S_DIR) : TREE_ROOT_INO;
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

/* The resource-group node of a region, created with a stable spelling:
 * the resource groups API's (Compute's ids may spell a group in upper
 * case), else the first seen. */
static struct tnode *rg_node_get(struct tree *t, struct tnode *region, const char *name)
{
	struct tnode *n;
	char *canon = cache_rg_spelling(t->c, name);

	pthread_rwlock_wrlock(&t->lock);
	n = tree_find_child(t, region, name);
	if (!n)
		n = node_alloc(t, region, canon ? canon : rg_spelling(t, name), N_RG);
	pthread_rwlock_unlock(&t->lock);
	free(canon);
	return n;
}

/* Have the resource groups list (one ResourceGroups_List, kept for ttl)
 * before naming group directories: waited for only when none is cached
 * yet (an expired one is used while it is refreshed in the background, so
 * nothing known waits on the network); a failed list is asked again only
 * after ttl, and meanwhile groups are named as first seen. */
static void rgs_ready(struct tree *t)
{
	struct cache_val *v = NULL;
	struct timespec ts;
	int64_t now;

	if (cache_rgs(t->c, CACHE_NOFETCH, &v) == 0) {
		cache_put(v);
		cache_prefetch_rgs(t->c);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec;
	if (__atomic_load_n(&t->rgs_retry_at, __ATOMIC_RELAXED) > now)
		return;
	if (cache_rgs(t->c, CACHE_FETCH, &v) == 0) {
		cache_put(v);
		return;
	}
	__atomic_store_n(&t->rgs_retry_at, now + (t->cfg.ttl ? t->cfg.ttl : 60), __ATOMIC_RELAXED);
}

/* ---- small helpers ---------------------------------------------------- */

/* Read exactly n digits at *p into *v; advances *p.  0, or -EINVAL. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -EINVAL;
		x = x * 10 + (**p - '0');
	}
	*v = x;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Parse an ISO 8601 time as ARM gives it ("2026-11-25T10:00:00.1234567+00:00").
 * Hand-written: a listing of a collection asks it once per point. */
int tree_parse_time(const char *iso, time_t *out)
{
	int y, mo, d, h, mi, s, oh = 0, om = 0;
	const char *p = iso;
	long off = 0;

	if (!p || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &s))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 60)
		return -EINVAL;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-') {
		const char *q = p + 1;

		if (digits(&q, 2, &oh))
			return -EINVAL;
		if (*q == ':')
			q++;
		if (isdigit((unsigned char)*q) && digits(&q, 2, &om))
			return -EINVAL;
		off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
	}
	*out = (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + s) - off;
	return 0;
}

/* malloc'ed printf. */
char *tree_asprintf(const char *fmt, ...)
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
char *tree_line(const char *s)
{
	return tree_asprintf("%s\n", s ? s : "");
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

/* Drop the references of a dctx. */
void tree_dctx_done(struct dctx *d)
{
	cache_put(d->list);
	cache_put(d->coll);
	memset(d, 0, sizeof(*d));
}

/* The ListAll answer: D_CACHED takes any cached one, else fetches. */
int tree_get_list(struct tree *t, enum dmode m, struct cache_val **out)
{
	int rc = -EAGAIN;

	if (m != D_FETCH)
		rc = cache_list(t->c, CACHE_NOFETCH, out);
	if (rc == -EAGAIN && m != D_NOFETCH)
		rc = cache_list(t->c, CACHE_FETCH, out);
	return rc;
}

/* A collection with its points, same modes. */
int tree_get_coll(struct tree *t, const char *rg, const char *name, enum dmode m,
		  struct cache_val **out)
{
	int rc = -EAGAIN;

	if (m != D_FETCH)
		rc = cache_coll(t->c, rg, name, CACHE_NOFETCH, out);
	if (rc == -EAGAIN && m != D_NOFETCH)
		rc = cache_coll(t->c, rg, name, CACHE_FETCH, out);
	return rc;
}

/*
 * Resolve a collection node: it must be in the ListAll answer under its
 * region (that answer decides existence), and its points come from the
 * expanded GET.  need_points = 0 accepts the list's data alone.
 */
int tree_rpc_data(struct tree *t, const struct tnode *n, enum dmode m, int need_points,
		  struct dctx *d)
{
	const char *region = n->parent->parent->name, *rg = n->parent->name;
	const struct arm_rpc *base;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = tree_get_list(t, m, &d->list);
	if (rc < 0)
		return rc;
	base = cache_list_find(d->list, rg, n->name);
	if (!base || !same(base->location, region) || same(base->state, "Deleting")) {
		tree_dctx_done(d);
		return -ENOENT;
	}
	d->rpc = base;
	rc = tree_get_coll(t, base->rg, base->name, need_points || m == D_NOFETCH ? m : D_CACHED,
			   &d->coll);
	if (rc == 0 && d->coll->rpc && same(d->coll->rpc->location, region)) {
		d->rpc = d->coll->rpc;
	} else if (rc == -ENOENT) {
		tree_dctx_done(d);
		return -ENOENT;
	} else if (rc < 0 && need_points) {
		tree_dctx_done(d);
		return rc;
	}
	return 0;
}

/* The point named name in a resolved collection (Deleting points are hidden). */
const struct arm_rp *tree_find_point(const struct dctx *d, const char *name)
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
	int rc = tree_rpc_data(t, n->parent, m, 1, d);

	if (rc < 0)
		return rc;
	d->rp = tree_find_point(d, n->name);
	if (!d->rp) {
		tree_dctx_done(d);
		return -ENOENT;
	}
	return 0;
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
		s = tree_asprintf("../../../%s/%s/%s", loc, id->rg, id->rpc);
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
		s = tree_asprintf("../../../../%s/%s/%s/%s%s", loc, id->rg, id->rpc, id->rp,
				  fixed_slot(tree_coll_files, id->rp) >= 0 ? POINT_ALIAS : "");
out:
	free(id);
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
		s = tree_line(r->id);
		break;
	case S_C_STATE:
		s = tree_line(r->state);
		break;
	case S_C_SOURCE:
		s = tree_line(r->source_id);
		break;
	case S_C_ORIGIN:
		s = origin_rpc(d);
		if (!s)
			return -ENOENT;
		break;
	case S_C_TAGS:
		s = tags_render(r->tags, r->ntags);
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
		return arm_rp_json(p, out);
	case S_P_ID:
		s = tree_line(p->id);
		break;
	case S_P_STATE:
		s = tree_line(p->state);
		break;
	case S_P_CONS:
		s = tree_line(p->consistency);
		break;
	case S_P_CREATED:
		s = tree_line(p->time_created);
		break;
	case S_P_SOURCE:
		if (!copy)
			return -ENOENT;
		s = tree_line(p->source_rp_id);
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
		s = tree_asprintf("ProvisioningFailed: restore point %s is in state Failed\n",
				  p->name ? p->name : "");
		break;
	default:
		if (slot >= S_P_DISK0 && slot < S_P_VHD0 && (size_t)(slot - S_P_DISK0) < p->ndisks)
			return arm_rp_disk_json(p, (size_t)(slot - S_P_DISK0), out);
		return -ENOENT;
	}
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

/* Length of restorepoint.json (S_P_JSON) or a disk's NAME.json, as
 * render_point_file would render it. */
static int point_json_len(const struct arm_rp *p, int slot, size_t *len)
{
	if (slot == S_P_JSON)
		*len = p->json_len;
	else if (slot >= S_P_DISK0 && slot < S_P_VHD0 && (size_t)(slot - S_P_DISK0) < p->ndisks)
		*len = p->disks[slot - S_P_DISK0].json_len;
	else
		return -ENOENT;
	return 0;
}

/* .rpfs/stats lines of the disk module ("" without one); caller frees. */
static char *disk_stats_text(struct tree *t)
{
	char *s = NULL;

	if (t->cfg.disks && disks_render_stats(t->cfg.disks, &s) == 0)
		return s;
	return strdup("");
}

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
		{
			char *ds = disk_stats_text(t);

			s = ds ? tree_asprintf("%stree_nodes %zu\n%s", a, tree_node_count(t), ds)
			       : NULL;
			free(ds);
		}
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
		return tree_render_ops(t, out);
	case S_COPIES:
		return tree_render_copies(t, out);
	case S_FLUSH:
		*out = strdup("");
		break;
	case S_DISKS:
		if (t->cfg.disks)
			return disks_render(t->cfg.disks, out);
		*out = strdup("");
		break;
	default:
		return -ENOENT;
	}
	return *out ? 0 : -ENOMEM;
}

/* ---- attributes ------------------------------------------------------- */

/* Attributes of a directory. */
void tree_dir_attr(struct tree_attr *a, uint64_t ino, time_t mtime, double ttl)
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
void tree_file_attr(struct tree_attr *a, uint64_t ino, char *s, time_t mtime, double ttl,
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

/* Attributes of slot in a resolved collection whose mtime is mt. */
static int coll_slot_attr_mt(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			     time_t mt, struct tree_attr *a)
{
	char *s = NULL;
	int rc = render_coll_file(t, d, slot, &s);

	if (rc < 0)
		return rc;
	tree_file_attr(a, mkino(n->idx, slot), s, mt, t->cfg.ttl,
		       slot == S_C_ORIGIN ? TREE_LNK : TREE_REG);
	return 0;
}

/* Attributes of slot in a resolved collection. */
static int coll_slot_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			  struct tree_attr *a)
{
	return coll_slot_attr_mt(t, n, d, slot, rpc_mtime(t, d), a);
}

/* Attributes of disks/NAME.vhd (slot S_P_VHD0 + i): diskSizeGB x 2^30 +
 * 512 from the point, or what opening it learned (the blob's size, its
 * allocated blocks); no blocks before that (a view stores nothing, and
 * cp looks for holes). */
static int vhd_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
		    time_t mt, double ttl, struct tree_attr *a)
{
	size_t i = (size_t)(slot - S_P_VHD0);
	const struct arm_disk *k;
	uint64_t size, alloc;

	if (i >= d->rp->ndisks || !d->rp->disks[i].has_drp)
		return -ENOENT;
	k = &d->rp->disks[i];
	tree_file_attr(a, mkino(n->idx, slot), NULL, mt, ttl, TREE_REG);
	/* A whole disk of a backup: the owner and the group read it (with
	 * default_permissions, gid= names who else may). */
	a->perm = 0440;
	a->size = k->size_gb >= 0 ? ((uint64_t)k->size_gb << 30) + 512 : 0;
	a->blocks_set = 1;
	if (disks_attr(t->cfg.disks, mkino(n->idx, slot), &size, &alloc) == 0) {
		a->size = size;
		a->blocks = (alloc + 511) / 512;
	}
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
		tree_dir_attr(a, mkino(n->idx, slot), mt, ttl);
		return 0;
	}
	if (slot >= S_P_VHD0)
		return vhd_attr(t, n, d, slot, mt, ttl, a);
	if (slot == S_P_PROGRESS) {
		if (!d->rp->source_rp_id)
			return -ENOENT;
		tree_file_attr(a, mkino(n->idx, slot), NULL, mt, 0, TREE_REG);
		pthread_rwlock_rdlock(&t->lock);
		a->size = RP_AUX_PLEN(n->aux);
		pthread_rwlock_unlock(&t->lock);
		a->entry_ttl = ttl;
		return 0;
	}
	if (slot == S_P_JSON || slot >= S_P_DISK0) {
		/* The JSON views: their length without copying them. */
		size_t len;

		rc = point_json_len(d->rp, slot, &len);
		if (rc < 0)
			return rc;
		tree_file_attr(a, mkino(n->idx, slot), NULL, mt, ttl, TREE_REG);
		a->size = len;
		return 0;
	}
	if (slot == S_P_ERROR && (s = tree_node_error(t, n)) != NULL) {
		rc = 0;
	} else if (slot == S_P_ERROR && same(d->rp->state, "Failed")) {
		/* from the instance view, direct I/O like progress: the length
		 * of the last content read (0 before the first read) */
		tree_file_attr(a, mkino(n->idx, slot), NULL, mt, 0, TREE_REG);
		pthread_rwlock_rdlock(&t->lock);
		a->size = RP_AUX_ELEN(n->aux);
		pthread_rwlock_unlock(&t->lock);
		a->entry_ttl = ttl;
		return 0;
	} else {
		rc = render_point_file(d, slot, &s);
	}
	if (rc < 0)
		return rc;
	tree_file_attr(a, mkino(n->idx, slot), s, mt, ttl,
		       slot == S_P_ORIGIN ? TREE_LNK : TREE_REG);
	return 0;
}

/* Attributes of a .rpfs slot. */
static int rpfs_slot_attr(struct tree *t, int slot, struct tree_attr *a)
{
	char *s = NULL;
	int rc;

	if (slot == S_RPFS) {
		tree_dir_attr(a, mkino(0, S_RPFS), t->mount_time, t->cfg.ttl);
		return 0;
	}
	rc = render_rpfs_file(t, slot, &s);
	if (rc < 0)
		return rc;
	tree_file_attr(a, mkino(0, slot), s, time(NULL), 0, TREE_REG);
	a->entry_ttl = t->cfg.ttl;
	a->perm = slot == S_FLUSH ? 0200 : 0444;
	return 0;
}

/* Attributes of any inode, using data resolved in mode m. */
int tree_attr_of(struct tree *t, struct tnode *n, int slot, enum dmode m, struct tree_attr *a)
{
	struct dctx d;
	int rc = 0;

	switch (n->kind) {
	case N_ROOT:
		if (slot == S_DIR) {
			tree_dir_attr(a, TREE_ROOT_INO, t->mount_time, t->cfg.ttl);
			return 0;
		}
		return rpfs_slot_attr(t, slot, a);
	case N_REGION:
	case N_RG:
		if (slot != S_DIR)
			return -ENOENT;
		tree_dir_attr(a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		return 0;
	case N_RPC:
		if (tree_node_local(t, n))
			return tree_local_attr(t, n, slot, a);
		rc = tree_rpc_data(t, n, m, 1, &d);
		if (rc < 0)
			return rc;
		if (slot == S_DIR)
			tree_dir_attr(a, mkino(n->idx, 0), rpc_mtime(t, &d), t->cfg.ttl);
		else
			rc = coll_slot_attr(t, n, &d, slot, a);
		tree_dctx_done(&d);
		return rc;
	case N_RP:
		if (tree_node_local(t, n))
			return tree_local_attr(t, n, slot, a);
		rc = rp_data(t, n, m, &d);
		if (rc < 0)
			return rc;
		if (slot == S_DIR)
			tree_dir_attr(a, mkino(n->idx, 0), rp_mtime(t, d.rp),
				      rp_busy(d.rp) ? t->cfg.busy_ttl : t->cfg.ttl);
		else
			rc = point_slot_attr(t, n, &d, slot, a);
		tree_dctx_done(&d);
		return rc;
	}
	return -ENOENT;
}

/* 1 when cp copying a collection or point writes view slot vs: the source
 * of a copy is never a copy itself, so it has no origin, and its points
 * have no source, progress or error (only Succeeded points are copied);
 * those names stay visible to the copying process (a script that copies a
 * point with shutil.copytree and then reads its progress finds it). */
static int cp_writes(int kind, int vs)
{
	if (kind == N_RPC)
		return vs != S_C_ORIGIN;
	return vs != S_P_ORIGIN && vs != S_P_SOURCE && vs != S_P_PROGRESS && vs != S_P_ERROR;
}

/* 1 while a process fills directory n (cp -r into a directory it made). */
static int tree_filled(struct tree *t, struct tnode *n)
{
	int r;

	pthread_mutex_lock(&t->mlock);
	r = n->fresh_pid && mount_secs(t) < n->fresh_until;
	pthread_mutex_unlock(&t->mlock);
	return r;
}

/* Attributes of a known inode (cached data, fetched only when none). */
int tree_getattr(struct tree *t, uint64_t ino, struct tree_attr *out)
{
	struct tree_attr dir;
	int slot, rc;
	struct tnode *n = tree_node_of(t, ino, &slot);

	if (!n)
		return -ENOENT;
	rc = tree_attr_of(t, n, slot, D_CACHED, out);
	if (rc == -ENOENT && slot != S_DIR && (n->kind == N_RPC || n->kind == N_RP) &&
	    tree_attr_of(t, n, S_DIR, D_CACHED, &dir) == 0) {
		/* A file cp created that this view does not show (yet): empty. */
		tree_file_attr(out, ino, NULL, dir.mtime, 0, TREE_REG);
		rc = 0;
	} else if (rc == -ENOENT && (n->kind == N_RPC || n->kind == N_RP) && tree_filled(t, n)) {
		/* cp is filling it, and a refresh that raced its PUT does not
		 * show it yet: its fstat of what it made must not fail. */
		if (slot == S_DIR)
			tree_dir_attr(out, ino, t->mount_time, 0);
		else
			tree_file_attr(out, ino, NULL, t->mount_time, 0, TREE_REG);
		rc = 0;
	}
	return rc;
}

/* ---- lookup ----------------------------------------------------------- */

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
		rc = tree_get_list(t, D_FETCH, &list);
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
	n = tree_node_get(t, t->root, spelled, N_REGION);
	cache_put(list);
	if (!n)
		return -ENOMEM;
	tree_dir_attr(out, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
	return 0;
}

/*
 * The ListAll answer for a lookup: the cached one, even expired (then
 * refreshed in the background), when known(list) finds the name in it, so
 * a known path never waits on the network (doc/DESIGN.md, The tree); else a fetched one.
 */
static int lookup_list(struct tree *t, int (*known)(const struct cache_val *, const void *),
		       const void *arg, struct cache_val **out)
{
	int rc = cache_list(t->c, CACHE_NOFETCH, out);

	if (rc == 0 && known(*out, arg)) {
		cache_prefetch(t->c, NULL, NULL);
		return 0;
	}
	if (rc == 0)
		cache_put(*out);
	*out = NULL;
	return tree_get_list(t, D_FETCH, out);
}

struct lookup_key {
	const char *rg, *name;
};

/* 1 when the list holds a collection in this resource group (any region). */
static int list_has_rg(const struct cache_val *list, const void *arg)
{
	const struct lookup_key *k = arg;

	for (size_t i = 0; i < list->n; i++)
		if (same(list->v[i]->rg, k->rg))
			return 1;
	return 0;
}

/* 1 when the list shows this collection under its region and group. */
static int list_has_rpc(const struct cache_val *list, const void *arg)
{
	const struct lookup_key *k = arg;

	return cache_list_find(list, k->rg, k->name) != NULL;
}

/* Look up a resource group in a region: listed ones, else the RG API. */
static int lookup_rg(struct tree *t, struct tnode *region, const char *name, struct tree_attr *out)
{
	struct cache_val *list = NULL, *rgv = NULL;
	const char *spelled = NULL;
	struct tnode *n;
	struct lookup_key k = {name, NULL};
	int rc;

	rc = lookup_list(t, list_has_rg, &k, &list);
	if (rc < 0)
		return rc;
	rgs_ready(t);
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
	tree_dir_attr(out, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
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
	struct lookup_key k = {rgn->name, name};
	int rc;

	rc = lookup_list(t, list_has_rpc, &k, &list);
	if (rc < 0)
		return rc;
	r = cache_list_find(list, rgn->name, name);
	if (!r || !same(r->location, rgn->parent->name) || same(r->state, "Deleting")) {
		cache_put(list);
		return -ENOENT;
	}
	n = tree_node_get(t, rgn, r->name, N_RPC);
	/* Known: its cached answer now, a fresh one in the background. */
	cache_prefetch(t->c, r->rg, r->name);
	cache_put(list);
	if (!n)
		return -ENOMEM;
	return tree_attr_of(t, n, S_DIR, D_CACHED, out);
}

/* Resolve name in directory parent (may fetch). */
int tree_lookup(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	return tree_lookup_pid(t, parent, name, 0, out);
}

static int lookup_pid(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		      struct tree_attr *out);
static int lookup_in_rpc(struct tree *t, struct tnode *n, const char *name, enum dmode m,
			 struct tree_attr *out);
static int lookup_in_rp(struct tree *t, struct tnode *n, int slot, const char *name, enum dmode m,
			struct tree_attr *out);

/*
 * Resolve name for process pid (see tree.h).  In a directory that cp is
 * filling, another process (ls -lR) sees the views, but the kernel keeps no
 * entry for them: cp's own O_CREAT|O_EXCL must reach rpfs, not meet EEXIST.
 */
int tree_lookup_pid(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		    struct tree_attr *out)
{
	int slot, rc = lookup_pid(t, parent, name, pid, out);
	struct tnode *n;

	if (rc == 0 && (n = tree_node_of(t, parent, &slot)) != NULL &&
	    (n->kind == N_RPC || n->kind == N_RP) && tree_filled(t, n))
		out->entry_ttl = 0;
	return rc;
}

/* tree_lookup_pid's work. */
static int lookup_pid(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		      struct tree_attr *out)
{
	int slot, rc, s;
	struct tnode *n = tree_node_of(t, parent, &slot), *child;

	memset(out, 0, sizeof(*out));
	out->entry_ttl = t->cfg.neg_ttl;
	if (!n)
		return -ENOENT;
	if ((n->kind == N_RPC || n->kind == N_RP) && tree_fresh_for(t, n, pid)) {
		/* cp creating the children of a directory it has just made. */
		int vs = slot == S_P_DISKS  ? S_P_ABSORB
			 : n->kind == N_RPC ? fixed_slot(tree_coll_files, name)
					    : fixed_slot(tree_point_files, name);
		if (vs >= 0 && cp_writes(n->kind, vs) &&
		    !(slot == S_DIR && tree_made_here(t, n, vs))) {
			out->entry_ttl = 0;
			return -ENOENT;
		}
	}
	if ((n->kind == N_RG || n->kind == N_RPC) && slot == S_DIR &&
	    (child = tree_local_child(t, n, name)) != NULL)
		return tree_local_attr(t, child, S_DIR, out);
	if ((n->kind == N_RPC || n->kind == N_RP) && tree_node_local(t, n)) {
		if (n->kind == N_RPC && slot == S_DIR)
			s = fixed_slot(tree_coll_files, name);
		else if (n->kind == N_RP && slot == S_DIR)
			s = fixed_slot(tree_point_files, name);
		else
			s = -1;
		rc = s < 0 ? -ENOENT : tree_local_attr(t, n, s, out);
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
		rc = lookup_in_rpc(t, n, name, D_CACHED, out);
		if (rc != -ENOENT)
			break;
		rc = lookup_in_rpc(t, n, name, D_FETCH, out);
		break;
	case N_RP:
		rc = lookup_in_rp(t, n, slot, name, D_CACHED, out);
		if (rc != -ENOENT)
			break;
		rc = lookup_in_rp(t, n, slot, name, D_FETCH, out);
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

/* Start a background refresh of what a resolved collection came from
 * (nothing when it is fresh or already being fetched). */
static void refresh_bg(struct tree *t, const struct dctx *d)
{
	cache_prefetch(t->c, NULL, NULL);
	if (d->rpc && d->rpc->rg && d->rpc->name)
		cache_prefetch(t->c, d->rpc->rg, d->rpc->name);
}

/*
 * Look up name in collection n using data resolved in mode m.  D_CACHED
 * answers a name the cached (even expired) answers hold, and refreshes
 * them in the background: a known path never waits on the network
 * (doc/DESIGN.md, The tree); a name they do not hold is the caller's cue to fetch.
 */
static int lookup_in_rpc(struct tree *t, struct tnode *n, const char *name, enum dmode m,
			 struct tree_attr *out)
{
	struct tnode *child;
	struct dctx d;
	int rc, s;

	rc = tree_rpc_data(t, n, m, 1, &d);
	if (rc < 0)
		return rc;
	s = fixed_slot(tree_coll_files, name);
	if (s >= 0) {
		rc = coll_slot_attr(t, n, &d, s, out);
	} else {
		char buf[300];
		const struct arm_rp *p = tree_find_point(&d, point_name(name, buf, sizeof(buf)));

		rc = -ENOENT;
		if (p) {
			child = tree_node_get(t, n, p->name, N_RP);
			if (!child) {
				rc = -ENOMEM;
			} else {
				tree_dir_attr(out, mkino(child->idx, 0), rp_mtime(t, p),
					      rp_busy(p) ? t->cfg.busy_ttl : t->cfg.ttl);
				rc = 0;
			}
		}
	}
	if (rc == 0 && m == D_CACHED)
		refresh_bg(t, &d);
	tree_dctx_done(&d);
	return rc;
}

/* Look up name in point n (slot: the point or its disks/), as lookup_in_rpc. */
static int lookup_in_rp(struct tree *t, struct tnode *n, int slot, const char *name, enum dmode m,
			struct tree_attr *out)
{
	struct dctx d;
	int rc, s;

	rc = rp_data(t, n, m, &d);
	if (rc < 0)
		return rc;
	if (slot == S_DIR) {
		s = fixed_slot(tree_point_files, name);
		rc = s < 0 ? -ENOENT : point_slot_attr(t, n, &d, s, out);
	} else if (slot == S_P_DISKS) {
		rc = -ENOENT;
		for (size_t i = 0; i < d.rp->ndisks && i < TREE_MAX_DISKS; i++) {
			const char *dn = d.rp->disks[i].name ? d.rp->disks[i].name : "disk";
			size_t len = strlen(dn);

			if (strncasecmp(dn, name, len))
				continue;
			if (!strcasecmp(name + len, ".json")) {
				rc = point_slot_attr(t, n, &d, S_P_DISK0 + (int)i, out);
				break;
			}
			if (!strcasecmp(name + len, ".vhd")) {
				rc = point_slot_attr(t, n, &d, S_P_VHD0 + (int)i, out);
				break;
			}
		}
	} else {
		rc = -ENOTDIR;
	}
	if (rc == 0 && m == D_CACHED)
		refresh_bg(t, &d);
	tree_dctx_done(&d);
	return rc;
}

/* ---- listings --------------------------------------------------------- */

/* Append an entry (name copied). */
void tree_dl_add(struct dlist *l, const char *name, const struct tree_attr *a)
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

/* Drop the repeats of a sorted listing (ARM may return a resource twice,
 * on one page or on overlapping pages): each name is listed once. */
static void dedup_dirents(struct dlist *l)
{
	size_t w = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (w && !strcmp(l->v[w - 1].name, l->v[i].name)) {
			free(l->v[i].name);
			continue;
		}
		l->v[w++] = l->v[i];
	}
	l->n = w;
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
	tree_dl_add(l, ".rpfs", &a);
	if (m == D_FETCH) /* the groups' spelling, alongside ListAll */
		cache_prefetch_rgs(t->c);
	for (size_t i = 0; i < t->cfg.nlocations; i++) {
		n = tree_node_get(t, t->root, t->cfg.locations[i].name, N_REGION);
		if (!n)
			return -ENOMEM;
		tree_dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		tree_dl_add(l, n->name, &a);
	}
	rc = tree_get_list(t, m, &list);
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
		n = tree_node_get(t, t->root, loc, N_REGION);
		if (!n)
			break;
		tree_dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		tree_dl_add(l, n->name, &a);
	}
	cache_put(list);
	return 0;
}

/* Walk order of collections: region, resource group, name (as ls -R in
 * the C locale reaches them). */
static int cmp_walk(const void *a, const void *b)
{
	const struct arm_rpc *x = *(const struct arm_rpc *const *)a;
	const struct arm_rpc *y = *(const struct arm_rpc *const *)b;
	int c = strcasecmp(x->location ? x->location : "", y->location ? y->location : "");

	if (!c) /* one directory for every spelling of a resource group */
		c = strcasecmp(x->rg ? x->rg : "", y->rg ? y->rg : "");
	return c ? c : strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Queue fetches of the collections v (n of them) in walk order, the order
 * in which ls -R, find or cp -r reach them; with first, ahead of what is
 * queued already. */
static void prefetch_in_walk_order(struct tree *t, const struct arm_rpc **v, size_t n, int first)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_walk);
	for (size_t i = 0; i < n; i++) {
		if (first) /* each goes to the head: the last one first */
			cache_prefetch_first(t->c, v[n - 1 - i]->rg, v[n - 1 - i]->name);
		else
			cache_prefetch(t->c, v[i]->rg, v[i]->name);
	}
}

/* Region: its resource groups; starts fetching its collections. */
static int list_region(struct tree *t, struct tnode *region, enum dmode m, struct dlist *l)
{
	struct cache_val *list = NULL;
	struct tree_attr a;
	const struct arm_rpc **pf = NULL;
	size_t npf = 0;
	int rc = tree_get_list(t, m, &list);

	if (rc < 0)
		return rc;
	if (m == D_FETCH)
		rgs_ready(t);
	if (m == D_FETCH && list->n)
		pf = malloc(list->n * sizeof(*pf));
	for (size_t i = 0; i < list->n; i++) {
		const struct arm_rpc *r = list->v[i];
		struct tnode *n;
		int dup = 0;

		if (!same(r->location, region->name) || !r->rg || same(r->state, "Deleting"))
			continue;
		if (pf)
			pf[npf++] = r;
		for (size_t j = 0; j < l->n && !dup; j++)
			dup = same(l->v[j].name, r->rg);
		if (dup)
			continue;
		n = rg_node_get(t, region, r->rg);
		if (!n)
			break;
		tree_dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		tree_dl_add(l, n->name, &a);
	}
	prefetch_in_walk_order(t, pf, npf, 0);
	free(pf);
	cache_put(list);
	return 0;
}

/* Wait until the collections v (n, in the order they are fetched) are
 * fetched, op_timeout at most, so that a listing answers in time: what has
 * not arrived by then is listed from the ListAll answer while its fetch
 * goes on.  0, or -EINTR when the caller gave up. */
static int wait_fetched(struct tree *t, const struct arm_rpc **v, size_t n)
{
	struct timespec ts;
	long long end;
	size_t i = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 +
	      1000LL * (t->cfg.op_timeout ? t->cfg.op_timeout : 30);
	for (;;) {
		while (i < n && (cache_fresh(t->c, v[i]->rg, v[i]->name) ||
				 !cache_pending(t->c, v[i]->rg, v[i]->name)))
			i++;
		if (i == n)
			return 0;
		if (blocking_cancelled())
			return -EINTR;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 >= end) {
			log_info("listing: %zu of %zu collections still being fetched after "
				 "op_timeout: listed from the list of collections",
				 n - i, n);
			return 0;
		}
		blocking_begin();
		nanosleep(&(struct timespec){0, 20 * 1000000L}, NULL);
	}
}

/* Resource group: its collections in this region, with their points' mtimes. */
static int list_rg(struct tree *t, struct tnode *rgn, enum dmode m, struct dlist *l)
{
	struct cache_val *list = NULL;
	struct tree_attr a;
	enum dmode em = m; /* how each collection is read */
	int rc = tree_get_list(t, m, &list);

	if (rc < 0)
		return rc;
	if (m == D_FETCH && list->n) {
		/* this listing waits for them: ahead of a region's read-ahead */
		const struct arm_rpc **pf = malloc(list->n * sizeof(*pf));
		size_t npf = 0;

		for (size_t i = 0; pf && i < list->n; i++)
			if (same(list->v[i]->location, rgn->parent->name) &&
			    same(list->v[i]->rg, rgn->name))
				pf[npf++] = list->v[i];
		prefetch_in_walk_order(t, pf, npf, 1);
		if (pf) {
			rc = wait_fetched(t, pf, npf);
			em = D_NOFETCH;
		}
		free(pf);
		if (rc < 0) {
			cache_put(list);
			return rc;
		}
	}
	for (size_t i = 0; i < list->n; i++) {
		const struct arm_rpc *r = list->v[i];
		struct tnode *n;
		struct dctx d;

		if (!same(r->location, rgn->parent->name) || !same(r->rg, rgn->name) ||
		    same(r->state, "Deleting"))
			continue;
		n = tree_node_get(t, rgn, r->name, N_RPC);
		if (!n)
			break;
		if (tree_rpc_data(t, n, em, 1, &d) == 0) {
			tree_dir_attr(&a, mkino(n->idx, 0), rpc_mtime(t, &d), t->cfg.ttl);
			tree_dctx_done(&d);
		} else {
			tree_dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.neg_ttl);
		}
		tree_dl_add(l, n->name, &a);
	}
	cache_put(list);
	return 0;
}

/* Collection: its view files and its points. */
static int list_rpc(struct tree *t, struct tnode *n, enum dmode m, struct dlist *l)
{
	struct tree_attr a;
	time_t mt;
	struct dctx d;
	int rc = tree_rpc_data(t, n, m, 1, &d);

	if (rc < 0)
		return rc;
	mt = rpc_mtime(t, &d);
	for (const struct fixed_name *f = tree_coll_files; f->name; f++)
		if (coll_slot_attr_mt(t, n, &d, f->slot, mt, &a) == 0)
			tree_dl_add(l, f->name, &a);
	for (size_t i = 0; d.coll && d.coll->rpc && i < d.coll->rpc->npoints; i++) {
		const struct arm_rp *p = &d.coll->rpc->points[i];
		struct tnode *c;

		if (!p->name || same(p->state, "Deleting"))
			continue;
		c = tree_node_get(t, n, p->name, N_RP);
		if (!c)
			break;
		tree_dir_attr(&a, mkino(c->idx, 0), rp_mtime(t, p),
			      rp_busy(p) ? t->cfg.busy_ttl : t->cfg.ttl);
		if (fixed_slot(tree_coll_files, c->name) >= 0) {
			char alias[300];

			snprintf(alias, sizeof(alias), "%s" POINT_ALIAS, c->name);
			tree_dl_add(l, alias, &a);
		} else {
			tree_dl_add(l, c->name, &a);
		}
	}
	tree_dctx_done(&d);
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
		for (const struct fixed_name *f = tree_point_files; f->name; f++)
			if (point_slot_attr(t, n, &d, f->slot, &a) == 0)
				tree_dl_add(l, f->name, &a);
	} else {
		for (size_t i = 0; i < d.rp->ndisks && i < TREE_MAX_DISKS; i++) {
			const char *dn = d.rp->disks[i].name ? d.rp->disks[i].name : "disk";
			char fn[300];

			snprintf(fn, sizeof(fn), "%s.json", dn);
			if (point_slot_attr(t, n, &d, S_P_DISK0 + (int)i, &a) == 0)
				tree_dl_add(l, fn, &a);
			snprintf(fn, sizeof(fn), "%s.vhd", dn);
			if (point_slot_attr(t, n, &d, S_P_VHD0 + (int)i, &a) == 0)
				tree_dl_add(l, fn, &a);
		}
	}
	tree_dctx_done(&d);
	return 0;
}

/* ---- read-ahead of a recursive walk (top comment) --------------------- */

#define WALK_GAP_MS 250 /* longest pause between two listings of one walk */
enum { WALK_NONE, WALK_ROOT, WALK_REGION, WALK_ALL };

/* Milliseconds on the monotonic clock. */
static int64_t walk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh listing of node (slot) starts: 1 when it shows that the whole
 * mount is being walked, the first time it does. */
static int walk_note_start(struct tree *t, const struct tnode *node, int slot)
{
	int64_t now = walk_now_ms();
	int quick, all = 0;

	if (node->kind == N_ROOT && slot != S_DIR)
		return 0; /* .rpfs: find walks it between the root and the regions */
	pthread_mutex_lock(&t->walk_lock);
	quick = t->walk_end_ms && now - t->walk_end_ms <= WALK_GAP_MS;
	switch (node->kind) {
	case N_ROOT:
		t->walk_step = WALK_ROOT;
		break;
	case N_REGION:
		if (t->walk_step == WALK_ALL && quick)
			break;
		t->walk_step = quick && t->walk_step >= WALK_ROOT ? WALK_REGION : WALK_NONE;
		t->walk_region = node;
		break;
	case N_RG:
		if (quick && t->walk_step == WALK_REGION && node->parent == t->walk_region) {
			t->walk_step = WALK_ALL;
			all = 1;
		} else if (!quick || t->walk_step != WALK_ALL) {
			t->walk_step = WALK_NONE;
		}
		break;
	default:
		if (!quick)
			t->walk_step = WALK_NONE;
	}
	pthread_mutex_unlock(&t->walk_lock);
	return all;
}

/* A fresh listing ended. */
static void walk_note_end(struct tree *t)
{
	pthread_mutex_lock(&t->walk_lock);
	t->walk_end_ms = walk_now_ms();
	pthread_mutex_unlock(&t->walk_lock);
}

/* Queue a fetch of every collection not fresh, in walk order. */
static void walk_prefetch_all(struct tree *t)
{
	struct cache_val *list = NULL;
	const struct arm_rpc **v;
	size_t n = 0;

	if (tree_get_list(t, D_CACHED, &list) < 0)
		return;
	v = list->n ? malloc(list->n * sizeof(*v)) : NULL;
	for (size_t i = 0; v && i < list->n; i++)
		if (list->v[i]->rg && list->v[i]->location && !same(list->v[i]->state, "Deleting"))
			v[n++] = list->v[i];
	log_debug("walk of the mount: prefetching %zu collections", n);
	prefetch_in_walk_order(t, v, n, 0);
	free(v);
	cache_put(list);
}

/* A directory's entries. */
int tree_readdir(struct tree *t, uint64_t ino, int refresh, struct tree_dirent **out, size_t *n)
{
	int slot, rc;
	struct tnode *node = tree_node_of(t, ino, &slot);
	struct dlist l = {0};
	enum dmode m = refresh ? D_FETCH : D_CACHED;
	struct tree_attr a;

	if (!node)
		return -ENOENT;
	if (refresh && walk_note_start(t, node, slot))
		walk_prefetch_all(t);
	switch (node->kind) {
	case N_ROOT:
		if (slot == S_DIR) {
			rc = list_root(t, m, &l);
		} else if (slot == S_RPFS) {
			rc = 0;
			for (const struct fixed_name *f = rpfs_files; f->name; f++)
				if (rpfs_slot_attr(t, f->slot, &a) == 0)
					tree_dl_add(&l, f->name, &a);
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
			tree_list_locals(t, node, &l);
		break;
	case N_RPC:
		if (tree_node_local(t, node)) {
			rc = slot == S_DIR ? 0 : -ENOTDIR;
			for (const struct fixed_name *f = tree_coll_files; rc == 0 && f->name; f++)
				if (tree_local_attr(t, node, f->slot, &a) == 0)
					tree_dl_add(&l, f->name, &a);
		} else {
			rc = slot == S_DIR ? list_rpc(t, node, m, &l) : -ENOTDIR;
		}
		if (rc == 0)
			tree_list_locals(t, node, &l);
		break;
	case N_RP:
		if (tree_node_local(t, node)) {
			rc = slot == S_DIR || slot == S_P_DISKS ? 0 : -ENOTDIR;
			for (const struct fixed_name *f = tree_point_files;
			     slot == S_DIR && f->name; f++)
				if (tree_local_attr(t, node, f->slot, &a) == 0)
					tree_dl_add(&l, f->name, &a);
			break;
		}
		rc =
		    (slot == S_DIR || slot == S_P_DISKS) ? list_rp(t, node, slot, m, &l) : -ENOTDIR;
		break;
	default:
		rc = -ENOENT;
	}
	if (refresh)
		walk_note_end(t);
	if (rc == 0 && l.err)
		rc = l.err;
	if (rc < 0) {
		tree_dirents_free(l.v, l.n);
		return rc;
	}
	if (l.n) {
		qsort(l.v, l.n, sizeof(*l.v), cmp_dirent);
		dedup_dirents(&l);
	}
	if (slot == S_DIR) {
		pthread_rwlock_wrlock(&t->lock);
		node->listed_at = mount_secs(t);
		pthread_rwlock_unlock(&t->lock);
	}
	/* Being filled by cp: the kernel must keep no entry that cp's
	 * O_CREAT|O_EXCL of a view name would meet (EEXIST). */
	if (tree_filled(t, node))
		for (size_t i = 0; i < l.n; i++)
			l.v[i].attr.entry_ttl = 0;
	*out = l.v;
	*n = l.n;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

/* Target of a symlink (origin). */
int tree_readlink(struct tree *t, uint64_t ino, char **out)
{
	int slot, rc;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct dctx d;

	if (!n)
		return -ENOENT;
	if (n->kind == N_RPC && slot == S_C_ORIGIN) {
		rc = tree_rpc_data(t, n, D_CACHED, 0, &d);
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
	tree_dctx_done(&d);
	return rc;
}

/* progress: a fresh $expand=instanceView request. */
static int open_progress(struct tree *t, struct tnode *n, struct tree_file *f)
{
	struct dctx d;
	struct cache_val *v = NULL;
	int rc = rp_data(t, n, D_CACHED, &d), newfail = 0;
	size_t len;

	if (rc < 0)
		return rc;
	if (!d.rp->source_rp_id) {
		tree_dctx_done(&d);
		return -ENOENT;
	}
	rc = cache_rp_view(t->c, d.rpc->rg, d.rpc->name, d.rp->name, &v);
	/* a copy started from this mount that failed: its error file tells why */
	if (rc == 0 && v->rp->iv_error)
		newfail =
		    tree_copy_failed(t, n, d.rpc->rg, d.rpc->name, d.rp->name, v->rp->iv_error);
	tree_dctx_done(&d);
	if (rc < 0)
		return rc;
	f->buf = render_progress(v->rp);
	len = f->buf ? strlen(f->buf) : 0;
	pthread_rwlock_wrlock(&t->lock);
	n->aux = (n->aux & ~0xffffu) | (uint32_t)(len > 0xffff ? 0xffff : len);
	pthread_rwlock_unlock(&t->lock);
	cache_put(v);
	if (newfail && t->nt.inval_entry)
		t->nt.inval_entry(t->nt.arg, mkino(n->idx, 0), "error");
	if (!f->buf)
		return -ENOMEM;
	f->len = len;
	f->direct_io = 1;
	return 0;
}

/* Open a point's `error`: this mount's failure of its last operation, else
 * for a Failed point ARM's code and message from its instance view (a
 * request at each open, direct I/O, like progress). */
static int open_error(struct tree *t, struct tnode *n, struct tree_file *f)
{
	struct dctx d;
	struct cache_val *v = NULL;
	int rc = rp_data(t, n, D_FETCH, &d);

	if (rc < 0)
		return rc;
	/* this mount's failures change no ARM answer: read afresh each open */
	f->buf = tree_node_error(t, n);
	if (!f->buf && same(d.rp->state, "Failed") &&
	    cache_rp_view(t->c, d.rpc->rg, d.rpc->name, d.rp->name, &v) == 0) {
		size_t len;

		if (v->rp->iv_error)
			f->buf = tree_asprintf("%s\n", v->rp->iv_error);
		len = f->buf ? strlen(f->buf) : 0;
		pthread_rwlock_wrlock(&t->lock);
		n->aux = RP_AUX_PLEN(n->aux) | (uint32_t)(len > 0x7fff ? 0x7fff : len) << 16;
		pthread_rwlock_unlock(&t->lock);
		cache_put(v);
		f->direct_io = 1;
	}
	rc = f->buf ? 0 : render_point_file(&d, S_P_ERROR, &f->buf);
	tree_dctx_done(&d);
	return rc;
}

/* Render a collection's or point's file from data resolved in mode m. */
static int render_node_file(struct tree *t, struct tnode *n, int slot, enum dmode m, struct dctx *d,
			    char **out)
{
	int rc = n->kind == N_RPC ? tree_rpc_data(t, n, m, 1, d) : rp_data(t, n, m, d);

	if (rc < 0)
		return rc;
	rc = n->kind == N_RPC ? render_coll_file(t, d, slot, out) : render_point_file(d, slot, out);
	if (rc < 0)
		tree_dctx_done(d);
	return rc;
}

/*
 * Open a collection's or point's file with fresh content: lookups and
 * getattr answer from the cache, even expired (see the top of this file), so the open is
 * where an expired answer is refreshed (bounded by op_timeout; on a
 * network failure the cache serves the stale answer).  When the refresh
 * changed the content, the kernel's page cache is not kept; when it
 * changed the length, the kernel's st_size (from the cached answer) is
 * wrong until the invalidation the refresh pushed arrives, so this open
 * is served with direct I/O, which reads to the real end.
 */
static int open_fresh(struct tree *t, struct tnode *n, int slot, struct tree_file *f)
{
	struct dctx old = {0}, d;
	char *was = NULL;
	int rc;

	if (render_node_file(t, n, slot, D_CACHED, &old, &was) < 0)
		was = NULL;
	rc = render_node_file(t, n, slot, D_FETCH, &d, &f->buf);
	if (rc < 0)
		goto out;
	f->keep = 1;
	if (was && (old.list != d.list || old.coll != d.coll) && strcmp(was, f->buf) != 0) {
		f->keep = 0;
		f->direct_io = strlen(was) != strlen(f->buf);
	}
	tree_dctx_done(&d);
out:
	if (was)
		tree_dctx_done(&old);
	free(was);
	return rc;
}

/* Open a file: render its content now. */
int tree_open(struct tree *t, uint64_t ino, int flags, struct tree_file **out)
{
	int slot, rc, write = flags & TREE_O_WRITE;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct tree_file *f;

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
		f->append = !!(flags & TREE_O_APPEND);
		rc = 0;
		/* Without O_TRUNC, O_RDWR reads the content and a tags write
		 * edits the current text (>>, pwrite). */
		if (!(flags & TREE_O_TRUNC) &&
		    ((flags & TREE_O_READ) || (n->kind == N_RPC && slot == S_C_TAGS))) {
			struct tree_file *g = NULL;

			rc = tree_open(t, ino, 0, &g);
			if (rc == 0 && n->kind == N_RPC && slot == S_C_TAGS) {
				f->wbuf = g->len ? malloc(g->len + 1) : NULL;
				if (f->wbuf) {
					memcpy(f->wbuf, g->buf, g->len + 1);
					f->wlen = g->len;
				} else if (g->len) {
					rc = -ENOMEM;
				}
			}
			if (rc == 0 && (flags & TREE_O_READ)) {
				f->buf = g->buf;
				f->len = g->len;
				g->buf = NULL;
			}
			tree_file_free(g);
		}
		goto out;
	}
	switch (n->kind) {
	case N_ROOT:
		if (slot == S_DIR || slot == S_RPFS) {
			rc = -EISDIR;
			break;
		}
		if (slot == S_COPIES)
			tree_copies_refresh(t);
		rc = render_rpfs_file(t, slot, &f->buf);
		f->direct_io = 1;
		f->control = slot == S_FLUSH;
		break;
	case N_RPC:
		if (slot == S_DIR) {
			rc = -EISDIR;
			break;
		}
		if (tree_node_local(t, n)) {
			rc = tree_render_local(t, n, slot, &f->buf);
			break;
		}
		rc = open_fresh(t, n, slot, f);
		break;
	case N_RP:
		if (slot == S_DIR || slot == S_P_DISKS) {
			rc = -EISDIR;
			break;
		}
		if (tree_node_local(t, n)) {
			rc = tree_render_local(t, n, slot, &f->buf);
			break;
		}
		if (slot == S_P_PROGRESS) {
			rc = open_progress(t, n, f);
			break;
		}
		if (slot == S_P_ERROR) {
			rc = open_error(t, n, f);
			break;
		}
		rc = open_fresh(t, n, slot, f);
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

/* Open for reading, rendering later when the kernel may keep the content. */
int tree_open_deferred(struct tree *t, uint64_t ino, struct tree_file **out)
{
	int slot, keep = 0;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct tree_file *f;

	if (!n)
		return -ENOENT;
	if (n->kind == N_RPC)
		keep = slot != S_DIR;
	else if (n->kind == N_RP)
		keep = slot != S_DIR && slot != S_P_DISKS && slot != S_P_PROGRESS &&
		       slot != S_P_ERROR && slot != S_P_ABSORB && slot < S_P_VHD0;
	/* Expired answers are refreshed at the open (see open_fresh). */
	if (keep && !tree_node_local(t, n)) {
		const struct tnode *c = n->kind == N_RPC ? n : n->parent;

		if (!cache_fresh(t->c, NULL, NULL) || !cache_fresh(t->c, c->parent->name, c->name))
			keep = 0;
	}
	if (!keep || tree_node_local(t, n))
		return tree_open(t, ino, 0, out);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->keep = 1;
	f->deferred = 1;
	*out = f;
	return 0;
}

/* Open disks/NAME.vhd of point n for process pid. */
static int open_vhd(struct tree *t, struct tnode *n, int slot, int write, uint32_t pid,
		    struct tree_file *f)
{
	size_t i = (size_t)(slot - S_P_VHD0);
	uint64_t ino = mkino(n->idx, slot), hint;
	char *id = NULL;
	struct dctx d;
	int rc;

	if (write && !t->cfg.ro && tree_pid_filling(t, pid)) {
		/* cp -r again into a copy that has its disks: absorbed, as
		 * every view file it writes there */
		f->absorb = 1;
		f->slot = slot;
		f->direct_io = 1;
		return 0;
	}
	if (write)
		return t->cfg.ro ? -EROFS : -EACCES; /* the bytes of a backup */
	rc = rp_data(t, n, D_CACHED, &d);
	if (rc < 0)
		return rc;
	if (i >= d.rp->ndisks || !d.rp->disks[i].has_drp) {
		tree_dctx_done(&d);
		return -ENOENT;
	}
	hint = d.rp->disks[i].size_gb >= 0 ? ((uint64_t)d.rp->disks[i].size_gb << 30) + 512 : 0;
	rc = arm_rp_disk_rp_id(d.rp, i, &id);
	tree_dctx_done(&d);
	if (rc < 0)
		return rc;
	if (tree_pid_filling(t, pid)) {
		/* cp -r of a point into this mount copies its views: the disk's
		 * bytes are not asked for (a copy of a point is ARM's work). */
		log_info("%s: opened by process %u while it copies into this mount: read as empty",
			 id, pid);
		f->buf = strdup("");
		f->direct_io = 1;
		f->hollow = 1;
		free(id);
		return f->buf ? 0 : -ENOMEM;
	}
	if (!t->cfg.disk_read || !t->cfg.disks) {
		struct arm_err e = {0};

		snprintf(e.message, sizeof(e.message),
			 "reading disk contents needs the mount option -o disk_read=1");
		cache_record_error(t->c, "open", id, &e, -EACCES);
		free(id);
		return -EACCES;
	}
	rc = disk_open(t->cfg.disks, id, ino, hint, &f->disk, &f->attr_changed);
	free(id);
	if (rc == 0 && f->attr_changed && t->nt.inval_inode)
		t->nt.inval_inode(t->nt.arg, ino);
	return rc;
}

/* Open for process pid (disks/NAME.vhd included). */
int tree_open_as(struct tree *t, uint64_t ino, int flags, uint32_t pid, struct tree_file **out)
{
	int slot, rc, write = flags & TREE_O_WRITE;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct tree_file *f;

	if (!n || n->kind != N_RP || slot < S_P_VHD0 || tree_node_local(t, n)) {
		rc = write ? tree_open(t, ino, flags, out) : tree_open_deferred(t, ino, out);
		if (rc == 0 && (*out)->absorb)
			tree_note_writer(t, pid);
		return rc;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pid = pid;
	rc = open_vhd(t, n, slot, write, pid, f);
	if (rc < 0) {
		tree_file_free(f);
		return rc;
	}
	f->len = f->buf ? strlen(f->buf) : 0;
	f->keep = f->disk != NULL; /* a restore point's bytes never change */
	*out = f;
	return 0;
}

/* Render a deferred file now. */
int tree_file_fill(struct tree *t, uint64_t ino, struct tree_file *f)
{
	struct tree_file *g = NULL;
	int rc = tree_open(t, ino, 0, &g);

	if (rc < 0)
		return rc;
	f->buf = g->buf;
	f->len = g->len;
	g->buf = NULL;
	tree_file_free(g);
	return 0;
}

/* Free an opened file. */
void tree_file_free(struct tree_file *f)
{
	if (!f)
		return;
	disk_close(f->disk);
	free(f->buf);
	free(f->wbuf);
	free(f);
}

/* The errno of a refused mutation. */
int tree_mutation_errno(struct tree *t)
{
	return t->cfg.ro ? -EROFS : -EPERM;
}

/* A source id or a tags text is short (ARM: at most 50 tags of 512 + 256
 * characters); the JSON views cp writes may be longer. */
#define TREE_SMALL_WRITE (64u << 10)

/* A write: .rpfs/flush acts at once, view files keep the content (tags at
 * the write's offset, the others appended). */
int tree_write(struct tree *t, uint64_t ino, struct tree_file *f, const char *buf, size_t len,
	       uint64_t off)
{
	size_t cap, end;
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);
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
	cap = (n->kind == N_RPC && (slot == S_C_SOURCE || slot == S_C_TAGS)) ||
		      (n->kind == N_RP && slot == S_P_SOURCE)
		  ? TREE_SMALL_WRITE
		  : (1u << 20);
	if (!(n->kind == N_RPC && slot == S_C_TAGS) || f->append)
		off = f->wlen;
	if (off > cap || len > cap - off) {
		log_warn("write to %s of %s: more than %zu bytes, refused (EFBIG)",
			 n->kind == N_RPC && slot == S_C_TAGS ? "tags"
			 : cap == TREE_SMALL_WRITE	      ? "source"
							      : "a view",
			 n->name, cap);
		return -EFBIG;
	}
	end = off + len > f->wlen ? off + len : f->wlen;
	nb = realloc(f->wbuf, end + 1);
	if (!nb)
		return -ENOMEM;
	if (off > f->wlen)
		memset(nb + f->wlen, 0, off - f->wlen); /* a hole, as in any file */
	memcpy(nb + off, buf, len);
	f->wbuf = nb;
	f->wlen = end;
	f->wbuf[f->wlen] = '\0';
	f->written = 1;
	return tree_absorb_act(t, n, f, 0);
}

/* ftruncate of an opened file: cut the text being written. */
void tree_file_truncate(struct tree_file *f, uint64_t size)
{
	if (f && f->absorb && f->wbuf && size < f->wlen) {
		f->wlen = (size_t)size;
		f->wbuf[f->wlen] = '\0';
	}
}

/* close(): act on what was written. */
int tree_file_done(struct tree *t, uint64_t ino, struct tree_file *f)
{
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);

	if (!n || !f || !f->absorb)
		return 0;
	if (f->done)
		return f->rc;
	return tree_absorb_act(t, n, f, 1);
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

	cache_sweep(t->c);
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
		n = tree_find_child(t, n, region);
	if (n && rg)
		n = tree_find_child(t, n, rg);
	if (n && name)
		n = tree_find_child(t, n, name);
	return n;
}

/* Invalidate what the kernel knows about one collection (and its group). */
static void inval_coll(struct tree *t, const struct arm_rpc *r)
{
	struct tnode *region, *rgn, *n;

	if (!r || !r->location || !r->rg || !r->name)
		return;
	region = find_path(t, r->location, NULL, NULL);
	rgn = region ? tree_find_child(t, region, r->rg) : NULL;
	if (region) {
		t->nt.inval_inode(t->nt.arg, mkino(region->idx, 0));
		t->nt.inval_entry(t->nt.arg, mkino(region->idx, 0), r->rg);
	}
	if (rgn) {
		t->nt.inval_inode(t->nt.arg, mkino(rgn->idx, 0));
		t->nt.inval_entry(t->nt.arg, mkino(rgn->idx, 0), r->name);
		n = tree_find_child(t, rgn, r->name);
		if (n)
			inval_node_files(t, n);
	}
}

/* Find a point by name in a collection, Deleting ones included. */
const struct arm_rp *tree_point_named(const struct arm_rpc *r, const char *name)
{
	for (size_t i = 0; r && i < r->npoints; i++)
		if (same(r->points[i].name, name))
			return &r->points[i];
	return NULL;
}

/* One point changed, appeared or vanished in collection node n. */
static void inval_point(struct tree *t, struct tnode *n, const char *name)
{
	struct tnode *p = tree_find_child(t, n, name);

	t->nt.inval_entry(t->nt.arg, mkino(n->idx, 0), name);
	if (p) {
		inval_node_files(t, p);
		for (const struct fixed_name *f = tree_point_files; f->name; f++)
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
		const struct arm_rp *a = &o->points[i], *b = tree_point_named(nw, a->name);

		if (!b || differ(a->cjson, b->cjson) || differ(a->state, b->state)) {
			inval_point(t, n, a->name);
			dirty = 1;
		}
	}
	for (size_t i = 0; i < nw->npoints; i++)
		if (!tree_point_named(o, nw->points[i].name)) {
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
	pthread_mutex_init(&t->walk_lock, NULL);
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
	tree_copies_free(t);
	tree_errs_free(t);
	tree_unsure_free(t);
	tree_ptags_free(t);
	free((char *)t->cfg.consistency);
	pthread_mutex_destroy(&t->mlock);
	pthread_mutex_destroy(&t->walk_lock);
	pthread_cond_destroy(&t->mcond);
	free(t->hash);
	if (t->cfg.locations)
		arm_locations_free(t->cfg.locations, t->cfg.nlocations);
	free(t->config_text);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}
