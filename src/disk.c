/*
 * disk.c - disks/NAME.vhd: open and close of a disk restore point's
 * bytes, the housekeeping of their grants, and .rpfs/disks.
 *
 * Why it is built this way:
 *  - One struct disk per disk restore point opened in this mount, kept
 *    until unmount (a few hundred bytes, plus its page list): it holds the
 *    grant (disk_grant.c), the allocated ranges, the counters shown in
 *    .rpfs/disks, and the disk's fetch workers.
 *  - The first open of a period of use gets the grant (ARM refuses here,
 *    before any byte: a copy still replicating, a disk that cannot be
 *    exported), then, once per disk, Get Page Ranges and the blob's size.
 *    Reads of unallocated ranges are zeros without a request, and
 *    SEEK_DATA / SEEK_HOLE answer from the same list.
 *  - Reading (blocks, fetch workers, read-ahead) is disk_io.c's.
 *  - A housekeeping thread, once a second: renews the grant of a disk that
 *    is open before it expires, and ends it (endGetAccess) disk_idle
 *    seconds after its last close.  disks_stop() ends every grant at
 *    unmount and on SIGTERM.
 *
 * Locks: see disk_int.h.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "disk_int.h"
#include "log.h"
#include "sbuf.h"

/* Ceiling of .rpfs/disks and the stats lines: about 200 bytes per disk opened. */
#define DISK_VIEW_MAX (8u << 20)

/* ---- open, close --------------------------------------------------------------- */

/* A new disk of id, shown at ino; NULL on ENOMEM. */
static struct disk *disk_new(struct disks *ds, const char *id, uint64_t ino)
{
	struct disk *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;

	if (!d || !(d->id = strdup(id))) {
		free(d);
		return NULL;
	}
	d->ds = ds;
	d->ino = ino;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_condattr_destroy(&ca);
	grant_init(&d->grant, d->id);
	return d;
}

/* Free a disk of disk_new (its workers stopped, its grant ended). */
static void disk_free(struct disk *d)
{
	dcache_drop(d->ds->dc, d);
	grant_destroy(&d->grant);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d->ranges);
	free(d->q);
	free(d->id);
	free(d);
}

/* The disk of id, made on first use.  NULL on ENOMEM. */
static struct disk *disk_get(struct disks *ds, const char *id, uint64_t ino)
{
	struct disk *d;

	pthread_mutex_lock(&ds->lock);
	for (d = ds->list; d; d = d->next)
		if (!strcmp(d->id, id))
			break;
	if (!d && (d = disk_new(ds, id, ino)) != NULL) {
		d->next = ds->list;
		ds->list = d;
	}
	pthread_mutex_unlock(&ds->lock);
	return d;
}

/* Wait on d->cond until deadline.  d->lock held.  -ETIMEDOUT when passed. */
int disk_wait(struct disk *d, long long deadline)
{
	return grant_cond_wait(&d->cond, &d->lock, deadline);
}

/* A failed blob request of d in .rpfs/errors, as the cache records ARM's. */
void disk_record_error(struct disk *d, const char *op, const struct blob_err *err, int rc)
{
	struct arm_err ae = {.status = err->status};

	if (!d->ds->cfg.cache)
		return;
	snprintf(ae.code, sizeof(ae.code), "%s", err->code);
	snprintf(ae.message, sizeof(ae.message), "%s", err->message);
	snprintf(ae.request_id, sizeof(ae.request_id), "%s", err->request_id);
	cache_record_error(d->ds->cfg.cache, op, d->id, &ae, rc);
}

/* Once per disk: its allocated ranges and its size.  *first is set by
 * the call that learned them. */
static int disk_prepare(struct disk *d, int *first)
{
	struct disks *ds = d->ds;
	long long deadline = now_ms() + (long long)ds->cfg.op_timeout * 1000;
	struct blob_range *v = NULL;
	struct blob_err err;
	uint64_t size = 0;
	unsigned gen = 0, flight;
	size_t n = 0;
	char *sas = NULL;
	int rc = 0, blob_failed = 0;

	*first = 0;
	pthread_mutex_lock(&d->lock);
	flight = d->prep_flight;
	while (d->preparing && rc == 0)
		rc = disk_wait(d, deadline);
	if (rc || d->ready || d->prep_flight != flight) {
		rc = rc ? rc : d->ready ? 0 : d->prep_rc;
		pthread_mutex_unlock(&d->lock);
		return rc;
	}
	d->preparing = 1;
	pthread_mutex_unlock(&d->lock);

	memset(&err, 0, sizeof(err));
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = grant_sas(&ds->genv, &d->grant, attempt ? gen : 0, &sas, &gen);
		if (rc)
			break;
		rc = blob_page_ranges(ds->blob, sas, &v, &n, &size, deadline, &d->cnt, &err);
		if (rc == 0 && !size)
			rc = blob_size(ds->blob, sas, &size, deadline, &d->cnt, &err);
		blob_failed = rc != 0;
		grant_sas_free(sas);
		sas = NULL;
		if (rc != -EACCES)
			break;
		free(v);
		v = NULL;
	}
	if (rc && blob_failed)
		disk_record_error(d, "Blob_GetPageRanges", &err, rc);
	pthread_mutex_lock(&d->lock);
	if (rc == 0) {
		uint64_t alloc = 0;

		while (n && v[n - 1].start >= size)
			n--; /* past the end: not part of the disk */
		if (n && v[n - 1].end >= size)
			v[n - 1].end = size - 1;
		for (size_t i = 0; i < n; i++)
			alloc += v[i].end - v[i].start + 1;
		d->ranges = v;
		d->nranges = n;
		d->size = size;
		d->allocated = alloc;
		d->ready = 1;
		*first = 1;
		v = NULL;
	}
	d->preparing = 0;
	d->prep_rc = rc;
	d->prep_flight++;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	free(v);
	return rc;
}

