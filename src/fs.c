/*
 * fs.c - libfuse3 low-level operations over the tree.
 *
 * Why the low-level API: a warm `ls -lR` must be no slower than tmpfs
 * (doc/DESIGN.md, Performance goals).  That needs the kernel to keep directory listings
 * (FOPEN_CACHE_DIR, and no opendir round trip: FUSE_CAP_NO_OPENDIR_SUPPORT
 * makes the kernel use keep_cache + cache_dir by itself), readdirplus so one
 * listing primes every child's attributes, and entry/attr timeouts of ttl.
 * The price of long kernel caching is that rpfs must tell the kernel when
 * something changed: the tree reports it through struct tree_notify, and
 * one thread here sends fuse_lowlevel_notify_inval_inode/_entry from a
 * queue, never from inside a request that holds a lock the kernel needs.
 *
 * This file stays thin: every decision about names and content is the
 * tree's, mutations included (mkdir, create, write, rmdir...);
 * the pid of the calling process is passed down, because cp's creates in
 * a directory it has just made must not find the view names there.
 *
 * A listing is built once, at offset 0, and later offsets of the same
 * directory are served from it (FS_LISTINGS kept, the oldest replaced):
 * directories need no handle (no opendir), so the listing is keyed by inode.
 *
 * Locks: f->lock (the invalidation queue), taken after the tree's lock when
 * the tree reports changes; f->fh_lock (open-file reference counts and the
 * kept listings), alone.
 */
#define FUSE_USE_VERSION 35
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "blocking.h"
#include "disk.h"
#include "fs.h"
#include "log.h"
#include "tree.h"

struct inval {
	struct inval *next;
	uint64_t ino; /* inode, or the parent for an entry */
	char *name;   /* NULL: inode invalidation */
};

/* An open file.  A read's reply can still be in writev when the kernel,
 * having copied the data, lets the process close the file: the release
 * frees the content only when no read holds it. */
struct fh {
	struct tree_file *tf;
	int refs;
	int released;
	struct fh *prev, *next; /* f->open */
};

/* A directory listing built at offset 0, kept for the later offsets of
 * the same listing (the kernel reads a directory in several READDIRPLUS
 * calls, the last one only to learn that it ended). */
struct listing {
	uint64_t ino;
	struct tree_dirent *v;
	size_t n;
	int refs;
};

#define FS_LISTINGS 16 /* directories being read at the same time */

struct fs {
	struct tree *t;
	pthread_mutex_t fh_lock; /* also guards listings[] and their refs */
	struct fh *open;	 /* every open file: freed at the end if the
				  * kernel never released it (fusermount3 -uz) */
	struct listing *listings[FS_LISTINGS];
	unsigned next_listing;
	struct fs_cfg cfg;
	struct fuse_session *se;
	int no_opendir;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* queue not empty, or stop */
	pthread_cond_t idle; /* queue drained */
	struct inval *head, *tail;
	int busy; /* the thread is sending one */
	int stop;
	int want_flush, want_stats; /* set from signal handlers (atomic) */
	unsigned long activity;	    /* requests that allocate (atomic) */
	unsigned long trim_seen;    /* activity at the last check */
	int trim_due;
};

/* ---- interrupts ------------------------------------------------------ */

/* Set when the kernel interrupts the request this thread serves. */
static __thread volatile int fs_interrupted;

/* FUSE_INTERRUPT: the caller gave up (a signal); data is the flag of the
 * thread serving the request. */
static void fs_on_interrupt(fuse_req_t req, void *data)
{
	(void)req;
	*(volatile int *)data = 1;
}

/* Before a request that may wait: its waits end with -EINTR once the
 * caller is interrupted (blocking.h). */
static void fs_cancel_begin(fuse_req_t req)
{
	fs_interrupted = 0;
	blocking_cancel = &fs_interrupted;
	fuse_req_interrupt_func(req, fs_on_interrupt, (void *)&fs_interrupted);
}

/* After it, before the reply: no callback may touch the flag later. */
static void fs_cancel_end(fuse_req_t req)
{
	fuse_req_interrupt_func(req, NULL, NULL);
	blocking_cancel = NULL;
}

