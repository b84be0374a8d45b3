/* sim_arm.c - the ARM operations: subscriptions, locations, resource
 * groups, restore point collections and restore points, the Compute
 * operation-status URLs, paging and the documented limits (armsim(1),
 * BEHAVIOUR AND LIMITS).
 *
 * Every handler runs with sim_g.lock held, after authentication, the
 * api-version check, throttling and fault injection (sim_http.c).  A
 * handler fills a struct sim_resp and saves the state when it changed the
 * model.  Error codes follow Azure's documentation where it names one; where Azure
 * does not document a code the choice is written next to the check.
 */
#include "sim.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *NOT_FOUND_FIX =
    "For more details please go to https://aka.ms/ARMResourceNotFoundFix";

/* The api-versions each service has, oldest first, as ARM lists them in
 * InvalidApiVersionParameter: Microsoft.Compute's for restore points and
 * operations (2026-03-01 is what @azure/arm-compute 24 sends), and
 * Microsoft.Resources' for subscriptions, locations and resource groups. */
static const char *const compute_versions[] = {
    "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01",
    "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01",
    "2024-11-01", "2025-04-01", "2025-11-01", "2026-03-01", NULL};
static const char *const resources_versions[] = {
    "2014-04-01", "2015-01-01", "2015-11-01", "2016-02-01", "2016-06-01", "2016-07-01",
    "2016-09-01", "2017-05-10", "2018-02-01", "2018-05-01", "2018-06-01", "2019-03-01",
    "2019-05-01", "2019-05-10", "2019-06-01", "2019-07-01", "2019-08-01", "2019-10-01",
    "2019-11-01", "2020-01-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01",
    "2021-04-01", "2022-01-01", "2022-09-01", "2022-12-01", "2023-07-01", "2024-03-01",
    "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01", NULL};

/* The api-versions DiskRP has for disk restore points. */
static const char *const diskrp_versions[] = {"2023-04-02", "2023-10-02", "2024-03-02",
					      "2025-01-02", NULL};

/* The versions of the service behind a route. */
static const char *const *route_versions(enum sim_route route)
{
	if (route >= R_DRPS && route <= R_REVOKE)
		return diskrp_versions;
	switch (route) {
	case R_SUBS:
	case R_SUB:
	case R_LOCS:
	case R_RGS:
	case R_RG:
		return resources_versions;
	default:
		return compute_versions;
	}
}

/* Whether an api-version is one the service behind this route has. */
int sim_api_version_ok(enum sim_route route, const char *v)
{
	const char *const *l = route_versions(route);

	for (int i = 0; v && l[i]; i++)
		if (!strcasecmp(l[i], v))
			return 1;
	/* Compute's operation status answers for DiskRP's operations too,
	 * polled with the api-version of the call that started them. */
	if (route == R_OP)
		for (int i = 0; v && diskrp_versions[i]; i++)
			if (!strcasecmp(diskrp_versions[i], v))
				return 1;
	return 0;
}

/* "a, b, c" of the versions of a route, for the error message. */
const char *sim_api_versions(enum sim_route route)
{
	static char buf[3][1024];
	const char *const *l = route_versions(route);
	char *b = buf[l == compute_versions ? 1 : l == diskrp_versions ? 2 : 0];

	if (!b[0])
		for (int i = 0; l[i]; i++)
			snprintf(b + strlen(b), sizeof buf[0] - strlen(b), "%s%s", i ? ", " : "",
				 l[i]);
	return b;
}

/* Azure-AsyncOperation, Location (&monitor=true) and Retry-After for an operation. */
static void lro_headers(struct sim_req *q, struct sim_resp *r, struct sim_op *op)
{
	sim_arm_lro_headers(q, r, op, sim_g.o.retry_after);
}

/* The same with a given Retry-After (seconds). */
void sim_arm_lro_headers(struct sim_req *q, struct sim_resp *r, struct sim_op *op, int retry_after)
{
	char url[2048], ra[16];
	snprintf(url, sizeof url,
		 "%s/subscriptions/%s/providers/Microsoft.Compute/locations/%s/operations/"
		 "%s?api-version=%s",
		 q->base, sim_g.m.sub, op->location, op->id, q->api_version);
	sim_resp_header(r, "Azure-AsyncOperation", url);
	strncat(url, "&monitor=true", sizeof url - strlen(url) - 1);
	sim_resp_header(r, "Location", url);
	snprintf(ra, sizeof ra, "%d", retry_after);
	sim_resp_header(r, "Retry-After", ra);
}

/* 404 ResourceNotFound in ARM's wording. */
static void not_found(struct sim_resp *r, const char *type, const char *name, const char *rg)
{
	sim_resp_error(
	    r, 404, "ResourceNotFound",
	    "The Resource 'Microsoft.Compute/%s/%s' under resource group '%s' was not found. %s",
	    type, name, rg, NOT_FOUND_FIX);
}

