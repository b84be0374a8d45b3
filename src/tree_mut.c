/*
 * tree_mut.c - the mutations (doc/DESIGN.md) on the tree: mkdir, the files cp
 * writes, rmdir, tags, .rpfs/ops and .rpfs/copies.
 *
 * How cp, mkdir and rmdir become ARM requests:
 *  - mkdir of a collection or point either sends its PUT at once (the
 *    source is known from the name) or leaves a *local* node: a directory
 *    that exists only in this mount (L_PENDING) until a write names its
 *    source.  With dry_run, a node whose PUT was only recorded stays local
 *    too (L_DRY), so that cp -r goes on and records every request.
 *  - cp creates the children of a directory it has just made with
 *    O_CREAT|O_EXCL and mkdir, which the kernel refuses by itself when the
 *    lookup finds the name.  So, for the process that made a directory
 *    (and until somebody lists it), its view names look absent: the create
 *    then reaches rpfs, which opens the view for an absorbed write.  Every
 *    other process sees the view as usual.
 *  - A written file acts only when its content names a source (the
 *    top-level "id" of a JSON view, else the first line): a collection id
 *    for a pending collection, a point id for a pending point (whose
 *    collection then gets the point's collection as source).  Other ids are
 *    absorbed, so the order in which cp writes files does not matter.
 *  - Checks that rpfs can make from what it knows are made before sending
 *    (errno as ARM's answer would give, reason logged and in .rpfs/ops);
 *    the rest comes from ARM's answer through arm_errno.
 *  - After each mutation the collection (and for a collection, the ListAll
 *    answer) is fetched again: the cache listener turns the differences into kernel
 *    invalidations, so new and removed names show at once.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "blocking.h"
#include "cache.h"
#include "log.h"
#include "tags.h"
#include "tree_int.h"

#define FRESH_SECS 600

/* A copy started from this mount, until its progress reads 100 Succeeded. */
struct copy_rec {
	struct copy_rec *next;
	char *target, *source; /* ARM ids */
	char *rg, *rpc, *rp;   /* the target */
	int percent;	       /* last seen, -1 unknown */
};

/* Free one copy record. */
static void copy_rec_free(struct copy_rec *r)
{
	if (!r)
		return;
	free(r->target);
	free(r->source);
	free(r->rg);
	free(r->rpc);
	free(r->rp);
	free(r);
}

/* Free every copy record. */
void tree_copies_free(struct tree *t)
{
	struct copy_rec *r, *next;

	for (r = t->copies; r; r = next) {
		next = r->next;
		copy_rec_free(r);
	}
	t->copies = NULL;
}

/* The local state of a node (L_NONE when it is ARM's). */
int tree_node_local(struct tree *t, const struct tnode *n)
{
	int l;

	pthread_mutex_lock(&t->mlock);
	l = n->local;
	pthread_mutex_unlock(&t->mlock);
	return l;
}

/* Fields of /proc/PID/stat: the parent (field 4) and the start time
 * (field 22, clock ticks since boot); 0 when unknown.  With the pid, the
 * start time names one process, as a pid alone does not once it is reused.
 * The command name before them may hold spaces and ')'. */
static void proc_stat(uint32_t pid, uint32_t *ppid, uint64_t *start)
{
	char path[32], buf[1024], *p;
	unsigned long pp = 0;
	unsigned long long st = 0;
	FILE *f;
	size_t n;

	*ppid = 0;
	*start = 0;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %*c %lu %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu",
			 &pp, &st) != 2)
		return;
	*ppid = (uint32_t)pp;
	*start = st;
}

/* The start time of process pid (see proc_stat). */
static uint64_t proc_start(uint32_t pid)
{
	uint32_t pp;
	uint64_t st;

	proc_stat(pid, &pp, &st);
	return st;
}

/* 1 when process pid made directory n a moment ago (the same process: a
 * later one that reuses the pid is not it). */
int tree_fresh_for(struct tree *t, struct tnode *n, uint32_t pid)
{
	int r;
	uint64_t start;

	if (!pid)
		return 0;
	pthread_mutex_lock(&t->mlock);
	r = n->fresh_pid == pid && mount_secs(t) < n->fresh_until;
	start = n->fresh_start;
	pthread_mutex_unlock(&t->mlock);
	return r && proc_start(pid) == start;
}

/* The parent of process pid (see proc_stat). */
static uint32_t parent_pid(uint32_t pid)
{
	uint32_t pp;
	uint64_t st;

	proc_stat(pid, &pp, &st);
	return pp;
}

/* 1 when pid, its parent or one of its children is filling a directory it
 * made in this mount: cp -r does both ends in one process, a local rsync
 * reads in the parent and makes directories in a child. */
int tree_pid_filling(struct tree *t, uint32_t pid)
{
	uint32_t now = mount_secs(t), fillers[8], parent;
	size_t nf = 0;

	if (!pid)
		return 0;
	pthread_rwlock_rdlock(&t->lock);
	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < 8 && nf < 8; i++)
		if (t->writer_pid[i] && now < t->writer_until[i])
			fillers[nf++] = t->writer_pid[i];
	for (size_t i = 0; i < t->nnodes && nf < 8; i++) {
		uint32_t f = t->nodes[i]->fresh_pid;
		size_t k = 0;

		if (!f || now >= t->nodes[i]->fresh_until)
			continue;
		while (k < nf && fillers[k] != f)
			k++;
		if (k == nf)
			fillers[nf++] = f;
	}
	pthread_mutex_unlock(&t->mlock);
	pthread_rwlock_unlock(&t->lock);
	if (!nf)
		return 0;
	parent = parent_pid(pid);
	for (size_t k = 0; k < nf; k++)
		if (fillers[k] == pid || fillers[k] == parent || parent_pid(fillers[k]) == pid)
			return 1;
	return 0;
}

/* Remember a process writing view files (the oldest entry goes). */
void tree_note_writer(struct tree *t, uint32_t pid)
{
	uint32_t now = mount_secs(t);
	size_t k = 0;

	if (!pid)
		return;
	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < 8; i++) {
		if (t->writer_pid[i] == pid) {
			k = i;
			break;
		}
		if (t->writer_until[i] < t->writer_until[k])
			k = i;
	}
	t->writer_pid[k] = pid;
	t->writer_until[k] = now + FRESH_SECS;
	pthread_mutex_unlock(&t->mlock);
}

/* 1 when the process filling n has already made view slot there. */
int tree_made_here(struct tree *t, struct tnode *n, int slot)
{
	int r;

	pthread_mutex_lock(&t->mlock);
	r = slot >= 0 && slot < 16 && (n->made & (1u << slot));
	pthread_mutex_unlock(&t->mlock);
	return r;
}

/* Remember that view slot of n was made (create, mkdir disks, symlink). */
static void set_made(struct tree *t, struct tnode *n, int slot)
{
	pthread_mutex_lock(&t->mlock);
	if (slot >= 0 && slot < 16)
		n->made |= (uint16_t)(1u << slot);
	pthread_mutex_unlock(&t->mlock);
}

/* Mark directory n as being filled by process pid. */
static void set_fresh(struct tree *t, struct tnode *n, uint32_t pid)
{
	uint64_t start = pid ? proc_start(pid) : 0;

	pthread_mutex_lock(&t->mlock);
	n->fresh_pid = pid;
	n->fresh_start = start;
	n->fresh_until = mount_secs(t) + FRESH_SECS;
	n->made = 0;
	pthread_mutex_unlock(&t->mlock);
}

static void pend_tags_drop_locked(struct tree *t, const struct tnode *n);

/* Make n local (kind l, source src may be NULL) or, with L_NONE, ARM's again. */
static int set_local(struct tree *t, struct tnode *n, int l, const char *src)
{
	int rc = 0;

	pthread_mutex_lock(&t->mlock);
	if (src) {
		char *s = strdup(src);

		if (!s) {
			rc = -ENOMEM;
			goto out;
		}
		free(n->src);
		n->src = s;
	}
	if (l && !n->local) {
		if (t->nlocals == t->caplocals) {
			size_t nc = t->caplocals ? t->caplocals * 2 : 16;
			struct tnode **v = realloc(t->locals, nc * sizeof(*v));

			if (!v) {
				rc = -ENOMEM;
				goto out;
			}
			t->locals = v;
			t->caplocals = nc;
		}
		t->locals[t->nlocals++] = n;
	} else if (!l && n->local) {
		for (size_t i = 0; i < t->nlocals; i++)
			if (t->locals[i] == n) {
				t->locals[i] = t->locals[--t->nlocals];
				break;
			}
		free(n->src);
		n->src = NULL;
		pend_tags_drop_locked(t, n);
	}
	if (n->local != (uint8_t)l && t->nt.inval_inode) {
		/* The files' content now comes from elsewhere: the kernel may
		 * keep pages of the old one (keep_cache). */
		int last = n->kind == N_RPC ? S_C_TAGS : S_P_DISK0 + 8;

		for (int s = 1; s <= last; s++)
			t->nt.inval_inode(t->nt.arg, mkino(n->idx, s));
	}
	n->local = (uint8_t)l;
out:
	pthread_mutex_unlock(&t->mlock);
	return rc;
}

