/*
 * auth_token_file.c - a bearer token kept in a file by something else
 * (a sidecar, a cron job, a test).  The file is re-read whenever its
 * inode, size or mtime changes, so a rewrite (atomic rename or in place)
 * is picked up by the next request without a remount.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth_int.h"

struct tf_priv {
	char *path;
	int have;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* Read the token from the file. */
static int tf_fetch(struct auth_src *s, const struct auth_ctx *ctx, char *tok, size_t toklen,
		    time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen)
{
	struct tf_priv *p = s->priv;
	struct stat st;
	char *t = NULL;
	size_t n;
	int rc;

	(void)ctx;
	(void)tenant;
	(void)tlen;
	if (stat(p->path, &st)) {
		rc = errno;
		snprintf(err, errlen, "token file %s: %s", p->path, strerror(rc));
		return -EACCES;
	}
	rc = auth_read_file(p->path, AUTH_TOKEN_MAX - 1, &t, &n);
	if (rc) {
		snprintf(err, errlen, "token file %s: %s", p->path, strerror(-rc));
		return rc == -EFBIG ? -ENOSPC : -EACCES;
	}
	if (!n || strpbrk(t, "\r\n ")) {
		snprintf(err, errlen, "token file %s: %s", p->path,
			 n ? "holds more than one line" : "is empty");
		auth_secret_free(t);
		return -EACCES;
	}
	if (n + 1 > toklen) {
		auth_secret_free(t);
		snprintf(err, errlen, "token file %s: token too long", p->path);
		return -ENOSPC;
	}
	memcpy(tok, t, n + 1);
	auth_secret_free(t);
	p->have = 1;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->size = st.st_size;
	p->mtime = st.st_mtim;
	/* The file says nothing about expiry: valid until it changes. */
	*exp = time(NULL) + 365 * 24 * 3600;
	return 0;
}

/* 1 when the file is not the one last read. */
static int tf_changed(struct auth_src *s, const struct auth_ctx *ctx)
{
	struct tf_priv *p = s->priv;
	struct stat st;

	(void)ctx;
	if (!p->have || stat(p->path, &st))
		return 1;
	return st.st_dev != p->dev || st.st_ino != p->ino || st.st_size != p->size ||
	       st.st_mtim.tv_sec != p->mtime.tv_sec || st.st_mtim.tv_nsec != p->mtime.tv_nsec;
}

/* Free the source. */
static void tf_free(struct auth_src *s)
{
	struct tf_priv *p = s->priv;

	if (p) {
		free(p->path);
		free(p);
	}
	free(s);
}

/* The token_file source, when a token file was given. */
int auth_token_file_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl)
{
	struct auth_src *s;
	struct tf_priv *p;

	*out = NULL;
	if (!ctx->token_file) {
		snprintf(why, wl, "no token_file option or RPFS_TOKEN_FILE");
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	p = calloc(1, sizeof(*p));
	if (!s || !p || !(p->path = strdup(ctx->token_file))) {
		free(s);
		if (p)
			free(p->path);
		free(p);
		return -ENOMEM;
	}
	s->name = "token_file";
	s->fetch = tf_fetch;
	s->changed = tf_changed;
	s->free = tf_free;
	s->priv = p;
	*out = s;
	return 0;
}
