/*
 * tree_local.c - the state of this mount that the cache does not hold:
 * local nodes (a collection or point that exists only here, L_PENDING
 * until a write names its source, L_DRY when its PUT was only recorded
 * under dry_run), the process that just made a directory and fills it
 * (cp -r), the processes writing view files, the tags written to a pending
 * collection, and a node's busy flag (one mutation of it at a time).
 *
 * Why it is built this way: cp creates the children of a directory it has
 * just made with O_CREAT|O_EXCL and mkdir, which the kernel refuses by
 * itself when the lookup finds the name.  So, for the process that made a
 * directory (and until somebody lists it), its view names look absent: the
 * create then reaches rpfs, which opens the view for an absorbed write
 * (tree_absorb.c).  Every other process sees the view as usual.  The
 * filling process is its pid and start time (a reused pid is another
 * process).  Everything here is under t->mlock; the readers (lookup,
 * getattr, readdir, open) ask it, the mutations set it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blocking.h"
#include "tags.h"
#include "tree_int.h"

/* Seconds a directory counts as being filled by the process that made it,
 * and a process that wrote view files as copying into the mount. */
#define FRESH_SECS 600

/* 1 while a process fills directory n (cp -r into a directory it made). */
int tree_filled(struct tree *t, struct tnode *n)
{
	int r;

	pthread_mutex_lock(&t->mlock);
	r = n->fresh_pid && mount_secs(t) < n->fresh_until;
	pthread_mutex_unlock(&t->mlock);
	return r;
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
void tree_set_made(struct tree *t, struct tnode *n, int slot)
{
	pthread_mutex_lock(&t->mlock);
	if (slot >= 0 && slot < 16)
		n->made |= (uint16_t)(1u << slot);
	pthread_mutex_unlock(&t->mlock);
}

/* Mark directory n as being filled by process pid. */
void tree_set_fresh(struct tree *t, struct tnode *n, uint32_t pid)
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
int tree_set_local(struct tree *t, struct tnode *n, int l, const char *src)
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
int tree_has_local_children(struct tree *t, struct tnode *parent)
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

/* Wait until no mutation of n is in flight, then mark one. */
void tree_node_busy(struct tree *t, struct tnode *n)
{
	pthread_mutex_lock(&t->mlock);
	if (n->busy)
		blocking_begin();
	while (n->busy)
		pthread_cond_wait(&t->mcond, &t->mlock);
	n->busy = 1;
	pthread_mutex_unlock(&t->mlock);
}

/* End of tree_node_busy. */
void tree_node_idle(struct tree *t, struct tnode *n)
{
	pthread_mutex_lock(&t->mlock);
	n->busy = 0;
	pthread_cond_broadcast(&t->mcond);
	pthread_mutex_unlock(&t->mlock);
}

/* Tags written to a pending collection before its source was named: sent
 * with its PUT.  Under t->mlock. */
struct pend_tags {
	struct pend_tags *next;
	const struct tnode *n;
	struct arm_tag *tags;
	size_t ntags;
};

/* Remember tags for pending collection n (takes them), replacing any. */
void tree_pend_tags_set(struct tree *t, const struct tnode *n, struct arm_tag *tags, size_t ntags)
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
struct arm_tag *tree_pend_tags_take(struct tree *t, const struct tnode *n, size_t *ntags)
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
