/*
 * blob.c - ranged reads, HEAD and Get Page Ranges on a page blob's SAS URL.
 *
 * Why it is its own client: the bytes of a disk come from Azure Storage,
 * another origin than ARM, authorised by the SAS in the URL alone.  Going
 * through arm.c would put the ARM bearer token one mistake away from the
 * blob's host, and ARM's throttling gate (its token buckets are per
 * subscription) has nothing to do with a storage account's.  So this
 * module has its own pool of connections (struct http) and never asks the
 * credential for anything.
 *
 * Reads land straight in the caller's buffer (a block of the disk cache):
 * no copy, no realloc, and an answer longer than asked is broken.  A 206
 * must say exactly the range asked (Content-Range); a short body is
 * retried like a reset.
 *
 * The page list is XML; only PageRange/Start/End and NextMarker matter, so
 * a small scanner reads them (strict: numbers, 512-byte alignment, order).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "arm_err.h"
#include "blob.h"
#include "blocking.h"
#include "http.h"
#include "log.h"
#include "url.h"

#define BLOB_MAX_RANGES (4u << 20) /* page list entries kept (64 MiB) */
#define BLOB_MAX_PAGES 100000	   /* NextMarker pages followed */
#define BLOB_BACKOFF_MS 100	   /* first retry delay, doubling */
#define BLOB_BACKOFF_MAX_MS 4000

struct blob {
	struct http *http;
	unsigned retries;
};

/* Milliseconds of the monotonic clock. */
long long blob_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Create the client. */
int blob_new(const struct blob_cfg *cfg, struct blob **out)
{
	struct blob *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	b->retries = cfg->retries;
	rc = http_new(cfg->cafile, cfg->max_conns ? cfg->max_conns : 8, &b->http);
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* Free the client; no call may be running. */
void blob_free(struct blob *b)
{
	if (!b)
		return;
	http_free(b->http);
	free(b);
}

/* 0 when the SAS may be used: https, or http to a loopback host. */
int blob_url_ok(const char *sas)
{
	if (!sas)
		return -EINVAL;
	if (!strncasecmp(sas, "https://", 8))
		return 0;
	if (!strncasecmp(sas, "http://", 7) && url_is_loopback(sas))
		return 0;
	return -EINVAL;
}

/* Delay before retry number attempt: Retry-After when given, else
 * exponential backoff with equal jitter. */
static long long blob_backoff_ms(unsigned attempt, long retry_after)
{
	unsigned r = 0;

	if (retry_after >= 0)
		return (long long)(retry_after > 60 ? 60 : retry_after) * 1000;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)blob_now_ms();
	return arm_backoff_step_ms(attempt, BLOB_BACKOFF_MS, BLOB_BACKOFF_MAX_MS, r);
}

/* The errno of an answer (arm_errno_of's storage rules); with no status,
 * the request's own failure. */
static int blob_errno(long status, int rc)
{
	if (!status)
		return rc ? rc : -EIO;
	return arm_errno_of(ARM_ERRNO_BLOB, (int)status, NULL, NULL, HTTP_T_NONE);
}

/* 1 when an answer is worth retrying. */
static int blob_retryable(long status, int rc)
{
	if (rc == -ENOMEM)
		return 0;
	if (rc)
		return 1;
	return status == 408 || status == 429 || status >= 500;
}

/* Checks a 2xx answer; 0, or -EIO with a reason when it is broken. */
typedef int (*blob_check_fn)(struct http_resp *r, void *arg);

/* One request with retries until deadline.  On 0, *resp holds the
 * answer (caller clears); else err says what was last seen. */
static int blob_do(struct blob *b, const char *op, const char *method, const char *url, char *buf,
		   size_t cap, const char *range, long long deadline, blob_check_fn check,
		   void *check_arg, struct http_resp *resp, struct blob_count *cnt,
		   struct blob_err *err)
{
	char hrange[80];
	const char *hdrs[3];
	char where[256];
	unsigned attempt = 0;
	int rc;

