/*
 * opts.h - rpfs options: one table (name, type, typed default, bounds or
 * choices, help) that drives parsing, validation, `rpfs --help`,
 * `.rpfs/config` and the man page check.  A new option is one row in
 * opts.c (designated initializers, as in the rows beside it) and one field
 * in struct rpfs_opts.
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

/* What an option's value is; the field at offset has the type in brackets. */
enum opt_kind {
	OPT_STR,  /* text (char *, owned) */
	OPT_UINT, /* whole number in [min, max] (unsigned long) */
	OPT_FLAG, /* no value: on when given (int) */
	OPT_RATE, /* positive number (double) */
	OPT_ID,	  /* a uid or gid: a number as in FUSE (unsigned long, OPTS_ID_NONE if not given) */
	OPT_MODE, /* a permission mask: octal, 0 to 07777 (unsigned long) */
	OPT_FUSE, /* a libfuse word rpfs only passes on (no field) */
};

/* The value of an option nobody gave: the field of def that matches the kind. */
union opt_value {
	const char *s;	 /* OPT_STR (NULL: none, see def_text) */
	unsigned long u; /* OPT_UINT, OPT_ID, OPT_MODE, OPT_FLAG (0: off) */
	double r;	 /* OPT_RATE */
};

/* uid= or gid= not given: the mounting user's (resolved by opts_validate). */
#define OPTS_ID_NONE 0xffffffffUL /* (uid_t)-1 */

/* One row of the option table. */
struct opt_desc {
	const char *name; /* as written after -o */
	enum opt_kind kind;
	union opt_value def;	     /* the default opts_init() applies and --help shows */
	const char *def_text;	     /* --help's default when it is derived, not def */
	const char *help;	     /* one line (the choices are appended) */
	const char *const *choices;  /* NULL-terminated: the accepted values, else NULL */
	size_t offset;		     /* offsetof(struct rpfs_opts, field); 0 for OPT_FUSE */
	unsigned long min, max;	     /* bounds for OPT_UINT */
	unsigned char nocase;	     /* choices match in any case (the list's spelling is kept) */
	unsigned char fuse;	     /* also handed on to libfuse */
	unsigned char not_in_config; /* not written to .rpfs/config */
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
	unsigned long uid, gid; /* owner and group of every file (the mounting user's by default) */
	unsigned long umask;	/* applied to every mode */
	int default_permissions;
	int single; /* -s */
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

/* --help's default of a row ("" for none), in buf when it is rendered. */
const char *opts_default_text(const struct opt_desc *d, char *buf, size_t len);

/* Fill the table's defaults (those derived from the environment or other
 * options come with opts_validate). */
void opts_init(struct rpfs_opts *o);

/*
 * Parse argv (fuse_opt style).  Recognised rpfs options are removed from
 * *args, and so are uid, gid, umask and -s, which the low-level API
 * leaves to the file system; the kernel's (ro, allow_other,
 * default_permissions, -f, -d and the like) stay in *args for fuse.
 * Returns 0 or -EINVAL with err filled.
 */
int opts_parse(struct rpfs_opts *o, struct fuse_args *args, char *err, size_t errlen);

/*
 * Resolve defaults that depend on other options (cloud -> endpoint,
 * authority, scope; subscription from env; uid and gid) and check
 * everything: numbers, http:// only for loopback, readable files, no
 * secret on the command line, subscription present (unless allow_nosub).
 * Returns 0 or -EINVAL with err filled.
 */
int opts_validate(struct rpfs_opts *o, int allow_nosub, char *err, size_t errlen);

/* Print --help text generated from the table. */
void opts_print_help(FILE *f, const char *progname);

/* Write "name=value" lines of the effective options (no secrets). */
int opts_render_config(const struct rpfs_opts *o, char **out, size_t *len);

void opts_free(struct rpfs_opts *o);

#endif
