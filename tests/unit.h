/*
 * unit.h - what the C unit tests share: CHECK counts a failed condition
 * with its place and goes on; CHECK_MSG says why in printf style,
 * CHECK_STR and CHECK_INT print both sides; unit_result() prints the
 * outcome and gives the exit status (0: every check passed).
 */
#ifndef RPFS_TESTS_UNIT_H
#define RPFS_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* CHECK with a message: CHECK_MSG(n == 3, "got %d entries", n). */
#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Two strings are equal (NULL equals nothing). */
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_)) {                                                \
			fprintf(stderr, "%s:%d: [%s] != [%s]\n", __FILE__, __LINE__,               \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");                           \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Two integers are equal. */
#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			fprintf(stderr, "%s:%d: %s is %lld, not %lld\n", __FILE__, __LINE__, #a,   \
				a_, b_);                                                           \
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
