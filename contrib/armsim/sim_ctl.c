/* sim_ctl.c - the control API under /_armsim/ (stats, log, faults, clock,
 * mutate, state, reset) and the request log and counters it reports.
 * Loopback only, no authentication.  Caller holds sim_g.lock. */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static FILE *log_file;

/* Also append the request log to FILE (--log). */
int sim_ctl_open_log(const char *path)
{
	log_file = fopen(path, "a");
	return log_file ? 0 : -1;
}

/* Reset the counters. */
static void stats_clear(void)
{
	json_object_put(sim_g.by_op);
	json_object_put(sim_g.by_op_status);
	sim_g.by_op = json_object_new_object();
	sim_g.by_op_status = json_object_new_object();
	sim_g.total = 0;
	sim_g.blob_authz = 0;
}

/* The log is a ring of SIM_MAX_LOG lines; i counts from the oldest. */
static char **log_at(int i)
{
	return &sim_g.log[(sim_g.log_start + i) % SIM_MAX_LOG];
}

/* Empty the request log. */
/* The seq of the i-th line from the oldest. */
static long *seq_at(int i)
{
	return &sim_g.log_seqs[(sim_g.log_start + i) % SIM_MAX_LOG];
}

/* Make room for the log ring. */
static void log_alloc(void)
{
	if (sim_g.log)
		return;
	sim_g.log = calloc(SIM_MAX_LOG, sizeof *sim_g.log);
	sim_g.log_seqs = calloc(SIM_MAX_LOG, sizeof *sim_g.log_seqs);
	if (!sim_g.log || !sim_g.log_seqs)
		abort();
}

/* Give an ARM request its place in the log when it arrives, so the log is
 * in arrival order even when answers finish out of order. */
void sim_ctl_reserve(struct sim_req *q)
{
	log_alloc();
	q->arrived = sim_real_now();
	q->log_seq = ++sim_g.log_seq;
	if (sim_g.nlog == SIM_MAX_LOG) {
		free(*log_at(0));
		*log_at(0) = NULL;
		sim_g.log_start = (sim_g.log_start + 1) % SIM_MAX_LOG;
		sim_g.nlog--;
	}
	*log_at(sim_g.nlog) = NULL;
	*seq_at(sim_g.nlog) = q->log_seq;
	sim_g.nlog++;
}

static void log_clear(void)
{
	for (int i = 0; i < sim_g.nlog; i++) {
		free(*log_at(i));
		*log_at(i) = NULL;
	}
	sim_g.nlog = 0;
	sim_g.log_start = 0;
}

/* Add one to counter key of o. */
static void bump(json_object *o, const char *key)
{
	json_object *v;
	if (json_object_object_get_ex(o, key, &v))
		json_object_set_int64(v, json_object_get_int64(v) + 1);
	else
		jadd(o, key, json_object_new_int64(1));
}

