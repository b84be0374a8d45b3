/*
 * tags.c - a collection's tags as the text of its `tags` file: one
 * key=value line a tag, split at the first '='.
 *
 * The text must give back exactly the tags it shows: a write replaces
 * the tags, and a rerun of `cp -r` writes a copy's tags back, where only
 * a difference may send a PATCH.  So what a line cannot carry is written
 * %HH (two hex digits): a line break in a key or value, a '=' in a key,
 * and a '%' that two hex digits follow.  Any other '%' stands for itself,
 * so "80%" reads as it is (ARM refuses '%' in keys anyway).  Spaces are
 * kept; a '\r' ending a line (a file written on Windows) is dropped.  A
 * NUL inside a value (kept as ARM_TAG_NUL) is written %00; a byte 0xFF,
 * raw or as %FF, which UTF-8 never uses, is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tags.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 when s[i] must be written %HH (s is NUL-terminated). */
static int needs_escape(const char *s, size_t i, int key)
{
	char c = s[i];

	if (c == '\n' || c == '\r' || c == ARM_TAG_NUL || (key && c == '='))
		return 1;
	return c == '%' && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0;
}

/* Write s escaped to p (NULL: only count); the length written. */
static size_t escape(char *p, const char *s, int key)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; s[i]; i++) {
		if (!needs_escape(s, i, key)) {
			if (p)
				p[n] = s[i];
			n++;
			continue;
		}
		if (p) {
			unsigned char c = s[i] == ARM_TAG_NUL ? 0 : (unsigned char)s[i];

			p[n] = '%';
			p[n + 1] = hex[c >> 4];
			p[n + 2] = hex[c & 15];
		}
		n += 3;
	}
	return n;
}

char *tags_render(const struct arm_tag *v, size_t n)
{
	size_t len = 1, off = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += escape(NULL, v[i].key ? v[i].key : "", 1) +
		       escape(NULL, v[i].value ? v[i].value : "", 0) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		off += escape(s + off, v[i].key ? v[i].key : "", 1);
		s[off++] = '=';
		off += escape(s + off, v[i].value ? v[i].value : "", 0);
		s[off++] = '\n';
	}
	s[off] = '\0';
	return s;
}

/* The len bytes at p with %HH decoded (malloc'ed; %00 is ARM_TAG_NUL);
 * *bad set when they hold a byte 0xFF. */
static char *unescape(const char *p, size_t len, int *bad)
{
	char *s = malloc(len + 1);
	size_t n = 0;

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (p[i] == '%' && i + 2 < len && (hi = hexval(p[i + 1])) >= 0 &&
		    (lo = hexval(p[i + 2])) >= 0) {
			s[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[n++] = p[i];
		}
		if (s[n - 1] == ARM_TAG_NUL)
			*bad = 1;
		else if (!s[n - 1])
			s[n - 1] = ARM_TAG_NUL;
	}
	s[n] = '\0';
	return s;
}

int tags_parse(const char *buf, size_t len, struct arm_tag **out, size_t *n)
{
	struct arm_tag *v = NULL;
	size_t cnt = 0;
	const char *p = buf, *end = buf + len;
	int rc = -EINVAL, bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq;
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct arm_tag *nv;

		if (l && p[l - 1] == '\r')
			l--;
		if (l) {
			eq = memchr(p, '=', l);
			if (!eq || eq == p || cnt >= TAGS_MAX)
				goto bad;
			nv = realloc(v, (cnt + 1) * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
			v[cnt].key = unescape(p, (size_t)(eq - p), &bad);
			v[cnt].value = unescape(eq + 1, l - (size_t)(eq - p) - 1, &bad);
			cnt++;
			if (!v[cnt - 1].key || !v[cnt - 1].value)
				goto nomem;
			/* 0xFF is no UTF-8; a key cannot hold a NUL */
			if (bad || strchr(v[cnt - 1].key, ARM_TAG_NUL))
				goto bad;
		}
		p = nl ? nl + 1 : end;
	}
	*out = v;
	*n = cnt;
	return 0;
nomem:
	rc = -ENOMEM;
bad:
	tags_free(v, cnt);
	return rc;
}

void tags_free(struct arm_tag *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}
