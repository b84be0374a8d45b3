/*
 * opts.c - the option table of rpfs and everything derived from it:
 * parsing (fuse_opt), validation, --help, .rpfs/config.
 *
 * The table is the single description of every option.  `rpfs --help`
 * prints it, `.rpfs/config` renders it, and a test checks the man page
 * against it, so the three cannot drift.  Parsing goes through fuse_opt
 * so that every option works the same on the command line and in fstab.
 */
#include "config.h"

#include <arpa/inet.h>
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

#define OFF(f) offsetof(struct rpfs_opts, f)

const struct opt_desc opt_table[] = {
    {"subscription", OPT_STR, "$AZURE_SUBSCRIPTION_ID, else the Azure CLI default",
     "subscription shown (else the only one the credential sees)", OFF(subscription), 0, 0},
    {"cloud", OPT_STR, "AzureCloud", "AzureCloud, AzureUSGovernment or AzureChinaCloud", OFF(cloud),
     0, 0},
    {"endpoint", OPT_STR, "from cloud", "ARM base URL (http:// only for loopback hosts)",
     OFF(endpoint), 0, 0},
    {"authority", OPT_STR, "from cloud, or $AZURE_AUTHORITY_HOST", "Entra authority host",
     OFF(authority), 0, 0},
    {"imds_endpoint", OPT_STR, "http://169.254.169.254", "managed identity endpoint",
     OFF(imds_endpoint), 0, 0},
    {"cafile", OPT_STR, "system store", "extra CA bundle (TLS is always verified)", OFF(cafile), 0,
     0},
    {"auth", OPT_STR, "auto", "auto, token_file, env, workload, msi or cli", OFF(auth), 0, 0},
    {"token_file", OPT_STR, "$RPFS_TOKEN_FILE",
     "file holding a bearer token, re-read when it changes", OFF(token_file), 0, 0},
    {"api_version", OPT_STR, "2025-04-01", "Microsoft.Compute API version", OFF(api_version), 0, 0},
    {"ttl", OPT_UINT, "60", "seconds cached listings and resources live", OFF(ttl), 0, 86400},
    {"neg_ttl", OPT_UINT, "5", "seconds a cached \"does not exist\" lives", OFF(neg_ttl), 0, 86400},
    {"busy_ttl", OPT_UINT, "5", "seconds for points in non-terminal states", OFF(busy_ttl), 0,
     86400},
    {"max_conns", OPT_UINT, "8", "concurrent requests to ARM", OFF(max_conns), 1, 256},
    {"cache_max", OPT_UINT, "0",
     "MiB of cached collections, least recently used evicted past it (0: no limit)", OFF(cache_max),
     0, 1048576},
    {"read_rate", OPT_RATE, "20", "reads per second (burst 100)", OFF(read_rate), 0, 0},
    {"write_rate", OPT_RATE, "5", "writes per second (burst 50)", OFF(write_rate), 0, 0},
    {"retries", OPT_UINT, "5",
     "retries for 408, 429, 5xx and transport errors; a 429's Retry-After (300 s "
     "at most) pauses every request until it passes, .rpfs/flush or SIGHUP",
     OFF(retries), 0, 100},
    {"op_timeout", OPT_UINT, "30", "seconds a system call may wait, then ETIMEDOUT",
     OFF(op_timeout), 1, 3600},
    {"busy_poll", OPT_UINT, "200", "microseconds to wait for the next request before sleeping",
     OFF(busy_poll), 0, 100000},
    {"cpu_poll", OPT_UINT, "0",
     "1: keep every idle CPU of the machine polling while requests come (root)", OFF(cpu_poll), 0,
     1},
    {"consistency", OPT_STR, "service default",
     "consistencyMode of new restore points (CrashConsistent)", OFF(consistency), 0, 0},
    {"disk_read", OPT_UINT, "1", "1: disks/NAME.vhd can be read (0: EACCES)", OFF(disk_read), 0, 1},
    {"disk_api_version", OPT_STR, "2025-01-02", "DiskRP API version for disk restore points",
     OFF(disk_api_version), 0, 0},
    {"sas_duration", OPT_UINT, "3600", "seconds of read access asked per disk grant",
     OFF(sas_duration), 5, 604800},
    {"disk_idle", OPT_UINT, "60", "seconds after a disk's last close before its grant ends",
     OFF(disk_idle), 0, 86400},
    {"disk_cache", OPT_UINT, "256", "MiB of disk blocks kept in memory, for the whole mount",
     OFF(disk_cache), 4, 1048576},
    {"disk_conns", OPT_UINT, "8", "ranged GETs in flight per disk", OFF(disk_conns), 1, 64},
    {"allow_delete", OPT_FLAG, "off", "let rmdir delete restore points and collections",
     OFF(allow_delete), 0, 0},
    {"dry_run", OPT_FLAG, "off", "record mutations in .rpfs/ops instead of sending them",
     OFF(dry_run), 0, 0},
    {"log", OPT_STR, "stderr with -f, else syslog",
     "stderr, syslog, or /FILE (appended to, reopened on SIGHUP)", OFF(log), 0, 0},
    {"log_level", OPT_STR, "info", "error, warning, info or debug", OFF(log_level), 0, 0},
    {"debug", OPT_FLAG, "off", "log one trace line per HTTP request", OFF(debug), 0, 0},
    {"ro", OPT_FUSE, "off", "read-only: every mutation fails with EROFS", OFF(ro), 0, 0},
    {"allow_other", OPT_FUSE, "off",
     "let other users read the mount; changes stay the mounting user's", 0, 0, 0},
    {"uid", OPT_FUSE, "mounting user", "owner of every file (as in FUSE)", 0, 0, 0},
    {"gid", OPT_FUSE, "mounting group", "group of every file (as in FUSE)", 0, 0, 0},
    {"umask", OPT_FUSE, "022", "permission mask (as in FUSE)", 0, 0, 0},
    {"default_permissions", OPT_FUSE, "off",
     "the kernel checks modes: uid, gid, umask may let others change", 0, 0, 0},
};
const size_t opt_table_len = sizeof(opt_table) / sizeof(opt_table[0]);

