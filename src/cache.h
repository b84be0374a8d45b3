/*
 * cache.h - the answers rpfs got from ARM, keyed by ARM id, with TTLs,
 * negative entries, single flight per URL and stale-on-error (see
 * doc/DESIGN.md, The cache).
 *
 * The cache sits on a small backend (struct cache_backend): the ARM client
 * by default (cache_backend_arm), a fake in the unit tests.  Values are
 * immutable and reference-counted: a caller gets its own reference and
 * drops it with cache_put(); a refresh replaces the value in the cache but
 * never changes one a caller holds.  With cfg.max_bytes (cache_max), the
 * least recently used collections are dropped past it and fetched again
 * when next used; a caller's reference keeps its value valid meanwhile.
 * The model structs inside (struct arm_rpc, struct arm_rp) are read-only
 * for callers; in a collection's points, each disk keeps only its name,
 * lun, size and json (the other fields are inside the json and are freed
 * to save memory).
 *
 * Thread-safe.  One mutex protects the table; it is never held across a
 * backend call.  Functions return 0 or a negative errno (arm_errno's);
 * -EAGAIN from CACHE_NOFETCH means "nothing cached".
 */
#ifndef RPFS_CACHE_H
#define RPFS_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arm.h"

struct cache;

/* What the cache asks of the layer below. */
struct cache_backend {
	void *arg;
	int (*list_collections)(void *arg, struct arm_rpc ***out, size_t *n, unsigned *pages,
				struct arm_err *err);
	int (*get_collection)(void *arg, const char *rg, const char *name, struct arm_rpc **out,
			      struct arm_err *err); /* with $expand=restorePoints */
	int (*get_rp_view)(void *arg, const char *rg, const char *rpc, const char *rp,
			   struct arm_rp **out, struct arm_err *err); /* $expand=instanceView */
	int (*get_rg)(void *arg, const char *rg, char **name_out, struct arm_err *err);
	void (*stats)(void *arg, struct arm_stats *out); /* may be NULL */
	void (*flush)(void *arg); /* cache_flush: end a 429's pause; may be NULL */
	/* Mutations (may be NULL: -EPERM).  err receives ARM's answer; a PUT
	 * gives ARM's answer too (*out NULL when it had no body). */
	int (*put_collection)(void *arg, const char *rg, const char *name, const char *location,
			      const char *source_id, const struct arm_tag *tags, size_t ntags,
			      struct arm_rpc **out, struct arm_err *err);
	int (*put_rp)(void *arg, const char *rg, const char *rpc, const char *rp,
		      const char *source_rp_id, const char *consistency, struct arm_rp **out,
		      struct arm_err *err);
	int (*delete_rp)(void *arg, const char *rg, const char *rpc, const char *rp,
			 struct arm_err *err);
	int (*delete_collection)(void *arg, const char *rg, const char *name, struct arm_err *err);
	int (*patch_tags)(void *arg, const char *rg, const char *name, const struct arm_tag *tags,
			  size_t ntags, struct arm_err *err);
	/* ResourceGroups_List, every page (may be NULL: no spelling from it). */
	int (*list_rgs)(void *arg, char ***names, size_t *n, struct arm_err *err);
};

/* The ARM client as a backend (c is borrowed). */
void cache_backend_arm(struct arm_client *c, struct cache_backend *out);

/* dry_run (cache_dryrun.c): out passes reads to inner (copied) and records
 * each mutation instead of sending it: the request line ("dry_run VERB
 * PATH BODY") goes to the recorder, the answer is 0 with err->status 0
 * (not sent), and cache_mutate then leaves the cache as it is.  sub is the
 * subscription of the paths.  Free d after the cache. */
struct cache_dryrun;
int cache_dryrun_new(const struct cache_backend *inner, const char *sub, struct cache_dryrun **d,
		     struct cache_backend *out);
/* Who records the lines (the tree's .rpfs/ops); before, lines are logged only. */
void cache_dryrun_set_record(struct cache_dryrun *d, void (*fn)(void *arg, const char *line),
			     void *arg);
void cache_dryrun_free(struct cache_dryrun *d);

struct cache_cfg {
	const char *subscription;	 /* for ARM ids (keys and .rpfs/errors paths) */
	unsigned ttl, neg_ttl, busy_ttl; /* seconds */
	unsigned max_conns;		 /* prefetch threads */
	unsigned op_timeout;		 /* longest wait for another thread's fetch */
	size_t max_bytes;		 /* cache_max: collections are evicted, least
					    recently used first, past it; 0: no cap */
};

enum cache_kind { CV_LIST, CV_COLL, CV_RP, CV_RG, CV_RGS };

/* One immutable answer. */
struct cache_val {
	int refs; /* atomic */
	enum cache_kind kind;
	time_t fetched; /* wall clock */
	/* CV_LIST: RestorePointCollections_ListAll, every page */
	struct arm_rpc **v;
	size_t n;
	unsigned pages;
	struct arm_rpc **sorted; /* v sorted by (rg, name), case-insensitive */
	/* CV_COLL: one collection with its points; CV_RP: one point with its
	 * instance view; CV_RG: name = ARM's spelling of the resource group */
	struct arm_rpc *rpc;
	struct arm_rp *rp;
	char *name;
	/* CV_RGS: ResourceGroups_List, every page: the groups' names as the
	 * resource groups API spells them */
	char **names;
	size_t nnames;
	int stale;    /* served after a refresh failed */
	void *pack;   /* CV_COLL: one block holding the points' strings and disks */
	size_t bytes; /* approximate memory it holds (the cache counts it) */
};

