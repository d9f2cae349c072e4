/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs a fuzz target over files and folders given on the command line,
 * without libFuzzer: the regression half of fuzzing, built in every test
 * build (and so under ASan + UBSan in CI). Missing folders are skipped. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "magassay/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long ran;

static void run_path(const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) != 0 || depth > 3)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		if (!d)
			return;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			run_path(sub, depth + 1);
		}
		closedir(d);
		return;
	}
	unsigned char *data;
	size_t len;
	if (mg_file_read_all(path, 64u << 20, &data, &len) != 0)
		return;
	LLVMFuzzerTestOneInput(data, len);
	/* every prefix length class too: truncation is the commonest corruption */
	for (size_t cut = 1; cut < len; cut = cut * 2 + 7)
		LLVMFuzzerTestOneInput(data, len - cut);
	free(data);
	ran++;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		run_path(argv[i], 0);
	fprintf(stderr, "replayed %ld inputs (with truncations)\n", ran);
	return 0;
}
