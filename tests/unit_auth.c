/*
 * unit_auth.c - credential selection and the local sources, without a
 * network: the token file (re-read when rewritten), the Azure CLI through a
 * fake `az` on PATH, the auto order and its skip reasons, forced refresh,
 * and .rpfs/auth never showing a token.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "auth_int.h"
#include "unit.h"


static char dir[256];

/* Write a file with content (atomically when atomic is set). */
static void put(const char *path, const char *content, int atomic)
{
	char tmp[512];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(atomic ? tmp : path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(content, f);
	fclose(f);
	if (atomic && rename(tmp, path))
		exit(1);
}

/* A credential configuration for mode (and a token file). */
static void cfg_for(struct auth_cfg *c, const char *mode, const char *token_file)
{
	memset(c, 0, sizeof(*c));
	c->source = mode;
	c->token_file = token_file;
	c->endpoint = "https://management.azure.com";
	c->imds_endpoint = "http://127.0.0.1:9"; /* discard port: refused at once */
	c->op_timeout = 5;
}

static void clear_env(void)
{
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_CLIENT_SECRET");
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
}

/* token_file: read, cached, re-read after a rewrite, never shown. */
static void test_token_file(void)
{
	struct auth_cfg o;
	struct auth *a = NULL;
	char path[512], tok[256], err[256], *desc = NULL;

	snprintf(path, sizeof(path), "%s/token", dir);
	put(path, "first-token\n", 1);
	cfg_for(&o, "auto", path);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == 0);
	if (!a)
		return;
	CHECK(!strcmp(auth_source_name(a), "token_file"));
	CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == 0);
	CHECK(!strcmp(tok, "first-token"));
	put(path, "second-token\n", 1);
	CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == 0);
	CHECK(!strcmp(tok, "second-token"));
	/* Rewritten in place with the same size: mtime tells. */
	usleep(20000);
	put(path, "third--token\n", 0);
	CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == 0);
	CHECK(!strcmp(tok, "third--token"));
	CHECK(auth_token(a, 1, tok, sizeof(tok), err, sizeof(err)) == 0);
	CHECK(!strcmp(tok, "third--token"));
	CHECK(auth_token(a, 0, tok, 4, err, sizeof(err)) == -ENOSPC);
	CHECK(auth_describe(a, &desc) == 0);
	CHECK(desc && strstr(desc, "source: token_file"));
	CHECK(desc && !strstr(desc, "token\n") && !strstr(desc, "third--token"));
	free(desc);
	/* An empty rewrite keeps the valid old token. */
	put(path, "", 1);
	CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == 0);
	CHECK(!strcmp(tok, "third--token"));
	auth_free(a);

	/* Explicit token_file without a file name is refused at start. */
	cfg_for(&o, "token_file", NULL);
	a = NULL;
	CHECK(auth_new(&o, &a, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "token_file") != NULL);
	/* A missing file: EACCES with a reason naming the file. */
	snprintf(path, sizeof(path), "%s/missing", dir);
	cfg_for(&o, "token_file", path);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == 0);
	if (a) {
		CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == -EACCES);
		CHECK(strstr(err, "missing") != NULL);
		auth_free(a);
	}
}

/* The auto order and the skip reasons. */
static void test_auto(void)
{
	struct auth_cfg o;
	struct auth *a = NULL;
	char err[512], tok[256], *desc = NULL;

	clear_env();
	setenv("PATH", "/nonexistent", 1);
	cfg_for(&o, "auto", NULL);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == 0);
	if (a) {
		/* Only managed identity is left (an explicit, refused endpoint). */
		CHECK(!strcmp(auth_source_name(a), "msi"));
		CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == -EHOSTUNREACH);
		CHECK(auth_describe(a, &desc) == 0);
		CHECK(desc && strstr(desc, "skipped: token_file"));
		CHECK(desc && strstr(desc, "skipped: env: AZURE_TENANT_ID not set"));
		CHECK(desc && strstr(desc, "skipped: workload: AZURE_FEDERATED_TOKEN_FILE not set"));
		free(desc);
		auth_free(a);
	}
	/* env explicitly chosen without its variables. */
	cfg_for(&o, "env", NULL);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "AZURE_TENANT_ID") != NULL);
	cfg_for(&o, "bogus", NULL);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == -EINVAL);
	/* env present: chosen ahead of everything but token_file. */
	setenv("AZURE_TENANT_ID", "t1", 1);
	setenv("AZURE_CLIENT_ID", "c1", 1);
	setenv("AZURE_CLIENT_SECRET", "very-secret-value", 1);
	cfg_for(&o, "auto", NULL);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == 0);
	if (a) {
		CHECK(!strcmp(auth_source_name(a), "env"));
		CHECK(auth_tenant(a) && !strcmp(auth_tenant(a), "t1"));
		CHECK(auth_describe(a, &desc) == 0);
		CHECK(desc && !strstr(desc, "very-secret-value"));
		free(desc);
		auth_free(a);
	}
	clear_env();
}

