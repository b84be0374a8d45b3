/* sim_auth.c - identity: the bearer tokens armsim accepts, the Entra v2
 * client-credentials token endpoint and the IMDS managed-identity endpoint.
 *
 * Issued tokens are opaque random strings remembered with their expiry on
 * armsim's clock, so fast-forwarding the clock expires them.  A token
 * armsim never issued is InvalidAuthenticationToken; one that expired is
 * ExpiredAuthenticationToken.  Caller holds sim_g.lock.
 */
#include "sim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *sim_http_arg(void *conn, const char *name);

/* Remember a token (the oldest issued one goes when the table is full). */
static void token_add(const char *tok, double expires)
{
	if (!sim_g.tokens) {
		sim_g.tokens = calloc(SIM_MAX_TOKENS, sizeof *sim_g.tokens);
		if (!sim_g.tokens)
			abort();
	}
	if (sim_g.ntokens == SIM_MAX_TOKENS) {
		/* forget the oldest issued token (slot 0 may be the fixed one) */
		int victim = sim_g.tokens[0].expires == 0 ? 1 : 0;
		free(sim_g.tokens[victim].token);
		memmove(&sim_g.tokens[victim], &sim_g.tokens[victim + 1],
			(size_t)(sim_g.ntokens - victim - 1) * sizeof *sim_g.tokens);
		sim_g.ntokens--;
	}
	sim_g.tokens[sim_g.ntokens].token = sim_xstrdup(tok);
	sim_g.tokens[sim_g.ntokens].expires = expires;
	sim_g.ntokens++;
}

/* Accept a fixed token that never expires (--accept-token). */
void sim_auth_add_fixed(const char *token)
{
	token_add(token, 0);
}

/* Forget every token. */
void sim_auth_clear(void)
{
	for (int i = 0; i < sim_g.ntokens; i++)
		free(sim_g.tokens[i].token);
	sim_g.ntokens = 0;
}

/* "ok", "missing", "invalid" or "expired" for an Authorization header. */
const char *sim_auth_check(const char *authz)
{
	if (!authz || !*authz)
		return "missing";
	if (strncasecmp(authz, "Bearer ", 7))
		return "invalid";
	const char *t = authz + 7;
	while (*t == ' ')
		t++;
	for (int i = sim_g.ntokens - 1; i >= 0; i--) {
		if (strcmp(sim_g.tokens[i].token, t))
			continue;
		if (sim_g.tokens[i].expires && sim_now() >= sim_g.tokens[i].expires)
			return "expired";
		return "ok";
	}
	return "invalid";
}

/* A new opaque token valid for --token-lifetime; malloc'd. */
static char *issue(double *expires)
{
	char a[37], b[37], tok[128];
	sim_guid(a);
	sim_guid(b);
	snprintf(tok, sizeof tok, "armsim.%s.%s", a, b);
	*expires = sim_now() + sim_g.o.token_lifetime;
	token_add(tok, *expires);
	return sim_xstrdup(tok);
}

