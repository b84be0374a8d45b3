/*
 * tree_xattr.c - extended attributes of collections and restore points:
 * user.rpfs.NAME for each one-line view file NAME of the directory (id,
 * state, source; for points also consistency and created), so that a
 * script reads them in one call (`getfattr -d`).  Their values are the
 * view files' contents without the newline, rendered as an open would.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree_int.h"

struct xattr_name {
	int slot;
	const char *name;
};

static const struct xattr_name coll_attrs[] = {{S_C_ID, "user.rpfs.id"},
					       {S_C_STATE, "user.rpfs.state"},
					       {S_C_SOURCE, "user.rpfs.source"},
					       {0, NULL}};
static const struct xattr_name point_attrs[] = {{S_P_ID, "user.rpfs.id"},
						{S_P_STATE, "user.rpfs.state"},
						{S_P_CONS, "user.rpfs.consistency"},
						{S_P_CREATED, "user.rpfs.created"},
						{S_P_SOURCE, "user.rpfs.source"},
						{0, NULL}};

/* The attribute table of a directory inode, or NULL (no attributes). */
static const struct xattr_name *attrs_of(struct tree *t, uint64_t ino, struct tnode **n)
{
	int slot;

	*n = tree_node_of(t, ino, &slot);
	if (!*n || slot != S_DIR)
		return NULL;
	return (*n)->kind == N_RPC ? coll_attrs : (*n)->kind == N_RP ? point_attrs : NULL;
}

/* The value of one attribute: the view file's content without its newline.
 * -ENODATA when the directory has no such file (a point that is no copy
 * has no source). */
static int attr_value(struct tree *t, const struct tnode *n, int slot, char **out)
{
	struct tree_file *f = NULL;
	int rc = tree_open(t, mkino(n->idx, slot), 0, &f);

	if (rc == -ENOENT)
		return -ENODATA;
	if (rc < 0)
		return rc;
	if (!f->buf || !f->len || (f->len == 1 && f->buf[0] == '\n')) {
		tree_file_free(f);
		return -ENODATA;
	}
	if (f->buf[f->len - 1] == '\n')
		f->buf[--f->len] = '\0';
	*out = f->buf;
	f->buf = NULL;
	tree_file_free(f);
	return 0;
}

int tree_getxattr(struct tree *t, uint64_t ino, const char *name, char **out)
{
	struct tnode *n;
	const struct xattr_name *x;

	/* Other namespaces are not supported at all: ls -l, asked for
	 * security.selinux, then stops asking for every file of the mount. */
	if (strncmp(name, "user.", 5) != 0)
		return -EOPNOTSUPP;
	x = attrs_of(t, ino, &n);

	for (; x && x->name; x++)
		if (!strcmp(x->name, name))
			return attr_value(t, n, x->slot, out);
	return -ENODATA;
}

int tree_listxattr(struct tree *t, uint64_t ino, char **out, size_t *len)
{
	struct tnode *n;
	const struct xattr_name *x = attrs_of(t, ino, &n);
	size_t cap = 0, used = 0;
	char *buf;

	for (const struct xattr_name *y = x; y && y->name; y++)
		cap += strlen(y->name) + 1;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (; x && x->name; x++) {
		char *v = NULL;
		int rc = attr_value(t, n, x->slot, &v);

		free(v);
		if (rc == -ENODATA)
			continue;
		if (rc < 0) {
			free(buf);
			return rc;
		}
		memcpy(buf + used, x->name, strlen(x->name) + 1);
		used += strlen(x->name) + 1;
	}
	*out = buf;
	*len = used;
	return 0;
}
