/*
 * arm.c - the ARM client: requests with retries, throttling, paging and
 * long-running operations, on top of http.c, auth.c and armjson.c.
 *
 * Why it is built this way: ARM throttles per subscription with one token
 * bucket per kind of request (reads, writes, deletes) and answers 429 with
 * a Retry-After that covers every request of that kind, not only the one
 * that was refused.  So every request passes one gate (arm_gate) that (1)
 * waits out the pause set by the last 429 of its kind, (2) paces the kind
 * to ARM's refill rate when ARM's x-ms-ratelimit-remaining-subscription-*
 * figure says its bucket is nearly empty, (3) takes a token from rpfs's
 * own read or write bucket so a readdir storm cannot drain ARM's bucket,
 * and (4) takes one of max_conns slots.  Each public call has one
 * deadline (op_timeout) that bounds every wait, request and retry inside
 * it, so no system call above waits longer.
 *
 * The bearer token is only ever sent to the configured endpoint: URLs taken
 * from answers (nextLink, Location, Azure-AsyncOperation) are compared with
 * the endpoint's scheme, host and port before any request and refused
 * otherwise.
 *
 * Lock: c->lock protects the buckets, the pause, the slot count and the
 * statistics.  It is never held across a request or a sleep.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arm.h"
#include "armjson.h"
#include "auth.h"
#include "blocking.h"
#include "http.h"
#include "log.h"
#include "url.h"

#define ARM_MAX_PAGES 10000
#define ARM_TOKEN_MAX 16384
#define ARM_RESOURCES_API "2022-12-01"
#define ARM_GROUPS_API "2021-04-01"

struct arm_lro {
	char *async_url;    /* Azure-AsyncOperation */
	char *location_url; /* Location */
	char *resource_url; /* the resource itself (with api-version) */
	char *resource_id;
	int is_delete;
	long retry_after; /* seconds from the starting answer, -1 */
};

enum { ARM_READ, ARM_WRITE };
/* ARM's buckets: reads, writes, deletes (per subscription). */
enum { ARM_K_READS, ARM_K_WRITES, ARM_K_DELETES, ARM_NKINDS };
/* ARM's refill rates per second (reads 25, writes and deletes 10). */
static const double arm_refill[ARM_NKINDS] = {25, 10, 10};
/* How long a x-ms-ratelimit-remaining-* figure is trusted (ms). */
#define ARM_RL_FRESH_MS 60000

struct arm_client {
	char *endpoint; /* no trailing slash */
	char *sub, *api;
	struct auth *auth;
	struct http *http;
	unsigned retries;
	long long op_timeout_ms;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned inflight, max_conns;
	double rate[2], burst[2], tokens[2];
	long long last_refill[2];
	long long kpause_until[ARM_NKINDS]; /* a 429's Retry-After, by kind */
	long rl_left[ARM_NKINDS];	    /* ARM's last remaining figure, -1 unknown */
	long long rl_ms[ARM_NKINDS];	    /* when it was read */
	long long next_send[ARM_NKINDS];    /* pacing: no request of the kind before */
	unsigned rnd;
	struct arm_stats st;
};

/* Free an operation handle. */
void arm_lro_free(struct arm_lro *lro)
{
	if (!lro)
		return;
	free(lro->async_url);
	free(lro->location_url);
	free(lro->resource_url);
	free(lro->resource_id);
	free(lro);
}

/* The ARM id an operation is about. */
const char *arm_lro_resource(const struct arm_lro *lro)
{
	return lro ? lro->resource_id : NULL;
}

/* Keep only one way of polling. */
int arm_lro_restrict(struct arm_lro *lro, enum arm_lro_style style)
{
	if (!lro)
		return -EINVAL;
	if ((style == ARM_LRO_ASYNC && !lro->async_url) ||
	    (style == ARM_LRO_LOCATION && !lro->location_url))
		return -ENOENT;
	if (style != ARM_LRO_ASYNC) {
		free(lro->async_url);
		lro->async_url = NULL;
	}
	if (style != ARM_LRO_LOCATION) {
		free(lro->location_url);
		lro->location_url = NULL;
	}
	return 0;
}

/* ---- time ----------------------------------------------------------------- */

/* Milliseconds of the monotonic clock. */
static long long arm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms milliseconds in short slices: -EINTR as soon as the caller of
 * the request being served gave up (blocking.h), else 0. */
static int arm_wait_ms(long long ms)
{
	while (ms > 0) {
		long long step = ms > 100 ? 100 : ms;

		if (blocking_cancelled())
			return -EINTR;
		blocking_sleep_ms(step);
		ms -= step;
	}
	return blocking_cancelled() ? -EINTR : 0;
}

/* ---- client --------------------------------------------------------------- */

/* Create a client. */
int arm_client_new(const struct arm_cfg *cfg, struct auth *auth, struct arm_client **out)
{
	struct arm_client *c;
	pthread_condattr_t ca;
	size_t n;
	int rc = -ENOMEM;

	*out = NULL;
	if (!cfg || !cfg->endpoint || !*cfg->endpoint)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->endpoint = strdup(cfg->endpoint);
	c->api = strdup(cfg->api_version && *cfg->api_version ? cfg->api_version : "2025-04-01");
	if (cfg->subscription && *cfg->subscription)
		c->sub = strdup(cfg->subscription);
	if (!c->endpoint || !c->api || (cfg->subscription && *cfg->subscription && !c->sub))
		goto fail;
	n = strlen(c->endpoint);
	while (n && c->endpoint[n - 1] == '/')
		c->endpoint[--n] = '\0';
	c->auth = auth;
	c->retries = cfg->retries;
	c->op_timeout_ms = (long long)(cfg->op_timeout ? cfg->op_timeout : 30) * 1000;
	c->max_conns = cfg->max_conns ? cfg->max_conns : 8;
	c->rate[ARM_READ] = cfg->read_rate;
	c->rate[ARM_WRITE] = cfg->write_rate;
	c->burst[ARM_READ] = 100;
	c->burst[ARM_WRITE] = 50;
	c->tokens[ARM_READ] = 100;
	c->tokens[ARM_WRITE] = 50;
	c->last_refill[ARM_READ] = c->last_refill[ARM_WRITE] = arm_now_ms();
	c->rnd = (unsigned)arm_now_ms() ^ (unsigned)(uintptr_t)c;
	c->st.remaining_reads = c->st.remaining_writes = c->st.remaining_deletes = -1;
	c->rl_left[ARM_K_READS] = c->rl_left[ARM_K_WRITES] = c->rl_left[ARM_K_DELETES] = -1;
	rc = http_new(cfg->cafile, c->max_conns, &c->http);
	if (rc)
		goto fail;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = c;
	return 0;
fail:
	free(c->endpoint);
	free(c->api);
	free(c->sub);
	free(c);
	return rc;
}

