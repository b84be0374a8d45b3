/*
 * auth.c - one credential for ARM: the source order, the cached token and
 * its refresh.
 *
 * Why it is built this way: each source (auth_*.c) only knows how to fetch
 * a token; everything about when to fetch lives here, once.  A token is
 * refreshed when a third of its lifetime (at most 5 minutes) is left, when
 * the source says its input changed (a rewritten token file), and once
 * after a 401 (force).  While the token is still valid the refresh runs in
 * a background thread and callers keep using the current token, so a
 * refresh that fails (the token endpoint or IMDS down for a while) fails
 * no call: it is logged and tried again a few seconds later, until the
 * token really expires.  Only one refresh runs at a time: other threads wait
 * on a condition variable and then use its result, and a forced refresh
 * that finds a newer token than the one that was refused does not fetch
 * again, so a burst of 401s costs one token request.
 *
 * With auth=auto the sources whose inputs are present are kept in the
 * order rpfs(1) gives and the first is used; managed identity is a probe
 * unless imds_endpoint was given (a host without IMDS must fall through to
 * the Azure CLI quickly), so a probe that fails moves on to the next one.
 * Why each source was skipped is kept for .rpfs/auth.
 *
 * Lock: a->lock protects everything below it in struct auth; it is not held
 * during a fetch (network or a child process).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "armjson.h"
#include "auth_int.h"
#include "blocking.h"
#include "http.h"
#include "log.h"

#define AUTH_MAX_SRC 6
#define AUTH_DEFAULT_IMDS "http://169.254.169.254"
#define AUTH_DEFAULT_AUTHORITY "https://login.microsoftonline.com"

struct auth {
	struct auth_ctx ctx;
	struct auth_src *src[AUTH_MAX_SRC];
	int nsrc, cur, used; /* used: cur has delivered a token */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refreshing;
	unsigned long gen; /* bumped at each new token */
	char *token;
	long long fetched_ms, exp_ms; /* realtime ms */
	time_t exp;
	char tenant[128];
	char skipped[1536];
	char mode[16];
	char last_err[256];
	pthread_t bg;		    /* background refresh (auth_bg_main) */
	int bg_started, bg_running; /* bg not joined yet; bg still fetching */
	unsigned bg_fails;	    /* background refreshes failed in a row */
	long long bg_next_ms;	    /* no background refresh before (realtime ms) */
	pid_t bg_pid;		    /* process that started bg (a fork does not have it) */
};

/* A token this close to its expiry is no longer used (transit, skew). */
#define AUTH_VALID_MARGIN_MS 1000

/* Milliseconds of the realtime clock (token expiry is wall-clock time). */
static long long auth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copy a string option, trimming trailing slashes. */
static char *auth_trimdup(const char *s)
{
	char *r = strdup(s);
	size_t n;

	if (!r)
		return NULL;
	n = strlen(r);
	while (n > 1 && r[n - 1] == '/' && r[n - 2] != '/')
		r[--n] = '\0';
	return r;
}

/* Append a skip reason for .rpfs/auth. */
static void auth_note_skip(struct auth *a, const char *name, const char *why)
{
	size_t n = strlen(a->skipped);

	snprintf(a->skipped + n, sizeof(a->skipped) - n, "skipped: %s: %s\n", name, why);
}

/* Add a source made by ctor, or note why it does not apply. */
static int auth_add(struct auth *a, int rc, struct auth_src *s, const char *name, const char *why,
		    char *err, size_t errlen, int explicit_mode)
{
	if (rc == 0) {
		if (a->nsrc >= AUTH_MAX_SRC) {
			s->free(s);
			return 0;
		}
		a->src[a->nsrc++] = s;
		return 0;
	}
	if (rc == -ENOENT && !explicit_mode) {
		auth_note_skip(a, name, why);
		return 0;
	}
	snprintf(err, errlen, "auth=%s: %s", name, why[0] ? why : strerror(-rc));
	return rc == -ENOENT ? -EINVAL : rc;
}

/* 1 when an option string is given. */
static int auth_set(const char *s)
{
	return s && *s;
}

