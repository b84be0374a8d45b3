/*
 * auth_workload.c - workload identity federation (Kubernetes and the like):
 * AZURE_FEDERATED_TOKEN_FILE holds a short-lived token from the platform,
 * re-read at every refresh because the platform rotates it, and sent as
 * the client_assertion of a client credentials grant for
 * AZURE_TENANT_ID / AZURE_CLIENT_ID.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

#define WL_MAX_ASSERTION (64 * 1024)

struct wl_priv {
	char *tenant, *client, *file;
};

/* Read the federated token and exchange it. */
static int wl_fetch(struct auth_src *s, const struct auth_ctx *ctx, char *tok, size_t toklen,
		    time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen)
{
	struct wl_priv *p = s->priv;
	char *assertion = NULL;
	size_t n;
	int rc;

	rc = auth_read_file(p->file, WL_MAX_ASSERTION, &assertion, &n);
	if (rc || !n) {
		snprintf(err, errlen, "federated token file %s: %s", p->file,
			 rc ? strerror(-rc) : "is empty");
		auth_secret_free(assertion);
		return -EACCES;
	}
	rc = auth_entra_token(ctx, p->tenant, p->client, NULL, assertion, tok, toklen, exp, tenant,
			      tlen, err, errlen);
	auth_secret_free(assertion);
	return rc;
}

/* Free the source. */
static void wl_free(struct auth_src *s)
{
	struct wl_priv *p = s->priv;

	if (p) {
		free(p->tenant);
		free(p->client);
		free(p->file);
		free(p);
	}
	free(s);
}

/* The workload source, when the federated token file and ids are set. */
int auth_workload_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl)
{
	const char *t = getenv("AZURE_TENANT_ID"), *c = getenv("AZURE_CLIENT_ID"),
		   *f = getenv("AZURE_FEDERATED_TOKEN_FILE");
	struct auth_src *s;
	struct wl_priv *p;

	(void)ctx;
	*out = NULL;
	if (!f || !*f || !t || !*t || !c || !*c) {
		snprintf(why, wl, "%s not set",
			 !f || !*f   ? "AZURE_FEDERATED_TOKEN_FILE"
			 : !t || !*t ? "AZURE_TENANT_ID"
				     : "AZURE_CLIENT_ID");
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	p = calloc(1, sizeof(*p));
	if (!s || !p)
		goto nomem;
	s->priv = p;
	p->tenant = strdup(t);
	p->client = strdup(c);
	p->file = strdup(f);
	if (!p->tenant || !p->client || !p->file)
		goto nomem;
	s->name = "workload";
	s->fetch = wl_fetch;
	s->free = wl_free;
	*out = s;
	return 0;
nomem:
	if (s)
		wl_free(s);
	else
		free(p);
	return -ENOMEM;
}
