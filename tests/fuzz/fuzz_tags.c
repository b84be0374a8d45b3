/*
 * fuzz_tags.c - libFuzzer target for tags: the input is the value of a
 * collection's "tags" member, parsed through armj_parse_rpc (the only tag
 * parser the ARM client has: .rpfs shows tags as key=value lines rendered
 * from it); tags that parse are written back with arm_body_patch_tags and
 * must read back the same (the PATCH a tags write sends), and the text of
 * the `tags` file (src/tags.c) must parse back to the same tags, so that
 * writing back what was read changes nothing.
 */
#include "config.h"

#include <string.h>

#include "arm.h"
#include "armjson.h"
#include "fuzz.h"
#include "tags.h"

#define HEAD                                                                                       \
	"{\"id\":\"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/"                 \
	"restorePointCollections/c\",\"name\":\"c\",\"location\":\"eastus\",\"tags\":"

/* Parse tags given as the text of a JSON value; 0 and *out filled on success. */
static int parse_tags(const char *val, size_t len, struct arm_rpc *out)
{
	size_t hl = strlen(HEAD);
	char *doc = malloc(hl + len + 2);
	if (!doc)
		return -1;
	memcpy(doc, HEAD, hl);
	memcpy(doc + hl, val, len);
	doc[hl + len] = '}';
	doc[hl + len + 1] = '\0';
	memset(out, 0, sizeof(*out));
	int rc = armj_parse_rpc(doc, hl + len + 1, out);
	free(doc);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arm_rpc a, b;
	if (parse_tags((const char *)data, size, &a) != 0)
		return 0;
	for (size_t i = 0; i < a.ntags; i++)
		FUZZ_CHECK(a.tags[i].key);
	char *body = arm_body_patch_tags(a.tags, a.ntags);
	FUZZ_CHECK(body);
	FUZZ_CHECK(armj_valid(body, strlen(body)) == 0);
	/* body is {"tags":{...}}: read the object back */
	const char *p = strchr(body, ':');
	FUZZ_CHECK(p && body[strlen(body) - 1] == '}');
	FUZZ_CHECK(parse_tags(p + 1, strlen(p + 1) - 1, &b) == 0);
	FUZZ_CHECK(b.ntags == a.ntags);
	for (size_t i = 0; i < a.ntags; i++) {
		FUZZ_CHECK(!strcmp(a.tags[i].key, b.tags[i].key));
		FUZZ_CHECK(!a.tags[i].value == !b.tags[i].value);
		FUZZ_CHECK(!a.tags[i].value || !strcmp(a.tags[i].value, b.tags[i].value));
	}
	arm_rpc_clear(&b);
	free(body);

	/* The tags file: ARM allows neither an empty key nor more than
	 * TAGS_MAX tags, and the text refuses both. */
	int fits = a.ntags <= TAGS_MAX;
	for (size_t i = 0; i < a.ntags; i++)
		fits = fits && a.tags[i].key[0];
	if (fits) {
		char *text = tags_render(a.tags, a.ntags);
		struct arm_tag *t = NULL;
		size_t nt = 0;

		FUZZ_CHECK(text);
		FUZZ_CHECK(tags_parse(text, strlen(text), &t, &nt) == 0);
		FUZZ_CHECK(nt == a.ntags);
		for (size_t i = 0; i < nt; i++) {
			FUZZ_CHECK(!strcmp(t[i].key, a.tags[i].key));
			FUZZ_CHECK(!strcmp(t[i].value, a.tags[i].value ? a.tags[i].value : ""));
		}
		tags_free(t, nt);
		free(text);
	}
	arm_rpc_clear(&a);
	return 0;
}