/* ---- invalidation queue ---------------------------------------------- */

/* Queue one invalidation (called by the tree, its lock held). */
static void q_push(struct fs *f, uint64_t ino, const char *name)
{
	struct inval *v = calloc(1, sizeof(*v));

	if (!v)
		return;
	v->ino = ino;
	if (name) {
		v->name = strdup(name);
		if (!v->name) {
			free(v);
			return;
		}
	}
	pthread_mutex_lock(&f->lock);
	if (f->tail)
		f->tail->next = v;
	else
		f->head = v;
	f->tail = v;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* tree_notify: forget an inode's attributes and cached content. */
static void nt_inode(void *arg, uint64_t ino)
{
	q_push(arg, ino, NULL);
}

/* tree_notify: forget a name in a directory. */
static void nt_entry(void *arg, uint64_t parent, const char *name)
{
	q_push(arg, parent, name);
}

/* Wait until every queued invalidation has been sent. */
static void q_drain(struct fs *f)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&f->lock);
	if ((f->head || f->busy) && f->running && !f->stop)
		blocking_begin(); /* the kernel may need a request answered first */
	while ((f->head || f->busy) && f->running && !f->stop)
		if (pthread_cond_timedwait(&f->idle, &f->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&f->lock);
}

/* Count a request whose handling allocates and frees. */
static void note_activity(struct fs *f)
{
	__atomic_fetch_add(&f->activity, 1, __ATOMIC_RELAXED);
}

/* A second after the requests stop (a walk ended), give the pages that
 * listings, renderings and parse trees used back to the system: freed but
 * resident otherwise (memory per cached point is a benchmark figure). */
static void idle_trim(struct fs *f)
{
	unsigned long a = __atomic_load_n(&f->activity, __ATOMIC_RELAXED);

	if (a != f->trim_seen) {
		f->trim_seen = a;
		f->trim_due = 1;
	} else if (f->trim_due) {
		f->trim_due = 0;
		malloc_trim(0);
	}
}

/* The invalidation thread: sends queued invalidations, expires kernel
 * listings every second, serves SIGHUP and SIGUSR1. */
static void *inval_main(void *arg)
{
	struct fs *f = arg;
	time_t last_expire = time(NULL);

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		struct inval *v = f->head;

		if (v) {
			f->head = v->next;
			if (!f->head)
				f->tail = NULL;
			f->busy = 1;
			pthread_mutex_unlock(&f->lock);
			if (v->name)
				fuse_lowlevel_notify_inval_entry(f->se, v->ino, v->name,
								 strlen(v->name));
			else
				fuse_lowlevel_notify_inval_inode(f->se, v->ino, 0, 0);
			free(v->name);
			free(v);
			pthread_mutex_lock(&f->lock);
			f->busy = 0;
			if (!f->head)
				pthread_cond_broadcast(&f->idle);
			continue;
		}
		pthread_cond_broadcast(&f->idle);
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&f->cond, &f->lock, &ts);
		}
		if (f->stop)
			break;
		pthread_mutex_unlock(&f->lock);
		if (__atomic_exchange_n(&f->want_flush, 0, __ATOMIC_ACQ_REL)) {
			log_reopen();
			log_info("SIGHUP: dropping every cached answer");
			tree_flush(f->t);
		}
		if (__atomic_exchange_n(&f->want_stats, 0, __ATOMIC_ACQ_REL)) {
			char *s = NULL;

			if (tree_render_stats(f->t, &s) == 0) {
				for (char *p = s, *nl; p && *p; p = nl + 1) {
					nl = strchr(p, '\n');
					if (!nl)
						break;
					log_info("stats: %.*s", (int)(nl - p), p);
				}
			}
			free(s);
		}
		if (time(NULL) != last_expire) {
			last_expire = time(NULL);
			tree_expire(f->t);
			idle_trim(f);
		}
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* SIGHUP. */
void fs_signal_flush(struct fs *f)
{
	__atomic_store_n(&f->want_flush, 1, __ATOMIC_RELEASE);
}

/* SIGUSR1. */
void fs_signal_stats(struct fs *f)
{
	__atomic_store_n(&f->want_stats, 1, __ATOMIC_RELEASE);
}

