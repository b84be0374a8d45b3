/*
 * unit.h - what the C unit tests share: CHECK counts a failed condition
 * with its place and goes on; unit_result() prints the outcome and gives
 * the exit status (0: every check passed).
 */
#ifndef RPFS_TESTS_UNIT_H
#define RPFS_TESTS_UNIT_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static inline int unit_result(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
