/* sim_json.c - renders the model as ARM's 2025-04-01 JSON shapes
 * (RestorePointCollection, RestorePoint with sourceMetadata and
 * instanceView, Microsoft.Resources subscription, location and resource
 * group) and as the /_armsim/state document.  Caller holds sim_g.lock. */
#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"id": id}. */
static json_object *idobj(const char *id)
{
	json_object *o = json_object_new_object();
	jadd(o, "id", jstr(id));
	return o;
}

/* An InstanceViewStatus. */
static json_object *status_obj(const char *code, const char *level, const char *display)
{
	json_object *s = json_object_new_object();
	jadd(s, "code", jstr(code));
	jadd(s, "level", jstr(level));
	jadd(s, "displayStatus", jstr(display));
	return s;
}

/* An InstanceViewStatus of level Error with a message (codes for a failed
 * copy are not documented: ReplicationState/failed is invented). */
static json_object *status_err(const char *code, const char *display, const char *msg)
{
	json_object *s = status_obj(code, "Error", display);
	jadd(s, "message", jstr(msg));
	return s;
}

/* --rg-case upper: the resource group of a Compute id in upper case, as
 * Compute often returns it (in place; other ids are left alone). */
static char *rg_case(char *id)
{
	char *p = id ? strcasestr(id, "/resourceGroups/") : NULL;

	if (!p || !sim_g.o.rg_upper || !strcasestr(id, "/providers/Microsoft.Compute/"))
		return id;
	for (p += 16; *p && *p != '/'; p++)
		*p = (char)toupper((unsigned char)*p);
	return id;
}

/* A JSON {"id": ID} with ID as Compute spells it. */
static json_object *idobj_case(const char *id)
{
	char *c = sim_xstrdup(id);
	json_object *o = idobj(rg_case(c));
	free(c);
	return o;
}

/* One RestorePointCollection. */
json_object *sim_json_coll(struct sim_model *m, struct sim_coll *c, int expand)
{
	json_object *o = json_object_new_object();
	char *id = rg_case(sim_coll_id(m, c));
	jadd(o, "name", jstr(c->name));
	jadd(o, "id", jstr(id));
	jadd(o, "type", jstr("Microsoft.Compute/restorePointCollections"));
	jadd(o, "location", jstr(c->location));
	jadd(o, "tags", json_object_get(c->tags));
	json_object *pr = json_object_new_object();
	json_object *src = idobj_case(c->source_id);
	jadd(src, "location", jstr(c->source_loc ? c->source_loc : ""));
	jadd(pr, "source", src);
	if (c->instant_access >= 0)
		jadd(pr, "instantAccess", jbool(c->instant_access));
	jadd(pr, "restorePointCollectionId", jstr(c->guid));
	jadd(pr, "provisioningState", jstr(c->deleting ? "Deleting" : "Succeeded"));
	if (expand) {
		json_object *a = json_object_new_array();
		for (int i = 0; i < c->npoints; i++)
			json_object_array_add(a, sim_json_point(m, c, c->points[i], 0));
		jadd(pr, "restorePoints", a);
	}
	jadd(o, "properties", pr);
	free(id);
	return o;
}

/* One disk of sourceMetadata.storageProfile. */
static json_object *disk_json(struct sim_model *m, const char *pid, const char *src_pid,
			      const struct sim_point *p, const struct sim_disk *d)
{
	json_object *o = json_object_new_object();
	if (d->lun >= 0)
		jadd(o, "lun", jint(d->lun));
	jadd(o, "name", jstr(d->name));
	jadd(o, "caching", jstr(d->caching));
	jadd(o, "diskSizeGB", jint(d->size_gb));
	json_object *md = json_object_new_object();
	jadd(md, "storageAccountType", jstr(d->sku));
	jadd(md, "id", jstr(d->id));
	if (d->des)
		jadd(md, "diskEncryptionSet", idobj(d->des));
	jadd(o, "managedDisk", md);
	char id[2048];
	sim_drp_id(id, sizeof id, pid, d->name);
	json_object *drp = idobj(id);
	json_object *enc = json_object_new_object();
	if (d->des && !p->pmk) {
		jadd(enc, "diskEncryptionSet", idobj(d->des));
		jadd(enc, "type", jstr("EncryptionAtRestWithCustomerKey"));
	} else {
		jadd(enc, "type", jstr("EncryptionAtRestWithPlatformKey"));
	}
	jadd(drp, "encryption", enc);
	if (src_pid) {
		sim_drp_id(id, sizeof id, src_pid, d->name);
		jadd(drp, "sourceDiskRestorePoint", idobj(id));
	}
	jadd(o, "diskRestorePoint", drp);
	jadd(o, "writeAcceleratorEnabled", jbool(0));
	(void)m;
	return o;
}

