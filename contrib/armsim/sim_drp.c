/* sim_drp.c - disk restore points (DiskRP 2023-04-02 to 2025-01-02): list,
 * get, and beginGetAccess / endGetAccess as long-running operations
 * (202 + Location, final-state-via location), and the grants they make.
 *
 * One grant per disk restore point: beginGetAccess while it is active
 * extends it (expiry = now + durationInSeconds) and answers the same SAS
 * URL; endGetAccess, /_armsim/grants/revoke or armsim's clock passing the
 * expiry end it, and its SAS is refused from then on.  The grants live in
 * the model (struct sim_model.grants), so --state keeps them and
 * /_armsim/reset drops them.  Caller holds sim_g.lock.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The id of a disk restore point: POINT/diskRestorePoints/DISK_GUID. */
void sim_drp_id(char *out, size_t n, const char *point_id, const char *disk)
{
	char g[37];
	sim_guid_from(g, point_id, disk);
	snprintf(out, n, "%s/diskRestorePoints/%s_%s", point_id, disk, g);
}

/* Replication percent of disk i of p's VM (100 unless a copy is running). */
static int disk_percent(struct sim_model *m, const struct sim_point *p, int disk)
{
	const struct sim_vm *v = &m->vms[p->vm];
	int pct[SIM_MAX_DISKS], n = 0, k = 0;
	if (p->state == PS_CREATING)
		return 0;
	sim_point_progress(p, v, sim_now(), pct, &n);
	for (int i = 0; i < disk; i++)
		k += !(p->exclude & (1u << i));
	return k < n ? pct[k] : 100;
}

/* One DiskRestorePoint resource. */
static json_object *drp_json(struct sim_model *m, struct sim_coll *c, struct sim_point *p, int disk)
{
	const struct sim_vm *v = &m->vms[p->vm];
	const struct sim_disk *d = &v->disks[disk];
	char *pid = sim_point_id(m, c, p);
	char id[2048], t[64], g[37];
	json_object *o = json_object_new_object(), *pr = json_object_new_object();
	sim_drp_id(id, sizeof id, pid, d->name);
	jadd(o, "id", jstr(id));
	jadd(o, "name", jstr(strrchr(id, '/') + 1));
	jadd(o, "type",
	     jstr("Microsoft.Compute/restorePointCollections/restorePoints/"
		  "diskRestorePoints"));
	sim_fmt_time(p->created, t, sizeof t);
	jadd(pr, "timeCreated", jstr(t));
	if (p->source_rp) {
		sim_drp_id(id, sizeof id, p->source_rp, d->name);
		jadd(pr, "sourceResourceId", jstr(id));
	} else {
		jadd(pr, "sourceResourceId", jstr(d->id));
	}
	if (d->lun < 0) {
		jadd(pr, "osType", jstr(v->os_type));
		jadd(pr, "hyperVGeneration", jstr("V2"));
		json_object *cap = json_object_new_object();
		jadd(cap, "architecture", jstr("x64"));
		jadd(pr, "supportedCapabilities", cap);
	}
	sim_guid_from(g, d->id, "familyId");
	jadd(pr, "familyId", jstr(g));
	sim_guid_from(g, d->id, "uniqueId");
	jadd(pr, "sourceUniqueId", jstr(g));
	json_object *enc = json_object_new_object();
	if (d->des && !p->pmk) {
		jadd(enc, "diskEncryptionSetId", jstr(d->des));
		jadd(enc, "type", jstr("EncryptionAtRestWithCustomerKey"));
	} else {
		jadd(enc, "type", jstr("EncryptionAtRestWithPlatformKey"));
	}
	jadd(pr, "encryption", enc);
	jadd(pr, "supportsHibernation", json_object_new_boolean(0));
	jadd(pr, "networkAccessPolicy", jstr(d->nap ? d->nap : "AllowAll"));
	jadd(pr, "publicNetworkAccess", jstr("Enabled"));
	int pct = disk_percent(m, p, disk);
	int failed = p->state == PS_FAILED || (p->copy && p->copy->failed && pct < 100);
	jadd(pr, "completionPercent", json_object_new_int(pct));
	jadd(pr, "replicationState",
	     jstr(failed      ? "Failed"
		  : pct < 100 ? "InProgress"
			      : "Succeeded"));
	if (p->source_rp) {
		struct sim_coll *sc = NULL;
		sim_model_find_point_id(m, p->source_rp, &sc);
		if (sc)
			jadd(pr, "sourceResourceLocation", jstr(sc->location));
	}
	jadd(pr, "logicalSectorSize", json_object_new_int(512));
	jadd(o, "properties", pr);
	free(pid);
	return o;
}