/* Create the credential. */
int auth_new(const struct auth_cfg *cfg, struct auth **out, char *err, size_t errlen)
{
	static const struct auth_cfg none;
	struct auth *a;
	struct auth_src *s = NULL;
	const char *mode, *ep;
	char why[256];
	char buf[512];
	int rc = -ENOMEM, is_auto, httprc;

	if (!cfg)
		cfg = &none;
	mode = auth_set(cfg->source) ? cfg->source : "auto";
	ep = cfg->endpoint ? cfg->endpoint : "https://management.azure.com";
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	snprintf(a->mode, sizeof(a->mode), "%s", mode);
	a->ctx.authority =
	    auth_trimdup(auth_set(cfg->authority) ? cfg->authority : AUTH_DEFAULT_AUTHORITY);
	a->ctx.imds_endpoint =
	    auth_trimdup(auth_set(cfg->imds_endpoint) ? cfg->imds_endpoint : AUTH_DEFAULT_IMDS);
	a->ctx.imds_explicit = auth_set(cfg->imds_endpoint) && a->ctx.imds_endpoint &&
			       strcmp(a->ctx.imds_endpoint, AUTH_DEFAULT_IMDS) != 0;
	{
		char *e = auth_trimdup(ep);
		if (!e)
			goto fail;
		snprintf(buf, sizeof(buf), "%s/.default", e);
		a->ctx.scope = strdup(auth_set(cfg->scope) ? cfg->scope : buf);
		snprintf(buf, sizeof(buf), "%s/", e);
		a->ctx.resource = strdup(auth_set(cfg->resource) ? cfg->resource : buf);
		free(e);
	}
	a->ctx.cloud = strdup(auth_set(cfg->cloud) ? cfg->cloud : "AzureCloud");
	if (auth_set(cfg->token_file))
		a->ctx.token_file = strdup(cfg->token_file);
	if (auth_set(cfg->subscription))
		a->ctx.subscription = strdup(cfg->subscription);
	if (getenv("AZURE_TENANT_ID") && *getenv("AZURE_TENANT_ID"))
		a->ctx.tenant = strdup(getenv("AZURE_TENANT_ID"));
	a->ctx.timeout_ms = (long)((cfg->op_timeout ? cfg->op_timeout : 30) * 1000);
	if (!a->ctx.authority || !a->ctx.imds_endpoint || !a->ctx.scope || !a->ctx.resource ||
	    !a->ctx.cloud || (auth_set(cfg->token_file) && !a->ctx.token_file))
		goto fail;
	httprc = http_new(cfg->cafile, 2, &a->ctx.http);
	if (httprc) {
		rc = httprc;
		goto fail;
	}

	is_auto = !strcmp(mode, "auto");
	rc = 0;
	why[0] = '\0';
	if (is_auto || !strcmp(mode, "token_file")) {
		rc = auth_token_file_new(&a->ctx, &s, why, sizeof(why));
		rc = auth_add(a, rc, s, "token_file", why, err, errlen, !is_auto);
	}
	if (!rc && (is_auto || !strcmp(mode, "env")) && !(is_auto && a->nsrc)) {
		rc = auth_env_new(&a->ctx, &s, why, sizeof(why));
		rc = auth_add(a, rc, s, "env", why, err, errlen, !is_auto);
	}
	if (!rc && (is_auto || !strcmp(mode, "workload")) && !(is_auto && a->nsrc)) {
		rc = auth_workload_new(&a->ctx, &s, why, sizeof(why));
		rc = auth_add(a, rc, s, "workload", why, err, errlen, !is_auto);
	}
	if (!rc && (is_auto || !strcmp(mode, "msi")) && !(is_auto && a->nsrc)) {
		rc = auth_msi_new(&a->ctx, is_auto && !a->ctx.imds_explicit, &s, why, sizeof(why));
		rc = auth_add(a, rc, s, "msi", why, err, errlen, !is_auto);
	}
	if (!rc && (is_auto || !strcmp(mode, "cli")) &&
	    !(is_auto && a->nsrc && !a->src[a->nsrc - 1]->probe)) {
		rc = auth_cli_new(&a->ctx, &s, why, sizeof(why));
		rc = auth_add(a, rc, s, "cli", why, err, errlen, !is_auto);
	}
	if (rc)
		goto fail;
	if (!is_auto && strcmp(mode, "token_file") && strcmp(mode, "env") &&
	    strcmp(mode, "workload") && strcmp(mode, "msi") && strcmp(mode, "cli")) {
		snprintf(err, errlen,
			 "auth=%s: unknown source (auto, token_file, env, workload, msi, cli)",
			 mode);
		rc = -EINVAL;
		goto fail;
	}
	if (!a->nsrc) {
		snprintf(err, errlen, "no credential found: %s", a->skipped);
		/* One line: fold the reasons. */
		for (char *p = err; *p; p++)
			if (*p == '\n')
				*p = p[1] ? ';' : '\0';
		rc = -EACCES;
		goto fail;
	}
	if (a->src[0]->name && !strcmp(a->src[0]->name, "env"))
		snprintf(a->tenant, sizeof(a->tenant), "%s",
			 getenv("AZURE_TENANT_ID") ? getenv("AZURE_TENANT_ID") : "");
	if (a->src[0]->name && !strcmp(a->src[0]->name, "workload"))
		snprintf(a->tenant, sizeof(a->tenant), "%s",
			 getenv("AZURE_TENANT_ID") ? getenv("AZURE_TENANT_ID") : "");
	*out = a;
	return 0;
fail:
	if (!err[0])
		snprintf(err, errlen, "%s", strerror(rc < 0 ? -rc : ENOMEM));
	auth_free(a);
	return rc ? rc : -ENOMEM;
}

