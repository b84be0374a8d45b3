/*
 * tree_render.c - the view files' contents and every inode's attributes:
 * collection and point files (id, state, source, origin, tags, progress,
 * error, the JSON), the .rpfs/ files, disks/NAME.json and NAME.vhd sizes.
 *
 * Why it is built this way: contents are rendered on demand from the
 * cached model (getattr and renders use whatever is cached, even expired,
 * and fetch only when nothing is), so a file costs no memory until it is
 * opened, and its size is the length of what an open would read.  A local
 * node's files come from tree_local.c.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "disk.h"
#include "tags.h"
#include "sbuf.h"
#include "tree_int.h"

/* Where a collection id points in the list: its location, or NULL. */
static const char *location_of_rpc(const struct cache_val *list, const char *rg, const char *name)
{
	const struct arm_rpc *r = cache_list_find(list, rg, name);

	return r ? r->location : NULL;
}

/* Newest timeCreated of a collection's points, else the mount time. */
time_t tree_rpc_mtime(struct tree *t, const struct dctx *d)
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
time_t tree_rp_mtime(struct tree *t, const struct arm_rp *p)
{
	time_t x;

	return tree_parse_time(p->time_created, &x) == 0 ? x : t->mount_time;
}

/* 1 when a point's subtree changes often (non-terminal state). */
int tree_rp_busy(const struct arm_rp *p)
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
char *tree_render_progress(const struct arm_rp *p)
{
	int min = 100;
	const char *st = NULL;
	char *s = NULL;
	struct sbuf b;

	sbuf_init(&b, TREE_TEXT_MAX);
	for (size_t i = 0; i < p->nprogress; i++) {
		const struct arm_disk_progress *d = &p->progress[i];
		const char *ds = d->status ? d->status : "Unknown";

		sbuf_addf(&b, "%s %d %s\n", d->name ? d->name : "disk", d->percent, ds);
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
	sbuf_addf(&b, "total %d %s\n", min, st ? st : (p->state ? p->state : "Unknown"));
	if (sbuf_finish(&b, &s, NULL) < 0)
		return NULL;
	return s;
}

/* Render the file at slot of a collection. */
int tree_render_coll_file(struct tree *t, const struct dctx *d, int slot, char **out)
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
int tree_render_point_file(const struct dctx *d, int slot, char **out)
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
 * tree_render_point_file would render it. */
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
int tree_render_rpfs_file(struct tree *t, int slot, char **out)
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

/* Attributes of slot in a resolved collection whose mtime is mt. */
int tree_coll_slot_attr_mt(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			   time_t mt, struct tree_attr *a)
{
	char *s = NULL;
	int rc = tree_render_coll_file(t, d, slot, &s);

	if (rc < 0)
		return rc;
	tree_file_attr(a, mkino(n->idx, slot), s, mt, t->cfg.ttl,
		       slot == S_C_ORIGIN ? TREE_LNK : TREE_REG);
	return 0;
}

/* Attributes of slot in a resolved collection. */
int tree_coll_slot_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			struct tree_attr *a)
{
	return tree_coll_slot_attr_mt(t, n, d, slot, tree_rpc_mtime(t, d), a);
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
int tree_point_slot_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			 struct tree_attr *a)
{
	double ttl = tree_rp_busy(d->rp) ? t->cfg.busy_ttl : t->cfg.ttl;
	time_t mt = tree_rp_mtime(t, d->rp);
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
		rc = tree_render_point_file(d, slot, &s);
	}
	if (rc < 0)
		return rc;
	tree_file_attr(a, mkino(n->idx, slot), s, mt, ttl,
		       slot == S_P_ORIGIN ? TREE_LNK : TREE_REG);
	return 0;
}

/* Attributes of a .rpfs slot. */
int tree_rpfs_slot_attr(struct tree *t, int slot, struct tree_attr *a)
{
	char *s = NULL;
	int rc;

	if (slot == S_RPFS) {
		tree_dir_attr(a, mkino(0, S_RPFS), t->mount_time, t->cfg.ttl);
		return 0;
	}
	rc = tree_render_rpfs_file(t, slot, &s);
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
		return tree_rpfs_slot_attr(t, slot, a);
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
			tree_dir_attr(a, mkino(n->idx, 0), tree_rpc_mtime(t, &d), t->cfg.ttl);
		else
			rc = tree_coll_slot_attr(t, n, &d, slot, a);
		tree_dctx_done(&d);
		return rc;
	case N_RP:
		if (tree_node_local(t, n))
			return tree_local_attr(t, n, slot, a);
		rc = tree_rp_data(t, n, m, &d);
		if (rc < 0)
			return rc;
		if (slot == S_DIR)
			tree_dir_attr(a, mkino(n->idx, 0), tree_rp_mtime(t, d.rp),
				      tree_rp_busy(d.rp) ? t->cfg.busy_ttl : t->cfg.ttl);
		else
			rc = tree_point_slot_attr(t, n, &d, slot, a);
		tree_dctx_done(&d);
		return rc;
	}
	return -ENOENT;
}

/* Render a collection's or point's file from data resolved in mode m. */
int tree_render_node_file(struct tree *t, struct tnode *n, int slot, enum dmode m, struct dctx *d,
			  char **out)
{
	int rc = n->kind == N_RPC ? tree_rpc_data(t, n, m, 1, d) : tree_rp_data(t, n, m, d);

	if (rc < 0)
		return rc;
	rc = n->kind == N_RPC ? tree_render_coll_file(t, d, slot, out)
			      : tree_render_point_file(d, slot, out);
	if (rc < 0)
		tree_dctx_done(d);
	return rc;
}

/* The text of .rpfs/stats. */
int tree_render_stats(struct tree *t, char **out)
{
	return tree_render_rpfs_file(t, S_STATS, out);
}
