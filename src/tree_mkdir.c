/*
 * tree_mkdir.c - mkdir of a collection or a point, and the PUTs that
 * follow when a source is named: a new collection, a copy of a collection
 * to another region, a new point, a copy of a point.
 *
 * Why it is built this way: mkdir either sends its PUT at once (the
 * source is known from the name) or leaves a local node (tree_local.c): a
 * directory that exists only in this mount (L_PENDING) until a write names
 * its source (tree_absorb.c).  With dry_run, a node whose PUT was only
 * recorded stays local too (L_DRY), so that cp -r goes on and records
 * every request.  A same-region copy (EINVAL) and a copy of which every
 * point is already copied (EEXIST) are refused at the collection's mkdir,
 * before any request.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tags.h"
#include "tree_int.h"

/* PUT collection node n (region/rg/name) as a copy of src (a collection). */
static int put_collection(struct tree *t, struct tnode *n, const struct arm_rpc *src)
{
	const char *region = n->parent->parent->name, *rg = n->parent->name;
	int folded = 0;
	struct cache_mut m = {.op = CM_PUT_RPC,
			      .rg = rg,
			      .rpc = n->name,
			      .location = region,
			      .source_id = src->id,
			      .tags = src->tags,
			      .ntags = src->ntags,
			      .folded = &folded};
	struct arm_tag *ptags;
	size_t nptags;
	char what[600];
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s", region, rg, n->name);
	if (same(src->location, region))
		return tree_refuse_op(
		    t, "PUT", what, -EINVAL,
		    "the source collection is in the same region: a copy goes to "
		    "another region, so make it under another region's directory");
	if (rpc_is_copy(src))
		return tree_refuse_op(t, "PUT", what, -EINVAL,
				      "the source collection is itself a copy (no copy of a copy): "
				      "copy its origin instead");
	/* The source's tags, as the cross-region copy example does, so a
	 * policy that requires tags at creation is met; tags written to the
	 * pending directory take their place. */
	ptags = tree_pend_tags_take(t, n, &nptags);
	if (ptags) {
		m.tags = ptags;
		m.ntags = nptags;
	}
	rc = tree_send_mut(t, &m);
	if (rc < 0 && ptags)
		tree_pend_tags_set(t, n, ptags, nptags); /* kept for the next try */
	else
		tags_free(ptags, nptags);
	if (rc == 0 && t->cfg.dry_run)
		return tree_set_local(t, n, L_DRY, src->id);
	if (rc == -EEXIST || rc == 0) {
		struct cache_val *list = NULL;
		const struct arm_rpc *r;
		int ok = 0;

		if (!folded) /* else ARM's answer is in the cache */
			tree_refresh_coll(t, rg, n->name, 1);
		/* A retried PUT that met what it created is a success. */
		if (rc == -EEXIST && tree_get_list(t, D_FETCH, &list) == 0) {
			r = cache_list_find(list, rg, n->name);
			ok = r && same(r->location, region) && same(r->source_id, src->id);
			cache_put(list);
			if (ok)
				rc = 0;
		}
	}
	if (rc == 0)
		tree_set_local(t, n, L_NONE, NULL);
	return rc;
}

/* A pending collection gets its source (a collection id): PUT it. */
int tree_resolve_collection(struct tree *t, struct tnode *n, const char *src_id)
{
	struct arm_id *id = NULL;
	struct cache_val *list = NULL;
	const struct arm_rpc *src;
	int rc;

	if (arm_id_parse(src_id, &id) < 0 || !id->rpc || id->rp) {
		free(id);
		return -EINVAL;
	}
	tree_node_busy(t, n);
	if (tree_node_local(t, n) != L_PENDING) {
		rc = 0; /* resolved meanwhile: absorbed */
		goto out;
	}
	rc = tree_get_list(t, D_FETCH, &list);
	if (rc < 0)
		goto out;
	src = cache_list_find(list, id->rg, id->rpc);
	if (!src) {
		rc = tree_refuse_op(t, "PUT", src_id, -ENOENT, "no such source collection");
		goto out;
	}
	rc = put_collection(t, n, src);
out:
	tree_node_idle(t, n);
	cache_put(list);
	free(id);
	return rc;
}

static int copied_to(struct tree *t, const char *region, const char *src_coll, const char *src_id);

/* 1 when src has restore points and each has a copy in region already
 * (a copy of src there would be an empty collection). */
