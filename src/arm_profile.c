/*
 * arm_profile.c - what the ARM client learns from the machine rather than
 * from ARM: the Azure CLI's default subscription, and library versions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arm.h"
#include "armjson.h"
#include "http.h"

#define PROFILE_MAX (4 * 1024 * 1024)

/* The Azure CLI's default subscription from $AZURE_CONFIG_DIR (else
 * ~/.azure)/azureProfile.json.  0, -ENOENT, -EIO, -ENOMEM. */
int arm_az_default_subscription(char **out)
{
	const char *dir = getenv("AZURE_CONFIG_DIR"), *home = getenv("HOME");
	char path[4096], *buf = NULL;
	struct stat st;
	ssize_t got;
	int fd, rc;

	*out = NULL;
	if (dir && *dir)
		snprintf(path, sizeof(path), "%s/azureProfile.json", dir);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.azure/azureProfile.json", home);
	else
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > PROFILE_MAX) {
		rc = -EIO;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	got = read(fd, buf, (size_t)st.st_size);
	if (got != st.st_size) {
		rc = -EIO;
		goto out;
	}
	rc = armj_az_default_subscription(buf, (size_t)got, out);
out:
	free(buf);
	close(fd);
	return rc;
}

/* "libcurl X, json-c Y" for rpfs --version. */
void arm_lib_versions(char *buf, size_t len)
{
	snprintf(buf, len, "libcurl %s\njson-c %s", http_version(), armj_version());
}
