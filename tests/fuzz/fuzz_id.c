/*
 * fuzz_id.c - libFuzzer target for ids, names and paths: arm_id_parse,
 * the name rules, percent-encoding of path segments, ISO 8601 times and
 * the same-origin check that keeps the token on the endpoint.
 * Invariants: a parsed id rebuilds to an id that parses to the same parts;
 * an encoded segment holds only unreserved characters and %XX, decodes
 * back to the input, and never contains '/', '?', '#' or '%' unescaped;
 * a name that passes arm_name_check has none of ARM's forbidden characters.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "arm.h"
#include "armjson.h"
#include "fuzz.h"
#include "http.h"
#include "tree.h"
#include "url.h"

/* Check an encoded segment and that it decodes back to s. */
static void check_encoded(const char *s)
{
	char *e = url_pct_encode(s);
	if (!e)
		return;
	size_t n = strlen(s), j = 0;
	for (const char *p = e; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '%') {
			FUZZ_CHECK(p[1] && p[2]);
			unsigned v = 0;
			FUZZ_CHECK(sscanf(p + 1, "%2X", &v) == 1);
			FUZZ_CHECK(j < n && (unsigned char)s[j] == v);
			p += 2;
		} else {
			FUZZ_CHECK((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				   (ch >= '0' && ch <= '9') || strchr("-_.~", ch));
			FUZZ_CHECK(j < n && s[j] == *p);
		}
		j++;
	}
	FUZZ_CHECK(j == n);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *z = malloc(size + 1);
	if (!z)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';

	struct arm_id *id = NULL;
	if (arm_id_parse(z, &id) == 0) {
		FUZZ_CHECK(id->sub && *id->sub && id->rg && *id->rg);
		FUZZ_CHECK(!id->vm != !id->rpc);
		if (id->rpc) {
			char *p = id->rp ? arm_path_rp(id->sub, id->rg, id->rpc, id->rp)
					 : arm_path_rpc(id->sub, id->rg, id->rpc);
			struct arm_id *again = NULL;
			FUZZ_CHECK(p && arm_id_parse(p, &again) == 0);
			FUZZ_CHECK(!strcmp(again->sub, id->sub) && !strcmp(again->rg, id->rg) &&
				   !strcmp(again->rpc, id->rpc) && !again->rp == !id->rp &&
				   (!id->rp || !strcmp(again->rp, id->rp)));
			free(again);
			free(p);
			char *u = id->rp ? arm_url_path_rp(id->sub, id->rg, id->rpc, id->rp)
					 : arm_url_path_rpc(id->sub, id->rg, id->rpc);
			if (u)
				FUZZ_CHECK(!strpbrk(u, "?# "));
			free(u);
		}
		free(id);
	}

	if (arm_name_check(z) == 0) {
		FUZZ_CHECK(*z && !strpbrk(z, "<>%&:\\?/"));
		for (const char *p = z; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		char *u = arm_url_path_rp("s", "g", "c", z);
		if (u) {
			/* the name is one segment: it adds no '/' and no query */
			const char *last = strrchr(u, '/');
			FUZZ_CHECK(last && !strpbrk(u, "?#"));
			free(u);
		}
	}
	if (arm_name_check(z) == 0 || arm_rg_name_check(z) == 0)
		FUZZ_CHECK(fuzz_utf8_ok(z));
	if (arm_rg_name_check(z) == 0)
		FUZZ_CHECK(*z && strlen(z) <= 90 * 4 && !strpbrk(z, "/?#%&:\\<> "));
	check_encoded(z);

	time_t t;
	(void)tree_parse_time(z, &t);

	/* two URLs, split at the first newline */
	char *nl = strchr(z, '\n');
	if (nl) {
		*nl = '\0';
		if (http_same_origin(z, nl + 1))
			FUZZ_CHECK(http_same_origin(nl + 1, z));
	}
	free(z);
	return 0;
}
