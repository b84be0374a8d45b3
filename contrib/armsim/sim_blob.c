/* sim_blob.c - the blob listener: every disk restore point with an active
 * grant, as an Azure Storage page blob read with its SAS only (another
 * origin than ARM, its own port: --blob-listen).
 *
 * Routes (all on the SAS path /{container}/abcd):
 *   GET                Blob_Get: whole blob (200) or x-ms-range/Range (206)
 *   HEAD               Blob_GetProperties
 *   GET ?comp=pagelist Blob_GetPageRanges: XML, paged with marker/NextMarker
 * An unknown, expired or revoked SAS is 403 AuthenticationFailed; a request
 * carrying an Authorization header is counted and refused (400).
 *
 * Fault rules and --latency-ms apply as on ARM routes; a rule without an
 * operationId matches blob requests only when it has a path_prefix.
 * Bodies stream from a content-reader callback (a snapshot of the disk, no
 * lock held), so a 1 GiB range never sits in memory; --blob-rate paces each
 * blob's bytes across all its connections.
 */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BLOCK (256 * 1024)
#define NPACE 64

static void *blob_daemon;

/* Per-blob pacing for --blob-rate: when the next byte may go. */
static struct {
	uint64_t key;
	double next;
} pace_tab[NPACE];
static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;

/* A body being sent: a disk snapshot (or a memory body) from start. */
struct stream {
	struct sim_dcontent d;
	int disk;  /* d is set */
	char *mem; /* or this body */
	uint64_t start, len;
	uint64_t limit; /* truncate fault: bytes sent before the connection drops */
	uint64_t key;	/* pacing key: the disk restore point */
};

