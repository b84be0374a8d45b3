/*
 * tree_inval.c - telling the kernel what changed: the cache listener
 * (tree_on_change) compares an old and a new answer and invalidates the
 * entries and file contents that differ; tree_expire drops listings older
 * than ttl; tree_flush drops everything.
 *
 * Why it is built this way: directory listings and file contents stay in
 * the kernel's cache until rpfs invalidates them, so every change the
 * cache sees must come through here; after a mutation the fetch of the
 * collection makes the differences show at once.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>

#include "tree_int.h"

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
void tree_on_change(void *arg, const struct cache_val *o, const struct cache_val *nw)
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
