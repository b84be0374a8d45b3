/*
 * tree_open.c - opening and reading files: a view file's content is
 * rendered once per open file and read from it, progress and error are
 * fetched fresh from the instance view, NAME.vhd opens the disk (disk.c),
 * and symlinks (origin) are read here.
 *
 * Why it is built this way: an open file holds its own copy of the text,
 * so a read never sees half of an old and half of a new rendering.  When
 * the cached answer is fresh the open is deferred (tree_open_deferred):
 * the kernel keeps its page cache and nothing is rendered until a read
 * needs it (tree_file_fill); an expired answer is fetched at open
 * (open_fresh).  A process copying into the mount reads NAME.vhd as one
 * hole (a cross-region copy is ARM's work).  Writes to an open file are
 * absorbed by tree_absorb.c.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "log.h"
#include "tree_int.h"

/* Target of a symlink (origin). */
int tree_readlink(struct tree *t, uint64_t ino, char **out)
{
	int slot, rc;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct dctx d;

	if (!n)
		return -ENOENT;
	if (n->kind == N_RPC && slot == S_C_ORIGIN) {
		rc = tree_rpc_data(t, n, D_CACHED, 0, &d);
		if (rc < 0)
			return rc;
		rc = tree_render_coll_file(t, &d, slot, out);
	} else if (n->kind == N_RP && slot == S_P_ORIGIN) {
		rc = tree_rp_data(t, n, D_CACHED, &d);
		if (rc < 0)
			return rc;
		rc = tree_render_point_file(&d, slot, out);
	} else {
		return -EINVAL;
	}
	tree_dctx_done(&d);
	return rc;
}

/* progress: a fresh $expand=instanceView request. */
static int open_progress(struct tree *t, struct tnode *n, struct tree_file *f)
{
	struct dctx d;
	struct cache_val *v = NULL;
	int rc = tree_rp_data(t, n, D_CACHED, &d), newfail = 0;
	size_t len;

	if (rc < 0)
		return rc;
	if (!d.rp->source_rp_id) {
		tree_dctx_done(&d);
		return -ENOENT;
	}
	rc = cache_rp_view(t->c, d.rpc->rg, d.rpc->name, d.rp->name, &v);
	/* a copy started from this mount that failed: its error file tells why */
	if (rc == 0 && v->rp->iv_error)
		newfail =
		    tree_copy_failed(t, n, d.rpc->rg, d.rpc->name, d.rp->name, v->rp->iv_error);
	tree_dctx_done(&d);
	if (rc < 0)
		return rc;
	f->buf = tree_render_progress(v->rp);
	len = f->buf ? strlen(f->buf) : 0;
	pthread_rwlock_wrlock(&t->lock);
	n->aux = (n->aux & ~0xffffu) | (uint32_t)(len > 0xffff ? 0xffff : len);
	pthread_rwlock_unlock(&t->lock);
	cache_put(v);
	if (newfail && t->nt.inval_entry)
		t->nt.inval_entry(t->nt.arg, mkino(n->idx, 0), "error");
	if (!f->buf)
		return -ENOMEM;
	f->len = len;
	f->direct_io = 1;
	return 0;
}

/* Open a point's `error`: this mount's failure of its last operation, else
 * for a Failed point ARM's code and message from its instance view (a
 * request at each open, direct I/O, like progress). */
static int open_error(struct tree *t, struct tnode *n, struct tree_file *f)
{
	struct dctx d;
	struct cache_val *v = NULL;
	int rc = tree_rp_data(t, n, D_FETCH, &d);

	if (rc < 0)
		return rc;
	/* this mount's failures change no ARM answer: read afresh each open */
	f->buf = tree_node_error(t, n);
	if (!f->buf && same(d.rp->state, "Failed") &&
	    cache_rp_view(t->c, d.rpc->rg, d.rpc->name, d.rp->name, &v) == 0) {
		size_t len;

		if (v->rp->iv_error)
			f->buf = tree_asprintf("%s\n", v->rp->iv_error);
		len = f->buf ? strlen(f->buf) : 0;
		pthread_rwlock_wrlock(&t->lock);
		n->aux = RP_AUX_PLEN(n->aux) | (uint32_t)(len > 0x7fff ? 0x7fff : len) << 16;
		pthread_rwlock_unlock(&t->lock);
		cache_put(v);
		f->direct_io = 1;
	}
	rc = f->buf ? 0 : tree_render_point_file(&d, S_P_ERROR, &f->buf);
	tree_dctx_done(&d);
	return rc;
}

/*
 * Open a collection's or point's file with fresh content: lookups and
 * getattr answer from the cache, even expired (see the top of this file), so the open is
 * where an expired answer is refreshed (bounded by op_timeout; on a
 * network failure the cache serves the stale answer).  When the refresh
 * changed the content, the kernel's page cache is not kept; when it
 * changed the length, the kernel's st_size (from the cached answer) is
 * wrong until the invalidation the refresh pushed arrives, so this open
 * is served with direct I/O, which reads to the real end.
 */
