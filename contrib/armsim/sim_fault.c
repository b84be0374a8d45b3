/* sim_fault.c - injected faults (the /_armsim/faults rules) and ARM's
 * per-subscription throttling buckets.
 *
 * A fault rule matches by operationId, path prefix and method; it applies
 * to the next `count` matching requests, or at random with `probability`
 * drawn from its own seeded generator, so a test run is reproducible;
 * with `seconds`, only for that long after it was added (IMDS answering
 * 410 while its host is updated, a token endpoint down for a minute).
 * Caller holds sim_g.lock.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *kinds[] = {"status",	 "reset",    "truncate", "malformed",
			      "latency", "throttle", "body"};

/* Bound on the answer a "body" rule makes (literal times repeat). */
#define SIM_FAULT_BODY_MAX (64L << 20)

/* The ARM error code that usually goes with a status. */
static const char *default_code(int status)
{
	switch (status) {
	case 400:
		return "BadRequest";
	case 404:
		return "ResourceNotFound";
	case 409:
		return "Conflict";
	case 429:
		return "TooManyRequests";
	case 500:
		return "InternalServerError";
	case 502:
		return "BadGateway";
	case 503:
		return "ServerBusy";
	case 504:
		return "GatewayTimeout";
	default:
		return "InternalError";
	}
}

/* Add a rule from its JSON; returns its id, or -22 with err set. */
int sim_fault_add(json_object *spec, char *err, size_t errn)
{
	if (!spec || !json_object_is_type(spec, json_type_object)) {
		snprintf(err, errn, "the body must be a JSON object");
		return -22;
	}
	if (sim_g.nfaults >= SIM_MAX_FAULTS) {
		snprintf(err, errn, "too many fault rules (at most %d)", SIM_MAX_FAULTS);
		return -28;
	}
	const char *kind = sim_jget_str(spec, "kind");
	int ok = 0;
	for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
		ok |= !strcmp(kind, kinds[i]);
	if (!ok) {
		snprintf(err, errn,
			 "kind must be one of status, reset, truncate, malformed, latency, "
			 "throttle, body");
		return -22;
	}
	json_object *match = NULL;
	json_object_object_get_ex(spec, "match", &match);
	if (match && !json_object_is_type(match, json_type_object)) {
		snprintf(err, errn, "match must be an object");
		return -22;
	}
	double status = 503, retry = 2, lat = 0, count = -1, prob = 1, seed = 1, secs = 0;
	if (sim_jget_num(spec, "seconds", &secs) < 0 || secs < 0) {
		snprintf(err, errn, "seconds must be a number >= 0");
		return -22;
	}
	if (sim_jget_num(spec, "status", &status) < 0 ||
	    sim_jget_num(spec, "retry_after", &retry) < 0 ||
	    sim_jget_num(spec, "latency_ms", &lat) < 0 || sim_jget_num(spec, "count", &count) < 0 ||
	    sim_jget_num(spec, "probability", &prob) < 0 || sim_jget_num(spec, "seed", &seed) < 0) {
		snprintf(
		    err, errn,
		    "status, retry_after, latency_ms, count, probability and seed must be numbers");
		return -22;
	}
	if (!strcmp(kind, "throttle") && !sim_jget_str(spec, "code"))
		status = 429;
	double repeat = 1;
	const char *lit = sim_jget_str(spec, "body"), *hex = sim_jget_str(spec, "body_hex");
	json_object *hdrs = NULL;
	json_object_object_get_ex(spec, "headers", &hdrs);
	if (!strcmp(kind, "body")) {
		double st = 0;
		if (sim_jget_num(spec, "status", &st) == 0)
			status = 200;
		if (!lit == !hex) {
			snprintf(err, errn, "kind body needs one of body (a string) or body_hex");
			return -22;
		}
		if (hex && strspn(hex, "0123456789abcdefABCDEF") != strlen(hex)) {
			snprintf(err, errn, "body_hex must be an even number of hex digits");
			return -22;
		}
		if (hex && strlen(hex) % 2) {
			snprintf(err, errn, "body_hex must be an even number of hex digits");
			return -22;
		}
		if (sim_jget_num(spec, "repeat", &repeat) < 0 || repeat < 1 ||
		    repeat * (double)(lit ? strlen(lit) : strlen(hex) / 2) > SIM_FAULT_BODY_MAX) {
			snprintf(err, errn,
				 "repeat must be a number >= 1 and the body at most %ld bytes",
				 SIM_FAULT_BODY_MAX);
			return -22;
		}
		if (hdrs && (!json_object_is_type(hdrs, json_type_object) ||
			     json_object_object_length(hdrs) > 4)) {
			snprintf(err, errn, "headers must be an object of at most 4 strings");
			return -22;
		}
		if (hdrs) {
			json_object_object_foreach(hdrs, hk, hv)
			{
				if (!json_object_is_type(hv, json_type_string) ||
				    strpbrk(hk, "\r\n:") ||
				    strpbrk(json_object_get_string(hv), "\r\n")) {
					snprintf(err, errn,
						 "header %s: a name without : and a one-line "
						 "string value",
						 hk);
					return -22;
				}
			}
		}
	}
	if (status < 100 || status > 599 || prob < 0 || prob > 1 || lat < 0 || lat > 600000 ||
	    retry < 0) {
		snprintf(err, errn, "a number is out of range");
		return -22;
	}
	struct sim_fault *f = &sim_g.faults[sim_g.nfaults++];
	memset(f, 0, sizeof *f);
	f->id = ++sim_g.fault_seq;
	f->op = sim_xstrdup(sim_jget_str(match, "operationId"));
	f->prefix = sim_xstrdup(sim_jget_str(match, "path_prefix"));
	f->method = sim_xstrdup(sim_jget_str(match, "method"));
	snprintf(f->kind, sizeof f->kind, "%s", kind);
	f->status = !strcmp(kind, "throttle") ? 429 : (int)status;
	const char *code = sim_jget_str(spec, "code");
	f->code = sim_xstrdup(code ? code : default_code(f->status));
	f->retry_after = (int)retry;
	f->latency_ms = (int)lat;
	f->count = (long)count;
	f->until = secs > 0 ? sim_real_now() + secs : 0;
	f->probability = prob;
	f->rng = (uint64_t)seed * 0x9e3779b97f4a7c15ULL + 1;
	if (!strcmp(kind, "body")) {
		f->repeat = (long)repeat;
		if (lit) {
			f->body = sim_xstrdup(lit);
			f->body_len = strlen(lit);
		} else {
			f->body_len = strlen(hex) / 2;
			f->body = malloc(f->body_len + 1);
			if (!f->body)
				abort();
			for (size_t i = 0; i < f->body_len; i++) {
				unsigned v;
				sscanf(hex + 2 * i, "%2x", &v);
				f->body[i] = (char)v;
			}
		}
		if (hdrs) {
			json_object_object_foreach(hdrs, hk, hv)
			{
				f->hdr_name[f->nhdr] = sim_xstrdup(hk);
				f->hdr_value[f->nhdr] = sim_xstrdup(json_object_get_string(hv));
				f->nhdr++;
			}
		}
	}
	return f->id;
}

