/*
 * tree_node.c - the node table: one small node per region, resource
 * group, collection and restore point, found by (parent, name), and the
 * inode numbers made from it; also the small helpers every other tree
 * file uses (attributes of an inode, a listing's entries, malloc'ed
 * printf).
 *
 * Why it is built this way: the tree stores only what gives inode numbers
 * their stability.  A node is created the first time a name is resolved
 * and kept for the life of the mount (FUSE forget is a no-op, numbers are
 * never reused).  Files and fixed subdirectories are numbered
 * (node << 8 | slot) and rendered on demand from the cached model
 * (tree_render.c), so a restore point costs one node.  Names are
 * case-insensitive as ARM's are; a resource group keeps one spelling (the
 * resource groups API's, else the first seen).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tree_int.h"

const struct fixed_name tree_rpfs_files[] = {
    {S_STATS, "stats"},	  {S_AUTH, "auth"},   {S_CONFIG, "config"},
    {S_ERRORS, "errors"}, {S_OPS, "ops"},     {S_COPIES, "copies"},
    {S_FLUSH, "flush"},	  {S_DISKS, "disks"}, {0, NULL}};

const struct fixed_name tree_coll_files[] = {{S_C_JSON, "collection.json"},
					     {S_C_ID, "id"},
					     {S_C_STATE, "state"},
					     {S_C_SOURCE, "source"},
					     {S_C_ORIGIN, "origin"},
					     {S_C_TAGS, "tags"},
					     {0, NULL}};

const struct fixed_name tree_point_files[] = {{S_P_JSON, "restorepoint.json"},
					      {S_P_ID, "id"},
					      {S_P_STATE, "state"},
					      {S_P_CONS, "consistency"},
					      {S_P_CREATED, "created"},
					      {S_P_SOURCE, "source"},
					      {S_P_ORIGIN, "origin"},
					      {S_P_PROGRESS, "progress"},
					      {S_P_ERROR, "error"},
					      {S_P_DISKS, "disks"},
					      {0, NULL}};

/* Split an inode into node index and slot. */
static void splitino(uint64_t ino, uint32_t *idx, int *slot)
{
	ino -= 1;
	*idx = (uint32_t)(ino >> SLOT_BITS);
	*slot = (int)(ino & (S_MAX - 1));
}

/* Hash of (parent, lower-cased name). */
static size_t nhash(uint32_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ parent;

	for (; *name; name++) {
		h ^= (unsigned char)tolower((unsigned char)*name);
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* Child of parent named name (case-insensitive), NULL if none.  Lock held. */
struct tnode *tree_find_child(struct tree *t, const struct tnode *parent, const char *name)
{
	struct tnode *n = t->hash[nhash(parent->idx, name) % t->nhash];

	for (; n; n = n->hnext)
		if (n->parent == parent && !strcasecmp(n->name, name))
			return n;
	return NULL;
}

/* Insert into the hash, growing it when needed.  Write lock held. */
static void hash_insert(struct tree *t, struct tnode *n)
{
	size_t h;

	if (t->nnodes > t->nhash) {
		size_t nh = t->nhash * 2;
		struct tnode **b = calloc(nh, sizeof(*b));

		if (b) {
			for (size_t i = 0; i < t->nhash; i++) {
				struct tnode *x = t->hash[i], *next;

				for (; x; x = next) {
					next = x->hnext;
					h = nhash(x->parent->idx, x->name) % nh;
					x->hnext = b[h];
					b[h] = x;
				}
			}
			free(t->hash);
			t->hash = b;
			t->nhash = nh;
		}
	}
	h = nhash(n->parent->idx, n->name) % t->nhash;
	n->hnext = t->hash[h];
	t->hash[h] = n;
}

/* Allocate a node and give it the next index.  Write lock held. */
struct tnode *tree_node_alloc(struct tree *t, struct tnode *parent, const char *name, int kind)
{
	size_t len = strlen(name);
	struct tnode *n;

	if (t->nnodes == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		struct tnode **v = realloc(t->nodes, nc * sizeof(*v));

		if (!v)
			return NULL;
		t->nodes = v;
		t->cap = nc;
	}
	n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	memcpy(n->name, name, len + 1);
	n->parent = parent;
	n->kind = (uint8_t)kind;
	n->idx = (uint32_t)t->nnodes;
	t->nodes[t->nnodes++] = n;
	if (parent)
		hash_insert(t, n);
	return n;
}

/* The child node, created with this spelling if new. */
struct tnode *tree_node_get(struct tree *t, struct tnode *parent, const char *name, int kind)
{
	struct tnode *n;

	pthread_rwlock_wrlock(&t->lock);
	n = tree_find_child(t, parent, name);
	if (!n)
		n = tree_node_alloc(t, parent, name, kind);
	pthread_rwlock_unlock(&t->lock);
	return n;
}

/* Node and slot of an inode; NULL when unknown. */
struct tnode *tree_node_of(struct tree *t, uint64_t ino, int *slot)
{
	uint32_t idx;
	struct tnode *n = NULL;

	if (ino < 1)
		return NULL;
	splitino(ino, &idx, slot);
	pthread_rwlock_rdlock(&t->lock);
	if (idx < t->nnodes)
		n = t->nodes[idx];
	pthread_rwlock_unlock(&t->lock);
	return n;
}

/* 1 when ino is a disk's bytes (disks/NAME.vhd). */
int tree_is_disk(struct tree *t, uint64_t ino)
{
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);

	return n && n->kind == N_RP && slot >= S_P_VHD0;
}

/* The inode of a directory's parent (the root's is the root). */
uint64_t tree_parent(struct tree *t, uint64_t ino)
{
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);

	if (!n)
		return TREE_ROOT_INO;
	if (slot != S_DIR) /* disks/, .rpfs/: inside the node's directory */
		return mkino(n->idx, S_DIR);
	return n->parent ? mkino(n->parent->idx, S_DIR) : TREE_ROOT_INO;
}

