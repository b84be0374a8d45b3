/* unit_opts.c - the option table, parsing and validation (no mount). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUSE_USE_VERSION 35
#include <fuse_opt.h>

#include "opts.h"
#include "url.h"
#include "unit.h"

/* Parse and validate argv (NULL-terminated); returns rc, fills err. */
static int run(struct rpfs_opts *o, char *err, size_t errlen, const char **argv)
{
	int argc = 0;
	int rc;

	while (argv[argc])
		argc++;
	struct fuse_args args = FUSE_ARGS_INIT(argc, (char **)argv);
	opts_init(o);
	rc = opts_parse(o, &args, err, errlen);
	if (rc == 0)
		rc = opts_validate(o, 0, err, errlen);
	fuse_opt_free_args(&args);
	return rc;
}

/* Expect a rejection whose message contains want. */
static void reject(const char *want, const char **argv)
{
	struct rpfs_opts o;
	char err[512];
	int rc = run(&o, err, sizeof(err), argv);

	CHECK_MSG(rc == -EINVAL, "expected -EINVAL for '%s', got %d", want, rc);
	CHECK_MSG(strstr(err, want) != NULL, "error '%s' does not mention '%s'", err, want);
	CHECK_MSG(strchr(err, '\n') == NULL, "error is not one line: '%s'", err);
	opts_free(&o);
}

static void test_defaults(void)
{
	struct rpfs_opts o;
	char err[512];
	const char *argv[] = { "rpfs", "-o", "subscription=abc-123", "/mnt/x", NULL };

	CHECK_MSG(run(&o, err, sizeof(err), argv) == 0, "defaults rejected: %s", err);
	CHECK_MSG(o.ttl == 60 && o.neg_ttl == 5 && o.busy_ttl == 5, "ttl defaults");
	CHECK_MSG(o.max_conns == 8 && o.retries == 5 && o.op_timeout == 30, "conn defaults");
	CHECK_MSG(o.read_rate == 20 && o.write_rate == 5, "rate defaults");
	CHECK_MSG(!strcmp(o.endpoint, "https://management.azure.com"), "endpoint %s", o.endpoint);
	CHECK_MSG(!strcmp(o.authority, "https://login.microsoftonline.com"), "authority %s", o.authority);
	CHECK_MSG(!strcmp(o.scope, "https://management.azure.com/.default"), "scope %s", o.scope);
	CHECK_MSG(!strcmp(o.resource, "https://management.azure.com/"), "resource %s", o.resource);
	CHECK_MSG(!strcmp(o.api_version, "2025-04-01"), "api_version");
	CHECK_MSG(!strcmp(o.auth, "auto"), "auth");
	CHECK_MSG(!strcmp(o.mountpoint, "/mnt/x"), "mountpoint");
	CHECK_MSG(!o.allow_delete && !o.dry_run && !o.ro, "flags off");
	CHECK_STR(o.cloud, "AzureCloud");
	CHECK_STR(o.imds_endpoint, "http://169.254.169.254");
	CHECK_STR(o.disk_api_version, "2025-01-02");
	CHECK_STR(o.log_level, "info");
	CHECK_INT(o.disk_read, 1);
	CHECK_INT(o.sas_duration, 3600);
	CHECK_INT(o.disk_idle, 60);
	CHECK_INT(o.disk_cache, 256);
	CHECK_INT(o.disk_conns, 8);
	CHECK_INT(o.busy_poll, 200);
	CHECK_INT(o.cpu_poll, 0);
	CHECK_INT(o.uid, getuid());
	CHECK_INT(o.gid, getgid());
	CHECK_INT(o.umask, 022);
	CHECK_MSG(!o.default_permissions && !o.single, "fuse flags off");
	opts_free(&o);
}

/* uid=, gid=, umask= and -s are the file system's: parsed into fields and
 * taken out of the arguments; ro and default_permissions stay for the kernel. */