/* The Azure CLI through a fake az: expires_on, tenant, failures. */
static void test_cli(void)
{
	struct auth_cfg o;
	struct auth *a = NULL;
	char az[512], argsf[512], script[2048], err[512], tok[256], path[600];
	long long exp = (long long)time(NULL) + 3600;
	FILE *f;

	snprintf(az, sizeof(az), "%s/az", dir);
	snprintf(argsf, sizeof(argsf), "%s/az.args", dir);
	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "printf '%%s\\n' \"$@\" > '%s'\n"
		 "if [ -e '%s/az.fail' ]; then echo 'ERROR: Please run az login to setup account.' >&2; exit 1; fi\n"
		 "cat <<EOT\n{\"accessToken\": \"cli-token\", \"expiresOn\": \"x\", \"expires_on\": %lld,\n"
		 " \"tenant\": \"tenant-from-cli\", \"tokenType\": \"Bearer\"}\nEOT\n",
		 argsf, dir, exp);
	put(az, script, 0);
	chmod(az, 0755);
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	setenv("PATH", path, 1);
	clear_env();

	/* Explicit: auto would probe the real IMDS address first. */
	cfg_for(&o, "cli", NULL);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == 0);
	if (a) {
		char *desc = NULL;
		CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == 0);
		CHECK(!strcmp(tok, "cli-token"));
		CHECK(!strcmp(auth_source_name(a), "cli"));
		CHECK(auth_tenant(a) && !strcmp(auth_tenant(a), "tenant-from-cli"));
		CHECK(auth_describe(a, &desc) == 0);
		CHECK(desc && strstr(desc, "tenant: tenant-from-cli") && !strstr(desc, "cli-token"));
		free(desc);
		auth_free(a);
	}
	f = fopen(argsf, "r");
	CHECK(f != NULL);
	if (f) {
		char line[256], all[1024] = "";
		while (fgets(line, sizeof(line), f))
			strncat(all, line, sizeof(all) - strlen(all) - 1);
		fclose(f);
		CHECK(!strcmp(all, "account\nget-access-token\n--resource\nhttps://management.azure.com/\n-o\njson\n"));
	}

	/* az failing: EACCES with its first stderr line. */
	snprintf(path, sizeof(path), "%s/az.fail", dir);
	put(path, "", 0);
	cfg_for(&o, "cli", NULL);
	CHECK(auth_new(&o, &a, err, sizeof(err)) == 0);
	if (a) {
		CHECK(auth_token(a, 0, tok, sizeof(tok), err, sizeof(err)) == -EACCES);
		CHECK(strstr(err, "az login") != NULL);
		auth_free(a);
	}
	unlink(path);
}