/* The local child of parent named name, or NULL. */
struct tnode *tree_local_child(struct tree *t, struct tnode *parent, const char *name)
{
	struct tnode *c = NULL;

	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->nlocals; i++)
		if (t->locals[i]->parent == parent && !strcasecmp(t->locals[i]->name, name))
			c = t->locals[i];
	pthread_mutex_unlock(&t->mlock);
	return c;
}

/* 1 when parent has local children. */
static int has_local_children(struct tree *t, struct tnode *parent)
{
	int r = 0;

	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->nlocals && !r; i++)
		r = t->locals[i]->parent == parent;
	pthread_mutex_unlock(&t->mlock);
	return r;
}

/* Add the local children of parent to a listing. */
void tree_list_locals(struct tree *t, struct tnode *parent, struct dlist *l)
{
	struct tree_attr a;

	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->nlocals; i++) {
		struct tnode *c = t->locals[i];
		int dup = 0;

		if (c->parent != parent)
			continue;
		for (size_t j = 0; j < l->n && !dup; j++)
			dup = !strcasecmp(l->v[j].name, c->name);
		if (dup)
			continue;
		tree_dir_attr(&a, mkino(c->idx, 0), t->mount_time, 1);
		tree_dl_add(l, c->name, &a);
	}
	pthread_mutex_unlock(&t->mlock);
}

/* The ARM id a local node will have. */
static char *local_id(struct tree *t, const struct tnode *n)
{
	const char *sub = cache_subscription(t->c);

	if (n->kind == N_RPC)
		return arm_path_rpc(sub, n->parent->name, n->name);
	return arm_path_rp(sub, n->parent->parent->name, n->parent->name, n->name);
}

/* Content of a file of a local node: state, source, and (dry_run) id. */
int tree_render_local(struct tree *t, struct tnode *n, int slot, char **out)
{
	int l, coll = n->kind == N_RPC;
	char *s = NULL, *id;

	pthread_mutex_lock(&t->mlock);
	l = n->local;
	if (slot == (coll ? S_C_STATE : S_P_STATE))
		s = strdup(l == L_DRY ? "dry_run\n" : "pending\n");
	else if (slot == (coll ? S_C_SOURCE : S_P_SOURCE))
		s = n->src ? tree_line(n->src) : strdup("");
	else if (slot == (coll ? S_C_ID : S_P_ID) && l == L_DRY) {
		id = local_id(t, n);
		s = id ? tree_line(id) : NULL;
		free(id);
	} else {
		pthread_mutex_unlock(&t->mlock);
		return -ENOENT;
	}
	pthread_mutex_unlock(&t->mlock);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

/* Attributes in a local node. */
int tree_local_attr(struct tree *t, struct tnode *n, int slot, struct tree_attr *a)
{
	char *s = NULL;
	int rc;

	if (slot == S_DIR || (n->kind == N_RP && slot == S_P_DISKS)) {
		tree_dir_attr(a, mkino(n->idx, slot), t->mount_time, 1);
		return 0;
	}
	rc = tree_render_local(t, n, slot, &s);
	if (rc < 0)
		return rc;
	tree_file_attr(a, mkino(n->idx, slot), s, t->mount_time, 0, TREE_REG);
	a->entry_ttl = 1;
	return 0;
}

/* ---- .rpfs/ops -------------------------------------------------------- */

/* Name of an errno as the tests and scripts expect to read it. */
static const char *errname(int rc)
{
	switch (-rc) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case EEXIST:
		return "EEXIST";
	case EBUSY:
		return "EBUSY";
	case EDQUOT:
		return "EDQUOT";
	case ENOENT:
		return "ENOENT";
	case EACCES:
		return "EACCES";
	case EAGAIN:
		return "EAGAIN";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENOTEMPTY:
		return "ENOTEMPTY";
	case EPERM:
		return "EPERM";
	default:
		return "EIO";
	}
}

/* Add one line (time first) to .rpfs/ops. */
static void ops_add(struct tree *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ops_add(struct tree *t, const char *fmt, ...)
{
	char ts[32], *body = NULL, *s;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		body = NULL;
	va_end(ap);
	if (!body)
		return;
	s = tree_asprintf("%s %s\n", ts, body);
	free(body);
	if (!s)
		return;
	pthread_mutex_lock(&t->mlock);
	free(t->ops[t->ops_next]);
	t->ops[t->ops_next] = s;
	t->ops_next = (t->ops_next + 1) % OPS_MAX;
	if (t->ops_count < OPS_MAX)
		t->ops_count++;
	pthread_mutex_unlock(&t->mlock);
}

/* .rpfs/ops: oldest first. */
int tree_render_ops(struct tree *t, char **out)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->ops_count; i++) {
		size_t k = (t->ops_next + OPS_MAX - t->ops_count + i) % OPS_MAX;

		fputs(t->ops[k], f);
	}
	pthread_mutex_unlock(&t->mlock);
	if (fclose(f) != 0) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

/* A refusal rpfs decides itself, without a request: a line in
 * .rpfs/errors (and the log) whose message says what to do instead. */
static int refuse_advise(struct tree *t, const char *op, const char *path, int rc,
			 const char *advice)
{
	struct arm_err e = {0};

	snprintf(e.message, sizeof(e.message), "%s", advice);
	cache_record_error(t->c, op, path, &e, rc);
	return rc;
}

/* A mutation refused before sending: .rpfs/ops, and .rpfs/errors and the
 * log with what to do instead. */
static int refuse_op(struct tree *t, const char *verb, const char *what, int rc, const char *why)
{
	char msg[256];

	ops_add(t, "%s %s - %s refused: %s", verb, what, errname(rc), why);
	snprintf(msg, sizeof(msg), "%s (nothing sent)", why);
	return refuse_advise(t, verb, what, rc, msg);
}

/* A refusal the FUSE layer decides (another user's change): the log and
 * .rpfs/errors, with what to do instead. */
void tree_refuse(struct tree *t, uint64_t ino, const char *name, const char *op, int rc,
		 const char *why)
{
	struct arm_err e = {0};
	char path[1024];
	size_t len = 0;
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);
	const struct tnode *chain[8];
	size_t depth = 0;

	path[0] = '\0';
	for (const struct tnode *p = n; p && p->parent && depth < 8; p = p->parent)
		chain[depth++] = p;
	while (depth-- > 0 && len < sizeof(path))
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/%s", chain[depth]->name);
	if (name && len < sizeof(path))
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/%s", name);
	if (!path[0])
		snprintf(path, sizeof(path), "/");
	snprintf(e.message, sizeof(e.message), "%s", why);
	cache_record_error(t->c, op, path, &e, rc);
}

/* A JSON body on one line (the views are pretty-printed). */
static void one_line(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r == '\n') {
			while (r[1] == ' ' || r[1] == '\t')
				r++;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
}

/* The last failed operation on a point, shown in its `error` file. */
struct op_err {
	struct op_err *next;
	const struct tnode *n;
	char *text;
};

/* The `error` text of point n from this mount, or NULL. */
char *tree_node_error(struct tree *t, const struct tnode *n)
{
	char *s = NULL;

	pthread_mutex_lock(&t->mlock);
	for (struct op_err *e = t->errs; e && !s; e = e->next)
		if (e->n == n)
			s = strdup(e->text);
	pthread_mutex_unlock(&t->mlock);
	return s;
}

/* Remember (text) or forget (NULL) the last failed operation on point n. */
static void set_node_error(struct tree *t, const struct tnode *n, char *text)
{
	struct op_err **pp, *e;

	pthread_mutex_lock(&t->mlock);
	for (pp = &t->errs; *pp; pp = &(*pp)->next)
		if ((*pp)->n == n) {
			e = *pp;
			*pp = e->next;
			free(e->text);
			free(e);
			break;
		}
	if (text && (e = calloc(1, sizeof(*e))) != NULL) {
		e->n = n;
		e->text = text;
		e->next = t->errs;
		t->errs = e;
		text = NULL;
	}
	pthread_mutex_unlock(&t->mlock);
	free(text);
}

