/* http_version.c - the libcurl version, for rpfs --version. */
#include "config.h"

#include <curl/curl.h>

#include "http.h"

/* libcurl's version string (static). */
const char *http_version(void)
{
	return curl_version_info(CURLVERSION_NOW)->version;
}
