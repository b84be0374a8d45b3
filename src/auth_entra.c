/*
 * auth_entra.c - the client credentials grant at the Entra v2 token
 * endpoint, shared by the sources that have a client id and either a
 * secret (auth_env.c) or a federated assertion (auth_workload.c).  The form
 * carries the secret or the assertion: it is wiped when freed and never
 * logged.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm_err.h"
#include "auth_int.h"
#include "blocking.h"
#include "http.h"
#include "url.h"

/* The form of a client credentials grant (x-www-form-urlencoded), with a
 * client secret or else a client assertion. */
char *auth_entra_form(const char *client_id, const char *scope, const char *secret,
		      const char *assertion)
{
	char *cid = url_pct_encode(client_id), *sc = url_pct_encode(scope);
	char *cred = url_pct_encode(secret ? secret : assertion), *form = NULL;
	size_t n;

	if (!cid || !sc || !cred)
		goto out;
	n = strlen(cid) + strlen(sc) + strlen(cred) + 200;
	form = malloc(n);
	if (!form)
		goto out;
	if (secret)
		snprintf(form, n,
			 "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s",
			 cid, cred, sc);
	else
		snprintf(
		    form, n,
		    "grant_type=client_credentials&client_id=%s&scope=%s"
		    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-"
		    "type%%3Ajwt-bearer&client_assertion=%s",
		    cid, sc, cred);
out:
	free(cid);
	free(sc);
	auth_secret_free(cred);
	return form;
}

/* POST a form to the Entra v2 token endpoint of tenant. */
static int entra_post(const struct auth_ctx *ctx, const char *tenant, const char *form, char *tok,
		      size_t toklen, time_t *exp, char *err, size_t errlen)
{
	struct http_req req = {0};
	struct http_resp resp;
	char *url, *tn = url_pct_encode(tenant);
	size_t n;
	int rc, attempt;

	if (!tn)
		return -ENOMEM;
	n = strlen(ctx->authority) + strlen(tn) + 40;
	url = malloc(n);
	if (!url) {
		free(tn);
		return -ENOMEM;
	}
	snprintf(url, n, "%s/%s/oauth2/v2.0/token", ctx->authority, tn);
	free(tn);
	req.method = "POST";
	req.url = url;
	req.body = form;
	req.body_len = strlen(form);
	req.content_type = "application/x-www-form-urlencoded";
	req.timeout_ms = ctx->timeout_ms;
	req.op = "Token";
	for (attempt = 0;; attempt++) {
		rc = http_do(ctx->http, &req, &resp);
		if (rc)
			snprintf(err, errlen, "token endpoint %s: %s", ctx->authority, resp.errmsg);
		rc = auth_take_answer(rc, resp.status, resp.body, resp.len, "token endpoint",
				      ARM_ERRNO_TOKEN, tok, toklen, exp, NULL, 0, err, errlen);
		if (resp.body)
			explicit_bzero(resp.body, resp.len);
		http_resp_clear(&resp);
		if (rc != -EIO || attempt >= 2)
			break;
		blocking_sleep_ms(300LL << attempt);
	}
	free(url);
	return rc;
}

/* A token for client_id in tenant_id by the client credentials grant. */
int auth_entra_token(const struct auth_ctx *ctx, const char *tenant_id, const char *client_id,
		     const char *secret, const char *assertion, char *tok, size_t toklen,
		     time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen)
{
	char *form = auth_entra_form(client_id, ctx->scope, secret, assertion);
	int rc;

	if (!form)
		return -ENOMEM;
	rc = entra_post(ctx, tenant_id, form, tok, toklen, exp, err, errlen);
	if (!rc && tenant && tlen)
		snprintf(tenant, tlen, "%s", tenant_id);
	auth_secret_free(form);
	return rc;
}