/* Free every remembered error. */
void tree_errs_free(struct tree *t)
{
	struct op_err *e, *next;

	for (e = t->errs; e; e = next) {
		next = e->next;
		free(e->text);
		free(e);
	}
	t->errs = NULL;
}

static int send_mut_on(struct tree *t, const struct cache_mut *m, const struct tnode *pn);

/* Send one mutation (or, with dry_run, record it).  Returns ARM's errno. */
static int send_mut(struct tree *t, const struct cache_mut *m)
{
	return send_mut_on(t, m, NULL);
}

/* send_mut for an existing point pn, whose `error` file then tells how
 * the operation ended. */
static int send_mut_on(struct tree *t, const struct cache_mut *m, const struct tnode *pn)
{
	static const char *const verbs[] = {[CM_PUT_RPC] = "PUT",
					    [CM_PUT_RP] = "PUT",
					    [CM_DELETE_RP] = "DELETE",
					    [CM_DELETE_RPC] = "DELETE",
					    [CM_PATCH_TAGS] = "PATCH"};
	const char *sub = cache_subscription(t->c);
	char *id =
	    m->rp ? arm_path_rp(sub, m->rg, m->rpc, m->rp) : arm_path_rpc(sub, m->rg, m->rpc);
	struct arm_err err;
	int rc;

	if (!id)
		return -ENOMEM;
	if (t->cfg.dry_run) {
		char *body = NULL, *path;

		if (m->op == CM_PUT_RPC)
			body =
			    arm_body_put_collection(m->location, m->source_id, m->tags, m->ntags);
		else if (m->op == CM_PUT_RP)
			body = arm_body_put_rp(m->source_rp_id, m->consistency);
		else if (m->op == CM_PATCH_TAGS)
			body = arm_body_patch_tags(m->tags, m->ntags);
		path = m->rp ? arm_url_path_rp(sub, m->rg, m->rpc, m->rp)
			     : arm_url_path_rpc(sub, m->rg, m->rpc);
		if (body)
			one_line(body);
		ops_add(t, "dry_run %s %s %s", verbs[m->op], path ? path : id, body ? body : "-");
		log_info("dry_run: %s %s (not sent)", verbs[m->op], id);
		free(body);
		free(path);
		free(id);
		return 0;
	}
	rc = cache_mutate(t->c, m, &err);
	ops_add(t, "%s %s %d %s %s", verbs[m->op], id, err.status, errname(rc),
		err.request_id[0] ? err.request_id : "-");
	if (pn)
		set_node_error(
		    t, pn,
		    rc < 0 ? tree_asprintf("%s: %s: %s (HTTP %d, x-ms-request-id %s)\n",
					   verbs[m->op], err.code[0] ? err.code : errname(rc),
					   err.message[0] ? err.message : strerror(-rc), err.status,
					   err.request_id[0] ? err.request_id : "-")
			   : NULL);
	if (rc == 0)
		log_info("%s %s: %d (x-ms-request-id %s)", verbs[m->op], id, err.status,
			 err.request_id[0] ? err.request_id : "-");
	free(id);
	return rc;
}

/* Fetch a collection and, with list, the ListAll answer again (after a
 * mutation): the cache listener turns the differences into kernel
 * invalidations. */
static void refresh_coll(struct tree *t, const char *rg, const char *rpc, int list)
{
	struct cache_val *v = NULL;

	if (list && cache_list(t->c, CACHE_FETCH, &v) == 0)
		cache_put(v);
	v = NULL;
	if (rpc && cache_coll(t->c, rg, rpc, CACHE_FETCH, &v) == 0)
		cache_put(v);
}

/* Wait until no mutation of n is in flight, then mark one.  0, or
 * -EALREADY when n stopped being pending meanwhile. */
static void node_busy(struct tree *t, struct tnode *n)
{
	pthread_mutex_lock(&t->mlock);
	if (n->busy)
		blocking_begin();
	while (n->busy)
		pthread_cond_wait(&t->mcond, &t->mlock);
	n->busy = 1;
	pthread_mutex_unlock(&t->mlock);
}

/* End of node_busy. */
static void node_idle(struct tree *t, struct tnode *n)
{
	pthread_mutex_lock(&t->mlock);
	n->busy = 0;
	pthread_cond_broadcast(&t->mcond);
	pthread_mutex_unlock(&t->mlock);
}

/* ---- collections ------------------------------------------------------ */

/* Tags written to a pending collection before its source was named: sent
 * with its PUT.  Under t->mlock. */
struct pend_tags {
	struct pend_tags *next;
	const struct tnode *n;
	struct arm_tag *tags;
	size_t ntags;
};

/* Remember tags for pending collection n (takes them), replacing any. */
static void pend_tags_set(struct tree *t, const struct tnode *n, struct arm_tag *tags, size_t ntags)
{
	struct pend_tags *p;

	pthread_mutex_lock(&t->mlock);
	for (p = t->ptags; p && p->n != n; p = p->next)
		;
	if (!p && (p = calloc(1, sizeof(*p))) != NULL) {
		p->n = n;
		p->next = t->ptags;
		t->ptags = p;
	}
	if (p) {
		tags_free(p->tags, p->ntags);
		p->tags = tags;
		p->ntags = ntags;
	} else {
		tags_free(tags, ntags);
	}
	pthread_mutex_unlock(&t->mlock);
}

/* Take the tags remembered for n (NULL when none); caller frees. */
static struct arm_tag *pend_tags_take(struct tree *t, const struct tnode *n, size_t *ntags)
{
	struct pend_tags **pp, *p;
	struct arm_tag *tags = NULL;

	*ntags = 0;
	pthread_mutex_lock(&t->mlock);
	for (pp = &t->ptags; (p = *pp) != NULL; pp = &p->next)
		if (p->n == n) {
			*pp = p->next;
			tags = p->tags;
			*ntags = p->ntags;
			free(p);
			break;
		}
	pthread_mutex_unlock(&t->mlock);
	return tags;
}

/* Forget the tags of n (it is no longer pending); caller holds t->mlock. */
static void pend_tags_drop_locked(struct tree *t, const struct tnode *n)
{
	struct pend_tags **pp, *p;

	for (pp = &t->ptags; (p = *pp) != NULL; pp = &p->next)
		if (p->n == n) {
			*pp = p->next;
			tags_free(p->tags, p->ntags);
			free(p);
			return;
		}
}

/* Free every remembered pending tag set. */
void tree_ptags_free(struct tree *t)
{
	struct pend_tags *p, *next;

	for (p = t->ptags; p; p = next) {
		next = p->next;
		tags_free(p->tags, p->ntags);
		free(p);
	}
	t->ptags = NULL;
}

/* PUT collection node n (region/rg/name) as a copy of src (a collection). */
static int put_collection(struct tree *t, struct tnode *n, const struct arm_rpc *src)
{
	const char *region = n->parent->parent->name, *rg = n->parent->name;
	int folded = 0;
	struct cache_mut m = {.op = CM_PUT_RPC,
			      .rg = rg,
			      .rpc = n->name,
			      .location = region,
			      .source_id = src->id,
			      .tags = src->tags,
			      .ntags = src->ntags,
			      .folded = &folded};
	struct arm_tag *ptags;
	size_t nptags;
	char what[600];
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s", region, rg, n->name);
	if (same(src->location, region))
		return refuse_op(t, "PUT", what, -EINVAL,
				 "the source collection is in the same region: a copy goes to "
				 "another region, so make it under another region's directory");
	if (rpc_is_copy(src))
		return refuse_op(t, "PUT", what, -EINVAL,
				 "the source collection is itself a copy (no copy of a copy): "
				 "copy its origin instead");
	/* The source's tags, as the cross-region copy example does, so a
	 * policy that requires tags at creation is met; tags written to the
	 * pending directory take their place. */
	ptags = pend_tags_take(t, n, &nptags);
	if (ptags) {
		m.tags = ptags;
		m.ntags = nptags;
	}
	rc = send_mut(t, &m);
	if (rc < 0 && ptags)
		pend_tags_set(t, n, ptags, nptags); /* kept for the next try */
	else
		tags_free(ptags, nptags);
	if (rc == 0 && t->cfg.dry_run)
		return set_local(t, n, L_DRY, src->id);
	if (rc == -EEXIST || rc == 0) {
		struct cache_val *list = NULL;
		const struct arm_rpc *r;
		int ok = 0;

		if (!folded) /* else ARM's answer is in the cache */
			refresh_coll(t, rg, n->name, 1);
		/* A retried PUT that met what it created is a success. */
		if (rc == -EEXIST && tree_get_list(t, D_FETCH, &list) == 0) {
			r = cache_list_find(list, rg, n->name);
			ok = r && same(r->location, region) && same(r->source_id, src->id);
			cache_put(list);
			if (ok)
				rc = 0;
		}
	}
	if (rc == 0)
		set_local(t, n, L_NONE, NULL);
	return rc;
}

