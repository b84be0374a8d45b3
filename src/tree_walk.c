/*
 * tree_walk.c - read-ahead of a recursive walk.
 *
 * Listing a region prefetches its collections (in the background); a
 * person looking at one region costs no more.  But `ls -lR`, find, du,
 * tar or cp -r of the whole mount would then wait for one burst of GETs
 * per region, with the local work of the region before in between.  So
 * when a walk of the whole mount is evident, every collection is queued at
 * once, in walk order (region, resource group, name; max_conns workers).
 * Evident means a chain of fresh listings each started within WALK_GAP_MS
 * of the previous one's end: the root, then a region (other regions, empty
 * ones, may come between), then a resource group of that region.  Only a
 * program goes that fast (typing or tab completion takes longer), a walk
 * below one region never lists the root, and a plain `ls` of the mount
 * lists nothing below it.  Each collection is still fetched once, so a
 * cold `ls -lR` costs 1 + pages + collections requests.
 *
 * The walk state is under t->walk_lock, taken alone.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "blocking.h"
#include "log.h"
#include "tree_int.h"

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
void tree_prefetch_in_walk_order(struct tree *t, const struct arm_rpc **v, size_t n, int first)
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

/* Wait until the collections v (n, in the order they are fetched) are
 * fetched, op_timeout at most, so that a listing answers in time: what has
 * not arrived by then is listed from the ListAll answer while its fetch
 * goes on.  0, or -EINTR when the caller gave up. */
int tree_wait_fetched(struct tree *t, const struct arm_rpc **v, size_t n)
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
int tree_walk_note_start(struct tree *t, const struct tnode *node, int slot)
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
void tree_walk_note_end(struct tree *t)
{
	pthread_mutex_lock(&t->walk_lock);
	t->walk_end_ms = walk_now_ms();
	pthread_mutex_unlock(&t->walk_lock);
}

/* Queue a fetch of every collection not fresh, in walk order. */
void tree_walk_prefetch_all(struct tree *t)
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
	tree_prefetch_in_walk_order(t, v, n, 0);
	free(v);
	cache_put(list);
}
