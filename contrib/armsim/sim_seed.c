/* sim_seed.c - loading a subscription from JSON (--seed, --state) and
 * saving it atomically (--state).
 *
 * The seed format is the /_armsim/state document (armsim(1) describes it);
 * most fields are optional and filled in from the rest, so a seed can be as
 * small as a collection with a VM id and a few point names.  Every problem
 * is reported with the JSON path where it was found.  The state file is
 * written to a temporary file, flushed and renamed, so a crash leaves the
 * previous state whole.  Caller holds sim_g.lock.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SUB "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20"
#define DEFAULT_TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"

/* Build a JSON path; a path too long to hold ends in '~'. */
#define PATHF(buf, ...)                                                                            \
	do {                                                                                       \
		if (snprintf(buf, sizeof buf, __VA_ARGS__) >= (int)sizeof buf)                     \
			buf[sizeof buf - 2] = '~';                                                 \
	} while (0)

struct ld {
	char *err;
	size_t errn;
	double now;
};

/* Record a problem at a JSON path; returns -22. */
static int bad(struct ld *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct ld *l, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errn, "%s: %s", path, msg);
	return -22;
}

/* A field of an object, or NULL. */
static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, k, &v);
	return v;
}

/* A string field: 0 absent, 1 found, -22 wrong type. */
static int str_field(struct ld *l, json_object *o, const char *path, const char *k,
		     const char **out)
{
	json_object *v = get(o, k);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		char p[1024];
		PATHF(p, "%s.%s", path, k);
		return bad(l, p, "expected a string");
	}
	*out = json_object_get_string(v);
	return 1;
}

/* A date-time field: 0 absent, 1 found, -22 bad. */
static int time_field(struct ld *l, json_object *o, const char *path, const char *k, double *out)
{
	const char *s;
	int rc = str_field(l, o, path, k, &s);
	if (rc <= 0)
		return rc;
	if (sim_parse_time(s, out)) {
		char p[1024];
		PATHF(p, "%s.%s", path, k);
		return bad(
		    l, p,
		    "expected a UTC date-time such as 2026-01-27T20:35:05.8401519+00:00, got '%s'",
		    s);
	}
	return 1;
}

/* An integer field: 0 absent, 1 found, -22 bad. */
static int int_field(struct ld *l, json_object *o, const char *path, const char *k, int *out)
{
	json_object *v = get(o, k);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int)) {
		char p[1024];
		PATHF(p, "%s.%s", path, k);
		return bad(l, p, "expected an integer");
	}
	*out = json_object_get_int(v);
	return 1;
}

/* An array field: 0 absent, 1 found, -22 bad. */
static int array_field(struct ld *l, json_object *o, const char *path, const char *k,
		       json_object **out)
{
	json_object *v = get(o, k);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array)) {
		char p[1024];
		PATHF(p, "%s.%s", path, k);
		return bad(l, p, "expected an array");
	}
	*out = v;
	return 1;
}

static int load_grants(struct ld *l, struct sim_model *m, json_object *a);

