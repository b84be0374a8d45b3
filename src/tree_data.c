/*
 * tree_data.c - what a node stands for: the ListAll answer, a collection
 * with its points and a point, taken from the cache in one of the modes
 * of enum dmode (fetch what expired, take anything cached, or never wait),
 * and ARM's times parsed.
 *
 * Why it is built this way: nothing in the tree copies ARM data; every
 * reader resolves a node through here into a struct dctx that holds cache
 * references, so a cache refresh is the only way what the tree shows
 * changes, and a value stays valid while a reader holds it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "tree_int.h"

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
int tree_rp_data(struct tree *t, const struct tnode *n, enum dmode m, struct dctx *d)
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

/* Find a point by name in a collection, Deleting ones included. */
const struct arm_rp *tree_point_named(const struct arm_rpc *r, const char *name)
{
	for (size_t i = 0; r && i < r->npoints; i++)
		if (same(r->points[i].name, name))
			return &r->points[i];
	return NULL;
}
