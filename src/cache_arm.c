/*
 * cache_arm.c - the ARM client as the cache's backend.  Kept apart from
 * cache.c so that unit tests of the cache and the tree can run on a fake
 * backend without linking a network client.
 */
#include "config.h"

#include "cache.h"

/* ListAll, every page. */
static int be_list(void *arg, struct arm_rpc ***out, size_t *n, unsigned *pages,
		   struct arm_err *err)
{
	return arm_list_collections(arg, out, n, pages, err);
}

/* One collection with $expand=restorePoints. */
static int be_coll(void *arg, const char *rg, const char *name, struct arm_rpc **out,
		   struct arm_err *err)
{
	return arm_get_collection(arg, rg, name, 1, out, err);
}

/* One point with $expand=instanceView. */
static int be_rp(void *arg, const char *rg, const char *rpc, const char *rp, struct arm_rp **out,
		 struct arm_err *err)
{
	return arm_get_rp(arg, rg, rpc, rp, 1, out, err);
}

/* A resource group. */
static int be_rg(void *arg, const char *rg, char **name_out, struct arm_err *err)
{
	return arm_get_resource_group(arg, rg, name_out, err);
}

/* Request counters. */
static void be_stats(void *arg, struct arm_stats *out)
{
	arm_stats_get(arg, out);
}

/* A flush: the next request goes out even during a 429's pause. */
static void be_flush(void *arg)
{
	arm_resume(arg);
}

/* ResourceGroups_List, every page. */
static int be_list_rgs(void *arg, char ***names, size_t *n, struct arm_err *err)
{
	return arm_list_resource_groups(arg, names, n, err);
}

/* Collection PUT (a copy: its source is a collection) with the tags to
 * create it with, and ARM's answer (the collection). */
static int be_put_rpc(void *arg, const char *rg, const char *name, const char *location,
		      const char *source_id, const struct arm_tag *tags, size_t ntags,
		      struct arm_rpc **out, struct arm_err *err)
{
	return arm_put_collection(arg, rg, name, location, source_id, tags, ntags, out, err);
}

/* Restore point PUT with ARM's answer (the point), so the cache needs no
 * GET of its collection after it. */
static int be_put_rp(void *arg, const char *rg, const char *rpc, const char *rp,
		     const char *source_rp_id, const char *consistency, struct arm_rp **out,
		     struct arm_err *err)
{
	return arm_put_rp(arg, rg, rpc, rp, source_rp_id, consistency, out, NULL, err);
}

/* Restore point DELETE: returns when ARM accepts. */
static int be_del_rp(void *arg, const char *rg, const char *rpc, const char *rp,
		     struct arm_err *err)
{
	return arm_delete_rp(arg, rg, rpc, rp, NULL, err);
}

/* Collection DELETE: returns when ARM accepts. */
static int be_del_rpc(void *arg, const char *rg, const char *name, struct arm_err *err)
{
	return arm_delete_collection(arg, rg, name, NULL, err);
}

/* Collection PATCH of the tags. */
static int be_patch(void *arg, const char *rg, const char *name, const struct arm_tag *tags,
		    size_t ntags, struct arm_err *err)
{
	return arm_patch_collection_tags(arg, rg, name, tags, ntags, NULL, err);
}

/* Fill a backend that forwards to the ARM client c. */
void cache_backend_arm(struct arm_client *c, struct cache_backend *out)
{
	out->arg = c;
	out->list_collections = be_list;
	out->get_collection = be_coll;
	out->get_rp_view = be_rp;
	out->get_rg = be_rg;
	out->stats = be_stats;
	out->flush = be_flush;
	out->put_collection = be_put_rpc;
	out->list_rgs = be_list_rgs;
	out->put_rp = be_put_rp;
	out->delete_rp = be_del_rp;
	out->delete_collection = be_del_rpc;
	out->patch_tags = be_patch;
}
