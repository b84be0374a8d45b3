/*
 * auth_int.h - the interface between auth.c (caching, refresh, auto order)
 * and the credential sources, one file each, and what the sources share
 * below them (auth_entra.c, auth_util.c): auth.c calls the sources, the
 * sources call only those.
 *
 * A source fetches a fresh token on request; auth.c decides when.  Sources
 * never log tokens, secrets or assertions, and put a one-line reason
 * without any of them into err on failure.
 */
#ifndef RPFS_AUTH_INT_H
#define RPFS_AUTH_INT_H

#include <stddef.h>
#include <time.h>

#include "arm_err.h"
#include "auth.h"

struct http;

/* Longest token kept (ARM tokens are 2-4 KB). */
#define AUTH_TOKEN_MAX 16384

/* What a source needs to know, resolved from struct auth_cfg at auth_new,
 * and the HTTP pool the sources share. */
struct auth_ctx {
	char *authority;     /* no trailing slash */
	char *imds_endpoint; /* no trailing slash */
	char *scope;	     /* "<endpoint>/.default" */
	char *resource;	     /* "<endpoint>/" */
	char *token_file;
	char *cloud;
	char *subscription; /* -o subscription or $AZURE_SUBSCRIPTION_ID, or NULL */
	char *tenant;	    /* $AZURE_TENANT_ID, or NULL */
	int imds_explicit;  /* imds_endpoint given by the user */
	long timeout_ms;    /* bound on one token request */
	int stopping;	    /* set (atomically) at auth_free: stop retrying */
	struct http *http;
};

struct auth_src {
	const char *name;
	/* Fetch a token into tok (NUL-terminated).  *exp: epoch seconds of
	 * expiry (0 unknown).  tenant (may be filled, size tlen).  Returns 0,
	 * -EACCES, -EHOSTUNREACH, -ETIMEDOUT, -EIO, -ENOSPC. */
	int (*fetch)(struct auth_src *s, const struct auth_ctx *ctx, char *tok, size_t toklen,
		     time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen);
	/* 1 when the cached token must be dropped though unexpired (token
	 * file rewritten); may be NULL. */
	int (*changed)(struct auth_src *s, const struct auth_ctx *ctx);
	void (*free)(struct auth_src *s);
	/* 1 when a connection failure means "not available here, try the
	 * next source" (auto mode probing IMDS). */
	int probe;
	void *priv;
};

/* Constructors: return 0 and *out, or -ENOENT with the reason the source
 * does not apply in why (for auto), or another negative errno. */
int auth_token_file_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl);
int auth_env_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl);
int auth_workload_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl);
int auth_msi_new(const struct auth_ctx *ctx, int probe, struct auth_src **out, char *why,
		 size_t wl);
int auth_cli_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl);

/* IMDS retry delay before retry number attempt after an answer of status
 * (auth_msi.c; pure, for tests). */
long msi_retry_delay_ms(unsigned attempt, long status);

/* ---- below the sources: auth_entra.c, auth_util.c ---- */

/* A token for client_id in tenant_id by the client credentials grant at
 * {authority}/{tenant_id}/oauth2/v2.0/token, authenticated by secret or
 * else by assertion (a federated token); retried twice on a transient
 * answer.  tenant (may be NULL) receives tenant_id on success. */
int auth_entra_token(const struct auth_ctx *ctx, const char *tenant_id, const char *client_id,
		     const char *secret, const char *assertion, char *tok, size_t toklen,
		     time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen);
/* Its form body (x-www-form-urlencoded): a secret itself, freed with
 * auth_secret_free; NULL on ENOMEM. */
char *auth_entra_form(const char *client_id, const char *scope, const char *secret,
		      const char *assertion);
/* Turn a token answer into a token; err names status and code.  rc is
 * http_do's (returned as it is); a status other than 200 gives
 * arm_errno_of(kind): EIO when transient, else EACCES. */
int auth_take_answer(int rc, long status, const char *body, size_t len, const char *what,
		     enum arm_errno_kind kind, char *tok, size_t toklen, time_t *exp, char *tenant,
		     size_t tlen, char *err, size_t errlen);
/* Read a small file (at most max bytes), trimmed of surrounding
 * whitespace; caller zeroes and frees. */
int auth_read_file(const char *path, size_t max, char **out, size_t *len);
/* Zero and free a secret string. */
void auth_secret_free(char *s);

#endif
