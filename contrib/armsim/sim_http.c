/* sim_http.c - armsim's HTTP server: libmicrohttpd setup (plain HTTP on
 * loopback, or HTTPS with a PEM certificate and key), request collection,
 * routing to operationIds, and the steps every ARM request goes through:
 * clock tick, fault rules, latency, authentication, api-version check,
 * throttling, the operation itself, the common ARM headers, and the log.
 *
 * libmicrohttpd runs one thread per connection, so keep-alive clients are
 * served in parallel and an injected latency (a sleep outside the model
 * lock) delays only its own connection, as a slow network would.  A
 * "reset" fault answers MHD_NO, which closes the connection without a
 * response; a "truncate" fault declares the full Content-Length and then
 * ends the body early through a content-reader callback.
 *
 * sim_http_listen starts both listeners (ARM here, blobs in sim_blob.c)
 * with the same TLS setup, and sim_http_arrive is the arrival step (clock,
 * log slot, faults, latency) they share.
 */
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct MHD_Daemon *daemon_h;
static char *tls_cert_pem, *tls_key_pem;

struct conn_ctx {
	char *body;
	size_t len;
	int too_big;
	int started;
	char *raw_path; /* the path as sent, before percent-decoding */
};

/* libmicrohttpd's URI log callback: the request's context, holding the
 * path exactly as the client sent it (the handler sees it decoded). */
static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct conn_ctx *ctx = calloc(1, sizeof *ctx);
	(void)cls;
	(void)conn;
	if (ctx && uri) {
		ctx->raw_path = strndup(uri, strcspn(uri, "?"));
		if (!ctx->raw_path) {
			free(ctx);
			ctx = NULL;
		}
	}
	return ctx;
}

/* A query argument of the request on conn (decoded), or NULL. */
const char *sim_http_arg(void *conn, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

/* A request header, or NULL. */
static const char *hdr(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

struct qbuf {
	char *s;
	size_t n;
};

/* Append one query argument to the reconstructed query string. */
static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct qbuf *b = cls;
	size_t used = strlen(b->s);
	(void)kind;
	snprintf(b->s + used, b->n - used, "%s%s%s%s", used ? "&" : "", key, value ? "=" : "",
		 value ? value : "");
	return MHD_YES;
}

/* Rebuild the (decoded) query string of a request into buf. */
void sim_http_query(void *conn, char *buf, size_t n)
{
	struct qbuf qb = {buf, n};
	buf[0] = 0;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_iter, &qb);
}

/* The path as the client sent it (still percent-encoded), from the request's context. */
const char *sim_http_raw_path(void *con_cls)
{
	const struct conn_ctx *ctx = con_cls;
	return ctx ? ctx->raw_path : NULL;
}

/* Whether this is libmicrohttpd's first call for the request (headers
 * only): answering then would make it close the connection. */
int sim_http_first_call(void *con_cls)
{
	struct conn_ctx *ctx = con_cls;
	if (ctx->started)
		return 0;
	ctx->started = 1;
	return 1;
}

/* Path segments compare without regard to case, as ARM does. */
static int seg_is(const char *a, const char *b)
{
	return !strcasecmp(a, b);
}

