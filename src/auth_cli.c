/*
 * auth_cli.c - the Azure CLI's signed-in account: runs
 * `az account get-access-token --resource RES [--subscription ID | --tenant
 * T] -o json` directly (execvp, no shell, so nothing in the resource string
 * is interpreted), reads its JSON (accessToken, expires_on in epoch
 * seconds, else expiresOn in local time as older az print, tenant) and keeps only
 * the first line of its stderr for the error message.  The child is killed
 * when it does not finish within the token timeout.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "armjson.h"
#include "auth_int.h"

#define CLI_MAX_OUT (64 * 1024)

extern char **environ;

/* Milliseconds of the monotonic clock. */
static long long cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when an executable `az` is on PATH. */
static int cli_on_path(void)
{
	const char *path = getenv("PATH");
	char dir[4096];

	if (!path)
		return 0;
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[4200];
		struct stat st;

		if (n < sizeof(dir)) {
			memcpy(dir, path, n);
			dir[n] = '\0';
			snprintf(full, sizeof(full), "%s/az", n ? dir : ".");
			if (!stat(full, &st) && S_ISREG(st.st_mode) && !access(full, X_OK))
				return 1;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return 0;
}

/* Run az and parse its answer. */
static int cli_fetch(struct auth_src *s, const struct auth_ctx *ctx, char *tok, size_t toklen,
		     time_t *exp, char *tenant, size_t tlen, char *err, size_t errlen)
{
	char *argv[10] = {"az", "account", "get-access-token", "--resource", ctx->resource};
	int argc = 5;
	posix_spawn_file_actions_t fa;
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	char *buf = NULL, ebuf[512];
	size_t n = 0, en = 0;
	long long deadline = cli_now_ms() + (ctx->timeout_ms > 0 ? ctx->timeout_ms : 30000);
	pid_t pid = -1;
	int rc = -EIO, status = 0, open_fds = 2, killed = 0;

	(void)s;
	/* The token of the subscription's tenant (it may not be the CLI's
	 * default tenant), else of the tenant named in the environment. */
	if (ctx->subscription && *ctx->subscription && ctx->subscription[0] != '-') {
		argv[argc++] = "--subscription";
		argv[argc++] = ctx->subscription;
	} else if (ctx->tenant && *ctx->tenant && ctx->tenant[0] != '-') {
		argv[argc++] = "--tenant";
		argv[argc++] = ctx->tenant;
	}
	argv[argc++] = "-o";
	argv[argc++] = "json";
	argv[argc] = NULL;
	ebuf[0] = '\0';
	buf = malloc(CLI_MAX_OUT + 1);
	if (!buf)
		return -ENOMEM;
	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		snprintf(err, errlen, "az: pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	rc = posix_spawnp(&pid, "az", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	if (rc) {
		snprintf(err, errlen, "az: cannot run: %s", strerror(rc));
		pid = -1;
		rc = -EACCES;
		goto out;
	}
	while (open_fds) {
		struct pollfd pf[2] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
		long long left = deadline - cli_now_ms();
		int i;

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		if (poll(pf, 2, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			char tmp[4096];
			ssize_t r;
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(pf[i].fd, tmp, sizeof(tmp));
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				close(i ? errp[0] : out[0]);
				if (i)
					errp[0] = -1;
				else
					out[0] = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				size_t take = (size_t)r;
				if (n + take > CLI_MAX_OUT)
					take = CLI_MAX_OUT - n;
				memcpy(buf + n, tmp, take);
				n += take;
			} else if (en < sizeof(ebuf) - 1) {
				size_t take = (size_t)r;
				if (en + take > sizeof(ebuf) - 1)
					take = sizeof(ebuf) - 1 - en;
				memcpy(ebuf + en, tmp, take);
				en += take;
				ebuf[en] = '\0';
			}
			explicit_bzero(tmp, sizeof(tmp));
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	buf[n] = '\0';
	if (killed) {
		snprintf(err, errlen, "az account get-access-token did not finish in time");
		rc = -ETIMEDOUT;
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ebuf[strcspn(ebuf, "\n")] = '\0';
		snprintf(err, errlen, "az account get-access-token failed: %.200s",
			 ebuf[0] ? ebuf : "no message");
		rc = -EACCES;
		goto out;
	}
	rc = auth_take_answer(0, 200, buf, n, "az", ARM_ERRNO_TOKEN, tok, toklen, exp, tenant, tlen,
			      err, errlen);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (out[0] >= 0)
		close(out[0]);
	if (errp[0] >= 0)
		close(errp[0]);
	explicit_bzero(buf, CLI_MAX_OUT + 1);
	free(buf);
	return rc;
}

/* Free the source. */
static void cli_free(struct auth_src *s)
{
	free(s);
}

/* The cli source, when `az` is on PATH. */
int auth_cli_new(const struct auth_ctx *ctx, struct auth_src **out, char *why, size_t wl)
{
	struct auth_src *s;

	(void)ctx;
	*out = NULL;
	if (!cli_on_path()) {
		snprintf(why, wl, "az not found on PATH");
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->name = "cli";
	s->fetch = cli_fetch;
	s->free = cli_free;
	*out = s;
	return 0;
}