/* Answers of token endpoints. */
static void test_answers(void)
{
	char tok[64], err[256], tenant[64] = "";
	time_t exp;
	const char *ok = "{\"access_token\":\"abc\",\"expires_in\":\"60\"}";
	const char *bad = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret.\"}";

	CHECK(auth_take_answer(0, 200, ok, strlen(ok), "t", ARM_ERRNO_TOKEN, tok, sizeof(tok), &exp, tenant, sizeof(tenant), err,
			       sizeof(err)) == 0);
	CHECK(!strcmp(tok, "abc") && exp >= time(NULL) + 59);
	CHECK(auth_take_answer(0, 401, bad, strlen(bad), "t", ARM_ERRNO_TOKEN, tok, sizeof(tok), &exp, NULL, 0, err, sizeof(err)) ==
	      -EACCES);
	CHECK(strstr(err, "invalid_client") && strstr(err, "401"));
	CHECK(auth_take_answer(0, 503, NULL, 0, "t", ARM_ERRNO_TOKEN, tok, sizeof(tok), &exp, NULL, 0, err, sizeof(err)) == -EIO);
	CHECK(auth_take_answer(0, 200, "nope", 4, "t", ARM_ERRNO_TOKEN, tok, sizeof(tok), &exp, NULL, 0, err, sizeof(err)) == -EIO);
	CHECK(auth_take_answer(-EHOSTUNREACH, 0, NULL, 0, "t", ARM_ERRNO_TOKEN, tok, sizeof(tok), &exp, NULL, 0, err, sizeof(err)) ==
	      -EHOSTUNREACH);
	CHECK(auth_take_answer(0, 200, ok, strlen(ok), "t", ARM_ERRNO_TOKEN, tok, 3, &exp, NULL, 0, err, sizeof(err)) == -ENOSPC);
	/* A token endpoint: transient answers EIO, the rest a refusal; IMDS also
	 * counts 404 and 410 as transient. */
	{
		static const int st[] = {408, 429, 500, 503, 599, 400, 404, 410, 201, 302};
		static const int token[] = {-EIO, -EIO, -EIO, -EIO, -EIO, -EACCES, -EACCES, -EACCES, -EACCES, -EACCES};
		static const int imds[] = {-EIO, -EIO, -EIO, -EIO, -EIO, -EACCES, -EIO, -EIO, -EACCES, -EACCES};
		for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
			CHECK(auth_take_answer(0, st[i], NULL, 0, "t", ARM_ERRNO_TOKEN, tok, sizeof(tok), &exp, NULL, 0, err,
					       sizeof(err)) == token[i]);
			CHECK(auth_take_answer(0, st[i], NULL, 0, "t", ARM_ERRNO_IMDS, tok, sizeof(tok), &exp, NULL, 0, err,
					       sizeof(err)) == imds[i]);
		}
		CHECK(arm_errno_of(ARM_ERRNO_IMDS, 200, NULL, NULL, HTTP_T_NONE) == 0);
		CHECK(arm_errno_of(ARM_ERRNO_TOKEN, 0, NULL, NULL, HTTP_T_TIMEOUT) == -ETIMEDOUT);
	}
	CHECK(auth_take_answer(0, 404, bad, strlen(bad), "IMDS", ARM_ERRNO_IMDS, tok, sizeof(tok), &exp, NULL, 0, err,
			       sizeof(err)) == -EIO);
	CHECK(!strcmp(err, "IMDS answered 404 invalid_client: AADSTS7000215: Invalid client secret."));
	CHECK(auth_take_answer(0, 410, NULL, 0, "IMDS", ARM_ERRNO_IMDS, tok, sizeof(tok), &exp, NULL, 0, err, sizeof(err)) ==
	      -EIO);
	CHECK(!strcmp(err, "IMDS answered 410"));
}

/* The client credentials form, byte for byte (Entra reads it by name, the
 * tests of armsim by bytes). */
static void test_entra_form(void)
{
	char *f = auth_entra_form("c id", "https://m.example/.default", "s&=+%", NULL);

	CHECK(f && !strcmp(f, "grant_type=client_credentials&client_id=c%20id&client_secret=s%26%3D%2B%25"
			     "&scope=https%3A%2F%2Fm.example%2F.default"));
	auth_secret_free(f);
	f = auth_entra_form("cid", "sc", NULL, "a.b-c_d~");
	CHECK(f && !strcmp(f, "grant_type=client_credentials&client_id=cid&scope=sc&client_assertion_type="
			     "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
			     "&client_assertion=a.b-c_d~"));
	auth_secret_free(f);
}

/* The IMDS retry policy: doubling from 800 ms (3 s for 410), at most 16 s
 * a wait; a 404 outage is retried for about 70 s in all, a 410 one longer. */
static void test_msi_policy(void)
{
	long sum404 = 0, sum410 = 0;
	unsigned i;

	CHECK(msi_retry_delay_ms(0, 404) == 800);
	CHECK(msi_retry_delay_ms(1, 503) == 1600);
	CHECK(msi_retry_delay_ms(0, 410) == 3000);
	CHECK(msi_retry_delay_ms(9, 429) == 16000);
	for (i = 0; sum404 + msi_retry_delay_ms(i, 404) <= 70000; i++)
		sum404 += msi_retry_delay_ms(i, 404);
	CHECK(sum404 > 55000 && sum404 <= 70000);
	for (i = 0; sum410 <= 70000; i++)
		sum410 += msi_retry_delay_ms(i, 410);
	CHECK(sum410 >= 70000);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/unit_auth.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_answers();
	test_entra_form();
	test_msi_policy();
	test_token_file();
	test_auto();
	test_cli();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "cleanup of %s failed\n", dir);
	}
	return unit_result("unit_auth");
}
