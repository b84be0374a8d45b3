/*
 * tree_int.h - what the files of the tree share (doc/DESIGN.md, The tree).
 * Not a public header: the layers above see tree.h only.
 *
 * The files, lowest first; each calls only files listed before it (or
 * itself), never one after it:
 *   tree_node.c    node table, inode numbers, attribute and listing helpers
 *   tree_data.c    what a node stands for, from the cache (struct dctx)
 *   tree_local.c   local (pending) nodes, the filling process, busy flags
 *   tree_journal.c .rpfs/ops, refusals, a point's last failed operation
 *   tree_copy.c    copies started here: .rpfs/copies, unsure copies
 *   tree_render.c  view files' contents and every inode's attributes
 *   tree_walk.c    read-ahead of a recursive walk
 *   tree_list.c    readdir
 *   tree_open.c    open, read, readlink
 *   tree_inval.c   the cache listener: kernel invalidations; flush, expire
 *   tree.c         tree_new/tree_free, getattr, lookup
 *   tree_send.c    one mutation sent (or recorded under dry_run)
 *   tree_mkdir.c   mkdir and the PUTs of collections and points
 *   tree_rmdir.c   rmdir: the DELETEs
 *   tree_absorb.c  cp's writes: create, write, setattr, setxattr, unlink
 *   tree_xattr.c   user.rpfs.* extended attributes
 *
 * Lock order: t->lock (rwlock over the node table and node fields), then
 * t->mlock (the mutation state: the node fields marked so, local nodes,
 * .rpfs/ops, copies, errors), then whatever the notify callbacks take.
 * Neither is held across a cache call.  t->walk_lock is taken alone.
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

struct copy_rec;  /* a copy started from this mount (tree_copy.c) */
struct op_err;	  /* a point's last failed operation (tree_journal.c) */
struct unsure;	  /* a copy PUT whose answer never came (tree_copy.c) */
struct pend_tags; /* tags written to a pending collection (tree_local.c) */

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
	/* State of this mount (tree_local.c, tree_journal.c, tree_copy.c): t->mlock protects the
	 * node fields marked so, the lists below, and is taken after t->lock. */
	pthread_mutex_t mlock;
	pthread_cond_t mcond; /* a node's busy flag dropped */
	struct tnode **locals;
	size_t nlocals, caplocals;
	char **ops; /* ring of .rpfs/ops lines */
	size_t ops_next, ops_count;
	struct copy_rec *copies;
	struct op_err *errs;	  /* the last failed operation on a point, per point */
	struct unsure *unsure;	  /* copies whose outcome is unknown (tree_copy.c) */
	struct pend_tags *ptags;  /* tags for the PUT of a pending collection */
	int64_t rgs_retry_at;	  /* (atomic) monotonic s: no resource groups list before */
	uint32_t writer_pid[8];	  /* processes that wrote view files lately (cp -r */
	uint32_t writer_until[8]; /* again into existing directories), until then */
	/* Read-ahead of a recursive walk (tree_walk.c): under walk_lock,
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

/* Ceilings of the texts rendered with a struct sbuf (sbuf.h): a view file,
 * and .rpfs/ops or .rpfs/copies (a line per request or copy: up to
 * OPS_MAX lines of a path and a body, or one line per copy in flight). */
#define TREE_TEXT_MAX (1u << 20)
#define TREE_LOG_TEXT_MAX (8u << 20)

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

/* ---- tree_node.c ---- */
extern const struct fixed_name tree_rpfs_files[];
extern const struct fixed_name tree_coll_files[];
extern const struct fixed_name tree_point_files[];
/* Child of parent named name (case-insensitive), NULL if none.  Lock held. */
struct tnode *tree_find_child(struct tree *t, const struct tnode *parent, const char *name);
/* Allocate a node and give it the next index.  Write lock held. */
struct tnode *tree_node_alloc(struct tree *t, struct tnode *parent, const char *name, int kind);
/* The child node, created with this spelling if new. */
struct tnode *tree_node_get(struct tree *t, struct tnode *parent, const char *name, int kind);
/* Node and slot of an inode; NULL when unknown. */
struct tnode *tree_node_of(struct tree *t, uint64_t ino, int *slot);
/* The resource-group node of a region, created with a stable spelling:
 * the resource groups API's (Compute's ids may spell a group in upper
 * case), else the first seen. */