/* A pending collection gets its source (a collection id): PUT it. */
static int resolve_collection(struct tree *t, struct tnode *n, const char *src_id)
{
	struct arm_id *id = NULL;
	struct cache_val *list = NULL;
	const struct arm_rpc *src;
	int rc;

	if (arm_id_parse(src_id, &id) < 0 || !id->rpc || id->rp) {
		free(id);
		return -EINVAL;
	}
	node_busy(t, n);
	if (tree_node_local(t, n) != L_PENDING) {
		rc = 0; /* resolved meanwhile: absorbed */
		goto out;
	}
	rc = tree_get_list(t, D_FETCH, &list);
	if (rc < 0)
		goto out;
	src = cache_list_find(list, id->rg, id->rpc);
	if (!src) {
		rc = refuse_op(t, "PUT", src_id, -ENOENT, "no such source collection");
		goto out;
	}
	rc = put_collection(t, n, src);
out:
	node_idle(t, n);
	cache_put(list);
	free(id);
	return rc;
}

static int copied_to(struct tree *t, const char *region, const char *src_coll, const char *src_id);

/* 1 when src has restore points and each has a copy in region already
 * (a copy of src there would be an empty collection). */
static int all_copied(struct tree *t, const char *region, const struct arm_rpc *src)
{
	struct cache_val *cv = NULL;
	int all = 1, any = 0;

	if (tree_get_coll(t, src->rg, src->name, D_FETCH, &cv) < 0)
		return 0;
	for (size_t k = 0; cv->rpc && k < cv->rpc->npoints && all; k++) {
		const struct arm_rp *p = &cv->rpc->points[k];

		if (same(p->state, "Deleting"))
			continue;
		any = 1;
		all = copied_to(t, region, src->id, p->id);
	}
	cache_put(cv);
	return any && all;
}

/* mkdir REGION/RG/NAME: a collection (PUT, or pending until cp names its source). */
static int mkdir_collection(struct tree *t, struct tnode *rgn, const char *name, uint32_t pid,
			    struct tree_attr *out)
{
	const char *region = rgn->parent->name;
	struct cache_val *list = NULL;
	const struct arm_rpc *cand = NULL;
	struct tnode *n;
	int rc, ncand = 0, nsame = 0;
	char what[600];

	snprintf(what, sizeof(what), "%s/%s/%s", region, rgn->name, name);
	rc = tree_get_list(t, D_FETCH, &list);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < list->n; i++) {
		const struct arm_rpc *r = list->v[i];

		if (!same(r->name, name))
			continue;
		if (same(r->rg, rgn->name)) {
			char msg[256];

			snprintf(
			    msg, sizeof(msg),
			    "the group already holds a collection of that name (in %.40s), and "
			    "names are unique per group across regions: use another group or "
			    "a new name",
			    r->location);
			rc = refuse_advise(t, "mkdir", what, -EEXIST, msg);
			goto out;
		}
		if (!same(r->location, region)) {
			cand = r;
			ncand++;
		} else {
			nsame++;
		}
	}
	if (tree_local_child(t, rgn, name)) {
		rc = -EEXIST;
		goto out;
	}
	n = tree_node_get(t, rgn, name, N_RPC);
	if (!n) {
		rc = -ENOMEM;
		goto out;
	}
	if (ncand == 0 && nsame > 0) {
		/* cp -r within a region: the writes would name a source here. */
		rc = refuse_op(t, "mkdir", what, -EINVAL,
			       "a collection of this name is in this region already: a copy goes "
			       "to another region (or mkdir another name and write its source)");
	} else if (ncand == 1 && all_copied(t, region, cand)) {
		rc = refuse_op(t, "mkdir", what, -EEXIST,
			       "every restore point of the source already has a copy in this "
			       "region (one copy per source point per region): nothing to copy");
	} else if (ncand == 1) {
		node_busy(t, n);
		rc = put_collection(t, n, cand);
		node_idle(t, n);
	} else {
		rc = set_local(t, n, L_PENDING, NULL);
		log_info("mkdir %s/%s/%s: pending until a source collection is named", region,
			 rgn->name, name);
	}
	if (rc == 0) {
		set_fresh(t, n, pid);
		tree_dir_attr(out, mkino(n->idx, 0), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
	}
out:
	cache_put(list);
	return rc;
}

/* ---- restore points --------------------------------------------------- */

/* 1 when point src_id (of collection src_coll) already has a copy in
 * region: the copies of src_coll there are read (cached, else fetched). */
static int copied_to(struct tree *t, const char *region, const char *src_coll, const char *src_id)
{
	struct cache_val *list = NULL, *cv;
	int found = 0;

	if (tree_get_list(t, D_CACHED, &list) < 0)
		return 0;
	for (size_t i = 0; i < list->n && !found; i++) {
		const struct arm_rpc *r = list->v[i];

		if (!same(r->location, region) || !rpc_is_copy(r) || !same(r->source_id, src_coll))
			continue;
		cv = NULL;
		if (tree_get_coll(t, r->rg, r->name, D_CACHED, &cv) < 0)
			continue;
		for (size_t k = 0; cv->rpc && k < cv->rpc->npoints && !found; k++)
			found = same(cv->rpc->points[k].source_rp_id, src_id) &&
				!same(cv->rpc->points[k].state, "Deleting");
		cache_put(cv);
	}
	cache_put(list);
	return found;
}

/* Remember a copy started from this mount (for .rpfs/copies and EBUSY). */
static void copy_add(struct tree *t, const char *target, const char *source, const char *rg,
		     const char *rpc, const char *rp)
{
	struct copy_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->target = strdup(target);
	r->source = strdup(source);
	r->rg = strdup(rg);
	r->rpc = strdup(rpc);
	r->rp = strdup(rp);
	r->percent = -1;
	if (!r->target || !r->source || !r->rg || !r->rpc || !r->rp) {
		copy_rec_free(r);
		return;
	}
	pthread_mutex_lock(&t->mlock);
	r->next = t->copies;
	t->copies = r;
	pthread_mutex_unlock(&t->mlock);
}

/*
 * Copies into one collection go in order: ARM refuses a copy of a point
 * older than one the collection already has.  A copy PUT whose answer
 * never came (no answer within op_timeout) may still land later, after
 * copies sent behind it, and then fail for good: a rerun of cp -r would
 * meet "copies in order" forever.  So such a copy is remembered as unsure,
 * and a later copy into the collection first waits (op_timeout) until
 * every unsure copy there has appeared in ARM.  A copy that gives up
 * waiting (ETIMEDOUT) becomes unsure too, as it was skipped: a rerun of
 * cp -r, which meets the unsure points first, sends them, and the others
 * follow in order.
 */
struct unsure {
	struct unsure *next;
	const struct tnode *cn; /* the collection */
	char *point;		/* a point whose copy may or may not exist */
};

/* 1 when cn has unsure copies; *mine = 1 when point name is one of them. */
static int unsure_any(struct tree *t, const struct tnode *cn, const char *name, int *mine)
{
	int any = 0;

	*mine = 0;
	pthread_mutex_lock(&t->mlock);
	for (struct unsure *u = t->unsure; u; u = u->next)
		if (u->cn == cn) {
			any = 1;
			if (!strcasecmp(u->point, name))
				*mine = 1;
		}
	pthread_mutex_unlock(&t->mlock);
	return any;
}

/* Remember point's copy into cn as unsure. */
static void unsure_add(struct tree *t, const struct tnode *cn, const char *point)
{
	struct unsure *u = calloc(1, sizeof(*u));
	int dup;

	if (!u || !(u->point = strdup(point))) {
		free(u);
		return;
	}
	u->cn = cn;
	if (unsure_any(t, cn, point, &dup) && dup) {
		free(u->point);
		free(u);
		return;
	}
	pthread_mutex_lock(&t->mlock);
	u->next = t->unsure;
	t->unsure = u;
	pthread_mutex_unlock(&t->mlock);
}

/* Forget cn's unsure copies: the one of point (not NULL), else those
 * collection r (ARM's answer) now holds. */
static void unsure_drop(struct tree *t, const struct tnode *cn, const char *point,
			const struct arm_rpc *r)
{
	struct unsure **pp, *u;

	pthread_mutex_lock(&t->mlock);
	for (pp = &t->unsure; (u = *pp) != NULL;) {
		if (u->cn == cn && (point ? !strcasecmp(u->point, point)
					  : r && tree_point_named(r, u->point) != NULL)) {
			*pp = u->next;
			free(u->point);
			free(u);
		} else {
			pp = &u->next;
		}
	}
	pthread_mutex_unlock(&t->mlock);
}