static int open_fresh(struct tree *t, struct tnode *n, int slot, struct tree_file *f)
{
	struct dctx old = {0}, d;
	char *was = NULL;
	int rc;

	if (tree_render_node_file(t, n, slot, D_CACHED, &old, &was) < 0)
		was = NULL;
	rc = tree_render_node_file(t, n, slot, D_FETCH, &d, &f->buf);
	if (rc < 0)
		goto out;
	f->keep = 1;
	if (was && (old.list != d.list || old.coll != d.coll) && strcmp(was, f->buf) != 0) {
		f->keep = 0;
		f->direct_io = strlen(was) != strlen(f->buf);
	}
	tree_dctx_done(&d);
out:
	if (was)
		tree_dctx_done(&old);
	free(was);
	return rc;
}

/* Open a file: render its content now. */
int tree_open(struct tree *t, uint64_t ino, int flags, struct tree_file **out)
{
	int slot, rc, write = flags & TREE_O_WRITE;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct tree_file *f;

	if (!n)
		return -ENOENT;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (write && !(n->kind == N_ROOT && slot == S_FLUSH)) {
		if (t->cfg.ro || n->kind == N_ROOT || slot == S_DIR ||
		    (n->kind == N_RP && slot == S_P_DISKS)) {
			rc = tree_mutation_errno(t);
			goto out;
		}
		/* cp into an existing view directory: the write is absorbed. */
		f->absorb = 1;
		f->slot = slot;
		f->direct_io = 1;
		f->append = !!(flags & TREE_O_APPEND);
		rc = 0;
		/* Without O_TRUNC, O_RDWR reads the content and a tags write
		 * edits the current text (>>, pwrite). */
		if (!(flags & TREE_O_TRUNC) &&
		    ((flags & TREE_O_READ) || (n->kind == N_RPC && slot == S_C_TAGS))) {
			struct tree_file *g = NULL;

			rc = tree_open(t, ino, 0, &g);
			if (rc == 0 && n->kind == N_RPC && slot == S_C_TAGS) {
				f->wbuf = g->len ? malloc(g->len + 1) : NULL;
				if (f->wbuf) {
					memcpy(f->wbuf, g->buf, g->len + 1);
					f->wlen = g->len;
				} else if (g->len) {
					rc = -ENOMEM;
				}
			}
			if (rc == 0 && (flags & TREE_O_READ)) {
				f->buf = g->buf;
				f->len = g->len;
				g->buf = NULL;
			}
			tree_file_free(g);
		}
		goto out;
	}
	switch (n->kind) {
	case N_ROOT:
		if (slot == S_DIR || slot == S_RPFS) {
			rc = -EISDIR;
			break;
		}
		if (slot == S_COPIES)
			tree_copies_refresh(t);
		rc = tree_render_rpfs_file(t, slot, &f->buf);
		f->direct_io = 1;
		f->control = slot == S_FLUSH;
		break;
	case N_RPC:
		if (slot == S_DIR) {
			rc = -EISDIR;
			break;
		}
		if (tree_node_local(t, n)) {
			rc = tree_render_local(t, n, slot, &f->buf);
			break;
		}
		rc = open_fresh(t, n, slot, f);
		break;
	case N_RP:
		if (slot == S_DIR || slot == S_P_DISKS) {
			rc = -EISDIR;
			break;
		}
		if (tree_node_local(t, n)) {
			rc = tree_render_local(t, n, slot, &f->buf);
			break;
		}
		if (slot == S_P_PROGRESS) {
			rc = open_progress(t, n, f);
			break;
		}
		if (slot == S_P_ERROR) {
			rc = open_error(t, n, f);
			break;
		}
		rc = open_fresh(t, n, slot, f);
		break;
	default:
		rc = -EISDIR;
	}
out:
	if (rc < 0) {
		tree_file_free(f);
		return rc;
	}
	if (f->buf && !f->len)
		f->len = strlen(f->buf);
	*out = f;
	return 0;
}

/* Open for reading, rendering later when the kernel may keep the content. */
int tree_open_deferred(struct tree *t, uint64_t ino, struct tree_file **out)
{
	int slot, keep = 0;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct tree_file *f;

	if (!n)
		return -ENOENT;
	if (n->kind == N_RPC)
		keep = slot != S_DIR;
	else if (n->kind == N_RP)
		keep = slot != S_DIR && slot != S_P_DISKS && slot != S_P_PROGRESS &&
		       slot != S_P_ERROR && slot != S_P_ABSORB && slot < S_P_VHD0;
	/* Expired answers are refreshed at the open (see open_fresh). */
	if (keep && !tree_node_local(t, n)) {
		const struct tnode *c = n->kind == N_RPC ? n : n->parent;

		if (!cache_fresh(t->c, NULL, NULL) || !cache_fresh(t->c, c->parent->name, c->name))
			keep = 0;
	}
	if (!keep || tree_node_local(t, n))
		return tree_open(t, ino, 0, out);
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->keep = 1;
	f->deferred = 1;
	*out = f;
	return 0;
}

