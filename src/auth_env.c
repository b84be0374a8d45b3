/*
 * auth_env.c - a service principal with a client secret, from
 * AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (the variables
 * the Azure SDKs read), exchanged at the Entra v2 token endpoint with the
 * client credentials grant.  The secret is copied once, sent only in the
 * form body, and zeroed when the source is freed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

struct env_priv {
	char *tenant, *client, *secret;
};

/* Ask the token endpoint, with the secret. */
static int env_fetch(struct auth_src *s, const struct auth_ctx *ctx, char *tok, size_t toklen,
		     time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen)
{
	struct env_priv *p = s->priv;

	return auth_entra_token(ctx, p->tenant, p->client, p->secret, NULL, tok, toklen, exp,
				tenant, tlen, err, errlen);
}

/* Free the source, zeroing the secret. */
static void env_free(struct auth_src *s)
{
	struct env_priv *p = s->priv;

	if (p) {
		free(p->tenant);
		free(p->client);
		auth_secret_free(p->secret);
		free(p);
	}
	free(s);
}

/* The env source, when all three variables are set. */
int auth_env_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl)
{
	const char *t = getenv("AZURE_TENANT_ID"), *c = getenv("AZURE_CLIENT_ID"),
		   *k = getenv("AZURE_CLIENT_SECRET");
	struct auth_src *s;
	struct env_priv *p;

	(void)ctx;
	*out = NULL;
	if (!t || !*t || !c || !*c || !k || !*k) {
		snprintf(why, wl, "%s not set",
			 !t || !*t   ? "AZURE_TENANT_ID"
			 : !c || !*c ? "AZURE_CLIENT_ID"
				     : "AZURE_CLIENT_SECRET");
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	p = calloc(1, sizeof(*p));
	if (!s || !p)
		goto nomem;
	p->tenant = strdup(t);
	p->client = strdup(c);
	p->secret = strdup(k);
	if (!p->tenant || !p->client || !p->secret)
		goto nomem;
	s->name = "env";
	s->fetch = env_fetch;
	s->free = env_free;
	s->priv = p;
	*out = s;
	return 0;
nomem:
	if (s) {
		s->priv = p;
		env_free(s);
	} else if (p) {
		free(p);
	}
	return -ENOMEM;
}