/* The rules, as JSON. */
json_object *sim_fault_list(void)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i < sim_g.nfaults; i++) {
		struct sim_fault *f = &sim_g.faults[i];
		json_object *o = json_object_new_object(), *m = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int(f->id));
		if (f->op)
			json_object_object_add(m, "operationId", json_object_new_string(f->op));
		if (f->prefix)
			json_object_object_add(m, "path_prefix", json_object_new_string(f->prefix));
		if (f->method)
			json_object_object_add(m, "method", json_object_new_string(f->method));
		json_object_object_add(o, "match", m);
		json_object_object_add(o, "kind", json_object_new_string(f->kind));
		json_object_object_add(o, "status", json_object_new_int(f->status));
		json_object_object_add(o, "code", json_object_new_string(f->code));
		json_object_object_add(o, "retry_after", json_object_new_int(f->retry_after));
		json_object_object_add(o, "latency_ms", json_object_new_int(f->latency_ms));
		json_object_object_add(o, "count", json_object_new_int64(f->count));
		if (f->until)
			json_object_object_add(o, "seconds_left",
					       json_object_new_double(f->until - sim_real_now()));
		json_object_object_add(o, "probability", json_object_new_double(f->probability));
		if (f->body) {
			json_object_object_add(o, "body_len",
					       json_object_new_int64((int64_t)f->body_len));
			json_object_object_add(o, "repeat", json_object_new_int64(f->repeat));
		}
		json_object_array_add(a, o);
	}
	return a;
}

/* Drop every rule. */
void sim_fault_clear(void)
{
	for (int i = 0; i < sim_g.nfaults; i++) {
		free(sim_g.faults[i].op);
		free(sim_g.faults[i].prefix);
		free(sim_g.faults[i].method);
		free(sim_g.faults[i].code);
		free(sim_g.faults[i].body);
		for (int k = 0; k < sim_g.faults[i].nhdr; k++) {
			free(sim_g.faults[i].hdr_name[k]);
			free(sim_g.faults[i].hdr_value[k]);
		}
	}
	sim_g.nfaults = 0;
}