struct tnode *tree_rg_node_get(struct tree *t, struct tnode *region, const char *name);
/* Have the resource groups list (one ResourceGroups_List, kept for ttl)
 * before naming group directories: waited for only when none is cached
 * yet (an expired one is used while it is refreshed in the background, so
 * nothing known waits on the network); a failed list is asked again only
 * after ttl, and meanwhile groups are named as first seen. */
void tree_rgs_ready(struct tree *t);
/* malloc'ed printf. */
char *tree_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "x\n" for a possibly NULL string. */
char *tree_line(const char *s);
/* Attributes of a directory. */
void tree_dir_attr(struct tree_attr *a, uint64_t ino, time_t mtime, double ttl);
/* Attributes of a file whose content is s (freed here). */
void tree_file_attr(struct tree_attr *a, uint64_t ino, char *s, time_t mtime, double ttl,
		    enum tree_type type);
/* Append an entry (name copied). */
void tree_dl_add(struct dlist *l, const char *name, const struct tree_attr *a);

/* ---- tree_data.c ---- */
/* Drop the references of a dctx. */
void tree_dctx_done(struct dctx *d);
/* The ListAll answer: D_CACHED takes any cached one, else fetches. */
int tree_get_list(struct tree *t, enum dmode m, struct cache_val **out);
/* A collection with its points, same modes. */
int tree_get_coll(struct tree *t, const char *rg, const char *name, enum dmode m,
		  struct cache_val **out);
/*
 * Resolve a collection node: it must be in the ListAll answer under its
 * region (that answer decides existence), and its points come from the
 * expanded GET.  need_points = 0 accepts the list's data alone.
 */
int tree_rpc_data(struct tree *t, const struct tnode *n, enum dmode m, int need_points,
		  struct dctx *d);
/* The point named name in a resolved collection (Deleting points are hidden). */
const struct arm_rp *tree_find_point(const struct dctx *d, const char *name);
/* Resolve a point node. */
int tree_rp_data(struct tree *t, const struct tnode *n, enum dmode m, struct dctx *d);
/* Find a point by name in a collection, Deleting ones included. */
const struct arm_rp *tree_point_named(const struct arm_rpc *r, const char *name);

/* ---- tree_local.c ---- */
/* 1 while a process fills directory n (cp -r into a directory it made). */
int tree_filled(struct tree *t, struct tnode *n);
/* The local state of a node (L_NONE when it is ARM's). */
int tree_node_local(struct tree *t, const struct tnode *n);
/* 1 when process pid made directory n a moment ago (the same process: a
 * later one that reuses the pid is not it). */
int tree_fresh_for(struct tree *t, struct tnode *n, uint32_t pid);
/* 1 when pid, its parent or one of its children is filling a directory it
 * made in this mount: cp -r does both ends in one process, a local rsync
 * reads in the parent and makes directories in a child. */