/* ---- helpers ----------------------------------------------------------- */

/* struct stat from tree attributes. */
static void to_stat(struct fs *f, const struct tree_attr *a, struct stat *st)
{
	mode_t type = a->type == TREE_DIR ? S_IFDIR : a->type == TREE_LNK ? S_IFLNK : S_IFREG;

	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_mode = type | (a->type == TREE_LNK ? a->perm : (a->perm & ~f->cfg.umask));
	st->st_nlink = a->nlink;
	st->st_uid = f->cfg.uid;
	st->st_gid = f->cfg.gid;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)(a->blocks_set ? a->blocks : (a->size + 511) / 512);
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = a->mtime;
}

/* Entry parameters from tree attributes. */
static void to_entry(struct fs *f, const struct tree_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->ino;
	e->generation = 1;
	to_stat(f, a, &e->attr);
	e->attr_timeout = a->attr_ttl;
	e->entry_timeout = a->entry_ttl;
}

/* The process behind a request (0 when unknown). */
static uint32_t caller(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	return ctx && ctx->pid > 0 ? (uint32_t)ctx->pid : 0;
}

/*
 * Who may change anything.  With allow_other, other users may read; a
 * change (mkdir, cp, a write to tags or .rpfs/flush, rmdir, chmod, xattrs)
 * and opening a disk's bytes are the mounting user's or root's, unless the mount has
 * default_permissions: then the kernel has checked the modes that uid=,
 * gid= and umask= set, and rpfs lets through what it let through, except
 * deletes (a restore point is a backup: nobody else deletes it).  A
 * refusal is EACCES with a line in .rpfs/errors.
 */
static int may_change(fuse_req_t req, uint64_t ino, const char *name, const char *op, int del)
{
	struct fs *f = fuse_req_userdata(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	if (!ctx || ctx->uid == 0 || ctx->uid == f->cfg.owner)
		return 0;
	if (f->cfg.default_permissions && !del)
		return 0;
	tree_refuse(f->t, ino, name, op, -EACCES,
		    del ? "only the mounting user or root may delete"
			: "only the mounting user or root may change this mount "
			  "(or mount with default_permissions and uid/gid/umask)");
	return -EACCES;
}

/* ---- operations -------------------------------------------------------- */

/* Negotiate the kernel features the cache design relies on. */
static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *f = userdata;

	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
#ifdef FUSE_CAP_NO_OPENDIR_SUPPORT
	if (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) {
		conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
		f->no_opendir = 1;
	}
#endif
#ifdef FUSE_CAP_CACHE_SYMLINKS
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
#endif
}

/* Resolve a name. */
static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *f = fuse_req_userdata(req);
	struct tree_attr a;
	struct fuse_entry_param e;
	int rc;

	fs_cancel_begin(req);
	rc = tree_lookup_pid(f->t, parent, name, caller(req), &a);
	fs_cancel_end(req);
	note_activity(f);

	if (rc == -ENOENT && a.entry_ttl > 0) {
		memset(&e, 0, sizeof(e));
		e.entry_timeout = a.entry_ttl;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	to_entry(f, &a, &e);
	fuse_reply_entry(req, &e);
}

/* Nodes live for the whole mount: nothing to forget. */
static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

/* Same, in batches. */
static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count;
	(void)forgets;
	fuse_reply_none(req);
}

/* Attributes (never waits on the network when anything is cached). */
static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct tree_attr a;
	struct stat st;
	int rc = tree_getattr(f->t, ino, &a);

	(void)fi;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	to_stat(f, &a, &st);
	fuse_reply_attr(req, &st, a.attr_ttl);
}

/* chmod, chown, utimens, truncate: accepted without effect on views
 * (cp -a), truncating .rpfs/flush too; refused on .rpfs and with ro. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	int rc;

	rc = may_change(req, ino, NULL, "setattr", 0);
	if (rc == 0)
		rc = tree_setattr(f->t, ino,
				  (to_set & FUSE_SET_ATTR_SIZE) ? (int64_t)attr->st_size : -1);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if ((to_set & FUSE_SET_ATTR_SIZE) && fi && fi->fh && attr->st_size >= 0) {
		struct fh *h = (struct fh *)(uintptr_t)fi->fh;

		tree_file_truncate(h->tf, (uint64_t)attr->st_size);
	}
	op_getattr(req, ino, NULL);
}

/* Symlink target. */
static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *f = fuse_req_userdata(req);
	char *s = NULL;
	int rc = tree_readlink(f->t, ino, &s);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, s);
	free(s);
}

