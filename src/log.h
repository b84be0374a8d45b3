/*
 * log.h - one logging facility for rpfs: stderr (foreground), syslog, or
 * a file (log=FILE: appended to, reopened on SIGHUP for logrotate).
 *
 * Thread-safe: log_lock (log.c) protects the destination.  Never pass a
 * credential to these functions: callers are responsible for redaction
 * (see http.c, auth.c).
 */
#ifndef RPFS_LOG_H
#define RPFS_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* to_syslog: 0 = stderr. level: messages above it are dropped. */
void log_open(const char *ident, int to_syslog, enum log_level level);
/* Log to the file at absolute path instead (appended to, created 0640);
 * 0 or -errno, and the destination is unchanged on failure. */
int log_open_file(const char *path);
/* Reopen (SIGHUP): reconnects syslog, or opens the log file again by its
 * name (a new one when logrotate moved it away). */
void log_reopen(void);
void log_close(void);
/* A level's name (log_level_names, any case, "warn") or number: 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
/* The level names by enum log_level, NULL-terminated. */
extern const char *const log_level_names[];

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