/* The answer of a "body" rule: its status, literal body repeated, headers.
 * Returns 0, or -2 when the rule is gone (cleared since it fired). */
int sim_fault_body(int rule_id, struct sim_resp *r)
{
	const struct sim_fault *f = NULL;
	for (int i = 0; i < sim_g.nfaults; i++)
		if (sim_g.faults[i].id == rule_id && sim_g.faults[i].body)
			f = &sim_g.faults[i];
	if (!f)
		return -2;
	size_t len = f->body_len * (size_t)f->repeat;
	char *b = malloc(len + 1);
	if (!b)
		abort();
	for (long k = 0; k < f->repeat; k++)
		memcpy(b + (size_t)k * f->body_len, f->body, f->body_len);
	b[len] = 0;
	free(r->body);
	r->body = b;
	r->len = len;
	r->status = f->status;
	for (int k = 0; k < f->nhdr; k++)
		sim_resp_header(r, f->hdr_name[k], f->hdr_value[k]);
	return 0;
}

/* The rules that fire for this request (each consumes one of its count). */
void sim_fault_match(const struct sim_req *q, struct sim_fault_hit *hits, int *nhits, int max)
{
	*nhits = 0;
	for (int i = 0; i < sim_g.nfaults && *nhits < max; i++) {
		struct sim_fault *f = &sim_g.faults[i];
		if (f->count == 0 || (f->until && sim_real_now() >= f->until))
			continue;
		if (f->op && (!q->opid || strcasecmp(f->op, q->opid)))
			continue;
		if (!f->op && (q->route == R_TOKEN || q->route == R_IMDS || q->route == R_OIDC))
			continue;
		if (!f->op && !f->prefix && q->route == R_BLOB)
			continue; /* blob routes: named by operationId or path_prefix only */
		if (f->prefix && strncasecmp(q->path, f->prefix, strlen(f->prefix)))
			continue;
		if (f->method && strcasecmp(f->method, q->method))
			continue;
		if (f->probability < 1) {
			double x = (double)(sim_rand(&f->rng) >> 11) / 9007199254740992.0;
			if (x >= f->probability)
				continue;
		}
		if (f->count > 0)
			f->count--;
		struct sim_fault_hit *h = &hits[(*nhits)++];
		memset(h, 0, sizeof *h);
		h->any = 1;
		snprintf(h->kind, sizeof h->kind, "%s", f->kind);
		h->status = f->status;
		snprintf(h->code, sizeof h->code, "%s", f->code);
		h->retry_after = f->retry_after;
		h->latency_ms = f->latency_ms;
		h->rule_id = f->id;
	}
}

/* Take a token from the bucket of this kind of request; adds the
 * x-ms-ratelimit-remaining-* headers; -11 (and a 429) when throttled. */
int sim_throttle_take(const char *method, struct sim_resp *r)
{
	struct sim_bucket *b;
	const char *kind;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		b = &sim_g.reads, kind = "reads";
	else if (!strcmp(method, "DELETE"))
		b = &sim_g.deletes, kind = "deletes";
	else
		b = &sim_g.writes, kind = "writes";
	double now = sim_real_now();
	int refused = 0;
	if (sim_g.o.throttle) {
		b->tokens += (now - b->last) * b->refill;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
		b->last = now;
		if (b->tokens >= 1)
			b->tokens -= 1;
		else
			refused = 1;
	} else {
		b->tokens = b->cap - 1;
	}
	char name[96], val[32];
	long left = (long)floor(b->tokens);
	snprintf(name, sizeof name, "x-ms-ratelimit-remaining-subscription-%s", kind);
	snprintf(val, sizeof val, "%ld", left);
	sim_resp_header(r, name, val);
	snprintf(name, sizeof name, "x-ms-ratelimit-remaining-subscription-global-%s", kind);
	snprintf(val, sizeof val, "%ld", left * 15 + 14);
	sim_resp_header(r, name, val);
	if (!refused)
		return 0;
	int ra = (int)ceil((1 - b->tokens) / b->refill);
	snprintf(val, sizeof val, "%d", ra < 1 ? 1 : ra);
	sim_resp_header(r, "Retry-After", val);
	sim_resp_error(r, 429, "TooManyRequests",
		       "The request is being throttled as the limit has been reached for operation "
		       "type - %s. For more information, see - https://aka.ms/armthrottle",
		       !strcmp(kind, "reads")	  ? "Read"
		       : !strcmp(kind, "deletes") ? "Delete"
						  : "Write");
	return -11;
}