/* Count an ARM request and append its log line. */
void sim_ctl_record(struct sim_req *q, struct sim_resp *r)
{
	if (!sim_g.by_op)
		stats_clear();
	if (!q->log_seq)
		sim_ctl_reserve(q);
	const char *op = q->opid ? q->opid : "Unknown";
	char key[128];
	sim_g.total++;
	bump(sim_g.by_op, op);
	snprintf(key, sizeof key, "%s %d", op, r->reset ? 0 : r->status);
	bump(sim_g.by_op_status, key);
	char t[64];
	sim_fmt_time_ms(q->arrived, t, sizeof t);
	json_object *o = json_object_new_object();
	jadd(o, "seq", json_object_new_int64(q->log_seq));
	jadd(o, "time", json_object_new_string(t));
	jadd(o, "t_ms", json_object_new_int64((int64_t)llround((q->arrived - sim_g.t0) * 1000)));
	jadd(o, "method", json_object_new_string(q->method));
	jadd(o, "path", json_object_new_string(q->path));
	jadd(o, "raw_path", json_object_new_string(q->raw_path ? q->raw_path : q->path));
	jadd(o, "query", json_object_new_string(q->query));
	jadd(o, "status", json_object_new_int(r->reset ? 0 : r->status));
	jadd(o, "operationId", q->opid ? json_object_new_string(q->opid) : NULL);
	jadd(o, "requestId", json_object_new_string(q->request_id));
	jadd(o, "body", q->jbody ? json_object_get(q->jbody) : NULL);
	jadd(o, "auth", json_object_new_string(q->auth ? q->auth : "missing"));
	if (q->route == R_BLOB) {
		jadd(o, "range", q->range ? json_object_new_string(q->range) : NULL);
		jadd(o, "bytes", json_object_new_int64(q->bytes));
	}
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	/* fill the slot reserved on arrival, unless the log was cleared since */
	long idx = sim_g.nlog ? q->log_seq - *seq_at(0) : -1;
	if (idx >= 0 && idx < sim_g.nlog && *seq_at((int)idx) == q->log_seq)
		*log_at((int)idx) = sim_xstrdup(s);
	if (log_file) {
		fprintf(log_file, "%s\n", s);
		fflush(log_file);
	}
	json_object_put(o);
}

/* {"ok":true} with an optional extra field (takes v). */
static void ok(struct sim_resp *r, const char *k, json_object *v)
{
	json_object *o = json_object_new_object();
	jadd(o, "ok", json_object_new_boolean(1));
	if (k)
		jadd(o, k, v);
	sim_resp_json(r, 200, o);
}

