/*
 * url.h - URL text, pure (no I/O, no libcurl): percent-encoding and the
 * loopback test.  Used by the ARM ids (encoded paths), the credential
 * sources (form bodies), the blob reader and the option checks, so each
 * rule exists once.
 */
#ifndef RPFS_URL_H
#define RPFS_URL_H

#include <stddef.h>

/* Percent-encode s: every byte but RFC 3986's unreserved ones (ALPHA,
 * DIGIT, '-', '.', '_', '~') becomes %XX (uppercase hex).  One URL path
 * segment, a query value or an application/x-www-form-urlencoded value.
 * Caller frees; NULL on ENOMEM. */
char *url_pct_encode(const char *s);

/* The host part of an absolute URL ("scheme://host..."), IPv6 brackets
 * removed, into host[len].  A URL with user info is refused.  0 or -EINVAL. */
int url_host(const char *url, char *host, size_t len);

/* 1 when an absolute URL's host is localhost or a loopback address
 * (127.0.0.0/8, ::1); 0 otherwise, also for a URL with user info. */
int url_is_loopback(const char *url);

#endif
