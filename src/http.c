/*
 * http.c - one HTTP request at a time per calling thread, over a shared pool.
 *
 * Why it is built this way: rpfs issues many small requests from many FUSE
 * threads.  A fresh curl handle per request would pay a TCP and TLS
 * handshake each time; one handle shared by all would serialise them.  So
 * idle easy handles wait in a small stack (each keeps its connection cache,
 * so a reused handle reuses its keep-alive connection), and a curl share
 * holds DNS answers and TLS session ids for all of them (with a mutex per
 * share data kind, as libcurl requires).  The handle is reset before each
 * use; curl_easy_reset() keeps live connections and caches.
 *
 * Only the request id, method, path (no query), status and time are traced:
 * the Authorization header, request bodies (client secrets, assertions) and
 * response bodies (tokens) never reach the log.
 *
 * Locks: h->lock protects the idle stack only; share locks are taken by
 * libcurl through http_share_lock().  No lock is held during a transfer.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "blocking.h"
#include "http.h"
#include "log.h"

#define HTTP_MAX_IDLE 64
#define HTTP_MAX_HEADER_URL 8192

struct http {
	pthread_mutex_t lock;
	CURL *idle[HTTP_MAX_IDLE];
	unsigned nidle, max_idle;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	char *cafile;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;

/* Run curl_global_init exactly once per process. */
static void http_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Global init (curl_global_init), idempotent. */
static void http_global_init(void)
{
	pthread_once(&http_once, http_init_once);
}

/* libcurl share lock callback. */
static void http_share_lock(CURL *e, curl_lock_data d, curl_lock_access a, void *u)
{
	struct http *h = u;
	(void)e;
	(void)a;
	if (d < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->share_locks[d]);
}

/* libcurl share unlock callback. */
static void http_share_unlock(CURL *e, curl_lock_data d, void *u)
{
	struct http *h = u;
	(void)e;
	if (d < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->share_locks[d]);
}

/* Create the pool of handles. */
int http_new(const char *cafile, unsigned max_handles, struct http **out)
{
	struct http *h;
	int i;

	http_global_init();
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_locks[i], NULL);
	h->max_idle = max_handles ? max_handles : 8;
	if (h->max_idle > HTTP_MAX_IDLE)
		h->max_idle = HTTP_MAX_IDLE;
	if (cafile && *cafile) {
		h->cafile = strdup(cafile);
		if (!h->cafile)
			goto fail;
	}
	h->share = curl_share_init();
	if (!h->share)
		goto fail;
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, http_share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, http_share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = h;
	return 0;
fail:
	http_free(h);
	return -ENOMEM;
}

/* Free the pool; no request may be running. */
void http_free(struct http *h)
{
	unsigned i;

	if (!h)
		return;
	for (i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	if (h->share)
		curl_share_cleanup(h->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	pthread_mutex_destroy(&h->lock);
	free(h->cafile);
	free(h);
}

/* Take an idle handle or make one. */
static CURL *http_get_handle(struct http *h)
{
	CURL *e = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->nidle)
		e = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->lock);
	if (e)
		curl_easy_reset(e);
	else
		e = curl_easy_init();
	return e;
}

