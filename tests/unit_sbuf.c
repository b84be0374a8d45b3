/* unit_sbuf.c - the capped string builder (src/sbuf.c). */
#include "config.h"

#include "../src/sbuf.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	struct sbuf b;
	char *s = NULL;
	size_t len = 99;

	/* Empty: "" and 0. */
	sbuf_init(&b, 16);
	CHECK(sbuf_finish(&b, &s, &len) == 0);
	CHECK(s && !strcmp(s, "") && len == 0);
	free(s);

	/* Appends of each kind, growing past the first allocation. */
	sbuf_init(&b, 4096);
	CHECK(sbuf_adds(&b, "id ") == 0);
	CHECK(sbuf_add(&b, "abcdef", 3) == 0);
	for (int i = 0; i < 200; i++)
		CHECK(sbuf_addf(&b, "%d,", i % 10) == 0);
	CHECK(b.len == 6 + 400);
	CHECK(sbuf_finish(&b, &s, &len) == 0);
	CHECK(len == 406 && strlen(s) == 406 && !strncmp(s, "id abc0,1,2,", 12));
	free(s);

	/* Exactly the ceiling fits; one byte more fails and sticks. */
	sbuf_init(&b, 8);
	CHECK(sbuf_addf(&b, "%s", "12345678") == 0);
	CHECK(sbuf_addf(&b, "%c", 'x') == -EFBIG);
	CHECK(b.len == 8 && !strcmp(b.p, "12345678"));
	CHECK(sbuf_adds(&b, "") == -EFBIG);
	CHECK(sbuf_finish(&b, &s, &len) == -EFBIG);
	CHECK(b.p == NULL);

	/* A formatted append larger than the room left fails whole. */
	sbuf_init(&b, 10);
	CHECK(sbuf_adds(&b, "abcd") == 0);
	CHECK(sbuf_addf(&b, "%s", "0123456789") == -EFBIG);
	CHECK(b.len == 4 && !strcmp(b.p, "abcd"));
	sbuf_free(&b);

	/* A raw append over the ceiling. */
	sbuf_init(&b, 3);
	CHECK(sbuf_add(&b, "abcd", 4) == -EFBIG);
	CHECK(b.len == 0);
	sbuf_free(&b);
	return unit_result("unit_sbuf");
}