static int all_copied(struct tree *t, const char *region, const struct arm_rpc *src)
{
	struct cache_val *cv = NULL;
	int all = 1, any = 0;

	if (tree_get_coll(t, src->rg, src->name, D_FETCH, &cv) < 0)
		return 0;
	for (size_t k = 0; cv->rpc && k < cv->rpc->npoints && all; k++) {
		const struct arm_rp *p = &cv->rpc->points[k];

		if (same(p->state, "Deleting"))
			continue;
		any = 1;
		all = copied_to(t, region, src->id, p->id);
	}
	cache_put(cv);
	return any && all;
}

/* mkdir REGION/RG/NAME: a collection (PUT, or pending until cp names its source). */
static int mkdir_collection(struct tree *t, struct tnode *rgn, const char *name, uint32_t pid,
			    struct tree_attr *out)
{
	const char *region = rgn->parent->name;
	struct cache_val *list = NULL;
	const struct arm_rpc *cand = NULL;
	struct tnode *n;
	int rc, ncand = 0, nsame = 0;
	char what[600];

	snprintf(what, sizeof(what), "%s/%s/%s", region, rgn->name, name);
	rc = tree_get_list(t, D_FETCH, &list);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < list->n; i++) {
		const struct arm_rpc *r = list->v[i];

		if (!same(r->name, name))
			continue;
		if (same(r->rg, rgn->name)) {
			char msg[256];

			snprintf(
			    msg, sizeof(msg),
			    "the group already holds a collection of that name (in %.40s), and "
			    "names are unique per group across regions: use another group or "
			    "a new name",
			    r->location);
			rc = tree_refuse_advise(t, "mkdir", what, -EEXIST, msg);
			goto out;
		}
		if (!same(r->location, region)) {
			cand = r;
			ncand++;
		} else {
			nsame++;
		}
	}
	if (tree_local_child(t, rgn, name)) {
		rc = -EEXIST;
		goto out;
	}
	n = tree_node_get(t, rgn, name, N_RPC);
	if (!n) {
		rc = -ENOMEM;
		goto out;
	}
	if (ncand == 0 && nsame > 0) {
		/* cp -r within a region: the writes would name a source here. */
		rc = tree_refuse_op(
		    t, "mkdir", what, -EINVAL,
		    "a collection of this name is in this region already: a copy goes "
		    "to another region (or mkdir another name and write its source)");
	} else if (ncand == 1 && all_copied(t, region, cand)) {
		rc = tree_refuse_op(
		    t, "mkdir", what, -EEXIST,
		    "every restore point of the source already has a copy in this "
		    "region (one copy per source point per region): nothing to copy");
	} else if (ncand == 1) {
		tree_node_busy(t, n);
		rc = put_collection(t, n, cand);
		tree_node_idle(t, n);
	} else {
		rc = tree_set_local(t, n, L_PENDING, NULL);
		log_info("mkdir %s/%s/%s: pending until a source collection is named", region,
			 rgn->name, name);
	}
	if (rc == 0) {
		tree_set_fresh(t, n, pid);
		tree_dir_attr(out, mkino(n->idx, 0), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
	}
out:
	cache_put(list);
	return rc;
}

/* 1 when point src_id (of collection src_coll) already has a copy in
 * region: the copies of src_coll there are read (cached, else fetched). */
static int copied_to(struct tree *t, const char *region, const char *src_coll, const char *src_id)
{
	struct cache_val *list = NULL, *cv;
	int found = 0;

	if (tree_get_list(t, D_CACHED, &list) < 0)
		return 0;
	for (size_t i = 0; i < list->n && !found; i++) {
		const struct arm_rpc *r = list->v[i];

		if (!same(r->location, region) || !rpc_is_copy(r) || !same(r->source_id, src_coll))
			continue;
		cv = NULL;
		if (tree_get_coll(t, r->rg, r->name, D_CACHED, &cv) < 0)
			continue;
		for (size_t k = 0; cv->rpc && k < cv->rpc->npoints && !found; k++)
			found = same(cv->rpc->points[k].source_rp_id, src_id) &&
				!same(cv->rpc->points[k].state, "Deleting");
		cache_put(cv);
	}
	cache_put(list);
	return found;
}

