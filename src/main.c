/*
 * main.c - the rpfs daemon: options, sign-in, the start-up ARM request,
 * then the FUSE request loop (fs_loop.c) until unmount or a signal.
 *
 * Start-up order matters (doc/DESIGN.md, Start-up): everything that can fail for a reason
 * the user can fix (options, credential, the first ARM request) runs
 * before anything is mounted, with one clear line on stderr and exit 1.
 * The answer of that first request (the physical locations) is the region
 * list of the tree, so it is not asked again.  Threads are started only
 * after fuse_daemonize(), which forks.
 */
#define FUSE_USE_VERSION 35
#include "config.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arm.h"
#include "auth.h"
#include "cache.h"
#include "disk.h"
#include "fs.h"
#include "fs_loop.h"
#include "log.h"
#include "opts.h"
#include "tree.h"

static struct fs *g_fs;

/* SIGHUP: drop every cached answer and reopen the log. */
static void on_hup(int sig)
{
	int saved = errno;

	(void)sig;
	if (g_fs)
		fs_signal_flush(g_fs);
	errno = saved;
}

/* SIGUSR1: write the counters to the log. */
static void on_usr1(int sig)
{
	int saved = errno;

	(void)sig;
	if (g_fs)
		fs_signal_stats(g_fs);
	errno = saved;
}

/* Print the versions of rpfs and of the libraries it runs with. */
static void print_version(void)
{
	char libs[256];

	arm_lib_versions(libs, sizeof(libs));
	printf("rpfs %s\n", PACKAGE_VERSION);
	printf("libfuse %s (FUSE API %d)\n", fuse_pkgversion(), FUSE_USE_VERSION);
	printf("%s\n", libs);
}

/* Tell systemd (Type=notify) the mount is usable: the datagram protocol of
 * sd_notify(3) on $NOTIFY_SOCKET, so no libsystemd is needed. */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		log_warn("cannot notify systemd: %s", strerror(errno));
	close(fd);
}

/* The subscription when neither -o subscription nor AZURE_SUBSCRIPTION_ID
 * gave one (rpfs(1), subscription): the Azure CLI's default, else the only subscription
 * the credential can see.  0 or -EINVAL with a reason in err. */
static int pick_subscription(struct rpfs_opts *o, struct arm_client *arm, char *err, size_t errlen)
{
	struct arm_err aerr;
	char **ids = NULL;
	size_t n = 0;
	int rc;

	if (arm_az_default_subscription(&o->subscription) == 0) {
		o->subscription_from = "Azure CLI default";
		return 0;
	}
	memset(&aerr, 0, sizeof(aerr));
	rc = arm_list_subscriptions(arm, &ids, &n, &aerr);
	if (rc < 0) {
		snprintf(err, errlen,
			 "no subscription given, and listing the credential's "
			 "subscriptions failed: %s",
			 strerror(-rc));
		return -EINVAL;
	}
	if (n != 1) {
		snprintf(err, errlen,
			 "no subscription given and the credential sees %zu; "
			 "use -o subscription=ID or AZURE_SUBSCRIPTION_ID",
			 n);
		arm_strings_free(ids, n);
		return -EINVAL;
	}
	o->subscription = ids[0];
	ids[0] = NULL;
	o->subscription_from = "the only one the credential sees";
	arm_strings_free(ids, n);
	return 0;
}

/* Undo the octal escapes (\040 and the like) of a /proc/self/mountinfo field, in place. */
static void mountinfo_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* 1 when the topmost mount on the absolute path mnt is an rpfs mount
 * (/proc/self/mountinfo), as mount(8) refuses to mount twice. */
static int rpfs_mounted_on(const char *mnt)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int top_is_rpfs = 0;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		char point[4096], fstype[256];
		char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT POINT ... - FSTYPE SOURCE OPTIONS */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    sscanf(sep + 3, "%255s", fstype) != 1)
			continue;
		mountinfo_unescape(point);
		/* Later lines are mounted over earlier ones: the last one is on top. */
		if (!strcmp(point, mnt))
			top_is_rpfs = !strcmp(fstype, "fuse.rpfs");
	}
	free(line);
	fclose(f);
	return top_is_rpfs;
}

