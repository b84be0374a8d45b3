/*
 * tree_int.h - what tree.c (names, views, listings) and tree_mut.c
 * (mkdir, cp, rmdir: doc/DESIGN.md, Mutations) share.  Not a public header: the layers
 * above see tree.h only.
 *
 * Lock order: t->lock (rwlock over the node table and node fields), then
 * t->mlock (the mutation state: the node fields marked so, local nodes,
 * .rpfs/ops, copies, errors), then whatever the notify callbacks take.
 * Neither is held across a cache call.
 */
#ifndef RPFS_TREE_INT_H
#define RPFS_TREE_INT_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache.h"
#include "tree.h"

enum nkind { N_ROOT, N_REGION, N_RG, N_RPC, N_RP };

enum { L_NONE, L_PENDING, L_DRY };

struct copy_rec;  /* a copy started from this mount (tree_mut.c) */
struct op_err;	  /* a point's last failed operation (tree_mut.c) */
struct unsure;	  /* a copy PUT whose answer never came (tree_mut.c) */
struct pend_tags; /* tags written to a pending collection (tree_mut.c) */

/* Slots of synthetic inodes, per directory kind. */
enum {
	S_DIR = 0,
	/* root */
	S_RPFS = 1,
	S_STATS,
	S_AUTH,
	S_CONFIG,
	S_ERRORS,
	S_OPS,
	S_COPIES,
	S_FLUSH,
	S_DISKS,
	/* collection */
	S_C_JSON = 1,
	S_C_ID,
	S_C_STATE,
	S_C_SOURCE,
	S_C_ORIGIN,
	S_C_TAGS,
	/* restore point */
	S_P_JSON = 1,
	S_P_ID,
	S_P_STATE,
	S_P_CONS,
	S_P_CREATED,
	S_P_SOURCE,
	S_P_ORIGIN,
	S_P_PROGRESS,
	S_P_ERROR,
	S_P_DISKS,
	S_P_ABSORB = 15, /* disks/NAME.json written by cp that the point does not have */
	S_P_DISK0 = 16,	 /* disks/NAME.json of disk i: S_P_DISK0 + i */
	S_P_VHD0 = 128,	 /* disks/NAME.vhd of disk i: S_P_VHD0 + i */
	S_MAX = 256
};
#define SLOT_BITS 8
/* Disks a point shows (its JSON slots are fewer than its VHD slots). */
#define TREE_MAX_DISKS (S_P_VHD0 - S_P_DISK0)

/* tnode.aux of a restore point: bits 0-15 the length of the last progress
 * content, 16-30 that of the last error content read from the instance
 * view (0: none yet). */
#define RP_AUX_PLEN(a) ((a)&0xffffu)
#define RP_AUX_ELEN(a) (((a) >> 16) & 0x7fffu)

struct tnode {
	struct tnode *parent;
	struct tnode *hnext;
	uint32_t idx;
	uint8_t kind;
	uint32_t listed_at; /* seconds since mount (+1) when the kernel got a listing */
	uint32_t aux;	    /* restore point: see RP_AUX_* */
	/* Under t->mlock: */
	uint8_t local;	      /* L_PENDING / L_DRY: exists only in this mount */
	uint8_t busy;	      /* a mutation of this node is being sent */
	uint32_t fresh_pid;   /* process that created this directory ... */
	uint64_t fresh_start; /* ... its start time (a reused pid is another) ... */
	uint32_t fresh_until; /* ... until then (mount seconds) */
	uint16_t made;	      /* view slots (< 16) that process has created here */
	char *src;	      /* local nodes: the source id, once known */
	char name[];
};