/* PUT point node pn as a copy of point p of collection sc (prechecks first). */
static int copy_point(struct tree *t, struct tnode *pn, const struct arm_rpc *sc,
		      const struct arm_rp *p)
{
	struct tnode *cn = pn->parent;
	const char *region = cn->parent->parent->name, *rg = cn->parent->name;
	int folded = 0;
	struct cache_mut m = {.op = CM_PUT_RP,
			      .rg = rg,
			      .rpc = cn->name,
			      .rp = pn->name,
			      .source_rp_id = p->id,
			      .folded = &folded};
	char what[900];
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s/%s", region, rg, cn->name, pn->name);
	if (p->source_rp_id)
		return tree_refuse_op(t, "PUT", what, -EINVAL,
				      "the source point is itself a copy (no copy of a copy): copy "
				      "its origin instead");
	if (same(sc->location, region))
		return tree_refuse_op(t, "PUT", what, -EINVAL,
				      "the source point is in the same region: copy it into a "
				      "collection in another region");
	if (!same(p->state, "Succeeded"))
		return tree_refuse_op(t, "PUT", what, -EBUSY,
				      "the source point is not Succeeded; only a Succeeded point "
				      "can be copied: wait until its state reads Succeeded");
	if (copied_to(t, region, sc->id, p->id))
		return tree_refuse_op(
		    t, "PUT", what, -EEXIST,
		    "the source point already has a copy in this region (one copy "
		    "per source point per region): use that copy, or copy to "
		    "another region");
	if (!t->cfg.dry_run && (rc = tree_unsure_settle(t, cn, pn->name, what)) < 0)
		return rc;
	rc = tree_send_mut(t, &m);
	if (rc == -ETIMEDOUT)
		tree_unsure_add(t, cn, pn->name); /* no answer: it may land later */
	else if (rc == 0 || rc == -EEXIST)
		tree_unsure_drop(t, cn, pn->name, NULL);
	if (rc == 0 && t->cfg.dry_run)
		return tree_set_local(t, pn, L_DRY, p->id);
	if (rc == 0 || rc == -EEXIST) {
		struct cache_val *cv = NULL;

		if (!folded) /* else ARM's answer to the PUT is in the cache */
			tree_refresh_coll(t, rg, cn->name, 0);
		if (rc == -EEXIST && cache_coll(t->c, rg, cn->name, CACHE_NOFETCH, &cv) == 0) {
			const struct arm_rp *q = tree_point_named(cv->rpc, pn->name);

			if (q && same(q->source_rp_id, p->id))
				rc = 0;
			cache_put(cv);
		}
	}
	if (rc == 0) {
		char *tid = arm_path_rp(cache_subscription(t->c), rg, cn->name, pn->name);

		if (tid)
			tree_copy_add(t, tid, p->id, rg, cn->name, pn->name);
		free(tid);
		tree_set_local(t, pn, L_NONE, NULL);
	}
	return rc;
}