/* Decode application/x-www-form-urlencoded text in place. */
static void url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && isxdigit((unsigned char)s[1]) &&
			   isxdigit((unsigned char)s[2])) {
			char h[3] = {s[1], s[2], 0};
			*o++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/* Value of a form field (decoded, malloc'd) or NULL. */
static char *form_get(const char *body, const char *name)
{
	if (!body)
		return NULL;
	size_t nl = strlen(name);
	const char *p = body;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			char *v = strndup(p + nl + 1, len - nl - 1);
			if (!v)
				abort();
			url_decode(v);
			return v;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return NULL;
}

/* An Entra (AADSTS) error body. */
static void aad_error(struct sim_resp *r, int status, const char *err, int code, const char *msg)
{
	char trace[37], corr[37], ts[64], desc[1024];
	sim_guid(trace);
	sim_guid(corr);
	sim_fmt_time_ms(sim_real_now(), ts, sizeof ts);
	ts[19] = 'Z';
	ts[20] = 0;
	snprintf(desc, sizeof desc, "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
		 code, msg, trace, corr, ts);
	json_object *o = json_object_new_object();
	jadd(o, "error", json_object_new_string(err));
	jadd(o, "error_description", json_object_new_string(desc));
	json_object *codes = json_object_new_array();
	json_object_array_add(codes, json_object_new_int(code));
	jadd(o, "error_codes", codes);
	jadd(o, "timestamp", json_object_new_string(ts));
	jadd(o, "trace_id", json_object_new_string(trace));
	jadd(o, "correlation_id", json_object_new_string(corr));
	char uri[128];
	snprintf(uri, sizeof uri, "https://login.microsoftonline.com/error?code=%d", code);
	jadd(o, "error_uri", json_object_new_string(uri));
	sim_resp_json(r, status, o);
}

/* POST /{tenant}/oauth2/v2.0/token (and the v1 /oauth2/token). */
void sim_auth_token(struct sim_req *q, struct sim_resp *r, const char *basic_user,
		    const char *basic_pass)
{
	char *grant = form_get(q->body, "grant_type"), *cid = form_get(q->body, "client_id");
	char *secret = form_get(q->body, "client_secret"), *scope = form_get(q->body, "scope");
	char *resource = form_get(q->body, "resource"),
	     *atype = form_get(q->body, "client_assertion_type");
	char *assertion = form_get(q->body, "client_assertion");
	int v1 = !strstr(q->path, "/v2.0/");
	if (!cid && basic_user)
		cid = sim_xstrdup(basic_user);
	if (!secret && basic_pass)
		secret = sim_xstrdup(basic_pass);
	if (strcmp(q->method, "POST")) {
		aad_error(r, 405, "invalid_request", 900561,
			  "The endpoint only accepts POST requests.");
		goto out;
	}
	if (!grant || strcmp(grant, "client_credentials")) {
		aad_error(
		    r, 400, grant ? "unsupported_grant_type" : "invalid_request",
		    grant ? 70003 : 900144,
		    grant ? "The app requested an unsupported grant type."
			  : "The request body must contain the following parameter: 'grant_type'.");
		goto out;
	}
	if (!cid || !*cid) {
		aad_error(r, 400, "invalid_request", 900144,
			  "The request body must contain the following parameter: 'client_id'.");
		goto out;
	}
	if (!v1 && (!scope || !*scope)) {
		aad_error(r, 400, "invalid_request", 900144,
			  "The request body must contain the following parameter: 'scope'.");
		goto out;
	}
	if (!v1 && strlen(scope) < 9) {
		aad_error(r, 400, "invalid_scope", 1002012,
			  "The provided value for scope is not valid.");
		goto out;
	}
	if (!v1 && strcmp(scope + strlen(scope) - 9, "/.default")) {
		aad_error(r, 400, "invalid_scope", 1002012,
			  "The provided value for scope is not valid. Client credential flows must "
			  "have a scope value with /.default suffixed to the resource identifier "
			  "(application ID URI).");
		goto out;
	}
	if (!secret && !assertion) {
		aad_error(r, 401, "invalid_client", 7000216,
			  "'client_assertion', 'client_secret' or 'request' is required for the "
			  "'client_credentials' grant type.");
		goto out;
	}
	if (assertion &&
	    (!atype || strcmp(atype, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))) {
		aad_error(r, 400, "invalid_request", 900144,
			  "The request body must contain the following parameter: "
			  "'client_assertion_type'.");
		goto out;
	}
	if (sim_g.o.nclients > 0) {
		const char *want = NULL;
		size_t cl = strlen(cid);
		for (int i = 0; i < sim_g.o.nclients; i++)
			if (!strncasecmp(sim_g.o.clients[i], cid, cl) &&
			    sim_g.o.clients[i][cl] == ':')
				want = sim_g.o.clients[i] + cl + 1;
		if (!want) {
			char msg[512];
			snprintf(
			    msg, sizeof msg,
			    "Application with identifier '%s' was not found in the directory '%s'.",
			    cid, sim_g.m.tenant);
			aad_error(r, 400, "unauthorized_client", 700016, msg);
			goto out;
		}
		if (secret && strcmp(secret, want)) {
			char msg[256];
			snprintf(msg, sizeof msg,
				 "Invalid client secret provided. Ensure the secret being sent in "
				 "the request is the client secret value, not the client secret "
				 "ID, for a secret added to app '%s'.",
				 cid);
			aad_error(r, 401, "invalid_client", 7000215, msg);
			goto out;
		}
	}
	if (assertion && !secret) {
		const char *d1 = strchr(assertion, '.');
		if (!d1 || !strchr(d1 + 1, '.')) {
			aad_error(r, 401, "invalid_client", 50027,
				  "JWT token is invalid or malformed.");
			goto out;
		}
	}
	double exp;
	char *tok = issue(&exp);
	json_object *o = json_object_new_object();
	jadd(o, "token_type", json_object_new_string("Bearer"));
	jadd(o, "expires_in", json_object_new_int(sim_g.o.token_lifetime));
	jadd(o, "ext_expires_in", json_object_new_int(sim_g.o.token_lifetime));
	if (v1) {
		char b[32];
		snprintf(b, sizeof b, "%lld", (long long)exp);
		jadd(o, "expires_on", json_object_new_string(b));
		jadd(o, "resource",
		     json_object_new_string(resource ? resource : "https://management.azure.com/"));
	}
	jadd(o, "access_token", json_object_new_string(tok));
	free(tok);
	sim_resp_json(r, 200, o);
out:
	free(grant);
	free(cid);
	free(secret);
	free(scope);
	free(resource);
	free(atype);
	free(assertion);
}

/* An IMDS error body. */
static void imds_error(struct sim_resp *r, int status, const char *err, const char *desc)
{
	json_object *o = json_object_new_object();
	jadd(o, "error", json_object_new_string(err));
	jadd(o, "error_description", json_object_new_string(desc));
	sim_resp_json(r, status, o);
}

/* GET /metadata/identity/oauth2/token: IMDS managed identity. */
void sim_auth_imds(struct sim_req *q, struct sim_resp *r, const char *metadata_hdr)
{
	if (!metadata_hdr || strcmp(metadata_hdr, "true")) {
		imds_error(r, 400, "invalid_request", "Required metadata header not specified");
		return;
	}
	if (strcmp(q->method, "GET")) {
		imds_error(r, 405, "invalid_request", "Only GET is supported");
		return;
	}
	const char *av = sim_http_arg(q->conn, "api-version");
	const char *res = sim_http_arg(q->conn, "resource");
	if (!av) {
		imds_error(r, 400, "invalid_request",
			   "Required query variable 'api-version' is missing");
		return;
	}
	if (!res || !*res) {
		imds_error(r, 400, "invalid_request",
			   "Required query variable 'resource' is missing");
		return;
	}
	double exp;
	char *tok = issue(&exp);
	char b[32];
	json_object *o = json_object_new_object();
	jadd(o, "access_token", json_object_new_string(tok));
	jadd(o, "refresh_token", json_object_new_string(""));
	snprintf(b, sizeof b, "%d", sim_g.o.token_lifetime);
	jadd(o, "expires_in", json_object_new_string(b));
	snprintf(b, sizeof b, "%lld", (long long)exp);
	jadd(o, "expires_on", json_object_new_string(b));
	snprintf(b, sizeof b, "%lld", (long long)(exp - sim_g.o.token_lifetime));
	jadd(o, "not_before", json_object_new_string(b));
	jadd(o, "resource", json_object_new_string(res));
	jadd(o, "token_type", json_object_new_string("Bearer"));
	free(tok);
	sim_resp_json(r, 200, o);
}

/* GET /{tenant}/v2.0/.well-known/openid-configuration: what MSAL reads
 * before it asks the token endpoint. */
void sim_auth_openid(struct sim_req *q, struct sim_resp *r)
{
	char buf[1024];
	json_object *o = json_object_new_object();
	snprintf(buf, sizeof buf, "%s/%s/oauth2/v2.0/token", q->base, q->tenant);
	jadd(o, "token_endpoint", json_object_new_string(buf));
	json_object *am = json_object_new_array();
	json_object_array_add(am, json_object_new_string("client_secret_post"));
	json_object_array_add(am, json_object_new_string("private_key_jwt"));
	json_object_array_add(am, json_object_new_string("client_secret_basic"));
	jadd(o, "token_endpoint_auth_methods_supported", am);
	snprintf(buf, sizeof buf, "%s/%s/discovery/v2.0/keys", q->base, q->tenant);
	jadd(o, "jwks_uri", json_object_new_string(buf));
	snprintf(buf, sizeof buf, "%s/%s/oauth2/v2.0/authorize", q->base, q->tenant);
	jadd(o, "authorization_endpoint", json_object_new_string(buf));
	snprintf(buf, sizeof buf, "%s/%s/oauth2/v2.0/logout", q->base, q->tenant);
	jadd(o, "end_session_endpoint", json_object_new_string(buf));
	snprintf(buf, sizeof buf, "https://login.microsoftonline.com/%s/v2.0", sim_g.m.tenant);
	jadd(o, "issuer", json_object_new_string(buf));
	json_object *gt = json_object_new_array();
	json_object_array_add(gt, json_object_new_string("client_credentials"));
	jadd(o, "grant_types_supported", gt);
	jadd(o, "tenant_region_scope", json_object_new_string("WW"));
	jadd(o, "cloud_instance_name", json_object_new_string("microsoftonline.com"));
	sim_resp_json(r, 200, o);
}