/* One entry of $.vms. */
static int load_vm(struct ld *l, struct sim_model *m, json_object *o, const char *path)
{
	const char *id, *name, *rg, *loc, *os, *size, *vmid;
	if (!json_object_is_type(o, json_type_object))
		return bad(l, path, "expected an object");
	if (str_field(l, o, path, "id", &id) < 0 || str_field(l, o, path, "name", &name) < 0 ||
	    str_field(l, o, path, "resourceGroup", &rg) < 0 ||
	    str_field(l, o, path, "location", &loc) < 0 ||
	    str_field(l, o, path, "osType", &os) < 0 ||
	    str_field(l, o, path, "vmSize", &size) < 0 || str_field(l, o, path, "vmId", &vmid) < 0)
		return -22;
	char rgb[256] = "", nameb[256] = "";
	if (id) {
		const char *r = strcasestr(id, "/resourceGroups/");
		const char *n = strrchr(id, '/');
		if (!r || !n || !strcasestr(id, "/providers/Microsoft.Compute/virtualMachines/"))
			return bad(l, path, "id '%s' is not a virtual machine id", id);
		r += 16;
		snprintf(rgb, sizeof rgb, "%.*s", (int)(strchr(r, '/') - r), r);
		snprintf(nameb, sizeof nameb, "%s", n + 1);
	}
	if (!name)
		name = nameb;
	if (!rg)
		rg = rgb;
	if (!*name || !*rg)
		return bad(l, path, "a VM needs an id, or a name and a resourceGroup");
	if (!loc)
		return bad(l, path, "location is required");
	if (os && strcmp(os, "Linux") && strcmp(os, "Windows"))
		return bad(l, path, "osType must be Linux or Windows");
	if (sim_model_find_vm(m, id) >= 0)
		return bad(l, path, "duplicate VM '%s'", id);
	struct sim_vm *v = sim_model_add_vm(m, rg, name, loc, os, size);
	if (vmid) {
		free(v->vm_guid);
		v->vm_guid = sim_xstrdup(vmid);
	}
	json_object *disks;
	if (array_field(l, o, path, "disks", &disks) < 0)
		return -22;
	for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
		char p[1024];
		PATHF(p, "%s.disks[%zu]", path, i);
		json_object *d = json_object_array_get_idx(disks, i);
		const char *dn, *sku, *cach, *des, *nap;
		int lun = -1, size_gb = 128;
		if (!json_object_is_type(d, json_type_object))
			return bad(l, p, "expected an object");
		if (str_field(l, d, p, "name", &dn) < 0 ||
		    str_field(l, d, p, "storageAccountType", &sku) < 0 ||
		    str_field(l, d, p, "caching", &cach) < 0 ||
		    str_field(l, d, p, "diskEncryptionSet", &des) < 0 ||
		    str_field(l, d, p, "networkAccessPolicy", &nap) < 0 ||
		    int_field(l, d, p, "lun", &lun) < 0 ||
		    int_field(l, d, p, "sizeGB", &size_gb) < 0)
			return -22;
		if (!dn)
			return bad(l, p, "name is required");
		if ((lun < 0) != (i == 0))
			return bad(l, p,
				   "the first disk is the OS disk (no lun); data disks need a lun");
		if (v->ndisks >= SIM_MAX_DISKS)
			return bad(l, p, "at most %d disks per VM", SIM_MAX_DISKS);
		sim_vm_add_disk(v, dn, lun, size_gb, sku, cach, des);
		struct sim_disk *sd = &v->disks[v->ndisks - 1];
		if (nap && strcmp(nap, "AllowAll") && strcmp(nap, "AllowPrivate") &&
		    strcmp(nap, "DenyAll"))
			return bad(l, p,
				   "networkAccessPolicy must be AllowAll, AllowPrivate or DenyAll");
		sd->nap = nap ? sim_xstrdup(nap) : NULL;
		json_object *al;
		if (array_field(l, d, p, "allocated", &al) < 0)
			return -22;
		if (al) {
			char e[256];
			if (sim_disk_alloc_parse(al, (int64_t)size_gb << 30, &sd->alloc,
						 &sd->nalloc, e, sizeof e))
				return bad(l, p, "allocated%s", e);
		}
	}
	if (v->ndisks == 0) {
		char dn[300], g[37];
		sim_guid_from(g, v->id, "os");
		snprintf(dn, sizeof dn, "%s_OsDisk_1_%.8s%.4s", v->name, g, g + 9);
		sim_vm_add_disk(v, dn, -1, 64, "Premium_LRS", "ReadWrite", NULL);
	}
	return 0;
}

/* A VM referred to by a collection but not described: give it an OS disk. */
static int auto_vm(struct sim_model *m, const char *id, const char *loc)
{
	const char *r = strcasestr(id, "/resourceGroups/");
	const char *n = strrchr(id, '/');
	if (!r || !n)
		return -1;
	r += 16;
	const char *e = strchr(r, '/');
	char rg[256];
	snprintf(rg, sizeof rg, "%.*s", (int)(e - r), r);
	struct sim_vm *v = sim_model_add_vm(m, rg, n + 1, loc, "Linux", "Standard_D2s_v5");
	char dn[300], g[37];
	sim_guid_from(g, v->id, "os");
	snprintf(dn, sizeof dn, "%s_OsDisk_1_%.8s%.4s", v->name, g, g + 9);
	sim_vm_add_disk(v, dn, -1, 64, "Premium_LRS", "ReadWrite", NULL);
	return m->nvms - 1;
}

