/* sim_util.c - small helpers shared by armsim's files: GUIDs, time
 * formats, response building and CloudError bodies. */
#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <sys/random.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* xorshift64*: a small PRNG; armsim needs variety, not secrecy. */
uint64_t sim_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Format 128 bits as a version-4 style GUID. */
static void guid_fmt(char out[37], uint64_t a, uint64_t b)
{
	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
		 (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

/* A fresh random GUID (request ids, operation ids, tokens). */
void sim_guid(char out[37])
{
	static __thread uint64_t st;
	if (!st) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		st = (uint64_t)ts.tv_nsec * 6364136223846793005ULL ^ (uint64_t)ts.tv_sec ^
		     (uint64_t)(uintptr_t)&st;
	}
	uint64_t a = sim_rand(&st), b = sim_rand(&st);
	guid_fmt(out, a, b);
}

/* FNV-1a over the lower-cased string. */
uint64_t sim_hash(const char *s, uint64_t h)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A GUID derived from two strings, so ids stay stable without storage. */
void sim_guid_from(char out[37], const char *a, const char *b)
{
	uint64_t h1 = sim_hash(b, sim_hash(a, 0xcbf29ce484222325ULL));
	uint64_t h2 = sim_hash(a, sim_hash(b, 0x84222325cbf29ce4ULL) ^ 0x5bd1e995);
	guid_fmt(out, sim_rand(&h1), sim_rand(&h2));
}

/* Compute's time format: 7 fractional digits and +00:00. */
void sim_fmt_time(double t, char *out, size_t n)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	long frac = (long)((t - (double)s) * 1e7);
	if (frac < 0)
		frac = 0;
	if (frac > 9999999)
		frac = 9999999;
	char d[32];
	strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%07ld+00:00", d, frac);
}

/* RFC 3339 with milliseconds and Z, for the request log. */
void sim_fmt_time_ms(double t, char *out, size_t n)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	char d[32];
	strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03dZ", d, (int)((t - (double)s) * 1000));
}

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac][Z|+00:00]" (UTC only). */
int sim_parse_time(const char *s, double *out)
{
	struct tm tm = {0};
	int consumed = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
		return -22;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	double frac = 0;
	const char *p = s + consumed;
	if (*p == '.') {
		double scale = 0.1;
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p && strcmp(p, "Z") && strcmp(p, "+00:00") && strcmp(p, "z"))
		return -22;
	*out = (double)timegm(&tm) + frac;
	return 0;
}

/* The string at o.a.b.c (fewer keys when b or c is NULL), or NULL. */
const char *sim_jget_path(json_object *o, const char *a, const char *b, const char *c)
{
	json_object *x = o;
	const char *keys[3] = {a, b, c};
	for (int i = 0; i < 3 && keys[i]; i++)
		if (!x || !json_object_object_get_ex(x, keys[i], &x))
			return NULL;
	return x && json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
}

/* A string field of o, or NULL. */
const char *sim_jget_str(json_object *o, const char *a)
{
	return sim_jget_path(o, a, NULL, NULL);
}

/* 1 and *out for a number field, 0 when absent, -1 for another type. */
int sim_jget_num(json_object *o, const char *k, double *out)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return -1;
	*out = json_object_get_double(v);
	return 1;
}

/* strdup that treats NULL as NULL and aborts on exhaustion. */
char *sim_xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

/* Add a header to a response (copied). */
void sim_resp_header(struct sim_resp *r, const char *name, const char *value)
{
	if (r->nh >= SIM_MAX_HDRS)
		return;
	r->hn[r->nh] = sim_xstrdup(name);
	r->hv[r->nh] = sim_xstrdup(value);
	r->nh++;
}

/* Set a JSON body (takes the reference to o) and a status. */
void sim_resp_json(struct sim_resp *r, int status, json_object *o)
{
	free(r->body);
	r->status = status;
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	r->body = sim_xstrdup(s);
	r->len = strlen(r->body);
	json_object_put(o);
}

/* A CloudError body: {"error":{"code","message"}}. */
void sim_resp_error(struct sim_resp *r, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", e);
	sim_resp_json(r, status, o);
}

/* Release what a response holds. */
void sim_resp_free(struct sim_resp *r)
{
	free(r->body);
	for (int i = 0; i < r->nh; i++) {
		free(r->hn[i]);
		free(r->hv[i]);
	}
	memset(r, 0, sizeof *r);
}

/* "West US 2" or "WestUS2" -> "westus2". */
int sim_lower_loc(const char *in, char *out, size_t n)
{
	size_t j = 0;
	for (; in && *in; in++) {
		if (*in == ' ')
			continue;
		if (j + 1 >= n)
			return -36;
		out[j++] = (char)tolower((unsigned char)*in);
	}
	out[j] = 0;
	return 0;
}

/* Sleep ms milliseconds (signals do not cut it short). */
void sim_sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* n bytes from the kernel's generator (SAS signatures must be unguessable). */
void sim_random_bytes(unsigned char *out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = getrandom(out + got, n - got, 0);
		if (k < 0 && errno != EINTR)
			abort();
		if (k > 0)
			got += (size_t)k;
	}
}
