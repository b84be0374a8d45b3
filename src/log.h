/*
 * log.h - one logging facility for rpfs: stderr (foreground) or syslog.
 *
 * Thread-safe.  Never pass a credential to these functions: callers are
 * responsible for redaction (see http.c, auth.c).
 */
#ifndef RPFS_LOG_H
#define RPFS_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* to_syslog: 0 = stderr. level: messages above it are dropped. */
void log_open(const char *ident, int to_syslog, enum log_level level);
/* Reopen (SIGHUP): reconnects syslog. */
void log_reopen(void);
void log_close(void);
int log_level_parse(const char *s, enum log_level *out);
enum log_level log_get_level(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
