/*
 * auth_msi.c - managed identity through the Instance Metadata Service:
 * GET {imds}/metadata/identity/oauth2/token with "Metadata: true", never
 * through a proxy.  IMDS gives expires_on as a string of epoch seconds.
 * AZURE_CLIENT_ID, when set, picks a user-assigned identity.
 *
 * As an auto-mode probe (no imds_endpoint given) the connect timeout is
 * short, so a machine that is not an Azure VM falls through to the next
 * source in well under a second.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_int.h"
#include "blocking.h"
#include "http.h"

#define MSI_PROBE_CONNECT_MS 600
#define MSI_PROBE_TOTAL_MS 3000

/* Ask IMDS for a token. */
static int msi_fetch(struct auth_src *s, const struct auth_cfg *cfg, char *tok, size_t toklen, time_t *exp,
		     char *tenant, size_t tlen, char *err, size_t errlen)
{
	struct http_req req = { 0 };
	struct http_resp resp;
	const char *cid = getenv("AZURE_CLIENT_ID");
	char *res = http_form_escape(cfg->resource), *ecid = NULL, *url = NULL;
	size_t n;
	int rc = -ENOMEM, attempt;

	if (!res)
		goto out;
	if (cid && *cid && !(ecid = http_form_escape(cid)))
		goto out;
	n = strlen(cfg->imds_endpoint) + strlen(res) + (ecid ? strlen(ecid) : 0) + 128;
	url = malloc(n);
	if (!url)
		goto out;
	snprintf(url, n, "%s/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%s%s%s",
		 cfg->imds_endpoint, res, ecid ? "&client_id=" : "", ecid ? ecid : "");
	req.method = "GET";
	req.url = url;
	req.extra_header = "Metadata: true";
	req.no_proxy = 1;
	/* A probe must not hang on something that accepts and never answers. */
	req.timeout_ms = s->probe && cfg->timeout_ms > MSI_PROBE_TOTAL_MS ? MSI_PROBE_TOTAL_MS : cfg->timeout_ms;
	req.connect_timeout_ms = s->probe ? MSI_PROBE_CONNECT_MS : 0;
	req.op = "IMDS";
	for (attempt = 0;; attempt++) {
		rc = http_do(cfg->http, &req, &resp);
		if (rc)
			snprintf(err, errlen, "IMDS at %s: %s", cfg->imds_endpoint, resp.errmsg);
		rc = auth_take_answer(rc, resp.status, resp.body, resp.len, "IMDS", tok, toklen, exp, tenant,
				      tlen, err, errlen);
		if (resp.body)
			explicit_bzero(resp.body, resp.len);
		http_resp_clear(&resp);
		/* A probe gives up at once; IMDS asks callers to retry 5xx/429. */
		if (rc != -EIO || s->probe || attempt >= 2)
			break;
		blocking_begin();
		usleep(300000u << attempt);
	}
out:
	free(res);
	free(ecid);
	free(url);
	return rc;
}

/* Free the source. */
static void msi_free(struct auth_src *s)
{
	free(s);
}

/* The msi source (always applicable; a probe in auto mode). */
int auth_msi_new(const struct auth_cfg *cfg, int probe, struct auth_src **out, char *why, size_t wl)
{
	struct auth_src *s = calloc(1, sizeof(*s));

	(void)cfg; (void)why; (void)wl;
	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->name = "msi";
	s->fetch = msi_fetch;
	s->free = msi_free;
	s->probe = probe;
	*out = s;
	return 0;
}
