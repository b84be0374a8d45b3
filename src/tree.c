/*
 * tree.c - the tree's entry points for names: tree_new/tree_free,
 * tree_getattr and tree_lookup (path and name to ARM resource).
 *
 * Why it is built this way:
 *  - What exists is always decided from the cache: region = physical
 *    locations plus any location a collection reports; resource groups and
 *    collections of a region = the ListAll answer; points and their files =
 *    the collection's $expand=restorePoints answer.  Nothing here copies
 *    ARM data, so a cache refresh is the only way the tree changes.
 *  - Lookups may fetch (that is where the kernel asks again after ttl);
 *    getattr and renders use whatever is cached, even expired, and fetch
 *    only when nothing is (stat never waits when anything is known).
 *  - A directory that exists only in this mount (a pending collection or
 *    point, or one made under dry_run) is a node whose data comes from the
 *    node itself (its `local` fields, tree_local.c) instead of the cache.
 *
 * The tree is a family of files (doc/DESIGN.md, The tree): calls point
 * down only, from the mutations (tree_absorb.c, tree_rmdir.c,
 * tree_mkdir.c, tree_send.c) to the entry points for reading (this file,
 * tree_list.c, tree_open.c, tree_inval.c), to the renderings
 * (tree_render.c, tree_walk.c), to the state of this mount (tree_copy.c,
 * tree_local.c, tree_journal.c), to the data behind a node (tree_data.c)
 * and the node table (tree_node.c).  tree_int.h lists them in that order
 * and says the lock order.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tree_int.h"

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
	tree_rgs_ready(t);
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
	n = tree_rg_node_get(t, region, spelled);
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
			s = fixed_slot(tree_rpfs_files, name);
			return s < 0 ? -ENOENT : tree_rpfs_slot_attr(t, s, out);
		}
		if (slot != S_DIR)
			return -ENOTDIR;
		if (!strcmp(name, ".rpfs"))
			return tree_rpfs_slot_attr(t, S_RPFS, out);
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
		rc = tree_coll_slot_attr(t, n, &d, s, out);
	} else {
		char buf[300];
		const struct arm_rp *p = tree_find_point(&d, point_name(name, buf, sizeof(buf)));

		rc = -ENOENT;
		if (p) {
			child = tree_node_get(t, n, p->name, N_RP);
			if (!child) {
				rc = -ENOMEM;
			} else {
				tree_dir_attr(out, mkino(child->idx, 0), tree_rp_mtime(t, p),
					      tree_rp_busy(p) ? t->cfg.busy_ttl : t->cfg.ttl);
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

	rc = tree_rp_data(t, n, m, &d);
	if (rc < 0)
		return rc;
	if (slot == S_DIR) {
		s = fixed_slot(tree_point_files, name);
		rc = s < 0 ? -ENOENT : tree_point_slot_attr(t, n, &d, s, out);
	} else if (slot == S_P_DISKS) {
		rc = -ENOENT;
		for (size_t i = 0; i < d.rp->ndisks && i < TREE_MAX_DISKS; i++) {
			const char *dn = d.rp->disks[i].name ? d.rp->disks[i].name : "disk";
			size_t len = strlen(dn);

			if (strncasecmp(dn, name, len))
				continue;
			if (!strcasecmp(name + len, ".json")) {
				rc = tree_point_slot_attr(t, n, &d, S_P_DISK0 + (int)i, out);
				break;
			}
			if (!strcasecmp(name + len, ".vhd")) {
				rc = tree_point_slot_attr(t, n, &d, S_P_VHD0 + (int)i, out);
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

/* Register the FUSE layer's invalidation functions. */
void tree_set_notify(struct tree *t, const struct tree_notify *n)
{
	pthread_rwlock_wrlock(&t->lock);
	t->nt = *n;
	pthread_rwlock_unlock(&t->lock);
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
		t->root = tree_node_alloc(t, NULL, "", N_ROOT);
	if (!t->root) {
		tree_free(t);
		return -ENOMEM;
	}
	cache_set_listener(c, tree_on_change, t);
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