/* One point of a collection (VM and progress are resolved later). */
static int load_point(struct ld *l, struct sim_model *m, struct sim_coll *c, json_object *o,
		      const char *path)
{
	const char *name, *id, *state, *cm, *src, *vm;
	if (!json_object_is_type(o, json_type_object))
		return bad(l, path, "expected an object");
	if (str_field(l, o, path, "name", &name) < 0 || str_field(l, o, path, "id", &id) < 0 ||
	    str_field(l, o, path, "provisioningState", &state) < 0 ||
	    str_field(l, o, path, "consistencyMode", &cm) < 0 ||
	    str_field(l, o, path, "vm", &vm) < 0)
		return -22;
	json_object *srcj = get(o, "sourceRestorePoint");
	src = NULL;
	if (srcj && json_object_is_type(srcj, json_type_object)) {
		if (str_field(l, srcj, path, "id", &src) < 0)
			return -22;
	} else if (srcj && json_object_is_type(srcj, json_type_string)) {
		src = json_object_get_string(srcj);
	} else if (srcj) {
		return bad(l, path,
			   "sourceRestorePoint must be an id string, {\"id\":...} or null");
	}
	if (!name && id) {
		const char *s = strrchr(id, '/');
		name = s ? s + 1 : id;
	}
	if (!name)
		return bad(l, path, "name (or id) is required");
	if (!sim_name_valid(name))
		return bad(l, path, "invalid restore point name '%s'", name);
	if (sim_coll_find_point(c, name, NULL))
		return bad(l, path, "duplicate restore point '%s' in collection '%s'", name,
			   c->name);
	enum sim_pstate ps = PS_SUCCEEDED;
	if (state) {
		if (!strcmp(state, "Creating"))
			ps = PS_CREATING;
		else if (!strcmp(state, "Succeeded"))
			ps = PS_SUCCEEDED;
		else if (!strcmp(state, "Failed"))
			ps = PS_FAILED;
		else if (!strcmp(state, "Deleting"))
			ps = PS_DELETING;
		else
			return bad(l, path,
				   "provisioningState must be Creating, Succeeded, Failed or "
				   "Deleting, got '%s'",
				   state);
	}
	struct sim_point *p = sim_coll_add_point(c, name);
	p->state = ps;
	p->consistency = sim_xstrdup(cm);
	p->created = l->now;
	p->source_rp = sim_xstrdup(src);
	if (time_field(l, o, path, "timeCreated", &p->created) < 0)
		return -22;
	p->ready_at = l->now + sim_g.o.create_seconds;
	p->del_at = l->now + sim_g.o.delete_seconds;
	if (time_field(l, o, path, "readyAt", &p->ready_at) < 0 ||
	    time_field(l, o, path, "deleteAt", &p->del_at) < 0 ||
	    int_field(l, o, path, "instantAccessDurationMinutes", &p->instant_access_min) < 0)
		return -22;
	json_object *b;
	if ((b = get(o, "failCreate")))
		p->fail_create = json_object_get_boolean(b);
	if ((b = get(o, "platformKeys")))
		p->pmk = json_object_get_boolean(b);
	if (vm) {
		p->vm = sim_model_find_vm(m, vm);
		if (p->vm < 0)
			return bad(l, path, "vm '%s' is not in $.vms", vm);
	}
	json_object *ex;
	if (array_field(l, o, path, "excludeDisks", &ex) < 0)
		return -22;
	/* excludeDisks, progress and copyFailed are resolved once the VM is known */
	json_object *pr;
	if (array_field(l, o, path, "progress", &pr) < 0)
		return -22;
	for (size_t i = 0; pr && i < json_object_array_length(pr); i++) {
		json_object *x = json_object_array_get_idx(pr, i);
		int val = json_object_get_int(x);
		if (!json_object_is_type(x, json_type_int) || val < 0 || val > 100) {
			char pp[1024];
			PATHF(pp, "%s.progress[%zu]", path, i);
			return bad(l, pp, "expected an integer from 0 to 100");
		}
	}
	if (ps == PS_CREATING)
		sim_model_note_event(m, p->ready_at);
	if (ps == PS_DELETING)
		sim_model_note_event(m, p->del_at);
	return 0;
}