enum cache_mode {
	CACHE_FETCH,  /* refresh when expired (may block on the network) */
	CACHE_NOFETCH /* whatever is cached, even expired; -EAGAIN when nothing */
};

/* Called after a refresh replaced a value (old may be NULL), without any
 * cache lock held: the tree turns it into kernel invalidations. */
typedef void (*cache_change_fn)(void *arg, const struct cache_val *oldv,
				const struct cache_val *newv);

int cache_new(const struct cache_backend *be, const struct cache_cfg *cfg, struct cache **out);
/* Stop the prefetch threads, waiting for their requests (idempotent);
 * call it before freeing what the listener uses. */
void cache_stop(struct cache *c);
/* Stops the prefetch threads (waits for their requests) and frees. */
void cache_free(struct cache *c);
void cache_set_listener(struct cache *c, cache_change_fn fn, void *arg);

/* All collections of the subscription.  Errors: backend errnos. */
int cache_list(struct cache *c, enum cache_mode mode, struct cache_val **out);
/* One collection with its points (-ENOENT negative-cached for neg_ttl). */
int cache_coll(struct cache *c, const char *rg, const char *name, enum cache_mode mode,
	       struct cache_val **out);
/* A resource group's existence and spelling (negative-cached). */
int cache_rg(struct cache *c, const char *rg, enum cache_mode mode, struct cache_val **out);
/* The resource groups of the subscription as the resource groups API
 * spells them (one ResourceGroups_List, paged, kept for ttl); -ENOSYS when
 * the backend has no such list. */
int cache_rgs(struct cache *c, enum cache_mode mode, struct cache_val **out);
/* Start fetching that list in the background unless fresh or in flight. */
void cache_prefetch_rgs(struct cache *c);
/* The resource groups API's spelling of group rg (a copy, caller frees),
 * from the cached list only (never a request); NULL when unknown. */
char *cache_rg_spelling(struct cache *c, const char *rg);
/* A point with its instance view: always a fresh request, shared by
 * concurrent callers (never served from the table). */
int cache_rp_view(struct cache *c, const char *rg, const char *rpc, const char *rp,
		  struct cache_val **out);
/* Drop a reference (NULL is fine). */
void cache_put(struct cache_val *v);
struct cache_val *cache_ref(struct cache_val *v);

/* Fetch a collection (rg NULL: the ListAll answer) in the background (up
 * to max_conns at once) unless it is cached and fresh or already being
 * fetched. */
void cache_prefetch(struct cache *c, const char *rg, const char *name);
/* The same, ahead of everything queued: what a listing waits for. */
void cache_prefetch_first(struct cache *c, const char *rg, const char *name);

/* 1 when a collection (rg NULL: the ListAll answer) is cached and not
 * expired. */
int cache_fresh(struct cache *c, const char *rg, const char *name);
/* 1 while collection rg/name is being fetched or queued for it. */
int cache_pending(struct cache *c, const char *rg, const char *name);

/* Drop every cached answer (and end a 429's pause); fetches in flight are
 * not stored. */
void cache_flush(struct cache *c);
/* Called about once a second: every few seconds, frees the entries whose
 * "does not exist" answer has expired. */
void cache_sweep(struct cache *c);

/* Find a collection in a CV_LIST value (case-insensitive), NULL if absent. */
const struct arm_rpc *cache_list_find(const struct cache_val *list, const char *rg,
				      const char *name);
/* 1 when the state is not terminal (anything but Succeeded / Failed). */
int cache_state_busy(const char *state);

/* A mutation sent through the backend (doc/DESIGN.md, Mutations). */
enum cache_mut_op { CM_PUT_RPC, CM_PUT_RP, CM_DELETE_RP, CM_DELETE_RPC, CM_PATCH_TAGS };
struct cache_mut {
	enum cache_mut_op op;
	const char *rg, *rpc, *rp;	  /* rp for point operations */
	const char *location, *source_id; /* CM_PUT_RPC */
	const char *source_rp_id;	  /* CM_PUT_RP copy, else NULL */
	const char *consistency;	  /* CM_PUT_RP new point, may be NULL */
	const struct arm_tag *tags;	  /* CM_PATCH_TAGS, CM_PUT_RPC (the tags it creates) */
	size_t ntags;
	int *folded; /* out, may be NULL: 1 when ARM's answer to a PUT updated
		      * the cache (no GET needed after it) */
};
/* Send a mutation (no lock held across it); a failure is recorded in
 * .rpfs/errors.  A point PUT's answer (the point) is put into the cached
 * collection when there is one, a new collection's (201) into its entry
 * and the ListAll answer (*m->folded = 1), and the listener told.
 * Otherwise, whatever the answer, the collection's entry (and for a
 * collection PUT, DELETE or PATCH, the ListAll answer) is marked expired;
 * the values are kept so that the next fetch reports the difference to
 * the listener.  Returns 0 or the
 * errno of ARM's answer; -EPERM when the backend cannot mutate. */
int cache_mutate(struct cache *c, const struct cache_mut *m, struct arm_err *err);
/* Mark a collection (rg/name) and, with list, the ListAll answer expired. */
void cache_expire(struct cache *c, const char *rg, const char *name, int list);
/* The subscription the cache was made for. */
const char *cache_subscription(const struct cache *c);

/* Renderings for .rpfs/stats and .rpfs/errors; caller frees *out. */
int cache_render_stats(struct cache *c, char **out, size_t *len);
int cache_render_errors(struct cache *c, char **out, size_t *len);
/* Record a failure seen above the cache (a fetch records its own). */
void cache_record_error(struct cache *c, const char *op, const char *path,
			const struct arm_err *err, int rc);

#endif