static const struct cloud_preset clouds[] = {
    {"AzureCloud", "https://management.azure.com", "https://login.microsoftonline.com"},
    {"AzureUSGovernment", "https://management.usgovcloudapi.net",
     "https://login.microsoftonline.us"},
    {"AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"},
};

/* Words fstab and mount(8) pass that mean nothing to a FUSE filesystem. */
static const char *const fstab_words[] = {"_netdev", "auto",	   "noauto", "user",
					  "users",   "nouser",	   "nofail", "defaults",
					  "rw",	     "x-systemd.", NULL};
/* Mount options handed to libfuse unchanged (besides the table's OPT_FUSE rows). */
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

/* Find a cloud preset by name (case-insensitive). */
const struct cloud_preset *opts_cloud(const char *name)
{
	for (size_t i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++)
		if (name && !strcasecmp(name, clouds[i].name))
			return &clouds[i];
	return NULL;
}

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? strdup(v) : NULL;
}

/* Fill the defaults rpfs(1) lists (environment-derived ones included). */
void opts_init(struct rpfs_opts *o)
{
	memset(o, 0, sizeof(*o));
	set_str(&o->cloud, "AzureCloud");
	set_str(&o->imds_endpoint, "http://169.254.169.254");
	set_str(&o->auth, "auto");
	set_str(&o->api_version, "2025-04-01");
	set_str(&o->disk_api_version, "2025-01-02");
	o->disk_read = 1;
	o->sas_duration = 3600;
	o->disk_idle = 60;
	o->disk_cache = 256;
	o->disk_conns = 8;
	o->ttl = 60;
	o->neg_ttl = 5;
	o->busy_ttl = 5;
	o->max_conns = 8;
	o->read_rate = 20;
	o->write_rate = 5;
	o->retries = 5;
	o->op_timeout = 30;
	o->busy_poll = 200;
	o->cpu_poll = 0;
	set_str(&o->log_level, "info");
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

	for (size_t i = 0; i < opt_table_len; i++) {
		const struct opt_desc *d = &opt_table[i];
		void *slot = (char *)pc->o + d->offset;

		if (strcmp(d->name, name))
			continue;
		switch (d->kind) {
		case OPT_FUSE:
			if (!strcmp(name, "ro"))
				pc->o->ro = 1;
			if ((!strcmp(name, "uid") || !strcmp(name, "gid") ||
			     !strcmp(name, "umask"))) {
				unsigned long v;
				if (parse_uint(val, 0,
					       !strcmp(name, "umask") ? 07777 : 0xfffffffeUL,
					       &v) < 0 &&
				    !(val && !strcmp(name, "umask") && *val == '0')) {
					seterr(pc, "option '%s' needs a number, got '%s'", name,
					       val ? val : "");
					return 0;
				}
			}
			return 1;
		case OPT_FLAG:
			if (val) {
				seterr(pc, "option '%s' takes no value", name);
				return 0;
			}
			*(int *)slot = 1;
			return 0;
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
		return 1;
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

/* The host part of an http(s) URL into host[] (brackets of IPv6 removed). */
static int url_host(const char *url, char *host, size_t len)
{
	const char *p = strstr(url, "://");
	const char *end;
	size_t n;

	if (!p)
		return -EINVAL;
	p += 3;
	if (strchr(p, '@') && strchr(p, '@') < p + strcspn(p, "/?#"))
		return -EINVAL; /* userinfo in a URL: never */
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return -EINVAL;
		p++;
	} else {
		end = p + strcspn(p, ":/?#");
	}
	n = (size_t)(end - p);
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

/* 1 when URL's host is a loopback address or localhost. */
int opts_url_is_loopback(const char *url)
{
	char host[256];
	struct in_addr a4;
	struct in6_addr a6;

	if (url_host(url, host, sizeof(host)) < 0)
		return 0;
	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
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
		if (opts_url_is_loopback(url))
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

static int one_of(const char *v, const char *const *set)
{
	for (size_t i = 0; set[i]; i++)
		if (!strcmp(v, set[i]))
			return 1;
	return 0;
}

/* Resolve derived defaults and check every option (see opts.h). */
int opts_validate(struct rpfs_opts *o, int allow_nosub, char *err, size_t errlen)
{
	static const char *const auths[] = {"auto", "token_file", "env", "workload",
					    "msi",  "cli",	  NULL};
	struct parse_ctx pc = {.o = o, .err = err, .errlen = errlen};
	const struct cloud_preset *cp = opts_cloud(o->cloud);
	const char *env;
	char buf[1024];
	enum log_level lvl;

	if (errlen)
		err[0] = '\0';
	if (!cp) {
		seterr(&pc,
		       "option 'cloud': unknown cloud '%s' (AzureCloud, AzureUSGovernment, "
		       "AzureChinaCloud)",
		       o->cloud);
		return -EINVAL;
	}
	set_str(&o->cloud, cp->name);
	if (!o->endpoint)
		set_str(&o->endpoint, cp->endpoint);
	if (!o->authority) {
		env = getenv("AZURE_AUTHORITY_HOST");
		set_str(&o->authority, env && *env ? env : cp->authority);
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

	if (!one_of(o->auth, auths)) {
		seterr(&pc,
		       "option 'auth': unknown source '%s' (auto, token_file, env, workload, msi, "
		       "cli)",
		       o->auth);
		return -EINVAL;
	}
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
	if (o->consistency) {
		if (strcasecmp(o->consistency, "CrashConsistent")) {
			seterr(
			    &pc,
			    "option 'consistency': only CrashConsistent can be requested, got '%s'",
			    o->consistency);
			return -EINVAL;
		}
		set_str(&o->consistency, "CrashConsistent");
	}
	if (o->log && strcmp(o->log, "stderr") && strcmp(o->log, "syslog") && o->log[0] != '/') {
		seterr(&pc, "option 'log': '%s' is not stderr, syslog or an absolute file name",
		       o->log);
		return -EINVAL;
	}
	if (log_level_parse(o->log_level, &lvl) < 0) {
		seterr(&pc, "option 'log_level': '%s' is not error, warning, info or debug",
		       o->log_level);
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
	if (!o->check && !o->show_help && !o->show_version && !o->mountpoint) {
		seterr(&pc, "no mount point given (usage: rpfs [options] MOUNTPOINT)");
		return -EINVAL;
	}
	return 0;
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
		char lhs[64];

		if (d->kind == OPT_FLAG || (d->kind == OPT_FUSE && strcmp(d->name, "uid") &&
					    strcmp(d->name, "gid") && strcmp(d->name, "umask")))
			snprintf(lhs, sizeof(lhs), "-o %s", d->name);
		else
			snprintf(lhs, sizeof(lhs), "-o %s=%s", d->name,
				 d->kind == OPT_UINT || d->kind == OPT_RATE ? "N" : "VALUE");
		fprintf(f, "    %-26s %s [%s]\n", lhs, d->help, d->def);
	}
	fprintf(f,
		"\nEnvironment: AZURE_SUBSCRIPTION_ID, AZURE_TENANT_ID, AZURE_CLIENT_ID,\n"
		"AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST,\n"
		"RPFS_TOKEN_FILE.  Secrets are read only from the environment or files.\n"
		"fstab words _netdev, auto, noauto, user, users, nofail, defaults are ignored.\n");
}

/* Append to a growing buffer. */
static int buf_add(char **b, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*b ? *b + *len : NULL, *b ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if (*b && *len + (size_t)n < *cap) {
			*len += (size_t)n;
			return 0;
		}
		size_t ncap = (*cap ? *cap * 2 : 1024) + (size_t)n;
		char *nb = realloc(*b, ncap);
		if (!nb)
			return -ENOMEM;
		*b = nb;
		*cap = ncap;
	}
}

/* "name=value" lines of the effective options (.rpfs/config). */
int opts_render_config(const struct rpfs_opts *o, char **out, size_t *outlen)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < opt_table_len && !rc; i++) {
		const struct opt_desc *d = &opt_table[i];
		const void *slot = (const char *)o + d->offset;

		switch (d->kind) {
		case OPT_STR: {
			const char *v = *(char *const *)slot;
			rc = buf_add(&b, &len, &cap, "%s=%s\n", d->name, v ? v : "");
			break;
		}
		case OPT_UINT:
			rc = buf_add(&b, &len, &cap, "%s=%lu\n", d->name,
				     *(const unsigned long *)slot);
			break;
		case OPT_RATE:
			rc = buf_add(&b, &len, &cap, "%s=%g\n", d->name, *(const double *)slot);
			break;
		case OPT_FLAG:
			rc = buf_add(&b, &len, &cap, "%s=%s\n", d->name,
				     *(const int *)slot ? "on" : "off");
			break;
		case OPT_FUSE:
			if (!strcmp(d->name, "ro"))
				rc = buf_add(&b, &len, &cap, "ro=%s\n", o->ro ? "on" : "off");
			break;
		}
	}
	if (!rc && !b)
		rc = buf_add(&b, &len, &cap, "%s", "");
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	*outlen = len;
	return 0;
}

/* Free every string of o. */
void opts_free(struct rpfs_opts *o)
{
	for (size_t i = 0; i < opt_table_len; i++)
		if (opt_table[i].kind == OPT_STR)
			set_str((char **)((char *)o + opt_table[i].offset), NULL);
	set_str(&o->mountpoint, NULL);
	set_str(&o->device, NULL);
	set_str(&o->scope, NULL);
	set_str(&o->resource, NULL);
}