/* Free the list (tree_free). */
void tree_unsure_free(struct tree *t)
{
	while (t->unsure) {
		struct unsure *u = t->unsure;

		t->unsure = u->next;
		free(u->point);
		free(u);
	}
}

/* Before a copy of point name into cn: 0 when it may be sent (no unsure
 * copy there, or it is one of them: the rerun), else wait until the unsure
 * copies have appeared in ARM; -ETIMEDOUT after op_timeout. */
static int unsure_settle(struct tree *t, struct tnode *cn, const char *name, const char *what)
{
	const char *rg = cn->parent->name;
	struct timespec t0, now;
	unsigned limit = t->cfg.op_timeout ? t->cfg.op_timeout : 30;
	int mine;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (unsure_any(t, cn, name, &mine) && !mine) {
		struct cache_val *cv = NULL;

		cache_expire(t->c, rg, cn->name, 0);
		if (cache_coll(t->c, rg, cn->name, CACHE_FETCH, &cv) == 0) {
			unsure_drop(t, cn, NULL, cv->rpc);
			cache_put(cv);
		}
		if (!unsure_any(t, cn, name, &mine))
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec + 1 >= (time_t)limit) {
			unsure_add(t, cn, name); /* skipped: it goes first on the rerun */
			return refuse_op(
			    t, "PUT", what, -ETIMEDOUT,
			    "an earlier copy into this collection has no known outcome "
			    "yet, and copies go in order: run cp -r again");
		}
		sleep(1);
	}
	return 0;
}

/* PUT point node pn as a copy of point p of collection sc (prechecks first). */
static int copy_point(struct tree *t, struct tnode *pn, const struct arm_rpc *sc,
		      const struct arm_rp *p)
{
	struct tnode *cn = pn->parent;
	const char *region = cn->parent->parent->name, *rg = cn->parent->name;
	int folded = 0;
	struct cache_mut m = {.op = CM_PUT_RP,
			      .rg = rg,
			      .rpc = cn->name,
			      .rp = pn->name,
			      .source_rp_id = p->id,
			      .folded = &folded};
	char what[900];
	int rc;

	snprintf(what, sizeof(what), "%s/%s/%s/%s", region, rg, cn->name, pn->name);
	if (p->source_rp_id)
		return refuse_op(t, "PUT", what, -EINVAL,
				 "the source point is itself a copy (no copy of a copy): copy "
				 "its origin instead");
	if (same(sc->location, region))
		return refuse_op(t, "PUT", what, -EINVAL,
				 "the source point is in the same region: copy it into a "
				 "collection in another region");
	if (!same(p->state, "Succeeded"))
		return refuse_op(t, "PUT", what, -EBUSY,
				 "the source point is not Succeeded; only a Succeeded point "
				 "can be copied: wait until its state reads Succeeded");
	if (copied_to(t, region, sc->id, p->id))
		return refuse_op(t, "PUT", what, -EEXIST,
				 "the source point already has a copy in this region (one copy "
				 "per source point per region): use that copy, or copy to "
				 "another region");
	if (!t->cfg.dry_run && (rc = unsure_settle(t, cn, pn->name, what)) < 0)
		return rc;
	rc = send_mut(t, &m);
	if (rc == -ETIMEDOUT)
		unsure_add(t, cn, pn->name); /* no answer: it may land later */
	else if (rc == 0 || rc == -EEXIST)
		unsure_drop(t, cn, pn->name, NULL);
	if (rc == 0 && t->cfg.dry_run)
		return set_local(t, pn, L_DRY, p->id);
	if (rc == 0 || rc == -EEXIST) {
		struct cache_val *cv = NULL;

		if (!folded) /* else ARM's answer to the PUT is in the cache */
			refresh_coll(t, rg, cn->name, 0);
		if (rc == -EEXIST && cache_coll(t->c, rg, cn->name, CACHE_NOFETCH, &cv) == 0) {
			const struct arm_rp *q = tree_point_named(cv->rpc, pn->name);

			if (q && same(q->source_rp_id, p->id))
				rc = 0;
			cache_put(cv);
		}
	}
	if (rc == 0) {
		char *tid = arm_path_rp(cache_subscription(t->c), rg, cn->name, pn->name);

		if (tid)
			copy_add(t, tid, p->id, rg, cn->name, pn->name);
		free(tid);
		set_local(t, pn, L_NONE, NULL);
	}
	return rc;
}

/* The source collection id of collection node cn (a copy), or NULL. */
static char *coll_source(struct tree *t, struct tnode *cn)
{
	struct dctx d;
	char *s = NULL;

	if (tree_node_local(t, cn) == L_DRY) {
		pthread_mutex_lock(&t->mlock);
		s = cn->src ? strdup(cn->src) : NULL;
		pthread_mutex_unlock(&t->mlock);
		return s;
	}
	if (tree_rpc_data(t, cn, D_FETCH, 0, &d) < 0)
		return NULL;
	if (rpc_is_copy(d.rpc))
		s = strdup(d.rpc->source_id);
	tree_dctx_done(&d);
	return s;
}

/* Copy point src_id (an id) into point node pn. */
static int copy_into(struct tree *t, struct tnode *pn, const char *src_id)
{
	struct tnode *cn = pn->parent;
	struct arm_id *sp = NULL, *cs = NULL;
	struct cache_val *sc = NULL;
	char *csrc = coll_source(t, cn);
	const struct arm_rp *p;
	int rc = -EINVAL;

	if (!csrc) {
		rc = refuse_op(t, "PUT", pn->name, -EINVAL,
			       "the collection is not a copy of another collection");
		goto out;
	}
	if (arm_id_parse(src_id, &sp) < 0 || !sp->rp || arm_id_parse(csrc, &cs) < 0 || !cs->rpc ||
	    !same(sp->rg, cs->rg) || !same(sp->rpc, cs->rpc)) {
		rc = refuse_op(t, "PUT", src_id, -EINVAL,
			       "the source point is not in the collection's source collection");
		goto out;
	}
	rc = tree_get_coll(t, sp->rg, sp->rpc, D_FETCH, &sc);
	if (rc < 0)
		goto out;
	p = tree_point_named(sc->rpc, sp->rp);
	if (!p || same(p->state, "Deleting")) {
		rc = refuse_op(t, "PUT", src_id, -ENOENT, "no such source point");
		goto out;
	}
	rc = copy_point(t, pn, sc->rpc, p);
out:
	cache_put(sc);
	free(sp);
	free(cs);
	free(csrc);
	return rc;
}

/* A pending point gets its source (a point id): its collection first. */
static int resolve_point(struct tree *t, struct tnode *pn, const char *src_id)
{
	struct tnode *cn = pn->parent;
	struct arm_id *sp = NULL;
	char *cid = NULL;
	int rc;

	if (arm_id_parse(src_id, &sp) < 0 || !sp->rp) {
		free(sp);
		return -EINVAL;
	}
	if (tree_node_local(t, cn) == L_PENDING) {
		cid = arm_path_rpc(sp->sub, sp->rg, sp->rpc);
		rc = cid ? resolve_collection(t, cn, cid) : -ENOMEM;
		if (rc < 0)
			goto out;
	}
	node_busy(t, pn);
	rc = tree_node_local(t, pn) == L_PENDING ? copy_into(t, pn, src_id) : 0;
	node_idle(t, pn);
out:
	free(sp);
	free(cid);
	return rc;
}

/* mkdir COLLECTION/NAME: a new point, a copy of a source point, or pending. */
static int mkdir_point(struct tree *t, struct tnode *cn, const char *name, uint32_t pid,
		       struct tree_attr *out)
{
	const char *region = cn->parent->parent->name, *rg = cn->parent->name;
	int l = tree_node_local(t, cn), rc;
	struct tnode *pn;
	struct dctx d;
	char *csrc = NULL;