/* Second pass over a point: its VM, excluded disks and copy progress. */
static int finish_point(struct ld *l, struct sim_model *m, int coll_vm, struct sim_point *p,
			json_object *o, const char *path)
{
	if (p->vm < 0 && p->source_rp) {
		struct sim_point *sp = sim_model_find_point_id(m, p->source_rp, NULL);
		if (sp && sp->vm >= 0)
			p->vm = sp->vm;
	}
	if (p->vm < 0)
		p->vm = coll_vm;
	if (p->vm < 0)
		return bad(l, path,
			   "the VM of this restore point is unknown (give \"vm\", or a collection "
			   "whose source is a VM)");
	struct sim_vm *v = &m->vms[p->vm];
	if (!p->consistency)
		p->consistency =
		    sim_xstrdup(!strcmp(v->os_type, "Windows") ? "ApplicationConsistent"
							       : "FileSystemConsistent");
	json_object *ex = get(o, "excludeDisks");
	for (size_t i = 0; ex && i < json_object_array_length(ex); i++) {
		json_object *e = json_object_array_get_idx(ex, i);
		const char *did = json_object_is_type(e, json_type_string)
				      ? json_object_get_string(e)
				      : json_object_get_string(get(e, "id"));
		int found = 0;
		for (int d = 0; did && d < v->ndisks; d++)
			if (!strcasecmp(v->disks[d].id, did) ||
			    !strcasecmp(v->disks[d].name, did)) {
				p->exclude |= 1u << d;
				found = 1;
			}
		if (!found) {
			char pp[1024];
			PATHF(pp, "%s.excludeDisks[%zu]", path, i);
			return bad(l, pp, "not a disk of VM '%s'", v->id);
		}
	}
	if (p->source_rp) {
		if (!get(o, "platformKeys")) {
			for (int d = 0; d < v->ndisks; d++)
				if (v->disks[d].des && !(p->exclude & (1u << d)))
					p->pmk = 1;
		}
		double base = p->state == PS_CREATING ? p->ready_at : l->now;
		sim_point_start_copy(p, v, base, sim_g.o.copy_seconds);
		json_object *pr = get(o, "progress");
		for (size_t i = 0; pr && i < json_object_array_length(pr) && i < SIM_MAX_DISKS; i++)
			p->copy->pct0[i] =
			    (unsigned char)json_object_get_int(json_object_array_get_idx(pr, i));
		if (!pr && p->state != PS_CREATING)
			memset(p->copy->pct0, 100, sizeof p->copy->pct0);
		json_object *f = get(o, "copyFailed");
		p->copy->failed = f ? json_object_get_boolean(f) : 0;
		if (p->copy->failed)
			p->copy->dur = INFINITY; /* a failed copy stops moving */
	}
	return 0;
}