/* Map a path to a route and its names. */
static void route(struct sim_req *q)
{
	char buf[2048];
	char *seg[16];
	int n = 0;
	q->route = R_NONE;
	if (!strncmp(q->path, "/_armsim/", 9)) {
		q->route = R_CTL;
		return;
	}
	if (strlen(q->path) >= sizeof buf)
		return;
	strcpy(buf, q->path);
	for (char *sv = NULL, *s = strtok_r(buf, "/", &sv); s; s = strtok_r(NULL, "/", &sv)) {
		if (n == 16)
			return;
		seg[n++] = s;
	}
	if (n == 4 && seg_is(seg[0], "metadata") && seg_is(seg[1], "identity") &&
	    seg_is(seg[2], "oauth2") && seg_is(seg[3], "token")) {
		q->route = R_IMDS;
		return;
	}
	if ((n == 4 && seg_is(seg[1], "oauth2") && seg_is(seg[2], "v2.0") &&
	     seg_is(seg[3], "token")) ||
	    (n == 3 && seg_is(seg[1], "oauth2") && seg_is(seg[2], "token"))) {
		snprintf(q->tenant, sizeof q->tenant, "%s", seg[0]);
		q->route = R_TOKEN;
		return;
	}
	if (n == 4 && seg_is(seg[1], "v2.0") && seg_is(seg[2], ".well-known") &&
	    seg_is(seg[3], "openid-configuration")) {
		snprintf(q->tenant, sizeof q->tenant, "%s", seg[0]);
		q->route = R_OIDC;
		return;
	}
	if (n < 1 || !seg_is(seg[0], "subscriptions"))
		return;
	if (n == 1) {
		q->route = R_SUBS;
		return;
	}
	snprintf(q->sub, sizeof q->sub, "%s", seg[1]);
	if (n == 2) {
		q->route = R_SUB;
	} else if (n == 3 && seg_is(seg[2], "locations")) {
		q->route = R_LOCS;
	} else if (n == 3 && seg_is(seg[2], "resourceGroups")) {
		q->route = R_RGS;
	} else if (n == 4 && seg_is(seg[2], "resourceGroups")) {
		snprintf(q->rg, sizeof q->rg, "%s", seg[3]);
		q->route = R_RG;
	} else if (n == 5 && seg_is(seg[2], "providers") && seg_is(seg[3], "Microsoft.Compute") &&
		   seg_is(seg[4], "restorePointCollections")) {
		q->route = R_LISTALL;
	} else if (n == 8 && seg_is(seg[2], "providers") && seg_is(seg[3], "Microsoft.Compute") &&
		   seg_is(seg[4], "locations") && seg_is(seg[6], "operations")) {
		snprintf(q->loc, sizeof q->loc, "%s", seg[5]);
		snprintf(q->opname, sizeof q->opname, "%s", seg[7]);
		q->route = R_OP;
	} else if (n >= 7 && seg_is(seg[2], "resourceGroups") && seg_is(seg[4], "providers") &&
		   seg_is(seg[5], "Microsoft.Compute") &&
		   seg_is(seg[6], "restorePointCollections")) {
		snprintf(q->rg, sizeof q->rg, "%s", seg[3]);
		if (n == 7) {
			q->route = R_LIST;
		} else if (n == 8) {
			snprintf(q->coll, sizeof q->coll, "%s", seg[7]);
			q->route = R_COLL;
		} else if (n >= 10 && seg_is(seg[8], "restorePoints")) {
			snprintf(q->coll, sizeof q->coll, "%s", seg[7]);
			snprintf(q->point, sizeof q->point, "%s", seg[9]);
			if (n > 10 && !seg_is(seg[10], "diskRestorePoints"))
				return;
			if (n > 11)
				snprintf(q->drp, sizeof q->drp, "%s", seg[11]);
			q->route = n == 10					  ? R_POINT
				   : n == 11					  ? R_DRPS
				   : n == 12					  ? R_DRP
				   : n == 13 && seg_is(seg[12], "beginGetAccess") ? R_GRANT
				   : n == 13 && seg_is(seg[12], "endGetAccess")	  ? R_REVOKE
										  : R_NONE;
		}
	}
}

/* The operationId of a route and method, or NULL (method not allowed). */
static const char *opid_of(enum sim_route r, const char *m)
{
	int get = !strcmp(m, "GET");
	switch (r) {
	case R_SUBS:
		return get ? "Subscriptions_List" : NULL;
	case R_SUB:
		return get ? "Subscriptions_Get" : NULL;
	case R_LOCS:
		return get ? "Subscriptions_ListLocations" : NULL;
	case R_RGS:
		return get ? "ResourceGroups_List" : NULL;
	case R_RG:
		return get ? "ResourceGroups_Get" : NULL;
	case R_LISTALL:
		return get ? "RestorePointCollections_ListAll" : NULL;
	case R_LIST:
		return get ? "RestorePointCollections_List" : NULL;
	case R_OP:
		return get ? "Operations_Get" : NULL;
	case R_COLL:
		return get		      ? "RestorePointCollections_Get"
		       : !strcmp(m, "PUT")    ? "RestorePointCollections_CreateOrUpdate"
		       : !strcmp(m, "PATCH")  ? "RestorePointCollections_Update"
		       : !strcmp(m, "DELETE") ? "RestorePointCollections_Delete"
					      : NULL;
	case R_POINT:
		return get		      ? "RestorePoints_Get"
		       : !strcmp(m, "PUT")    ? "RestorePoints_Create"
		       : !strcmp(m, "DELETE") ? "RestorePoints_Delete"
					      : NULL;
	case R_DRPS:
		return get ? "DiskRestorePoint_ListByRestorePoint" : NULL;
	case R_DRP:
		return get ? "DiskRestorePoint_Get" : NULL;
	case R_GRANT:
		return !strcmp(m, "POST") ? "DiskRestorePoint_GrantAccess" : NULL;
	case R_REVOKE:
		return !strcmp(m, "POST") ? "DiskRestorePoint_RevokeAccess" : NULL;
	case R_TOKEN:
		return "Token";
	case R_IMDS:
		return "IMDS";
	case R_OIDC:
		return "OpenIdConfiguration";
	default:
		return NULL;
	}
}