	if (tree_local_child(t, cn, name))
		return -EEXIST;
	if (l == L_NONE) {
		rc = tree_rpc_data(t, cn, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		if (tree_find_point(&d, name)) {
			tree_dctx_done(&d);
			return -EEXIST;
		}
		if (!rpc_is_copy(d.rpc)) {
			/* A new restore point of the collection's VM. */
			int folded = 0;
			struct cache_mut m = {.op = CM_PUT_RP,
					      .rg = d.rpc->rg,
					      .rpc = d.rpc->name,
					      .rp = name,
					      .consistency = t->cfg.consistency,
					      .folded = &folded};

			tree_dctx_done(&d);
			pn = tree_node_get(t, cn, name, N_RP);
			if (!pn)
				return -ENOMEM;
			rc = send_mut(t, &m);
			if (rc < 0)
				return rc;
			if (t->cfg.dry_run)
				rc = set_local(t, pn, L_DRY, NULL);
			else if (!folded) /* else ARM's answer is in the cache */
				refresh_coll(t, rg, cn->name, 0);
			goto done;
		}
		tree_dctx_done(&d);
	}
	pn = tree_node_get(t, cn, name, N_RP);
	if (!pn)
		return -ENOMEM;
	rc = 0;
	if (l != L_PENDING)
		csrc = coll_source(t, cn);
	if (csrc) {
		/* A copy collection: is there a point of this name to copy? */
		struct arm_id *cs = NULL;
		struct cache_val *sc = NULL;
		const struct arm_rp *p = NULL;
		int copied = 0;

		if (arm_id_parse(csrc, &cs) == 0 && cs->rpc &&
		    tree_get_coll(t, cs->rg, cs->rpc, D_FETCH, &sc) == 0)
			p = tree_point_named(sc->rpc, name);
		if (p && !same(p->state, "Deleting")) {
			node_busy(t, pn);
			rc = copy_point(t, pn, sc->rpc, p);
			node_idle(t, pn);
			copied = 1;
		}
		cache_put(sc);
		free(cs);
		free(csrc);
		if (copied)
			goto done;
	}
	rc = set_local(t, pn, L_PENDING, NULL);
	log_info("mkdir %s/%s/%s/%s: pending until a source point is named", region, rg, cn->name,
		 name);
done:
	if (rc == 0) {
		set_fresh(t, pn, pid);
		tree_dir_attr(out, mkino(pn->idx, 0), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
	}
	return rc;
}

/* mkdir (see tree.h). */
int tree_mkdir(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
	       struct tree_attr *out)
{
	int slot;
	struct tnode *n = tree_node_of(t, parent, &slot);
	char alias[300];

	memset(out, 0, sizeof(*out));
	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks")) {
		/* cp making the view subdirectory. */
		tree_dir_attr(out, mkino(n->idx, S_P_DISKS), t->mount_time, 1);
		out->entry_ttl = t->cfg.ttl;
		set_made(t, n, S_P_DISKS);
		return 0;
	}
	if (slot != S_DIR || (n->kind != N_RG && n->kind != N_RPC)) {
		log_warn("mkdir %s: only collections and restore points can be made", name);
		return -EPERM;
	}
	if (n->kind == N_RPC)
		name = point_name(name, alias, sizeof(alias)); /* tags:point is tags */
	if (arm_name_check(name) < 0)
		return refuse_advise(
		    t, "mkdir", name, -EINVAL,
		    "not a name ARM accepts (at most 260 characters, none of "
		    "<>%&:\\?/ or control characters, not ending in '.' or space): "
		    "choose another name (nothing sent)");
	if (n->kind == N_RG)
		return mkdir_collection(t, n, name, pid, out);
	return mkdir_point(t, n, name, pid, out);
}

/* ---- what cp writes --------------------------------------------------- */

/* The id a written file names: the top-level "id" of a JSON object, else
 * its first line.  NULL while incomplete (unless final) or when none. */
static char *written_id(const char *buf, size_t len, int final)
{
	size_t i = 0, s, e;
	int depth = 0;

	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && buf[i] == '{') {
		for (; i < len; i++) {
			char ch = buf[i];

			if (ch == '{' || ch == '[') {
				depth++;
			} else if (ch == '}' || ch == ']') {
				depth--;
			} else if (ch == '"') {
				s = ++i;
				while (i < len && buf[i] != '"')
					i += buf[i] == '\\' ? 2 : 1;
				if (i >= len)
					return NULL;
				if (depth == 1 && i - s == 2 && !memcmp(buf + s, "id", 2)) {
					size_t j = i + 1;

					while (j < len && isspace((unsigned char)buf[j]))
						j++;
					if (j >= len || buf[j] != ':')
						continue;
					for (j++; j < len && isspace((unsigned char)buf[j]); j++)
						;
					if (j >= len || buf[j] != '"')
						continue;
					s = ++j;
					while (j < len && buf[j] != '"')
						j++;
					return j < len ? strndup(buf + s, j - s) : NULL;
				}
			}
		}
		return NULL;
	}
	s = i;
	while (i < len && buf[i] != '\n')
		i++;
	if (i >= len && !final)
		return NULL;
	for (e = i; e > s && isspace((unsigned char)buf[e - 1]); e--)
		;
	return e > s ? strndup(buf + s, e - s) : NULL;
}

/* A path inside the mount (…/REGION/RG/NAME[/POINT]) to an ARM id. */
static char *path_to_id(struct tree *t, const char *path)
{
	char buf[2048], *seg[64], *save = NULL, *p;
	struct cache_val *list = NULL;
	const struct arm_rpc *r;
	char *id = NULL;
	int n = 0;

	if (strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	for (p = strtok_r(buf, "/", &save); p && n < 64; p = strtok_r(NULL, "/", &save))
		seg[n++] = p;
	if (tree_get_list(t, D_FETCH, &list) < 0)
		return NULL;
	/* A point: REGION/RG/NAME/POINT; a collection: REGION/RG/NAME. */
	for (int k = 4; k >= 3 && !id; k--) {
		if (n < k)
			continue;
		r = cache_list_find(list, seg[n - k + 1], seg[n - k + 2]);
		if (!r || !same(r->location, seg[n - k]))
			continue;
		id = k == 4 ? arm_path_rp(cache_subscription(t->c), r->rg, r->name, seg[n - 1])
			    : strdup(r->id);
	}
	cache_put(list);
	return id;
}

/* 1 when two tag sets are equal (any order). */
static int tags_equal(const struct arm_tag *a, size_t na, const struct arm_tag *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++) {
		int found = 0;

		for (size_t j = 0; j < nb && !found; j++)
			found = same(a[i].key, b[j].key) && !differ(a[i].value, b[j].value);
		if (!found)
			return 0;
	}
	return 1;
}

/* A write to tags: PATCH when it changes them. */
static int write_tags(struct tree *t, struct tnode *n, struct tree_file *f)
{
	struct arm_tag *tags = NULL;
	size_t ntags = 0;
	struct dctx d;
	int rc;

	if (tree_fresh_for(t, n, f->pid))
		return 0; /* cp copying a collection: its tags are a view */
	if (tree_node_local(t, n) && tree_node_local(t, n) != L_PENDING)
		return 0;
	rc = tags_parse(f->wbuf ? f->wbuf : "", f->wlen, &tags, &ntags);
	if (rc < 0) {
		if (rc == -EINVAL)
			log_warn("tags of %s: each line must be key=value, at most %d", n->name,
				 TAGS_MAX);
		return rc;
	}
	if (tree_node_local(t, n) == L_PENDING) {
		/* Not created yet: the tags go with its PUT. */
		pend_tags_set(t, n, tags, ntags);
		log_info("tags of %s: kept for its PUT, once its source is named", n->name);
		return 0;
	}
	rc = tree_rpc_data(t, n, D_FETCH, 0, &d);
	if (rc == 0) {
		const struct arm_rpc *src = NULL;
		struct arm_id *sid = NULL;

		/* cp -r run again over a copy writes the source's tags: a view. */
		if (rpc_is_copy(d.rpc) && arm_id_parse(d.rpc->source_id, &sid) == 0 && sid->rpc)
			src = cache_list_find(d.list, sid->rg, sid->rpc);
		free(sid);
		if (src && tags_equal(tags, ntags, src->tags, src->ntags)) {
			log_info("tags of %s: the source collection's tags, absorbed", n->name);
		} else if (!tags_equal(tags, ntags, d.rpc->tags, d.rpc->ntags)) {
			struct cache_mut m = {.op = CM_PATCH_TAGS,
					      .rg = d.rpc->rg,
					      .rpc = d.rpc->name,
					      .tags = tags,
					      .ntags = ntags};

			rc = send_mut(t, &m);
			if (rc == 0 && !t->cfg.dry_run)
				refresh_coll(t, d.rpc->rg, d.rpc->name, 1);
		}
		tree_dctx_done(&d);
	}
	tags_free(tags, ntags);
	return rc;
}

