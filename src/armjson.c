/*
 * armjson.c - ARM JSON parsing and rendering; the only json-c user.
 *
 * Why it is built this way: everything above (arm.c, the cache, the tree)
 * handles plain C structs, so a change of JSON library or of ARM's shapes
 * stays inside this file.  Input is untrusted: the tokener depth is bounded,
 * trailing garbage is refused, each required field is checked for presence
 * and type, and optional fields of the wrong type are treated as absent.
 *
 * The collection.json and restorepoint.json views are the resource as ARM
 * returned it minus the parts that have their own files (restorePoints,
 * instanceView), printed by json-c's pretty printer so the same answer
 * always gives the same bytes.  A point keeps only json-c's compact print
 * (a pretty copy of every cached point would be most of rpfs's memory):
 * armj_pretty turns it into exactly the bytes of json-c's pretty print
 * (a purely structural rewrite: both prints share strings and numbers), so
 * the view's length is known at parse time and the view is rendered on open.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arm_id.h"
#include "armjson.h"
#include "log.h"

#define PRETTY (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
#define PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define ARMJ_NAME_MAX 1040 /* bytes: ARM's 260 characters of up to 4 bytes */
/* A well-formed resource whose name (or location, or a disk's name) cannot
 * be a file name: a list leaves it out, a single answer is -EIO. */
#define ARMJ_UNSHOWN (-EILSEQ)

/* 1 when a name from ARM can be a file name: not empty, ".", ".." and
 * without '/' or control characters, well-formed UTF-8 (ARM names always
 * are; a bad answer must not add path steps, lines to the files that list
 * names, or bytes that are no characters). */
static int armj_name_ok(const char *name)
{
	if (strlen(name) > ARMJ_NAME_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/')
			return 0;
	/* strict UTF-8: json-c's check lets overlong forms through */
	if (!arm_utf8_ok(name))
		return 0;
	return *name && strcmp(name, ".") && strcmp(name, "..");
}

/* Parse a whole body into a json-c tree, or -EIO. */
static int armj_load(const char *body, size_t len, json_object **out)
{
	struct json_tokener *tok;
	json_object *o;
	size_t off;
	int rc = -EIO;

	*out = NULL;
	if (!body || len == 0 || len > INT_MAX)
		return -EIO;
	tok = json_tokener_new_ex(ARMJ_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
#ifdef JSON_TOKENER_VALIDATE_UTF8
	/* JSON is UTF-8 (RFC 8259): other bytes would become file names */
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
#endif
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	off = json_tokener_get_parse_end(tok);
	for (; off < len; off++)
		if (body[off] != ' ' && body[off] != '\n' && body[off] != '\r' && body[off] != '\t')
			goto out;
	*out = o;
	o = NULL;
	rc = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* 0 when body is well-formed JSON. */
int armj_valid(const char *body, size_t len)
{
	json_object *o;
	int rc = armj_load(body, len, &o);

	json_object_put(o);
	return rc;
}

/* Child object of o named key, or NULL when absent or not an object. */
static json_object *armj_obj(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* String member: 0 with *out set (NULL when absent/optional), -EIO when
 * required and absent or wrongly typed, -ENOMEM. */
static int armj_str(json_object *o, const char *key, int required, char **out)
{
	json_object *v;

	*out = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return required ? -EIO : 0;
	if (!json_object_is_type(v, json_type_string))
		return required ? -EIO : 0;
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

/* Borrowed string member or NULL. */
static const char *armj_cstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Integer member (int or integral double), or def. */
static long armj_int(json_object *o, const char *key, long def)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return def;
	if (json_object_is_type(v, json_type_int))
		return (long)json_object_get_int64(v);
	if (json_object_is_type(v, json_type_double))
		return (long)json_object_get_double(v);
	return def;
}

/* Pretty-print o with a trailing newline; caller frees. */
static char *armj_print(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, PRETTY);
	size_t n;
	char *r;

	if (!s)
		return NULL;
	n = strlen(s);
	r = malloc(n + 2);
	if (!r)
		return NULL;
	memcpy(r, s, n);
	r[n] = '\n';
	r[n + 1] = '\0';
	return r;
}

/* Append n spaces of indentation for level (json-c: two per level). */
static size_t armj_indent(char *out, size_t n, int level)
{
	for (int i = 0; i < 2 * level; i++, n++)
		if (out)
			out[n] = ' ';
	return n;
}

/* Rewrite json-c's compact print (PLAIN) as its pretty print (PRETTY) plus
 * a newline: the layout json-c gives ("{\n", two spaces a level, "key": value,
 * ",\n", empty containers as "{\n<indent>}").  out NULL: only count.
 * Returns the length (out is NUL-terminated after it). */
size_t armj_pretty(const char *in, char *out)
{
	size_t n = 0;
	int level = 0;

#define ARMJ_PUT(ch)                                                                               \
	do {                                                                                       \
		if (out)                                                                           \
			out[n] = (ch);                                                             \
		n++;                                                                               \
	} while (0)
	for (const char *p = in; p && *p; p++) {
		char c = *p;

		switch (c) {
		case '"':
			ARMJ_PUT(c);
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1]) {
					ARMJ_PUT(*p);
					p++;
				}
				ARMJ_PUT(*p);
			}
			if (!*p)
				goto end;
			ARMJ_PUT('"');
			break;
		case '{':
		case '[':
			ARMJ_PUT(c);
			ARMJ_PUT('\n');
			if (p[1] == '}' || p[1] == ']') {
				n = armj_indent(out, n, level);
				ARMJ_PUT(p[1]);
				p++;
			} else {
				n = armj_indent(out, n, ++level);
			}
			break;
		case '}':
		case ']':
			ARMJ_PUT('\n');
			n = armj_indent(out, n, --level);
			ARMJ_PUT(c);
			break;
		case ',':
			ARMJ_PUT(',');
			ARMJ_PUT('\n');
			n = armj_indent(out, n, level);
			break;
		case ':':
			ARMJ_PUT(':');
			ARMJ_PUT(' ');
			break;
		default:
			ARMJ_PUT(c);
		}
	}
end:
	ARMJ_PUT('\n');
	if (out)
		out[n] = '\0';
#undef ARMJ_PUT
	return n;
}

