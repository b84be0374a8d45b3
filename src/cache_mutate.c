/*
 * cache_mutate.c - mutations sent through the backend, and ARM's answers
 * to them folded into the cached values (a new point into its
 * collection's value, a new collection into its entry and the ListAll
 * answer), so that no GET is needed after a PUT (doc/DESIGN.md,
 * Mutations).  What cannot be folded is marked expired instead.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "cache_int.h"

/* strdup of a possibly NULL string into *dst; 0 or -ENOMEM. */
static int dup_str(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* Deep copy of a point (the instance view's progress is not copied: a
 * collection's points have none). */
static int dup_rp(struct arm_rp *d, const struct arm_rp *s)
{
	int rc = 0;

	*d = *s;
	d->progress = NULL;
	d->nprogress = 0;
	d->disks = NULL;
	d->ndisks = 0;
	rc |= dup_str(&d->id, s->id) | dup_str(&d->name, s->name) | dup_str(&d->state, s->state);
	rc |= dup_str(&d->consistency, s->consistency) | dup_str(&d->time_created, s->time_created);
	rc |= dup_str(&d->source_rp_id, s->source_rp_id) |
	      dup_str(&d->source_location, s->source_location) | dup_str(&d->cjson, s->cjson);
	if (!rc && s->ndisks) {
		d->disks = calloc(s->ndisks, sizeof(*d->disks));
		rc = d->disks ? 0 : -ENOMEM;
		for (size_t i = 0; !rc && i < s->ndisks; i++) {
			const struct arm_disk *a = &s->disks[i];
			struct arm_disk *b = &d->disks[i];

			*b = *a;
			b->caching = b->storage_type = b->disk_id = b->disk_rp_id = NULL;
			b->encryption_type = b->json = NULL;
			d->ndisks++;
			rc |= dup_str(&b->name, a->name) | dup_str(&b->caching, a->caching) |
			      dup_str(&b->storage_type, a->storage_type) |
			      dup_str(&b->disk_id, a->disk_id) |
			      dup_str(&b->disk_rp_id, a->disk_rp_id) |
			      dup_str(&b->encryption_type, a->encryption_type) |
			      dup_str(&b->json, a->json);
		}
	}
	if (rc) {
		arm_rp_clear(d);
		return -ENOMEM;
	}
	return 0;
}

/* Copy of collection s; with p, point p (moved out of *p) is added, or
 * put in place of the point of the same name. */
static struct arm_rpc *rpc_with_point(const struct arm_rpc *s, struct arm_rp *p)
{
	struct arm_rpc *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (!d)
		return NULL;
	*d = *s;
	d->tags = NULL;
	d->ntags = 0;
	d->points = calloc(s->npoints + 1, sizeof(*d->points));
	d->npoints = 0;
	rc |= dup_str(&d->id, s->id) | dup_str(&d->name, s->name) | dup_str(&d->rg, s->rg);
	rc |= dup_str(&d->location, s->location) | dup_str(&d->state, s->state);
	rc |= dup_str(&d->source_id, s->source_id) |
	      dup_str(&d->source_location, s->source_location) | dup_str(&d->json, s->json);
	if (!d->points)
		rc = -ENOMEM;
	if (!rc && s->ntags) {
		d->tags = calloc(s->ntags, sizeof(*d->tags));
		rc = d->tags ? 0 : -ENOMEM;
		for (size_t i = 0; !rc && i < s->ntags; i++) {
			d->ntags++;
			rc |= dup_str(&d->tags[i].key, s->tags[i].key) |
			      dup_str(&d->tags[i].value, s->tags[i].value);
		}
	}
	for (size_t i = 0; !rc && i < s->npoints; i++) {
		if (p && s->points[i].name && p->name && !strcasecmp(s->points[i].name, p->name))
			continue;
		rc = dup_rp(&d->points[d->npoints], &s->points[i]);
		if (!rc)
			d->npoints++;
	}
	if (rc) {
		arm_rpc_free(d);
		return NULL;
	}
	if (p) {
		d->points[d->npoints++] = *p;
		memset(p, 0, sizeof(*p));
		d->has_points = 1;
	}
	cache_compact_coll(d);
	return d;
}

/* A new ListAll value: the entries of cur (copied) with r in place of
 * the entry of the same group and name, or added. */
static struct cache_val *list_with(const struct cache_val *cur, const struct arm_rpc *r)
{
	struct cache_val *v = cache_val_new(CV_LIST);
	size_t n = 0;

	if (!v)
		return NULL;
	v->v = calloc(cur->n + 1, sizeof(*v->v));
	v->sorted = calloc(cur->n + 1, sizeof(*v->sorted));
	v->pages = cur->pages;
	if (!v->v || !v->sorted)
		goto fail;
	for (size_t i = 0; i < cur->n; i++) {
		const struct arm_rpc *a = cur->v[i];

		if (a->rg && a->name && !strcasecmp(a->rg, r->rg) && !strcasecmp(a->name, r->name))
			continue;
		if (!(v->v[n] = rpc_with_point(a, NULL)))
			goto fail;
		v->n = ++n;
	}
	if (!(v->v[n] = rpc_with_point(r, NULL)))
		goto fail;
	v->n = ++n;
	memcpy(v->sorted, v->v, n * sizeof(*v->sorted));
	qsort(v->sorted, n, sizeof(*v->sorted), cache_cmp_rpc);
	return v;
fail:
	cache_put(v);
	return NULL;
}

/* Put a new collection (ARM's 201 answer to its PUT) into the cache: its
 * own entry (no points yet) and the ListAll answer.  0 when both are
 * updated; else the caller expires them instead. */
static int fold_collection(struct cache *c, const struct arm_rpc *r)
{
	char key[KEY_MAX];
	struct cache_val *list = NULL, *nl = NULL, *nc = NULL;
	struct centry *e;
	uint64_t gen;
	int rc = -ENOENT;

	if (!r->rg || !r->name || !r->location ||
	    cache_coll_key(c, key, sizeof(key), r->rg, r->name) < 0)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	c->gen++;
	e = cache_entry_get(c, LIST_KEY);
	if (e && e->val && !e->fetching)
		list = cache_ref(e->val);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	if (!list)
		return -ENOENT;
	nl = list_with(list, r);
	nc = cache_val_new(CV_COLL);
	if (nc && (nc->rpc = rpc_with_point(r, NULL)) != NULL)
		nc->rpc->has_points = 1; /* just created: no points */
	if (nl && nc && nc->rpc) {
		struct cache_val *curc = NULL;

		pthread_mutex_lock(&c->lock);
		e = cache_entry_get(c, key);
		curc = e && e->val ? cache_ref(e->val) : NULL;
		pthread_mutex_unlock(&c->lock);
		if (cache_store_if(c, LIST_KEY, list, nl, gen) == 0 &&
		    cache_store_if(c, key, curc, nc, gen) == 0)
			rc = 0;
		cache_put(curc);
	}
	cache_put(list);
	cache_put(nl);
	cache_put(nc);
	return rc;
}

/* Put point p (ARM's answer to its PUT; moved) into the cached value of
 * its collection rg/name.  0, or -ENOENT when there is no value to update
 * (or one is being fetched): the caller expires the entry instead. */
static int fold_point(struct cache *c, const char *rg, const char *name, struct arm_rp *p)
{
	char key[KEY_MAX];
	struct centry *e;
	struct cache_val *cur = NULL, *nv = NULL;
	uint64_t gen;
	int rc = -ENOENT;

	if (!p->name || cache_coll_key(c, key, sizeof(key), rg, name) < 0)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	c->gen++; /* a fetch begun before the PUT must not be stored */
	e = cache_entry_get(c, key);
	if (e && e->val && !e->fetching && e->val->rpc && e->val->rpc->has_points)
		cur = cache_ref(e->val);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	if (!cur)
		return -ENOENT;
	nv = cache_val_new(CV_COLL);
	if (nv) {
		nv->rpc = rpc_with_point(cur->rpc, p);
		cache_pack_coll(nv);
	}
	/* a sweep may have freed the entry meanwhile: a new one holds no cur */
	if (nv && nv->rpc)
		rc = cache_store_if(c, key, cur, nv, gen);
	cache_put(cur);
	cache_put(nv);
	return rc;
}

/* Send one mutation through the backend and expire what it changes. */
int cache_mutate(struct cache *c, const struct cache_mut *m, struct arm_err *err)
{
	static const char *const ops[] = {[CM_PUT_RPC] = "RestorePointCollections_CreateOrUpdate",
					  [CM_PUT_RP] = "RestorePoints_Create",
					  [CM_DELETE_RP] = "RestorePoints_Delete",
					  [CM_DELETE_RPC] = "RestorePointCollections_Delete",
					  [CM_PATCH_TAGS] = "RestorePointCollections_Update"};
	char path[KEY_MAX];
	int rc = -EPERM, folded = 0;

	memset(err, 0, sizeof(*err));
	switch (m->op) {
	case CM_PUT_RPC:
		if (c->be.put_collection) {
			struct arm_rpc *ans = NULL;

			rc = c->be.put_collection(c->be.arg, m->rg, m->rpc, m->location,
						  m->source_id, m->tags, m->ntags, &ans, err);
			if (rc == 0 && ans && err->status == 201 && fold_collection(c, ans) == 0)
				folded = 1;
			if (ans)
				arm_rpc_free(ans);
		}
		break;
	case CM_PUT_RP:
		if (c->be.put_rp) {
			struct arm_rp *ans = NULL;

			rc = c->be.put_rp(c->be.arg, m->rg, m->rpc, m->rp, m->source_rp_id,
					  m->consistency, &ans, err);
			if (rc == 0 && ans && fold_point(c, m->rg, m->rpc, ans) == 0)
				folded = 1;
			if (ans)
				arm_rp_free(ans);
		}
		break;
	case CM_DELETE_RP:
		if (c->be.delete_rp)
			rc = c->be.delete_rp(c->be.arg, m->rg, m->rpc, m->rp, err);
		break;
	case CM_DELETE_RPC:
		if (c->be.delete_collection)
			rc = c->be.delete_collection(c->be.arg, m->rg, m->rpc, err);
		break;
	case CM_PATCH_TAGS:
		if (c->be.patch_tags)
			rc = c->be.patch_tags(c->be.arg, m->rg, m->rpc, m->tags, m->ntags, err);
		break;
	}
	/* A point changes its collection only; the ListAll answer holds the
	 * collections with their tags.  An answer without an HTTP status was
	 * not sent (dry_run's backend): nothing changed at ARM. */
	if (!folded && !(rc == 0 && err->status == 0))
		cache_expire(c, m->rg, m->rpc,
			     m->op == CM_PUT_RPC || m->op == CM_DELETE_RPC ||
				 m->op == CM_PATCH_TAGS);
	if (m->folded)
		*m->folded = folded;
	if (rc < 0) {
		snprintf(path, sizeof(path),
			 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			 "restorePointCollections/%s%s%s",
			 c->sub, m->rg ? m->rg : "", m->rpc ? m->rpc : "",
			 m->rp ? "/restorePoints/" : "", m->rp ? m->rp : "");
		cache_record_error(c, ops[m->op], path, err, rc);
	}
	return rc;
}