/* 404 ResourceGroupNotFound. */
static void rg_not_found(struct sim_resp *r, const char *rg)
{
	sim_resp_error(r, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.",
		       rg);
}

/* One page of a list: items[] are already rendered; takes them. */
void sim_arm_page_out(struct sim_req *q, struct sim_resp *r, json_object **items, int n)
{
	const char *tok = sim_arm_arg(q, "$skipToken");
	long off = 0;
	int empty = 0;
	if (tok) {
		char *end;
		if ((tok[0] != 'p' && tok[0] != 'e') || !tok[1] ||
		    (off = strtol(tok + 1, &end, 16), *end) || off < 0) {
			for (int i = 0; i < n; i++)
				json_object_put(items[i]);
			sim_resp_error(r, 400, "InvalidSkipToken",
				       "The $skipToken '%s' is not valid.", tok);
			return;
		}
		empty = tok[0] == 'e';
	} else if (sim_g.o.empty_pages) {
		empty = 1;
	}
	int ps = sim_g.o.page_size > 0 ? sim_g.o.page_size : 50;
	json_object *o = json_object_new_object();
	json_object *val = json_object_new_array();
	long next = -1;
	char ntok[32] = "";
	if (empty) {
		next = off;
		snprintf(ntok, sizeof ntok, "p%lx", off);
	} else {
		for (long i = off; i < n && i < off + ps; i++) {
			json_object_array_add(val, items[i]);
			items[i] = NULL;
		}
		if (off + ps < n) {
			next = off + ps;
			snprintf(ntok, sizeof ntok, "%c%lx", sim_g.o.empty_pages ? 'e' : 'p', next);
		}
	}
	for (int i = 0; i < n; i++)
		json_object_put(items[i]);
	jadd(o, "value", val);
	if (next >= 0) {
		char url[4096];
		snprintf(url, sizeof url, "%s%s?api-version=%s&$skipToken=%s", q->base, q->path,
			 q->api_version, ntok);
		jadd(o, "nextLink", json_object_new_string(url));
	}
	sim_resp_json(r, 200, o);
}

/* A query argument of the request (decoded), or NULL. */
const char *sim_arm_arg(struct sim_req *q, const char *name)
{
	return sim_http_arg(q->conn, name);
}

/* 0 when the body is absent or a JSON object; else a 415 (a body sent
 * without a JSON Content-Type, as ARM answers) or a 400, and -22. */
static int body_object(struct sim_req *q, struct sim_resp *r)
{
	const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");

	if (q->body_len && (!ct || strncasecmp(ct, "application/json", 16) ||
			    (ct[16] && ct[16] != ';' && ct[16] != ' '))) {
		sim_resp_error(
		    r, 415, "UnsupportedMediaType",
		    "The content media type '%s' is not supported. Only 'application/json' "
		    "is supported.",
		    ct ? ct : "");
		return -22;
	}
	if (q->body_bad || (q->jbody && !json_object_is_type(q->jbody, json_type_object))) {
		sim_resp_error(r, 400, "InvalidRequestContent",
			       "The request content was invalid and could not be deserialized.");
		return -22;
	}
	return 0;
}

/* A copy of body.tags (NULL when absent); *bad when it is not a map of strings. */
static json_object *tags_from(json_object *body, int *bad)
{
	json_object *t;
	*bad = 0;
	if (!body || !json_object_object_get_ex(body, "tags", &t) || !t)
		return NULL;
	if (!json_object_is_type(t, json_type_object)) {
		*bad = 1;
		return NULL;
	}
	json_object *copy = json_object_new_object();
	json_object_object_foreach(t, k, v)
	{
		if (!json_object_is_type(v, json_type_string)) {
			*bad = 1;
			json_object_put(copy);
			return NULL;
		}
		jadd(copy, k, json_object_new_string(json_object_get_string(v)));
	}
	return copy;
}

/* ListAll (rg NULL) or List of a group, rendering only the page sent. */
static void coll_list(struct sim_req *q, struct sim_resp *r, const char *rg)
{
	struct sim_model *m = &sim_g.m;
	json_object **items = calloc((size_t)m->ncolls + 1, sizeof *items);
	int n = 0;
	if (!items)
		abort();
	for (int i = 0; i < m->ncolls; i++)
		if (!rg || !strcasecmp(m->colls[i]->rg, rg))
			items[n++] = NULL;
	/* render only the page that is sent */
	const char *tok = sim_arm_arg(q, "$skipToken");
	long off = tok && tok[0] == 'p' ? strtol(tok + 1, NULL, 16) : 0;
	int ps = sim_g.o.page_size > 0 ? sim_g.o.page_size : 50;
	int k = 0;
	for (int i = 0; i < m->ncolls; i++) {
		if (rg && strcasecmp(m->colls[i]->rg, rg))
			continue;
		if (k >= off && k < off + ps)
			items[k] = sim_json_coll(m, m->colls[i], 0);
		k++;
	}
	sim_arm_page_out(q, r, items, n);
	free(items);
}