/* RestorePointSourceMetadata: the VM as it was when the point was taken. */
static json_object *source_metadata(struct sim_model *m, const char *pid, const struct sim_point *p,
				    const struct sim_vm *v)
{
	json_object *o = json_object_new_object();
	jadd(o, "vmId", jstr(v->vm_guid));
	json_object *hw = json_object_new_object();
	jadd(hw, "vmSize", jstr(v->size));
	jadd(o, "hardwareProfile", hw);
	json_object *sp = json_object_new_object();
	json_object *dd = json_object_new_array();
	for (int i = 0; i < v->ndisks; i++) {
		if (p->exclude & (1u << i))
			continue;
		json_object *dj = disk_json(m, pid, p->source_rp, p, &v->disks[i]);
		if (v->disks[i].lun < 0) {
			jadd(dj, "osType", jstr(v->os_type));
			jadd(sp, "osDisk", dj);
		} else {
			json_object_array_add(dd, dj);
		}
	}
	jadd(sp, "dataDisks", dd);
	jadd(sp, "diskControllerType", jstr("SCSI"));
	jadd(o, "storageProfile", sp);
	json_object *os = json_object_new_object();
	jadd(os, "computerName", jstr(v->name));
	jadd(os, "adminUsername", jstr("azureuser"));
	int win = !strcmp(v->os_type, "Windows");
	json_object *cfg = json_object_new_object();
	if (win) {
		jadd(cfg, "provisionVMAgent", jbool(1));
		jadd(cfg, "enableAutomaticUpdates", jbool(1));
		jadd(os, "windowsConfiguration", cfg);
	} else {
		jadd(cfg, "disablePasswordAuthentication", jbool(1));
		jadd(cfg, "provisionVMAgent", jbool(1));
		jadd(os, "linuxConfiguration", cfg);
	}
	jadd(os, "secrets", json_object_new_array());
	jadd(os, "allowExtensionOperations", jbool(1));
	jadd(os, "requireGuestProvisionSignal", jbool(1));
	jadd(o, "osProfile", os);
	json_object *diag = json_object_new_object();
	json_object *bd = json_object_new_object();
	jadd(bd, "enabled", jbool(1));
	jadd(diag, "bootDiagnostics", bd);
	jadd(o, "diagnosticsProfile", diag);
	json_object *sec = json_object_new_object();
	json_object *uefi = json_object_new_object();
	jadd(uefi, "secureBootEnabled", jbool(1));
	jadd(uefi, "vTpmEnabled", jbool(1));
	jadd(sec, "uefiSettings", uefi);
	jadd(sec, "securityType", jstr("TrustedLaunch"));
	jadd(o, "securityProfile", sec);
	jadd(o, "hyperVGeneration", jstr("V2"));
	jadd(o, "location", jstr(v->location));
	return o;
}

