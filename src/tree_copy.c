/*
 * tree_copy.c - copies started from this mount: .rpfs/copies (target,
 * source, percent), a copy's failure shown in its point's `error` file,
 * and the unsure copies (a copy PUT whose answer never came).
 *
 * Why it is built this way: a copy without an answer may still land, so
 * it is unsure: later copies into that collection wait until it shows in
 * ARM (tree_unsure_settle, ETIMEDOUT after op_timeout), and a rerun of
 * cp -r completes it.  The records are in memory only and under t->mlock;
 * percentages come from each point's instance view, asked for when
 * .rpfs/copies is opened.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sbuf.h"
#include "tree_int.h"

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
void tree_copies_free(struct tree *t)
{
	struct copy_rec *r, *next;

	for (r = t->copies; r; r = next) {
		next = r->next;
		copy_rec_free(r);
	}
	t->copies = NULL;
}

/* Remember a copy started from this mount (for .rpfs/copies and EBUSY). */
void tree_copy_add(struct tree *t, const char *target, const char *source, const char *rg,
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

/*
 * Copies into one collection go in order: ARM refuses a copy of a point
 * older than one the collection already has.  A copy PUT whose answer
 * never came (no answer within op_timeout) may still land later, after
 * copies sent behind it, and then fail for good: a rerun of cp -r would
 * meet "copies in order" forever.  So such a copy is remembered as unsure,
 * and a later copy into the collection first waits (op_timeout) until
 * every unsure copy there has appeared in ARM.  A copy that gives up
 * waiting (ETIMEDOUT) becomes unsure too, as it was skipped: a rerun of
 * cp -r, which meets the unsure points first, sends them, and the others
 * follow in order.
 */
struct unsure {
	struct unsure *next;
	const struct tnode *cn; /* the collection */
	char *point;		/* a point whose copy may or may not exist */
};

/* 1 when cn has unsure copies; *mine = 1 when point name is one of them. */
static int unsure_any(struct tree *t, const struct tnode *cn, const char *name, int *mine)
{
	int any = 0;

	*mine = 0;
	pthread_mutex_lock(&t->mlock);
	for (struct unsure *u = t->unsure; u; u = u->next)
		if (u->cn == cn) {
			any = 1;
			if (!strcasecmp(u->point, name))
				*mine = 1;
		}
	pthread_mutex_unlock(&t->mlock);
	return any;
}

/* Remember point's copy into cn as unsure. */
void tree_unsure_add(struct tree *t, const struct tnode *cn, const char *point)
{
	struct unsure *u = calloc(1, sizeof(*u));
	int dup;

	if (!u || !(u->point = strdup(point))) {
		free(u);
		return;
	}
	u->cn = cn;
	if (unsure_any(t, cn, point, &dup) && dup) {
		free(u->point);
		free(u);
		return;
	}
	pthread_mutex_lock(&t->mlock);
	u->next = t->unsure;
	t->unsure = u;
	pthread_mutex_unlock(&t->mlock);
}

/* Forget cn's unsure copies: the one of point (not NULL), else those
 * collection r (ARM's answer) now holds. */
void tree_unsure_drop(struct tree *t, const struct tnode *cn, const char *point,
		      const struct arm_rpc *r)
{
	struct unsure **pp, *u;

	pthread_mutex_lock(&t->mlock);
	for (pp = &t->unsure; (u = *pp) != NULL;) {
		if (u->cn == cn && (point ? !strcasecmp(u->point, point)
					  : r && tree_point_named(r, u->point) != NULL)) {
			*pp = u->next;
			free(u->point);
			free(u);
		} else {
			pp = &u->next;
		}
	}
	pthread_mutex_unlock(&t->mlock);
}

/* Free the list (tree_free). */
void tree_unsure_free(struct tree *t)
{
	while (t->unsure) {
		struct unsure *u = t->unsure;

		t->unsure = u->next;
		free(u->point);
		free(u);
	}
}

/* Before a copy of point name into cn: 0 when it may be sent (no unsure
 * copy there, or it is one of them: the rerun), else wait until the unsure
 * copies have appeared in ARM; -ETIMEDOUT after op_timeout. */
int tree_unsure_settle(struct tree *t, struct tnode *cn, const char *name, const char *what)
{
	const char *rg = cn->parent->name;
	struct timespec t0, now;
	unsigned limit = t->cfg.op_timeout ? t->cfg.op_timeout : 30;
	int mine;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (unsure_any(t, cn, name, &mine) && !mine) {
		struct cache_val *cv = NULL;

		cache_expire(t->c, rg, cn->name, 0);
		if (cache_coll(t->c, rg, cn->name, CACHE_FETCH, &cv) == 0) {
			tree_unsure_drop(t, cn, NULL, cv->rpc);
			cache_put(cv);
		}
		if (!unsure_any(t, cn, name, &mine))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec + 1 >= (time_t)limit) {
			tree_unsure_add(t, cn, name); /* skipped: it goes first on the rerun */
			return tree_refuse_op(
			    t, "PUT", what, -ETIMEDOUT,
			    "an earlier copy into this collection has no known outcome "
			    "yet, and copies go in order: run cp -r again");
		}
		sleep(1);
	}
	return 0;
}

/* 1 when a copy whose source is src_id is still running (asks ARM). */
int tree_copy_running(struct tree *t, const char *src_id)
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

/* A copy started from this mount failed: its error, and no longer tracked. */
int tree_copy_failed(struct tree *t, const struct tnode *n, const char *rg, const char *rpc,
		     const char *rp, const char *iv_error)
{
	struct copy_rec *r = NULL;
	char *old;
	int isnew;

	pthread_mutex_lock(&t->mlock);
	for (struct copy_rec **pp = &t->copies; *pp; pp = &(*pp)->next)
		if (same((*pp)->rg, rg) && same((*pp)->rpc, rpc) && same((*pp)->rp, rp)) {
			r = *pp;
			*pp = r->next;
			break;
		}
	pthread_mutex_unlock(&t->mlock);
	if (!r)
		return 0;
	copy_rec_free(r);
	old = tree_node_error(t, n);
	isnew = !old;
	free(old);
	tree_set_node_error(t, n, tree_asprintf("copy: %s\n", iv_error));
	return isnew;
}

/* Refresh the percentages of the copies started here, dropping finished ones. */
void tree_copies_refresh(struct tree *t)
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
int tree_render_copies(struct tree *t, char **out)
{
	struct sbuf b;

	sbuf_init(&b, TREE_LOG_TEXT_MAX);
	pthread_mutex_lock(&t->mlock);
	for (struct copy_rec *r = t->copies; r; r = r->next) {
		if (r->percent >= 0)
			sbuf_addf(&b, "%s %s %d\n", r->target, r->source, r->percent);
		else
			sbuf_addf(&b, "%s %s ?\n", r->target, r->source);
	}
	pthread_mutex_unlock(&t->mlock);
	return sbuf_finish(&b, out, NULL);
}