/* Free the credential; zeroes the token. */
void auth_free(struct auth *a)
{
	int i;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	__atomic_store_n(&a->ctx.stopping, 1, __ATOMIC_RELAXED);
	if (a->bg_started && a->bg_pid != getpid())
		a->bg_started = a->bg_running = 0; /* forked: not ours */
	while (a->bg_running)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
	if (a->bg_started)
		pthread_join(a->bg, NULL);
	for (i = 0; i < a->nsrc; i++)
		a->src[i]->free(a->src[i]);
	auth_secret_free(a->token);
	http_free(a->ctx.http);
	free(a->ctx.authority);
	free(a->ctx.imds_endpoint);
	free(a->ctx.scope);
	free(a->ctx.resource);
	free(a->ctx.token_file);
	free(a->ctx.cloud);
	free(a->ctx.subscription);
	free(a->ctx.tenant);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}

/* 1 when the cached token should be replaced. */
static int auth_stale(struct auth *a, long long now)
{
	long long life, margin;

	if (!a->token)
		return 1;
	life = a->exp_ms - a->fetched_ms;
	margin = life / 3;
	if (margin > 300000)
		margin = 300000;
	return now + margin >= a->exp_ms;
}

/* 1 when a token holds a control character or a space: sent in the
 * Authorization header, a CR LF would start a header of its own. */