/* Directories need no handle: let the kernel cache listings by itself. */
static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);

	(void)ino;
	if (f->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/* Nothing to release. */
static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* Drop a reference to a listing.  fh_lock held. */
static void listing_put_locked(struct listing *l)
{
	if (l && --l->refs == 0) {
		tree_dirents_free(l->v, l->n);
		free(l);
	}
}

/* The listing of ino: built afresh at offset 0 (and kept), else the one
 * kept since its offset 0, else built from cached data. */
static int listing_get(struct fs *f, fuse_ino_t ino, off_t off, struct listing **out)
{
	struct listing *l = NULL, *old;
	unsigned slot;
	int rc;

	if (off > 0) {
		pthread_mutex_lock(&f->fh_lock);
		for (unsigned i = 0; i < FS_LISTINGS && !l; i++)
			if (f->listings[i] && f->listings[i]->ino == ino) {
				l = f->listings[i];
				l->refs++;
			}
		pthread_mutex_unlock(&f->fh_lock);
		if (l) {
			*out = l;
			return 0;
		}
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	rc = tree_readdir(f->t, ino, off == 0, &l->v, &l->n);
	if (rc < 0) {
		free(l);
		return rc;
	}
	l->ino = ino;
	l->refs = 1;
	if (off == 0 && l->n + 2 > 2) {
		pthread_mutex_lock(&f->fh_lock);
		slot = FS_LISTINGS;
		for (unsigned i = 0; i < FS_LISTINGS; i++)
			if (f->listings[i] && f->listings[i]->ino == ino)
				slot = i;
		if (slot == FS_LISTINGS)
			slot = f->next_listing++ % FS_LISTINGS;
		old = f->listings[slot];
		f->listings[slot] = l;
		l->refs++;
		listing_put_locked(old);
		pthread_mutex_unlock(&f->fh_lock);
	}
	*out = l;
	return 0;
}

/* Done with a listing; ended = the reader reached its end (drop it). */
static void listing_done(struct fs *f, struct listing *l, int ended)
{
	pthread_mutex_lock(&f->fh_lock);
	if (ended)
		for (unsigned i = 0; i < FS_LISTINGS; i++)
			if (f->listings[i] == l) {
				f->listings[i] = NULL;
				listing_put_locked(l);
			}
	listing_put_locked(l);
	pthread_mutex_unlock(&f->fh_lock);
}

/* Shared by readdir and readdirplus: entries from offset off, "." and ".."
 * first; a listing asks for fresh data only when it starts (off 0), later
 * offsets use the listing made then. */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	struct fs *f = fuse_req_userdata(req);
	struct listing *l = NULL;
	struct tree_dirent *v;
	size_t n, pos = 0, total;
	char *buf;
	int rc;

	note_activity(f);
	if (size > 1u << 20)
		size = 1u << 20;
	if (off < 0)
		off = 0;
	fs_cancel_begin(req);
	rc = listing_get(f, ino, off, &l);
	fs_cancel_end(req);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	v = l->v;
	n = l->n;
	total = n + 2;
	if ((size_t)off >= total) {
		/* The end: nothing to render. */
		listing_done(f, l, 1);
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		listing_done(f, l, 1);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < total; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : v[i - 2].name;
		size_t want;

		if (plus) {
			struct fuse_entry_param e;

			if (i < 2) {
				memset(&e, 0, sizeof(e));
				e.attr.st_ino = i == 0 ? ino : tree_parent(f->t, ino);
				e.attr.st_mode = S_IFDIR;
			} else {
				to_entry(f, &v[i - 2].attr, &e);
			}
			want = fuse_add_direntry_plus(req, buf + pos, size - pos, name, &e,
						      (off_t)(i + 1));
		} else {
			struct stat st;

			memset(&st, 0, sizeof(st));
			if (i < 2) {
				st.st_ino = i == 0 ? ino : tree_parent(f->t, ino);
				st.st_mode = S_IFDIR;
			} else {
				to_stat(f, &v[i - 2].attr, &st);
			}
			want = fuse_add_direntry(req, buf + pos, size - pos, name, &st,
						 (off_t)(i + 1));
		}
		if (want > size - pos)
			break;
		pos += want;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
	listing_done(f, l, 0);
}

/* readdir (when the kernel does not use readdirplus). */
static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

/* readdirplus: names and attributes in one answer. */
static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}

/* A handle for tf (owned), on the list of open files; NULL when out of
 * memory (tf freed). */
static struct fh *fh_new(struct fs *f, struct tree_file *tf)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (!h) {
		tree_file_free(tf);
		return NULL;
	}
	h->tf = tf;
	pthread_mutex_lock(&f->fh_lock);
	h->next = f->open;
	if (f->open)
		f->open->prev = h;
	f->open = h;
	pthread_mutex_unlock(&f->fh_lock);
	return h;
}

