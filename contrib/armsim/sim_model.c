/* sim_model.c - armsim's subscription in memory: locations, resource
 * groups, VMs, collections and restore points; the simulated clock's
 * effects (creates finishing, deletes completing, copies progressing); and
 * the long-running operation records behind the status URLs.
 *
 * Time-driven changes are applied lazily: every request calls
 * sim_model_tick() first, which does nothing until the earliest pending
 * event (m->next_event) is due, so a large model costs nothing per request.
 * Copy progress is never stored as it moves: it is a function of the clock
 * (struct sim_copy), so fast-forwarding the clock moves it too.
 *
 * Names are matched case-insensitively and kept as first spelled, as ARM
 * does.  All functions expect sim_g.lock held.
 */
#include "sim.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* calloc that aborts on exhaustion. */
static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		abort();
	return p;
}

/* Free a restore point. */
static void point_free(struct sim_point *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->consistency);
	free(p->source_rp);
	free(p->copy);
	free(p);
}

/* Free a collection and its points. */
static void coll_free(struct sim_coll *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->npoints; i++)
		point_free(c->points[i]);
	free(c->points);
	free(c->rg);
	free(c->name);
	free(c->location);
	free(c->source_id);
	free(c->source_loc);
	json_object_put(c->tags);
	free(c);
}

/* Free everything the model holds and leave it empty. */
void sim_model_clear(struct sim_model *m)
{
	for (int i = 0; i < m->ncolls; i++)
		coll_free(m->colls[i]);
	free(m->colls);
	for (int i = 0; i < m->nvms; i++) {
		struct sim_vm *v = &m->vms[i];
		free(v->id);
		free(v->name);
		free(v->rg);
		free(v->location);
		free(v->os_type);
		free(v->size);
		free(v->vm_guid);
		for (int d = 0; d < v->ndisks; d++) {
			free(v->disks[d].name);
			free(v->disks[d].id);
			free(v->disks[d].caching);
			free(v->disks[d].sku);
			free(v->disks[d].des);
			free(v->disks[d].nap);
			free(v->disks[d].alloc);
		}
	}
	free(m->vms);
	for (int i = 0; i < m->nrgs; i++) {
		free(m->rgs[i].name);
		free(m->rgs[i].location);
		json_object_put(m->rgs[i].tags);
	}
	free(m->rgs);
	for (int i = 0; i < m->nlocs; i++) {
		free(m->locs[i].name);
		free(m->locs[i].display);
	}
	free(m->locs);
	sim_grant_clear(m);
	free(m->sub);
	free(m->sub_name);
	free(m->tenant);
	memset(m, 0, sizeof *m);
	m->next_event = INFINITY;
}

/* Add a VM (id built from rg and name); returns it. */
struct sim_vm *sim_model_add_vm(struct sim_model *m, const char *rg, const char *name,
				const char *location, const char *os_type, const char *size)
{
	if (m->nvms == m->capvms) {
		m->capvms = m->capvms ? m->capvms * 2 : 16;
		m->vms = realloc(m->vms, (size_t)m->capvms * sizeof *m->vms);
		if (!m->vms)
			abort();
	}
	struct sim_vm *v = &m->vms[m->nvms++];
	memset(v, 0, sizeof *v);
	char id[1024];
	snprintf(
	    id, sizeof id,
	    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s",
	    m->sub, rg, name);
	v->id = sim_xstrdup(id);
	v->name = sim_xstrdup(name);
	v->rg = sim_xstrdup(rg);
	char loc[64];
	sim_lower_loc(location, loc, sizeof loc);
	v->location = sim_xstrdup(loc);
	v->os_type = sim_xstrdup(os_type ? os_type : "Linux");
	v->size = sim_xstrdup(size ? size : "Standard_D2s_v5");
	char g[37];
	sim_guid_from(g, id, "vmId");
	v->vm_guid = sim_xstrdup(g);
	return v;
}

