/*
 * blob.h - the Azure Storage page-blob client of rpfs: reads a disk
 * restore point's bytes through the SAS URL that a grant gave (see
 * disk_grant.h), beside the ARM client and never through it.
 *
 * A request carries the SAS in its query and nothing else: no
 * Authorization header ever goes to the blob's host (another origin than
 * ARM).  The SAS is a secret: trace lines show the host and path only.
 * TLS is verified as for ARM (cafile); an http:// SAS is accepted only for
 * a loopback host.
 *
 * Every call is synchronous and thread-safe; connections are pooled in a
 * struct http of its own.  Transport failures, 5xx, 429/503 throttling and
 * short bodies are retried (retries, with backoff) until the caller's
 * deadline.  Errors: -EACCES (403: the SAS expired or was revoked),
 * -ENOENT (404), -EINVAL (400, 416, a URL refused), -ETIMEDOUT,
 * -EHOSTUNREACH, -EIO (5xx or broken answers after the retries), -ENOMEM.
 */
#ifndef RPFS_BLOB_H
#define RPFS_BLOB_H

#include <stddef.h>
#include <stdint.h>

#define BLOB_VERSION "2021-08-06" /* x-ms-version sent with every request */

struct blob;

struct blob_cfg {
	const char *cafile; /* extra CA bundle, may be NULL */
	unsigned retries;   /* retries of a failed request */
	unsigned max_conns; /* connections kept alive */
};

/* What a failed call last saw (all "" / 0 when nothing). */
struct blob_err {
	int status;
	char code[64];	     /* x-ms-error-code */
	char message[256];   /* transport error text, or "HTTP 503" */
	char request_id[64]; /* x-ms-request-id */
};

/* Counters a caller accumulates (updated atomically). */
struct blob_count {
	uint64_t requests;
	uint64_t bytes;
	uint64_t retries;
};

/* An allocated range of a page blob, both ends inclusive. */
struct blob_range {
	uint64_t start, end;
};

int blob_new(const struct blob_cfg *cfg, struct blob **out);
void blob_free(struct blob *b);

/* 0 when a SAS URL may be used (https, or http to a loopback host), else
 * -EINVAL. */
int blob_url_ok(const char *sas);

/* Read len bytes at off into buf (exactly: a shorter answer is retried).
 * deadline_ms is on the monotonic clock (blob_now_ms). */
int blob_read(struct blob *b, const char *sas, uint64_t off, size_t len, char *buf,
	      long long deadline_ms, struct blob_count *cnt, struct blob_err *err);

/* The blob's size (HEAD). */
int blob_size(struct blob *b, const char *sas, uint64_t *size, long long deadline_ms,
	      struct blob_count *cnt, struct blob_err *err);

/* Get Page Ranges, following NextMarker: sorted, merged where adjacent.
 * *size receives x-ms-blob-content-length when the answer had it, else
 * stays untouched.  *out is the caller's (free()). */
int blob_page_ranges(struct blob *b, const char *sas, struct blob_range **out, size_t *n,
		     uint64_t *size, long long deadline_ms, struct blob_count *cnt,
		     struct blob_err *err);

/* Parse one page of a Get Page Ranges answer (exposed for the unit
 * tests): ranges appended to *v (n, cap), *marker the NextMarker (NULL on
 * the last page; caller frees).  0, -EIO when malformed, -ENOMEM. */
int blob_parse_pagelist(const char *xml, size_t len, struct blob_range **v, size_t *n, size_t *cap,
			char **marker);

/* Milliseconds of the monotonic clock, for deadlines. */
long long blob_now_ms(void);

#endif
