/*
 * opts.c - the option table of rpfs and everything derived from it:
 * parsing (fuse_opt), validation, --help, .rpfs/config.
 *
 * The table is the single description of every option: its type, its
 * default (applied by opts_init and shown by --help from the same field),
 * its bounds or its list of choices (used by parsing, validation and
 * --help alike).  `rpfs --help` prints it, `.rpfs/config` renders it, and
 * a test checks the man page against it, so the three cannot drift.  Parsing goes through fuse_opt
 * so that every option works the same on the command line and in fstab.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FUSE_USE_VERSION 35
#include <fuse_opt.h>

#include "log.h"
#include "opts.h"
#include "sbuf.h"
#include "url.h"

/* .rpfs/config's ceiling: a few hundred bytes plus what the options name. */
#define OPTS_CONFIG_MAX (256u << 10)

#define OFF(f) offsetof(struct rpfs_opts, f)

/* The clouds, and their presets in the same order. */
static const char *const cloud_names[] = {"AzureCloud", "AzureUSGovernment", "AzureChinaCloud",
					  NULL};
static const struct {
	const char *endpoint, *authority;
} clouds[] = {
    {"https://management.azure.com", "https://login.microsoftonline.com"},
    {"https://management.usgovcloudapi.net", "https://login.microsoftonline.us"},
    {"https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"},
};
static const char *const auth_names[] = {"auto", "token_file", "env", "workload",
					 "msi",	 "cli",	       NULL};
static const char *const consistency_names[] = {"CrashConsistent", NULL};

