/*
 * disk_grant.c - the life of a disk restore point's read grant.
 *
 * Why it is built this way: a grant is a write to ARM (a long-running
 * beginGetAccess, then endGetAccess) and a secret (the SAS), so there is
 * one per disk restore point whatever the number of opens, readers and
 * blocks in flight.  Every caller asks grant_sas() for a copy of the
 * current SAS; the first one that finds none sends the request, the others
 * wait for that request's answer, good or bad (a refusal is not asked
 * again by each of sixteen concurrent opens).  A 403 from the blob means
 * the SAS expired or was revoked: the caller passes the generation of the
 * SAS that failed, and only the first such caller asks ARM again.
 *
 * ARM extends an active grant when asked again and answers with the same
 * SAS, so renewal (grant_renew, from the disk module's housekeeping
 * thread) is the same call; the expiry is counted from when the request
 * was sent, so it errs early.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arm.h"
#include "blocking.h"
#include "cache.h"
#include "disk_grant.h"
#include "log.h"

#define GRANT_MIN_LEFT_MS 2000 /* a SAS this close to its expiry is renewed first */

/* Milliseconds of the monotonic clock. */
static long long grant_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait once on cond (a CLOCK_MONOTONIC one, lock held) until deadline. */
int grant_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock, long long deadline)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline / 1000),
			      .tv_nsec = (long)(deadline % 1000) * 1000000L};

	if (grant_now_ms() >= deadline)
		return -ETIMEDOUT;
	blocking_begin();
	pthread_cond_timedwait(cond, lock, &ts);
	return 0;
}

/* Set up an empty grant for a disk restore point id (borrowed). */
void grant_init(struct disk_grant *g, const char *id)
{
	pthread_condattr_t ca;

	memset(g, 0, sizeof(*g));
	g->id = id;
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cond, &ca);
	pthread_condattr_destroy(&ca);
}

/* Wipe and free a SAS string. */
void grant_sas_free(char *sas)
{
	if (sas) {
		explicit_bzero(sas, strlen(sas));
		free(sas);
	}
}

/* Free the grant's memory (no request). */
void grant_destroy(struct disk_grant *g)
{
	grant_sas_free(g->sas);
	g->sas = NULL;
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

/* Wait until no request is in flight, at most until deadline.  Lock held.
 * 0, or -ETIMEDOUT. */
static int grant_wait_idle(struct disk_grant *g, long long deadline)
{
	while (g->busy)
		if (grant_cond_wait(&g->cond, &g->lock, deadline) < 0)
			return -ETIMEDOUT;
	return 0;
}

/* Send beginGetAccess with g->busy set and the lock released; store the
 * answer.  Lock held on entry and exit. */
static int grant_request(const struct grant_env *e, struct disk_grant *g)
{
	struct arm_err err;
	long long t0 = grant_now_ms();
	time_t w0 = time(NULL);
	char *sas = NULL;
	int rc;

	g->busy = 1;
	g->requests++;
	pthread_mutex_unlock(&g->lock);
	memset(&err, 0, sizeof(err));
	rc = arm_disk_grant(e->arm, g->id, e->api, e->duration, &sas, &err);
	if (rc == 0)
		log_info("disk: read access to %s granted for %u s", g->id, e->duration);
	else if (e->cache)
		cache_record_error(e->cache, "DiskRestorePoint_GrantAccess", g->id, &err, rc);
	pthread_mutex_lock(&g->lock);
	if (rc == 0) {
		if (!g->sas || strcmp(g->sas, sas)) {
			grant_sas_free(g->sas);
			g->sas = sas;
			sas = NULL;
		}
		g->gen++; /* a retry after a 403 gets its one more try */
		g->expires_ms = t0 + (long long)e->duration * 1000;
		g->expires_wall = w0 + (time_t)e->duration;
	}
	grant_sas_free(sas);
	g->busy = 0;
	g->flight++;
	g->last_rc = rc;
	pthread_cond_broadcast(&g->cond);
	return rc;
}

/* A copy of a valid SAS, asking ARM when needed. */
int grant_sas(const struct grant_env *e, struct disk_grant *g, unsigned stale_gen, char **sas,
	      unsigned *gen)
{
	long long deadline =
	    grant_now_ms() + (long long)(e->op_timeout ? e->op_timeout : 30) * 1000;
	int rc;

	*sas = NULL;
	pthread_mutex_lock(&g->lock);
	for (;;) {
		unsigned flight = g->flight;
		int waited = g->busy;

		rc = grant_wait_idle(g, deadline);
		if (rc)
			break;
		if (g->sas && g->expires_ms - grant_now_ms() > GRANT_MIN_LEFT_MS &&
		    (!stale_gen || g->gen != stale_gen)) {
			*sas = strdup(g->sas);
			*gen = g->gen;
			rc = *sas ? 0 : -ENOMEM;
			break;
		}
		if (waited && g->flight != flight && g->last_rc) {
			rc = g->last_rc; /* the request we waited for failed: so do we */
			break;
		}
		if (waited)
			continue; /* an endGetAccess ended, or a request raced: look again */
		rc = grant_request(e, g);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* Extend an active grant that expires within margin_s. */
int grant_renew(const struct grant_env *e, struct disk_grant *g, unsigned margin_s)
{
	int rc = 0;

	pthread_mutex_lock(&g->lock);
	if (!g->busy && g->sas && g->expires_ms - grant_now_ms() < (long long)margin_s * 1000) {
		log_debug("disk: renewing read access to %s", g->id);
		rc = grant_request(e, g);
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

/* End an active grant with endGetAccess. */
int grant_end(const struct grant_env *e, struct disk_grant *g, unsigned timeout_s, int wait)
{
	struct arm_err err;
	char *sas;
	int rc;

	pthread_mutex_lock(&g->lock);
	grant_wait_idle(g, grant_now_ms() + (long long)(timeout_s ? timeout_s : 30) * 1000);
	sas = g->sas;
	if (!sas || g->busy) {
		pthread_mutex_unlock(&g->lock);
		return 0;
	}
	g->sas = NULL;
	g->gen++;
	g->busy = 1;
	pthread_mutex_unlock(&g->lock);
	grant_sas_free(sas);
	memset(&err, 0, sizeof(err));
	rc = arm_disk_revoke(e->arm, g->id, e->api, timeout_s, wait, &err);
	if (rc == 0 || rc == -ENOENT)
		log_info("disk: read access to %s ended", g->id);
	else if (e->cache)
		cache_record_error(e->cache, "DiskRestorePoint_RevokeAccess", g->id, &err, rc);
	pthread_mutex_lock(&g->lock);
	g->busy = 0;
	g->flight++;
	g->last_rc = 0;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return rc == -ENOENT ? 0 : rc;
}

/* 1 with the expiry when a grant is active. */
int grant_active(struct disk_grant *g, time_t *expires)
{
	int r;

	pthread_mutex_lock(&g->lock);
	r = g->sas != NULL && g->expires_ms > grant_now_ms();
	if (r && expires)
		*expires = g->expires_wall;
	pthread_mutex_unlock(&g->lock);
	return r;
}
