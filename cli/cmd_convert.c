/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay convert IN OUT [--to FORMAT] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "magassay/error.h"
#include "magassay/format.h"

static void help(void)
{
	size_t n;
	const mg_format *const *all = mg_formats(&n);
	printf("Usage: magassay convert IN OUT [--to FORMAT]\n"
	       "Read a spectrum (format detected by content) and write it in another format.\n"
	       "The output is written to a temporary file and renamed, so an interrupted run never\n"
	       "leaves a half-written OUT.\n\n"
	       "  --to FORMAT  output format; default from OUT's extension\n"
	       "  -h, --help   this help\n\nWritable formats:\n");
	for (size_t i = 0; i < n; i++)
		if (all[i]->write)
			printf("  %-8s %s (%s)\n", all[i]->name, all[i]->description, all[i]->extension);
	printf("\nExit status: 0 written, 1 failure (nothing written), 2 usage error.\n");
}

static const mg_format *format_from_extension(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot || strchr(dot, '/'))
		return NULL;
	if (strcasecmp(dot, ".emsa") == 0)
		return mg_format_get(MG_FORMAT_MSA);
	size_t n;
	const mg_format *const *all = mg_formats(&n);
	for (size_t i = 0; i < n; i++)
		if (all[i]->write && strcasecmp(all[i]->extension, dot) == 0)
			return all[i];
	return NULL;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{"to", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *to = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'h':
			help();
			return CLI_OK;
		default:
			return cli_usage("convert", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage("convert", "want IN and OUT");
	const char *in = argv[optind], *out = argv[optind + 1];
	const mg_format *fmt = to ? mg_format_by_name(to) : format_from_extension(out);
	if (!fmt)
		return to ? cli_usage("convert", "unknown format '%s'", to)
		          : cli_usage("convert", "cannot tell the output format from '%s'; use --to", out);
	if (!fmt->write)
		return cli_usage("convert", "%s files can be read but not written", fmt->name);

	mg_spectrum *s = NULL;
	if (mg_spectrum_read_file(in, NULL, &s) != MG_OK) {
		cli_error("%s", mg_error_detail());
		return CLI_FAIL;
	}
	int rc = mg_spectrum_write_file(s, out, fmt);
	mg_spectrum_free(s);
	if (rc != MG_OK) {
		cli_error("%s: %s", out, mg_error_detail());
		return CLI_FAIL;
	}
	return CLI_OK;
}