/* The source collection id of collection node cn (a copy), or NULL. */
static char *coll_source(struct tree *t, struct tnode *cn)
{
	struct dctx d;
	char *s = NULL;

	if (tree_node_local(t, cn) == L_DRY) {
		pthread_mutex_lock(&t->mlock);
		s = cn->src ? strdup(cn->src) : NULL;
		pthread_mutex_unlock(&t->mlock);
		return s;
	}
	if (tree_rpc_data(t, cn, D_FETCH, 0, &d) < 0)
		return NULL;
	if (rpc_is_copy(d.rpc))
		s = strdup(d.rpc->source_id);
	tree_dctx_done(&d);
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
		rc = tree_refuse_op(t, "PUT", pn->name, -EINVAL,
				    "the collection is not a copy of another collection");
		goto out;
	}
	if (arm_id_parse(src_id, &sp) < 0 || !sp->rp || arm_id_parse(csrc, &cs) < 0 || !cs->rpc ||
	    !same(sp->rg, cs->rg) || !same(sp->rpc, cs->rpc)) {
		rc =
		    tree_refuse_op(t, "PUT", src_id, -EINVAL,
				   "the source point is not in the collection's source collection");
		goto out;
	}
	rc = tree_get_coll(t, sp->rg, sp->rpc, D_FETCH, &sc);
	if (rc < 0)
		goto out;
	p = tree_point_named(sc->rpc, sp->rp);
	if (!p || same(p->state, "Deleting")) {
		rc = tree_refuse_op(t, "PUT", src_id, -ENOENT, "no such source point");
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
int tree_resolve_point(struct tree *t, struct tnode *pn, const char *src_id)
{
	struct tnode *cn = pn->parent;
	struct arm_id *sp = NULL;
	char *cid = NULL;
	int rc;

	if (arm_id_parse(src_id, &sp) < 0 || !sp->rp) {
		free(sp);
		return -EINVAL;
	}
	if (tree_node_local(t, cn) == L_PENDING) {
		cid = arm_path_rpc(sp->sub, sp->rg, sp->rpc);
		rc = cid ? tree_resolve_collection(t, cn, cid) : -ENOMEM;
		if (rc < 0)
			goto out;
	}
	tree_node_busy(t, pn);
	rc = tree_node_local(t, pn) == L_PENDING ? copy_into(t, pn, src_id) : 0;
	tree_node_idle(t, pn);
out:
	free(sp);
	free(cid);
	return rc;
}

/* mkdir COLLECTION/NAME: a new point, a copy of a source point, or pending. */
static int mkdir_point(struct tree *t, struct tnode *cn, const char *name, uint32_t pid,
		       struct tree_attr *out)
{
	const char *region = cn->parent->parent->name, *rg = cn->parent->name;
	int l = tree_node_local(t, cn), rc;
	struct tnode *pn;
	struct dctx d;
	char *csrc = NULL;

	if (tree_local_child(t, cn, name))
		return -EEXIST;
	if (l == L_NONE) {
		rc = tree_rpc_data(t, cn, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		if (tree_find_point(&d, name)) {
			tree_dctx_done(&d);
			return -EEXIST;
		}
		if (!rpc_is_copy(d.rpc)) {
			/* A new restore point of the collection's VM. */
			int folded = 0;
			struct cache_mut m = {.op = CM_PUT_RP,
					      .rg = d.rpc->rg,
					      .rpc = d.rpc->name,
					      .rp = name,
					      .consistency = t->cfg.consistency,
					      .folded = &folded};

			tree_dctx_done(&d);
			pn = tree_node_get(t, cn, name, N_RP);
			if (!pn)
				return -ENOMEM;
			rc = tree_send_mut(t, &m);
			if (rc < 0)
				return rc;
			if (t->cfg.dry_run)
				rc = tree_set_local(t, pn, L_DRY, NULL);
			else if (!folded) /* else ARM's answer is in the cache */
				tree_refresh_coll(t, rg, cn->name, 0);
			goto done;
		}
		tree_dctx_done(&d);
	}
	pn = tree_node_get(t, cn, name, N_RP);
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
		    tree_get_coll(t, cs->rg, cs->rpc, D_FETCH, &sc) == 0)
			p = tree_point_named(sc->rpc, name);
		if (p && !same(p->state, "Deleting")) {
			tree_node_busy(t, pn);
			rc = copy_point(t, pn, sc->rpc, p);
			tree_node_idle(t, pn);
			copied = 1;
		}
		cache_put(sc);
		free(cs);
		free(csrc);
		if (copied)
			goto done;
	}
	rc = tree_set_local(t, pn, L_PENDING, NULL);
	log_info("mkdir %s/%s/%s/%s: pending until a source point is named", region, rg, cn->name,
		 name);
done:
	if (rc == 0) {
		tree_set_fresh(t, pn, pid);
		tree_dir_attr(out, mkino(pn->idx, 0), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
	}
	return rc;
}

/* mkdir (see tree.h). */
int tree_mkdir(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
	       struct tree_attr *out)
{
	int slot;
	struct tnode *n = tree_node_of(t, parent, &slot);
	char alias[300];

	memset(out, 0, sizeof(*out));
	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks")) {
		/* cp making the view subdirectory. */
		tree_dir_attr(out, mkino(n->idx, S_P_DISKS), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
		tree_set_made(t, n, S_P_DISKS);
		return 0;
	}
	if (slot != S_DIR || (n->kind != N_RG && n->kind != N_RPC)) {
		log_warn("mkdir %s: only collections and restore points can be made", name);
		return -EPERM;
	}
	if (n->kind == N_RPC)
		name = point_name(name, alias, sizeof(alias)); /* tags:point is tags */
	if (arm_name_check(name) < 0)
		return tree_refuse_advise(
		    t, "mkdir", name, -EINVAL,
		    "not a name ARM accepts (at most 260 characters, none of "
		    "<>%&:\\?/ or control characters, not ending in '.' or space): "
		    "choose another name (nothing sent)");
	if (n->kind == N_RG)
		return mkdir_collection(t, n, name, pid, out);
	return mkdir_point(t, n, name, pid, out);
}