/* .rpfs/auth. */
static int auth_text(void *arg, char **out)
{
	return auth_describe(arg, out);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct rpfs_opts o;
	struct auth *auth = NULL;
	struct arm_client *arm = NULL;
	struct arm_cfg armcfg;
	struct arm_location *locs = NULL;
	size_t nlocs = 0;
	struct arm_err aerr;
	struct cache *cache = NULL;
	struct cache_backend be;
	struct cache_dryrun *dry = NULL;
	struct cache_cfg ccfg;
	struct tree *tree = NULL;
	struct tree_cfg tcfg;
	struct disks *disks = NULL;
	struct disks_cfg dcfg;
	struct fs *fs = NULL;
	struct fs_cfg fcfg;
	struct fuse_session *se = NULL;
	const struct fuse_lowlevel_ops *ops;
	size_t ops_size;
	char err[512], *config = NULL, *mnt = NULL;
	size_t config_len;
	enum log_level lvl = LOG_LVL_INFO;
	int ret = 1, rc, mounted = 0, to_syslog;

	/* Cached answers are allocated by the prefetch threads and kept for
	 * ttl: one arena per thread would fragment them (memory per cached
	 * point is a benchmark figure). */
	mallopt(M_ARENA_MAX, 2);
	/* libcurl runs with CURLOPT_NOSIGNAL (threads): a write to a connection
	 * ARM has closed must be an error, not a silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	opts_init(&o);
	if (opts_parse(&o, &args, err, sizeof(err)) < 0) {
		fprintf(stderr, "rpfs: %s\n", err);
		goto out;
	}
	if (o.show_help) {
		opts_print_help(stdout, "rpfs");
		ret = 0;
		goto out;
	}
	if (o.show_version) {
		print_version();
		ret = 0;
		goto out;
	}
	if (opts_validate(&o, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "rpfs: %s\n", err);
		goto out;
	}
	if (!o.check) {
		/* Absolute, so that unmounting works after fuse_daemonize's chdir("/"). */
		mnt = realpath(o.mountpoint, NULL);
		if (!mnt) {
			fprintf(stderr, "rpfs: mount point %s: %s\n", o.mountpoint,
				strerror(errno));
			goto out;
		}
		if (rpfs_mounted_on(mnt)) {
			fprintf(stderr,
				"rpfs: rpfs already mounted on %s (unmount it first: "
				"fusermount3 -u %s)\n",
				mnt, mnt);
			goto out;
		}
	}
	to_syslog = o.log ? !strcmp(o.log, "syslog") : !(o.foreground || o.check);
	if (o.log_level)
		log_level_parse(o.log_level, &lvl);
	log_open("rpfs", to_syslog, lvl);
	if (o.log && o.log[0] == '/' && !o.check) {
		rc = log_open_file(o.log);
		if (rc < 0) {
			fprintf(stderr, "rpfs: option 'log': cannot open %s: %s\n", o.log,
				strerror(-rc));
			goto out;
		}
	}
	/* .rpfs/config names where the log goes. */
	if (!o.log)
		o.log = strdup(to_syslog ? "syslog" : "stderr");

	{
		struct auth_cfg acfg = {
		    .source = o.auth,
		    .endpoint = o.endpoint,
		    .authority = o.authority,
		    .imds_endpoint = o.imds_endpoint,
		    .scope = o.scope,
		    .resource = o.resource,
		    .cloud = o.cloud,
		    .token_file = o.token_file,
		    .subscription = o.subscription,
		    .cafile = o.cafile,
		    .op_timeout = (unsigned)o.op_timeout,
		};
		rc = auth_new(&acfg, &auth, err, sizeof(err));
	}
	if (rc < 0) {
		fprintf(stderr, "rpfs: credential: %s\n", err);
		goto out;
	}
	/* The token first: managed identity at boot may take a minute, which
	 * must not count against the first request's op_timeout. */
	{
		char *tok = malloc(16384);
		rc = tok ? auth_token(auth, 0, tok, 16384, err, sizeof(err)) : -ENOMEM;
		if (tok) {
			explicit_bzero(tok, 16384);
			free(tok);
		}
		if (rc < 0) {
			fprintf(stderr, "rpfs: credential: %s\n", err);
			goto out;
		}
	}
	armcfg.endpoint = o.endpoint;
	armcfg.subscription = o.subscription;
	armcfg.api_version = o.api_version;
	armcfg.cafile = o.cafile;
	armcfg.retries = (unsigned)o.retries;
	armcfg.op_timeout = (unsigned)o.op_timeout;
	armcfg.max_conns = (unsigned)o.max_conns;
	armcfg.read_rate = o.read_rate;
	armcfg.write_rate = o.write_rate;
	rc = arm_client_new(&armcfg, auth, &arm);
	if (rc < 0) {
		fprintf(stderr, "rpfs: cannot create the ARM client: %s\n", strerror(-rc));
		goto out;
	}
	if (!o.subscription) {
		if (pick_subscription(&o, arm, err, sizeof(err)) < 0) {
			fprintf(stderr, "rpfs: %s\n", err);
			goto out;
		}
		arm_client_free(arm);
		arm = NULL;
		armcfg.subscription = o.subscription;
		rc = arm_client_new(&armcfg, auth, &arm);
		if (rc < 0) {
			fprintf(stderr, "rpfs: cannot create the ARM client: %s\n", strerror(-rc));
			goto out;
		}
	}
	/* The start-up request; its answer is the tree's region list. */
	memset(&aerr, 0, sizeof(aerr));
	rc = arm_list_locations(arm, &locs, &nlocs, &aerr);
	if (rc < 0) {
		fprintf(stderr, "rpfs: cannot reach ARM at %s for subscription %s: %s%s%s%s%s\n",
			o.endpoint, o.subscription, strerror(-rc), aerr.status ? " (HTTP " : "",
			aerr.status ? (aerr.code[0] ? aerr.code : "error") : "",
			aerr.message[0] ? ": " : "", aerr.message[0] ? aerr.message : "");
		if (aerr.status)
			fprintf(stderr, "rpfs: HTTP status %d%s%s\n", aerr.status,
				aerr.request_id[0] ? ", x-ms-request-id " : "", aerr.request_id);
		goto out;
	}
	if (o.check) {
		printf("rpfs: ok\ncredential: %s\ntenant: %s\nendpoint: %s\n"
		       "subscription: %s (from %s)\nlocations: %zu\n",
		       auth_source_name(auth), auth_tenant(auth) ? auth_tenant(auth) : "unknown",
		       o.endpoint, o.subscription,
		       o.subscription_from ? o.subscription_from : "option", nlocs);
		ret = 0;
		goto out;
	}

	cache_backend_arm(arm, &be);
	if (o.dry_run) { /* the same mount, with requests recorded, not sent */
		struct cache_backend inner = be;

		if (cache_dryrun_new(&inner, o.subscription, &dry, &be) < 0)
			goto oom;
	}
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.subscription = o.subscription;
	ccfg.ttl = (unsigned)o.ttl;
	ccfg.neg_ttl = (unsigned)o.neg_ttl;
	ccfg.busy_ttl = (unsigned)o.busy_ttl;
	ccfg.max_conns = o.max_conns ? (unsigned)o.max_conns : 1;
	ccfg.op_timeout = (unsigned)o.op_timeout;
	ccfg.max_bytes = (size_t)o.cache_max << 20;
	rc = cache_new(&be, &ccfg, &cache);
	if (rc < 0)
		goto oom;
	memset(&dcfg, 0, sizeof(dcfg));
	dcfg.arm = arm;
	dcfg.cache = cache;
	dcfg.cafile = o.cafile;
	dcfg.api_version = o.disk_api_version;
	dcfg.sas_duration = (unsigned)o.sas_duration;
	dcfg.disk_idle = (unsigned)o.disk_idle;
	dcfg.cache_mib = (unsigned)o.disk_cache;
	dcfg.conns = (unsigned)o.disk_conns;
	dcfg.retries = (unsigned)o.retries;
	dcfg.op_timeout = (unsigned)o.op_timeout;
	rc = disks_new(&dcfg, &disks);
	if (rc < 0)
		goto oom;
	if (opts_render_config(&o, &config, &config_len) < 0)
		config = NULL;
	memset(&tcfg, 0, sizeof(tcfg));
	tcfg.ttl = (unsigned)o.ttl;
	tcfg.neg_ttl = (unsigned)o.neg_ttl;
	tcfg.busy_ttl = (unsigned)o.busy_ttl;
	tcfg.op_timeout = (unsigned)o.op_timeout;
	tcfg.locations = locs;
	tcfg.nlocations = nlocs;
	tcfg.config_text = config;
	tcfg.auth_text = auth_text;
	tcfg.auth_arg = auth;
	tcfg.ro = o.ro;
	tcfg.allow_delete = o.allow_delete;
	tcfg.dry_run = o.dry_run;
	tcfg.consistency = o.consistency;
	tcfg.disks = disks;
	tcfg.disk_read = o.disk_read != 0;
	rc = tree_new(cache, &tcfg, &tree);
	if (rc < 0)
		goto oom;
	if (dry)
		cache_dryrun_set_record(dry, tree_ops_record, tree);
	locs = NULL;
	nlocs = 0;
	fcfg.uid = (uid_t)o.uid;
	fcfg.gid = (gid_t)o.gid;
	fcfg.umask = (unsigned)o.umask;
	fcfg.owner = getuid();
	fcfg.default_permissions = o.default_permissions;
	rc = fs_new(tree, &fcfg, &fs);
	if (rc < 0)
		goto oom;

	if (fuse_opt_add_arg(&args, "-ofsname=rpfs,subtype=rpfs") < 0)
		goto oom;
	ops = fs_ops(&ops_size);
	se = fuse_session_new(&args, ops, ops_size, fs);
	if (!se) {
		fprintf(stderr, "rpfs: cannot create the FUSE session (see the message above)\n");
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, "rpfs: cannot install signal handlers\n");
		goto out;
	}
	g_fs = fs;
	signal(SIGHUP, on_hup);
	signal(SIGUSR1, on_usr1);
	if (fuse_session_mount(se, mnt) != 0) {
		fprintf(stderr, "rpfs: cannot mount on %s\n", mnt);
		goto out;
	}
	mounted = 1;
	if (fuse_daemonize(o.foreground) != 0) {
		fprintf(stderr, "rpfs: cannot go to the background\n");
		goto out;
	}
	rc = fs_start(fs, se);
	if (rc < 0) {
		log_err("cannot start the invalidation thread: %s", strerror(-rc));
		goto out;
	}
	rc = disks_start(disks);
	if (rc < 0) {
		log_err("cannot start the disk thread: %s", strerror(-rc));
		goto out;
	}
	log_info("mounted subscription %s on %s (%s)", o.subscription, mnt,
		 o.ro ? "read-only" : "read-write");
	notify_systemd("READY=1");
	{
		struct fs_loop_cfg lc = {.max_threads = o.single ? 1 : FS_LOOP_THREADS,
					 .busy_poll_us = (unsigned)o.busy_poll,
					 .cpu_poll = o.cpu_poll != 0};

		rc = fs_loop_run(se, &lc);
	}
	if (rc < 0)
		log_err("the FUSE loop ended: %s", strerror(-rc));
	ret = rc == 0 ? 0 : 1;
	notify_systemd("STOPPING=1");
	log_info("unmounting %s", mnt);
	goto out;
oom:
	fprintf(stderr, "rpfs: out of memory\n");
out:
	/* The FUSE threads have all returned; stop ours before the session goes. */
	fs_stop(fs);
	if (se) {
		if (mounted)
			fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		g_fs = NULL;
		fuse_session_destroy(se);
	}
	/* Every disk grant ends now (unmount, SIGTERM): endGetAccess. */
	disks_stop(disks);
	cache_stop(cache); /* no prefetch may report to the tree once it is gone */
	fs_free(fs);
	if (dry)
		cache_dryrun_set_record(dry, NULL, NULL);
	tree_free(tree);
	disks_free(disks);
	cache_free(cache);
	cache_dryrun_free(dry);
	if (locs)
		arm_locations_free(locs, nlocs);
	arm_client_free(arm);
	auth_free(auth);
	free(config);
	free(mnt);
	fuse_opt_free_args(&args);
	opts_free(&o);
	log_close();
	return ret;
}