/* The instance view: replication status per disk and overall. */
static json_object *instance_view(struct sim_model *m, const char *pid, const struct sim_point *p,
				  const struct sim_vm *v)
{
	json_object *iv = json_object_new_object();
	json_object *arr = json_object_new_array();
	int pct[SIM_MAX_DISKS], n = 0, any_failed = 0, any_running = 0;
	double now = sim_now();
	sim_point_progress(p, v, now, pct, &n);
	int creating = p->state == PS_CREATING, failed_point = p->state == PS_FAILED;
	int k = 0;
	for (int i = 0; v && i < v->ndisks; i++) {
		if (p->exclude & (1u << i))
			continue;
		char id[2048];
		sim_drp_id(id, sizeof id, pid, v->disks[i].name);
		json_object *d = idobj(id);
		json_object *rs = json_object_new_object();
		int val = creating ? 0 : pct[k];
		int failed = failed_point || (p->copy && p->copy->failed && val < 100);
		if (failed) {
			any_failed = 1;
			jadd(
			    rs, "status",
			    status_err("ReplicationState/failed", "Failed",
				       "Replication of the disk restore point to the target region "
				       "failed."));
		} else if (val < 100) {
			any_running = 1;
			jadd(rs, "status",
			     status_obj("ReplicationState/inProgress", "Info", "In progress"));
			jadd(rs, "completionPercent", jint(val));
		} else {
			jadd(rs, "status",
			     status_obj("ReplicationState/succeeded", "Info", "Succeeded"));
			jadd(rs, "completionPercent", jint(100));
		}
		jadd(d, "replicationStatus", rs);
		jadd(d, "snapshotAccessState", jstr(failed || val < 100 ? "Pending" : "Available"));
		json_object_array_add(arr, d);
		k++;
	}
	jadd(iv, "diskRestorePoints", arr);
	json_object *st = json_object_new_array();
	if (failed_point)
		json_object_array_add(
		    st, status_err("ProvisioningState/failed/VMRestorePointClientError",
				   "Provisioning failed",
				   "Restore point creation failed: the VM agent did not take a "
				   "consistent snapshot of the disks."));
	if (any_failed)
		json_object_array_add(st,
				      status_err("ReplicationState/failed", "Failed",
						 "Replication of the restore point to the target "
						 "region failed."));
	else if (any_running)
		json_object_array_add(
		    st, status_obj("ReplicationState/inProgress", "Info", "In progress"));
	else
		json_object_array_add(
		    st, status_obj("ReplicationState/succeeded", "Info", "Succeeded"));
	jadd(iv, "statuses", st);
	(void)m;
	return iv;
}

/* One RestorePoint. */
json_object *sim_json_point(struct sim_model *m, struct sim_coll *c, struct sim_point *p, int iv)
{
	json_object *o = json_object_new_object();
	char *pid = rg_case(sim_point_id(m, c, p));
	const struct sim_vm *v = p->vm >= 0 && p->vm < m->nvms ? &m->vms[p->vm] : NULL;
	jadd(o, "name", jstr(p->name));
	jadd(o, "id", jstr(pid));
	jadd(o, "type", jstr("Microsoft.Compute/restorePointCollections/restorePoints"));
	json_object *pr = json_object_new_object();
	if (p->exclude && v) {
		json_object *ex = json_object_new_array();
		for (int i = 0; i < v->ndisks; i++)
			if (p->exclude & (1u << i))
				json_object_array_add(ex, idobj(v->disks[i].id));
		jadd(pr, "excludeDisks", ex);
	}
	if (p->source_rp)
		jadd(pr, "sourceRestorePoint", idobj_case(p->source_rp));
	if (v)
		jadd(pr, "sourceMetadata", source_metadata(m, pid, p, v));
	if (p->instant_access_min > 0)
		jadd(pr, "instantAccessDurationMinutes", jint(p->instant_access_min));
	jadd(pr, "provisioningState", jstr(sim_pstate_name(p->state)));
	jadd(pr, "consistencyMode", jstr(p->consistency ? p->consistency : "CrashConsistent"));
	char t[64];
	sim_fmt_time(p->created, t, sizeof t);
	jadd(pr, "timeCreated", jstr(t));
	if (iv)
		jadd(pr, "instanceView", instance_view(m, pid, p, v));
	jadd(o, "properties", pr);
	free(pid);
	return o;
}