/* 1 when s is a GUID (8-4-4-4-12 hex digits). */
static int armj_is_guid(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		char ch = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return 0;
		} else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
			     (ch >= 'A' && ch <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

/* Disk name from a disk restore point id. */
char *armj_disk_name_from_drp_id(const char *id)
{
	const char *seg = strrchr(id, '/');
	size_t n;
	char *r;

	seg = seg ? seg + 1 : id;
	n = strlen(seg);
	if (n > 37 && seg[n - 37] == '_' && armj_is_guid(seg + n - 36, 36))
		n -= 37;
	r = malloc(n + 1);
	if (!r)
		return NULL;
	memcpy(r, seg, n);
	r[n] = '\0';
	return r;
}

/* Add a string or null member to a view object. */
static void armj_add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

/* Parse one disk of sourceMetadata.storageProfile; lun -1 for the OS disk. */
static int armj_parse_disk(json_object *o, int lun, struct arm_disk *d)
{
	json_object *md = armj_obj(o, "managedDisk");
	json_object *drp = armj_obj(o, "diskRestorePoint");
	json_object *view = NULL;
	int rc;

	memset(d, 0, sizeof(*d));
	d->lun = lun;
	d->size_gb = (int)armj_int(o, "diskSizeGB", -1);
	if ((rc = armj_str(o, "name", 0, &d->name)) ||
	    (rc = armj_str(o, "caching", 0, &d->caching)) ||
	    (rc = armj_str(md, "storageAccountType", 0, &d->storage_type)) ||
	    (rc = armj_str(md, "id", 0, &d->disk_id)) ||
	    (rc = armj_str(drp, "id", 0, &d->disk_rp_id)) ||
	    (rc = armj_str(armj_obj(drp, "encryption"), "type", 0, &d->encryption_type)))
		goto fail;
	d->has_drp = d->disk_rp_id != NULL;
	if (!d->name && d->disk_rp_id)
		d->name = armj_disk_name_from_drp_id(d->disk_rp_id);
	if (!d->name) {
		char tmp[32];
		if (lun < 0)
			snprintf(tmp, sizeof(tmp), "osdisk");
		else
			snprintf(tmp, sizeof(tmp), "lun%d", lun);
		d->name = strdup(tmp);
	}
	rc = -ENOMEM;
	if (!d->name)
		goto fail;
	rc = ARMJ_UNSHOWN;
	if (!armj_name_ok(d->name))
		goto fail;
	rc = -ENOMEM;
	view = json_object_new_object();
	if (!view)
		goto fail;
	armj_add_str(view, "name", d->name);
	json_object_object_add(view, "lun", lun >= 0 ? json_object_new_int(lun) : NULL);
	json_object_object_add(view, "sizeGB",
			       d->size_gb >= 0 ? json_object_new_int(d->size_gb) : NULL);
	armj_add_str(view, "caching", d->caching);
	armj_add_str(view, "storageAccountType", d->storage_type);
	armj_add_str(view, "diskRestorePointId", d->disk_rp_id);
	armj_add_str(view, "encryptionType", d->encryption_type);
	d->json = armj_print(view);
	json_object_put(view);
	if (!d->json)
		goto fail;
	d->json_len = strlen(d->json);
	return 0;
fail:
	arm_disk_clear(d);
	return rc;
}

/* Make s one capitalised word: drop white space, upper-case the first letter. */
static void armj_one_word(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++)
		if (*r != ' ' && *r != '\t' && *r != '\n' && *r != '\r')
			*w++ = *r;
	*w = '\0';
	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 32);
}

/* "CODE: MESSAGE" of status st when its level is Error, else NULL. */
static char *armj_status_error(json_object *st)
{
	const char *lvl = armj_cstr(st, "level"), *code = armj_cstr(st, "code");
	const char *msg = armj_cstr(st, "message"), *ds = armj_cstr(st, "displayStatus");
	char buf[512];

	if (!lvl || strcasecmp(lvl, "Error"))
		return NULL;
	snprintf(buf, sizeof(buf), "%s: %s", code && *code ? code : "Error",
		 msg && *msg ? msg
		 : ds && *ds ? ds
			     : "failed");
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return strdup(buf);
}