/* Take a handle off the list and free it with its file. */
static void fh_free(struct fs *f, struct fh *h)
{
	pthread_mutex_lock(&f->fh_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		f->open = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&f->fh_lock);
	tree_file_free(h->tf);
	free(h);
}

/* Open: the content is rendered once, reads slice it. */
static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct tree_file *tf = NULL;
	struct fh *h;
	int write = (fi->flags & O_ACCMODE) != O_RDONLY;
	int flags = write ? TREE_O_WRITE | (fi->flags & O_TRUNC ? TREE_O_TRUNC : 0) |
				(fi->flags & O_APPEND ? TREE_O_APPEND : 0) |
				((fi->flags & O_ACCMODE) == O_RDWR ? TREE_O_READ : 0)
			  : 0;
	int rc;

	note_activity(f);
	/* Reading a whole disk of a backup is the mounting user's too. */
	if ((write || tree_is_disk(f->t, ino)) &&
	    (rc = may_change(req, ino, NULL, "open", 0)) < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/* A read-only open of a kept file renders nothing: the kernel reads
	 * it once, later opens find the page cache.  A disk (NAME.vhd) is
	 * opened in the disk module, which may ask ARM for access. */
	rc = tree_open_as(f->t, ino, flags, caller(req), &tf);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	tf->pid = caller(req);
	h = fh_new(f, tf);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = tf->direct_io;
	/* Content the tree invalidates when it changes stays in the page
	 * cache: a second cat costs an OPEN only (no READ, no GETATTR for the
	 * atime a READ would stale). */
	fi->keep_cache = tf->keep && !tf->direct_io;
	/* Only written view files act at close: other closes need no FLUSH. */
	fi->noflush = !tf->absorb && !tf->control;
	/* A disk's size and blocks were just learned: the kernel must ask
	 * again before cp's fstat (no page of it is cached yet). */
	if (tf->attr_changed)
		q_drain(f);
	if (fuse_reply_open(req, fi) != 0)
		fh_free(f, h);
}

/* A read uses the handle: its release must wait. */
static void fh_hold(struct fs *f, struct fh *h)
{
	pthread_mutex_lock(&f->fh_lock);
	h->refs++;
	pthread_mutex_unlock(&f->fh_lock);
}

/* The read is done: free the handle if it was released meanwhile. */
static void fh_drop(struct fs *f, struct fh *h)
{
	int last;

	pthread_mutex_lock(&f->fh_lock);
	last = --h->refs == 0 && h->released;
	pthread_mutex_unlock(&f->fh_lock);
	if (last)
		fh_free(f, h);
}

/* One read buffer per FUSE thread, kept: a `cat` of a disk is thousands
 * of reads of the same size, and a fresh buffer each would be an mmap. */
static pthread_key_t read_buf_key;
static pthread_once_t read_buf_once = PTHREAD_ONCE_INIT;

struct read_buf {
	size_t cap;
	char data[];
};