/* RestorePointCollections_CreateOrUpdate: create (201) or update tags (200). */
/* --policy-require-tag: an Azure Policy assignment ("Require a tag on
 * resources", deny effect) refuses a collection PUT whose tags lack the
 * tag, with the 403 RequestDisallowedByPolicy body ARM sends.  1 when it
 * answered. */
static int policy_denies(struct sim_req *q, struct sim_resp *r, json_object *tags)
{
	const char *tag = sim_g.o.policy_tag;
	char asg[512], msg[2048];
	const char *def = "/providers/Microsoft.Authorization/policyDefinitions/"
			  "871b6d14-10aa-478d-b590-94f262ecfa99";

	if (!tag || !*tag)
		return 0;
	if (tags) {
		json_object_object_foreach(tags, k, v)
		{
			(void)v;
			if (!strcasecmp(k, tag))
				return 0;
		}
	}
	snprintf(
	    asg, sizeof asg,
	    "/subscriptions/%s/providers/Microsoft.Authorization/policyAssignments/require-%s-tag",
	    sim_g.m.sub, tag);
	snprintf(msg, sizeof msg,
		 "Resource '%s' was disallowed by policy. Reasons: 'The tag '%s' is required on "
		 "restore point collections.'. See error details for policy resource IDs. Policy "
		 "identifiers: '[{\"policyAssignment\":{\"name\":\"Require tag %s\",\"id\":\"%s\"},"
		 "\"policyDefinition\":{\"name\":\"Require a tag on resources\",\"id\":\"%s\"}}]'.",
		 q->coll, tag, tag, asg, def);
	json_object *e = json_object_new_object(), *err = json_object_new_object();
	jadd(err, "code", json_object_new_string("RequestDisallowedByPolicy"));
	jadd(err, "target", json_object_new_string(q->coll));
	jadd(err, "message", json_object_new_string(msg));
	json_object *info = json_object_new_object(), *ai = json_object_new_object();
	jadd(info, "policyDefinitionDisplayName",
	     json_object_new_string("Require a tag on resources"));
	jadd(info, "policyDefinitionId", json_object_new_string(def));
	jadd(info, "policyAssignmentId", json_object_new_string(asg));
	jadd(info, "policyAssignmentName", json_object_new_string("Require tag"));
	snprintf(msg, sizeof msg, "/subscriptions/%s", sim_g.m.sub);
	jadd(info, "policyAssignmentScope", json_object_new_string(msg));
	jadd(info, "policyDefinitionEffect", json_object_new_string("deny"));
	jadd(ai, "type", json_object_new_string("PolicyViolation"));
	jadd(ai, "info", info);
	json_object *arr = json_object_new_array();
	json_object_array_add(arr, ai);
	jadd(err, "additionalInfo", arr);
	jadd(e, "error", err);
	sim_resp_json(r, 403, e);
	return 1;
}