/* A source named for local node n (a write, or user.rpfs.source). */
static int name_source(struct tree *t, struct tnode *n, const char *text, int is_source_file)
{
	struct arm_id *id = NULL;
	char *byp = NULL;
	int rc = 0;

	if (arm_id_parse(text, &id) < 0) {
		if (!is_source_file)
			return 0;
		byp = path_to_id(t, text);
		if (!byp || arm_id_parse(byp, &id) < 0) {
			log_warn("source of %s: '%.300s' is neither an ARM id nor a path to a "
				 "collection in this mount",
				 n->name, text);
			free(byp);
			return -EINVAL;
		}
		text = byp;
	}
	if (strcasecmp(id->sub, cache_subscription(t->c)) != 0) {
		log_warn("source of %s: '%.300s' is in another subscription than the mount's",
			 n->name, text);
		rc = -EINVAL;
	} else if (!id->vm && (arm_rg_name_check(id->rg) < 0 || arm_name_check(id->rpc) < 0 ||
			       (id->rp && arm_name_check(id->rp) < 0))) {
		log_warn("source of %s: '%.300s' holds a name ARM does not allow", n->name, text);
		rc = -EINVAL;
	} else if (id->vm) {
		rc = 0; /* a VM id (cp of a collection's source): absorbed */
	} else if (n->kind == N_RPC) {
		if (id->rp) {
			char *cid = arm_path_rpc(id->sub, id->rg, id->rpc);

			rc = cid ? resolve_collection(t, n, cid) : -ENOMEM;
			free(cid);
		} else {
			rc = resolve_collection(t, n, text);
		}
	} else if (n->kind == N_RP && id->rp) {
		rc = resolve_point(t, n, text);
	} else if (n->kind == N_RP && is_source_file) {
		rc = refuse_op(t, "PUT", n->name, -EINVAL, "the source of a point is a point");
	}
	free(id);
	free(byp);
	return rc;
}

/* Act on a view file's written content (final: at close). */
int tree_absorb_act(struct tree *t, struct tnode *n, struct tree_file *f, int final)
{
	int is_src, names, l;
	char *id;

	/* close() comes for every descriptor of the file (a shell's dup2
	 * closes one before writing): nothing is final while nothing is written. */
	if (n->kind == N_RPC && f->slot == S_C_TAGS) {
		if (!final || !f->written)
			return 0;
		f->done = 1;
		return f->rc = write_tags(t, n, f);
	}
	is_src = f->slot == (n->kind == N_RPC ? S_C_SOURCE : S_P_SOURCE);
	names = n->kind == N_RPC  ? (f->slot == S_C_ID || f->slot == S_C_JSON || is_src)
		: n->kind == N_RP ? (f->slot == S_P_ID || f->slot == S_P_JSON || is_src)
				  : 0;
	l = tree_node_local(t, n);
	if (!names || l != L_PENDING)
		return 0; /* a view: absorbed */
	/* cp copying a copy writes the source's own source there: what is
	 * being copied is named by id and the JSON view, so whatever order cp
	 * writes in, its `source` is a view (another process may name it). */
	if (is_src && tree_fresh_for(t, n, f->pid))
		return 0;
	id = written_id(f->wbuf ? f->wbuf : "", f->wlen, final);
	if (!id)
		return 0;
	f->done = 1;
	f->rc = name_source(t, n, id, is_src);
	free(id);
	return f->rc;
}

/* create (see tree.h). */
int tree_create(struct tree *t, uint64_t parent, const char *name, uint32_t pid,
		struct tree_attr *out, struct tree_file **fo)
{
	int slot, s = -1;
	struct tnode *n = tree_node_of(t, parent, &slot);
	struct tree_file *f;

	memset(out, 0, sizeof(*out));
	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_ROOT && slot == S_RPFS && !strcmp(name, "flush")) {
		s = S_FLUSH;
	} else if (n->kind == N_RPC && slot == S_DIR) {
		s = fixed_slot(tree_coll_files, name);
		if (s == S_C_ORIGIN)
			s = -1;
	} else if (n->kind == N_RP && slot == S_DIR) {
		s = fixed_slot(tree_point_files, name);
		if (s == S_P_ORIGIN || s == S_P_DISKS)
			s = -1;
	} else if (n->kind == N_RP && slot == S_P_DISKS) {
		size_t l = strlen(name);

		/* NAME.json, and NAME.vhd (read as empty by the same cp) */
		if ((l > 5 && !strcmp(name + l - 5, ".json")) ||
		    (l > 4 && !strcmp(name + l - 4, ".vhd")))
			s = S_P_ABSORB;
	}
	if (s < 0) {
		log_warn("create %s: not a file of this view (rpfs stores no data)", name);
		return -EPERM;
	}
	if (s == S_P_ABSORB || tree_attr_of(t, n, s, D_CACHED, out) < 0)
		tree_file_attr(out, mkino(n->idx, s), NULL, t->mount_time, 0, TREE_REG);
	/* The kernel keeps the name: a later lookup by the same cp (cp -a
	 * setting times) must not meet the absent view again. */
	out->entry_ttl = t->cfg.ttl;
	if (n->kind != N_ROOT && slot == S_DIR)
		set_made(t, n, s);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (n->kind == N_ROOT) {
		f->control = 1;
	} else {
		f->absorb = 1;
		f->slot = s;
		f->pid = pid;
		tree_note_writer(t, pid);
	}
	f->direct_io = 1;
	*fo = f;
	return 0;
}

/* symlink (see tree.h). */
int tree_symlink(struct tree *t, uint64_t parent, const char *name, struct tree_attr *out)
{
	int slot;
	struct tnode *n = tree_node_of(t, parent, &slot);

	memset(out, 0, sizeof(*out));
	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (slot != S_DIR || strcmp(name, "origin") || (n->kind != N_RPC && n->kind != N_RP)) {
		log_warn("symlink %s: not a link of this view", name);
		return -EPERM;
	}
	if (tree_attr_of(t, n, n->kind == N_RPC ? S_C_ORIGIN : S_P_ORIGIN, D_CACHED, out) < 0)
		tree_file_attr(out, mkino(n->idx, n->kind == N_RPC ? S_C_ORIGIN : S_P_ORIGIN), NULL,
			       t->mount_time, 0, TREE_LNK);
	out->entry_ttl = t->cfg.ttl;
	set_made(t, n, n->kind == N_RPC ? S_C_ORIGIN : S_P_ORIGIN);
	return 0;
}

/* unlink (see tree.h). */
int tree_unlink(struct tree *t, uint64_t parent, const char *name)
{
	int slot;
	struct tnode *n = tree_node_of(t, parent, &slot);

	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if ((n->kind == N_RPC && slot == S_DIR && fixed_slot(tree_coll_files, name) >= 0) ||
	    (n->kind == N_RP && slot == S_DIR && fixed_slot(tree_point_files, name) >= 0) ||
	    (n->kind == N_RP && slot == S_P_DISKS))
		return 0;
	return -EPERM;
}

/* 1 when a copy whose source is src_id is still running (asks ARM). */
static int copy_running(struct tree *t, const char *src_id)
{
	for (;;) {
		char *rg = NULL, *rpc = NULL, *rp = NULL;
		struct cache_val *v = NULL;
		int done = 0, pct = 100;

		pthread_mutex_lock(&t->mlock);
		for (struct copy_rec *r = t->copies; r && !rg; r = r->next)
			if (same(r->source, src_id)) {
				rg = strdup(r->rg);
				rpc = strdup(r->rpc);
				rp = strdup(r->rp);
			}
		pthread_mutex_unlock(&t->mlock);
		if (!rg || !rpc || !rp) {
			free(rg);
			free(rpc);
			free(rp);
			return 0;
		}
		if (cache_rp_view(t->c, rg, rpc, rp, &v) == 0) {
			done = 1;
			for (size_t i = 0; i < v->rp->nprogress; i++)
				if (v->rp->progress[i].percent < pct)
					pct = v->rp->progress[i].percent;
			for (size_t i = 0; i < v->rp->nprogress; i++)
				if (pct < 100 || differ(v->rp->progress[i].status, "Succeeded"))
					done = 0;
			if (!v->rp->nprogress && !same(v->rp->state, "Failed"))
				done = 0;
			if (same(v->rp->state, "Failed"))
				done = 1;
		} else {
			done = 1; /* the copy is gone */
		}
		cache_put(v);
		if (!done) {
			free(rg);
			free(rpc);
			free(rp);
			return 1;
		}
		/* Finished: forget it and look at the next one. */
		pthread_mutex_lock(&t->mlock);
		for (struct copy_rec **pp = &t->copies; *pp; pp = &(*pp)->next)
			if (same((*pp)->source, src_id) && same((*pp)->rg, rg) &&
			    same((*pp)->rpc, rpc) && same((*pp)->rp, rp)) {
				struct copy_rec *r = *pp;

				*pp = r->next;
				copy_rec_free(r);
				break;
			}
		pthread_mutex_unlock(&t->mlock);
		free(rg);
		free(rpc);
		free(rp);
	}
}

