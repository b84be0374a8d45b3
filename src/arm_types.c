/*
 * arm_types.c - the memory of the model: freeing what ARM's answers were
 * parsed into (arm_types.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "arm_types.h"

/* Free the members of a disk that its JSON view holds again (all but the
 * name; lun, size and lengths stay). */
void arm_disk_strip(struct arm_disk *d)
{
	free(d->caching);
	free(d->storage_type);
	free(d->disk_id);
	free(d->disk_rp_id);
	free(d->encryption_type);
	free(d->json);
	d->caching = d->storage_type = d->disk_id = d->disk_rp_id = NULL;
	d->encryption_type = d->json = NULL;
}

/* Free the members of a disk. */
void arm_disk_clear(struct arm_disk *d)
{
	arm_disk_strip(d);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

/* Free the members of a restore point. */
void arm_rp_clear(struct arm_rp *rp)
{
	size_t i;

	if (!rp)
		return;
	free(rp->id);
	free(rp->name);
	free(rp->state);
	free(rp->consistency);
	free(rp->time_created);
	free(rp->source_rp_id);
	free(rp->source_location);
	for (i = 0; i < rp->ndisks; i++)
		arm_disk_clear(&rp->disks[i]);
	free(rp->disks);
	for (i = 0; i < rp->nprogress; i++) {
		free(rp->progress[i].name);
		free(rp->progress[i].status);
	}
	free(rp->progress);
	free(rp->iv_error);
	free(rp->cjson);
	memset(rp, 0, sizeof(*rp));
}

/* Free a restore point. */
void arm_rp_free(struct arm_rp *rp)
{
	arm_rp_clear(rp);
	free(rp);
}

/* Free the members of a collection. */
void arm_rpc_clear(struct arm_rpc *rpc)
{
	size_t i;

	if (!rpc)
		return;
	free(rpc->id);
	free(rpc->name);
	free(rpc->rg);
	free(rpc->location);
	free(rpc->state);
	free(rpc->source_id);
	free(rpc->source_location);
	for (i = 0; i < rpc->ntags; i++) {
		free(rpc->tags[i].key);
		free(rpc->tags[i].value);
	}
	free(rpc->tags);
	free(rpc->json);
	for (i = 0; i < rpc->npoints; i++)
		arm_rp_clear(&rpc->points[i]);
	free(rpc->points);
	memset(rpc, 0, sizeof(*rpc));
}

/* Free a collection. */
void arm_rpc_free(struct arm_rpc *rpc)
{
	arm_rpc_clear(rpc);
	free(rpc);
}

/* Free an array of collections. */
void arm_rpc_array_free(struct arm_rpc **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		arm_rpc_free(v[i]);
	free(v);
}

/* Free an array of locations. */
void arm_locations_free(struct arm_location *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].display_name);
	}
	free(v);
}

/* Free an array of strings. */
void arm_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