static void coll_put(struct sim_req *q, struct sim_resp *r)
{
	struct sim_model *m = &sim_g.m;
	if (!sim_name_valid(q->coll)) {
		sim_resp_error(r, 400, "InvalidResourceName",
			       "Resource name %s is invalid. The name can be up to 260 characters "
			       "in length and cannot contain <>%%&:\\?/ or control characters.",
			       q->coll);
		return;
	}
	if (!sim_model_find_rg(m, q->rg))
		return rg_not_found(r, q->rg);
	if (body_object(q, r))
		return;
	const char *loc_in = sim_jget_path(q->jbody, "location", NULL, NULL);
	if (!loc_in || !*loc_in) {
		sim_resp_error(r, 400, "LocationRequired",
			       "The location property is required for this definition.");
		return;
	}
	char loc[64];
	sim_lower_loc(loc_in, loc, sizeof loc);
	if (!sim_model_has_loc(m, loc)) {
		sim_resp_error(r, 400, "LocationNotAvailableForResourceType",
			       "The provided location '%s' is not available for resource type "
			       "'Microsoft.Compute/restorePointCollections'.",
			       loc_in);
		return;
	}
	const char *src = sim_jget_path(q->jbody, "properties", "source", "id");
	int badtags;
	json_object *tags = tags_from(q->jbody, &badtags);
	if (badtags) {
		sim_resp_error(r, 400, "InvalidRequestContent",
			       "The tags must be an object of strings.");
		return;
	}
	if (policy_denies(q, r, tags)) {
		json_object_put(tags);
		return;
	}
	json_object *ia = NULL;
	json_object *props = NULL;
	if (json_object_object_get_ex(q->jbody, "properties", &props) && props)
		json_object_object_get_ex(props, "instantAccess", &ia);
	struct sim_coll *c = sim_model_find_coll(m, q->rg, q->coll, NULL);
	if (c) {
		if (c->deleting) {
			json_object_put(tags);
			sim_resp_error(r, 409, "OperationNotAllowed",
				       "The collection '%s' is being deleted.", c->name);
			return;
		}
		/* Azure documents that only tags may change; not the error code. */
		const char *what = strcasecmp(c->location, loc)		  ? "location"
				   : src && strcasecmp(src, c->source_id) ? "properties.source.id"
									  : NULL;
		if (what) {
			json_object_put(tags);
			sim_resp_error(r, 409, "PropertyChangeNotAllowed",
				       "Changing property '%s' is not allowed. Only tags can be "
				       "updated on a restore point collection.",
				       what);
			return;
		}
		json_object_put(c->tags);
		c->tags = tags ? tags : json_object_new_object();
		if (ia)
			c->instant_access = json_object_get_boolean(ia);
		sim_state_save();
		sim_resp_json(r, 200, sim_json_coll(m, c, 0));
		return;
	}
	if (!src || !*src) {
		json_object_put(tags);
		sim_resp_error(r, 400, "InvalidParameter",
			       "Required parameter 'source' is missing (null).");
		return;
	}
	if (strcasestr(src, "/providers/Microsoft.Compute/restorePointCollections/")) {
		struct sim_coll *sc = sim_model_find_coll_id(m, src);
		const char *why = NULL;
		int status = 400;
		const char *code = "InvalidParameter";
		if (!sc || sc->deleting) {
			json_object_put(tags);
			char rg[300], cn[300], pt[300];
			if (sim_id_split(src, rg, sizeof rg, cn, sizeof cn, pt, sizeof pt))
				snprintf(cn, sizeof cn, "%s", src), snprintf(rg, sizeof rg, "?");
			return not_found(r, "restorePointCollections", cn, rg);
		}
		if (sc->is_copy) {
			why = "The source collection is itself a cross-region copy; a copy of a "
			      "copy is not allowed.";
			code = "OperationNotAllowed";
		} else if (!strcasecmp(sc->location, loc)) {
			why = "The source restore point collection must be in a different region "
			      "than the target collection.";
		}
		if (why) {
			json_object_put(tags);
			sim_resp_error(r, status, code, "%s", why);
			return;
		}
	} else if (strcasestr(src, "/providers/Microsoft.Compute/virtualMachines/")) {
		int vi = sim_model_find_vm(m, src);
		if (vi < 0) {
			json_object_put(tags);
			const char *nm = strrchr(src, '/');
			sim_resp_error(
			    r, 404, "ResourceNotFound",
			    "The Resource 'Microsoft.Compute/virtualMachines/%s' was not found. %s",
			    nm ? nm + 1 : src, NOT_FOUND_FIX);
			return;
		}
		if (strcasecmp(m->vms[vi].location, loc)) {
			json_object_put(tags);
			sim_resp_error(
			    r, 400, "InvalidParameter",
			    "The restore point collection must be in the region of its source VM "
			    "('%s'); use a cross-region copy for another region.",
			    m->vms[vi].location);
			return;
		}
	} else {
		json_object_put(tags);
		sim_resp_error(
		    r, 400, "InvalidParameter",
		    "The source '%s' is neither a virtual machine nor a restore point collection.",
		    src);
		return;
	}
	c = sim_model_add_coll(m, q->rg, q->coll, loc, src);
	if (tags) {
		json_object_put(c->tags);
		c->tags = tags;
	}
	if (ia)
		c->instant_access = json_object_get_boolean(ia);
	sim_state_save();
	sim_resp_json(r, 201, sim_json_coll(m, c, 0));
}

/* RestorePointCollections_Update: tags only. */
static void coll_patch(struct sim_req *q, struct sim_resp *r, struct sim_coll *c)
{
	if (body_object(q, r))
		return;
	const char *src = sim_jget_path(q->jbody, "properties", "source", "id");
	const char *loc = sim_jget_path(q->jbody, "location", NULL, NULL);
	char l[64] = "";
	if (loc)
		sim_lower_loc(loc, l, sizeof l);
	if ((src && strcasecmp(src, c->source_id)) || (loc && strcasecmp(l, c->location))) {
		sim_resp_error(r, 409, "PropertyChangeNotAllowed",
			       "Changing property '%s' is not allowed. Only tags can be updated on "
			       "a restore point collection.",
			       src && strcasecmp(src, c->source_id) ? "properties.source.id"
								    : "location");
		return;
	}
	int badtags;
	json_object *tags = tags_from(q->jbody, &badtags);
	if (badtags) {
		sim_resp_error(r, 400, "InvalidRequestContent",
			       "The tags must be an object of strings.");
		return;
	}
	if (tags) { /* ARM: a PATCH of tags replaces the whole map */
		json_object_put(c->tags);
		c->tags = tags;
	}
	json_object *props, *ia;
	if (q->jbody && json_object_object_get_ex(q->jbody, "properties", &props) && props &&
	    json_object_object_get_ex(props, "instantAccess", &ia))
		c->instant_access = json_object_get_boolean(ia);
	sim_state_save();
	sim_resp_json(r, 200, sim_json_coll(&sim_g.m, c, 0));
}