/* The key of the per-thread read buffers (freed when a thread ends). */
static void read_buf_init(void)
{
	pthread_key_create(&read_buf_key, free);
}

/* Read from a disk: the disk module fetches what the page cache lacks
 * (waiting on the network says blocking_begin(), so the FUSE loop reads
 * on in another thread). */
static void read_disk(fuse_req_t req, struct tree_file *tf, size_t size, off_t off)
{
	struct read_buf *rb;
	size_t got = 0;
	char *buf;
	int rc;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_once(&read_buf_once, read_buf_init);
	rb = pthread_getspecific(read_buf_key);
	if (!rb || rb->cap < size) {
		free(rb);
		rb = malloc(sizeof(*rb) + size);
		pthread_setspecific(read_buf_key, rb);
		if (!rb) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		rb->cap = size;
	}
	buf = rb->data;
	rc = disk_read(tf->disk, buf, size, (uint64_t)off, &got);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, buf, got);
}

/* Read from the content rendered at open. */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	struct tree_file *tf = h ? h->tf : NULL;

	if (tf && tf->disk) {
		fh_hold(f, h);
		read_disk(req, tf, size, off);
		fh_drop(f, h);
		return;
	}
	if (tf && tf->deferred && !__atomic_load_n(&tf->buf, __ATOMIC_ACQUIRE)) {
		/* The first read of a deferred file: render it (a concurrent
		 * read of the same handle may have done so meanwhile). */
		struct tree_file g = {0};
		int rc = tree_file_fill(f->t, ino, &g);

		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
		pthread_mutex_lock(&f->fh_lock);
		if (!tf->buf) {
			tf->len = g.len;
			__atomic_store_n(&tf->buf, g.buf, __ATOMIC_RELEASE);
			g.buf = NULL;
		}
		pthread_mutex_unlock(&f->fh_lock);
		free(g.buf);
	}
	if (!tf || off < 0 || (size_t)off >= tf->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > tf->len - (size_t)off)
		size = tf->len - (size_t)off;
	fh_hold(f, h);
	fuse_reply_buf(req, tf->buf + off, size);
	fh_drop(f, h);
}

/* Writes: .rpfs/flush acts, the kernel has forgotten everything before
 * the write returns. */
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	struct tree_file *tf = h ? h->tf : NULL;
	int rc;

	if (!tf || (!tf->control && !tf->absorb) || off < 0) {
		fuse_reply_err(req, -tree_mutation_errno(f->t));
		return;
	}
	rc = tree_write(f->t, ino, tf, buf, size, (uint64_t)off);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (tf->control)
		q_drain(f);
	fuse_reply_write(req, size);
}

/* close(): what a view file's content asks is done now, its errno is close's. */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	int rc = 0;

	if (h && h->tf && h->tf->absorb) {
		rc = tree_file_done(f->t, ino, h->tf);
		q_drain(f);
	}
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/* Close. */
static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	int last = 0;

	(void)ino;
	if (h) {
		pthread_mutex_lock(&f->fh_lock);
		h->released = 1;
		last = h->refs == 0;
		pthread_mutex_unlock(&f->fh_lock);
		if (last)
			fh_free(f, h);
	}
	fuse_reply_err(req, 0);
}

/* lseek SEEK_DATA / SEEK_HOLE: a disk's holes from its page list (a
 * hollow one is one hole: cp then makes a hole, not zeros); any other file
 * is all data. */