/* The subscription (Microsoft.Resources shape). */
json_object *sim_json_subscription(struct sim_model *m)
{
	json_object *o = json_object_new_object();
	char id[256];
	snprintf(id, sizeof id, "/subscriptions/%s", m->sub);
	jadd(o, "id", jstr(id));
	jadd(o, "authorizationSource", jstr("RoleBased"));
	jadd(o, "managedByTenants", json_object_new_array());
	jadd(o, "subscriptionId", jstr(m->sub));
	jadd(o, "tenantId", jstr(m->tenant));
	jadd(o, "displayName", jstr(m->sub_name));
	jadd(o, "state", jstr("Enabled"));
	json_object *pol = json_object_new_object();
	jadd(pol, "locationPlacementId", jstr("Public_2014-09-01"));
	jadd(pol, "quotaId", jstr("PayAsYouGo_2014-09-01"));
	jadd(pol, "spendingLimit", jstr("Off"));
	jadd(o, "subscriptionPolicies", pol);
	return o;
}

/* One subscription location. */
json_object *sim_json_location(struct sim_model *m, const struct sim_loc *l)
{
	json_object *o = json_object_new_object();
	char id[512];
	snprintf(id, sizeof id, "/subscriptions/%s/locations/%s", m->sub, l->name);
	const struct sim_region *r = sim_region_find(l->name);
	jadd(o, "id", jstr(id));
	jadd(o, "name", jstr(l->name));
	jadd(o, "type", jstr("Region"));
	jadd(o, "displayName", jstr(l->display));
	char rd[160];
	snprintf(rd, sizeof rd, "(%s) %s", r ? r->geo : "US", l->display);
	jadd(o, "regionalDisplayName", jstr(rd));
	json_object *md = json_object_new_object();
	jadd(md, "regionType", jstr("Physical"));
	jadd(md, "regionCategory", jstr("Recommended"));
	jadd(md, "geographyGroup", jstr(r ? r->geo : "US"));
	if (r) {
		jadd(md, "longitude", jstr(r->lon));
		jadd(md, "latitude", jstr(r->lat));
		jadd(md, "physicalLocation", jstr(r->physical));
	}
	json_object *pair = json_object_new_array();
	if (r && *r->paired) {
		json_object *pe = json_object_new_object();
		snprintf(id, sizeof id, "/subscriptions/%s/locations/%s", m->sub, r->paired);
		jadd(pe, "name", jstr(r->paired));
		jadd(pe, "id", jstr(id));
		json_object_array_add(pair, pe);
	}
	jadd(md, "pairedRegion", pair);
	jadd(o, "metadata", md);
	return o;
}

/* One resource group. */
json_object *sim_json_rg(struct sim_model *m, struct sim_rg *g)
{
	json_object *o = json_object_new_object();
	char id[512];
	snprintf(id, sizeof id, "/subscriptions/%s/resourceGroups/%s", m->sub, g->name);
	jadd(o, "id", jstr(id));
	jadd(o, "name", jstr(g->name));
	jadd(o, "type", jstr("Microsoft.Resources/resourceGroups"));
	jadd(o, "location", jstr(g->location));
	jadd(o, "tags", json_object_get(g->tags));
	json_object *pr = json_object_new_object();
	jadd(pr, "provisioningState", jstr("Succeeded"));
	jadd(o, "properties", pr);
	return o;
}

