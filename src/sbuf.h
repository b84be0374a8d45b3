/*
 * sbuf.h - a growable string with a ceiling.
 *
 * Every text rpfs renders (view files, .rpfs/ files, the effective options)
 * is built with one of these.  The ceiling is given at sbuf_init(): an
 * append that would pass it fails with -EFBIG and the buffer stays as it
 * was, so no rendering can grow without limit, whatever ARM answered.
 * After the first error every append is a no-op and sbuf_finish() reports
 * it: a renderer appends without checking each call and looks once at the
 * end (the shape of curl's dynbuf).
 */
#ifndef RPFS_SBUF_H
#define RPFS_SBUF_H

#include <stddef.h>

struct sbuf {
	char *p;    /* NUL-terminated once anything was appended */
	size_t len; /* bytes, without the NUL */
	size_t cap; /* allocated */
	size_t max; /* the ceiling: len never passes it */
	int err;    /* first error (negative errno), 0 while none */
};

/* An empty buffer that will hold at most max bytes. */
void sbuf_init(struct sbuf *b, size_t max);

/* Append n bytes of s.  0, or the buffer's (first) error. */
int sbuf_add(struct sbuf *b, const void *s, size_t n);

/* Append a string. */
int sbuf_adds(struct sbuf *b, const char *s);

/* Append printf-style. */
int sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hand the text to the caller (*out, NUL-terminated, "" when empty; len
 * optional) and leave b empty; on an earlier error free it and return that
 * error.  The caller frees *out. */
int sbuf_finish(struct sbuf *b, char **out, size_t *len);

/* Drop the text. */
void sbuf_free(struct sbuf *b);

#endif
