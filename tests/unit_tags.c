/*
 * unit_tags.c - the text of a `tags` file (src/tags.c): every tag set
 * comes back unchanged from its text, what a line cannot carry is
 * escaped, bad text is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tags.h"
#include "unit.h"


/* Render the n tags, check the text, parse it back and compare. */
static void round_trip(const struct arm_tag *v, size_t n, const char *want_text)
{
	char *text = tags_render(v, n);
	struct arm_tag *back = NULL;
	size_t nback = 0;

	CHECK(text != NULL);
	if (!text)
		return;
	if (want_text)
		CHECK_STR(text, want_text);
	CHECK(tags_parse(text, strlen(text), &back, &nback) == 0);
	CHECK(nback == n);
	for (size_t i = 0; i < n && i < nback; i++) {
		CHECK_MSG(!strcmp(back[i].key, v[i].key) && !strcmp(back[i].value, v[i].value),
			  "tag %zu came back as [%s]=[%s], was [%s]=[%s]", i, back[i].key,
			  back[i].value, v[i].key, v[i].value);
	}
	tags_free(back, nback);
	free(text);
}

static int parse(const char *text, size_t *n)
{
	struct arm_tag *v = NULL;
	int rc = tags_parse(text, strlen(text), &v, n);

	if (rc == 0)
		tags_free(v, *n);
	return rc;
}

int main(void)
{
	const struct arm_tag plain[] = {{"env", "prod"}, {"owner", "ops team"}};
	const struct arm_tag odd[] = {
	    {"a=b", "c"},	      /* '=' in a key */
	    {"cpu", "80%"},	      /* a '%' that stays as it is */
	    {"lit", "%41 and %zz"},   /* a '%' that looks like an escape */
	    {"multi", "one\ntwo\r"}, /* line breaks */
	    {"pad", " x "},	      /* spaces kept */
	    {"eq", "k=v=w"},	      /* '=' in a value */
	    {"empty", ""},
	};
	struct arm_tag many[TAGS_MAX + 1];
	char text[4096];
	size_t n = 0, off = 0;

	round_trip(plain, 2, "env=prod\nowner=ops team\n");
	round_trip(NULL, 0, "");
	round_trip(odd, sizeof(odd) / sizeof(odd[0]),
		   "a%3Db=c\ncpu=80%\nlit=%2541 and %zz\nmulti=one%0Atwo%0D\npad= x \n"
		   "eq=k=v=w\nempty=\n");

	/* A NUL in a value (kept as ARM_TAG_NUL) is written %00. */
	{
		const struct arm_tag nul[] = {{"k", "a\xff" "b"}};

		round_trip(nul, 1, "k=a%00b\n");
	}
	/* Refused: 0xFF, raw or escaped (no UTF-8), a NUL in a key. */
	CHECK(parse("k=%FF\n", &n) == -EINVAL);
	CHECK(parse("k=\xff\n", &n) == -EINVAL);
	CHECK(parse("a%00=v\n", &n) == -EINVAL);

	/* What people write: CRLF line ends, no final newline, blank lines. */
	CHECK(parse("a=1\r\nb=2", &n) == 0 && n == 2);
	CHECK(parse("\n\na=1\n\n", &n) == 0 && n == 1);
	CHECK(parse("", &n) == 0 && n == 0);
	/* Refused: a line without '=', an empty key. */
	CHECK(parse("a=1\nnot a tag\n", &n) == -EINVAL);
	CHECK(parse("=v\n", &n) == -EINVAL);
	/* At most TAGS_MAX tags. */
	for (int i = 0; i <= TAGS_MAX; i++) {
		char *k = malloc(8);

		snprintf(k, 8, "k%d", i);
		many[i].key = k;
		many[i].value = (char *)"v";
		off += (size_t)snprintf(text + off, sizeof(text) - off, "k%d=v\n", i);
	}
	CHECK(parse(text, &n) == -EINVAL);
	round_trip(many, TAGS_MAX, NULL);
	for (int i = 0; i <= TAGS_MAX; i++)
		free(many[i].key);

	return unit_result("unit_tags");
}