/* Find the disk restore point id within point p; disk index or -1. */
static int disk_of(struct sim_model *m, struct sim_coll *c, struct sim_point *p, const char *name)
{
	if (p->vm < 0 || p->vm >= m->nvms)
		return -1;
	const struct sim_vm *v = &m->vms[p->vm];
	char *pid = sim_point_id(m, c, p);
	int found = -1;
	for (int i = 0; i < v->ndisks && found < 0; i++) {
		char id[2048];
		if (p->exclude & (1u << i))
			continue;
		sim_drp_id(id, sizeof id, pid, v->disks[i].name);
		if (!strcasecmp(strrchr(id, '/') + 1, name))
			found = i;
	}
	free(pid);
	return found;
}

/* The point, collection and disk index a disk restore point id names; 0 or -2. */
int sim_disk_find(struct sim_model *m, const char *drp_id, struct sim_coll **c,
		  struct sim_point **p, int *disk)
{
	const char *mark = drp_id ? strcasestr(drp_id, "/diskRestorePoints/") : NULL;
	if (!mark)
		return -2;
	char pid[2048];
	snprintf(pid, sizeof pid, "%.*s", (int)(mark - drp_id), drp_id);
	*p = sim_model_find_point_id(m, pid, c);
	if (!*p || (*p)->state == PS_DELETING)
		return -2;
	*disk = disk_of(m, *c, *p, mark + strlen("/diskRestorePoints/"));
	return *disk < 0 ? -2 : 0;
}

/* RFC 3339 UTC, whole seconds (a SAS's st and se). */
static void fmt_sas_time(double t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The SAS URL of a grant on the blob listener; 0, or -28 when n is too small. */
int sim_grant_sas(const struct sim_grant *g, char *out, size_t n)
{
	char st[32], se[32], sig[160], host[256] = "127.0.0.1";
	const char *l = sim_g.o.blob_listen, *colon = l ? strrchr(l, ':') : NULL;
	if (colon && colon > l) {
		snprintf(host, sizeof host, "%.*s", (int)(colon - l), l);
		if (!strcmp(host, "0.0.0.0") || !strcmp(host, "localhost"))
			snprintf(host, sizeof host, "127.0.0.1");
	}
	fmt_sas_time(g->st, st, sizeof st);
	fmt_sas_time(g->se, se, sizeof se);
	size_t k = 0;
	for (const char *s = g->sig; *s && k + 4 < sizeof sig; s++) {
		if (*s == '+' || *s == '/' || *s == '=')
			k += (size_t)snprintf(sig + k, sizeof sig - k, "%%%02X", (unsigned char)*s);
		else
			sig[k++] = *s;
	}
	sig[k] = 0;
	int w = snprintf(out, n, "%s://%s:%d/%s/abcd?sv=2021-08-06&sr=b&st=%s&se=%s&sp=r&sig=%s",
			 sim_g.tls ? "https" : "http", host, sim_g.blob_port, g->container, st, se,
			 sig);
	return w < 0 || (size_t)w >= n ? -28 : 0;
}

/* The grant of a disk restore point that is still active, or NULL (drops
 * an expired one). */
static struct sim_grant *grant_active(struct sim_model *m, const char *drp_id)
{
	for (int i = 0; i < m->ngrants; i++) {
		struct sim_grant *g = &m->grants[i];
		if (strcasecmp(g->drp_id, drp_id))
			continue;
		if (g->expires > sim_now())
			return g;
		free(g->drp_id);
		m->grants[i] = m->grants[--m->ngrants];
		return NULL;
	}
	return NULL;
}

/* A new grant for drp_id lasting dur seconds. */
static struct sim_grant *grant_new(struct sim_model *m, const char *drp_id, double dur)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char rnd[45];
	if (m->ngrants == m->capgrants) {
		m->capgrants = m->capgrants ? m->capgrants * 2 : 16;
		m->grants = realloc(m->grants, (size_t)m->capgrants * sizeof *m->grants);
		if (!m->grants)
			abort();
	}
	struct sim_grant *g = &m->grants[m->ngrants++];
	memset(g, 0, sizeof *g);
	sim_random_bytes(rnd, sizeof rnd);
	/* 32 random bytes in base64 (43 characters and one '='), as a SAS sig looks */
	for (int i = 0; i < 43; i++)
		g->sig[i] = b64[rnd[i] & 63];
	g->sig[43] = '=';
	for (int i = 0; i < 12; i++)
		g->container[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd[32 + i] % 36];
	g->drp_id = sim_xstrdup(drp_id);
	g->st = floor(sim_now());
	g->expires = sim_now() + dur;
	g->se = ceil(g->expires);
	return g;
}

