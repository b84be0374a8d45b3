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

#endif