/* Free a client; no call may be running. */
void arm_client_free(struct arm_client *c)
{
	if (!c)
		return;
	http_free(c->http);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c->endpoint);
	free(c->api);
	free(c->sub);
	free(c);
}

/* Copy the counters. */
void arm_stats_get(struct arm_client *c, struct arm_stats *out)
{
	long long now = arm_now_ms();

	pthread_mutex_lock(&c->lock);
	*out = c->st;
	out->pause_ms = 0;
	for (int k = 0; k < ARM_NKINDS; k++)
		if (c->kpause_until[k] - now > out->pause_ms)
			out->pause_ms = c->kpause_until[k] - now;
	pthread_mutex_unlock(&c->lock);
}

/* End the pause a 429 set, so a flush or SIGHUP asks ARM again at once. */
void arm_resume(struct arm_client *c)
{
	long long now = arm_now_ms();
	int paused;

	pthread_mutex_lock(&c->lock);
	paused = 0;
	for (int k = 0; k < ARM_NKINDS; k++) {
		paused |= c->kpause_until[k] > now;
		c->kpause_until[k] = 0;
	}
	if (paused)
		log_info("arm: the pause of a 429 ended early (flush)");
	pthread_mutex_unlock(&c->lock);
}

/* ---- the gate: shared 429 pause, token buckets, connection slots --------- */

/* Milliseconds between two requests of kind ak while ARM's bucket for it is
 * nearly empty (0: no pacing); caller holds c->lock.  Below a reserve of
 * max_conns + 4 (what may be in flight, and a margin) requests go at ARM's
 * refill rate, slower as the bucket gets emptier, so it never runs dry. */
static long long arm_pace_ms(struct arm_client *c, int ak, long long now)
{
	long left = c->rl_left[ak], reserve = (long)c->max_conns + 4;
	double ms = 1000.0 / arm_refill[ak];

	if (left < 0 || now - c->rl_ms[ak] > ARM_RL_FRESH_MS || left > reserve)
		return 0;
	if (left <= 2)
		ms *= 3;
	else if (left <= reserve / 2)
		ms *= 1.5;
	return (long long)ms;
}

/* Wait until a request may be sent; takes a slot.  -ETIMEDOUT at deadline,
 * -EAGAIN at once when a 429's pause of this kind of request (reads,
 * writes, deletes) outlasts the deadline (see ERRORS in rpfs(1): throttled,
 * not unanswered).  While ARM says the kind's bucket is nearly empty, that
 * figure paces the requests too. */