/* POST /_armsim/mutate: out-of-band changes. */
static void mutate(struct sim_req *q, struct sim_resp *r)
{
	struct sim_model *m = &sim_g.m;
	const char *op = sim_jget_str(q->jbody, "op");
	const char *id = sim_jget_str(q->jbody, "id");
	if (!op) {
		sim_resp_error(r, 400, "BadRequest", "op is required");
		return;
	}
	if (!strcmp(op, "add_point")) {
		const char *cid = sim_jget_str(q->jbody, "collection"),
			   *name = sim_jget_str(q->jbody, "name");
		struct sim_coll *c = sim_model_find_coll_id(m, cid);
		if (!c || !name || !sim_name_valid(name)) {
			sim_resp_error(
			    r, 400, "BadRequest",
			    "add_point needs an existing collection id and a valid name");
			return;
		}
		if (sim_coll_find_point(c, name, NULL)) {
			sim_resp_error(r, 409, "Conflict", "the point exists");
			return;
		}
		int vi = sim_coll_vm(m, c);
		struct sim_point *p = sim_coll_add_point(c, name);
		p->vm = vi;
		p->created = sim_now();
		p->consistency = sim_xstrdup(vi >= 0 && !strcmp(m->vms[vi].os_type, "Windows")
						 ? "ApplicationConsistent"
						 : "FileSystemConsistent");
		const char *st = sim_jget_str(q->jbody, "provisioningState");
		if (st && !strcmp(st, "Failed"))
			p->state = PS_FAILED;
		char *pid = sim_point_id(m, c, p);
		sim_state_save();
		ok(r, "id", json_object_new_string(pid));
		free(pid);
		return;
	}
	if (!strcmp(op, "remove_point") || !strcmp(op, "fail_copy") || !strcmp(op, "fail_point")) {
		struct sim_coll *c = NULL;
		struct sim_point *p = sim_model_find_point_id(m, id, &c);
		if (!p) {
			sim_resp_error(r, 404, "NotFound", "no restore point %s",
				       id ? id : "(null)");
			return;
		}
		if (!strcmp(op, "remove_point")) {
			int idx;
			sim_coll_find_point(c, p->name, &idx);
			sim_coll_remove_point(c, idx);
		} else if (p->copy) {
			double now = sim_now();
			int pct[SIM_MAX_DISKS], n = 0;
			sim_point_progress(p, p->vm >= 0 ? &m->vms[p->vm] : NULL, now, pct, &n);
			for (int i = 0; i < n; i++)
				p->copy->pct0[i] = (unsigned char)pct[i];
			p->copy->base = now;
			p->copy->dur = INFINITY;
			p->copy->failed = 1;
			if (p->state == PS_CREATING)
				p->state = PS_SUCCEEDED;
		} else if (p->state == PS_CREATING) {
			p->fail_create = 1; /* its create operation ends Failed */
		} else {
			p->state = PS_FAILED;
		}
		sim_state_save();
		ok(r, NULL, NULL);
		return;
	}
	if (!strcmp(op, "add_collection")) {
		const char *rg = sim_jget_str(q->jbody, "resourceGroup"),
			   *name = sim_jget_str(q->jbody, "name");
		const char *loc = sim_jget_str(q->jbody, "location"),
			   *vm = sim_jget_str(q->jbody, "vm");
		const char *src = sim_jget_str(q->jbody, "source");
		if (!src)
			src = vm;
		if (!rg || !name || !loc || !src || !sim_name_valid(name)) {
			sim_resp_error(r, 400, "BadRequest",
				       "add_collection needs resourceGroup, name, location and vm "
				       "(or source)");
			return;
		}
		if (sim_model_find_vm(m, src) < 0 && !sim_model_find_coll_id(m, src)) {
			sim_resp_error(r, 400, "BadRequest", "unknown vm or source collection %s",
				       src);
			return;
		}
		if (sim_model_find_coll(m, rg, name, NULL)) {
			sim_resp_error(r, 409, "Conflict", "the collection exists");
			return;
		}
		if (!sim_model_find_rg(m, rg))
			sim_model_add_rg(m, rg, loc);
		struct sim_coll *c = sim_model_add_coll(m, rg, name, loc, src);
		char *cid = sim_coll_id(m, c);
		sim_state_save();
		ok(r, "id", json_object_new_string(cid));
		free(cid);
		return;
	}
	if (!strcmp(op, "remove_collection")) {
		char rg[300], cn[300], pt[300];
		int idx;
		if (sim_id_split(id, rg, sizeof rg, cn, sizeof cn, pt, sizeof pt) || *pt ||
		    !sim_model_find_coll(m, rg, cn, &idx)) {
			sim_resp_error(r, 404, "NotFound", "no collection %s", id ? id : "(null)");
			return;
		}
		sim_model_remove_coll(m, idx);
		sim_state_save();
		ok(r, NULL, NULL);
		return;
	}
	sim_resp_error(r, 400, "BadRequest",
		       "unknown op '%s' (add_point, remove_point, add_collection, "
		       "remove_collection, fail_copy)",
		       op);
}

/* {"now","offset"} of armsim's clock. */
static void now_json(struct sim_resp *r)
{
	char t[64];
	sim_fmt_time(sim_now(), t, sizeof t);
	json_object *o = json_object_new_object();
	jadd(o, "now", json_object_new_string(t));
	jadd(o, "offset", json_object_new_double(sim_g.clock_offset));
	sim_resp_json(r, 200, o);
}

