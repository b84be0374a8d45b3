/*
 * http.h - the HTTP layer of rpfs: with http_version.c, the only libcurl
 * user (arm.c, the auth sources and blob.c go through this header).
 *
 * One struct http holds a pool of reusable curl easy handles (each keeps its
 * connections alive) and a curl share of DNS answers and TLS sessions, so
 * many threads can issue requests at once without a new TCP or TLS
 * handshake each time.  http_do() performs exactly one request: retries,
 * throttling and auth decisions belong to the caller (arm.c, auth_*.c).
 *
 * Thread-safe.  Memory: strings in struct http_resp are owned by it and
 * freed by http_resp_clear().
 */
#ifndef RPFS_HTTP_H
#define RPFS_HTTP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Hard cap on a response body (ARM's own limit is 8 MB). */
#define HTTP_MAX_BODY (8u * 1024 * 1024 + 256 * 1024)

/* Why a request got no usable answer (http_classify sorts libcurl's
 * failures into these; arm_errno_of reads them). */
enum http_transport {
	HTTP_T_NONE = 0,    /* an answer arrived */
	HTTP_T_CONNECT = 1, /* cannot resolve, connect, or TLS failure */
	HTTP_T_TIMEOUT = 2, /* no complete answer in time */
	HTTP_T_BROKEN = 3,  /* reset, truncated, too large, malformed */
};

/* The errno of a request that got no usable answer: the transport row of
 * arm_errno_of's table, here so that http_do returns the same one. */
static inline int http_transport_errno(enum http_transport t)
{
	return t == HTTP_T_CONNECT   ? -EHOSTUNREACH
	       : t == HTTP_T_TIMEOUT ? -ETIMEDOUT
	       : t == HTTP_T_BROKEN  ? -EIO
				     : 0;
}

struct http;

struct http_req {
	const char *method; /* "GET", "PUT", "PATCH", "DELETE", "POST", "HEAD" */
	const char *url;    /* absolute */
	const char *body;   /* NULL for none */
	size_t body_len;
	const char *content_type; /* default "application/json" when body is set */
	const char *bearer;	  /* token for "Authorization: Bearer", or NULL */
	const char *extra_header; /* one more "Name: value" header, or NULL */
	long timeout_ms;	  /* whole request; required (> 0) */
	long connect_timeout_ms;  /* 0: min(10 s, timeout_ms) */
	int no_proxy;		  /* bypass any proxy (IMDS) */
	const char *op;		  /* name for the trace line, or NULL */
	/* Bytes rather than JSON (blob reads): no JSON Accept header, no
	 * compression, and the trace line names the host as well. */
	int raw;
	const char *const *headers; /* more "Name: value" headers, NULL-terminated, or NULL */
	/* When set, the body goes here (at most out_cap bytes; more is a
	 * broken answer) instead of a malloc'ed resp->body. */
	char *out_buf;
	size_t out_cap;
};

struct http_resp {
	long status; /* 0 when no answer */
	enum http_transport transport;
	char *body; /* NUL-terminated, may be NULL */
	size_t len;
	long ms;	     /* elapsed */
	long retry_after;    /* seconds, -1 when absent */
	char request_id[64]; /* x-ms-request-id */
	char client_request_id[40];
	char *location;			      /* Location header or NULL */
	char *async_op;			      /* Azure-AsyncOperation header or NULL */
	long rl_reads, rl_writes, rl_deletes; /* x-ms-ratelimit-remaining-subscription-*, -1 */
	char errmsg[256];		      /* transport error text */
	long new_conns;			      /* connections opened for this request (0 = reused) */
	long long content_length;	      /* Content-Length, -1 when absent */
	long long range_start, range_end, range_total; /* Content-Range "bytes A-B/T", -1 */
	long long blob_length; /* x-ms-blob-content-length, -1 when absent */
	char error_code[64];   /* x-ms-error-code (Azure Storage), "" when none */
};

/* Create the pool.  cafile (may be NULL) adds a CA bundle; TLS is always
 * verified.  max_handles bounds idle handles kept.  Returns 0, -ENOMEM. */
int http_new(const char *cafile, unsigned max_handles, struct http **out);
void http_free(struct http *h);

/* Perform one request.  Returns 0 when an HTTP answer arrived (any
 * status), else a negative errno (-EHOSTUNREACH, -ETIMEDOUT, -EIO) with
 * resp->transport and resp->errmsg set.  Writes one debug trace line. */
int http_do(struct http *h, const struct http_req *req, struct http_resp *resp);
void http_resp_clear(struct http_resp *r);

/* 1 when both absolute URLs have the same scheme, host and port. */
int http_same_origin(const char *a, const char *b);
/* A random GUID, lowercase, into out[37]. */
void http_guid(char out[37]);

/* libcurl's version string (static), for --version. */
const char *http_version(void);

/* The path of url without scheme, host, query or fragment, for log lines
 * ("/" when it has none), cut to fit n bytes. */
void http_url_path(const char *url, char *out, size_t n);
/* The same with the host in front ("host:port/path"), never the query. */
void http_url_host_path(const char *url, char *out, size_t n);

#endif