/* Open disks/NAME.vhd of point n for process pid. */
static int open_vhd(struct tree *t, struct tnode *n, int slot, int write, uint32_t pid,
		    struct tree_file *f)
{
	size_t i = (size_t)(slot - S_P_VHD0);
	uint64_t ino = mkino(n->idx, slot), hint;
	char *id = NULL;
	struct dctx d;
	int rc;

	if (write && !t->cfg.ro && tree_pid_filling(t, pid)) {
		/* cp -r again into a copy that has its disks: absorbed, as
		 * every view file it writes there */
		f->absorb = 1;
		f->slot = slot;
		f->direct_io = 1;
		return 0;
	}
	if (write)
		return t->cfg.ro ? -EROFS : -EACCES; /* the bytes of a backup */
	rc = tree_rp_data(t, n, D_CACHED, &d);
	if (rc < 0)
		return rc;
	if (i >= d.rp->ndisks || !d.rp->disks[i].has_drp) {
		tree_dctx_done(&d);
		return -ENOENT;
	}
	hint = d.rp->disks[i].size_gb >= 0 ? ((uint64_t)d.rp->disks[i].size_gb << 30) + 512 : 0;
	rc = arm_rp_disk_rp_id(d.rp, i, &id);
	tree_dctx_done(&d);
	if (rc < 0)
		return rc;
	if (tree_pid_filling(t, pid)) {
		/* cp -r of a point into this mount copies its views: the disk's
		 * bytes are not asked for (a copy of a point is ARM's work). */
		log_info("%s: opened by process %u while it copies into this mount: read as empty",
			 id, pid);
		f->buf = strdup("");
		f->direct_io = 1;
		f->hollow = 1;
		free(id);
		return f->buf ? 0 : -ENOMEM;
	}
	if (!t->cfg.disk_read || !t->cfg.disks) {
		struct arm_err e = {0};

		snprintf(e.message, sizeof(e.message),
			 "reading disk contents needs the mount option -o disk_read=1");
		cache_record_error(t->c, "open", id, &e, -EACCES);
		free(id);
		return -EACCES;
	}
	rc = disk_open(t->cfg.disks, id, ino, hint, &f->disk, &f->attr_changed);
	free(id);
	if (rc == 0 && f->attr_changed && t->nt.inval_inode)
		t->nt.inval_inode(t->nt.arg, ino);
	return rc;
}

/* Open for process pid (disks/NAME.vhd included). */
int tree_open_as(struct tree *t, uint64_t ino, int flags, uint32_t pid, struct tree_file **out)
{
	int slot, rc, write = flags & TREE_O_WRITE;
	struct tnode *n = tree_node_of(t, ino, &slot);
	struct tree_file *f;

	if (!n || n->kind != N_RP || slot < S_P_VHD0 || tree_node_local(t, n)) {
		rc = write ? tree_open(t, ino, flags, out) : tree_open_deferred(t, ino, out);
		if (rc == 0 && (*out)->absorb)
			tree_note_writer(t, pid);
		return rc;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pid = pid;
	rc = open_vhd(t, n, slot, write, pid, f);
	if (rc < 0) {
		tree_file_free(f);
		return rc;
	}
	f->len = f->buf ? strlen(f->buf) : 0;
	f->keep = f->disk != NULL; /* a restore point's bytes never change */
	*out = f;
	return 0;
}

/* Render a deferred file now. */
int tree_file_fill(struct tree *t, uint64_t ino, struct tree_file *f)
{
	struct tree_file *g = NULL;
	int rc = tree_open(t, ino, 0, &g);

	if (rc < 0)
		return rc;
	f->buf = g->buf;
	f->len = g->len;
	g->buf = NULL;
	tree_file_free(g);
	return 0;
}

/* Free an opened file. */
void tree_file_free(struct tree_file *f)
{
	if (!f)
		return;
	disk_close(f->disk);
	free(f->buf);
	free(f->wbuf);
	free(f);
}

/* The errno of a refused mutation. */
int tree_mutation_errno(struct tree *t)
{
	return t->cfg.ro ? -EROFS : -EPERM;
}

/* ftruncate of an opened file: cut the text being written. */
void tree_file_truncate(struct tree_file *f, uint64_t size)
{
	if (f && f->absorb && f->wbuf && size < f->wlen) {
		f->wlen = (size_t)size;
		f->wbuf[f->wlen] = '\0';
	}
}