static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	struct tree_file *tf = h ? h->tf : NULL;
	struct tree_attr a;
	uint64_t res = 0;
	int rc;

	if (off < 0 || (whence != SEEK_DATA && whence != SEEK_HOLE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (tf && tf->disk) {
		rc = disk_lseek(tf->disk, (uint64_t)off, whence, &res);
	} else if (tf && tf->hollow) {
		rc = tree_getattr(f->t, ino, &a);
		if (rc == 0 && (whence == SEEK_DATA || (uint64_t)off >= a.size))
			rc = -ENXIO;
		res = (uint64_t)off;
	} else {
		uint64_t size = tf && tf->buf ? tf->len : 0;

		rc = 0;
		if (!tf || !tf->buf) {
			rc = tree_getattr(f->t, ino, &a);
			size = a.size;
		}
		if (rc == 0 && (uint64_t)off >= size)
			rc = -ENXIO;
		else if (rc == 0)
			res = whence == SEEK_DATA ? (uint64_t)off : size;
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_lseek(req, (off_t)res);
}

/* df: answered at once, from nothing. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = 1040; /* ARM's names: 260 characters, up to 4 bytes each */
	fuse_reply_statfs(req, &sv);
}

/* ---- mutations: decisions are the tree's ------------------------------ */

/* The errno of a mutation rpfs never does (rename, link, mknod):
 * another user's is refused as any change of theirs. */
static void refuse(fuse_req_t req, uint64_t ino, const char *name, const char *op)
{
	struct fs *f = fuse_req_userdata(req);
	int rc = may_change(req, ino, name, op, 0);

	fuse_reply_err(req, rc < 0 ? -rc : -tree_mutation_errno(f->t));
}

/* Reply to a request that made a name. */
static void reply_made(fuse_req_t req, int rc, const struct tree_attr *a)
{
	struct fs *f = fuse_req_userdata(req);
	struct fuse_entry_param e;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/* No q_drain here: the kernel holds the parent directory's lock
	 * until this reply, and an entry invalidation in it would wait. */
	to_entry(f, a, &e);
	fuse_reply_entry(req, &e);
}

/* mkdir: a collection, a restore point, or disks/ of a point. */
static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m)
{
	struct fs *f = fuse_req_userdata(req);
	struct tree_attr a;
	int rc = may_change(req, p, n, "mkdir", 0);

	if (rc == 0)
		rc = tree_mkdir(f->t, p, n, caller(req), &a);

	(void)m;
	reply_made(req, rc, &a);
}

/* mknod: rpfs stores no files of its own (create handles view files). */
static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m, dev_t d)
{
	(void)m;
	(void)d;
	refuse(req, p, n, "mknod");
}