struct tree {
	struct cache *c;
	struct tree_cfg cfg;
	char *config_text;
	struct tree_notify nt;
	time_t mount_time;
	struct timespec t0;
	pthread_rwlock_t lock;
	struct tnode *root;
	struct tnode **nodes;
	size_t nnodes, cap;
	struct tnode **hash;
	size_t nhash;
	/* Mutations (tree_mut.c): t->mlock protects the node fields
	 * marked so, the lists below, and is taken after t->lock. */
	pthread_mutex_t mlock;
	pthread_cond_t mcond; /* a node's busy flag dropped */
	struct tnode **locals;
	size_t nlocals, caplocals;
	char **ops; /* ring of .rpfs/ops lines */
	size_t ops_next, ops_count;
	struct copy_rec *copies;
	struct op_err *errs;	  /* the last failed operation on a point, per point */
	struct unsure *unsure;	  /* copies whose outcome is unknown (tree_mut.c) */
	struct pend_tags *ptags;  /* tags for the PUT of a pending collection */
	int64_t rgs_retry_at;	  /* (atomic) monotonic s: no resource groups list before */
	uint32_t writer_pid[8];	  /* processes that wrote view files lately (cp -r */
	uint32_t writer_until[8]; /* again into existing directories), until then */
	/* Read-ahead of a recursive walk (tree.c, walk_*): under walk_lock,
	 * taken alone. */
	pthread_mutex_t walk_lock;
	int64_t walk_end_ms;		 /* when the last fresh listing ended */
	int walk_step;			 /* WALK_* */
	const struct tnode *walk_region; /* region of the chain's last region listing */
};

struct fixed_name {
	int slot;
	const char *name;
};

#define OPS_MAX 1000 /* lines kept in .rpfs/ops */

extern const struct fixed_name tree_coll_files[], tree_point_files[];

/* D_FETCH refreshes what expired, D_CACHED takes anything cached (else
 * fetches), D_NOFETCH takes anything cached and never waits (-EAGAIN). */
enum dmode { D_FETCH, D_CACHED, D_NOFETCH };

/* What a collection or point node stands for (references held). */
struct dctx {
	struct cache_val *list;	   /* may be NULL */
	struct cache_val *coll;	   /* expanded collection, may be NULL */
	const struct arm_rpc *rpc; /* coll's, else the list's */
	const struct arm_rp *rp;
};

struct dlist {
	struct tree_dirent *v;
	size_t n, cap;
	int err;
};

/* Inode of slot in the directory of node idx. */
static inline uint64_t mkino(uint32_t idx, int slot)
{
	return (((uint64_t)idx << SLOT_BITS) | (uint64_t)slot) + 1;
}

/* Seconds since the mount (monotonic), at least 1. */
static inline uint32_t mount_secs(struct tree *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec - t->t0.tv_sec) + 1;
}