static int auth_token_unsafe(const char *tok)
{
	for (const unsigned char *p = (const unsigned char *)tok; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 1;
	return 0;
}

/* Fetch with the current source, moving past failed probes. */
static int auth_fetch(struct auth *a, int cur, char *tok, time_t *exp, char *tenant, size_t tlen,
		      char *err, size_t errlen, int *used_src)
{
	int rc = -EACCES, i;

	for (i = cur; i < a->nsrc; i++) {
		struct auth_src *s = a->src[i];
		err[0] = '\0';
		*exp = 0;
		rc = s->fetch(s, &a->ctx, tok, AUTH_TOKEN_MAX, exp, tenant, tlen, err, errlen);
		if (rc == 0 && auth_token_unsafe(tok)) {
			explicit_bzero(tok, AUTH_TOKEN_MAX);
			snprintf(err, errlen,
				 "the token it gave holds a control character or a space: refused");
			rc = -EACCES;
		}
		*used_src = i;
		if (!rc)
			return 0;
		if (!s->probe || i + 1 >= a->nsrc || a->used)
			return rc;
		log_info("auth: %s not available (%s), trying %s", s->name, err,
			 a->src[i + 1]->name);
		pthread_mutex_lock(&a->lock);
		auth_note_skip(a, s->name, err);
		pthread_mutex_unlock(&a->lock);
	}
	return rc;
}

/* Keep a fetched token (rc 0) or the reason it failed; caller holds the
 * lock.  Returns rc, or 0 when a failure leaves a valid token in use. */
static int auth_store(struct auth *a, int rc, const char *tok, time_t exp, const char *tenant,
		      int used_src, const char *ebuf, int keep_valid)
{
	long long now = auth_now_ms();

	if (rc == 0) {
		char *t = strdup(tok);
		if (!t)
			return -ENOMEM;
		auth_secret_free(a->token);
		a->token = t;
		a->cur = used_src;
		a->used = 1;
		/* Found: no longer a probe (full timeouts from now on). */
		a->src[used_src]->probe = 0;
		a->gen++;
		a->fetched_ms = now;
		a->exp = exp ? exp : (time_t)(now / 1000 + 3600);
		a->exp_ms = (long long)a->exp * 1000;
		if (a->exp_ms <= now)
			a->exp_ms = now + 1000;
		if (tenant[0])
			snprintf(a->tenant, sizeof(a->tenant), "%s", tenant);
		else if (!a->tenant[0]) {
			char *tid = armj_jwt_tenant(t);
			if (tid)
				snprintf(a->tenant, sizeof(a->tenant), "%s", tid);
			free(tid);
		}
		a->last_err[0] = '\0';
		a->bg_fails = 0;
		a->bg_next_ms = 0;
		log_debug("auth: new token from %s, expires in %lld s", a->src[a->cur]->name,
			  (a->exp_ms - now) / 1000);
		return 0;
	}
	snprintf(a->last_err, sizeof(a->last_err), "%s", ebuf);
	/* The current token stays in use until it expires: a failed refresh
	 * (or a rewritten token file that cannot be read yet) is not an error. */
	if (keep_valid && a->token && now + AUTH_VALID_MARGIN_MS < a->exp_ms) {
		log_warn("auth: %s: %s; keeping the current token (valid %lld s more)",
			 a->src[a->cur]->name, ebuf, (a->exp_ms - now) / 1000);
		return 0;
	}
	log_err("auth: %s: %s", a->src[used_src]->name, ebuf);
	return rc;
}

/* The background refresh: fetch, store, and on failure plan the next try. */
static void *auth_bg_main(void *arg)
{
	struct auth *a = arg;
	char tenant[128] = "", ebuf[256] = "";
	char *tok = malloc(AUTH_TOKEN_MAX);
	time_t exp = 0;
	int rc, used_src = 0, cur;

	pthread_mutex_lock(&a->lock);
	cur = a->cur;
	pthread_mutex_unlock(&a->lock);
	rc = tok ? auth_fetch(a, cur, tok, &exp, tenant, sizeof(tenant), ebuf, sizeof(ebuf),
			      &used_src)
		 : -ENOMEM;
	pthread_mutex_lock(&a->lock);
	if (rc && !ebuf[0])
		snprintf(ebuf, sizeof(ebuf), "%s", strerror(-rc));
	auth_store(a, rc, tok, exp, tenant, used_src, ebuf, 1);
	if (rc) {
		/* 1, 2, 4 s, then every 5 s, denser as expiry nears */
		long long delay = 1000LL << (a->bg_fails < 3 ? a->bg_fails : 3);
		long long left = (a->exp_ms - auth_now_ms()) / 4;
		if (delay > 5000)
			delay = 5000;
		if (delay > left)
			delay = left > 500 ? left : 500;
		a->bg_fails++;
		a->bg_next_ms = auth_now_ms() + delay;
	}
	a->refreshing = 0;
	a->bg_running = 0;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (tok) {
		explicit_bzero(tok, AUTH_TOKEN_MAX);
		free(tok);
	}
	return NULL;
}

/* Start a background refresh when none runs and one is due; caller holds
 * the lock. */
static void auth_bg_kick(struct auth *a, long long now)
{
	if (a->refreshing || a->bg_running || now < a->bg_next_ms || a->ctx.stopping)
		return;
	if (a->bg_started) {
		/* the previous one has finished (bg_running is 0): reap it */
		pthread_join(a->bg, NULL);
		a->bg_started = 0;
	}
	a->refreshing = 1;
	a->bg_running = 1;
	if (pthread_create(&a->bg, NULL, auth_bg_main, a)) {
		a->refreshing = 0;
		a->bg_running = 0;
		a->bg_next_ms = now + 1000;
		return;
	}
	a->bg_started = 1;
	a->bg_pid = getpid();
	log_debug("auth: refreshing the token in the background (expires in %lld s)",
		  (a->exp_ms - now) / 1000);
}

/* Copy a valid bearer token into buf. */
int auth_token(struct auth *a, int force, char *buf, size_t buflen, char *err, size_t errlen)
{
	char *tok = NULL;
	char tenant[128] = "";
	char ebuf[256] = "";
	unsigned long gen0;
	time_t exp;
	long long now;
	int rc, cur, used_src = 0, changed;

	pthread_mutex_lock(&a->lock);
	if (a->bg_started && a->bg_pid != getpid()) {
		/* Daemonized (forked) while a background refresh ran: that
		 * thread stayed in the parent. */
		a->bg_started = a->bg_running = a->refreshing = 0;
	}
	gen0 = a->gen;
	now = auth_now_ms();
	changed =
	    a->token && a->src[a->cur]->changed && a->src[a->cur]->changed(a->src[a->cur], &a->ctx);
	/* A valid token in its refresh window: refresh in the background and
	 * keep using it meanwhile. */
	if (a->token && !changed && !force && now + AUTH_VALID_MARGIN_MS < a->exp_ms) {
		if (auth_stale(a, now))
			auth_bg_kick(a, now);
		goto copy;
	}
	if (a->refreshing)
		blocking_begin();
	while (a->refreshing)
		pthread_cond_wait(&a->cond, &a->lock);
	now = auth_now_ms();
	/* Forced, but another thread got a new token meanwhile: use it. */
	if (a->token && !changed && !auth_stale(a, now) && (!force || a->gen != gen0))
		goto copy;
	a->refreshing = 1;
	cur = a->cur;
	pthread_mutex_unlock(&a->lock);

	tok = malloc(AUTH_TOKEN_MAX);
	rc = tok ? auth_fetch(a, cur, tok, &exp, tenant, sizeof(tenant), ebuf, sizeof(ebuf),
			      &used_src)
		 : -ENOMEM;

	pthread_mutex_lock(&a->lock);
	a->refreshing = 0;
	pthread_cond_broadcast(&a->cond);
	if (rc && !ebuf[0])
		snprintf(ebuf, sizeof(ebuf), "%s", strerror(-rc));
	rc = auth_store(a, rc, tok, exp, tenant, used_src, ebuf, !force);
	if (rc == 0) {
		if (strlen(a->token) + 1 > buflen) {
			rc = -ENOSPC;
			snprintf(ebuf, sizeof(ebuf), "token too long");
		} else {
			memcpy(buf, a->token, strlen(a->token) + 1);
		}
	}
	pthread_mutex_unlock(&a->lock);
	if (tok) {
		explicit_bzero(tok, AUTH_TOKEN_MAX);
		free(tok);
	}
	if (rc)
		snprintf(err, errlen, "%s", ebuf);
	return rc;
copy:
	if (strlen(a->token) + 1 > buflen) {
		pthread_mutex_unlock(&a->lock);
		snprintf(err, errlen, "token too long");
		return -ENOSPC;
	}
	memcpy(buf, a->token, strlen(a->token) + 1);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

/* Lines for .rpfs/auth. */
int auth_describe(struct auth *a, char **out)
{
	char buf[4096];
	size_t n = 0;
	long long now = auth_now_ms();

	pthread_mutex_lock(&a->lock);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "source: %s\nmode: %s\ncloud: %s\n",
			      a->nsrc ? a->src[a->cur]->name : "none", a->mode, a->ctx.cloud);
	if (n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "tenant: %s\n",
				      a->tenant[0] ? a->tenant : "unknown");
	if (n < sizeof(buf)) {
		if (a->token) {
			char ts[64];
			time_t e = (time_t)(a->exp_ms / 1000);
			struct tm tm;
			gmtime_r(&e, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "expires: %s (in %lld s)\n",
					      ts, (a->exp_ms - now) / 1000);
		} else {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "expires: no token yet\n");
		}
	}
	if (n < sizeof(buf) && a->last_err[0])
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "last error: %s\n", a->last_err);
	if (n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", a->skipped);
	pthread_mutex_unlock(&a->lock);
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/* Name of the source in use. */
const char *auth_source_name(const struct auth *a)
{
	return a->nsrc ? a->src[a->cur]->name : "none";
}

/* Tenant id when known. */
const char *auth_tenant(const struct auth *a)
{
	return a->tenant[0] ? a->tenant : NULL;
}
