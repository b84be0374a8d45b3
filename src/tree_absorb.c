/*
 * tree_absorb.c - what cp writes into the mount: creating view files,
 * writing them (tags, source ids, .rpfs/flush), setattr, setxattr,
 * symlink and unlink of view names.
 *
 * Why it is built this way: a written file acts only when its content
 * names a source (the top-level "id" of a JSON view, else the first
 * line): a collection id for a pending collection, a point id for a
 * pending point (whose collection then gets the point's collection as
 * source).  Other ids are absorbed, so the order in which cp writes files
 * does not matter.  A write to `tags` of a collection is a PATCH (for a
 * pending collection, kept for its PUT).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "tags.h"
#include "tree_int.h"

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
		tree_pend_tags_set(t, n, tags, ntags);
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

			rc = tree_send_mut(t, &m);
			if (rc == 0 && !t->cfg.dry_run)
				tree_refresh_coll(t, d.rpc->rg, d.rpc->name, 1);
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

			rc = cid ? tree_resolve_collection(t, n, cid) : -ENOMEM;
			free(cid);
		} else {
			rc = tree_resolve_collection(t, n, text);
		}
	} else if (n->kind == N_RP && id->rp) {
		rc = tree_resolve_point(t, n, text);
	} else if (n->kind == N_RP && is_source_file) {
		rc = tree_refuse_op(t, "PUT", n->name, -EINVAL, "the source of a point is a point");
	}
	free(id);
	free(byp);
	return rc;
}

/* Act on a view file's written content (final: at close). */
static int tree_absorb_act(struct tree *t, struct tnode *n, struct tree_file *f, int final)
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
		tree_set_made(t, n, s);
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
	tree_set_made(t, n, n->kind == N_RPC ? S_C_ORIGIN : S_P_ORIGIN);
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

/* A source id or a tags text is short (ARM: at most 50 tags of 512 + 256
 * characters); the JSON views cp writes may be longer. */
#define TREE_SMALL_WRITE (64u << 10)

/* A write: .rpfs/flush acts at once, view files keep the content (tags at
 * the write's offset, the others appended). */
int tree_write(struct tree *t, uint64_t ino, struct tree_file *f, const char *buf, size_t len,
	       uint64_t off)
{
	size_t cap, end;
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);
	char *nb;

	if (!n)
		return -ENOENT;
	if (n->kind == N_ROOT && slot == S_FLUSH) {
		tree_flush(t);
		return 0;
	}
	if (!f || !f->absorb)
		return tree_mutation_errno(t);
	if (f->done)
		return f->rc;
	cap = (n->kind == N_RPC && (slot == S_C_SOURCE || slot == S_C_TAGS)) ||
		      (n->kind == N_RP && slot == S_P_SOURCE)
		  ? TREE_SMALL_WRITE
		  : (1u << 20);
	if (!(n->kind == N_RPC && slot == S_C_TAGS) || f->append)
		off = f->wlen;
	if (off > cap || len > cap - off) {
		log_warn("write to %s of %s: more than %zu bytes, refused (EFBIG)",
			 n->kind == N_RPC && slot == S_C_TAGS ? "tags"
			 : cap == TREE_SMALL_WRITE	      ? "source"
							      : "a view",
			 n->name, cap);
		return -EFBIG;
	}
	end = off + len > f->wlen ? off + len : f->wlen;
	nb = realloc(f->wbuf, end + 1);
	if (!nb)
		return -ENOMEM;
	if (off > f->wlen)
		memset(nb + f->wlen, 0, off - f->wlen); /* a hole, as in any file */
	memcpy(nb + off, buf, len);
	f->wbuf = nb;
	f->wlen = end;
	f->wbuf[f->wlen] = '\0';
	f->written = 1;
	return tree_absorb_act(t, n, f, 0);
}

/* close(): act on what was written. */
int tree_file_done(struct tree *t, uint64_t ino, struct tree_file *f)
{
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);

	if (!n || !f || !f->absorb)
		return 0;
	if (f->done)
		return f->rc;
	return tree_absorb_act(t, n, f, 1);
}

/* Truncation: accepted on .rpfs/flush and (without effect) on view files. */
int tree_truncate(struct tree *t, uint64_t ino, uint64_t size)
{
	(void)size;
	return tree_setattr(t, ino, 0);
}
