/*
 * tree_rmdir.c - rmdir: a point is a DELETE, a collection only when empty
 * (as POSIX says), a local node is forgotten, and a resource group
 * directory is gone when empty.
 *
 * Why it is built this way: deleting is off without allow_delete, so
 * rm -rf of the whole mount deletes nothing; a point that is the source
 * of a copy still running from this mount is EBUSY, and every refusal
 * leaves a .rpfs/errors line saying what to do instead.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tree_int.h"

/* rmdir (see tree.h). */
int tree_rmdir(struct tree *t, uint64_t parent, const char *name)
{
	char alias[300];
	int slot, rc;
	struct tnode *n = tree_node_of(t, parent, &slot), *c;
	struct dctx d;

	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (slot == S_DIR && (c = tree_local_child(t, n, name)) != NULL) {
		if (tree_has_local_children(t, c))
			return -ENOTEMPTY;
		/* Exists only here: removed locally, nothing sent. */
		return tree_set_local(t, c, L_NONE, NULL);
	}
	/* disks/ of a pending point (rm -rf of what cp -r left): a view. */
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks") && tree_node_local(t, n))
		return 0;
	if (!t->cfg.allow_delete)
		return tree_refuse_advise(t, "rmdir", name, -EPERM,
					  "deleting needs the mount option -o allow_delete: mount "
					  "with it to delete restore points (nothing sent)");
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks"))
		return 0;
	if (slot != S_DIR)
		return -ENOTDIR;
	if (n->kind == N_RPC) {
		/* A restore point. */
		const struct arm_rp *p;
		char *pid = NULL;
		struct cache_mut m = {.op = CM_DELETE_RP};

		rc = tree_rpc_data(t, n, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		p = tree_find_point(&d, point_name(name, alias, sizeof(alias)));
		if (!p) {
			tree_dctx_done(&d);
			return -ENOENT;
		}
		pid = strdup(p->id ? p->id : "");
		m.rg = d.rpc->rg;
		m.rpc = d.rpc->name;
		m.rp = p->name;
		if (pid && tree_copy_running(t, pid)) {
			rc = tree_refuse_op(
			    t, "DELETE", pid, -EBUSY,
			    "the point is the source of a copy still running from this "
			    "mount");
		} else {
			pthread_rwlock_rdlock(&t->lock);
			c = tree_find_child(t, n, p->name);
			pthread_rwlock_unlock(&t->lock);
			rc = tree_send_mut_on(t, &m, c);
			if (rc == 0 && !t->cfg.dry_run)
				tree_refresh_coll(t, d.rpc->rg, d.rpc->name, 0);
		}
		free(pid);
		tree_dctx_done(&d);
		return rc;
	}
	if (n->kind == N_RG) {
		/* A collection: only when empty, as POSIX says. */
		struct cache_mut m = {.op = CM_DELETE_RPC};
		struct tree_attr a;

		rc = tree_lookup(t, mkino(n->idx, 0), name, &a);
		if (rc < 0)
			return rc;
		c = tree_node_of(t, a.ino, &slot);
		if (!c || c->kind != N_RPC)
			return -ENOTDIR;
		if (tree_has_local_children(t, c))
			return -ENOTEMPTY;
		rc = tree_rpc_data(t, c, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		for (size_t i = 0; d.coll && d.coll->rpc && i < d.coll->rpc->npoints; i++)
			if (!same(d.coll->rpc->points[i].state, "Deleting"))
				rc = -ENOTEMPTY;
		if (rc == 0) {
			m.rg = d.rpc->rg;
			m.rpc = d.rpc->name;
			rc = tree_send_mut(t, &m);
			if (rc == 0 && !t->cfg.dry_run)
				tree_refresh_coll(t, d.rpc->rg, d.rpc->name, 1);
		}
		tree_dctx_done(&d);
		return rc;
	}
	if (n->kind == N_REGION) {
		/* A resource group directory: nothing to delete in ARM; gone when empty. */
		struct cache_val *list = NULL;

		rc = tree_get_list(t, D_FETCH, &list);
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
