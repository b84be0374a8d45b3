/*
 * tree_journal.c - what this mount tells about its mutations: the
 * .rpfs/ops ring (one line per request sent, recorded under dry_run or
 * refused), the refusals rpfs decides itself (a .rpfs/errors line saying
 * what to do instead), and each point's last failed operation (its
 * `error` file).
 *
 * Why it is built this way: checks that rpfs can make from what it knows
 * are made before sending (errno as ARM's answer would give, the reason
 * logged and in .rpfs/ops); the rest comes from ARM's answer through
 * arm_errno.  The ops lines are the interface scripts and tests read, so
 * their format is written once, here (tree_errname names the errno).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sbuf.h"
#include "tree_int.h"

/* Name of an errno as the tests and scripts expect to read it. */
const char *tree_errname(int rc)
{
	switch (-rc) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case EEXIST:
		return "EEXIST";
	case EBUSY:
		return "EBUSY";
	case EDQUOT:
		return "EDQUOT";
	case ENOENT:
		return "ENOENT";
	case EACCES:
		return "EACCES";
	case EAGAIN:
		return "EAGAIN";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENOTEMPTY:
		return "ENOTEMPTY";
	case EPERM:
		return "EPERM";
	default:
		return "EIO";
	}
}

void tree_ops_add(struct tree *t, const char *fmt, ...)
{
	char ts[32], *body = NULL, *s;
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		body = NULL;
	va_end(ap);
	if (!body)
		return;
	s = tree_asprintf("%s %s\n", ts, body);
	free(body);
	if (!s)
		return;
	pthread_mutex_lock(&t->mlock);
	free(t->ops[t->ops_next]);
	t->ops[t->ops_next] = s;
	t->ops_next = (t->ops_next + 1) % OPS_MAX;
	if (t->ops_count < OPS_MAX)
		t->ops_count++;
	pthread_mutex_unlock(&t->mlock);
}

/* The recorder of dry_run's backend: one request line into .rpfs/ops. */
void tree_ops_record(void *tree, const char *line)
{
	tree_ops_add(tree, "%s", line);
}

/* .rpfs/ops: oldest first. */
int tree_render_ops(struct tree *t, char **out)
{
	struct sbuf b;

	sbuf_init(&b, TREE_LOG_TEXT_MAX);
	pthread_mutex_lock(&t->mlock);
	for (size_t i = 0; i < t->ops_count; i++) {
		size_t k = (t->ops_next + OPS_MAX - t->ops_count + i) % OPS_MAX;

		sbuf_adds(&b, t->ops[k]);
	}
	pthread_mutex_unlock(&t->mlock);
	return sbuf_finish(&b, out, NULL);
}

/* A refusal rpfs decides itself, without a request: a line in
 * .rpfs/errors (and the log) whose message says what to do instead. */
int tree_refuse_advise(struct tree *t, const char *op, const char *path, int rc, const char *advice)
{
	struct arm_err e = {0};

	snprintf(e.message, sizeof(e.message), "%s", advice);
	cache_record_error(t->c, op, path, &e, rc);
	return rc;
}

/* A mutation refused before sending: .rpfs/ops, and .rpfs/errors and the
 * log with what to do instead. */
int tree_refuse_op(struct tree *t, const char *verb, const char *what, int rc, const char *why)
{
	char msg[256];

	tree_ops_add(t, "%s %s - %s refused: %s", verb, what, tree_errname(rc), why);
	snprintf(msg, sizeof(msg), "%s (nothing sent)", why);
	return tree_refuse_advise(t, verb, what, rc, msg);
}

/* A refusal the FUSE layer decides (another user's change): the log and
 * .rpfs/errors, with what to do instead. */
void tree_refuse(struct tree *t, uint64_t ino, const char *name, const char *op, int rc,
		 const char *why)
{
	struct arm_err e = {0};
	char path[1024];
	size_t len = 0;
	int slot;
	struct tnode *n = tree_node_of(t, ino, &slot);
	const struct tnode *chain[8];
	size_t depth = 0;

	path[0] = '\0';
	for (const struct tnode *p = n; p && p->parent && depth < 8; p = p->parent)
		chain[depth++] = p;
	while (depth-- > 0 && len < sizeof(path))
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/%s", chain[depth]->name);
	if (name && len < sizeof(path))
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/%s", name);
	if (!path[0])
		snprintf(path, sizeof(path), "/");
	snprintf(e.message, sizeof(e.message), "%s", why);
	cache_record_error(t->c, op, path, &e, rc);
}

/* The last failed operation on a point, shown in its `error` file. */
struct op_err {
	struct op_err *next;
	const struct tnode *n;
	char *text;
};

/* The `error` text of point n from this mount, or NULL. */
char *tree_node_error(struct tree *t, const struct tnode *n)
{
	char *s = NULL;

	pthread_mutex_lock(&t->mlock);
	for (struct op_err *e = t->errs; e && !s; e = e->next)
		if (e->n == n)
			s = strdup(e->text);
	pthread_mutex_unlock(&t->mlock);
	return s;
}

/* Remember (text) or forget (NULL) the last failed operation on point n. */
void tree_set_node_error(struct tree *t, const struct tnode *n, char *text)
{
	struct op_err **pp, *e;

	pthread_mutex_lock(&t->mlock);
	for (pp = &t->errs; *pp; pp = &(*pp)->next)
		if ((*pp)->n == n) {
			e = *pp;
			*pp = e->next;
			free(e->text);
			free(e);
			break;
		}
	if (text && (e = calloc(1, sizeof(*e))) != NULL) {
		e->n = n;
		e->text = text;
		e->next = t->errs;
		t->errs = e;
		text = NULL;
	}
	pthread_mutex_unlock(&t->mlock);
	free(text);
}

/* Free every remembered error. */
void tree_errs_free(struct tree *t)
{
	struct op_err *e, *next;

	for (e = t->errs; e; e = next) {
		next = e->next;
		free(e->text);
		free(e);
	}
	t->errs = NULL;
}