/* Give a handle back to the idle stack (or free it when the stack is full). */
static void http_put_handle(struct http *h, CURL *e)
{
	pthread_mutex_lock(&h->lock);
	if (h->nidle < h->max_idle) {
		h->idle[h->nidle++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	if (e)
		curl_easy_cleanup(e);
}

struct http_xfer {
	struct http_resp *resp;
	size_t cap;
	int too_large;
	char *out; /* the caller's buffer, or NULL */
	size_t out_cap;
};

/* Collect the body, refusing anything above HTTP_MAX_BODY. */
static size_t http_write_cb(char *p, size_t sz, size_t nm, void *u)
{
	struct http_xfer *x = u;
	struct http_resp *r = x->resp;
	size_t n = sz * nm;

	if (x->out) {
		/* The caller's buffer: exactly what was asked, never more. */
		if (n > x->out_cap - r->len) {
			x->too_large = 1;
			return 0;
		}
		memcpy(x->out + r->len, p, n);
		r->len += n;
		return n;
	}
	if (r->len + n > HTTP_MAX_BODY) {
		x->too_large = 1;
		return 0;
	}
	if (r->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		char *nb;
		while (cap < r->len + n + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (!nb)
			return 0;
		r->body = nb;
		x->cap = cap;
	}
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Copy a header value, trimmed, into a fresh string (bounded). */
static char *http_hdr_dup(const char *v, size_t n)
{
	char *s;

	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n > HTTP_MAX_HEADER_URL)
		n = HTTP_MAX_HEADER_URL;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

/* Parse a non-negative integer header value, -1 when it is not one. */
static long http_hdr_long(const char *v, size_t n)
{
	char buf[32];
	char *end;
	long x;
	char *s = http_hdr_dup(v, n);

	if (!s)
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	if (!buf[0])
		return -1;
	errno = 0;
	x = strtol(buf, &end, 10);
	if (errno || *end || x < 0)
		return -1;
	return x;
}

/* Parse a non-negative 64-bit integer at s (up to end); -1 when none. */
static long long http_ll(const char *s, char **end)
{
	long long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoll(s, end, 10);
	return errno || x < 0 ? -1 : x;
}

/* Content-Range "bytes A-B/T" (T may be '*') into the response. */
static void http_content_range(struct http_resp *r, const char *v, size_t n)
{
	char *s = http_hdr_dup(v, n), *p, *e;
	long long a, b, t = -1;

	if (!s)
		return;
	p = s;
	if (!strncasecmp(p, "bytes ", 6)) {
		p += 6;
		a = http_ll(p, &e);
		if (a >= 0 && *e == '-') {
			b = http_ll(e + 1, &e);
			if (b >= a && *e == '/') {
				if (e[1] != '*')
					t = http_ll(e + 1, &e);
				if (t == -1 || !*e) {
					r->range_start = a;
					r->range_end = b;
					r->range_total = t;
				}
			}
		}
	}
	free(s);
}

/* Record the headers rpfs cares about; a new status line resets them. */
static size_t http_header_cb(char *p, size_t sz, size_t nm, void *u)
{
	struct http_xfer *x = u;
	struct http_resp *r = x->resp;
	size_t n = sz * nm;
	const char *colon = memchr(p, ':', n);
	size_t klen;
	const char *v;
	size_t vlen;

	if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		free(r->location);
		free(r->async_op);
		r->location = r->async_op = NULL;
		r->retry_after = -1;
		r->request_id[0] = '\0';
		r->error_code[0] = '\0';
		r->content_length = r->blob_length = -1;
		r->range_start = r->range_end = r->range_total = -1;
		return n;
	}
	if (!colon)
		return n;
	klen = (size_t)(colon - p);
	v = colon + 1;
	vlen = n - klen - 1;
#define HDR_IS(name) (klen == sizeof(name) - 1 && !strncasecmp(p, name, klen))
	if (HDR_IS("x-ms-request-id")) {
		char *s = http_hdr_dup(v, vlen);
		if (s) {
			snprintf(r->request_id, sizeof(r->request_id), "%s", s);
			free(s);
		}
	} else if (HDR_IS("retry-after")) {
		r->retry_after = http_hdr_long(v, vlen);
	} else if (HDR_IS("location")) {
		free(r->location);
		r->location = http_hdr_dup(v, vlen);
	} else if (HDR_IS("azure-asyncoperation")) {
		free(r->async_op);
		r->async_op = http_hdr_dup(v, vlen);
	} else if (HDR_IS("x-ms-ratelimit-remaining-subscription-reads")) {
		r->rl_reads = http_hdr_long(v, vlen);
	} else if (HDR_IS("x-ms-ratelimit-remaining-subscription-writes")) {
		r->rl_writes = http_hdr_long(v, vlen);
	} else if (HDR_IS("x-ms-ratelimit-remaining-subscription-deletes")) {
		r->rl_deletes = http_hdr_long(v, vlen);
	} else if (HDR_IS("content-length")) {
		char *s = http_hdr_dup(v, vlen), *e;
		if (s) {
			r->content_length = http_ll(s, &e);
			if (*e)
				r->content_length = -1;
			free(s);
		}
	} else if (HDR_IS("x-ms-blob-content-length")) {
		char *s = http_hdr_dup(v, vlen), *e;
		if (s) {
			r->blob_length = http_ll(s, &e);
			if (*e)
				r->blob_length = -1;
			free(s);
		}
	} else if (HDR_IS("content-range")) {
		http_content_range(r, v, vlen);
	} else if (HDR_IS("x-ms-error-code")) {
		char *s = http_hdr_dup(v, vlen);
		if (s) {
			snprintf(r->error_code, sizeof(r->error_code), "%s", s);
			free(s);
		}
	}
#undef HDR_IS
	return n;
}

/* A random GUID, lowercase, into out[37]. */
void http_guid(char out[37])
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n <= 0) {
			/* Fall back to something unique enough for a request id. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			for (; got < sizeof(b); got++)
				b[got] = (unsigned char)((ts.tv_nsec >> (got % 8)) ^ (got * 131u) ^
							 (unsigned)rand());
			break;
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* Split an absolute URL into lowercased scheme, host and port. */
static int http_origin(const char *url, char *scheme, size_t sl, char *host, size_t hl, long *port)
{
	CURLU *u = curl_url();
	char *s = NULL, *hst = NULL, *p = NULL;
	int rc = -EINVAL;
	size_t i;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &hst, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	/* a part that does not fit is refused: a cut host could match another */
	if ((size_t)snprintf(scheme, sl, "%s", s) >= sl ||
	    (size_t)snprintf(host, hl, "%s", hst) >= hl)
		goto out;
	for (i = 0; scheme[i]; i++)
		scheme[i] =
		    (char)((scheme[i] >= 'A' && scheme[i] <= 'Z') ? scheme[i] + 32 : scheme[i]);
	for (i = 0; host[i]; i++)
		host[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
	*port = strtol(p, NULL, 10);
	rc = 0;
out:
	curl_free(s);
	curl_free(hst);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

/* 1 when both absolute URLs have the same scheme, host and port. */
int http_same_origin(const char *a, const char *b)
{
	char s1[16], s2[16], h1[256], h2[256];
	long p1, p2;

	if (!a || !b)
		return 0;
	if (http_origin(a, s1, sizeof(s1), h1, sizeof(h1), &p1) ||
	    http_origin(b, s2, sizeof(s2), h2, sizeof(h2), &p2))
		return 0;
	return !strcmp(s1, s2) && !strcmp(h1, h2) && p1 == p2;
}

/* Sort a curl failure into a transport class; its errno. */
static int http_classify(CURLcode cc, int too_large, size_t cap, struct http_resp *r)
{
	if (too_large) {
		r->transport = HTTP_T_BROKEN;
		snprintf(r->errmsg, sizeof(r->errmsg), "response larger than %zu bytes", cap);
	} else {
		switch (cc) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			r->transport = HTTP_T_CONNECT;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			r->transport = HTTP_T_TIMEOUT;
			break;
		default:
			r->transport = HTTP_T_BROKEN;
			break;
		}
	}
	return http_transport_errno(r->transport);
}

/* The path of a URL without scheme, host or query, for log lines. */
void http_url_path(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t len;

	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		p = "/";
	len = strcspn(p, "?#");
	if (len >= n)
		len = n - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

/* Host and path of a URL, without scheme, user, query or fragment. */
void http_url_host_path(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://"), *at;
	size_t len;

	p = p ? p + 3 : url;
	len = strcspn(p, "/?#");
	at = memchr(p, '@', len);
	if (at)
		p = at + 1; /* never user:password@ */
	len = strcspn(p, "?#");
	if (len >= n)
		len = n - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

/* Milliseconds of a monotonic clock. */
static long long http_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Perform one request. */
int http_do(struct http *h, const struct http_req *req, struct http_resp *resp)
{
	struct http_xfer x = {.resp = resp, .out = req->out_buf, .out_cap = req->out_cap};
	size_t cap = req->out_buf ? req->out_cap : HTTP_MAX_BODY;
	struct curl_slist *hdrs = NULL, *t;
	char line[HTTP_MAX_HEADER_URL + 64];
	char errbuf[CURL_ERROR_SIZE] = "";
	char tpath[512];
	CURL *e;
	CURLcode cc;
	long long t0;
	long cto;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	resp->content_length = resp->blob_length = -1;
	resp->range_start = resp->range_end = resp->range_total = -1;
	resp->rl_reads = resp->rl_writes = resp->rl_deletes = -1;
	http_guid(resp->client_request_id);
	e = http_get_handle(h);
	if (!e) {
		snprintf(resp->errmsg, sizeof(resp->errmsg), "out of memory");
		resp->transport = HTTP_T_BROKEN;
		return -ENOMEM;
	}

#define ADD_HDR(...)                                                                               \
	do {                                                                                       \
		snprintf(line, sizeof(line), __VA_ARGS__);                                         \
		t = curl_slist_append(hdrs, line);                                                 \
		if (!t) {                                                                          \
			rc = -ENOMEM;                                                              \
			goto out;                                                                  \
		}                                                                                  \
		hdrs = t;                                                                          \
	} while (0)
	ADD_HDR("x-ms-client-request-id: %s", resp->client_request_id);
	if (!req->raw)
		ADD_HDR("Accept: application/json");
	for (const char *const *hp = req->headers; hp && *hp; hp++)
		ADD_HDR("%s", *hp);
	if (req->body)
		ADD_HDR("Content-Type: %s",
			req->content_type ? req->content_type : "application/json");
	if (req->extra_header)
		ADD_HDR("%s", req->extra_header);
	ADD_HDR("Expect:");
	if (req->bearer) {
		size_t tl = strlen(req->bearer);
		char *ah = malloc(tl + 32);
		if (!ah) {
			rc = -ENOMEM;
			goto out;
		}
		snprintf(ah, tl + 32, "Authorization: Bearer %s", req->bearer);
		t = curl_slist_append(hdrs, ah);
		explicit_bzero(ah, tl + 32);
		free(ah);
		if (!t) {
			rc = -ENOMEM;
			goto out;
		}
		hdrs = t;
	}
#undef ADD_HDR

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->cafile)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->cafile);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	if (!req->raw)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
	cto = req->connect_timeout_ms;
	if (cto <= 0)
		cto = req->timeout_ms > 0 && req->timeout_ms < 10000 ? req->timeout_ms : 10000;
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cto);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
	if (req->no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (req->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "GET") && strcmp(req->method, "DELETE") &&
		   strcmp(req->method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}

	t0 = http_now_ms();
	blocking_begin();
	cc = curl_easy_perform(e);
	resp->ms = (long)(http_now_ms() - t0);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &resp->new_conns);
	if (cc != CURLE_OK) {
		rc = http_classify(cc, x.too_large || cc == CURLE_FILESIZE_EXCEEDED, cap, resp);
		if (!resp->errmsg[0] &&
		    (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE))
			snprintf(resp->errmsg, sizeof(resp->errmsg),
				 "TLS: the server's certificate is not trusted (%.120s); give its "
				 "CA with -o cafile=FILE",
				 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		if (!resp->errmsg[0])
			snprintf(resp->errmsg, sizeof(resp->errmsg), "%s",
				 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		resp->status = 0;
	}
	if (req->raw)
		http_url_host_path(req->url, tpath, sizeof(tpath));
	else
		http_url_path(req->url, tpath, sizeof(tpath));
	if (rc)
		log_debug("http: %s %s %s failed after %ld ms: %s (client-request-id %s)",
			  req->op ? req->op : "-", req->method, tpath, resp->ms, resp->errmsg,
			  resp->client_request_id);
	else
		log_debug("http: %s %s %s %ld %ld ms request-id %s", req->op ? req->op : "-",
			  req->method, tpath, resp->status, resp->ms,
			  resp->request_id[0] ? resp->request_id : "-");
out:
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	if (hdrs) {
		/* The Authorization line lives in this list: wipe it. */
		for (t = hdrs; t; t = t->next)
			explicit_bzero(t->data, strlen(t->data));
		curl_slist_free_all(hdrs);
	}
	http_put_handle(h, e);
	return rc;
}

/* Free the strings of a response. */
void http_resp_clear(struct http_resp *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->location);
	free(r->async_op);
	r->body = r->location = r->async_op = NULL;
	r->len = 0;
}