/* The spelling already used for a resource group in any region, else name. */
static const char *rg_spelling(struct tree *t, const char *name)
{
	struct tnode *root = t->root;

	for (size_t i = 0; i < t->nnodes; i++) {
		struct tnode *n = t->nodes[i];

		if (n->kind == N_RG && n->parent->parent == root && !strcasecmp(n->name, name))
			return n->name;
	}
	return name;
}

/* The resource-group node of a region, created with a stable spelling:
 * the resource groups API's (Compute's ids may spell a group in upper
 * case), else the first seen. */
struct tnode *tree_rg_node_get(struct tree *t, struct tnode *region, const char *name)
{
	struct tnode *n;
	char *canon = cache_rg_spelling(t->c, name);

	pthread_rwlock_wrlock(&t->lock);
	n = tree_find_child(t, region, name);
	if (!n)
		n = tree_node_alloc(t, region, canon ? canon : rg_spelling(t, name), N_RG);
	pthread_rwlock_unlock(&t->lock);
	free(canon);
	return n;
}

/* Have the resource groups list (one ResourceGroups_List, kept for ttl)
 * before naming group directories: waited for only when none is cached
 * yet (an expired one is used while it is refreshed in the background, so
 * nothing known waits on the network); a failed list is asked again only
 * after ttl, and meanwhile groups are named as first seen. */
void tree_rgs_ready(struct tree *t)
{
	struct cache_val *v = NULL;
	struct timespec ts;
	int64_t now;

	if (cache_rgs(t->c, CACHE_NOFETCH, &v) == 0) {
		cache_put(v);
		cache_prefetch_rgs(t->c);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec;
	if (__atomic_load_n(&t->rgs_retry_at, __ATOMIC_RELAXED) > now)
		return;
	if (cache_rgs(t->c, CACHE_FETCH, &v) == 0) {
		cache_put(v);
		return;
	}
	__atomic_store_n(&t->rgs_retry_at, now + (t->cfg.ttl ? t->cfg.ttl : 60), __ATOMIC_RELAXED);
}

/* malloc'ed printf. */
char *tree_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* "x\n" for a possibly NULL string. */
char *tree_line(const char *s)
{
	return tree_asprintf("%s\n", s ? s : "");
}

/* Attributes of a directory. */
void tree_dir_attr(struct tree_attr *a, uint64_t ino, time_t mtime, double ttl)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->type = TREE_DIR;
	a->perm = 0755;
	a->nlink = 2;
	a->size = 4096;
	a->mtime = mtime;
	a->attr_ttl = a->entry_ttl = ttl;
}

/* Attributes of a file whose content is s (freed here). */
void tree_file_attr(struct tree_attr *a, uint64_t ino, char *s, time_t mtime, double ttl,
		    enum tree_type type)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->type = type;
	a->perm = type == TREE_LNK ? 0777 : 0644;
	a->nlink = 1;
	a->size = s ? strlen(s) : 0;
	a->mtime = mtime;
	a->attr_ttl = a->entry_ttl = ttl;
	free(s);
}

/* Append an entry (name copied). */
void tree_dl_add(struct dlist *l, const char *name, const struct tree_attr *a)
{
	if (l->err)
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct tree_dirent *v = realloc(l->v, nc * sizeof(*v));

		if (!v) {
			l->err = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = nc;
	}
	l->v[l->n].name = strdup(name);
	if (!l->v[l->n].name) {
		l->err = -ENOMEM;
		return;
	}
	l->v[l->n].attr = *a;
	l->n++;
}

/* Number of nodes. */
size_t tree_node_count(struct tree *t)
{
	size_t n;

	pthread_rwlock_rdlock(&t->lock);
	n = t->nnodes;
	pthread_rwlock_unlock(&t->lock);
	return n;
}