int tree_pid_filling(struct tree *t, uint32_t pid);
/* Remember a process writing view files (the oldest entry goes). */
void tree_note_writer(struct tree *t, uint32_t pid);
/* 1 when the process filling n has already made view slot there. */
int tree_made_here(struct tree *t, struct tnode *n, int slot);
/* Remember that view slot of n was made (create, mkdir disks, symlink). */
void tree_set_made(struct tree *t, struct tnode *n, int slot);
/* Mark directory n as being filled by process pid. */
void tree_set_fresh(struct tree *t, struct tnode *n, uint32_t pid);
/* Make n local (kind l, source src may be NULL) or, with L_NONE, ARM's again. */
int tree_set_local(struct tree *t, struct tnode *n, int l, const char *src);
/* The local child of parent named name, or NULL. */
struct tnode *tree_local_child(struct tree *t, struct tnode *parent, const char *name);
/* 1 when parent has local children. */
int tree_has_local_children(struct tree *t, struct tnode *parent);
/* Add the local children of parent to a listing. */
void tree_list_locals(struct tree *t, struct tnode *parent, struct dlist *l);
/* Content of a file of a local node: state, source, and (dry_run) id. */
int tree_render_local(struct tree *t, struct tnode *n, int slot, char **out);
/* Attributes in a local node. */
int tree_local_attr(struct tree *t, struct tnode *n, int slot, struct tree_attr *a);
/* Wait until no mutation of n is in flight, then mark one. */
void tree_node_busy(struct tree *t, struct tnode *n);
/* End of tree_node_busy. */
void tree_node_idle(struct tree *t, struct tnode *n);
/* Remember tags for pending collection n (takes them), replacing any. */
void tree_pend_tags_set(struct tree *t, const struct tnode *n, struct arm_tag *tags, size_t ntags);
/* Take the tags remembered for n (NULL when none); caller frees. */
struct arm_tag *tree_pend_tags_take(struct tree *t, const struct tnode *n, size_t *ntags);
/* Free every remembered pending tag set. */
void tree_ptags_free(struct tree *t);

/* ---- tree_journal.c ---- */
/* Name of an errno as the tests and scripts expect to read it. */
const char *tree_errname(int rc);
/* Add one line (time first) to .rpfs/ops. */
void tree_ops_add(struct tree *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* .rpfs/ops: oldest first. */
int tree_render_ops(struct tree *t, char **out);
/* A refusal rpfs decides itself, without a request: a line in
 * .rpfs/errors (and the log) whose message says what to do instead. */
int tree_refuse_advise(struct tree *t, const char *op, const char *path, int rc,
		       const char *advice);
/* A mutation refused before sending: .rpfs/ops, and .rpfs/errors and the
 * log with what to do instead. */
int tree_refuse_op(struct tree *t, const char *verb, const char *what, int rc, const char *why);
/* The `error` text of point n from this mount, or NULL. */
char *tree_node_error(struct tree *t, const struct tnode *n);
/* Remember (text) or forget (NULL) the last failed operation on point n. */
void tree_set_node_error(struct tree *t, const struct tnode *n, char *text);
/* Free every remembered error. */
void tree_errs_free(struct tree *t);

/* ---- tree_copy.c ---- */
/* Free every copy record. */
void tree_copies_free(struct tree *t);
/* Remember a copy started from this mount (for .rpfs/copies and EBUSY). */
void tree_copy_add(struct tree *t, const char *target, const char *source, const char *rg,
		   const char *rpc, const char *rp);
/* Remember point's copy into cn as unsure. */
void tree_unsure_add(struct tree *t, const struct tnode *cn, const char *point);
/* Forget cn's unsure copies: the one of point (not NULL), else those
 * collection r (ARM's answer) now holds. */
void tree_unsure_drop(struct tree *t, const struct tnode *cn, const char *point,
		      const struct arm_rpc *r);
/* Free the list (tree_free). */
void tree_unsure_free(struct tree *t);
/* Before a copy of point name into cn: 0 when it may be sent (no unsure
 * copy there, or it is one of them: the rerun), else wait until the unsure
 * copies have appeared in ARM; -ETIMEDOUT after op_timeout. */
int tree_unsure_settle(struct tree *t, struct tnode *cn, const char *name, const char *what);
/* 1 when a copy whose source is src_id is still running (asks ARM). */
int tree_copy_running(struct tree *t, const char *src_id);
/* A copy started from this mount failed: its error, and no longer tracked. */
int tree_copy_failed(struct tree *t, const struct tnode *n, const char *rg, const char *rpc,
		     const char *rp, const char *iv_error);
/* Refresh the percentages of the copies started here, dropping finished ones. */
void tree_copies_refresh(struct tree *t);
/* .rpfs/copies: target id, source id, percent (as last seen). */
int tree_render_copies(struct tree *t, char **out);

/* ---- tree_render.c ---- */
/* Newest timeCreated of a collection's points, else the mount time. */
time_t tree_rpc_mtime(struct tree *t, const struct dctx *d);
/* A point's mtime: its timeCreated. */
time_t tree_rp_mtime(struct tree *t, const struct arm_rp *p);
/* 1 when a point's subtree changes often (non-terminal state). */
int tree_rp_busy(const struct arm_rp *p);
/* progress: one line per disk, then the total (minimum over disks). */
char *tree_render_progress(const struct arm_rp *p);
/* Render the file at slot of a collection. */
int tree_render_coll_file(struct tree *t, const struct dctx *d, int slot, char **out);
/* Render the file at slot of a point (progress excluded: it needs a request). */
int tree_render_point_file(const struct dctx *d, int slot, char **out);
/* Render a .rpfs file. */
int tree_render_rpfs_file(struct tree *t, int slot, char **out);
/* Attributes of slot in a resolved collection whose mtime is mt. */
int tree_coll_slot_attr_mt(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			   time_t mt, struct tree_attr *a);
/* Attributes of slot in a resolved collection. */
int tree_coll_slot_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			struct tree_attr *a);
/* Attributes of slot in a resolved point. */
int tree_point_slot_attr(struct tree *t, const struct tnode *n, const struct dctx *d, int slot,
			 struct tree_attr *a);
