/*
 * tags.h - a collection's tags as the text of its `tags` file (see tags.c).
 */
#ifndef RPFS_TAGS_H
#define RPFS_TAGS_H

#include <stddef.h>

#include "arm.h"

/* ARM's limit of tags on a resource. */
#define TAGS_MAX 50

/* The text of n tags, one key=value line each (malloc'ed); NULL when out
 * of memory. */
char *tags_render(const struct arm_tag *v, size_t n);

/* Parse such a text (len bytes, not NUL-terminated): 0 with *out (n
 * tags, free with tags_free), -EINVAL for a line without '=' or with an
 * empty key, more than TAGS_MAX lines, a byte 0xFF or a NUL in a key;
 * -ENOMEM. */
int tags_parse(const char *buf, size_t len, struct arm_tag **out, size_t *n);

void tags_free(struct arm_tag *v, size_t n);

#endif