/* RestorePointCollections_Delete: 202 and an operation, or 204 when absent. */
static void coll_delete(struct sim_req *q, struct sim_resp *r, struct sim_coll *c)
{
	if (!c) {
		r->status = 204;
		return;
	}
	double now = sim_now();
	if (!c->deleting) {
		c->deleting = 1;
		c->del_at = now + sim_g.o.delete_seconds;
		sim_model_note_event(&sim_g.m, c->del_at);
	}
	char *id = sim_coll_id(&sim_g.m, c);
	struct sim_op *op = sim_op_new(OP_COLL_DELETE, c->location, id);
	free(id);
	lro_headers(q, r, op);
	r->status = 202;
	sim_state_save();
}

/* Points taken of VM vi (copies excluded), and whether one is being created. */
static int vm_points(struct sim_model *m, int vi, int *creating)
{
	int n = 0;
	*creating = 0;
	for (int i = 0; i < m->ncolls; i++)
		for (int k = 0; k < m->colls[i]->npoints; k++) {
			struct sim_point *p = m->colls[i]->points[k];
			if (p->vm != vi || p->source_rp || p->state == PS_DELETING)
				continue;
			n++;
			if (p->state == PS_CREATING)
				*creating = 1;
		}
	return n;
}

/* Whether two copy sources (NULL for none) are the same. */
static int same_source(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b;
	return !strcasecmp(a, b);
}

/* Azure's documented copy rules (armsim(1)); 0 when the copy may start. */
static int copy_check(struct sim_resp *r, struct sim_coll *c, const char *src_id,
		      struct sim_point **srcp)
{
	struct sim_model *m = &sim_g.m;
	struct sim_coll *sc = NULL;
	if (!c->is_copy) {
		sim_resp_error(r, 400, "InvalidParameter",
			       "sourceRestorePoint can only be given in a collection whose source "
			       "is a restore point collection in another region.");
		return -22;
	}
	struct sim_point *sp = sim_model_find_point_id(m, src_id, &sc);
	if (!sp || sp->state == PS_DELETING) {
		char rg[300], cn[300], pt[300];
		if (sim_id_split(src_id, rg, sizeof rg, cn, sizeof cn, pt, sizeof pt))
			snprintf(pt, sizeof pt, "%s", src_id), snprintf(rg, sizeof rg, "?"),
			    snprintf(cn, sizeof cn, "?");
		sim_resp_error(
		    r, 404, "ResourceNotFound",
		    "The Resource 'Microsoft.Compute/restorePointCollections/%s/restorePoints/%s' "
		    "under resource group '%s' was not found. %s",
		    cn, pt, rg, NOT_FOUND_FIX);
		return -2;
	}
	if (sp->source_rp) {
		sim_resp_error(
		    r, 400, "OperationNotAllowed",
		    "The source restore point is itself a copy; a copy of a copy is not allowed.");
		return -22;
	}
	if (sim_model_find_coll_id(m, c->source_id) != sc) {
		sim_resp_error(r, 400, "InvalidParameter",
			       "The source restore point must belong to the collection's source "
			       "collection '%s'.",
			       c->source_id);
		return -22;
	}
	if (sp->state != PS_SUCCEEDED) {
		sim_resp_error(r, 409, "OperationNotAllowed",
			       "The source restore point is in state '%s'; only a Succeeded "
			       "restore point can be copied.",
			       sim_pstate_name(sp->state));
		return -16;
	}
	for (int i = 0; i < m->ncolls; i++) {
		struct sim_coll *tc = m->colls[i];
		if (strcasecmp(tc->location, c->location))
			continue;
		for (int k = 0; k < tc->npoints; k++) {
			struct sim_point *p = tc->points[k];
			if (!p->source_rp || p->state == PS_DELETING)
				continue;
			if (!strcasecmp(p->source_rp, src_id)) {
				sim_resp_error(
				    r, 409, "OperationNotAllowed",
				    "The source restore point has already been copied to region "
				    "'%s'; it can be copied only once per target region.",
				    c->location);
				return -17;
			}
			struct sim_coll *oc = NULL;
			struct sim_point *op = sim_model_find_point_id(m, p->source_rp, &oc);
			if (op && oc == sc && op->created > sp->created) {
				sim_resp_error(r, 409, "OperationNotAllowed",
					       "A later restore point ('%s') of the source "
					       "collection has already been copied to region '%s'; "
					       "copies must be made in order.",
					       op->name, c->location);
				return -16;
			}
		}
	}
	*srcp = sp;
	return 0;
}