/* A point in the state (seed) format. */
static json_object *state_point(struct sim_model *m, struct sim_coll *c, struct sim_point *p,
				int coll_vm)
{
	json_object *o = json_object_new_object();
	char *pid = sim_point_id(m, c, p);
	const struct sim_vm *v = p->vm >= 0 && p->vm < m->nvms ? &m->vms[p->vm] : NULL;
	char t[64];
	jadd(o, "id", jstr(pid));
	jadd(o, "name", jstr(p->name));
	jadd(o, "provisioningState", jstr(sim_pstate_name(p->state)));
	jadd(o, "consistencyMode", jstr(p->consistency ? p->consistency : "CrashConsistent"));
	sim_fmt_time(p->created, t, sizeof t);
	jadd(o, "timeCreated", jstr(t));
	if (p->state == PS_CREATING) {
		sim_fmt_time(p->ready_at, t, sizeof t);
		jadd(o, "readyAt", jstr(t));
		if (p->fail_create)
			jadd(o, "failCreate", jbool(1));
	}
	if (p->state == PS_DELETING) {
		sim_fmt_time(p->del_at, t, sizeof t);
		jadd(o, "deleteAt", jstr(t));
	}
	jadd(o, "sourceRestorePoint", p->source_rp ? jstr(p->source_rp) : NULL);
	if (v && p->vm != coll_vm)
		jadd(o, "vm", jstr(v->id));
	if (p->pmk)
		jadd(o, "platformKeys", jbool(1));
	if (p->instant_access_min > 0)
		jadd(o, "instantAccessDurationMinutes", jint(p->instant_access_min));
	json_object *ex = json_object_new_array();
	json_object *disks = json_object_new_array();
	for (int i = 0; v && i < v->ndisks; i++) {
		if (p->exclude & (1u << i)) {
			json_object_array_add(ex, jstr(v->disks[i].id));
			continue;
		}
		json_object *d = json_object_new_object();
		jadd(d, "name", jstr(v->disks[i].name));
		if (v->disks[i].lun >= 0)
			jadd(d, "lun", jint(v->disks[i].lun));
		if (v->disks[i].des && !p->pmk)
			jadd(d, "encryption", jstr("EncryptionAtRestWithCustomerKey"));
		json_object_array_add(disks, d);
	}
	jadd(o, "excludeDisks", ex);
	jadd(o, "disks", disks);
	if (p->copy) {
		int pct[SIM_MAX_DISKS], n = 0;
		sim_point_progress(p, v, sim_now(), pct, &n);
		json_object *pa = json_object_new_array();
		for (int i = 0; i < n; i++)
			json_object_array_add(
			    pa, jint(p->state == PS_CREATING ? p->copy->pct0[i] : pct[i]));
		jadd(o, "progress", pa);
		jadd(o, "copyFailed", jbool(p->copy->failed));
	} else {
		jadd(o, "progress", NULL);
	}
	free(pid);
	return o;
}

/* The state document without its collections. */
static json_object *sim_json_state_head(struct sim_model *m)
{
	json_object *o = json_object_new_object();
	char t[64];
	jadd(o, "subscription", jstr(m->sub));
	jadd(o, "displayName", jstr(m->sub_name));
	jadd(o, "tenant", jstr(m->tenant));
	sim_fmt_time(sim_now(), t, sizeof t);
	jadd(o, "now", jstr(t));
	json_object *a = json_object_new_array();
	for (int i = 0; i < m->nlocs; i++) {
		json_object *l = json_object_new_object();
		jadd(l, "name", jstr(m->locs[i].name));
		jadd(l, "displayName", jstr(m->locs[i].display));
		json_object_array_add(a, l);
	}
	jadd(o, "locations", a);
	a = json_object_new_array();
	for (int i = 0; i < m->nrgs; i++) {
		json_object *g = json_object_new_object();
		jadd(g, "name", jstr(m->rgs[i].name));
		jadd(g, "location", jstr(m->rgs[i].location));
		jadd(g, "tags", json_object_get(m->rgs[i].tags));
		json_object_array_add(a, g);
	}
	jadd(o, "resourceGroups", a);
	a = json_object_new_array();
	for (int i = 0; i < m->nvms; i++) {
		struct sim_vm *v = &m->vms[i];
		json_object *vj = json_object_new_object();
		jadd(vj, "id", jstr(v->id));
		jadd(vj, "name", jstr(v->name));
		jadd(vj, "resourceGroup", jstr(v->rg));
		jadd(vj, "location", jstr(v->location));
		jadd(vj, "osType", jstr(v->os_type));
		jadd(vj, "vmSize", jstr(v->size));
		jadd(vj, "vmId", jstr(v->vm_guid));
		json_object *dl = json_object_new_array();
		for (int d = 0; d < v->ndisks; d++) {
			json_object *dj = json_object_new_object();
			jadd(dj, "name", jstr(v->disks[d].name));
			if (v->disks[d].lun >= 0)
				jadd(dj, "lun", jint(v->disks[d].lun));
			jadd(dj, "sizeGB", jint(v->disks[d].size_gb));
			jadd(dj, "storageAccountType", jstr(v->disks[d].sku));
			jadd(dj, "caching", jstr(v->disks[d].caching));
			if (v->disks[d].des)
				jadd(dj, "diskEncryptionSet", jstr(v->disks[d].des));
			if (v->disks[d].nap)
				jadd(dj, "networkAccessPolicy", jstr(v->disks[d].nap));
			if (v->disks[d].nalloc >= 0) {
				json_object *al = json_object_new_array();
				for (int k = 0; k < v->disks[d].nalloc; k++) {
					json_object *e = json_object_new_array();
					json_object_array_add(
					    e, json_object_new_int64(
						   (int64_t)v->disks[d].alloc[k][0]));
					json_object_array_add(
					    e, json_object_new_int64(
						   (int64_t)v->disks[d].alloc[k][1]));
					json_object_array_add(al, e);
				}
				jadd(dj, "allocated", al);
			}
			json_object_array_add(dl, dj);
		}
		jadd(vj, "disks", dl);
		json_object_array_add(a, vj);
	}
	jadd(o, "vms", a);
	a = json_object_new_array();
	for (int i = 0; i < m->ngrants; i++) {
		const struct sim_grant *g = &m->grants[i];
		if (g->expires <= sim_now())
			continue;
		json_object *gj = json_object_new_object();
		jadd(gj, "id", jstr(g->drp_id));
		jadd(gj, "sig", jstr(g->sig));
		jadd(gj, "container", jstr(g->container));
		sim_fmt_time(g->st, t, sizeof t);
		jadd(gj, "st", jstr(t));
		sim_fmt_time(g->se, t, sizeof t);
		jadd(gj, "se", jstr(t));
		sim_fmt_time(g->expires, t, sizeof t);
		jadd(gj, "expires", jstr(t));
		jadd(gj, "count", jint(g->count));
		json_object_array_add(a, gj);
	}
	jadd(o, "grants", a);
	return o;
}