/* Case-insensitive equality of two possibly NULL strings. */
static inline int same(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

/* 1 when a collection is a copy (its source is another collection). */
static inline int rpc_is_copy(const struct arm_rpc *r)
{
	return r->source_id && strcasestr(r->source_id, "/restorePointCollections/") != NULL;
}

/* Slot of a fixed name in a table, or -1. */
static inline int fixed_slot(const struct fixed_name *tab, const char *name)
{
	for (; tab->name; tab++)
		if (!strcmp(tab->name, name))
			return tab->slot;
	return -1;
}

/* Compare two strings that may be NULL. */
static inline int differ(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * A restore point named like a view file of its collection (tags, id,
 * state, source, origin, collection.json: valid ARM names) would hide the
 * file: the file keeps the name and the point is shown as NAME:point (a
 * colon is no character of an ARM name, so no other point has it).
 */
#define POINT_ALIAS ":point"

/* The point name a directory name stands for: NAME for NAME:point when
 * NAME is a view file's, else name itself (buf holds the result). */
static inline const char *point_name(const char *name, char *buf, size_t size)
{
	size_t n = strlen(name), k = sizeof(POINT_ALIAS) - 1;

	if (n <= k || n - k >= size || strcmp(name + n - k, POINT_ALIAS) != 0)
		return name;
	memcpy(buf, name, n - k);
	buf[n - k] = '\0';
	return fixed_slot(tree_coll_files, buf) >= 0 ? buf : name;
}

/* ---- tree.c ---- */
/* malloc'ed printf. */
char *tree_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "x\n" for a possibly NULL string. */
char *tree_line(const char *s);
/* The ListAll answer: D_CACHED takes any cached one, else fetches. */
int tree_get_list(struct tree *t, enum dmode m, struct cache_val **out);
/* A collection with its points, same modes. */
int tree_get_coll(struct tree *t, const char *rg, const char *name, enum dmode m,
		  struct cache_val **out);
/* Resolve a collection node from the ListAll answer and its expanded GET. */
int tree_rpc_data(struct tree *t, const struct tnode *n, enum dmode m, int need_points,
		  struct dctx *d);
/* The point named name in a resolved collection (Deleting points are hidden). */
const struct arm_rp *tree_find_point(const struct dctx *d, const char *name);
/* Find a point by name in a collection, Deleting ones included. */
const struct arm_rp *tree_point_named(const struct arm_rpc *r, const char *name);
/* Attributes of a directory. */
void tree_dir_attr(struct tree_attr *a, uint64_t ino, time_t mtime, double ttl);
/* Attributes of a file whose content is s (freed here). */
void tree_file_attr(struct tree_attr *a, uint64_t ino, char *s, time_t mtime, double ttl,
		    enum tree_type type);
/* Attributes of any inode, using data resolved in mode m. */
int tree_attr_of(struct tree *t, struct tnode *n, int slot, enum dmode m, struct tree_attr *a);
/* Append an entry (name copied). */
void tree_dl_add(struct dlist *l, const char *name, const struct tree_attr *a);
/* Drop the references of a dctx. */
void tree_dctx_done(struct dctx *d);
/* The child node, created with this spelling if new. */
struct tnode *tree_node_get(struct tree *t, struct tnode *parent, const char *name, int kind);
/* Node and slot of an inode; NULL when unknown. */
struct tnode *tree_node_of(struct tree *t, uint64_t ino, int *slot);
/* Child of parent named name (case-insensitive), NULL if none.  Lock held. */
struct tnode *tree_find_child(struct tree *t, const struct tnode *parent, const char *name);

/* ---- tree_mut.c ---- */
/* The local state of a node (L_NONE when it is ARM's). */
int tree_node_local(struct tree *t, const struct tnode *n);
/* Attributes in a local node. */
int tree_local_attr(struct tree *t, struct tnode *n, int slot, struct tree_attr *a);
/* Content of a file of a local node: state, source, and (dry_run) id. */
int tree_render_local(struct tree *t, struct tnode *n, int slot, char **out);
/* Add the local children of parent to a listing. */
void tree_list_locals(struct tree *t, struct tnode *parent, struct dlist *l);
/* 1 when pid made directory n a moment ago and nobody has listed it. */
int tree_fresh_for(struct tree *t, struct tnode *n, uint32_t pid);
/* 1 when the process filling n has already made view slot there. */
int tree_made_here(struct tree *t, struct tnode *n, int slot);
/* The local child of parent named name, or NULL. */
struct tnode *tree_local_child(struct tree *t, struct tnode *parent, const char *name);
/* Act on a view file's written content (final: at close). */
int tree_absorb_act(struct tree *t, struct tnode *n, struct tree_file *f, int final);
/* .rpfs/ops: oldest first. */
int tree_render_ops(struct tree *t, char **out);
/* .rpfs/copies: target id, source id, percent (as last seen). */
int tree_render_copies(struct tree *t, char **out);
/* Refresh the percentages of the copies started here, dropping finished ones. */
void tree_copies_refresh(struct tree *t);
/* Free every copy record. */
void tree_copies_free(struct tree *t);
/* Free every remembered error. */
void tree_errs_free(struct tree *t);
/* Free the unsure copies. */
void tree_unsure_free(struct tree *t);
void tree_ptags_free(struct tree *t);
/* A copy started from this mount whose instance view tells a failure
 * (iv_error): remember it as the point's error and stop tracking the copy.
 * 1 when that error is new (its `error` file appears). */
int tree_copy_failed(struct tree *t, const struct tnode *n, const char *rg, const char *rpc,
		     const char *rp, const char *iv_error);
/* 1 when process pid is filling a directory it made in this mount, or
 * writing view files (cp -r into it): it copies views, not disk contents. */
int tree_pid_filling(struct tree *t, uint32_t pid);
/* Remember that pid opened a view file for writing (a copy into the mount). */
void tree_note_writer(struct tree *t, uint32_t pid);
/* The `error` text of point n from this mount, or NULL. */
char *tree_node_error(struct tree *t, const struct tnode *n);

#endif
