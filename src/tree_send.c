/*
 * tree_send.c - sending one mutation through the cache (or, with dry_run,
 * recording it): its .rpfs/ops line, the point's `error` file, the log,
 * and the fetch of what it changed.
 *
 * Why it is built this way: every mutation goes through tree_send_mut, so
 * the ops lines and the dry_run rule are written once.  After each
 * mutation the collection (and for a collection, the ListAll answer) is
 * fetched again: the cache listener turns the differences into kernel
 * invalidations, so new and removed names show at once.
 *
 * dry_run is decided here, not by a decorator of the cache's backend:
 * cache_mutate expires the collection and the ListAll answer after every
 * backend call whose answer it does not fold into the cache, so a
 * recorded-only mutation sent through it would make the next lookups GET
 * them again, which a dry run does not do.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "tree_int.h"

/* A JSON body on one line (the views are pretty-printed). */
static void one_line(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '\n') {
			while (r[1] == ' ' || r[1] == '\t')
				r++;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
}

static const char *const verbs[] = {[CM_PUT_RPC] = "PUT",
				    [CM_PUT_RP] = "PUT",
				    [CM_DELETE_RP] = "DELETE",
				    [CM_DELETE_RPC] = "DELETE",
				    [CM_PATCH_TAGS] = "PATCH"};

/* dry_run: record mutation m (ARM id id) in .rpfs/ops as the request that
 * would be sent (URL path and body on one line) and in the log; nothing
 * is sent and the cache is left as it is (no entry expired, no fetch). */
static int send_recorded(struct tree *t, const struct cache_mut *m, const char *id)
{
	const char *sub = cache_subscription(t->c);
	char *body = NULL, *path;

	if (m->op == CM_PUT_RPC)
		body = arm_body_put_collection(m->location, m->source_id, m->tags, m->ntags);
	else if (m->op == CM_PUT_RP)
		body = arm_body_put_rp(m->source_rp_id, m->consistency);
	else if (m->op == CM_PATCH_TAGS)
		body = arm_body_patch_tags(m->tags, m->ntags);
	path = m->rp ? arm_url_path_rp(sub, m->rg, m->rpc, m->rp)
		     : arm_url_path_rpc(sub, m->rg, m->rpc);
	if (body)
		one_line(body);
	tree_ops_add(t, "dry_run %s %s %s", verbs[m->op], path ? path : id, body ? body : "-");
	log_info("dry_run: %s %s (not sent)", verbs[m->op], id);
	free(body);
	free(path);
	return 0;
}

/* Send one mutation (or, with dry_run, record it).  Returns ARM's errno. */
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
	if (t->cfg.dry_run) {
		rc = send_recorded(t, m, id);
		free(id);
		return rc;
	}
	rc = cache_mutate(t->c, m, &err);
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