/* Attach a managed disk to a VM (lun -1 = OS disk). */
void sim_vm_add_disk(struct sim_vm *v, const char *name, int lun, int size_gb, const char *sku,
		     const char *caching, const char *des)
{
	if (v->ndisks >= SIM_MAX_DISKS)
		return;
	struct sim_disk *d = &v->disks[v->ndisks++];
	char id[1024];
	const char *p = strstr(v->id, "/providers/");
	snprintf(id, sizeof id, "%.*s/providers/Microsoft.Compute/disks/%s",
		 p ? (int)(p - v->id) : 0, v->id, name);
	d->name = sim_xstrdup(name);
	d->id = sim_xstrdup(id);
	d->lun = lun;
	d->size_gb = size_gb;
	d->sku = sim_xstrdup(sku ? sku : "Premium_LRS");
	d->caching = sim_xstrdup(caching ? caching : (lun < 0 ? "ReadWrite" : "None"));
	d->des = des && *des ? sim_xstrdup(des) : NULL;
	d->nap = NULL;
	d->nalloc = -1;
	d->alloc = NULL;
}

/* Index of the VM with this id, or -1. */
int sim_model_find_vm(const struct sim_model *m, const char *id)
{
	for (int i = 0; id && i < m->nvms; i++)
		if (!strcasecmp(m->vms[i].id, id))
			return i;
	return -1;
}

/* The resource group of this name (any casing), or NULL. */
struct sim_rg *sim_model_find_rg(struct sim_model *m, const char *name)
{
	for (int i = 0; name && i < m->nrgs; i++)
		if (!strcasecmp(m->rgs[i].name, name))
			return &m->rgs[i];
	return NULL;
}

/* Add a resource group unless one of that name exists. */
int sim_model_add_rg(struct sim_model *m, const char *name, const char *location)
{
	if (sim_model_find_rg(m, name))
		return -17;
	m->rgs = realloc(m->rgs, (size_t)(m->nrgs + 1) * sizeof *m->rgs);
	if (!m->rgs)
		abort();
	struct sim_rg *g = &m->rgs[m->nrgs++];
	char loc[64];
	sim_lower_loc(location, loc, sizeof loc);
	g->name = sim_xstrdup(name);
	g->location = sim_xstrdup(loc);
	g->tags = json_object_new_object();
	return 0;
}

/* Add a location unless it is known; display defaults to the region table. */
void sim_model_add_loc(struct sim_model *m, const char *name, const char *display)
{
	char loc[64];
	sim_lower_loc(name, loc, sizeof loc);
	if (sim_model_has_loc(m, loc))
		return;
	const struct sim_region *r = sim_region_find(loc);
	m->locs = realloc(m->locs, (size_t)(m->nlocs + 1) * sizeof *m->locs);
	if (!m->locs)
		abort();
	m->locs[m->nlocs].name = sim_xstrdup(loc);
	m->locs[m->nlocs].display = sim_xstrdup(display ? display : r ? r->display : loc);
	m->nlocs++;
}

/* Whether the subscription has this location. */
int sim_model_has_loc(const struct sim_model *m, const char *name)
{
	for (int i = 0; name && i < m->nlocs; i++)
		if (!strcasecmp(m->locs[i].name, name))
			return 1;
	return 0;
}

/* The collection RG/NAME (any casing), and its index. */
struct sim_coll *sim_model_find_coll(struct sim_model *m, const char *rg, const char *name,
				     int *index)
{
	for (int i = 0; i < m->ncolls; i++) {
		struct sim_coll *c = m->colls[i];
		if (!strcasecmp(c->name, name) && !strcasecmp(c->rg, rg)) {
			if (index)
				*index = i;
			return c;
		}
	}
	return NULL;
}

