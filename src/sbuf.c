/* sbuf.c - a growable string with a ceiling (see sbuf.h). */
#include "config.h"

#include "sbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* Make room for n more bytes and the NUL. */
static int sbuf_grow(struct sbuf *b, size_t n)
{
	size_t need, nc;
	char *np;

	if (n > b->max - b->len)
		return b->err = -EFBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	nc = b->cap ? b->cap : 256;
	while (nc < need)
		nc = nc > SIZE_MAX / 2 ? need : nc * 2;
	if (nc > b->max + 1)
		nc = b->max + 1;
	np = realloc(b->p, nc);
	if (!np)
		return b->err = -ENOMEM;
	b->p = np;
	b->cap = nc;
	return 0;
}

int sbuf_add(struct sbuf *b, const void *s, size_t n)
{
	if (b->err)
		return b->err;
	if (sbuf_grow(b, n) < 0)
		return b->err;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int sbuf_adds(struct sbuf *b, const char *s)
{
	return sbuf_add(b, s, strlen(s));
}

int sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return b->err;
	va_start(ap, fmt);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return b->err = -EINVAL;
	if (b->p && (size_t)n < b->cap - b->len) {
		if ((size_t)n > b->max - b->len) {
			b->p[b->len] = '\0';
			return b->err = -EFBIG;
		}
		b->len += (size_t)n;
		return 0;
	}
	if (sbuf_grow(b, (size_t)n) < 0) {
		if (b->p)
			b->p[b->len] = '\0';
		return b->err;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int sbuf_finish(struct sbuf *b, char **out, size_t *len)
{
	int rc = b->err;

	if (!rc && !b->p && sbuf_grow(b, 0) < 0)
		rc = b->err;
	if (rc) {
		sbuf_free(b);
		return rc;
	}
	b->p[b->len] = '\0';
	*out = b->p;
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return 0;
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
