/*
 * fuzz.h - what the fuzz targets share: the libFuzzer entry point, and a
 * check that aborts with a message (so a broken invariant is a crash the
 * fuzzer keeps, and the replay test fails on it).
 *
 * Each target is built two ways: by tests/fuzz/run.sh with clang and
 * -fsanitize=fuzzer (libFuzzer's main), and by make check with the normal
 * compiler and replay.c (a main that feeds files to the same entry point).
 */
#ifndef RPFS_FUZZ_H
#define RPFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* 1 when s is valid UTF-8 (no overlong forms, no surrogates): an oracle
 * written apart from src/, so a fuzz check does not test code with itself. */
static inline int fuzz_utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p, n, cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

#endif