/* Whether the client connected from a loopback address. */
static int is_loopback(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return 0;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

struct trunc_state {
	char *body;
	size_t sent_max;
};

/* Content reader of a truncated body: half of it, then an error that closes the connection. */
static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trunc_state *t = cls;
	if (pos >= t->sent_max)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = t->sent_max - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, t->body + pos, n);
	return (ssize_t)n;
}

/* Free a truncated body. */
static void trunc_free(void *cls)
{
	struct trunc_state *t = cls;
	free(t->body);
	free(t);
}

/* The headers every ARM answer carries. */
static void arm_headers(struct sim_req *q, struct sim_resp *r)
{
	const char *corr = hdr(q->conn, "x-ms-correlation-request-id");
	const char *client = hdr(q->conn, "x-ms-client-request-id");
	char routing[128], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	sim_resp_header(r, "x-ms-request-id", q->request_id);
	sim_resp_header(r, "x-ms-correlation-request-id", corr ? corr : q->request_id);
	if (client)
		sim_resp_header(r, "x-ms-client-request-id", client);
	snprintf(routing, sizeof routing, "EASTUS:%s:%s", ts, q->request_id);
	sim_resp_header(r, "x-ms-routing-request-id", routing);
	sim_resp_header(r, "Cache-Control", "no-cache");
	sim_resp_header(r, "Pragma", "no-cache");
	sim_resp_header(r, "Expires", "-1");
	sim_resp_header(r, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
	sim_resp_header(r, "X-Content-Type-Options", "nosniff");
}

/* 401 with WWW-Authenticate and the code for the token's problem. */
static void unauthorized(struct sim_req *q, struct sim_resp *r)
{
	char www[512];
	snprintf(www, sizeof www,
		 "Bearer authorization_uri=\"https://login.microsoftonline.com/%s\", "
		 "error=\"invalid_token\", error_description=\"%s\"",
		 sim_g.m.tenant,
		 !strcmp(q->auth, "missing")
		     ? "The authentication failed because of missing 'Authorization' header."
		 : !strcmp(q->auth, "expired") ? "The access token has expired."
					       : "The access token is invalid.");
	sim_resp_header(r, "WWW-Authenticate", www);
	if (!strcmp(q->auth, "expired"))
		sim_resp_error(
		    r, 401, "ExpiredAuthenticationToken",
		    "The access token expiry UTC time is earlier than current UTC time.");
	else if (!strcmp(q->auth, "missing"))
		sim_resp_error(
		    r, 401, "InvalidAuthenticationToken",
		    "The authentication failed because of missing 'Authorization' header.");
	else
		sim_resp_error(r, 401, "InvalidAuthenticationToken",
			       "The access token is invalid.");
}

/* The first steps of an ARM or blob request: clock tick, a place in the
 * log (when logged), the fault rules, then the latency (base_ms plus
 * latency rules) slept outside the lock.  Returns the rule that decides
 * the answer, or NULL; post_fault gets "truncate" or "malformed" (or ""). */
const struct sim_fault_hit *sim_http_arrive(struct sim_req *q, struct sim_fault_hit *hits, int max,
					    int base_ms, int logged, char *post_fault)
{
	int nh = 0, lat = base_ms;
	post_fault[0] = 0;
	pthread_mutex_lock(&sim_g.lock);
	if (sim_model_tick(&sim_g.m, sim_now()))
		sim_state_save();
	if (logged)
		sim_ctl_reserve(q);
	sim_fault_match(q, hits, &nh, max);
	pthread_mutex_unlock(&sim_g.lock);
	const struct sim_fault_hit *pre = NULL;
	for (int i = 0; i < nh; i++) {
		if (!strcmp(hits[i].kind, "latency"))
			lat += hits[i].latency_ms;
		else if (!strcmp(hits[i].kind, "truncate") || !strcmp(hits[i].kind, "malformed"))
			snprintf(post_fault, 12, "%s", hits[i].kind);
		else if (!pre)
			pre = &hits[i];
	}
	sim_sleep_ms(lat);
	return pre;
}

/* Everything an ARM, token or IMDS request goes through.  Returns the
 * post-handler fault kind to apply ("" for none). */
static void serve(struct sim_req *q, struct sim_resp *r, char *post_fault)
{
	struct sim_fault_hit hits[8];
	int logged = q->route != R_TOKEN && q->route != R_IMDS && q->route != R_OIDC;
	const struct sim_fault_hit *pre =
	    sim_http_arrive(q, hits, 8, logged ? sim_g.o.latency_ms : 0, logged, post_fault);
	pthread_mutex_lock(&sim_g.lock);
	if (logged)
		q->auth = sim_auth_check(hdr(q->conn, "Authorization"));
	if (pre && !strcmp(pre->kind, "reset")) {
		r->reset = 1;
		r->status = 0;
	} else if (pre && !strcmp(pre->kind, "body") && !sim_fault_body(pre->rule_id, r)) {
		/* the rule's literal answer */
	} else if (pre && strcmp(pre->kind, "body")) {
		sim_resp_error(r, pre->status, pre->code, "Injected fault: %s %d %s.", pre->kind,
			       pre->status, pre->code);
		if (!strcmp(pre->kind, "throttle") || pre->status == 429 || pre->status == 503) {
			char ra[16];
			snprintf(ra, sizeof ra, "%d", pre->retry_after);
			sim_resp_header(r, "Retry-After", ra);
		}
	} else if (q->route == R_TOKEN) {
		char *user = NULL, *pass = NULL;
		user = MHD_basic_auth_get_username_password(q->conn, &pass);
		sim_auth_token(q, r, user, pass);
		MHD_free(user);
		MHD_free(pass);
	} else if (q->route == R_OIDC) {
		sim_auth_openid(q, r);
	} else if (q->route == R_IMDS) {
		sim_auth_imds(q, r, hdr(q->conn, "Metadata"));
	} else if (strcmp(q->auth, "ok")) {
		unauthorized(q, r);
	} else if (q->route == R_NONE) {
		sim_resp_error(
		    r, 404, "NotFound",
		    "The requested path '%s' is not an Azure Resource Manager route armsim serves.",
		    q->path);
	} else if (!q->api_version) {
		sim_resp_error(r, 400, "MissingApiVersionParameter",
			       "The api-version query parameter (?api-version=) is required for "
			       "all requests.");
	} else if (!sim_api_version_ok(q->route, q->api_version)) {
		sim_resp_error(
		    r, 400, "InvalidApiVersionParameter",
		    "The api-version '%s' is invalid. The supported versions are '%s'.",
		    q->api_version, sim_api_versions(q->route));
	} else if (!q->opid) {
		sim_resp_error(r, 405, "MethodNotAllowed",
			       "The requested resource does not support http method '%s'.",
			       q->method);
	} else if (!sim_throttle_take(q->method, r)) {
		sim_arm_handle(q, r);
	}
	if (logged) {
		arm_headers(q, r);
		sim_ctl_record(q, r);
	} else {
		/* token routes are counted by operation, but not logged */
		json_object *v;
		char key[64];
		if (sim_g.by_op) {
			if (json_object_object_get_ex(sim_g.by_op, q->opid, &v))
				json_object_set_int64(v, json_object_get_int64(v) + 1);
			else
				json_object_object_add(sim_g.by_op, q->opid,
						       json_object_new_int64(1));
			snprintf(key, sizeof key, "%s %d", q->opid, r->status);
			if (json_object_object_get_ex(sim_g.by_op_status, key, &v))
				json_object_set_int64(v, json_object_get_int64(v) + 1);
			else
				json_object_object_add(sim_g.by_op_status, key,
						       json_object_new_int64(1));
		}
	}
	pthread_mutex_unlock(&sim_g.lock);
}

/* Hand a response to libmicrohttpd (or close the connection for a reset). */
static enum MHD_Result send_resp(struct MHD_Connection *conn, struct sim_resp *r,
				 const char *post_fault)
{
	struct MHD_Response *resp;
	if (r->reset)
		return MHD_NO;
	int has_ct = 0;
	for (int i = 0; i < r->nh; i++)
		has_ct |= !strcasecmp(r->hn[i], "Content-Type");
	if (post_fault && !strcmp(post_fault, "malformed") && r->body && r->len > 1) {
		/* cut the JSON in half and add a stray byte: still the declared length */
		size_t half = r->len / 2;
		memcpy(r->body + half, "\x01", 1);
		r->len = half + 1;
	}
	if (post_fault && !strcmp(post_fault, "truncate") && r->body && r->len > 1) {
		struct trunc_state *t = malloc(sizeof *t);
		if (!t)
			return MHD_NO;
		t->body = r->body;
		t->sent_max = r->len / 2;
		resp = MHD_create_response_from_callback(r->len, 4096, trunc_reader, t, trunc_free);
		r->body = NULL;
	} else if (r->body) {
		resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
		r->body = NULL;
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	for (int i = 0; i < r->nh; i++)
		MHD_add_response_header(resp, r->hn[i], r->hv[i]);
	if (!has_ct && r->status != 204 && r->status != 202)
		MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	enum MHD_Result ret =
	    MHD_queue_response(conn, (unsigned)(r->status ? r->status : 500), resp);
	MHD_destroy_response(resp);
	return ret;
}

/* libmicrohttpd's access handler: collect the body, then answer. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct conn_ctx *ctx = *con_cls;
	(void)cls;
	(void)version;
	if (!ctx)
		return MHD_NO; /* uri_logger could not allocate */
	if (!ctx->started) {
		ctx->started = 1;
		return MHD_YES;
	}
	if (*upload_size) {
		if (ctx->len + *upload_size > SIM_MAX_BODY) {
			ctx->too_big = 1;
		} else {
			char *nb = realloc(ctx->body, ctx->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			ctx->body = nb;
			memcpy(ctx->body + ctx->len, upload, *upload_size);
			ctx->len += *upload_size;
			ctx->body[ctx->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	struct sim_req q;
	struct sim_resp r;
	memset(&q, 0, sizeof q);
	memset(&r, 0, sizeof r);
	q.conn = conn;
	q.method = method;
	q.path = url;
	q.raw_path = ctx->raw_path ? ctx->raw_path : url;
	q.body = ctx->body;
	q.body_len = ctx->len;
	sim_http_query(conn, q.query, sizeof q.query);
	const char *host = hdr(conn, "Host");
	snprintf(q.base, sizeof q.base, "%s://%s", sim_g.tls ? "https" : "http",
		 host ? host : "127.0.0.1");
	sim_guid(q.request_id);
	route(&q);
	q.opid = opid_of(q.route, method);
	q.api_version = sim_http_arg(conn, "api-version");
	q.content_type = hdr(conn, "Content-Type");
	const char *mon = sim_http_arg(conn, "monitor");
	q.monitor = mon && !strcasecmp(mon, "true");
	char post_fault[12] = "";
	if (ctx->too_big) {
		sim_resp_error(&r, 413, "RequestEntityTooLarge",
			       "The request body is larger than %d bytes.", SIM_MAX_BODY);
	} else {
		if (q.route != R_TOKEN && ctx->body && ctx->len) {
			json_tokener *tok = json_tokener_new();
			q.jbody = json_tokener_parse_ex(tok, ctx->body, (int)ctx->len);
			if (json_tokener_get_error(tok) != json_tokener_success ||
			    json_tokener_get_parse_end(tok) < ctx->len) {
				size_t end = json_tokener_get_parse_end(tok);
				int trailing_ws = 1;
				for (size_t i = end; i < ctx->len; i++)
					trailing_ws &= ctx->body[i] == ' ' ||
						       ctx->body[i] == '\n' ||
						       ctx->body[i] == '\r' || ctx->body[i] == '\t';
				if (json_tokener_get_error(tok) != json_tokener_success ||
				    !trailing_ws) {
					json_object_put(q.jbody);
					q.jbody = NULL;
					q.body_bad = 1;
				}
			}
			json_tokener_free(tok);
		}
		if (q.route == R_CTL) {
			if (!is_loopback(conn)) {
				sim_resp_error(&r, 403, "Forbidden",
					       "The control API answers loopback clients only.");
			} else if (!strcmp(q.path, "/_armsim/disk")) {
				sim_disk_ctl(&q, &r); /* hashes a whole disk: locks by itself */
			} else {
				pthread_mutex_lock(&sim_g.lock);
				if (sim_model_tick(&sim_g.m, sim_now()))
					sim_state_save();
				sim_ctl_handle(&q, &r);
				pthread_mutex_unlock(&sim_g.lock);
			}
		} else {
			serve(&q, &r, post_fault);
		}
	}
	enum MHD_Result ret = send_resp(conn, &r, post_fault);
	json_object_put(q.jbody);
	sim_resp_free(&r);
	return ret;
}

/* Free what a request collected. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (ctx) {
		free(ctx->body);
		free(ctx->raw_path);
		free(ctx);
		*con_cls = NULL;
	}
}

/* A whole (PEM) file as a string, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 65536, len = 0;
	char *b = malloc(cap);
	size_t n;
	while (b && (n = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *nb = cap < (1u << 24) ? realloc(b, cap *= 2) : NULL;
			if (!nb) {
				free(b);
				b = NULL;
			}
			b = nb;
		}
	}
	fclose(f);
	if (b)
		b[len] = 0;
	return b;
}

/* A listener for handler on listen ("ADDR:PORT"; what names its option in
 * messages), HTTPS when armsim has a certificate; writes the port to
 * port_file and *port.  Returns the daemon, or NULL after a message. */
void *sim_http_listen(const char *listen, const char *what, const char *port_file, void *handler_fn,
		      int *port_out)
{
	char host[256] = "127.0.0.1";
	int port = 0;
	const char *colon = strrchr(listen, ':');
	if (!colon) {
		fprintf(stderr, "armsim: --%s wants ADDR:PORT, got '%s'\n", what, listen);
		return NULL;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	port = atoi(colon + 1);
	if (!strcmp(host, "localhost") || !*host)
		snprintf(host, sizeof host, "127.0.0.1");
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "armsim: --%s: '%s' is not an IPv4 address\n", what, host);
		return NULL;
	}
	if (!sim_g.tls && (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr,
			"armsim: plain HTTP listens on loopback only (give --tls-cert and "
			"--tls-key for %s)\n",
			host);
		return NULL;
	}
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	MHD_AccessHandlerCallback h = (MHD_AccessHandlerCallback)handler_fn;
	struct MHD_Daemon *d;
	if (sim_g.tls)
		d = MHD_start_daemon(
		    flags | MHD_USE_TLS, 0, NULL, NULL, h, NULL, MHD_OPTION_SOCK_ADDR, &sa,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_URI_LOG_CALLBACK,
		    uri_logger, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_HTTPS_MEM_CERT,
		    tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, tls_key_pem, MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, h, NULL, MHD_OPTION_SOCK_ADDR, &sa,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				     MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "armsim: cannot listen on %s:%d\n", host, port);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_in bound;
	socklen_t bl = sizeof bound;
	if (di && !getsockname(di->listen_fd, (struct sockaddr *)&bound, &bl))
		port = ntohs(bound.sin_port);
	fprintf(stderr, "armsim: %s on %s://%s:%d\n",
		strcmp(what, "listen") ? "blob endpoint listening" : "listening",
		sim_g.tls ? "https" : "http", host, port);
	*port_out = port;
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) || rename(tmp, port_file)) {
			fprintf(stderr, "armsim: cannot write %s: %s\n", port_file,
				strerror(errno));
			MHD_stop_daemon(d);
			return NULL;
		}
	}
	return d;
}

/* Stop a listener sim_http_listen started. */
void sim_http_unlisten(void *d)
{
	if (d)
		MHD_stop_daemon(d);
}

/* Start the blob and ARM listeners as the options say; writes the port
 * files. 0 or -errno. */
int sim_http_start(void)
{
	int tls = sim_g.o.tls_cert || sim_g.o.tls_key;
	if (tls && !(sim_g.o.tls_cert && sim_g.o.tls_key)) {
		fprintf(stderr, "armsim: --tls-cert and --tls-key go together\n");
		return -EINVAL;
	}
	if (tls) {
		tls_cert_pem = slurp(sim_g.o.tls_cert);
		tls_key_pem = slurp(sim_g.o.tls_key);
		if (!tls_cert_pem || !tls_key_pem) {
			fprintf(stderr, "armsim: cannot read %s\n",
				!tls_cert_pem ? sim_g.o.tls_cert : sim_g.o.tls_key);
			return -ENOENT;
		}
		sim_g.tls = 1;
	}
	int port;
	/* the blob listener first: its port is in every SAS the ARM threads make */
	if (sim_blob_start())
		return -EADDRINUSE;
	daemon_h = sim_http_listen(sim_g.o.listen ? sim_g.o.listen : "127.0.0.1:0", "listen",
				   sim_g.o.port_file, (void *)handler, &port);
	return daemon_h ? 0 : -EADDRINUSE;
}

/* Stop the server. */
void sim_http_stop(void)
{
	sim_http_unlisten(daemon_h);
	daemon_h = NULL;
	free(tls_cert_pem);
	free(tls_key_pem);
}