/* Split a collection or point id into its names; 0, or -22 if not one. */
int sim_id_split(const char *id, char *rg, size_t rgn, char *coll, size_t cn, char *point,
		 size_t pn)
{
	char buf[2048];
	char *seg[16];
	int n = 0;
	if (!id || strlen(id) >= sizeof buf)
		return -22;
	strcpy(buf, id);
	for (char *sv = NULL, *s = strtok_r(buf, "/", &sv); s && n < 16;
	     s = strtok_r(NULL, "/", &sv))
		seg[n++] = s;
	if (n != 8 && n != 10)
		return -22;
	if (strcasecmp(seg[0], "subscriptions") || strcasecmp(seg[2], "resourceGroups") ||
	    strcasecmp(seg[4], "providers") || strcasecmp(seg[5], "Microsoft.Compute") ||
	    strcasecmp(seg[6], "restorePointCollections"))
		return -22;
	if (strcasecmp(seg[1], sim_g.m.sub))
		return -2;
	if (n == 10 && strcasecmp(seg[8], "restorePoints"))
		return -22;
	snprintf(rg, rgn, "%s", seg[3]);
	snprintf(coll, cn, "%s", seg[7]);
	if (point)
		snprintf(point, pn, "%s", n == 10 ? seg[9] : "");
	return 0;
}

/* The collection with this ARM id, or NULL. */
struct sim_coll *sim_model_find_coll_id(struct sim_model *m, const char *id)
{
	char rg[300], coll[300], pt[300];
	if (sim_id_split(id, rg, sizeof rg, coll, sizeof coll, pt, sizeof pt) || *pt)
		return NULL;
	return sim_model_find_coll(m, rg, coll, NULL);
}

/* The point with this ARM id (and its collection), or NULL. */
struct sim_point *sim_model_find_point_id(struct sim_model *m, const char *id, struct sim_coll **cp)
{
	char rg[300], coll[300], pt[300];
	if (sim_id_split(id, rg, sizeof rg, coll, sizeof coll, pt, sizeof pt) || !*pt)
		return NULL;
	struct sim_coll *c = sim_model_find_coll(m, rg, coll, NULL);
	if (!c)
		return NULL;
	if (cp)
		*cp = c;
	return sim_coll_find_point(c, pt, NULL);
}

/* Create a collection; the source decides whether it is a copy. */
struct sim_coll *sim_model_add_coll(struct sim_model *m, const char *rg, const char *name,
				    const char *location, const char *source_id)
{
	struct sim_coll *c = xcalloc(1, sizeof *c);
	char loc[64];
	sim_lower_loc(location, loc, sizeof loc);
	c->rg = sim_xstrdup(rg);
	c->name = sim_xstrdup(name);
	c->location = sim_xstrdup(loc);
	c->source_id = sim_xstrdup(source_id ? source_id : "");
	c->tags = json_object_new_object();
	c->instant_access = -1;
	sim_guid(c->guid);
	struct sim_coll *src = sim_model_find_coll_id(m, c->source_id);
	if (src || strcasestr(c->source_id, "/restorePointCollections/")) {
		c->is_copy = 1;
		c->source_loc = sim_xstrdup(src ? src->location : "");
	} else {
		int vi = sim_model_find_vm(m, c->source_id);
		c->source_loc = sim_xstrdup(vi >= 0 ? m->vms[vi].location : c->location);
	}
	if (m->ncolls == m->capcolls) {
		m->capcolls = m->capcolls ? m->capcolls * 2 : 64;
		m->colls = realloc(m->colls, (size_t)m->capcolls * sizeof *m->colls);
		if (!m->colls)
			abort();
	}
	m->colls[m->ncolls++] = c;
	return c;
}

/* Remove the collection at index (and its points). */
void sim_model_remove_coll(struct sim_model *m, int index)
{
	if (index < 0 || index >= m->ncolls)
		return;
	coll_free(m->colls[index]);
	memmove(&m->colls[index], &m->colls[index + 1],
		(size_t)(m->ncolls - index - 1) * sizeof *m->colls);
	m->ncolls--;
}

/* The point NAME (any casing) of a collection, and its index. */
struct sim_point *sim_coll_find_point(struct sim_coll *c, const char *name, int *index)
{
	for (int i = 0; i < c->npoints; i++)
		if (!strcasecmp(c->points[i]->name, name)) {
			if (index)
				*index = i;
			return c->points[i];
		}
	return NULL;
}