/* rmdir (see tree.h). */
int tree_rmdir(struct tree *t, uint64_t parent, const char *name)
{
	char alias[300];
	int slot, rc;
	struct tnode *n = tree_node_of(t, parent, &slot), *c;
	struct dctx d;

	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (slot == S_DIR && (c = tree_local_child(t, n, name)) != NULL) {
		if (has_local_children(t, c))
			return -ENOTEMPTY;
		/* Exists only here: removed locally, nothing sent. */
		return set_local(t, c, L_NONE, NULL);
	}
	/* disks/ of a pending point (rm -rf of what cp -r left): a view. */
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks") && tree_node_local(t, n))
		return 0;
	if (!t->cfg.allow_delete)
		return refuse_advise(t, "rmdir", name, -EPERM,
				     "deleting needs the mount option -o allow_delete: mount "
				     "with it to delete restore points (nothing sent)");
	if (n->kind == N_RP && slot == S_DIR && !strcmp(name, "disks"))
		return 0;
	if (slot != S_DIR)
		return -ENOTDIR;
	if (n->kind == N_RPC) {
		/* A restore point. */
		const struct arm_rp *p;
		char *pid = NULL;
		struct cache_mut m = {.op = CM_DELETE_RP};

		rc = tree_rpc_data(t, n, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		p = tree_find_point(&d, point_name(name, alias, sizeof(alias)));
		if (!p) {
			tree_dctx_done(&d);
			return -ENOENT;
		}
		pid = strdup(p->id ? p->id : "");
		m.rg = d.rpc->rg;
		m.rpc = d.rpc->name;
		m.rp = p->name;
		if (pid && copy_running(t, pid)) {
			rc = refuse_op(t, "DELETE", pid, -EBUSY,
				       "the point is the source of a copy still running from this "
				       "mount");
		} else {
			pthread_rwlock_rdlock(&t->lock);
			c = tree_find_child(t, n, p->name);
			pthread_rwlock_unlock(&t->lock);
			rc = send_mut_on(t, &m, c);
			if (rc == 0 && !t->cfg.dry_run)
				refresh_coll(t, d.rpc->rg, d.rpc->name, 0);
		}
		free(pid);
		tree_dctx_done(&d);
		return rc;
	}
	if (n->kind == N_RG) {
		/* A collection: only when empty, as POSIX says. */
		struct cache_mut m = {.op = CM_DELETE_RPC};
		struct tree_attr a;

		rc = tree_lookup(t, mkino(n->idx, 0), name, &a);
		if (rc < 0)
			return rc;
		c = tree_node_of(t, a.ino, &slot);
		if (!c || c->kind != N_RPC)
			return -ENOTDIR;
		if (has_local_children(t, c))
			return -ENOTEMPTY;
		rc = tree_rpc_data(t, c, D_FETCH, 1, &d);
		if (rc < 0)
			return rc;
		for (size_t i = 0; d.coll && d.coll->rpc && i < d.coll->rpc->npoints; i++)
			if (!same(d.coll->rpc->points[i].state, "Deleting"))
				rc = -ENOTEMPTY;
		if (rc == 0) {
			m.rg = d.rpc->rg;
			m.rpc = d.rpc->name;
			rc = send_mut(t, &m);
			if (rc == 0 && !t->cfg.dry_run)
				refresh_coll(t, d.rpc->rg, d.rpc->name, 1);
		}
		tree_dctx_done(&d);
		return rc;
	}
	if (n->kind == N_REGION) {
		/* A resource group directory: nothing to delete in ARM; gone when empty. */
		struct cache_val *list = NULL;

		rc = tree_get_list(t, D_FETCH, &list);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < list->n && rc == 0; i++)
			if (same(list->v[i]->location, n->name) && same(list->v[i]->rg, name))
				rc = -ENOTEMPTY;
		cache_put(list);
		return rc;
	}
	return -EPERM;
}

/* setattr (see tree.h). */
int tree_setattr(struct tree *t, uint64_t ino, int64_t size)
{
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);

	if (!n)
		return -ENOENT;
	if (n->kind == N_ROOT && slot == S_FLUSH && size >= 0)
		return 0;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_ROOT && slot != S_DIR)
		return -EPERM;
	if (size >= 0 && slot == S_DIR)
		return -EISDIR;
	return 0; /* views: modes, owners, times and sizes do not change */
}

/* setxattr (see tree.h). */
int tree_setxattr(struct tree *t, uint64_t ino, const char *name, const char *value, size_t len)
{
	int slot, rc;
	struct tnode *n = tree_node_of(t, ino, &slot);
	char *v;

	if (!n)
		return -ENOENT;
	if (t->cfg.ro)
		return -EROFS;
	if (n->kind == N_ROOT && slot != S_DIR)
		return -EPERM;
	if (strcmp(name, "user.rpfs.source"))
		return 0; /* cp -a: ACLs and other attributes of a view */
	if ((n->kind != N_RPC && n->kind != N_RP) || slot != S_DIR)
		return -EPERM;
	if (tree_node_local(t, n) != L_PENDING)
		return 0;
	v = strndup(value, len);
	if (!v)
		return -ENOMEM;
	while (len && isspace((unsigned char)v[len - 1]))
		v[--len] = '\0';
	rc = name_source(t, n, v, 1);
	free(v);
	return rc;
}

/* A copy started from this mount failed: its error, and no longer tracked. */
int tree_copy_failed(struct tree *t, const struct tnode *n, const char *rg, const char *rpc,
		     const char *rp, const char *iv_error)
{
	struct copy_rec *r = NULL;
	char *old;
	int isnew;

	pthread_mutex_lock(&t->mlock);
	for (struct copy_rec **pp = &t->copies; *pp; pp = &(*pp)->next)
		if (same((*pp)->rg, rg) && same((*pp)->rpc, rpc) && same((*pp)->rp, rp)) {
			r = *pp;
			*pp = r->next;
			break;
		}
	pthread_mutex_unlock(&t->mlock);
	if (!r)
		return 0;
	copy_rec_free(r);
	old = tree_node_error(t, n);
	isnew = !old;
	free(old);
	set_node_error(t, n, tree_asprintf("copy: %s\n", iv_error));
	return isnew;
}

/* Refresh the percentages of the copies started here, dropping finished ones. */
void tree_copies_refresh(struct tree *t)
{
	size_t n = 0;
	struct copy_rec *r;
	char **keys;

	pthread_mutex_lock(&t->mlock);
	for (r = t->copies; r; r = r->next)
		n++;
	keys = calloc(n * 3 + 1, sizeof(*keys));
	n = 0;
	for (r = t->copies; keys && r; r = r->next) {
		keys[n++] = strdup(r->rg);
		keys[n++] = strdup(r->rpc);
		keys[n++] = strdup(r->rp);
	}
	pthread_mutex_unlock(&t->mlock);
	for (size_t i = 0; keys && i + 2 < n; i += 3) {
		struct cache_val *v = NULL;
		int pct = -1, done = 0;

		if (!keys[i] || !keys[i + 1] || !keys[i + 2])
			continue;
		if (cache_rp_view(t->c, keys[i], keys[i + 1], keys[i + 2], &v) == 0) {
			pct = 100;
			done = v->rp->nprogress > 0;
			for (size_t k = 0; k < v->rp->nprogress; k++) {
				if (v->rp->progress[k].percent < pct)
					pct = v->rp->progress[k].percent;
				if (differ(v->rp->progress[k].status, "Succeeded"))
					done = 0;
			}
			if (!v->rp->nprogress)
				pct = 0;
			if (pct < 100)
				done = 0;
			if (same(v->rp->state, "Failed"))
				done = 1;
		} else {
			done = 1;
		}
		cache_put(v);
		pthread_mutex_lock(&t->mlock);
		for (struct copy_rec **pp = &t->copies; *pp; pp = &(*pp)->next) {
			r = *pp;
			if (same(r->rg, keys[i]) && same(r->rpc, keys[i + 1]) &&
			    same(r->rp, keys[i + 2])) {
				r->percent = pct;
				if (done) {
					*pp = r->next;
					copy_rec_free(r);
				}
				break;
			}
		}
		pthread_mutex_unlock(&t->mlock);
	}
	for (size_t i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
}

/* .rpfs/copies: target id, source id, percent (as last seen). */
int tree_render_copies(struct tree *t, char **out)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return -ENOMEM;
	pthread_mutex_lock(&t->mlock);
	for (struct copy_rec *r = t->copies; r; r = r->next) {
		if (r->percent >= 0)
			fprintf(f, "%s %s %d\n", r->target, r->source, r->percent);
		else
			fprintf(f, "%s %s ?\n", r->target, r->source);
	}
	pthread_mutex_unlock(&t->mlock);
	if (fclose(f) != 0) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}