/* RestorePoints_Create: from the VM, or a cross-region copy. */
static void point_put(struct sim_req *q, struct sim_resp *r, struct sim_coll *c)
{
	struct sim_model *m = &sim_g.m;
	if (!sim_name_valid(q->point)) {
		sim_resp_error(r, 400, "InvalidResourceName",
			       "Resource name %s is invalid. The name can be up to 260 characters "
			       "in length and cannot contain <>%%&:\\?/ or control characters.",
			       q->point);
		return;
	}
	if (body_object(q, r))
		return;
	if (c->deleting) {
		sim_resp_error(r, 409, "OperationNotAllowed",
			       "The collection '%s' is being deleted.", c->name);
		return;
	}
	const char *src = sim_jget_path(q->jbody, "properties", "sourceRestorePoint", "id");
	const char *ps = sim_jget_path(q->jbody, "properties", "provisioningState", NULL);
	struct sim_point *p = sim_coll_find_point(c, q->point, NULL);
	/* ARM RPC: a provisioningState in a PUT body must match the server's */
	if (ps && p && strcmp(ps, sim_pstate_name(p->state))) {
		sim_resp_error(
		    r, 400, "InvalidParameter",
		    "The provisioningState '%s' in the request does not match the resource's.", ps);
		return;
	}
	if (p) {
		/* An idempotent retry gets the point; anything else is an update. */
		if (p->state != PS_DELETING && same_source(p->source_rp, src)) {
			sim_resp_json(r, 200, sim_json_point(m, c, p, 0));
			return;
		}
		sim_resp_error(
		    r, 409, "OperationNotAllowed",
		    "Restore point '%s' already exists; updating a restore point is not allowed.",
		    p->name);
		return;
	}
	double now = sim_now();
	json_object *props = NULL, *x;
	if (q->jbody)
		json_object_object_get_ex(q->jbody, "properties", &props);
	int ia = 0;
	if (props && json_object_object_get_ex(props, "instantAccessDurationMinutes", &x) && x) {
		ia = json_object_get_int(x);
		if (!json_object_is_type(x, json_type_int) || ia < 60 || ia > 300) {
			sim_resp_error(
			    r, 400, "InvalidParameter",
			    "instantAccessDurationMinutes must be an integer from 60 to 300.");
			return;
		}
	}
	if (src) {
		struct sim_point *sp = NULL;
		if (copy_check(r, c, src, &sp))
			return;
		p = sim_coll_add_point(c, q->point);
		struct sim_coll *sc = NULL;
		sim_model_find_point_id(m, src, &sc);
		p->source_rp = sim_point_id(m, sc, sp);
		p->vm = sp->vm;
		p->exclude = sp->exclude;
		p->consistency = sim_xstrdup(sp->consistency);
		const struct sim_vm *v = p->vm >= 0 ? &m->vms[p->vm] : NULL;
		for (int i = 0; v && i < v->ndisks; i++)
			if (v->disks[i].des && !(p->exclude & (1u << i)))
				p->pmk = 1; /* documented: a CMK source becomes a PMK copy */
		p->instant_access_min = ia;
	} else {
		if (c->is_copy) {
			sim_resp_error(r, 400, "InvalidParameter",
				       "Restore points in a cross-region collection can only be "
				       "created as copies (properties.sourceRestorePoint).");
			return;
		}
		int vi = sim_coll_vm(m, c);
		if (vi < 0) {
			sim_resp_error(r, 404, "ResourceNotFound",
				       "The source VM '%s' of the collection was not found. %s",
				       c->source_id, NOT_FOUND_FIX);
			return;
		}
		int creating, n = vm_points(m, vi, &creating);
		if (n >= SIM_MAX_POINTS_PER_VM) {
			sim_resp_error(
			    r, 409, "VMRestorePointClientError",
			    "The VM has reached the maximum allowed snapshot limit of %d restore "
			    "points. Delete existing restore points before creating new ones.",
			    SIM_MAX_POINTS_PER_VM);
			return;
		}
		if (creating) {
			sim_resp_error(
			    r, 409, "VMRestorePointClientError",
			    "Another restore point operation is in progress on this VM. Only one "
			    "restore point can be created at a time; retry when it completes.");
			return;
		}
		const char *cm = sim_jget_path(q->jbody, "properties", "consistencyMode", NULL);
		if (cm && strcmp(cm, "CrashConsistent")) {
			sim_resp_error(r, 400, "InvalidParameter",
				       "consistencyMode '%s' is not accepted; only "
				       "'CrashConsistent' may be requested.",
				       cm);
			return;
		}
		const struct sim_vm *v = &m->vms[vi];
		unsigned ex = 0;
		json_object *exd;
		if (props && json_object_object_get_ex(props, "excludeDisks", &exd) && exd) {
			int ok = json_object_is_type(exd, json_type_array);
			for (size_t i = 0; ok && i < json_object_array_length(exd); i++) {
				const char *did = sim_jget_path(json_object_array_get_idx(exd, i),
								"id", NULL, NULL);
				int found = 0;
				for (int d = 0; did && d < v->ndisks; d++)
					if (!strcasecmp(v->disks[d].id, did)) {
						ex |= 1u << d;
						found = 1;
					}
				if (!found) {
					sim_resp_error(
					    r, 400, "InvalidParameter",
					    "excludeDisks: '%s' is not a disk of the VM '%s'.",
					    did ? did : "(null)", v->name);
					return;
				}
			}
			if (!ok) {
				sim_resp_error(r, 400, "InvalidRequestContent",
					       "excludeDisks must be an array.");
				return;
			}
		}
		p = sim_coll_add_point(c, q->point);
		p->vm = vi;
		p->exclude = ex;
		p->consistency =
		    sim_xstrdup(cm				 ? cm
				: !strcmp(v->os_type, "Windows") ? "ApplicationConsistent"
								 : "FileSystemConsistent");
		p->instant_access_min = ia;
	}
	p->state = PS_CREATING;
	p->created = now;
	p->ready_at = now + sim_g.o.create_seconds;
	if (p->source_rp)
		sim_point_start_copy(p, &m->vms[p->vm], p->ready_at, sim_g.o.copy_seconds);
	sim_model_note_event(m, p->ready_at);
	char *pid = sim_point_id(m, c, p);
	struct sim_op *op = sim_op_new(OP_RP_CREATE, c->location, pid);
	free(pid);
	lro_headers(q, r, op);
	sim_state_save();
	sim_resp_json(r, 201, sim_json_point(m, c, p, 0));
}

