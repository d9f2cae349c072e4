/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "magassay/error.h"

int mg_test_failures;

int mg_test_finish(const char *name)
{
	if (mg_test_failures)
		fprintf(stderr, "%s: %d check(s) failed\n", name, mg_test_failures);
	else
		fprintf(stderr, "%s: all checks passed\n", name);
	return mg_test_failures ? 1 : 0;
}

void mg_test_skip(const char *why)
{
	fprintf(stderr, "SKIP: %s\n", why);
	exit(MG_TEST_SKIP);
}

const char *mg_test_data_dir(void)
{
	const char *d = getenv("MAGASSAY_SHARED_DATA");
	struct stat st;
	if (!d || !*d)
		d = MG_TEST_DATA_DIR;
	if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return d;
}

const char *mg_test_require_data_dir(void)
{
	const char *d = mg_test_data_dir();
	if (!d)
		mg_test_skip("the real-spectra folder ../shared/data is absent (set MAGASSAY_SHARED_DATA to "
		             "point at it); real-data checks not run");
	return d;
}

const char *mg_test_path(const char *dir, const char *rel)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return path;
}

const char *mg_test_tmpdir(void)
{
	static char dir[256];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/magassay-test-XXXXXX");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return dir;
}
