/*
 * auth_msi.c - managed identity through the Instance Metadata Service:
 * GET {imds}/metadata/identity/oauth2/token with "Metadata: true", never
 * through a proxy.  IMDS gives expires_on as a string of epoch seconds.
 * AZURE_CLIENT_ID, when set, picks a user-assigned identity.
 *
 * As an auto-mode probe (no imds_endpoint given) the connect timeout is
 * short, so a machine that is not an Azure VM falls through to the next
 * source in well under a second.
 *
 * IMDS that answers is there, even when the answer is an error: 404 and
 * 410 (for minutes while the host is updated), 408, 429 and 5xx are
 * retried with exponential backoff for up to MSI_RETRY_BUDGET_MS, as the
 * Azure SDKs do (410 starts at a longer delay and is retried for at least
 * that long), so a mount from fstab at boot succeeds.  Only a probe that
 * gets no answer at all gives up at once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arm_err.h"
#include "auth_int.h"
#include "blocking.h"
#include "http.h"
#include "log.h"
#include "url.h"

#define MSI_PROBE_CONNECT_MS 600
#define MSI_PROBE_TOTAL_MS 3000
#define MSI_RETRY_BUDGET_MS 70000
#define MSI_RETRY_START_MS 800
#define MSI_RETRY_START_410_MS 3000
#define MSI_RETRY_MAX_DELAY_MS 16000

/* Milliseconds of the monotonic clock. */
static long long msi_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when an IMDS answer (or its absence) is worth another try. */
static int msi_retryable(int rc, long status, int probe)
{
	if (rc)
		return !probe && rc != -ENOMEM;
	return arm_errno_of(ARM_ERRNO_IMDS, (int)status, NULL, NULL, HTTP_T_NONE) == -EIO;
}

/* Delay before retry number attempt (0-based) after an answer of status:
 * doubling from 800 ms (3 s for 410), at most 16 s each. */
long msi_retry_delay_ms(unsigned attempt, long status)
{
	long d = status == 410 ? MSI_RETRY_START_410_MS : MSI_RETRY_START_MS;

	while (attempt-- && d < MSI_RETRY_MAX_DELAY_MS)
		d *= 2;
	return d > MSI_RETRY_MAX_DELAY_MS ? MSI_RETRY_MAX_DELAY_MS : d;
}

/* Ask IMDS for a token. */
static int msi_fetch(struct auth_src *s, const struct auth_ctx *ctx, char *tok, size_t toklen,
		     time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen)
{
	struct http_req req = {0};
	struct http_resp resp;
	const char *cid = getenv("AZURE_CLIENT_ID");
	char *res = url_pct_encode(ctx->resource), *ecid = NULL, *url = NULL;
	size_t n;
	int rc = -ENOMEM;
	unsigned attempt;
	long long t0 = msi_now_ms();

	if (!res)
		goto out;
	if (cid && *cid && !(ecid = url_pct_encode(cid)))
		goto out;
	n = strlen(ctx->imds_endpoint) + strlen(res) + (ecid ? strlen(ecid) : 0) + 128;
	url = malloc(n);
	if (!url)
		goto out;
	snprintf(url, n, "%s/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%s%s%s",
		 ctx->imds_endpoint, res, ecid ? "&client_id=" : "", ecid ? ecid : "");
	req.method = "GET";
	req.url = url;
	req.extra_header = "Metadata: true";
	req.no_proxy = 1;
	/* A probe must not hang on something that accepts and never answers. */
	req.timeout_ms =
	    s->probe && ctx->timeout_ms > MSI_PROBE_TOTAL_MS ? MSI_PROBE_TOTAL_MS : ctx->timeout_ms;
	req.connect_timeout_ms = s->probe ? MSI_PROBE_CONNECT_MS : 0;
	req.op = "IMDS";
	for (attempt = 0;; attempt++) {
		long status, delay;
		int hrc;

		hrc = rc = http_do(ctx->http, &req, &resp);
		status = rc ? 0 : resp.status;
		if (rc)
			snprintf(err, errlen, "IMDS at %s: %s", ctx->imds_endpoint, resp.errmsg);
		/* Transient answers (ARM_ERRNO_IMDS) are not a refusal: EIO. */
		rc = auth_take_answer(rc, resp.status, resp.body, resp.len, "IMDS", ARM_ERRNO_IMDS,
				      tok, toklen, exp, tenant, tlen, err, errlen);
		if (resp.body)
			explicit_bzero(resp.body, resp.len);
		http_resp_clear(&resp);
		if (!rc || !msi_retryable(hrc, status, s->probe) ||
		    __atomic_load_n(&ctx->stopping, __ATOMIC_RELAXED))
			break;
		/* IMDS answered: it is there, so it gets the full retry budget. */
		if (!hrc && s->probe)
			req.timeout_ms = ctx->timeout_ms;
		delay = msi_retry_delay_ms(attempt, status);
		if (msi_now_ms() - t0 + delay > MSI_RETRY_BUDGET_MS + (status == 410 ? delay : 0))
			break;
		log_info("auth: %s; retry %u in %ld ms", err, attempt + 1, delay);
		blocking_sleep_ms(delay);
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
int auth_msi_new(const struct auth_ctx *ctx, int probe, struct auth_src **out, char *why, size_t wl)
{
	struct auth_src *s = calloc(1, sizeof(*s));

	(void)ctx;
	(void)why;
	(void)wl;
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
