/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay info FILE... [--json] */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/format.h"

static void help(void)
{
	printf("Usage: magassay info FILE... [--json]\n"
	       "Show what spectrum files hold: format (detected by content), channels, total counts,\n"
	       "live and real time, energy calibration, start time, sample and instrument fields.\n\n"
	       "  --json      one JSON object per file, in an array (keys: file, format, channels,\n"
	       "              total_counts, live_time_s, real_time_s, calibration{offset_kev,gain_kev,\n"
	       "              quad_kev}, start_time, sample_id, ...); unreadable files get an \"error\"\n"
	       "  -h, --help  this help\n\n"
	       "Formats read: mca (Amptek), msa (EMSA/MSA), csv, spx (Bruker), spe and chn (ORTEC),\n"
	       "bare columns. Exit status: 0 all files read, 1 any file failed, 2 usage error.\n");
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int json = 0, c;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_usage("info", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("info", "no file given");

	int status = CLI_OK;
	json_t *all = json ? json_array() : NULL;
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		const mg_format *fmt = NULL;
		mg_spectrum *s = NULL;
		int rc = mg_spectrum_read_file(path, &fmt, &s);
		if (rc != MG_OK) {
			status = CLI_FAIL;
			if (json)
				json_array_append_new(all, json_pack("{s:s,s:s,s:s}", "file", path, "error",
				                                     mg_error_detail(), "error_code",
				                                     mg_strerror_name(rc)));
			else
				cli_error("%s", mg_error_detail());
			continue;
		}
		if (json) {
			json_t *o = cli_spectrum_json(s);
			json_object_set_new(o, "file", json_string(path));
			json_object_set_new(o, "format", json_string(fmt->name));
			json_array_append_new(all, o);
		} else {
			printf("%s\n  %-14s %s (%s)\n", path, "format", fmt->name, fmt->description);
			cli_spectrum_print(stdout, s);
		}
		mg_spectrum_free(s);
	}
	if (json) {
		cli_json_print(all);
		json_decref(all);
	}
	return status;
}
