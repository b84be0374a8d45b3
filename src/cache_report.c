/*
 * cache_report.c - what the cache tells the user: the ring of the last
 * failures (logged once each) and the renderings of .rpfs/errors and
 * .rpfs/stats (rpfs(1), FILES).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "cache_int.h"
#include "log.h"
#include "sbuf.h"

#define RENDER_MAX (1u << 20) /* a rendering's ceiling */

/* Keep a failure for .rpfs/errors and log it once. */
void cache_record_error(struct cache *c, const char *op, const char *path,
			const struct arm_err *err, int rc)
{
	struct err_rec *r;
	struct arm_err none = {0};

	if (!err)
		err = &none;
	log_warn("%s %s: %s (HTTP %d%s%s%s%s, x-ms-request-id %s)", op, path, strerror(-rc),
		 err->status, err->code[0] ? ", " : "", err->code, err->message[0] ? ": " : "",
		 err->message, err->request_id[0] ? err->request_id : "-");
	pthread_mutex_lock(&c->lock);
	r = &c->ring[c->ring_next];
	r->t = time(NULL);
	snprintf(r->op, sizeof(r->op), "%s", op);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->e = *err;
	r->rc = rc;
	c->ring_next = (c->ring_next + 1) % ERR_RING;
	if (c->ring_count < ERR_RING)
		c->ring_count++;
	c->fetch_errors++;
	pthread_mutex_unlock(&c->lock);
}

/* .rpfs/stats: ARM requests by operation, cache counters, throttling. */
int cache_render_stats(struct cache *c, char **out, size_t *len)
{
	struct sbuf b;
	struct arm_stats s;
	uint64_t hits, misses, neg, stale, joined, errs, pf, evictions;
	size_t entries, bytes;

	memset(&s, 0, sizeof(s));
	s.remaining_reads = s.remaining_writes = s.remaining_deletes = -1;
	if (c->be.stats)
		c->be.stats(c->be.arg, &s);
	pthread_mutex_lock(&c->lock);
	hits = c->hits;
	misses = c->misses;
	neg = c->neg_hits;
	stale = c->stale;
	joined = c->joined;
	errs = c->fetch_errors;
	pf = c->prefetched;
	entries = c->nentries;
	bytes = c->bytes;
	evictions = c->evictions;
	pthread_mutex_unlock(&c->lock);
	sbuf_init(&b, RENDER_MAX);
	sbuf_addf(&b, "requests %llu\n", (unsigned long long)s.requests);
	for (int i = 0; i < ARM_OP_COUNT && i < 16; i++)
		if (s.by_op[i])
			sbuf_addf(&b, "requests.%s %llu\n", arm_op_name((enum arm_op)i),
				  (unsigned long long)s.by_op[i]);
	sbuf_addf(&b, "retries %llu\n", (unsigned long long)s.retries);
	sbuf_addf(&b, "throttled_429 %llu\n", (unsigned long long)s.throttled);
	sbuf_addf(&b, "throttle_pause_s %lld\n", (s.pause_ms + 999) / 1000);
	sbuf_addf(&b, "errors %llu\n", (unsigned long long)s.errors);
	sbuf_addf(&b, "bytes_in %llu\n", (unsigned long long)s.bytes_in);
	sbuf_addf(&b, "remaining_reads %ld\n", s.remaining_reads);
	sbuf_addf(&b, "remaining_writes %ld\n", s.remaining_writes);
	sbuf_addf(&b, "remaining_deletes %ld\n", s.remaining_deletes);
	sbuf_addf(&b, "cache_hits %llu\n", (unsigned long long)hits);
	sbuf_addf(&b, "cache_misses %llu\n", (unsigned long long)misses);
	sbuf_addf(&b, "cache_negative_hits %llu\n", (unsigned long long)neg);
	sbuf_addf(&b, "cache_stale_served %llu\n", (unsigned long long)stale);
	sbuf_addf(&b, "cache_joined_fetches %llu\n", (unsigned long long)joined);
	sbuf_addf(&b, "cache_fetch_errors %llu\n", (unsigned long long)errs);
	sbuf_addf(&b, "cache_prefetches %llu\n", (unsigned long long)pf);
	sbuf_addf(&b, "cache_entries %zu\n", entries);
	sbuf_addf(&b, "cache_bytes %zu\n", bytes);
	sbuf_addf(&b, "cache_evictions %llu\n", (unsigned long long)evictions);
	return sbuf_finish(&b, out, len);
}

/* .rpfs/errors: the last 100 failures, oldest first, one per line. */
int cache_render_errors(struct cache *c, char **out, size_t *len)
{
	struct sbuf b;
	struct err_rec *copy;
	size_t n, start;

	copy = malloc(sizeof(*copy) * ERR_RING);
	if (!copy)
		return -ENOMEM;
	sbuf_init(&b, RENDER_MAX);
	pthread_mutex_lock(&c->lock);
	n = c->ring_count;
	start = (c->ring_next + ERR_RING - n) % ERR_RING;
	for (size_t i = 0; i < n; i++)
		copy[i] = c->ring[(start + i) % ERR_RING];
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		struct tm tm;
		char ts[32];

		gmtime_r(&copy[i].t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		sbuf_addf(&b, "%s %s %s status=%d errno=%s code=%s message=\"%s\" request_id=%s\n",
			  ts, copy[i].op, copy[i].path, copy[i].e.status, strerror(-copy[i].rc),
			  copy[i].e.code[0] ? copy[i].e.code : "-", copy[i].e.message,
			  copy[i].e.request_id[0] ? copy[i].e.request_id : "-");
	}
	free(copy);
	return sbuf_finish(&b, out, len);
}