	hdrs[0] = "x-ms-version: " BLOB_VERSION;
	hdrs[1] = NULL;
	if (range) {
		snprintf(hrange, sizeof(hrange), "x-ms-range: %s", range);
		hdrs[1] = hrange;
	}
	hdrs[2] = NULL;
	http_url_host_path(url, where, sizeof(where));
	if (err)
		memset(err, 0, sizeof(*err));
	for (;;) {
		struct http_req req = {
		    .method = method,
		    .url = url,
		    .raw = 1,
		    .headers = hdrs,
		    .out_buf = buf,
		    .out_cap = cap,
		    .op = op,
		};
		long long now = blob_now_ms(), delay;

		req.timeout_ms = (long)(deadline - now);
		if (req.timeout_ms < 1) {
			rc = -ETIMEDOUT;
			if (err && !err->message[0])
				snprintf(err->message, sizeof(err->message),
					 "no answer within op_timeout");
			break;
		}
		rc = http_do(b->http, &req, resp);
		if (cnt) {
			__atomic_add_fetch(&cnt->requests, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&cnt->bytes, resp->len, __ATOMIC_RELAXED);
		}
		if (!rc && resp->status >= 200 && resp->status < 300) {
			rc = check ? check(resp, check_arg) : 0;
			if (rc == 0)
				return 0;
			resp->transport = HTTP_T_BROKEN;
			resp->status = 0;
		}
		if (err) {
			err->status = (int)resp->status;
			snprintf(err->code, sizeof(err->code), "%s", resp->error_code);
			snprintf(err->request_id, sizeof(err->request_id), "%s", resp->request_id);
			if (rc)
				snprintf(err->message, sizeof(err->message), "%s", resp->errmsg);
			else
				snprintf(err->message, sizeof(err->message), "HTTP %ld",
					 resp->status);
		}
		if (!blob_retryable(resp->status, rc) || attempt >= b->retries) {
			rc = blob_errno(resp->status, rc);
			break;
		}
		delay = blob_backoff_ms(attempt, rc ? -1 : resp->retry_after);
		if (blob_now_ms() + delay >= deadline) {
			rc = blob_errno(resp->status, rc);
			if (rc == 0)
				rc = -EIO;
			break;
		}
		log_debug("blob: %s %s: %s, retry %u in %lld ms", op, where,
			  err ? err->message : "failed", attempt + 1, delay);
		if (cnt)
			__atomic_add_fetch(&cnt->retries, 1, __ATOMIC_RELAXED);
		http_resp_clear(resp);
		blocking_sleep_ms(delay);
		attempt++;
	}
	log_warn("blob: %s %s: %s%s%s (request-id %s)", op, where,
		 err ? err->message : strerror(-rc), err && err->code[0] ? " " : "",
		 err ? err->code : "", err && err->request_id[0] ? err->request_id : "-");
	http_resp_clear(resp);
	return rc;
}

struct read_want {
	uint64_t off;
	size_t len;
};

/* A ranged read must answer exactly the range asked. */
static int blob_check_read(struct http_resp *r, void *arg)
{
	const struct read_want *w = arg;
	struct http_resp *m = r;

	if (r->len != w->len) {
		snprintf(m->errmsg, sizeof(m->errmsg), "short body: %zu of %zu bytes", r->len,
			 w->len);
		return -EIO;
	}
	if (r->status == 206 && (r->range_start != (long long)w->off ||
				 r->range_end != (long long)(w->off + w->len - 1))) {
		snprintf(m->errmsg, sizeof(m->errmsg), "Content-Range is not the range asked");
		return -EIO;
	}
	if (r->status != 206 && w->off != 0) {
		snprintf(m->errmsg, sizeof(m->errmsg), "HTTP %ld to a ranged read", r->status);
		return -EIO;
	}
	return 0;
}

/* Read len bytes at off into buf. */
int blob_read(struct blob *b, const char *sas, uint64_t off, size_t len, char *buf,
	      long long deadline_ms, struct blob_count *cnt, struct blob_err *err)
{
	struct read_want w = {.off = off, .len = len};
	struct http_resp r;
	char range[64];
	int rc;

	if (blob_url_ok(sas))
		return -EINVAL;
	if (!len)
		return 0;
	snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off, off + len - 1);
	rc = blob_do(b, "Blob_Get", "GET", sas, buf, len, range, deadline_ms, blob_check_read, &w,
		     &r, cnt, err);
	if (rc == 0)
		http_resp_clear(&r);
	return rc;
}

/* A HEAD must say the size. */
static int blob_check_head(struct http_resp *r, void *arg)
{
	(void)arg;
	if (r->content_length < 0) {
		snprintf(r->errmsg, sizeof(r->errmsg), "no Content-Length");
		return -EIO;
	}
	return 0;
}

/* The blob's size (HEAD). */
int blob_size(struct blob *b, const char *sas, uint64_t *size, long long deadline_ms,
	      struct blob_count *cnt, struct blob_err *err)
{
	struct http_resp r;
	char none[1];
	int rc;

	if (blob_url_ok(sas))
		return -EINVAL;
	rc = blob_do(b, "Blob_GetProperties", "HEAD", sas, none, 0, NULL, deadline_ms,
		     blob_check_head, NULL, &r, cnt, err);
	if (rc == 0) {
		*size = (uint64_t)r.content_length;
		http_resp_clear(&r);
	}
	return rc;
}

/* The decimal number between <tag> and </tag> in [p, end), advancing *pp
 * past it.  0, or -EIO. */
