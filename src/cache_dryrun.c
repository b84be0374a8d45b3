/*
 * cache_dryrun.c - the dry_run backend: a decorator of another cache
 * backend that passes every read through and records every mutation
 * instead of sending it.
 *
 * Why a decorator: with -o dry_run the whole mount behaves as usual (names
 * are checked, pending directories made, cp's writes absorbed) down to the
 * one place a request would leave for ARM, so that place alone is swapped.
 * A recorded mutation renders the request exactly as the ARM client would
 * send it (method, URL path, body on one line) and hands that line to the
 * recorder the tree installs (.rpfs/ops), and logs it.  Its answer has no
 * HTTP status (err->status 0): cache_mutate then knows nothing changed at
 * ARM and leaves the cache as it is, and the tree writes no result line.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "cache.h"
#include "log.h"
#include "sbuf.h"

struct cache_dryrun {
	struct cache_backend inner;
	char *sub;
	void (*record)(void *arg, const char *line);
	void *record_arg;
};

/* A JSON body on one line (the renderers pretty-print). */
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

/* Record one request that is not sent.  body may be NULL (no body). */
static int record(struct cache_dryrun *d, const char *verb, const char *rg, const char *rpc,
		  const char *rp, char *body, struct arm_err *err)
{
	char *path = rp ? arm_url_path_rp(d->sub, rg, rpc, rp) : arm_url_path_rpc(d->sub, rg, rpc);
	struct sbuf b;
	char *line = NULL;
	int rc;

	memset(err, 0, sizeof(*err)); /* status 0: not sent */
	if (!path) {
		free(body);
		return -ENOMEM;
	}
	if (body)
		one_line(body);
	sbuf_init(&b, 1u << 20);
	sbuf_addf(&b, "dry_run %s %s %s", verb, path, body ? body : "-");
	rc = sbuf_finish(&b, &line, NULL);
	if (rc == 0) {
		if (d->record)
			d->record(d->record_arg, line);
		log_info("dry_run: %s %s (not sent)", verb, path);
	}
	free(line);
	free(path);
	free(body);
	return rc;
}

static int dr_list(void *arg, struct arm_rpc ***out, size_t *n, unsigned *pages,
		   struct arm_err *err)
{
	struct cache_dryrun *d = arg;

	return d->inner.list_collections(d->inner.arg, out, n, pages, err);
}

static int dr_coll(void *arg, const char *rg, const char *name, struct arm_rpc **out,
		   struct arm_err *err)
{
	struct cache_dryrun *d = arg;

	return d->inner.get_collection(d->inner.arg, rg, name, out, err);
}

static int dr_rp(void *arg, const char *rg, const char *rpc, const char *rp, struct arm_rp **out,
		 struct arm_err *err)
{
	struct cache_dryrun *d = arg;

	return d->inner.get_rp_view(d->inner.arg, rg, rpc, rp, out, err);
}

static int dr_rg(void *arg, const char *rg, char **name_out, struct arm_err *err)
{
	struct cache_dryrun *d = arg;

	return d->inner.get_rg(d->inner.arg, rg, name_out, err);
}

static void dr_stats(void *arg, struct arm_stats *out)
{
	struct cache_dryrun *d = arg;

	d->inner.stats(d->inner.arg, out);
}

static void dr_flush(void *arg)
{
	struct cache_dryrun *d = arg;

	d->inner.flush(d->inner.arg);
}

static int dr_list_rgs(void *arg, char ***names, size_t *n, struct arm_err *err)
{
	struct cache_dryrun *d = arg;

	return d->inner.list_rgs(d->inner.arg, names, n, err);
}

static int dr_put_rpc(void *arg, const char *rg, const char *name, const char *location,
		      const char *source_id, const struct arm_tag *tags, size_t ntags,
		      struct arm_rpc **out, struct arm_err *err)
{
	*out = NULL;
	return record(arg, "PUT", rg, name, NULL,
		      arm_body_put_collection(location, source_id, tags, ntags), err);
}

static int dr_put_rp(void *arg, const char *rg, const char *rpc, const char *rp,
		     const char *source_rp_id, const char *consistency, struct arm_rp **out,
		     struct arm_err *err)
{
	*out = NULL;
	return record(arg, "PUT", rg, rpc, rp, arm_body_put_rp(source_rp_id, consistency), err);
}

static int dr_delete_rp(void *arg, const char *rg, const char *rpc, const char *rp,
			struct arm_err *err)
{
	return record(arg, "DELETE", rg, rpc, rp, NULL, err);
}

static int dr_delete_rpc(void *arg, const char *rg, const char *name, struct arm_err *err)
{
	return record(arg, "DELETE", rg, name, NULL, NULL, err);
}

static int dr_patch(void *arg, const char *rg, const char *name, const struct arm_tag *tags,
		    size_t ntags, struct arm_err *err)
{
	return record(arg, "PATCH", rg, name, NULL, arm_body_patch_tags(tags, ntags), err);
}

int cache_dryrun_new(const struct cache_backend *inner, const char *sub, struct cache_dryrun **d,
		     struct cache_backend *out)
{
	struct cache_dryrun *n = calloc(1, sizeof(*n));

	if (!n || !(n->sub = strdup(sub ? sub : ""))) {
		free(n);
		return -ENOMEM;
	}
	n->inner = *inner;
	memset(out, 0, sizeof(*out));
	out->arg = n;
	out->list_collections = inner->list_collections ? dr_list : NULL;
	out->get_collection = inner->get_collection ? dr_coll : NULL;
	out->get_rp_view = inner->get_rp_view ? dr_rp : NULL;
	out->get_rg = inner->get_rg ? dr_rg : NULL;
	out->stats = inner->stats ? dr_stats : NULL;
	out->flush = inner->flush ? dr_flush : NULL;
	out->list_rgs = inner->list_rgs ? dr_list_rgs : NULL;
	out->put_collection = dr_put_rpc;
	out->put_rp = dr_put_rp;
	out->delete_rp = dr_delete_rp;
	out->delete_collection = dr_delete_rpc;
	out->patch_tags = dr_patch;
	*d = n;
	return 0;
}

void cache_dryrun_set_record(struct cache_dryrun *d, void (*fn)(void *arg, const char *line),
			     void *arg)
{
	d->record = fn;
	d->record_arg = arg;
}

void cache_dryrun_free(struct cache_dryrun *d)
{
	if (!d)
		return;
	free(d->sub);
	free(d);
}