/* unlink of a view file: accepted, nothing changes. */
static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *n)
{
	struct fs *f = fuse_req_userdata(req);
	int rc = may_change(req, p, n, "unlink", 0);

	if (rc == 0)
		rc = tree_unlink(f->t, p, n);

	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/* rmdir: DELETE with allow_delete. */
static void op_rmdir(fuse_req_t req, fuse_ino_t p, const char *n)
{
	struct fs *f = fuse_req_userdata(req);
	int rc = may_change(req, p, n, "rmdir", 1);

	if (rc == 0)
		rc = tree_rmdir(f->t, p, n);

	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/* symlink of origin: accepted without effect. */
static void op_symlink(fuse_req_t req, const char *l, fuse_ino_t p, const char *n)
{
	struct fs *f = fuse_req_userdata(req);
	struct tree_attr a;
	int rc = may_change(req, p, n, "symlink", 0);

	if (rc == 0)
		rc = tree_symlink(f->t, p, n, &a);

	(void)l;
	reply_made(req, rc, &a);
}

/* rename: ARM cannot rename (EXDEV would make mv copy then delete). */
static void op_rename(fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np, const char *nn,
		      unsigned int fl)
{
	(void)np;
	(void)nn;
	(void)fl;
	refuse(req, p, n, "rename");
}

/* link: no hard links in a view. */
static void op_link(fuse_req_t req, fuse_ino_t i, fuse_ino_t np, const char *nn)
{
	(void)np;
	(void)nn;
	refuse(req, i, NULL, "link");
}

/* create: a view file opened for an absorbed write (cp into a view dir). */
static void op_create(fuse_req_t req, fuse_ino_t p, const char *n, mode_t m,
		      struct fuse_file_info *fi)
{
	struct fs *f = fuse_req_userdata(req);
	struct tree_file *tf = NULL;
	struct tree_attr a;
	struct fuse_entry_param e;
	struct fh *h;
	int rc = may_change(req, p, n, "create", 0);

	if (rc == 0)
		rc = tree_create(f->t, p, n, caller(req), &a, &tf);

	(void)m;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	h = fh_new(f, tf);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	to_entry(f, &a, &e);
	if (fuse_reply_create(req, &e, fi) != 0)
		fh_free(f, h);
}

/* setxattr: user.rpfs.source names a pending directory's source. */
static void op_setxattr(fuse_req_t req, fuse_ino_t i, const char *n, const char *v, size_t s,
			int fl)
{
	struct fs *f = fuse_req_userdata(req);
	int rc = may_change(req, i, NULL, "setxattr", 0);

	if (rc == 0)
		rc = tree_setxattr(f->t, i, n, v, s);

	(void)fl;
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

/* Reply to getxattr/listxattr with buf (len bytes), or its size when the
 * caller asks for it (size 0), or ERANGE. */
static void reply_xattr(fuse_req_t req, int rc, const char *buf, size_t len, size_t size)
{
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, len);
}

/* getxattr: user.rpfs.id, .state, .source... of a collection or point. */
static void op_getxattr(fuse_req_t req, fuse_ino_t i, const char *n, size_t size)
{
	struct fs *f = fuse_req_userdata(req);
	char *v = NULL;
	int rc = tree_getxattr(f->t, i, n, &v);

	reply_xattr(req, rc, v, v ? strlen(v) : 0, size);
	free(v);
}

/* listxattr: the names getxattr answers for this directory. */
static void op_listxattr(fuse_req_t req, fuse_ino_t i, size_t size)
{
	struct fs *f = fuse_req_userdata(req);
	char *v = NULL;
	size_t len = 0;
	int rc = tree_listxattr(f->t, i, &v, &len);

	reply_xattr(req, rc, v, len, size);
	free(v);
}

/* removexattr: views keep no attributes; accepted like setxattr. */
static void op_removexattr(fuse_req_t req, fuse_ino_t i, const char *n)
{
	struct fs *f = fuse_req_userdata(req);
	int rc = may_change(req, i, NULL, "removexattr", 0);

	if (rc == 0)
		rc = tree_setattr(f->t, i, -1);

	(void)n;
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static const struct fuse_lowlevel_ops ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readlink = op_readlink,
    .opendir = op_opendir,
    .releasedir = op_releasedir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .lseek = op_lseek,
    .statfs = op_statfs,
    .mkdir = op_mkdir,
    .mknod = op_mknod,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .create = op_create,
    .setxattr = op_setxattr,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .removexattr = op_removexattr,
};

/* The operation table. */
const struct fuse_lowlevel_ops *fs_ops(size_t *size)
{
	*size = sizeof(ops);
	return &ops;
}

/* ---- life cycle -------------------------------------------------------- */

/* Create the FUSE layer. */
int fs_new(struct tree *t, const struct fs_cfg *cfg, struct fs **out)
{
	struct fs *f = calloc(1, sizeof(*f));
	struct tree_notify nt;

	if (!f)
		return -ENOMEM;
	f->t = t;
	f->cfg = *cfg;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->fh_lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	pthread_cond_init(&f->idle, NULL);
	nt.inval_inode = nt_inode;
	nt.inval_entry = nt_entry;
	nt.arg = f;
	tree_set_notify(t, &nt);
	*out = f;
	return 0;
}

/* Start the invalidation thread. */
int fs_start(struct fs *f, struct fuse_session *se)
{
	int rc;

	f->se = se;
	rc = pthread_create(&f->thread, NULL, inval_main, f);
	if (rc != 0)
		return -rc;
	f->running = 1;
	return 0;
}

/* Stop the invalidation thread; queued invalidations are dropped. */
void fs_stop(struct fs *f)
{
	if (!f || !f->running)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	f->running = 0;
}

/* Free the layer (stops the thread first). */
void fs_free(struct fs *f)
{
	struct inval *v, *next;
	struct tree_notify none = {0};

	if (!f)
		return;
	fs_stop(f);
	tree_set_notify(f->t, &none);
	for (v = f->head; v; v = next) {
		next = v->next;
		free(v->name);
		free(v);
	}
	pthread_cond_destroy(&f->idle);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	for (unsigned i = 0; i < FS_LISTINGS; i++)
		listing_put_locked(f->listings[i]);
	while (f->open)
		fh_free(f, f->open);
	pthread_mutex_destroy(&f->fh_lock);
	free(f);
}