/* RestorePoints_Delete: 202 and an operation, or 204 when absent. */
static void point_delete(struct sim_req *q, struct sim_resp *r, struct sim_coll *c)
{
	struct sim_point *p = c ? sim_coll_find_point(c, q->point, NULL) : NULL;
	if (!p) {
		r->status = 204;
		return;
	}
	if (p->state != PS_DELETING) {
		p->state = PS_DELETING;
		p->del_at = sim_now() + sim_g.o.delete_seconds;
		sim_model_note_event(&sim_g.m, p->del_at);
	}
	char *pid = sim_point_id(&sim_g.m, c, p);
	struct sim_op *op = sim_op_new(OP_RP_DELETE, c->location, pid);
	free(pid);
	lro_headers(q, r, op);
	r->status = 202;
	sim_state_save();
}

/* Operations_Get, as the Azure-AsyncOperation URL or the Location URL (monitor=true). */
static void op_get(struct sim_req *q, struct sim_resp *r)
{
	struct sim_op *op = sim_op_find(q->opname);
	if (!op || strcasecmp(op->location, q->loc)) {
		sim_resp_error(r, 404, "NotFound", "The operation '%s' was not found.", q->opname);
		return;
	}
	const char *code = NULL, *msg = NULL;
	int st = sim_op_status(op, &code, &msg);
	if (q->monitor) {
		if (st == 0) {
			char url[8192], ra[16];
			snprintf(url, sizeof url, "%s%s?%s", q->base, q->path, q->query);
			sim_resp_header(r, "Location", url);
			snprintf(ra, sizeof ra, "%d", sim_g.o.retry_after);
			sim_resp_header(r, "Retry-After", ra);
			r->status = 202;
			return;
		}
		if (op->kind == OP_DISK_GRANT) {
			json_object *o = json_object_new_object();
			jadd(o, "accessSAS", json_object_new_string(op->result ? op->result : ""));
			sim_resp_json(r, 200, o);
			return;
		}
		if (op->kind == OP_DISK_REVOKE) {
			r->status = 200;
			return;
		}
		if (op->kind == OP_RP_CREATE) {
			struct sim_coll *c = NULL;
			struct sim_point *p = sim_model_find_point_id(&sim_g.m, op->target, &c);
			if (p) {
				sim_resp_json(r, 200, sim_json_point(&sim_g.m, c, p, 0));
				return;
			}
		}
		r->status = 204;
		return;
	}
	json_object *o = json_object_new_object();
	char t[64];
	sim_fmt_time(op->start, t, sizeof t);
	jadd(o, "startTime", json_object_new_string(t));
	if (st) {
		sim_fmt_time(sim_now(), t, sizeof t);
		jadd(o, "endTime", json_object_new_string(t));
	}
	jadd(o, "status",
	     json_object_new_string(st == 0   ? "InProgress"
				    : st == 1 ? "Succeeded"
					      : "Failed"));
	if (st == 2) {
		json_object *e = json_object_new_object();
		jadd(e, "code", json_object_new_string(code));
		jadd(e, "message", json_object_new_string(msg));
		jadd(o, "error", e);
	}
	jadd(o, "name", json_object_new_string(op->id));
	if (st == 1 && op->kind == OP_DISK_GRANT) {
		json_object *pr = json_object_new_object(), *out = json_object_new_object();
		jadd(out, "accessSAS", json_object_new_string(op->result ? op->result : ""));
		jadd(pr, "output", out);
		jadd(o, "properties", pr);
	}
	if (st == 0) {
		char ra_now[16];
		snprintf(ra_now, sizeof ra_now, "%d", sim_g.o.retry_after);
		sim_resp_header(r, "Retry-After", ra_now);
	}
	sim_resp_json(r, 200, o);
}