/* Open a disk restore point. */
int disk_open(struct disks *ds, const char *id, uint64_t ino, uint64_t size_hint,
	      struct disk_file **out, int *changed)
{
	long long deadline = now_ms() + (long long)ds->cfg.op_timeout * 1000;
	struct disk_file *f;
	struct disk *d;
	unsigned gen;
	char *sas = NULL;
	int rc = 0, first = 0;

	*out = NULL;
	*changed = 0;
	if (ds->stopping)
		return -ESHUTDOWN;
	f = calloc(1, sizeof(*f));
	d = f ? disk_get(ds, id, ino) : NULL;
	if (!d) {
		free(f);
		return -ENOMEM;
	}
	pthread_mutex_lock(&d->lock);
	while (d->ending && rc == 0)
		rc = disk_wait(d, deadline);
	if (rc == 0)
		d->opens++;
	pthread_mutex_unlock(&d->lock);
	if (rc) {
		free(f);
		return rc;
	}
	/* The grant first: ARM refuses here, before any byte. */
	rc = grant_sas(&ds->genv, &d->grant, 0, &sas, &gen);
	grant_sas_free(sas);
	if (rc == 0)
		rc = disk_prepare(d, &first);
	if (rc) {
		pthread_mutex_lock(&d->lock);
		if (--d->opens == 0)
			d->last_close_ms = now_ms();
		pthread_mutex_unlock(&d->lock);
		free(f);
		return rc;
	}
	if (first) {
		if (d->size != size_hint)
			log_info("disk: %s is %" PRIu64 " bytes, not %" PRIu64
				 " as its diskSizeGB says",
				 d->id, d->size, size_hint);
		*changed = 1; /* size, and the blocks actually allocated */
	}
	f->d = d;
	*out = f;
	return 0;
}

/* Close a disk file. */
void disk_close(struct disk_file *f)
{
	struct disk *d;

	if (!f)
		return;
	d = f->d;
	pthread_mutex_lock(&d->lock);
	if (--d->opens == 0)
		d->last_close_ms = now_ms();
	pthread_mutex_unlock(&d->lock);
	free(f);
}

/* ---- housekeeping ------------------------------------------------------------- */

/* End a disk's grant when it has been closed disk_idle seconds; renew it
 * while it is open. */
static void housekeep(struct disks *ds, struct disk *d)
{
	unsigned dur = ds->cfg.sas_duration;
	unsigned margin = dur / 3 > 300 ? 300 : dur / 3 < 2 ? 2 : dur / 3;
	int end = 0, open;

	pthread_mutex_lock(&d->lock);
	open = d->opens > 0;
	if (!open && d->last_close_ms &&
	    now_ms() - d->last_close_ms >= (long long)ds->cfg.disk_idle * DISK_SEC_MS &&
	    grant_active(&d->grant, NULL)) {
		d->ending = 1;
		end = 1;
	}
	pthread_mutex_unlock(&d->lock);
	if (open) {
		grant_renew(&ds->genv, &d->grant, margin);
		return;
	}
	if (!end)
		return;
	disk_quiesce(d);
	grant_end(&ds->genv, &d->grant, ds->cfg.op_timeout, 1);
	pthread_mutex_lock(&d->lock);
	d->ending = 0;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* The housekeeping thread: a look at every disk once a second. */
static void *hk_main(void *arg)
{
	struct disks *ds = arg;

	pthread_mutex_lock(&ds->lock);
	while (!ds->stopping) {
		struct timespec ts;
		struct disk *d;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&ds->hk_cond, &ds->lock, &ts);
		if (ds->stopping)
			break;
		d = ds->list;
		pthread_mutex_unlock(&ds->lock);
		/* Disks are never freed before the thread stops, and new ones
		 * go in front: this walk is safe without the lock. */
		for (; d; d = d->next)
			housekeep(ds, d);
		pthread_mutex_lock(&ds->lock);
	}
	pthread_mutex_unlock(&ds->lock);
	return NULL;
}

/* ---- life cycle ---------------------------------------------------------------- */