/* One entry of $.collections with its points. */
static int load_coll(struct ld *l, struct sim_model *m, json_object *o, const char *path)
{
	const char *id, *name, *rg, *loc, *guid, *state, *src = NULL;
	if (!json_object_is_type(o, json_type_object))
		return bad(l, path, "expected an object");
	if (str_field(l, o, path, "id", &id) < 0 || str_field(l, o, path, "name", &name) < 0 ||
	    str_field(l, o, path, "resourceGroup", &rg) < 0 ||
	    str_field(l, o, path, "location", &loc) < 0 ||
	    str_field(l, o, path, "restorePointCollectionId", &guid) < 0 ||
	    str_field(l, o, path, "provisioningState", &state) < 0)
		return -22;
	char rgb[300] = "", nb[300] = "", pb[300];
	if (id) {
		int rc = sim_id_split(id, rgb, sizeof rgb, nb, sizeof nb, pb, sizeof pb);
		if (rc == -2)
			return bad(l, path,
				   "id '%s' is in another subscription than $.subscription", id);
		if (rc || *pb)
			return bad(l, path, "id '%s' is not a restore point collection id", id);
	}
	if (!name)
		name = nb;
	if (!rg)
		rg = rgb;
	if (!*name || !*rg)
		return bad(l, path, "a collection needs an id, or a name and a resourceGroup");
	if (!sim_name_valid(name))
		return bad(l, path, "invalid collection name '%s'", name);
	if (!loc)
		return bad(l, path, "location is required");
	json_object *sj = get(o, "source");
	if (sj && json_object_is_type(sj, json_type_string))
		src = json_object_get_string(sj);
	else if (sj && str_field(l, sj, path, "id", &src) < 0)
		return -22;
	if (!src || !*src)
		return bad(l, path, "source.id is required");
	if (sim_model_find_coll(m, rg, name, NULL))
		return bad(l, path, "duplicate collection '%s' in resource group '%s'", name, rg);
	if (!sim_model_find_rg(m, rg))
		sim_model_add_rg(m, rg, loc);
	char lb[64];
	sim_lower_loc(loc, lb, sizeof lb);
	sim_model_add_loc(m, lb, NULL);
	if (strcasestr(src, "/virtualMachines/") && sim_model_find_vm(m, src) < 0 &&
	    auto_vm(m, src, lb) < 0)
		return bad(l, path, "source.id '%s' is not a VM id", src);
	struct sim_coll *c = sim_model_add_coll(m, rg, name, lb, src);
	if (guid)
		snprintf(c->guid, sizeof c->guid, "%s", guid);
	json_object *t = get(o, "tags");
	if (t) {
		if (!json_object_is_type(t, json_type_object))
			return bad(l, path, "tags must be an object");
		json_object_put(c->tags);
		c->tags = json_object_get(t);
	}
	json_object *ia = get(o, "instantAccess");
	if (ia)
		c->instant_access = json_object_get_boolean(ia);
	if (state && !strcmp(state, "Deleting")) {
		c->deleting = 1;
		c->del_at = l->now + sim_g.o.delete_seconds;
		if (time_field(l, o, path, "deleteAt", &c->del_at) < 0)
			return -22;
		sim_model_note_event(m, c->del_at);
	}
	json_object *pts;
	if (array_field(l, o, path, "points", &pts) < 0)
		return -22;
	for (size_t i = 0; pts && i < json_object_array_length(pts); i++) {
		char p[1024];
		PATHF(p, "%s.points[%zu]", path, i);
		if (load_point(l, m, c, json_object_array_get_idx(pts, i), p))
			return -22;
	}
	return 0;
}