/* Wait for this blob's turn to send n bytes at --blob-rate MiB/s. */
static void pace(uint64_t key, size_t n)
{
	double rate = sim_g.o.blob_rate * 1048576.0;
	if (rate <= 0)
		return;
	pthread_mutex_lock(&pace_lock);
	int slot = (int)(key % NPACE);
	if (pace_tab[slot].key != key)
		pace_tab[slot].key = key, pace_tab[slot].next = 0;
	double now = sim_real_now();
	double t = pace_tab[slot].next > now ? pace_tab[slot].next : now;
	pace_tab[slot].next = t + (double)n / rate;
	pthread_mutex_unlock(&pace_lock);
	double wait = t - now;
	if (wait > 0) {
		struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
}

/* libmicrohttpd content reader: the next piece of the body. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	if (pos >= s->limit)
		return pos >= s->len ? MHD_CONTENT_READER_END_OF_STREAM
				     : MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = s->limit - pos < max ? (size_t)(s->limit - pos) : max;
	if (s->disk) {
		pace(s->key, n);
		sim_disk_read(&s->d, s->start + pos, buf, n);
	} else {
		memcpy(buf, s->mem + pos, n);
	}
	return (ssize_t)n;
}

/* Free a body's stream. */
static void stream_free(void *cls)
{
	struct stream *s = cls;
	if (s->disk)
		sim_disk_content_free(&s->d);
	free(s->mem);
	free(s);
}

/* A request header, or NULL. */
static const char *hdr(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* HTTP-date (RFC 1123) of t. */
static void http_date(double t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* A Storage error: XML body, x-ms-error-code. */
static void storage_error(struct sim_req *q, struct sim_resp *r, int status, const char *code,
			  const char *msg, const char *detail)
{
	char t[64], *b = NULL;
	sim_fmt_time_ms(sim_real_now(), t, sizeof t);
	int n = asprintf(&b,
			 "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code>"
			 "<Message>%s\nRequestId:%s\nTime:%s</Message>%s%s%s</Error>",
			 code, msg, q->request_id, t, detail ? "<AuthenticationErrorDetail>" : "",
			 detail ? detail : "", detail ? "</AuthenticationErrorDetail>" : "");
	if (n < 0)
		abort();
	free(r->body);
	r->body = b;
	r->len = (size_t)n;
	r->status = status;
	r->xml = 1;
	sim_resp_header(r, "x-ms-error-code", code);
	sim_resp_header(r, "Content-Type", "application/xml");
}

/* Parse "bytes=A-B" or "bytes=A-" against size: 0 and [*a, *b], 1 when
 * absent or not understood (the whole blob), -1 when it starts past the end. */
static int parse_range(const char *h, uint64_t size, uint64_t *a, uint64_t *b)
{
	unsigned long long x, y;
	int n = 0;
	if (!h)
		return 1;
	if (sscanf(h, "bytes=%llu-%n", &x, &n) != 1 || !n)
		return 1;
	if (h[n] == 0) {
		y = size ? size - 1 : 0;
	} else {
		int m = 0;
		if (sscanf(h + n, "%llu%n", &y, &m) != 1 || h[n + m] || y < x)
			return 1;
	}
	if (x >= size)
		return -1;
	*a = x;
	*b = y >= size ? size - 1 : y;
	return 0;
}

/* The Get Page Ranges answer (one page, NextMarker to go on). */
static void page_list(struct sim_req *q, struct sim_resp *r, const struct sim_dcontent *d,
		      uint64_t lo, uint64_t hi)
{
	uint64_t(*rg)[2];
	int n = sim_disk_ranges(d, &rg);
	const char *marker = sim_http_arg(q->conn, "marker");
	const char *mr = sim_http_arg(q->conn, "maxresults");
	unsigned long long from = 0;
	long per = sim_g.o.pagelist_max;
	if (marker && *marker && sscanf(marker, "1!%llu", &from) != 1) {
		free(rg);
		storage_error(q, r, 400, "InvalidQueryParameterValue",
			      "Value for one of the query parameters specified in the request URI "
			      "is invalid.",
			      NULL);
		return;
	}
	if (mr && atol(mr) > 0 && atol(mr) < per)
		per = atol(mr);
	char *b = NULL;
	size_t bl = 0;
	FILE *f = open_memstream(&b, &bl);
	if (!f)
		abort();
	fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>", f);
	long k = 0;
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < n; i++) {
		uint64_t s = rg[i][0], e = rg[i][1];
		if (s < lo)
			s = lo;
		if (s < from)
			s = from;
		if (e > hi)
			e = hi;
		if (s > e)
			continue;
		if (k == per) {
			next = s;
			break;
		}
		fprintf(f,
			"<PageRange><Start>%" PRIu64 "</Start><End>%" PRIu64 "</End></PageRange>",
			s, e);
		k++;
	}
	if (next != UINT64_MAX)
		fprintf(f, "<NextMarker>1!%" PRIu64 "</NextMarker></PageList>", next);
	else
		fputs("<NextMarker /></PageList>", f);
	fclose(f);
	free(rg);
	r->status = 200;
	r->body = b;
	r->len = bl;
	r->xml = 1;
	sim_resp_header(r, "Content-Type", "application/xml");
}

/* Answer a request whose SAS is valid: g is its grant. */
static struct stream *answer(struct sim_req *q, struct sim_resp *r, struct sim_grant *g,
			     const char *range)
{
	struct sim_dcontent d;
	if (sim_disk_content(&sim_g.m, g->drp_id, &d)) {
		storage_error(q, r, 404, "BlobNotFound", "The specified blob does not exist.",
			      NULL);
		return NULL;
	}
	uint64_t size = d.data_size + 512, a = 0, b = size - 1;
	char v[128];
	sim_resp_header(r, "ETag", d.etag);
	http_date(d.created, v, sizeof v);
	sim_resp_header(r, "Last-Modified", v);
	sim_resp_header(r, "x-ms-creation-time", v);
	sim_resp_header(r, "x-ms-blob-type", "PageBlob");
	sim_resp_header(r, "x-ms-server-encrypted", "true");
	if (!strcmp(q->opid, "Blob_GetPageRanges")) {
		snprintf(v, sizeof v, "%" PRIu64, size);
		sim_resp_header(r, "x-ms-blob-content-length", v);
		if (parse_range(range, size, &a, &b) < 0) {
			storage_error(q, r, 416, "InvalidRange",
				      "The range specified is invalid for the current size of the "
				      "resource.",
				      NULL);
		} else {
			page_list(q, r, &d, a, b);
		}
		sim_disk_content_free(&d);
		return NULL;
	}
	sim_resp_header(r, "Accept-Ranges", "bytes");
	sim_resp_header(r, "x-ms-blob-sequence-number", "0");
	sim_resp_header(r, "x-ms-lease-state", "available");
	sim_resp_header(r, "x-ms-lease-status", "unlocked");
	int pr = strcmp(q->opid, "Blob_Get") ? 1 : parse_range(range, size, &a, &b);
	if (pr < 0) {
		snprintf(v, sizeof v, "bytes */%" PRIu64, size);
		sim_resp_header(r, "Content-Range", v);
		storage_error(
		    q, r, 416, "InvalidRange",
		    "The range specified is invalid for the current size of the resource.", NULL);
		sim_disk_content_free(&d);
		return NULL;
	}
	if (pr == 0) {
		snprintf(v, sizeof v, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, size);
		sim_resp_header(r, "Content-Range", v);
	}
	struct stream *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->d = d;
	s->disk = 1;
	s->start = a;
	s->len = s->limit = b - a + 1;
	s->key = sim_hash(g->drp_id, 1);
	r->status = pr == 0 ? 206 : 200;
	sim_resp_header(r, "Content-Type", "application/octet-stream");
	return s;
}

/* Whether the SAS of this request is one armsim issued and still honours. */
static struct sim_grant *sas_grant(struct sim_req *q)
{
	const char *sig = sim_http_arg(q->conn, "sig");
	const char *sp = sim_http_arg(q->conn, "sp");
	struct sim_grant *g = sim_grant_by_sig(&sim_g.m, sig);
	char path[64];
	if (!g || !sp || !strchr(sp, 'r') || g->expires <= sim_now())
		return NULL;
	snprintf(path, sizeof path, "/%s/abcd", g->container);
	return strcmp(q->path, path) ? NULL : g;
}

/* Everything a blob request goes through; returns the body stream, if any. */
static struct stream *serve(struct sim_req *q, struct sim_resp *r, char *post_fault)
{
	struct sim_fault_hit hits[8];
	const char *range = hdr(q->conn, "x-ms-range");
	if (!range)
		range = hdr(q->conn, "Range");
	q->range = range;
	const struct sim_fault_hit *pre =
	    sim_http_arrive(q, hits, 8, sim_g.o.latency_ms, 1, post_fault);
	struct stream *s = NULL;
	pthread_mutex_lock(&sim_g.lock);
	struct sim_grant *g;
	if (hdr(q->conn, "Authorization")) {
		sim_g.blob_authz++;
		storage_error(q, r, 400, "InvalidAuthenticationInfo",
			      "Authentication information is not given in the correct format. A "
			      "request with a shared access signature must not carry an "
			      "Authorization header.",
			      NULL);
	} else if (pre && !strcmp(pre->kind, "reset")) {
		r->reset = 1;
	} else if (pre && !strcmp(pre->kind, "body") && !sim_fault_body(pre->rule_id, r)) {
		/* the rule's literal answer (a bad page list, say) */
	} else if (pre) {
		storage_error(q, r, pre->status, pre->code, "Injected fault.", NULL);
	} else if (!q->opid) {
		storage_error(
		    q, r, strcmp(q->method, "GET") ? 405 : 400,
		    strcmp(q->method, "GET") ? "UnsupportedHttpVerb" : "InvalidQueryParameterValue",
		    "The resource doesn't support the specified HTTP verb or query.", NULL);
	} else if (!(g = sas_grant(q))) {
		storage_error(q, r, 403, "AuthenticationFailed",
			      "Server failed to authenticate the request. Make sure the value of "
			      "Authorization header is formed correctly including the signature.",
			      sim_http_arg(q->conn, "sig")
				  ? "Signature did not match, or the access has expired or been "
				    "revoked."
				  : "sig is mandatory.");
	} else {
		s = answer(q, r, g, range);
	}
	if (s && !strcmp(post_fault, "truncate"))
		s->limit = s->len / 2;
	q->bytes = r->reset ? 0
		   : s	    ? (int64_t)(strcmp(q->method, "HEAD") ? s->limit : 0)
			    : (int64_t)(!strcmp(post_fault, "truncate") ? r->len / 2 : r->len);
	sim_ctl_record(q, r);
	pthread_mutex_unlock(&sim_g.lock);
	return s;
}

/* Hand the answer to libmicrohttpd (a reset closes the connection). */
static enum MHD_Result send_answer(struct sim_req *q, struct sim_resp *r, struct stream *s,
				   const char *post_fault)
{
	if (r->reset)
		return MHD_NO;
	if (!s && r->body && !strcmp(post_fault, "truncate")) {
		s = calloc(1, sizeof *s);
		if (!s)
			abort();
		s->mem = r->body;
		s->len = r->len;
		s->limit = r->len / 2;
		r->body = NULL;
	}
	struct MHD_Response *resp;
	if (s)
		resp = MHD_create_response_from_callback(s->len, BLOCK, reader, s, stream_free);
	else if (r->body)
		resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (s)
			stream_free(s);
		return MHD_NO;
	}
	if (!s)
		r->body = NULL;
	const char *ver = hdr(q->conn, "x-ms-version");
	const char *cid = hdr(q->conn, "x-ms-client-request-id");
	MHD_add_response_header(resp, "x-ms-request-id", q->request_id);
	MHD_add_response_header(resp, "x-ms-version", ver ? ver : "2021-08-06");
	if (cid)
		MHD_add_response_header(resp, "x-ms-client-request-id", cid);
	MHD_add_response_header(resp, "Server", "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0");
	for (int i = 0; i < r->nh; i++)
		MHD_add_response_header(resp, r->hn[i], r->hv[i]);
	enum MHD_Result ret = MHD_queue_response(q->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* libmicrohttpd's access handler for the blob listener. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload;
	if (!*con_cls)
		return MHD_NO;
	if (sim_http_first_call(*con_cls))
		return MHD_YES;
	if (*upload_size) { /* a blob read has no body: drop it */
		*upload_size = 0;
		return MHD_YES;
	}
	struct sim_resp r = {0};
	struct sim_req q = {.conn = conn,
			    .method = method,
			    .path = url,
			    .raw_path = sim_http_raw_path(*con_cls),
			    .route = R_BLOB};
	sim_http_query(conn, q.query, sizeof q.query);
	char *sig = strstr(q.query, "sig=");
	if (sig && strcspn(sig + 4, "&") >= 3) { /* the log never holds a SAS signature */
		size_t keep = strcspn(sig + 4, "&");
		memmove(sig + 7, sig + 4 + keep, strlen(sig + 4 + keep) + 1);
		memcpy(sig + 4, "***", 3);
	}
	sim_guid(q.request_id);
	const char *comp = sim_http_arg(conn, "comp");
	q.opid = !strcmp(method, "HEAD")	 ? (comp ? NULL : "Blob_GetProperties")
		 : strcmp(method, "GET")	 ? NULL
		 : !comp			 ? "Blob_Get"
		 : !strcasecmp(comp, "pagelist") ? "Blob_GetPageRanges"
						 : NULL;
	q.auth = hdr(conn, "Authorization") ? "authorization" : "sas";
	char post_fault[12] = "";
	struct stream *s = serve(&q, &r, post_fault);
	enum MHD_Result ret = send_answer(&q, &r, s, post_fault);
	sim_resp_free(&r);
	return ret;
}

/* Start the blob listener (sim_http_start calls it once TLS is set up,
 * before the ARM listener); 0 or -errno. */
int sim_blob_start(void)
{
	blob_daemon = sim_http_listen(sim_g.o.blob_listen ? sim_g.o.blob_listen : "127.0.0.1:0",
				      "blob-listen", sim_g.o.blob_port_file, (void *)handler,
				      &sim_g.blob_port);
	return blob_daemon ? 0 : -EADDRINUSE;
}

/* Stop the blob listener. */
void sim_blob_stop(void)
{
	sim_http_unlisten(blob_daemon);
	blob_daemon = NULL;
}