/* Answer a /_armsim/ request. */
void sim_ctl_handle(struct sim_req *q, struct sim_resp *r)
{
	const char *what = q->path + strlen("/_armsim/");
	const char *meth = q->method;
	if (q->body_bad) {
		sim_resp_error(r, 400, "BadRequest", "the body is not valid JSON");
		return;
	}
	if (!sim_g.by_op)
		stats_clear();
	if (!strcmp(what, "stats") && !strcmp(meth, "GET")) {
		json_object *o = json_object_new_object();
		jadd(o, "total", json_object_new_int64(sim_g.total));
		jadd(o, "by_op", json_object_get(sim_g.by_op));
		jadd(o, "by_op_status", json_object_get(sim_g.by_op_status));
		jadd(o, "blob.authorization", json_object_new_int64(sim_g.blob_authz));
		sim_resp_json(r, 200, o);
	} else if (!strcmp(what, "log") && !strcmp(meth, "GET")) {
		size_t len = 0;
		for (int i = 0; i < sim_g.nlog; i++)
			if (*log_at(i))
				len += strlen(*log_at(i)) + 1;
		char *b = malloc(len + 1), *p = b;
		if (!b)
			abort();
		for (int i = 0; i < sim_g.nlog; i++) {
			if (!*log_at(i))
				continue; /* still running */
			size_t l = strlen(*log_at(i));
			memcpy(p, *log_at(i), l);
			p[l] = '\n';
			p += l + 1;
		}
		*p = 0;
		r->status = 200;
		r->body = b;
		r->len = len;
		sim_resp_header(r, "Content-Type", "application/x-ndjson");
	} else if (!strcmp(what, "log") && !strcmp(meth, "DELETE")) {
		log_clear();
		stats_clear();
		ok(r, NULL, NULL);
	} else if (!strcmp(what, "faults") && !strcmp(meth, "POST")) {
		char err[256];
		int id = sim_fault_add(q->jbody, err, sizeof err);
		if (id < 0) {
			sim_resp_error(r, 400, "BadRequest", "%s", err);
			return;
		}
		json_object *o = json_object_new_object();
		jadd(o, "id", json_object_new_int(id));
		sim_resp_json(r, 200, o);
	} else if (!strcmp(what, "faults") && !strcmp(meth, "GET")) {
		sim_resp_json(r, 200, sim_fault_list());
	} else if (!strcmp(what, "faults") && !strcmp(meth, "DELETE")) {
		sim_fault_clear();
		ok(r, NULL, NULL);
	} else if (!strcmp(what, "clock") && (!strcmp(meth, "POST") || !strcmp(meth, "GET"))) {
		json_object *a;
		if (!strcmp(meth, "POST")) {
			if (!q->jbody || !json_object_object_get_ex(q->jbody, "advance", &a) ||
			    (!json_object_is_type(a, json_type_int) &&
			     !json_object_is_type(a, json_type_double)) ||
			    json_object_get_double(a) < 0) {
				sim_resp_error(r, 400, "BadRequest",
					       "advance (seconds, >= 0) is required");
				return;
			}
			sim_g.clock_offset += json_object_get_double(a);
			if (sim_model_tick(&sim_g.m, sim_now()))
				sim_state_save();
		}
		now_json(r);
	} else if (!strcmp(what, "grants") && !strcmp(meth, "GET")) {
		json_object *o = json_object_new_object();
		jadd(o, "value", sim_grant_list(&sim_g.m));
		sim_resp_json(r, 200, o);
	} else if (!strcmp(what, "grants/revoke") && !strcmp(meth, "POST")) {
		int n = sim_grant_revoke(&sim_g.m, sim_jget_str(q->jbody, "id"));
		sim_state_save();
		ok(r, "revoked", json_object_new_int(n));
	} else if (!strcmp(what, "mutate") && !strcmp(meth, "POST")) {
		mutate(q, r);
	} else if (!strcmp(what, "state") && !strcmp(meth, "GET")) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f || sim_json_state_write(&sim_g.m, f) || fclose(f)) {
			free(buf);
			sim_resp_error(r, 500, "InternalError", "cannot render the state");
			return;
		}
		r->status = 200;
		r->body = buf;
		r->len = len;
	} else if (!strcmp(what, "reset") && !strcmp(meth, "POST")) {
		char err[1024];
		sim_g.clock_offset = 0;
		struct sim_model nm = {0};
		if (sim_model_load_initial(&nm, 0, err, sizeof err)) {
			sim_model_clear(&nm);
			sim_resp_error(r, 500, "InternalError", "reset failed: %s", err);
			return;
		}
		sim_model_clear(&sim_g.m);
		sim_g.m = nm;
		log_clear();
		stats_clear();
		sim_fault_clear();
		sim_state_save();
		ok(r, NULL, NULL);
	} else {
		sim_resp_error(r, 404, "NotFound", "no control route %s %s", meth, q->path);
	}
}