/* The grant whose SAS carries sig, or NULL (expired ones included). */
struct sim_grant *sim_grant_by_sig(struct sim_model *m, const char *sig)
{
	for (int i = 0; sig && i < m->ngrants; i++)
		if (!strcmp(m->grants[i].sig, sig))
			return &m->grants[i];
	return NULL;
}

/* End the grant of id (every grant when id is NULL); how many were active. */
int sim_grant_revoke(struct sim_model *m, const char *id)
{
	int n = 0;
	for (int i = 0; i < m->ngrants;) {
		struct sim_grant *g = &m->grants[i];
		if (id && strcasecmp(g->drp_id, id)) {
			i++;
			continue;
		}
		n += g->expires > sim_now();
		free(g->drp_id);
		m->grants[i] = m->grants[--m->ngrants];
	}
	return n;
}

/* Free every grant. */
void sim_grant_clear(struct sim_model *m)
{
	for (int i = 0; i < m->ngrants; i++)
		free(m->grants[i].drp_id);
	free(m->grants);
	m->grants = NULL;
	m->ngrants = m->capgrants = 0;
}

/* The active grants, for GET /_armsim/grants. */
json_object *sim_grant_list(struct sim_model *m)
{
	json_object *a = json_object_new_array();
	for (int i = 0; i < m->ngrants; i++) {
		const struct sim_grant *g = &m->grants[i];
		char t[32];
		if (g->expires <= sim_now())
			continue;
		json_object *o = json_object_new_object();
		fmt_sas_time(g->expires, t, sizeof t);
		jadd(o, "diskRestorePointId", jstr(g->drp_id));
		jadd(o, "expiresOn", jstr(t));
		jadd(o, "grants", json_object_new_int(g->count));
		json_object_array_add(a, o);
	}
	return a;
}

/* 409 when the disk cannot be read yet (or ever); 0 when it can. */
static int grant_refused(struct sim_model *m, struct sim_resp *r, struct sim_point *p, int disk)
{
	const struct sim_disk *d = &m->vms[p->vm].disks[disk];
	int pct = disk_percent(m, p, disk);
	if (p->state == PS_CREATING) {
		sim_resp_error(r, 409, "OperationNotAllowed",
			       "The restore point is still being created; access to disk restore "
			       "point of disk '%s' can be granted once it has succeeded.",
			       d->name);
	} else if (p->state == PS_FAILED || (p->copy && p->copy->failed && pct < 100)) {
		sim_resp_error(r, 409, "OperationNotAllowed",
			       "The disk restore point of disk '%s' failed to replicate; access "
			       "cannot be granted.",
			       d->name);
	} else if (pct < 100) {
		sim_resp_error(r, 409, "OperationNotAllowed",
			       "The disk restore point of disk '%s' is still being replicated "
			       "(%d%% copied); access can be granted once the copy is complete.",
			       d->name, pct);
	} else if (d->nap && !strcasecmp(d->nap, "DenyAll")) {
		sim_resp_error(r, 409, "OperationNotAllowed",
			       "The disk restore point of disk '%s' has networkAccessPolicy "
			       "DenyAll: it cannot be exported.",
			       d->name);
	} else {
		return 0;
	}
	return -16;
}

