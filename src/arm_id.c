/*
 * arm_id.c - ARM ids, name rules and URL path building (pure, no I/O).
 *
 * ARM ids are the URL path without host, query or percent-encoding, so the
 * same helpers build both: arm_path_*() give ids (what the tree shows and
 * the cache keys on), arm_url_path_*() give the encoded paths sent on the
 * wire, where every segment is percent-encoded on its own.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arm_id.h"
#include "url.h"

/* Parse a collection, restore point or VM id. */
int arm_id_parse(const char *id, struct arm_id **out)
{
	struct arm_id *a;
	char *seg[16];
	size_t n = 0, len;
	char *p;

	*out = NULL;
	if (!id)
		return -EINVAL;
	len = strlen(id);
	if (len == 0 || len > 4096)
		return -EINVAL;
	a = calloc(1, sizeof(*a) + len + 1);
	if (!a)
		return -ENOMEM;
	if (id[0] == '/') {
		id++;
		len--;
	}
	memcpy(a->buf, id, len + 1);
	p = a->buf;
	while (p) {
		char *slash = strchr(p, '/');
		if (n >= 16)
			goto bad;
		if (slash)
			*slash = '\0';
		/* "." and ".." are no ARM names, and would be path steps in the tree */
		if (!*p || !strcmp(p, ".") || !strcmp(p, ".."))
			goto bad;
		seg[n++] = p;
		p = slash ? slash + 1 : NULL;
	}
	/* subscriptions S resourceGroups RG providers Microsoft.Compute TYPE NAME [restorePoints
	 * RP] */
	if (n < 8 || strcasecmp(seg[0], "subscriptions") || strcasecmp(seg[2], "resourceGroups") ||
	    strcasecmp(seg[4], "providers") || strcasecmp(seg[5], "Microsoft.Compute"))
		goto bad;
	a->sub = seg[1];
	a->rg = seg[3];
	if (!strcasecmp(seg[6], "virtualMachines") && n == 8) {
		a->vm = seg[7];
	} else if (!strcasecmp(seg[6], "restorePointCollections") && (n == 8 || n == 10)) {
		a->rpc = seg[7];
		if (n == 10) {
			if (strcasecmp(seg[8], "restorePoints"))
				goto bad;
			a->rp = seg[9];
		}
	} else {
		goto bad;
	}
	*out = a;
	return 0;
bad:
	free(a);
	return -EINVAL;
}

/* Length in characters of a UTF-8 string (invalid bytes count as one). */
static size_t arm_utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* 1 when s is well-formed UTF-8 (no overlong forms, no surrogates): ARM
 * names are Unicode, so other bytes can name nothing there. */
int arm_utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n, cp, i;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* ARM's generic resource name rule. */
int arm_name_check(const char *name)
{
	size_t len;
	const unsigned char *p;

	if (!name || !*name || !arm_utf8_ok(name))
		return -EINVAL;
	len = strlen(name);
	if (arm_utf8_len(name) > 260 || len > 1040)
		return -EINVAL;
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || strchr("<>%&:\\?/", *p))
			return -EINVAL;
	}
	if (name[len - 1] == '.' || name[len - 1] == ' ')
		return -EINVAL;
	return 0;
}

/* Resource group name rule. */
int arm_rg_name_check(const char *name)
{
	size_t len;
	const unsigned char *p;

	if (!name || !*name || !arm_utf8_ok(name))
		return -EINVAL;
	len = strlen(name);
	if (arm_utf8_len(name) > 90 || len > 360)
		return -EINVAL;
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p >= 0x80)
			continue; /* non-ASCII letters and digits (not classified further) */
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_().", *p))
			continue;
		return -EINVAL;
	}
	if (name[len - 1] == '.')
		return -EINVAL;
	return 0;
}

/* Build the path of a subscription, group, collection or point (the
 * deepest non-NULL part decides), encoding each segment when asked. */
static char *arm_build(int encode, const char *sub, const char *rg, const char *rpc, const char *rp)
{
	const char *parts[4] = {sub, rg, rpc, rp};
	char *enc[4] = {NULL, NULL, NULL, NULL};
	char *r = NULL;
	size_t need;
	int i;

	for (i = 0; i < 4; i++) {
		if (!parts[i])
			continue;
		enc[i] = encode ? url_pct_encode(parts[i]) : strdup(parts[i]);
		if (!enc[i])
			goto out;
	}
	need = 128 + (enc[0] ? strlen(enc[0]) : 0) + (enc[1] ? strlen(enc[1]) : 0) +
	       (enc[2] ? strlen(enc[2]) : 0) + (enc[3] ? strlen(enc[3]) : 0);
	r = malloc(need);
	if (!r)
		goto out;
	if (rp)
		snprintf(r, need,
			 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			 "restorePointCollections/%s/restorePoints/%s",
			 enc[0], enc[1], enc[2], enc[3]);
	else if (rpc)
		snprintf(r, need,
			 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
			 "restorePointCollections/%s",
			 enc[0], enc[1], enc[2]);
	else if (rg)
		snprintf(r, need, "/subscriptions/%s/resourceGroups/%s", enc[0], enc[1]);
	else
		snprintf(r, need, "/subscriptions/%s", enc[0]);
out:
	for (i = 0; i < 4; i++)
		free(enc[i]);
	return r;
}

/* ARM id of a collection. */
char *arm_path_rpc(const char *sub, const char *rg, const char *rpc)
{
	if (!sub || !rg || !rpc)
		return NULL;
	return arm_build(0, sub, rg, rpc, NULL);
}

/* ARM id of a restore point. */
char *arm_path_rp(const char *sub, const char *rg, const char *rpc, const char *rp)
{
	if (!sub || !rg || !rpc || !rp)
		return NULL;
	return arm_build(0, sub, rg, rpc, rp);
}

/* Encoded URL path of a collection. */
char *arm_url_path_rpc(const char *sub, const char *rg, const char *rpc)
{
	if (!sub || !rg || !rpc)
		return NULL;
	return arm_build(1, sub, rg, rpc, NULL);
}

/* Encoded URL path of a restore point. */
char *arm_url_path_rp(const char *sub, const char *rg, const char *rpc, const char *rp)
{
	if (!sub || !rg || !rpc || !rp)
		return NULL;
	return arm_build(1, sub, rg, rpc, rp);
}

/* Encoded URL path of a resource group. */
char *arm_url_path_rg(const char *sub, const char *rg)
{
	if (!sub || !rg)
		return NULL;
	return arm_build(1, sub, rg, NULL, NULL);
}