static int xml_num(const char **pp, const char *end, const char *tag, uint64_t *out)
{
	char open[32], close[32];
	const char *p = *pp, *s, *e;
	uint64_t v = 0;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = memmem(p, (size_t)(end - p), open, strlen(open));
	if (!s)
		return -EIO;
	s += strlen(open);
	e = memmem(s, (size_t)(end - s), close, strlen(close));
	if (!e || e == s || e - s > 20)
		return -EIO;
	for (const char *c = s; c < e; c++) {
		if (*c < '0' || *c > '9' || v > (UINT64_MAX - 9) / 10)
			return -EIO;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	*out = v;
	*pp = e + strlen(close);
	return 0;
}

/* Append a range, merged with the last one when adjacent. */
static int range_add(struct blob_range **v, size_t *n, size_t *cap, uint64_t s, uint64_t e)
{
	if (*n && (*v)[*n - 1].end + 1 == s) {
		(*v)[*n - 1].end = e;
		return 0;
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct blob_range *nv;

		if (*n >= BLOB_MAX_RANGES)
			return -EIO;
		nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[*n].start = s;
	(*v)[(*n)++].end = e;
	return 0;
}

/* Parse one page of a Get Page Ranges answer. */
int blob_parse_pagelist(const char *xml, size_t len, struct blob_range **v, size_t *n, size_t *cap,
			char **marker)
{
	const char *p = xml, *end = xml + len, *pl, *m;
	int rc;

	*marker = NULL;
	pl = memmem(p, len, "<PageList", 9);
	if (!pl)
		return -EIO;
	p = pl;
	for (;;) {
		const char *r = memmem(p, (size_t)(end - p), "<PageRange>", 11), *re;
		uint64_t s, e;

		if (!r)
			break;
		re = memmem(r, (size_t)(end - r), "</PageRange>", 12);
		if (!re)
			return -EIO;
		p = r;
		if (xml_num(&p, re, "Start", &s) || xml_num(&p, re, "End", &e))
			return -EIO;
		if (e < s || s % 512 || (e + 1) % 512 || (*n && s <= (*v)[*n - 1].end))
			return -EIO;
		rc = range_add(v, n, cap, s, e);
		if (rc)
			return rc;
		p = re + 12;
	}
	m = memmem(pl, (size_t)(end - pl), "<NextMarker>", 12);
	if (m) {
		const char *me;

		m += 12;
		me = memmem(m, (size_t)(end - m), "</NextMarker>", 13);
		if (!me)
			return -EIO;
		if (me > m) {
			*marker = strndup(m, (size_t)(me - m));
			if (!*marker)
				return -ENOMEM;
		}
	}
	return 0;
}

struct pagelist_ctx {
	struct blob_range *v;
	size_t n, cap;
	char *marker;
};

/* A page list answer must parse. */
static int blob_check_pagelist(struct http_resp *r, void *arg)
{
	struct pagelist_ctx *x = arg;
	size_t n0 = x->n;
	int rc;

	free(x->marker);
	x->marker = NULL;
	rc = r->body ? blob_parse_pagelist(r->body, r->len, &x->v, &x->n, &x->cap, &x->marker)
		     : -EIO;
	if (rc) {
		x->n = n0; /* a retry parses the page again */
		free(x->marker);
		x->marker = NULL;
		if (rc == -EIO)
			snprintf(r->errmsg, sizeof(r->errmsg), "malformed page list");
	}
	return rc;
}

/* Get Page Ranges, following NextMarker. */
int blob_page_ranges(struct blob *b, const char *sas, struct blob_range **out, size_t *n,
		     uint64_t *size, long long deadline_ms, struct blob_count *cnt,
		     struct blob_err *err)
{
	struct pagelist_ctx x = {0};
	char *url = NULL;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (blob_url_ok(sas))
		return -EINVAL;
	for (unsigned page = 0;; page++) {
		struct http_resp r;
		char *esc = NULL;
		size_t ul;

		if (page >= BLOB_MAX_PAGES) {
			rc = -EIO;
			break;
		}
		if (x.marker && !(esc = url_pct_encode(x.marker))) {
			rc = -ENOMEM;
			break;
		}
		ul = strlen(sas) + (esc ? strlen(esc) : 0) + 32;
		free(url);
		url = malloc(ul);
		if (!url) {
			free(esc);
			rc = -ENOMEM;
			break;
		}
		snprintf(url, ul, "%s%scomp=pagelist%s%s", sas, strchr(sas, '?') ? "&" : "?",
			 esc ? "&marker=" : "", esc ? esc : "");
		free(esc);
		rc = blob_do(b, "Blob_GetPageRanges", "GET", url, NULL, 0, NULL, deadline_ms,
			     blob_check_pagelist, &x, &r, cnt, err);
		if (rc)
			break;
		if (r.blob_length >= 0 && size)
			*size = (uint64_t)r.blob_length;
		http_resp_clear(&r);
		if (!x.marker)
			break;
	}
	if (url)
		explicit_bzero(url, strlen(url));
	free(url);
	free(x.marker);
	if (rc) {
		free(x.v);
		return rc;
	}
	*out = x.v;
	*n = x.n;
	return 0;
}