static void test_fuse_words(void)
{
	struct rpfs_opts o;
	char err[512];
	const char *argv[] = { "rpfs", "-s", "-o",
			       "subscription=s,uid=1000,gid=4294967294,umask=0027,ro",
			       "-o", "default_permissions,allow_other", "/m", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(7, (char **)argv);

	opts_init(&o);
	CHECK_MSG(opts_parse(&o, &args, err, sizeof(err)) == 0, "fuse words rejected: %s", err);
	CHECK_MSG(opts_validate(&o, 0, err, sizeof(err)) == 0, "fuse words invalid: %s", err);
	CHECK_INT(o.uid, 1000);
	CHECK_INT(o.gid, 4294967294UL);
	CHECK_INT(o.umask, 027);
	CHECK_MSG(o.single && o.ro && o.default_permissions, "-s, ro, default_permissions");
	for (int i = 0; i < args.argc; i++) {
		CHECK_MSG(!strstr(args.argv[i], "uid=") && !strstr(args.argv[i], "gid=") &&
			      !strstr(args.argv[i], "umask=") && strcmp(args.argv[i], "-s"),
			  "left for libfuse: %s", args.argv[i]);
		if (strstr(args.argv[i], "default_permissions"))
			CHECK_MSG(strstr(args.argv[i], "ro") && strstr(args.argv[i], "allow_other"),
				  "kernel options lost: %s", args.argv[i]);
	}
	fuse_opt_free_args(&args);
	opts_free(&o);
}

static void test_values(void)
{
	struct rpfs_opts o;
	char err[512];
	const char *argv[] = { "rpfs", "-f", "-o",
			       "subscription=s1,cloud=AzureChinaCloud,ttl=5,neg_ttl=1,busy_ttl=2",
			       "-o", "max_conns=3,read_rate=2.5,write_rate=1,retries=0,op_timeout=7",
			       "-o", "allow_delete,dry_run,ro,consistency=crashconsistent,_netdev,nofail",
			       "/m", NULL };

	CHECK_MSG(run(&o, err, sizeof(err), argv) == 0, "values rejected: %s", err);
	CHECK_MSG(o.foreground, "-f");
	CHECK_MSG(!strcmp(o.endpoint, "https://management.chinacloudapi.cn"), "china endpoint");
	CHECK_MSG(!strcmp(o.authority, "https://login.chinacloudapi.cn"), "china authority");
	CHECK_MSG(o.ttl == 5 && o.neg_ttl == 1 && o.busy_ttl == 2, "ttls");
	CHECK_MSG(o.max_conns == 3 && o.retries == 0 && o.op_timeout == 7, "numbers");
	CHECK_MSG(o.read_rate == 2.5 && o.write_rate == 1, "rates");
	CHECK_MSG(o.allow_delete && o.dry_run && o.ro, "flags");
	CHECK_MSG(!strcmp(o.consistency, "CrashConsistent"), "consistency normalised");
	opts_free(&o);
}

static void test_loopback(void)
{
	CHECK_MSG(url_is_loopback("http://127.0.0.1:8080"), "127.0.0.1");
	CHECK_MSG(url_is_loopback("http://127.1.2.3/x"), "127/8");
	CHECK_MSG(url_is_loopback("http://localhost:1"), "localhost");
	CHECK_MSG(url_is_loopback("http://[::1]:99/"), "::1");
	CHECK_MSG(!url_is_loopback("http://10.0.0.1"), "10/8");
	CHECK_MSG(!url_is_loopback("http://127.0.0.1.evil.example"), "suffix trick");
	CHECK_MSG(!url_is_loopback("http://localhost@evil.example/"), "userinfo trick");
}

static void test_rejections(void)
{
	reject("unknown option 'nosuchopt'",
	       (const char *[]){ "rpfs", "-o", "subscription=s,nosuchopt=1", "/m", NULL });
	reject("unknown option '--frobnicate'",
	       (const char *[]){ "rpfs", "--frobnicate", "-o", "subscription=s", "/m", NULL });
	reject("option 'ttl' needs a whole number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,ttl=abc", "/m", NULL });
	reject("option 'ttl' needs a whole number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,ttl=-1", "/m", NULL });
	reject("option 'max_conns' needs a whole number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,max_conns=0", "/m", NULL });
	reject("option 'retries' needs a whole number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,retries=5x", "/m", NULL });
	reject("option 'read_rate' needs a positive number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,read_rate=0", "/m", NULL });
	reject("option 'uid' needs a number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,uid=root", "/m", NULL });
	reject("option 'uid' needs a number from 0 to 4294967294",
	       (const char *[]){ "rpfs", "-o", "subscription=s,uid=4294967295", "/m", NULL });
	reject("option 'gid' needs a number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,gid=-1", "/m", NULL });
	reject("option 'umask' needs an octal number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,umask=0789", "/m", NULL });
	reject("option 'umask' needs an octal number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,umask=010000", "/m", NULL });
	reject("option 'umask' needs an octal number",
	       (const char *[]){ "rpfs", "-o", "subscription=s,umask", "/m", NULL });
	reject("http:// is accepted only for loopback hosts",
	       (const char *[]){ "rpfs", "-o", "subscription=s,endpoint=http://10.1.2.3:80", "/m",
				 NULL });
	reject("http:// is accepted only for loopback hosts",
	       (const char *[]){ "rpfs", "-o",
				 "subscription=s,authority=http://login.example.com", "/m", NULL });
	reject("must start with https://",
	       (const char *[]){ "rpfs", "-o", "subscription=s,endpoint=ftp://x", "/m", NULL });
	reject("option 'cafile': cannot read",
	       (const char *[]){ "rpfs", "-o", "subscription=s,cafile=/nonexistent/ca.pem", "/m",
				 NULL });
	reject("option 'token_file': cannot read",
	       (const char *[]){ "rpfs", "-o", "subscription=s,token_file=/nonexistent/tok", "/m",
				 NULL });
	reject("would put a secret on the command line",
	       (const char *[]){ "rpfs", "-o", "subscription=s,client_secret=hunter2", "/m", NULL });
	reject("would put a secret on the command line",
	       (const char *[]){ "rpfs", "-o", "token=eyJhbGciOi", "/m", NULL });
	reject("no subscription", (const char *[]){ "rpfs", "/m", NULL });
	reject("unknown cloud", (const char *[]){ "rpfs", "-o", "subscription=s,cloud=Mars", "/m",
						  NULL });
	reject("unknown source", (const char *[]){ "rpfs", "-o", "subscription=s,auth=magic", "/m",
						   NULL });
	reject("auth=token_file needs token_file",
	       (const char *[]){ "rpfs", "-o", "subscription=s,auth=token_file", "/m", NULL });
	reject("only CrashConsistent",
	       (const char *[]){ "rpfs", "-o", "subscription=s,consistency=ApplicationConsistent",
				 "/m", NULL });
	reject("takes no value",
	       (const char *[]){ "rpfs", "-o", "subscription=s,allow_delete=yes", "/m", NULL });
	reject("not a subscription id",
	       (const char *[]){ "rpfs", "-o", "subscription=../../x", "/m", NULL });
	reject("no mount point", (const char *[]){ "rpfs", "-o", "subscription=s", NULL });
	reject("one mount point only",
	       (const char *[]){ "rpfs", "-o", "subscription=s", "/a", "/b", NULL });
	reject("log_level", (const char *[]){ "rpfs", "-o", "subscription=s,log_level=loud", "/m",
					      NULL });
}

