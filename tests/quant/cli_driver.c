/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A stand-in for the magassay command with the subcommands of issue 6 (analyze
 * with the quantification options, calibrate), for test_quant_cli until
 * cli/main.c registers `calibrate` (then the test uses the real binary). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cmd_calibrate(int argc, char **argv);

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s analyze|calibrate ...\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "analyze") == 0)
		return cmd_analyze(argc - 1, argv + 1);
	if (strcmp(argv[1], "calibrate") == 0)
		return cmd_calibrate(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command %s\n", argv[0], argv[1]);
	return 2;
}
