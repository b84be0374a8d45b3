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

struct rpfs_opts;
struct auth;

/* Create the credential from validated options.  With auth=auto, the
 * first source whose inputs are present is used; why the others were
 * skipped is remembered for auth_describe().  Does no network I/O.
 * Returns 0 or a negative errno with a one-line reason in err. */
int auth_new(const struct rpfs_opts *o, struct auth **out, char *err, size_t errlen);
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