/* Create the disk module. */
int disks_new(const struct disks_cfg *cfg, struct disks **out)
{
	struct disks *ds = calloc(1, sizeof(*ds));
	struct blob_cfg bc = {.cafile = cfg->cafile, .retries = cfg->retries};
	pthread_condattr_t ca;
	int rc;

	if (!ds)
		return -ENOMEM;
	ds->cfg = *cfg;
	if (ds->cfg.conns < 1)
		ds->cfg.conns = 1;
	if (ds->cfg.conns > DISK_MAX_CONNS)
		ds->cfg.conns = DISK_MAX_CONNS;
	if (!ds->cfg.op_timeout)
		ds->cfg.op_timeout = 30;
	ds->api = strdup(cfg->api_version ? cfg->api_version : "2025-01-02");
	bc.max_conns = ds->cfg.conns * 4;
	if (!ds->api) {
		free(ds);
		return -ENOMEM;
	}
	rc = blob_new(&bc, &ds->blob);
	if (rc == 0)
		rc = dcache_new((uint64_t)cfg->cache_mib << 20, &ds->dc);
	if (rc) {
		blob_free(ds->blob);
		free(ds->api);
		free(ds);
		return rc;
	}
	ds->genv.arm = cfg->arm;
	ds->genv.cache = cfg->cache;
	ds->genv.api = ds->api;
	ds->genv.duration = cfg->sas_duration;
	ds->genv.op_timeout = ds->cfg.op_timeout;
	pthread_mutex_init(&ds->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ds->hk_cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = ds;
	return 0;
}

/* Start the housekeeping thread. */
int disks_start(struct disks *ds)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&ds->hk, NULL, hk_main, ds);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	ds->hk_running = 1;
	return 0;
}

/* End every grant and stop every thread. */
void disks_stop(struct disks *ds)
{
	struct disk *d;
	unsigned t;

	if (!ds || ds->stopped)
		return;
	pthread_mutex_lock(&ds->lock);
	ds->stopping = 1;
	pthread_cond_broadcast(&ds->hk_cond);
	pthread_mutex_unlock(&ds->lock);
	if (ds->hk_running)
		pthread_join(ds->hk, NULL);
	ds->hk_running = 0;
	t = ds->cfg.op_timeout < 10 ? ds->cfg.op_timeout : 10;
	for (d = ds->list; d; d = d->next) {
		disk_quiesce(d);
		grant_end(&ds->genv, &d->grant, t, 0); /* ARM revokes at the POST */
	}
	ds->stopped = 1;
}

/* Free the module (stopping it first). */
void disks_free(struct disks *ds)
{
	struct disk *d, *next;

	if (!ds)
		return;
	disks_stop(ds);
	for (d = ds->list; d; d = next) {
		next = d->next;
		disk_free(d);
	}
	dcache_free(ds->dc);
	blob_free(ds->blob);
	pthread_cond_destroy(&ds->hk_cond);
	pthread_mutex_destroy(&ds->lock);
	free(ds->api);
	free(ds);
}

/* ---- views ---------------------------------------------------------------------- */

/* Size and allocated bytes of the disk shown at ino, once known. */
int disks_attr(struct disks *ds, uint64_t ino, uint64_t *size, uint64_t *allocated)
{
	struct disk *d;
	int rc = -ENOENT;

	if (!ds)
		return -ENOENT;
	pthread_mutex_lock(&ds->lock);
	for (d = ds->list; d; d = d->next) {
		if (d->ino != ino)
			continue;
		pthread_mutex_lock(&d->lock);
		if (d->ready) {
			*size = d->size;
			*allocated = d->allocated;
			rc = 0;
		}
		pthread_mutex_unlock(&d->lock);
		break;
	}
	pthread_mutex_unlock(&ds->lock);
	return rc;
}

/* .rpfs/disks. */
int disks_render(struct disks *ds, char **out)
{
	struct sbuf b;

	*out = NULL;
	sbuf_init(&b, DISK_VIEW_MAX);
	pthread_mutex_lock(&ds->lock);
	for (struct disk *d = ds->list; d; d = d->next) {
		char when[32] = "-";
		time_t exp;

		if (grant_active(&d->grant, &exp)) {
			struct tm tm;

			gmtime_r(&exp, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		}
		sbuf_addf(&b, "%s %s %" PRIu64 " %" PRIu64 "\n", d->id, when,
			  __atomic_load_n(&d->cnt.bytes, __ATOMIC_RELAXED),
			  __atomic_load_n(&d->cnt.requests, __ATOMIC_RELAXED));
	}
	pthread_mutex_unlock(&ds->lock);
	return sbuf_finish(&b, out, NULL);
}

/* Block cache lines for .rpfs/stats. */
int disks_render_stats(struct disks *ds, char **out)
{
	struct dcache_stats st;
	struct sbuf b;

	*out = NULL;
	dcache_stats_get(ds->dc, &st);
	sbuf_init(&b, DISK_VIEW_MAX);
	sbuf_addf(&b, "disk_cache_bytes %" PRIu64 "\ndisk_cache_limit %" PRIu64 "\n", st.used,
		  st.cap);
	sbuf_addf(&b, "disk_cache_hits %" PRIu64 "\ndisk_cache_misses %" PRIu64 "\n", st.hits,
		  st.misses);
	sbuf_addf(&b, "disk_cache_evictions %" PRIu64 "\n", st.evictions);
	return sbuf_finish(&b, out, NULL);
}