/* Load a model from a parsed seed/state document. */
int sim_seed_load_json(struct sim_model *m, json_object *root, char *err, size_t errn)
{
	struct ld l = {err, errn, sim_now()};
	const char *sub, *tenant, *dn, *now;
	sim_model_clear(m);
	if (!json_object_is_type(root, json_type_object))
		return bad(&l, "$", "expected an object");
	if (str_field(&l, root, "$", "subscription", &sub) < 0 ||
	    str_field(&l, root, "$", "tenant", &tenant) < 0 ||
	    str_field(&l, root, "$", "displayName", &dn) < 0 ||
	    str_field(&l, root, "$", "now", &now) < 0)
		return -22;
	double saved_now;
	if (now && !sim_parse_time(now, &saved_now) && saved_now > l.now) {
		sim_g.clock_offset += saved_now - l.now;
		l.now = sim_now();
	}
	m->sub = sim_xstrdup(sub ? sub : DEFAULT_SUB);
	m->tenant = sim_xstrdup(tenant ? tenant : sim_g.o.tenant ? sim_g.o.tenant : DEFAULT_TENANT);
	m->sub_name = sim_xstrdup(dn ? dn : "Contoso Production");
	json_object *a;
	if (array_field(&l, root, "$", "locations", &a) < 0)
		return -22;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		char p[64];
		PATHF(p, "$.locations[%zu]", i);
		if (json_object_is_type(x, json_type_string)) {
			sim_model_add_loc(m, json_object_get_string(x), NULL);
		} else {
			const char *n, *d;
			if (str_field(&l, x, p, "name", &n) < 0 ||
			    str_field(&l, x, p, "displayName", &d) < 0)
				return -22;
			if (!n)
				return bad(&l, p, "expected a location name or {\"name\":...}");
			sim_model_add_loc(m, n, d);
		}
	}
	if (!a)
		for (int i = 0; i < sim_region_count(); i++)
			sim_model_add_loc(m, sim_region_at(i)->name, NULL);
	if (array_field(&l, root, "$", "clients", &a) < 0)
		return -22;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		const char *cid, *sec;
		char p[64];
		PATHF(p, "$.clients[%zu]", i);
		if (str_field(&l, x, p, "id", &cid) < 0 || str_field(&l, x, p, "secret", &sec) < 0)
			return -22;
		if (!cid || !sec)
			return bad(&l, p, "a client needs an id and a secret");
		int dup = 0;
		for (int k = 0; k < sim_g.o.nclients; k++)
			dup |= !strncmp(sim_g.o.clients[k], cid, strlen(cid)) &&
			       sim_g.o.clients[k][strlen(cid)] == ':';
		if (!dup && sim_g.o.nclients < 16) {
			char buf[512];
			snprintf(buf, sizeof buf, "%s:%s", cid, sec);
			sim_g.o.clients[sim_g.o.nclients++] = sim_xstrdup(buf);
		}
	}
	if (array_field(&l, root, "$", "resourceGroups", &a) < 0)
		return -22;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		char p[64];
		const char *n = NULL, *loc = NULL;
		PATHF(p, "$.resourceGroups[%zu]", i);
		if (json_object_is_type(x, json_type_string))
			n = json_object_get_string(x);
		else if (str_field(&l, x, p, "name", &n) < 0 ||
			 str_field(&l, x, p, "location", &loc) < 0)
			return -22;
		if (!n)
			return bad(&l, p, "expected a resource group name or {\"name\":...}");
		if (!sim_rg_name_valid(n))
			return bad(&l, p, "invalid resource group name '%s'", n);
		if (sim_model_add_rg(m, n, loc ? loc : "eastus"))
			return bad(&l, p, "duplicate resource group '%s'", n);
		json_object *t = get(x, "tags");
		if (t && json_object_is_type(t, json_type_object)) {
			json_object_put(m->rgs[m->nrgs - 1].tags);
			m->rgs[m->nrgs - 1].tags = json_object_get(t);
		}
	}
	if (array_field(&l, root, "$", "vms", &a) < 0)
		return -22;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		char p[64];
		PATHF(p, "$.vms[%zu]", i);
		if (load_vm(&l, m, json_object_array_get_idx(a, i), p))
			return -22;
	}
	json_object *cols;
	if (array_field(&l, root, "$", "collections", &cols) < 0)
		return -22;
	size_t nc = cols ? json_object_array_length(cols) : 0;
	for (size_t i = 0; i < nc; i++) {
		char p[64];
		PATHF(p, "$.collections[%zu]", i);
		if (load_coll(&l, m, json_object_array_get_idx(cols, i), p))
			return -22;
	}
	/* second pass: copy sources (which may come later in the file) */
	for (int i = 0; i < m->ncolls; i++) {
		struct sim_coll *c = m->colls[i];
		char p[64];
		PATHF(p, "$.collections[%d]", i);
		if (c->is_copy) {
			struct sim_coll *sc = sim_model_find_coll_id(m, c->source_id);
			if (!sc)
				return bad(&l, p, "source collection '%s' is not in the seed",
					   c->source_id);
			free(c->source_loc);
			c->source_loc = sim_xstrdup(sc->location);
		}
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < m->ncolls; i++) {
			struct sim_coll *c = m->colls[i];
			if (c->is_copy != pass)
				continue;
			json_object *pts =
			    get(json_object_array_get_idx(cols, (size_t)i), "points");
			int cvm = sim_coll_vm(m, c);
			for (int k = 0; k < c->npoints; k++) {
				char p[96];
				PATHF(p, "$.collections[%d].points[%d]", i, k);
				if (finish_point(&l, m, cvm, c->points[k],
						 json_object_array_get_idx(pts, (size_t)k), p))
					return -22;
			}
		}
	return load_grants(&l, m, get(root, "grants"));
}