/* One collection in the state format. */
static json_object *state_coll(struct sim_model *m, struct sim_coll *c)
{
	char t[64];
	json_object *cj = json_object_new_object();
	char *cid = sim_coll_id(m, c);
	jadd(cj, "id", jstr(cid));
	free(cid);
	jadd(cj, "name", jstr(c->name));
	jadd(cj, "resourceGroup", jstr(c->rg));
	jadd(cj, "location", jstr(c->location));
	json_object *src = idobj(c->source_id);
	jadd(src, "location", jstr(c->source_loc ? c->source_loc : ""));
	jadd(cj, "source", src);
	jadd(cj, "tags", json_object_get(c->tags));
	jadd(cj, "restorePointCollectionId", jstr(c->guid));
	jadd(cj, "provisioningState", jstr(c->deleting ? "Deleting" : "Succeeded"));
	if (c->deleting) {
		sim_fmt_time(c->del_at, t, sizeof t);
		jadd(cj, "deleteAt", jstr(t));
	}
	if (c->instant_access >= 0)
		jadd(cj, "instantAccess", jbool(c->instant_access));
	int cvm = sim_coll_vm(m, c);
	json_object *pa = json_object_new_array();
	for (int k = 0; k < c->npoints; k++)
		json_object_array_add(pa, state_point(m, c, c->points[k], cvm));
	jadd(cj, "points", pa);
	return cj;
}

/* Write the state document to f one collection at a time, so that a large
 * model is never all in JSON objects at once; 0 or -EIO. */
int sim_json_state_write(struct sim_model *m, FILE *f)
{
	json_object *o = sim_json_state_head(m);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	fwrite(s, 1, strlen(s) - 1, f); /* without the closing brace */
	json_object_put(o);
	fputs(",\"collections\":[", f);
	for (int i = 0; i < m->ncolls; i++) {
		json_object *cj = state_coll(m, m->colls[i]);
		if (i)
			fputc(',', f);
		fputs(json_object_to_json_string_ext(cj, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE),
		      f);
		json_object_put(cj);
	}
	fputs("]}", f);
	return ferror(f) ? -EIO : 0;
}