static int arm_gate(struct arm_client *c, int kind, int ak, long long deadline)
{
	for (;;) {
		long long now = arm_now_ms(), wait = 0, pace;
		int paused = 0;

		pthread_mutex_lock(&c->lock);
		pace = arm_pace_ms(c, ak, now);
		if (c->kpause_until[ak] > now) {
			wait = c->kpause_until[ak] - now;
			paused = 1;
		} else if (pace && c->next_send[ak] > now) {
			wait = c->next_send[ak] - now;
		} else if (c->rate[kind] > 0) {
			double add = (double)(now - c->last_refill[kind]) * c->rate[kind] / 1000.0;
			c->tokens[kind] += add;
			if (c->tokens[kind] > c->burst[kind])
				c->tokens[kind] = c->burst[kind];
			c->last_refill[kind] = now;
			if (c->tokens[kind] < 1.0)
				wait =
				    (long long)((1.0 - c->tokens[kind]) * 1000.0 / c->rate[kind]) +
				    1;
		}
		if (!wait && c->inflight < c->max_conns) {
			if (c->rate[kind] > 0)
				c->tokens[kind] -= 1.0;
			if (pace)
				c->next_send[ak] = now + pace;
			c->inflight++;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
		if (!wait) {
			/* All slots busy: wait for one to free up. */
			struct timespec ts;
			long long until = deadline;
			ts.tv_sec = (time_t)(until / 1000);
			ts.tv_nsec = (long)(until % 1000) * 1000000L;
			if (now >= deadline) {
				pthread_mutex_unlock(&c->lock);
				return -ETIMEDOUT;
			}
			if (until > now + 100) { /* in slices: see arm_wait_ms */
				ts.tv_sec = (time_t)((now + 100) / 1000);
				ts.tv_nsec = (long)((now + 100) % 1000) * 1000000L;
			}
			blocking_begin();
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
			pthread_mutex_unlock(&c->lock);
			if (blocking_cancelled())
				return -EINTR;
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		if (now + wait > deadline)
			return paused ? -EAGAIN : -ETIMEDOUT;
		if (arm_wait_ms(wait) < 0)
			return -EINTR;
	}
}

/* Give the slot back. */
static void arm_ungate(struct arm_client *c)
{
	pthread_mutex_lock(&c->lock);
	c->inflight--;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Fill err from a response (or transport failure). */
static void arm_fill_err(struct arm_err *err, const struct http_resp *r, const char *code,
			 const char *msg)
{
	if (!err)
		return;
	err->status = (int)r->status;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
	snprintf(err->message, sizeof(err->message), "%s", msg ? msg : "");
	snprintf(err->request_id, sizeof(err->request_id), "%s", r->request_id);
}

/* 1 when url may carry the token: same scheme, host and port as the endpoint. */
static int arm_url_allowed(struct arm_client *c, const char *url, const char *what)
{
	if (http_same_origin(url, c->endpoint))
		return 1;
	log_err("arm: refusing to follow a %s URL to another host (%.200s): the token is only sent "
		"to %s",
		what, url, c->endpoint);
	return 0;
}

/* A random number for jitter. */
static unsigned arm_rand(struct arm_client *c)
{
	unsigned r;

	pthread_mutex_lock(&c->lock);
	c->rnd = c->rnd * 1103515245u + 12345u;
	r = c->rnd >> 8;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Parses a 2xx body into arg: 0, -EIO (a broken answer: retried), -ENOMEM. */
typedef int (*arm_parse_fn)(const char *body, size_t len, void *arg);

/*
 * Send one ARM request with retries.  Returns 0 when ARM answered 2xx (resp
 * filled; the caller clears it), else a negative errno with err filled and
 * resp cleared.  A 2xx body is checked by parse (into parse_arg) when given,
 * else by armj_valid: a body that fails is retried like a lost answer, and
 * a body is parsed once.
 */
static int arm_do_parse(struct arm_client *c, enum arm_op op, const char *method, const char *url,
			const char *body, long long deadline, struct http_resp *resp,
			struct arm_err *err, arm_parse_fn parse, void *parse_arg)
{
	char *tok = NULL;
	char reason[256];
	char code[64] = "", msg[256] = "";
	char lpath[512];
	unsigned attempt = 0;
	int force = 0, refreshed = 0, kind = strcmp(method, "GET") ? ARM_WRITE : ARM_READ;
	int ak = !strcmp(method, "GET")	     ? ARM_K_READS
		 : !strcmp(method, "DELETE") ? ARM_K_DELETES
					     : ARM_K_WRITES;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if (err)
		memset(err, 0, sizeof(*err));
	http_url_path(url, lpath, sizeof(lpath));
	tok = malloc(ARM_TOKEN_MAX);
	if (!tok)
		return -ENOMEM;
	for (;;) {
		struct http_req req = {
		    .method = method,
		    .url = url,
		    .body = body,
		    .body_len = body ? strlen(body) : 0,
		    .op = arm_op_name(op),
		};
		long long now, delay;
		enum http_transport transport;
		int is429;

		code[0] = msg[0] = '\0';
		reason[0] = '\0';
		rc = auth_token(c->auth, force, tok, ARM_TOKEN_MAX, reason, sizeof(reason));
		if (rc) {
			log_err("arm: %s %s: no token: %s", arm_op_name(op), lpath, reason);
			if (err) {
				err->status = 0;
				snprintf(err->message, sizeof(err->message), "credential: %s",
					 reason);
			}
			http_resp_clear(resp);
			goto out;
		}
		force = 0;
		rc = arm_gate(c, kind, ak, deadline);
		if (rc == -EAGAIN)
			goto paused;
		if (rc == -EINTR) {
			log_debug("arm: %s %s: not sent, the caller gave up", arm_op_name(op),
				  lpath);
			http_resp_clear(resp);
			goto out;
		}
		if (rc)
			goto timeout;
		now = arm_now_ms();
		req.bearer = tok;
		req.timeout_ms = (long)(deadline - now);
		if (req.timeout_ms < 1) {
			arm_ungate(c);
			goto timeout;
		}
		http_resp_clear(resp);
		rc = http_do(c->http, &req, resp);
		arm_ungate(c);
		transport = rc ? resp->transport : HTTP_T_NONE;
		is429 = !rc && resp->status == 429;

		pthread_mutex_lock(&c->lock);
		c->st.requests++;
		c->st.by_op[op]++;
		c->st.bytes_in += resp->len;
		c->st.connects += (uint64_t)(resp->new_conns > 0 ? resp->new_conns : 0);
		if (is429)
			c->st.throttled++;
		if (resp->rl_reads >= 0)
			c->st.remaining_reads = resp->rl_reads;
		if (resp->rl_writes >= 0)
			c->st.remaining_writes = resp->rl_writes;
		if (resp->rl_deletes >= 0)
			c->st.remaining_deletes = resp->rl_deletes;
		{
			long left = ak == ARM_K_READS	 ? resp->rl_reads
				    : ak == ARM_K_WRITES ? resp->rl_writes
							 : resp->rl_deletes;
			if (left >= 0) {
				c->rl_left[ak] = left;
				c->rl_ms[ak] = arm_now_ms();
			}
		}
		pthread_mutex_unlock(&c->lock);

		if (rc == -ENOMEM) {
			http_resp_clear(resp);
			goto out;
		}
		if (!rc && resp->status >= 200 && resp->status < 300) {
			/* A broken body is as bad as no answer: retry it too. */
			int prc = !resp->len ? 0
				  : parse    ? parse(resp->body, resp->len, parse_arg)
					     : armj_valid(resp->body, resp->len);

			if (prc == 0) {
				if (err)
					arm_fill_err(err, resp, NULL, NULL);
				rc = 0;
				goto out;
			}
			if (prc == -ENOMEM) {
				rc = prc;
				http_resp_clear(resp);
				goto out;
			}
			rc = -EIO;
			resp->transport = transport = HTTP_T_BROKEN;
			snprintf(resp->errmsg, sizeof(resp->errmsg),
				 "malformed JSON in a %ld answer", resp->status);
		}
		if (rc) {
			snprintf(msg, sizeof(msg), "%s", resp->errmsg);
		} else if (resp->body && resp->len) {
			if (armj_parse_cloud_error(resp->body, resp->len, code, sizeof(code), msg,
						   sizeof(msg)))
				snprintf(msg, sizeof(msg), "HTTP %ld with an unreadable error body",
					 resp->status);
		} else {
			snprintf(msg, sizeof(msg), "HTTP %ld", resp->status);
		}
		if (!rc && resp->status == 401 && !refreshed) {
			refreshed = 1;
			force = 1;
			log_info("arm: %s %s: 401 %s, refreshing the token", arm_op_name(op), lpath,
				 code);
			continue;
		}
		delay = arm_backoff_ms(attempt, rc ? -1 : resp->retry_after, arm_rand(c));
		now = arm_now_ms();
		if (is429) {
			if (resp->retry_after > ARM_RETRY_AFTER_MAX)
				log_warn("arm: %s %s: Retry-After %ld s, waiting %d s at most",
					 arm_op_name(op), lpath, resp->retry_after,
					 ARM_RETRY_AFTER_MAX);
			/* ARM's buckets are per subscription and per kind: every
			 * request of this kind (reads, writes or deletes) waits. */
			pthread_mutex_lock(&c->lock);
			if (c->kpause_until[ak] < now + delay)
				c->kpause_until[ak] = now + delay;
			pthread_mutex_unlock(&c->lock);
		}
		if (!arm_retryable((int)resp->status, code, transport) || attempt >= c->retries)
			break;
		if (now + delay >= deadline) {
			log_warn("arm: %s %s: %ld %s, no time left to retry (op_timeout)",
				 arm_op_name(op), lpath, resp->status, code[0] ? code : msg);
			arm_fill_err(err, resp, code, msg);
			/* The errno of what ARM (or the network) last said, as after
			 * the last retry: a refused connection is EHOSTUNREACH, a 429
			 * EAGAIN, a 5xx EIO; ETIMEDOUT only for an answer that never came. */
			rc = arm_errno_of(ARM_ERRNO_ARM, (int)resp->status, code, msg,
					  rc ? resp->transport : HTTP_T_NONE);
			if (rc == 0)
				rc = -EIO;
			goto fail_logged;
		}
		log_debug("arm: %s %s: %ld %s, retry %u in %lld ms", arm_op_name(op), lpath,
			  resp->status, code[0] ? code : msg, attempt + 1, delay);
		pthread_mutex_lock(&c->lock);
		c->st.retries++;
		pthread_mutex_unlock(&c->lock);
		blocking_sleep_ms(delay);
		attempt++;
	}
	/* A final failure. */
	rc = arm_errno_of(ARM_ERRNO_ARM, (int)resp->status, code, msg,
			  rc ? resp->transport : HTTP_T_NONE);
	if (rc == 0)
		rc = -EIO;
	arm_fill_err(err, resp, code, msg);
	if (rc == -ENOENT)
		log_debug("arm: %s %s: %ld %s: %s (request-id %s)", arm_op_name(op), lpath,
			  resp->status, code, msg, resp->request_id[0] ? resp->request_id : "-");
	else
		log_warn("arm: %s %s: %ld %s: %s (request-id %s)", arm_op_name(op), lpath,
			 resp->status, code[0] ? code : "-", msg,
			 resp->request_id[0] ? resp->request_id : "-");
fail_logged:
	pthread_mutex_lock(&c->lock);
	c->st.errors++;
	pthread_mutex_unlock(&c->lock);
	http_resp_clear(resp);
	goto out;
timeout:
	rc = -ETIMEDOUT;
	if (err && !err->message[0])
		snprintf(err->message, sizeof(err->message), "no answer within op_timeout");
	log_warn("arm: %s %s: no answer within op_timeout", arm_op_name(op), lpath);
	pthread_mutex_lock(&c->lock);
	c->st.errors++;
	pthread_mutex_unlock(&c->lock);
	http_resp_clear(resp);
	goto out;
paused:
	/* not sent: a 429's Retry-After holds every request past op_timeout */
	if (err && !err->message[0])
		snprintf(err->message, sizeof(err->message),
			 "throttled: Retry-After outlasts op_timeout");
	log_warn("arm: %s %s: not sent, ARM's Retry-After outlasts op_timeout", arm_op_name(op),
		 lpath);
	pthread_mutex_lock(&c->lock);
	c->st.errors++;
	pthread_mutex_unlock(&c->lock);
	http_resp_clear(resp);
out:
	explicit_bzero(tok, ARM_TOKEN_MAX);
	free(tok);
	return rc;
}

/* arm_do_parse with the body checked by armj_valid. */
static int arm_do(struct arm_client *c, enum arm_op op, const char *method, const char *url,
		  const char *body, long long deadline, struct http_resp *resp, struct arm_err *err)
{
	return arm_do_parse(c, op, method, url, body, deadline, resp, err, NULL, NULL);
}

/* endpoint + path + "?api-version=" + api [+ "&" + extra]; caller frees. */
static char *arm_url(struct arm_client *c, const char *path, const char *api, const char *extra)
{
	size_t n =
	    strlen(c->endpoint) + strlen(path) + strlen(api) + (extra ? strlen(extra) : 0) + 32;
	char *u = malloc(n);

	if (!u)
		return NULL;
	snprintf(u, n, "%s%s?api-version=%s%s%s", c->endpoint, path, api, extra ? "&" : "",
		 extra ? extra : "");
	return u;
}

/* A nextLink as it will be fetched: checked, with api-version added when
 * missing.  NULL (and -EIO in *rc) when refused. */
static char *arm_next_url(struct arm_client *c, const char *next, const char *api, int *rc)
{
	size_t n;
	char *u;

	if (!arm_url_allowed(c, next, "nextLink")) {
		*rc = -EIO;
		return NULL;
	}
	if (strstr(next, "api-version=")) {
		u = strdup(next);
	} else {
		n = strlen(next) + strlen(api) + 16;
		u = malloc(n);
		if (u)
			snprintf(u, n, "%s%sapi-version=%s", next, strchr(next, '?') ? "&" : "?",
				 api);
	}
	*rc = u ? 0 : -ENOMEM;
	return u;
}

typedef int (*arm_page_fn)(const char *body, size_t len, void *ctx, char **next);

/* How many recent page URLs a listing remembers to catch a nextLink loop. */
#define ARM_LOOP_RING 16

/* FNV-1a hash of a string (page URLs seen while paging). */
static uint64_t arm_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* GET url and every nextLink after it, handing each page to fn. */
static int arm_paged(struct arm_client *c, enum arm_op op, char *url, const char *api,
		     arm_page_fn fn, void *ctx, unsigned *pages, struct arm_err *err)
{
	long long deadline = arm_now_ms() + c->op_timeout_ms;
	struct http_resp resp;
	unsigned np = 0;
	char *next = NULL;
	int rc = 0;
	uint64_t seen[ARM_LOOP_RING] = {0};

	while (url) {
		if (np >= ARM_MAX_PAGES) {
			log_err("arm: %s: more than %d pages, giving up", arm_op_name(op),
				ARM_MAX_PAGES);
			if (err)
				snprintf(err->message, sizeof(err->message), "more than %d pages",
					 ARM_MAX_PAGES);
			rc = -EIO;
			break;
		}
		rc = arm_do(c, op, "GET", url, NULL, deadline, &resp, err);
		if (rc)
			break;
		np++;
		next = NULL;
		rc = fn(resp.body, resp.len, ctx, &next);
		if (rc) {
			log_warn("arm: %s: malformed page %u (request-id %s)", arm_op_name(op), np,
				 resp.request_id[0] ? resp.request_id : "-");
			if (err) {
				err->status = (int)resp.status;
				snprintf(err->message, sizeof(err->message), "malformed answer");
			}
			http_resp_clear(&resp);
			break;
		}
		http_resp_clear(&resp);
		seen[(np - 1) % ARM_LOOP_RING] = arm_hash_str(url);
		free(url);
		url = NULL;
		if (next) {
			url = arm_next_url(c, next, api, &rc);
			free(next);
			if (rc) {
				if (err)
					snprintf(err->message, sizeof(err->message),
						 "nextLink to another host refused");
				break;
			}
			uint64_t h = arm_hash_str(url);
			for (unsigned k = 0; k < ARM_LOOP_RING && k < np; k++) {
				if (seen[k] != h)
					continue;
				log_err("arm: %s: nextLink of page %u leads back to an earlier "
					"page, giving up",
					arm_op_name(op), np);
				if (err)
					snprintf(err->message, sizeof(err->message),
						 "nextLink loop");
				rc = -EIO;
				break;
			}
			if (rc)
				break;
		}
	}
	free(url);
	if (pages)
		*pages = np;
	return rc;
}

struct arm_rpc_ctx {
	struct arm_rpc **v;
	size_t n, cap;
};

/* Page callback for collection lists. */
static int arm_rpc_page(const char *body, size_t len, void *ctx, char **next)
{
	struct arm_rpc_ctx *x = ctx;
	return armj_parse_rpc_page(body, len, &x->v, &x->n, &x->cap, next);
}

/* The URL of "/subscriptions/{sub}SUFFIX" with api-version api; NULL in
 * *url and -EINVAL without a subscription, -ENOMEM. */
static int arm_sub_url(struct arm_client *c, const char *suffix, const char *api, char **url)
{
	char *sub, *path;
	size_t pl;

	*url = NULL;
	if (!c->sub)
		return -EINVAL;
	sub = url_pct_encode(c->sub);
	if (!sub)
		return -ENOMEM;
	pl = strlen(sub) + strlen(suffix) + 16;
	path = malloc(pl);
	if (path) {
		snprintf(path, pl, "/subscriptions/%s%s", sub, suffix);
		*url = arm_url(c, path, api, NULL);
	}
	free(sub);
	free(path);
	return *url ? 0 : -ENOMEM;
}

/* RestorePointCollections_ListAll, following every nextLink. */
int arm_list_collections(struct arm_client *c, struct arm_rpc ***out, size_t *n, unsigned *pages,
			 struct arm_err *err)
{
	struct arm_rpc_ctx x = {0};
	size_t kept = 0, l;
	char *url;
	int rc;

	*out = NULL;
	*n = 0;
	if (pages)
		*pages = 0;
	rc = arm_sub_url(c, "/providers/Microsoft.Compute/restorePointCollections", c->api, &url);
	if (rc)
		return rc;
	rc = arm_paged(c, ARM_OP_RPC_LIST_ALL, url, c->api, arm_rpc_page, &x, pages, err);
	if (rc) {
		arm_rpc_array_free(x.v, x.n);
		return rc;
	}
	/* Only collections of this subscription belong in it. */
	l = strlen(c->sub);
	for (size_t i = 0; i < x.n; i++) {
		struct arm_rpc *r = x.v[i];

		if (!strncasecmp(r->id, "/subscriptions/", 15) &&
		    !strncasecmp(r->id + 15, c->sub, l) && r->id[15 + l] == '/') {
			x.v[kept++] = r;
		} else {
			log_warn("arm: %s: %.300s is not in subscription %s: skipped",
				 arm_op_name(ARM_OP_RPC_LIST_ALL), r->id, c->sub);
			arm_rpc_free(r);
		}
	}
	x.n = kept;
	*out = x.v;
	*n = x.n;
	return 0;
}

struct arm_loc_ctx {
	struct arm_location *v;
	size_t n, cap;
};

/* Page callback for locations. */
static int arm_loc_page(const char *body, size_t len, void *ctx, char **next)
{
	struct arm_loc_ctx *x = ctx;
	return armj_parse_locations_page(body, len, &x->v, &x->n, &x->cap, next);
}

/* GET /subscriptions/{sub}/locations (Physical only). */
int arm_list_locations(struct arm_client *c, struct arm_location **out, size_t *n,
		       struct arm_err *err)
{
	struct arm_loc_ctx x = {0};
	char *url;
	int rc;

	*out = NULL;
	*n = 0;
	rc = arm_sub_url(c, "/locations", ARM_RESOURCES_API, &url);
	if (rc)
		return rc;
	rc = arm_paged(c, ARM_OP_LOCATIONS, url, ARM_RESOURCES_API, arm_loc_page, &x, NULL, err);
	if (rc) {
		arm_locations_free(x.v, x.n);
		return rc;
	}
	*out = x.v;
	*n = x.n;
	return 0;
}

struct arm_names_ctx {
	const char *field;
	char **v;
	size_t n, cap;
};

/* Page callback for lists of names. */
static int arm_names_page(const char *body, size_t len, void *ctx, char **next)
{
	struct arm_names_ctx *x = ctx;
	return armj_parse_names_page(body, len, x->field, &x->v, &x->n, &x->cap, next);
}

/* GET /subscriptions. */
int arm_list_subscriptions(struct arm_client *c, char ***ids, size_t *n, struct arm_err *err)
{
	struct arm_names_ctx x = {.field = "subscriptionId"};
	char *url = arm_url(c, "/subscriptions", ARM_RESOURCES_API, NULL);
	int rc;

	*ids = NULL;
	*n = 0;
	if (!url)
		return -ENOMEM;
	rc = arm_paged(c, ARM_OP_SUBSCRIPTIONS, url, ARM_RESOURCES_API, arm_names_page, &x, NULL,
		       err);
	if (rc) {
		arm_strings_free(x.v, x.n);
		return rc;
	}
	*ids = x.v;
	*n = x.n;
	return 0;
}

/* GET /subscriptions/{sub}/resourcegroups. */
int arm_list_resource_groups(struct arm_client *c, char ***names, size_t *n, struct arm_err *err)
{
	struct arm_names_ctx x = {.field = "name"};
	char *url;
	int rc;

	*names = NULL;
	*n = 0;
	rc = arm_sub_url(c, "/resourcegroups", ARM_GROUPS_API, &url);
	if (rc)
		return rc;
	rc = arm_paged(c, ARM_OP_RESOURCE_GROUPS, url, ARM_GROUPS_API, arm_names_page, &x, NULL,
		       err);
	if (rc) {
		arm_strings_free(x.v, x.n);
		return rc;
	}
	*names = x.v;
	*n = x.n;
	return 0;
}

/* One GET of a resource; *resp filled on success. */
static int arm_get_parse(struct arm_client *c, enum arm_op op, const char *path, const char *api,
			 const char *extra, struct http_resp *resp, struct arm_err *err,
			 arm_parse_fn parse, void *parse_arg)
{
	char *url = arm_url(c, path, api, extra);
	int rc;

	if (!url)
		return -ENOMEM;
	rc = arm_do_parse(c, op, "GET", url, NULL, arm_now_ms() + c->op_timeout_ms, resp, err,
			  parse, parse_arg);
	free(url);
	return rc;
}

/* A GET whose body is only checked to be JSON. */
static int arm_get(struct arm_client *c, enum arm_op op, const char *path, const char *api,
		   const char *extra, struct http_resp *resp, struct arm_err *err)
{
	return arm_get_parse(c, op, path, api, extra, resp, err, NULL, NULL);
}

/* arm_parse_fn of a collection. */
static int arm_parse_rpc_cb(const char *body, size_t len, void *arg)
{
	return armj_parse_rpc(body, len, arg);
}

/* Note a malformed 2xx answer in err and the log. */
static int arm_malformed(enum arm_op op, const struct http_resp *r, struct arm_err *err, int rc)
{
	if (rc == -ENOMEM)
		return rc;
	log_warn("arm: %s: malformed answer (HTTP %ld, request-id %s)", arm_op_name(op), r->status,
		 r->request_id[0] ? r->request_id : "-");
	if (err) {
		err->status = (int)r->status;
		snprintf(err->code, sizeof(err->code), "%s", "");
		snprintf(err->message, sizeof(err->message), "malformed answer");
	}
	return -EIO;
}

/* 1 when an answer describes the resource asked for (ARM ids and names
 * compare case-insensitively); else logs it and notes it in err. */
static int arm_answer_is(enum arm_op op, const char *got, const char *want, struct arm_err *err)
{
	if (got && want && !strcasecmp(got, want))
		return 1;
	log_warn("arm: %s %.300s: the answer describes %.300s instead: refused", arm_op_name(op),
		 want ? want : "-", got ? got : "nothing");
	if (err)
		snprintf(err->message, sizeof(err->message),
			 "the answer describes another resource");
	return 0;
}

/* GET a resource group. */
int arm_get_resource_group(struct arm_client *c, const char *rg, char **name_out,
			   struct arm_err *err)
{
	struct http_resp r;
	char *path;
	int rc;

	if (name_out)
		*name_out = NULL;
	if (!c->sub || arm_rg_name_check(rg))
		return -EINVAL;
	path = arm_url_path_rg(c->sub, rg);
	if (!path)
		return -ENOMEM;
	rc = arm_get(c, ARM_OP_RESOURCE_GROUP, path, ARM_GROUPS_API, NULL, &r, err);
	free(path);
	if (rc)
		return rc;
	if (name_out) {
		rc = armj_parse_name(r.body, r.len, name_out);
		if (rc)
			rc = arm_malformed(ARM_OP_RESOURCE_GROUP, &r, err, rc);
		else if (!arm_answer_is(ARM_OP_RESOURCE_GROUP, *name_out, rg, err)) {
			free(*name_out);
			*name_out = NULL;
			rc = -EIO;
		}
	}
	http_resp_clear(&r);
	return rc;
}

/* RestorePointCollections_Get. */
int arm_get_collection(struct arm_client *c, const char *rg, const char *name, int expand,
		       struct arm_rpc **out, struct arm_err *err)
{
	struct http_resp r;
	struct arm_rpc *rpc;
	char *path;
	int rc;

	*out = NULL;
	if (!c->sub || arm_rg_name_check(rg) || arm_name_check(name))
		return -EINVAL;
	path = arm_url_path_rpc(c->sub, rg, name);
	if (!path)
		return -ENOMEM;
	rpc = calloc(1, sizeof(*rpc));
	if (!rpc) {
		free(path);
		return -ENOMEM;
	}
	/* Parsed as it arrives: a body that does not parse is retried. */
	rc = arm_get_parse(c, ARM_OP_RPC_GET, path, c->api, expand ? "$expand=restorePoints" : NULL,
			   &r, err, arm_parse_rpc_cb, rpc);
	free(path);
	path = NULL;
	if (rc) {
		free(rpc);
		return rc;
	}
	rc = rpc->id ? 0 : -EIO; /* an empty body */
	if (rc) {
		rc = arm_malformed(ARM_OP_RPC_GET, &r, err, rc);
		free(rpc);
	} else if ((path = arm_path_rpc(c->sub, rg, name)) == NULL ||
		   !arm_answer_is(ARM_OP_RPC_GET, rpc->id, path, err)) {
		rc = path ? -EIO : -ENOMEM;
		arm_rpc_free(rpc);
	} else {
		/* ARM omits an empty restorePoints array: say it was asked for. */
		if (expand)
			rpc->has_points = 1;
		*out = rpc;
	}
	free(path);
	http_resp_clear(&r);
	return rc;
}

/* RestorePoints_Get. */
int arm_get_rp(struct arm_client *c, const char *rg, const char *rpc, const char *rp,
	       int instance_view, struct arm_rp **out, struct arm_err *err)
{
	struct http_resp r;
	struct arm_rp *p;
	char *path;
	int rc;

	*out = NULL;
	if (!c->sub || arm_rg_name_check(rg) || arm_name_check(rpc) || arm_name_check(rp))
		return -EINVAL;
	path = arm_url_path_rp(c->sub, rg, rpc, rp);
	if (!path)
		return -ENOMEM;
	rc = arm_get(c, ARM_OP_RP_GET, path, c->api, instance_view ? "$expand=instanceView" : NULL,
		     &r, err);
	free(path);
	path = NULL;
	if (rc)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p) {
		http_resp_clear(&r);
		return -ENOMEM;
	}
	rc = armj_parse_rp(r.body, r.len, p);
	if (rc) {
		rc = arm_malformed(ARM_OP_RP_GET, &r, err, rc);
		free(p);
	} else if ((path = arm_path_rp(c->sub, rg, rpc, rp)) == NULL ||
		   !arm_answer_is(ARM_OP_RP_GET, p->id, path, err)) {
		rc = path ? -EIO : -ENOMEM;
		arm_rp_free(p);
	} else {
		if (instance_view)
			p->has_instance_view = 1;
		*out = p;
	}
	free(path);
	http_resp_clear(&r);
	return rc;
}

/* A write (PUT/PATCH/DELETE) of path with body. */
static int arm_write(struct arm_client *c, enum arm_op op, const char *method, const char *path,
		     const char *body, struct http_resp *resp, struct arm_err *err)
{
	char *url = arm_url(c, path, c->api, NULL);
	int rc;

	if (!url)
		return -ENOMEM;
	rc = arm_do(c, op, method, url, body, arm_now_ms() + c->op_timeout_ms, resp, err);
	free(url);
	return rc;
}

/* Parse an optional collection answer into *out. */
static int arm_rpc_answer(enum arm_op op, struct http_resp *r, struct arm_rpc **out,
			  struct arm_err *err)
{
	struct arm_rpc *rpc;
	int rc;

	if (!out)
		return 0;
	rpc = calloc(1, sizeof(*rpc));
	if (!rpc)
		return -ENOMEM;
	rc = armj_parse_rpc(r->body, r->len, rpc);
	if (rc) {
		free(rpc);
		return arm_malformed(op, r, err, rc);
	}
	*out = rpc;
	return 0;
}

/* RestorePointCollections_CreateOrUpdate. */
int arm_put_collection(struct arm_client *c, const char *rg, const char *name, const char *location,
		       const char *source_id, const struct arm_tag *tags, size_t ntags,
		       struct arm_rpc **out, struct arm_err *err)
{
	struct http_resp r;
	char *path = NULL, *body = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!c->sub || arm_rg_name_check(rg) || arm_name_check(name) || !location || !*location)
		return -EINVAL;
	path = arm_url_path_rpc(c->sub, rg, name);
	body = arm_body_put_collection(location, source_id, tags, ntags);
	rc = -ENOMEM;
	if (!path || !body)
		goto out;
	rc = arm_write(c, ARM_OP_RPC_PUT, "PUT", path, body, &r, err);
	if (rc)
		goto out;
	rc = arm_rpc_answer(ARM_OP_RPC_PUT, &r, out, err);
	http_resp_clear(&r);
out:
	free(path);
	free(body);
	return rc;
}

/* RestorePointCollections_Update with tags. */
int arm_patch_collection_tags(struct arm_client *c, const char *rg, const char *name,
			      const struct arm_tag *tags, size_t ntags, struct arm_rpc **out,
			      struct arm_err *err)
{
	struct http_resp r;
	char *path = NULL, *body = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!c->sub || arm_rg_name_check(rg) || arm_name_check(name))
		return -EINVAL;
	path = arm_url_path_rpc(c->sub, rg, name);
	body = arm_body_patch_tags(tags, ntags);
	rc = -ENOMEM;
	if (!path || !body)
		goto out;
	rc = arm_write(c, ARM_OP_RPC_PATCH, "PATCH", path, body, &r, err);
	if (rc)
		goto out;
	rc = arm_rpc_answer(ARM_OP_RPC_PATCH, &r, out, err);
	http_resp_clear(&r);
out:
	free(path);
	free(body);
	return rc;
}

/* Build the operation handle of an accepted PUT or DELETE. */
static int arm_make_lro(struct arm_client *c, const struct http_resp *r, const char *path,
			const char *id, int is_delete, struct arm_lro **lro)
{
	struct arm_lro *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->is_delete = is_delete;
	l->retry_after = r->retry_after;
	if (r->async_op && *r->async_op && !(l->async_url = strdup(r->async_op)))
		goto nomem;
	if (r->location && *r->location && !(l->location_url = strdup(r->location)))
		goto nomem;
	if (!(l->resource_url = arm_url(c, path, c->api, NULL)) || !(l->resource_id = strdup(id)))
		goto nomem;
	*lro = l;
	return 0;
nomem:
	arm_lro_free(l);
	return -ENOMEM;
}

/* RestorePoints_Create. */
int arm_put_rp(struct arm_client *c, const char *rg, const char *rpc, const char *rp,
	       const char *source_rp_id, const char *consistency, struct arm_rp **out,
	       struct arm_lro **lro, struct arm_err *err)
{
	struct http_resp r;
	char *path = NULL, *id = NULL, *body = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (lro)
		*lro = NULL;
	if (!c->sub || arm_rg_name_check(rg) || arm_name_check(rpc) || arm_name_check(rp))
		return -EINVAL;
	path = arm_url_path_rp(c->sub, rg, rpc, rp);
	id = arm_path_rp(c->sub, rg, rpc, rp);
	body = arm_body_put_rp(source_rp_id, consistency);
	rc = -ENOMEM;
	if (!path || !id || !body)
		goto out;
	rc = arm_write(c, ARM_OP_RP_PUT, "PUT", path, body, &r, err);
	if (rc)
		goto out;
	if (out && r.body && r.len) {
		struct arm_rp *p = calloc(1, sizeof(*p));
		if (!p) {
			rc = -ENOMEM;
		} else if (armj_parse_rp(r.body, r.len, p)) {
			/* Accepted all the same: the caller re-reads the point. */
			log_warn("arm: RestorePoints_Create %s: accepted with an unreadable body",
				 id);
			free(p);
		} else {
			*out = p;
		}
	}
	if (!rc && lro)
		rc = arm_make_lro(c, &r, path, id, 0, lro);
	http_resp_clear(&r);
out:
	free(path);
	free(id);
	free(body);
	return rc;
}

/* A DELETE of a collection or point. */
static int arm_delete(struct arm_client *c, enum arm_op op, char *path, char *id,
		      struct arm_lro **lro, struct arm_err *err)
{
	struct http_resp r;
	int rc = -ENOMEM;

	if (!path || !id)
		goto out;
	rc = arm_write(c, op, "DELETE", path, NULL, &r, err);
	if (rc)
		goto out;
	if (lro)
		rc = arm_make_lro(c, &r, path, id, 1, lro);
	http_resp_clear(&r);
out:
	free(path);
	free(id);
	return rc;
}

/* RestorePoints_Delete. */
int arm_delete_rp(struct arm_client *c, const char *rg, const char *rpc, const char *rp,
		  struct arm_lro **lro, struct arm_err *err)
{
	if (lro)
		*lro = NULL;
	if (!c->sub || arm_rg_name_check(rg) || arm_name_check(rpc) || arm_name_check(rp))
		return -EINVAL;
	return arm_delete(c, ARM_OP_RP_DELETE, arm_url_path_rp(c->sub, rg, rpc, rp),
			  arm_path_rp(c->sub, rg, rpc, rp), lro, err);
}

/* RestorePointCollections_Delete. */
int arm_delete_collection(struct arm_client *c, const char *rg, const char *name,
			  struct arm_lro **lro, struct arm_err *err)
{
	if (lro)
		*lro = NULL;
	if (!c->sub || arm_rg_name_check(rg) || arm_name_check(name))
		return -EINVAL;
	return arm_delete(c, ARM_OP_RPC_DELETE, arm_url_path_rpc(c->sub, rg, name),
			  arm_path_rpc(c->sub, rg, name), lro, err);
}

static int arm_lro_poll(struct arm_client *c, struct arm_lro *lro, unsigned timeout_s,
			struct arm_err *err, struct http_resp *final);

/* Poll an operation until it ends or timeout_s passes. */
int arm_lro_wait(struct arm_client *c, struct arm_lro *lro, unsigned timeout_s, struct arm_err *err)
{
	return arm_lro_poll(c, lro, timeout_s, err, NULL);
}

/* The URL path of a disk restore point id plus "/" suffix, every segment
 * percent-encoded; NULL (*rc -EINVAL) when id is not one. */
static char *arm_drp_path(const char *id, const char *suffix, int *rc)
{
	static const char *const kw[] = {"subscriptions",
					 NULL,
					 "resourceGroups",
					 NULL,
					 "providers",
					 "Microsoft.Compute",
					 "restorePointCollections",
					 NULL,
					 "restorePoints",
					 NULL,
					 "diskRestorePoints",
					 NULL};
	char *copy, *save = NULL, *seg, *out = NULL;
	size_t len = 0, cap, nseg = 0;

	*rc = -EINVAL;
	if (!id || id[0] != '/' || strlen(id) > 2048 || strpbrk(id, "?#"))
		return NULL;
	copy = strdup(id);
	cap = strlen(id) * 3 + strlen(suffix) + 8;
	out = malloc(cap);
	if (!copy || !out) {
		*rc = -ENOMEM;
		goto fail;
	}
	for (seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save), nseg++) {
		char *e;

		if (nseg >= 12 || (kw[nseg] && strcasecmp(seg, kw[nseg])) || !strcmp(seg, "..") ||
		    !strcmp(seg, "."))
			goto fail;
		e = url_pct_encode(seg);
		if (!e) {
			*rc = -ENOMEM;
			goto fail;
		}
		len += (size_t)snprintf(out + len, cap - len, "/%s", e);
		free(e);
	}
	if (nseg != 12)
		goto fail;
	snprintf(out + len, cap - len, "/%s", suffix);
	free(copy);
	*rc = 0;
	return out;
fail:
	free(copy);
	free(out);
	return NULL;
}