/* Attributes of a .rpfs slot. */
int tree_rpfs_slot_attr(struct tree *t, int slot, struct tree_attr *a);
/* Attributes of any inode, using data resolved in mode m. */
int tree_attr_of(struct tree *t, struct tnode *n, int slot, enum dmode m, struct tree_attr *a);
/* Render a collection's or point's file from data resolved in mode m. */
int tree_render_node_file(struct tree *t, struct tnode *n, int slot, enum dmode m, struct dctx *d,
			  char **out);

/* ---- tree_walk.c ---- */
/* Queue fetches of the collections v (n of them) in walk order, the order
 * in which ls -R, find or cp -r reach them; with first, ahead of what is
 * queued already. */
void tree_prefetch_in_walk_order(struct tree *t, const struct arm_rpc **v, size_t n, int first);
/* Wait until the collections v (n, in the order they are fetched) are
 * fetched, op_timeout at most, so that a listing answers in time: what has
 * not arrived by then is listed from the ListAll answer while its fetch
 * goes on.  0, or -EINTR when the caller gave up. */
int tree_wait_fetched(struct tree *t, const struct arm_rpc **v, size_t n);
/* A fresh listing of node (slot) starts: 1 when it shows that the whole
 * mount is being walked, the first time it does. */
int tree_walk_note_start(struct tree *t, const struct tnode *node, int slot);
/* A fresh listing ended. */
void tree_walk_note_end(struct tree *t);
/* Queue a fetch of every collection not fresh, in walk order. */
void tree_walk_prefetch_all(struct tree *t);

/* ---- tree_inval.c ---- */
/* Cache listener: what changed in ARM becomes kernel invalidations. */
void tree_on_change(void *arg, const struct cache_val *o, const struct cache_val *nw);

/* ---- tree_send.c ---- */
/* Send one mutation (or, with dry_run, record it).  Returns ARM's errno. */
int tree_send_mut(struct tree *t, const struct cache_mut *m);
/* tree_send_mut for an existing point pn, whose `error` file then tells how
 * the operation ended. */
int tree_send_mut_on(struct tree *t, const struct cache_mut *m, const struct tnode *pn);
/* Fetch a collection and, with list, the ListAll answer again (after a
 * mutation): the cache listener turns the differences into kernel
 * invalidations. */
void tree_refresh_coll(struct tree *t, const char *rg, const char *rpc, int list);

/* ---- tree_mkdir.c ---- */
/* A pending collection gets its source (a collection id): PUT it. */
int tree_resolve_collection(struct tree *t, struct tnode *n, const char *src_id);
/* A pending point gets its source (a point id): its collection first. */
int tree_resolve_point(struct tree *t, struct tnode *pn, const char *src_id);

#endif
