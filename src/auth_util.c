/*
 * auth_util.c - what every credential source needs (auth_int.h): reading a
 * small secret file, wiping a secret, and turning a token answer into a
 * token and an errno.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arm_err.h"
#include "armjson.h"
#include "auth_int.h"

/* Zero and free a secret string. */
void auth_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Read a small file, trimmed; caller zeroes and frees. */
int auth_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *buf;
	size_t n = 0, start = 0;
	ssize_t r;
	int fd, rc = 0;

	*out = NULL;
	if (len)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < max && (r = read(fd, buf + n, max - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		n += (size_t)r;
	}
	if (!rc && n == max) {
		char extra;
		if (read(fd, &extra, 1) > 0)
			rc = -EFBIG;
	}
	close(fd);
	if (rc) {
		explicit_bzero(buf, max + 1);
		free(buf);
		return rc;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '\t'))
		n--;
	while (start < n && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\n' ||
			     buf[start] == '\r'))
		start++;
	if (start)
		memmove(buf, buf + start, n - start);
	n -= start;
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/* Turn a token endpoint answer into a token. */
int auth_take_answer(int rc, long status, const char *body, size_t len, const char *what,
		     enum arm_errno_kind kind, char *tok, size_t toklen, time_t *exp, char *tenant,
		     size_t tlen, char *err, size_t errlen)
{
	char code[64], msg[256];
	char *t = NULL, *tn = NULL;

	if (rc)
		return rc;
	if (status != 200) {
		if (body && len &&
		    !armj_parse_cloud_error(body, len, code, sizeof(code), msg, sizeof(msg)))
			snprintf(err, errlen, "%s answered %ld %s: %.160s", what, status, code,
				 msg);
		else
			snprintf(err, errlen, "%s answered %ld", what, status);
		return arm_errno_of(kind, (int)status, NULL, NULL, HTTP_T_NONE);
	}
	rc = armj_parse_token(body, len, &t, exp, &tn);
	if (rc) {
		snprintf(err, errlen, "%s gave an answer without a token", what);
		return rc == -ENOMEM ? rc : -EIO;
	}
	if (strlen(t) + 1 > toklen) {
		auth_secret_free(t);
		free(tn);
		snprintf(err, errlen, "%s gave a token that is too long", what);
		return -ENOSPC;
	}
	memcpy(tok, t, strlen(t) + 1);
	auth_secret_free(t);
	if (tn && tenant && tlen)
		snprintf(tenant, tlen, "%s", tn);
	free(tn);
	return 0;
}