/* DiskRestorePoint_GrantAccess, to the end of its operation. */
int arm_disk_grant(struct arm_client *c, const char *drp_id, const char *api, unsigned duration_s,
		   char **sas, struct arm_err *err)
{
	struct http_resp r, fin;
	struct arm_lro *lro = NULL;
	char *path, *url = NULL, *body = NULL;
	int rc;

	*sas = NULL;
	memset(&fin, 0, sizeof(fin));
	path = arm_drp_path(drp_id, "beginGetAccess", &rc);
	if (!path)
		return rc;
	rc = -ENOMEM;
	url = arm_url(c, path, api, NULL);
	body = armj_body_grant_access(duration_s);
	if (!url || !body)
		goto out;
	rc = arm_do(c, ARM_OP_DISK_GRANT, "POST", url, body, arm_now_ms() + c->op_timeout_ms, &r,
		    err);
	if (rc) {
		if (err && (err->status == 409 || err->status == 403))
			rc = arm_errno_of(ARM_ERRNO_GRANT, err->status, err->code, err->message,
					  HTTP_T_NONE);
		goto out;
	}
	if (r.status == 202 || (!r.len && r.location)) {
		rc = arm_make_lro(c, &r, path, drp_id, 0, &lro);
		http_resp_clear(&r);
		if (rc)
			goto out;
		if (!lro->location_url) {
			if (err)
				snprintf(err->message, sizeof(err->message),
					 "beginGetAccess accepted without a Location to follow");
			rc = -EIO;
			goto out;
		}
		free(lro->async_url); /* final-state-via: location */
		lro->async_url = NULL;
		rc = arm_lro_poll(c, lro, 0, err, &fin);
		if (rc) {
			if (err && (err->status == 409 || err->status == 403))
				rc = arm_errno_of(ARM_ERRNO_GRANT, err->status, err->code,
						  err->message, HTTP_T_NONE);
			goto out;
		}
	} else {
		fin = r;
	}
	rc = fin.body ? armj_parse_access_sas(fin.body, fin.len, sas) : -EIO;
	if (rc == -EIO) {
		log_warn("arm: %s %s: the answer holds no accessSAS (request-id %s)",
			 arm_op_name(ARM_OP_DISK_GRANT), drp_id,
			 fin.request_id[0] ? fin.request_id : "-");
		if (err)
			snprintf(err->message, sizeof(err->message),
				 "the answer holds no accessSAS");
	}
	if (fin.body)
		explicit_bzero(fin.body, fin.len);
	http_resp_clear(&fin);
out:
	arm_lro_free(lro);
	free(path);
	free(url);
	free(body);
	return rc;
}

