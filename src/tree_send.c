/*
 * tree_send.c - sending one mutation through the cache: its .rpfs/ops
 * line, the point's `error` file, the log, and the fetch of what it
 * changed.
 *
 * Why it is built this way: every mutation goes through tree_send_mut, so
 * the ops lines are written once.  After each
 * mutation the collection (and for a collection, the ListAll answer) is
 * fetched again: the cache listener turns the differences into kernel
 * invalidations, so new and removed names show at once.
 *
 * Under dry_run the cache's backend is cache_dryrun.c's decorator: it
 * records the request in .rpfs/ops itself (tree_ops_record) and answers
 * without an HTTP status, so no result line is added here.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "tree_int.h"

static const char *const verbs[] = {[CM_PUT_RPC] = "PUT",
				    [CM_PUT_RP] = "PUT",
				    [CM_DELETE_RP] = "DELETE",
				    [CM_DELETE_RPC] = "DELETE",
				    [CM_PATCH_TAGS] = "PATCH"};

/* Send one mutation through the cache.  Returns ARM's errno. */
int tree_send_mut(struct tree *t, const struct cache_mut *m)
{
	return tree_send_mut_on(t, m, NULL);
}

/* tree_send_mut for an existing point pn, whose `error` file then tells how
 * the operation ended. */
int tree_send_mut_on(struct tree *t, const struct cache_mut *m, const struct tnode *pn)
{
	const char *sub = cache_subscription(t->c);
	char *id =
	    m->rp ? arm_path_rp(sub, m->rg, m->rpc, m->rp) : arm_path_rpc(sub, m->rg, m->rpc);
	struct arm_err err;
	int rc;

	if (!id)
		return -ENOMEM;
	rc = cache_mutate(t->c, m, &err);
	if (rc == 0 && err.status == 0) { /* recorded, not sent (dry_run) */
		free(id);
		return 0;
	}
	tree_ops_add(t, "%s %s %d %s %s", verbs[m->op], id, err.status, tree_errname(rc),
		     err.request_id[0] ? err.request_id : "-");
	if (pn)
		tree_set_node_error(
		    t, pn,
		    rc < 0 ? tree_asprintf("%s: %s: %s (HTTP %d, x-ms-request-id %s)\n",
					   verbs[m->op], err.code[0] ? err.code : tree_errname(rc),
					   err.message[0] ? err.message : strerror(-rc), err.status,
					   err.request_id[0] ? err.request_id : "-")
			   : NULL);
	if (rc == 0)
		log_info("%s %s: %d (x-ms-request-id %s)", verbs[m->op], id, err.status,
			 err.request_id[0] ? err.request_id : "-");
	free(id);
	return rc;
}

/* Fetch a collection and, with list, the ListAll answer again (after a
 * mutation): the cache listener turns the differences into kernel
 * invalidations. */
void tree_refresh_coll(struct tree *t, const char *rg, const char *rpc, int list)
{
	struct cache_val *v = NULL;

	if (list && cache_list(t->c, CACHE_FETCH, &v) == 0)
		cache_put(v);
	v = NULL;
	if (rpc && cache_coll(t->c, rg, rpc, CACHE_FETCH, &v) == 0)
		cache_put(v);
}