static void test_env(void)
{
	struct rpfs_opts o;
	char err[512];
	const char *argv[] = { "rpfs", "/m", NULL };

	setenv("AZURE_SUBSCRIPTION_ID", "env-sub", 1);
	setenv("AZURE_AUTHORITY_HOST", "https://login.example.test/", 1);
	CHECK_MSG(run(&o, err, sizeof(err), argv) == 0, "env rejected: %s", err);
	CHECK_MSG(o.subscription && !strcmp(o.subscription, "env-sub"), "sub from env");
	CHECK_MSG(!strcmp(o.authority, "https://login.example.test"), "authority from env: %s",
	      o.authority);
	opts_free(&o);
	unsetenv("AZURE_SUBSCRIPTION_ID");
	unsetenv("AZURE_AUTHORITY_HOST");
}

/* Every option of the table appears in --help with its default. */
static void test_help(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	opts_print_help(f, "rpfs");
	fclose(f);
	for (size_t i = 0; i < opt_table_len; i++) {
		char want[128], def[64];
		snprintf(want, sizeof(want), "-o %s", opt_table[i].name);
		CHECK_MSG(strstr(text, want), "--help lacks %s", want);
		snprintf(want, sizeof(want), "[%s]",
			 opts_default_text(&opt_table[i], def, sizeof(def)));
		CHECK_MSG(strstr(text, want), "--help lacks default %s", want);
	}
	free(text);
}

/* .rpfs/config lists every rpfs option and no secret. */
static void test_config(void)
{
	struct rpfs_opts o;
	char err[512], *out;
	size_t len;
	const char *argv[] = { "rpfs", "-o", "subscription=s,ttl=9", "/m", NULL };

	CHECK_MSG(run(&o, err, sizeof(err), argv) == 0, "config: %s", err);
	CHECK_MSG(opts_render_config(&o, &out, &len) == 0, "render");
	CHECK_MSG(strstr(out, "ttl=9\n") && strstr(out, "subscription=s\n"), "config content: %s", out);
	CHECK_MSG(len == strlen(out), "length");
	free(out);
	opts_free(&o);
}

int main(void)
{
	unsetenv("AZURE_SUBSCRIPTION_ID");
	unsetenv("RPFS_TOKEN_FILE");
	unsetenv("AZURE_AUTHORITY_HOST");
	test_defaults();
	test_fuse_words();
	test_values();
	test_loopback();
	test_rejections();
	test_env();
	test_help();
	test_config();
	return unit_result("unit_opts");
}