/* Answer one ARM request (authenticated, version checked). */
void sim_arm_handle(struct sim_req *q, struct sim_resp *r)
{
	struct sim_model *m = &sim_g.m;
	if (q->route != R_SUBS && strcasecmp(q->sub, m->sub)) {
		sim_resp_error(r, 404, "SubscriptionNotFound",
			       "The subscription '%s' could not be found.", q->sub);
		return;
	}
	switch (q->route) {
	case R_SUBS: {
		json_object *o = json_object_new_object(), *cnt = json_object_new_object();
		json_object *a = json_object_new_array();
		json_object_array_add(a, sim_json_subscription(m));
		jadd(cnt, "type", json_object_new_string("Total"));
		jadd(cnt, "value", json_object_new_int(1));
		jadd(o, "count", cnt);
		jadd(o, "value", a);
		sim_resp_json(r, 200, o);
		return;
	}
	case R_SUB:
		sim_resp_json(r, 200, sim_json_subscription(m));
		return;
	case R_LOCS: {
		json_object *o = json_object_new_object(), *a = json_object_new_array();
		for (int i = 0; i < m->nlocs; i++)
			json_object_array_add(a, sim_json_location(m, &m->locs[i]));
		jadd(o, "value", a);
		sim_resp_json(r, 200, o);
		return;
	}
	case R_RGS: {
		json_object **items = calloc((size_t)m->nrgs + 1, sizeof *items);
		if (!items)
			abort();
		for (int i = 0; i < m->nrgs; i++)
			items[i] = sim_json_rg(m, &m->rgs[i]);
		sim_arm_page_out(q, r, items, m->nrgs);
		free(items);
		return;
	}
	case R_RG: {
		struct sim_rg *g = sim_model_find_rg(m, q->rg);
		if (!g)
			return rg_not_found(r, q->rg);
		sim_resp_json(r, 200, sim_json_rg(m, g));
		return;
	}
	case R_LISTALL:
		coll_list(q, r, NULL);
		return;
	case R_LIST:
		if (!sim_model_find_rg(m, q->rg))
			return rg_not_found(r, q->rg);
		coll_list(q, r, q->rg);
		return;
	case R_OP:
		op_get(q, r);
		return;
	case R_DRPS:
	case R_DRP:
	case R_GRANT:
	case R_REVOKE:
		sim_drp_handle(q, r);
		return;
	default:
		break;
	}
	if (!sim_model_find_rg(m, q->rg) && strcmp(q->method, "DELETE")) {
		/* a collection whose id spells the group in another case still counts */
		if (!sim_model_find_coll(m, q->rg, q->coll, NULL))
			return rg_not_found(r, q->rg);
	}
	struct sim_coll *c = sim_model_find_coll(m, q->rg, q->coll, NULL);
	if (q->route == R_COLL) {
		if (!strcmp(q->method, "PUT"))
			return coll_put(q, r);
		if (!strcmp(q->method, "DELETE"))
			return coll_delete(q, r, c);
		if (!c)
			return not_found(r, "restorePointCollections", q->coll, q->rg);
		if (!strcmp(q->method, "PATCH"))
			return coll_patch(q, r, c);
		const char *ex = sim_arm_arg(q, "$expand");
		sim_resp_json(r, 200, sim_json_coll(m, c, ex && !strcasecmp(ex, "restorePoints")));
		return;
	}
	/* R_POINT */
	if (!strcmp(q->method, "DELETE"))
		return point_delete(q, r, c);
	if (!c)
		return not_found(r, "restorePointCollections", q->coll, q->rg);
	if (!strcmp(q->method, "PUT"))
		return point_put(q, r, c);
	struct sim_point *p = sim_coll_find_point(c, q->point, NULL);
	if (!p) {
		sim_resp_error(
		    r, 404, "ResourceNotFound",
		    "The Resource 'Microsoft.Compute/restorePointCollections/%s/restorePoints/%s' "
		    "under resource group '%s' was not found. %s",
		    q->coll, q->point, q->rg, NOT_FOUND_FIX);
		return;
	}
	const char *ex = sim_arm_arg(q, "$expand");
	sim_resp_json(r, 200, sim_json_point(m, c, p, ex && !strcasecmp(ex, "instanceView")));
}
