/*
 * log.c - rpfs logging: stderr in the foreground, syslog otherwise, or a
 * file named by log=FILE.
 *
 * One line per message, written with a single write so that lines from
 * different threads never interleave.  Control bytes, which names from
 * users and answers from servers may hold, are written \xHH, so a
 * message cannot forge lines or drive the terminal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_to_syslog;
static int log_fd = -1; /* log=FILE: the open file, else -1 */
static char *log_path;	/* log=FILE: its absolute name, for log_reopen */
static enum log_level log_max = LOG_LVL_INFO;
static const char *log_ident = "rpfs";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* By enum log_level; also the choices of -o log_level (opts.c). */
const char *const log_level_names[] = {"error", "warning", "info", "debug", NULL};

/* Start logging to syslog (to_syslog) or stderr, dropping messages above level. */
void log_open(const char *ident, int to_syslog, enum log_level level)
{
	pthread_mutex_lock(&log_lock);
	log_ident = ident ? ident : "rpfs";
	log_to_syslog = to_syslog;
	log_max = level;
	if (to_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	pthread_mutex_unlock(&log_lock);
}

/* Close whatever the log goes to (syslog, a file); log_lock held. */
static void sink_close_locked(void)
{
	if (log_to_syslog)
		closelog();
	log_to_syslog = 0;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	free(log_path);
	log_path = NULL;
}

/* Open path for appending: an fd or -errno. */
static int log_file_fd(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	return fd < 0 ? -errno : fd;
}

/* Send the log to the file at absolute path from now on. */
int log_open_file(const char *path)
{
	char *copy;
	int fd;

	if (!path || path[0] != '/')
		return -EINVAL;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	fd = log_file_fd(path);
	if (fd < 0) {
		free(copy);
		return fd;
	}
	pthread_mutex_lock(&log_lock);
	sink_close_locked();
	log_fd = fd;
	log_path = copy;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

/* Reconnect to syslog, or reopen the log file by name (after SIGHUP, a
 * restarted syslog daemon, or logrotate). */
void log_reopen(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_to_syslog) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	if (log_fd >= 0) {
		int fd = log_file_fd(log_path);

		/* Cannot open it again: keep writing to the old one. */
		if (fd >= 0) {
			close(log_fd);
			log_fd = fd;
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	sink_close_locked();
	pthread_mutex_unlock(&log_lock);
}

/* Parse "error", "warning", "info", "debug" (or 0..3). */
int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++) {
		if (!strcasecmp(s, log_level_names[i]) || (s[0] == '0' + i && !s[1])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "warn")) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -EINVAL;
}

/* Log one line at lvl. */
void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char raw[2048], line[2048];
	size_t len = 0;
	int saved = errno;
	va_list ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* A message is one line of printable bytes. */
	for (const unsigned char *p = (const unsigned char *)raw; *p && len + 5 < sizeof(line);
	     p++) {
		if (*p < 0x20 || *p == 0x7f)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\x%02x", *p);
		else
			line[len++] = (char)*p;
	}
	line[len] = '\0';

	if (log_to_syslog) {
		syslog(prio[lvl], "%s", line);
	} else {
		char out[2200];
		struct timespec ts;
		struct tm tm;
		int n, fd;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		pthread_mutex_lock(&log_lock);
		fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
		if (log_fd >= 0) /* a file keeps lines for days: they carry the date (UTC) */
			n = snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ",
				     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
		else
			n = snprintf(out, sizeof(out), "%02d:%02d:%02d.%03ld ", tm.tm_hour,
				     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
		n += snprintf(out + n, sizeof(out) - (size_t)n, "%s[%d]: %s: %s\n", log_ident,
			      (int)getpid(), log_level_names[lvl], line);
		if (n > (int)sizeof(out) - 1)
			n = (int)sizeof(out) - 1;
		if (write(fd, out, (size_t)n) < 0) {
			/* nowhere left to report it */
		}
		pthread_mutex_unlock(&log_lock);
	}
	errno = saved;
}
