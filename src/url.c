/*
 * url.c - URL text, pure: percent-encoding and the loopback test.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"

/* 1 when c is one of RFC 3986's unreserved characters. */
static int url_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode every byte but the unreserved ones. */
char *url_pct_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t n = 0;
	char *r, *o;

	for (p = (const unsigned char *)s; *p; p++)
		n += url_unreserved(*p) ? 1 : 3;
	r = malloc(n + 1);
	if (!r)
		return NULL;
	for (o = r, p = (const unsigned char *)s; *p; p++) {
		if (url_unreserved(*p)) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return r;
}

/* The host part of an absolute URL (brackets of IPv6 removed). */
int url_host(const char *url, char *host, size_t len)
{
	const char *p = strstr(url, "://");
	const char *end;
	size_t n;

	if (!p)
		return -EINVAL;
	p += 3;
	if (strchr(p, '@') && strchr(p, '@') < p + strcspn(p, "/?#"))
		return -EINVAL; /* userinfo in a URL: never */
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return -EINVAL;
		p++;
	} else {
		end = p + strcspn(p, ":/?#");
	}
	n = (size_t)(end - p);
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

/* 1 when URL's host is a loopback address or localhost. */
int url_is_loopback(const char *url)
{
	char host[256];
	struct in_addr a4;
	struct in6_addr a6;

	if (!url || url_host(url, host, sizeof(host)) < 0)
		return 0;
	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}