/* $.grants: the disk grants a --state file kept (SAS signatures included). */
static int load_grants(struct ld *l, struct sim_model *m, json_object *a)
{
	if (a && !json_object_is_type(a, json_type_array))
		return bad(l, "$.grants", "expected an array");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);
		const char *id, *sig, *cont;
		char p[64];
		struct sim_grant g = {0};
		PATHF(p, "$.grants[%zu]", i);
		if (str_field(l, x, p, "id", &id) < 0 || str_field(l, x, p, "sig", &sig) < 0 ||
		    str_field(l, x, p, "container", &cont) < 0 ||
		    time_field(l, x, p, "st", &g.st) < 0 || time_field(l, x, p, "se", &g.se) < 0 ||
		    time_field(l, x, p, "expires", &g.expires) < 0 ||
		    int_field(l, x, p, "count", &g.count) < 0)
			return -22;
		if (!id || !sig || !cont || strlen(sig) >= sizeof g.sig ||
		    strlen(cont) >= sizeof g.container || strcspn(cont, "/?&") != strlen(cont))
			return bad(l, p, "a grant needs an id, a sig and a container");
		snprintf(g.sig, sizeof g.sig, "%s", sig);
		snprintf(g.container, sizeof g.container, "%s", cont);
		g.drp_id = sim_xstrdup(id);
		if (m->ngrants == m->capgrants) {
			m->capgrants = m->capgrants ? m->capgrants * 2 : 16;
			m->grants = realloc(m->grants, (size_t)m->capgrants * sizeof *m->grants);
			if (!m->grants)
				abort();
		}
		m->grants[m->ngrants++] = g;
	}
	return 0;
}

/* Load a seed or state file; a message naming the problem on failure. */
int sim_seed_load_file(struct sim_model *m, const char *path, char *err, size_t errn)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errn, "%s: %s", path, strerror(errno));
		return -errno;
	}
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *root = NULL;
	char buf[65536];
	size_t n, total = 0;
	enum json_tokener_error jerr = json_tokener_continue;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		root = json_tokener_parse_ex(tok, buf, (int)n);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_continue)
			break;
		total += n;
	}
	if (jerr == json_tokener_continue)
		root = json_tokener_parse_ex(tok, "", -1), jerr = json_tokener_get_error(tok);
	int rc = 0;
	if (jerr != json_tokener_success || !root) {
		snprintf(err, errn, "%s: not valid JSON: %s (near byte %zu)", path,
			 json_tokener_error_desc(jerr), total + json_tokener_get_parse_end(tok));
		rc = -22;
	}
	fclose(f);
	json_tokener_free(tok);
	if (!rc) {
		char inner[900];
		rc = sim_seed_load_json(m, root, inner, sizeof inner);
		if (rc)
			snprintf(err, errn, "%s: %s", path, inner);
	}
	json_object_put(root);
	return rc;
}

/* Write the state file atomically (temporary file, fsync, rename). */
int sim_state_save(void)
{
	if (!sim_g.o.state)
		return 0;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", sim_g.o.state, (long)getpid());
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	rc = sim_json_state_write(&sim_g.m, f);
	if (!rc && (fputc('\n', f) == EOF || fflush(f)))
		rc = -EIO;
	if (!rc && fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -EIO;
	if (!rc && rename(tmp, sim_g.o.state))
		rc = -errno;
	if (rc)
		unlink(tmp);
out:
	if (rc)
		fprintf(stderr, "armsim: cannot save state to %s: %s\n", sim_g.o.state,
			strerror(-rc));
	return rc;
}

/* The model at start or reset: the state file if it exists, else the seed,
 * else the demo, else an empty subscription.  A reset skips the state file. */
int sim_model_load_initial(struct sim_model *m, int use_state, char *err, size_t errn)
{
	struct stat sb;
	if (use_state && sim_g.o.state && !stat(sim_g.o.state, &sb))
		return sim_seed_load_file(m, sim_g.o.state, err, errn);
	if (sim_g.o.seed)
		return sim_seed_load_file(m, sim_g.o.seed, err, errn);
	sim_model_clear(m);
	if (sim_g.o.demo) {
		sim_demo_build(m);
		return 0;
	}
	m->sub = sim_xstrdup(DEFAULT_SUB);
	m->tenant = sim_xstrdup(sim_g.o.tenant ? sim_g.o.tenant : DEFAULT_TENANT);
	m->sub_name = sim_xstrdup("Contoso Production");
	for (int i = 0; i < sim_region_count(); i++)
		sim_model_add_loc(m, sim_region_at(i)->name, NULL);
	return 0;
}
