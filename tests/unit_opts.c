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

static int failures;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                    \
			fprintf(stderr, __VA_ARGS__);                                      \
			fputc('\n', stderr);                                               \
			failures++;                                                        \
		}                                                                          \
	} while (0)

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

	CHECK(rc == -EINVAL, "expected -EINVAL for '%s', got %d", want, rc);
	CHECK(strstr(err, want) != NULL, "error '%s' does not mention '%s'", err, want);
	CHECK(strchr(err, '\n') == NULL, "error is not one line: '%s'", err);
	opts_free(&o);
}

static void test_defaults(void)
{
	struct rpfs_opts o;
	char err[512];
	const char *argv[] = { "rpfs", "-o", "subscription=abc-123", "/mnt/x", NULL };

	CHECK(run(&o, err, sizeof(err), argv) == 0, "defaults rejected: %s", err);
	CHECK(o.ttl == 60 && o.neg_ttl == 5 && o.busy_ttl == 5, "ttl defaults");
	CHECK(o.max_conns == 8 && o.retries == 5 && o.op_timeout == 30, "conn defaults");
	CHECK(o.read_rate == 20 && o.write_rate == 5, "rate defaults");
	CHECK(!strcmp(o.endpoint, "https://management.azure.com"), "endpoint %s", o.endpoint);
	CHECK(!strcmp(o.authority, "https://login.microsoftonline.com"), "authority %s", o.authority);
	CHECK(!strcmp(o.scope, "https://management.azure.com/.default"), "scope %s", o.scope);
	CHECK(!strcmp(o.resource, "https://management.azure.com/"), "resource %s", o.resource);
	CHECK(!strcmp(o.api_version, "2025-04-01"), "api_version");
	CHECK(!strcmp(o.auth, "auto"), "auth");
	CHECK(!strcmp(o.mountpoint, "/mnt/x"), "mountpoint");
	CHECK(!o.allow_delete && !o.dry_run && !o.ro, "flags off");
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

	CHECK(run(&o, err, sizeof(err), argv) == 0, "values rejected: %s", err);
	CHECK(o.foreground, "-f");
	CHECK(!strcmp(o.endpoint, "https://management.chinacloudapi.cn"), "china endpoint");
	CHECK(!strcmp(o.authority, "https://login.chinacloudapi.cn"), "china authority");
	CHECK(o.ttl == 5 && o.neg_ttl == 1 && o.busy_ttl == 2, "ttls");
	CHECK(o.max_conns == 3 && o.retries == 0 && o.op_timeout == 7, "numbers");
	CHECK(o.read_rate == 2.5 && o.write_rate == 1, "rates");
	CHECK(o.allow_delete && o.dry_run && o.ro, "flags");
	CHECK(!strcmp(o.consistency, "CrashConsistent"), "consistency normalised");
	opts_free(&o);
}

static void test_loopback(void)
{
	CHECK(opts_url_is_loopback("http://127.0.0.1:8080"), "127.0.0.1");
	CHECK(opts_url_is_loopback("http://127.1.2.3/x"), "127/8");
	CHECK(opts_url_is_loopback("http://localhost:1"), "localhost");
	CHECK(opts_url_is_loopback("http://[::1]:99/"), "::1");
	CHECK(!opts_url_is_loopback("http://10.0.0.1"), "10/8");
	CHECK(!opts_url_is_loopback("http://127.0.0.1.evil.example"), "suffix trick");
	CHECK(!opts_url_is_loopback("http://localhost@evil.example/"), "userinfo trick");
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
	CHECK(run(&o, err, sizeof(err), argv) == 0, "env rejected: %s", err);
	CHECK(o.subscription && !strcmp(o.subscription, "env-sub"), "sub from env");
	CHECK(!strcmp(o.authority, "https://login.example.test"), "authority from env: %s",
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
		char want[128];
		snprintf(want, sizeof(want), "-o %s", opt_table[i].name);
		CHECK(strstr(text, want), "--help lacks %s", want);
		snprintf(want, sizeof(want), "[%s]", opt_table[i].def);
		CHECK(strstr(text, want), "--help lacks default %s", want);
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

	CHECK(run(&o, err, sizeof(err), argv) == 0, "config: %s", err);
	CHECK(opts_render_config(&o, &out, &len) == 0, "render");
	CHECK(strstr(out, "ttl=9\n") && strstr(out, "subscription=s\n"), "config content: %s", out);
	CHECK(len == strlen(out), "length");
	free(out);
	opts_free(&o);
}

int main(void)
{
	unsetenv("AZURE_SUBSCRIPTION_ID");
	unsetenv("RPFS_TOKEN_FILE");
	unsetenv("AZURE_AUTHORITY_HOST");
	test_defaults();
	test_values();
	test_loopback();
	test_rejections();
	test_env();
	test_help();
	test_config();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