const struct opt_desc opt_table[] = {
    {.name = "subscription",
     .kind = OPT_STR,
     .offset = OFF(subscription),
     .def_text = "$AZURE_SUBSCRIPTION_ID, else the Azure CLI default",
     .help = "subscription shown (else the only one the credential sees)"},
    {.name = "cloud",
     .kind = OPT_STR,
     .offset = OFF(cloud),
     .def.s = "AzureCloud",
     .choices = cloud_names,
     .nocase = 1},
    {.name = "endpoint",
     .kind = OPT_STR,
     .offset = OFF(endpoint),
     .def_text = "from cloud",
     .help = "ARM base URL (http:// only for loopback hosts)"},
    {.name = "authority",
     .kind = OPT_STR,
     .offset = OFF(authority),
     .def_text = "from cloud, or $AZURE_AUTHORITY_HOST",
     .help = "Entra authority host"},
    {.name = "imds_endpoint",
     .kind = OPT_STR,
     .offset = OFF(imds_endpoint),
     .def.s = "http://169.254.169.254",
     .help = "managed identity endpoint"},
    {.name = "cafile",
     .kind = OPT_STR,
     .offset = OFF(cafile),
     .def_text = "system store",
     .help = "extra CA bundle (TLS is always verified)"},
    {.name = "auth", .kind = OPT_STR, .offset = OFF(auth), .def.s = "auto", .choices = auth_names},
    {.name = "token_file",
     .kind = OPT_STR,
     .offset = OFF(token_file),
     .def_text = "$RPFS_TOKEN_FILE",
     .help = "file holding a bearer token, re-read when it changes"},
    {.name = "api_version",
     .kind = OPT_STR,
     .offset = OFF(api_version),
     .def.s = "2025-04-01",
     .help = "Microsoft.Compute API version"},
    {.name = "ttl",
     .kind = OPT_UINT,
     .offset = OFF(ttl),
     .def.u = 60,
     .min = 0,
     .max = 86400,
     .help = "seconds cached listings and resources live"},
    {.name = "neg_ttl",
     .kind = OPT_UINT,
     .offset = OFF(neg_ttl),
     .def.u = 5,
     .min = 0,
     .max = 86400,
     .help = "seconds a cached \"does not exist\" lives"},
    {.name = "busy_ttl",
     .kind = OPT_UINT,
     .offset = OFF(busy_ttl),
     .def.u = 5,
     .min = 0,
     .max = 86400,
     .help = "seconds for points in non-terminal states"},
    {.name = "max_conns",
     .kind = OPT_UINT,
     .offset = OFF(max_conns),
     .def.u = 8,
     .min = 1,
     .max = 256,
     .help = "concurrent requests to ARM"},
    {.name = "cache_max",
     .kind = OPT_UINT,
     .offset = OFF(cache_max),
     .def.u = 0,
     .min = 0,
     .max = 1048576,
     .help = "MiB of cached collections, least recently used evicted past it (0: no limit)"},
    {.name = "read_rate",
     .kind = OPT_RATE,
     .offset = OFF(read_rate),
     .def.r = 20,
     .help = "reads per second (burst 100)"},
    {.name = "write_rate",
     .kind = OPT_RATE,
     .offset = OFF(write_rate),
     .def.r = 5,
     .help = "writes per second (burst 50)"},
    {.name = "retries",
     .kind = OPT_UINT,
     .offset = OFF(retries),
     .def.u = 5,
     .min = 0,
     .max = 100,
     .help = "retries for 408, 429, 5xx and transport errors; a 429's Retry-After (300 s "
	     "at most) pauses every request until it passes, .rpfs/flush or SIGHUP"},
    {.name = "op_timeout",
     .kind = OPT_UINT,
     .offset = OFF(op_timeout),
     .def.u = 30,
     .min = 1,
     .max = 3600,
     .help = "seconds a system call may wait, then ETIMEDOUT"},
    {.name = "busy_poll",
     .kind = OPT_UINT,
     .offset = OFF(busy_poll),
     .def.u = 200,
     .min = 0,
     .max = 100000,
     .help = "microseconds to wait for the next request before sleeping"},
    {.name = "cpu_poll",
     .kind = OPT_UINT,
     .offset = OFF(cpu_poll),
     .def.u = 0,
     .min = 0,
     .max = 1,
     .help = "1: keep every idle CPU of the machine polling while requests come (root)"},
    {.name = "consistency",
     .kind = OPT_STR,
     .offset = OFF(consistency),
     .def_text = "service default",
     .help = "consistencyMode of new restore points",
     .choices = consistency_names,
     .nocase = 1},
    {.name = "disk_read",
     .kind = OPT_UINT,
     .offset = OFF(disk_read),
     .def.u = 1,
     .min = 0,
     .max = 1,
     .help = "1: disks/NAME.vhd can be read (0: EACCES)"},
    {.name = "disk_api_version",
     .kind = OPT_STR,
     .offset = OFF(disk_api_version),
     .def.s = "2025-01-02",
     .help = "DiskRP API version for disk restore points"},
    {.name = "sas_duration",
     .kind = OPT_UINT,
     .offset = OFF(sas_duration),
     .def.u = 3600,
     .min = 5,
     .max = 604800,
     .help = "seconds of read access asked per disk grant"},
    {.name = "disk_idle",
     .kind = OPT_UINT,
     .offset = OFF(disk_idle),
     .def.u = 60,
     .min = 0,
     .max = 86400,
     .help = "seconds after a disk's last close before its grant ends"},
    {.name = "disk_cache",
     .kind = OPT_UINT,
     .offset = OFF(disk_cache),
     .def.u = 256,
     .min = 4,
     .max = 1048576,
     .help = "MiB of disk blocks kept in memory, for the whole mount"},
    {.name = "disk_conns",
     .kind = OPT_UINT,
     .offset = OFF(disk_conns),
     .def.u = 8,
     .min = 1,
     .max = 64,
     .help = "ranged GETs in flight per disk"},
    {.name = "allow_delete",
     .kind = OPT_FLAG,
     .offset = OFF(allow_delete),
     .help = "let rmdir delete restore points and collections"},
    {.name = "dry_run",
     .kind = OPT_FLAG,
     .offset = OFF(dry_run),
     .help = "record mutations in .rpfs/ops instead of sending them"},
    {.name = "log",
     .kind = OPT_STR,
     .offset = OFF(log),
     .def_text = "stderr with -f, else syslog",
     .help = "stderr, syslog, or /FILE (appended to, reopened on SIGHUP)"},
    {.name = "log_level",
     .kind = OPT_STR,
     .offset = OFF(log_level),
     .def.s = "info",
     .choices = log_level_names},
    {.name = "debug",
     .kind = OPT_FLAG,
     .offset = OFF(debug),
     .help = "log one trace line per HTTP request"},
    {.name = "ro",
     .kind = OPT_FLAG,
     .offset = OFF(ro),
     .fuse = 1,
     .help = "read-only: every mutation fails with EROFS"},
    {.name = "allow_other",
     .kind = OPT_FUSE,
     .not_in_config = 1,
     .help = "let other users read the mount; changes stay the mounting user's"},
    {.name = "uid",
     .kind = OPT_ID,
     .offset = OFF(uid),
     .def.u = OPTS_ID_NONE,
     .def_text = "mounting user",
     .not_in_config = 1,
     .help = "owner of every file (as in FUSE)"},
    {.name = "gid",
     .kind = OPT_ID,
     .offset = OFF(gid),
     .def.u = OPTS_ID_NONE,
     .def_text = "mounting group",
     .not_in_config = 1,
     .help = "group of every file (as in FUSE)"},
    {.name = "umask",
     .kind = OPT_MODE,
     .offset = OFF(umask),
     .def.u = 022,
     .not_in_config = 1,
     .help = "permission mask (as in FUSE)"},
    {.name = "default_permissions",
     .kind = OPT_FLAG,
     .offset = OFF(default_permissions),
     .fuse = 1,
     .not_in_config = 1,
     .help = "the kernel checks modes: uid, gid, umask may let others change"},
};
const size_t opt_table_len = sizeof(opt_table) / sizeof(opt_table[0]);

