/*
 * cache_pack.c - what a cached collection keeps of its points, and what a
 * cached value costs in memory (memory per cached point is a benchmark
 * figure: doc/DESIGN.md, The cache).
 *
 * A collection's points drop what only their rendered views use
 * (compaction), and what they keep is moved into one block (the pack), so
 * that the freed parse tree's pages are not pinned by the survivors.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_int.h"

/* Drop the parts of a collection's points that only their rendered views
 * use (memory per cached point is a benchmark figure): a disk keeps its
 * name, lun and view length; its NAME.json is rendered again from the
 * point's compact JSON when opened (arm_rp_disk_json). */
void cache_compact_coll(struct arm_rpc *r)
{
	for (size_t i = 0; r && i < r->npoints; i++) {
		if (!r->points[i].cjson)
			continue;
		for (size_t j = 0; j < r->points[i].ndisks; j++)
			arm_disk_strip(&r->points[i].disks[j]);
	}
}

/* Bytes of s with its NUL, 0 for NULL. */
static size_t pk_len(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Move string *s into the pack at *cur. */
static void pk_move(char **s, char **cur)
{
	size_t n = pk_len(*s);

	if (!*s)
		return;
	memcpy(*cur, *s, n);
	free(*s);
	*s = *cur;
	*cur += n;
}

/* Pack what a collection value's points keep into one block (v->pack):
 * their strings are allocated while json-c's parse tree is, so, left
 * where they are, they would pin the freed tree's pages (most of the
 * resident size of a cached point).  Compacts first; all or nothing. */
void cache_pack_coll(struct cache_val *v)
{
	struct arm_rpc *r = v->rpc;
	size_t total = 0;
	char *block, *cur;

	if (!r || v->pack)
		return;
	cache_compact_coll(r);
	for (size_t i = 0; i < r->npoints; i++) {
		struct arm_rp *p = &r->points[i];

		if (p->progress || p->nprogress)
			return; /* not a collection's point: leave it */
		total += (p->ndisks * sizeof(*p->disks) + 7) & ~(size_t)7;
		total += pk_len(p->id) + pk_len(p->name) + pk_len(p->state) +
			 pk_len(p->consistency) + pk_len(p->time_created) +
			 pk_len(p->source_rp_id) + pk_len(p->source_location) + pk_len(p->cjson);
		for (size_t j = 0; j < p->ndisks; j++) {
			if (p->disks[j].caching || p->disks[j].storage_type ||
			    p->disks[j].disk_id || p->disks[j].disk_rp_id ||
			    p->disks[j].encryption_type || p->disks[j].json)
				return; /* not compacted */
			total += pk_len(p->disks[j].name);
		}
	}
	if (!total || !(block = malloc(total)))
		return;
	cur = block;
	for (size_t i = 0; i < r->npoints; i++) {
		struct arm_rp *p = &r->points[i];

		if (p->ndisks) {
			struct arm_disk *d = (struct arm_disk *)(void *)cur;

			memcpy(d, p->disks, p->ndisks * sizeof(*d));
			free(p->disks);
			p->disks = d;
			cur += (p->ndisks * sizeof(*d) + 7) & ~(size_t)7;
		}
	}
	for (size_t i = 0; i < r->npoints; i++) {
		struct arm_rp *p = &r->points[i];

		pk_move(&p->id, &cur);
		pk_move(&p->name, &cur);
		pk_move(&p->state, &cur);
		pk_move(&p->consistency, &cur);
		pk_move(&p->time_created, &cur);
		pk_move(&p->source_rp_id, &cur);
		pk_move(&p->source_location, &cur);
		pk_move(&p->cjson, &cur);
		for (size_t j = 0; j < p->ndisks; j++)
			pk_move(&p->disks[j].name, &cur);
	}
	v->pack = block;
}

/* Point a packed value's points away from v->pack (their strings and disks
 * live there), so that freeing v->rpc leaves the pack to free(v->pack). */
void cache_pack_detach(struct cache_val *v)
{
	if (v->rpc && v->pack)
		for (size_t i = 0; i < v->rpc->npoints; i++) {
			/* Its strings and disks are in v->pack. */
			struct arm_rp *p = &v->rpc->points[i];

			p->id = p->name = p->state = p->consistency = p->time_created = NULL;
			p->source_rp_id = p->source_location = p->cjson = NULL;
			p->disks = NULL;
			p->ndisks = 0;
		}
}

/* Bytes of a string in a heap block of its own (with malloc's overhead). */
static size_t str_cost(const char *s)
{
	return s ? strlen(s) + 1 + 16 : 0;
}

/* Approximate heap bytes of a collection: the struct, its strings, its
 * tags and its points (when packed, their strings and disks are in the
 * pack, counted by the caller). */
static size_t rpc_cost(const struct arm_rpc *r, int packed)
{
	size_t n;

	if (!r)
		return 0;
	n = sizeof(*r) + str_cost(r->id) + str_cost(r->name) + str_cost(r->rg) +
	    str_cost(r->location) + str_cost(r->state) + str_cost(r->source_id) +
	    str_cost(r->source_location) + str_cost(r->json);
	n += r->ntags * sizeof(*r->tags);
	for (size_t i = 0; i < r->ntags; i++)
		n += str_cost(r->tags[i].key) + str_cost(r->tags[i].value);
	n += r->npoints * sizeof(*r->points);
	for (size_t i = 0; !packed && i < r->npoints; i++) {
		const struct arm_rp *p = &r->points[i];

		n += str_cost(p->id) + str_cost(p->name) + str_cost(p->state) +
		     str_cost(p->consistency) + str_cost(p->time_created) +
		     str_cost(p->source_rp_id) + str_cost(p->source_location) + str_cost(p->cjson) +
		     str_cost(p->iv_error);
		n += p->ndisks * sizeof(*p->disks);
		for (size_t j = 0; j < p->ndisks; j++) {
			const struct arm_disk *d = &p->disks[j];

			n += str_cost(d->name) + str_cost(d->caching) + str_cost(d->storage_type) +
			     str_cost(d->disk_id) + str_cost(d->disk_rp_id) +
			     str_cost(d->encryption_type) + str_cost(d->json);
		}
		n += p->nprogress * 32;
	}
	return n;
}

/* Approximate heap bytes a value holds (what the cache_max cap counts). */
size_t cache_val_bytes(const struct cache_val *v)
{
	size_t n = sizeof(*v);

	for (size_t i = 0; i < v->n; i++)
		n += rpc_cost(v->v[i], 0);
	n += v->n * 2 * sizeof(*v->v);
	n += rpc_cost(v->rpc, v->pack != NULL);
	if (v->pack)
		n += malloc_usable_size(v->pack);
	if (v->rp) {
		struct arm_rpc one = {.points = v->rp, .npoints = 1};

		n += rpc_cost(&one, 0) - sizeof(one);
	}
	n += str_cost(v->name);
	for (size_t i = 0; i < v->nnames; i++)
		n += sizeof(*v->names) + str_cost(v->names[i]);
	return n;
}
