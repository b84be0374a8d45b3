/*
 * replay.c - main() for a fuzz target built without libFuzzer: every file
 * named on the command line (or found in a directory named there) goes
 * once through LLVMFuzzerTestOneInput.  make check runs it over the
 * regression inputs and the seed corpora, so a fixed crash stays fixed.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Bound on one input (libFuzzer's default -max_len is far below). */
#define REPLAY_MAX (16 << 20)

/* Feed one file to the target; 0, or -1 when it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc = -1;

	if (!f) {
		perror(path);
		return -1;
	}
	buf = malloc(REPLAY_MAX);
	if (!buf)
		goto out;
	n = fread(buf, 1, REPLAY_MAX, f);
	if (ferror(f))
		goto out;
	/* a copy of exactly n bytes, so ASan sees any read past the input */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact)
		goto out;
	memcpy(exact, buf, n);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* Feed a file, or every regular file of a directory (not recursive). */
static int replay_path(const char *path, unsigned *count)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	DIR *d = opendir(path);
	if (!d) {
		perror(path);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		char p[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		(*count)++;
		if (replay_file(p) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) < 0)
			rc = 1;
	printf("%s: %u inputs replayed\n", argv[0], count);
	return rc;
}