/* DiskRestorePoint_RevokeAccess, to the end of its operation. */
int arm_disk_revoke(struct arm_client *c, const char *drp_id, const char *api, unsigned timeout_s,
		    int wait, struct arm_err *err)
{
	struct http_resp r;
	struct arm_lro *lro = NULL;
	char *path, *url = NULL;
	int rc;

	path = arm_drp_path(drp_id, "endGetAccess", &rc);
	if (!path)
		return rc;
	rc = -ENOMEM;
	url = arm_url(c, path, api, NULL);
	if (!url)
		goto out;
	rc = arm_do(c, ARM_OP_DISK_REVOKE, "POST", url, NULL,
		    arm_now_ms() + (timeout_s ? (long long)timeout_s * 1000 : c->op_timeout_ms), &r,
		    err);
	if (rc)
		goto out;
	if (wait && r.status == 202 && (r.location || r.async_op))
		rc = arm_make_lro(c, &r, path, drp_id, 1, &lro);
	http_resp_clear(&r);
	if (!rc && lro)
		rc = arm_lro_wait(c, lro, timeout_s, err);
out:
	arm_lro_free(lro);
	free(path);
	free(url);
	return rc;
}

/* 1 when a provisioningState or operation status is terminal. */
static int arm_terminal(const char *s)
{
	return !s || !strcasecmp(s, "Succeeded") || !strcasecmp(s, "Failed") ||
	       !strcasecmp(s, "Canceled") || !strcasecmp(s, "Cancelled");
}