/* Words fstab and mount(8) pass that mean nothing to a FUSE filesystem. */
static const char *const fstab_words[] = {"_netdev", "auto",	   "noauto", "user",
					  "users",   "nouser",	   "nofail", "defaults",
					  "rw",	     "x-systemd.", NULL};
/* Mount options handed to libfuse unchanged (besides the table's rows marked fuse). */
static const char *const fuse_words[] = {
    "allow_root", "auto_unmount", "fsname=", "subtype=", "max_read=", "noatime", "atime",
    "nodev",	  "dev",	  "nosuid",  "suid",	 "noexec",    "exec",	 "sync",
    "async",	  "dirsync",	  "blkdev",  "blksize=", NULL};
/* Options that would carry a secret: refused, secrets come from the environment or files. */
static const char *const secret_words[] = {"client_secret", "secret",		"password", "token",
					   "access_token",  "client_assertion", "bearer",   NULL};

enum { KEY_HELP = 10000, KEY_VERSION, KEY_CHECK, KEY_FOREGROUND, KEY_DEBUG_FUSE, KEY_SINGLE };

struct parse_ctx {
	struct rpfs_opts *o;
	char *err;
	size_t errlen;
	int failed;
};

/* Set the one-line error (first one wins). */
static void seterr(struct parse_ctx *pc, const char *fmt, ...)
{
	va_list ap;

	if (pc->failed)
		return;
	pc->failed = 1;
	va_start(ap, fmt);
	vsnprintf(pc->err, pc->errlen, fmt, ap);
	va_end(ap);
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? strdup(v) : NULL;
}

/* The field of row d in o. */
static void *field(struct rpfs_opts *o, const struct opt_desc *d)
{
	return (char *)o + d->offset;
}

/* The table's row of option name, or NULL. */
static const struct opt_desc *row(const char *name)
{
	for (size_t i = 0; i < opt_table_len; i++)
		if (!strcmp(opt_table[i].name, name))
			return &opt_table[i];
	return NULL;
}