/* Append a new, Succeeded point; the caller fills in the rest. */
struct sim_point *sim_coll_add_point(struct sim_coll *c, const char *name)
{
	if (c->npoints == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->points = realloc(c->points, (size_t)c->cap * sizeof *c->points);
		if (!c->points)
			abort();
	}
	struct sim_point *p = xcalloc(1, sizeof *p);
	p->name = sim_xstrdup(name);
	p->state = PS_SUCCEEDED;
	p->vm = -1;
	c->points[c->npoints++] = p;
	return p;
}

/* Remove the point at index. */
void sim_coll_remove_point(struct sim_coll *c, int index)
{
	if (index < 0 || index >= c->npoints)
		return;
	point_free(c->points[index]);
	memmove(&c->points[index], &c->points[index + 1],
		(size_t)(c->npoints - index - 1) * sizeof *c->points);
	c->npoints--;
}

/* The VM behind a collection (following copy sources), or -1. */
int sim_coll_vm(struct sim_model *m, struct sim_coll *c)
{
	for (int depth = 0; c && depth < 4; depth++) {
		if (!c->is_copy)
			return sim_model_find_vm(m, c->source_id);
		c = sim_model_find_coll_id(m, c->source_id);
	}
	return -1;
}

/* The ARM id of a collection (malloc'd). */
char *sim_coll_id(const struct sim_model *m, const struct sim_coll *c)
{
	char buf[1024];
	snprintf(buf, sizeof buf,
		 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
		 "restorePointCollections/%s",
		 m->sub, c->rg, c->name);
	return sim_xstrdup(buf);
}

/* The ARM id of a restore point (malloc'd). */
char *sim_point_id(const struct sim_model *m, const struct sim_coll *c, const struct sim_point *p)
{
	char buf[1400];
	snprintf(buf, sizeof buf,
		 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
		 "restorePointCollections/%s/restorePoints/%s",
		 m->sub, c->rg, c->name, p->name);
	return sim_xstrdup(buf);
}

/* How many disks of the VM a point holds. */
static int included_disks(const struct sim_point *p, const struct sim_vm *v)
{
	int n = 0;
	for (int i = 0; v && i < v->ndisks; i++)
		if (!(p->exclude & (1u << i)))
			n++;
	return n;
}

/* Begin (or describe) a copy: every disk at 0 % at time start. */
void sim_point_start_copy(struct sim_point *p, const struct sim_vm *v, double start, double dur)
{
	if (!p->copy)
		p->copy = xcalloc(1, sizeof *p->copy);
	p->copy->base = start;
	p->copy->dur = dur > 0 ? dur : 0.001;
	(void)v;
}

/* Per-disk copy percentages of the included disks, in disk order. */
void sim_point_progress(const struct sim_point *p, const struct sim_vm *v, double now, int *pct,
			int *n)
{
	int k = 0, total = included_disks(p, v);
	for (int i = 0; v && i < v->ndisks; i++) {
		if (p->exclude & (1u << i))
			continue;
		int val = 100;
		if (p->copy) {
			double dur = p->copy->dur * (double)(k + 1) / (double)(total ? total : 1);
			double el = now - p->copy->base;
			double v0 = p->copy->pct0[k];
			double x = el <= 0 ? v0 : v0 + el / dur * 100.0;
			val = x >= 100 ? 100 : (int)x;
		}
		pct[k++] = val;
	}
	*n = k;
}

/* Remember that something will change at time t. */
void sim_model_note_event(struct sim_model *m, double t)
{
	if (t < m->next_event)
		m->next_event = t;
}

