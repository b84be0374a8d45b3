/*
 * tree_list.c - directory listings (tree_readdir): the root, a region, a
 * resource group, a collection, a point and its disks, each name listed
 * once with its attributes.
 *
 * Why it is built this way: listings stay in the kernel's cache
 * (FOPEN_CACHE_DIR) until rpfs invalidates them (tree_inval.c), so one is
 * built whole, sorted and deduplicated, with the attributes readdirplus
 * hands the kernel.  A listing answers within op_timeout: what is not
 * fetched by then is listed from ListAll's names with provisional times.
 * Local nodes are added from tree_local.c; a fresh listing feeds the walk
 * read-ahead (tree_walk.c).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tree_int.h"

/* 1 when a physical location of the subscription has this name. */
static int is_location(struct tree *t, const char *name)
{
	for (size_t i = 0; i < t->cfg.nlocations; i++)
		if (same(t->cfg.locations[i].name, name))
			return 1;
	return 0;
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

	tree_rpfs_slot_attr(t, S_RPFS, &a);
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
		tree_rgs_ready(t);
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
		n = tree_rg_node_get(t, region, r->rg);
		if (!n)
			break;
		tree_dir_attr(&a, mkino(n->idx, 0), t->mount_time, t->cfg.ttl);
		tree_dl_add(l, n->name, &a);
	}
	tree_prefetch_in_walk_order(t, pf, npf, 0);
	free(pf);
	cache_put(list);
	return 0;
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
		tree_prefetch_in_walk_order(t, pf, npf, 1);
		if (pf) {
			rc = tree_wait_fetched(t, pf, npf);
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
			tree_dir_attr(&a, mkino(n->idx, 0), tree_rpc_mtime(t, &d), t->cfg.ttl);
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
	mt = tree_rpc_mtime(t, &d);
	for (const struct fixed_name *f = tree_coll_files; f->name; f++)
		if (tree_coll_slot_attr_mt(t, n, &d, f->slot, mt, &a) == 0)
			tree_dl_add(l, f->name, &a);
	for (size_t i = 0; d.coll && d.coll->rpc && i < d.coll->rpc->npoints; i++) {
		const struct arm_rp *p = &d.coll->rpc->points[i];
		struct tnode *c;

		if (!p->name || same(p->state, "Deleting"))
			continue;
		c = tree_node_get(t, n, p->name, N_RP);
		if (!c)
			break;
		tree_dir_attr(&a, mkino(c->idx, 0), tree_rp_mtime(t, p),
			      tree_rp_busy(p) ? t->cfg.busy_ttl : t->cfg.ttl);
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
	int rc = tree_rp_data(t, n, m, &d);

	if (rc < 0)
		return rc;
	if (slot == S_DIR) {
		for (const struct fixed_name *f = tree_point_files; f->name; f++)
			if (tree_point_slot_attr(t, n, &d, f->slot, &a) == 0)
				tree_dl_add(l, f->name, &a);
	} else {
		for (size_t i = 0; i < d.rp->ndisks && i < TREE_MAX_DISKS; i++) {
			const char *dn = d.rp->disks[i].name ? d.rp->disks[i].name : "disk";
			char fn[300];

			snprintf(fn, sizeof(fn), "%s.json", dn);
			if (tree_point_slot_attr(t, n, &d, S_P_DISK0 + (int)i, &a) == 0)
				tree_dl_add(l, fn, &a);
			snprintf(fn, sizeof(fn), "%s.vhd", dn);
			if (tree_point_slot_attr(t, n, &d, S_P_VHD0 + (int)i, &a) == 0)
				tree_dl_add(l, fn, &a);
		}
	}
	tree_dctx_done(&d);
	return 0;
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
	if (refresh && tree_walk_note_start(t, node, slot))
		tree_walk_prefetch_all(t);
	switch (node->kind) {
	case N_ROOT:
		if (slot == S_DIR) {
			rc = list_root(t, m, &l);
		} else if (slot == S_RPFS) {
			rc = 0;
			for (const struct fixed_name *f = tree_rpfs_files; f->name; f++)
				if (tree_rpfs_slot_attr(t, f->slot, &a) == 0)
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
		tree_walk_note_end(t);
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
