/*
 * opts.h - rpfs options: one table (name, default, help) that drives parsing,
 * validation, `rpfs --help`, `.rpfs/config` and the man page check.
 *
 * Memory: every string in struct rpfs_opts is owned by the struct and freed
 * by opts_free().  Errors: functions return 0 or a negative errno and write
 * a one-line reason into the caller's buffer.
 */
#ifndef RPFS_OPTS_H
#define RPFS_OPTS_H

#include <stddef.h>
#include <stdio.h>

struct fuse_args;

enum opt_kind { OPT_STR, OPT_UINT, OPT_FLAG, OPT_RATE, OPT_FUSE };

/* One row of the option table. */
struct opt_desc {
	const char *name; /* as written after -o */
	enum opt_kind kind;
	const char *def;	/* default shown in --help ("" for none) */
	const char *help;	/* one line */
	size_t offset;		/* offsetof(struct rpfs_opts, field); unused for OPT_FUSE */
	unsigned long min, max; /* bounds for OPT_UINT */
};

struct rpfs_opts {
	char *subscription;
	char *cloud;
	char *endpoint;
	char *authority;
	char *imds_endpoint;
	char *cafile;
	char *auth;
	char *token_file;
	char *api_version;
	unsigned long ttl;
	unsigned long neg_ttl;
	unsigned long busy_ttl;
	unsigned long max_conns;
	unsigned long cache_max; /* MiB, 0: no limit */
	double read_rate;
	double write_rate;
	unsigned long retries;
	unsigned long op_timeout;
	unsigned long busy_poll;
	unsigned long cpu_poll;
	char *consistency;
	unsigned long disk_read;
	char *disk_api_version;
	unsigned long sas_duration;
	unsigned long disk_idle;
	unsigned long disk_cache;
	unsigned long disk_conns;
	int allow_delete;
	int dry_run;
	char *log;
	char *log_level;
	int debug;
	int ro;
	int foreground;
	int check; /* rpfs --check */
	int show_help;
	int show_version;
	char *mountpoint;
	char *device; /* an fstab line's device field: "rpfs" or "rpfs:SUBSCRIPTION-ID" */
	/* Resolved from cloud when not given. */
	char *scope;	/* "<endpoint>/.default" */
	char *resource; /* "<endpoint>/" for IMDS and az */
	/* Where each of subscription, endpoint, authority came from. */
	const char *subscription_from;
};

extern const struct opt_desc opt_table[];
extern const size_t opt_table_len;

/* Cloud presets: endpoint, authority. NULL when the name is unknown. */
struct cloud_preset {
	const char *name, *endpoint, *authority;
};
const struct cloud_preset *opts_cloud(const char *name);

/* Fill defaults (including environment-derived ones). */
void opts_init(struct rpfs_opts *o);

/*
 * Parse argv (fuse_opt style).  Recognised rpfs options are removed from
 * *args; FUSE options (ro, allow_other, uid, gid, umask,
 * default_permissions, -f, -d, -s) stay in *args for fuse.
 * Returns 0 or -EINVAL with err filled.
 */
int opts_parse(struct rpfs_opts *o, struct fuse_args *args, char *err, size_t errlen);

/*
 * Resolve defaults that depend on other options (cloud -> endpoint,
 * authority, scope; subscription from env / az config) and check
 * everything: numbers, http:// only for loopback, readable files, no
 * secret on the command line, subscription present (unless allow_nosub).
 * Returns 0 or -EINVAL with err filled.
 */
int opts_validate(struct rpfs_opts *o, int allow_nosub, char *err, size_t errlen);

/* Print --help text generated from the table. */
void opts_print_help(FILE *f, const char *progname);

/* Write "name=value" lines of the effective options (no secrets). */
int opts_render_config(const struct rpfs_opts *o, char **out, size_t *len);

/* 1 when URL's host is a loopback address or "localhost". */
int opts_url_is_loopback(const char *url);

void opts_free(struct rpfs_opts *o);

#endif