/* Why the point failed, from the instance view: its first status of level
 * Error (overall, else a disk's replication status). */
static int armj_parse_iv_error(json_object *iv, struct arm_rp *rp)
{
	json_object *arr;
	size_t i, n;

	if (json_object_object_get_ex(iv, "statuses", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n && !rp->iv_error; i++)
			rp->iv_error = armj_status_error(json_object_array_get_idx(arr, i));
	}
	if (!rp->iv_error && json_object_object_get_ex(iv, "diskRestorePoints", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n && !rp->iv_error; i++) {
			json_object *rs =
			    armj_obj(json_object_array_get_idx(arr, i), "replicationStatus");
			rp->iv_error = armj_status_error(armj_obj(rs, "status"));
		}
	}
	return 0;
}

/* Parse the instance view's per-disk replication progress. */
static int armj_parse_progress(json_object *iv, struct arm_rp *rp)
{
	json_object *arr;
	size_t i, n;

	if (!json_object_object_get_ex(iv, "diskRestorePoints", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	if (n > ARMJ_MAX_ITEMS)
		return -EIO;
	if (!n)
		return 0;
	rp->progress = calloc(n, sizeof(*rp->progress));
	if (!rp->progress)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		json_object *rs = armj_obj(e, "replicationStatus");
		json_object *st = armj_obj(rs, "status");
		struct arm_disk_progress *p = &rp->progress[rp->nprogress];
		const char *id = armj_cstr(e, "id");
		const char *ds = armj_cstr(st, "displayStatus");
		const char *code = armj_cstr(st, "code");
		long pct = armj_int(rs, "completionPercent", 0);
		char tmp[32];

		if (!json_object_is_type(e, json_type_object))
			return -EIO;
		if (id) {
			p->name = armj_disk_name_from_drp_id(id);
		} else {
			snprintf(tmp, sizeof(tmp), "disk%zu", i);
			p->name = strdup(tmp);
		}
		if (!p->name)
			return -ENOMEM;
		rp->nprogress++;
		if (!armj_name_ok(p->name))
			return -EIO; /* it starts a line of `progress` */
		p->percent = (int)(pct < 0 ? 0 : pct > 100 ? 100 : pct);
		/* One word, so `progress` lines split into NAME PERCENT STATUS:
		 * the code's tail ("ReplicationState/inProgress" -> "InProgress"),
		 * else displayStatus without its spaces. */
		if (code && *code) {
			const char *t = strrchr(code, '/');
			p->status = strdup(t ? t + 1 : code);
		} else {
			p->status = strdup(ds && *ds ? ds : "Unknown");
		}
		if (!p->status)
			return -ENOMEM;
		armj_one_word(p->status);
		if (!p->status[0]) {
			free(p->status);
			p->status = strdup("Unknown");
			if (!p->status)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Fill an arm_rp from its JSON object; takes nothing from o (may edit it). */
static int armj_rp_from(json_object *o, struct arm_rp *rp)
{
	json_object *props, *sm, *sp, *iv, *dd;
	int rc;

	memset(rp, 0, sizeof(*rp));
	if (!json_object_is_type(o, json_type_object))
		return -EIO;
	props = armj_obj(o, "properties");
	sm = armj_obj(props, "sourceMetadata");
	sp = armj_obj(sm, "storageProfile");
	if ((rc = armj_str(o, "id", 1, &rp->id)) || (rc = armj_str(o, "name", 1, &rp->name)) ||
	    (rc = armj_str(props, "provisioningState", 0, &rp->state)) ||
	    (rc = armj_str(props, "consistencyMode", 0, &rp->consistency)) ||
	    (rc = armj_str(props, "timeCreated", 0, &rp->time_created)) ||
	    (rc = armj_str(armj_obj(props, "sourceRestorePoint"), "id", 0, &rp->source_rp_id)) ||
	    (rc = armj_str(sm, "location", 0, &rp->source_location)))
		goto fail;
	if (!armj_name_ok(rp->name)) {
		rc = ARMJ_UNSHOWN;
		goto fail;
	}
	if (sp) {
		json_object *os = armj_obj(sp, "osDisk");
		size_t nd = 0, i;

		if (json_object_object_get_ex(sp, "dataDisks", &dd) &&
		    json_object_is_type(dd, json_type_array))
			nd = json_object_array_length(dd);
		else
			dd = NULL;
		if (nd > 4096) {
			rc = -EIO;
			goto fail;
		}
		if (os || nd) {
			rp->disks = calloc(nd + 1, sizeof(*rp->disks));
			rc = -ENOMEM;
			if (!rp->disks)
				goto fail;
		}
		if (os) {
			if ((rc = armj_parse_disk(os, -1, &rp->disks[rp->ndisks])))
				goto fail;
			rp->ndisks++;
		}
		for (i = 0; i < nd; i++) {
			json_object *e = json_object_array_get_idx(dd, i);
			if (!json_object_is_type(e, json_type_object)) {
				rc = -EIO;
				goto fail;
			}
			if ((rc = armj_parse_disk(e, (int)armj_int(e, "lun", (long)i),
						  &rp->disks[rp->ndisks])))
				goto fail;
			rp->ndisks++;
		}
	}
	iv = armj_obj(props, "instanceView");
	if (iv) {
		rp->has_instance_view = 1;
		if ((rc = armj_parse_progress(iv, rp)))
			goto fail;
		armj_parse_iv_error(iv, rp);
		json_object_object_del(props, "instanceView");
	}
	rc = -ENOMEM;
	{
		const char *plain = json_object_to_json_string_ext(o, PLAIN);

		rp->cjson = plain ? strdup(plain) : NULL;
	}
	if (!rp->cjson)
		goto fail;
	rp->json_len = armj_pretty(rp->cjson, NULL);
	return 0;
fail:
	arm_rp_clear(rp);
	return rc;
}

/* A restore point. */
int armj_parse_rp(const char *body, size_t len, struct arm_rp *out)
{
	json_object *o;
	int rc = armj_load(body, len, &o);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = armj_rp_from(o, out);
	json_object_put(o);
	return rc == ARMJ_UNSHOWN ? -EIO : rc;
}

/* The restorepoint.json view of a point, rendered from its compact JSON. */
int arm_rp_json(const struct arm_rp *rp, char **out)
{
	const char *in = rp->cjson ? rp->cjson : "{}";
	size_t n = rp->cjson ? rp->json_len : armj_pretty(in, NULL);
	char *s = malloc(n + 1);

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if (armj_pretty(in, s) != n) {
		free(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

/* Disk i of a point parsed again from its compact JSON into *d (caller
 * clears it with arm_disk_clear). */
static int armj_rp_disk(const struct arm_rp *rp, size_t i, struct arm_disk *d)
{
	json_object *o = NULL, *sp, *os, *dd = NULL, *e = NULL;
	size_t k = i;
	int rc;

	if (!rp->cjson)
		return -EIO;
	rc = armj_load(rp->cjson, strlen(rp->cjson), &o);
	if (rc)
		return rc;
	sp = armj_obj(armj_obj(armj_obj(o, "properties"), "sourceMetadata"), "storageProfile");
	os = armj_obj(sp, "osDisk");
	if (os && k == 0)
		e = os;
	else if (json_object_object_get_ex(sp, "dataDisks", &dd) &&
		 json_object_is_type(dd, json_type_array))
		e = json_object_array_get_idx(dd, k - (os ? 1 : 0));
	rc = -EIO;
	if (e && json_object_is_type(e, json_type_object)) {
		k -= os ? 1 : 0;
		rc = armj_parse_disk(e, e == os ? -1 : (int)armj_int(e, "lun", (long)k), d);
	}
	json_object_put(o);
	return rc == ARMJ_UNSHOWN ? -EIO : rc;
}

/* A string field of disk i (the one at offset field of struct arm_disk):
 * kept, else parsed again from the point.  -ENOENT when it has none. */
static int armj_disk_field(const struct arm_rp *rp, size_t i, size_t field, char **out)
{
	struct arm_disk d;
	char **kept, **got;
	int rc;

	*out = NULL;
	if (i >= rp->ndisks)
		return -ENOENT;
	kept = (char **)((char *)&rp->disks[i] + field);
	if (*kept) {
		*out = strdup(*kept);
		return *out ? 0 : -ENOMEM;
	}
	rc = armj_rp_disk(rp, i, &d);
	if (rc == 0) {
		got = (char **)((char *)&d + field);
		*out = *got;
		*got = NULL;
		arm_disk_clear(&d);
		if (!*out)
			rc = -ENOENT;
	}
	return rc;
}

/* The NAME.json view of disk i: kept, else parsed again from the point. */
int arm_rp_disk_json(const struct arm_rp *rp, size_t i, char **out)
{
	return armj_disk_field(rp, i, offsetof(struct arm_disk, json), out);
}

/* The disk restore point id of disk i: kept, else parsed again. */
int arm_rp_disk_rp_id(const struct arm_rp *rp, size_t i, char **out)
{
	return armj_disk_field(rp, i, offsetof(struct arm_disk, disk_rp_id), out);
}

/* Fill an arm_rpc from its JSON object (may edit o). */
static int armj_rpc_from(json_object *o, struct arm_rpc *rpc)
{
	json_object *props, *tags, *pts;
	struct arm_id *aid = NULL;
	int rc;

	memset(rpc, 0, sizeof(*rpc));
	if (!json_object_is_type(o, json_type_object))
		return -EIO;
	props = armj_obj(o, "properties");
	if ((rc = armj_str(o, "id", 1, &rpc->id)) || (rc = armj_str(o, "name", 1, &rpc->name)) ||
	    (rc = armj_str(o, "location", 1, &rpc->location)) ||
	    (rc = armj_str(props, "provisioningState", 0, &rpc->state)) ||
	    (rc = armj_str(armj_obj(props, "source"), "id", 0, &rpc->source_id)) ||
	    (rc = armj_str(armj_obj(props, "source"), "location", 0, &rpc->source_location)))
		goto fail;
	rc = arm_id_parse(rpc->id, &aid);
	if (rc || !aid->rpc || aid->rp) {
		rc = rc == -ENOMEM ? rc : -EIO;
		goto fail;
	}
	if (!armj_name_ok(rpc->name) || !armj_name_ok(rpc->location)) {
		rc = ARMJ_UNSHOWN;
		goto fail;
	}
	rpc->rg = strdup(aid->rg);
	rc = -ENOMEM;
	if (!rpc->rg)
		goto fail;
	tags = armj_obj(o, "tags");
	if (tags) {
		size_t n = (size_t)json_object_object_length(tags);
		if (n) {
			rpc->tags = calloc(n, sizeof(*rpc->tags));
			if (!rpc->tags)
				goto fail;
		}
		json_object_object_foreach(tags, k, v)
		{
			struct arm_tag *t;
			size_t vl;
			if (!json_object_is_type(v, json_type_string) || rpc->ntags >= n)
				continue;
			t = &rpc->tags[rpc->ntags];
			t->key = strdup(k);
			vl = (size_t)json_object_get_string_len(v);
			t->value = malloc(vl + 1);
			rpc->ntags++;
			if (!t->key || !t->value)
				goto fail;
			/* The whole value, NULs and what follows them included. */
			memcpy(t->value, json_object_get_string(v), vl + 1);
			for (size_t i = 0; i < vl; i++)
				if (!t->value[i])
					t->value[i] = ARM_TAG_NUL;
		}
	}
	if (props && json_object_object_get_ex(props, "restorePoints", &pts)) {
		size_t n, i;
		if (!json_object_is_type(pts, json_type_array)) {
			rc = -EIO;
			goto fail;
		}
		n = json_object_array_length(pts);
		if (n > ARMJ_MAX_ITEMS) {
			rc = -EIO;
			goto fail;
		}
		rpc->has_points = 1;
		if (n) {
			rpc->points = calloc(n, sizeof(*rpc->points));
			rc = -ENOMEM;
			if (!rpc->points)
				goto fail;
		}
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(pts, i);
			const char *pid = armj_cstr(e, "id");

			rc = armj_rp_from(e, &rpc->points[rpc->npoints]);
			if (rc == ARMJ_UNSHOWN) {
				/* One odd point must not hide the others. */
				log_warn(
				    "arm: a restore point of %.300s cannot be shown (a name or "
				    "disk name that is no file name): skipped: %.300s",
				    rpc->id, pid ? pid : "(no id)");
				continue;
			}
			if (rc)
				goto fail;
			rpc->npoints++;
		}
		json_object_object_del(props, "restorePoints");
	}
	rc = -ENOMEM;
	rpc->json = armj_print(o);
	if (!rpc->json)
		goto fail;
	free(aid);
	return 0;
fail:
	free(aid);
	arm_rpc_clear(rpc);
	return rc;
}

/* A restore point collection. */
int armj_parse_rpc(const char *body, size_t len, struct arm_rpc *out)
{
	json_object *o;
	int rc = armj_load(body, len, &o);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = armj_rpc_from(o, out);
	json_object_put(o);
	return rc == ARMJ_UNSHOWN ? -EIO : rc;
}

/* Load a list page: the value array and the nextLink. */
static int armj_page(const char *body, size_t len, json_object **root, json_object **arr,
		     char **next_link)
{
	json_object *nl;
	int rc;

	*next_link = NULL;
	rc = armj_load(body, len, root);
	if (rc)
		return rc;
	if (!json_object_is_type(*root, json_type_object) ||
	    !json_object_object_get_ex(*root, "value", arr) ||
	    !json_object_is_type(*arr, json_type_array) ||
	    json_object_array_length(*arr) > ARMJ_MAX_ITEMS) {
		json_object_put(*root);
		*root = NULL;
		return -EIO;
	}
	if (json_object_object_get_ex(*root, "nextLink", &nl) &&
	    !json_object_is_type(nl, json_type_null)) {
		if (!json_object_is_type(nl, json_type_string)) {
			json_object_put(*root);
			*root = NULL;
			return -EIO;
		}
		/* An empty nextLink is not a valid end marker, but treat it as one. */
		if (json_object_get_string_len(nl) > 0) {
			*next_link = strdup(json_object_get_string(nl));
			if (!*next_link) {
				json_object_put(*root);
				*root = NULL;
				return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Grow a pointer array to hold `need` elements. */
static int armj_grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t nc;
	void *nv;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	while (nc < need)
		nc *= 2;
	nv = realloc(*v, nc * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

/* One page of a collection list. */
int armj_parse_rpc_page(const char *body, size_t len, struct arm_rpc ***v, size_t *n, size_t *cap,
			char **next_link)
{
	json_object *root, *arr;
	size_t i, m, n0 = *n;
	int rc = armj_page(body, len, &root, &arr, next_link);

	if (rc)
		return rc;
	m = json_object_array_length(arr);
	rc = armj_grow((void **)v, cap, *n + m, sizeof(**v));
	if (rc)
		goto fail;
	for (i = 0; i < m; i++) {
		struct arm_rpc *r = calloc(1, sizeof(*r));
		rc = -ENOMEM;
		if (!r)
			goto fail;
		json_object *e = json_object_array_get_idx(arr, i);
		const char *cid = armj_cstr(e, "id");
		rc = armj_rpc_from(e, r);
		if (rc == ARMJ_UNSHOWN) {
			/* One odd collection must not hide the others. */
			log_warn("arm: a collection of a list answer cannot be shown (a name, "
				 "location or id that is no file name): skipped: %.300s",
				 cid ? cid : "(no id)");
			free(r);
			continue;
		}
		if (rc) {
			free(r);
			goto fail;
		}
		(*v)[(*n)++] = r;
	}
	json_object_put(root);
	return 0;
fail:
	while (*n > n0)
		arm_rpc_free((*v)[--(*n)]);
	free(*next_link);
	*next_link = NULL;
	json_object_put(root);
	return rc;
}

/* One page of subscription locations. */
int armj_parse_locations_page(const char *body, size_t len, struct arm_location **v, size_t *n,
			      size_t *cap, char **next_link)
{
	json_object *root, *arr;
	size_t i, m, n0 = *n;
	int rc = armj_page(body, len, &root, &arr, next_link);

	if (rc)
		return rc;
	m = json_object_array_length(arr);
	rc = armj_grow((void **)v, cap, *n + m, sizeof(**v));
	if (rc)
		goto fail;
	for (i = 0; i < m; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *rt = armj_cstr(armj_obj(e, "metadata"), "regionType");
		struct arm_location *l = &(*v)[*n];

		if (!json_object_is_type(e, json_type_object)) {
			rc = -EIO;
			goto fail;
		}
		if (rt && strcmp(rt, "Physical"))
			continue;
		memset(l, 0, sizeof(*l));
		if ((rc = armj_str(e, "name", 1, &l->name)))
			goto fail;
		if (!armj_name_ok(l->name)) {
			free(l->name);
			rc = -EIO;
			goto fail;
		}
		if ((rc = armj_str(e, "displayName", 0, &l->display_name))) {
			free(l->name);
			goto fail;
		}
		(*n)++;
	}
	json_object_put(root);
	return 0;
fail:
	while (*n > n0) {
		(*n)--;
		free((*v)[*n].name);
		free((*v)[*n].display_name);
	}
	free(*next_link);
	*next_link = NULL;
	json_object_put(root);
	return rc;
}

/* One page of a list of named things. */
int armj_parse_names_page(const char *body, size_t len, const char *field, char ***v, size_t *n,
			  size_t *cap, char **next_link)
{
	json_object *root, *arr;
	size_t i, m, n0 = *n;
	int rc = armj_page(body, len, &root, &arr, next_link);

	if (rc)
		return rc;
	m = json_object_array_length(arr);
	rc = armj_grow((void **)v, cap, *n + m, sizeof(**v));
	if (rc)
		goto fail;
	for (i = 0; i < m; i++) {
		char *s;
		if ((rc = armj_str(json_object_array_get_idx(arr, i), field, 1, &s)))
			goto fail;
		(*v)[(*n)++] = s;
	}
	json_object_put(root);
	return 0;
fail:
	while (*n > n0)
		free((*v)[--(*n)]);
	free(*next_link);
	*next_link = NULL;
	json_object_put(root);
	return rc;
}

/* The name of a resource. */
int armj_parse_name(const char *body, size_t len, char **name)
{
	json_object *o;
	int rc = armj_load(body, len, &o);

	*name = NULL;
	if (rc)
		return rc;
	rc = armj_str(o, "name", 1, name);
	json_object_put(o);
	return rc;
}

/* One string of an answer: key of the object (under member in, when in
 * is not NULL); -EIO when the answer is not an object, or when the string
 * is required and missing. */
static int armj_parse_one(const char *body, size_t len, const char *in, const char *key,
			  int required, char **out)
{
	json_object *o;
	int rc = armj_load(body, len, &o);

	*out = NULL;
	if (rc)
		return rc;
	if (!json_object_is_type(o, json_type_object))
		rc = -EIO;
	else
		rc = armj_str(in ? armj_obj(o, in) : o, key, required, out);
	json_object_put(o);
	return rc;
}

/* properties.provisioningState of a resource. */
int armj_parse_state(const char *body, size_t len, char **state)
{
	return armj_parse_one(body, len, "properties", "provisioningState", 0, state);
}

/* Copy a string into a fixed buffer (truncating). */
static void armj_copy(char *dst, size_t n, const char *src)
{
	if (n)
		snprintf(dst, n, "%s", src ? src : "");
}

/* An operation status document. */
int armj_parse_op_status(const char *body, size_t len, char **status, char *code, size_t codelen,
			 char *msg, size_t msglen)
{
	json_object *o, *e;
	int rc = armj_load(body, len, &o);

	*status = NULL;
	armj_copy(code, codelen, "");
	armj_copy(msg, msglen, "");
	if (rc)
		return rc;
	rc = armj_str(o, "status", 1, status);
	e = armj_obj(o, "error");
	if (!rc && e) {
		armj_copy(code, codelen, armj_cstr(e, "code"));
		armj_copy(msg, msglen, armj_cstr(e, "message"));
	}
	json_object_put(o);
	return rc;
}

/* A CloudError (or OAuth error) body. */
int armj_parse_cloud_error(const char *body, size_t len, char *code, size_t codelen, char *msg,
			   size_t msglen)
{
	json_object *o, *e;
	const char *c = NULL, *m = NULL;
	int rc = armj_load(body, len, &o);

	armj_copy(code, codelen, "");
	armj_copy(msg, msglen, "");
	if (rc)
		return rc;
	e = armj_obj(o, "error");
	if (e) {
		c = armj_cstr(e, "code");
		m = armj_cstr(e, "message");
	} else if (armj_cstr(o, "error")) {
		c = armj_cstr(o, "error");
		m = armj_cstr(o, "error_description");
	} else {
		c = armj_cstr(o, "code");
		m = armj_cstr(o, "message");
	}
	if (!c && !m)
		rc = -EIO;
	armj_copy(code, codelen, c);
	armj_copy(msg, msglen, m);
	json_object_put(o);
	return rc;
}

/* Epoch seconds from a number or a numeric string member, 0 when absent. */
static long long armj_num(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_int))
		return (long long)json_object_get_int64(v);
	if (json_object_is_type(v, json_type_double))
		return (long long)json_object_get_double(v);
	if (json_object_is_type(v, json_type_string)) {
		char *end;
		long long x = strtoll(json_object_get_string(v), &end, 10);
		return *end ? 0 : x;
	}
	return 0;
}

/* The Azure CLI's expiresOn, "YYYY-MM-DD HH:MM:SS[.ffffff]" in local time
 * (all that az 2.45 prints): epoch seconds, or 0. */
static long long armj_local_time(json_object *o, const char *key)
{
	json_object *v;
	struct tm tm;
	const char *p;
	time_t t;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return 0;
	memset(&tm, 0, sizeof(tm));
	p = strptime(json_object_get_string(v), "%Y-%m-%d %H:%M:%S", &tm);
	if (!p || (*p && *p != '.'))
		return 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	return t == (time_t)-1 ? 0 : (long long)t;
}

/* A token answer from Entra, IMDS or az. */
int armj_parse_token(const char *body, size_t len, char **token, time_t *expires_on, char **tenant)
{
	json_object *o;
	long long on, in;
	int rc = armj_load(body, len, &o);

	*token = NULL;
	*expires_on = 0;
	if (tenant)
		*tenant = NULL;
	if (rc)
		return rc;
	if (!json_object_is_type(o, json_type_object)) {
		rc = -EIO;
		goto out;
	}
	rc = armj_str(o, "access_token", 0, token);
	if (!rc && !*token)
		rc = armj_str(o, "accessToken", 1, token);
	if (rc)
		goto out;
	if (!**token) {
		free(*token);
		*token = NULL;
		rc = -EIO;
		goto out;
	}
	on = armj_num(o, "expires_on");
	if (on <= 0)
		on = armj_local_time(o, "expiresOn");
	in = armj_num(o, "expires_in");
	if (on > 0)
		*expires_on = (time_t)on;
	else if (in > 0)
		*expires_on = time(NULL) + (time_t)in;
	if (tenant && (rc = armj_str(o, "tenant", 0, tenant))) {
		explicit_bzero(*token, strlen(*token));
		free(*token);
		*token = NULL;
	}
out:
	if (o) {
		/* The tree holds the token: wipe the string before freeing. */
		json_object *v;
		if (json_object_is_type(o, json_type_object)) {
			if (json_object_object_get_ex(o, "access_token", &v) &&
			    json_object_is_type(v, json_type_string))
				explicit_bzero((char *)json_object_get_string(v),
					       (size_t)json_object_get_string_len(v));
			if (json_object_object_get_ex(o, "accessToken", &v) &&
			    json_object_is_type(v, json_type_string))
				explicit_bzero((char *)json_object_get_string(v),
					       (size_t)json_object_get_string_len(v));
		}
		json_object_put(o);
	}
	return rc;
}

/* Decode base64url (no padding needed); returns length or -1. */
static long armj_b64url(const char *in, size_t n, char *out, size_t cap)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char ch = in[i];
		int v;
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '-' || ch == '+')
			v = 62;
		else if (ch == '_' || ch == '/')
			v = 63;
		else if (ch == '=')
			break;
		else
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (long)o;
}

/* The "tid" claim of a JWT, or NULL. */
char *armj_jwt_tenant(const char *jwt)
{
	const char *a = strchr(jwt, '.'), *b;
	char buf[8192];
	long n;
	json_object *o;
	char *tid = NULL;

	if (!a)
		return NULL;
	b = strchr(a + 1, '.');
	if (!b || (size_t)(b - a - 1) > sizeof(buf) / 3 * 4)
		return NULL;
	n = armj_b64url(a + 1, (size_t)(b - a - 1), buf, sizeof(buf));
	if (n <= 0 || armj_load(buf, (size_t)n, &o))
		return NULL;
	if (json_object_is_type(o, json_type_object) && armj_str(o, "tid", 0, &tid))
		tid = NULL;
	json_object_put(o);
	return tid;
}

/* Compact JSON of o with no trailing newline; caller frees; puts o. */
static char *armj_render(json_object *o)
{
	char *r = NULL;
	const char *s;

	if (!o)
		return NULL;
	s = json_object_to_json_string_ext(o, PLAIN);
	if (s)
		r = strdup(s);
	json_object_put(o);
	return r;
}

/* A tags object from a tag array. */
static json_object *armj_tags(const struct arm_tag *tags, size_t ntags)
{
	json_object *t = json_object_new_object();
	size_t i;

	for (i = 0; t && i < ntags; i++) {
		const char *v = tags[i].value ? tags[i].value : "";
		char *nul = strchr(v, ARM_TAG_NUL) ? strdup(v) : NULL;

		if (nul) /* NULs kept as ARM_TAG_NUL go out as "\u0000" */
			for (char *p = nul; *p; p++)
				if (*p == ARM_TAG_NUL)
					*p = '\0';
		json_object_object_add(t, tags[i].key,
				       nul ? json_object_new_string_len(nul, (int)strlen(v))
					   : json_object_new_string(v));
		free(nul);
	}
	return t;
}

/* Body of RestorePointCollections_CreateOrUpdate. */
char *arm_body_put_collection(const char *location, const char *source_id,
			      const struct arm_tag *tags, size_t ntags)
{
	json_object *o = json_object_new_object(), *p, *s;

	if (!o)
		return NULL;
	json_object_object_add(o, "location", json_object_new_string(location ? location : ""));
	if (tags && ntags)
		json_object_object_add(o, "tags", armj_tags(tags, ntags));
	p = json_object_new_object();
	json_object_object_add(o, "properties", p);
	if (p && source_id) {
		s = json_object_new_object();
		json_object_object_add(p, "source", s);
		if (s)
			json_object_object_add(s, "id", json_object_new_string(source_id));
	}
	return armj_render(o);
}

/* Body of RestorePoints_Create. */
char *arm_body_put_rp(const char *source_rp_id, const char *consistency)
{
	json_object *o = json_object_new_object(), *p, *s;

	if (!o)
		return NULL;
	p = json_object_new_object();
	json_object_object_add(o, "properties", p);
	if (p && source_rp_id) {
		s = json_object_new_object();
		json_object_object_add(p, "sourceRestorePoint", s);
		if (s)
			json_object_object_add(s, "id", json_object_new_string(source_rp_id));
	} else if (p && consistency) {
		json_object_object_add(p, "consistencyMode", json_object_new_string(consistency));
	}
	return armj_render(o);
}

/* Body of DiskRestorePoint_GrantAccess: read access for duration_s. */
char *armj_body_grant_access(unsigned duration_s)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "access", json_object_new_string("Read"));
	json_object_object_add(o, "durationInSeconds", json_object_new_int64((int64_t)duration_s));
	return armj_render(o);
}

/* accessSAS of an AccessUri answer (required). */
int armj_parse_access_sas(const char *body, size_t len, char **sas)
{
	int rc = armj_parse_one(body, len, NULL, "accessSAS", 1, sas);

	if (rc == 0 && !**sas) {
		free(*sas);
		*sas = NULL;
		rc = -EIO;
	}
	return rc;
}

/* Body of RestorePointCollections_Update for tags. */
char *arm_body_patch_tags(const struct arm_tag *tags, size_t ntags)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "tags", armj_tags(tags, ntags));
	return armj_render(o);
}

/* The Azure CLI's default subscription from the text of azureProfile.json
 * (which the CLI writes with a UTF-8 byte order mark). */
int armj_az_default_subscription(const char *body, size_t len, char **out)
{
	json_object *o, *subs;
	int rc = -ENOENT;

	*out = NULL;
	if (len >= 3 && !memcmp(body, "\xef\xbb\xbf", 3)) {
		body += 3;
		len -= 3;
	}
	if (armj_load(body, len, &o) < 0)
		return -EIO;
	if (json_object_object_get_ex(o, "subscriptions", &subs) &&
	    json_object_is_type(subs, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(subs); i++) {
			json_object *s = json_object_array_get_idx(subs, i), *d, *id;

			if (json_object_object_get_ex(s, "isDefault", &d) &&
			    json_object_get_boolean(d) && json_object_object_get_ex(s, "id", &id) &&
			    json_object_is_type(id, json_type_string)) {
				*out = strdup(json_object_get_string(id));
				rc = *out ? 0 : -ENOMEM;
				break;
			}
		}
	}
	json_object_put(o);
	return rc;
}

/* The json-c version, for rpfs --version. */
const char *armj_version(void)
{
	return json_c_version();
}