/* Index of v in row d's choices, or -1. */
static int choice_index(const struct opt_desc *d, const char *v)
{
	for (int i = 0; v && d->choices[i]; i++)
		if (d->nocase ? !strcasecmp(v, d->choices[i]) : !strcmp(v, d->choices[i]))
			return i;
	return -1;
}

/* Row d's choices joined by ", ", the last one by last: "a, b or c". */
static void choices_text(const struct opt_desc *d, const char *last, char *buf, size_t len)
{
	size_t n = 0, used = 0;

	while (d->choices[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? last : ", ";
		int w = snprintf(buf + used, len - used, "%s%s", sep, d->choices[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* Fill the table's defaults. */
void opts_init(struct rpfs_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < opt_table_len; i++) {
		const struct opt_desc *d = &opt_table[i];

		switch (d->kind) {
		case OPT_STR:
			set_str(field(o, d), d->def.s);
			break;
		case OPT_UINT:
		case OPT_ID:
		case OPT_MODE:
			*(unsigned long *)field(o, d) = d->def.u;
			break;
		case OPT_RATE:
			*(double *)field(o, d) = d->def.r;
			break;
		case OPT_FLAG:
			*(int *)field(o, d) = d->def.u != 0;
			break;
		case OPT_FUSE:
			break;
		}
	}
}

/* Parse a whole unsigned number within [min, max]. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse an octal permission mask, 0 to 07777. */
static int parse_mode(const char *s, unsigned long *out)
{
	unsigned long v;

	if (!s || !*s || strspn(s, "01234567") != strlen(s) || strlen(s) > 12)
		return -EINVAL;
	v = strtoul(s, NULL, 8);
	if (v > 07777)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse a positive rate (requests per second). */
static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0) || v > 1e6)
		return -EINVAL;
	*out = v;
	return 0;
}

static int word_matches(const char *const *words, const char *arg)
{
	for (size_t i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		if (words[i][n - 1] == '=' || words[i][n - 1] == '.') {
			if (!strncmp(arg, words[i], n))
				return 1;
		} else if (!strcmp(arg, words[i])) {
			return 1;
		}
	}
	return 0;
}

/* Apply one "name[=value]" from -o to the table; 1 = keep for libfuse. */
static int apply_opt(struct parse_ctx *pc, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	const char *val = eq ? eq + 1 : NULL;
	char name[64];

	if (nlen >= sizeof(name)) {
		seterr(pc, "unknown option '%.40s...'", arg);
		return 0;
	}
	memcpy(name, arg, nlen);
	name[nlen] = '\0';

	for (size_t i = 0; secret_words[i]; i++)
		if (!strcasecmp(name, secret_words[i])) {
			seterr(pc,
			       "option '%s' would put a secret on the command line; use the "
			       "environment or token_file instead",
			       name);
			return 0;
		}

	const struct opt_desc *d = row(name);
	if (d) {
		void *slot = field(pc->o, d);

		switch (d->kind) {
		case OPT_FUSE:
			return 1;
		case OPT_FLAG:
			if (val) {
				seterr(pc, "option '%s' takes no value", name);
				return 0;
			}
			*(int *)slot = 1;
			return d->fuse;
		case OPT_STR:
			if (!val || !*val) {
				seterr(pc, "option '%s' needs a value (%s=...)", name, name);
				return 0;
			}
			set_str((char **)slot, val);
			return 0;
		case OPT_UINT:
			if (parse_uint(val, d->min, d->max, (unsigned long *)slot) < 0) {
				seterr(pc,
				       "option '%s' needs a whole number from %lu to %lu, got '%s'",
				       name, d->min, d->max, val ? val : "");
			}
			return 0;
		case OPT_ID:
			/* As libfuse's high-level uid=/gid=: a number, no name. */
			if (parse_uint(val, 0, OPTS_ID_NONE - 1, (unsigned long *)slot) < 0)
				seterr(pc, "option '%s' needs a number from 0 to %lu, got '%s'",
				       name, OPTS_ID_NONE - 1, val ? val : "");
			return 0;
		case OPT_MODE:
			if (parse_mode(val, (unsigned long *)slot) < 0)
				seterr(pc,
				       "option '%s' needs an octal number from 0 to 7777, got '%s'",
				       name, val ? val : "");
			return 0;
		case OPT_RATE:
			if (parse_rate(val, (double *)slot) < 0)
				seterr(pc, "option '%s' needs a positive number, got '%s'", name,
				       val ? val : "");
			return 0;
		}
	}
	if (word_matches(fstab_words, arg))
		return 0;
	if (word_matches(fuse_words, arg))
		return 1;
	seterr(pc, "unknown option '%s' (see rpfs --help)", name);
	return 0;
}

/* fuse_opt callback: route every argument through the table. */
static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct parse_ctx *pc = data;

	switch (key) {
	case FUSE_OPT_KEY_OPT:
		return apply_opt(pc, arg);
	case FUSE_OPT_KEY_NONOPT:
		if (!pc->o->mountpoint) {
			pc->o->mountpoint = strdup(arg);
			return 0;
		}
		/* mount(8) and mount.rpfs pass the device ("rpfs" or
		 * "rpfs:SUBSCRIPTION-ID") first. */
		if (!pc->o->device && (!strcmp(pc->o->mountpoint, "rpfs") ||
				       !strncmp(pc->o->mountpoint, "rpfs:", 5))) {
			pc->o->device = pc->o->mountpoint;
			pc->o->mountpoint = strdup(arg);
			return 0;
		}
		seterr(pc, "unexpected argument '%s' (one mount point only)", arg);
		return 0;
	case KEY_HELP:
		pc->o->show_help = 1;
		return 0;
	case KEY_VERSION:
		pc->o->show_version = 1;
		return 0;
	case KEY_CHECK:
		pc->o->check = 1;
		return 0;
	case KEY_FOREGROUND:
		pc->o->foreground = 1;
		return 0;
	case KEY_DEBUG_FUSE:
		pc->o->foreground = 1;
		pc->o->debug = 1;
		return 1;
	case KEY_SINGLE:
		pc->o->single = 1;
		return 0;
	default:
		if (arg[0] == '-') {
			seterr(pc, "unknown option '%s' (see rpfs --help)", arg);
			return 0;
		}
		return 1;
	}
}

static const struct fuse_opt fuse_keys[] = {FUSE_OPT_KEY("-h", KEY_HELP),
					    FUSE_OPT_KEY("--help", KEY_HELP),
					    FUSE_OPT_KEY("-V", KEY_VERSION),
					    FUSE_OPT_KEY("--version", KEY_VERSION),
					    FUSE_OPT_KEY("--check", KEY_CHECK),
					    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
					    FUSE_OPT_KEY("-d", KEY_DEBUG_FUSE),
					    FUSE_OPT_KEY("-s", KEY_SINGLE),
					    FUSE_OPT_END};

/* Parse argv into o; rpfs options are removed from args, FUSE ones kept. */
int opts_parse(struct rpfs_opts *o, struct fuse_args *args, char *err, size_t errlen)
{
	struct parse_ctx pc = {.o = o, .err = err, .errlen = errlen};

	if (errlen)
		err[0] = '\0';
	if (fuse_opt_parse(args, &pc, fuse_keys, opt_proc) == -1) {
		if (!pc.failed)
			seterr(&pc, "cannot parse the command line");
		return -EINVAL;
	}
	return pc.failed ? -EINVAL : 0;
}

/* Check a URL option: https, or http to loopback (or to allowed_http_host). */
static int check_url(struct parse_ctx *pc, const char *name, const char *url,
		     const char *allowed_http_prefix)
{
	char host[256];

	if (!strncasecmp(url, "https://", 8)) {
		if (url_host(url, host, sizeof(host)) < 0) {
			seterr(pc, "option '%s': '%s' is not a valid URL", name, url);
			return -EINVAL;
		}
		return 0;
	}
	if (!strncasecmp(url, "http://", 7)) {
		if (url_host(url, host, sizeof(host)) < 0) {
			seterr(pc, "option '%s': '%s' is not a valid URL", name, url);
			return -EINVAL;
		}
		if (url_is_loopback(url))
			return 0;
		if (allowed_http_prefix &&
		    !strncmp(url, allowed_http_prefix, strlen(allowed_http_prefix)))
			return 0;
		seterr(pc,
		       "option '%s': http:// is accepted only for loopback hosts; use https:// for "
		       "'%s'",
		       name, host);
		return -EINVAL;
	}
	seterr(pc, "option '%s': '%s' must start with https:// (or http:// for a loopback host)",
	       name, url);
	return -EINVAL;
}

/* Drop trailing slashes of a URL in place. */
static void trim_slash(char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* Check option name's value against its row's choices and give it the
 * list's spelling; else the error "option 'NAME': WHAT 'VALUE' (a, b, c)"
 * (none when what is NULL). */
static int check_choice(struct parse_ctx *pc, const char *name, const char *what)
{
	const struct opt_desc *d = row(name);
	char **slot = field(pc->o, d);
	int i = choice_index(d, *slot);
	char list[256];

	if (i < 0) {
		choices_text(d, ", ", list, sizeof(list));
		if (what)
			seterr(pc, "option '%s': %s '%s' (%s)", name, what, *slot, list);
		return -EINVAL;
	}
	set_str(slot, d->choices[i]);
	return 0;
}

/* Resolve derived defaults and check every option (see opts.h). */
int opts_validate(struct rpfs_opts *o, int allow_nosub, char *err, size_t errlen)
{
	struct parse_ctx pc = {.o = o, .err = err, .errlen = errlen};
	const char *env;
	char buf[1024];
	enum log_level lvl;
	int cloud;

	if (errlen)
		err[0] = '\0';
	if (check_choice(&pc, "cloud", "unknown cloud") < 0)
		return -EINVAL;
	cloud = choice_index(row("cloud"), o->cloud);
	if (!o->endpoint)
		set_str(&o->endpoint, clouds[cloud].endpoint);
	if (!o->authority) {
		env = getenv("AZURE_AUTHORITY_HOST");
		set_str(&o->authority, env && *env ? env : clouds[cloud].authority);
	}
	trim_slash(o->endpoint);
	trim_slash(o->authority);
	trim_slash(o->imds_endpoint);
	if (check_url(&pc, "endpoint", o->endpoint, NULL) < 0 ||
	    check_url(&pc, "authority", o->authority, NULL) < 0 ||
	    check_url(&pc, "imds_endpoint", o->imds_endpoint, "http://169.254.169.254") < 0)
		return -EINVAL;

	snprintf(buf, sizeof(buf), "%s/.default", o->endpoint);
	set_str(&o->scope, buf);
	snprintf(buf, sizeof(buf), "%s/", o->endpoint);
	set_str(&o->resource, buf);

	if (check_choice(&pc, "auth", "unknown source") < 0)
		return -EINVAL;
	if (!o->token_file && (env = getenv("RPFS_TOKEN_FILE")) && *env)
		set_str(&o->token_file, env);
	if (!strcmp(o->auth, "token_file") && !o->token_file) {
		seterr(&pc, "auth=token_file needs token_file=PATH (or $RPFS_TOKEN_FILE)");
		return -EINVAL;
	}
	if (o->token_file && access(o->token_file, R_OK) < 0) {
		seterr(&pc, "option 'token_file': cannot read '%s': %s", o->token_file,
		       strerror(errno));
		return -EINVAL;
	}
	if (o->cafile && access(o->cafile, R_OK) < 0) {
		seterr(&pc, "option 'cafile': cannot read '%s': %s", o->cafile, strerror(errno));
		return -EINVAL;
	}
	if (strlen(o->api_version) < 10 || !isdigit((unsigned char)o->api_version[0]) ||
	    o->api_version[4] != '-' || o->api_version[7] != '-') {
		seterr(&pc, "option 'api_version': '%s' is not of the form YYYY-MM-DD",
		       o->api_version);
		return -EINVAL;
	}
	if (strlen(o->disk_api_version) < 10 || !isdigit((unsigned char)o->disk_api_version[0]) ||
	    o->disk_api_version[4] != '-' || o->disk_api_version[7] != '-' ||
	    strspn(o->disk_api_version, "0123456789-abcdefghijklmnopqrstuvwxyz") !=
		strlen(o->disk_api_version)) {
		seterr(&pc, "option 'disk_api_version': '%s' is not of the form YYYY-MM-DD",
		       o->disk_api_version);
		return -EINVAL;
	}
	if (o->consistency && check_choice(&pc, "consistency", NULL) < 0) {
		choices_text(row("consistency"), " or ", buf, sizeof(buf));
		seterr(&pc, "option 'consistency': only %s can be requested, got '%s'", buf,
		       o->consistency);
		return -EINVAL;
	}
	if (o->log && strcmp(o->log, "stderr") && strcmp(o->log, "syslog") && o->log[0] != '/') {
		seterr(&pc, "option 'log': '%s' is not stderr, syslog or an absolute file name",
		       o->log);
		return -EINVAL;
	}
	if (log_level_parse(o->log_level, &lvl) < 0) {
		choices_text(row("log_level"), " or ", buf, sizeof(buf));
		seterr(&pc, "option 'log_level': '%s' is not %s", o->log_level, buf);
		return -EINVAL;
	}
	if (o->debug)
		set_str(&o->log_level, "debug");

	if (o->device && o->device[4] == ':') {
		/* The device rpfs:ID names the subscription. */
		const char *id = o->device + 5;

		if (o->subscription && strcasecmp(o->subscription, id) != 0) {
			seterr(&pc, "device '%s' names another subscription than subscription=%s",
			       o->device, o->subscription);
			return -EINVAL;
		}
		if (!o->subscription) {
			set_str(&o->subscription, id);
			o->subscription_from = "device";
		}
	}
	if (!o->subscription && (env = getenv("AZURE_SUBSCRIPTION_ID")) && *env) {
		set_str(&o->subscription, env);
		o->subscription_from = "environment";
	} else if (o->subscription && !o->subscription_from) {
		o->subscription_from = "option";
	}
	if (o->subscription) {
		for (const char *p = o->subscription; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-') {
				seterr(&pc, "option 'subscription': '%s' is not a subscription id",
				       o->subscription);
				return -EINVAL;
			}
	} else if (!allow_nosub) {
		seterr(&pc,
		       "no subscription: give -o subscription=ID or set AZURE_SUBSCRIPTION_ID");
		return -EINVAL;
	}
	if (o->uid == OPTS_ID_NONE)
		o->uid = getuid();
	if (o->gid == OPTS_ID_NONE)
		o->gid = getgid();
	if (!o->check && !o->show_help && !o->show_version && !o->mountpoint) {
		seterr(&pc, "no mount point given (usage: rpfs [options] MOUNTPOINT)");
		return -EINVAL;
	}
	return 0;
}

/* --help's default of row d. */
const char *opts_default_text(const struct opt_desc *d, char *buf, size_t len)
{
	if (d->def_text)
		return d->def_text;
	switch (d->kind) {
	case OPT_STR:
		return d->def.s ? d->def.s : "";
	case OPT_UINT:
	case OPT_ID:
		snprintf(buf, len, "%lu", d->def.u);
		return buf;
	case OPT_MODE:
		snprintf(buf, len, "%03lo", d->def.u);
		return buf;
	case OPT_RATE:
		snprintf(buf, len, "%g", d->def.r);
		return buf;
	case OPT_FLAG:
	case OPT_FUSE:
		break;
	}
	return d->def.u ? "on" : "off";
}

/* Print --help, generated from the option table. */
void opts_print_help(FILE *f, const char *progname)
{
	fprintf(f,
		"usage: %s [-f] [-d] [-o opt[,opt...]] MOUNTPOINT\n"
		"       %s --check [-o opt[,opt...]]\n\n"
		"Shows the Azure VM restore points of a subscription as directories:\n"
		"REGION/RESOURCE-GROUP/COLLECTION/RESTORE-POINT.\n\n"
		"general options:\n"
		"    -h, --help             print this help and exit\n"
		"    -V, --version          print versions and exit\n"
		"    --check                check options, sign in, make one ARM request, exit\n"
		"    -f                     stay in the foreground (log to stderr)\n"
		"    -d, -o debug           foreground, and trace every request\n"
		"    -s                     single-threaded\n\n"
		"rpfs options (-o name=value; default in brackets):\n",
		progname, progname);
	for (size_t i = 0; i < opt_table_len; i++) {
		const struct opt_desc *d = &opt_table[i];
		char lhs[64], list[256] = "", def[64];

		if (d->kind == OPT_FLAG || d->kind == OPT_FUSE)
			snprintf(lhs, sizeof(lhs), "-o %s", d->name);
		else
			snprintf(lhs, sizeof(lhs), "-o %s=%s", d->name,
				 d->kind == OPT_UINT || d->kind == OPT_RATE ? "N" : "VALUE");
		if (d->choices)
			choices_text(d, " or ", list, sizeof(list));
		fprintf(f, "    %-26s %s%s%s%s [%s]\n", lhs, d->help ? d->help : "",
			d->help && *list ? " (" : "", list, d->help && *list ? ")" : "",
			opts_default_text(d, def, sizeof(def)));
	}
	fprintf(f,
		"\nEnvironment: AZURE_SUBSCRIPTION_ID, AZURE_TENANT_ID, AZURE_CLIENT_ID,\n"
		"AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST,\n"
		"RPFS_TOKEN_FILE.  Secrets are read only from the environment or files.\n"
		"fstab words _netdev, auto, noauto, user, users, nofail, defaults are ignored.\n");
}

/* "name=value" lines of the effective options (.rpfs/config). */
int opts_render_config(const struct rpfs_opts *o, char **out, size_t *outlen)
{
	struct sbuf b;

	sbuf_init(&b, OPTS_CONFIG_MAX);
	for (size_t i = 0; i < opt_table_len; i++) {
		const struct opt_desc *d = &opt_table[i];
		const void *slot = (const char *)o + d->offset;

		if (d->not_in_config)
			continue;
		switch (d->kind) {
		case OPT_STR: {
			const char *v = *(char *const *)slot;
			sbuf_addf(&b, "%s=%s\n", d->name, v ? v : "");
			break;
		}
		case OPT_UINT:
		case OPT_ID:
			sbuf_addf(&b, "%s=%lu\n", d->name, *(const unsigned long *)slot);
			break;
		case OPT_MODE:
			sbuf_addf(&b, "%s=%03lo\n", d->name, *(const unsigned long *)slot);
			break;
		case OPT_RATE:
			sbuf_addf(&b, "%s=%g\n", d->name, *(const double *)slot);
			break;
		case OPT_FLAG:
			sbuf_addf(&b, "%s=%s\n", d->name, *(const int *)slot ? "on" : "off");
			break;
		case OPT_FUSE:
			break;
		}
	}
	return sbuf_finish(&b, out, outlen);
}

/* Free every string of o. */
void opts_free(struct rpfs_opts *o)
{
	for (size_t i = 0; i < opt_table_len; i++)
		if (opt_table[i].kind == OPT_STR)
			set_str(field(o, &opt_table[i]), NULL);
	set_str(&o->mountpoint, NULL);
	set_str(&o->device, NULL);
	set_str(&o->scope, NULL);
	set_str(&o->resource, NULL);
}