/* Apply every change the clock has made due; returns how many. */
int sim_model_tick(struct sim_model *m, double now)
{
	if (now < m->next_event)
		return 0;
	int changed = 0;
	double next = INFINITY;
	for (int ci = 0; ci < m->ncolls; ci++) {
		struct sim_coll *c = m->colls[ci];
		if (c->deleting) {
			if (now >= c->del_at) {
				sim_model_remove_coll(m, ci--);
				changed++;
				continue;
			}
			if (c->del_at < next)
				next = c->del_at;
		}
		for (int pi = 0; pi < c->npoints; pi++) {
			struct sim_point *p = c->points[pi];
			if (p->state == PS_CREATING) {
				if (now >= p->ready_at) {
					p->state = p->fail_create ? PS_FAILED : PS_SUCCEEDED;
					changed++;
				} else if (p->ready_at < next) {
					next = p->ready_at;
				}
			} else if (p->state == PS_DELETING) {
				if (now >= p->del_at) {
					sim_coll_remove_point(c, pi--);
					changed++;
				} else if (p->del_at < next) {
					next = p->del_at;
				}
			}
		}
	}
	m->next_event = next;
	return changed;
}

/* ARM's generic resource-name rule (documented: 260 chars, no <>%&:\?/ or controls). */
int sim_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 260)
		return 0;
	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		if (*s < 0x20 || *s == 0x7f || strchr("<>%&:\\?/", *s))
			return 0;
	return 1;
}

/* Resource-group names: 1-90 of letters, digits, -_(). and not ending in '.'. */
int sim_rg_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 90 || name[n - 1] == '.')
		return 0;
	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		if (!(isalnum(*s) || *s >= 0x80 || strchr("-_().", *s)))
			return 0;
	return 1;
}

/* The provisioningState string. */
const char *sim_pstate_name(enum sim_pstate s)
{
	switch (s) {
	case PS_CREATING:
		return "Creating";
	case PS_SUCCEEDED:
		return "Succeeded";
	case PS_FAILED:
		return "Failed";
	case PS_DELETING:
		return "Deleting";
	}
	return "Succeeded";
}

/* Record a long-running operation (a ring: the oldest are forgotten). */
struct sim_op *sim_op_new(enum sim_opkind kind, const char *location, const char *target)
{
	if (!sim_g.ops)
		sim_g.ops = xcalloc(SIM_MAX_OPS, sizeof *sim_g.ops);
	struct sim_op *op = &sim_g.ops[sim_g.ops_head];
	free(op->location);
	free(op->target);
	free(op->result);
	memset(op, 0, sizeof *op);
	sim_guid(op->id);
	op->kind = kind;
	op->location = sim_xstrdup(location);
	op->target = sim_xstrdup(target);
	op->start = sim_now();
	sim_g.ops_head = (sim_g.ops_head + 1) % SIM_MAX_OPS;
	if (sim_g.nops < SIM_MAX_OPS)
		sim_g.nops++;
	return op;
}

/* The operation with this id, or NULL. */
struct sim_op *sim_op_find(const char *id)
{
	for (int i = 0; sim_g.ops && i < sim_g.nops; i++)
		if (!strcasecmp(sim_g.ops[i].id, id))
			return &sim_g.ops[i];
	return NULL;
}

/* 0 running, 1 succeeded, 2 failed (with an error code and message). */
int sim_op_status(struct sim_op *op, const char **code, const char **msg)
{
	struct sim_model *m = &sim_g.m;
	if (op->kind == OP_DISK_GRANT || op->kind == OP_DISK_REVOKE)
		return sim_now() >= op->start + sim_g.o.grant_seconds;
	if (op->kind == OP_RP_CREATE) {
		struct sim_point *p = sim_model_find_point_id(m, op->target, NULL);
		if (!p || p->state == PS_SUCCEEDED || p->state == PS_DELETING)
			return 1;
		if (p->state == PS_CREATING)
			return 0;
		*code = "VMRestorePointClientError";
		*msg = "The restore point could not be created. Check the VM agent and the "
		       "VMSnapshot extension.";
		return 2;
	}
	if (op->kind == OP_RP_DELETE) {
		struct sim_point *p = sim_model_find_point_id(m, op->target, NULL);
		return p && p->state == PS_DELETING ? 0 : 1;
	}
	struct sim_coll *c = sim_model_find_coll_id(m, op->target);
	return c && c->deleting ? 0 : 1;
}
