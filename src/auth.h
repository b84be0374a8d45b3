/*
 * auth.h - credentials for ARM: one interface, one file per source
 * (auth_token_file.c, auth_env.c, auth_workload.c, auth_msi.c, auth_cli.c),
 * chosen by -o auth=SOURCE or, with auto, in the order rpfs(1) gives.
 *
 * Thread-safe: auth_token() may be called from many threads; one refresh
 * runs at a time.  Tokens are refreshed ahead of expiry.  Secrets are zeroed
 * when freed and never logged.
 */
#ifndef RPFS_AUTH_H
#define RPFS_AUTH_H

#include <stddef.h>
#include <time.h>

struct auth;

/* What the credential is made from (validated options; main.c fills it).
 * Strings are copied; NULL or "" takes the default. */
struct auth_cfg {
	const char *source;	   /* -o auth: auto (default), token_file, env, workload,
				      msi, cli */
	const char *endpoint;	   /* ARM endpoint: the default scope and resource */
	const char *authority;	   /* Entra authority, default login.microsoftonline.com */
	const char *imds_endpoint; /* default http://169.254.169.254 */
	const char *scope;	   /* default "<endpoint>/.default" */
	const char *resource;	   /* for IMDS and az, default "<endpoint>/" */
	const char *cloud;	   /* shown in .rpfs/auth, default AzureCloud */
	const char *token_file;
	const char *subscription;
	const char *cafile;  /* extra CA bundle */
	unsigned op_timeout; /* seconds a token request may take, 0: 30 */
};

/* Create the credential.  With auth=auto, the
 * first source whose inputs are present is used; why the others were
 * skipped is remembered for auth_describe().  Does no network I/O.
 * Returns 0 or a negative errno with a one-line reason in err. */
int auth_new(const struct auth_cfg *cfg, struct auth **out, char *err, size_t errlen);
void auth_free(struct auth *a);

/* Copy a valid bearer token (without "Bearer ") into buf.  Refreshes when
 * it expires within 5 minutes, or always when force is set (after a 401).
 * Returns 0, -EACCES (the source refused), -EHOSTUNREACH, -ETIMEDOUT,
 * -ENOSPC (buf too small), with a reason in err. */
int auth_token(struct auth *a, int force, char *buf, size_t buflen, char *err, size_t errlen);

/* Lines for .rpfs/auth: source, why others were skipped, tenant, cloud,
 * token expiry.  Never a token or secret.  Caller frees *out. */
int auth_describe(struct auth *a, char **out);

/* Name of the source in use ("token_file", "env", "workload", "msi", "cli"). */
const char *auth_source_name(const struct auth *a);
/* Tenant id when known, else NULL (owned by a). */
const char *auth_tenant(const struct auth *a);

#endif