/* DiskRestorePoint_GrantAccess: check the body, make or extend the grant. */
static void grant(struct sim_req *q, struct sim_resp *r, struct sim_coll *c, struct sim_point *p,
		  int disk, const char *drp_id)
{
	struct sim_model *m = &sim_g.m;
	json_object *acc = NULL, *dur = NULL;
	if (q->body_len && (!q->content_type || !strcasestr(q->content_type, "json"))) {
		sim_resp_error(r, 415, "UnsupportedMediaType",
			       "The content media type '%s' is not supported. Only "
			       "'application/json' is supported.",
			       q->content_type ? q->content_type : "");
		return;
	}
	if (q->body_bad || !q->jbody || !json_object_is_type(q->jbody, json_type_object)) {
		sim_resp_error(r, 400, "InvalidRequestContent",
			       "The request content was invalid and could not be deserialized.");
		return;
	}
	json_object_object_get_ex(q->jbody, "access", &acc);
	json_object_object_get_ex(q->jbody, "durationInSeconds", &dur);
	if (!acc || !json_object_is_type(acc, json_type_string) ||
	    strcasecmp(json_object_get_string(acc), "Read")) {
		sim_resp_error(r, 400, "InvalidParameter",
			       "The value of parameter 'access' is invalid: a disk restore point "
			       "can be granted 'Read' access only.");
		return;
	}
	if (!dur || !json_object_is_type(dur, json_type_int) || json_object_get_int64(dur) <= 0 ||
	    json_object_get_int64(dur) > 5 * 86400) {
		sim_resp_error(r, 400, "InvalidParameter",
			       "The value of parameter 'durationInSeconds' is invalid: an integer "
			       "from 1 to 432000 is required.");
		return;
	}
	if (grant_refused(m, r, p, disk))
		return;
	double secs = (double)json_object_get_int64(dur);
	struct sim_grant *g = grant_active(m, drp_id);
	if (g)
		g->expires = sim_now() + secs;
	else
		g = grant_new(m, drp_id, secs);
	g->count++;
	char sas[4096];
	sim_grant_sas(g, sas, sizeof sas);
	struct sim_op *op = sim_op_new(OP_DISK_GRANT, c->location, drp_id);
	op->result = sim_xstrdup(sas);
	int ra = (int)ceil(sim_g.o.grant_seconds);
	sim_arm_lro_headers(q, r, op, ra < sim_g.o.retry_after ? ra : sim_g.o.retry_after);
	r->status = 202;
	sim_state_save();
}

/* DiskRestorePoint_RevokeAccess: end the grant at once. */
static void revoke(struct sim_req *q, struct sim_resp *r, struct sim_coll *c, const char *drp_id)
{
	sim_grant_revoke(&sim_g.m, drp_id);
	struct sim_op *op = sim_op_new(OP_DISK_REVOKE, c->location, drp_id);
	int ra = (int)ceil(sim_g.o.grant_seconds);
	sim_arm_lro_headers(q, r, op, ra < sim_g.o.retry_after ? ra : sim_g.o.retry_after);
	r->status = 202;
	sim_state_save();
}

/* Answer a disk restore point route (authenticated, version checked). */
void sim_drp_handle(struct sim_req *q, struct sim_resp *r)
{
	struct sim_model *m = &sim_g.m;
	struct sim_coll *c = sim_model_find_coll(m, q->rg, q->coll, NULL);
	struct sim_point *p = c ? sim_coll_find_point(c, q->point, NULL) : NULL;
	if (!p || p->state == PS_DELETING || p->vm < 0 || p->vm >= m->nvms) {
		sim_resp_error(
		    r, 404, "ResourceNotFound",
		    "The Resource 'Microsoft.Compute/restorePointCollections/%s/restorePoints/%s' "
		    "under resource group '%s' was not found. For more details please go to "
		    "https://aka.ms/ARMResourceNotFoundFix",
		    q->coll, q->point, q->rg);
		return;
	}
	const struct sim_vm *v = &m->vms[p->vm];
	if (q->route == R_DRPS) {
		json_object *items[SIM_MAX_DISKS];
		int n = 0;
		for (int i = 0; i < v->ndisks; i++)
			if (!(p->exclude & (1u << i)))
				items[n++] = drp_json(m, c, p, i);
		sim_arm_page_out(q, r, items, n);
		return;
	}
	int disk = disk_of(m, c, p, q->drp);
	if (disk < 0) {
		sim_resp_error(r, 404, "ResourceNotFound",
			       "The Resource 'Microsoft.Compute/restorePointCollections/%s/"
			       "restorePoints/%s/diskRestorePoints/%s' under resource group '%s' "
			       "was not found. For more details please go to "
			       "https://aka.ms/ARMResourceNotFoundFix",
			       q->coll, q->point, q->drp, q->rg);
		return;
	}
	char *pid = sim_point_id(m, c, p);
	char id[2048];
	sim_drp_id(id, sizeof id, pid, v->disks[disk].name);
	free(pid);
	if (q->route == R_DRP)
		sim_resp_json(r, 200, drp_json(m, c, p, disk));
	else if (q->route == R_GRANT)
		grant(q, r, c, p, disk, id);
	else
		revoke(q, r, c, id);
}
