/*
 * disk_grant.h - read access to one disk restore point: the SAS URL that
 * ARM's beginGetAccess gives, its renewal and its end (endGetAccess).
 *
 * One struct disk_grant per disk restore point, shared by every open of
 * its NAME.vhd.  Single flight: while a beginGetAccess is in flight,
 * other callers wait for its answer (its failure too) instead of sending
 * their own.  The SAS is a secret: it lives only in the struct (wiped when
 * dropped) and in the copies handed to callers, who wipe and free them
 * (grant_sas_free); it is never logged.
 *
 * Thread-safe: g->lock protects every field; it is never held across a
 * request.  Errors: 0 or the errno of arm_disk_grant (-EBUSY, -EACCES,
 * -ENOENT, -ETIMEDOUT, -EIO, ...); a refusal is recorded in .rpfs/errors.
 */
#ifndef RPFS_DISK_GRANT_H
#define RPFS_DISK_GRANT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct arm_client;
struct cache;

/* What every grant of a mount shares (borrowed pointers). */
struct grant_env {
	struct arm_client *arm;
	struct cache *cache; /* for .rpfs/errors, may be NULL */
	const char *api;     /* DiskRP api-version */
	unsigned duration;   /* durationInSeconds asked */
	unsigned op_timeout; /* seconds a caller waits for another's request */
};

struct disk_grant {
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* a request ended */
	const char *id;	      /* the disk restore point id (borrowed) */
	char *sas;	      /* the current SAS, or NULL */
	unsigned gen;	      /* changes whenever sas does */
	long long expires_ms; /* monotonic */
	time_t expires_wall;
	int busy;	   /* a beginGetAccess or endGetAccess is in flight */
	unsigned flight;   /* requests ended so far */
	int last_rc;	   /* result of the last one */
	uint64_t requests; /* beginGetAccess calls sent */
};

void grant_init(struct disk_grant *g, const char *id);
/* Wipe and free the SAS (no request: see grant_end). */
void grant_destroy(struct disk_grant *g);

/* A copy of a valid SAS (asking ARM for one when there is none, it
 * expires within seconds, or it is the one of generation stale_gen that
 * the blob refused: 0 for none).  *gen receives its generation. */
int grant_sas(const struct grant_env *e, struct disk_grant *g, unsigned stale_gen, char **sas,
	      unsigned *gen);
/* Wipe and free a copy. */
void grant_sas_free(char *sas);
/* Wait once on cond (a CLOCK_MONOTONIC condition, lock held) until deadline
 * (milliseconds of that clock), as a blocking section: 0, or -ETIMEDOUT
 * once the deadline has passed. */
int grant_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock, long long deadline);
/* Ask ARM to extend an active grant (it answers with the same SAS) when
 * it expires within margin_s.  0 when nothing was needed. */
int grant_renew(const struct grant_env *e, struct disk_grant *g, unsigned margin_s);
/* End an active grant: endGetAccess (at most timeout_s), followed to its
 * end with wait.  0 when there was none. */
int grant_end(const struct grant_env *e, struct disk_grant *g, unsigned timeout_s, int wait);
/* 1 with the wall-clock expiry when a grant is active. */
int grant_active(struct disk_grant *g, time_t *expires);

#endif