/* Poll an operation until it ends or timeout_s passes; with final set, a
 * Location operation's last answer (its result) is handed over in *final
 * (the caller clears it), else final->body stays NULL. */
static int arm_lro_poll(struct arm_client *c, struct arm_lro *lro, unsigned timeout_s,
			struct arm_err *err, struct http_resp *final)
{
	long long deadline =
	    arm_now_ms() + (timeout_s ? (long long)timeout_s * 1000 : c->op_timeout_ms);
	long retry_after = lro ? lro->retry_after : -1;
	unsigned polls = 0;
	const char *url, *kind;
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!lro)
		return 0;
	if (lro->async_url) {
		url = lro->async_url;
		kind = "Azure-AsyncOperation";
	} else if (lro->location_url) {
		url = lro->location_url;
		kind = "Location";
	} else {
		url = lro->resource_url;
		kind = "resource";
	}
	if (url != lro->resource_url && !arm_url_allowed(c, url, kind)) {
		if (err)
			snprintf(err->message, sizeof(err->message),
				 "%s URL to another host refused", kind);
		return -EIO;
	}
	for (;;) {
		struct http_resp r;
		struct arm_err e;
		long long now = arm_now_ms(), wait, pd;
		char *status = NULL;
		char code[64], msg[256];

		/* Wait first: the operation was just accepted or is still running. */
		wait = retry_after >= 0 ? retry_after * 1000 : (polls < 3 ? 500 : 2000);
		if (retry_after > 60)
			wait = 60000;
		if (now + wait > deadline) {
			if (err && !err->message[0])
				snprintf(err->message, sizeof(err->message),
					 "operation still running");
			return -ETIMEDOUT;
		}
		blocking_sleep_ms(wait);
		polls++;
		pd = arm_now_ms() + c->op_timeout_ms;
		if (pd > deadline)
			pd = deadline;
		rc = arm_do(c, ARM_OP_OPERATION, "GET", url, NULL, pd, &r, &e);
		if (err)
			*err = e;
		if (rc == -ENOENT && lro->is_delete && url != lro->async_url)
			return 0;
		if (rc)
			return rc;
		retry_after = r.retry_after;
		if (url == lro->async_url) {
			rc = armj_parse_op_status(r.body, r.len, &status, code, sizeof(code), msg,
						  sizeof(msg));
			if (rc) {
				rc = arm_malformed(ARM_OP_OPERATION, &r, err, rc);
				http_resp_clear(&r);
				return rc;
			}
			if (arm_terminal(status)) {
				rc = strcasecmp(status, "Succeeded") ? -EIO : 0;
				if (rc) {
					if (err) {
						snprintf(err->code, sizeof(err->code), "%s", code);
						snprintf(err->message, sizeof(err->message),
							 "%.40s%s%.200s", status,
							 msg[0] ? ": " : "", msg);
					}
					log_warn(
					    "arm: operation on %s ended %s: %s %s (request-id %s)",
					    lro->resource_id, status, code, msg,
					    r.request_id[0] ? r.request_id : "-");
				}
				free(status);
				http_resp_clear(&r);
				return rc;
			}
			free(status);
		} else if (url == lro->location_url) {
			if (r.status != 202) {
				if (final)
					*final = r;
				else
					http_resp_clear(&r);
				return 0;
			}
		} else {
			rc = armj_parse_state(r.body, r.len, &status);
			if (rc) {
				rc = arm_malformed(ARM_OP_OPERATION, &r, err, rc);
				http_resp_clear(&r);
				return rc;
			}
			if (!lro->is_delete && arm_terminal(status)) {
				rc = (!status || !strcasecmp(status, "Succeeded")) ? 0 : -EIO;
				if (rc && err)
					snprintf(err->message, sizeof(err->message),
						 "provisioningState %s", status);
				free(status);
				http_resp_clear(&r);
				return rc;
			}
			free(status);
		}
		http_resp_clear(&r);
	}
}
